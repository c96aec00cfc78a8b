//! A document's imports (language §13): the files it imports, read from disk
//! beneath the workspace folder holding it, checked by the engine's module graph.
//! The document is analysed with the names they bind; their diagnostics are
//! published under their own URIs; hover and definition follow imported names.

use jue_engine::analysis::{Definition, ModuleScope, RefTarget};
use jue_engine::diagnostic::Diagnostic;
use jue_engine::{Session, SourceFile, Span};
use ropey::Rope;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One imported file as checked with the document.
pub struct ImportedFile {
    /// Its resolved path.
    pub path: PathBuf,
    /// Its text (named as diagnostics name it).
    pub source: SourceFile,
    /// Its text as a rope, for positions.
    pub rope: Rope,
    /// Its diagnostics.
    pub diagnostics: Vec<Diagnostic>,
    /// Its top-level definitions.
    pub definitions: Vec<Definition>,
    /// The prefix of its globals' internal names.
    pub prefix: String,
}

/// What a document imports.
pub struct Imports {
    /// The names its imports bind.
    pub scope: ModuleScope,
    /// The files, in the order first read.
    pub files: Vec<ImportedFile>,
    /// Each import's path string in the document and the file it names.
    pub paths: Vec<(Span, PathBuf)>,
    /// The diagnostics of the document's imports (E0105, E0106, E0107).
    pub diagnostics: Vec<Diagnostic>,
}

impl Imports {
    /// The imports of a document's text, or `None` when it has none. `roots` are
    /// the workspace folders: the one holding the file is the root imports may not
    /// leave, else the file's own directory.
    pub fn of(
        session: &Session,
        text: &str,
        path: Option<&Path>,
        roots: &[PathBuf],
        open: &HashMap<PathBuf, String>,
    ) -> Option<Imports> {
        if !text.contains("import") {
            return None;
        }
        let parse = jue_engine::syntax::parse(text);
        if jue_engine::analysis::modules::imports_of(&parse.forms).is_empty() {
            return None;
        }
        let root = path.and_then(|p| {
            roots
                .iter()
                .filter(|r| p.starts_with(r))
                .max_by_key(|r| r.as_os_str().len())
                .cloned()
                .or_else(|| p.parent().map(Path::to_path_buf))
        });
        let name = path
            .and_then(|p| p.file_name())
            .map_or("<document>".to_string(), |n| {
                n.to_string_lossy().into_owned()
            });
        let program =
            session.check_program_open(&SourceFile::new(name, text), path, root.as_deref(), open);
        let mut files = program.files.into_iter();
        let main = files.next()?;
        let paths = main
            .imports
            .iter()
            .zip(&main.resolved)
            .filter_map(|(i, r)| r.as_ref().map(|r| (i.path_span, PathBuf::from(r))))
            .collect();
        let files = files
            .filter_map(|f| {
                Some(ImportedFile {
                    path: PathBuf::from(f.key?),
                    rope: Rope::from_str(f.source.text()),
                    source: f.source,
                    diagnostics: f.analysis.diagnostics,
                    definitions: f.analysis.definitions,
                    prefix: f.prefix,
                })
            })
            .collect();
        Some(Imports {
            scope: main.scope,
            files,
            paths,
            diagnostics: main.import_diagnostics,
        })
    }

    /// Whether two analyses of imports bind the same names with the same facts
    /// (then the document's analysis need not start again).
    pub fn same(a: Option<&Imports>, b: Option<&Imports>) -> bool {
        match (a, b) {
            (None, None) => true,
            (Some(a), Some(b)) => {
                std::ptr::eq(a, b)
                    || a.scope.names == b.scope.names
                        && a.scope.globals == b.scope.globals
                        && a.diagnostics == b.diagnostics
            }
            _ => false,
        }
    }

    /// The imported file and definition an internal global name stands for.
    pub fn definition(&self, internal: &str) -> Option<(&ImportedFile, &Definition)> {
        self.files.iter().find_map(|f| {
            let name = internal
                .strip_prefix(f.prefix.as_str())
                .filter(|_| !f.prefix.is_empty())?;
            f.definitions
                .iter()
                .find(|d| d.name == name)
                .map(|d| (f, d))
        })
    }
}

/// The workspace folder holding `path`, else its directory.
pub fn root_for(path: &Path, roots: &[PathBuf]) -> Option<PathBuf> {
    roots
        .iter()
        .filter(|r| path.starts_with(r))
        .max_by_key(|r| r.as_os_str().len())
        .cloned()
        .or_else(|| path.parent().map(Path::to_path_buf))
}

/// Where a text uses the global `internal` (a definition of its own by its name,
/// an imported one by its internal name), analysed with its imports.
fn uses_in(session: &Session, text: &str, imports: Option<&Imports>, internal: &str) -> Vec<Span> {
    let parse = jue_engine::syntax::parse(text);
    let mut env = session.env();
    env.module = imports.map(|i| &i.scope);
    let analysis = jue_engine::analysis::analyze(&parse, &env);
    analysis
        .references
        .iter()
        .filter(|r| matches!(&r.target, RefTarget::Global(g) if **g == *internal))
        .map(|r| r.span)
        .collect()
}

/// Where a file uses its own top-level definition `name` (its text as given: an
/// imported file as read with its importer). `open`: the open documents' texts
/// by resolved path, read instead of the files.
pub fn own_occurrences(
    session: &Session,
    path: &Path,
    text: &str,
    roots: &[PathBuf],
    name: &str,
    open: &HashMap<PathBuf, String>,
) -> Vec<Span> {
    let imports = Imports::of(session, text, Some(path), roots, open);
    uses_in(session, text, imports.as_ref(), name)
}

/// Where the files under the root that import `file` directly use its top-level
/// definition `name` (plainly or as `A/name`): each file with its text and spans.
/// Open documents (`open`, by resolved path) are read from their editors.
pub fn importer_occurrences(
    session: &Session,
    file: &Path,
    roots: &[PathBuf],
    name: &str,
    open: &HashMap<PathBuf, String>,
) -> Vec<(PathBuf, Rope, Vec<Span>)> {
    let (Ok(canon), Some(root)) = (std::fs::canonicalize(file), root_for(file, roots)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for f in crate::workspace::jue_files(&root) {
        let resolved = std::fs::canonicalize(&f).ok();
        if resolved.as_ref() == Some(&canon) {
            continue;
        }
        let text = match resolved.as_ref().and_then(|r| open.get(r)) {
            Some(t) => t.clone(),
            // Program text only: a huge file is not one to rename in.
            None if std::fs::metadata(&f).map_or(true, |m| m.len() > 4 << 20) => continue,
            None => match std::fs::read_to_string(&f) {
                Ok(t) => t,
                Err(_) => continue,
            },
        };
        let Some(imports) = Imports::of(session, &text, Some(&f), roots, open) else {
            continue;
        };
        if !imports.paths.iter().any(|(_, p)| *p == canon) {
            continue;
        }
        let Some(imported) = imports.files.iter().find(|x| x.path == canon) else {
            continue;
        };
        let internal = format!("{}{name}", imported.prefix);
        let spans = uses_in(session, &text, Some(&imports), &internal);
        if !spans.is_empty() {
            out.push((f, Rope::from_str(&text), spans));
        }
    }
    out
}

/// What an imported file was when it was read: an open document at one version
/// (the opening, so a document closed and opened again is new), or a file on
/// disk by its modification time and length.
#[derive(Clone, Debug, PartialEq)]
pub enum Rev {
    /// An open document: (its opening, its version).
    Open(u64, i32),
    /// A file on disk: (modification time, length).
    Disk(std::time::SystemTime, u64),
}

/// What a document's imports depend on in its own text: its name and root, its
/// imports (paths, aliases, where written) and the names it defines (a name it
/// defines is not bound by a plain import). An edit elsewhere leaves it alone.
#[derive(PartialEq)]
struct Shape {
    name: Option<PathBuf>,
    root: Option<PathBuf>,
    imports: Vec<jue_engine::analysis::modules::Import>,
    defines: Vec<Box<str>>,
}

struct Cached {
    project: std::sync::Arc<crate::project::Project>,
    shape: Shape,
    /// The version read, and whether the result holds only for it (diagnostics
    /// point into its text).
    version: i32,
    exact: bool,
    /// Every file read, as it was.
    revs: Vec<(PathBuf, Rev)>,
    imports: std::sync::Arc<Imports>,
}

/// Each open document's imports, as last checked: used again while the document's
/// imports and definitions and every file read are as they were (open documents
/// by version, others by modification time and length), so an edit does not read
/// and check the imported files again, nor does an edit of an unrelated document.
#[derive(Default)]
pub struct ImportsCache {
    entries: std::sync::Mutex<HashMap<String, Cached>>,
}

/// A modification this recent may be followed by another within the clock's
/// resolution: such a file is read again next time rather than trusted.
const SETTLED: std::time::Duration = std::time::Duration::from_secs(2);

fn rev_of(path: &Path, open: &HashMap<PathBuf, (u64, i32)>) -> Option<Rev> {
    if let Some(&(o, v)) = open.get(path) {
        return Some(Rev::Open(o, v));
    }
    let m = std::fs::metadata(path).ok()?;
    Some(Rev::Disk(m.modified().ok()?, m.len()))
}

impl ImportsCache {
    /// The imports of document `key` at `version` (see [`Imports::of`]): the last
    /// ones when nothing they depend on changed. `open` holds the open documents'
    /// revisions by resolved path; `texts` their texts, asked only when files must
    /// be read.
    #[allow(clippy::too_many_arguments)]
    pub fn imports(
        &self,
        key: &str,
        version: i32,
        project: &std::sync::Arc<crate::project::Project>,
        text: &str,
        path: Option<&Path>,
        roots: &[PathBuf],
        open: &HashMap<PathBuf, (u64, i32)>,
        texts: &dyn Fn() -> HashMap<PathBuf, String>,
    ) -> Option<std::sync::Arc<Imports>> {
        let lock = |m: &std::sync::Mutex<HashMap<String, Cached>>| {
            m.lock().unwrap_or_else(|e| e.into_inner()).remove(key)
        };
        if !text.contains("import") {
            lock(&self.entries);
            return None;
        }
        let parse = jue_engine::syntax::parse(text);
        let imports = jue_engine::analysis::modules::imports_of(&parse.forms);
        if imports.is_empty() {
            lock(&self.entries);
            return None;
        }
        let session = project.session();
        let tier = session.env().default_tier;
        let shape = Shape {
            name: path.map(Path::to_path_buf),
            root: path.and_then(|p| root_for(p, roots)),
            imports,
            defines: jue_engine::analysis::globals::Shapes::of(&parse.forms, tier)
                .defines
                .into_iter()
                .map(|d| d.name)
                .collect(),
        };
        drop(parse);
        if let Some(c) = lock(&self.entries) {
            let fresh = std::sync::Arc::ptr_eq(&c.project, project)
                && c.shape == shape
                && (!c.exact || c.version == version)
                && c.revs
                    .iter()
                    .all(|(p, r)| rev_of(p, open).as_ref() == Some(r));
            if fresh {
                let imports = c.imports.clone();
                self.keep(key, c);
                return Some(imports);
            }
        }
        let now = std::time::SystemTime::now();
        let imports = std::sync::Arc::new(Imports::of(&session, text, path, roots, &texts())?);
        drop(session);
        // A missing file may appear: checked again each time. So is a file
        // written a moment ago (it may change again within the clock's resolution).
        let mut cacheable = !imports
            .diagnostics
            .iter()
            .any(|d| d.code == jue_engine::diagnostic::Code::E0107);
        let mut revs = Vec::with_capacity(imports.files.len());
        for f in &imports.files {
            match rev_of(&f.path, open) {
                Some(Rev::Disk(t, _)) if now.duration_since(t).map_or(true, |d| d < SETTLED) => {
                    cacheable = false;
                }
                Some(r) => revs.push((f.path.clone(), r)),
                None => cacheable = false,
            }
        }
        if cacheable {
            self.keep(
                key,
                Cached {
                    project: project.clone(),
                    shape,
                    version,
                    exact: !imports.diagnostics.is_empty(),
                    revs,
                    imports: imports.clone(),
                },
            );
        }
        Some(imports)
    }

    fn keep(&self, key: &str, c: Cached) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.to_string(), c);
    }

    /// Forgets a closed document's imports.
    pub fn forget(&self, key: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

//! Workspace symbols: the top-level definitions of every `*.jue` file under the
//! roots, read from disk (re-read when a file's modification time changes, and
//! after `didSave`), skipping `target/`, `node_modules/` and hidden directories.

use crate::project::Projects;
use crate::text::{Encoding, span_to_range};
use jue_engine::{SourceFile, Span};
use ropey::Rope;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;
use tower_lsp_server::ls_types::{Location, SymbolInformation, SymbolKind, Uri};

struct FileSymbols {
    mtime: Option<SystemTime>,
    rope: Rope,
    defs: Vec<(String, Span, bool)>,
}

/// The cache of definitions per file.
#[derive(Default)]
pub struct WorkspaceIndex {
    files: Mutex<HashMap<PathBuf, FileSymbols>>,
}

/// Every `*.jue` file under `root` (iterative walk; symlinked directories not followed).
pub fn jue_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                if name.starts_with('.') || name == "target" || name == "node_modules" {
                    continue;
                }
                stack.push(e.path());
            } else if name.ends_with(".jue") && !name.starts_with('.') && ft.is_file() {
                // Only regular files (a symlink, FIFO or device named *.jue is skipped).
                out.push(e.path());
            }
            if out.len() > 20_000 {
                return out;
            }
        }
    }
    out.sort();
    out
}

impl WorkspaceIndex {
    /// Forgets a file (after `didSave`), so the next query re-reads it.
    pub fn forget(&self, path: &Path) {
        self.files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(path);
    }

    /// Symbols whose name contains `query` (case-insensitive) in every file under the roots.
    pub fn symbols(
        &self,
        roots: &[PathBuf],
        query: &str,
        projects: &Projects,
        enc: Encoding,
    ) -> Vec<SymbolInformation> {
        let q = query.to_lowercase();
        let mut out = Vec::new();
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        for root in roots {
            for path in jue_files(root) {
                let mtime = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
                let fresh = files
                    .get(&path)
                    .is_some_and(|f| f.mtime == mtime && mtime.is_some());
                if !fresh {
                    let Ok(bytes) = crate::files::read_regular(&path) else {
                        continue;
                    };
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    let (project, _) = projects.for_file(Some(&path));
                    let source = SourceFile::new(path.to_string_lossy().as_ref(), text.as_str());
                    let analysis = project.session().check(&source);
                    let defs = analysis
                        .definitions
                        .iter()
                        .map(|d| (d.name.clone(), d.name_span, d.arity.is_some()))
                        .collect();
                    files.insert(
                        path.clone(),
                        FileSymbols {
                            mtime,
                            rope: Rope::from_str(&text),
                            defs,
                        },
                    );
                }
                let Some(f) = files.get(&path) else { continue };
                let Some(uri) = Uri::from_file_path(&path) else {
                    continue;
                };
                for (name, span, is_fn) in &f.defs {
                    if !q.is_empty() && !name.to_lowercase().contains(&q) {
                        continue;
                    }
                    #[allow(deprecated)]
                    out.push(SymbolInformation {
                        name: name.clone(),
                        kind: if *is_fn {
                            SymbolKind::FUNCTION
                        } else {
                            SymbolKind::VARIABLE
                        },
                        tags: None,
                        deprecated: None,
                        location: Location::new(
                            uri.clone(),
                            span_to_range(&f.rope, span.start as usize, span.end as usize, enc),
                        ),
                        container_name: path.file_name().map(|n| n.to_string_lossy().into_owned()),
                    });
                }
            }
        }
        out
    }
}

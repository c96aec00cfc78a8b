//! Modules (language §13): the `import` forms of a text, and a program checked as
//! a graph of files. Each file is read, parsed and analysed once per check, with
//! its own top-level scope: the names its imports bind resolve to the imported
//! file's own globals, whose internal names carry that file's prefix
//! ([`crate::ground::builtins::MODULE_PREFIX`]), so every importer shares them.
//!
//! **Invariant:** no I/O here. A [`Loader`] (the session's, over `host::source`)
//! resolves paths beneath the program's root and reads files; the graph walk is
//! iterative, so an import chain of any length cannot exhaust the stack, and an
//! import of a file still being walked is a cycle (E0106), never a loop.

use super::env::{Env, GlobalInfo, Mode, ModuleScope};
use super::globals::Shapes;
use super::{Analysis, analyze};
use crate::ground::diagnostic::{Code, Diagnostic};
use crate::ground::ffi::CapSet;
use crate::ground::span::{SourceFile, Span};
use crate::syntax::parser::Parse;
use crate::syntax::tree::{Node, NodeKind, TopForm};
use std::collections::HashMap;

/// At most this many files in one program: each costs memory even when empty.
pub const MAX_FILES: usize = 10_000;

/// One well-formed `import` form of a text.
#[derive(Clone, Debug, PartialEq)]
pub struct Import {
    /// The path as written.
    pub path: String,
    /// Where the path string is.
    pub path_span: Span,
    /// The alias of `:as A`, and where it is written.
    pub alias: Option<(Box<str>, Span)>,
    /// Which top-level form it is.
    pub form: usize,
    /// The whole form.
    pub span: Span,
}

/// The parts of an `import` form: path, its span, the alias; or where it is
/// malformed (`None`: the head) and why.
#[allow(clippy::type_complexity)]
pub fn import_parts(
    node: &Node,
) -> Result<(String, Span, Option<(Box<str>, Span)>), (Option<Span>, String)> {
    let Some(items) = node.proper_items() else {
        return Err((None, "`import` cannot be a dotted list".into()));
    };
    let Some(path) = items.get(1) else {
        return Err((None, "`import` needs a path: a string literal".into()));
    };
    let NodeKind::Str(p) = &path.kind else {
        return Err((
            Some(path.span),
            "the path of `import` must be a string literal".into(),
        ));
    };
    let alias = match items.get(2) {
        None => None,
        Some(kw) if kw.as_symbol() == Some(":as") => {
            let Some(a) = items.get(3) else {
                return Err((Some(kw.span), "`:as` needs a name after it".into()));
            };
            match a.as_symbol() {
                Some(s) if !s.contains(':') && !s.contains('/') && !s.starts_with('%') => {
                    Some((Box::from(s), a.span))
                }
                _ => {
                    return Err((
                        Some(a.span),
                        "the alias of `:as` must be a symbol without `:` or `/`".into(),
                    ));
                }
            }
        }
        Some(other) => {
            return Err((
                Some(other.span),
                "expected `:as` and a name after the path".into(),
            ));
        }
    };
    if let Some(extra) = items.get(4) {
        return Err((Some(extra.span), "unexpected form after the alias".into()));
    }
    Ok((p.to_string(), path.span, alias))
}

/// The well-formed `import` forms among a text's top-level forms, in order.
pub fn imports_of(forms: &[TopForm]) -> Vec<Import> {
    let mut out = Vec::new();
    for (i, f) in forms.iter().enumerate() {
        if f.has_error || f.node.head_symbol() != Some("import") {
            continue;
        }
        if let Ok((path, path_span, alias)) = import_parts(&f.node) {
            out.push(Import {
                path,
                path_span,
                alias,
                form: i,
                span: f.node.span,
            });
        }
    }
    out
}

/// A definition of an imported file, as importers see it.
#[derive(Clone, Debug, PartialEq)]
pub struct Export {
    /// Its name in its file.
    pub name: Box<str>,
    /// Its global's internal name.
    pub internal: Box<str>,
    /// What is known of it.
    pub info: GlobalInfo,
    /// The file, as diagnostics name it.
    pub file: Box<str>,
}

/// Finds and reads the files of a program (the session's, beneath the root).
pub trait Loader {
    /// Resolves the path of an import written in file `from` (`None`: the main
    /// text): the file's identity (its resolved path), or why it cannot be imported.
    fn resolve(&mut self, from: Option<&str>, path: &str) -> Result<String, String>;
    /// What a file already loaded in the session defines; `None` when it has to be
    /// checked (and run) with this program.
    fn loaded(&mut self, key: &str) -> Option<Vec<Export>>;
    /// The text of a resolved file, or why it cannot be read.
    fn read(&mut self, key: &str) -> Result<String, String>;
    /// The prefix of a file's globals, the same for the whole session.
    fn prefix(&mut self, key: &str) -> String;
}

/// What an import names.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// A file checked with this program (index into [`Program::files`]).
    File(usize),
    /// A file loaded earlier in the session: nothing to check or run.
    Loaded,
    /// A file still being walked (E0106 reported), by index.
    Cycle(usize),
    /// Nothing (E0107 reported).
    Missing,
}

/// One file of a program, checked.
#[derive(Debug)]
pub struct ProgramFile {
    /// Its identity (resolved path); `None` for a main text that is no file.
    pub key: Option<String>,
    /// Its text, named as diagnostics name it (tooling §1).
    pub source: SourceFile,
    /// Its parse.
    pub parse: Parse,
    /// Its analysis, the graph's diagnostics (E0105, E0106, E0107) included.
    pub analysis: Analysis,
    /// The prefix of its globals in the VM (empty for the main text).
    pub prefix: String,
    /// Its well-formed imports, in order.
    pub imports: Vec<Import>,
    /// What each import names.
    pub targets: Vec<Target>,
    /// Each import's resolved path, when it resolved.
    pub resolved: Vec<Option<String>>,
    /// The names its imports bind.
    pub scope: ModuleScope,
    /// Its definitions as importers see them.
    pub exports: Vec<Export>,
    /// The diagnostics of its imports alone (E0105, E0106, E0107), also in its
    /// analysis: a tool that analyses the text itself adds these.
    pub import_diagnostics: Vec<Diagnostic>,
}

/// A main text and every file it imports that the session had not loaded, in the
/// order they were first read: the main text, then imports depth first.
#[derive(Debug)]
pub struct Program {
    /// The files; `files[0]` is the main text.
    pub files: Vec<ProgramFile>,
}

impl Program {
    /// Whether any file has an error diagnostic.
    pub fn has_errors(&self) -> bool {
        self.files.iter().any(|f| f.analysis.has_errors())
    }

    /// What running it needs: the main text's top level and every file's.
    pub fn input_needs(&self) -> CapSet {
        self.files
            .iter()
            .fold(CapSet::EMPTY, |acc, f| acc.union(f.analysis.input_needs))
    }

    /// The order the files' forms run in: at each `import` of a file checked now,
    /// that file's forms, once (file index, form index), iteratively.
    pub fn run_order(&self) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut started = vec![false; self.files.len()];
        started[0] = true;
        // (file, next form)
        let mut stack = vec![(0usize, 0usize)];
        while let Some(&(f, i)) = stack.last() {
            let file = &self.files[f];
            if i >= file.parse.forms.len() {
                stack.pop();
                continue;
            }
            let target = file
                .imports
                .iter()
                .zip(&file.targets)
                .find(|(imp, _)| imp.form == i)
                .map(|(_, t)| t);
            if let Some(Target::File(t)) = target
                && !started[*t]
            {
                // The imported file's forms, then (when it is done) the import itself.
                started[*t] = true;
                stack.push((*t, 0));
                continue;
            }
            if let Some(top) = stack.last_mut() {
                top.1 += 1;
            }
            out.push((f, i));
        }
        out
    }
}

/// The name of an imported file in diagnostics (tooling §1): the importer's name
/// with its last component replaced by the path, `.` and `..` folded.
pub fn display_name(importer: &str, path: &str) -> String {
    let joined = match importer.rfind('/') {
        Some(i) => format!("{}/{path}", &importer[..i]),
        None => path.to_string(),
    };
    let absolute = joined.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for c in joined.split('/') {
        match c {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            _ => parts.push(c),
        }
    }
    let body = parts.join("/");
    if absolute { format!("/{body}") } else { body }
}

/// The definitions of a file as importers see them.
fn exports_of(analysis: &Analysis, prefix: &str, file: &str) -> Vec<Export> {
    let mut seen = std::collections::HashSet::new();
    analysis
        .definitions
        .iter()
        .filter(|d| seen.insert(d.name.clone()))
        .map(|d| Export {
            name: d.name.as_str().into(),
            internal: format!("{prefix}{}", d.name).into(),
            info: GlobalInfo {
                arity: d.arity,
                params: d.params.clone(),
                tier: d.tier,
                needs: d.needs,
                doc: d.doc.clone(),
                span: None,
            },
            file: file.into(),
        })
        .collect()
}

/// A file still being walked (a cycle) exports what its shapes define, so its
/// importer's uses of its names are not reported unbound besides the E0106.
fn shape_exports(parse: &Parse, prefix: &str, file: &str, env: &Env<'_>) -> Vec<Export> {
    let shapes = Shapes::of(&parse.forms, env.default_tier);
    let mut seen = std::collections::HashSet::new();
    shapes
        .defines
        .iter()
        .filter(|d| seen.insert(d.name.clone()))
        .map(|d| Export {
            name: d.name.clone(),
            internal: format!("{prefix}{}", d.name).into(),
            info: GlobalInfo {
                arity: d.arity.filter(|_| !shapes.assigned.contains(&d.name)),
                params: Vec::new(),
                tier: d.tier,
                needs: CapSet::EMPTY,
                doc: None,
                span: None,
            },
            file: file.into(),
        })
        .collect()
}

struct Walk {
    key: Option<String>,
    source: SourceFile,
    parse: Parse,
    prefix: String,
    imports: Vec<Import>,
    targets: Vec<Target>,
    resolved: Vec<Option<String>>,
    /// Exports of files loaded earlier, per import (others are read from the files).
    loaded: Vec<Option<Vec<Export>>>,
    diags: Vec<Diagnostic>,
    on_stack: bool,
    done: Option<Done>,
}

type Done = (Analysis, ModuleScope, Vec<Export>, Vec<Diagnostic>);

impl Walk {
    fn new(key: Option<String>, source: SourceFile, prefix: String) -> Walk {
        let parse = crate::syntax::parse(source.text());
        let imports = imports_of(&parse.forms);
        Walk {
            key,
            source,
            parse,
            prefix,
            imports,
            targets: Vec::new(),
            resolved: Vec::new(),
            loaded: Vec::new(),
            diags: Vec::new(),
            on_stack: true,
            done: None,
        }
    }
}

/// Checks a main text and, transitively, every file it imports that the session
/// has not loaded. `main_key` is the main text's identity when it is a file (so a
/// cycle through it is seen); `base` is the main text's environment, and
/// `base_scope` the names earlier REPL inputs imported. With `main_prefix`, the
/// main text is itself an imported file checked again (`:reload`): its own scope,
/// its globals prefixed.
pub fn check_program(
    main: SourceFile,
    main_key: Option<String>,
    main_prefix: Option<String>,
    base: &Env<'_>,
    base_scope: Option<&ModuleScope>,
    loader: &mut dyn Loader,
) -> Program {
    let main_module = main_prefix.is_some();
    let base_scope = base_scope.filter(|_| !main_module);
    let mut files = vec![Walk::new(
        main_key.clone(),
        main,
        main_prefix.unwrap_or_default(),
    )];
    let mut by_key: HashMap<String, usize> = HashMap::new();
    if let Some(k) = main_key {
        by_key.insert(k, 0);
    }
    let mut stack: Vec<(usize, usize)> = vec![(0, 0)];
    while let Some(&(f, i)) = stack.last() {
        if i >= files[f].imports.len() {
            stack.pop();
            files[f].on_stack = false;
            let done = finish(f, f == 0 && !main_module, &files, base, base_scope);
            files[f].done = Some(done);
            continue;
        }
        if let Some(top) = stack.last_mut() {
            top.1 += 1;
        }
        let imp = files[f].imports[i].clone();
        let mut loaded = None;
        let resolved = loader.resolve(files[f].key.as_deref(), &imp.path);
        files[f].resolved.push(resolved.as_ref().ok().cloned());
        let target = match resolved {
            Err(why) => {
                files[f].diags.push(
                    Diagnostic::new(
                        Code::E0107,
                        imp.path_span,
                        format!("cannot import \"{}\": {why}", imp.path),
                    )
                    .with_help("an import names a `.jue` file by a relative path beneath the program's directory"),
                );
                Target::Missing
            }
            Ok(key) => match by_key.get(&key) {
                Some(&t) if files[t].on_stack => {
                    let from = stack.iter().position(|(s, _)| *s == t).unwrap_or(0);
                    let mut names: Vec<&str> = stack[from..]
                        .iter()
                        .map(|(s, _)| files[*s].source.name())
                        .collect();
                    names.push(files[t].source.name());
                    let cycle = names.join(" → ");
                    files[f].diags.push(
                        Diagnostic::new(Code::E0106, imp.path_span, format!("import cycle: {cycle}"))
                            .with_help("files cannot import each other, directly or not; move what they share into a file both import"),
                    );
                    Target::Cycle(t)
                }
                Some(&t) => Target::File(t),
                None => match loader.loaded(&key) {
                    Some(exports) => {
                        loaded = Some(exports);
                        Target::Loaded
                    }
                    None if files.len() >= MAX_FILES => {
                        files[f].diags.push(Diagnostic::new(
                            Code::E0107,
                            imp.path_span,
                            format!(
                                "cannot import \"{}\": the program already has {MAX_FILES} files",
                                imp.path
                            ),
                        ));
                        Target::Missing
                    }
                    None => match loader.read(&key) {
                        Err(why) => {
                            files[f].diags.push(Diagnostic::new(
                                Code::E0107,
                                imp.path_span,
                                format!("cannot import \"{}\": {why}", imp.path),
                            ));
                            Target::Missing
                        }
                        Ok(text) => {
                            let name = display_name(files[f].source.name(), &imp.path);
                            let prefix = loader.prefix(&key);
                            let n = files.len();
                            files.push(Walk::new(
                                Some(key.clone()),
                                SourceFile::new(name, text),
                                prefix,
                            ));
                            by_key.insert(key, n);
                            stack.push((n, 0));
                            Target::File(n)
                        }
                    },
                },
            },
        };
        files[f].targets.push(target);
        files[f].loaded.push(loaded);
    }
    Program {
        files: files
            .into_iter()
            .map(|w| {
                let (analysis, scope, exports, import_diagnostics) = w.done.unwrap_or_default();
                ProgramFile {
                    key: w.key,
                    source: w.source,
                    parse: w.parse,
                    analysis,
                    prefix: w.prefix,
                    imports: w.imports,
                    targets: w.targets,
                    resolved: w.resolved,
                    scope,
                    exports,
                    import_diagnostics,
                }
            })
            .collect(),
    }
}

/// Builds a file's scope from its imports (all walked), analyses it, adds the
/// graph's diagnostics.
fn finish(
    f: usize,
    main: bool,
    files: &[Walk],
    base: &Env<'_>,
    base_scope: Option<&ModuleScope>,
) -> Done {
    let w = &files[f];
    let mut scope = match base_scope {
        Some(s) if main => s.clone(),
        _ => ModuleScope::default(),
    };
    let mut diags = w.diags.clone();
    // The file's own definitions (first of each name) and where they are; read
    // only when it imports something (most texts do not: no extra pass).
    let shapes = if w.imports.is_empty() {
        Shapes::default()
    } else {
        Shapes::of(&w.parse.forms, base.default_tier)
    };
    let mut own: HashMap<&str, Span> = HashMap::new();
    for d in &shapes.defines {
        own.entry(&*d.name).or_insert(d.span);
    }
    // Plain-imported name → (its internal name, the import's path span).
    let mut bound: HashMap<Box<str>, (Box<str>, Span)> = HashMap::new();
    let mut aliases: HashMap<Box<str>, Span> = HashMap::new();
    for (k, imp) in w.imports.iter().enumerate() {
        let cycle_exports;
        let exports: &[Export] = match w.targets.get(k) {
            Some(Target::File(t)) => match &files[*t].done {
                Some((_, _, e, _)) => e,
                None => continue,
            },
            Some(Target::Cycle(t)) => {
                let o = &files[*t];
                cycle_exports = shape_exports(&o.parse, &o.prefix, o.source.name(), base);
                &cycle_exports
            }
            Some(Target::Loaded) => match w.loaded.get(k) {
                Some(Some(e)) => e,
                _ => continue,
            },
            _ => continue,
        };
        if let Some((alias, aspan)) = &imp.alias {
            if let Some(first) = aliases.get(alias) {
                diags.push(
                    Diagnostic::new(
                        Code::E0105,
                        *aspan,
                        format!("the alias `{alias}` is already defined"),
                    )
                    .with_related(*first, "first used here"),
                );
                continue;
            }
            aliases.insert(alias.clone(), *aspan);
            if !scope.aliases.contains(alias) {
                scope.aliases.push(alias.clone());
            }
            // A REPL alias used again names the new file only.
            let prefix = format!("{alias}/");
            scope.names.retain(|n, _| !n.starts_with(&prefix));
            for e in exports {
                scope
                    .names
                    .insert(format!("{alias}/{}", e.name).into(), e.internal.clone());
                bind_global(&mut scope, e);
            }
            continue;
        }
        let mut clashes: Vec<(&str, Span)> = Vec::new();
        for e in exports {
            if let Some(&def) = own.get(&*e.name) {
                if def.start > imp.span.start {
                    diags.push(
                        Diagnostic::new(
                            Code::E0105,
                            def,
                            format!("`{}` is already defined: imported from {}", e.name, e.file),
                        )
                        .with_related(imp.path_span, "imported here"),
                    );
                } else {
                    clashes.push((&*e.name, def));
                }
                continue;
            }
            // The same file under two paths (a symlink) binds the same global.
            if let Some((internal, at)) = bound.get(&e.name)
                && **internal != *e.internal
            {
                clashes.push((&*e.name, *at));
                continue;
            }
            bound.insert(e.name.clone(), (e.internal.clone(), imp.path_span));
            scope.names.insert(e.name.clone(), e.internal.clone());
            bind_global(&mut scope, e);
        }
        if !clashes.is_empty() {
            let names: Vec<String> = clashes
                .iter()
                .take(5)
                .map(|(n, _)| format!("`{n}`"))
                .collect();
            let more = if clashes.len() > 5 {
                format!(" and {} more", clashes.len() - 5)
            } else {
                String::new()
            };
            let mut d = Diagnostic::new(
                Code::E0105,
                imp.path_span,
                format!(
                    "{}{more} already defined: this import defines them again",
                    names.join(", ")
                ),
            )
            .with_help("import it `:as` a name, so its definitions are written `name/...`");
            for (n, at) in clashes.iter().take(5) {
                d = d.with_related(*at, format!("`{n}` first defined here"));
            }
            diags.push(d);
        }
    }
    let empty = HashMap::new();
    let env = Env {
        registry: base.registry,
        globals: if main { base.globals } else { &empty },
        mode: if main { base.mode } else { Mode::File },
        default_tier: base.default_tier,
        assumed: base.assumed,
        module: Some(&scope).filter(|s| !s.names.is_empty() || !s.globals.is_empty()),
    };
    let mut analysis = analyze(&w.parse, &env);
    analysis.diagnostics.extend(diags.iter().cloned());
    analysis
        .diagnostics
        .sort_by_key(|d| (d.span.start, d.span.end));
    let exports = exports_of(&analysis, &w.prefix, w.source.name());
    (analysis, scope, exports, diags)
}

fn bind_global(scope: &mut ModuleScope, e: &Export) {
    scope.globals.insert(e.internal.clone(), e.info.clone());
    scope.files.insert(e.internal.clone(), e.file.clone());
}

#[cfg(test)]
mod tests {
    use super::display_name;

    #[test]
    fn names_follow_the_importer() {
        assert_eq!(display_name("src/main.jue", "lib/u.jue"), "src/lib/u.jue");
        assert_eq!(display_name("lib/u.jue", "../v.jue"), "v.jue");
        assert_eq!(display_name("main.jue", "./a.jue"), "a.jue");
        assert_eq!(display_name("<repl:1>", "a/b.jue"), "a/b.jue");
        assert_eq!(display_name("a.jue", "../x.jue"), "../x.jue");
    }
}

//! Modules (language §13): `import`, resolution beneath the root, the program
//! checked whole before it runs, each file once per session, names, aliases,
//! shared globals, cycles, bad files, capabilities and tiers across files.

use jue_engine::vm::output::{Captured, Output};
use jue_engine::{Code, Diagnostic, EvalError, Session, SourceFile};
use std::path::{Path, PathBuf};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p
}

fn session() -> (Session, Captured) {
    let out = Captured::default();
    let s = Session::with_output(Output::new(Box::new(out.clone())));
    (s, out)
}

/// Prepares and runs `dir/main` in `s`; the program's output, or the error.
fn run_in(s: &mut Session, out: &Captured, dir: &Path, main: &str) -> Result<String, EvalError> {
    let path = dir.join(main);
    let text = std::fs::read_to_string(&path).unwrap();
    let p = s.prepare_file(SourceFile::new(main, text), &path)?;
    s.run(&p).map_err(EvalError::Runtime)?;
    Ok(out.text())
}

fn run(dir: &Path, main: &str) -> Result<String, EvalError> {
    let (mut s, out) = session();
    run_in(&mut s, &out, dir, main)
}

/// Every diagnostic of a failed check: (file, diagnostic).
fn errors(r: Result<String, EvalError>) -> Vec<(String, Diagnostic)> {
    match r {
        Err(EvalError::Compile {
            source,
            diagnostics,
            imported,
        }) => {
            let mut all: Vec<(String, Diagnostic)> = diagnostics
                .into_iter()
                .map(|d| (source.name().to_string(), d))
                .collect();
            for (f, ds) in imported {
                all.extend(ds.into_iter().map(|d| (f.name().to_string(), d)));
            }
            all
        }
        other => panic!("expected a compile error, got {other:?}"),
    }
}

fn has(errs: &[(String, Diagnostic)], file: &str, code: Code, text: &str) -> bool {
    errs.iter()
        .any(|(f, d)| f == file && d.code == code && d.message.contains(text))
}

/// The text a diagnostic points at.
fn at(dir: &Path, file: &str, d: &Diagnostic) -> String {
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    text[d.span.start as usize..d.span.end as usize].to_string()
}

#[test]
fn names_aliases_and_shared_globals() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "u.jue",
        "(define counter 0)\n(define (bump!) (set! counter (+ counter 1)) counter)\n(define (area r) (* 3 r r))\n",
    );
    write(
        d.path(),
        "main.jue",
        "(import \"u.jue\")\n(import \"u.jue\" :as u)\n(println (area 2))\n(bump!)\n(u/bump!)\n(println counter)\n(println u/counter)\n(println (u/area 1))\n",
    );
    assert_eq!(run(d.path(), "main.jue").unwrap(), "12\n2\n2\n3\n");
}

#[test]
fn each_file_runs_once_per_session() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "u.jue", "(println \"loading u\")\n(define x 1)\n");
    write(
        d.path(),
        "a.jue",
        "(import \"u.jue\")\n(define y (+ x 1))\n",
    );
    write(
        d.path(),
        "main.jue",
        "(import \"u.jue\")\n(import \"a.jue\")\n(import \"u.jue\" :as again)\n(println (+ x y again/x))\n",
    );
    let (mut s, out) = session();
    assert_eq!(
        run_in(&mut s, &out, d.path(), "main.jue").unwrap(),
        "loading u\n4\n"
    );
    // The same session: a later program importing it runs nothing of it again.
    out.clear();
    write(d.path(), "second.jue", "(import \"u.jue\")\n(println x)\n");
    assert_eq!(run_in(&mut s, &out, d.path(), "second.jue").unwrap(), "1\n");
}

#[test]
fn forms_run_in_order_at_the_import() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "u.jue", "(println \"u\")\n");
    write(
        d.path(),
        "main.jue",
        "(println \"before\")\n(import \"u.jue\")\n(println \"after\")\n",
    );
    assert_eq!(run(d.path(), "main.jue").unwrap(), "before\nu\nafter\n");
}

#[test]
fn imports_are_not_passed_on_and_files_do_not_see_importers() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "u.jue", "(define secret 1)\n");
    write(
        d.path(),
        "a.jue",
        "(import \"u.jue\")\n(define (get) secret)\n(define (peek) mine)\n",
    );
    write(
        d.path(),
        "main.jue",
        "(println \"never\")\n(define mine 2)\n(import \"a.jue\")\n(get)\nsecret\n",
    );
    let (mut s, out) = session();
    let errs = errors(run_in(&mut s, &out, d.path(), "main.jue"));
    assert!(has(&errs, "main.jue", Code::E0101, "secret"), "{errs:?}");
    assert!(has(&errs, "a.jue", Code::E0101, "mine"), "{errs:?}");
    // Any error in any file: nothing ran.
    assert_eq!(out.text(), "");
}

#[test]
fn set_of_an_imported_name_and_conflicts_are_e0105() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "u.jue", "(define x 1)\n(define (f) x)\n");
    write(d.path(), "v.jue", "(define x 2)\n");
    write(
        d.path(),
        "main.jue",
        "(import \"u.jue\")\n(set! x 5)\n(define f 3)\n(import \"v.jue\")\n(import \"u.jue\" :as w)\n(import \"v.jue\" :as w)\n",
    );
    let errs = errors(run(d.path(), "main.jue"));
    let e0105: Vec<String> = errs
        .iter()
        .filter(|(_, d)| d.code == Code::E0105)
        .map(|(f, e)| at(d.path(), f, e))
        .collect();
    // set! x, the later definition of f, the later import of v (x again), the alias again.
    assert!(e0105.contains(&"x".to_string()), "{e0105:?} {errs:?}");
    assert!(e0105.contains(&"f".to_string()), "{e0105:?}");
    assert!(e0105.contains(&"\"v.jue\"".to_string()), "{e0105:?}");
    assert!(e0105.contains(&"w".to_string()), "{e0105:?}");
    let def = errs
        .iter()
        .find(|(f, e)| e.code == Code::E0105 && at(d.path(), f, e) == "f")
        .unwrap();
    assert_eq!(def.1.related.len(), 1, "the import as related span");
}

#[test]
fn unknown_alias_name_suggests_from_the_file() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "u.jue",
        "(define (fetch-all) 1)\n(define other 2)\n",
    );
    write(
        d.path(),
        "main.jue",
        "(define fetch-al 0)\n(import \"u.jue\" :as u)\n(u/fetch-al)\n",
    );
    let errs = errors(run(d.path(), "main.jue"));
    let e = errs
        .iter()
        .find(|(_, e)| e.code == Code::E0101)
        .expect("E0101");
    assert_eq!(e.1.suggestion.as_deref(), Some("u/fetch-all"));
}

#[test]
fn cycles_name_the_files_in_order() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "main.jue", "(import \"a.jue\")\n(f)\n");
    write(d.path(), "a.jue", "(import \"main.jue\")\n(define (f) 1)\n");
    let errs = errors(run(d.path(), "main.jue"));
    let cycles: Vec<_> = errs.iter().filter(|(_, e)| e.code == Code::E0106).collect();
    assert_eq!(cycles.len(), 1, "only the closing import: {errs:?}");
    assert_eq!(cycles[0].0, "a.jue");
    assert!(
        cycles[0].1.message.contains("main.jue → a.jue → main.jue"),
        "{}",
        cycles[0].1.message
    );
    assert_eq!(at(d.path(), "a.jue", &cycles[0].1), "\"main.jue\"");
    // No cascade: the cycle's names are still known.
    assert!(!errs.iter().any(|(_, e)| e.code == Code::E0101), "{errs:?}");

    // Three files, and a file importing itself.
    write(d.path(), "x.jue", "(import \"y.jue\")\n");
    write(d.path(), "y.jue", "(import \"z.jue\")\n");
    write(d.path(), "z.jue", "(import \"x.jue\")\n");
    let errs = errors(run(d.path(), "x.jue"));
    assert!(
        has(&errs, "z.jue", Code::E0106, "x.jue → y.jue → z.jue → x.jue"),
        "{errs:?}"
    );
    write(d.path(), "self.jue", "(import \"self.jue\")\n");
    let errs = errors(run(d.path(), "self.jue"));
    assert!(
        has(&errs, "self.jue", Code::E0106, "self.jue → self.jue"),
        "{errs:?}"
    );
}

#[test]
fn bad_files_are_e0107_at_the_path() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("prog");
    std::fs::create_dir_all(root.join("dir.jue")).unwrap();
    write(d.path(), "outside.jue", "(define z 1)\n");
    std::fs::write(root.join("latin1.jue"), b"(define s \"caf\xe9\")\n").unwrap();
    std::os::unix::fs::symlink(d.path().join("outside.jue"), root.join("link.jue")).unwrap();
    let fifo = root.join("pipe.jue");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let imports = [
        "missing.jue",
        "/etc/passwd.jue",
        "notes.txt",
        "../outside.jue",
        "link.jue",
        "pipe.jue",
        "dir.jue",
        "latin1.jue",
    ];
    let mut main = String::new();
    for i in &imports {
        main.push_str(&format!("(import \"{i}\")\n"));
    }
    write(&root, "main.jue", &main);
    let started = std::time::Instant::now();
    let errs = errors(run(&root, "main.jue"));
    assert!(started.elapsed().as_secs() < 10, "a FIFO must not block");
    for i in &imports {
        let quoted = format!("\"{i}\"");
        assert!(
            errs.iter()
                .any(|(f, e)| e.code == Code::E0107 && at(&root, f, e) == quoted),
            "{i}: {errs:?}"
        );
    }
    assert!(has(
        &errs,
        "main.jue",
        Code::E0107,
        "outside the program's root"
    ));
    assert!(has(&errs, "main.jue", Code::E0107, "not valid UTF-8"));
    assert!(has(&errs, "main.jue", Code::E0107, "not a regular file"));
}

#[test]
fn a_long_chain_is_checked_and_runs() {
    let d = tempfile::tempdir().unwrap();
    let n = 1000;
    for i in 0..n {
        let text = if i + 1 < n {
            format!(
                "(import \"f{}.jue\")\n(define v{i} (+ 1 v{}))\n",
                i + 1,
                i + 1
            )
        } else {
            format!("(define v{i} 0)\n")
        };
        write(d.path(), &format!("f{i}.jue"), &text);
    }
    write(d.path(), "main.jue", "(import \"f0.jue\")\n(println v0)\n");
    assert_eq!(run(d.path(), "main.jue").unwrap(), format!("{}\n", n - 1));
}

#[test]
fn huge_imported_files_are_refused_by_the_memory_limit() {
    let d = tempfile::tempdir().unwrap();
    let big = format!("(define s \"{}\")\n", "x".repeat(4 << 20));
    write(d.path(), "big.jue", &big);
    write(d.path(), "main.jue", "(import \"big.jue\")\n");
    let (mut s, out) = session();
    s.limits.memory = 16 << 20;
    let errs = errors(run_in(&mut s, &out, d.path(), "main.jue"));
    assert!(
        has(&errs, "main.jue", Code::E0107, "memory limit"),
        "{errs:?}"
    );
}

#[test]
fn misplaced_and_malformed_imports() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "u.jue", "(define x 1)\n");
    write(
        d.path(),
        "main.jue",
        "(begin (import \"u.jue\"))\n@formal\n(import \"u.jue\")\n(import u)\n(import \"u.jue\" :as a/b)\n(define (f) (import \"u.jue\"))\n(import \"u.jue\" :like u)\n",
    );
    let errs = errors(run(d.path(), "main.jue"));
    let codes: Vec<(Code, String)> = errs
        .iter()
        .map(|(f, e)| (e.code, at(d.path(), f, e)))
        .collect();
    assert!(codes.contains(&(Code::E0105, "import".into())), "{codes:?}");
    assert!(
        codes.contains(&(Code::E0002, "@formal".into())),
        "{codes:?}"
    );
    assert!(codes.contains(&(Code::E0105, "u".into())), "{codes:?}");
    assert!(codes.contains(&(Code::E0105, "a/b".into())), "{codes:?}");
    assert!(codes.contains(&(Code::E0105, ":like".into())), "{codes:?}");
    assert_eq!(
        codes
            .iter()
            .filter(|(c, t)| *c == Code::E0105 && t == "import")
            .count(),
        2,
        "{codes:?}"
    );
}

#[test]
fn capabilities_are_inferred_across_files() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "io.jue",
        "(define (load-it p) (fs:read-file p))\n(define (pure x) x)\n",
    );
    write(
        d.path(),
        "main.jue",
        "(import \"io.jue\" :as io)\n(define (go) (io/load-it \"a\"))\n(define (ok) (require-capability IoPersist) (io/load-it \"b\"))\n(io/pure 1)\n",
    );
    let (mut s, _out) = session();
    let path = d.path().join("main.jue");
    let text = std::fs::read_to_string(&path).unwrap();
    let p = s
        .prepare_file(SourceFile::new("main.jue", text.clone()), &path)
        .unwrap();
    let w: Vec<&Diagnostic> = p
        .analysis
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::W0301)
        .collect();
    assert_eq!(w.len(), 1, "{:?}", p.analysis.diagnostics);
    assert_eq!(
        &text[w[0].span.start as usize..w[0].span.end as usize],
        "io/load-it"
    );
    let go = p
        .analysis
        .definitions
        .iter()
        .find(|d| d.name == "go")
        .unwrap();
    assert!(go.needs.contains(jue_engine::Capability::IoPersist));
}

#[test]
fn top_level_needs_of_loaded_files_count_for_the_prompt() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "u.jue", "(define data (fs:safe-read \"x\"))\n");
    write(d.path(), "main.jue", "(import \"u.jue\")\n");
    let (mut s, _out) = session();
    let path = d.path().join("main.jue");
    let p = s
        .prepare_file(SourceFile::new("main.jue", "(import \"u.jue\")\n"), &path)
        .unwrap();
    assert!(
        p.analysis
            .input_needs
            .contains(jue_engine::Capability::IoPersist)
    );
}

#[test]
fn tiers_hold_across_files() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "u.jue",
        "(define (f) 1)\n@formal\n(define (g) 2)\n",
    );
    write(
        d.path(),
        "main.jue",
        "(import \"u.jue\")\n@formal\n(define (h) (+ (g) (f)))\n",
    );
    let errs = errors(run(d.path(), "main.jue"));
    let e: Vec<String> = errs
        .iter()
        .filter(|(_, e)| e.code == Code::E0201)
        .map(|(f, e)| at(d.path(), f, e))
        .collect();
    assert_eq!(e, vec!["f".to_string()], "{errs:?}");
}

#[test]
fn check_program_names_files_as_tooling_says() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "src/main.jue",
        "(import \"lib/u.jue\")\n(import \"w.jue\")\n",
    );
    write(
        d.path(),
        "src/lib/u.jue",
        "(import \"../v.jue\")\n(import \"../w.jue\")\n",
    );
    write(d.path(), "src/v.jue", "(define v 1)\n");
    write(d.path(), "src/w.jue", "(define w unknown)\n");
    let s = Session::new();
    let main = d.path().join("src/main.jue");
    let text = std::fs::read_to_string(&main).unwrap();
    let files = s.check_program(&SourceFile::new("src/main.jue", text), Some(&main));
    let names: Vec<&str> = files.iter().map(|(_, f, _)| f.name()).collect();
    assert_eq!(
        names,
        ["src/main.jue", "src/lib/u.jue", "src/v.jue", "src/w.jue"]
    );
    assert!(files[3].2.diagnostics.iter().any(|d| d.code == Code::E0101));
}

#[test]
fn runtime_errors_in_imported_files_point_into_them() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "u.jue", "(define (boom x) (car x))\n");
    write(d.path(), "main.jue", "(import \"u.jue\")\n(boom 5)\n");
    let (mut s, out) = session();
    match run_in(&mut s, &out, d.path(), "main.jue") {
        Err(EvalError::Runtime(e)) => {
            let frame = e
                .stack
                .iter()
                .find(|f| f.function == "boom")
                .expect("boom's frame");
            // The frame's source is the imported file, for the report's lines.
            assert_eq!(s.source(frame.source).map(|f| f.name()), Some("u.jue"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn imported_names_shadow_built_ins_and_locals_shadow_them() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "u.jue", "(define (abs x) \"mine\")\n");
    write(
        d.path(),
        "main.jue",
        "(import \"u.jue\")\n(println (abs -1))\n(println (let ((abs (lambda (x) x))) (abs -1)))\n",
    );
    assert_eq!(run(d.path(), "main.jue").unwrap(), "mine\n-1\n");
}

#[test]
fn a_symlink_inside_the_root_is_the_same_file() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "u.jue", "(println \"u\")\n(define x 1)\n");
    std::os::unix::fs::symlink(d.path().join("u.jue"), d.path().join("alias.jue")).unwrap();
    write(
        d.path(),
        "main.jue",
        "(import \"u.jue\")\n(import \"alias.jue\" :as a)\n(import \"alias.jue\")\n(println a/x x)\n",
    );
    // One file by its resolved path: run once, one global.
    assert_eq!(run(d.path(), "main.jue").unwrap(), "u\n1 1\n");
}

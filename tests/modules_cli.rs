//! Modules end to end (language §13, tooling §1–§2): `jue run` with imports
//! beneath FILE's directory, `jue check` reporting imported files once under the
//! names tooling §1 gives, and the piped REPL's `import`, `:load` and `:reload`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn jue() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_jue"));
    c.env("NO_COLOR", "1");
    c
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("jue-modules-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs the REPL in `dir` with piped input.
fn repl(dir: &Path, input: &str) -> Output {
    repl_with(dir, &[], input)
}

/// Runs the REPL in `dir` with piped input, `dir` granted for IoPersist.
fn repl_granted(dir: &Path, input: &str) -> Output {
    repl_with(
        dir,
        &["--grant", &format!("IoPersist={}", dir.display())],
        input,
    )
}

fn repl_with(dir: &Path, args: &[&str], input: &str) -> Output {
    let mut child = jue()
        .arg("repl")
        .args(args)
        .current_dir(dir)
        .env("XDG_DATA_HOME", dir.join(".data"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn run_imports_beneath_the_files_directory() {
    let d = scratch("run");
    write(
        &d,
        "app/lib/u.jue",
        "(println \"u loads\")\n(define (twice x) (* 2 x))\n",
    );
    write(
        &d,
        "app/main.jue",
        "(import \"lib/u.jue\" :as u)\n(import \"lib/u.jue\")\n(println (u/twice 4) (twice 5))\n",
    );
    // Run from elsewhere: the root is FILE's directory, not the current one.
    let o = jue()
        .args(["run", "app/main.jue"])
        .current_dir(&d)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "u loads\n8 10\n");
}

#[test]
fn run_with_an_error_in_an_imported_file_runs_nothing() {
    let d = scratch("run-error");
    write(&d, "u.jue", "(define (f) (undefined-thing))\n");
    write(&d, "main.jue", "(println \"no\")\n(import \"u.jue\")\n");
    let o = jue()
        .args(["run", "main.jue"])
        .current_dir(&d)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(text(&o.stdout), "");
    let err = text(&o.stderr);
    assert!(err.contains("E0101") && err.contains("u.jue"), "{err}");
}

#[test]
fn run_reports_cycles_and_escapes() {
    let d = scratch("cycle");
    write(&d, "main.jue", "(import \"a.jue\")\n");
    write(&d, "a.jue", "(import \"main.jue\")\n");
    let o = jue()
        .args(["run", "main.jue"])
        .current_dir(&d)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("E0106") && err.contains("main.jue → a.jue → main.jue"),
        "{err}"
    );

    write(&d, "inner/main.jue", "(import \"../a.jue\")\n");
    let o = jue()
        .args(["run", "inner/main.jue"])
        .current_dir(&d)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("E0107"), "{}", text(&o.stderr));
}

#[test]
fn check_reports_each_file_once_with_tooling_names() {
    let d = scratch("check");
    write(
        &d,
        "src/main.jue",
        "(import \"lib/u.jue\")\n(import \"v.jue\")\n(define (m) (f 1 2))\n",
    );
    write(
        &d,
        "src/lib/u.jue",
        "(import \"../v.jue\")\n(define (f x) (g x))\n",
    );
    write(&d, "src/v.jue", "(define (g x) (nope x))\n");
    let o = jue()
        .args(["check", "--format", "json", "src/main.jue", "src/v.jue"])
        .current_dir(&d)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let got: Vec<(String, String)> = lines
        .iter()
        .map(|v| {
            (
                v["file"].as_str().unwrap().to_string(),
                v["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("src/main.jue".to_string(), "E0103".to_string()),
            ("src/v.jue".to_string(), "E0101".to_string()),
        ],
        "{}",
        text(&o.stdout)
    );
    // The text form names the imported file too.
    let o = jue()
        .args(["check", "src/main.jue"])
        .current_dir(&d)
        .output()
        .unwrap();
    assert!(text(&o.stderr).contains("src/v.jue"), "{}", text(&o.stderr));
}

#[test]
fn repl_imports_relative_to_the_current_directory() {
    let d = scratch("repl");
    write(
        &d,
        "u.jue",
        "(println \"u runs\")\n(define n 1)\n(define (bump) (set! n (+ n 1)) n)\n",
    );
    let o = repl(
        &d,
        "(import \"u.jue\" :as u)\n(u/bump)\n(import \"u.jue\")\nn\n(define n 100)\nn\nu/n\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    // Loaded once; the REPL's own `n` does not touch the file's.
    assert_eq!(text(&o.stdout), "u runs\n2\n2\n100\n2\n");
}

#[test]
fn repl_load_and_reload() {
    let d = scratch("reload");
    write(&d, "lib/u.jue", "(define (greet) \"old\")\n");
    write(
        &d,
        "lib/main.jue",
        "(import \"u.jue\")\n(define (hello) (greet))\n",
    );
    let script = format!(
        ":load lib/main.jue\n(hello)\n:reload\n(begin (ffi-call fs:write-file \"{}\" \"(define (greet) \\\"new\\\")\\n\") 0)\n:reload\n(hello)\n",
        d.join("lib/u.jue").display()
    );
    // fs:write-file needs IoPersist: grant it for the directory.
    let o = repl_granted(&d, &script);
    let err = text(&o.stderr);
    assert_eq!(text(&o.stdout), "\"old\"\n0\n\"new\"\n", "{err}");
    assert!(err.contains("nothing changed"), "{err}");
    // One line per file: the changed one ran again, its importer was checked.
    assert!(err.contains("reloaded lib/u.jue\n"), "{err}");
    assert!(
        err.contains("checked lib/main.jue (it imports a reloaded file; not run again)\n"),
        "{err}"
    );
}

#[test]
fn reload_checks_the_unchanged_importers_of_a_changed_file() {
    let d = scratch("reload-importers");
    write(
        &d,
        "c.jue",
        "(define (leaf) 1)
",
    );
    write(&d, "b.jue", "(import \"c.jue\")\n(define (mid) (leaf))\n");
    write(&d, "a.jue", "(import \"b.jue\")\n(define (top) (mid))\n");
    // c's `leaf` and b's `mid` now take an argument: a's `(mid)` is wrong,
    // though a.jue itself did not change.
    let script = format!(
        ":load a.jue\n(top)\n\
         (begin (fs:write-file \"{c}\" \"(define (leaf x) x)\\n\") 0)\n\
         (begin (fs:write-file \"{b}\" \"(import \\\"c.jue\\\")\\n(define (mid x) (leaf x))\\n\") 0)\n\
         :reload\n(top)\n",
        c = d.join("c.jue").display(),
        b = d.join("b.jue").display(),
    );
    let o = repl_granted(&d, &script);
    let err = text(&o.stderr);
    // Nothing reloaded: `top` still calls the old `mid`.
    assert_eq!(text(&o.stdout), "1\n0\n0\n1\n", "{err}");
    assert!(
        err.contains("a.jue") && err.contains("mid") && err.contains("nothing reloaded"),
        "{err}"
    );
    assert!(!err.contains("reloaded c.jue"), "{err}");
}

#[test]
fn reload_with_an_error_reloads_nothing() {
    let d = scratch("reload-error");
    write(&d, "u.jue", "(define (f) 1)\n");
    let script = format!(
        "(import \"u.jue\")\n(begin (fs:write-file \"{}\" \"(define (f) (nope))\\n\") 0)\n:reload u.jue\n(f)\n",
        d.join("u.jue").display()
    );
    let o = repl_granted(&d, &script);
    let err = text(&o.stderr);
    assert_eq!(text(&o.stdout), "0\n1\n", "{err}");
    assert!(
        err.contains("E0101") && err.contains("nothing reloaded"),
        "{err}"
    );
    assert_eq!(o.status.code(), Some(1), "the failed :reload counts");
}

#[test]
fn repl_doc_of_imported_names_and_reset_forgets_loaded_files() {
    let d = scratch("repl-reset");
    write(
        &d,
        "u.jue",
        ";; Adds one.\n(define (inc x) (+ x 1))\n(println \"u runs\")\n",
    );
    let o = repl(
        &d,
        "(import \"u.jue\" :as u)\n:doc u/inc\n(import \"u.jue\")\n:reset\n(import \"u.jue\")\n(inc 1)\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    // Run once, then again after `:reset` forgot it.
    assert_eq!(text(&o.stdout), "u runs\nu runs\n2\n");
    let err = text(&o.stderr);
    assert!(err.contains("u/inc") && err.contains("Adds one."), "{err}");
}

//! The REPL, piped (stdin not a terminal): `has-capability?` guards and needs
//! after a redefinition as the pre-flight prompt and `:doc` see them, notes
//! about unset sensors, one error for `(+ 1 2]`, `:edit` through a scripted
//! `$EDITOR`, and `:help` within 24 rows.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

struct Out {
    stdout: String,
    stderr: String,
    code: Option<i32>,
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("jue-repl-edit-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn repl_with(dir: &Path, env: &[(&str, &str)], input: &str) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jue"));
    cmd.arg("repl")
        .current_dir(dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .env_remove("VISUAL")
        .env_remove("EDITOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Out {
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
        code: out.status.code(),
    }
}

fn repl(name: &str, input: &str) -> Out {
    repl_with(&scratch(name), &[], input)
}

#[test]
fn a_guarded_use_neither_warns_nor_prompts() {
    let o = repl(
        "guard",
        "(define (stamp) (if (has-capability? SysClock) (get-wall-clock) 0))\n\
         (stamp)\n\
         :doc stamp\n\
         (when (has-capability? 'SysClock) (get-wall-clock))\n",
    );
    assert_eq!(o.stdout, "0\nnil\n", "{}", o.stderr);
    assert!(!o.stderr.contains("W0301"), "{}", o.stderr);
    // The prompt's note in a pipe ("running without SysClock") never appears.
    assert!(!o.stderr.contains("running without"), "{}", o.stderr);
    assert!(o.stderr.contains("needs no capability"), "{}", o.stderr);
    assert_eq!(o.code, Some(0));
    // Unguarded, the same call is asked for (answered no in a pipe).
    let o = repl("unguarded", "(define (stamp) (get-wall-clock))\n(stamp)\n");
    assert!(o.stderr.contains("W0301"), "{}", o.stderr);
    assert!(
        o.stderr.contains("running without SysClock"),
        "{}",
        o.stderr
    );
}

#[test]
fn a_redefinition_drops_what_callers_needed() {
    let o = repl(
        "redefine",
        "(define (now) (get-wall-clock))\n\
         (define (stamp) (list 'at (now)))\n\
         :doc stamp\n\
         (define (now) 7)\n\
         :doc stamp\n\
         (stamp)\n",
    );
    assert_eq!(o.stdout, "(at 7)\n", "{}", o.stderr);
    let docs: Vec<&str> = o
        .stderr
        .lines()
        .filter(|l| l.starts_with("tier "))
        .collect();
    assert_eq!(
        docs,
        vec![
            "tier empirical · needs SysClock ✗ (user definition)",
            "tier empirical · needs no capability (user definition)",
        ],
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("running without"), "{}", o.stderr);
    assert_eq!(o.code, Some(0));
}

#[test]
fn reading_an_unset_sensor_says_so() {
    let o = repl(
        "sensor",
        ":grant IoReadSensor\n(io:sensor:read 'temp)\n:sensor temp 21.5\n(io:sensor:read 'temp)\n",
    );
    assert_eq!(o.stdout, "0.0\n21.5\n", "{}", o.stderr);
    let notes: Vec<&str> = o
        .stderr
        .lines()
        .filter(|l| l.starts_with("note: sensor"))
        .collect();
    assert_eq!(
        notes,
        vec!["note: sensor `temp` was never set and read 0.0; set it with `:sensor temp VALUE`"],
        "{}",
        o.stderr
    );
}

#[test]
fn a_wrong_closer_is_one_error() {
    let o = repl("closer", "(+ 1 2]\n(+ 1 2)\n");
    assert_eq!(o.stdout, "3\n");
    assert_eq!(o.stderr.matches("E0001").count(), 1, "{}", o.stderr);
    assert!(o.stderr.contains("does not close"), "{}", o.stderr);
    assert!(!o.stderr.contains("unclosed"), "{}", o.stderr);
}

/// An "editor" that replaces the file with a fixed text, or leaves it.
fn editor_script(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    path.display().to_string()
}

#[test]
fn edit_evaluates_what_the_editor_saved() {
    let dir = scratch("edit");
    // The editor sees the last input, and saves a changed one.
    let seen = dir.join("seen.txt");
    let editor = editor_script(
        &dir,
        "ed.sh",
        &format!(
            "cp \"$1\" '{}'\nprintf '(+ 40 2)\\n' > \"$1\"",
            seen.display()
        ),
    );
    let o = repl_with(&dir, &[("EDITOR", &editor)], "(+ 1 2)\n:edit\n");
    assert_eq!(o.stdout, "3\n42\n", "{}", o.stderr);
    assert_eq!(std::fs::read_to_string(&seen).unwrap(), "(+ 1 2)\n");
    assert_eq!(o.code, Some(0));

    // A definition as last made; $VISUAL wins over $EDITOR.
    let visual = editor_script(
        &dir,
        "vis.sh",
        &format!(
            "cp \"$1\" '{}'\nsed -i 's/(\\* x 2)/(* x 3)/' \"$1\"",
            seen.display()
        ),
    );
    let o = repl_with(
        &dir,
        &[("EDITOR", "false"), ("VISUAL", &visual)],
        "(define (f x) (* x 1))\n(define (f x) (* x 2))\n(f 5)\n:edit f\n(f 5)\n",
    );
    assert_eq!(o.stdout, "10\n15\n", "{}", o.stderr);
    assert_eq!(
        std::fs::read_to_string(&seen).unwrap(),
        "(define (f x) (* x 2))\n"
    );

    // Quitting without saving evaluates nothing; a failing editor neither.
    let noop = editor_script(&dir, "noop.sh", "true");
    let o = repl_with(&dir, &[("EDITOR", &noop)], "(println 1)\n:edit\n");
    assert_eq!(o.stdout, "1\nnil\n", "{}", o.stderr);
    assert!(o.stderr.contains("not saved"), "{}", o.stderr);
    let o = repl_with(&dir, &[("EDITOR", "false")], "1\n:edit\n");
    assert!(o.stderr.contains("failed"), "{}", o.stderr);
    assert_eq!(o.code, Some(1));

    // No editor in a pipe, nothing to edit, an unknown name: clear messages.
    let o = repl_with(&dir, &[], "1\n:edit\n");
    assert!(o.stderr.contains("set $VISUAL or $EDITOR"), "{}", o.stderr);
    let o = repl_with(&dir, &[("EDITOR", &noop)], ":edit\n");
    assert!(o.stderr.contains("nothing to edit"), "{}", o.stderr);
    let o = repl_with(&dir, &[("EDITOR", &noop)], ":edit car\n");
    assert!(o.stderr.contains("not a definition"), "{}", o.stderr);
    // The temporary file is owner-only while the editor runs, and gone afterwards.
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let mode = dir.join("mode.txt");
    let stat = editor_script(
        &dir,
        "stat.sh",
        &format!("stat -c %a \"$1\" > '{}'", mode.display()),
    );
    let tmp_s = tmp.display().to_string();
    let o = repl_with(&dir, &[("EDITOR", &stat), ("TMPDIR", &tmp_s)], "1\n:edit\n");
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert_eq!(std::fs::read_to_string(&mode).unwrap().trim(), "600");
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
}

#[test]
fn help_lists_edit_within_24_rows() {
    let o = repl("help", ":help\n:help edit\n");
    let list: Vec<&str> = o
        .stderr
        .lines()
        .take_while(|l| !l.starts_with(":edit"))
        .collect();
    assert!(list.len() <= 23, "{} rows:\n{}", list.len(), o.stderr);
    assert!(o.stderr.contains(":edit [NAME]"), "{}", o.stderr);
    assert!(
        o.stderr.contains(":sensor NAME VALUE, :actuators"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("$VISUAL or $EDITOR"), "{}", o.stderr);
}

#[test]
fn registry_is_a_table_with_filters() {
    let o = repl(
        "registry",
        ":registry ns:fs\n:registry cap:none\n:registry cap:SysClock\n:registry tier:formal cap:IoNetwork\n",
    );
    let mut blocks = o.stderr.split(" functions · ");
    // `ns:fs`: one row per `fs:` function, not granted.
    let fs = blocks.next().unwrap();
    let rows: Vec<&str> = fs.lines().collect();
    assert!(rows.len() >= 3, "{}", o.stderr);
    assert!(
        rows[..rows.len() - 1]
            .iter()
            .all(|r| r.starts_with("✗ fs:")),
        "{fs}"
    );
    // `cap:none`: pure functions only.
    let math = blocks.next().unwrap();
    let rows: Vec<&str> = math.lines().skip(1).collect();
    assert!(rows.len() >= 3, "{}", o.stderr);
    assert!(
        rows[..rows.len() - 1].iter().all(|r| r.starts_with("· ")),
        "{math}"
    );
    // One function: its whole entry.
    assert!(
        o.stderr
            .contains("get-wall-clock () → Int\ntier empirical · needs SysClock (not granted ✗)"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr
            .contains("no FFI function matches `tier:formal cap:IoNetwork`"),
        "{}",
        o.stderr
    );
    assert_eq!(o.code, Some(0));
}

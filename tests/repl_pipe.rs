//! The REPL with stdin not a terminal: inputs delimited by the lexer, results on
//! stdout, no prompt, no colour, capability prompts answered no, status 0 or 1.

use std::io::Write;
use std::process::{Command, Stdio};

struct Out {
    stdout: String,
    stderr: String,
    code: Option<i32>,
}

fn repl(args: &[&str], input: &str) -> Out {
    let dir = std::env::temp_dir().join(format!("jue-repl-pipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_jue"))
        .args(args)
        .env("XDG_DATA_HOME", dir.join("data"))
        .env_remove("NO_COLOR")
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
    let out = child.wait_with_output().unwrap();
    Out {
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
        code: out.status.code(),
    }
}

#[test]
fn echo_expression_prints_its_value() {
    let o = repl(&["repl"], "(+ 1 2)\n");
    assert_eq!(o.stdout, "3\n");
    assert_eq!(o.stderr, "");
    assert_eq!(o.code, Some(0));
}

#[test]
fn jue_alone_starts_the_repl() {
    let o = repl(&[], "(+ 1 2)\n");
    assert_eq!(o.stdout, "3\n");
    assert_eq!(o.code, Some(0));
}

#[test]
fn multi_line_definition_then_call() {
    let o = repl(&["repl"], "(define (f x)\n  (* x 2))\n(f 21)\n");
    assert_eq!(o.stdout, "42\n");
    assert_eq!(o.code, Some(0));
}

#[test]
fn several_forms_results_history_and_print() {
    let o = repl(
        &["repl"],
        "(+ 1 2) (* 2 3)\n(list *1)\n\"s\"\nnil\n(begin (print \"x\") 5)\n; a comment\n",
    );
    assert_eq!(o.stdout, "6\n(6)\n\"s\"\nnil\nx\n5\n");
    assert_eq!(o.code, Some(0));
}

#[test]
fn errors_do_not_end_the_session_and_set_status_1() {
    let o = repl(&["repl"], "(car 5)\n(error \"boom\")\n(+ 2 2)\n");
    assert_eq!(o.stdout, "4\n");
    assert!(o.stderr.contains("E0104"), "{}", o.stderr);
    assert!(o.stderr.contains("boom"), "{}", o.stderr);
    assert!(!o.stderr.contains('\x1b'), "no colour: {}", o.stderr);
    assert!(!o.stderr.contains("jue>"), "no prompt: {}", o.stderr);
    assert_eq!(o.code, Some(1));
}

#[test]
fn unbalanced_input_at_end_fails() {
    let o = repl(&["repl"], "(+ 1 2\n");
    assert_eq!(o.stdout, "");
    assert!(o.stderr.contains("E0001"), "{}", o.stderr);
    assert_eq!(o.code, Some(1));
}

#[test]
fn capability_prompts_are_answered_no() {
    let o = repl(&["repl"], "(get-wall-clock)\n");
    assert!(o.stderr.contains("capability-denied"), "{}", o.stderr);
    assert!(!o.stderr.contains("[y/N/once]"), "{}", o.stderr);
    assert_eq!(o.code, Some(1));
    let o = repl(
        &["repl", "--grant", "SysClock"],
        "(int? (get-wall-clock))\n",
    );
    assert_eq!(o.stdout, "true\n", "{}", o.stderr);
    assert_eq!(o.code, Some(0));
}

#[test]
fn commands_in_pipes() {
    let o = repl(
        &["repl"],
        ":grant SysClock\n(int? (get-wall-clock))\n:caps\n:type (math:add 1 2)\n:doc math:add\n:hepl\n:quit\n(+ 1 1)\n",
    );
    assert_eq!(o.stdout, "true\n");
    assert!(o.stderr.contains("granted SysClock"), "{}", o.stderr);
    assert!(o.stderr.contains(":grant"), "{}", o.stderr);
    assert!(o.stderr.contains("\nInt\n"), "{}", o.stderr);
    assert!(
        o.stderr.contains("math:add (Int Int) → Int"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("did you mean `:help`?"), "{}", o.stderr);
    assert_eq!(o.code, Some(1), "the unknown command failed");
}

#[test]
fn unknown_capability_and_tier_options_are_usage_errors() {
    let o = repl(&["repl", "--grant", "io-network"], "");
    assert!(o.stderr.contains("E0202"), "{}", o.stderr);
    assert!(o.stderr.contains("IoNetwork"), "{}", o.stderr);
    assert_eq!(o.code, Some(2));
    let o = repl(&["repl", "--tier", "formall"], "");
    assert!(o.stderr.contains("E0002"), "{}", o.stderr);
    assert_eq!(o.code, Some(2));
}

#[test]
fn limits_options_apply() {
    let o = repl(
        &["repl", "--steps", "1000"],
        "(define (f) (f))\n(f)\n(+ 1 2)\n",
    );
    assert_eq!(o.stdout, "3\n");
    assert!(o.stderr.contains("step"), "{}", o.stderr);
    assert_eq!(o.code, Some(1));
    let o = repl(
        &["repl", "--timeout", "200"],
        "(define (f) (f))\n(f)\n:limits\n",
    );
    assert!(o.stderr.contains("time   200 ms"), "{}", o.stderr);
    assert_eq!(o.code, Some(1));
}

#[test]
fn reset_drops_definitions_but_keeps_grants_audit_and_sensors() {
    let o = repl(
        &["repl"],
        ":grant IoReadSensor\n:sensor temp 2.5\n(define x 1)\n(io:sensor:read 'temp)\n:reset\n:audit\n(io:sensor:read 'temp)\nx\n",
    );
    // Before and after :reset the sensor reads 2.5 with the grant kept; `x` is gone.
    assert!(o.stdout.starts_with("2.5\n2.5\n"), "{}", o.stdout);
    // The check made before :reset is still in the audit printed after it.
    let audit = o.stderr.split("reset:").nth(1).unwrap_or_default();
    assert!(
        audit.contains("io:sensor:read"),
        "audit after :reset: {}",
        o.stderr
    );
    assert!(o.stderr.contains("x"), "{}", o.stderr);
    assert_eq!(o.code, Some(1), "reading x after :reset fails");
}

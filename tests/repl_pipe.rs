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

#[test]
fn long_results_are_cut_with_a_marker_and_set_changes_the_bounds() {
    let o = repl(
        &[],
        "(define big (let loop ((i 0) (acc nil)) (if (= i 100000) acc (loop (+ i 1) (cons i acc)))))\n\
         big\n\
         :set print-length 3\n\
         (list 1 2 3 4 5)\n\
         :set print-depth 2\n\
         '(1 (2 (3 (4))))\n\
         :set print-chars 12\n\
         (list \"abcdefghijklmnopqrstuvwxyz\")\n\
         :set print-length 0\n\
         (list 1 2 3)\n\
         :set print-length off\n\
         :set print-chars off\n\
         :set print-depth off\n\
         (length big)\n",
    );
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let lines: Vec<&str> = o.stdout.lines().collect();
    // 1,000 elements by default, then a marker naming what was left out.
    assert!(lines[0].starts_with("(99999 99998 "), "{}", &lines[0][..40]);
    assert!(
        lines[0].ends_with(" … 99,000 more)"),
        "{}",
        &lines[0][lines[0].len() - 40..]
    );
    assert!(lines[0].chars().count() < 10_100);
    assert_eq!(lines[1], "(1 2 3 … 2 more)");
    assert_eq!(lines[2], "(1 (2 (…)))");
    assert_eq!(lines[3], "(\"abcdefghij … 18 more characters");
    assert_eq!(lines[4], "(… 3 more)");
    assert_eq!(lines[5], "100000");
    assert!(o.stderr.contains("print-length off"), "{}", o.stderr);
}

#[test]
fn deep_recursion_collapses_frames_bt_shows_all_and_star_e_holds_the_error() {
    let o = repl(
        &[],
        "(define (deep n) (+ 1 (deep (+ n 1))))\n(deep 0)\n(error-kind *e)\n:bt\n",
    );
    assert!(
        o.stderr.contains("… 99,990 more frames of deep"),
        "{}",
        &o.stderr[..o.stderr.len().min(3000)]
    );
    let report_end = o.stderr.find("more frames of deep").unwrap();
    assert_eq!(o.stderr[..report_end].matches("at deep (").count(), 10);
    // `:bt`: every frame of the last error.
    assert_eq!(o.stderr[report_end..].matches("at deep (").count(), 100_000);
    assert_eq!(o.stdout, "depth-limit\n");
}

#[test]
fn exit_quit_and_q_leave() {
    for word in ["exit", "quit", ":q", ":exit"] {
        let o = repl(&[], &format!("(+ 1 2)\n{word}\n(+ 40 2)\n"));
        assert_eq!(o.stdout, "3\n", "{word}: {}", o.stderr);
        assert_eq!(o.code, Some(0));
    }
    // A definition of the name wins.
    let o = repl(&[], "(define exit 5)\nexit\n");
    assert_eq!(o.stdout, "5\n");
}

#[test]
fn help_fits_80_by_24_and_explains_topics() {
    let o = repl(&[], ":help\n");
    let lines: Vec<&str> = o.stderr.lines().collect();
    assert!(lines.len() <= 23, "{} rows:\n{}", lines.len(), o.stderr);
    for l in &lines {
        assert!(l.chars().count() <= 80, "too wide: {l}");
    }
    for c in [":save", ":history", ":bt", ":set", ":quit"] {
        assert!(o.stderr.contains(c), "{c} missing:\n{}", o.stderr);
    }
    assert!(!o.stderr.contains("../"), "{}", o.stderr);
    for topic in [
        "keys",
        "results",
        "capabilities",
        "limits",
        "docs",
        "grant",
        ":set",
    ] {
        let o = repl(&[], &format!(":help {topic}\n"));
        assert_eq!(o.code, Some(0), "{topic}: {}", o.stderr);
        assert!(
            o.stderr.lines().count() > 1 || topic == "grant",
            "{}",
            o.stderr
        );
        for l in o.stderr.lines() {
            assert!(l.chars().count() <= 80, "{topic}: too wide: {l}");
        }
    }
    let o = repl(&[], ":help nosuch\n");
    assert_eq!(o.code, Some(1));
    assert!(o.stderr.contains("topics: keys"), "{}", o.stderr);
}

#[test]
fn save_writes_the_definitions_in_order_with_their_comments() {
    let dir = std::env::temp_dir().join(format!("jue-repl-save-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let lib = dir.join("lib.jue");
    std::fs::write(
        &lib,
        ";; Doubles.\n(define (double x) (* x 2))\n\n;; The answer.\n@formal\n(define answer 42)\n(println \"loaded\")\n",
    )
    .unwrap();
    let out = dir.join("saved.jue");
    let o = repl(
        &[],
        &format!(
            ":load {}\n(define (double x) (+ x x))\n(define (triple x) (* 3 x))\n(car 1)\n:save {}\n",
            lib.display(),
            out.display()
        ),
    );
    assert!(o.stderr.contains("saved 3 definitions"), "{}", o.stderr);
    let saved = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        saved,
        ";; The answer.\n@formal\n(define answer 42)\n\n(define (double x) (+ x x))\n\n(define (triple x) (* 3 x))\n"
    );
    // What was saved loads back.
    let o = repl(
        &[],
        &format!(":load {}\n(triple (double answer))\n", out.display()),
    );
    assert_eq!(o.stdout, "252\n", "{}", o.stderr);
    // A directory that does not exist: an error, nothing left behind.
    let o = repl(&[], "(define a 1)\n:save /definitely/not/here/x.jue\n");
    assert_eq!(o.code, Some(1));
    assert!(o.stderr.contains("cannot write"), "{}", o.stderr);
}

#[test]
fn history_lists_past_inputs_and_filters_them() {
    let o = repl(
        &[],
        "(define (f x) x)\n(+ 1 2)\n(f 5)\n:history\n:history (f\n:history nothing-like-this\n",
    );
    assert!(o.stderr.contains("    1  (define (f x) x)"), "{}", o.stderr);
    assert!(o.stderr.contains("    3  (f 5)"), "{}", o.stderr);
    let filtered = &o.stderr[o.stderr.find("    3  (f 5)\n").unwrap() + 12..];
    assert!(filtered.contains("    3  (f 5)"), "{filtered}");
    assert!(!filtered.contains("(+ 1 2)"), "{filtered}");
    assert!(
        o.stderr
            .contains("no input in the history contains `nothing-like-this`")
    );
}

#[test]
fn a_scope_denied_call_is_audited_once_as_denied() {
    let dir = std::env::temp_dir().join(format!("jue-repl-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let grant = format!("IoPersist={}", dir.display());
    let o = repl(
        &["--grant", &grant],
        "(fs:read-file \"/etc/hostname\")\n:audit\n",
    );
    assert!(o.stderr.contains("capability-denied"), "{}", o.stderr);
    let counts = &o.stderr[o.stderr.find("checks per function").unwrap()..];
    let counts = &counts[..counts.find("last ").unwrap()];
    assert!(counts.contains("denied"), "{counts}");
    // How to widen the scope is said once the report is out.
    assert!(
        o.stderr
            .contains("hint: `:grant IoPersist DIR` adds a directory to the scope"),
        "{}",
        o.stderr
    );
    assert!(!counts.contains("allowed"), "{counts}");
}

#[test]
fn the_step_limit_message_names_the_limit_not_what_was_left() {
    let o = repl(
        &["--steps", "100000"],
        "(define (spin n) (spin (+ n 1)))\n(+ 1 2) (spin 0)\n",
    );
    assert!(
        o.stderr.contains("the step limit of 100000 steps"),
        "{}",
        o.stderr
    );
}

#[test]
fn actors_live_between_inputs_and_actors_lists_them() {
    let o = repl(
        &["--grant", "SysCreateActor"],
        "(define (w) (+ 1 (receive)))\n(define a (spawn w))\n:actors\n(receive 20 'idle)\n:actors\n(send a 41)\n(await a)\n:actors\n(define (bad) (error \"boom\"))\n(spawn bad)\n(receive 20 'x)\n:limits actors 2\n(spawn w)\n(spawn w)\n",
    );
    // The actor was spawned by one input and still there for the next ones.
    assert!(o.stdout.contains("idle"), "{}", o.stdout);
    assert!(o.stdout.contains("42"), "{}", o.stdout);
    // `:actors`: runnable before it ran, waiting in `receive` after, then done.
    let listings: Vec<&str> = o.stderr.split("id ").skip(1).collect();
    assert!(listings.len() >= 3, "{}", o.stderr);
    assert!(
        listings[0].contains("#<actor 1>") && listings[0].contains("runnable"),
        "{}",
        listings[0]
    );
    assert!(listings[0].contains("#<fn w/0>"), "{}", listings[0]);
    assert!(listings[1].contains("waiting"), "{}", listings[1]);
    assert!(listings[2].contains("done"), "{}", listings[2]);
    // W0401 after the input in which the actor failed unawaited.
    assert!(o.stderr.contains("W0401"), "{}", o.stderr);
    assert!(o.stderr.contains("boom"), "{}", o.stderr);
    // `:limits actors 2`: actor 0 and one more.
    assert!(o.stderr.contains("actors 2"), "{}", o.stderr);
    assert!(o.stderr.contains("limit"), "{}", o.stderr);
}

#[test]
fn vectors_and_dicts_print_as_results_and_long_ones_are_cut() {
    let o = repl(
        &[],
        "{\"a\" 1 \"b\" #(1 2)}\n#(1 2 3)\n(list {\"x\" 1} #(2))\n(make-vector 100000 0)\n(+ 1 2)\n",
    );
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(
        lines[..3],
        ["{\"a\" 1 \"b\" #(1 2)}", "#(1 2 3)", "({\"x\" 1} #(2))"]
    );
    // A long vector is cut at 1,000 elements with a marker, not printed whole.
    assert!(lines[3].starts_with("#(0 0 "), "{}", lines[3]);
    assert!(
        lines[3].ends_with(" 0 … 99,000 more)"),
        "{}",
        &lines[3][lines[3].len() - 40..]
    );
    assert_eq!(
        lines[3].matches('0').count(),
        1_000 + 3,
        "{}",
        lines[3].len()
    );
    assert_eq!(lines[4], "3", "the session goes on: {}", o.stderr);
}

#[test]
fn vectors_and_dicts_have_the_element_and_depth_bounds_of_lists() {
    let o = repl(
        &[],
        "(define keys (let loop ((i 0) (acc nil)) (if (= i 2000) acc (loop (+ i 1) (cons (cons i 0) acc)))))\n\
         (list->dict keys)\n\
         :set print-length 3\n\
         #(1 2 3 4 5)\n\
         {\"a\" 1 \"b\" 2 \"c\" 3 \"d\" 4}\n\
         #(1 2 3)\n\
         (vector)\n\
         :set print-length 0\n\
         #(1 2)\n\
         {1 2}\n\
         :set print-length off\n\
         :set print-depth 2\n\
         #(1 #(2 #(3)))\n\
         {1 {2 {3 4}}}\n\
         (list #(1 (2 {3 4})))\n\
         (let ((v (vector 1 2))) (vector-set! v 1 v) v)\n",
    );
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let lines: Vec<&str> = o.stdout.lines().collect();
    // 1,000 entries by default, in insertion order, then the marker.
    assert!(
        lines[0].starts_with("{1999 0 1998 0 "),
        "{}",
        &lines[0][..40]
    );
    assert!(
        lines[0].ends_with(" 1000 0 … 1,000 more}"),
        "{}",
        &lines[0][lines[0].len() - 40..]
    );
    assert_eq!(lines[1], "#(1 2 3 … 2 more)");
    assert_eq!(lines[2], "{\"a\" 1 \"b\" 2 \"c\" 3 … 1 more}");
    assert_eq!(lines[3], "#(1 2 3)", "nothing left out, no marker");
    assert_eq!(lines[4], "#()");
    assert_eq!(lines[5], "#(… 2 more)");
    assert_eq!(lines[6], "{… 1 more}");
    assert_eq!(lines[7], "#(1 #(2 #(…)))");
    assert_eq!(lines[8], "{1 {2 {…}}}");
    assert_eq!(lines[9], "(#(1 (…)))");
    // A vector holding itself is printed once, as before.
    assert_eq!(lines[10], "#(1 #(...))");
}

//! The REPL in a real pseudo-terminal (expectrl): the prompt, results, multi-line
//! input, completion, hints, every command, the capability prompt, Ctrl-C, bad
//! input, history. Each expectation is bounded by a timeout.

use expectrl::{ControlCode, Eof, Expect, Regex, Session};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

type Repl = expectrl::session::OsSession;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("jue-repl-pty-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Spawns `jue repl ARGS` in a pty with its own history directory; waits for the prompt.
fn spawn_in(dir: &PathBuf, args: &[&str], color: bool) -> Repl {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jue"));
    cmd.arg("repl").args(args).current_dir(dir);
    cmd.env("XDG_DATA_HOME", dir.join("data"))
        .env("TERM", "xterm");
    if color {
        cmd.env_remove("NO_COLOR");
    } else {
        cmd.env("NO_COLOR", "1");
    }
    let mut p = Session::spawn(cmd).expect("spawn jue repl in a pty");
    p.set_expect_timeout(Some(Duration::from_secs(15)));
    prompt(&mut p);
    p
}

fn spawn(name: &str, args: &[&str]) -> Repl {
    spawn_in(&scratch(name), args, false)
}

/// Sends a line and waits until the line editor has accepted it (rustyline turns
/// bracketed paste off then), so later expectations never match the echo.
fn enter(p: &mut Repl, line: &str) {
    p.send_line(line).unwrap();
    if let Err(e) = p.expect("\x1b[?2004l") {
        panic!("`{line}` was not accepted: {e}");
    }
}

/// Sends a line that leaves the input open (a continuation line follows).
fn type_line(p: &mut Repl, line: &str) {
    p.send_line(line).unwrap();
}

/// Sends a line and waits for `want` in what follows.
fn ask(p: &mut Repl, line: &str, want: &str) {
    enter(p, line);
    if let Err(e) = p.expect(want) {
        panic!("after `{line}`: expected `{want}`: {e}");
    }
}

/// Waits for a fresh, empty prompt (not a redraw of the line being typed): input
/// sent before it could be lost, as each `readline` reads the terminal afresh.
fn prompt(p: &mut Repl) {
    p.expect(Regex("jue> (\x1b\\[0m)?\r\x1b\\[5C"))
        .expect("prompt");
}

fn quit(mut p: Repl) {
    enter(&mut p, ":quit");
    p.expect(Eof).expect("exit after :quit");
    let status = p.get_process().wait().unwrap();
    assert!(format!("{status:?}").ends_with(", 0)"), "{status:?}");
}

#[test]
fn prompt_results_and_result_history() {
    let mut p = spawn("results", &[]);
    ask(&mut p, "(+ 1 2)", "3\r\n");
    prompt(&mut p);
    ask(&mut p, "(* 6 7)", "42\r\n");
    prompt(&mut p);
    ask(&mut p, "(list *1 *2)", "(42 3)");
    prompt(&mut p);
    // A definition prints nothing; print's unfinished line is ended before the result.
    enter(&mut p, "(define z 9)");
    prompt(&mut p);
    ask(
        &mut p,
        "(begin (print \"abc\") (+ z 100))",
        "abc\r\n109\r\n",
    );
    quit(p);
}

#[test]
fn multi_line_input_continues_while_open() {
    let mut p = spawn("multi", &[]);
    type_line(&mut p, "(define (f x)");
    enter(&mut p, "  (* x 2))");
    prompt(&mut p);
    ask(&mut p, "(f 21)", "\r\n42\r\n");
    prompt(&mut p);
    // An open string continues too.
    type_line(&mut p, "(string-length \"ab");
    ask(&mut p, "cd\")", "\r\n5\r\n");
    quit(p);
}

#[test]
fn tab_completion_and_signature_hint() {
    let mut p = spawn("complete", &[]);
    // FFI name.
    p.send("(math:ad").unwrap();
    p.send("\t").unwrap();
    p.expect("math:add").unwrap();
    // The hint shows the signature once the head is written.
    p.send(" ").unwrap();
    p.expect("(Int Int) → Int").unwrap();
    ask(&mut p, "40 2)", "42");
    prompt(&mut p);
    // User definition.
    enter(&mut p, "(define (my-square x) (* x x))");
    prompt(&mut p);
    p.send("(my-squ").unwrap();
    p.send("\t").unwrap();
    p.expect("my-square").unwrap();
    ask(&mut p, " 12)", "144");
    prompt(&mut p);
    // Command names and capability names after :grant.
    p.send(":gra").unwrap();
    p.send("\t").unwrap();
    p.expect(":grant").unwrap();
    p.send("SysCl").unwrap();
    p.send("\t").unwrap();
    p.expect("SysClock").unwrap();
    ask(&mut p, "", "granted SysClock");
    prompt(&mut p);
    // Several candidates: a second Tab lists them with their signatures.
    p.send("(string-").unwrap();
    p.send("\t").unwrap();
    p.send("\t").unwrap();
    p.expect("string-length (String) → Int").unwrap();
    p.send(ControlCode::EndOfText).unwrap();
    prompt(&mut p);
    quit(p);
}

#[test]
fn edit_opens_the_editor_on_the_terminal_and_evaluates_the_saved_text() {
    let dir = scratch("edit");
    let editor = dir.join("ed.sh");
    // The editor has the terminal: it can ask, and what it saves is evaluated.
    std::fs::write(
        &editor,
        "#!/bin/sh\n[ -t 0 ] && [ -t 1 ] || exit 3\nsed -i 's/21/(+ 40 2)/' \"$1\"\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jue"));
    cmd.arg("repl")
        .current_dir(&dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("TERM", "xterm")
        .env("NO_COLOR", "1")
        .env_remove("VISUAL")
        .env("EDITOR", &editor);
    let mut p = Session::spawn(cmd).expect("spawn jue repl in a pty");
    p.set_expect_timeout(Some(Duration::from_secs(15)));
    prompt(&mut p);
    enter(&mut p, "(define (f) 21)");
    prompt(&mut p);
    enter(&mut p, ":edit f");
    prompt(&mut p);
    ask(&mut p, "(f)", "42\r\n");
    prompt(&mut p);
    quit(p);
}

#[test]
fn ctrl_c_interrupts_a_runaway_loop_and_keeps_state() {
    let mut p = spawn("ctrlc", &[]);
    ask(&mut p, ":grant SysClock", "granted SysClock");
    prompt(&mut p);
    enter(&mut p, "(define y 7)");
    prompt(&mut p);
    enter(&mut p, "(define (f) (f))");
    prompt(&mut p);
    enter(&mut p, "(begin (print (* 111 3)) (f))");
    p.expect("333").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    p.send(ControlCode::EndOfText).unwrap();
    p.expect("interrupted").expect("the evaluation stops");
    prompt(&mut p);
    // Definitions and grants survive.
    ask(&mut p, "(+ y 1000)", "1007");
    prompt(&mut p);
    ask(&mut p, ":caps", "SysClock");
    prompt(&mut p);
    quit(p);
}

#[test]
fn capability_prompt_yes_once_and_no() {
    let mut p = spawn("preflight", &[]);
    // One prompt naming every capability the input needs.
    p.send_line("(list (get-wall-clock) (read-sensor))")
        .unwrap();
    p.expect("grant IoReadSensor, SysClock for this session? [y/N/once]")
        .unwrap();
    enter(&mut p, "y");
    p.expect(Regex(r"\(\d+ 0\.0\)")).unwrap();
    prompt(&mut p);
    ask(&mut p, ":caps", "prompt");
    prompt(&mut p);
    // Held now: no prompt.
    ask(&mut p, "(read-sensor)", "0.0");
    prompt(&mut p);
    // once: granted for this input only.
    enter(&mut p, "(write-actuator 2.5)");
    p.expect("grant IoWriteActuator for this session? [y/N/once]")
        .unwrap();
    enter(&mut p, "once");
    p.expect("true").unwrap();
    prompt(&mut p);
    ask(&mut p, ":actuators", "writes 1");
    prompt(&mut p);
    // Enter (N): runs without it.
    enter(&mut p, "(write-actuator 3.5)");
    p.expect("grant IoWriteActuator for this session? [y/N/once]")
        .unwrap();
    enter(&mut p, "");
    p.expect("capability-denied").unwrap();
    prompt(&mut p);
    ask(&mut p, ":audit", "write-actuator");
    p.expect("denied").unwrap();
    prompt(&mut p);
    quit(p);
}

#[test]
fn no_prompt_option_never_asks() {
    let mut p = spawn("noprompt", &["--no-prompt"]);
    enter(&mut p, "(get-wall-clock)");
    p.expect("capability-denied").unwrap();
    prompt(&mut p);
    quit(p);
}

#[test]
fn every_command() {
    let dir = scratch("commands");
    std::fs::write(
        dir.join("lib.jue"),
        ";; Squares.\n(define (sq x) (* x x))\n(print \"lib loaded\")\n",
    )
    .unwrap();
    let mut p = spawn_in(&dir, &["--grant", "IoPersist"], false);
    ask(&mut p, ":help", "commands:");
    p.expect(":actuators").unwrap();
    prompt(&mut p);
    ask(&mut p, ":help load", "evaluate a file");
    prompt(&mut p);
    ask(
        &mut p,
        ":grant IoNetwork 127.0.0.1:8080",
        "granted IoNetwork (127.0.0.1:8080)",
    );
    prompt(&mut p);
    ask(&mut p, ":caps", "--grant");
    p.expect(":grant").unwrap();
    prompt(&mut p);
    ask(
        &mut p,
        ":registry net:http-get",
        "net:http-get (String) → String",
    );
    p.expect("needs IoNetwork (granted ✓)").unwrap();
    prompt(&mut p);
    // Several matches: one row each, with the grant mark.
    ask(&mut p, ":registry cap:IoNetwork", "✓ http:get");
    p.expect("functions · ✓ granted").unwrap();
    prompt(&mut p);
    ask(&mut p, ":revoke IoNetwork", "revoked IoNetwork");
    prompt(&mut p);
    ask(
        &mut p,
        ":registry net:http-get",
        "needs IoNetwork (not granted ✗)",
    );
    prompt(&mut p);
    ask(&mut p, ":doc math:add", "Adds two integers");
    prompt(&mut p);
    ask(&mut p, ":doc if", "special form");
    prompt(&mut p);
    ask(&mut p, ":doc IoNetwork", "capability:");
    prompt(&mut p);
    ask(&mut p, ":type (math:add 1 2)", "\r\nInt\r\n");
    prompt(&mut p);
    ask(&mut p, ":tier", "tier empirical");
    prompt(&mut p);
    ask(&mut p, ":tier formal", "tier formal");
    prompt(&mut p);
    ask(&mut p, ":tier empirical", "tier empirical");
    prompt(&mut p);
    ask(&mut p, ":load lib.jue", "lib loaded");
    p.expect("loaded lib.jue").unwrap();
    prompt(&mut p);
    ask(&mut p, "(sq 9)", "81");
    prompt(&mut p);
    ask(&mut p, ":doc sq", "Squares.");
    prompt(&mut p);
    ask(&mut p, ":limits", "time   30000 ms");
    prompt(&mut p);
    ask(&mut p, ":limits steps 5000", "steps  5000");
    prompt(&mut p);
    ask(&mut p, ":time", "timing on");
    prompt(&mut p);
    ask(&mut p, "(+ 1 2)", "steps:");
    prompt(&mut p);
    ask(&mut p, ":time", "timing off");
    prompt(&mut p);
    ask(&mut p, ":sensor temp 21.5", "sensor temp = 21.5");
    prompt(&mut p);
    ask(&mut p, ":actuators", "no actuator");
    prompt(&mut p);
    ask(&mut p, ":audit", "no capability checks");
    prompt(&mut p);
    ask(&mut p, ":tier experimental", "tier experimental");
    prompt(&mut p);
    ask(&mut p, ":reset", "reset:");
    prompt(&mut p);
    ask(&mut p, "(sq 2)", "unbound");
    prompt(&mut p);
    ask(&mut p, ":tier", "tier empirical");
    prompt(&mut p);
    ask(&mut p, ":limits", "steps  1000000000");
    prompt(&mut p);
    ask(&mut p, ":caps", "IoPersist");
    prompt(&mut p);
    ask(&mut p, ":reset all", "grants dropped");
    prompt(&mut p);
    ask(&mut p, ":caps", "no capability is held");
    prompt(&mut p);
    quit(p);
}

#[test]
fn bad_input_is_reported_and_the_session_goes_on() {
    let mut p = spawn("bad", &[]);
    ask(
        &mut p,
        ":hepl",
        "unknown command `:hepl`; did you mean `:help`?",
    );
    prompt(&mut p);
    ask(&mut p, ":grant io-network", "E0202");
    p.expect("did you mean `IoNetwork`?").unwrap();
    prompt(&mut p);
    ask(
        &mut p,
        ":load no-such-file.jue",
        "cannot read `no-such-file.jue`",
    );
    prompt(&mut p);
    // Unbalanced input keeps reading; Ctrl-C discards it.
    type_line(&mut p, "(+ 1");
    std::thread::sleep(Duration::from_millis(100));
    p.send(ControlCode::EndOfText).unwrap();
    prompt(&mut p);
    ask(&mut p, "(+ 2 2)", "4");
    prompt(&mut p);
    // A compile error runs nothing; a run-time error points into the input.
    ask(&mut p, "(car 5)", "E0104");
    prompt(&mut p);
    ask(&mut p, "(error \"boom\")", "boom");
    prompt(&mut p);
    // Ctrl-D leaves with status 0.
    p.send(ControlCode::EndOfTransmission).unwrap();
    p.expect(Eof).unwrap();
    let status = p.get_process().wait().unwrap();
    assert!(format!("{status:?}").ends_with(", 0)"), "{status:?}");
}

#[test]
fn history_is_owner_only_and_recalled() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("history");
    let mut p = spawn_in(&dir, &[], false);
    ask(&mut p, "(+ 20 22)", "42");
    prompt(&mut p);
    quit(p);
    let file = dir.join("data/jue/history");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "history file mode");
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("(+ 20 22)")
    );
    // A new session recalls it with Up.
    let mut p = spawn_in(&dir, &[], false);
    // (The last entry is `:quit`.)
    p.send("\x1b[A").unwrap();
    p.expect(":quit").unwrap();
    p.send("\x1b[A").unwrap();
    p.expect("(+ 20 22)").unwrap();
    ask(&mut p, "", "42");
    prompt(&mut p);
    quit(p);
}

#[test]
fn highlighting_uses_colour_on_a_terminal() {
    let dir = scratch("colour");
    let mut p = spawn_in(&dir, &[], true);
    p.send("(define x 1)").unwrap();
    // `define` is a special form: painted (magenta, bold).
    p.expect("\x1b[1;35mdefine").unwrap();
    enter(&mut p, "");
    prompt(&mut p);
    quit(p);
}

#[test]
fn banner_on_a_terminal_and_bare_exit_leaves() {
    let dir = scratch("banner");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jue"));
    cmd.arg("repl")
        .current_dir(&dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("TERM", "xterm")
        .env("NO_COLOR", "1");
    let mut p = Session::spawn(cmd).expect("spawn jue repl in a pty");
    p.set_expect_timeout(Some(Duration::from_secs(15)));
    p.expect(format!(
        "Jue {} · :help for commands, :q or Ctrl-D to leave\r\n",
        env!("CARGO_PKG_VERSION")
    ))
    .expect("one-line banner");
    prompt(&mut p);
    enter(&mut p, "exit");
    p.expect(Eof).expect("`exit` leaves");
    let status = p.get_process().wait().unwrap();
    assert!(format!("{status:?}").ends_with(", 0)"), "{status:?}");
}

#[test]
fn ctrl_c_stops_printing_a_huge_result_at_once() {
    let mut p = spawn("ctrlc-print", &[]);
    enter(&mut p, ":set print-length off");
    prompt(&mut p);
    enter(&mut p, ":set print-chars off");
    prompt(&mut p);
    enter(
        &mut p,
        "(define big (let loop ((i 0) (acc nil)) (if (= i 1000000) acc (loop (+ i 1) (cons i acc)))))",
    );
    prompt(&mut p);
    // About 6.9 MB of output. The test reads only its start, one small read at
    // a time (`expect` reads for as long as output keeps coming, and could drain
    // all of it before Ctrl-C is sent), so the REPL is still blocked on the full
    // terminal when Ctrl-C comes.
    p.send_line("big").unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !String::from_utf8_lossy(&seen).contains("(999999 999998") {
        assert!(
            std::time::Instant::now() < deadline && seen.len() < 1 << 20,
            "no result start in {} bytes",
            seen.len()
        );
        match p.try_read(&mut buf) {
            Ok(n) => seen.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5))
            }
            Err(e) => panic!("reading the result: {e}"),
        }
    }
    p.send(ControlCode::EndOfText).unwrap();
    p.expect("interrupted: the rest of the result is not printed")
        .expect("printing stops");
    prompt(&mut p);
    ask(&mut p, "(length big)", "1000000");
    prompt(&mut p);
    quit(p);
}

#[test]
fn indirect_capability_prompt_names_the_chain_and_ctrl_c_cancels() {
    let mut p = spawn("indirect", &[]);
    enter(&mut p, "(define (now) (get-wall-clock))");
    prompt(&mut p);
    enter(&mut p, "(define (stamp) (list 'at (now)))");
    prompt(&mut p);
    // The definitions' needs are kept: `:doc` shows them.
    ask(&mut p, ":doc stamp", "needs SysClock");
    prompt(&mut p);
    // A call in a later input is asked about, with the chain that needs it.
    p.send_line("(stamp)").unwrap();
    p.expect("SysClock is needed by stamp → now → get-wall-clock")
        .expect("the chain");
    p.expect("grant SysClock for this session? [y/N/once]")
        .unwrap();
    // Ctrl-C at the question cancels the input: nothing runs.
    p.send(ControlCode::EndOfText).unwrap();
    p.expect("cancelled: the input did not run").unwrap();
    prompt(&mut p);
    ask(&mut p, ":audit", "no capability checks yet");
    prompt(&mut p);
    // `y` grants it and the call runs.
    p.send_line("(stamp)").unwrap();
    p.expect("grant SysClock for this session? [y/N/once]")
        .unwrap();
    enter(&mut p, "y");
    p.expect(Regex(r"\(at \d+\)")).unwrap();
    prompt(&mut p);
    // IoPersist: the question says what `y` grants.
    p.send_line("(fs:read-file \"x\")").unwrap();
    p.expect("IoPersist is needed by fs:read-file; `y` grants it for the current directory only")
        .unwrap();
    p.expect("[y/N/once]").unwrap();
    enter(&mut p, "n");
    p.expect("capability-denied").unwrap();
    prompt(&mut p);
    quit(p);
}

#[test]
fn paste_without_bracketed_paste_and_type_ahead_are_not_lost() {
    let mut p = spawn("paste", &[]);
    // Several lines arriving at once, as a terminal without bracketed paste sends
    // a paste: every input is read and evaluated in order.
    p.send("(define (f x)\n  (* x 2))\n(f 21)\n(+ 1 2)\n(list (f 1) (f 2))\n")
        .unwrap();
    p.expect("42\r\n").expect("the second input");
    p.expect("3\r\n").expect("the third input");
    p.expect("(2 4)\r\n").expect("the fourth input");
    prompt(&mut p);
    // Type-ahead: lines typed while an evaluation runs are evaluated after it.
    enter(
        &mut p,
        "(define (spin n) (if (= n 0) 'done (spin (- n 1))))",
    );
    prompt(&mut p);
    // Long enough (about a second) that the next lines arrive while it runs.
    p.send("(spin 10000000)\n").unwrap();
    std::thread::sleep(Duration::from_millis(50));
    p.send("(+ 40 2)\n(* 6 7 10)\n").unwrap();
    p.expect("done\r\n").expect("the long evaluation");
    p.expect("42\r\n").expect("the first line typed ahead");
    p.expect("420\r\n").expect("the second line typed ahead");
    prompt(&mut p);
    quit(p);
}

#[test]
fn enter_on_an_open_input_indents_the_next_line() {
    let dir = scratch("indent");
    let mut p = spawn_in(&dir, &[], false);
    // Typed key by key: Enter while `(define (f x)` is open inserts a newline
    // and two spaces; the text typed after it lands indented.
    p.send("(define (f x)\r").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    enter(&mut p, "(* x 2))");
    prompt(&mut p);
    ask(&mut p, "(f 21)", "42");
    prompt(&mut p);
    ask(&mut p, ":save saved.jue", "saved 1 definition");
    prompt(&mut p);
    let saved = std::fs::read_to_string(dir.join("saved.jue")).unwrap();
    assert_eq!(saved, "(define (f x)\n  (* x 2))\n");
    quit(p);
}

#[test]
fn a_scope_can_be_given_with_the_answer() {
    let dir = scratch("scope-answer");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("data/f.txt"), "inside").unwrap();
    std::fs::write(dir.join("g.txt"), "outside").unwrap();
    let mut p = spawn_in(&dir, &[], false);
    p.send_line("(fs:read-file \"data/f.txt\")").unwrap();
    p.expect("`y DIR` for another").unwrap();
    p.expect("[y/N/once]").unwrap();
    enter(&mut p, "y data");
    p.expect("\"inside\"").unwrap();
    prompt(&mut p);
    ask(&mut p, ":caps", "/data");
    prompt(&mut p);
    // Outside the scope given: denied.
    ask(&mut p, "(fs:read-file \"g.txt\")", "capability-denied");
    prompt(&mut p);
    quit(p);
}

#[test]
fn ctrl_c_stops_every_actor_and_keeps_definitions() {
    let mut p = spawn("ctrlc-actors", &["--grant", "SysCreateActor"]);
    enter(&mut p, "(define (spin) (spin))");
    prompt(&mut p);
    enter(&mut p, "(define y 5)");
    prompt(&mut p);
    // Two spinning actors and a main actor that waits for a message.
    enter(
        &mut p,
        "(begin (spawn spin) (spawn spin) (print 'started) (receive))",
    );
    p.expect("started").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    p.send(ControlCode::EndOfText).unwrap();
    p.expect("interrupted").expect("the evaluation stops");
    prompt(&mut p);
    // Every actor stopped with it; definitions survive.
    ask(&mut p, ":actors", "failed");
    prompt(&mut p);
    ask(&mut p, "(+ y 1000)", "1005");
    prompt(&mut p);
    quit(p);
}

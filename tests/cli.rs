//! End-to-end tests of the `jue` command: exit statuses, streams, signals.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn jue() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_jue"));
    c.env("NO_COLOR", "1");
    c
}

fn run(args: &[&str]) -> Output {
    jue().args(args).output().expect("jue runs")
}

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("jue-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn write(dir: &std::path::Path, name: &str, text: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::File::create(&p)
        .and_then(|mut f| f.write_all(text))
        .expect("write");
    p.to_string_lossy().into_owned()
}

#[test]
fn version_is_one_line() {
    let o = run(&["--version"]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(out, format!("jue {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn run_prints_output_and_not_the_last_value() {
    let d = scratch("out");
    let f = write(&d, "a.jue", b"(println \"hi\" (+ 1 2))\n(+ 40 2)\n");
    let o = run(&["run", &f]);
    assert!(o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stdout), "hi 3\n");
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn unreadable_and_invalid_files_are_usage_errors() {
    let o = run(&["run", "/definitely/not/here.jue"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read"));
    let d = scratch("utf8");
    let f = write(&d, "bad.jue", b"(println 1)\n\xff\n");
    let o = run(&["run", &f]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("byte offset 12"));
}

#[test]
fn options_may_follow_the_file() {
    let d = scratch("after");
    let f = write(&d, "loop.jue", b"(define (f) (f)) (f)\n");
    let o = run(&["run", &f, "--steps", "1000"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("step-limit"));
}

#[test]
fn sigint_stops_a_runaway_program_with_130() {
    let d = scratch("sigint");
    let f = write(&d, "loop.jue", b"(define (f) (f)) (f)\n");
    let child = jue()
        .args(["run", &f])
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(300));
    let start = Instant::now();
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let out = child.wait_with_output().expect("wait");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "interrupt took too long"
    );
    assert_eq!(out.status.code(), Some(130));
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted"));
}

#[test]
fn check_json_lines_in_file_order_and_unreadable_files_reported() {
    let d = scratch("json");
    let a = write(&d, "a.jue", b"(define (f x) 1)\n(foo)\n");
    let b = write(&d, "b.jue", b"(car 1 2)\n");
    let o = run(&["check", "--format", "json", &a, "/no/such/file.jue", &b]);
    assert_eq!(o.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect();
    let codes: Vec<&str> = lines
        .iter()
        .map(|l| l["code"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(codes, ["W0303", "E0101", "E0103"]);
    assert_eq!(lines[1]["line"], 2);
    assert_eq!(lines[1]["column"], 2);
    assert_eq!(lines[1]["end"]["column"], 5);
    assert_eq!(lines[0]["severity"], "warning");
    assert!(String::from_utf8_lossy(&o.stderr).contains("/no/such/file.jue"));
}

#[test]
fn check_with_only_warnings_succeeds() {
    let d = scratch("warn");
    let f = write(&d, "w.jue", b"(define (f x) 1)\n");
    let o = run(&["check", &f]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("W0303"));
}

#[test]
fn unknown_tier_option_is_e0002() {
    let d = scratch("tier");
    let f = write(&d, "t.jue", b"1\n");
    let o = run(&["run", "--tier", "formall", &f]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("E0002") && err.contains("formal"), "{err}");
}

/// A stdout whose reader is already gone: every write meets a closed pipe.
fn closed_stdout() -> Stdio {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    Stdio::from(writer)
}

/// Waits for `child` at most `limit`; kills it and fails if it is still running.
fn wait_at_most(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().expect("wait") {
            return s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("still running {limit:?} after its stdout closed");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Killed by SIGPIPE (13), as a shell's 141 says.
fn sigpipe(status: std::process::ExitStatus) -> bool {
    use std::os::unix::process::ExitStatusExt;
    status.signal() == Some(13)
}

#[test]
fn run_piped_into_head_stops_at_the_next_print_quietly() {
    use std::io::BufRead;
    let d = scratch("pipe-run");
    // Prints forever; without a stop on the closed pipe it would run for minutes.
    let f = write(
        &d,
        "loop.jue",
        b"(define (loop n) (println n) (loop (+ n 1)))\n(loop 0)\n",
    );
    let mut child = jue()
        .args(["run", "--steps", "100000000000", "--timeout", "600000", &f])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("jue runs");
    let mut lines = std::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    assert_eq!(lines.next().and_then(Result::ok).as_deref(), Some("0"));
    assert_eq!(lines.next().and_then(Result::ok).as_deref(), Some("1"));
    drop(lines); // `head -2` is done and closes the pipe.
    let status = wait_at_most(&mut child, Duration::from_secs(20));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut err)
        .expect("stderr");
    assert!(sigpipe(status), "{status:?}; stderr: {err}");
    assert!(err.is_empty(), "nothing on stderr: {err}");
}

#[test]
fn registry_and_piped_repl_end_quietly_on_a_closed_stdout() {
    for (args, input) in [
        (&["registry"][..], ""),
        (&["registry", "--json"][..], ""),
        (&["repl"][..], "(println \"hi\")\n(+ 1 2)\n"),
    ] {
        let mut child = jue()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(closed_stdout())
            .stderr(Stdio::piped())
            .spawn()
            .expect("jue runs");
        let mut stdin = child.stdin.take().expect("stdin");
        let _ = stdin.write_all(input.as_bytes());
        drop(stdin);
        let status = wait_at_most(&mut child, Duration::from_secs(20));
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut err)
            .expect("stderr");
        assert!(sigpipe(status), "jue {args:?}: {status:?}; stderr: {err}");
        assert!(!err.contains("panicked"), "jue {args:?} panicked: {err}");
        assert!(err.is_empty(), "jue {args:?}: nothing on stderr: {err}");
    }
}

#[test]
fn small_comforts_of_the_command_line() {
    let d = scratch("comforts");
    let f = write(&d, "ok.jue", b"(define x 1)\n");
    // `jue FILE.jue` means `jue run FILE.jue`.
    let o = run(&[&f]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(&format!("jue run {f}")),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // A filter that matches nothing says so on stderr.
    let o = run(&["registry", "no-such-function-anywhere"]);
    assert!(o.stdout.is_empty());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no FFI function matches"));
    // A clean check says so in one line.
    let o = run(&["check", &f]);
    assert!(o.status.success());
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "checked 1 file: no errors\n"
    );
    let o = run(&["check", "--format", "json", &f]);
    assert!(o.stderr.is_empty() && o.stdout.is_empty());
}

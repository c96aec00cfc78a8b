//! Conformance suite: runs every `tests/conformance/*.jue` program through the
//! `jue` binary and compares its stdout, exit status and stderr with the
//! expectations written in the program's header comment lines.
//!
//! Header format (leading lines starting with `;;`, before any code):
//!
//! ```text
//! ;; args: --steps 1000 --depth 50   extra CLI args, placed before the file
//! ;; mode: run                       `run` (default) or `check`
//! ;; exit: 1                         expected exit status (default 0)
//! ;; stderr: E0101                   substring that must appear on stderr (repeatable)
//! ;; out: 3                          one line of expected stdout (repeatable)
//! ;; stdout-file                     expected stdout is NNN-name.out, byte for byte
//! ```
//!
//! Without `;; stdout-file`, the expected stdout is the `;; out:` lines joined
//! with "\n" plus a trailing "\n", or empty when there are none.

use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Run,
    Check,
}

#[derive(Debug)]
struct Expectation {
    args: Vec<String>,
    mode: Mode,
    exit: i32,
    stderr: Vec<String>,
    stdout: Vec<u8>,
}

/// Parses the header of a program. Errors describe a malformed header.
fn parse_header(path: &Path, source: &[u8]) -> Result<Expectation, String> {
    let text = String::from_utf8_lossy(source);
    let mut args = Vec::new();
    let mut mode = Mode::Run;
    let mut exit = 0;
    let mut stderr = Vec::new();
    let mut out_lines: Vec<String> = Vec::new();
    let mut stdout_file = false;

    for raw_line in text.split('\n') {
        let line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        let Some(rest) = line.strip_prefix(";;") else {
            break;
        };
        if let Some(v) = rest.strip_prefix(" args:") {
            args.extend(v.split_whitespace().map(str::to_owned));
        } else if let Some(v) = rest.strip_prefix(" mode:") {
            mode = match v.trim() {
                "run" => Mode::Run,
                "check" => Mode::Check,
                other => return Err(format!("unknown mode `{other}`")),
            };
        } else if let Some(v) = rest.strip_prefix(" exit:") {
            exit = v
                .trim()
                .parse()
                .map_err(|_| format!("bad exit status `{}`", v.trim()))?;
        } else if let Some(v) = rest.strip_prefix(" stderr:") {
            let v = v.strip_prefix(' ').unwrap_or(v).trim_end();
            if v.is_empty() {
                return Err("empty `;; stderr:` line".to_owned());
            }
            stderr.push(v.to_owned());
        } else if rest == " out:" {
            out_lines.push(String::new());
        } else if let Some(v) = rest.strip_prefix(" out: ") {
            out_lines.push(v.to_owned());
        } else if rest.trim_end() == " stdout-file" {
            stdout_file = true;
        } else {
            return Err(format!("unknown header line `{line}`"));
        }
    }

    let stdout = if stdout_file {
        if !out_lines.is_empty() {
            return Err("both `;; stdout-file` and `;; out:` lines".to_owned());
        }
        let out_path = path.with_extension("out");
        std::fs::read(&out_path).map_err(|e| format!("cannot read {}: {e}", out_path.display()))?
    } else if out_lines.is_empty() {
        Vec::new()
    } else {
        let mut s = out_lines.join("\n");
        s.push('\n');
        s.into_bytes()
    };

    Ok(Expectation {
        args,
        mode,
        exit,
        stderr,
        stdout,
    })
}

struct Outcome {
    status: Option<ExitStatus>,
    timed_out: bool,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    elapsed: Duration,
}

fn run_program(dir: &Path, file: &str, exp: &Expectation) -> Result<Outcome, String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jue"));
    cmd.arg(match exp.mode {
        Mode::Run => "run",
        Mode::Check => "check",
    });
    cmd.args(&exp.args)
        .arg(file)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());

    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("cannot start jue: {e}"))?;

    // Drain both pipes on their own threads so a chatty program cannot block.
    let mut out_pipe = child.stdout.take().expect("piped stdout");
    let mut err_pipe = child.stderr.take().expect("piped stderr");
    let (out_tx, out_rx) = mpsc::channel();
    let (err_tx, err_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out_pipe.read_to_end(&mut buf);
        let _ = out_tx.send(buf);
    });
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        let _ = err_tx.send(buf);
    });

    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) => {
                if start.elapsed() >= TIMEOUT {
                    timed_out = true;
                    let _ = child.kill();
                    break child.wait().ok();
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("waiting for jue failed: {e}"));
            }
        }
    };
    let elapsed = start.elapsed();
    // The pipes close when the process ends; don't wait forever if something
    // it started still holds them.
    let stdout = out_rx
        .recv_timeout(Duration::from_secs(5))
        .unwrap_or_default();
    let stderr = err_rx
        .recv_timeout(Duration::from_secs(5))
        .unwrap_or_default();
    Ok(Outcome {
        status,
        timed_out,
        stdout,
        stderr,
        elapsed,
    })
}

/// Shows bytes as text, escaping control characters so that differences in
/// white space are visible, and cuts very long texts.
fn show(bytes: &[u8]) -> String {
    const MAX: usize = 2000;
    if bytes.is_empty() {
        return "(empty)".to_owned();
    }
    let text = String::from_utf8_lossy(bytes);
    let mut s = String::new();
    for (count, c) in text.chars().enumerate() {
        if count >= MAX {
            let _ = write!(s, "… ({} bytes in all)", bytes.len());
            break;
        }
        match c {
            '\n' => s.push_str("\\n\n        "),
            '\t' => s.push_str("\\t"),
            '\r' => s.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(s, "\\u{{{:x}}}", c as u32);
            }
            c => s.push(c),
        }
    }
    s
}

/// Checks one program; returns a description of every mismatch.
fn check_one(dir: &Path, path: &Path) -> Vec<String> {
    let file = path.file_name().unwrap().to_string_lossy().into_owned();
    let source = match std::fs::read(path) {
        Ok(s) => s,
        Err(e) => return vec![format!("cannot read the program: {e}")],
    };
    let exp = match parse_header(path, &source) {
        Ok(e) => e,
        Err(e) => return vec![format!("bad header: {e}")],
    };
    let got = match run_program(dir, &file, &exp) {
        Ok(o) => o,
        Err(e) => return vec![e],
    };

    let mut problems = Vec::new();
    if got.timed_out {
        problems.push(format!("timed out after {:?} and was killed", TIMEOUT));
    }
    let code = got.status.and_then(|s| s.code());
    if code != Some(exp.exit) {
        let actual = match (code, got.status) {
            (Some(c), _) => c.to_string(),
            (None, Some(s)) => format!("none ({s})"),
            (None, None) => "none".to_owned(),
        };
        problems.push(format!("exit status: expected {}, got {actual}", exp.exit));
    }
    if got.stdout != exp.stdout {
        problems.push(format!(
            "stdout differs\n      expected: {}\n      actual:   {}",
            show(&exp.stdout),
            show(&got.stdout)
        ));
    }
    let stderr_text = String::from_utf8_lossy(&got.stderr);
    let missing: Vec<&str> = exp
        .stderr
        .iter()
        .filter(|s| !stderr_text.contains(s.as_str()))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        problems.push(format!("stderr lacks {missing:?}"));
    }
    if !problems.is_empty() {
        problems.push(format!(
            "command: jue {} {}{} (took {:.2?})\n      stderr:   {}",
            if exp.mode == Mode::Run {
                "run"
            } else {
                "check"
            },
            exp.args.iter().map(|a| format!("{a} ")).collect::<String>(),
            file,
            got.elapsed,
            show(&got.stderr)
        ));
    }
    problems
}

#[test]
fn conformance() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("conformance");
    let mut programs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jue"))
        .collect();
    programs.sort();
    assert!(!programs.is_empty(), "no programs in {}", dir.display());

    // Programs are independent: run a few at a time, report in file order.
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 8);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Vec<String>>>> = Mutex::new(vec![None; programs.len()]);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(path) = programs.get(i) else { break };
                    let problems = check_one(&dir, path);
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(problems);
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());

    let mut report = String::new();
    let mut failed = 0;
    for (path, problems) in programs.iter().zip(results) {
        let problems = problems.unwrap_or_else(|| vec!["was not run".to_owned()]);
        if problems.is_empty() {
            continue;
        }
        failed += 1;
        let _ = writeln!(
            report,
            "\n✗ {}",
            path.file_name().unwrap().to_string_lossy()
        );
        for p in problems {
            let _ = writeln!(report, "    {p}");
        }
    }

    println!("{} programs checked", programs.len());
    if failed > 0 {
        panic!(
            "{failed} of {} conformance programs failed:\n{report}",
            programs.len()
        );
    }
}

//! Adversarial tests of the IoPersist sandbox (language §8, §10; issue 13): one test per
//! class of attack on files and SQLite. Each runs on real files under a temporary
//! directory, through the engine (`Session`) where the class allows it, and checks
//! that nothing was read or written outside the granted directory.

use jue_engine::host::db::{self, SqlValue, Watch};
use jue_engine::host::{HostErrorKind, PersistScopes, fs as hostfs};
use jue_engine::vm::output::{Captured, Output};
use jue_engine::{Capability, ErrorKind, EvalError, GrantSource, Session, Value};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

// ----- helpers -----

/// A temp dir holding a granted `scope/` and an ungranted `outside/`.
struct Tree {
    _tmp: tempfile::TempDir,
    scope: PathBuf,
    outside: PathBuf,
}

fn tree() -> Tree {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = std::fs::canonicalize(tmp.path()).expect("canonical");
    let scope = root.join("scope");
    let outside = root.join("outside");
    std::fs::create_dir(&scope).expect("mkdir scope");
    std::fs::create_dir(&outside).expect("mkdir outside");
    std::fs::write(scope.join("inside.txt"), "inside").expect("inside");
    Tree {
        _tmp: tmp,
        scope,
        outside,
    }
}

/// A session granted IoPersist on `dir` only.
fn session_on(dir: &Path) -> Session {
    let mut s = Session::with_output(Output::new(Box::new(Captured::default())));
    s.grant(Capability::IoPersist, dir.to_str(), GrantSource::Host)
        .expect("grant IoPersist");
    s
}

/// Scopes granting `dir` only, for calling the host backends directly.
fn scopes_on(dir: &Path) -> PersistScopes {
    let mut s = PersistScopes::new();
    s.grant(dir.to_str()).expect("grant");
    s
}

/// A Jue string literal for `text`.
fn q(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A path as a Jue string literal.
fn qp(p: &Path) -> String {
    q(p.to_str().expect("UTF-8 path"))
}

/// The value, or the run-time error's kind and message.
fn eval(s: &mut Session, text: &str) -> Result<Value, (ErrorKind, String)> {
    match s.eval_str("sandbox.jue", text) {
        Ok(v) => Ok(v),
        Err(EvalError::Runtime(e)) => Err((e.kind, e.message)),
        Err(other) => panic!("{text:?} did not compile: {other:?}"),
    }
}

/// Evaluates and expects a run-time error of `kind`; returns its message.
fn err_kind(s: &mut Session, text: &str, kind: ErrorKind) -> String {
    match eval(s, text) {
        Err((k, m)) if k == kind => m,
        other => panic!("expected {kind:?} for {text:?}, got {other:?}"),
    }
}

/// Makes a FIFO at `p`.
fn mkfifo(p: &Path) {
    let c = CString::new(p.as_os_str().as_bytes()).expect("no NUL");
    // SAFETY: a valid NUL-terminated path.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o644) };
    assert_eq!(rc, 0, "mkfifo {}", p.display());
}

/// Atomically exchanges two directory entries (Linux renameat2 RENAME_EXCHANGE).
fn exchange(a: &CString, b: &CString) -> bool {
    // SAFETY: valid NUL-terminated paths; AT_FDCWD for both.
    unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        ) == 0
    }
}

/// Swaps `a` and `b` in a loop on another thread until `stop`; returns the swap count.
fn swapper(a: &Path, b: &Path, stop: Arc<AtomicBool>) -> thread::JoinHandle<u64> {
    let a = CString::new(a.as_os_str().as_bytes()).expect("no NUL");
    let b = CString::new(b.as_os_str().as_bytes()).expect("no NUL");
    thread::spawn(move || {
        let mut n = 0;
        while !stop.load(Ordering::Relaxed) {
            if exchange(&a, &b) {
                n += 1;
            }
        }
        n
    })
}

/// Runs `f` on a thread and fails the test if it has not returned after `limit`
/// (a call that blocks on a FIFO would otherwise hang the test run).
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("the call did not return within {limit:?}: it blocked")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the checks failed (see above)"),
    }
}

// ----- 1. symlink swap race -----

/// The layout of the race: `scope/sw` is swapped between a symlink to `../outside` and
/// a real directory; both hold a file `f`, with different contents.
fn race_tree() -> (Tree, PathBuf, PathBuf) {
    let t = tree();
    std::fs::write(t.outside.join("f"), "OUTSIDE").expect("outside f");
    std::fs::write(t.outside.join("outside-only.txt"), "x").expect("outside only");
    let sw = t.scope.join("sw");
    let alt = t.scope.join("sw_alt");
    std::os::unix::fs::symlink("../outside", &sw).expect("symlink sw");
    std::fs::create_dir(&alt).expect("mkdir alt");
    std::fs::write(alt.join("f"), "inside").expect("alt f");
    (t, sw, alt)
}

/// While other threads swap a directory, and a file, with a symlink leading out of
/// the scope (renameat2 RENAME_EXCHANGE) for about 2 s, reads, listings, writes and
/// SQLite calls through the engine never reach the outside directory.
#[test]
fn symlink_swap_race_never_escapes() {
    let (t, sw, alt) = race_tree();
    let mut s = session_on(&t.scope);
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = swapper(&sw, &alt, Arc::clone(&stop));
    // The same at the last component: `lf` is a symlink to ../outside/f or a file.
    let lf = t.scope.join("lf");
    let lf_alt = t.scope.join("lf_alt");
    std::os::unix::fs::symlink("../outside/f", &lf).expect("symlink lf");
    std::fs::write(&lf_alt, "inside file").expect("lf_alt");
    let file_swaps = swapper(&lf, &lf_alt, Arc::clone(&stop));
    let read_last = format!("(fs:read-file {})", qp(&lf));
    let write_last = format!("(fs:write-file {} \"w2\")", qp(&lf));
    let sql_last = format!("(db:query {} \"create table if not exists t(x)\")", qp(&lf));
    let read = format!("(fs:read-file {})", qp(&sw.join("f")));
    let safe = format!("(fs:safe-read {})", qp(&sw.join("f")));
    let list = format!("(fs:list-dir {})", qp(&sw));
    let write = format!("(fs:write-file {} \"w\")", qp(&sw.join("w")));
    let sql = format!(
        "(db:query {} \"create table if not exists t(x)\")",
        qp(&sw.join("x.db"))
    );
    let (mut ok, mut refused, mut other, mut escaped) = (0u64, 0u64, 0u64, 0u64);
    let start = Instant::now();
    let mut i = 0u64;
    while start.elapsed() < Duration::from_secs(2) {
        // Writes fsync: one in four calls writes, so reads get most of the time.
        let text = match i % 16 {
            0 => &write,
            4 => &sql,
            8 => &write_last,
            12 => &sql_last,
            n => [&read, &safe, &list, &read_last][usize::try_from(n % 4).unwrap_or(0)],
        };
        i += 1;
        match eval(&mut s, text) {
            Ok(Value::String(v)) if v == "OUTSIDE" => escaped += 1,
            Ok(Value::List(names)) if names.contains(&Value::String("outside-only.txt".into())) => {
                escaped += 1
            }
            Ok(_) => ok += 1,
            Err((ErrorKind::CapabilityDenied, _)) => refused += 1,
            Err((ErrorKind::Host, _)) => other += 1,
            Err(e) => panic!("unexpected error {e:?} for {text}"),
        }
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swaps.join().expect("swapper") + file_swaps.join().expect("file swapper");
    eprintln!(
        "race: {swaps} swaps, {i} calls: {ok} ok, {refused} denied, {other} host errors, {escaped} escapes"
    );
    assert!(swaps > 1000, "the swapper barely ran ({swaps} swaps)");
    assert!(
        ok > 0 && refused > 0,
        "both outcomes must occur: {ok} ok, {refused} denied"
    );
    assert_eq!(
        escaped, 0,
        "a read or listing reached the outside directory"
    );
    let mut outside: Vec<_> = std::fs::read_dir(&t.outside)
        .expect("ls outside")
        .map(|e| e.expect("entry").file_name())
        .collect();
    outside.sort();
    assert_eq!(
        outside,
        ["f", "outside-only.txt"],
        "something was written outside"
    );
    assert_eq!(
        std::fs::read_to_string(t.outside.join("f")).expect("f"),
        "OUTSIDE"
    );
}

/// The control: the same race against plain `std::fs` by path escapes, so the race
/// test above is able to see an escape.
#[test]
fn symlink_swap_race_control_detects_escapes() {
    let (_t, sw, alt) = race_tree();
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = swapper(&sw, &alt, Arc::clone(&stop));
    let mut escaped = 0;
    let start = Instant::now();
    // Check-then-open by path, as the engine did before issue 13.
    while escaped == 0 && start.elapsed() < Duration::from_secs(5) {
        let p = sw.join("f");
        let inside =
            std::fs::canonicalize(&p).is_ok_and(|c| c.starts_with(sw.parent().unwrap_or(&sw)));
        if inside && std::fs::read_to_string(&p).is_ok_and(|v| v == "OUTSIDE") {
            escaped += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    swaps.join().expect("swapper");
    assert!(escaped > 0, "the control never escaped in 5 s");
}

// ----- 2. `..` and symlinks -----

/// `..` and absolute or relative symlinks leading out are denied by every function;
/// ones that stay inside work.
#[test]
fn dotdot_and_symlinks_out_are_denied() {
    let t = tree();
    std::fs::write(t.outside.join("secret.txt"), "secret").expect("secret");
    let link = |target: &Path, name: &str| {
        std::os::unix::fs::symlink(target, t.scope.join(name)).expect("symlink")
    };
    link(&t.outside, "abs");
    link(Path::new("../outside"), "rel");
    link(&t.outside.join("secret.txt"), "file");
    link(Path::new("sub/../../outside/new.txt"), "dangling");
    link(Path::new("inside.txt"), "ok");
    let mut s = session_on(&t.scope);
    let sc = t.scope.to_str().expect("utf8");
    for path in [
        format!("{sc}/../outside/secret.txt"),
        format!("{sc}/abs/secret.txt"),
        format!("{sc}/rel/secret.txt"),
        format!("{sc}/file"),
        format!("{sc}/missing/../../outside/secret.txt"),
    ] {
        for f in ["fs:read-file", "fs:safe-read"] {
            let m = err_kind(
                &mut s,
                &format!("({f} {})", q(&path)),
                ErrorKind::CapabilityDenied,
            );
            assert!(
                m.contains(&path) && m.contains(sc),
                "names path and scope: {m}"
            );
        }
        err_kind(
            &mut s,
            &format!("(fs:write-file {} \"x\")", q(&path)),
            ErrorKind::CapabilityDenied,
        );
        err_kind(
            &mut s,
            &format!("(db:query {} \"create table t(x)\")", q(&path)),
            ErrorKind::CapabilityDenied,
        );
    }
    for dir in [format!("{sc}/abs"), format!("{sc}/rel"), format!("{sc}/..")] {
        err_kind(
            &mut s,
            &format!("(fs:list-dir {})", q(&dir)),
            ErrorKind::CapabilityDenied,
        );
    }
    err_kind(
        &mut s,
        &format!("(fs:write-file {} \"x\")", q(&format!("{sc}/dangling"))),
        ErrorKind::CapabilityDenied,
    );
    assert_eq!(
        eval(
            &mut s,
            &format!("(fs:read-file {})", q(&format!("{sc}/ok")))
        ),
        Ok(Value::String("inside".into()))
    );
    assert_eq!(
        std::fs::read_to_string(t.outside.join("secret.txt")).expect("s"),
        "secret"
    );
    assert_eq!(
        std::fs::read_dir(&t.outside).expect("ls").count(),
        1,
        "nothing created outside"
    );
}

// ----- 3. FIFOs and devices -----

/// A FIFO in the scope and /dev/null (granted /dev) are refused at once, as `host`
/// errors, by every function; nothing blocks.
#[test]
fn fifo_and_dev_null_are_refused_without_blocking() {
    let t = tree();
    let fifo = t.scope.join("fifo");
    mkfifo(&fifo);
    let scope = t.scope.clone();
    let elapsed = within(Duration::from_secs(10), move || {
        let mut s = session_on(&scope);
        let f = qp(&fifo);
        let start = Instant::now();
        let m = err_kind(&mut s, &format!("(fs:read-file {f})"), ErrorKind::Host);
        assert!(m.contains("not a regular file"), "{m}");
        assert_eq!(eval(&mut s, &format!("(fs:safe-read {f})")), Ok(Value::Nil));
        err_kind(
            &mut s,
            &format!("(fs:write-file {f} \"x\")"),
            ErrorKind::Host,
        );
        err_kind(&mut s, &format!("(fs:list-dir {f})"), ErrorKind::Host);
        err_kind(
            &mut s,
            &format!("(db:query {f} \"select 1\")"),
            ErrorKind::Host,
        );
        err_kind(
            &mut s,
            &format!("(db:query {f} \"create table t(x)\")"),
            ErrorKind::Host,
        );
        start.elapsed()
    });
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    let md = std::fs::symlink_metadata(t.scope.join("fifo")).expect("fifo");
    assert!(
        std::os::unix::fs::FileTypeExt::is_fifo(&md.file_type()),
        "the FIFO was replaced"
    );
    let elapsed = within(Duration::from_secs(10), || {
        let mut s = session_on(Path::new("/dev"));
        let start = Instant::now();
        let m = err_kind(&mut s, r#"(fs:read-file "/dev/null")"#, ErrorKind::Host);
        assert!(m.contains("not a regular file"), "{m}");
        assert_eq!(
            eval(&mut s, r#"(fs:safe-read "/dev/null")"#),
            Ok(Value::Nil)
        );
        err_kind(
            &mut s,
            r#"(db:query "/dev/null" "select 1")"#,
            ErrorKind::Host,
        );
        // /dev/stdin leads through /proc/self/fd/0 to a pipe, a terminal or a file:
        // refused one way or the other, never waited on.
        assert!(matches!(
            eval(&mut s, r#"(fs:read-file "/dev/stdin")"#),
            Err((ErrorKind::Host | ErrorKind::CapabilityDenied, _))
        ));
        start.elapsed()
    });
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
}

/// A regular file swapped with a FIFO while it is read (the naming sees one, the open
/// may meet the other): the O_NONBLOCK open and fstat on the handle refuse the FIFO,
/// so no call blocks.
#[test]
fn fifo_swapped_in_after_the_check_never_blocks() {
    let t = tree();
    let file = t.scope.join("x");
    let fifo = t.scope.join("y");
    std::fs::write(&file, "text").expect("x");
    mkfifo(&fifo);
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = swapper(&file, &fifo, Arc::clone(&stop));
    let scopes = scopes_on(&t.scope);
    let path = file.to_str().expect("utf8").to_string();
    let (read, refused) = within(Duration::from_secs(20), move || {
        let (mut read, mut refused) = (0u64, 0u64);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(1) {
            match hostfs::read_file(&scopes, &path) {
                Ok(v) => {
                    assert_eq!(v, "text");
                    read += 1;
                }
                Err(e) => {
                    assert_eq!(e.kind, HostErrorKind::Host, "{e}");
                    refused += 1;
                }
            }
        }
        (read, refused)
    });
    stop.store(true, Ordering::Relaxed);
    let swaps = swaps.join().expect("swapper");
    eprintln!("fifo swap: {swaps} swaps, {read} reads, {refused} refused");
    assert!(read > 0 && refused > 0, "{read} reads, {refused} refused");
}

// ----- 4. long and deep paths -----

/// Paths over 4,096 bytes or 256 components are `host` errors decided before any work;
/// 16,000 components do not overflow the stack.
#[test]
fn long_and_deep_paths_are_refused_before_any_work() {
    let t = tree();
    let mut s = session_on(&t.scope);
    let sc = t.scope.to_str().expect("utf8");
    let deep = format!("{sc}/{}inside.txt", "./".repeat(16_000));
    let long = format!("{sc}/{}", "x".repeat(5_000));
    let many = format!("{sc}/{}inside.txt", "d/".repeat(300));
    for f in ["fs:read-file", "fs:write-file", "fs:list-dir", "db:query"] {
        let extra = if f == "fs:write-file" || f == "db:query" {
            " \"select 1\""
        } else {
            ""
        };
        let m = err_kind(
            &mut s,
            &format!("({f} {}{extra})", q(&deep)),
            ErrorKind::Host,
        );
        assert!(m.contains("4096 bytes"), "{m}");
        let m = err_kind(
            &mut s,
            &format!("({f} {}{extra})", q(&long)),
            ErrorKind::Host,
        );
        assert!(m.contains("5") && m.contains("4096 bytes"), "{m}");
        let m = err_kind(
            &mut s,
            &format!("({f} {}{extra})", q(&many)),
            ErrorKind::Host,
        );
        assert!(m.contains("256"), "{m}");
    }
    // A long path outside every scope is still refused for its shape, not probed.
    err_kind(
        &mut s,
        &format!("(fs:safe-read {})", q(&format!("/{}", "y/".repeat(3000)))),
        ErrorKind::Host,
    );
    // Within the bounds, `.` components are fine.
    let ok = format!("{sc}/{}inside.txt", "./".repeat(250));
    assert_eq!(
        eval(&mut s, &format!("(fs:read-file {})", q(&ok))),
        Ok(Value::String("inside".into()))
    );
}

/// Symlinks whose targets are long chains of components cannot make the naming
/// recurse or run long: it is iterative and visits a bounded number of components,
/// here on a thread with a 256 KiB stack.
#[test]
fn symlink_chains_are_named_with_bounded_work_and_stack() {
    let t = tree();
    // l0 -> d/../d/../…/l1, l1 -> …/l2, …: each hop costs 1,600 components
    // (`.` would be dropped by the path parser, `d/..` is not).
    std::fs::create_dir(t.scope.join("d")).expect("mkdir d");
    let hops = 30;
    for i in 0..hops {
        let target = format!("{}l{}", "d/../".repeat(800), i + 1);
        std::os::unix::fs::symlink(&target, t.scope.join(format!("l{i}"))).expect("symlink");
    }
    std::os::unix::fs::symlink("inside.txt", t.scope.join(format!("l{hops}"))).expect("last");
    let scopes = scopes_on(&t.scope);
    let path = t.scope.join("l0").to_str().expect("utf8").to_string();
    let r = thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || hostfs::read_file(&scopes, &path))
        .expect("spawn")
        .join()
        .expect("no stack overflow");
    let e = r.expect_err("too much work");
    assert_eq!(e.kind, HostErrorKind::Host, "{e}");
    assert!(e.message.contains("too many components"), "{e}");
}

// ----- 5. failed writes leave nothing behind -----

/// Writes over the file-size limit fail inside a child process (RLIMIT_FSIZE), after
/// the temporary file was created: the old content stays and no temporary file is left.
#[test]
fn a_failed_write_leaves_no_temporary_file() {
    let t = tree();
    std::fs::write(t.scope.join("keep.txt"), "old").expect("keep");
    let exe = std::env::current_exe().expect("test binary");
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "child_write_over_the_file_size_limit",
            "--ignored",
            "--nocapture",
        ])
        .env("JUE_SANDBOX_CHILD_SCOPE", &t.scope)
        .output()
        .expect("run child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<_> = std::fs::read_dir(&t.scope)
        .expect("ls")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["app.db", "inside.txt", "keep.txt"],
        "a temporary file was left"
    );
    assert_eq!(
        std::fs::read_to_string(t.scope.join("keep.txt")).expect("keep"),
        "old"
    );
}

/// The child of `a_failed_write_leaves_no_temporary_file` (runs only when it is told the scope).
#[test]
#[ignore = "run by a_failed_write_leaves_no_temporary_file in a child process"]
fn child_write_over_the_file_size_limit() {
    let Some(scope) = std::env::var_os("JUE_SANDBOX_CHILD_SCOPE") else {
        return;
    };
    let scope = PathBuf::from(scope);
    let scopes = scopes_on(&scope);
    let p = |n: &str| scope.join(n).to_str().expect("utf8").to_string();
    // A small database first, under no limit.
    db::query(
        &scopes,
        &p("app.db"),
        "create table t(x)",
        &[],
        &Watch::default(),
    )
    .expect("db");
    let db_before = std::fs::read(scope.join("app.db")).expect("db bytes");
    // SAFETY: setting a signal disposition and a resource limit of this process only.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let lim = libc::rlimit {
            rlim_cur: 2048,
            rlim_max: libc::RLIM_INFINITY,
        };
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &lim), 0);
    }
    let big = "z".repeat(10_000);
    for name in ["keep.txt", "new.txt"] {
        let e = hostfs::write_file(&scopes, &p(name), &big).expect_err("over the limit");
        assert_eq!(e.kind, HostErrorKind::Host, "{e}");
        assert!(e.message.contains("too large"), "{e}");
    }
    let blob = SqlValue::Blob(vec![7; 10_000]);
    let e = db::query(
        &scopes,
        &p("app.db"),
        "insert into t values (?)",
        &[blob],
        &Watch::default(),
    )
    .expect_err("db over the limit");
    assert_eq!(e.kind, HostErrorKind::Host, "{e}");
    assert_eq!(std::fs::read(scope.join("app.db")).expect("db"), db_before);
}

// ----- 6. SQLite -----

/// Counts this process's open files that are SQLite temporary files (O_TMPFILE or
/// `etilqs_*` in a system temporary directory).
fn sqlite_temp_fds() -> usize {
    let Ok(fds) = std::fs::read_dir("/proc/self/fd") else {
        return 0;
    };
    fds.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|t| {
            let t = t.to_string_lossy();
            t.contains("etilqs")
                || ["/var/tmp/", "/usr/tmp/", "/tmp/#"]
                    .iter()
                    .any(|d| t.starts_with(d))
        })
        .count()
}

/// Runs `f` while another thread samples `sqlite_temp_fds`; returns the most seen.
fn max_temp_fds_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let stop = Arc::new(AtomicBool::new(false));
    let most = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (stop, most) = (Arc::clone(&stop), Arc::clone(&most));
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                most.fetch_max(sqlite_temp_fds() as u64, Ordering::Relaxed);
                thread::sleep(Duration::from_micros(200));
            }
        })
    };
    let r = f();
    stop.store(true, Ordering::Relaxed);
    sampler.join().expect("sampler");
    (r, most.load(Ordering::Relaxed) as usize)
}

/// A sort too large for SQLite's memory budget spills to temporary files by default
/// (the control, on a plain connection); through `db:query` it stays in memory, and
/// `PRAGMA temp_store` cannot be set back to files.
#[test]
fn sqlite_temporary_data_stays_in_memory() {
    let t = tree();
    let scopes = scopes_on(&t.scope);
    let dbp = t.scope.join("big.db").to_str().expect("utf8").to_string();
    let w = Watch::default();
    db::query(&scopes, &dbp, "create table t(x)", &[], &w).expect("create");
    db::query(
        &scopes,
        &dbp,
        "insert into t with recursive c(i) as (select 1 union all select i+1 from c where i < 60000) \
         select hex(randomblob(100)) from c",
        &[],
        &w,
    )
    .expect("fill");
    // No LIMIT: a top-N sort would stay in memory anyway.
    let sort = "select x from t order by x desc";
    // The control: the same file, the same sort, SQLite's defaults.
    let plain = rusqlite::Connection::open(&dbp).expect("plain open");
    let (_, control) = max_temp_fds_during(|| {
        let mut stmt = plain.prepare(sort).expect("prepare");
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .expect("plain sort");
        rows.count()
    });
    drop(plain);
    let (rows, ours) = max_temp_fds_during(|| db::query(&scopes, &dbp, sort, &[], &w));
    assert!(
        matches!(rows, Ok(Some(ref r)) if r.len() == 60_000),
        "the sort failed"
    );
    eprintln!("temporary files during the sort: default {control}, db:query {ours}");
    assert!(
        control > 0,
        "the control made no temporary file: the check sees nothing"
    );
    assert_eq!(ours, 0, "db:query made a temporary file");
    let e = db::query(&scopes, &dbp, "pragma temp_store = file", &[], &w).expect_err("refused");
    assert_eq!(e.kind, HostErrorKind::Host, "{e}");
    assert!(e.message.contains("temp_store"), "{e}");
}

/// A query counting to 10^12 is stopped by a 200 ms deadline, both through the engine
/// (`--timeout`) and by the host's own deadline check, and leaves no file behind.
#[test]
fn a_long_sqlite_query_is_stopped_by_the_deadline() {
    const COUNT: &str = "with recursive c(x) as (select 1 union all select x+1 from c where x < 1000000000000) select count(*) from c";
    let t = tree();
    let dbp = t.scope.join("count.db");
    let mut s = session_on(&t.scope);
    s.limits.timeout_ms = Some(200);
    let start = Instant::now();
    err_kind(
        &mut s,
        &format!("(db:query {} {})", qp(&dbp), q(COUNT)),
        ErrorKind::Timeout,
    );
    let through_engine = start.elapsed();
    // The host's deadline alone (no stop flag raised by anyone).
    let scopes = scopes_on(&t.scope);
    let deadline = Instant::now() + Duration::from_millis(200);
    let w = Watch {
        deadline: Some(deadline),
        stop: None,
    };
    let e = db::query(&scopes, dbp.to_str().expect("utf8"), COUNT, &[], &w).expect_err("timeout");
    let late = Instant::now().saturating_duration_since(deadline);
    assert_eq!(e.kind, HostErrorKind::Timeout, "{e}");
    eprintln!(
        "deadline 200 ms: engine returned after {through_engine:?}; host stopped {late:?} late"
    );
    assert!(through_engine >= Duration::from_millis(200));
    assert!(
        through_engine < Duration::from_millis(400),
        "{through_engine:?}"
    );
    assert!(late < Duration::from_millis(100), "{late:?}");
    assert!(!dbp.exists(), "a read-only statement created the database");
}

/// The interrupt flag (Ctrl-C) stops a long query within a few ms, through the engine
/// and through the host's watch, with kind `interrupted`; the session stays usable.
#[test]
fn a_long_sqlite_query_is_stopped_by_the_interrupt_flag() {
    const COUNT: &str = "with recursive c(x) as (select 1 union all select x+1 from c where x < 1000000000000) select count(*) from c";
    let t = tree();
    let dbp = t.scope.join("count.db");
    let mut s = session_on(&t.scope);
    let flag = s.interrupt();
    let raised_at = Arc::new(std::sync::Mutex::new(None::<Instant>));
    let raiser = {
        let raised_at = Arc::clone(&raised_at);
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(150));
            *raised_at.lock().expect("lock") = Some(Instant::now());
            flag.raise();
        })
    };
    err_kind(
        &mut s,
        &format!("(db:query {} {})", qp(&dbp), q(COUNT)),
        ErrorKind::Interrupted,
    );
    let returned = Instant::now();
    raiser.join().expect("raiser");
    let raised = raised_at.lock().expect("lock").expect("raised");
    let engine_lag = returned.saturating_duration_since(raised);
    assert_eq!(
        eval(&mut s, "(+ 1 2)"),
        Ok(Value::Int(3)),
        "the session survives"
    );
    // The host's watch alone: a flag set to 1 (interrupt) by another thread.
    let scopes = scopes_on(&t.scope);
    let stop = Arc::new(AtomicU8::new(0));
    let w = Watch {
        deadline: None,
        stop: Some(Arc::clone(&stop)),
    };
    let setter = thread::spawn(move || {
        thread::sleep(Duration::from_millis(150));
        let at = Instant::now();
        stop.store(1, Ordering::SeqCst);
        at
    });
    let e = db::query(&scopes, dbp.to_str().expect("utf8"), COUNT, &[], &w).expect_err("stopped");
    let host_lag = Instant::now().saturating_duration_since(setter.join().expect("setter"));
    assert_eq!(e.kind, HostErrorKind::Interrupted, "{e}");
    eprintln!("interrupt: engine returned {engine_lag:?} after the flag, host {host_lag:?}");
    // Measured: 0.2 ms. The bounds leave room for a loaded 2-core machine.
    assert!(engine_lag < Duration::from_millis(100), "{engine_lag:?}");
    assert!(host_lag < Duration::from_millis(100), "{host_lag:?}");
}

/// A database is read and written only through the scope's handle: SQLite never opens
/// a file by name, so writes land atomically in the scope and survive a reopen.
#[test]
fn sqlite_round_trip_through_the_handle() {
    let t = tree();
    let mut s = session_on(&t.scope);
    let dbp = qp(&t.scope.join("app.db"));
    assert_eq!(
        eval(
            &mut s,
            &format!("(db:query {dbp} \"create table t(x, y)\")")
        ),
        Ok(Value::Nil)
    );
    eval(
        &mut s,
        &format!("(db:query {dbp} \"insert into t values (?, ?)\" 1 \"one\")"),
    )
    .expect("insert");
    eval(
        &mut s,
        &format!("(db:query {dbp} \"insert into t values (?, ?)\" 2 \"two\")"),
    )
    .expect("insert");
    assert_eq!(
        eval(
            &mut s,
            &format!("(db:query {dbp} \"select y from t order by x\")")
        ),
        Ok(Value::List(vec![
            Value::List(vec![Value::String("one".into())]),
            Value::List(vec![Value::String("two".into())]),
        ]))
    );
    // A real SQLite database file, readable by SQLite itself.
    let plain = rusqlite::Connection::open(t.scope.join("app.db")).expect("open");
    let n: i64 = plain
        .query_row("select count(*) from t", [], |r| r.get(0))
        .expect("count");
    assert_eq!(n, 2);
    // Not a database: a `host` error, the file untouched.
    std::fs::write(
        t.scope.join("notes.db"),
        "not sqlite at all, just some text",
    )
    .expect("notes");
    let m = err_kind(
        &mut s,
        &format!("(db:query {} \"select 1\")", qp(&t.scope.join("notes.db"))),
        ErrorKind::Host,
    );
    assert!(m.contains("notes.db"), "{m}");
    // A WAL-mode database may hold its newest data in `-wal`, which is never read: refused.
    let wal = t.scope.join("wal.db");
    {
        let c = rusqlite::Connection::open(&wal).expect("wal open");
        let mode: String = c
            .query_row("pragma journal_mode = wal", [], |r| r.get(0))
            .expect("wal mode");
        assert_eq!(mode, "wal");
        c.execute_batch("create table t(x); insert into t values (1);")
            .expect("wal fill");
    }
    let m = err_kind(
        &mut s,
        &format!("(db:query {} \"select x from t\")", qp(&wal)),
        ErrorKind::Host,
    );
    assert!(m.contains("WAL"), "{m}");
    for leftover in ["wal.db", "wal.db-wal", "wal.db-shm"] {
        let _ = std::fs::remove_file(t.scope.join(leftover));
    }
    let names: Vec<_> = std::fs::read_dir(&t.scope)
        .expect("ls")
        .map(|e| e.expect("e").file_name())
        .collect();
    assert_eq!(
        names.len(),
        3,
        "no journal or temporary file is left: {names:?}"
    );
}

/// A grant holds its directory: once the directory is deleted and a new one made at
/// the same path, calls fail instead of reaching the new directory.
#[test]
fn a_replaced_scope_directory_is_not_reached_through_the_old_grant() {
    let t = tree();
    let mut s = session_on(&t.scope);
    std::fs::remove_dir_all(&t.scope).expect("rm scope");
    std::fs::create_dir(&t.scope).expect("new scope");
    std::fs::write(t.scope.join("inside.txt"), "new").expect("new file");
    let f = qp(&t.scope.join("inside.txt"));
    err_kind(&mut s, &format!("(fs:read-file {f})"), ErrorKind::Host);
    err_kind(
        &mut s,
        &format!("(fs:write-file {f} \"x\")"),
        ErrorKind::Host,
    );
    assert_eq!(
        std::fs::read_to_string(t.scope.join("inside.txt")).expect("new"),
        "new"
    );
    // Granting again reaches the new directory.
    s.grant(Capability::IoPersist, t.scope.to_str(), GrantSource::Host)
        .expect("grant again");
    assert_eq!(
        eval(&mut s, &format!("(fs:read-file {f})")),
        Ok(Value::String("new".into()))
    );
}

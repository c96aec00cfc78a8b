//! Bypass attempts against the FFI's security model (language §6–§8, §10): forged
//! capabilities, computed `ffi-call` names, closures and tokens outliving a grant,
//! `try` loops around denials, scope escapes through `..` and symlinks, SQL
//! injection and forbidden SQL, HTTP scope, redirect, size and time limits, tier
//! violations, host-registered functions and the ResourceExtra* grants.
//!
//! Every attempt must fail safely: a compile error, or a run-time error of the
//! documented kind, with nothing done outside the grants. HTTP tests only ever
//! talk to servers the test starts on 127.0.0.1.
//!
//! Each of the engine bugs these tests found is fixed; the tests keep them fixed.

use jue_engine::vm::output::{Captured, Output};
use jue_engine::{
    Capability, Code, ErrorKind, EvalError, FfiFunction, GrantSource, HostError, HostFunction,
    RegistryError, RuntimeError, Session, SourceLocation, TrustTier, Value,
};
use std::io::{ErrorKind as IoErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

// ----- helpers -----

/// A session whose program output is captured.
fn session() -> (Session, Captured) {
    let out = Captured::default();
    let s = Session::with_output(Output::new(Box::new(out.clone())));
    (s, out)
}

/// Evaluates and expects success.
fn ok(s: &mut Session, text: &str) -> Value {
    match s.eval_str("test.jue", text) {
        Ok(v) => v,
        Err(e) => panic!("evaluating {text:?} failed: {e:?}"),
    }
}

/// Evaluates and expects a run-time error.
fn rt_err(s: &mut Session, text: &str) -> RuntimeError {
    match s.eval_str("test.jue", text) {
        Err(EvalError::Runtime(e)) => e,
        other => panic!("expected a run-time error for {text:?}, got {other:?}"),
    }
}

/// Evaluates and expects a run-time error of `kind`.
fn err_kind(s: &mut Session, text: &str, kind: ErrorKind) -> RuntimeError {
    let e = rt_err(s, text);
    assert_eq!(e.kind, kind, "wrong kind for {text:?}: {e:?}");
    e
}

/// Evaluates and expects `capability-denied`.
fn denied(s: &mut Session, text: &str) -> RuntimeError {
    err_kind(s, text, ErrorKind::CapabilityDenied)
}

/// Evaluates and expects a compile error; returns the codes of its error diagnostics.
fn compile_errors(s: &mut Session, text: &str) -> Vec<Code> {
    match s.eval_str("test.jue", text) {
        Err(EvalError::Compile { diagnostics, .. }) => diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.code)
            .collect(),
        other => panic!("expected a compile error for {text:?}, got {other:?}"),
    }
}

/// Evaluates and expects a compile error including `code`; returns its message.
fn compile_error_with(s: &mut Session, text: &str, code: Code) -> String {
    match s.eval_str("test.jue", text) {
        Err(EvalError::Compile { diagnostics, .. }) => diagnostics
            .iter()
            .find(|d| d.code == code)
            .map(|d| d.message.clone())
            .unwrap_or_else(|| panic!("no {code} for {text:?}: {diagnostics:#?}")),
        other => panic!("expected {code} for {text:?}, got {other:?}"),
    }
}

/// A Jue string literal for `text`.
fn q(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A path as a Jue string literal.
fn qp(p: &Path) -> String {
    q(p.to_str().expect("UTF-8 path"))
}

/// The audit count for (function, capability, allowed).
fn audited(s: &Session, function: &str, cap: Capability, allowed: bool) -> u64 {
    s.audit()
        .counts()
        .iter()
        .find(|(f, c, a, _)| *f == function && *c == cap && *a == allowed)
        .map(|(_, _, _, n)| n.count)
        .unwrap_or(0)
}

fn grant(s: &mut Session, cap: Capability, scope: Option<&str>) {
    s.grant(cap, scope, GrantSource::Host)
        .unwrap_or_else(|e| panic!("grant {cap} {scope:?}: {e}"));
}

/// A temp dir holding a granted-to-be `scope/`, an `outside/` with a secret, and a
/// sibling `scope2/` whose name starts with the scope's.
struct Tree {
    _tmp: tempfile::TempDir,
    scope: PathBuf,
    outside: PathBuf,
    sibling: PathBuf,
}

fn tree() -> Tree {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = std::fs::canonicalize(tmp.path()).expect("canonical");
    let scope = root.join("scope");
    let outside = root.join("outside");
    let sibling = root.join("scope2");
    for d in [&scope, &outside, &sibling] {
        std::fs::create_dir(d).expect("mkdir");
    }
    std::fs::write(outside.join("secret.txt"), "secret").expect("secret");
    std::fs::write(sibling.join("secret.txt"), "sibling secret").expect("sibling");
    std::fs::write(scope.join("inside.txt"), "inside").expect("inside");
    Tree {
        _tmp: tmp,
        scope,
        outside,
        sibling,
    }
}

/// A session granted IoPersist on the tree's scope only.
fn persist_session(t: &Tree) -> Session {
    let (mut s, _) = session();
    grant(&mut s, Capability::IoPersist, t.scope.to_str());
    s
}

/// Busy-waits `ms` milliseconds of wall time (needs SysClock).
const WAIT: &str = "(define (wait ms)
  (let ((end (+ (get-wall-clock) (* ms 1000000))))
    (let loop () (if (< (get-wall-clock) end) (loop) 'done))))";

// ----- a bounded loopback HTTP server -----

/// What the test server answers.
enum Reply {
    /// These bytes, then close.
    Bytes(Vec<u8>),
    /// Read the request and never answer (until the client leaves, at most 3 s).
    Hang,
    /// Headers promising a large body, then one byte every 50 ms (at most 3 s).
    Trickle,
}

/// An HTTP/1.1 response with Content-Length and Connection: close.
fn response(status: &str, extra: &str, body: &[u8]) -> Reply {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    Reply::Bytes(out)
}

/// A server on 127.0.0.1 serving at most `max` connections, and for at most 5 s.
struct Server {
    port: u16,
    served: Arc<AtomicUsize>,
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
    fn scope(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

fn serve(max: usize, route: fn(&str) -> Reply) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("addr").port();
    listener.set_nonblocking(true).expect("nonblocking");
    let served = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&served);
    thread::spawn(move || {
        let end = Instant::now() + Duration::from_secs(5);
        while count.load(Ordering::SeqCst) < max && Instant::now() < end {
            match listener.accept() {
                Ok((stream, _)) => {
                    count.fetch_add(1, Ordering::SeqCst);
                    thread::spawn(move || handle(stream, route));
                }
                Err(_) => thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    Server { port, served }
}

fn handle(mut stream: TcpStream, route: fn(&str) -> Reply) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
    match route(&path) {
        Reply::Bytes(b) => {
            let _ = stream.write_all(&b);
            let _ = stream.flush();
        }
        Reply::Hang => {
            // Returns when the client closes (0) or after 3 s.
            let _ = stream.set_read_timeout(Some(Duration::from_secs(3)));
            let _ = stream.read(&mut buf);
        }
        Reply::Trickle => {
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\nConnection: close\r\n\r\n",
            );
            let end = Instant::now() + Duration::from_secs(3);
            while Instant::now() < end {
                if stream.write_all(b"x").and_then(|_| stream.flush()).is_err() {
                    return;
                }
                thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// A listener that is never served: used to prove no connection was attempted.
fn silent_listener() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = l.local_addr().expect("addr").port();
    l.set_nonblocking(true).expect("nonblocking");
    (l, port)
}

/// True when nobody connected to `l` (the kernel completes a connect into the backlog).
fn never_connected(l: &TcpListener) -> bool {
    thread::sleep(Duration::from_millis(20));
    matches!(l.accept(), Err(e) if e.kind() == IoErrorKind::WouldBlock)
}

// ----- forging capabilities -----

#[test]
fn ints_strings_and_symbols_are_not_capabilities() {
    let (mut s, _) = session();
    let v = ok(
        &mut s,
        r#"(define c 7)
           (define s "IoNetwork")
           (define y (string->symbol "IoNetwork"))
           (list (capability? c) (capability? s) (capability? y) (capability? 'IoNetwork)
                 (capability? 0) (capability? nil) (has-capability? IoNetwork))"#,
    );
    assert_eq!(v, Value::List(vec![Value::Bool(false); 7]));
    // None of those values made the call possible.
    denied(&mut s, r#"(net:http-get "http://127.0.0.1:9/")"#);
    denied(&mut s, "(require-capability IoNetwork)");
    assert!(!s.grants().contains(Capability::IoNetwork));
}

#[test]
fn a_global_named_like_a_capability_grants_nothing() {
    let (mut s, _) = session();
    ok(&mut s, "(define IoNetwork 7) (define IoPersist 'IoPersist)");
    assert_eq!(
        ok(
            &mut s,
            "(list (has-capability? IoNetwork) (has-capability? 'IoPersist) (capability? IoNetwork))"
        ),
        Value::List(vec![Value::Bool(false); 3])
    );
    denied(&mut s, "(require-capability IoNetwork)");
    denied(&mut s, r#"(fs:read-file "x")"#);
    assert!(s.grants().is_empty());
}

#[test]
fn capability_forms_take_only_literal_names() {
    let (mut s, _) = session();
    for text in [
        r#"(require-capability (string->symbol "IoNetwork"))"#,
        r#"(has-capability? (string->symbol "IoNetwork"))"#,
        r#"(require-capability "IoNetwork")"#,
        "(require-capability 7)",
    ] {
        let codes = compile_errors(&mut s, text);
        assert!(codes.contains(&Code::E0105), "{text}: {codes:?}");
    }
    let m = compile_error_with(&mut s, "(require-capability io-network)", Code::E0202);
    assert!(m.contains("io-network"), "{m}");
}

#[test]
fn a_token_obtained_while_granted_is_not_a_key_after_revoke() {
    let (mut s, _) = session();
    grant(&mut s, Capability::IoNetwork, None);
    ok(&mut s, "(define tok (require-capability IoNetwork))");
    assert_eq!(ok(&mut s, "(capability? tok)"), Value::Bool(true));
    // The host sees the witness, and seeing it changes nothing.
    assert_eq!(ok(&mut s, "tok"), Value::Capability(Capability::IoNetwork));
    assert_eq!(
        ok(&mut s, "(to-string tok)"),
        Value::String("#<capability IoNetwork>".into())
    );
    s.revoke(Capability::IoNetwork);
    // Still a witness, no longer backed by a grant.
    assert_eq!(ok(&mut s, "(capability? tok)"), Value::Bool(true));
    assert_eq!(
        ok(&mut s, "(has-capability? IoNetwork)"),
        Value::Bool(false)
    );
    denied(&mut s, r#"(net:http-get "http://127.0.0.1:9/")"#);
    denied(&mut s, "(require-capability IoNetwork)");
    // Passing the token around (to code, to a closure, to the host) grants nothing.
    ok(
        &mut s,
        r#"(define (with-token t url) (if (capability? t) (net:http-get url) nil))"#,
    );
    denied(&mut s, r#"(with-token tok "http://127.0.0.1:9/")"#);
    assert!(!s.grants().contains(Capability::IoNetwork));
}

#[test]
fn a_capability_value_minted_by_a_host_function_grants_nothing() {
    let (mut s, _) = session();
    let seen = Arc::new(AtomicUsize::new(0));
    let seen2 = Arc::clone(&seen);
    s.register_function(
        FfiFunction::new(
            "sec:mint",
            HostFunction::Custom(100),
            None,
            Vec::<String>::new(),
            "Capability",
            "Returns an IoNetwork witness.",
            SourceLocation::default(),
        )
        .with_implementation(|_| Ok(Value::Capability(Capability::IoNetwork))),
    )
    .expect("register sec:mint");
    s.register_function(
        FfiFunction::new(
            "sec:present",
            HostFunction::Custom(101),
            None,
            ["Capability"],
            "Bool",
            "Takes a witness.",
            SourceLocation::default(),
        )
        .with_implementation(move |args| {
            seen2.fetch_add(1, Ordering::SeqCst);
            Ok(Value::Bool(matches!(args, [Value::Capability(_)])))
        }),
    )
    .expect("register sec:present");
    assert_eq!(
        ok(
            &mut s,
            "(define t (sec:mint)) (list (capability? t) (sec:present t))"
        ),
        Value::List(vec![Value::Bool(true), Value::Bool(true)])
    );
    assert_eq!(seen.load(Ordering::SeqCst), 1);
    denied(&mut s, r#"(net:http-get "http://127.0.0.1:9/")"#);
    denied(&mut s, "(require-capability IoNetwork)");
    assert!(s.grants().is_empty());
    // A symbol is not a witness: the host function never sees one.
    ok(&mut s, "(define (present x) (sec:present x))");
    err_kind(&mut s, "(present 'IoNetwork)", ErrorKind::Type);
    err_kind(&mut s, "(present 7)", ErrorKind::Type);
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}

// ----- ffi-call -----

#[test]
fn ffi_call_with_a_computed_name_is_e0105() {
    let (mut s, _) = session();
    for text in [
        r#"(ffi-call (string->symbol "fs:read-file") "x")"#,
        r#"(ffi-call (car '(fs:read-file)) "x")"#,
        r#"(ffi-call (if true "fs:read-file" "add") "x")"#,
        r#"(ffi-call (string-append "fs:" "read-file") "x")"#,
    ] {
        let codes = compile_errors(&mut s, text);
        assert!(codes.contains(&Code::E0105), "{text}: {codes:?}");
    }
    // A variable holding a name is not a name either: it is looked up in the registry
    // literally, at compile time.
    let codes = compile_errors(&mut s, r#"(define n "fs:read-file") (ffi-call n "x")"#);
    assert!(
        codes.contains(&Code::E0102) || codes.contains(&Code::E0105),
        "{codes:?}"
    );
    assert_eq!(audited(&s, "fs:read-file", Capability::IoPersist, false), 0);
}

#[test]
fn ffi_call_with_a_literal_name_still_checks_the_grant_at_run_time() {
    let (mut s, _) = session();
    let before = s.audit().total();
    for text in [
        r#"(ffi-call "fs:read-file" "x")"#,
        r#"(ffi-call 'fs:read-file "x")"#,
        r#"(ffi-call fs:read-file "x")"#,
        r#"(ffi-call "http:get" "http://127.0.0.1:9/")"#,
    ] {
        let e = denied(&mut s, text);
        assert!(
            e.message.contains("IoPersist") || e.message.contains("IoNetwork"),
            "{}",
            e.message
        );
    }
    assert_eq!(audited(&s, "fs:read-file", Capability::IoPersist, false), 3);
    assert_eq!(audited(&s, "http:get", Capability::IoNetwork, false), 1);
    assert_eq!(s.audit().total() - before, 4);
}

#[test]
fn shadowing_an_ffi_name_does_not_reach_the_host_function() {
    let (mut s, _) = session();
    ok(&mut s, r#"(define (fs:read-file p) "fake")"#);
    assert_eq!(
        ok(&mut s, r#"(fs:read-file "x")"#),
        Value::String("fake".into())
    );
    // ffi-call always reaches the registry, and the registry is guarded.
    denied(&mut s, r#"(ffi-call fs:read-file "x")"#);
}

#[test]
fn ffi_functions_as_values_are_still_checked() {
    let (mut s, _) = session();
    ok(&mut s, "(define f fs:read-file) (define (call g x) (g x))");
    denied(&mut s, r#"(f "x")"#);
    denied(&mut s, r#"(call fs:read-file "x")"#);
    denied(&mut s, r#"(map fs:read-file (list "x" "y"))"#);
    denied(&mut s, "(call (lambda (x) (get-wall-clock)) 1)");
    assert_eq!(audited(&s, "fs:read-file", Capability::IoPersist, false), 3);
    assert_eq!(
        audited(&s, "get-wall-clock", Capability::SysClock, false),
        1
    );
}

// ----- closures and revoke -----

#[test]
fn a_closure_made_while_granted_is_denied_after_revoke() {
    let t = tree();
    let mut s = persist_session(&t);
    let file = qp(&t.scope.join("inside.txt"));
    ok(
        &mut s,
        &format!(
            "(define (reader) (fs:read-file {file}))
             (define saved (lambda () (reader)))
             (define (declared) (require-capability IoPersist) (fs:read-file {file}))"
        ),
    );
    assert_eq!(ok(&mut s, "(saved)"), Value::String("inside".into()));
    assert_eq!(ok(&mut s, "(declared)"), Value::String("inside".into()));
    s.revoke(Capability::IoPersist);
    let e = denied(&mut s, "(saved)");
    assert!(e.message.contains("IoPersist"), "{}", e.message);
    denied(&mut s, "(declared)");
    denied(&mut s, "(reader)");
    // Granting again (even another directory) does not revive the old scope.
    grant(&mut s, Capability::IoPersist, t.outside.to_str());
    denied(&mut s, "(saved)");
}

#[test]
fn revoke_takes_effect_at_the_next_call() {
    let (mut s, _) = session();
    ok(&mut s, "(define (now) (get-wall-clock))");
    denied(&mut s, "(now)");
    grant(&mut s, Capability::SysClock, None);
    assert!(matches!(ok(&mut s, "(now)"), Value::Int(n) if n > 0));
    s.revoke(Capability::SysClock);
    denied(&mut s, "(now)");
    denied(&mut s, "(get-wall-clock)");
    assert_eq!(ok(&mut s, "(has-capability? SysClock)"), Value::Bool(false));
    grant(&mut s, Capability::SysClock, None);
    assert!(matches!(ok(&mut s, "(now)"), Value::Int(_)));
    assert_eq!(
        audited(&s, "get-wall-clock", Capability::SysClock, false),
        3
    );
    assert_eq!(audited(&s, "get-wall-clock", Capability::SysClock, true), 2);
    assert!(
        s.grant_records()
            .iter()
            .all(|r| r.capability == Capability::SysClock)
    );
}

#[test]
fn revoke_drops_every_scope_of_a_capability() {
    let (a, pa) = silent_listener();
    let (mut s, _) = session();
    grant(
        &mut s,
        Capability::IoNetwork,
        Some(&format!("127.0.0.1:{pa}")),
    );
    s.revoke(Capability::IoNetwork);
    // A new grant for another port does not bring back the old one.
    grant(&mut s, Capability::IoNetwork, Some("127.0.0.1:9"));
    denied(
        &mut s,
        &format!(r#"(net:http-get "http://127.0.0.1:{pa}/")"#),
    );
    assert!(never_connected(&a));
}

// ----- try -----

#[test]
fn try_swallowing_a_denial_and_retrying_is_denied_every_time() {
    let (mut s, _) = session();
    let v = ok(
        &mut s,
        r#"(define (attempt) (try (begin (fs:read-file "x") 'read) (catch e (error-kind e))))
           (let loop ((i 0) (denials 0))
             (if (= i 25)
                 denials
                 (loop (+ i 1) (if (eq? (attempt) 'capability-denied) (+ denials 1) denials))))"#,
    );
    assert_eq!(v, Value::Int(25));
    assert_eq!(
        audited(&s, "fs:read-file", Capability::IoPersist, false),
        25
    );
    assert_eq!(audited(&s, "fs:read-file", Capability::IoPersist, true), 0);
    let recent: Vec<_> = s.audit().recent().rev().take(25).collect();
    assert_eq!(recent.len(), 25);
    assert!(
        recent.iter().all(|r| r.function == "fs:read-file"
            && !r.allowed
            && r.capability == Capability::IoPersist),
        "{recent:?}"
    );
    // The same through require-capability in a loop.
    let v = ok(
        &mut s,
        "(let loop ((i 0) (n 0))
           (if (= i 10) n
               (loop (+ i 1) (+ n (try (begin (require-capability IoNetwork) 0) (catch e 1))))))",
    );
    assert_eq!(v, Value::Int(10));
    assert_eq!(
        audited(&s, "require-capability", Capability::IoNetwork, false),
        10
    );
}

#[test]
fn try_cannot_swallow_resource_limits() {
    let (mut s, _) = session();
    s.limits.timeout_ms = Some(100);
    let start = Instant::now();
    err_kind(
        &mut s,
        "(try (let loop () (loop)) (catch e 'caught))",
        ErrorKind::Timeout,
    );
    assert!(start.elapsed() < Duration::from_secs(2));
    s.limits.timeout_ms = None;
    s.limits.steps = 10_000;
    err_kind(
        &mut s,
        "(try (let loop ((i 0)) (loop (+ i 1))) (catch e 'caught))",
        ErrorKind::StepLimit,
    );
}

// ----- IoPersist scopes -----

#[test]
fn dotdot_out_of_the_scope_is_denied() {
    let t = tree();
    let mut s = persist_session(&t);
    let scope = t.scope.to_str().unwrap();
    let esc = q(&format!("{scope}/../outside/secret.txt"));
    let e = denied(&mut s, &format!("(fs:read-file {esc})"));
    assert!(e.message.contains("IoPersist"), "{}", e.message);
    denied(&mut s, &format!("(fs:safe-read {esc})"));
    denied(
        &mut s,
        &format!("(fs:list-dir {})", q(&format!("{scope}/.."))),
    );
    denied(
        &mut s,
        &format!(
            "(fs:write-file {} \"x\")",
            q(&format!("{scope}/../outside/new.txt"))
        ),
    );
    assert!(!t.outside.join("new.txt").exists());
    // Deeper: in and out again.
    denied(
        &mut s,
        &format!(
            "(fs:read-file {})",
            q(&format!("{scope}/./../scope/../outside/secret.txt"))
        ),
    );
    // A sibling whose name starts with the scope's name is outside it.
    denied(
        &mut s,
        &format!(
            "(fs:read-file {})",
            q(&format!("{scope}/../scope2/secret.txt"))
        ),
    );
    denied(
        &mut s,
        &format!("(fs:read-file {})", qp(&t.sibling.join("secret.txt"))),
    );
    // Relative paths are resolved against the current directory, outside the scope.
    denied(&mut s, r#"(fs:read-file "../Cargo.toml")"#);
    denied(&mut s, r#"(fs:read-file "Cargo.toml")"#);
    // `..` that stays inside is fine.
    assert_eq!(
        ok(
            &mut s,
            &format!(
                "(fs:read-file {})",
                q(&format!("{scope}/../scope/inside.txt"))
            )
        ),
        Value::String("inside".into())
    );
    assert_eq!(
        std::fs::read_to_string(t.outside.join("secret.txt")).unwrap(),
        "secret"
    );
}

#[test]
fn symlinks_out_of_the_scope_are_denied() {
    use std::os::unix::fs::symlink;
    let t = tree();
    let mut s = persist_session(&t);
    symlink(t.outside.join("secret.txt"), t.scope.join("to-secret")).unwrap();
    symlink(&t.outside, t.scope.join("to-outside")).unwrap();
    symlink(t.outside.join("created.txt"), t.scope.join("dangling")).unwrap();
    symlink(t.scope.join("to-secret"), t.scope.join("chain")).unwrap();
    symlink("../outside", t.scope.join("relative")).unwrap();
    symlink(t.scope.join("inside.txt"), t.scope.join("ok-link")).unwrap();
    let p = |name: &str| qp(&t.scope.join(name));

    denied(&mut s, &format!("(fs:read-file {})", p("to-secret")));
    denied(&mut s, &format!("(fs:safe-read {})", p("to-secret")));
    denied(&mut s, &format!("(fs:read-file {})", p("chain")));
    denied(
        &mut s,
        &format!("(fs:read-file {})", p("to-outside/secret.txt")),
    );
    denied(
        &mut s,
        &format!("(fs:read-file {})", p("relative/secret.txt")),
    );
    denied(&mut s, &format!("(fs:list-dir {})", p("to-outside")));
    denied(&mut s, &format!("(fs:list-dir {})", p("relative")));
    // Writing through a link: to an existing file, into a linked directory, to a dangling target.
    denied(
        &mut s,
        &format!("(fs:write-file {} \"pwned\")", p("to-secret")),
    );
    denied(
        &mut s,
        &format!("(fs:write-file {} \"pwned\")", p("to-outside/new.txt")),
    );
    denied(
        &mut s,
        &format!("(fs:write-file {} \"pwned\")", p("dangling")),
    );
    denied(
        &mut s,
        &format!("(fs:write-file {} \"pwned\")", p("relative/new2.txt")),
    );
    assert_eq!(
        std::fs::read_to_string(t.outside.join("secret.txt")).unwrap(),
        "secret"
    );
    assert!(!t.outside.join("new.txt").exists());
    assert!(!t.outside.join("created.txt").exists());
    assert!(!t.outside.join("new2.txt").exists());
    assert_eq!(
        std::fs::read_dir(&t.outside).unwrap().count(),
        1,
        "nothing was created outside"
    );
    // A database through a linked directory.
    denied(
        &mut s,
        &format!("(db:query {} \"create table t(x)\")", p("to-outside/x.db")),
    );
    assert!(!t.outside.join("x.db").exists());
    symlink(t.outside.join("created.db"), t.scope.join("dangling.db")).unwrap();
    denied(
        &mut s,
        &format!("(db:query {} \"create table t(x)\")", p("dangling.db")),
    );
    assert!(!t.outside.join("created.db").exists());
    // A link that stays inside works.
    assert_eq!(
        ok(&mut s, &format!("(fs:read-file {})", p("ok-link"))),
        Value::String("inside".into())
    );
}

#[test]
fn safe_read_outside_the_scope_is_denied_not_nil() {
    let t = tree();
    let mut s = persist_session(&t);
    denied(
        &mut s,
        &format!("(fs:safe-read {})", qp(&t.outside.join("secret.txt"))),
    );
    // Missing files outside are denials too: no probing of the file system.
    denied(
        &mut s,
        &format!("(fs:safe-read {})", qp(&t.outside.join("missing.txt"))),
    );
    denied(
        &mut s,
        &format!("(fs:safe-read {})", qp(&t.outside.join("no/dir/x"))),
    );
    // A `try` sees the denial as such.
    assert_eq!(
        ok(
            &mut s,
            &format!(
                "(try (fs:safe-read {}) (catch e (error-kind e)))",
                qp(&t.outside.join("secret.txt"))
            )
        ),
        Value::Symbol("capability-denied".into())
    );
    // Inside, a missing file is nil.
    assert_eq!(
        ok(
            &mut s,
            &format!("(fs:safe-read {})", qp(&t.scope.join("missing.txt")))
        ),
        Value::Nil
    );
    // Without any grant: denied.
    s.revoke(Capability::IoPersist);
    denied(
        &mut s,
        &format!("(fs:safe-read {})", qp(&t.scope.join("inside.txt"))),
    );
}

#[test]
fn database_paths_are_scoped_and_never_uris() {
    let t = tree();
    let mut s = persist_session(&t);
    let scope = t.scope.to_str().unwrap();
    denied(
        &mut s,
        &format!(
            "(db:query {} \"create table t(x)\")",
            q(&format!("{scope}/../outside/x.db"))
        ),
    );
    assert!(!t.outside.join("x.db").exists());
    // A `file:` URI is a relative file name (outside the scope here), never a URI.
    let uri = format!("file:{}", t.outside.join("uri.db").display());
    denied(
        &mut s,
        &format!("(db:query {} \"create table t(x)\")", q(&uri)),
    );
    assert!(!t.outside.join("uri.db").exists());
    // URI parameters are part of the file name.
    ok(
        &mut s,
        &format!(
            "(db:query {} \"create table t(x)\")",
            q(&format!("{scope}/plain.db?mode=memory"))
        ),
    );
    assert!(t.scope.join("plain.db?mode=memory").is_file());
}

// ----- SQL -----

#[test]
fn sql_injection_through_parameters_stays_data() {
    let t = tree();
    let mut s = persist_session(&t);
    let db = qp(&t.scope.join("users.db"));
    ok(
        &mut s,
        &format!(r#"(db:query {db} "create table users(name text, age integer)")"#),
    );
    let evil = r#""x'); DROP TABLE users; --""#;
    ok(
        &mut s,
        &format!(r#"(db:query {db} "insert into users values (?, ?)" {evil} 1)"#),
    );
    ok(
        &mut s,
        &format!(
            r#"(db:query {db} "insert into users values (?, ?)" "bob" "2; DELETE FROM users")"#
        ),
    );
    // The injected text is stored verbatim.
    assert_eq!(
        ok(
            &mut s,
            &format!(r#"(db:query {db} "select name from users where name = ?" {evil})"#)
        ),
        Value::List(vec![Value::List(vec![Value::String(
            "x'); DROP TABLE users; --".into()
        )])])
    );
    // A tautology as a parameter matches nothing.
    assert_eq!(
        ok(
            &mut s,
            &format!(r#"(db:query {db} "select name from users where name = ?" "' OR '1'='1")"#)
        ),
        Value::Nil
    );
    // The table still exists and has exactly the two rows.
    assert_eq!(
        ok(
            &mut s,
            &format!(r#"(db:query {db} "select count(*) from users")"#)
        ),
        Value::List(vec![Value::List(vec![Value::Int(2)])])
    );
    assert_eq!(
        ok(
            &mut s,
            &format!(
                r#"(db:query {db} "select count(*) from sqlite_master where name = 'users'")"#
            )
        ),
        Value::List(vec![Value::List(vec![Value::Int(1)])])
    );
}

#[test]
fn attach_vacuum_into_and_extensions_are_refused_as_host_errors() {
    let t = tree();
    let mut s = persist_session(&t);
    let db = qp(&t.scope.join("a.db"));
    ok(&mut s, &format!(r#"(db:query {db} "create table t(x)")"#));
    let out = t.outside.join("copy.db");
    let outs = out.to_str().unwrap().to_string();
    for sql in [
        format!("ATTACH '{outs}' AS o"),
        format!("attach database '{outs}' as o"),
        format!("/* c */ VACUUM INTO '{outs}'"),
        format!("vacuum main into '{outs}'"),
        "SELECT load_extension('/nonexistent/evil.so')".to_string(),
    ] {
        let e = err_kind(
            &mut s,
            &format!("(db:query {db} {})", q(&sql)),
            ErrorKind::Host,
        );
        assert!(!e.message.is_empty());
    }
    // Through a bound parameter too.
    err_kind(
        &mut s,
        &format!(r#"(db:query {db} "ATTACH ? AS o" {})"#, q(&outs)),
        ErrorKind::Host,
    );
    // Inside the scope ATTACH is still refused (it would reach any file).
    err_kind(
        &mut s,
        &format!(
            r#"(db:query {db} {})"#,
            q(&format!("ATTACH '{}' AS o", t.scope.join("b.db").display()))
        ),
        ErrorKind::Host,
    );
    assert!(!out.exists());
    assert!(!t.scope.join("b.db").exists());
}

#[test]
fn two_statements_in_one_call_are_refused() {
    let t = tree();
    let mut s = persist_session(&t);
    let db = qp(&t.scope.join("two.db"));
    ok(
        &mut s,
        &format!(r#"(db:query {db} "create table users(name text)")"#),
    );
    for sql in [
        "create table a(x); drop table users",
        "select 1; select 2",
        "insert into users values ('a'); insert into users values ('b')",
    ] {
        let e = err_kind(
            &mut s,
            &format!("(db:query {db} {})", q(sql)),
            ErrorKind::Host,
        );
        assert!(e.message.contains("one statement"), "{}", e.message);
    }
    // A trigger body holds semicolons, but nothing may follow its END.
    let e = err_kind(
        &mut s,
        &format!(
            "(db:query {db} {})",
            q(
                "create trigger tr after insert on users begin delete from users; end; drop table users"
            )
        ),
        ErrorKind::Host,
    );
    assert!(e.message.contains("one statement"), "{}", e.message);
    // A semicolon inside a string literal is data.
    ok(
        &mut s,
        &format!(r#"(db:query {db} "create table semi(x)")"#),
    );
    ok(
        &mut s,
        &format!(r#"(db:query {db} "insert into semi values ('a; drop table users')")"#),
    );
    ok(&mut s, &format!(r#"(db:query {db} "drop table semi")"#));
    // Nothing of them ran.
    assert_eq!(
        ok(
            &mut s,
            &format!(r#"(db:query {db} "select name from sqlite_master order by name")"#)
        ),
        Value::List(vec![Value::List(vec![Value::String("users".into())])])
    );
    assert_eq!(
        ok(
            &mut s,
            &format!(r#"(db:query {db} "select count(*) from users")"#)
        ),
        Value::List(vec![Value::List(vec![Value::Int(0)])])
    );
}

#[test]
fn a_trigger_cannot_smuggle_extension_loading() {
    let t = tree();
    let mut s = persist_session(&t);
    let db = qp(&t.scope.join("trig.db"));
    ok(&mut s, &format!(r#"(db:query {db} "create table t(x)")"#));
    // Refused when the trigger is created or when it fires; never loaded.
    let created = s.eval_str(
        "test.jue",
        &format!(
            "(db:query {db} {})",
            q("create trigger tr after insert on t begin select load_extension('/nonexistent/evil.so'); end")
        ),
    );
    if let Err(e) = &created {
        assert!(
            matches!(&e, EvalError::Runtime(r) if r.kind == ErrorKind::Host),
            "{e:?}"
        );
    }
    let fired = s.eval_str(
        "test.jue",
        &format!(r#"(db:query {db} "insert into t values (1)")"#),
    );
    match (&created, fired) {
        (Err(_), Ok(_)) => {}
        (Ok(_), Err(EvalError::Runtime(e))) => {
            assert_eq!(e.kind, ErrorKind::Host, "{e:?}");
            assert!(e.message.contains("extension"), "{}", e.message);
        }
        (c, f) => panic!("the trigger loaded an extension: created {c:?}, fired {f:?}"),
    }
}

#[test]
fn an_empty_scope_is_refused_not_widened() {
    let (mut s, _) = session();
    for spec in ["IoNetwork=", "IoNetwork= ", "IoPersist=", "IoPersist= "] {
        let r = s.grant_spec(spec, GrantSource::Host);
        assert!(r.is_err(), "{spec:?} was accepted: {:?}", s.grant_records());
    }
    assert!(s.grants().is_empty(), "{:?}", s.grant_records());
}

#[test]
fn db_parameters_of_other_types_are_type_errors() {
    let t = tree();
    let mut s = persist_session(&t);
    let db = qp(&t.scope.join("p.db"));
    ok(&mut s, &format!(r#"(db:query {db} "create table t(x)")"#));
    for arg in ["'sym", "(list 1 2)", "car", "(lambda () 1)"] {
        err_kind(
            &mut s,
            &format!(r#"(db:query {db} "insert into t values (?)" {arg})"#),
            ErrorKind::Type,
        );
    }
    assert_eq!(
        ok(
            &mut s,
            &format!(r#"(db:query {db} "select count(*) from t")"#)
        ),
        Value::List(vec![Value::List(vec![Value::Int(0)])])
    );
}

// ----- HTTP -----

fn pages(path: &str) -> Reply {
    match path {
        "/ok" => response(
            "200 OK",
            "Content-Type: text/plain\r\n",
            "hello, wörld".as_bytes(),
        ),
        "/missing" => response("404 Not Found", "", b"nope"),
        "/unavailable" => response("503 Service Unavailable", "", b""),
        "/big" => response("200 OK", "", &vec![b'a'; 17 * 1024 * 1024]),
        "/hang" => Reply::Hang,
        "/trickle" => Reply::Trickle,
        p if p.starts_with("/redirect-to-") => {
            let port = &p["/redirect-to-".len()..];
            response(
                "302 Found",
                &format!("Location: http://127.0.0.1:{port}/ok\r\n"),
                b"",
            )
        }
        _ => response("404 Not Found", "", b""),
    }
}

fn http_get(s: &mut Session, url: &str) -> Result<Value, EvalError> {
    s.eval_str("test.jue", &format!("(net:http-get {})", q(url)))
}

#[test]
fn http_200_with_a_port_scoped_grant() {
    let srv = serve(2, pages);
    let (mut s, _) = session();
    grant(&mut s, Capability::IoNetwork, Some(&srv.scope()));
    assert_eq!(
        http_get(&mut s, &srv.url("/ok")).expect("200"),
        Value::String("hello, wörld".into())
    );
    assert_eq!(
        ok(&mut s, &format!("(http:get {})", q(&srv.url("/ok")))),
        Value::String("hello, wörld".into())
    );
    assert_eq!(audited(&s, "net:http-get", Capability::IoNetwork, true), 1);
    assert_eq!(srv.served.load(Ordering::SeqCst), 2);
}

#[test]
fn http_denied_with_a_grant_for_another_port_or_host() {
    let (l, port) = silent_listener();
    let (mut s, _) = session();
    grant(
        &mut s,
        Capability::IoNetwork,
        Some(&format!("127.0.0.1:{}", port.wrapping_add(1).max(1))),
    );
    // Literal comparison: `localhost` is not 127.0.0.1.
    grant(
        &mut s,
        Capability::IoNetwork,
        Some(&format!("localhost:{port}")),
    );
    let url = format!("http://127.0.0.1:{port}/ok");
    let e = denied(&mut s, &format!("(net:http-get {})", q(&url)));
    assert!(
        e.message.contains(&url) || e.message.contains("IoNetwork"),
        "{}",
        e.message
    );
    // Userinfo tricks do not change the host.
    denied(
        &mut s,
        &format!(r#"(net:http-get "http://localhost:{port}@127.0.0.1:{port}/ok")"#),
    );
    assert!(never_connected(&l));
    assert_eq!(audited(&s, "net:http-get", Capability::IoNetwork, false), 2);
}

#[test]
fn http_denied_without_a_grant() {
    let (l, port) = silent_listener();
    let (mut s, _) = session();
    denied(
        &mut s,
        &format!(r#"(net:http-get "http://127.0.0.1:{port}/ok")"#),
    );
    denied(
        &mut s,
        &format!(r#"(http:get "http://127.0.0.1:{port}/ok")"#),
    );
    // Other capabilities do not stand in for IoNetwork.
    grant(&mut s, Capability::IoPersist, None);
    grant(&mut s, Capability::MetaGrant, None);
    denied(
        &mut s,
        &format!(r#"(net:http-get "http://127.0.0.1:{port}/ok")"#),
    );
    assert!(never_connected(&l));
}

#[test]
fn http_redirect_to_a_disallowed_port_is_denied() {
    let (other, other_port) = silent_listener();
    let srv = serve(1, pages);
    let (mut s, _) = session();
    grant(&mut s, Capability::IoNetwork, Some(&srv.scope()));
    let e = denied(
        &mut s,
        &format!(
            "(net:http-get {})",
            q(&srv.url(&format!("/redirect-to-{other_port}")))
        ),
    );
    assert!(e.message.contains(&other_port.to_string()), "{}", e.message);
    assert!(never_connected(&other));
    assert_eq!(srv.served.load(Ordering::SeqCst), 1);
}

#[test]
fn http_body_over_16_mib_is_a_host_error() {
    let srv = serve(1, pages);
    let (mut s, _) = session();
    grant(&mut s, Capability::IoNetwork, Some(&srv.scope()));
    let start = Instant::now();
    let e = err_kind(
        &mut s,
        &format!("(net:http-get {})", q(&srv.url("/big"))),
        ErrorKind::Host,
    );
    assert!(
        e.message.contains("16 MiB") || e.message.contains("16777216"),
        "{}",
        e.message
    );
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn http_non_2xx_status_is_a_host_error_naming_it() {
    let srv = serve(2, pages);
    let (mut s, _) = session();
    grant(&mut s, Capability::IoNetwork, Some(&srv.scope()));
    let e = err_kind(
        &mut s,
        &format!("(net:http-get {})", q(&srv.url("/missing"))),
        ErrorKind::Host,
    );
    assert!(e.message.contains("404"), "{}", e.message);
    let e = err_kind(
        &mut s,
        &format!("(net:http-get {})", q(&srv.url("/unavailable"))),
        ErrorKind::Host,
    );
    assert!(e.message.contains("503"), "{}", e.message);
}

#[test]
fn http_hanging_response_is_bounded_by_the_time_limit() {
    for path in ["/hang", "/trickle"] {
        let srv = serve(1, pages);
        let (mut s, _) = session();
        grant(&mut s, Capability::IoNetwork, Some(&srv.scope()));
        s.limits.timeout_ms = Some(500);
        let start = Instant::now();
        let e = rt_err(&mut s, &format!("(net:http-get {})", q(&srv.url(path))));
        let took = start.elapsed();
        assert!(
            matches!(e.kind, ErrorKind::Host | ErrorKind::Timeout),
            "{path}: {e:?}"
        );
        // The server gives up after 3 s; the client must give up long before.
        assert!(took < Duration::from_millis(1500), "{path} took {took:?}");
    }
}

// ----- tiers -----

#[test]
fn formal_code_calling_an_effectful_function_is_e0201() {
    let (mut s, _) = session();
    let m = compile_error_with(
        &mut s,
        "@formal (define (db-query p) (db:query p \"select 1\"))",
        Code::E0201,
    );
    assert!(m.contains("db:query"), "{m}");
    // The seed's own spelling with `def`.
    compile_error_with(
        &mut s,
        "@formal\n(def db-query (p) (db:query p \"select 1\"))",
        Code::E0201,
    );
    let m = compile_error_with(
        &mut s,
        "@verified (define (http-get u) (net:http-get u))",
        Code::E0201,
    );
    assert!(m.contains("net:http-get"), "{m}");
    compile_error_with(
        &mut s,
        "@verified\n(def http-get (u) (net:http-get u))",
        Code::E0201,
    );
    // Nothing was defined.
    assert!(!s.globals().contains_key("db-query"));
    assert!(!s.globals().contains_key("http-get"));
}

#[test]
fn formal_code_cannot_use_capability_forms() {
    let (mut s, _) = session();
    for text in [
        "@formal (define (f) (require-capability IoNetwork) 1)",
        "(:verified (has-capability? IoNetwork))",
        "@formal (require-capability IoNetwork)",
        "(:formal (require-capability IoNetwork))",
        "@verified (define (g) (has-capability? IoPersist))",
    ] {
        compile_error_with(&mut s, text, Code::E0201);
    }
}

#[test]
fn ffi_call_in_formal_code_is_e0201() {
    let (mut s, _) = session();
    for text in [
        "@formal (define (f) (ffi-call \"fs:read-file\" \"x\"))",
        "@formal (define (f) (ffi-call fs:read-file \"x\"))",
        "@verified (define (f u) (ffi-call 'net:http-get u))",
        "(:formal (ffi-call \"get-wall-clock\"))",
    ] {
        compile_error_with(&mut s, text, Code::E0201);
    }
}

#[test]
fn a_global_alias_of_an_effectful_function_is_tier_checked() {
    let (mut s, _) = session();
    compile_error_with(
        &mut s,
        "(define g fs:read-file)\n@formal (define (f) (g \"x\"))",
        Code::E0201,
    );
}

#[test]
fn formal_code_cannot_lower_its_tier_or_use_effectful_names() {
    let (mut s, _) = session();
    compile_error_with(
        &mut s,
        "@formal (define (g) (:empirical (fs:read-file \"x\")))",
        Code::E0201,
    );
    compile_error_with(&mut s, "@formal (define h fs:read-file)", Code::E0201);
    compile_error_with(&mut s, "(:formal (get-wall-clock))", Code::E0201);
    // Formal code may not call an empirical user function that does I/O either.
    compile_error_with(
        &mut s,
        "(define (io) (fs:read-file \"x\")) @formal (define (k) (io))",
        Code::E0201,
    );
}

#[test]
fn formal_code_reaches_a_capability_only_through_values_and_it_is_still_checked() {
    let (mut s, _) = session();
    ok(&mut s, "@formal (define (apply1 f x) (f x))");
    denied(&mut s, r#"(apply1 fs:read-file "x")"#);
    grant(&mut s, Capability::SysClock, None);
    assert!(matches!(
        ok(&mut s, "(apply1 (lambda (_) (get-wall-clock)) 0)"),
        Value::Int(_)
    ));
}

// ----- host-registered functions -----

fn counted(
    name: &str,
    cap: Option<Capability>,
    params: &[&str],
    ret: &str,
    calls: &Arc<AtomicUsize>,
    f: fn(&[Value]) -> Result<Value, HostError>,
) -> FfiFunction {
    let calls = Arc::clone(calls);
    FfiFunction::new(
        name,
        HostFunction::Custom(100),
        cap,
        params.iter().copied(),
        ret,
        "A test function.",
        SourceLocation::new("ffi_security.rs", 1),
    )
    .with_implementation(move |args| {
        calls.fetch_add(1, Ordering::SeqCst);
        f(args)
    })
}

#[test]
fn a_capability_function_cannot_claim_a_pure_tier() {
    let (mut s, _) = session();
    let calls = Arc::new(AtomicUsize::new(0));
    for tier in [TrustTier::Formal, TrustTier::Verified] {
        let f = counted(
            "sec:read",
            Some(Capability::IoPersist),
            &[],
            "Int",
            &calls,
            |_| Ok(Value::Int(1)),
        )
        .with_tier(tier);
        match s.register_function(f) {
            Err(RegistryError::TierTooHigh {
                name,
                tier: t,
                capability,
            }) => {
                assert_eq!(name, "sec:read");
                assert_eq!(t, tier);
                assert_eq!(capability, Capability::IoPersist);
            }
            other => panic!("expected TierTooHigh at {tier}, got {other:?}"),
        }
    }
    assert!(s.registry().find_function("sec:read").is_none());
    compile_error_with(&mut s, "(sec:read)", Code::E0102);
    // Also through the bare registry.
    let mut r = jue_engine::FfiRegistry::new();
    let f = counted(
        "sec:r",
        Some(Capability::IoNetwork),
        &[],
        "Int",
        &calls,
        |_| Ok(Value::Int(1)),
    )
    .with_tier(TrustTier::Formal);
    assert!(matches!(
        r.register_function(f),
        Err(RegistryError::TierTooHigh { .. })
    ));
    // Empirical and experimental are fine.
    let f = counted(
        "sec:read",
        Some(Capability::IoPersist),
        &[],
        "Int",
        &calls,
        |_| Ok(Value::Int(1)),
    )
    .with_tier(TrustTier::Experimental);
    s.register_function(f).expect("experimental is allowed");
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[test]
fn a_host_function_requiring_a_capability_is_denied_without_the_grant() {
    let (mut s, _) = session();
    let calls = Arc::new(AtomicUsize::new(0));
    s.register_function(counted(
        "sec:sensor",
        Some(Capability::IoReadSensor),
        &["Int"],
        "Int",
        &calls,
        |a| match a {
            [Value::Int(n)] => Ok(Value::Int(n * 2)),
            _ => Err(HostError::host("unreachable")),
        },
    ))
    .expect("register");
    let e = denied(&mut s, "(sec:sensor 21)");
    assert!(e.message.contains("IoReadSensor"), "{}", e.message);
    denied(&mut s, "(ffi-call \"sec:sensor\" 21)");
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    grant(&mut s, Capability::IoReadSensor, None);
    assert_eq!(ok(&mut s, "(sec:sensor 21)"), Value::Int(42));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    s.revoke(Capability::IoReadSensor);
    denied(&mut s, "(sec:sensor 21)");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        audited(&s, "sec:sensor", Capability::IoReadSensor, false),
        3
    );
    assert_eq!(audited(&s, "sec:sensor", Capability::IoReadSensor, true), 1);
}

#[test]
fn a_host_closure_error_becomes_kind_host() {
    let (mut s, _) = session();
    let calls = Arc::new(AtomicUsize::new(0));
    s.register_function(counted("sec:fail", None, &[], "Int", &calls, |_| {
        Err(HostError::host("disk on fire"))
    }))
    .expect("register");
    let e = err_kind(&mut s, "(sec:fail)", ErrorKind::Host);
    assert!(e.message.contains("disk on fire"), "{}", e.message);
    assert_eq!(
        ok(
            &mut s,
            "(try (sec:fail) (catch e (list (error-kind e) (error-message e))))"
        ),
        Value::List(vec![
            Value::Symbol("host".into()),
            Value::String("disk on fire".into())
        ])
    );
    // A plain message converts to a host error as well.
    s.register_function(counted("sec:fail2", None, &[], "Int", &calls, |_| {
        Err("plain".into())
    }))
    .expect("register");
    err_kind(&mut s, "(sec:fail2)", ErrorKind::Host);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[test]
fn a_host_closure_never_sees_a_wrong_typed_argument() {
    let (mut s, _) = session();
    let calls = Arc::new(AtomicUsize::new(0));
    let seen_wrong = Arc::new(AtomicUsize::new(0));
    let wrong = Arc::clone(&seen_wrong);
    let c = Arc::clone(&calls);
    s.register_function(
        FfiFunction::new(
            "sec:inc",
            HostFunction::Custom(100),
            None,
            ["Int"],
            "Int",
            "Adds one.",
            SourceLocation::default(),
        )
        .with_implementation(move |a| {
            c.fetch_add(1, Ordering::SeqCst);
            match a {
                [Value::Int(n)] => Ok(Value::Int(n + 1)),
                _ => {
                    wrong.fetch_add(1, Ordering::SeqCst);
                    Err(HostError::host("wrong argument reached the host"))
                }
            }
        }),
    )
    .expect("register");
    // Statically known: a compile error.
    compile_error_with(&mut s, "(sec:inc \"s\")", Code::E0104);
    compile_error_with(&mut s, "(sec:inc 1.5)", Code::E0104);
    compile_error_with(&mut s, "(sec:inc 1 2)", Code::E0103);
    // Not known statically: a run-time type error, and the closure is not called.
    ok(
        &mut s,
        "(define (call-it x) (sec:inc x)) (define f sec:inc)",
    );
    for arg in [
        "\"s\"",
        "1.5",
        "nil",
        "'sym",
        "(list 1)",
        "(lambda () 1)",
        "true",
    ] {
        err_kind(&mut s, &format!("(call-it {arg})"), ErrorKind::Type);
    }
    err_kind(&mut s, "(f \"s\")", ErrorKind::Type);
    // `f` is an alias of a known function: a wrong count is caught statically ...
    compile_error_with(&mut s, "(f 1 2)", Code::E0103);
    // ... and through a value at run time.
    err_kind(&mut s, "((car (list f)) 1 2)", ErrorKind::Arity);
    err_kind(&mut s, "((car (list f)))", ErrorKind::Arity);
    err_kind(&mut s, "(map sec:inc (list 1 \"two\"))", ErrorKind::Type);
    assert_eq!(seen_wrong.load(Ordering::SeqCst), 0);
    let before = calls.load(Ordering::SeqCst);
    assert_eq!(before, 1, "only the first map element reached the host");
    assert_eq!(ok(&mut s, "(call-it 41)"), Value::Int(42));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn a_host_closure_returning_a_value_its_signature_refuses_is_a_host_error() {
    let (mut s, _) = session();
    let calls = Arc::new(AtomicUsize::new(0));
    s.register_function(counted("sec:liar", None, &[], "Int", &calls, |_| {
        Ok(Value::String("not an int".into()))
    }))
    .expect("register");
    s.register_function(counted("sec:proc", None, &[], "Any", &calls, |_| {
        Ok(Value::Procedure("#<fn evil/0>".into()))
    }))
    .expect("register");
    err_kind(&mut s, "(sec:liar)", ErrorKind::Host);
    // A procedure cannot cross into Jue: no handle or pointer is made up.
    err_kind(&mut s, "(sec:proc)", ErrorKind::Host);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn registry_json_entries_never_run_and_never_drop_a_capability() {
    let (mut s, _) = session();
    let json = r#"{"functions": [
      {"name": "json:clock", "parameter_types": [], "return_type": "Int",
       "required_capability": null, "tier": "empirical", "documentation": "", "host_function": 2, "location": null},
      {"name": "json:sensor", "parameter_types": [], "return_type": "Float",
       "required_capability": null, "tier": "empirical", "documentation": "", "host_function": 0, "location": null},
      {"name": "get-wall-clock", "parameter_types": [], "return_type": "Int",
       "required_capability": null, "tier": "empirical", "documentation": "", "host_function": 2, "location": null}
    ]}"#;
    assert_eq!(s.load_registry_json(json).expect("valid registry JSON"), 3);
    // Entries loaded from files serve checking only: calling one is an error, and
    // none of them reads the clock or a sensor without the capability.
    for text in ["(json:clock)", "(json:sensor)", "(get-wall-clock)"] {
        let e = rt_err(&mut s, text);
        assert!(
            matches!(e.kind, ErrorKind::Host | ErrorKind::CapabilityDenied),
            "{text} ran without SysClock/IoReadSensor: {e:?}"
        );
    }
}

#[test]
fn every_allowed_check_is_audited_even_when_the_call_then_fails() {
    let t = tree();
    let mut s = persist_session(&t);
    ok(&mut s, "(define (r x) (fs:read-file x))");
    err_kind(&mut s, "(r 5)", ErrorKind::Type);
    assert_eq!(audited(&s, "fs:read-file", Capability::IoPersist, true), 1);
}

// ----- limits -----

#[test]
fn resource_extra_time_raises_the_time_limit() {
    let (mut s, _) = session();
    grant(&mut s, Capability::SysClock, None);
    ok(&mut s, WAIT);
    s.limits.timeout_ms = Some(100);
    let start = Instant::now();
    err_kind(&mut s, "(wait 300)", ErrorKind::Timeout);
    assert!(
        start.elapsed() < Duration::from_millis(290),
        "{:?}",
        start.elapsed()
    );
    grant(&mut s, Capability::ResourceExtraTime, Some("5000"));
    assert_eq!(ok(&mut s, "(wait 300)"), Value::Symbol("done".into()));
    s.revoke(Capability::ResourceExtraTime);
    err_kind(&mut s, "(wait 300)", ErrorKind::Timeout);
    // An amount is required and must be a number.
    assert!(
        s.grant(Capability::ResourceExtraTime, None, GrantSource::Host)
            .is_err()
    );
    assert!(
        s.grant(
            Capability::ResourceExtraTime,
            Some("lots"),
            GrantSource::Host
        )
        .is_err()
    );
    assert!(
        s.grant_spec("ResourceExtraTime=-5", GrantSource::Host)
            .is_err()
    );
    assert!(!s.grants().contains(Capability::ResourceExtraTime));
}

#[test]
fn resource_extra_memory_raises_the_memory_limit() {
    let (mut s, _) = session();
    ok(
        &mut s,
        "(define (build n acc) (if (= n 0) acc (build (- n 1) (cons n acc))))",
    );
    s.limits.memory = 2 << 20;
    err_kind(
        &mut s,
        "(length (build 200000 nil))",
        ErrorKind::MemoryLimit,
    );
    // Not catchable either.
    err_kind(
        &mut s,
        "(try (length (build 200000 nil)) (catch e 0))",
        ErrorKind::MemoryLimit,
    );
    s.grant_spec("ResourceExtraMemory=67108864", GrantSource::Host)
        .expect("grant");
    assert_eq!(
        ok(&mut s, "(length (build 200000 nil))"),
        Value::Int(200_000)
    );
    s.revoke(Capability::ResourceExtraMemory);
    err_kind(
        &mut s,
        "(length (build 200000 nil))",
        ErrorKind::MemoryLimit,
    );
    assert!(
        s.grant(Capability::ResourceExtraMemory, None, GrantSource::Host)
            .is_err()
    );
}

#[test]
fn experimental_code_runs_under_its_caps_whatever_the_options_say() {
    let (mut s, _) = session();
    s.limits.steps = u64::MAX;
    let e = rt_err(
        &mut s,
        "@experimental (define (spin n) (if (= n 0) 0 (spin (- n 1))))\n(:experimental (spin 100000000))",
    );
    assert_eq!(e.kind, ErrorKind::StepLimit, "{e:?}");
}

#[test]
fn the_time_limit_counts_from_the_start_of_the_evaluation() {
    let (mut s, _) = session();
    grant(&mut s, Capability::SysClock, None);
    ok(&mut s, WAIT);
    s.limits.timeout_ms = Some(300);
    let start = Instant::now();
    // Four forms of 150 ms each: the evaluation takes 600 ms, twice its limit.
    let r = s.eval_str("test.jue", "(wait 150) (wait 150) (wait 150) (wait 150)");
    match r {
        Err(EvalError::Runtime(e)) => assert_eq!(e.kind, ErrorKind::Timeout, "{e:?}"),
        other => panic!(
            "expected a timeout after 300 ms, got {other:?} after {:?}",
            start.elapsed()
        ),
    }
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn the_step_limit_counts_from_the_start_of_the_evaluation() {
    let (mut s, _) = session();
    ok(&mut s, "(define (count n) (if (= n 0) 0 (count (- n 1))))");
    ok(&mut s, "(count 10000)");
    let per_form = s.steps_used();
    assert!(per_form > 1000, "{per_form}");
    // Each form alone fits; together they take three times the limit.
    s.limits.steps = per_form * 2;
    assert_eq!(ok(&mut s, "(count 10000)"), Value::Int(0));
    let e = rt_err(
        &mut s,
        "(count 10000) (count 10000) (count 10000) (count 10000) (count 10000) (count 10000)",
    );
    assert_eq!(e.kind, ErrorKind::StepLimit, "{e:?}");
}

//! `has-capability?` guards (language §8, docs/decisions.md "Capability guards"):
//! a use of C on a branch that runs only when `(has-capability? C)` was true is
//! no W0301, adds nothing to what the input or the enclosing definition needs;
//! and a session's inferred needs follow redefinitions down as well as up.

use jue_engine::{CapSet, Capability, Code, GrantSource, Session, SourceFile, Value};

fn src(text: &str) -> SourceFile {
    SourceFile::new("test.jue", text)
}

/// The W0301 diagnostics of `text` (a file), as the text they point at.
fn w0301(s: &Session, text: &str) -> Vec<String> {
    s.check(&src(text))
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::W0301)
        .map(|d| text[d.span.start as usize..d.span.end as usize].to_string())
        .collect()
}

fn input_needs(s: &Session, text: &str) -> CapSet {
    s.check(&src(text)).input_needs
}

fn needs_of_definition(s: &Session, text: &str, name: &str) -> CapSet {
    let an = s.check(&src(text));
    assert!(!an.has_errors(), "{text}: {:#?}", an.diagnostics);
    an.definitions
        .iter()
        .find(|d| d.name == name)
        .unwrap_or_else(|| panic!("no definition {name}"))
        .needs
}

fn clock() -> CapSet {
    [Capability::SysClock].into_iter().collect()
}

#[test]
fn guarded_branches_are_not_uses() {
    let s = Session::new();
    for text in [
        "(if (has-capability? 'SysClock) (get-wall-clock) 0)",
        "(if (has-capability? SysClock) (get-wall-clock))",
        "(when (has-capability? 'SysClock) (println 1) (get-wall-clock))",
        "(if (not (has-capability? 'SysClock)) 0 (get-wall-clock))",
        "(unless (not (has-capability? 'SysClock)) (get-wall-clock))",
        "(cond ((has-capability? 'SysClock) (get-wall-clock)) (else 0))",
        "(cond ((not (has-capability? 'SysClock)) 0) (else (get-wall-clock)))",
        "(and (has-capability? 'SysClock) (get-wall-clock))",
        "(or (not (has-capability? 'SysClock)) (get-wall-clock))",
        "(if (and (has-capability? 'IoNetwork) (has-capability? 'SysClock)) (get-wall-clock))",
        "(if (has-capability? 'SysClock) (let ((t (get-wall-clock))) t))",
        // Nested code written on the branch is guarded too.
        "(if (has-capability? 'SysClock) ((lambda () (get-wall-clock))))",
    ] {
        assert_eq!(w0301(&s, text), Vec::<String>::new(), "{text}");
        assert_eq!(input_needs(&s, text), CapSet::EMPTY, "{text}");
    }
}

#[test]
fn unguarded_branches_still_warn_and_need() {
    let s = Session::new();
    for text in [
        // The wrong branch.
        "(if (has-capability? 'SysClock) 0 (get-wall-clock))",
        "(if (not (has-capability? 'SysClock)) (get-wall-clock))",
        "(unless (has-capability? 'SysClock) (get-wall-clock))",
        // Another capability's guard.
        "(if (has-capability? 'IoNetwork) (get-wall-clock))",
        // The test itself, and what comes before the guard.
        "(and (get-wall-clock) (has-capability? 'SysClock))",
        "(or (has-capability? 'SysClock) (get-wall-clock))",
        // Only one of the tests of `or` held.
        "(if (or (has-capability? 'IoNetwork) (has-capability? 'SysClock)) (get-wall-clock))",
        // A later clause after a guard that held is not guarded.
        "(cond ((has-capability? 'SysClock) 0) (else (get-wall-clock)))",
        // After the `if`, nothing is guarded.
        "(begin (if (has-capability? 'SysClock) 1) (get-wall-clock))",
    ] {
        assert_eq!(
            w0301(&s, text),
            vec!["get-wall-clock".to_string()],
            "{text}"
        );
        assert_eq!(input_needs(&s, text), clock(), "{text}");
    }
}

#[test]
fn a_guarded_call_of_a_function_needs_nothing_of_the_guarded_capability() {
    let s = Session::new();
    let text = "(define (now) (get-wall-clock))\n\
                (define (safe-now) (if (has-capability? 'SysClock) (now) 0))\n\
                (define (via-safe) (safe-now))\n\
                (define (local) (let ((g (lambda () (now)))) (when (has-capability? 'SysClock) (g))))\n\
                (via-safe)";
    assert_eq!(needs_of_definition(&s, text, "now"), clock());
    assert_eq!(needs_of_definition(&s, text, "safe-now"), CapSet::EMPTY);
    assert_eq!(needs_of_definition(&s, text, "via-safe"), CapSet::EMPTY);
    assert_eq!(needs_of_definition(&s, text, "local"), CapSet::EMPTY);
    assert_eq!(input_needs(&s, text), CapSet::EMPTY);
    // The one W0301 is the unguarded use in `now`.
    assert_eq!(w0301(&s, text), vec!["get-wall-clock".to_string()]);
    // A guard on another capability leaves the need.
    let other = "(define (now) (get-wall-clock))\n\
                 (define (f) (if (has-capability? 'IoNetwork) (now) 0))";
    assert_eq!(needs_of_definition(&s, other, "f"), clock());
}

#[test]
fn guarded_code_runs_by_the_grant() {
    let mut s = Session::new();
    let text = "(if (has-capability? 'SysClock) (> (get-wall-clock) 0) 'no-clock)";
    let v = s.eval(src(text)).expect("runs without the grant");
    assert_eq!(v, Value::Symbol("no-clock".into()));
    s.grant(Capability::SysClock, None, GrantSource::Host)
        .expect("grant");
    let v = s.eval(src(text)).expect("runs with the grant");
    assert_eq!(v, Value::Bool(true));
}

/// The session's view of a global's needs (what `:doc` and the prompt read).
fn session_needs(s: &Session, name: &str) -> CapSet {
    s.globals()
        .get(name)
        .unwrap_or_else(|| panic!("no global {name}"))
        .needs
}

fn repl() -> Session {
    let mut s = Session::new();
    s.set_repl_mode(true);
    s
}

fn define(s: &mut Session, text: &str) {
    s.eval(src(text))
        .unwrap_or_else(|e| panic!("{text}: {e:?}"));
}

#[test]
fn needs_shrink_when_a_definition_stops_using_a_capability() {
    let mut s = repl();
    define(&mut s, "(define (now) (get-wall-clock))");
    define(&mut s, "(define (stamp) (now))");
    define(&mut s, "(define (log-line) (stamp))");
    assert_eq!(session_needs(&s, "log-line"), clock());
    // Redefined without the clock: it and every caller drop SysClock.
    define(&mut s, "(define (now) 42)");
    assert_eq!(session_needs(&s, "now"), CapSet::EMPTY);
    assert_eq!(session_needs(&s, "stamp"), CapSet::EMPTY);
    assert_eq!(session_needs(&s, "log-line"), CapSet::EMPTY);
    assert_eq!(input_needs(&s, "(log-line)"), CapSet::EMPTY);
    // And back.
    define(&mut s, "(define (now) (get-wall-clock))");
    assert_eq!(session_needs(&s, "log-line"), clock());
    assert_eq!(input_needs(&s, "(log-line)"), clock());
    // Redefined behind a guard: needs nothing again.
    define(
        &mut s,
        "(define (now) (if (has-capability? 'SysClock) (get-wall-clock) 0))",
    );
    assert_eq!(session_needs(&s, "log-line"), CapSet::EMPTY);
}

#[test]
fn needs_follow_recursion_and_later_definitions() {
    let mut s = repl();
    // Mutually recursive through the session: both need the clock, then neither.
    define(
        &mut s,
        "(define (ping n) (if (= n 0) (get-wall-clock) (pong (- n 1))))",
    );
    define(&mut s, "(define (pong n) (ping n))");
    assert_eq!(session_needs(&s, "pong"), clock());
    define(&mut s, "(define (ping n) (if (= n 0) 0 (pong (- n 1))))");
    assert_eq!(session_needs(&s, "ping"), CapSet::EMPTY);
    assert_eq!(session_needs(&s, "pong"), CapSet::EMPTY);
    // A caller written before its callee exists learns the callee's needs.
    define(&mut s, "(define (report) (later))");
    assert_eq!(session_needs(&s, "report"), CapSet::EMPTY);
    define(&mut s, "(define (later) (get-wall-clock))");
    assert_eq!(session_needs(&s, "report"), clock());
    // `:reset` forgets it all.
    s.reset_definitions();
    define(&mut s, "(define (later) 1)");
    assert_eq!(session_needs(&s, "later"), CapSet::EMPTY);
}

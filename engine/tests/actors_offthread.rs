//! What runs off the VM thread beside other actors (language §6, §9, §10):
//! SQLite queries and sensor calls made by actors run on worker threads, bounded
//! by the deadline and by Ctrl-C; an embedder's blocking closure there gets the
//! scope of its grant and the session's shared data, cannot call Jue back, and
//! a scope denial inside it is audited as denied.

use jue_engine::ffi::{FfiFunction, HostFunction, SourceLocation, Value as HostValue};
use jue_engine::{Capability, ErrorKind, EvalError, GrantSource, HostError, Limits, Session};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A path as a Jue string literal.
fn lit(p: &Path) -> String {
    format!("{:?}", p.to_str().expect("utf-8 path"))
}

/// Registers `name`, a capability-free blocking host function of `params`
/// giving an Int: it sleeps 20 ms (so that it runs off the VM thread while
/// other actors live), then returns `f(args)`.
fn register_slow<const N: usize>(
    s: &mut Session,
    name: &str,
    params: [&str; N],
    f: impl Fn(&[HostValue]) -> Result<HostValue, HostError> + Send + Sync + 'static,
) {
    let func = FfiFunction::new(
        name,
        HostFunction::Custom(100),
        None,
        params,
        "Int",
        "Computes slowly.",
        SourceLocation::default(),
    )
    .with_implementation(move |args: &[HostValue]| {
        std::thread::sleep(Duration::from_millis(20));
        f(args)
    })
    .with_blocking(true);
    s.register_function(func).expect("registers");
}

/// The items of a list value, printed and sorted (actors finish in any order).
fn sorted_items(v: HostValue) -> Vec<String> {
    let HostValue::List(items) = v else {
        panic!("not a list: {v:?}")
    };
    let mut got: Vec<String> = items.iter().map(|x| format!("{x:?}")).collect();
    got.sort();
    got
}

/// A session granting actors, the clock and the directory `root`.
fn session(root: &Path) -> Session {
    let mut s = Session::new();
    for c in [Capability::SysCreateActor, Capability::SysClock] {
        s.grant(c, None, GrantSource::CommandLine).expect("grant");
    }
    s.grant(
        Capability::IoPersist,
        root.to_str(),
        GrantSource::CommandLine,
    )
    .expect("grant dir");
    s
}

/// A statement counting to `n` with a recursive CTE: slow for large `n`.
fn count_to(n: u64) -> String {
    format!(
        "\"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {n}) SELECT count(*) FROM c\""
    )
}

/// Runs `program`, which must fail with `kind`; its host calls must all have
/// ended within `ms` of its start, and the session must stay usable.
fn stops_within(s: &mut Session, program: &str, kind: ErrorKind, ms: u64) {
    let t = Instant::now();
    match s.eval_str("long.jue", program) {
        Err(EvalError::Runtime(e)) => assert_eq!(e.kind, kind, "{e:?}"),
        other => panic!("{other:?}"),
    }
    s.finish_host_calls();
    assert!(t.elapsed() < Duration::from_millis(ms), "{:?}", t.elapsed());
    assert_eq!(
        s.eval_str("after", "(+ 1 2)").expect("usable"),
        HostValue::Int(3)
    );
}

#[test]
fn slow_queries_of_several_actors_overlap_in_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = std::fs::canonicalize(dir.path()).expect("root");
    let mut s = session(&root);
    // Each actor times its own query (on its own file: statements on one file
    // take turns) and sends (start end count) back.
    let program = format!(
        "(define (q i to)
           (let ((t0 (get-wall-clock))
                 (rows (db:query (string-append {dir} \"/db\" (number->string i) \".sqlite\") {sql})))
             (send to (list t0 (get-wall-clock) (car (car rows))))))
         (define (start n) (when (> n 0) (spawn q n (self)) (start (- n 1))))
         (define (gather n acc) (if (= n 0) acc (gather (- n 1) (cons (receive) acc))))
         (start 4)
         (gather 4 '())",
        dir = lit(&root),
        sql = count_to(300_000),
    );
    let v = s.eval_str("queries.jue", &program).expect("runs");
    let HostValue::List(items) = v else {
        panic!("a list: {v:?}")
    };
    let mut spans = Vec::new();
    for it in &items {
        let HostValue::List(x) = it else {
            panic!("{it:?}")
        };
        let (HostValue::Int(a), HostValue::Int(b), HostValue::Int(n)) = (&x[0], &x[1], &x[2])
        else {
            panic!("{x:?}")
        };
        assert_eq!(*n, 300_000);
        spans.push((*a, *b));
    }
    // On the VM thread one query would end before the next actor began its
    // own: here every query starts before the first one ends.
    let last_start = spans.iter().map(|s| s.0).max().expect("spans");
    let first_end = spans.iter().map(|s| s.1).min().expect("spans");
    assert!(
        last_start < first_end,
        "the queries did not overlap: {spans:?}"
    );
    // The main actor goes on while they run: it ends before they do.
    let t = Instant::now();
    let v = s
        .eval_str(
            "bg.jue",
            &format!(
                "(define (bg) (db:query (string-append {} \"/bg.sqlite\") {}))
                 (spawn bg) (spawn bg)
                 (define (spin n) (if (= n 0) 'ok (spin (- n 1)))) (spin 10000)",
                lit(&root),
                count_to(2_000_000)
            ),
        )
        .expect("runs");
    assert_eq!(v, HostValue::Symbol("ok".into()));
    let states: Vec<&str> = s.actors().iter().map(|a| a.state.name()).collect();
    assert!(
        states.contains(&"in host call"),
        "{states:?} after {:?}",
        t.elapsed()
    );
    s.finish_host_calls();
}

#[test]
fn the_deadline_stops_long_queries_running_off_the_vm_thread() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = std::fs::canonicalize(dir.path()).expect("root");
    let mut s = session(&root);
    s.limits = Limits {
        timeout_ms: Some(300),
        ..Limits::DEFAULT
    };
    let program = format!(
        "(define (q i) (db:query (string-append {} \"/db\" (number->string i) \".sqlite\") {}))
         (define a (spawn q 1)) (define b (spawn q 2))
         (await a)",
        lit(&root),
        count_to(1_000_000_000_000)
    );
    // The queries saw the deadline too: nothing is left running.
    stops_within(&mut s, &program, ErrorKind::Timeout, 1_500);
}

#[test]
fn an_interrupt_stops_queries_running_off_the_vm_thread() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = std::fs::canonicalize(dir.path()).expect("root");
    let mut s = session(&root);
    s.limits = Limits {
        timeout_ms: None,
        ..Limits::DEFAULT
    };
    let stop = s.interrupt();
    let raiser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        stop.raise();
    });
    let program = format!(
        "(define (q i) (db:query (string-append {} \"/db\" (number->string i) \".sqlite\") {}))
         (define a (spawn q 1)) (spawn q 2)
         (await a)",
        lit(&root),
        count_to(1_000_000_000_000)
    );
    // The interrupt reached the queries on their worker threads.
    stops_within(&mut s, &program, ErrorKind::Interrupted, 2_000);
    raiser.join().expect("raiser");
}

#[test]
fn queries_of_actors_on_one_file_take_turns_and_lose_no_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = std::fs::canonicalize(dir.path()).expect("root");
    let mut s = session(&root);
    let db = format!("(string-append {} \"/shared.sqlite\")", lit(&root));
    s.eval_str(
        "setup",
        &format!("(db:query {db} \"CREATE TABLE t (x INTEGER)\")"),
    )
    .expect("creates");
    let v = s
        .eval_str(
            "writers.jue",
            &format!(
                "(define (w i to) (db:query {db} \"INSERT INTO t VALUES (?)\" i) (send to i))
                 (define (start n) (when (> n 0) (spawn w n (self)) (start (- n 1))))
                 (define (gather n) (when (> n 0) (receive) (gather (- n 1))))
                 (start 8) (gather 8)
                 (db:query {db} \"SELECT count(*), sum(x) FROM t\")"
            ),
        )
        .expect("runs");
    assert_eq!(
        v,
        HostValue::List(vec![HostValue::List(vec![
            HostValue::Int(8),
            HostValue::Int(36)
        ])])
    );
}

#[test]
fn sensor_and_actuator_calls_of_actors_run_beside_them() {
    let mut s = Session::new();
    for c in [
        Capability::SysCreateActor,
        Capability::IoReadSensor,
        Capability::IoWriteActuator,
    ] {
        s.grant(c, None, GrantSource::CommandLine).expect("grant");
    }
    s.sensors().set_sensor("temp", 21.5);
    s.sensors().set_sensor("default", 2.0);
    let v = s
        .eval_str(
            "sensors.jue",
            "(define (r to) (send to (fadd (io:sensor:read 'temp) (read-sensor))))
             (define (w to) (io:actuator:write 'valve 0.5) (send to (write-actuator 1.0)))
             (spawn r (self)) (spawn w (self)) (spawn r (self))
             (list (receive) (receive) (receive))",
        )
        .expect("runs");
    let got = sorted_items(v);
    assert_eq!(got, ["Bool(true)", "Float(23.5)", "Float(23.5)"]);
    assert_eq!(
        s.sensors().actuators(),
        vec![
            ("default".to_string(), 1.0, 1),
            ("valve".to_string(), 0.5, 1)
        ]
    );
    // Each call was checked and audited once, allowed.
    let counts = s.audit().counts();
    let n = |f: &str| {
        counts
            .iter()
            .filter(|c| c.0 == f && c.2)
            .map(|c| c.3.count)
            .sum::<u64>()
    };
    assert_eq!(n("io:sensor:read"), 2);
    assert_eq!(n("read-sensor"), 2);
    assert_eq!(n("io:actuator:write"), 1);
}

/// What the test's shared data counts.
struct Calls(AtomicUsize);

#[test]
fn an_off_thread_closure_gets_its_grants_scope_and_shared_data_but_no_callback() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = std::fs::canonicalize(dir.path()).expect("root");
    std::fs::write(root.join("in.txt"), "inside").expect("write");
    let outside = tempfile::tempdir().expect("tempdir");
    let out_file = std::fs::canonicalize(outside.path())
        .expect("outside")
        .join("out.txt");
    std::fs::write(&out_file, "outside").expect("write");
    let mut s = session(&root);
    s.set_shared_data(Calls(AtomicUsize::new(0)));
    s.set_host_data(7_u32);
    let f = FfiFunction::new(
        "test:read",
        HostFunction::Custom(100),
        Capability::IoPersist,
        ["String"],
        "String",
        "Reads a file beneath the IoPersist scope, off the VM thread.",
        SourceLocation::default(),
    )
    .with_context_implementation(|cx, args| {
        let calls = cx
            .shared_data::<Calls>()
            .ok_or_else(|| HostError::host("no shared data"))?;
        calls.0.fetch_add(1, Ordering::SeqCst);
        // Per-session host data stays on the VM thread.
        let data = cx.host_data::<u32>().copied();
        if cx.off_thread() != data.is_none() {
            return Err(HostError::host("host data off the VM thread"));
        }
        let HostValue::String(p) = &args[0] else {
            return Err(HostError::type_error("a path"));
        };
        cx.read_file(p).map(HostValue::String)
    })
    .with_blocking(true);
    s.register_function(f).expect("registers");
    let g = FfiFunction::new(
        "test:call-back",
        HostFunction::Custom(101),
        None,
        ["Fn"],
        "Any",
        "Calls its argument back.",
        SourceLocation::default(),
    )
    .with_context_implementation(|cx, args| {
        let HostValue::Function(f) = &args[0] else {
            return Err(HostError::type_error("a procedure"));
        };
        cx.call(f, &[])
    })
    .with_blocking(true);
    s.register_function(g).expect("registers");
    let inside = lit(&root.join("in.txt"));
    let outside_lit = lit(&out_file);
    let v = s
        .eval_str(
            "scope.jue",
            &format!(
                "(define (r p to) (send to (try (test:read p) (catch e (error-kind e)))))
                 (spawn r {inside} (self)) (spawn r {outside_lit} (self))
                 (list (receive) (receive))"
            ),
        )
        .expect("runs");
    let HostValue::List(got) = v else {
        panic!("{v:?}")
    };
    assert!(got.contains(&HostValue::String("inside".into())), "{got:?}");
    assert!(
        got.contains(&HostValue::Symbol("capability-denied".into())),
        "{got:?}"
    );
    assert_eq!(
        s.shared_data::<Calls>()
            .expect("shared")
            .0
            .load(Ordering::SeqCst),
        2
    );
    // The audit says what happened off the VM thread: one allowed, one denied
    // (naming the path).
    let recent: Vec<_> = s
        .audit()
        .recent()
        .filter(|r| r.function == "test:read")
        .collect();
    assert_eq!(recent.len(), 2, "{recent:?}");
    assert_eq!(recent.iter().filter(|r| r.allowed).count(), 1, "{recent:?}");
    let denied = recent.iter().find(|r| !r.allowed).expect("a denial");
    assert!(
        denied
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("out.txt")),
        "{denied:?}"
    );
    // On the VM thread (no other actor) it reads too, with its host data.
    assert_eq!(
        s.eval_str("main", &format!("(test:read {inside})"))
            .expect("reads"),
        HostValue::String("inside".into())
    );
    // A call back into Jue is refused off the VM thread, allowed on it.
    assert_eq!(
        s.eval_str("cb", "(test:call-back (lambda () 5))")
            .expect("calls back"),
        HostValue::Int(5)
    );
    match s.eval_str("cb2", "(spawn sleep 200) (test:call-back (lambda () 5))") {
        Err(EvalError::Runtime(e)) => {
            assert_eq!(e.kind, ErrorKind::Host);
            assert!(
                e.message.contains("cannot call Jue procedures back"),
                "{e:?}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_off_thread_result_is_checked_and_widened_as_on_the_vm_thread() {
    let mut s = Session::new();
    s.grant(Capability::SysCreateActor, None, GrantSource::CommandLine)
        .expect("grant");
    for (id, name, ret) in [
        (100, "test:two", HostValue::Int(2)),
        (101, "test:text", HostValue::String("x".into())),
    ] {
        let f = FfiFunction::new(
            name,
            HostFunction::Custom(id),
            None,
            Vec::<String>::new(),
            "Float",
            "Gives a value for a Float.",
            SourceLocation::default(),
        )
        .with_implementation(move |_: &[HostValue]| Ok(ret.clone()))
        .with_blocking(true);
        s.register_function(f).expect("registers");
    }
    // Another actor lives, so these calls run on a worker thread.
    assert_eq!(
        s.eval_str("w", "(spawn sleep 100) (test:two)")
            .expect("widens"),
        HostValue::Float(2.0)
    );
    match s.eval_str("t", "(spawn sleep 100) (test:text)") {
        Err(EvalError::Runtime(e)) => {
            assert_eq!(e.kind, ErrorKind::Host);
            assert!(e.message.contains("signature does not allow"), "{e:?}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_off_thread_call_of_two_locals_resumes_into_its_result_register() {
    let mut s = Session::new();
    s.grant(Capability::SysCreateActor, None, GrantSource::CommandLine)
        .expect("grant");
    register_slow(&mut s, "test:mix", ["Int", "Int"], |args| match args {
        [HostValue::Int(a), HostValue::Int(b)] => Ok(HostValue::Int(a * 10 + b)),
        _ => Err(HostError::type_error("two Ints")),
    });
    // Each actor's arguments are its own locals (`CallFfi2`); its result lands in
    // the register after which it goes on, its locals unchanged.
    let v = s
        .eval_str(
            "mix.jue",
            "(define (r a b to) (let ((m (test:mix a b))) (send to (list m a b))))
             (spawn r 1 2 (self)) (spawn r 3 4 (self))
             (list (receive) (receive))",
        )
        .expect("runs");
    let got = sorted_items(v);
    assert_eq!(
        got,
        [
            "List([Int(12), Int(1), Int(2)])",
            "List([Int(34), Int(3), Int(4)])"
        ]
    );
}

#[test]
fn an_off_thread_call_through_a_global_resumes_into_its_result_register() {
    let mut s = Session::new();
    s.grant(Capability::SysCreateActor, None, GrantSource::CommandLine)
        .expect("grant");
    register_slow(&mut s, "test:slow-inc", ["Int"], |args| match args {
        [HostValue::Int(n)] => Ok(HostValue::Int(n + 1)),
        _ => Err(HostError::type_error("an Int")),
    });
    // `inc` is a global holding the host function: the call reads it at the
    // call (`CallGlobal`), runs off the thread, and resumes into the register
    // the rest of the body reads.
    let v = s
        .eval_str(
            "inc.jue",
            "(define inc test:slow-inc)
             (define (r n to) (let ((m (inc n))) (send to (list m n))))
             (spawn r 1 (self)) (spawn r 10 (self))
             (list (receive) (receive))",
        )
        .expect("runs");
    let got = sorted_items(v);
    assert_eq!(got, ["List([Int(11), Int(10)])", "List([Int(2), Int(1)])"]);
}

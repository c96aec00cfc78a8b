//! The Rust embedding API of issue 14: handles across collections, host
//! functions with a context (scopes, callbacks, host data, panics), typed
//! registration.

use jue_engine::{
    Capability, ErrorKind, EvalError, FfiFunction, Function, GrantSource, HostError, HostFunction,
    Session, SourceLocation, TrustTier, Value,
};

fn session() -> Session {
    Session::with_output(jue_engine::vm::output::Output::new(Box::new(
        std::io::sink(),
    )))
}

fn kind<T: std::fmt::Debug>(r: Result<T, EvalError>) -> ErrorKind {
    match r {
        Err(EvalError::Runtime(e)) => e.kind,
        other => panic!("expected a runtime error, got {other:?}"),
    }
}

/// Allocates enough garbage to make the heap collect during a run, then collects.
fn churn(s: &mut Session) {
    s.eval_str(
        "<churn>",
        "(define (churn n acc) (if (= n 0) (length acc) (churn (- n 1) (cons (list n n n) acc)))) (churn 200000 nil)",
    )
    .unwrap();
    s.collect_garbage();
}

#[test]
fn functions_stay_callable_across_collections() {
    let mut s = session();
    let adder = match s
        .eval_str("<a>", "((lambda (n) (lambda (x) (+ x n))) 10)")
        .unwrap()
    {
        Value::Function(f) => f,
        other => panic!("{other:?}"),
    };
    assert_eq!(adder.to_string_lossy(), "#<fn lambda/1>");
    for _ in 0..3 {
        churn(&mut s);
        // Its code and its captured `n` survive: only the handle keeps them.
        assert_eq!(
            s.call_function(&adder, &[Value::Int(5)]).unwrap(),
            Value::Int(15)
        );
    }
    assert_eq!(
        adder.call(&mut s, &[Value::Int(1)]).unwrap(),
        Value::Int(11)
    );
    // A handle passes back in as an argument.
    assert_eq!(
        s.call(
            "map",
            &[
                Value::Function(adder.clone()),
                Value::List(vec![Value::Int(1), Value::Int(2)])
            ]
        )
        .unwrap(),
        Value::List(vec![Value::Int(11), Value::Int(12)])
    );
    // Built-ins and named functions too.
    let plus = s.function("+").unwrap();
    assert_eq!(
        s.call_function(&plus, &[Value::Int(1), Value::Int(2)])
            .unwrap(),
        Value::Int(3)
    );
    assert!(s.function("nope-not-defined").is_err());
}

trait Lossy {
    fn to_string_lossy(&self) -> String;
}
impl Lossy for Function {
    fn to_string_lossy(&self) -> String {
        self.printed().to_string()
    }
}

#[test]
fn dropped_handles_free_their_slots_and_their_objects() {
    let mut s = session();
    s.collect_garbage();
    let held = s.handles_held();
    let before = s.vm().heap.live_bytes();
    let mut kept = Vec::new();
    for i in 0..1_000 {
        let r = s
            .eval_rooted("<r>", &format!("(list {i} \"{}\")", "z".repeat(1000)))
            .unwrap();
        kept.push(r);
    }
    churn(&mut s);
    assert_eq!(s.handles_held(), held + 1_000);
    assert_eq!(
        s.value_of(&kept[7]).unwrap(),
        Value::List(vec![Value::Int(7), Value::String("z".repeat(1000))])
    );
    assert!(s.vm().heap.live_bytes() > before + 1_000 * 1_000);
    drop(kept);
    s.collect_garbage();
    assert_eq!(s.handles_held(), held);
    assert!(
        s.vm().heap.live_bytes() < before + 100_000,
        "{} vs {before}",
        s.vm().heap.live_bytes()
    );
}

#[test]
fn handles_are_tied_to_their_session() {
    let mut a = session();
    let mut b = session();
    let f = a.function("car").unwrap();
    let r = a.eval_rooted("<r>", "(list 1)").unwrap();
    let err = b
        .call_function(&f, &[Value::List(vec![Value::Int(1)])])
        .unwrap_err();
    assert!(err.to_string().contains("session"), "{err}");
    assert!(b.value_of(&r).is_err());
    // Passing it as an argument to the other session is refused too.
    assert!(
        b.call("map", &[Value::Function(f.clone()), Value::Nil])
            .is_err()
    );
    // A handle can be dropped on another thread.
    std::thread::spawn(move || drop(f)).join().unwrap();
    a.collect_garbage();
}

#[test]
fn a_host_function_calls_back_a_jue_procedure() {
    let mut s = session();
    s.register_function(
        FfiFunction::new(
            "app:twice",
            HostFunction::Custom(1),
            None,
            ["Fn", "Any"],
            "Any",
            "Calls f twice.",
            SourceLocation::default(),
        )
        .with_context_implementation(|cx, args| {
            let Value::Function(f) = &args[0] else {
                return Err(HostError::type_error("not a function"));
            };
            let once = cx.call(f, &[args[1].clone()])?;
            cx.call(f, &[once])
        }),
    )
    .unwrap();
    assert_eq!(
        s.eval_str("<t>", "(app:twice (lambda (x) (* x 3)) 7)")
            .unwrap(),
        Value::Int(63)
    );
    // A callback that allocates enough to collect inside the nested run.
    assert_eq!(
        s.eval_str(
            "<t>",
            "(define (build n acc) (if (= n 0) (length acc) (build (- n 1) (cons (list n) acc)))) \
             (+ 1 (app:twice (lambda (n) (build 100000 nil)) 0))"
        )
        .unwrap(),
        Value::Int(100_001)
    );
    // Nested: Jue → host → Jue → host → Jue.
    assert_eq!(
        s.eval_str(
            "<t>",
            "(app:twice (lambda (x) (app:twice (lambda (y) (+ y 1)) x)) 0)"
        )
        .unwrap(),
        Value::Int(4)
    );
    // An error in the callback comes back to the host, which may pass it on.
    assert_eq!(
        kind(s.eval(jue_engine::SourceFile::new(
            "<t>",
            "(app:twice (lambda (x) (car x)) 1)"
        ))),
        ErrorKind::Type
    );
    // The step limit holds across the callback, even if the host swallowed the error.
    s.register_function(
        FfiFunction::new(
            "app:swallow",
            HostFunction::Custom(2),
            None,
            ["Fn"],
            "Any",
            "Swallows errors.",
            SourceLocation::default(),
        )
        .with_context_implementation(|cx, args| {
            let Value::Function(f) = &args[0] else {
                return Ok(Value::Nil);
            };
            let _ = cx.call(f, &[]);
            Ok(Value::Symbol("swallowed".into()))
        }),
    )
    .unwrap();
    s.limits.steps = 100_000;
    let r = s.eval(jue_engine::SourceFile::new(
        "<t>",
        "(app:swallow (lambda () (define (spin) (spin)) (spin)))",
    ));
    assert_eq!(kind(r), ErrorKind::StepLimit);
    s.limits = jue_engine::Limits::DEFAULT;
    // Session usable afterwards; a caught error inside the callback stays caught.
    assert_eq!(
        s.eval_str("<t>", "(app:swallow (lambda () (error \"inside\")))")
            .unwrap(),
        Value::Symbol("swallowed".into())
    );
}

#[test]
fn a_panicking_host_function_is_a_host_error_and_the_session_lives() {
    let mut s = session();
    s.register_fn("app:boom", |n: i64| -> i64 {
        if n > 0 {
            panic!("boom at {n}");
        }
        n
    })
    .unwrap();
    let r = s.eval(jue_engine::SourceFile::new("<p>", "(app:boom 3)"));
    match r {
        Err(EvalError::Runtime(e)) => {
            assert_eq!(e.kind, ErrorKind::Host);
            assert!(e.message.contains("boom at 3"), "{}", e.message);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.eval_str("<p>", "(app:boom 0)").unwrap(), Value::Int(0));
    assert_eq!(
        s.eval_str("<p>", "(try (app:boom 1) (catch e (error-kind e)))")
            .unwrap(),
        Value::Symbol("host".into())
    );
}

#[test]
fn host_data_and_deadline_reach_host_functions() {
    struct Counter(i64);
    let mut s = session();
    s.set_host_data(Counter(0));
    s.register_fn_cx(
        "app:count",
        None,
        TrustTier::Empirical,
        "Counts calls.",
        |cx: &mut jue_engine::HostCx<'_>, by: i64| {
            let c = cx.host_data::<Counter>().expect("set by the host");
            c.0 += by;
            c.0
        },
    )
    .unwrap();
    s.register_fn_cx(
        "app:has-deadline",
        None,
        TrustTier::Empirical,
        "",
        |cx: &mut jue_engine::HostCx<'_>| cx.time_left().is_some(),
    )
    .unwrap();
    assert_eq!(
        s.eval_str("<h>", "(app:count 2) (app:count 3)").unwrap(),
        Value::Int(5)
    );
    assert_eq!(s.host_data::<Counter>().map(|c| c.0), Some(5));
    s.limits.timeout_ms = None;
    assert_eq!(
        s.eval_str("<h>", "(app:has-deadline)").unwrap(),
        Value::Bool(false)
    );
    s.limits.timeout_ms = Some(5_000);
    assert_eq!(
        s.eval_str("<h>", "(app:has-deadline)").unwrap(),
        Value::Bool(true)
    );
}

#[test]
fn a_re_registered_safe_read_is_held_to_the_granted_directory() {
    let dir = tempfile::tempdir().unwrap();
    let inside = dir.path().join("in");
    std::fs::create_dir(&inside).unwrap();
    std::fs::write(inside.join("a.txt"), "inside").unwrap();
    std::fs::write(dir.path().join("secret.txt"), "outside").unwrap();
    let mut s = session();
    s.register_function(
        FfiFunction::new(
            "fs:safe-read",
            HostFunction::Custom(3),
            Capability::IoPersist,
            ["String"],
            "String?",
            "Reads a file beneath the grant, nil when missing.",
            SourceLocation::default(),
        )
        .with_context_implementation(|cx, args| {
            let Value::String(p) = &args[0] else {
                return Err(HostError::type_error("path"));
            };
            assert!(cx.scope().is_some());
            Ok(cx.safe_read(p)?.map_or(Value::Nil, Value::String))
        }),
    )
    .unwrap();
    s.grant(Capability::IoPersist, inside.to_str(), GrantSource::Host)
        .unwrap();
    let read = |s: &mut Session, p: &std::path::Path| {
        s.call(
            "fs:safe-read",
            &[Value::String(p.to_string_lossy().into_owned())],
        )
    };
    assert_eq!(
        read(&mut s, &inside.join("a.txt")).unwrap(),
        Value::String("inside".into())
    );
    assert_eq!(
        read(&mut s, &inside.join("missing.txt")).unwrap(),
        Value::Nil
    );
    match read(&mut s, &inside.join("../secret.txt")) {
        Err(EvalError::Runtime(e)) => {
            assert_eq!(e.kind, ErrorKind::CapabilityDenied, "{}", e.message)
        }
        other => panic!("read outside the grant: {other:?}"),
    }
    // A function without the capability sees no scope at all.
    s.register_fn_cx(
        "app:peek",
        None,
        TrustTier::Empirical,
        "",
        |cx: &mut jue_engine::HostCx<'_>, p: String| cx.read_file(&p).map(|_| true),
    )
    .unwrap();
    let r = s.call(
        "app:peek",
        &[Value::String(
            inside.join("a.txt").to_string_lossy().into_owned(),
        )],
    );
    assert!(
        matches!(r, Err(EvalError::Runtime(ref e)) if e.kind == ErrorKind::CapabilityDenied),
        "{r:?}"
    );
}

#[test]
fn typed_registration_derives_the_entry_and_checks_both_ways() {
    let mut s = session();
    s.register_fn("app:hypot", |a: f64, b: f64| a.hypot(b))
        .unwrap();
    s.register_fn("app:sum", |xs: Vec<i64>| xs.iter().sum::<i64>())
        .unwrap();
    s.register_fn("app:greet", |name: String, loud: bool| -> Option<String> {
        if name.is_empty() {
            None
        } else if loud {
            Some(format!("HELLO {}", name.to_uppercase()))
        } else {
            Some(format!("hello {name}"))
        }
    })
    .unwrap();
    s.register_fn("app:fail", |_: i64| -> Result<i64, HostError> {
        Err(HostError::host("no"))
    })
    .unwrap();
    let f = s.registry().find_function("app:hypot").expect("registered");
    assert_eq!(f.parameter_types, vec!["Number", "Number"]);
    assert_eq!(f.return_type, "Float");
    assert_eq!(f.tier, TrustTier::Empirical);
    assert_eq!(f.required_capability, None);
    assert_eq!(
        s.registry().find_function("app:greet").unwrap().return_type,
        "String?"
    );
    assert_eq!(
        s.eval_str("<t>", "(app:hypot 3 4)").unwrap(),
        Value::Float(5.0)
    );
    assert_eq!(
        s.eval_str("<t>", "(app:sum (list 1 2 3))").unwrap(),
        Value::Int(6)
    );
    assert_eq!(s.eval_str("<t>", "(app:sum nil)").unwrap(), Value::Int(0));
    assert_eq!(
        s.eval_str("<t>", "(app:greet \"jo\" true)").unwrap(),
        Value::String("HELLO JO".into())
    );
    assert_eq!(
        s.eval_str("<t>", "(app:greet \"\" false)").unwrap(),
        Value::Nil
    );
    // Wrong types: kind `type`, naming the argument (checked at run time for a value
    // analysis cannot see, element types checked by the conversion).
    let e = s.eval(jue_engine::SourceFile::new(
        "<t>",
        "(define (h x) (app:hypot x 1)) (h \"3\")",
    ));
    match e {
        Err(EvalError::Runtime(e)) => {
            assert_eq!(e.kind, ErrorKind::Type);
            assert!(e.message.contains("argument 1"), "{}", e.message);
        }
        other => panic!("{other:?}"),
    }
    let e = s.eval(jue_engine::SourceFile::new(
        "<t>",
        "(app:sum (list 1 \"two\"))",
    ));
    match e {
        Err(EvalError::Runtime(e)) => {
            assert_eq!(e.kind, ErrorKind::Type);
            assert!(
                e.message.contains("argument 1 of `app:sum`: element 2"),
                "{}",
                e.message
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        kind(s.eval(jue_engine::SourceFile::new("<t>", "(app:fail 1)"))),
        ErrorKind::Host
    );
    // Analysis sees the derived signature: a string literal where a Number goes is
    // a compile error.
    assert!(matches!(
        s.eval(jue_engine::SourceFile::new("<t>", "(app:hypot \"a\" 1)")),
        Err(EvalError::Compile { .. })
    ));
    // With a capability: denied until granted.
    s.register_fn_with(
        "app:now",
        Some(Capability::SysClock),
        TrustTier::Empirical,
        "A clock.",
        || 42i64,
    )
    .unwrap();
    assert_eq!(
        kind(s.eval(jue_engine::SourceFile::new("<t>", "(app:now)"))),
        ErrorKind::CapabilityDenied
    );
    s.grant(Capability::SysClock, None, GrantSource::Host)
        .unwrap();
    assert_eq!(s.eval_str("<t>", "(app:now)").unwrap(), Value::Int(42));
}

#[test]
fn an_interrupt_from_another_thread_stops_a_callback_and_not_the_next_evaluation() {
    let mut s = session();
    s.register_fn_cx(
        "app:each",
        None,
        TrustTier::Empirical,
        "Calls f forever, until an error.",
        |cx: &mut jue_engine::HostCx<'_>, f: Function| -> Result<i64, HostError> {
            let mut n = 0;
            loop {
                cx.call(&f, &[Value::Int(n)])?;
                n += 1;
            }
        },
    )
    .unwrap();
    let interrupt = s.interrupt();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let raiser = std::thread::spawn(move || {
        // Wait until the evaluation runs, then raise from this thread.
        let _ = rx.recv();
        std::thread::sleep(std::time::Duration::from_millis(50));
        interrupt.raise();
    });
    s.register_fn("app:started", move || {
        let _ = tx.send(());
    })
    .unwrap();
    let r = s.eval(jue_engine::SourceFile::new(
        "<i>",
        "(app:started) (app:each (lambda (i) (+ i 1)))",
    ));
    raiser.join().unwrap();
    assert_eq!(kind(r), ErrorKind::Interrupted);
    // Raised while idle: dropped, the next evaluation runs.
    s.interrupt().raise();
    assert_eq!(s.eval_str("<i>", "(+ 1 2)").unwrap(), Value::Int(3));
}

#[test]
fn integral_numbers_from_the_host_widen_where_a_float_is_declared() {
    // Tooling §5 "Conversions": a hand-declared entry (parameters `Float`, not
    // `Number` as typed registration declares them).
    let mut s = session();
    let f = FfiFunction::new(
        "app:half",
        HostFunction::Custom(100),
        None,
        vec!["Float".to_string()],
        "Float",
        "Half of a float.",
        SourceLocation::default(),
    )
    .with_implementation(|args: &[Value]| match args {
        [Value::Float(x)] => Ok(Value::Float(x / 2.0)),
        other => Err(HostError::type_error(format!("got {other:?}"))),
    });
    s.register_function(f).unwrap();
    // The host's Int argument widens on the way in.
    assert_eq!(
        s.call("app:half", &[Value::Int(3)]).unwrap(),
        Value::Float(1.5)
    );
    assert_eq!(
        s.call("fadd", &[Value::Int(1), Value::Float(0.5)]).unwrap(),
        Value::Float(1.5)
    );
    // A host function's integral result widens where a Float is declared.
    let g = FfiFunction::new(
        "app:three",
        HostFunction::Custom(101),
        None,
        Vec::<String>::new(),
        "Float",
        "Three, as an Int.",
        SourceLocation::default(),
    )
    .with_implementation(|_: &[Value]| Ok(Value::Int(3)));
    s.register_function(g).unwrap();
    assert_eq!(s.eval_str("t", "(app:three)").unwrap(), Value::Float(3.0));
    assert_eq!(
        s.eval_str("t", "(fadd (app:three) 0.5)").unwrap(),
        Value::Float(3.5)
    );
    // Jue code gets no implicit conversion (language §6): an Int computed at
    // run time is still a `type` error where a Float is declared.
    assert_eq!(
        kind(s.eval_str("t", "(define (n) 3) (app:half (n))")),
        ErrorKind::Type
    );
    // Non-integral mismatches are errors as before.
    assert_eq!(
        kind(s.call("app:half", &[Value::String("x".into())])),
        ErrorKind::Type
    );
}

#[test]
fn a_host_function_calls_a_global_by_name_within_the_running_evaluation() {
    let mut s = session();
    s.register_fn_cx(
        "app:call",
        None,
        TrustTier::Empirical,
        "Calls the global named by its first argument on the second.",
        |cx: &mut jue_engine::HostCx<'_>, name: String, x: Value| -> Result<Value, HostError> {
            cx.call_by_name(&name, &[x])
        },
    )
    .unwrap();
    s.eval_str("<d>", "(define (triple x) (* x 3)) (define (spin) (spin))")
        .unwrap();
    // A Jue global, a built-in, a host function (its Int widens to the Float).
    assert_eq!(
        s.eval_str("<t>", "(+ 1 (app:call \"triple\" 7))").unwrap(),
        Value::Int(22)
    );
    assert_eq!(
        s.eval_str("<t>", "(app:call \"length\" (list 1 2 3))")
            .unwrap(),
        Value::Int(3)
    );
    assert_eq!(
        s.eval_str("<t>", "(app:call \"int-to-float\" 2)").unwrap(),
        Value::Float(2.0)
    );
    // Nested: Jue → host → Jue (by name) → host → Jue.
    s.eval_str("<d>", "(define (outer x) (app:call \"triple\" (+ x 1)))")
        .unwrap();
    assert_eq!(
        s.eval_str("<t>", "(app:call \"outer\" 1)").unwrap(),
        Value::Int(6)
    );
    // Unknown names, non-procedures and errors come back as the kind they are.
    s.eval_str("<d>", "(define answer 42)").unwrap();
    let r = s.eval(jue_engine::SourceFile::new("<t>", "(app:call \"nope\" 1)"));
    match r {
        Err(EvalError::Runtime(e)) => {
            assert!(
                e.message.contains("no function named `nope`"),
                "{}",
                e.message
            )
        }
        other => panic!("expected an error, got {other:?}"),
    }
    assert_eq!(
        kind(s.eval(jue_engine::SourceFile::new(
            "<t>",
            "(app:call \"answer\" 1)"
        ))),
        ErrorKind::Type
    );
    // Jue code may catch the callback's failure.
    assert_eq!(
        s.eval_str("<t>", "(try (app:call \"car\" 5) (catch e 'caught))")
            .unwrap(),
        Value::Symbol("caught".into())
    );
    // The nested call runs under the running evaluation's step limit (its
    // steps count there), which `try` cannot catch.
    s.eval_str("<d>", "(define (work n) (if (= n 0) 'done (work (- n 1))))")
        .unwrap();
    s.limits.steps = 50_000;
    assert_eq!(
        s.eval_str("<t>", "(app:call \"work\" 100)").unwrap(),
        Value::Symbol("done".into())
    );
    let r = s.eval(jue_engine::SourceFile::new(
        "<t>",
        "(try (app:call \"work\" 1000000) (catch e 'swallowed))",
    ));
    assert_eq!(kind(r), ErrorKind::StepLimit);
    s.limits = jue_engine::Limits::DEFAULT;
    // Capability checks apply to a host function reached by name.
    let r = s.eval(jue_engine::SourceFile::new(
        "<t>",
        "(app:call \"io:sensor:read\" 'temperature)",
    ));
    assert_eq!(kind(r), ErrorKind::CapabilityDenied);
    // Afterwards the session is usable and `call` from outside works as before.
    assert_eq!(s.call("triple", &[Value::Int(2)]).unwrap(), Value::Int(6));
}

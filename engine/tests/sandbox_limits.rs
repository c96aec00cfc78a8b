//! The sandbox's limits against hostile programs (language §7, §10; issue 13):
//! one test per class of attack. Each must end in a clear error of the right
//! kind, and the session must stay usable afterwards. Files and SQLite have
//! their own suite (`sandbox_fs.rs`).

use jue_engine::{ErrorKind, EvalError, Limits, Session, Value};
use std::time::{Duration, Instant};

/// A DAG of `n` levels whose two halves are the same list: 2^n paths.
const DAG: &str = "(define (dag n) (if (= n 0) '(x) (let ((d (dag (- n 1)))) (cons d d))))\n(define big (dag 40))";

fn session(limits: Limits) -> Session {
    let mut s = Session::new();
    s.limits = limits;
    s
}

fn small(memory: u64, timeout_ms: Option<u64>) -> Limits {
    Limits {
        memory,
        timeout_ms,
        ..Limits::DEFAULT
    }
}

fn kind_of(s: &mut Session, text: &str) -> ErrorKind {
    match s.eval_str("attack.jue", text) {
        Err(EvalError::Runtime(e)) => e.kind,
        other => panic!("expected a run-time error for {text:?}, got {other:?}"),
    }
}

/// The session still evaluates after the attack.
fn still_usable(s: &mut Session) {
    assert_eq!(
        s.eval_str("after.jue", "(+ 1 2)")
            .expect("the session survives"),
        Value::Int(3)
    );
}

#[test]
fn printing_shared_structure_is_bounded_by_memory_not_an_abort() {
    let mut s = session(small(16 << 20, None));
    s.eval_str("dag.jue", DAG).expect("builds");
    for attack in ["(to-string big)", "(print big)", "(error \"boom\" big)"] {
        let k = kind_of(&mut s, attack);
        assert!(
            matches!(k, ErrorKind::MemoryLimit | ErrorKind::StepLimit),
            "{attack}: {k:?}"
        );
        still_usable(&mut s);
    }
}

#[test]
fn a_timeout_stops_work_inside_built_ins() {
    let mut s = session(small(256 << 20, Some(300)));
    s.eval_str("dag.jue", DAG).expect("builds");
    for attack in ["(equal? big (dag 40))", "(to-string big)"] {
        let start = Instant::now();
        let k = kind_of(&mut s, attack);
        let took = start.elapsed();
        assert!(
            matches!(k, ErrorKind::Timeout | ErrorKind::MemoryLimit),
            "{attack}: {k:?}"
        );
        // 300 ms of limit; generous slack for a loaded test machine (the bench
        // measures the real overrun).
        assert!(took < Duration::from_secs(5), "{attack} took {took:?}");
        still_usable(&mut s);
    }
}

#[test]
fn equal_on_shared_structure_is_charged_per_element() {
    let mut s = session(Limits {
        steps: 2_000_000,
        ..Limits::DEFAULT
    });
    s.eval_str("dag.jue", DAG).expect("builds");
    assert_eq!(
        kind_of(&mut s, "(equal? big (dag 40))"),
        ErrorKind::StepLimit
    );
    still_usable(&mut s);
}

#[test]
fn a_string_too_large_for_the_limit_is_refused_before_it_is_built() {
    let mut s = session(small(16 << 20, None));
    let attack = "(define (grow s n) (if (= n 0) s (grow (string-append s s) (- n 1))))\n(grow \"xxxxxxxx\" 40)";
    assert_eq!(kind_of(&mut s, attack), ErrorKind::MemoryLimit);
    still_usable(&mut s);
}

#[test]
fn interned_symbols_count_toward_the_memory_limit() {
    let mut s = session(small(8 << 20, None));
    let attack = "(define (loop i) (string->symbol (string-append \"sym-\" (number->string i) \"-padding-padding-padding-padding\")) (loop (+ i 1)))\n(loop 0)";
    assert_eq!(kind_of(&mut s, attack), ErrorKind::MemoryLimit);
    still_usable(&mut s);
}

#[test]
fn the_register_stack_counts_toward_the_memory_limit() {
    // Deep non-tail recursion in a function with many registers: the stack, not
    // the heap, is what grows.
    let mut s = session(Limits {
        memory: 4 << 20,
        depth: 1_000_000,
        ..Limits::DEFAULT
    });
    let mut body = String::from("(define (deep n) (if (= n 0) 0 (+ 1 (deep (- n 1))");
    for i in 0..200 {
        body.push_str(&format!(" {i}"));
    }
    body.push_str(")))\n(deep 100000)");
    let k = kind_of(&mut s, &body);
    assert!(
        matches!(k, ErrorKind::MemoryLimit | ErrorKind::Arity),
        "{k:?}"
    );
    let k = kind_of(
        &mut s,
        "(define (d2 n) (if (= n 0) 0 (+ 1 (d2 (- n 1)))))\n(d2 900000)",
    );
    assert_eq!(k, ErrorKind::MemoryLimit);
    still_usable(&mut s);
}

#[test]
fn names_of_the_prelude_are_reserved() {
    let mut s = Session::new();
    for attack in [
        "(define (%prelude:reverse l) l)",
        "(define %prelude:map 1)",
        "(let ((%x 1)) %x)",
        "(set! %prelude:map (lambda (f l) l))",
    ] {
        match s.eval_str("attack.jue", attack) {
            Err(EvalError::Compile { diagnostics, .. }) => assert!(
                diagnostics
                    .iter()
                    .any(|d| d.code.to_string() == "E0105" && d.message.contains("reserved")),
                "{attack}: {diagnostics:?}"
            ),
            other => panic!("{attack}: {other:?}"),
        }
    }
    // The prelude's own `map` still works.
    assert_eq!(
        s.eval_str("ok.jue", "(map (lambda (x) (* x x)) '(1 2 3))")
            .expect("map"),
        s.eval_str("ok.jue", "'(1 4 9)").expect("list")
    );
}

#[test]
fn an_interrupt_raised_while_idle_does_not_stop_the_next_evaluation() {
    let mut s = Session::new();
    s.interrupt().raise();
    assert_eq!(
        s.eval_str(
            "next.jue",
            "(define (f n) (if (= n 0) 0 (f (- n 1))))\n(f 100000)"
        )
        .expect("runs"),
        Value::Int(0)
    );
}

#[test]
fn an_interrupt_from_another_thread_stops_a_running_evaluation() {
    let mut s = Session::new();
    let flag = s.interrupt();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        flag.raise();
    });
    assert_eq!(
        kind_of(&mut s, "(define (spin) (spin))\n(spin)"),
        ErrorKind::Interrupted
    );
    t.join().expect("thread");
    still_usable(&mut s);
}

#[test]
fn a_call_passes_any_number_of_arguments_to_a_variadic_procedure() {
    let mut s = Session::new();
    s.eval_str("v.jue", "(define (count . xs) (length xs))")
        .expect("defines");
    let args: Vec<Value> = (0..70_000).map(Value::Int).collect();
    assert_eq!(s.call("count", &args).expect("calls"), Value::Int(70_000));
    // A fixed-arity procedure refuses them with an arity error, not a panic.
    s.eval_str("f.jue", "(define (one x) x)").expect("defines");
    match s.call("one", &args) {
        Err(EvalError::Runtime(e)) => assert_eq!(e.kind, ErrorKind::Arity),
        other => panic!("{other:?}"),
    }
    still_usable(&mut s);
}

#[test]
fn too_many_registers_are_a_compile_error_not_a_panic() {
    let mut s = Session::new();
    let mut call = String::from("(list");
    for i in 0..70_000 {
        call.push_str(&format!(" {i}"));
    }
    call.push(')');
    match s.eval_str("big.jue", &call) {
        Err(EvalError::Compile { diagnostics, .. }) => {
            assert!(diagnostics.iter().any(|d| d.code.to_string() == "E0105"))
        }
        other => panic!("{other:?}"),
    }
    still_usable(&mut s);
}

#[test]
fn set_of_a_global_is_held_to_the_redefinition_tier_rule() {
    let mut s = Session::new();
    s.set_repl_mode(true);
    s.eval_str("1", "@formal (define (safe x) (* x 2))")
        .expect("defines");
    s.eval_str("2", "@formal (define (user y) (safe y))")
        .expect("defines");
    match s.eval_str("3", "(set! safe (lambda (x) (* x 3)))") {
        Err(EvalError::Compile { diagnostics, .. }) => assert!(
            diagnostics.iter().any(|d| d.code.to_string() == "E0201"),
            "{diagnostics:?}"
        ),
        other => panic!("{other:?}"),
    }
    // The old value stays.
    assert_eq!(s.eval_str("4", "(user 2)").expect("runs"), Value::Int(4));
    // A procedure of the same tier may be assigned.
    s.eval_str("5", "(set! safe (:formal (lambda (x) (* x 5))))")
        .expect("assigns");
    assert_eq!(s.eval_str("6", "(user 2)").expect("runs"), Value::Int(10));
}

#[test]
fn a_text_too_large_to_compile_under_the_limit_is_refused_before_it_is_read() {
    let mut s = session(small(1 << 20, None));
    let text = "(define (f x) (+ x 1))\n".repeat(4_000); // 92 KB
    assert_eq!(kind_of(&mut s, &text), ErrorKind::MemoryLimit);
    still_usable(&mut s);
}

#[test]
fn set_of_a_global_to_a_value_computed_at_run_time_is_tier_checked() {
    // The compile-time check sees lambdas and known functions only; a procedure
    // computed at run time is checked when assigned (kind `tier`), and the old
    // value stays (language §7).
    for repl in [true, false] {
        let mut s = Session::new();
        s.set_repl_mode(repl);
        s.eval_str("1", "@formal (define (safe x) (* x 2))")
            .expect("defines");
        s.eval_str("2", "@formal (define (user y) (safe y))")
            .expect("defines");
        s.eval_str("3", "(define (pick) (lambda (x) (* x 3)))")
            .expect("defines");
        assert_eq!(kind_of(&mut s, "(set! safe (pick))"), ErrorKind::Tier);
        assert_eq!(s.eval_str("4", "(user 2)").expect("runs"), Value::Int(4));
        // Through a list, `car` of it: still checked.
        assert_eq!(
            kind_of(&mut s, "(set! safe (car (list println)))"),
            ErrorKind::Tier
        );
        // A procedure of the caller's tier, computed at run time, is accepted.
        s.eval_str("5", "@formal (define (pick-formal) (lambda (x) (* x 5)))")
            .expect("defines");
        s.eval_str("6", "(set! safe (pick-formal))")
            .expect("assigns");
        assert_eq!(s.eval_str("7", "(user 2)").expect("runs"), Value::Int(10));
        // Data (not a procedure) is not a tier question.
        s.eval_str(
            "8",
            "(define counter 0) (define (bump) (set! counter (+ counter 1)) counter)",
        )
        .expect("defines");
        assert_eq!(s.eval_str("9", "(bump)").expect("runs"), Value::Int(1));
        still_usable(&mut s);
    }
}

#[test]
fn an_empirical_global_may_be_set_to_an_experimental_closure_only_if_nothing_empirical_calls_it() {
    let mut s = Session::new();
    s.set_repl_mode(true);
    s.eval_str("1", "(define (hook x) x) (define (run x) (hook x))")
        .expect("defines");
    s.eval_str("2", "@experimental (define (make) (lambda (x) (+ x 1)))")
        .expect("defines");
    assert_eq!(
        kind_of(&mut s, "@experimental (set! hook (make))"),
        ErrorKind::Tier
    );
    assert_eq!(s.eval_str("3", "(run 1)").expect("runs"), Value::Int(1));
}

/// A session where `deep` recurses `n` levels (non-tail) and `call-it` calls a
/// value: both empirical.
fn deep_session() -> Session {
    let mut s = Session::new();
    s.eval_str(
        "lib.jue",
        "(define (deep n) (if (= n 0) 0 (+ 1 (deep (- n 1)))))\n(define (call-it f x) (f x))\n(define (both f) (f 1) (deep 20000))",
    )
    .expect("defines");
    s
}

#[test]
fn an_experimental_closure_called_later_runs_under_the_experimental_caps() {
    // The experimental depth cap is 10,000 (language §10); the default 100,000.
    let mut s = deep_session();
    assert_eq!(
        s.call("deep", &[Value::Int(20_000)]).expect("runs"),
        Value::Int(20_000)
    );
    let Value::Function(escape) = s
        .eval_str("exp.jue", "(:experimental (lambda (n) (deep n)))")
        .expect("returns the closure")
    else {
        panic!("not a procedure")
    };
    // Called by the host directly, through empirical code, through the prelude.
    let cases: [(&str, Vec<Value>); 3] = [
        ("direct", vec![]),
        (
            "call-it",
            vec![Value::Function(escape.clone()), Value::Int(20_000)],
        ),
        (
            "map",
            vec![
                Value::Function(escape.clone()),
                Value::List(vec![Value::Int(20_000)]),
            ],
        ),
    ];
    for (how, args) in cases {
        let r = if how == "direct" {
            s.call_function(&escape, &[Value::Int(20_000)])
        } else {
            s.call(how, &args)
        };
        match r {
            Err(EvalError::Runtime(e)) => assert_eq!(e.kind, ErrorKind::DepthLimit, "{how}: {e:?}"),
            other => panic!("{how}: the experimental cap did not hold: {other:?}"),
        }
        still_usable(&mut s);
    }
    // Under the cap it runs.
    assert_eq!(
        s.call_function(&escape, &[Value::Int(5_000)])
            .expect("runs"),
        Value::Int(5_000)
    );
    // The caps come off when the experimental code returns: the empirical caller
    // then recurses past 10,000.
    assert_eq!(
        s.call("both", &[Value::Function(escape.clone())])
            .expect("runs"),
        Value::Int(20_000)
    );
}

#[test]
fn an_experimental_closure_stored_in_data_is_capped_when_empirical_code_calls_it() {
    let mut s = deep_session();
    s.set_repl_mode(true);
    s.eval_str("1", "(define box (list 0))").expect("defines");
    // Experimental code stores a closure where empirical code finds it.
    s.eval_str("2", "@experimental (set-car! box (lambda (n) (deep n)))")
        .or_else(|_| s.eval_str("2", "@experimental (set! box (list (lambda (n) (deep n))))"))
        .expect("stores");
    assert_eq!(
        kind_of(&mut s, "(call-it (car box) 20000)"),
        ErrorKind::DepthLimit
    );
    // A step cap too: 50,000,000 steps, not the default 1,000,000,000.
    s.eval_str("3", "(define (spin n) (if (= n 0) 0 (spin (- n 1))))")
        .expect("defines");
    s.eval_str("4", "@experimental (set! box (list (lambda (n) (spin n))))")
        .expect("stores");
    s.limits.timeout_ms = Some(60_000);
    assert_eq!(
        kind_of(&mut s, "(call-it (car box) 100000000)"),
        ErrorKind::StepLimit
    );
    still_usable(&mut s);
}

#[test]
fn experimental_caps_hold_through_the_prelude_and_come_off_after_an_unwind() {
    let mut s = deep_session();
    // A prelude function called from experimental code stays under the caps.
    let Value::Function(via_map) = s
        .eval_str(
            "exp.jue",
            "(:experimental (lambda (n) (map deep (list n))))",
        )
        .expect("returns the closure")
    else {
        panic!("not a procedure")
    };
    match s.call("call-it", &[Value::Function(via_map), Value::Int(20_000)]) {
        Err(EvalError::Runtime(e)) => assert_eq!(e.kind, ErrorKind::DepthLimit),
        other => panic!("the cap did not hold through `map`: {other:?}"),
    }
    // An error raised under the caps and caught by empirical code: the caps
    // come off with the frames that put them on.
    let Value::Function(fails) = s
        .eval_str("exp.jue", "(:experimental (lambda (n) (error \"boom\")))")
        .expect("returns the closure")
    else {
        panic!("not a procedure")
    };
    s.eval_str(
        "lib2.jue",
        "(define (guarded f) (try (f 1) (catch e (deep 20000))))",
    )
    .expect("defines");
    assert_eq!(
        s.call("guarded", &[Value::Function(fails)])
            .expect("runs uncapped"),
        Value::Int(20_000)
    );
}

/// Every version of a dict kept alive while it is updated in place: each old
/// version is settled into a trie of its own at the next collection, so the
/// memory limit stops the program with `memory-limit`; a program that keeps
/// one old version and threads the newest through many updates stays small.
#[test]
fn keeping_every_version_of_a_dict_meets_the_memory_limit() {
    let mut s = session(small(24 << 20, None));
    let attack =
        "(foldl (lambda (acc i) (cons (dict-set (car acc) i i) acc)) (list {}) (range 1000000))";
    assert_eq!(kind_of(&mut s, attack), ErrorKind::MemoryLimit);
    still_usable(&mut s);
    // 1,000,000 versions of 32 bytes would pass the limit if `base` kept them.
    let kept = "(define base {\"k\" 0})
                (define (go d i) (if (= i 1000000) d (go (dict-set d (% i 1000) i) (+ i 1))))
                (define last (go base 0))
                (list (dict-size base) (dict-size last) (dict-ref last 999) (dict-ref base \"k\"))";
    let v = s.eval_str("kept.jue", kept).expect("fits under the limit");
    let want = [1, 1_001, 999_999, 0].map(Value::Int).to_vec();
    assert_eq!(v, Value::List(want));
}

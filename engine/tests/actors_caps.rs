//! Experimental caps and actors (language §7, §9, §10): an actor spawned by
//! experimental code runs under the experimental caps from its own start, with
//! its steps and depth counted for itself; the caps of one actor never cover
//! the actors that run between its turns.

use jue_engine::{Capability, ErrorKind, EvalError, GrantSource, Session, Value};

/// A session granting actors, with `deep` (non-tail recursion) and `spin`.
fn session() -> Session {
    let mut s = Session::new();
    s.set_repl_mode(true);
    s.grant(Capability::SysCreateActor, None, GrantSource::CommandLine)
        .expect("grant");
    s.eval_str(
        "lib.jue",
        "(define (deep n) (if (= n 0) 0 (+ 1 (deep (- n 1)))))
         (define (spin n) (if (= n 0) 'done (spin (- n 1))))
         (define (outcome a) (try (await a) (catch e (error-message e))))",
    )
    .expect("defines");
    s
}

fn run(s: &mut Session, text: &str) -> Value {
    match s.eval_str("t.jue", text) {
        Ok(v) => v,
        Err(e) => panic!("{text}: {e:?}"),
    }
}

fn failed_with(v: &Value, kind: &str) -> bool {
    matches!(v, Value::String(m) if m.contains(&format!("failed: {kind}")))
}

#[test]
fn an_actor_spawned_by_experimental_code_is_capped_from_its_own_start() {
    let mut s = session();
    // Empirical code: the default depth limit (100,000) holds for the actor.
    assert_eq!(
        run(&mut s, "(outcome (spawn deep 20000))"),
        Value::Int(20_000)
    );
    // Experimental code spawning the same empirical function: the actor runs
    // under the experimental depth cap (10,000), counted from its start.
    let v = run(&mut s, "@experimental (outcome (spawn deep 20000))");
    assert!(failed_with(&v, "depth-limit"), "{v:?}");
    let v = run(&mut s, "@experimental (outcome (spawn deep 9000))");
    assert_eq!(v, Value::Int(9_000));
    // The actor outlives its form and stays capped in later (empirical) inputs,
    // though its function is empirical.
    run(&mut s, "(define (later) (receive) (deep 20000))");
    run(&mut s, "@experimental (define late (spawn later))");
    let v = run(&mut s, "(send late 'go) (outcome late)");
    assert!(failed_with(&v, "depth-limit"), "{v:?}");
}

#[test]
fn an_experimental_function_spawned_later_is_capped_and_its_caps_stay_its_own() {
    let mut s = session();
    // An experimental closure stored in data, spawned by empirical code.
    run(
        &mut s,
        "@experimental (define box (list (lambda (n) (spin 5000) (deep n))))",
    );
    let v = run(&mut s, "(outcome (spawn (car box) 20000))");
    assert!(failed_with(&v, "depth-limit"), "{v:?}");
    // While the capped actor runs (it is preempted many times in `spin`), an
    // empirical actor beside it recurses past the experimental cap: the caps
    // are the capped actor's alone.
    let v = run(
        &mut s,
        "(define c (spawn (car box) 20000))
         (define d (spawn (lambda () (spin 3000) (deep 30000))))
         (list (outcome c) (outcome d))",
    );
    let Value::List(got) = &v else {
        panic!("{v:?}")
    };
    assert!(failed_with(&got[0], "depth-limit"), "{v:?}");
    assert_eq!(got[1], Value::Int(30_000), "{v:?}");
}

#[test]
fn a_capped_actors_steps_are_counted_for_it_alone() {
    let mut s = session();
    // Time enough for a debug build: the caps' 5 s plus this grant.
    s.grant_spec("ResourceExtraTime=120000", GrantSource::CommandLine)
        .expect("grant time");
    s.limits.timeout_ms = Some(240_000);
    run(&mut s, "(spin 100000)");
    let per_round = s.steps_used() / 100_000;
    assert!(per_round > 0);
    // The experimental step cap is 50,000,000. Two actors spawned by
    // experimental code each run about 30,000,000 steps, interleaved, in a
    // later empirical input: each stays under its own cap, though together
    // they pass it.
    let n = 30_000_000 / per_round;
    run(
        &mut s,
        &format!("@experimental (begin (define a (spawn spin {n})) (define b (spawn spin {n})))"),
    );
    assert_eq!(
        run(&mut s, "(list (outcome a) (outcome b))"),
        Value::List(vec![
            Value::Symbol("done".into()),
            Value::Symbol("done".into())
        ])
    );
    // One such actor running 60,000,000 steps passes its cap, which stops
    // the evaluation (language §9: a step limit stops every actor).
    let n = 60_000_000 / per_round;
    run(
        &mut s,
        &format!("@experimental (define c (spawn spin {n}))"),
    );
    match s.eval_str("t", "(outcome c)") {
        Err(EvalError::Runtime(e)) => assert_eq!(e.kind, ErrorKind::StepLimit, "{e:?}"),
        other => panic!("the cap did not hold: {other:?}"),
    }
    // Spawned by empirical code, the same actor runs to its end.
    assert_eq!(
        run(&mut s, &format!("(outcome (spawn spin {n}))")),
        Value::Symbol("done".into())
    );
}

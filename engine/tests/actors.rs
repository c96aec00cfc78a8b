//! Actors through the embedding API (language §9, tooling §5): the scheduler
//! runs while an `eval` runs, actors live on between evaluations, `actors()`
//! lists them, W0401 is handed to the host, limits and interrupts stop every
//! actor, hostile programs end in the error kind §9 names and the session
//! survives.

use jue_engine::vm::actors::ActorState;
use jue_engine::{Capability, Code, ErrorKind, EvalError, Limits, Session, Value};
use std::time::{Duration, Instant};

fn session() -> Session {
    let mut s = Session::new();
    s.grant(
        Capability::SysCreateActor,
        None,
        jue_engine::GrantSource::CommandLine,
    )
    .expect("grant");
    s.grant(
        Capability::SysTerminateActor,
        None,
        jue_engine::GrantSource::CommandLine,
    )
    .expect("grant");
    s
}

fn eval(s: &mut Session, text: &str) -> Value {
    match s.eval_str("test.jue", text) {
        Ok(v) => v,
        Err(e) => panic!("{text}: {e:?}"),
    }
}

fn kind_of(s: &mut Session, text: &str) -> ErrorKind {
    match s.eval_str("attack.jue", text) {
        Err(EvalError::Runtime(e)) => e.kind,
        other => panic!("expected a run-time error for {text:?}, got {other:?}"),
    }
}

fn still_usable(s: &mut Session) {
    assert_eq!(
        s.eval_str("after.jue", "(+ 1 2)")
            .expect("the session survives"),
        Value::Int(3)
    );
}

#[test]
fn actors_live_between_evaluations_and_run_only_during_one() {
    let mut s = session();
    eval(
        &mut s,
        "(define (counter n)
           (let ((m (receive)))
             (if (pair? m) (begin (send (car m) n) (counter n)) (counter (+ n m)))))
         (define c (spawn counter 0))",
    );
    // Spawned, but actor 0's form ended before its first turn: it has not run.
    let list = s.actors();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].id, 1);
    assert_eq!(list[0].state, ActorState::Runnable);
    assert_eq!(list[0].function, "#<fn counter/1>");
    // Messages sent by an evaluation that never waits stay in the mailbox
    // while nothing runs.
    eval(&mut s, "(send c 5) (send c 7)");
    assert_eq!(s.actors()[0].mailbox, 2);
    // An evaluation that waits lets it run: it takes both, then answers.
    let v = eval(&mut s, "(send c (list (self))) (receive)");
    assert_eq!(v, Value::Int(12));
    let after = s.actors();
    assert_eq!(after[0].state, ActorState::Waiting);
    assert_eq!(after[0].mailbox, 0);
}

#[test]
fn actors_lists_live_then_ended_and_warnings_reach_the_host() {
    let mut s = session();
    eval(
        &mut s,
        "(define (bad) (error \"boom\"))
         (define (ok) 1)
         (define (wait) (receive))
         (await (spawn ok))
         (spawn bad)
         (spawn wait)
         (receive 20 nil)",
    );
    let list = s.actors();
    let states: Vec<(u32, ActorState)> = list.iter().map(|a| (a.id, a.state)).collect();
    assert_eq!(
        states,
        vec![
            (3, ActorState::Waiting),
            (1, ActorState::Done),
            (2, ActorState::Failed)
        ]
    );
    let w = s.take_actor_warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].0.code, Code::W0401);
    assert!(w[0].0.message.contains("actor 2"), "{}", w[0].0.message);
    assert!(w[0].0.message.contains("boom"), "{}", w[0].0.message);
    assert!(w[0].1.is_some(), "the spawn's source is known");
    // Reported once.
    assert!(s.take_actor_warnings().is_empty());
    // :reset forgets them; ids go on counting.
    s.reset_actors();
    assert!(s.actors().is_empty());
    assert_eq!(eval(&mut s, "(spawn ok)"), Value::Actor(4));
}

#[test]
fn an_awaited_failure_is_not_reported() {
    let mut s = session();
    eval(
        &mut s,
        "(define (bad) (error \"boom\")) (define b (spawn bad)) (try (await b) (catch e 'seen))",
    );
    assert!(s.take_actor_warnings().is_empty());
}

#[test]
fn interrupt_and_limits_stop_every_actor() {
    let mut s = session();
    s.limits = Limits {
        steps: 200_000,
        ..Limits::DEFAULT
    };
    eval(&mut s, "(define (spin) (spin)) (define (wait) (receive))");
    assert_eq!(
        kind_of(&mut s, "(spawn wait) (spawn spin) (receive)"),
        ErrorKind::StepLimit
    );
    assert!(s.actors().iter().all(|a| a.state == ActorState::Failed));
    assert_eq!(s.vm().live_actors(), 0);
    still_usable(&mut s);

    s.limits = Limits {
        timeout_ms: Some(200),
        ..Limits::DEFAULT
    };
    let t = Instant::now();
    assert_eq!(
        kind_of(&mut s, "(spawn spin) (sleep 100000)"),
        ErrorKind::Timeout
    );
    assert!(t.elapsed() < Duration::from_millis(1_500));
    assert_eq!(s.vm().live_actors(), 0);

    s.limits = Limits::DEFAULT;
    let interrupt = s.interrupt();
    let h = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        interrupt.raise();
    });
    assert_eq!(
        kind_of(&mut s, "(spawn spin) (spawn spin) (receive)"),
        ErrorKind::Interrupted
    );
    h.join().expect("thread");
    assert_eq!(s.vm().live_actors(), 0);
    still_usable(&mut s);
}

#[test]
fn memory_of_every_actor_counts() {
    let mut s = session();
    s.limits = Limits {
        memory: 8 << 20,
        actors: 1_000_000,
        ..Limits::DEFAULT
    };
    eval(
        &mut s,
        "(define (wait) (receive)) (define (many n) (when (> n 0) (spawn wait) (many (- n 1))))",
    );
    // Each idle actor's stack counts: 8 MiB cannot hold 100,000 of them.
    assert_eq!(kind_of(&mut s, "(many 100000)"), ErrorKind::MemoryLimit);
    s.reset_actors();
    still_usable(&mut s);
}

#[test]
fn hostile_programs_get_the_kinds_of_section_9() {
    let mut s = session();
    eval(&mut s, "(define (wait) (receive)) (define (id x) x)");
    // Await itself.
    assert_eq!(kind_of(&mut s, "(await (self))"), ErrorKind::Deadlock);
    // Deadlock of actor 0.
    assert_eq!(kind_of(&mut s, "(receive)"), ErrorKind::Deadlock);
    assert_eq!(kind_of(&mut s, "(await (spawn wait))"), ErrorKind::Deadlock);
    // Spawn a non-procedure.
    assert_eq!(kind_of(&mut s, "(spawn (id 42))"), ErrorKind::Type);
    // Kill actor 0.
    assert_eq!(
        kind_of(&mut s, "(define (k m) (kill m)) (spawn k (self)) (receive)"),
        ErrorKind::Killed
    );
    still_usable(&mut s);
    // Kill itself.
    assert_eq!(kind_of(&mut s, "(kill (self))"), ErrorKind::Killed);
    // A full mailbox.
    assert_eq!(
        kind_of(&mut s, "(define (f n) (send (self) n) (f (+ n 1))) (f 0)"),
        ErrorKind::Limit
    );
    // Send to a dead actor.
    assert_eq!(
        eval(&mut s, "(define d (spawn id 1)) (await d) (send d 2)"),
        Value::Bool(false)
    );
    // Spawning until the limit.
    s.limits = Limits {
        actors: 50,
        ..Limits::DEFAULT
    };
    assert_eq!(
        kind_of(
            &mut s,
            "(define (many n) (spawn wait) (many (+ n 1))) (many 0)"
        ),
        ErrorKind::Limit
    );
    assert_eq!(s.vm().live_actors(), 49);
    s.reset_actors();
    still_usable(&mut s);
    // A revoked capability applies at the next call.
    s.revoke(Capability::SysCreateActor);
    assert_eq!(kind_of(&mut s, "(spawn wait)"), ErrorKind::CapabilityDenied);
}

#[test]
fn garbage_collection_keeps_what_actors_hold() {
    let mut s = session();
    eval(
        &mut s,
        "(define (holder xs) (receive) (send (receive) (length xs)))
         (define h (spawn holder (map (lambda (i) (list i i)) (range 1000))))
         (define (garbage n) (when (> n 0) (make-vector 1000 n) (garbage (- n 1))))
         (send h (list 1 2 3))",
    );
    s.collect_garbage();
    eval(&mut s, "(garbage 2000)");
    s.collect_garbage();
    assert_eq!(eval(&mut s, "(send h (self)) (receive)"), Value::Int(1000));
}

#[test]
fn an_actor_id_is_a_host_value_in_rust() {
    let mut s = session();
    assert_eq!(eval(&mut s, "(self)"), Value::Actor(0));
    assert_eq!(eval(&mut s, "(spawn (lambda () 1))"), Value::Actor(1));
}

#[test]
fn spawn_and_kill_are_uses_of_their_capabilities_for_analysis() {
    let s = Session::new();
    let text = "(define (worker) 1)\n(define (start) (spawn worker))\n(define (boss a) (start) (kill a))\n(start)";
    let a = s.check(&jue_engine::SourceFile::new("caps.jue", text));
    // Inference through user functions: `boss` needs both via `start`.
    let needs = |name: &str| {
        a.definitions
            .iter()
            .find(|d| d.name == name)
            .map(|d| d.needs)
            .expect("defined")
    };
    assert!(needs("start").contains(Capability::SysCreateActor));
    assert!(!needs("worker").contains(Capability::SysCreateActor));
    assert!(needs("boss").contains(Capability::SysCreateActor));
    assert!(needs("boss").contains(Capability::SysTerminateActor));
    // The REPL's pre-flight question asks for what the input's forms run:
    // `(start)` spawns; `boss` is only defined.
    assert!(a.input_needs.contains(Capability::SysCreateActor));
    assert!(!a.input_needs.contains(Capability::SysTerminateActor));
    // W0301 at the names `spawn` and `kill`, not granted nor declared.
    let w: Vec<(u32, u32)> = a
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::W0301)
        .map(|d| (d.span.start, d.span.end))
        .collect();
    let at = |needle: &str| {
        let i = text.find(needle).expect("in text") as u32 + 1;
        (i, i + needle.len() as u32 - 1)
    };
    assert_eq!(w, vec![at("(spawn"), at("(kill")]);
    // Declared: no warning.
    let d = s.check(&jue_engine::SourceFile::new(
        "decl.jue",
        "(require-capability SysCreateActor)\n(spawn (lambda () 1))",
    ));
    assert!(
        d.diagnostics.iter().all(|d| d.code != Code::W0301),
        "{:?}",
        d.diagnostics
    );
    // Formal code cannot use the actor built-ins (tier empirical); `actor?` is formal.
    let f = s.check(&jue_engine::SourceFile::new(
        "formal.jue",
        "@formal\n(define (f x) (send x 1))\n@formal\n(define (g x) (actor? x))",
    ));
    let e: Vec<Code> = f.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(e, vec![Code::E0201], "{:?}", f.diagnostics);
}

//! Blocking host calls made by actors run off the VM thread (language §9): eight
//! actors each fetching a URL that takes 300 ms from a loopback server finish
//! in about 300 ms, not 2.4 s; an embedder's function registered as blocking
//! does the same; the deadline still bounds the evaluation.

use jue_engine::ffi::{FfiFunction, HostFunction, SourceLocation, Value as HostValue};
use jue_engine::{Capability, ErrorKind, EvalError, GrantSource, Limits, Session};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

/// A loopback HTTP server answering every request after `delay`, each on its
/// own thread; returns its port.
fn slow_server(delay: Duration) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut line = String::new();
                // Read the request head up to the empty line.
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                std::thread::sleep(delay);
                let body = "pong";
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    port
}

const FETCH8: &str = "
(define (fetch url to) (send to (net:http-get url)))
(define (start n) (when (> n 0) (spawn fetch url (self)) (start (- n 1))))
(define (gather n acc) (if (= n 0) acc (gather (- n 1) (cons (receive) acc))))
(start 8)
(gather 8 '())";

#[test]
fn eight_actors_fetching_a_slow_url_take_about_one_fetch() {
    let port = slow_server(Duration::from_millis(300));
    let mut s = Session::new();
    s.grant(Capability::SysCreateActor, None, GrantSource::CommandLine)
        .expect("grant");
    s.grant_spec(
        &format!("IoNetwork=127.0.0.1:{port}"),
        GrantSource::CommandLine,
    )
    .expect("grant net");
    s.eval_str(
        "url.jue",
        &format!("(define url \"http://127.0.0.1:{port}/\")"),
    )
    .expect("url");
    let t = Instant::now();
    let v = s.eval_str("fetch.jue", FETCH8).expect("fetches");
    let took = t.elapsed();
    let HostValue::List(items) = v else {
        panic!("a list: {v:?}")
    };
    assert_eq!(items.len(), 8);
    assert!(items.iter().all(|x| *x == HostValue::String("pong".into())));
    // One at a time would take 2.4 s.
    assert!(took < Duration::from_millis(1_200), "took {took:?}");
    assert!(took >= Duration::from_millis(300), "took {took:?}");
}

#[test]
fn an_embedders_blocking_function_runs_beside_other_actors() {
    let mut s = Session::new();
    s.grant(Capability::SysCreateActor, None, GrantSource::CommandLine)
        .expect("grant");
    let f = FfiFunction::new(
        "test:slow",
        HostFunction::Custom(100),
        None,
        ["Int"],
        "Int",
        "Waits 300 ms, then gives its argument back.",
        SourceLocation::default(),
    )
    .with_implementation(|args: &[HostValue]| {
        std::thread::sleep(Duration::from_millis(300));
        Ok(args[0].clone())
    })
    .with_blocking(true);
    s.register_function(f).expect("registers");
    let t = Instant::now();
    let v = s
        .eval_str(
            "slow.jue",
            "(define (work i to) (send to (test:slow i)))
             (define (start n) (when (> n 0) (spawn work n (self)) (start (- n 1))))
             (define (gather n acc) (if (= n 0) acc (gather (- n 1) (+ acc (receive)))))
             (start 8)
             (gather 8 0)",
        )
        .expect("runs");
    assert_eq!(v, HostValue::Int(36));
    let took = t.elapsed();
    assert!(took < Duration::from_millis(1_200), "took {took:?}");
    // While they wait, `:actors` shows them in their host call.
    let t = Instant::now();
    let v = s
        .eval_str(
            "count.jue",
            "(define (w) (test:slow 1)) (spawn w) (spawn w) (define (spin n) (if (= n 0) 'ok (spin (- n 1)))) (spin 10000)",
        )
        .expect("runs");
    assert_eq!(v, HostValue::Symbol("ok".into()));
    assert!(
        t.elapsed() < Duration::from_millis(250),
        "the main actor did not wait"
    );
    let states: Vec<&str> = s.actors().iter().map(|a| a.state.name()).collect();
    assert!(states.contains(&"in host call"), "{states:?}");
    s.finish_host_calls();
}

#[test]
fn the_deadline_bounds_an_evaluation_waiting_on_host_calls() {
    let port = slow_server(Duration::from_millis(3_000));
    let mut s = Session::new();
    s.limits = Limits {
        timeout_ms: Some(300),
        ..Limits::DEFAULT
    };
    s.grant(Capability::SysCreateActor, None, GrantSource::CommandLine)
        .expect("grant");
    s.grant_spec(
        &format!("IoNetwork=127.0.0.1:{port}"),
        GrantSource::CommandLine,
    )
    .expect("grant net");
    let t = Instant::now();
    let r = s.eval_str(
        "fetch.jue",
        &format!("(define url \"http://127.0.0.1:{port}/\") {FETCH8}"),
    );
    match r {
        Err(EvalError::Runtime(e)) => assert_eq!(e.kind, ErrorKind::Timeout),
        other => panic!("{other:?}"),
    }
    assert!(
        t.elapsed() < Duration::from_millis(1_000),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(
        s.eval_str("after.jue", "(+ 1 2)").expect("usable"),
        HostValue::Int(3)
    );
}

//! Steady memory for long-running hosts (issue 14, point 1): code and source of an
//! evaluation live only while something reachable needs them, and calls leave
//! nothing behind. The long loops with resident memory are `#[ignore]`d and run in
//! release mode (`cargo test --release -p jue-engine --test embed_memory -- --ignored`).

use jue_engine::{Session, SourceFile, Value};

fn session() -> Session {
    Session::with_output(jue_engine::vm::output::Output::new(Box::new(
        std::io::sink(),
    )))
}

#[test]
fn evals_replacing_a_global_keep_code_and_sources_bounded() {
    let mut s = session();
    s.eval_str("<warm>", "(define keep (lambda (x) (* x 2)))")
        .unwrap();
    s.collect_garbage();
    let base = s.code_stats();
    let mut peak = base;
    for i in 0..5_000 {
        let text = format!(
            "(define current (lambda (x) (+ x {i} (string-length \"{}\"))))",
            "y".repeat(200)
        );
        s.eval_str("<loop>", &text).unwrap();
        let st = s.code_stats();
        peak.protos = peak.protos.max(st.protos);
        peak.sources = peak.sources.max(st.sources);
    }
    // Collections run as code accumulates: never more than a few hundred extra.
    assert!(
        peak.protos < base.protos * 2 + 600,
        "protos grew to {} from {}",
        peak.protos,
        base.protos
    );
    assert!(
        peak.sources < base.sources + 600,
        "sources grew to {} from {}",
        peak.sources,
        base.sources
    );
    s.collect_garbage();
    let end = s.code_stats();
    // What lives: the prelude, `keep`, the last `current` (and the last eval's pin).
    assert!(end.protos <= base.protos + 4, "{end:?} vs {base:?}");
    assert!(end.sources <= base.sources + 2, "{end:?} vs {base:?}");
    // Both definitions still run after all those collections.
    assert_eq!(s.call("keep", &[Value::Int(21)]).unwrap(), Value::Int(42));
    assert_eq!(
        s.call("current", &[Value::Int(0)]).unwrap(),
        Value::Int(4_999 + 200)
    );
}

#[test]
fn code_that_a_live_closure_needs_survives() {
    let mut s = session();
    // A closure made by a top-level form, kept only in a global's list.
    s.eval_str(
        "<a>",
        "(define adders (list ((lambda (n) (lambda (x) (+ x n))) 5)))",
    )
    .unwrap();
    for _ in 0..600 {
        s.eval_str("<b>", "(define junk (lambda () 1))").unwrap();
    }
    s.collect_garbage();
    assert_eq!(
        s.eval_str("<c>", "((car adders) 1)").unwrap(),
        Value::Int(6)
    );
    // Its source is still there for error reports.
    s.eval_str("<d>", "(define (bad x) (car x))").unwrap();
    for _ in 0..600 {
        s.eval_str("<b>", "(define junk (lambda () 1))").unwrap();
    }
    s.collect_garbage();
    let err = match s.eval(SourceFile::new("<e>", "(bad 1)")) {
        Err(jue_engine::EvalError::Runtime(e)) => e,
        other => panic!("expected a runtime error, got {other:?}"),
    };
    let frame = err
        .stack
        .iter()
        .find(|f| f.function == "bad")
        .expect("bad on the stack");
    let src = s.source(frame.source).expect("the source of `bad` is kept");
    assert_eq!(src.name(), "<d>");
}

#[test]
fn calls_with_list_and_string_arguments_leave_nothing_behind() {
    let mut s = session();
    s.eval_str(
        "<def>",
        "(define (f xs s) (+ (length xs) (string-length s)))",
    )
    .unwrap();
    // The first call makes the two-argument trampoline, kept for good.
    s.call("f", &[Value::Nil, Value::String(String::new())])
        .unwrap();
    s.collect_garbage();
    let code = s.code_stats();
    let text = "x".repeat(10_000);
    for i in 0..30_000i64 {
        let args = [
            Value::List(vec![
                Value::Int(i),
                Value::Int(2),
                Value::String("a".into()),
            ]),
            Value::String(text.clone()),
        ];
        assert_eq!(s.call("f", &args).unwrap(), Value::Int(10_003));
    }
    // 30,000 calls with 10 KB strings are 300 MB of arguments: far past the
    // default memory limit, had they been kept.
    assert_eq!(s.code_stats(), code);
    s.collect_garbage();
    assert!(
        s.vm().heap.live_bytes() < 4 << 20,
        "heap holds {} bytes",
        s.vm().heap.live_bytes()
    );
    assert_eq!(
        s.eval_str("<after>", "(list 1 2)").unwrap(),
        Value::List(vec![Value::Int(1), Value::Int(2)])
    );
}

/// Resident set size in KB (Linux), or `None` elsewhere.
fn rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
#[ignore = "long: run in release mode (CI does)"]
fn a_million_calls_and_100k_evals_keep_resident_memory_flat() {
    let mut s = session();
    s.eval_str(
        "<def>",
        "(define (f xs s) (+ (length xs) (string-length s)))",
    )
    .unwrap();
    let text = "x".repeat(1_000);
    let call = |s: &mut Session, i: i64| {
        let args = [
            Value::List(vec![
                Value::Int(i),
                Value::String("abc".into()),
                Value::Float(1.5),
            ]),
            Value::String(text.clone()),
        ];
        assert_eq!(s.call("f", &args).unwrap(), Value::Int(1_003));
    };
    for i in 0..100_000 {
        call(&mut s, i);
    }
    let Some(warm) = rss_kb() else { return };
    for i in 0..1_000_000 {
        call(&mut s, i);
    }
    let after_calls = rss_kb().unwrap_or(warm);
    eprintln!("calls: RSS {warm} KB after warm-up, {after_calls} KB after 1,000,000 calls");
    assert!(
        after_calls < warm + 20 * 1024,
        "RSS grew by {} KB over the calls",
        after_calls - warm
    );
    for i in 0..10_000 {
        s.eval_str("<e>", &format!("(define g (lambda (x) (+ x {i})))"))
            .unwrap();
    }
    let warm = rss_kb().unwrap_or(0);
    for i in 0..100_000 {
        s.eval_str(
            "<e>",
            &format!("(define g (lambda (x) (+ x {i} (string-length \"{text}\"))))"),
        )
        .unwrap();
    }
    let after_evals = rss_kb().unwrap_or(warm);
    eprintln!("evals: RSS {warm} KB after warm-up, {after_evals} KB after 100,000 evals");
    assert!(
        after_evals < warm + 20 * 1024,
        "RSS grew by {} KB over the evals",
        after_evals - warm
    );
}

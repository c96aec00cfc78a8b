//! Steady memory in a long-running host: many calls with fresh arguments and
//! many evaluations replacing one global leave the code and the heap bounded.
//!
//! `cargo run --release -p jue-engine --example embed_steady_memory -- 1000000`
//! (the test runs it with small counts; the long loops are in
//! `engine/tests/embed_memory.rs`, ignored by default).

use jue_engine::{Output, Session, Value};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let calls: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    run(calls, calls / 10)
}

fn run(calls: u64, evals: u64) -> Result<(), Box<dyn std::error::Error>> {
    let mut s = Session::with_output(Output::new(Box::new(std::io::sink())));
    s.eval_str(
        "setup",
        "(define (score xs label) (+ (length xs) (string-length label)))",
    )?;
    let label = "x".repeat(1_000);
    let mut peak_protos = 0;
    for i in 0..calls {
        let xs = Value::List(vec![
            Value::Int(i as i64),
            Value::Float(0.5),
            Value::String("a".into()),
        ]);
        let v = s.call("score", &[xs, Value::String(label.clone())])?;
        assert_eq!(v, Value::Int(1_003));
    }
    for i in 0..evals {
        s.eval_str("reload", &format!("(define (handler x) (+ x {i}))"))?;
        peak_protos = peak_protos.max(s.code_stats().protos);
    }
    s.collect_garbage();
    let stats = s.code_stats();
    println!(
        "{calls} calls, {evals} evals: {} prototypes and {} sources live (peak {peak_protos}), heap {} KB",
        stats.protos,
        stats.sources,
        s.vm().heap.live_bytes() / 1024
    );
    assert!(peak_protos < 2_000, "code grew to {peak_protos} prototypes");
    assert!(s.vm().heap.live_bytes() < 8 << 20);
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn example_runs() {
        super::run(20_000, 3_000).expect("the example runs");
    }
}

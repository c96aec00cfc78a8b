//! Typed registration: the registry entry comes from the Rust types, arguments
//! and results are converted and checked both ways.
//!
//! `cargo run -p jue-engine --example embed_typed` (also run by `cargo test`).

use jue_engine::{Capability, EvalError, GrantSource, Output, Session, TrustTier, Value};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut s = Session::with_output(Output::new(Box::new(std::io::sink())));
    s.register_fn("app:hypot", |a: f64, b: f64| a.hypot(b))?;
    s.register_fn("app:mean", |xs: Vec<f64>| -> Option<f64> {
        (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
    })?;
    s.register_fn_with(
        "app:uptime",
        Some(Capability::SysClock),
        TrustTier::Empirical,
        "Seconds up.",
        || 42i64,
    )?;
    for name in ["app:hypot", "app:mean", "app:uptime"] {
        if let Some(f) = s.registry().find_function(name) {
            println!(
                "{name}: ({}) -> {}",
                f.parameter_types.join(" "),
                f.return_type
            );
        }
    }
    // An Int widens where a float is expected.
    assert_eq!(s.eval_str("t", "(app:hypot 3 4)")?, Value::Float(5.0));
    assert_eq!(
        s.eval_str("t", "(app:mean (list 1 2.5 4.5))")?,
        Value::Float(8.0 / 3.0)
    );
    assert_eq!(s.eval_str("t", "(app:mean nil)")?, Value::Nil);
    // A wrong element type is an error of kind `type` naming the argument.
    match s.eval_str("t", "(app:mean (list 1 \"x\"))") {
        Err(EvalError::Runtime(e)) => println!("{e}"),
        other => return Err(format!("expected a type error, got {other:?}").into()),
    }
    // A capability is checked before the call.
    assert!(s.eval_str("t", "(app:uptime)").is_err());
    s.grant(Capability::SysClock, None, GrantSource::Host)?;
    println!("uptime -> {}", s.eval_str("t", "(app:uptime)")?);
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn example_runs() {
        super::main().expect("the example runs");
    }
}

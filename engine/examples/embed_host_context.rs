//! Host functions with a context: per-session host data, calling back a Jue
//! procedure passed as an argument, a file read held to the granted directory,
//! and a panicking host function that becomes an error of kind `host`.
//!
//! `cargo run -p jue-engine --example embed_host_context` (also run by `cargo test`).

use jue_engine::{
    Capability, FfiFunction, GrantSource, HostCx, HostError, HostFunction, Output, Session,
    SourceLocation, TrustTier, Value,
};

/// The host's own state, one per session.
struct Metrics {
    calls: i64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut s = Session::with_output(Output::new(Box::new(std::io::sink())));
    s.set_host_data(Metrics { calls: 0 });

    // Reaches the session's host data.
    s.register_fn_cx(
        "app:tick",
        None,
        TrustTier::Empirical,
        "Counts ticks.",
        |cx: &mut HostCx<'_>| {
            let m = cx
                .host_data::<Metrics>()
                .ok_or_else(|| HostError::host("no metrics"))?;
            m.calls += 1;
            Ok::<i64, HostError>(m.calls)
        },
    )?;

    // Calls back a Jue procedure under the evaluation's limits.
    s.register_function(
        FfiFunction::new(
            "app:retry",
            HostFunction::Custom(1),
            None,
            ["Fn", "Int"],
            "Any",
            "Calls f until it returns non-nil, at most n times.",
            SourceLocation::default(),
        )
        .with_context_implementation(|cx, args| {
            let (Value::Function(f), Value::Int(n)) = (&args[0], &args[1]) else {
                return Err(HostError::type_error("expects a procedure and a count"));
            };
            for i in 0..*n {
                let v = cx.call(f, &[Value::Int(i)])?;
                if v != Value::Nil {
                    return Ok(v);
                }
            }
            Ok(Value::Nil)
        }),
    )?;
    let v = s.eval_str(
        "retry",
        "(app:retry (lambda (i) (app:tick) (if (= i 3) 'done nil)) 10)",
    )?;
    println!(
        "retry -> {v}, ticks: {}",
        s.host_data::<Metrics>().map_or(0, |m| m.calls)
    );
    assert_eq!(v, Value::Symbol("done".into()));

    // A file reader held to the IoPersist grant's directory (cap-std beneath).
    let dir = std::env::temp_dir().join(format!("jue-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("notes.txt"), "kept inside")?;
    s.register_function(
        FfiFunction::new(
            "app:read",
            HostFunction::Custom(2),
            Capability::IoPersist,
            ["String"],
            "String?",
            "Reads a file beneath the granted directory.",
            SourceLocation::default(),
        )
        .with_context_implementation(|cx, args| {
            let Value::String(p) = &args[0] else {
                return Err(HostError::type_error("expects a path"));
            };
            Ok(cx.safe_read(p)?.map_or(Value::Nil, Value::String))
        }),
    )?;
    s.grant(Capability::IoPersist, dir.to_str(), GrantSource::Host)?;
    let inside = s.call(
        "app:read",
        &[Value::String(dir.join("notes.txt").display().to_string())],
    )?;
    println!("inside -> {inside}");
    let outside = s.call("app:read", &[Value::String("/etc/passwd".into())]);
    println!(
        "outside -> {}",
        outside
            .as_ref()
            .map_or_else(|e| e.to_string(), |v| v.to_string())
    );
    assert!(outside.is_err());
    std::fs::remove_dir_all(&dir)?;

    // A panic in host code is an error of kind `host`; the session lives on.
    s.register_fn("app:fragile", |n: i64| -> i64 {
        if n < 0 {
            panic!("negative input {n}");
        }
        n * 2
    })?;
    let caught = s.eval_str("panic", "(try (app:fragile -1) (catch e (error-kind e)))")?;
    println!("panic -> {caught}");
    assert_eq!(caught, Value::Symbol("host".into()));
    assert_eq!(s.eval_str("after", "(app:fragile 21)")?, Value::Int(42));
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn example_runs() {
        super::main().expect("the example runs");
    }
}

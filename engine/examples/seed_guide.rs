//! The seed's FFI integration guide, step by step, with this engine's API:
//!
//! 1. define host functions (`math:custom-add` with a Rust closure, and a file
//!    function mapped onto the standard file reader),
//! 2. register them in an `FfiRegistry`,
//! 3. generate a call with `FfiCallGenerator`,
//! 4. generate its capability check,
//! 5. run Jue code calling them in a `Session`, without and then with the grant.
//!
//! Run with `cargo run -p jue-engine --example seed_guide`. It prints what happens
//! at each step and exits 0. (`engine/tests/examples.rs` runs the same steps
//! in-process and checks what they print.)

use jue_engine::vm::output::Output;
use jue_engine::{
    Capability, EvalError, FfiCallGenerator, FfiFunction, FfiRegistry, GrantSource, HostError,
    HostFunction, Session, SourceLocation, TrustTier, Value,
};
use std::io::Write;
use std::process::ExitCode;

#[allow(dead_code)] // `engine/tests/examples.rs` includes this file and calls `run` only.
fn main() -> ExitCode {
    match run(&mut std::io::stdout()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("seed guide failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Walks the guide's steps, writing what happens to `out`.
pub fn run(out: &mut dyn Write) -> Result<(), Box<dyn std::error::Error>> {
    // ----- Step 1: define the functions -----
    // A pure function with its own implementation: no capability, so it may claim
    // tier formal (the seed mapped it onto IoReadSensor; that is over-privilege).
    let custom_add = FfiFunction::new(
        "math:custom-add",
        HostFunction::Custom(100),
        None,
        ["Int", "Int"],
        "Int",
        "Adds two integers in the host (overflow is a host error).",
        SourceLocation::new(file!(), line!()),
    )
    .with_tier(TrustTier::Formal)
    .with_implementation(|args: &[Value]| match args {
        [Value::Int(a), Value::Int(b)] => a
            .checked_add(*b)
            .map(Value::Int)
            .ok_or_else(|| HostError::host("math:custom-add overflowed")),
        // The VM checks argument types against the signature before calling.
        _ => Err(HostError::type_error("math:custom-add takes two Ints")),
    });
    // A file function: the seed's struct literal, mapped onto the standard file
    // reader (same signature), so it gets the IoPersist scope checks for free.
    let read_config = FfiFunction {
        name: "guide:read-config".to_string(),
        host_function: HostFunction::PersistRead,
        required_capability: Some(Capability::IoPersist),
        parameter_types: vec!["String".to_string()],
        return_type: "String".to_string(),
        documentation: "Reads a configuration file inside the IoPersist scope.".to_string(),
        location: SourceLocation::new(file!(), line!()),
        ..Default::default()
    };
    writeln!(
        out,
        "step 1: defined {} ({}) and {} ({})",
        custom_add.name,
        custom_add.tier,
        read_config.name,
        read_config
            .required_capability
            .map_or("no capability".to_string(), |c| format!("needs {c}")),
    )?;

    // ----- Step 2: register them -----
    let mut registry = FfiRegistry::standard();
    registry.register_function(custom_add)?;
    registry.register_function(read_config)?;
    for name in ["math:custom-add", "guide:read-config"] {
        let i = registry.index_of(name).ok_or("not registered")?;
        let f = registry.function(i);
        writeln!(
            out,
            "step 2: registered {} {} as host function {}",
            f.name,
            registry.signature(i),
            f.host_function.id()
        )?;
    }
    // A capability function may not claim a pure tier: the registry refuses it.
    let refused = registry.register_function(
        FfiFunction::new(
            "guide:formal-read",
            HostFunction::PersistRead,
            Capability::IoPersist,
            ["String"],
            "String",
            "Refused: formal code is pure.",
            SourceLocation::default(),
        )
        .with_tier(TrustTier::Formal),
    );
    if let Err(e) = refused {
        writeln!(out, "step 2: refused guide:formal-read: {e}")?;
    }

    // ----- Step 3: generate a call -----
    let generator = FfiCallGenerator {
        registry: registry.clone(),
        location: SourceLocation::new(file!(), line!()),
    };
    let ops =
        generator.generate_ffi_call("math:custom-add", vec![Value::Int(10), Value::Int(20)])?;
    writeln!(
        out,
        "step 3: generated {} ops for (math:custom-add 10 20):",
        ops.len()
    )?;
    for op in &ops {
        writeln!(out, "  {op:?}")?;
    }
    match generator.generate_ffi_call(
        "math:custom-add",
        vec![Value::Procedure("#<fn f/1>".into()), Value::Int(1)],
    ) {
        Err(e) => writeln!(out, "step 3: a closure argument is refused: {e}")?,
        Ok(_) => return Err("a closure became a constant".into()),
    }

    // ----- Step 4: check its capability -----
    for name in ["math:custom-add", "guide:read-config"] {
        let check = generator.generate_capability_check(name)?;
        if check.is_empty() {
            writeln!(out, "step 4: {name} needs no capability check")?;
        } else {
            writeln!(out, "step 4: {name} is guarded by {check:?}")?;
        }
    }

    // ----- Step 5: run Jue code in a session -----
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("app.conf");
    std::fs::write(&config, "debug = true")?;
    let config = config.to_str().ok_or("temp path is not UTF-8")?.to_string();
    let mut session = Session::with_registry(registry, Output::stdout());
    let program =
        format!("(define (load-config) (guide:read-config {config:?}))\n(math:custom-add 10 20)");
    show(
        out,
        &mut session,
        "step 5: (math:custom-add 10 20)",
        &program,
    )?;
    show(
        out,
        &mut session,
        "step 5: (ffi-call \"math:custom-add\" 1 2)",
        "(ffi-call \"math:custom-add\" 1 2)",
    )?;
    show(
        out,
        &mut session,
        "step 5: without IoPersist, (load-config)",
        "(load-config)",
    )?;
    session.grant(
        Capability::IoPersist,
        dir.path().to_str(),
        GrantSource::Host,
    )?;
    show(
        out,
        &mut session,
        "step 5: with IoPersist, (load-config)",
        "(load-config)",
    )?;
    session.revoke(Capability::IoPersist);
    show(
        out,
        &mut session,
        "step 5: after revoke, (load-config)",
        "(load-config)",
    )?;
    for (function, capability, allowed, count) in session.audit().counts() {
        let result = if allowed { "allowed" } else { "denied" };
        writeln!(
            out,
            "audit: {function} {capability} {result} {} time(s)",
            count.count
        )?;
    }
    writeln!(out, "done")?;
    Ok(())
}

/// Evaluates `text` and prints its value or its error.
fn show(
    out: &mut dyn Write,
    session: &mut Session,
    label: &str,
    text: &str,
) -> std::io::Result<()> {
    match session.eval_str("seed_guide.jue", text) {
        Ok(v) => writeln!(out, "{label} => {v}"),
        Err(EvalError::Runtime(e)) => writeln!(out, "{label} => error {}: {}", e.kind, e.message),
        Err(e @ EvalError::Compile { .. }) => writeln!(out, "{label} => compile error {e}"),
    }
}

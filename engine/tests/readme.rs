//! The README's embedding example, kept compiling and passing.

use jue_engine::{
    Capability, FfiFunction, GrantSource, HostFunction, Session, SourceLocation, Value,
};

#[test]
fn readme_embedding_example() -> Result<(), Box<dyn std::error::Error>> {
    let mut session = Session::new();
    session.register_function(
        FfiFunction::new(
            "math:triple",
            HostFunction::Custom(100),
            None,
            ["Int"],
            "Int",
            "Triples an integer.",
            SourceLocation::default(),
        )
        .with_implementation(|args| match args {
            [Value::Int(n)] => Ok(Value::Int(n * 3)),
            _ => Err("expected an Int".into()),
        }),
    )?;
    session.grant(Capability::SysClock, None, GrantSource::Host)?;
    assert_eq!(
        session.eval_str("demo", "(math:triple 14)")?,
        Value::Int(42)
    );
    Ok(())
}

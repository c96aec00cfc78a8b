//! The standard registry (language §6): every function with its host id,
//! signature, capability, tier, documentation and implementation.

use crate::builtins::natives::{ArithOp, Ctx, NativeFn, arith2};
use crate::ffi::{Capability, HostFunction, Signature, TrustTier, Type};
use crate::host::library as lib;
use crate::vm::error::{ErrorKind, Fault, FaultResult};
use crate::vm::value::Value;

/// A standard function: name, host id, signature, tier, documentation, implementation.
pub struct StandardFn {
    /// Name.
    pub name: &'static str,
    /// Host function.
    pub host: HostFunction,
    /// Capability it requires.
    pub capability: Option<Capability>,
    /// Signature.
    pub sig: Signature,
    /// Tier.
    pub tier: TrustTier,
    /// One-line documentation.
    pub doc: &'static str,
    /// Implementation.
    pub imp: NativeFn,
}

#[inline(always)]
fn int2(a: &[Value]) -> (i64, i64) {
    match (a[0], a[1]) {
        (Value::Int(x), Value::Int(y)) => (x, y),
        _ => (0, 0),
    }
}

fn float2(a: &[Value]) -> (f64, f64) {
    match (a[0], a[1]) {
        (Value::Float(x), Value::Float(y)) => (x, y),
        _ => (0.0, 0.0),
    }
}

fn add(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let (x, y) = int2(a);
    // The overflow case (and its message) goes through the shared slow path.
    x.checked_add(y)
        .map(Value::Int)
        .map_or_else(|| arith2(ArithOp::Add, a[0], a[1]), Ok)
}
fn sub(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let (x, y) = int2(a);
    x.checked_sub(y)
        .map(Value::Int)
        .map_or_else(|| arith2(ArithOp::Sub, a[0], a[1]), Ok)
}
fn mul(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let (x, y) = int2(a);
    x.checked_mul(y)
        .map(Value::Int)
        .map_or_else(|| arith2(ArithOp::Mul, a[0], a[1]), Ok)
}
fn div(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    arith2(ArithOp::Div, a[0], a[1])
}
fn modulo(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let (x, y) = int2(a);
    if y == 0 {
        return Err(Fault::new(ErrorKind::DivisionByZero, "remainder by zero"));
    }
    Ok(Value::Int(x.checked_rem(y).unwrap_or(0)))
}
fn fadd(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let (x, y) = float2(a);
    Ok(Value::Float(x + y))
}
fn fsub(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let (x, y) = float2(a);
    Ok(Value::Float(x - y))
}
fn fmul(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let (x, y) = float2(a);
    Ok(Value::Float(x * y))
}
fn fdiv(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let (x, y) = float2(a);
    Ok(Value::Float(x / y))
}
fn int_to_float(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    match a[0] {
        Value::Int(i) => Ok(Value::Float(i as f64)),
        _ => Ok(Value::Nil),
    }
}
fn float_to_int(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let Value::Float(f) = a[0] else {
        return Ok(Value::Nil);
    };
    // `as` saturates silently; NaN, infinities and out-of-range values are errors.
    if !f.is_finite()
        || !(-crate::builtins::natives::TWO_POW_63..crate::builtins::natives::TWO_POW_63)
            .contains(&f)
    {
        return Err(Fault::new(
            ErrorKind::Overflow,
            format!("{f:?} does not fit in an Int"),
        ));
    }
    Ok(Value::Int(f.trunc() as i64))
}
fn eq(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let (x, y) = int2(a);
    Ok(Value::Bool(x == y))
}
fn lt(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let (x, y) = int2(a);
    Ok(Value::Bool(x < y))
}
fn gt(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let (x, y) = int2(a);
    Ok(Value::Bool(x > y))
}
fn feq(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let (x, y) = float2(a);
    Ok(Value::Bool(x == y))
}
fn flt(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let (x, y) = float2(a);
    Ok(Value::Bool(x < y))
}
fn fgt(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let (x, y) = float2(a);
    Ok(Value::Bool(x > y))
}

/// Every function of the standard registry, in the order of the language reference.
pub fn functions() -> Vec<StandardFn> {
    use HostFunction as H;
    use Type::{Any, Bool, Float, Int, List, String, Symbol};
    let ii = || Signature::new(&[Int, Int], Int);
    let ff = || Signature::new(&[Float, Float], Float);
    let f = TrustTier::Formal;
    let e = TrustTier::Empirical;
    let pure = |name, host, sig, tier, doc, imp| StandardFn {
        name,
        host,
        capability: None,
        sig,
        tier,
        doc,
        imp,
    };
    let cap = |name, host, sig, c, doc, imp| StandardFn {
        name,
        host,
        capability: Some(c),
        sig,
        tier: e,
        doc,
        imp,
    };
    let fs_doc_read = "Reads a UTF-8 file inside the granted IoPersist directories.";
    let http_doc = "HTTP(S) GET of a URL allowed by the IoNetwork grants; returns the body (30 s timeout, 16 MiB cap).";
    let db_doc = "Runs one SQL statement on an SQLite file with `?` parameters bound; returns rows as lists, or nil.";
    vec![
        pure(
            "add",
            H::IntAdd,
            ii(),
            f,
            "Adds two integers; overflow is an error.",
            add as NativeFn,
        ),
        pure(
            "sub",
            H::IntSub,
            ii(),
            f,
            "Subtracts the second integer from the first.",
            sub,
        ),
        pure(
            "mul",
            H::IntMul,
            ii(),
            f,
            "Multiplies two integers; overflow is an error.",
            mul,
        ),
        pure(
            "div",
            H::IntDiv,
            ii(),
            f,
            "Integer quotient, truncated toward zero; by zero is an error.",
            div,
        ),
        pure(
            "mod",
            H::IntMod,
            ii(),
            f,
            "Integer remainder with the sign of the dividend.",
            modulo,
        ),
        pure(
            "math:add",
            H::IntAdd,
            ii(),
            f,
            "Adds two integers (namespaced form of `add`).",
            add,
        ),
        pure("fadd", H::FloatAdd, ff(), f, "Adds two floats.", fadd),
        pure("fsub", H::FloatSub, ff(), f, "Subtracts two floats.", fsub),
        pure("fmul", H::FloatMul, ff(), f, "Multiplies two floats.", fmul),
        pure(
            "fdiv",
            H::FloatDiv,
            ff(),
            f,
            "Divides two floats (IEEE: by zero gives inf).",
            fdiv,
        ),
        pure(
            "int-to-float",
            H::IntToFloat,
            Signature::new(&[Int], Float),
            f,
            "Converts an integer to a float.",
            int_to_float,
        ),
        pure(
            "float-to-int",
            H::FloatToInt,
            Signature::new(&[Float], Int),
            TrustTier::Verified,
            "Truncates a float to an integer; NaN, infinities and out of range are `overflow` errors.",
            float_to_int,
        ),
        pure(
            "eq",
            H::IntEq,
            Signature::new(&[Int, Int], Bool),
            f,
            "Whether two integers are equal.",
            eq,
        ),
        pure(
            "lt",
            H::IntLt,
            Signature::new(&[Int, Int], Bool),
            f,
            "Whether the first integer is less than the second.",
            lt,
        ),
        pure(
            "gt",
            H::IntGt,
            Signature::new(&[Int, Int], Bool),
            f,
            "Whether the first integer is greater than the second.",
            gt,
        ),
        pure(
            "feq",
            H::FloatEq,
            Signature::new(&[Float, Float], Bool),
            f,
            "Whether two floats are equal.",
            feq,
        ),
        pure(
            "flt",
            H::FloatLt,
            Signature::new(&[Float, Float], Bool),
            f,
            "Whether the first float is less than the second.",
            flt,
        ),
        pure(
            "fgt",
            H::FloatGt,
            Signature::new(&[Float, Float], Bool),
            f,
            "Whether the first float is greater than the second.",
            fgt,
        ),
        cap(
            "read-sensor",
            H::ReadSensor,
            Signature::new(&[], Float),
            Capability::IoReadSensor,
            "Reads the sensor named `default` (0.0 if never set).",
            lib::read_sensor,
        ),
        cap(
            "io:sensor:read",
            H::SensorRead,
            Signature::new(&[Symbol], Float),
            Capability::IoReadSensor,
            "Reads a named sensor (0.0 if never set).",
            lib::sensor_read,
        ),
        cap(
            "write-actuator",
            H::WriteActuator,
            Signature::new(&[Float], Bool),
            Capability::IoWriteActuator,
            "Writes the actuator named `default`; true once written.",
            lib::write_actuator,
        ),
        cap(
            "io:actuator:write",
            H::ActuatorWrite,
            Signature::new(&[Symbol, Float], Bool),
            Capability::IoWriteActuator,
            "Writes a named actuator; true once written.",
            lib::actuator_write,
        ),
        cap(
            "get-wall-clock",
            H::GetWallClockNs,
            Signature::new(&[], Int),
            Capability::SysClock,
            "Nanoseconds since the Unix epoch, from the real clock.",
            lib::wall_clock,
        ),
        cap(
            "fs:read-file",
            H::PersistRead,
            Signature::new(&[String], String),
            Capability::IoPersist,
            fs_doc_read,
            lib::fs_read_file,
        ),
        cap(
            "fs:safe-read",
            H::FsSafeRead,
            Signature::new(&[String], String).optional(),
            Capability::IoPersist,
            "Reads a UTF-8 file inside the granted directories; nil when missing or unreadable.",
            lib::fs_safe_read,
        ),
        cap(
            "fs:write-file",
            H::PersistWrite,
            Signature::new(&[String, String], Int),
            Capability::IoPersist,
            "Writes (creates or truncates) a file inside the granted directories; returns the bytes written.",
            lib::fs_write_file,
        ),
        cap(
            "fs:list-dir",
            H::FsListDir,
            Signature::new(&[String], List),
            Capability::IoPersist,
            "Names in a directory inside the granted directories, sorted by bytes.",
            lib::fs_list_dir,
        ),
        cap(
            "net:http-get",
            H::HttpGet,
            Signature::new(&[String], String),
            Capability::IoNetwork,
            http_doc,
            lib::http_get,
        ),
        cap(
            "http:get",
            H::HttpGet,
            Signature::new(&[String], String),
            Capability::IoNetwork,
            "Alias of `net:http-get`.",
            lib::http_get,
        ),
        cap(
            "db:query",
            H::DbQuery,
            Signature::new(&[String, String], List).rest(Any),
            Capability::IoPersist,
            db_doc,
            lib::db_query,
        ),
        cap(
            "db_query",
            H::DbQuery,
            Signature::new(&[String, String], List).rest(Any),
            Capability::IoPersist,
            "Alias of `db:query`.",
            lib::db_query,
        ),
    ]
}

/// The standard implementation and signature of a host function id, if it has one.
pub fn standard_impl(h: HostFunction) -> Option<(Signature, NativeFn)> {
    functions()
        .into_iter()
        .find(|f| f.host == h)
        .map(|f| (f.sig, f.imp))
}

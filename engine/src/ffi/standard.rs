//! The standard registry's pure functions (language §6): integer and float
//! arithmetic and comparisons, with upstream's host ids 9–25 and `math:add`.

use crate::builtins::natives::{ArithOp, Ctx, NativeFn, arith2};
use crate::ffi::{Signature, TrustTier, Type};
use crate::vm::error::{ErrorKind, Fault, FaultResult};
use crate::vm::value::Value;

/// A standard function: name, host id, signature, tier, documentation, implementation.
pub struct StandardFn {
    /// Name.
    pub name: &'static str,
    /// Upstream host function id.
    pub host_id: u16,
    /// Signature.
    pub sig: Signature,
    /// Tier.
    pub tier: TrustTier,
    /// One-line documentation.
    pub doc: &'static str,
    /// Implementation.
    pub imp: NativeFn,
}

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
    arith2(ArithOp::Add, a[0], a[1])
}
fn sub(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    arith2(ArithOp::Sub, a[0], a[1])
}
fn mul(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    arith2(ArithOp::Mul, a[0], a[1])
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
    if f.is_nan() || f.is_infinite() || f >= 9.223372036854775807e18 || f < -9.223372036854775808e18
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

/// The pure functions of the standard registry.
pub fn pure_functions() -> Vec<StandardFn> {
    use Type::{Bool, Float, Int};
    let ii = || Signature::new(&[Int, Int], Int);
    let ff = || Signature::new(&[Float, Float], Float);
    let f = TrustTier::Formal;
    let s = |name, host_id, sig, tier, doc, imp| StandardFn {
        name,
        host_id,
        sig,
        tier,
        doc,
        imp,
    };
    vec![
        s(
            "add",
            9,
            ii(),
            f,
            "Adds two integers; overflow is an error.",
            add as NativeFn,
        ),
        s(
            "sub",
            10,
            ii(),
            f,
            "Subtracts the second integer from the first.",
            sub,
        ),
        s(
            "mul",
            11,
            ii(),
            f,
            "Multiplies two integers; overflow is an error.",
            mul,
        ),
        s(
            "div",
            12,
            ii(),
            f,
            "Integer quotient, truncated toward zero; by zero is an error.",
            div,
        ),
        s(
            "mod",
            13,
            ii(),
            f,
            "Integer remainder with the sign of the dividend.",
            modulo,
        ),
        s(
            "math:add",
            9,
            ii(),
            f,
            "Adds two integers (namespaced form of `add`).",
            add,
        ),
        s("fadd", 14, ff(), f, "Adds two floats.", fadd),
        s("fsub", 15, ff(), f, "Subtracts two floats.", fsub),
        s("fmul", 16, ff(), f, "Multiplies two floats.", fmul),
        s(
            "fdiv",
            17,
            ff(),
            f,
            "Divides two floats (IEEE: by zero gives inf).",
            fdiv,
        ),
        s(
            "int-to-float",
            18,
            Signature::new(&[Int], Float),
            f,
            "Converts an integer to a float.",
            int_to_float,
        ),
        s(
            "float-to-int",
            19,
            Signature::new(&[Float], Int),
            TrustTier::Verified,
            "Truncates a float to an integer; NaN, infinities and out of range are `overflow` errors.",
            float_to_int,
        ),
        s(
            "eq",
            20,
            Signature::new(&[Int, Int], Bool),
            f,
            "Whether two integers are equal.",
            eq,
        ),
        s(
            "lt",
            21,
            Signature::new(&[Int, Int], Bool),
            f,
            "Whether the first integer is less than the second.",
            lt,
        ),
        s(
            "gt",
            22,
            Signature::new(&[Int, Int], Bool),
            f,
            "Whether the first integer is greater than the second.",
            gt,
        ),
        s(
            "feq",
            23,
            Signature::new(&[Float, Float], Bool),
            f,
            "Whether two floats are equal.",
            feq,
        ),
        s(
            "flt",
            24,
            Signature::new(&[Float, Float], Bool),
            f,
            "Whether the first float is less than the second.",
            flt,
        ),
        s(
            "fgt",
            25,
            Signature::new(&[Float, Float], Bool),
            f,
            "Whether the first float is greater than the second.",
            fgt,
        ),
    ]
}

//! The pure functions of the standard registry (`add`, `fadd`, `float-to-int`, …)
//! as natives over VM values. The host floor maps host ids to these and to its own
//! functions (`host::library::standard_native`).

use super::error::{ErrorKind, Fault, FaultResult};
use super::natives::{ArithOp, Ctx, NativeFn, TWO_POW_63, arith2};
use super::value::Value;
use crate::ground::ffi::HostFunction;

/// The native of a pure standard function, by host id.
pub fn native(h: HostFunction) -> Option<NativeFn> {
    use HostFunction as H;
    Some(match h {
        H::IntAdd => add,
        H::IntSub => sub,
        H::IntMul => mul,
        H::IntDiv => div,
        H::IntMod => modulo,
        H::FloatAdd => fadd,
        H::FloatSub => fsub,
        H::FloatMul => fmul,
        H::FloatDiv => fdiv,
        H::IntToFloat => int_to_float,
        H::FloatToInt => float_to_int,
        H::IntEq => eq,
        H::IntLt => lt,
        H::IntGt => gt,
        H::FloatEq => feq,
        H::FloatLt => flt,
        H::FloatGt => fgt,
        _ => return None,
    })
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
    if !f.is_finite() || !(-TWO_POW_63..TWO_POW_63).contains(&f) {
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

//! The pure functions of the standard registry (`add`, `fadd`, `float-to-int`, …)
//! as natives over VM values. The host floor maps host ids to these and to its own
//! functions (`host::library::standard_native`).

use super::error::{ErrorKind, Fault, FaultResult};
use super::natives::{ArithOp, Ctx, NativeFn, TWO_POW_63, arith2};
use super::value::Value;
use crate::ground::ffi::HostFunction;

/// A pure standard function: its arguments only, no context (so a host call
/// of one builds none).
pub type PureFn = fn(&[Value]) -> FaultResult<Value>;

/// The pure standard function of a host id.
pub fn pure(h: HostFunction) -> Option<PureFn> {
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

/// The native of a pure standard function, by host id (for callers that hold
/// natives; the VM calls them as [`pure`] functions).
pub fn native(h: HostFunction) -> Option<NativeFn> {
    macro_rules! wrap {
        ($($id:ident => $f:ident),* $(,)?) => {
            match h {
                $(HostFunction::$id => Some(|_: &mut Ctx<'_>, a: &[Value]| $f(a)),)*
                _ => None,
            }
        };
    }
    wrap!(
        IntAdd => add, IntSub => sub, IntMul => mul, IntDiv => div, IntMod => modulo,
        FloatAdd => fadd, FloatSub => fsub, FloatMul => fmul, FloatDiv => fdiv,
        IntToFloat => int_to_float, FloatToInt => float_to_int, IntEq => eq,
        IntLt => lt, IntGt => gt, FloatEq => feq, FloatLt => flt, FloatGt => fgt,
    )
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

fn add(a: &[Value]) -> FaultResult<Value> {
    let (x, y) = int2(a);
    // The overflow case (and its message) goes through the shared slow path.
    x.checked_add(y)
        .map(Value::Int)
        .map_or_else(|| arith2(ArithOp::Add, a[0], a[1]), Ok)
}
fn sub(a: &[Value]) -> FaultResult<Value> {
    let (x, y) = int2(a);
    x.checked_sub(y)
        .map(Value::Int)
        .map_or_else(|| arith2(ArithOp::Sub, a[0], a[1]), Ok)
}
fn mul(a: &[Value]) -> FaultResult<Value> {
    let (x, y) = int2(a);
    x.checked_mul(y)
        .map(Value::Int)
        .map_or_else(|| arith2(ArithOp::Mul, a[0], a[1]), Ok)
}
fn div(a: &[Value]) -> FaultResult<Value> {
    arith2(ArithOp::Div, a[0], a[1])
}
fn modulo(a: &[Value]) -> FaultResult<Value> {
    let (x, y) = int2(a);
    if y == 0 {
        return Err(Fault::new(ErrorKind::DivisionByZero, "remainder by zero"));
    }
    Ok(Value::Int(x.checked_rem(y).unwrap_or(0)))
}
fn fadd(a: &[Value]) -> FaultResult<Value> {
    let (x, y) = float2(a);
    Ok(Value::Float(x + y))
}
fn fsub(a: &[Value]) -> FaultResult<Value> {
    let (x, y) = float2(a);
    Ok(Value::Float(x - y))
}
fn fmul(a: &[Value]) -> FaultResult<Value> {
    let (x, y) = float2(a);
    Ok(Value::Float(x * y))
}
fn fdiv(a: &[Value]) -> FaultResult<Value> {
    let (x, y) = float2(a);
    Ok(Value::Float(x / y))
}
fn int_to_float(a: &[Value]) -> FaultResult<Value> {
    match a[0] {
        Value::Int(i) => Ok(Value::Float(i as f64)),
        _ => Ok(Value::Nil),
    }
}
fn float_to_int(a: &[Value]) -> FaultResult<Value> {
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
fn eq(a: &[Value]) -> FaultResult<Value> {
    let (x, y) = int2(a);
    Ok(Value::Bool(x == y))
}
fn lt(a: &[Value]) -> FaultResult<Value> {
    let (x, y) = int2(a);
    Ok(Value::Bool(x < y))
}
fn gt(a: &[Value]) -> FaultResult<Value> {
    let (x, y) = int2(a);
    Ok(Value::Bool(x > y))
}
fn feq(a: &[Value]) -> FaultResult<Value> {
    let (x, y) = float2(a);
    Ok(Value::Bool(x == y))
}
fn flt(a: &[Value]) -> FaultResult<Value> {
    let (x, y) = float2(a);
    Ok(Value::Bool(x < y))
}
fn fgt(a: &[Value]) -> FaultResult<Value> {
    let (x, y) = float2(a);
    Ok(Value::Bool(x > y))
}

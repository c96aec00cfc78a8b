//! Implementations of the native built-ins. Each takes its arguments as a slice
//! (already counted by the caller against the signature) and returns a value or a
//! fault. List walks are loops; nothing here recurses on nested data.

use super::error::{ErrorKind, Fault, FaultResult};
use super::heap::{Heap, Obj};
use super::limits::Interrupt;
use super::meter::Meter;
use super::output::Output;
use super::printer::{self, PrintCtx};
use super::symbols::Symbols;
use super::value::Value;
use crate::ground::builtins::{self, Imp};
use crate::ground::bytecode::Proto;
use std::any::Any;
use std::cmp::Ordering;
use std::sync::LazyLock;
use std::time::Instant;

/// What a native may touch.
pub struct Ctx<'a> {
    /// The heap, to read and allocate.
    pub heap: &'a mut Heap,
    /// Symbols, to intern and name.
    pub symbols: &'a mut Symbols,
    /// Program output.
    pub out: &'a mut Output,
    /// Compiled functions (for printing closures).
    pub protos: &'a [Proto<Value>],
    /// FFI names (for printing FFI values).
    pub ffi_names: &'a [Box<str>],
    /// The host's own state, for host functions (the VM never looks inside).
    pub host: &'a mut (dyn Any + Send),
    /// When the running evaluation must stop, if it has a time limit: host
    /// functions are not interrupted, so they bound their own waits by it.
    pub deadline: Option<Instant>,
    /// The interrupt flag (Ctrl-C, a host's request), for work that waits.
    pub interrupt: &'a Interrupt,
    /// Where the built-in charges its work.
    pub meter: Meter<'a>,
}

impl Ctx<'_> {
    /// The printed form of a value (`raw`: a top-level string as is), charged to
    /// the meter and bounded by the memory left.
    pub fn show(&mut self, v: Value, raw: bool) -> FaultResult<String> {
        let mut s = String::new();
        self.write_printed(&mut s, v, raw)?;
        Ok(s)
    }
    /// Appends the printed form of a value, charged and bounded as [`Ctx::show`].
    pub fn write_printed(&mut self, out: &mut String, v: Value, raw: bool) -> FaultResult<()> {
        let max = out.len().saturating_add(self.meter.room);
        let pcx = PrintCtx {
            heap: self.heap,
            symbols: self.symbols,
            protos: self.protos,
            ffi_names: self.ffi_names,
        };
        let meter = &mut self.meter;
        printer::write_metered(out, v, raw, &pcx, &mut |n| meter.charge(n), max)
    }
    /// The text of a string value.
    pub fn str(&self, v: Value) -> &str {
        match v {
            Value::Str(r) => self.heap.str(r),
            _ => "",
        }
    }
}

/// What a pair accounts for in the heap (see `heap::cost`).
const PAIR_BYTES: usize = super::heap::PAIR_BYTES;

/// What an interned symbol costs besides its name (table entries).
const SYMBOL_OVERHEAD: usize = 48;

/// A native built-in.
pub type NativeFn = fn(&mut Ctx<'_>, &[Value]) -> FaultResult<Value>;

/// The native of each built-in, by the id of its declaration (`None` for the
/// prelude's functions, which are Jue code).
static BY_ID: LazyLock<Vec<Option<NativeFn>>> = LazyLock::new(|| {
    builtins::all()
        .iter()
        .map(|b| match b.imp {
            Imp::Native => by_name(b.name),
            Imp::Prelude | Imp::Vm => None,
        })
        .collect()
});

/// The native of built-in `id`.
#[inline]
pub fn builtin(id: u16) -> Option<NativeFn> {
    BY_ID.get(id as usize).copied().flatten()
}

/// Each declared native built-in's implementation.
fn by_name(name: &str) -> Option<NativeFn> {
    Some(match name {
        "+" => add,
        "*" => mul,
        "-" => sub,
        "/" => div,
        "%" => rem,
        "abs" => abs,
        "min" => min,
        "max" => max,
        "=" => num_eq,
        "<" => lt,
        ">" => gt,
        "<=" => le,
        ">=" => ge,
        "not" => not,
        "eq?" => eq,
        "equal?" => equal,
        "cons" => cons,
        "car" => car,
        "cdr" => cdr,
        "list" => list,
        "length" => length,
        "append" => append,
        "reverse" => reverse,
        "list-ref" => list_ref,
        "null?" => is_nil,
        "pair?" => is_pair,
        "list?" => is_list,
        "int?" => is_int,
        "float?" => is_float,
        "number?" => is_number,
        "string?" => is_string,
        "symbol?" => is_symbol,
        "bool?" => is_bool,
        "nil?" => is_nil,
        "procedure?" => is_procedure,
        "capability?" => is_capability,
        "actor?" => is_actor,
        "string-length" => string_length,
        "string-append" => string_append,
        "substring" => substring,
        "string=?" => string_eq,
        "string->symbol" => string_to_symbol,
        "symbol->string" => symbol_to_string,
        "number->string" => number_to_string,
        "string->number" => string_to_number,
        "to-string" => to_string,
        "error" => error,
        "error-kind" => error_kind,
        "error-message" => error_message,
        "print" => print,
        "println" => println,
        "__check-list" => check_list,
        "__reverse-fresh!" => reverse_fresh,
        _ => return super::data::by_name(name),
    })
}

#[cold]
pub(super) fn type_err(who: &str, want: &str, got: Value) -> Box<Fault> {
    Fault::new(
        ErrorKind::Type,
        format!("`{who}` expects {want}, but got {}", got.type_name()),
    )
}

// ----- numbers -----

/// Arithmetic and comparison operators shared by the VM's inline instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    /// +
    Add,
    /// -
    Sub,
    /// *
    Mul,
    /// /
    Div,
    /// <
    Lt,
    /// <=
    Le,
    /// >
    Gt,
    /// >=
    Ge,
    /// =
    NumEq,
}

impl ArithOp {
    fn name(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
            ArithOp::Lt => "<",
            ArithOp::Le => "<=",
            ArithOp::Gt => ">",
            ArithOp::Ge => ">=",
            ArithOp::NumEq => "=",
        }
    }
}

fn as_f64(v: Value) -> f64 {
    match v {
        Value::Int(i) => i as f64,
        Value::Float(f) => f,
        _ => f64::NAN,
    }
}

/// `a op b` for numbers: checked Int arithmetic, Float when either is Float.
#[cold]
#[inline(never)]
pub fn arith2(op: ArithOp, a: Value, b: Value) -> FaultResult<Value> {
    let check = |v: Value| match v {
        Value::Int(_) | Value::Float(_) => Ok(()),
        other => Err(type_err(op.name(), "numbers", other)),
    };
    check(a)?;
    check(b)?;
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        let r = match op {
            ArithOp::Add => x.checked_add(y),
            ArithOp::Sub => x.checked_sub(y),
            ArithOp::Mul => x.checked_mul(y),
            ArithOp::Div => {
                if y == 0 {
                    return Err(Fault::new(ErrorKind::DivisionByZero, "division by zero"));
                }
                x.checked_div(y)
            }
            _ => unreachable!("comparisons go through compare2"),
        };
        return r.map(Value::Int).ok_or_else(|| {
            Fault::new(
                ErrorKind::Overflow,
                format!("integer overflow in `({} {x} {y})`", op.name()),
            )
        });
    }
    let (x, y) = (as_f64(a), as_f64(b));
    Ok(Value::Float(match op {
        ArithOp::Add => x + y,
        ArithOp::Sub => x - y,
        ArithOp::Mul => x * y,
        ArithOp::Div => x / y,
        _ => unreachable!("comparisons go through compare2"),
    }))
}

/// Compares two numbers by value, Int against Float exactly.
fn cmp_num(a: Value, b: Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(&y)),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(&y),
        (Value::Int(x), Value::Float(y)) => cmp_int_float(x, y),
        (Value::Float(x), Value::Int(y)) => cmp_int_float(y, x).map(Ordering::reverse),
        _ => None,
    }
}

/// 2^63, exactly: floats at or beyond ±2^63 lie outside the range of an Int.
pub const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

fn cmp_int_float(i: i64, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    // Beyond ±2^63 the float decides; inside, compare the integer part exactly.
    if f >= TWO_POW_63 {
        return Some(Ordering::Less);
    }
    if f < -TWO_POW_63 {
        return Some(Ordering::Greater);
    }
    let t = f.trunc();
    match i.cmp(&(t as i64)) {
        Ordering::Equal if f > t => Some(Ordering::Less),
        Ordering::Equal if f < t => Some(Ordering::Greater),
        o => Some(o),
    }
}

/// `a op b` for comparisons.
#[cold]
#[inline(never)]
pub fn compare2(op: ArithOp, a: Value, b: Value) -> FaultResult<bool> {
    for v in [a, b] {
        if !matches!(v, Value::Int(_) | Value::Float(_)) {
            return Err(type_err(op.name(), "numbers", v));
        }
    }
    let o = cmp_num(a, b);
    Ok(match op {
        ArithOp::Lt => o == Some(Ordering::Less),
        ArithOp::Le => matches!(o, Some(Ordering::Less | Ordering::Equal)),
        ArithOp::Gt => o == Some(Ordering::Greater),
        ArithOp::Ge => matches!(o, Some(Ordering::Greater | Ordering::Equal)),
        ArithOp::NumEq => o == Some(Ordering::Equal),
        _ => unreachable!("arithmetic goes through arith2"),
    })
}

fn fold(op: ArithOp, init: Value, args: &[Value]) -> FaultResult<Value> {
    let mut acc = init;
    for a in args {
        acc = arith2(op, acc, *a)?;
    }
    Ok(acc)
}

fn require_number(who: &str, v: Value) -> FaultResult<()> {
    match v {
        Value::Int(_) | Value::Float(_) => Ok(()),
        other => Err(type_err(who, "a number", other)),
    }
}

/// `+`
pub fn add(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    if a.len() == 1 {
        require_number("+", a[0])?;
    }
    fold(ArithOp::Add, Value::Int(0), a)
}
/// `*`
pub fn mul(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    if a.len() == 1 {
        require_number("*", a[0])?;
    }
    fold(ArithOp::Mul, Value::Int(1), a)
}
/// `-`
pub fn sub(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    match a {
        // `(- 0.0)` is `-0.0`: a Float is negated, not subtracted from 0.
        [Value::Float(f)] => Ok(Value::Float(-f)),
        [x] => arith2(ArithOp::Sub, Value::Int(0), *x),
        [x, rest @ ..] => fold(ArithOp::Sub, *x, rest),
        [] => Err(Fault::new(
            ErrorKind::Arity,
            "`-` takes at least 1 argument",
        )),
    }
}
/// `/`
pub fn div(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    match a {
        [x] => arith2(ArithOp::Div, Value::Int(1), *x),
        [x, rest @ ..] => fold(ArithOp::Div, *x, rest),
        [] => Err(Fault::new(
            ErrorKind::Arity,
            "`/` takes at least 1 argument",
        )),
    }
}
/// `%`
pub fn rem(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    match (a[0], a[1]) {
        (Value::Int(_), Value::Int(0)) => {
            Err(Fault::new(ErrorKind::DivisionByZero, "remainder by zero"))
        }
        (Value::Int(x), Value::Int(y)) => Ok(Value::Int(x.checked_rem(y).unwrap_or(0))),
        (Value::Int(_), o) | (o, _) => Err(type_err("%", "integers", o)),
    }
}
/// `abs`
pub fn abs(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    match a[0] {
        Value::Int(i) => i
            .checked_abs()
            .map(Value::Int)
            .ok_or_else(|| Fault::new(ErrorKind::Overflow, "integer overflow in `abs`")),
        Value::Float(f) => Ok(Value::Float(f.abs())),
        o => Err(type_err("abs", "a number", o)),
    }
}
fn extreme(who: &str, a: &[Value], want: Ordering) -> FaultResult<Value> {
    let mut best = a[0];
    require_number(who, best)?;
    for v in &a[1..] {
        require_number(who, *v)?;
        if cmp_num(*v, best) == Some(want) || as_f64(*v).is_nan() {
            best = *v;
        }
    }
    Ok(best)
}
/// `min`
pub fn min(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    extreme("min", a, Ordering::Less)
}
/// `max`
pub fn max(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    extreme("max", a, Ordering::Greater)
}
fn chain(op: ArithOp, a: &[Value]) -> FaultResult<Value> {
    if a.len() == 1 {
        require_number(op.name(), a[0])?;
    }
    let mut ok = true;
    for w in a.windows(2) {
        ok &= compare2(op, w[0], w[1])?;
    }
    Ok(Value::Bool(ok))
}
/// `=`
pub fn num_eq(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    chain(ArithOp::NumEq, a)
}
/// `<`
pub fn lt(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    chain(ArithOp::Lt, a)
}
/// `>`
pub fn gt(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    chain(ArithOp::Gt, a)
}
/// `<=`
pub fn le(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    chain(ArithOp::Le, a)
}
/// `>=`
pub fn ge(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    chain(ArithOp::Ge, a)
}

// ----- equality -----

/// `not`
pub fn not(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    Ok(Value::Bool(!a[0].is_truthy()))
}

/// Identity as `eq?` defines it.
#[inline]
pub fn is_eq(a: Value, b: Value) -> bool {
    match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Sym(x), Value::Sym(y)) => x == y,
        (Value::Str(x), Value::Str(y))
        | (Value::Pair(x), Value::Pair(y))
        | (Value::Vector(x), Value::Vector(y))
        | (Value::Dict(x), Value::Dict(y))
        | (Value::Closure(x, _), Value::Closure(y, _))
        | (Value::Error(x), Value::Error(y)) => x == y,
        (Value::Builtin(x), Value::Builtin(y)) => x == y,
        (Value::Ffi(x), Value::Ffi(y)) => x == y,
        (Value::Capability(x), Value::Capability(y)) => x == y,
        (Value::Actor(x), Value::Actor(y)) => x == y,
        _ => false,
    }
}

/// Structural equality, iterative (language §5, §12): vectors element by
/// element, dicts by their entries in any order; two vectors met again while
/// they are being compared count as equal, so cyclic data terminates. One step
/// is charged per pair of values compared (shared data is compared along every
/// path, so the charge is what bounds it).
pub fn is_equal(heap: &Heap, meter: &mut Meter, a: Value, b: Value) -> FaultResult<bool> {
    equal_charging(heap, &mut |n| meter.charge(n), a, b)
}

/// `equal?` for the engine's own bounded comparisons (dict keys, which were
/// charged when hashed): no meter.
pub fn is_equal_plain(heap: &Heap, a: Value, b: Value) -> bool {
    equal_charging(heap, &mut |_| Ok(()), a, b).unwrap_or(false)
}

fn equal_charging(
    heap: &Heap,
    charge: &mut dyn FnMut(u64) -> FaultResult<()>,
    a: Value,
    b: Value,
) -> FaultResult<bool> {
    let mut work = vec![(a, b)];
    let mut seen: std::collections::HashSet<(u32, u32)> = Default::default();
    while let Some((x, y)) = work.pop() {
        charge(1)?;
        match (x, y) {
            (Value::Pair(p), Value::Pair(q)) => {
                if p == q {
                    continue;
                }
                let ((a1, d1), (a2, d2)) = (heap.pair(p), heap.pair(q));
                work.push((d1, d2));
                work.push((a1, a2));
            }
            (Value::Str(p), Value::Str(q)) => {
                let (p, q) = (heap.str(p), heap.str(q));
                charge(p.len().min(q.len()) as u64 / 64)?;
                if p != q {
                    return Ok(false);
                }
            }
            (Value::Vector(p), Value::Vector(q)) => {
                if p == q || !seen.insert((p.0, q.0)) {
                    continue;
                }
                let (u, v) = (heap.vec(p), heap.vec(q));
                if u.len() != v.len() {
                    return Ok(false);
                }
                work.extend(u.iter().copied().zip(v.iter().copied()).rev());
            }
            (Value::Dict(p), Value::Dict(q)) => {
                if p == q {
                    continue;
                }
                let (d, e) = (heap.dict(p), heap.dict(q));
                charge(d.len() as u64)?;
                if d.len() != e.len() {
                    return Ok(false);
                }
                for (k, v) in d.entries(heap) {
                    // Keys were checked when stored, so hashing cannot fail.
                    let Some(h) = super::dict::plain_hash(heap, k) else {
                        return Ok(false);
                    };
                    match e.get(heap, h, k) {
                        Some(other) => work.push((v, other.value)),
                        None => return Ok(false),
                    }
                }
            }
            (Value::Float(p), Value::Float(q)) => {
                // 0.0 and -0.0 are equal?; NaN is not equal? to itself.
                if p != q {
                    return Ok(false);
                }
            }
            (Value::Error(p), Value::Error(q)) => {
                let same = match (heap.get(p), heap.get(q)) {
                    (Obj::Error(k1, m1), Obj::Error(k2, m2)) => k1 == k2 && m1 == m2,
                    _ => false,
                };
                if !same {
                    return Ok(false);
                }
            }
            (x, y) => {
                if !is_eq(x, y) {
                    return Ok(false);
                }
            }
        }
    }
    Ok(true)
}

/// `eq?`
pub fn eq(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    Ok(Value::Bool(is_eq(a[0], a[1])))
}
/// `equal?`
pub fn equal(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    Ok(Value::Bool(is_equal(cx.heap, &mut cx.meter, a[0], a[1])?))
}

// ----- lists -----

/// `cons`
pub fn cons(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    Ok(cx.heap.cons(a[0], a[1]))
}
/// `car`
pub fn car(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    match a[0] {
        Value::Pair(r) => Ok(cx.heap.pair(r).0),
        o => Err(type_err("car", "a pair", o)),
    }
}
/// `cdr`
pub fn cdr(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    match a[0] {
        Value::Pair(r) => Ok(cx.heap.pair(r).1),
        o => Err(type_err("cdr", "a pair", o)),
    }
}
/// The type error of `car` or `cdr` (named by `who`) on a non-pair: the VM's
/// `Car` and `Cdr` instructions fail with it, as the natives above do.
#[cold]
#[inline(never)]
pub fn pair_expected(who: &str, got: Value) -> Box<Fault> {
    type_err(who, "a pair", got)
}
/// `list`
pub fn list(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    Ok(cx.heap.list(a))
}

/// The elements of a proper list, or a type error naming `who`; one step each.
pub fn list_items(heap: &Heap, meter: &mut Meter, who: &str, v: Value) -> FaultResult<Vec<Value>> {
    list_items_charging(heap, &mut |n| meter.charge(n), who, v)
}

/// The elements of a proper list, charging one step each to `charge`.
pub fn list_items_charging(
    heap: &Heap,
    charge: &mut dyn FnMut(u64) -> FaultResult<()>,
    who: &str,
    v: Value,
) -> FaultResult<Vec<Value>> {
    let mut out = Vec::new();
    let mut cur = v;
    loop {
        match cur {
            Value::Nil => return Ok(out),
            Value::Pair(r) => {
                charge(1)?;
                let (a, d) = heap.pair(r);
                out.push(a);
                cur = d;
            }
            _ => return Err(type_err(who, "a proper list", v)),
        }
    }
}

/// `length`
pub fn length(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let mut n = 0i64;
    let mut cur = a[0];
    loop {
        match cur {
            Value::Nil => return Ok(Value::Int(n)),
            Value::Pair(r) => {
                cx.meter.charge(1)?;
                n += 1;
                cur = cx.heap.pair(r).1;
            }
            _ => return Err(type_err("length", "a proper list", a[0])),
        }
    }
}
/// `append`: each list but the last is walked (one step a pair) and the room
/// for its copy checked before the copy is built, pair by pair (no vector).
pub fn append(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let Some((last, init)) = a.split_last() else {
        return Ok(Value::Nil);
    };
    if !matches!(last, Value::Nil | Value::Pair(_)) {
        return Err(type_err("append", "lists", *last));
    }
    let mut count = 0usize;
    for l in init {
        count += proper_length(cx.heap, &mut cx.meter, "append", *l)?;
        cx.meter.room_for(count.saturating_mul(PAIR_BYTES))?;
    }
    // Copies in order: each new pair is linked in as the cdr of the one before.
    let mut head = *last;
    let mut tail: Option<super::value::ObjRef> = None;
    for l in init {
        let mut cur = *l;
        while let Value::Pair(r) = cur {
            let (x, d) = cx.heap.pair(r);
            let cell = cx.heap.cons(x, *last);
            match tail {
                None => head = cell,
                Some(t) => set_cdr(cx.heap, t, cell),
            }
            if let Value::Pair(c) = cell {
                tail = Some(c);
            }
            cur = d;
        }
    }
    Ok(head)
}
/// Sets the cdr of a pair this built-in just made.
fn set_cdr(heap: &mut Heap, pair: super::value::ObjRef, v: Value) {
    if let Obj::Pair(_, d) = heap.get_mut(pair) {
        *d = v;
    }
}
/// The length of a proper list, or a type error naming `who`; one step a pair.
fn proper_length(heap: &Heap, meter: &mut Meter, who: &str, v: Value) -> FaultResult<usize> {
    let mut n = 0usize;
    let mut cur = v;
    loop {
        match cur {
            Value::Nil => return Ok(n),
            Value::Pair(r) => {
                meter.charge(1)?;
                n += 1;
                cur = heap.pair(r).1;
            }
            _ => return Err(type_err(who, "a proper list", v)),
        }
    }
}
/// `reverse`: one walk, no intermediate vector; one step a pair, as before. An
/// improper list is the same type error (the pairs made before it are garbage).
pub fn reverse(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let mut acc = Value::Nil;
    let mut cur = a[0];
    loop {
        match cur {
            Value::Nil => break,
            Value::Pair(r) => {
                cx.meter.charge(1)?;
                let (x, d) = cx.heap.pair(r);
                acc = cx.heap.cons(x, acc);
                cur = d;
            }
            _ => return Err(type_err("reverse", "a proper list", a[0])),
        }
    }
    Ok(acc)
}
/// `__reverse-fresh!`: reverses in place a list that the prelude built and
/// holds alone (the accumulator of `map`, `filter`, `filter-map`), so that
/// their result costs no second list. One step a pair, as `reverse`. Hidden:
/// user code cannot name it, so no list a user can see is ever changed.
pub fn reverse_fresh(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let mut prev = Value::Nil;
    let mut cur = a[0];
    while let Value::Pair(r) = cur {
        cx.meter.charge(1)?;
        let Obj::Pair(_, d) = cx.heap.get_mut(r) else {
            break;
        };
        cur = std::mem::replace(d, prev);
        prev = Value::Pair(r);
    }
    Ok(prev)
}
/// `list-ref`
pub fn list_ref(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let Value::Int(i) = a[1] else {
        return Err(type_err("list-ref", "an Int index", a[1]));
    };
    if !matches!(a[0], Value::Nil | Value::Pair(_)) {
        return Err(type_err("list-ref", "a list", a[0]));
    }
    let mut cur = a[0];
    let mut k = 0;
    while let Value::Pair(r) = cur {
        cx.meter.charge(1)?;
        let (x, d) = cx.heap.pair(r);
        if k == i {
            return Ok(x);
        }
        k += 1;
        cur = d;
    }
    Err(Fault::new(
        ErrorKind::Range,
        format!("index {i} is out of range for a list of length {k}"),
    ))
}
/// Raises a type error unless `a[0]` is a proper list (prelude helper): walks it
/// without copying it, and names the caller from the string in `a[1]` without
/// copying that either.
pub fn check_list(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let who = match a[1] {
        Value::Str(r) => cx.heap.str(r),
        _ => "",
    };
    proper_length(cx.heap, &mut cx.meter, who, a[0]).map(|_| Value::Nil)
}

// ----- predicates -----

macro_rules! predicate {
    ($name:ident, $pat:pat) => {
        /// A type predicate.
        pub fn $name(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
            Ok(Value::Bool(matches!(a[0], $pat)))
        }
    };
}
predicate!(is_nil, Value::Nil);
predicate!(is_pair, Value::Pair(_));
predicate!(is_int, Value::Int(_));
predicate!(is_float, Value::Float(_));
predicate!(is_number, Value::Int(_) | Value::Float(_));
predicate!(is_string, Value::Str(_));
predicate!(is_symbol, Value::Sym(_));
predicate!(is_bool, Value::Bool(_));
predicate!(
    is_procedure,
    Value::Closure(..) | Value::Builtin(_) | Value::Ffi(_)
);
predicate!(is_capability, Value::Capability(_));
predicate!(is_actor, Value::Actor(_));

/// `list?`
pub fn is_list(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let mut cur = a[0];
    loop {
        match cur {
            Value::Nil => return Ok(Value::Bool(true)),
            Value::Pair(r) => cur = cx.heap.pair(r).1,
            _ => return Ok(Value::Bool(false)),
        }
    }
}

// ----- strings -----

pub(super) fn string_arg<'c>(cx: &'c Ctx, who: &str, v: Value) -> FaultResult<&'c str> {
    heap_str(cx.heap, who, v)
}

/// `string-length`
pub fn string_length(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let n = string_arg(cx, "string-length", a[0])?.len();
    cx.meter.charge(n as u64 / 64)?;
    Ok(Value::Int(
        string_arg(cx, "string-length", a[0])?.chars().count() as i64,
    ))
}
/// `string-append`: the length is known, and refused if it cannot fit, before
/// anything is built.
pub fn string_append(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let mut total = 0usize;
    for v in a {
        total = total.saturating_add(heap_str(cx.heap, "string-append", *v)?.len());
    }
    cx.meter.room_for(total)?;
    cx.meter.charge(a.len() as u64 + total as u64 / 64)?;
    cx.heap.concat(a).ok_or_else(|| {
        Fault::new(
            ErrorKind::MemoryLimit,
            format!("the system refused {total} bytes for a string"),
        )
    })
}
/// The text of a string argument, borrowing only the heap (so that the meter
/// can be charged while it is held).
fn heap_str<'h>(heap: &'h Heap, who: &str, v: Value) -> FaultResult<&'h str> {
    match v {
        Value::Str(r) => Ok(heap.str(r)),
        o => Err(type_err(who, "a string", o)),
    }
}
/// `substring`
pub fn substring(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let n = string_arg(cx, "substring", a[0])?.len();
    cx.meter.charge(n as u64 / 64)?;
    let s = string_arg(cx, "substring", a[0])?;
    let (Value::Int(start), Value::Int(end)) = (a[1], a[2]) else {
        let bad = if matches!(a[1], Value::Int(_)) {
            a[2]
        } else {
            a[1]
        };
        return Err(type_err("substring", "Int indices", bad));
    };
    let n = s.chars().count() as i64;
    if start < 0 || end < start || end > n {
        return Err(Fault::new(
            ErrorKind::Range,
            format!(
                "substring range {start}..{end} is out of range for a string of {n} characters"
            ),
        ));
    }
    let out: String = s
        .chars()
        .skip(start as usize)
        .take((end - start) as usize)
        .collect();
    Ok(cx.heap.string(out))
}
/// `string=?`
pub fn string_eq(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let x = string_arg(cx, "string=?", a[0])?;
    let y = string_arg(cx, "string=?", a[1])?;
    Ok(Value::Bool(x == y))
}
/// `string->symbol`
pub fn string_to_symbol(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let s = string_arg(cx, "string->symbol", a[0])?.to_string();
    if cx.symbols.get(&s).is_none() {
        // Symbols are never collected: a new one's name counts for good.
        let bytes = s.len() + SYMBOL_OVERHEAD;
        cx.meter.room_for(bytes)?;
        cx.heap.pin_bytes(bytes);
    }
    Ok(Value::Sym(cx.symbols.intern(&s)))
}
/// `symbol->string`
pub fn symbol_to_string(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    match a[0] {
        Value::Sym(s) => {
            let name = cx.symbols.name(s).to_string();
            Ok(cx.heap.string(name))
        }
        o => Err(type_err("symbol->string", "a symbol", o)),
    }
}
/// `number->string`: the printed form of a number (what `cx.show` writes),
/// written straight into the string the heap keeps, with the same charge (one
/// step) and the same bound (the memory left) as printing it.
pub fn number_to_string(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let mut digits = [0u8; 20];
    let mut float = String::new();
    let text: &str = match a[0] {
        Value::Int(i) => int_text(i, &mut digits),
        Value::Float(f) => {
            printer::write_float(&mut float, f);
            &float
        }
        o => return Err(type_err("number->string", "a number", o)),
    };
    cx.meter.charge(1)?;
    if text.len() > cx.meter.room {
        return Err(printer::too_long(cx.meter.room));
    }
    Ok(cx.heap.string(text))
}
/// The decimal digits of `i` (with its sign), written at the end of `buf`.
fn int_text(i: i64, buf: &mut [u8; 20]) -> &str {
    let mut n = i.unsigned_abs();
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if i < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    // SAFETY: only ASCII digits and '-' were written from `at` on (checking
    // that at run time was a tenth of `number->string`'s time).
    unsafe { std::str::from_utf8_unchecked(&buf[at..]) }
}
/// `string->number`
pub fn string_to_number(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let s = string_arg(cx, "string->number", a[0])?;
    Ok(match crate::ground::number::parse(s) {
        Some(crate::ground::number::Number::Int(i)) => Value::Int(i),
        Some(crate::ground::number::Number::Float(f)) => Value::Float(f),
        _ => Value::Nil,
    })
}
/// `to-string`
pub fn to_string(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    if let Value::Str(_) = a[0] {
        return Ok(a[0]);
    }
    let s = cx.show(a[0], true)?;
    Ok(cx.heap.string(s))
}

// ----- errors -----

/// `error`
pub fn error(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let mut msg = string_arg(cx, "error", a[0])?.to_string();
    for v in &a[1..] {
        msg.push(' ');
        cx.write_printed(&mut msg, *v, true)?;
    }
    Err(Fault::new(ErrorKind::User, msg))
}
/// `error-kind`
pub fn error_kind(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    match a[0] {
        Value::Error(r) => {
            let kind = match cx.heap.get(r) {
                Obj::Error(k, _) => k.name(),
                _ => "user",
            };
            Ok(Value::Sym(cx.symbols.intern(kind)))
        }
        o => Err(type_err("error-kind", "an error value", o)),
    }
}
/// `error-message`
pub fn error_message(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    match a[0] {
        Value::Error(r) => {
            let m = match cx.heap.get(r) {
                Obj::Error(_, m) => m.to_string(),
                _ => String::new(),
            };
            Ok(cx.heap.string(m))
        }
        o => Err(type_err("error-message", "an error value", o)),
    }
}

// ----- output -----

fn write_args(cx: &mut Ctx, a: &[Value], newline: bool) -> FaultResult<()> {
    let mut s = String::new();
    for (i, v) in a.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        cx.write_printed(&mut s, *v, true)?;
    }
    if newline {
        s.push('\n');
    }
    cx.out.write_str(&s);
    Ok(())
}
/// `print`
pub fn print(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    write_args(cx, a, false)?;
    Ok(Value::Nil)
}
/// `println`
pub fn println(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    write_args(cx, a, true)?;
    Ok(Value::Nil)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_text_matches_display() {
        for i in [0, 7, -7, 10, 99, -100, 1234567890, i64::MAX, i64::MIN] {
            let mut buf = [0u8; 20];
            assert_eq!(int_text(i, &mut buf), i.to_string());
        }
    }

    #[test]
    fn every_declared_native_built_in_has_an_implementation() {
        for (id, b) in builtins::all().iter().enumerate() {
            let has = builtin(id as u16).is_some();
            assert_eq!(has, b.imp == Imp::Native, "`{}`", b.name);
        }
    }
}

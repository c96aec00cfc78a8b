//! Printing values in the printed form of language §3. Iterative: nested data of
//! any depth never touches the Rust stack.

use super::error::{ErrorKind, Fault, FaultResult};
use super::heap::{Heap, Obj};
use super::symbols::Symbols;
use super::value::Value;
use crate::ground::bytecode::Proto;
use std::fmt::Write;

/// What printing needs besides the value: names of procedures and symbols.
pub struct PrintCtx<'a> {
    /// The heap.
    pub heap: &'a Heap,
    /// Symbol names.
    pub symbols: &'a Symbols,
    /// Compiled functions (names and arities of closures).
    pub protos: &'a [Proto<Value>],
    /// FFI function names by index.
    pub ffi_names: &'a [Box<str>],
}

enum Task {
    Value(Value),
    Rest(Value),
    Text(&'static str),
}

/// Longest text the infallible printers write before they cut it with a marker:
/// printing shared data (a DAG of 40 pairs has 2^40 paths) never exhausts memory.
pub const SHOW_CAP: usize = 4 << 20;

/// Longest printed value quoted in an error message.
pub const QUOTE_CAP: usize = 200;

/// Appends the printed form of `v`; with `raw`, a top-level string is written as
/// is. Output past [`SHOW_CAP`] is cut and marked.
pub fn write_value(out: &mut String, v: Value, raw: bool, cx: &PrintCtx<'_>) {
    write_capped(out, v, raw, cx, SHOW_CAP);
}

/// The printed form as a new string (cut past [`SHOW_CAP`]).
pub fn to_printed(v: Value, raw: bool, cx: &PrintCtx<'_>) -> String {
    let mut s = String::new();
    write_value(&mut s, v, raw, cx);
    s
}

/// Appends the printed form, cut after about `cap` bytes with a marker.
pub fn write_capped(out: &mut String, v: Value, raw: bool, cx: &PrintCtx<'_>, cap: usize) {
    let start = out.len();
    let max = start.saturating_add(cap);
    if write_metered(out, v, raw, cx, &mut |_| Ok(()), max).is_err() {
        let mut cut = max.min(out.len());
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str(" …");
    }
}

/// Appends the printed form, charging one step per element visited to `charge`
/// and failing with `memory-limit` once `out` would pass `max_len` bytes: what
/// `print`, `to-string` and `error` use, so printing is bounded like any work.
pub fn write_metered(
    out: &mut String,
    v: Value,
    raw: bool,
    cx: &PrintCtx<'_>,
    charge: &mut dyn FnMut(u64) -> FaultResult<()>,
    max_len: usize,
) -> FaultResult<()> {
    if let (true, Value::Str(r)) = (raw, v) {
        let s = cx.heap.str(r);
        if out.len().saturating_add(s.len()) > max_len {
            return Err(too_long(max_len));
        }
        charge(1 + s.len() as u64 / 64)?;
        out.push_str(s);
        return Ok(());
    }
    let mut work = vec![Task::Value(v)];
    let mut visited = 0u64;
    while let Some(t) = work.pop() {
        visited += 1;
        if visited == 256 {
            charge(visited)?;
            visited = 0;
            if out.len() > max_len {
                return Err(too_long(max_len));
            }
        }
        match t {
            Task::Text(s) => out.push_str(s),
            Task::Rest(v) => match v {
                Value::Nil => out.push(')'),
                Value::Pair(r) => {
                    let (a, d) = cx.heap.pair(r);
                    out.push(' ');
                    work.push(Task::Rest(d));
                    work.push(Task::Value(a));
                }
                other => {
                    out.push_str(" . ");
                    work.push(Task::Text(")"));
                    work.push(Task::Value(other));
                }
            },
            Task::Value(v) => match v {
                Value::Pair(r) => {
                    let (a, d) = cx.heap.pair(r);
                    out.push('(');
                    work.push(Task::Rest(d));
                    work.push(Task::Value(a));
                }
                other => write_atom(out, other, cx),
            },
        }
    }
    charge(visited)?;
    if out.len() > max_len {
        return Err(too_long(max_len));
    }
    Ok(())
}

/// The fault of a printed form longer than the memory left for it.
#[cold]
pub(super) fn too_long(max_len: usize) -> Box<Fault> {
    Fault::new(
        ErrorKind::MemoryLimit,
        format!("the printed form passes the memory left for it ({max_len} bytes)"),
    )
}

fn write_atom(out: &mut String, v: Value, cx: &PrintCtx<'_>) {
    match v {
        Value::Nil => out.push_str("nil"),
        Value::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => write_float(out, f),
        Value::Str(r) => write_string_literal(out, cx.heap.str(r)),
        Value::Sym(s) => out.push_str(cx.symbols.name(s)),
        Value::Closure(r) => {
            if let Obj::Closure(c) = cx.heap.get(r) {
                let p = &cx.protos[c.proto as usize];
                let _ = write!(
                    out,
                    "#<fn {}/{}{}>",
                    p.name,
                    p.nparams,
                    if p.variadic { "+" } else { "" }
                );
            }
        }
        Value::Builtin(id) => {
            let _ = write!(out, "#<builtin {}>", crate::ground::builtins::get(id).name);
        }
        Value::Ffi(i) => {
            let _ = write!(
                out,
                "#<ffi {}>",
                cx.ffi_names.get(i as usize).map_or("?", |s| s)
            );
        }
        Value::Capability(c) => {
            let _ = write!(out, "#<capability {c}>");
        }
        Value::Error(r) => {
            if let Obj::Error(k, m) = cx.heap.get(r) {
                let _ = write!(out, "#<error {k}: {m}>");
            }
        }
        Value::Actor(a) => {
            let _ = write!(out, "#<actor {a}>");
        }
        Value::Undefined => out.push_str("#<undefined>"),
        Value::Cell(_) => out.push_str("#<cell>"),
        Value::Pair(_) => unreachable!("pairs are handled by write_value"),
    }
}

pub use crate::ground::printed::{write_float, write_string_literal};

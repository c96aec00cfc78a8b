//! Printing values in the printed form of language §3. Iterative: nested data of
//! any depth never touches the Rust stack.

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
    /// The end of a vector: `)`, and it is no longer being printed.
    Leave(super::value::ObjRef),
}

/// Appends the printed form of `v`; with `raw`, a top-level string is written as is.
pub fn write_value(out: &mut String, v: Value, raw: bool, cx: &PrintCtx<'_>) {
    if let (true, Value::Str(r)) = (raw, v) {
        out.push_str(cx.heap.str(r));
        return;
    }
    // TODO(steps): printing charges no steps yet (language §10); the lead's
    // bounded printing takes this loop over.
    let mut work = vec![Task::Value(v)];
    // Vectors being printed: one met again inside itself prints `#(...)`.
    let mut open: std::collections::HashSet<super::value::ObjRef> = Default::default();
    while let Some(t) = work.pop() {
        match t {
            Task::Text(s) => out.push_str(s),
            Task::Leave(r) => {
                out.push(')');
                open.remove(&r);
            }
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
                Value::Vector(r) => {
                    if !open.insert(r) {
                        out.push_str("#(...)");
                        continue;
                    }
                    out.push_str("#(");
                    work.push(Task::Leave(r));
                    for (i, it) in cx.heap.vec(r).iter().enumerate().rev() {
                        work.push(Task::Value(*it));
                        if i > 0 {
                            work.push(Task::Text(" "));
                        }
                    }
                }
                Value::Dict(r) => {
                    out.push('{');
                    work.push(Task::Text("}"));
                    let entries: Vec<(Value, Value)> = cx.heap.dict(r).entries().collect();
                    for (i, (k, v)) in entries.into_iter().enumerate().rev() {
                        work.push(Task::Value(v));
                        work.push(Task::Text(" "));
                        work.push(Task::Value(k));
                        if i > 0 {
                            work.push(Task::Text(" "));
                        }
                    }
                }
                other => write_atom(out, other, cx),
            },
        }
    }
}

/// The printed form as a new string.
pub fn to_printed(v: Value, raw: bool, cx: &PrintCtx<'_>) -> String {
    let mut s = String::new();
    write_value(&mut s, v, raw, cx);
    s
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
        Value::Pair(_) | Value::Vector(_) | Value::Dict(_) => {
            unreachable!("pairs, vectors and dicts are handled by write_value")
        }
    }
}

pub use crate::ground::printed::{write_float, write_string_literal};

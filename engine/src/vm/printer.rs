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
    /// The end of a vector: `)`, and it is no longer being printed.
    Leave(super::value::ObjRef),
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
    // Vectors being printed: one met again inside itself prints `#(...)`.
    let mut open: std::collections::HashSet<super::value::ObjRef> = Default::default();
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
                    let entries: Vec<(Value, Value)> = cx.heap.dict(r).entries(cx.heap);
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

/// How much of a value [`write_value_bounded`] prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// Elements printed of one list or vector, entries of one dict; the rest
    /// become `… N more`.
    pub length: usize,
    /// Lists, vectors and dicts nested deeper than this print as `(…)`, `#(…)`
    /// and `{…}`.
    pub depth: usize,
    /// Characters of the whole printed form; the rest become `… N more characters`.
    pub chars: usize,
}

impl Bounds {
    /// 1,000 elements, depth 100, 10,000 characters.
    pub const DEFAULT: Bounds = Bounds {
        length: 1_000,
        depth: 100,
        chars: 10_000,
    };
}

/// A number with thousands separators: `99,990`.
pub fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Appends the printed form of `v` within `bounds`; whatever is left out is named
/// by a marker (`… 99,990 more` elements or entries, `(…)`, `#(…)` or `{…}` for
/// a list, vector or dict nested too deep, `… N more characters`). Returns whether anything was left out. Like
/// [`write_value`], it never recurses, and it stops walking once the character
/// bound is reached, so a huge value costs no more than its printed part.
pub fn write_value_bounded(
    out: &mut String,
    v: Value,
    raw: bool,
    cx: &PrintCtx<'_>,
    bounds: Bounds,
) -> bool {
    enum Job {
        Value(Value, usize),
        Rest(Value, usize, usize),
        Text(&'static str),
        /// A vector's elements from `index` on, its elements at `depth`.
        Items(super::value::ObjRef, usize, usize),
        /// A dict's entries from `index` on (the first `length` of `total`).
        Entries(std::rc::Rc<[(Value, Value)]>, usize, usize, usize),
    }
    let start = out.len();
    // Elements or depth left out; `stopped`: the walk ended early, more unknown.
    let mut cut = false;
    let mut stopped = false;
    // Vectors being printed: one met again inside itself prints `#(...)`.
    let mut open: std::collections::HashSet<super::value::ObjRef> = Default::default();
    if let (true, Value::Str(r)) = (raw, v) {
        out.push_str(cx.heap.str(r));
    } else {
        let mut work = vec![Job::Value(v, 0)];
        while let Some(job) = work.pop() {
            // A char is at most 4 bytes: past this, the character bound is passed.
            if out.len() - start > bounds.chars.saturating_mul(4) {
                stopped = true;
                break;
            }
            match job {
                Job::Text(s) => out.push_str(s),
                Job::Rest(v, depth, index) => match v {
                    Value::Nil => out.push(')'),
                    Value::Pair(r) if index >= bounds.length => {
                        let mut more = 0usize;
                        let mut at = Value::Pair(r);
                        while let Value::Pair(p) = at {
                            more += 1;
                            at = cx.heap.pair(p).1;
                        }
                        let sep = if out.ends_with('(') { "" } else { " " };
                        let _ = write!(out, "{sep}… {} more)", grouped(more));
                        cut = true;
                    }
                    Value::Pair(r) => {
                        let (a, d) = cx.heap.pair(r);
                        out.push(' ');
                        work.push(Job::Rest(d, depth, index + 1));
                        work.push(Job::Value(a, depth));
                    }
                    other => {
                        out.push_str(" . ");
                        work.push(Job::Text(")"));
                        work.push(Job::Value(other, depth));
                    }
                },
                Job::Items(r, depth, index) => {
                    let items = cx.heap.vec(r);
                    if index >= items.len() {
                        out.push(')');
                        open.remove(&r);
                    } else if index >= bounds.length {
                        let sep = if out.ends_with('(') { "" } else { " " };
                        let _ = write!(out, "{sep}… {} more)", grouped(items.len() - index));
                        open.remove(&r);
                        cut = true;
                    } else {
                        if index > 0 {
                            out.push(' ');
                        }
                        work.push(Job::Items(r, depth, index + 1));
                        work.push(Job::Value(items[index], depth));
                    }
                }
                Job::Entries(entries, total, depth, index) => {
                    if index >= total {
                        out.push('}');
                    } else if index >= entries.len() {
                        let sep = if out.ends_with('{') { "" } else { " " };
                        let _ = write!(out, "{sep}… {} more}}", grouped(total - index));
                        cut = true;
                    } else {
                        if index > 0 {
                            out.push(' ');
                        }
                        let (k, v) = entries[index];
                        work.push(Job::Entries(entries, total, depth, index + 1));
                        work.push(Job::Value(v, depth));
                        work.push(Job::Text(" "));
                        work.push(Job::Value(k, depth));
                    }
                }
                Job::Value(v, depth) => match v {
                    Value::Pair(_) if depth >= bounds.depth => {
                        out.push_str("(…)");
                        cut = true;
                    }
                    Value::Vector(_) if depth >= bounds.depth => {
                        out.push_str("#(…)");
                        cut = true;
                    }
                    Value::Dict(_) if depth >= bounds.depth => {
                        out.push_str("{…}");
                        cut = true;
                    }
                    Value::Pair(r) if bounds.length == 0 => {
                        out.push('(');
                        work.push(Job::Rest(Value::Pair(r), depth + 1, 0));
                    }
                    Value::Pair(r) => {
                        let (a, d) = cx.heap.pair(r);
                        out.push('(');
                        work.push(Job::Rest(d, depth + 1, 1));
                        work.push(Job::Value(a, depth + 1));
                    }
                    Value::Vector(r) => {
                        if !open.insert(r) {
                            out.push_str("#(...)");
                            continue;
                        }
                        out.push_str("#(");
                        work.push(Job::Items(r, depth + 1, 0));
                    }
                    Value::Dict(r) => {
                        let d = cx.heap.dict(r);
                        // Only the entries printed are taken (in insertion order).
                        let entries: std::rc::Rc<[(Value, Value)]> =
                            d.first_entries(cx.heap, bounds.length).into();
                        out.push('{');
                        work.push(Job::Entries(entries, d.len(), depth + 1, 0));
                    }
                    other => write_atom(out, other, cx),
                },
            }
        }
    }
    let printed = &out[start..];
    let count = printed.chars().count();
    if count <= bounds.chars && !stopped {
        return cut;
    }
    let keep = printed
        .char_indices()
        .nth(bounds.chars)
        .map_or(printed.len(), |(i, _)| i);
    out.truncate(start + keep);
    if stopped {
        out.push_str(" … more");
    } else {
        let _ = write!(out, " … {} more characters", grouped(count - bounds.chars));
    }
    true
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
        Value::Closure(_, proto) => {
            let p = &cx.protos[proto as usize];
            let _ = write!(
                out,
                "#<fn {}/{}{}>",
                p.name,
                p.nparams,
                if p.variadic { "+" } else { "" }
            );
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

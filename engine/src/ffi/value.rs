//! Owned values for hosts: what host functions receive and return, what the FFI
//! call generator encodes as constants, and what embedders get back. No handle,
//! pointer or capability ever becomes an integer here.

use super::capability::Capability;
use crate::vm::heap::{Heap, Obj};
use crate::vm::symbols::Symbols;
use crate::vm::value::Value as VmValue;
use std::fmt;

/// A Jue value owned by the host.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// nil (also the empty list).
    Nil,
    /// Boolean.
    Bool(bool),
    /// Integer.
    Int(i64),
    /// Float.
    Float(f64),
    /// String.
    String(String),
    /// Symbol.
    Symbol(String),
    /// A non-empty proper list.
    List(Vec<Value>),
    /// A pair whose chain does not end in nil.
    Pair(Box<Value>, Box<Value>),
    /// A capability witness (cannot be turned back into a grant).
    Capability(Capability),
    /// An error value.
    Error {
        /// Its kind (`division-by-zero`).
        kind: String,
        /// Its message.
        message: String,
    },
    /// A procedure, by its printed form; it cannot cross back into Jue.
    Procedure(String),
    /// An actor id.
    Actor(u32),
}

/// Deepest data converted between host and VM: deeper data is an error, not a crash.
pub const MAX_DEPTH: usize = 1_000;

impl Value {
    /// The language type name of the value.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "Nil",
            Value::Bool(_) => "Bool",
            Value::Int(_) => "Int",
            Value::Float(_) => "Float",
            Value::String(_) => "String",
            Value::Symbol(_) => "Symbol",
            Value::List(_) | Value::Pair(..) => "Pair",
            Value::Capability(_) => "Capability",
            Value::Error { .. } => "Error",
            Value::Procedure(_) => "Fn",
            Value::Actor(_) => "ActorId",
        }
    }

    /// Copies a VM value out of the heap.
    pub fn from_vm(
        v: VmValue,
        heap: &Heap,
        symbols: &Symbols,
        show: &dyn Fn(VmValue) -> String,
    ) -> Result<Value, String> {
        from_vm_at(v, heap, symbols, show, 0)
    }

    /// Builds the VM value, allocating in the heap. Procedures cannot cross.
    pub fn to_vm(&self, heap: &mut Heap, symbols: &mut Symbols) -> Result<VmValue, String> {
        to_vm_at(self, heap, symbols, 0)
    }
}

fn from_vm_at(
    v: VmValue,
    heap: &Heap,
    symbols: &Symbols,
    show: &dyn Fn(VmValue) -> String,
    depth: usize,
) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err("data is nested too deeply to cross to the host".into());
    }
    Ok(match v {
        VmValue::Nil | VmValue::Undefined => Value::Nil,
        VmValue::Bool(b) => Value::Bool(b),
        VmValue::Int(i) => Value::Int(i),
        VmValue::Float(f) => Value::Float(f),
        VmValue::Str(r) => Value::String(heap.str(r).to_string()),
        VmValue::Sym(s) => Value::Symbol(symbols.name(s).to_string()),
        VmValue::Capability(c) => Value::Capability(c),
        VmValue::Actor(a) => Value::Actor(a),
        VmValue::Closure(_) | VmValue::Builtin(_) | VmValue::Ffi(_) => Value::Procedure(show(v)),
        VmValue::Error(r) => match heap.get(r) {
            Obj::Error(k, m) => Value::Error {
                kind: k.name().into(),
                message: m.to_string(),
            },
            _ => Value::Nil,
        },
        VmValue::Cell(_) => Value::Nil,
        VmValue::Pair(_) => {
            let mut items = Vec::new();
            let mut cur = v;
            while let VmValue::Pair(r) = cur {
                let (a, d) = heap.pair(r);
                items.push(from_vm_at(a, heap, symbols, show, depth + 1)?);
                cur = d;
            }
            if let VmValue::Nil = cur {
                Value::List(items)
            } else {
                let mut acc = from_vm_at(cur, heap, symbols, show, depth + 1)?;
                for it in items.into_iter().rev() {
                    acc = Value::Pair(Box::new(it), Box::new(acc));
                }
                acc
            }
        }
    })
}

fn to_vm_at(
    v: &Value,
    heap: &mut Heap,
    symbols: &mut Symbols,
    depth: usize,
) -> Result<VmValue, String> {
    if depth > MAX_DEPTH {
        return Err("data is nested too deeply to cross into Jue".into());
    }
    Ok(match v {
        Value::Nil => VmValue::Nil,
        Value::Bool(b) => VmValue::Bool(*b),
        Value::Int(i) => VmValue::Int(*i),
        Value::Float(f) => VmValue::Float(*f),
        Value::String(s) => heap.string(s.as_str()),
        Value::Symbol(s) => VmValue::Sym(symbols.intern(s)),
        Value::Capability(c) => VmValue::Capability(*c),
        Value::Actor(a) => VmValue::Actor(*a),
        Value::Error { kind, message } => {
            let k = crate::vm::error::ErrorKind::from_name(kind)
                .unwrap_or(crate::vm::error::ErrorKind::Host);
            VmValue::Error(heap.alloc(Obj::Error(k, message.as_str().into())))
        }
        Value::Procedure(p) => return Err(format!("a procedure ({p}) cannot cross into Jue")),
        Value::List(items) => {
            let vals = items
                .iter()
                .map(|i| to_vm_at(i, heap, symbols, depth + 1))
                .collect::<Result<Vec<_>, _>>()?;
            heap.list(&vals)
        }
        Value::Pair(a, d) => {
            let a = to_vm_at(a, heap, symbols, depth + 1)?;
            let d = to_vm_at(d, heap, symbols, depth + 1)?;
            heap.cons(a, d)
        }
    })
}

impl fmt::Display for Value {
    /// The printed form of language §3.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        write_owned(&mut s, self);
        f.write_str(&s)
    }
}

fn write_owned(out: &mut String, v: &Value) {
    use crate::vm::printer::{write_float, write_string_literal};
    match v {
        Value::Nil => out.push_str("nil"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(x) => write_float(out, *x),
        Value::String(s) => write_string_literal(out, s),
        Value::Symbol(s) => out.push_str(s),
        Value::Capability(c) => out.push_str(&format!("#<capability {c}>")),
        Value::Error { kind, message } => out.push_str(&format!("#<error {kind}: {message}>")),
        Value::Procedure(p) => out.push_str(p),
        Value::Actor(a) => out.push_str(&format!("#<actor {a}>")),
        Value::List(items) => {
            out.push('(');
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_owned(out, it);
            }
            out.push(')');
        }
        Value::Pair(a, d) => {
            out.push('(');
            write_owned(out, a);
            let mut cur: &Value = d;
            loop {
                match cur {
                    Value::Pair(a, d) => {
                        out.push(' ');
                        write_owned(out, a);
                        cur = d;
                    }
                    Value::List(items) => {
                        for it in items {
                            out.push(' ');
                            write_owned(out, it);
                        }
                        break;
                    }
                    Value::Nil => break,
                    other => {
                        out.push_str(" . ");
                        write_owned(out, other);
                        break;
                    }
                }
            }
            out.push(')');
        }
    }
}

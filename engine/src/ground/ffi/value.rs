//! Owned values for hosts: what host functions receive and return, what the FFI
//! call generator encodes as constants, and what embedders get back. No handle,
//! pointer or capability ever becomes an integer here.

use crate::ground::capability::Capability;
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
    /// A procedure, by its printed form only (printing, JSON, the call
    /// generator); it cannot cross back into Jue.
    Procedure(String),
    /// A Jue procedure as a callable handle: what a session hands the host for a
    /// procedure. It crosses back into Jue (as an argument or a result) within
    /// its own session.
    Function(super::handle::Function),
    /// An actor id.
    Actor(u32),
    /// A vector: a snapshot of its elements (language §6).
    Vector(Vec<Value>),
    /// A dict: a snapshot of its entries, in order.
    Dict(Vec<(Value, Value)>),
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
            Value::Procedure(_) | Value::Function(_) => "Fn",
            Value::Actor(_) => "ActorId",
            Value::Vector(_) => "Vector",
            Value::Dict(_) => "Dict",
        }
    }
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
    use crate::ground::printed::{write_float, write_string_literal};
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
        Value::Function(f) => out.push_str(f.printed()),
        Value::Actor(a) => out.push_str(&format!("#<actor {a}>")),
        Value::Vector(items) => {
            out.push_str("#(");
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_owned(out, it);
            }
            out.push(')');
        }
        Value::Dict(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_owned(out, k);
                out.push(' ');
                write_owned(out, v);
            }
            out.push('}');
        }
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

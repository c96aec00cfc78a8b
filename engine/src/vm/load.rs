//! Loading compiled code: the VM is the compiler's [`Linker`]. Each prototype's
//! constants become VM values (strings and lists in the heap, symbols interned)
//! and the code is validated before it can run.

use super::Vm;
use super::value::Value;
use crate::ground::bytecode::{Constant, Datum, Linker, Proto};

impl Linker for Vm {
    fn global_slot(&mut self, name: &str) -> u32 {
        Vm::global_slot(self, name)
    }

    /// Adds a compiled function; returns its index.
    ///
    /// # Panics
    /// On code that fails [`Proto::validate`]: that is a compiler bug, and running such
    /// code could read outside the frame.
    fn add_proto(&mut self, p: Proto<Constant>) -> u32 {
        if let Err(e) = p.validate() {
            panic!("invalid bytecode from the compiler: {e}");
        }
        let consts = p.consts.iter().map(|k| self.constant(k)).collect();
        self.place_proto(Proto {
            name: p.name,
            nparams: p.nparams,
            variadic: p.variadic,
            nregs: p.nregs,
            code: p.code,
            spans: p.spans,
            consts,
            captures: p.captures,
            source: p.source,
            tier: p.tier,
        })
    }
}

impl Vm {
    fn constant(&mut self, k: &Constant) -> Value {
        match k {
            Constant::Datum(d) => self.datum(d),
            Constant::Builtin(id) => Value::Builtin(*id),
            Constant::Ffi(i) => Value::Ffi(*i),
        }
    }

    /// Quoted data, built bottom-up; nesting is bounded by the parser's limit.
    fn datum(&mut self, d: &Datum) -> Value {
        match d {
            Datum::Nil => Value::Nil,
            Datum::Bool(b) => Value::Bool(*b),
            Datum::Int(i) => Value::Int(*i),
            Datum::Float(f) => Value::Float(*f),
            Datum::Str(s) => self.heap.string(s.clone()),
            Datum::Sym(s) => Value::Sym(self.symbols.intern(s)),
            Datum::List(items, tail) => {
                let mut acc = match tail {
                    Some(t) => self.datum(t),
                    None => Value::Nil,
                };
                for it in items.iter().rev() {
                    let v = self.datum(it);
                    acc = self.heap.cons(v, acc);
                }
                acc
            }
            Datum::Vector(items) => {
                let vals = items.iter().map(|d| self.datum(d)).collect();
                self.heap.vector(vals, false)
            }
            Datum::Dict(entries) => {
                let mut d = super::dict::Dict::default();
                for (k, v) in entries {
                    let k = self.datum(k);
                    let v = self.datum(v);
                    // Data keys are literals: never a procedure, NaN or a cycle.
                    if let Ok(key) = super::dict::store_key_unmetered(&mut self.heap, "dict", k) {
                        d.insert(&mut self.heap, key.hash, key.value, v);
                    }
                }
                self.heap.alloc_dict(d)
            }
        }
    }
}

//! Crossing between the VM's values and the owned values hosts hold
//! (`ground::ffi::Value`): copies out of the heap, and allocation into it.

use super::dict::{self, Dict};
use super::error::ErrorKind;
use super::heap::{Heap, Obj};
use super::roots::RootTable;
use super::symbols::Symbols;
use super::value::Value as VmValue;
use crate::ground::ffi::Function;
use crate::ground::ffi::Value;
use crate::ground::ffi::value::MAX_DEPTH;

/// Copies a VM value out of the heap; procedures become their printed form.
pub fn to_host(
    v: VmValue,
    heap: &Heap,
    symbols: &Symbols,
    show: &dyn Fn(VmValue) -> String,
) -> Result<Value, String> {
    from_vm_at(v, heap, symbols, &mut |p| Value::Procedure(show(p)), 0)
}

/// Copies a VM value out of the heap; procedures become [`Function`] handles
/// rooted in `roots`.
pub fn to_host_rooted(
    v: VmValue,
    heap: &Heap,
    symbols: &Symbols,
    roots: &RootTable,
    show: &dyn Fn(VmValue) -> String,
) -> Result<Value, String> {
    let mut proc_out = |p: VmValue| {
        Value::Function(Function {
            core: roots.root(p),
            printed: show(p).into(),
        })
    };
    from_vm_at(v, heap, symbols, &mut proc_out, 0)
}

/// Builds the VM value, allocating in the heap. Procedures cannot cross.
pub fn from_host(v: &Value, heap: &mut Heap, symbols: &mut Symbols) -> Result<VmValue, String> {
    to_vm_at(v, heap, symbols, None, 0)
}

/// Builds the VM value; [`Function`] handles of `roots`' session cross as the
/// procedure they hold.
pub fn from_host_rooted(
    v: &Value,
    heap: &mut Heap,
    symbols: &mut Symbols,
    roots: &RootTable,
) -> Result<VmValue, String> {
    to_vm_at(v, heap, symbols, Some(roots), 0)
}

fn from_vm_at(
    v: VmValue,
    heap: &Heap,
    symbols: &Symbols,
    procs: &mut dyn FnMut(VmValue) -> Value,
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
        VmValue::Closure(..) | VmValue::Builtin(_) | VmValue::Ffi(_) => procs(v),
        VmValue::Error(r) => match heap.get(r) {
            Obj::Error(k, m) => Value::Error {
                kind: k.name().into(),
                message: m.to_string(),
            },
            _ => Value::Nil,
        },
        VmValue::Cell(_) => Value::Nil,
        VmValue::Vector(r) => {
            let mut out = Vec::with_capacity(heap.vec(r).len());
            for it in heap.vec(r) {
                out.push(from_vm_at(*it, heap, symbols, procs, depth + 1)?);
            }
            Value::Vector(out)
        }
        VmValue::Dict(r) => {
            let mut out = Vec::with_capacity(heap.dict(r).len());
            for (k, it) in heap.dict(r).entries(heap) {
                out.push((
                    from_vm_at(k, heap, symbols, procs, depth + 1)?,
                    from_vm_at(it, heap, symbols, procs, depth + 1)?,
                ));
            }
            Value::Dict(out)
        }
        VmValue::Pair(_) => {
            let mut items = Vec::new();
            let mut cur = v;
            while let VmValue::Pair(r) = cur {
                let (a, d) = heap.pair(r);
                items.push(from_vm_at(a, heap, symbols, procs, depth + 1)?);
                cur = d;
            }
            if let VmValue::Nil = cur {
                Value::List(items)
            } else {
                let mut acc = from_vm_at(cur, heap, symbols, procs, depth + 1)?;
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
    roots: Option<&RootTable>,
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
            let k = ErrorKind::from_name(kind).unwrap_or(ErrorKind::Host);
            VmValue::Error(heap.alloc(Obj::Error(k, message.as_str().into())))
        }
        Value::Procedure(p) => return Err(format!("a procedure ({p}) cannot cross into Jue")),
        Value::Function(f) => match roots {
            Some(r) => r.get(&f.core)?,
            None => {
                return Err(format!(
                    "a function handle ({}) needs its session to cross into Jue",
                    f.printed()
                ));
            }
        },
        Value::List(items) => {
            let vals = items
                .iter()
                .map(|i| to_vm_at(i, heap, symbols, roots, depth + 1))
                .collect::<Result<Vec<_>, _>>()?;
            heap.list(&vals)
        }
        Value::Pair(a, d) => {
            let a = to_vm_at(a, heap, symbols, roots, depth + 1)?;
            let d = to_vm_at(d, heap, symbols, roots, depth + 1)?;
            heap.cons(a, d)
        }
        Value::Vector(items) => {
            let vals = items
                .iter()
                .map(|i| to_vm_at(i, heap, symbols, roots, depth + 1))
                .collect::<Result<Vec<_>, _>>()?;
            heap.vector(vals, true)
        }
        Value::Dict(entries) => {
            let mut d = Dict::default();
            for (k, v) in entries {
                let k = to_vm_at(k, heap, symbols, roots, depth + 1)?;
                let v = to_vm_at(v, heap, symbols, roots, depth + 1)?;
                let key =
                    dict::store_key_unmetered(heap, "a host dict", k).map_err(|f| f.message)?;
                d.insert(heap, key.hash, key.value, v);
            }
            heap.alloc_dict(d)
        }
    })
}

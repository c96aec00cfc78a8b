//! Values between Python and Jue, natively (tooling §5's table without the JSON
//! column): None, bool, int, float, str, list/tuple and `jue.Symbol` both ways;
//! Jue procedures out as `jue.Procedure` handles, which go back in as themselves.
//! `bool` is tested before `int` (it is a subclass). Improper lists, capabilities,
//! error values and actors do not cross (a `JueError` of kind `type`).

use crate::errors::jue_error;
use crate::{Procedure, Session, Symbol, handle_name};
use jue_engine::Value as HostValue;
use jue_engine::vm::heap::Obj;
use jue_engine::vm::value::Value as VmValue;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

/// Deepest nesting converted; deeper data is an error, not a stack overflow.
const MAX_DEPTH: usize = 1_000;

fn too_deep() -> PyErr {
    PyValueError::new_err("data is nested too deeply to cross into Jue (over 1000 levels)")
}

fn no_dicts() -> PyErr {
    PyTypeError::new_err("a dict cannot cross into Jue: this engine has no Dict type yet")
}

fn cannot(obj: &Bound<'_, PyAny>) -> PyErr {
    let ty = obj
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "object".into());
    PyTypeError::new_err(format!(
        "a {ty} cannot cross into Jue (None, bool, int, float, str, list, tuple, jue.Symbol and jue.Procedure can)"
    ))
}

/// A Python object as a VM value, allocated in the session's heap.
pub fn py_to_vm(
    me: &Py<Session>,
    s: &mut jue_engine::Session,
    obj: &Bound<'_, PyAny>,
    depth: usize,
) -> PyResult<VmValue> {
    if depth > MAX_DEPTH {
        return Err(too_deep());
    }
    if obj.is_none() {
        return Ok(VmValue::Nil);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(VmValue::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        return Ok(VmValue::Int(obj.extract::<i64>()?));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Ok(VmValue::Float(f.value()));
    }
    if let Ok(t) = obj.cast::<PyString>() {
        let text = t.to_cow()?;
        let (heap, _) = s.heap_and_symbols();
        return Ok(heap.string(&*text));
    }
    if let Ok(sym) = obj.cast::<Symbol>() {
        let (_, symbols) = s.heap_and_symbols();
        return Ok(VmValue::Sym(symbols.intern(&sym.get().name)));
    }
    if let Ok(p) = obj.cast::<Procedure>() {
        let p = p.borrow();
        if !p.session.is(me) {
            return Err(PyValueError::new_err(
                "this procedure belongs to another session",
            ));
        }
        return Ok(p.value);
    }
    let items: Vec<Bound<'_, PyAny>> = if let Ok(l) = obj.cast::<PyList>() {
        l.iter().collect()
    } else if let Ok(t) = obj.cast::<PyTuple>() {
        t.iter().collect()
    } else if obj.is_instance_of::<PyDict>() {
        return Err(no_dicts());
    } else {
        return Err(cannot(obj));
    };
    let mut vals = Vec::with_capacity(items.len());
    for it in &items {
        vals.push(py_to_vm(me, s, it, depth + 1)?);
    }
    let (heap, _) = s.heap_and_symbols();
    Ok(heap.list(&vals))
}

/// A VM value as a Python object; procedures are rooted and become handles.
pub fn vm_to_py(
    py: Python<'_>,
    me: &Py<Session>,
    this: &Session,
    s: &mut jue_engine::Session,
    v: VmValue,
) -> PyResult<Py<PyAny>> {
    let mut roots = Vec::new();
    let r = out(py, me, this, s, v, &mut roots, 0);
    // Root what became handles (also on error: their objects then release them).
    for (slot, pv) in roots {
        s.set_global(&handle_name(slot), pv);
    }
    r
}

fn out(
    py: Python<'_>,
    me: &Py<Session>,
    this: &Session,
    s: &jue_engine::Session,
    v: VmValue,
    roots: &mut Vec<(u32, VmValue)>,
    depth: usize,
) -> PyResult<Py<PyAny>> {
    if depth > MAX_DEPTH {
        return Err(jue_error(
            "type",
            "data is nested too deeply to cross to Python (over 1000 levels)",
        ));
    }
    let heap = &s.vm().heap;
    Ok(match v {
        VmValue::Nil | VmValue::Undefined | VmValue::Cell(_) => py.None(),
        VmValue::Bool(b) => PyBool::new(py, b).to_owned().into_any().unbind(),
        VmValue::Int(i) => i.into_pyobject(py)?.into_any().unbind(),
        VmValue::Float(f) => PyFloat::new(py, f).into_any().unbind(),
        VmValue::Str(r) => PyString::new(py, heap.str(r)).into_any().unbind(),
        VmValue::Sym(id) => Py::new(
            py,
            Symbol {
                name: s.vm().symbols.name(id).to_string(),
            },
        )?
        .into_any(),
        VmValue::Closure(_) | VmValue::Builtin(_) | VmValue::Ffi(_) => {
            let slot = this.new_slot()?;
            roots.push((slot, v));
            Py::new(
                py,
                Procedure {
                    session: me.clone_ref(py),
                    slot,
                    value: v,
                    shown: s.show(v),
                },
            )?
            .into_any()
        }
        VmValue::Pair(_) => {
            let list = PyList::empty(py);
            let mut cur = v;
            while let VmValue::Pair(r) = cur {
                let (a, d) = heap.pair(r);
                list.append(out(py, me, this, s, a, roots, depth + 1)?)?;
                cur = d;
            }
            if !matches!(cur, VmValue::Nil) {
                return Err(jue_error(
                    "type",
                    format!("an improper list {} cannot cross to Python", s.show(v)),
                ));
            }
            list.into_any().unbind()
        }
        VmValue::Error(r) => {
            let shown = match heap.get(r) {
                Obj::Error(k, m) => format!("{k}: {m}"),
                _ => s.show(v),
            };
            return Err(jue_error(
                "type",
                format!("an error value ({shown}) cannot cross to Python"),
            ));
        }
        VmValue::Vector(r) => {
            let list = PyList::empty(py);
            for x in heap.vec(r) {
                list.append(out(py, me, this, s, *x, roots, depth + 1)?)?;
            }
            list.into_any().unbind()
        }
        VmValue::Dict(r) => {
            let d = pyo3::types::PyDict::new(py);
            for (k, x) in heap.dict(r).entries(heap) {
                let VmValue::Str(kr) = k else {
                    return Err(jue_error(
                        "type",
                        format!(
                            "a dict with the key {} cannot cross to Python (only String keys)",
                            s.show(k)
                        ),
                    ));
                };
                d.set_item(heap.str(kr), out(py, me, this, s, x, roots, depth + 1)?)?;
            }
            d.into_any().unbind()
        }
        VmValue::Capability(_) | VmValue::Actor(_) => {
            return Err(jue_error(
                "type",
                format!("{} cannot cross to Python", s.show(v)),
            ));
        }
    })
}

/// An owned value (a callback's argument) as a Python object.
pub fn host_to_py(py: Python<'_>, v: &HostValue) -> PyResult<Py<PyAny>> {
    Ok(match v {
        HostValue::Nil => py.None(),
        HostValue::Bool(b) => PyBool::new(py, *b).to_owned().into_any().unbind(),
        HostValue::Int(i) => i.into_pyobject(py)?.into_any().unbind(),
        HostValue::Float(f) => PyFloat::new(py, *f).into_any().unbind(),
        HostValue::String(t) => PyString::new(py, t).into_any().unbind(),
        HostValue::Symbol(n) => Py::new(py, Symbol { name: n.clone() })?.into_any(),
        HostValue::List(items) => {
            let list = PyList::empty(py);
            for it in items {
                list.append(host_to_py(py, it)?)?;
            }
            list.into_any().unbind()
        }
        other => {
            return Err(PyTypeError::new_err(format!(
                "{other} ({}) cannot cross to Python",
                other.type_name()
            )));
        }
    })
}

/// A Python object (a callback's result) as an owned value.
pub fn py_to_host(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<HostValue> {
    if depth > MAX_DEPTH {
        return Err(too_deep());
    }
    if obj.is_none() {
        return Ok(HostValue::Nil);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(HostValue::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        return Ok(HostValue::Int(obj.extract::<i64>()?));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Ok(HostValue::Float(f.value()));
    }
    if let Ok(t) = obj.cast::<PyString>() {
        return Ok(HostValue::String(t.to_cow()?.into_owned()));
    }
    if let Ok(sym) = obj.cast::<Symbol>() {
        return Ok(HostValue::Symbol(sym.get().name.clone()));
    }
    if obj.is_instance_of::<Procedure>() {
        return Err(PyTypeError::new_err(
            "a callback cannot return a procedure: host functions exchange owned values",
        ));
    }
    let items: Vec<Bound<'_, PyAny>> = if let Ok(l) = obj.cast::<PyList>() {
        l.iter().collect()
    } else if let Ok(t) = obj.cast::<PyTuple>() {
        t.iter().collect()
    } else if obj.is_instance_of::<PyDict>() {
        return Err(no_dicts());
    } else {
        return Err(cannot(obj));
    };
    if items.is_empty() {
        return Ok(HostValue::Nil);
    }
    items
        .iter()
        .map(|i| py_to_host(i, depth + 1))
        .collect::<PyResult<Vec<_>>>()
        .map(HostValue::List)
}

/// JSON (the registry listing) as Python objects.
pub fn json_to_py(py: Python<'_>, j: &serde_json::Value) -> PyResult<Py<PyAny>> {
    use serde_json::Value as J;
    Ok(match j {
        J::Null => py.None(),
        J::Bool(b) => PyBool::new(py, *b).to_owned().into_any().unbind(),
        J::Number(n) => match n.as_i64() {
            Some(i) => i.into_pyobject(py)?.into_any().unbind(),
            None => PyFloat::new(py, n.as_f64().unwrap_or(f64::NAN))
                .into_any()
                .unbind(),
        },
        J::String(s) => PyString::new(py, s).into_any().unbind(),
        J::Array(a) => {
            let list = PyList::empty(py);
            for it in a {
                list.append(json_to_py(py, it)?)?;
            }
            list.into_any().unbind()
        }
        J::Object(m) => {
            let d = PyDict::new(py);
            for (k, v) in m {
                d.set_item(k, json_to_py(py, v)?)?;
            }
            d.into_any().unbind()
        }
    })
}

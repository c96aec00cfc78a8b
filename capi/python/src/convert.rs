//! Values between Python and Jue, natively (tooling §5's table without the JSON
//! column): None, bool, int, float, str, list/tuple, `jue.Vector`, dict (str
//! keys, in order) and `jue.Symbol` both ways; Jue procedures out as
//! `jue.Procedure` handles (results and callbacks' arguments alike), which go
//! back in as themselves. `bool` is tested before `int` (it is a subclass) and
//! `jue.Vector` before `list` (likewise). Improper lists, capabilities, error
//! values, actors and dicts with keys that are not strings do not cross.

use crate::errors::jue_error;
use crate::{Procedure, Session, Symbol, vector_type};
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

fn bad_key(k: &Bound<'_, PyAny>) -> PyErr {
    let ty = k
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "object".into());
    PyTypeError::new_err(format!(
        "a dict key must be a str to cross into Jue, not a {ty} (tooling §5: Dicts cross with String keys)"
    ))
}

fn cannot(obj: &Bound<'_, PyAny>) -> PyErr {
    let ty = obj
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "object".into());
    PyTypeError::new_err(format!(
        "a {ty} cannot cross into Jue (None, bool, int, float, str, list, tuple, dict, jue.Vector, jue.Symbol and jue.Procedure can)"
    ))
}

/// A procedure handle as the VM value it holds (an error for another session's).
fn procedure_value(s: &jue_engine::Session, p: &Procedure) -> PyResult<VmValue> {
    s.vm().roots.get(p.func.core()).map_err(|m| {
        PyValueError::new_err(format!("this procedure belongs to another session ({m})"))
    })
}

/// A Python object as a VM value, allocated in the session's heap.
pub fn py_to_vm(
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
        return procedure_value(s, p.get());
    }
    if obj.is_instance_of::<PyDict>() {
        // Entries in the dict's order; values through the owned form, which
        // takes procedure handles too.
        let hv = py_to_host(obj, depth)?;
        return s.host_to_vm(&hv).map_err(PyTypeError::new_err);
    }
    let vector = obj.is_instance(vector_type(obj.py())?)?;
    let items: Vec<Bound<'_, PyAny>> = if let Ok(l) = obj.cast::<PyList>() {
        l.iter().collect()
    } else if let Ok(t) = obj.cast::<PyTuple>() {
        t.iter().collect()
    } else {
        return Err(cannot(obj));
    };
    let mut vals = Vec::with_capacity(items.len());
    for it in &items {
        vals.push(py_to_vm(s, it, depth + 1)?);
    }
    let (heap, _) = s.heap_and_symbols();
    Ok(if vector {
        heap.vector(vals, true)
    } else {
        heap.list(&vals)
    })
}

/// A VM value as a Python object; procedures are rooted and become handles.
pub fn vm_to_py(
    py: Python<'_>,
    me: &Py<Session>,
    s: &jue_engine::Session,
    v: VmValue,
) -> PyResult<Py<PyAny>> {
    out(py, me, s, v, 0)
}

fn procedure(py: Python<'_>, me: &Py<Session>, func: jue_engine::Function) -> PyResult<Py<PyAny>> {
    Ok(Py::new(
        py,
        Procedure {
            session: me.clone_ref(py),
            func,
        },
    )?
    .into_any())
}

fn new_vector(py: Python<'_>, list: Bound<'_, PyList>) -> PyResult<Py<PyAny>> {
    Ok(vector_type(py)?.call1((list,))?.unbind())
}

fn out(
    py: Python<'_>,
    me: &Py<Session>,
    s: &jue_engine::Session,
    v: VmValue,
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
        VmValue::Closure(..) | VmValue::Builtin(_) | VmValue::Ffi(_) => match s.to_host(v) {
            Ok(HostValue::Function(f)) => procedure(py, me, f)?,
            _ => {
                return Err(jue_error(
                    "type",
                    format!("{} cannot cross to Python", s.show(v)),
                ));
            }
        },
        VmValue::Pair(_) => {
            let list = PyList::empty(py);
            let mut cur = v;
            while let VmValue::Pair(r) = cur {
                let (a, d) = heap.pair(r);
                list.append(out(py, me, s, a, depth + 1)?)?;
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
                list.append(out(py, me, s, *x, depth + 1)?)?;
            }
            new_vector(py, list)?
        }
        VmValue::Dict(r) => {
            let d = PyDict::new(py);
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
                d.set_item(heap.str(kr), out(py, me, s, x, depth + 1)?)?;
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

/// An owned value (a callback's argument, a result of calling a procedure from
/// a callback) as a Python object; a procedure becomes a handle of `me`.
pub fn host_to_py(py: Python<'_>, me: &Py<Session>, v: &HostValue) -> PyResult<Py<PyAny>> {
    host_out(py, me, v, 0)
}

fn host_out(py: Python<'_>, me: &Py<Session>, v: &HostValue, depth: usize) -> PyResult<Py<PyAny>> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(
            "data is nested too deeply to cross to Python (over 1000 levels)",
        ));
    }
    let list_of = |items: &[HostValue]| -> PyResult<Bound<'_, PyList>> {
        let list = PyList::empty(py);
        for it in items {
            list.append(host_out(py, me, it, depth + 1)?)?;
        }
        Ok(list)
    };
    Ok(match v {
        HostValue::Nil => py.None(),
        HostValue::Bool(b) => PyBool::new(py, *b).to_owned().into_any().unbind(),
        HostValue::Int(i) => i.into_pyobject(py)?.into_any().unbind(),
        HostValue::Float(f) => PyFloat::new(py, *f).into_any().unbind(),
        HostValue::String(t) => PyString::new(py, t).into_any().unbind(),
        HostValue::Symbol(n) => Py::new(py, Symbol { name: n.clone() })?.into_any(),
        HostValue::List(items) => list_of(items)?.into_any().unbind(),
        HostValue::Vector(items) => new_vector(py, list_of(items)?)?,
        HostValue::Dict(entries) => {
            let d = PyDict::new(py);
            for (k, x) in entries {
                let HostValue::String(k) = k else {
                    return Err(PyTypeError::new_err(format!(
                        "a dict with the key {k} cannot cross to Python (only String keys)"
                    )));
                };
                d.set_item(k, host_out(py, me, x, depth + 1)?)?;
            }
            d.into_any().unbind()
        }
        HostValue::Function(f) => procedure(py, me, f.clone())?,
        other => {
            return Err(PyTypeError::new_err(format!(
                "{other} ({}) cannot cross to Python",
                other.type_name()
            )));
        }
    })
}

/// A Python object (a callback's result, an argument of a procedure called from
/// a callback) as an owned value.
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
    if let Ok(p) = obj.cast::<Procedure>() {
        return Ok(HostValue::Function(p.get().func.clone()));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut entries = Vec::with_capacity(d.len());
        for (k, v) in d.iter() {
            let Ok(ks) = k.cast::<PyString>() else {
                return Err(bad_key(&k));
            };
            entries.push((
                HostValue::String(ks.to_cow()?.into_owned()),
                py_to_host(&v, depth + 1)?,
            ));
        }
        return Ok(HostValue::Dict(entries));
    }
    let vector = obj.is_instance(vector_type(obj.py())?)?;
    let items: Vec<Bound<'_, PyAny>> = if let Ok(l) = obj.cast::<PyList>() {
        l.iter().collect()
    } else if let Ok(t) = obj.cast::<PyTuple>() {
        t.iter().collect()
    } else {
        return Err(cannot(obj));
    };
    let vals = items
        .iter()
        .map(|i| py_to_host(i, depth + 1))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(if vector {
        HostValue::Vector(vals)
    } else if vals.is_empty() {
        HostValue::Nil
    } else {
        HostValue::List(vals)
    })
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

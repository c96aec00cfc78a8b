//! The `jue` Python module (tooling §5, "Every host, every language"): a native
//! extension over `jue_engine::Session`. Values convert natively (no JSON), Jue
//! procedures come back as callable handles, errors form a hierarchy rooted at
//! `JueError`, and evaluations run with the GIL released: Ctrl-C stops them
//! (see [`sigint`]), other Python threads keep running, and a callback's
//! exception comes back out unchanged.

mod convert;
mod errors;
mod output;
mod sigint;

use convert::{host_to_py, py_to_host, py_to_vm, vm_to_py};
use errors::{Stash, eval_error};
use jue_engine::ffi::HostFunction;
use jue_engine::session::grants::parse_capability;
use jue_engine::vm::limits::Interrupt;
use jue_engine::vm::output::Output;
use jue_engine::vm::value::Value as VmValue;
use jue_engine::{
    FfiFunction, GrantSource, HostError, Limits, SourceFile, SourceLocation, TrustTier,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyModule, PyTuple, PyType, PyWeakrefReference};
use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A value that is used only on the thread that made it, moved into
/// `Python::detach` (which runs its closure on the current thread).
struct SameThread<T>(T);
// SAFETY: `detach` runs the closure on the calling thread and returns before the
// caller continues; the value never reaches another thread.
unsafe impl<T> Send for SameThread<T> {}

/// A Jue symbol: `jue.Symbol("name")`.
#[pyclass(module = "jue", frozen, eq, hash, str)]
#[derive(PartialEq, Eq, Hash, Clone)]
struct Symbol {
    /// Its name.
    #[pyo3(get)]
    name: String,
}

impl std::fmt::Display for Symbol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

#[pymethods]
impl Symbol {
    #[new]
    fn new(name: String) -> PyResult<Symbol> {
        if name.is_empty() {
            return Err(PyValueError::new_err("a symbol's name cannot be empty"));
        }
        Ok(Symbol { name })
    }
    fn __repr__(&self) -> String {
        format!("jue.Symbol({:?})", self.name)
    }
}

/// A Jue procedure held by Python: call it, keep it, pass it back in. It stays
/// valid across collections until Python drops it (its engine handle is then
/// given back at the session's next safe point).
#[pyclass(module = "jue", frozen)]
struct Procedure {
    session: Py<Session>,
    func: jue_engine::Function,
}

#[pymethods]
impl Procedure {
    /// Calls the procedure. Inside a callback of its own session it runs through
    /// the callback's context (under the running evaluation's limits); otherwise
    /// as a new evaluation of the session.
    #[pyo3(signature = (*args))]
    fn __call__(&self, py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
        let id = self.func.core().session_id();
        if let Some(r) = call_in_callback(py, &self.session, id, args, |argv| {
            jue_engine::HostCx::call_in_callback(id, &self.func, argv)
        }) {
            return r;
        }
        let s = self.session.bind(py).borrow();
        s.call_function(py, &self.session, &self.func, args)
    }
    fn __repr__(&self) -> String {
        self.func.printed().to_string()
    }
}

/// Runs a call (`call`, on the converted arguments) through the innermost
/// callback of session `id` running on this thread, if one is (the session
/// itself is busy then): `None` otherwise.
fn call_in_callback(
    py: Python<'_>,
    me: &Py<Session>,
    id: u64,
    args: &Bound<'_, PyTuple>,
    call: impl FnOnce(&[jue_engine::Value]) -> Option<Result<jue_engine::Value, jue_engine::HostError>>,
) -> Option<PyResult<Py<PyAny>>> {
    if !jue_engine::CallbackScope::active(id) {
        return None;
    }
    let argv = match args
        .iter()
        .map(|a| convert::py_to_host(&a, 0))
        .collect::<PyResult<Vec<_>>>()
    {
        Ok(a) => a,
        Err(e) => return Some(Err(e)),
    };
    let stash = Arc::clone(&me.bind(py).get().stash);
    Some(match call(&argv)? {
        Ok(v) => convert::host_to_py(py, me, &v),
        Err(e) => Err(stash
            .take_cause(jue_engine::ErrorKind::Host, &e.message)
            .unwrap_or_else(|| {
                // Raise the Jue kind of the nested call's error.
                let (kind, message) = jue_engine::ErrorKind::of_nested(&e);
                errors::jue_error(kind, message)
            })),
    })
}

/// State used only on the thread that made the session. The engine session is
/// not `Send`; `get` refuses other threads, so it is only ever touched there
/// (dropping it elsewhere is fine: nothing else refers to it then).
struct Local<T> {
    owner: std::thread::ThreadId,
    value: T,
}

// SAFETY: `value` is reached only through `get`, which checks the thread.
unsafe impl<T> Send for Local<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for Local<T> {}

impl<T> Local<T> {
    fn new(value: T) -> Local<T> {
        Local {
            owner: std::thread::current().id(),
            value,
        }
    }
    fn get(&self) -> PyResult<&T> {
        if std::thread::current().id() == self.owner {
            Ok(&self.value)
        } else {
            Err(errors::jue_error(
                "thread",
                "a session is used from the thread that made it (only interrupt() works from any thread)",
            ))
        }
    }
}

/// A Jue session. It is used from the thread that made it, except
/// `interrupt()`, which any thread may call.
#[pyclass(module = "jue", frozen, weakref)]
struct Session {
    inner: Local<RefCell<Option<jue_engine::Session>>>,
    /// Set when the engine panicked (a bug): its state is then unknown, so the
    /// session refuses further work.
    broken: AtomicBool,
    interrupt: Interrupt,
    stash: Arc<Stash>,
    main_thread: bool,
    /// The engine session's id (as its handles and callbacks know it).
    id: u64,
}

/// Limits given as keyword arguments; `None` keeps what is set.
#[derive(Clone, Copy, Default)]
struct LimitArgs {
    steps: Option<u64>,
    memory: Option<u64>,
    timeout_ms: Option<u64>,
    depth: Option<u64>,
}

impl LimitArgs {
    fn apply(self, l: &mut Limits) {
        if let Some(v) = self.steps {
            l.steps = v;
        }
        if let Some(v) = self.memory {
            l.memory = v;
        }
        if let Some(v) = self.timeout_ms {
            l.timeout_ms = Some(v);
        }
        if let Some(v) = self.depth {
            l.depth = v;
        }
    }
    fn is_empty(self) -> bool {
        self.steps.is_none()
            && self.memory.is_none()
            && self.timeout_ms.is_none()
            && self.depth.is_none()
    }
}

fn is_main_thread(py: Python<'_>) -> PyResult<bool> {
    let threading = py.import("threading")?;
    let main = threading.call_method0("main_thread")?;
    let current = threading.call_method0("current_thread")?;
    Ok(main.is(&current))
}

impl Session {
    /// The engine session, exclusively; a session already running (a callback
    /// calling back into its own session) or closed is an error.
    fn engine(&self) -> PyResult<std::cell::RefMut<'_, jue_engine::Session>> {
        let guard = self.inner.get()?.try_borrow_mut().map_err(|_| {
            errors::jue_error(
                "busy",
                "the session is already running (a callback may not re-enter its own session)",
            )
        })?;
        let s = std::cell::RefMut::filter_map(guard, Option::as_mut)
            .map_err(|_| errors::jue_error("closed", "the session is closed"))?;
        if self.broken.load(Ordering::SeqCst) {
            return Err(errors::jue_error(
                "broken",
                "the session was broken by an earlier internal error; make a new one",
            ));
        }
        Ok(s)
    }

    /// Runs `f` on the engine with the GIL released, Ctrl-C armed and the
    /// interrupt and the stash cleared first; converts the result or maps the
    /// error (a stashed Python exception comes out as itself).
    fn run<'py>(
        &self,
        py: Python<'py>,
        me: &Py<Session>,
        s: &mut jue_engine::Session,
        f: impl FnOnce(&mut jue_engine::Session) -> Result<VmValue, jue_engine::EvalError>,
    ) -> PyResult<Py<PyAny>> {
        // An interrupt raised while nothing ran is dropped (tooling §5).
        self.interrupt.clear();
        self.stash.clear();
        let armed = self
            .main_thread
            .then(|| sigint::Armed::new(&self.interrupt));
        let job = SameThread((&mut *s, f));
        let r = py.detach(move || {
            let job = job;
            let (s, f) = job.0;
            SameThread(catch_unwind(AssertUnwindSafe(|| f(s))))
        });
        drop(armed);
        match r.0 {
            Ok(Ok(v)) => match self.stash.take_fatal() {
                Some(err) => Err(err),
                None => vm_to_py(py, me, s, v),
            },
            Ok(Err(e)) => Err(eval_error(py, s, e, &self.stash)),
            Err(p) => {
                self.broken.store(true, Ordering::SeqCst);
                Err(errors::jue_error(
                    "panic",
                    format!(
                        "internal error (caught panic): {}; the session is now unusable",
                        errors::panic_message(&*p)
                    ),
                ))
            }
        }
    }

    fn call_function(
        &self,
        py: Python<'_>,
        me: &Py<Session>,
        func: &jue_engine::Function,
        args: &Bound<'_, PyTuple>,
    ) -> PyResult<Py<PyAny>> {
        let mut g = self.engine()?;
        let s = &mut *g;
        let callee = s.vm().roots.get(func.core()).map_err(|m| {
            PyValueError::new_err(format!("this procedure belongs to another session ({m})"))
        })?;
        let argv = build_args(s, args)?;
        self.run(py, me, s, |s| {
            s.call_value(callee, &argv)
                .map_err(jue_engine::EvalError::Runtime)
        })
    }
}

fn build_args(s: &mut jue_engine::Session, args: &Bound<'_, PyTuple>) -> PyResult<Vec<VmValue>> {
    let mut out = Vec::with_capacity(args.len());
    for a in args.iter() {
        out.push(py_to_vm(s, &a, 0)?);
    }
    Ok(out)
}

#[pymethods]
impl Session {
    #[new]
    #[pyo3(signature = (*, steps=None, memory=None, timeout_ms=None, depth=None, output=None))]
    fn new(
        py: Python<'_>,
        steps: Option<u64>,
        memory: Option<u64>,
        timeout_ms: Option<u64>,
        depth: Option<u64>,
        output: Option<Py<PyAny>>,
    ) -> PyResult<Session> {
        let stash = Arc::new(Stash::default());
        let mut s = jue_engine::Session::new();
        let interrupt = s.interrupt();
        let id = s.vm().roots.session();
        let out = output::PyOutput::new(py, output, Arc::clone(&stash), interrupt.clone())?;
        s.set_output(Output::new(Box::new(out)));
        LimitArgs {
            steps,
            memory,
            timeout_ms,
            depth,
        }
        .apply(&mut s.limits);
        Ok(Session {
            inner: Local::new(RefCell::new(Some(s))),
            broken: AtomicBool::new(false),
            interrupt,
            stash,
            main_thread: is_main_thread(py)?,
            id,
        })
    }

    /// Checks, compiles and runs source; returns the value of its last form.
    #[pyo3(signature = (source, name="<eval>", *, steps=None, memory=None, timeout_ms=None, depth=None))]
    #[allow(clippy::too_many_arguments)]
    fn eval(
        slf: &Bound<'_, Session>,
        source: &str,
        name: &str,
        steps: Option<u64>,
        memory: Option<u64>,
        timeout_ms: Option<u64>,
        depth: Option<u64>,
    ) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let me = slf.clone().unbind();
        let this = slf.borrow();
        let mut g = this.engine()?;
        let s = &mut *g;
        let extra = LimitArgs {
            steps,
            memory,
            timeout_ms,
            depth,
        };
        let saved = s.limits;
        extra.apply(&mut s.limits);
        let file = SourceFile::new(name, source);
        let r = this.run(py, &me, s, |s| s.eval_vm(file));
        if !extra.is_empty() {
            s.limits = saved;
        }
        r
    }

    /// Calls a Jue global, built-in or FFI function by name with positional
    /// arguments; keyword arguments set limits for this call only.
    #[pyo3(signature = (name, *args, steps=None, memory=None, timeout_ms=None, depth=None))]
    #[allow(clippy::too_many_arguments)]
    fn call(
        slf: &Bound<'_, Session>,
        name: &str,
        args: &Bound<'_, PyTuple>,
        steps: Option<u64>,
        memory: Option<u64>,
        timeout_ms: Option<u64>,
        depth: Option<u64>,
    ) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let me = slf.clone().unbind();
        let this = slf.borrow();
        let extra = LimitArgs {
            steps,
            memory,
            timeout_ms,
            depth,
        };
        // From inside one of this session's callbacks: within the running
        // evaluation, under its limits.
        if !extra.is_empty() && jue_engine::CallbackScope::active(this.id) {
            return Err(PyValueError::new_err(
                "a call made inside a callback runs under the running evaluation's limits; it takes no limits of its own",
            ));
        }
        if let Some(r) = call_in_callback(py, &me, this.id, args, |argv| {
            jue_engine::HostCx::call_by_name_in_callback(this.id, name, argv)
        }) {
            return r;
        }
        let mut g = this.engine()?;
        let s = &mut *g;
        let callee = s
            .procedure(name)
            .map_err(|e| eval_error(py, s, jue_engine::EvalError::Runtime(e), &this.stash))?;
        let argv = build_args(s, args)?;
        let saved = s.limits;
        extra.apply(&mut s.limits);
        let r = this.run(py, &me, s, |s| {
            s.call_value(callee, &argv)
                .map_err(jue_engine::EvalError::Runtime)
        });
        if !extra.is_empty() {
            s.limits = saved;
        }
        r
    }

    /// Grants a capability (`"fs:read"`), with an optional scope or amount;
    /// returns the scope as resolved (a real path, `host:port`, ...).
    #[pyo3(signature = (capability, scope=None))]
    fn grant(&self, capability: &str, scope: Option<&str>) -> PyResult<Option<String>> {
        let mut g = self.engine()?;
        let cap = parse_capability(capability.trim())
            .map_err(|e| errors::jue_error("grant", e.message))?;
        g.grant(cap, scope, GrantSource::Host)
            .map_err(|e| errors::jue_error("grant", e.message))?;
        Ok(g.grant_records().last().and_then(|r| r.scope.clone()))
    }

    /// Revokes every grant of a capability.
    fn revoke(&self, capability: &str) -> PyResult<()> {
        let mut g = self.engine()?;
        let cap = parse_capability(capability.trim())
            .map_err(|e| errors::jue_error("grant", e.message))?;
        g.revoke(cap);
        Ok(())
    }

    /// Registers a Python callable as an FFI function. With `blocking=True`
    /// (language §6, §9) its calls made while other actors live run on a worker
    /// thread, which takes the GIL for the call; several may run at once (each
    /// waits for the GIL, so only code that releases it, such as I/O or
    /// `time.sleep`, overlaps), and they cannot call Jue procedures back.
    #[pyo3(signature = (name, function, params, ret, capability=None, tier="empirical", doc="", blocking=false))]
    #[allow(clippy::too_many_arguments)]
    fn register(
        slf: &Bound<'_, Session>,
        name: &str,
        function: Py<PyAny>,
        params: Vec<String>,
        ret: &str,
        capability: Option<&str>,
        tier: &str,
        doc: &str,
        blocking: bool,
    ) -> PyResult<()> {
        let py = slf.py();
        let this = slf.borrow();
        if !function.bind(py).is_callable() {
            return Err(PyTypeError::new_err("the function must be callable"));
        }
        let cap = capability
            .map(|c| parse_capability(c.trim()).map_err(|e| errors::jue_error("grant", e.message)))
            .transpose()?;
        let tier = TrustTier::from_name(tier).ok_or_else(|| {
            errors::jue_error(
                "registry",
                format!("`{tier}` is not a tier (formal, verified, empirical, experimental)"),
            )
        })?;
        let mut g = this.engine()?;
        // A fresh custom id (from 100), as the C ABI gives.
        let id = g
            .registry()
            .iter()
            .filter_map(|f| match f.host_function {
                HostFunction::Custom(n) => Some(n),
                _ => None,
            })
            .max()
            .map_or(100, |n| n.saturating_add(1))
            .max(100);
        let f = FfiFunction::new(
            name,
            HostFunction::Custom(id),
            cap,
            params,
            ret,
            doc,
            SourceLocation::default(),
        )
        .with_tier(tier)
        .with_blocking(blocking);
        let callback = Callback {
            function,
            // Weak: the session holds its registry, which holds this callback.
            session: PyWeakrefReference::new(slf.as_any())?.unbind(),
            session_id: g.vm().roots.session(),
            name: name.to_string(),
            stash: Arc::clone(&this.stash),
            interrupt: this.interrupt.clone(),
        };
        let f = f.with_context_implementation(move |cx, args| callback.invoke(cx, args));
        g.register_function(f)
            .map_err(|e| errors::jue_error("registry", e.to_string()))
    }

    /// The registry: one dict per function, in the schema of `jue registry --json`.
    fn registry(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let g = self.engine()?;
        let json = g.registry().to_json();
        convert::json_to_py(py, json.get("functions").unwrap_or(&json))
    }

    /// Asks the running evaluation to stop (from any thread; dropped if none runs).
    fn interrupt(&self) {
        self.interrupt.raise();
    }

    /// Sets limits for later evaluations; `None` keeps a limit as it is.
    #[pyo3(signature = (*, steps=None, memory=None, timeout_ms=None, depth=None))]
    fn set_limits(
        &self,
        steps: Option<u64>,
        memory: Option<u64>,
        timeout_ms: Option<u64>,
        depth: Option<u64>,
    ) -> PyResult<()> {
        let mut g = self.engine()?;
        LimitArgs {
            steps,
            memory,
            timeout_ms,
            depth,
        }
        .apply(&mut g.limits);
        Ok(())
    }

    /// The limits in force: a dict of steps, memory, timeout_ms and depth.
    #[getter]
    fn limits<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let g = self.engine()?;
        let d = PyDict::new(py);
        d.set_item("steps", g.limits.steps)?;
        d.set_item("memory", g.limits.memory)?;
        d.set_item("timeout_ms", g.limits.timeout_ms)?;
        d.set_item("depth", g.limits.depth)?;
        Ok(d)
    }

    /// Steps used by the last evaluation or call.
    #[getter]
    fn steps_used(&self) -> PyResult<u64> {
        Ok(self.engine()?.steps_used())
    }

    /// Collects garbage now.
    fn collect_garbage(&self) -> PyResult<()> {
        self.engine()?.collect_garbage();
        Ok(())
    }

    /// Closes the session: later use raises `JueError` of kind `closed`.
    fn close(&self) -> PyResult<()> {
        let mut g =
            self.inner.get()?.try_borrow_mut().map_err(|_| {
                errors::jue_error("busy", "the session cannot be closed while it runs")
            })?;
        *g = None;
        Ok(())
    }

    fn __enter__(slf: Py<Session>) -> Py<Session> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, _exc: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close()?;
        Ok(false)
    }
}

/// A Python callable registered as an FFI function.
struct Callback {
    function: Py<PyAny>,
    /// The session, to hand procedures to the function as its handles.
    session: Py<PyWeakrefReference>,
    /// The engine session's id (its handles carry it).
    session_id: u64,
    name: String,
    stash: Arc<Stash>,
    interrupt: Interrupt,
}

impl Callback {
    /// Calls the function with the GIL (taken here: a blocking function's call
    /// may run on a worker thread, which holds no GIL); a Python exception is stashed (to come
    /// back out of `eval`/`call` as itself) and becomes a Jue `host` error; a
    /// `BaseException` that is not an `Exception` (KeyboardInterrupt,
    /// SystemExit) also stops the evaluation, so Jue code cannot catch it.
    /// Procedures among the arguments arrive as `jue.Procedure`s, callable
    /// during the call (through `cx`) and after it. An `int` result where a
    /// Float is declared widens in the VM (tooling §5).
    fn invoke(
        &self,
        cx: &mut jue_engine::HostCx<'_>,
        args: &[jue_engine::Value],
    ) -> Result<jue_engine::Value, HostError> {
        let name = &self.name;
        let r = catch_unwind(AssertUnwindSafe(|| {
            Python::attach(|py| {
                let me = match self.session.bind(py).upgrade() {
                    Some(s) => match s.cast_into::<Session>() {
                        Ok(s) => s.unbind(),
                        Err(e) => return Err(HostError::host(format!("`{name}`: {e}"))),
                    },
                    None => {
                        return Err(HostError::host(format!("`{name}`: its session is gone")));
                    }
                };
                let items = args
                    .iter()
                    .map(|a| host_to_py(py, &me, a))
                    .collect::<PyResult<Vec<_>>>();
                let items = match items {
                    Ok(i) => i,
                    Err(e) => {
                        return Err(HostError::host(format!("`{name}`: {e}")));
                    }
                };
                let tuple = match PyTuple::new(py, items) {
                    Ok(t) => t,
                    Err(e) => return Err(HostError::host(format!("`{name}`: {e}"))),
                };
                let entered = jue_engine::CallbackScope::enter(self.session_id, cx);
                let r = self.function.bind(py).call1(tuple);
                drop(entered);
                match r {
                    Ok(v) => match py_to_host(&v, 0) {
                        Ok(v) => Ok(v),
                        Err(e) => Err(HostError::host(format!(
                            "`{name}` returned a value Jue cannot take: {e}"
                        ))),
                    },
                    Err(e) => Err(self.stash.put(py, name, e, &self.interrupt)),
                }
            })
        }));
        match r {
            Ok(r) => r,
            Err(p) => Err(HostError::host(format!(
                "`{name}`: internal error (caught panic): {}",
                errors::panic_message(&*p)
            ))),
        }
    }
}

/// `jue.Vector`: a `list` subclass that crosses into Jue as a vector (and is
/// what a Jue vector becomes). Defined in Python: PyO3 cannot subclass `list`
/// under the stable ABI.
fn vector_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    static VECTOR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    VECTOR
        .get_or_try_init(py, || {
            let m = PyModule::from_code(
                py,
                c"class Vector(list):
    \"\"\"A Jue vector: a list that crosses into Jue as a vector, not a list.\"\"\"

    __slots__ = ()

    def __repr__(self):
        return 'jue.Vector(' + list.__repr__(self) + ')'

Vector.__module__ = 'jue'
",
                c"<jue.Vector>",
                c"jue._vector",
            )?;
            Ok::<_, PyErr>(m.getattr("Vector")?.cast_into::<PyType>()?.unbind())
        })
        .map(|t| t.bind(py))
}

/// The version of the engine this module was built with.
#[pyfunction]
fn version() -> &'static str {
    concat!("jue ", env!("CARGO_PKG_VERSION"))
}

/// The `jue` module.
#[pymodule]
#[pyo3(name = "jue")]
fn jue_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<Session>()?;
    m.add_class::<Symbol>()?;
    m.add_class::<Procedure>()?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add("Vector", vector_type(py)?)?;
    errors::add_exceptions(py, m)?;
    let all = PyList::new(
        py,
        [
            "Session",
            "Symbol",
            "Vector",
            "Procedure",
            "version",
            "JueError",
            "CompileError",
            "CapabilityError",
            "LimitError",
            "Interrupted",
        ],
    )?;
    m.add("__all__", all)?;
    Ok(())
}

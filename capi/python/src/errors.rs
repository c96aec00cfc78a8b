//! The exception hierarchy (`JueError` and its subclasses), the mapping of the
//! engine's errors onto it, and the stash that carries a Python exception raised
//! in a callback or an output hook back out of `eval`/`call` unchanged.

use jue_engine::vm::limits::Interrupt;
use jue_engine::{ErrorKind, EvalError, HostError, Session};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyList;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

create_exception!(
    jue,
    JueError,
    PyException,
    "An error from Jue: `kind`, `message`, `source`, `line`, `column`, `stack`."
);
create_exception!(
    jue,
    CompileError,
    JueError,
    "Source with error diagnostics: nothing ran."
);
create_exception!(
    jue,
    CapabilityError,
    JueError,
    "A capability the session does not hold, or a scope that refuses the request."
);
create_exception!(
    jue,
    LimitError,
    JueError,
    "A resource limit was reached: steps, memory, wall time or call depth."
);
create_exception!(
    jue,
    Interrupted,
    JueError,
    "The evaluation was interrupted (`Session.interrupt()`)."
);

/// Adds the exception classes to the module.
pub fn add_exceptions(py: Python<'_>, m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("JueError", py.get_type::<JueError>())?;
    m.add("CompileError", py.get_type::<CompileError>())?;
    m.add("CapabilityError", py.get_type::<CapabilityError>())?;
    m.add("LimitError", py.get_type::<LimitError>())?;
    m.add("Interrupted", py.get_type::<Interrupted>())?;
    Ok(())
}

/// Where an error happened.
#[derive(Default)]
struct Position {
    source: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
}

/// Builds the exception of the class for `kind`, with its attributes set.
fn build(
    py: Python<'_>,
    kind: &str,
    message: &str,
    at: Position,
    stack: Vec<String>,
    diagnostics: Vec<String>,
) -> PyErr {
    let text = match (&at.source, at.line, at.column) {
        (Some(s), Some(l), Some(c)) => format!("{kind}: {message} (at {s}:{l}:{c})"),
        _ => format!("{kind}: {message}"),
    };
    let err = match kind {
        "compile" => CompileError::new_err(text),
        "capability-denied" => CapabilityError::new_err(text),
        "step-limit" | "memory-limit" | "timeout" | "depth-limit" => LimitError::new_err(text),
        "interrupted" => Interrupted::new_err(text),
        _ => JueError::new_err(text),
    };
    let set = || -> PyResult<()> {
        let v = err.value(py);
        v.setattr("kind", kind)?;
        v.setattr("message", message)?;
        v.setattr("source", at.source)?;
        v.setattr("line", at.line)?;
        v.setattr("column", at.column)?;
        v.setattr("stack", PyList::new(py, stack)?)?;
        v.setattr("diagnostics", PyList::new(py, diagnostics)?)?;
        Ok(())
    };
    match set() {
        Ok(()) => err,
        Err(e) => e,
    }
}

/// A `JueError` (or subclass) of `kind` with no position.
pub fn jue_error(kind: &str, message: impl AsRef<str>) -> PyErr {
    Python::attach(|py| {
        build(
            py,
            kind,
            message.as_ref(),
            Position::default(),
            Vec::new(),
            Vec::new(),
        )
    })
}

/// The text of a caught panic.
pub fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// The engine's error as a Python exception: a stashed Python exception that
/// caused it comes out as itself; an interrupt with a pending signal runs the
/// signal's handler (Ctrl-C: `KeyboardInterrupt`).
pub fn eval_error(py: Python<'_>, s: &Session, e: EvalError, stash: &Stash) -> PyErr {
    match e {
        EvalError::Compile {
            source,
            diagnostics,
            ..
        } => {
            let errors: Vec<_> = diagnostics.iter().filter(|d| d.is_error()).collect();
            let lines = errors
                .iter()
                .map(|d| {
                    let (l, c) = source.line_col(d.span.start);
                    format!(
                        "{} at {}:{}:{}: {}",
                        d.code,
                        source.name(),
                        l + 1,
                        c + 1,
                        d.message
                    )
                })
                .collect();
            let (message, at) = match errors.first() {
                Some(d) => {
                    let (l, c) = source.line_col(d.span.start);
                    (
                        format!("{}: {}", d.code, d.message),
                        Position {
                            source: Some(source.name().to_string()),
                            line: Some(l + 1),
                            column: Some(c + 1),
                        },
                    )
                }
                None => ("compile error".to_string(), Position::default()),
            };
            build(py, "compile", &message, at, Vec::new(), lines)
        }
        EvalError::Runtime(r) => {
            if let Some(err) = stash.take_cause(r.kind, &r.message) {
                return err;
            }
            if r.kind == ErrorKind::Interrupted
                && let Err(err) = py.check_signals()
            {
                return err;
            }
            let mut at = Position::default();
            let mut stack = Vec::new();
            for f in &r.stack {
                let Some(src) = s.source(f.source).filter(|src| !src.text().is_empty()) else {
                    stack.push(f.function.clone());
                    continue;
                };
                let (l, c) = src.line_col(f.span.start);
                if at.source.is_none() {
                    at = Position {
                        source: Some(src.name().to_string()),
                        line: Some(l + 1),
                        column: Some(c + 1),
                    };
                }
                stack.push(format!(
                    "{} at {}:{}:{}",
                    f.function,
                    src.name(),
                    l + 1,
                    c + 1
                ));
            }
            build(py, r.kind.name(), &r.message, at, stack, Vec::new())
        }
    }
}

/// A Python exception waiting to come back out of the running evaluation.
struct Stashed {
    /// The message of the Jue `host` error it became.
    message: String,
    err: PyErr,
    /// A `BaseException` that is not an `Exception`, or an output failure: it
    /// stopped the evaluation and comes out whatever Jue code did.
    fatal: bool,
}

/// The last Python exception of the running evaluation (callbacks and output).
#[derive(Default)]
pub struct Stash {
    slot: Mutex<Option<Stashed>>,
    /// Whether `slot` may hold something: the common path reads only this.
    used: AtomicBool,
}

impl Stash {
    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Stashed>> {
        self.used.store(true, Ordering::SeqCst);
        self.slot.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets what an earlier evaluation left.
    pub fn clear(&self) {
        if self.used.swap(false, Ordering::SeqCst) {
            let old = self.slot.lock().unwrap_or_else(|e| e.into_inner()).take();
            drop(old);
        }
    }

    /// Keeps a callback's exception; returns the Jue error it becomes. A
    /// KeyboardInterrupt or SystemExit also stops the evaluation.
    pub fn put(&self, py: Python<'_>, name: &str, err: PyErr, interrupt: &Interrupt) -> HostError {
        let fatal = !err.is_instance_of::<PyException>(py);
        let ty = err
            .get_type(py)
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "exception".into());
        let message = format!("`{name}` raised {ty}: {}", err.value(py));
        if fatal {
            interrupt.raise();
        }
        *self.slot() = Some(Stashed {
            message: message.clone(),
            err,
            fatal,
        });
        HostError::host(message)
    }

    /// Keeps an output hook's exception; the evaluation stops.
    pub fn put_fatal(&self, err: PyErr, interrupt: &Interrupt) {
        interrupt.raise();
        let mut slot = self.slot();
        if !slot.as_ref().is_some_and(|s| s.fatal) {
            *slot = Some(Stashed {
                message: String::new(),
                err,
                fatal: true,
            });
        }
    }

    /// The exception that ended the evaluation with this error, if one did.
    pub fn take_cause(&self, kind: ErrorKind, message: &str) -> Option<PyErr> {
        if !self.used.load(Ordering::SeqCst) {
            return None;
        }
        let s = self.slot().take()?;
        let caused = s.fatal || (kind == ErrorKind::Host && message.contains(&s.message));
        caused.then_some(s.err)
    }

    /// A fatal exception of an evaluation that nevertheless finished.
    pub fn take_fatal(&self) -> Option<PyErr> {
        if !self.used.load(Ordering::SeqCst) {
            return None;
        }
        let mut slot = self.slot();
        if slot.as_ref().is_some_and(|s| s.fatal) {
            return slot.take().map(|s| s.err);
        }
        None
    }
}

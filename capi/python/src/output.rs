//! The output hook: where `print` and `println` write. A callable receives each
//! piece of text; a file-like object gets `write` (and `flush` after an
//! evaluation that wrote); with neither, `sys.stdout` is looked up at each write,
//! so `contextlib.redirect_stdout` works.

use crate::errors::Stash;
use jue_engine::vm::limits::Interrupt;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use std::io::{self, Write};
use std::sync::Arc;

enum Target {
    /// `sys.stdout`, as it is at each write.
    Stdout,
    /// An object with `write`.
    File(Py<PyAny>),
    /// A callable taking one `str`.
    Callable(Py<PyAny>),
}

/// The output hook as the engine's `Output` writer.
pub struct PyOutput {
    target: Target,
    stash: Arc<Stash>,
    interrupt: Interrupt,
    /// Whether anything was written since the last flush (a flush costs a Python
    /// call, so evaluations that print nothing skip it).
    dirty: bool,
}

impl PyOutput {
    /// The hook for `output` (None: `sys.stdout`).
    pub fn new(
        py: Python<'_>,
        output: Option<Py<PyAny>>,
        stash: Arc<Stash>,
        interrupt: Interrupt,
    ) -> PyResult<PyOutput> {
        let target = match output {
            None => Target::Stdout,
            Some(o) if o.bind(py).hasattr("write")? => Target::File(o),
            Some(o) if o.bind(py).is_callable() => Target::Callable(o),
            Some(_) => {
                return Err(PyTypeError::new_err(
                    "output must be a callable taking a str or an object with a write method",
                ));
            }
        };
        Ok(PyOutput {
            target,
            stash,
            interrupt,
            dirty: false,
        })
    }

    fn emit(&self, py: Python<'_>, text: &str) -> PyResult<()> {
        match &self.target {
            Target::Stdout => {
                let out = py.import("sys")?.getattr("stdout")?;
                // No stdout at all (pythonw, a closed console): output is dropped.
                if !out.is_none() {
                    out.call_method1("write", (text,))?;
                }
            }
            Target::File(f) => {
                f.bind(py).call_method1("write", (text,))?;
            }
            Target::Callable(c) => {
                c.bind(py).call1((text,))?;
            }
        }
        Ok(())
    }

    fn flush_target(&self, py: Python<'_>) -> PyResult<()> {
        let target = match &self.target {
            Target::Stdout => py.import("sys")?.getattr("stdout")?,
            Target::File(f) => f.bind(py).clone(),
            Target::Callable(_) => return Ok(()),
        };
        if !target.is_none() && target.hasattr("flush")? {
            target.call_method0("flush")?;
        }
        Ok(())
    }
}

impl Write for PyOutput {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.dirty = true;
        let text = String::from_utf8_lossy(buf);
        Python::attach(|py| {
            if let Err(e) = self.emit(py, &text) {
                // Printing failed (the hook raised): stop the evaluation and let the
                // exception come out of eval/call.
                self.stash.put_fatal(e, &self.interrupt);
            }
        });
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !std::mem::take(&mut self.dirty) {
            return Ok(());
        }
        Python::attach(|py| {
            if let Err(e) = self.flush_target(py) {
                self.stash.put_fatal(e, &self.interrupt);
            }
        });
        Ok(())
    }
}

//! Handles for the host: rooted values and callable [`Function`]s (issue 14,
//! point 2). The root table lives in the VM; here are the session's doors to it.

use super::{EvalError, Session};
use crate::ground::ffi::Value as HostValue;
use crate::ground::ffi::{Function, Rooted};
use crate::ground::span::SourceFile;
use crate::vm::error::{ErrorKind, RuntimeError};

fn handle_error(message: String) -> EvalError {
    EvalError::Runtime(RuntimeError {
        kind: ErrorKind::Host,
        message,
        stack: Vec::new(),
    })
}

impl Session {
    /// Calls a Jue procedure the host holds (from a result, an argument of a host
    /// function, or [`Session::function`]) on owned arguments, under the limits of
    /// the default tier. A handle of another session is an error of kind `host`.
    pub fn call_function(
        &mut self,
        f: &Function,
        args: &[HostValue],
    ) -> Result<HostValue, EvalError> {
        let callee = self.vm.roots.get(&f.core).map_err(handle_error)?;
        if !callee.is_procedure() {
            return Err(handle_error(format!("{} is not a procedure", f.printed())));
        }
        self.call_owned(callee, args)
    }

    /// A handle to a global procedure, built-in or host function by name, to call
    /// later without looking the name up again.
    pub fn function(&mut self, name: &str) -> Result<Function, EvalError> {
        match self.eval_str("<function>", name)? {
            HostValue::Function(f) => Ok(f),
            other => Err(EvalError::Runtime(RuntimeError {
                kind: ErrorKind::Type,
                message: format!("`{name}` is a {}, not a procedure", other.type_name()),
                stack: Vec::new(),
            })),
        }
    }

    /// Evaluates a text and keeps its value in the heap, rooted: the handle stays
    /// valid across collections until dropped. Read it with [`Session::value_of`].
    pub fn eval_rooted(&mut self, name: &str, text: &str) -> Result<Rooted, EvalError> {
        let v = self.eval_raw(SourceFile::new(name, text))?;
        Ok(Rooted {
            core: self.vm.roots.root(v),
        })
    }

    /// The value behind a rooted handle, copied out (procedures as [`Function`]s).
    pub fn value_of(&self, r: &Rooted) -> Result<HostValue, EvalError> {
        let v = self.vm.roots.get(&r.core).map_err(handle_error)?;
        self.to_host(v).map_err(handle_error)
    }

    /// Handles the host holds now (dropped ones not counted).
    pub fn handles_held(&self) -> usize {
        self.vm.roots.len()
    }
}

impl Function {
    /// Calls the procedure in `session` (see [`Session::call_function`]).
    pub fn call(&self, session: &mut Session, args: &[HostValue]) -> Result<HostValue, EvalError> {
        session.call_function(self, args)
    }
}

impl Session {
    /// Sets the host's per-session data of type `T` (one value per type); host
    /// functions registered with a context reach it with `cx.host_data::<T>()`.
    pub fn set_host_data<T: std::any::Any + Send>(&mut self, data: T) {
        self.vm
            .host_user
            .insert(std::any::TypeId::of::<T>(), Box::new(data));
    }

    /// The host's per-session data of type `T`, if set.
    pub fn host_data<T: std::any::Any + Send>(&mut self) -> Option<&mut T> {
        self.vm
            .host_user
            .get_mut(&std::any::TypeId::of::<T>())
            .and_then(|b| b.downcast_mut::<T>())
    }

    /// Sets the host's shared data of type `T` (one value per type): host
    /// functions reach it with `cx.shared_data::<T>()` on the VM thread and off
    /// it (a blocking function running beside other actors sees the value set
    /// when its call began). Put what changes behind a `Mutex` or atomics.
    pub fn set_shared_data<T: std::any::Any + Send + Sync>(&mut self, data: T) {
        std::sync::Arc::make_mut(&mut self.vm.host_shared)
            .insert(std::any::TypeId::of::<T>(), std::sync::Arc::new(data));
    }

    /// The host's shared data of type `T`, if set.
    pub fn shared_data<T: std::any::Any + Send + Sync>(&self) -> Option<std::sync::Arc<T>> {
        let v = self.vm.host_shared.get(&std::any::TypeId::of::<T>())?;
        std::sync::Arc::clone(v).downcast::<T>().ok()
    }
}

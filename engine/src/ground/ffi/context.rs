//! What a host function sees besides its arguments: [`HostCx`]. The ground floor
//! only declares it; the VM provides it ([`HostContext`]) when it calls a host
//! closure, and the host floor adds the scope helpers (`host::context`).

use super::error::HostError;
use super::handle::Function;
use super::value::Value;
use crate::ground::capability::Capability;
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// Per-session host data, one value per type (`Session::set_host_data`).
pub type HostData = HashMap<TypeId, Box<dyn Any + Send>>;

/// Per-session data shared with every host call, on the VM thread or off it
/// (a blocking call beside other actors), one value per type
/// (`Session::set_shared_data`).
pub type SharedData = HashMap<TypeId, Arc<dyn Any + Send + Sync>>;

/// What the caller of a host closure provides (the VM implements it).
pub trait HostContext {
    /// The registry name of the function being called.
    fn function_name(&self) -> &str;
    /// The capability the function was registered with, if any.
    fn capability(&self) -> Option<Capability>;
    /// When the running evaluation must stop, if it has a time limit.
    fn deadline(&self) -> Option<Instant>;
    /// Whether the evaluation was asked to stop (an interrupt).
    fn interrupted(&self) -> bool;
    /// The session's own host state (scopes), opaque here.
    fn host_state(&mut self) -> &mut dyn Any;
    /// The host's per-session data.
    fn host_data(&mut self) -> &mut HostData;
    /// Calls a Jue procedure under the running evaluation's limits.
    fn call(&mut self, f: &Function, args: &[Value]) -> Result<Value, HostError>;
    /// The host's shared data (none by default).
    fn shared_data(&self) -> Option<&SharedData> {
        None
    }
    /// Whether the call runs on a worker thread beside other actors (a
    /// blocking function): no callbacks, no [`HostCx::host_data`] there.
    fn off_thread(&self) -> bool {
        false
    }
    /// Calls a global, built-in or host function by name under the running
    /// evaluation's limits.
    fn call_by_name(&mut self, name: &str, args: &[Value]) -> Result<Value, HostError>;
}

/// The context a host function receives (register it with
/// `FfiFunction::with_context_implementation`): the grant it runs under, the
/// deadline, Jue procedures to call back, and per-session host data.
pub struct HostCx<'a> {
    inner: &'a mut dyn HostContext,
}

impl<'a> HostCx<'a> {
    /// Wraps what the caller provides.
    pub fn new(inner: &'a mut dyn HostContext) -> HostCx<'a> {
        HostCx { inner }
    }

    /// The registry name of the function being called.
    pub fn function_name(&self) -> &str {
        self.inner.function_name()
    }

    /// The capability the function was registered with (and the session was
    /// checked to hold before the call), if any.
    pub fn capability(&self) -> Option<Capability> {
        self.inner.capability()
    }

    /// When the evaluation must stop, if it has a time limit: a slow host function
    /// should give up by then (the VM cannot interrupt host code).
    pub fn deadline(&self) -> Option<Instant> {
        self.inner.deadline()
    }

    /// Time left before the deadline (`None` without a time limit).
    pub fn time_left(&self) -> Option<std::time::Duration> {
        self.deadline()
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Whether the evaluation was interrupted: a long host function should stop.
    pub fn interrupted(&self) -> bool {
        self.inner.interrupted()
    }

    /// Calls a Jue procedure passed to this function (a [`Value::Function`])
    /// under the running evaluation's limits: its steps count, and a limit or an
    /// interrupt it hits stops the whole evaluation even if this function
    /// swallows the error.
    pub fn call(&mut self, f: &Function, args: &[Value]) -> Result<Value, HostError> {
        self.inner.call(f, args)
    }

    /// Calls a Jue global, built-in or host function by name, as `Session::call`
    /// finds it, within the running evaluation like [`HostCx::call`]: its steps
    /// count, the limits, deadline and interrupt hold, capability checks apply.
    /// (The session itself is busy while its host functions run.)
    pub fn call_by_name(&mut self, name: &str, args: &[Value]) -> Result<Value, HostError> {
        self.inner.call_by_name(name, args)
    }

    /// The session's data of type `T`, set with `Session::set_host_data`.
    pub fn host_data<T: Any + Send>(&mut self) -> Option<&mut T> {
        self.inner
            .host_data()
            .get_mut(&TypeId::of::<T>())
            .and_then(|b| b.downcast_mut::<T>())
    }

    /// The session's shared data of type `T`, set with
    /// `Session::set_shared_data`: reachable on the VM thread and off it (a
    /// blocking function running beside other actors), so it is `Sync`; use a
    /// `Mutex` or atomics inside it for what changes.
    pub fn shared_data<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        let v = self.inner.shared_data()?.get(&TypeId::of::<T>())?;
        Arc::clone(v).downcast::<T>().ok()
    }

    /// Whether this call runs on a worker thread beside other actors (a
    /// function registered as blocking, called while other actors live).
    /// There [`HostCx::call`] is refused and [`HostCx::host_data`] is `None`;
    /// the grant's scopes, the deadline, the interrupt and
    /// [`HostCx::shared_data`] are as on the VM thread.
    pub fn off_thread(&self) -> bool {
        self.inner.off_thread()
    }

    /// The session's host state, opaque (the host floor reads its scopes).
    #[doc(hidden)]
    pub fn host_state_any(&mut self) -> &mut dyn Any {
        self.inner.host_state()
    }
}

/// The host callbacks running on this thread, innermost last, with their
/// session ids: how a binding (C, Python) lets a procedure handle called from
/// inside a callback run through that callback's context while the session
/// itself is busy.
mod running {
    use std::cell::RefCell;

    thread_local! {
        pub(super) static STACK: RefCell<Vec<(u64, *mut ())>> =
            const { RefCell::new(Vec::new()) };
    }
}

/// Marks a callback's context as running on this thread while it lives (see
/// [`HostCx::call_in_callback`]); create it at the start of the callback, keep it
/// until the callback returns.
pub struct CallbackScope(());

impl CallbackScope {
    /// Enters `cx`, a callback of session `session`, as the innermost one.
    pub fn enter(session: u64, cx: &mut HostCx<'_>) -> CallbackScope {
        let p = cx as *mut HostCx<'_> as *mut ();
        running::STACK.with(|s| s.borrow_mut().push((session, p)));
        CallbackScope(())
    }

    /// Whether a callback of `session` runs on this thread.
    pub fn active(session: u64) -> bool {
        running::STACK.with(|s| s.borrow().iter().any(|(id, _)| *id == session))
    }
}

impl Drop for CallbackScope {
    fn drop(&mut self) {
        running::STACK.with(|s| s.borrow_mut().pop());
    }
}

impl HostCx<'_> {
    /// Calls `f` through the innermost callback of `session` running on this
    /// thread ([`CallbackScope`]), if there is one: `None` when no callback of
    /// that session runs here (the caller then uses the session itself).
    pub fn call_in_callback(
        session: u64,
        f: &Function,
        args: &[Value],
    ) -> Option<Result<Value, HostError>> {
        Self::in_callback(session, |cx| cx.call(f, args))
    }

    /// Calls the procedure `name` names ([`HostCx::call_by_name`]) through the
    /// innermost callback of `session` running on this thread, as
    /// [`HostCx::call_in_callback`] does: `None` when none runs here.
    pub fn call_by_name_in_callback(
        session: u64,
        name: &str,
        args: &[Value],
    ) -> Option<Result<Value, HostError>> {
        Self::in_callback(session, |cx| cx.call_by_name(name, args))
    }

    /// Runs `op` on the context of the innermost callback of `session` running
    /// on this thread, if any.
    fn in_callback<R>(session: u64, op: impl FnOnce(&mut HostCx<'_>) -> R) -> Option<R> {
        let p = running::STACK.with(|s| {
            s.borrow()
                .iter()
                .rev()
                .find(|(id, _)| *id == session)
                .map(|(_, p)| *p)
        })?;
        // SAFETY: pushed by `CallbackScope::enter` from a `HostCx` that outlives
        // the scope, which pops it; we are on the same thread, inside that
        // callback (its entry is still on the stack), and the callback's own code
        // does not use its context while the code calling this runs.
        let cx = unsafe { &mut *(p as *mut HostCx<'static>) };
        Some(op(cx))
    }
}

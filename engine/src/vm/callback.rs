//! Host closures with a context: the VM's side of [`HostCx`]. A host function may
//! call a Jue procedure back (`HostCx::call`): the VM runs it above the calling
//! frame, with the caller's frames set aside, under the same limits (its steps
//! count, the deadline and interrupt hold, the depth of such nesting is bounded).
//! A panic in the closure is caught and becomes an error of kind `host`.

use super::error::{ErrorKind, Fault};
use super::value::Value;
use super::{Frame, Vm, convert};
use crate::ground::builtins;
use crate::ground::ffi::context::{HostContext, HostCx, HostData, SharedData};
use crate::ground::ffi::function::HostClosure;
use crate::ground::ffi::{Capability, Function, HostError, Value as HostValue};
use std::any::Any;
use std::time::Instant;

/// Host → Jue → host → … nesting allowed (each level is a Rust frame of the host's).
pub const MAX_CALLBACK_DEPTH: u32 = 64;

/// The context of one host call.
struct VmCx<'a> {
    vm: &'a mut Vm,
    idx: usize,
}

impl HostContext for VmCx<'_> {
    fn function_name(&self) -> &str {
        &self.vm.host[self.idx].name
    }
    fn capability(&self) -> Option<Capability> {
        self.vm.host[self.idx].capability
    }
    fn deadline(&self) -> Option<Instant> {
        self.vm.deadline
    }
    fn interrupted(&self) -> bool {
        self.vm.interrupt.get() != super::limits::Stop::None
    }
    fn host_state(&mut self) -> &mut dyn Any {
        &mut *self.vm.host_data
    }
    fn host_data(&mut self) -> &mut HostData {
        &mut self.vm.host_user
    }
    fn shared_data(&self) -> Option<&SharedData> {
        Some(&self.vm.host_shared)
    }
    fn call(&mut self, f: &Function, args: &[HostValue]) -> Result<HostValue, HostError> {
        let callee = self.vm.roots.get(f.core()).map_err(HostError::host)?;
        self.vm.call_nested_owned(callee, args)
    }
    fn call_by_name(&mut self, name: &str, args: &[HostValue]) -> Result<HostValue, HostError> {
        // The prelude's own globals are not the session's definitions (as for
        // `Session::call`, which asks the session which globals its code defined).
        let callee = self
            .vm
            .procedure_named(name, |g| !g.starts_with(builtins::PRELUDE_PREFIX))
            .map_err(|f| fault_to_host(&f))?;
        self.vm.call_nested_owned(callee, args)
    }
}

/// A fault as the host function sees it (its kind kept where a host error has one).
fn fault_to_host(f: &Fault) -> HostError {
    use crate::ground::ffi::HostErrorKind as K;
    let kind = match f.kind {
        ErrorKind::CapabilityDenied => K::CapabilityDenied,
        ErrorKind::Type => K::Type,
        ErrorKind::Timeout => K::Timeout,
        ErrorKind::Interrupted => K::Interrupted,
        _ => K::Host,
    };
    HostError::new(kind, format!("{}: {}", f.kind, f.message))
}

/// The message of a panic payload.
fn panic_message(p: &(dyn Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

impl Vm {
    /// Calls a host closure: arguments copied out as owned values (procedures as
    /// rooted [`Function`]s), the result copied in. A panic becomes a `host` error;
    /// a limit or an interrupt met by a callback stops the evaluation whatever the
    /// closure returns.
    pub(super) fn call_closure(
        &mut self,
        f: &HostClosure,
        idx: usize,
        at: usize,
        argc: usize,
    ) -> Result<Value, Box<Fault>> {
        let mut args = Vec::with_capacity(argc);
        for v in &self.stack[at..at + argc] {
            let show = |v: Value| self.show(v);
            let owned = convert::to_host_rooted(*v, &self.heap, &self.symbols, &self.roots, &show)
                .map_err(|m| Fault::new(ErrorKind::Type, m))?;
            args.push(owned);
        }
        let out = {
            let mut vcx = VmCx { vm: self, idx };
            let mut cx = HostCx::new(&mut vcx);
            // The closure is the host's code: a panic in it must not unwind through
            // the VM (whose state is consistent here: nothing is half-done).
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut cx, &args)))
        };
        drop(args);
        if let Some(stop) = self.pending_stop.take() {
            return Err(stop);
        }
        let out = match out {
            Ok(r) => r.map_err(Fault::from_host)?,
            Err(p) => {
                return Err(Fault::new(
                    ErrorKind::Host,
                    format!(
                        "host function `{}` panicked: {}",
                        self.host[idx].name,
                        panic_message(&*p)
                    ),
                ));
            }
        };
        convert::from_host_rooted(&out, &mut self.heap, &mut self.symbols, &self.roots)
            .map_err(|m| Fault::new(ErrorKind::Host, m))
    }

    /// The procedure `name` names, as a host's call by name finds it: a global
    /// the session's code defined (`defined` says which names are), a built-in,
    /// or a host function of the registry.
    pub fn procedure_named(
        &self,
        name: &str,
        defined: impl Fn(&str) -> bool,
    ) -> Result<Value, Box<Fault>> {
        let callee = if let Some(v) = self.global(name).filter(|_| defined(name)) {
            v
        } else if let Some(id) = builtins::find(name, false) {
            match builtins::get(id).imp {
                builtins::Imp::Native | builtins::Imp::Vm => Value::Builtin(id),
                builtins::Imp::Prelude => self
                    .global(&format!("{}{name}", builtins::PRELUDE_PREFIX))
                    .ok_or_else(|| {
                        Fault::new(ErrorKind::Unbound, format!("`{name}` is not loaded"))
                    })?,
            }
        } else if let Some(i) = self
            .host
            .iter()
            .position(|e| !name.is_empty() && &*e.name == name)
        {
            Value::Ffi(i as u32)
        } else {
            return Err(Fault::new(
                ErrorKind::Unbound,
                format!("no function named `{name}`"),
            ));
        };
        if !callee.is_procedure() {
            return Err(Fault::new(
                ErrorKind::Type,
                format!("`{name}` is not a procedure"),
            ));
        }
        Ok(callee)
    }

    /// Calls `callee` on owned arguments from inside a host call
    /// ([`Vm::call_nested`]); the host's Ints widen where a host function
    /// declares a Float, as for `Session::call`. The result is copied out.
    fn call_nested_owned(
        &mut self,
        callee: Value,
        args: &[HostValue],
    ) -> Result<HostValue, HostError> {
        let mut vals = Vec::with_capacity(args.len());
        for a in args {
            vals.push(
                convert::from_host_rooted(a, &mut self.heap, &mut self.symbols, &self.roots)
                    .map_err(HostError::type_error)?,
            );
        }
        if let Value::Ffi(i) = callee {
            self.widen_host_args(i as usize, &mut vals);
        }
        match self.call_nested(callee, &vals) {
            Ok(v) => {
                let show = |v: Value| self.show(v);
                convert::to_host_rooted(v, &self.heap, &self.symbols, &self.roots, &show)
                    .map_err(HostError::host)
            }
            Err(fault) => Err(fault_to_host(&fault)),
        }
    }

    /// Runs `f` on `args` from inside a host call: above the calling frame's
    /// registers, with the running frames and handlers set aside, under the
    /// running limits.
    pub(super) fn call_nested(&mut self, f: Value, args: &[Value]) -> Result<Value, Box<Fault>> {
        if !f.is_procedure() {
            return Err(Fault::new(
                ErrorKind::Type,
                format!("a {} is not a procedure", f.type_name()),
            ));
        }
        let Some(outer) = self.frames.last().copied() else {
            return Err(Fault::new(ErrorKind::Host, "no evaluation is running"));
        };
        if self.callback_depth >= MAX_CALLBACK_DEPTH {
            return Err(Fault::new(
                ErrorKind::DepthLimit,
                format!("host functions calling Jue nest deeper than {MAX_CALLBACK_DEPTH}"),
            ));
        }
        let Ok(argc) = u16::try_from(args.len()) else {
            return Err(Fault::new(ErrorKind::Arity, "too many arguments"));
        };
        let tier = self.protos[outer.proto as usize].tier;
        let proto = self.trampoline(argc, tier);
        let outer_top = outer.base as usize + self.protos[outer.proto as usize].nregs as usize;
        let base = outer_top + 1;
        self.ensure_stack(base, argc as usize + 1)?;
        self.stack[base] = f;
        self.stack[base + 1..base + 1 + args.len()].copy_from_slice(args);
        let frames = std::mem::take(&mut self.frames);
        let handlers = std::mem::take(&mut self.handlers);
        // Caps put on outside stay on through the nested run (its limits are
        // the running ones); caps it puts on come off when it ends.
        let outer_cap = self.cap.take();
        // The nested run counts its own fuel; its steps are charged to the caller
        // as a built-in's work.
        let (steps, chunk, fuel) = (self.steps_used, self.chunk, self.fuel);
        self.chunk = 0;
        self.fuel = 0;
        self.callback_depth += 1;
        self.frames.push(Frame {
            code: self.code_of(proto),
            proto,
            base: base as u32,
            pc: 0,
        });
        let result = loop {
            match self.execute() {
                Ok(v) => break Ok(v),
                Err(fault) => {
                    if let Some(h) = self.catching(&fault) {
                        self.enter_handler(h, *fault);
                        continue;
                    }
                    break Err(fault);
                }
            }
        };
        self.callback_depth -= 1;
        let used = self.steps_used - steps + (self.chunk - self.fuel).max(0) as u64;
        self.steps_used = steps;
        self.chunk = chunk;
        self.fuel = fuel;
        self.work = self.work.saturating_add(used);
        self.frames = frames;
        self.handlers = handlers;
        if self.cap.is_some() {
            self.uncap_limits();
        }
        self.cap = outer_cap;
        if let Err(fault) = &result
            && !fault.kind.is_catchable()
        {
            // A limit or an interrupt ends the evaluation, not just the callback.
            self.pending_stop = Some(fault.clone());
        }
        result
    }
}

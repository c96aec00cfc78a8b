//! Host closures with a context: the VM's side of [`HostCx`]. A host function may
//! call a Jue procedure back (`HostCx::call`): the VM runs it above the calling
//! frame, with the caller's frames set aside, under the same limits (its steps
//! count, the deadline and interrupt hold, the depth of such nesting is bounded).
//! A panic in the closure is caught and becomes an error of kind `host`.

use super::error::{ErrorKind, Fault};
use super::value::Value;
use super::{Frame, Vm, convert};
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
        let vm = &mut *self.vm;
        let callee = vm.roots.get(f.core()).map_err(HostError::host)?;
        let mut vals = Vec::with_capacity(args.len());
        for a in args {
            vals.push(
                convert::from_host_rooted(a, &mut vm.heap, &mut vm.symbols, &vm.roots)
                    .map_err(HostError::type_error)?,
            );
        }
        match vm.call_nested(callee, &vals) {
            Ok(v) => {
                let show = |v: Value| vm.show(v);
                convert::to_host_rooted(v, &vm.heap, &vm.symbols, &vm.roots, &show)
                    .map_err(HostError::host)
            }
            Err(fault) => Err(fault_to_host(&fault)),
        }
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

//! Host calls: the grant check (recorded in the audit), argument and result types
//! against the signature, and the call itself, to a native of the engine or to a
//! host's closure over owned values. Also built-ins called through a value.

use super::error::{ErrorKind, Fault};
use super::meter::Meter;
use super::natives::{self, Ctx, NativeFn};
use super::value::Value;
use super::{Step, Vm};
use crate::ground::ffi::Capability;
use crate::ground::ffi::function::HostClosure;
use std::sync::Arc;

/// What runs a host function, as the VM calls it.
#[derive(Clone)]
pub enum HostCode {
    /// A native over VM values (the standard library; the host floor provides it).
    Native(NativeFn),
    /// A pure standard function (`add`, `fadd`, …): called on its arguments
    /// with no context built.
    Pure(super::ffi_math::PureFn),
    /// A host's closure over owned values.
    Closure(Arc<HostClosure>),
    /// A standard function that waits on the outside world: prepared on the VM
    /// thread, its work runs off it while other actors live (`blocking.rs`).
    Blocking(super::blocking::BlockingNative),
}

/// A host function as the VM calls it.
#[derive(Clone)]
pub struct HostEntry {
    /// Its registry name.
    pub name: Box<str>,
    /// The capability the session must hold.
    pub capability: Option<Capability>,
    /// Accepted value kinds per required parameter.
    pub params: Box<[u16]>,
    /// Accepted kinds of extra arguments, if variadic.
    pub rest: Option<u16>,
    /// Accepted kinds of the result.
    pub ret: u16,
    /// The implementation; entries loaded only for checking have none.
    pub imp: Option<HostCode>,
    /// Whether its calls may block (language §6): inside actors they run off
    /// the VM thread.
    pub blocking: bool,
}

/// An integral result where the signature accepts a Float but not an Int: the
/// Float (tooling §5: "an integral Int where a Float is declared widens"). Exact
/// for every Int up to 2^53; larger ones round, as `int->float` does.
#[cold]
#[inline(never)]
pub(super) fn widen_result(accepted: u16, v: Value) -> Option<Value> {
    use crate::ground::types as t;
    match v {
        Value::Int(i) if accepted & t::FLOAT != 0 && accepted & t::INT == 0 => {
            Some(Value::Float(i as f64))
        }
        _ => None,
    }
}

impl Vm {
    /// Calls host function `idx` on `argc` values at `at`: checks the grant (and
    /// records the check), the argument count and types, runs it, checks the result.
    /// Every error is built in a cold function, so the common path stays short.
    #[inline]
    pub(super) fn host_call(
        &mut self,
        idx: usize,
        at: usize,
        argc: usize,
    ) -> Result<Value, Box<Fault>> {
        let Some(entry) = self.host.get(idx) else {
            return Err(Fault::new(ErrorKind::Host, "unknown host function"));
        };
        let cap = entry.capability;
        if let Some(cap) = cap {
            self.check_grant(idx, cap)?;
        }
        let entry = &self.host[idx];
        let n = entry.params.len();
        let args = &self.stack[at..at + argc];
        if argc != n && !(entry.rest.is_some() && argc > n) {
            return Err(self.host_arity_fault_audited(idx, argc, cap));
        }
        // The declared parameters, then the variadic rest (if any).
        for (i, (mask, v)) in entry.params.iter().zip(args).enumerate() {
            if mask & v.kind_bit() == 0 {
                return Err(self.host_type_fault_audited(idx, i, *v, cap));
            }
        }
        if argc > n {
            let mask = entry.rest.unwrap_or(u16::MAX);
            for (i, v) in args.iter().enumerate().skip(n) {
                if mask & v.kind_bit() == 0 {
                    return Err(self.host_type_fault_audited(idx, i, *v, cap));
                }
            }
        }
        let ret = entry.ret;
        let result = match &entry.imp {
            Some(HostCode::Pure(f)) => f(args),
            Some(HostCode::Native(f)) => {
                let f = *f;
                self.host_native(f, at, argc)
            }
            Some(HostCode::Closure(f)) if entry.blocking && self.off_thread() => {
                let f = Arc::clone(f);
                self.closure_off_thread(f, idx, at, argc)
            }
            Some(HostCode::Closure(f)) => {
                let f = Arc::clone(f);
                self.host_closure(&f, idx, at, argc)
            }
            Some(HostCode::Blocking(prep)) => {
                let prep = *prep;
                self.call_blocking(prep, idx, at, argc)
            }
            None => Err(self.no_implementation_fault(idx)),
        };
        // One record per checked call: denied when the host's scope check (a path,
        // a host) refused it, else allowed.
        let v = match result {
            Ok(v) => {
                if cap.is_some() {
                    self.audit_allowed(idx, cap);
                }
                v
            }
            Err(f) => return Err(self.host_failure_audited(idx, cap, f)),
        };
        if ret & v.kind_bit() == 0 {
            return widen_result(ret, v).ok_or_else(|| self.host_return_fault(idx, v));
        }
        Ok(v)
    }

    /// [`Vm::host_call`] of two arguments (`Instr::CallFfi2` off its fast path),
    /// out of line: they are put into the call's window at `at` first.
    #[inline(never)]
    pub(super) fn host_call_pair(
        &mut self,
        idx: usize,
        at: usize,
        args: [Value; 2],
    ) -> Result<Value, Box<Fault>> {
        self.stack[at..at + 2].copy_from_slice(&args);
        self.host_call(idx, at, 2)
    }

    /// The call op's fast path: the function of host function `idx` when it is
    /// a pure standard function that needs no capability (nothing to check
    /// against the grants, so nothing a revocation could change) and `args` have
    /// the declared count and types. Such a function takes no context, charges
    /// no work, allocates nothing and calls nothing back, and its result is of
    /// its declared type by construction (`ffi_registry` holds each to the
    /// registry), so the dispatch loop calls it in place with nothing to check,
    /// charge or collect after. `None` sends the call through
    /// [`Vm::host_call`], which builds every error and audit record.
    #[inline(always)]
    pub(super) fn pure_fast(&self, idx: usize, args: &[Value]) -> Option<super::ffi_math::PureFn> {
        let entry = self.host.get(idx)?;
        let Some(HostCode::Pure(f)) = entry.imp else {
            return None;
        };
        if entry.capability.is_some() || entry.params.len() != args.len() {
            return None;
        }
        for (mask, v) in entry.params.iter().zip(args) {
            if mask & v.kind_bit() == 0 {
                return None;
            }
        }
        Some(f)
    }

    /// A native host function, out of line: building its context would make
    /// `host_call` a large function that saves many registers on every call,
    /// pure ones included.
    #[inline(never)]
    fn host_native(&mut self, f: NativeFn, at: usize, argc: usize) -> Result<Value, Box<Fault>> {
        self.call_native(f, at, argc)
    }

    /// A host's closure, out of line (as `host_native`).
    #[inline(never)]
    fn host_closure(
        &mut self,
        f: &Arc<HostClosure>,
        idx: usize,
        at: usize,
        argc: usize,
    ) -> Result<Value, Box<Fault>> {
        self.call_closure(&**f, idx, at, argc)
    }

    /// The audit record of a failed host call, then its fault.
    #[cold]
    #[inline(never)]
    fn host_failure_audited(
        &mut self,
        idx: usize,
        cap: Option<Capability>,
        f: Box<Fault>,
    ) -> Box<Fault> {
        if self.actors.switch.is_some() {
            // The call went off the VM thread: its record is made when it
            // returns (`host_done`), denied if a scope check refused it there.
            return f;
        }
        match cap {
            Some(cap) if f.kind == ErrorKind::CapabilityDenied => {
                self.audit_scope_denial(idx, cap, &f);
            }
            _ => self.audit_allowed(idx, cap),
        }
        f
    }

    #[cold]
    #[inline(never)]
    fn host_arity_fault_audited(
        &mut self,
        idx: usize,
        argc: usize,
        cap: Option<Capability>,
    ) -> Box<Fault> {
        self.audit_allowed(idx, cap);
        self.host_arity_fault(idx, argc)
    }

    #[cold]
    #[inline(never)]
    fn host_type_fault_audited(
        &mut self,
        idx: usize,
        i: usize,
        v: Value,
        cap: Option<Capability>,
    ) -> Box<Fault> {
        self.audit_allowed(idx, cap);
        self.host_type_fault(idx, i, v)
    }

    /// Widens the host's Int arguments of a call of host function `idx` where its
    /// signature declares a Float (tooling §5, "Conversions"): what an embedder
    /// passes through `Session::call` converts as a host function's result does.
    /// Jue code gets no such conversion (language §6: no implicit conversion).
    pub fn widen_host_args(&self, idx: usize, args: &mut [Value]) {
        let Some(entry) = self.host.get(idx) else {
            return;
        };
        for (i, v) in args.iter_mut().enumerate() {
            let mask = match entry.params.get(i) {
                Some(m) => *m,
                None => entry.rest.unwrap_or(u16::MAX),
            };
            if let Some(w) = widen_result(mask, *v) {
                *v = w;
            }
        }
    }

    /// The grant check of a host call; a denial is recorded in the audit log here.
    #[cold]
    #[inline(never)]
    pub(super) fn check_grant(&mut self, idx: usize, cap: Capability) -> Step {
        if !self.grants.contains(cap) {
            let name = self.host[idx].name.clone();
            self.audit
                .record(&name, cap, false, Some("not granted".into()));
            return Err(Fault::new(
                ErrorKind::CapabilityDenied,
                format!("`{name}` needs the capability {cap}, which this session does not hold"),
            ));
        }
        // The grant check passed; `host_call` records the call once it knows whether
        // the host's scope check allowed it too.
        Ok(())
    }

    /// The audit record of a call that ran off the VM thread, once it returned:
    /// denied when a scope check there refused it, else allowed.
    pub(super) fn audit_returned(&mut self, idx: usize, denial: Option<&Fault>) {
        let Some(cap) = self.host.get(idx).and_then(|e| e.capability) else {
            return;
        };
        match denial {
            Some(f) => self.audit_scope_denial(idx, cap, f),
            None => self.audit_allowed(idx, Some(cap)),
        }
    }

    /// Records an allowed capability check of a host call that needs `cap`.
    fn audit_allowed(&mut self, idx: usize, cap: Option<Capability>) {
        if let Some(cap) = cap {
            let name = self.host[idx].name.clone();
            self.audit.record(&name, cap, true, None);
        }
    }

    /// A scope check inside the host function (a path, a host) denied the call.
    #[cold]
    #[inline(never)]
    pub(super) fn audit_scope_denial(&mut self, idx: usize, cap: Capability, f: &Fault) {
        let name = self.host[idx].name.clone();
        self.audit
            .record(&name, cap, false, Some(f.message.clone()));
    }

    #[cold]
    #[inline(never)]
    pub(super) fn host_arity_fault(&self, idx: usize, argc: usize) -> Box<Fault> {
        let e = &self.host[idx];
        let n = e.params.len();
        let want = if e.rest.is_some() {
            format!("at least {n}")
        } else {
            n.to_string()
        };
        Fault::new(
            ErrorKind::Arity,
            format!("`{}` takes {want} arguments, but {argc} were given", e.name),
        )
    }

    #[cold]
    #[inline(never)]
    pub(super) fn host_type_fault(&self, idx: usize, i: usize, v: Value) -> Box<Fault> {
        let name = &self.host[idx].name;
        Fault::new(
            ErrorKind::Type,
            format!(
                "argument {} of `{name}` has the wrong type: {}",
                i + 1,
                v.type_name()
            ),
        )
    }

    #[cold]
    #[inline(never)]
    pub(super) fn host_return_fault(&self, idx: usize, v: Value) -> Box<Fault> {
        let name = &self.host[idx].name;
        Fault::new(
            ErrorKind::Host,
            format!(
                "`{name}` returned {}, which its signature does not allow",
                v.type_name()
            ),
        )
    }

    #[cold]
    #[inline(never)]
    pub(super) fn no_implementation_fault(&self, idx: usize) -> Box<Fault> {
        Fault::new(
            ErrorKind::Host,
            format!(
                "`{}` has no implementation in this host",
                self.host[idx].name
            ),
        )
    }

    pub(super) fn call_native(
        &mut self,
        f: NativeFn,
        at: usize,
        argc: usize,
    ) -> Result<Value, Box<Fault>> {
        let (stack, mut cx) = self.native_ctx();
        f(&mut cx, &stack[at..at + argc])
    }

    /// The registers and a native's context over the machine: what is left of
    /// the evaluation's steps and heap, as the VM last counted.
    #[inline(always)]
    fn native_ctx(&mut self) -> (&[Value], Ctx<'_>) {
        let used = self.steps_now();
        let allowance = self.limits.steps.saturating_sub(used);
        let room = usize::try_from(self.limits.memory)
            .unwrap_or(usize::MAX)
            .saturating_sub(self.heap.live_bytes());
        (
            &self.stack,
            Ctx {
                heap: &mut self.heap,
                symbols: &mut self.symbols,
                out: &mut self.out,
                protos: &self.protos,
                ffi_names: &self.ffi_names,
                host: &mut *self.host_data,
                deadline: self.deadline,
                interrupt: &self.interrupt,
                meter: Meter {
                    used: &mut self.work,
                    allowance,
                    limit: self.limits.steps,
                    next_poll: allowance.min(4_096),
                    interrupt: &self.interrupt,
                    deadline: self.deadline,
                    timeout_ms: self.limits.timeout_ms,
                    room,
                },
            },
        )
    }

    /// Whether a blocking call goes to a worker thread: other actors live to run
    /// meanwhile, and no host callback is running (it cannot switch actors).
    fn off_thread(&self) -> bool {
        self.actors.live > 0 && self.callback_depth == 0
    }

    /// An embedder's blocking closure, sent to a worker thread: its arguments
    /// copied out as owned values, with what it may use of the session (the
    /// scope of its grant, the shared data); the actor waits `in host call`.
    #[cold]
    #[inline(never)]
    fn closure_off_thread(
        &mut self,
        f: Arc<HostClosure>,
        idx: usize,
        at: usize,
        argc: usize,
    ) -> Result<Value, Box<Fault>> {
        let mut args = Vec::with_capacity(argc);
        for v in &self.stack[at..at + argc] {
            let show = |v: Value| self.show(v);
            // Procedures as handles, as on the VM thread: the host may keep
            // them (calling one back is refused off the thread, not here).
            let owned =
                super::convert::to_host_rooted(*v, &self.heap, &self.symbols, &self.roots, &show)
                    .map_err(|m| Fault::new(ErrorKind::Type, m))?;
            args.push(owned);
        }
        let e = &self.host[idx];
        let given = super::blocking::Given {
            name: e.name.as_ref().into(),
            capability: e.capability,
            state: (self.host_snapshot)(&*self.host_data, e.capability),
            shared: Arc::clone(&self.host_shared),
        };
        let job = super::blocking::closure_job(f, given, args);
        self.actors.switch = Some(super::actors::Switch::Host(job, idx));
        Err(super::actors::switch_signal())
    }

    /// A standard blocking function: prepared here (arguments, scopes), its
    /// work run on a worker thread when other actors live, here when not.
    #[cold]
    #[inline(never)]
    fn call_blocking(
        &mut self,
        prep: super::blocking::BlockingNative,
        idx: usize,
        at: usize,
        argc: usize,
    ) -> Result<Value, Box<Fault>> {
        let job = {
            let (stack, mut cx) = self.native_ctx();
            prep(&mut cx, &stack[at..at + argc])?
        };
        if self.off_thread() {
            self.actors.switch = Some(super::actors::Switch::Host(job, idx));
            return Err(super::actors::switch_signal());
        }
        let jcx = super::blocking::JobCx {
            deadline: self.deadline,
            interrupt: self.interrupt.clone(),
        };
        let out = job(&jcx).map_err(Fault::from_host)?;
        super::convert::from_host_rooted(&out, &mut self.heap, &mut self.symbols, &self.roots)
            .map_err(|m| super::blocking::bad_result(&self.host[idx].name, m))
    }

    /// Calls a built-in reached through a value: its argument count was not checked
    /// at compile time, so check it here before the native indexes its arguments.
    #[cold]
    #[inline(never)]
    pub(super) fn call_builtin_value(
        &mut self,
        id: u16,
        at: usize,
        argc: usize,
    ) -> Result<Value, Box<Fault>> {
        let b = crate::ground::builtins::get(id);
        if !b.sig.accepts_count(argc) {
            return Err(Fault::new(
                ErrorKind::Arity,
                format!(
                    "`{}` takes {}, but {argc} were given",
                    b.name,
                    b.sig.arity_text()
                ),
            ));
        }
        match natives::builtin(id) {
            Some(nf) => self.call_native(nf, at, argc),
            None if b.imp == crate::ground::builtins::Imp::Vm => self.vm_builtin(id, at, argc),
            None => Err(Fault::new(
                ErrorKind::Host,
                "prelude functions are called as closures",
            )),
        }
    }
}

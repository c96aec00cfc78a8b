//! The virtual machine: a register machine over one flat value stack. Calls push a
//! small frame record and never recurse on the Rust stack; tail calls reuse the
//! frame. Steps are counted at calls, returns and backward jumps; the interrupt
//! flag is polled only when the step fuel runs out.

pub mod audit;
pub mod error;
pub mod heap;
pub mod limits;
pub mod output;
pub mod printer;
pub mod symbols;
pub mod value;

use crate::builtins::natives::{self, ArithOp, Ctx, NativeFn};
use crate::compile::instr::{CaptureSrc, Instr, Proto};
use crate::ffi::function::{HostImpl, ImplKind};
use crate::ffi::{CapSet, Capability};
use crate::host::HostState;
use audit::Audit;
use error::{ErrorKind, Fault, RuntimeError, StackFrame};
use heap::{Closure, Heap, Obj};
use limits::{Interrupt, Limits, Stop};
use output::Output;
use printer::PrintCtx;
use std::collections::HashMap;
use value::{Value, copy_value, read_closure, read_int, write_bool, write_int};

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
    pub imp: Option<HostImpl>,
}

#[derive(Clone, Copy, Debug)]
struct Frame {
    /// The code of `proto`, cached so that a return needs no prototype lookup.
    code: &'static [Instr],
    proto: u32,
    base: u32,
    pc: u32,
}

#[derive(Clone, Copy, Debug)]
struct Handler {
    frames: usize,
    slot: usize,
    pc: u32,
}

/// Fuel handed out per refill: bounds the latency of interrupts and timeouts.
const FUEL_CHUNK: u64 = 1 << 14;
/// Registers kept free above the top frame, so small frames need no growth check.
const STACK_SLACK: usize = 64;

/// The machine: heap, code, globals and the running state.
pub struct Vm {
    /// The heap.
    pub heap: Heap,
    /// Interned symbols.
    pub symbols: symbols::Symbols,
    protos: Vec<Proto>,
    globals: Vec<Value>,
    global_names: Vec<Box<str>>,
    global_index: HashMap<Box<str>, u32>,
    stack: Vec<Value>,
    frames: Vec<Frame>,
    handlers: Vec<Handler>,
    /// Capabilities the session holds right now.
    pub grants: CapSet,
    /// Host functions by registry index.
    pub host: Vec<HostEntry>,
    ffi_names: Vec<Box<str>>,
    /// Scopes, sensors and the deadline host functions see.
    pub host_state: HostState,
    /// Every capability check.
    pub audit: Audit,
    /// The interrupt flag (Ctrl-C, timeouts).
    pub interrupt: Interrupt,
    /// Where `print` writes.
    pub out: Output,
    limits: Limits,
    steps_used: u64,
    chunk: i64,
    fuel: i64,
}

/// The result of a call into a native, before location is attached.
type Step = Result<(), Box<Fault>>;

impl Vm {
    /// An empty machine writing to `out`.
    pub fn new(out: Output) -> Vm {
        Vm {
            heap: Heap::new(),
            symbols: Default::default(),
            protos: Vec::new(),
            globals: Vec::new(),
            global_names: Vec::new(),
            global_index: HashMap::new(),
            stack: Vec::new(),
            frames: Vec::new(),
            handlers: Vec::new(),
            grants: CapSet::EMPTY,
            host: Vec::new(),
            ffi_names: Vec::new(),
            host_state: HostState::default(),
            audit: Audit::default(),
            interrupt: Interrupt::default(),
            out,
            limits: Limits::DEFAULT,
            steps_used: 0,
            chunk: 0,
            fuel: 0,
        }
    }

    /// Adds a compiled function; returns its index.
    ///
    /// # Panics
    /// On code that fails [`Proto::validate`]: that is a compiler bug, and running such
    /// code could read outside the frame.
    pub fn add_proto(&mut self, p: Proto) -> u32 {
        if let Err(e) = p.validate() {
            panic!("invalid bytecode from the compiler: {e}");
        }
        self.protos.push(p);
        (self.protos.len() - 1) as u32
    }

    /// The compiled functions.
    pub fn protos(&self) -> &[Proto] {
        &self.protos
    }

    /// The slot of a global, created (undefined) if new.
    pub fn global_slot(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.global_index.get(name) {
            return i;
        }
        let i = self.globals.len() as u32;
        self.globals.push(Value::Undefined);
        self.global_names.push(name.into());
        self.global_index.insert(name.into(), i);
        i
    }

    /// The value of a global, if defined.
    pub fn global(&self, name: &str) -> Option<Value> {
        let i = *self.global_index.get(name)?;
        Some(self.globals[i as usize]).filter(|v| !matches!(v, Value::Undefined))
    }

    /// Sets a global (defining it).
    pub fn set_global(&mut self, name: &str, v: Value) {
        let i = self.global_slot(name);
        self.globals[i as usize] = v;
    }

    /// Forgets the values of globals for which `drop` says so (REPL `:reset`).
    pub fn undefine_globals(&mut self, drop: impl Fn(&str) -> bool) {
        for (i, n) in self.global_names.iter().enumerate() {
            if drop(n) {
                self.globals[i] = Value::Undefined;
            }
        }
    }

    /// Installs a host function at a registry index.
    pub fn set_host(&mut self, index: u32, entry: HostEntry) {
        let i = index as usize;
        if self.host.len() <= i {
            self.host.resize(
                i + 1,
                HostEntry {
                    name: "".into(),
                    capability: None,
                    params: Box::new([]),
                    rest: None,
                    ret: u16::MAX,
                    imp: None,
                },
            );
            self.ffi_names.resize(i + 1, "".into());
        }
        self.ffi_names[i] = entry.name.clone();
        self.host[i] = entry;
    }

    /// Steps used by the last evaluation.
    pub fn steps_used(&self) -> u64 {
        self.steps_used
    }

    /// What printing needs.
    pub fn print_ctx(&self) -> PrintCtx<'_> {
        PrintCtx {
            heap: &self.heap,
            symbols: &self.symbols,
            protos: &self.protos,
            ffi_names: &self.ffi_names,
        }
    }

    /// The printed form of a value.
    pub fn show(&self, v: Value) -> String {
        printer::to_printed(v, false, &self.print_ctx())
    }

    /// Collects garbage now (roots: globals, constants, `extra`).
    pub fn collect(&mut self, extra: &[Value]) {
        self.collect_with_top(0, extra);
    }

    fn collect_with_top(&mut self, top: usize, extra: &[Value]) {
        let roots = self.stack[..top.min(self.stack.len())]
            .iter()
            .chain(self.globals.iter())
            .chain(self.protos.iter().flat_map(|p| p.consts.iter()))
            .chain(extra.iter())
            .copied();
        let roots: Vec<Value> = roots.collect();
        self.heap.collect(roots);
    }

    /// Runs an entry prototype under `limits`; returns the value of its code.
    pub fn run(&mut self, proto: u32, limits: Limits) -> Result<Value, RuntimeError> {
        self.limits = limits;
        self.heap
            .set_limit(usize::try_from(limits.memory).unwrap_or(usize::MAX));
        self.steps_used = 0;
        self.chunk = 0;
        self.fuel = 0;
        self.stack.clear();
        self.frames.clear();
        self.handlers.clear();
        let nregs = self.protos[proto as usize].nregs as usize;
        self.stack.resize(1 + nregs + STACK_SLACK, Value::Nil);
        self.frames.push(Frame {
            code: self.code_of(proto),
            proto,
            base: 1,
            pc: 0,
        });
        let _alarm = limits.timeout_ms.map(|ms| {
            limits::Alarm::start(std::time::Duration::from_millis(ms), self.interrupt.clone())
        });
        // Host calls are not interrupted, so a network call gets only the time left.
        self.host_state.deadline = limits
            .timeout_ms
            .map(|ms| std::time::Instant::now() + std::time::Duration::from_millis(ms));
        let result = loop {
            match self.execute() {
                Ok(v) => break Ok(v),
                Err(fault) => {
                    if let Some(h) = self.catching(&fault) {
                        self.enter_handler(h, *fault);
                        continue;
                    }
                    break Err(self.runtime_error(*fault));
                }
            }
        };
        self.steps_used += (self.chunk - self.fuel).max(0) as u64;
        self.interrupt.clear();
        self.frames.clear();
        self.handlers.clear();
        self.out.flush();
        result
    }

    fn catching(&mut self, fault: &Fault) -> Option<Handler> {
        if !fault.kind.is_catchable() {
            return None;
        }
        self.handlers.pop()
    }

    fn enter_handler(&mut self, h: Handler, fault: Fault) {
        self.frames.truncate(h.frames);
        if let Some(f) = self.frames.last_mut() {
            f.pc = h.pc;
        }
        let e = self
            .heap
            .alloc(Obj::Error(fault.kind, fault.message.into()));
        self.stack[h.slot] = Value::Error(e);
    }

    fn runtime_error(&self, fault: Fault) -> RuntimeError {
        let mut stack = Vec::new();
        for f in self.frames.iter().rev() {
            let p = &self.protos[f.proto as usize];
            let pc = (f.pc as usize)
                .saturating_sub(1)
                .min(p.spans.len().saturating_sub(1));
            if let Some(span) = p.spans.get(pc) {
                stack.push(StackFrame {
                    function: p.name.to_string(),
                    source: p.source,
                    span: *span,
                });
            }
        }
        RuntimeError {
            kind: fault.kind,
            message: fault.message,
            stack,
        }
    }

    #[cold]
    #[inline(never)]
    fn refuel(&mut self) -> Step {
        match self.interrupt.get() {
            Stop::Interrupt => return Err(Fault::new(ErrorKind::Interrupted, "interrupted")),
            Stop::Timeout => {
                let ms = self.limits.timeout_ms.unwrap_or(0);
                return Err(Fault::new(
                    ErrorKind::Timeout,
                    format!("evaluation ran longer than the time limit of {ms} ms"),
                ));
            }
            Stop::None => {}
        }
        self.steps_used += (self.chunk - self.fuel).max(0) as u64;
        if self.steps_used >= self.limits.steps {
            return Err(Fault::new(
                ErrorKind::StepLimit,
                format!(
                    "evaluation used more than the step limit of {} steps",
                    self.limits.steps
                ),
            ));
        }
        let chunk = (self.limits.steps - self.steps_used).min(FUEL_CHUNK) as i64;
        self.chunk = chunk;
        self.fuel = chunk;
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn safe_point_collect(&mut self, top: usize) -> Step {
        self.collect_with_top(top, &[]);
        if self.heap.over_limit() {
            return Err(Fault::new(
                ErrorKind::MemoryLimit,
                format!(
                    "live heap of {} bytes passes the memory limit of {} bytes",
                    self.heap.live_bytes(),
                    self.limits.memory
                ),
            ));
        }
        Ok(())
    }

    /// Calls host function `idx` on `argc` values at `at`: checks the grant (and
    /// records the check), the argument count and types, runs it, checks the result.
    /// Every error is built in a cold function, so the common path stays short.
    #[inline]
    fn host_call(&mut self, idx: usize, at: usize, argc: usize) -> Result<Value, Box<Fault>> {
        let Some(entry) = self.host.get(idx) else {
            return Err(Fault::new(ErrorKind::Host, "unknown host function"));
        };
        let cap = entry.capability;
        if let Some(cap) = cap {
            self.check_grant(idx, cap)?;
        }
        let entry = &self.host[idx];
        let n = entry.params.len();
        if argc != n && !(entry.rest.is_some() && argc > n) {
            self.audit_allowed(idx, cap);
            return Err(self.host_arity_fault(idx, argc));
        }
        for (i, v) in self.stack[at..at + argc].iter().enumerate() {
            let mask = if i < n {
                entry.params[i]
            } else {
                entry.rest.unwrap_or(u16::MAX)
            };
            if mask & v.kind_bit() == 0 {
                let v = *v;
                self.audit_allowed(idx, cap);
                return Err(self.host_type_fault(idx, i, v));
            }
        }
        let ret = entry.ret;
        let result = match &entry.imp {
            Some(HostImpl(ImplKind::Native(f))) => {
                let f = *f;
                self.call_native(f, at, argc)
            }
            Some(HostImpl(ImplKind::Closure(f))) => {
                let f = std::sync::Arc::clone(f);
                self.call_closure(&*f, at, argc)
            }
            None => Err(self.no_implementation_fault(idx)),
        };
        // One record per checked call: denied when the host's scope check (a path,
        // a host) refused it, else allowed.
        let v = match result {
            Ok(v) => {
                self.audit_allowed(idx, cap);
                v
            }
            Err(f) => {
                match cap {
                    Some(cap) if f.kind == ErrorKind::CapabilityDenied => {
                        self.audit_scope_denial(idx, cap, &f);
                    }
                    _ => self.audit_allowed(idx, cap),
                }
                return Err(f);
            }
        };
        if ret & v.kind_bit() == 0 {
            return Err(self.host_return_fault(idx, v));
        }
        Ok(v)
    }

    /// The grant check of a host call; a denial is recorded in the audit log here.
    #[cold]
    #[inline(never)]
    fn check_grant(&mut self, idx: usize, cap: Capability) -> Step {
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
    fn audit_scope_denial(&mut self, idx: usize, cap: Capability, f: &Fault) {
        let name = self.host[idx].name.clone();
        self.audit
            .record(&name, cap, false, Some(f.message.clone()));
    }

    #[cold]
    #[inline(never)]
    fn host_arity_fault(&self, idx: usize, argc: usize) -> Box<Fault> {
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
    fn host_type_fault(&self, idx: usize, i: usize, v: Value) -> Box<Fault> {
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
    fn host_return_fault(&self, idx: usize, v: Value) -> Box<Fault> {
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
    fn no_implementation_fault(&self, idx: usize) -> Box<Fault> {
        Fault::new(
            ErrorKind::Host,
            format!(
                "`{}` has no implementation in this host",
                self.host[idx].name
            ),
        )
    }

    /// Calls a host closure: arguments copied out as owned values, the result copied in.
    fn call_closure(
        &mut self,
        f: &crate::ffi::function::HostClosure,
        at: usize,
        argc: usize,
    ) -> Result<Value, Box<Fault>> {
        let mut args = Vec::with_capacity(argc);
        for v in &self.stack[at..at + argc] {
            let show = |v: Value| self.show(v);
            let owned = crate::ffi::Value::from_vm(*v, &self.heap, &self.symbols, &show)
                .map_err(|m| Fault::new(ErrorKind::Type, m))?;
            args.push(owned);
        }
        let out = f(&args).map_err(crate::host::library::fault)?;
        out.to_vm(&mut self.heap, &mut self.symbols)
            .map_err(|m| Fault::new(ErrorKind::Host, m))
    }

    fn call_native(&mut self, f: NativeFn, at: usize, argc: usize) -> Result<Value, Box<Fault>> {
        let (stack, mut cx) = (
            &self.stack,
            Ctx {
                heap: &mut self.heap,
                symbols: &mut self.symbols,
                out: &mut self.out,
                protos: &self.protos,
                ffi_names: &self.ffi_names,
                host: &mut self.host_state,
            },
        );
        f(&mut cx, &stack[at..at + argc])
    }

    /// Calls a built-in reached through a value: its argument count was not checked
    /// at compile time, so check it here before the native indexes its arguments.
    #[cold]
    #[inline(never)]
    fn call_builtin_value(&mut self, id: u16, at: usize, argc: usize) -> Result<Value, Box<Fault>> {
        let b = crate::builtins::get(id);
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
        match b.imp {
            crate::builtins::Imp::Native(nf) => self.call_native(nf, at, argc),
            crate::builtins::Imp::Prelude => Err(Fault::new(
                ErrorKind::Host,
                "prelude functions are called as closures",
            )),
        }
    }

    /// Makes room for a frame of `nregs` registers at `base`.
    #[inline]
    fn ensure_stack(&mut self, base: usize, nregs: usize) {
        let need = base + nregs + STACK_SLACK;
        if self.stack.len() < need {
            self.stack
                .resize(need.max(self.stack.len() * 2), Value::Nil);
        }
    }

    /// Sets up the arguments of a closure call at `base`: arity and the rest list.
    /// Other registers are not cleared: the compiler writes every register before it
    /// reads it, and the collector tolerates stale values above the arguments.
    /// Out of line: calls of fixed arity with room on the stack skip it.
    #[inline(never)]
    fn enter(&mut self, proto: u32, base: usize, argc: usize) -> Step {
        let p = &self.protos[proto as usize];
        let (nparams, variadic, nregs) = (p.nparams as usize, p.variadic, p.nregs as usize);
        if argc != nparams && !(variadic && argc > nparams) {
            return Err(self.arity_fault(proto, argc));
        }
        self.ensure_stack(base, nregs);
        if variadic {
            let rest = self.heap.list(&self.stack[base + nparams..base + argc]);
            self.stack[base + nparams] = rest;
            if self.heap.wants_collection() {
                self.safe_point_collect(base + nregs)?;
            }
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn arity_fault(&self, proto: u32, argc: usize) -> Box<Fault> {
        let p = &self.protos[proto as usize];
        let want = if p.variadic {
            format!("at least {}", p.nparams)
        } else {
            p.nparams.to_string()
        };
        let s = if p.nparams == 1 && !p.variadic {
            ""
        } else {
            "s"
        };
        Fault::new(
            ErrorKind::Arity,
            format!(
                "`{}` takes {want} argument{s}, but {argc} were given",
                p.name
            ),
        )
    }

    #[cold]
    #[inline(never)]
    fn depth_fault(&self) -> Box<Fault> {
        Fault::new(
            ErrorKind::DepthLimit,
            format!(
                "call depth passes the limit of {} nested calls",
                self.limits.depth
            ),
        )
    }

    #[cold]
    #[inline(never)]
    fn unbound_global(&self, g: u32) -> Box<Fault> {
        let name = self
            .global_names
            .get(g as usize)
            .map(|n| n.to_string())
            .unwrap_or_default();
        let name = name
            .strip_prefix(crate::analysis::PRELUDE_PREFIX)
            .unwrap_or(&name)
            .to_string();
        Fault::new(ErrorKind::Unbound, format!("`{name}` is not defined (yet)"))
    }

    #[cold]
    #[inline(never)]
    fn not_callable(&self, v: Value) -> Box<Fault> {
        Fault::new(
            ErrorKind::Type,
            format!("{} is not a procedure", self.show(v)),
        )
    }

    /// The main loop: runs until the entry frame returns, or a fault.
    ///
    /// Hot state lives in locals: the running frame's code, `pc`, base, register
    /// window and step fuel. The frame record on `self.frames` holds the frame's `pc`
    /// only once saved (`save!`): before a call (the return address) and before
    /// anything that can fail, collect garbage or read the frames. Its prototype is
    /// read from the record where needed (constants, GC points).
    fn execute(&mut self) -> Result<Value, Box<Fault>> {
        let frame = *self.frames.last().expect("a frame to run");
        let mut base = frame.base as usize;
        let mut pc = frame.pc as usize;
        let mut code = frame.code;
        // Step fuel: the fuel left at `pc` is `budget - pc`, so straight-line code
        // needs no counting; calls, returns and backward jumps check it (`tick!`)
        // and move it to the new `pc` (`budget = left + new_pc`).
        let mut budget = self.fuel + pc as i64;
        let depth_limit = usize::try_from(self.limits.depth).unwrap_or(usize::MAX);
        assert!(base + self.protos[frame.proto as usize].nregs as usize <= self.stack.len());
        // The running frame's registers. Re-derived whenever the frame changes or the
        // stack may have grown (`rebase!`).
        // SAFETY: `base` is inside the stack (asserted just above).
        let mut regs: *mut Value = unsafe { self.stack.as_mut_ptr().add(base) };

        // SAFETY: every register operand is below the frame's `nregs` (checked by
        // `Proto::validate` when the code was added) and `run`, `enter` and the
        // inline call paths (which check the room first) keep
        // `base + nregs <= stack.len()`; `regs` is re-derived after anything that can
        // reallocate the stack (only `enter` does, through `ensure_stack`).
        macro_rules! r {
            ($i:expr) => {
                (*unsafe { &mut *regs.add($i as usize) })
            };
        }
        // A pointer to a register (same invariant as `r!`).
        macro_rules! rp {
            ($i:expr) => {{
                #[allow(unused_unsafe)]
                let p = unsafe { regs.add($i as usize) };
                p
            }};
        }
        // Stores a value returned by a call out of line (a native, a slow path) into a
        // register, word by word (`copy_value`).
        macro_rules! put {
            ($d:expr, $v:expr) => {{
                let v: Value = $v;
                // SAFETY: the register is inside the frame (see `r!`).
                unsafe { copy_value(rp!($d), &v) }
            }};
        }
        macro_rules! rebase {
            () => {
                // SAFETY: every frame's `base + nregs` is within the stack (`enter`,
                // `ensure_stack`), so `base` is in bounds.
                regs = unsafe { self.stack.as_mut_ptr().add(base) };
            };
        }
        macro_rules! save {
            () => {
                if let Some(f) = self.frames.last_mut() {
                    f.pc = pc as u32;
                }
                self.fuel = budget - pc as i64;
            };
        }
        macro_rules! fail {
            ($e:expr) => {{
                save!();
                return Err($e);
            }};
        }
        // Checks the fuel at a call, return or backward jump; evaluates to the fuel
        // left at `pc`, which the caller moves to where execution goes on.
        macro_rules! tick {
            () => {{
                let mut left = budget - pc as i64;
                if left <= 0 {
                    save!();
                    self.refuel()?;
                    left = self.fuel;
                    // Keep `budget` in step for a `save!` before the caller moves it.
                    #[allow(unused_assignments)]
                    {
                        budget = left + pc as i64;
                    }
                }
                left
            }};
        }
        macro_rules! gc_point {
            () => {
                if self.heap.wants_collection() {
                    save!();
                    let top = base + self.protos[self.cur_proto() as usize].nregs as usize;
                    self.safe_point_collect(top)?;
                }
            };
        }
        macro_rules! jump {
            ($off:expr) => {
                pc = (pc as i64 + $off as i64) as usize
            };
        }
        // Int, Int on the fast path, reading tags and payloads in place; anything
        // else (floats, overflow, type errors) in a cold function.
        macro_rules! arith {
            ($d:expr, $a:expr, $b:expr, $op:expr, $fast:ident) => {{
                // SAFETY: the registers are inside the frame (see `r!`).
                let fast = match unsafe { (read_int(rp!($a)), read_int(rp!($b))) } {
                    (Some(p), Some(q)) => p.$fast(q),
                    _ => None,
                };
                match fast {
                    // SAFETY: as above.
                    Some(v) => unsafe { write_int(rp!($d), v) },
                    None => match arith_slow($op, r!($a), r!($b)) {
                        Ok(v) => put!($d, v),
                        Err(e) => fail!(e),
                    },
                }
            }};
        }
        macro_rules! compare {
            ($d:expr, $a:expr, $b:expr, $op:expr, $fast:expr) => {{
                // SAFETY: the registers are inside the frame (see `r!`).
                let b = match unsafe { (read_int(rp!($a)), read_int(rp!($b))) } {
                    (Some(p), Some(q)) => $fast(p, q),
                    _ => match compare_slow($op, r!($a), r!($b)) {
                        Ok(b) => b,
                        Err(e) => fail!(e),
                    },
                };
                // SAFETY: as above.
                unsafe { write_bool(rp!($d), b) };
            }};
        }
        // Returns the value at `$src` (a `*const Value`) to the caller's slot.
        macro_rules! do_return {
            ($src:expr) => {{
                let src: *const Value = $src;
                let left = tick!();
                // SAFETY: the slot below a frame's base holds its callee, so it is in
                // the stack; `src` points to a valid value (a register or a local).
                unsafe { copy_value(regs.sub(1), src) };
                let done = self.frames.pop();
                debug_assert_eq!(done.map(|f| f.base as usize), Some(base));
                match self.frames.last() {
                    None => {
                        self.fuel = left;
                        // SAFETY: written just above.
                        return Ok(unsafe { *regs.sub(1) });
                    }
                    Some(f) => {
                        base = f.base as usize;
                        pc = f.pc as usize;
                        code = f.code;
                        budget = left + pc as i64;
                        rebase!();
                    }
                }
            }};
        }

        loop {
            debug_assert!(pc < code.len());
            // SAFETY: validated code ends in a terminator and jumps stay inside it.
            let ins = unsafe { *code.get_unchecked(pc) };
            pc += 1;
            match ins {
                Instr::LoadNil(d) => r!(d) = Value::Nil,
                Instr::LoadBool(d, b) => r!(d) = Value::Bool(b),
                Instr::LoadInt(d, i) => r!(d) = Value::Int(i as i64),
                Instr::LoadConst(d, k) => {
                    r!(d) = self.protos[self.cur_proto() as usize].consts[k as usize]
                }
                Instr::LoadUndef(d) => r!(d) = Value::Undefined,
                // SAFETY: both registers are inside the frame (see `r!`).
                Instr::Move(d, s) => unsafe { copy_value(rp!(d), rp!(s)) },
                Instr::MoveChecked(d, s) => {
                    let v = r!(s);
                    if let Value::Undefined = v {
                        fail!(used_before_definition());
                    }
                    r!(d) = v;
                }
                Instr::GetGlobal(d, g) => {
                    let Some(v) = self.globals.get(g as usize) else {
                        fail!(self.unbound_global(g));
                    };
                    if let Value::Undefined = v {
                        fail!(self.unbound_global(g));
                    }
                    // SAFETY: `v` is a valid value; `d` is inside the frame (see `r!`).
                    unsafe { copy_value(rp!(d), v) };
                }
                Instr::SetGlobal(g, s) => {
                    if let Value::Undefined = self.globals[g as usize] {
                        let name = self.global_names[g as usize].to_string();
                        fail!(Fault::new(
                            ErrorKind::Unbound,
                            format!("cannot assign `{name}`: it is not defined yet")
                        ));
                    }
                    self.globals[g as usize] = r!(s);
                }
                Instr::DefGlobal(g, s) => self.globals[g as usize] = r!(s),
                Instr::GetCapture(d, i) => {
                    let v = self.capture(base, i);
                    r!(d) = v;
                }
                Instr::CellNew(d) => {
                    let c = self.heap.alloc(Obj::Cell(r!(d)));
                    r!(d) = Value::Cell(c);
                    gc_point!();
                }
                Instr::CellGet(d, s) => {
                    let v = match r!(s) {
                        Value::Cell(c) => match self.heap.get(c) {
                            Obj::Cell(v) => *v,
                            _ => Value::Nil,
                        },
                        other => other,
                    };
                    if let Value::Undefined = v {
                        fail!(used_before_definition());
                    }
                    r!(d) = v;
                }
                Instr::CellSet(a, b) => {
                    let v = r!(b);
                    if let Value::Cell(c) = r!(a) {
                        *self.heap.get_mut(c) = Obj::Cell(v);
                    }
                }
                Instr::Closure(d, p) => {
                    let caps: Box<[Value]> = self.protos[p as usize]
                        .captures
                        .iter()
                        .map(|src| match *src {
                            CaptureSrc::Reg(r) => self.stack[base + r as usize],
                            CaptureSrc::Capture(i) => self.capture(base, i),
                        })
                        .collect();
                    let c = self.heap.alloc(Obj::Closure(Closure {
                        proto: p,
                        captures: caps,
                    }));
                    r!(d) = Value::Closure(c);
                    gc_point!();
                }
                Instr::Jump(off) => {
                    let target = (pc as i64 + off as i64) as usize;
                    if off < 0 {
                        let left = tick!();
                        budget = left + target as i64;
                    }
                    pc = target;
                }
                Instr::JumpIfFalse(c, off) => {
                    if !r!(c).is_truthy() {
                        jump!(off);
                    }
                }
                Instr::JumpIfTrue(c, off) => {
                    if r!(c).is_truthy() {
                        jump!(off);
                    }
                }
                Instr::Add(d, a, b) => arith!(d, a, b, ArithOp::Add, checked_add),
                Instr::Sub(d, a, b) => arith!(d, a, b, ArithOp::Sub, checked_sub),
                Instr::Mul(d, a, b) => arith!(d, a, b, ArithOp::Mul, checked_mul),
                Instr::AddImm(d, a, imm) => {
                    // SAFETY: the registers are inside the frame (see `r!`).
                    match unsafe { read_int(rp!(a)) }.and_then(|p| p.checked_add(imm as i64)) {
                        Some(v) => unsafe { write_int(rp!(d), v) },
                        None => match arith_slow(ArithOp::Add, r!(a), Value::Int(imm as i64)) {
                            Ok(v) => put!(d, v),
                            Err(e) => fail!(e),
                        },
                    }
                }
                Instr::Lt(d, a, b) => compare!(d, a, b, ArithOp::Lt, |p: i64, q: i64| p < q),
                Instr::Le(d, a, b) => compare!(d, a, b, ArithOp::Le, |p: i64, q: i64| p <= q),
                Instr::Gt(d, a, b) => compare!(d, a, b, ArithOp::Gt, |p: i64, q: i64| p > q),
                Instr::Ge(d, a, b) => compare!(d, a, b, ArithOp::Ge, |p: i64, q: i64| p >= q),
                Instr::NumEq(d, a, b) => compare!(d, a, b, ArithOp::NumEq, |p: i64, q: i64| p == q),
                Instr::JumpIfNotLtImm(a, imm, off) => {
                    // SAFETY: the register is inside the frame (see `r!`).
                    let ok = match unsafe { read_int(rp!(a)) } {
                        Some(p) => p < imm as i64,
                        None => match compare_slow(ArithOp::Lt, r!(a), Value::Int(imm as i64)) {
                            Ok(b) => b,
                            Err(e) => fail!(e),
                        },
                    };
                    if !ok {
                        jump!(off);
                    }
                }
                Instr::JumpIfNotEqImm(a, imm, off) => {
                    // SAFETY: the register is inside the frame (see `r!`).
                    let ok = match unsafe { read_int(rp!(a)) } {
                        Some(p) => p == imm as i64,
                        None => match compare_slow(ArithOp::NumEq, r!(a), Value::Int(imm as i64)) {
                            Ok(b) => b,
                            Err(e) => fail!(e),
                        },
                    };
                    if !ok {
                        jump!(off);
                    }
                }
                Instr::Call(f, argc) => {
                    let left = tick!();
                    let at = base + f as usize;
                    // SAFETY: `f` is inside the frame (see `r!`).
                    if let Some(c) = unsafe { read_closure(rp!(f)) } {
                        let callee = self.closure_proto(c);
                        let p = &self.protos[callee as usize];
                        let new_base = at + 1;
                        // The common case inline: fixed arity matched, depth and
                        // stack room fine. Everything else goes through `enter`.
                        if argc == p.nparams
                            && !p.variadic
                            && self.frames.len() < depth_limit
                            && new_base + p.nregs as usize + STACK_SLACK <= self.stack.len()
                        {
                            // The caller's pc is the return address.
                            if let Some(fr) = self.frames.last_mut() {
                                fr.pc = pc as u32;
                            }
                        } else {
                            if self.frames.len() >= depth_limit {
                                fail!(self.depth_fault());
                            }
                            save!();
                            self.enter(callee, new_base, argc as usize)?;
                        }
                        code = self.code_of(callee);
                        self.frames.push(Frame {
                            code,
                            proto: callee,
                            base: new_base as u32,
                            pc: 0,
                        });
                        base = new_base;
                        pc = 0;
                        budget = left;
                        rebase!();
                    } else {
                        budget = left + pc as i64;
                        match r!(f) {
                            Value::Builtin(id) => {
                                let v = self.call_builtin_value(id, at + 1, argc as usize);
                                match v {
                                    Ok(v) => put!(f, v),
                                    Err(e) => fail!(e),
                                }
                                gc_point!();
                            }
                            Value::Ffi(i) => {
                                save!();
                                match self.host_call(i as usize, at + 1, argc as usize) {
                                    Ok(v) => put!(f, v),
                                    Err(e) => return Err(e),
                                }
                                gc_point!();
                            }
                            other => fail!(self.not_callable(other)),
                        }
                    }
                }
                Instr::TailCall(f, argc) => {
                    let left = tick!();
                    let at = base + f as usize;
                    // SAFETY: `f` is inside the frame (see `r!`).
                    if let Some(c) = unsafe { read_closure(rp!(f)) } {
                        let callee = self.closure_proto(c);
                        // Move the callee and its arguments down over this frame,
                        // lowest first (the target is below the source). A plain
                        // loop: `copy_within` is a `memmove` call, a quarter of the
                        // time of a tail-call loop.
                        let from = f as usize;
                        for i in 0..=argc as usize {
                            // SAFETY: registers `f..=f + argc` are inside the frame
                            // (`Proto::validate` checks the call window), and
                            // `base - 1 + i < base + f + i` stays below them.
                            unsafe { copy_value(regs.sub(1).add(i), regs.add(from + i)) };
                        }
                        let p = &self.protos[callee as usize];
                        if !(argc == p.nparams
                            && !p.variadic
                            && base + p.nregs as usize + STACK_SLACK <= self.stack.len())
                        {
                            save!();
                            self.enter(callee, base, argc as usize)?;
                            rebase!();
                        }
                        code = self.code_of(callee);
                        if let Some(fr) = self.frames.last_mut() {
                            fr.proto = callee;
                            fr.code = code;
                        }
                        pc = 0;
                        budget = left;
                    } else {
                        match r!(f) {
                            Value::Builtin(id) => {
                                let v = self.call_builtin_value(id, at + 1, argc as usize);
                                match v {
                                    Ok(v) => do_return!(&v),
                                    Err(e) => fail!(e),
                                }
                            }
                            Value::Ffi(i) => {
                                save!();
                                let v = self.host_call(i as usize, at + 1, argc as usize)?;
                                do_return!(&v);
                            }
                            other => fail!(self.not_callable(other)),
                        }
                    }
                }
                Instr::CallBuiltin(a, id, argc) => {
                    let at = base + a as usize;
                    let v = match crate::builtins::get(id).imp {
                        crate::builtins::Imp::Native(nf) => self.call_native(nf, at, argc as usize),
                        crate::builtins::Imp::Prelude => {
                            Err(Fault::new(ErrorKind::Host, "prelude not loaded"))
                        }
                    };
                    match v {
                        Ok(v) => put!(a, v),
                        Err(e) => fail!(e),
                    }
                    gc_point!();
                }
                Instr::CallFfi(a, idx, argc) => {
                    // The frame state is saved only if the call fails: host calls
                    // neither read it nor collect garbage.
                    match self.host_call(idx as usize, base + a as usize, argc as usize) {
                        Ok(v) => put!(a, v),
                        Err(e) => fail!(e),
                    }
                    gc_point!();
                }
                Instr::Return(s) => do_return!(rp!(s)),
                Instr::RequireCap(d, c) => {
                    let cap = Capability::ALL[c as usize];
                    let held = self.grants.contains(cap);
                    self.audit.record(
                        "require-capability",
                        cap,
                        held,
                        (!held).then(|| "not granted".to_string()),
                    );
                    if !held {
                        fail!(Fault::new(
                            ErrorKind::CapabilityDenied,
                            format!(
                                "this code requires the capability {cap}, which this session does not hold"
                            )
                        ));
                    }
                    r!(d) = Value::Capability(cap);
                }
                Instr::HasCap(d, c) => {
                    r!(d) = Value::Bool(self.grants.contains(Capability::ALL[c as usize]))
                }
                Instr::PushHandler(slot, off) => {
                    let target = (pc as i64 + off as i64) as u32;
                    self.handlers.push(Handler {
                        frames: self.frames.len(),
                        slot: base + slot as usize,
                        pc: target,
                    });
                }
                Instr::PopHandler => {
                    self.handlers.pop();
                }
            }
        }
    }

    /// The prototype a closure object runs.
    #[inline(always)]
    fn closure_proto(&self, c: value::ObjRef) -> u32 {
        match self.heap.get(c) {
            Obj::Closure(c) => c.proto,
            _ => 0,
        }
    }

    /// The prototype of the running frame.
    #[inline]
    fn cur_proto(&self) -> u32 {
        self.frames.last().map_or(0, |f| f.proto)
    }

    /// Capture `i` of the closure running in the frame at `base` (it sits just below).
    #[inline]
    fn capture(&self, base: usize, i: u16) -> Value {
        match self.stack[base - 1] {
            Value::Closure(c) => match self.heap.get(c) {
                Obj::Closure(c) => c.captures[i as usize],
                _ => Value::Nil,
            },
            _ => Value::Nil,
        }
    }

    /// The code of a prototype, detached from the borrow of `self`.
    #[inline(always)]
    fn code_of(&self, proto: u32) -> &'static [Instr] {
        let code: &[Instr] = &self.protos[proto as usize].code;
        // SAFETY: prototypes are only ever appended (never removed or mutated) and
        // appending moves the `Proto` structs, not their code buffers; no prototype is
        // added while `run` runs. The slice is used only inside `run` (in `execute`'s
        // locals and in `self.frames`, which `run` clears before it returns), so it
        // outlives every use.
        unsafe { &*(code as *const [Instr]) }
    }
}

/// Arithmetic off the Int, Int fast path: floats, overflow, type errors. Out of
/// line so that the dispatch loop stays small.
#[cold]
#[inline(never)]
fn arith_slow(op: ArithOp, x: Value, y: Value) -> Result<Value, Box<Fault>> {
    natives::arith2(op, x, y)
}

/// Comparison off the Int, Int fast path (see `arith_slow`).
#[cold]
#[inline(never)]
fn compare_slow(op: ArithOp, x: Value, y: Value) -> Result<bool, Box<Fault>> {
    natives::compare2(op, x, y)
}

/// The fault of reading a letrec-family variable before its initialiser ran.
#[cold]
#[inline(never)]
fn used_before_definition() -> Box<Fault> {
    Fault::new(
        ErrorKind::Unbound,
        "a variable was used before its definition ran",
    )
}

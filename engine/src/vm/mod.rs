//! Floor 4, the virtual machine: a register machine over one flat value stack.
//! Calls push a small frame record and never recurse on the Rust stack; tail calls
//! reuse the frame. Steps are counted at calls, returns and backward jumps; the
//! interrupt flag is polled only when the step fuel runs out.
//!
//! **Invariant:** imports only the ground floor. The VM never sees analysis, the
//! compiler or the host backends: it runs bytecode (`ground::bytecode`) loaded
//! through [`Linker`](crate::ground::bytecode::Linker), calls the native built-ins
//! of `natives`, and calls host functions through the entries the session installs
//! ([`HostEntry`]), handing them the host's state as an opaque `dyn Any`.
//!
//! Where things are: the machine and an evaluation's life (`mod.rs`), loading code
//! (`load.rs`), the dispatch loop (`dispatch.rs`), host calls (`host_call.rs`), the
//! native built-ins (`natives.rs`, `ffi_math.rs`), values and the heap (`value.rs`,
//! `heap.rs`, `symbols.rs`), printing (`printer.rs`), limits and errors.

pub mod actors;
pub mod audit;
pub mod blocking;
pub mod callback;
mod code;
pub mod convert;
mod data;
pub mod dict;
mod dispatch;
pub mod error;
pub mod ffi_math;
pub mod heap;
mod host_call;
mod json;
pub mod limits;
mod load;
pub mod meter;
pub mod natives;
pub mod output;
pub mod printer;
pub mod roots;
mod schedule;
pub mod symbols;
pub mod tiers;
pub mod value;

pub use code::CodeSweep;
pub use host_call::{HostCode, HostEntry};

use crate::ground::bytecode::{Instr, Proto};
use crate::ground::ffi::CapSet;
use audit::Audit;
use error::{ErrorKind, Fault, RuntimeError, StackFrame};
use heap::{Heap, Obj};
use limits::{Interrupt, Limits, Stop};
use output::Output;
use printer::PrintCtx;
use std::any::Any;
use std::collections::HashMap;
use value::Value;

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
    protos: Vec<Proto<Value>>,
    /// Prototype slots freed by the code collector, reused first.
    free_protos: Vec<u32>,
    /// Prototypes added since the last code collection.
    added_since_sweep: usize,
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
    /// The prototypes of embedding calls, by argument count and tier.
    trampolines: HashMap<(u16, u8), u32>,
    /// The host's own state (scopes, sensors, …), which host functions reach
    /// through their context; the VM never looks inside.
    pub host_data: Box<dyn Any + Send>,
    /// When the running evaluation must stop, if it has a time limit.
    deadline: Option<std::time::Instant>,
    /// Every capability check.
    pub audit: Audit,
    /// The interrupt flag (Ctrl-C, timeouts).
    pub interrupt: Interrupt,
    /// Where `print` writes.
    pub out: Output,
    /// Values the host holds through handles.
    pub roots: roots::RootTable,
    /// The host's per-session data, which host closures reach through `HostCx`.
    pub host_user: crate::ground::ffi::HostData,
    /// The host's shared data, which host closures reach on the VM thread and
    /// off it (a snapshot of the map is taken at each off-thread call).
    pub host_shared: std::sync::Arc<crate::ground::ffi::SharedData>,
    /// What an off-thread host closure gets of `host_data` (the host floor's
    /// state): a copy of the scope its capability opens, taken at call time.
    pub host_snapshot: blocking::Snapshot,
    /// Host → Jue callbacks running now (see `callback`).
    callback_depth: u32,
    /// A limit or interrupt a callback met: it ends the evaluation.
    pending_stop: Option<Box<Fault>>,
    limits: Limits,
    /// The id of `apply`, which the call instructions carry out themselves.
    apply_id: u16,
    steps_used: u64,
    chunk: i64,
    fuel: i64,
    /// Steps built-ins charged that the dispatch loop has not counted yet.
    work: u64,
    /// Globals whose `set!` is tier-checked at run time (`tiers`).
    set_guards: HashMap<u32, tiers::SetGuard>,
    /// The tier of each host function, by registry index.
    host_tiers: Vec<crate::ground::tier::TrustTier>,
    /// The experimental caps, when experimental code runs (`tiers`).
    cap: Option<tiers::Cap>,
    /// What those caps are (the session sets them).
    experimental_caps: Limits,
    /// The actors and the scheduler's queues (language §9).
    actors: actors::Actors,
    /// Blocking host calls running on worker threads.
    pool: blocking::Pool,
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
            free_protos: Vec::new(),
            added_since_sweep: 0,
            globals: Vec::new(),
            global_names: Vec::new(),
            global_index: HashMap::new(),
            stack: Vec::new(),
            frames: Vec::new(),
            handlers: Vec::new(),
            grants: CapSet::EMPTY,
            host: Vec::new(),
            ffi_names: Vec::new(),
            trampolines: HashMap::new(),
            host_data: Box::new(()),
            deadline: None,
            audit: Audit::default(),
            interrupt: Interrupt::default(),
            out,
            roots: roots::RootTable::new(),
            host_user: Default::default(),
            host_shared: Default::default(),
            host_snapshot: blocking::no_snapshot,
            callback_depth: 0,
            pending_stop: None,
            limits: Limits::DEFAULT,
            apply_id: crate::ground::builtins::find("apply", false).unwrap_or(u16::MAX),
            steps_used: 0,
            chunk: 0,
            fuel: 0,
            work: 0,
            set_guards: HashMap::new(),
            host_tiers: Vec::new(),
            cap: None,
            experimental_caps: Limits::EXPERIMENTAL,
            actors: actors::Actors::new(),
            pool: blocking::Pool::new(),
        }
    }

    /// The compiled functions (freed slots have no code).
    pub fn protos(&self) -> &[Proto<Value>] {
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
                    blocking: false,
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

    /// Steps used so far, the running chunk's included.
    #[inline(always)]
    fn steps_now(&self) -> u64 {
        self.steps_used + (self.chunk - self.fuel).max(0) as u64
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
            .copied()
            .chain(self.roots.values())
            .chain(self.actors.roots());
        let roots: Vec<Value> = roots.collect();
        self.heap.collect(roots);
    }

    /// Runs an entry prototype under `limits`; returns the value of its code.
    pub fn run(&mut self, proto: u32, limits: Limits) -> Result<Value, RuntimeError> {
        self.run_with(proto, limits, &[])
    }

    /// Calls a procedure on arguments under `limits` (the embedding `call`): through
    /// a small trampoline per argument count, made once, so a call leaves no code or
    /// constants behind.
    pub fn call(
        &mut self,
        f: Value,
        args: &[Value],
        limits: Limits,
        tier: crate::ground::tier::TrustTier,
    ) -> Result<Value, RuntimeError> {
        if let Value::Closure(_, proto) = f {
            return self.run_closure(f, proto, args, limits);
        }
        let Ok(argc) = u16::try_from(args.len()) else {
            return Err(self.runtime_error(*Fault::new(
                ErrorKind::Arity,
                format!(
                    "{} arguments are more than a call can pass (65,535)",
                    args.len()
                ),
            )));
        };
        if argc == u16::MAX {
            return Err(self.runtime_error(*Fault::new(
                ErrorKind::Arity,
                "65,535 arguments are more than a call can pass with its callee",
            )));
        }
        let proto = self.trampoline(argc, tier);
        let mut regs = Vec::with_capacity(args.len() + 1);
        regs.push(f);
        regs.extend_from_slice(args);
        self.run_with(proto, limits, &regs)
    }

    /// The prototype `Call(0, argc); Return(0)` for `argc` arguments.
    fn trampoline(&mut self, argc: u16, tier: crate::ground::tier::TrustTier) -> u32 {
        if let Some(&p) = self.trampolines.get(&(argc, tier as u8)) {
            return p;
        }
        let code = vec![Instr::Call(0, argc), Instr::Return(0)];
        let p = Proto {
            name: "<call>".into(),
            nparams: 0,
            variadic: false,
            nregs: argc + 1,
            spans: vec![crate::ground::span::Span::default(); code.len()],
            code,
            consts: Vec::new(),
            captures: Vec::new(),
            source: u32::MAX,
            tier,
        };
        if let Err(e) = p.validate() {
            unreachable!("trampoline: {e}");
        }
        let i = self.place_proto(p);
        self.trampolines.insert((argc, tier as u8), i);
        i
    }

    /// Runs `proto` with its first registers set to `init`.
    fn run_with(
        &mut self,
        proto: u32,
        limits: Limits,
        init: &[Value],
    ) -> Result<Value, RuntimeError> {
        self.begin(limits);
        if self.protos[proto as usize].tier == crate::ground::tier::TrustTier::Experimental {
            // An experimental form: the session gave it the caps already.
            self.cap = Some(tiers::Cap::whole(limits, self.deadline));
        }
        let nregs = self.protos[proto as usize].nregs as usize;
        let n = init.len().min(nregs);
        self.stack.resize(1 + nregs + STACK_SLACK, Value::Nil);
        self.stack[1..1 + n].copy_from_slice(&init[..n]);
        self.frames.push(Frame {
            code: self.code_of(proto),
            proto,
            base: 1,
            pc: 0,
        });
        self.drive()
    }

    /// Calls a closure directly as the entry frame: any number of arguments, a
    /// variadic one receiving the extra ones as its list (language §10).
    fn run_closure(
        &mut self,
        f: Value,
        proto: u32,
        args: &[Value],
        limits: Limits,
    ) -> Result<Value, RuntimeError> {
        self.begin(limits);
        // The arguments are not rooted yet, so no collection here: room is checked
        // against the heap as it is.
        let need = 1 + args.len() + STACK_SLACK;
        let limit = usize::try_from(limits.memory).unwrap_or(usize::MAX);
        let slot = std::mem::size_of::<Value>();
        let mut room = limit.saturating_sub(self.heap.live_bytes()) / slot;
        if need > room {
            // Garbage may fill the limit: collect, the callee and arguments rooted.
            let mut extra = Vec::with_capacity(args.len() + 1);
            extra.push(f);
            extra.extend_from_slice(args);
            self.collect_with_top(0, &extra);
            room = limit.saturating_sub(self.heap.live_bytes()) / slot;
        }
        if need > room || self.stack.try_reserve(need).is_err() {
            return Err(self.runtime_error(*Fault::new(
                ErrorKind::MemoryLimit,
                format!("{} arguments do not fit under the memory limit", args.len()),
            )));
        }
        self.stack.resize(need, Value::Nil);
        self.stack[0] = f;
        self.stack[1..1 + args.len()].copy_from_slice(args);
        self.frames.push(Frame {
            code: self.code_of(proto),
            proto,
            base: 1,
            pc: 0,
        });
        if let Err(fault) = self.enter(proto, 1, args.len()) {
            let e = self.runtime_error(*fault);
            self.frames.clear();
            return Err(e);
        }
        self.drive()
    }

    /// Starts an evaluation under `limits`: counters reset, stacks empty.
    fn begin(&mut self, limits: Limits) {
        // Every evaluation is actor 0's; the others wait where they stopped.
        debug_assert_eq!(self.actors.current, 0);
        self.actors.begin(limits.actors);
        self.limits = limits;
        self.heap
            .set_limit(usize::try_from(limits.memory).unwrap_or(usize::MAX));
        self.steps_used = 0;
        self.chunk = 0;
        self.fuel = 0;
        self.stack.clear();
        self.pending_stop = None;
        self.callback_depth = 0;
        self.frames.clear();
        self.handlers.clear();
        // An interrupt raised while nothing ran belongs to no evaluation: drop it.
        self.interrupt.clear();
        self.work = 0;
        // The deadline is read at every refuel and by working built-ins: no timer
        // thread. Host calls are not interrupted, so they get only the time left.
        self.deadline = limits
            .timeout_ms
            .map(|ms| std::time::Instant::now() + std::time::Duration::from_millis(ms));
        self.cap = None;
    }

    /// Runs the entry frame to its end, through `try` handlers.
    /// Actor 0's end (its form's value or error) ends the loop; the other actors
    /// run in between (`schedule.rs`).
    fn drive(&mut self) -> Result<Value, RuntimeError> {
        let mut raise: Option<Box<Fault>> = None;
        let result = loop {
            let step = match raise.take() {
                Some(f) => Err(f),
                None => self.execute(),
            };
            let next = match step {
                Ok(v) => {
                    if self.actors.current == 0 {
                        break Ok(v);
                    }
                    self.end_current(actors::Outcome::Done(v), None);
                    self.next_actor()
                }
                Err(fault) => {
                    if let Some(sw) = self.actors.switch.take() {
                        self.switch(sw)
                    } else if let Some(h) = self.catching(&fault) {
                        self.enter_handler(h, *fault);
                        continue;
                    } else if fault.kind.stops_all() {
                        // Limits and interrupts end the evaluation and every actor.
                        let e = self.runtime_error(*fault);
                        self.stop_all(e.kind, &e.message);
                        break Err(e);
                    } else if self.actors.current == 0 {
                        break Err(self.runtime_error(*fault));
                    } else {
                        self.fail_current(*fault);
                        self.next_actor()
                    }
                }
            };
            match next {
                schedule::Next::Run => {}
                schedule::Next::Raise(f) => raise = Some(f),
                schedule::Next::MainDone(v) => break Ok(v),
                schedule::Next::Stop(e) => break Err(e),
            }
        };
        debug_assert_eq!(self.actors.current, 0);
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
        if self.cap.is_some() {
            // The frame that put experimental caps on may be gone.
            self.unwound_to(h.frames);
        }
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
            Stop::Timeout => return Err(meter::timeout(self.limits.timeout_ms)),
            Stop::None => {}
        }
        // One clock read per fuel chunk (16k steps, well under a millisecond).
        if self
            .deadline
            .is_some_and(|d| std::time::Instant::now() >= d)
        {
            return Err(meter::timeout(self.limits.timeout_ms));
        }
        self.steps_used += (self.chunk - self.fuel).max(0) as u64;
        if self.steps_used >= self.limits.steps {
            return Err(meter::step_limit(self.limits.steps));
        }
        let mut chunk = (self.limits.steps - self.steps_used).min(FUEL_CHUNK);
        if self.actors.live > 0 && self.callback_depth == 0 {
            // Other actors live: fuel up to the end of the quantum, and switch there.
            self.chunk = 0;
            self.fuel = 0;
            let left = self.quantum_left()?;
            chunk = chunk.min(left);
        }
        self.chunk = chunk as i64;
        self.fuel = chunk as i64;
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
}

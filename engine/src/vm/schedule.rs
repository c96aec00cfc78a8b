//! The scheduler's side of the VM (language §9): the actor built-ins, switching
//! actors in and out of the machine, the run queue, timers, deadlock detection,
//! and stopping every actor with the evaluation. The records and queues are in
//! `actors.rs`; the loop that calls these is `Vm::drive`.

use super::actors::{
    self, Actor, ActorFailure, ActorInfo, MAILBOX_LIMIT, Outcome, QUANTUM, Resume, Switch, Wait,
};
use super::error::{ErrorKind, Fault, FaultResult, RuntimeError};
use super::natives::type_err;
use super::value::Value;
use super::{Frame, STACK_SLACK, Vm};
use crate::ground::builtins;
use crate::ground::bytecode::Instr;
use crate::ground::tier::TrustTier;
use std::time::{Duration, Instant};

/// What the scheduler does next.
pub(super) enum Next {
    /// An actor is swapped in: run it.
    Run,
    /// An actor is swapped in and raises this fault where it waited.
    Raise(Box<Fault>),
    /// Actor 0's form ended with this value (a tail call of a waiting built-in).
    MainDone(Value),
    /// The evaluation ends with this error; actor 0 is swapped in.
    Stop(RuntimeError),
}

/// The longest the scheduler sleeps before looking at Ctrl-C and the deadline again.
const POLL: Duration = Duration::from_millis(10);

impl actors::Actors {
    /// Prepares an evaluation of actor 0.
    pub(super) fn begin(&mut self, max: u64) {
        self.max = max;
        self.turn_start = 0;
        self.switch = None;
        self.run.retain(|&id| id != 0);
        let m = &mut self.main;
        m.wait = Wait::None;
        m.resume = Resume::Nothing;
        m.resume_fault = None;
        // Actor 0's caps are its form's, set anew for each evaluation.
        m.cap = None;
    }
}

impl Vm {
    /// Runs an actor built-in (`builtins::Imp::Vm`) on `argc` values at `at`. The
    /// running frame's `pc` is saved (it names the call).
    #[cold]
    #[inline(never)]
    pub(super) fn vm_builtin(&mut self, id: u16, at: usize, argc: usize) -> FaultResult<Value> {
        let b = builtins::get(id);
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
        if let Some(cap) = b.capability {
            // Checked at the moment of each call: a `:revoke` applies at once.
            let held = self.grants.contains(cap);
            self.audit
                .record(b.name, cap, held, (!held).then(|| "not granted".into()));
            if !held {
                return Err(Fault::new(
                    ErrorKind::CapabilityDenied,
                    format!(
                        "`{}` needs the capability {cap}, which this session does not hold",
                        b.name
                    ),
                ));
            }
        }
        let arg = |i: usize| (i < argc).then(|| self.stack[at + i]);
        let actor = |i: usize| -> FaultResult<u32> {
            match self.stack[at + i] {
                Value::Actor(a) => Ok(a),
                other => Err(type_err(b.name, "an ActorId", other)),
            }
        };
        let me = self.actors.current;
        match b.name {
            "self" => Ok(Value::Actor(me)),
            "actor-alive?" => Ok(Value::Bool(self.actors.is_live(actor(0)?))),
            "send" => {
                let t = actor(0)?;
                let msg = self.stack[at + 1];
                let Some(a) = self.actors.get_mut(t) else {
                    return Ok(Value::Bool(false));
                };
                if a.wait == Wait::Receive {
                    // A waiting receiver takes the message at once.
                    self.actors.wake(t, msg, None);
                } else if a.mailbox.len() >= MAILBOX_LIMIT {
                    return Err(Fault::new(
                        ErrorKind::Limit,
                        format!(
                            "`send`: the mailbox of actor {t} is full ({MAILBOX_LIMIT} messages)"
                        ),
                    ));
                } else {
                    a.mailbox.push_back(msg);
                    self.heap.add_external(actors::Actors::message_bytes());
                }
                Ok(Value::Bool(true))
            }
            "receive" => {
                let ms = actors::millis("receive", arg(0))?;
                let default = arg(1).unwrap_or(Value::Nil);
                let Some(a) = self.actors.get_mut(me) else {
                    return Err(Fault::new(ErrorKind::Host, "no running actor"));
                };
                if let Some(v) = a.mailbox.pop_front() {
                    self.heap.sub_external(actors::Actors::message_bytes());
                    return Ok(v);
                }
                if ms == Some(0) {
                    return Ok(default);
                }
                a.default = default;
                self.block(Wait::Receive, ms)
            }
            "await" => {
                let t = actor(0)?;
                let ms = actors::millis("await", arg(1))?;
                let default = arg(2).unwrap_or(Value::Nil);
                if t == me {
                    return Err(Fault::new(
                        ErrorKind::Deadlock,
                        format!("actor {me} awaits itself, which never ends"),
                    ));
                }
                if let Some(o) = self.actors.outcome(t) {
                    let (v, f) = actors::deliver(t, &o);
                    if let Some(f) = f {
                        // Received: no W0401 for this failure.
                        self.actors.unreported.retain(|u| u.id != t);
                        return Err(f);
                    }
                    return Ok(v);
                }
                if ms == Some(0) {
                    return Ok(default);
                }
                if let Some(a) = self.actors.get_mut(me) {
                    a.default = default;
                }
                self.block(Wait::Await(t), ms)
            }
            "kill" => {
                let t = actor(0)?;
                if !self.actors.is_live(t) {
                    return Ok(Value::Bool(false));
                }
                if t == me {
                    return Err(Fault::new(
                        ErrorKind::Killed,
                        format!("killed by actor {me}"),
                    ));
                }
                if t == 0 {
                    if self.callback_depth > 0 {
                        return Err(Fault::new(
                            ErrorKind::Host,
                            "`kill` of actor 0 inside a host function's callback",
                        ));
                    }
                    self.actors.switch = Some(Switch::KillMain(me));
                    return Err(actors::switch_signal());
                }
                self.actors.end(
                    t,
                    Outcome::Failed(ErrorKind::Killed, format!("killed by actor {me}").into()),
                    None,
                    &mut self.heap,
                );
                Ok(Value::Bool(true))
            }
            "sleep" => {
                let ms = actors::millis("sleep", arg(0))?.unwrap_or(0);
                self.block(Wait::Sleep, Some(ms))
            }
            "spawn" => self.spawn(at, argc),
            _ => Err(Fault::new(
                ErrorKind::Host,
                format!("`{}` is not an operation of the VM", b.name),
            )),
        }
    }

    /// Parks the running actor in a wait (timed when `ms` is given). Inside a
    /// host function's callback no switch is possible: a sleep waits on the
    /// thread, bounded by the deadline and Ctrl-C; any other wait is a deadlock.
    fn block(&mut self, wait: Wait, ms: Option<u64>) -> FaultResult<Value> {
        if self.callback_depth > 0 {
            if wait == Wait::Sleep {
                let until = Instant::now() + Duration::from_millis(ms.unwrap_or(0));
                self.wait_until(until)?;
                return Ok(Value::Nil);
            }
            return Err(Fault::new(
                ErrorKind::Deadlock,
                "an actor cannot wait for a message or an actor inside a host function's callback",
            ));
        }
        let when = ms.map(|ms| Instant::now() + Duration::from_millis(ms));
        self.actors.switch = Some(Switch::Block(wait, when));
        Err(actors::switch_signal())
    }

    /// `(spawn f arg ...)`: a new actor at the back of the run queue.
    fn spawn(&mut self, at: usize, argc: usize) -> FaultResult<Value> {
        let f = self.stack[at];
        if !f.is_procedure() {
            return Err(type_err("spawn", "a procedure", f));
        }
        if self.actors.live as u64 + 1 >= self.actors.max {
            return Err(Fault::new(
                ErrorKind::Limit,
                format!(
                    "`spawn`: {} actors live, the live-actor limit (actor 0 included)",
                    self.actors.max
                ),
            ));
        }
        let n = argc - 1;
        let Some(n16) = u16::try_from(n).ok().filter(|&n| n < u16::MAX) else {
            return Err(Fault::new(
                ErrorKind::Arity,
                format!("{n} arguments are more than a call can pass (65,534)"),
            ));
        };
        // The trampoline `Call(0, n); Return(0)` calls `f` in the new actor, so
        // arity errors and variadic procedures work as in any call.
        let tramp = self.trampoline(n16, TrustTier::Empirical);
        // Room for the trampoline and the callee's first frame (at base 2), so
        // that the first call does not grow the stack: an idle actor stays small.
        let callee_regs = match f {
            Value::Closure(_, proto) => self.protos[proto as usize].nregs as usize,
            _ => 0,
        };
        let size = 2 + argc.max(callee_regs) + STACK_SLACK;
        let bytes = size * std::mem::size_of::<Value>()
            + std::mem::size_of::<Frame>()
            + std::mem::size_of::<Actor>();
        self.heap
            .check_room(bytes)
            .map_err(|m| Fault::new(ErrorKind::MemoryLimit, m))?;
        let mut stack = Vec::new();
        if stack.try_reserve_exact(size).is_err() {
            return Err(Fault::new(
                ErrorKind::MemoryLimit,
                "the system refused memory for an actor",
            ));
        }
        stack.push(Value::Nil);
        stack.extend_from_slice(&self.stack[at..at + argc]);
        stack.resize(size, Value::Nil);
        let mut a = Actor::new(f);
        // Spawned by capped code: capped from its own start.
        a.cap = self.spawn_cap();
        a.stack = stack;
        a.frames = vec![Frame {
            code: self.code_of(tramp),
            proto: tramp,
            base: 1,
            pc: 0,
        }];
        a.top = 1 + argc;
        a.site = self.frames.last().and_then(|fr| {
            let p = &self.protos[fr.proto as usize];
            let pc = (fr.pc as usize).saturating_sub(1);
            p.spans.get(pc).map(|s| (p.source, *s))
        });
        a.parked_bytes = a.stack_bytes();
        self.heap
            .add_external(a.parked_bytes + std::mem::size_of::<Actor>());
        let id = self.actors.add(a);
        self.actors.run.push_back(id);
        self.clamp_quantum();
        Ok(Value::Actor(id))
    }

    /// Cuts the running actor's fuel to what is left of its quantum, now that
    /// another actor may run (the next refuel switches).
    fn clamp_quantum(&mut self) {
        if self.callback_depth > 0 {
            return;
        }
        let used = self.steps_now();
        let ran = used.saturating_sub(self.actors.turn_start);
        let left = QUANTUM.saturating_sub(ran) as i64;
        let excess = self.fuel - left;
        if excess > 0 {
            // Charged as a built-in's work and taken off the chunk, so the steps
            // counted stay the same.
            self.work = self.work.saturating_add(excess as u64);
            self.chunk -= excess;
        }
    }

    /// At a refuel with other actors live: the steps left in the running
    /// actor's quantum, or a switch when it is used up and another can run.
    /// Fires due timers (one clock read per quantum, only while any is set).
    pub(super) fn quantum_left(&mut self) -> FaultResult<u64> {
        if !self.actors.timers.is_empty() {
            self.actors.fire_timers(Instant::now());
        }
        self.poll_host_calls();
        let ran = self.steps_used.saturating_sub(self.actors.turn_start);
        if ran < QUANTUM {
            return Ok(QUANTUM - ran);
        }
        if !self.actors.run.is_empty() {
            // Called from the step check of a call, return or backward jump,
            // after its frame's `pc` was saved past it: nothing of that
            // instruction has happened yet, so it runs again, from its start,
            // when this actor resumes.
            if let Some(f) = self.frames.last_mut() {
                f.pc = f.pc.saturating_sub(1);
            }
            self.actors.switch = Some(Switch::Yield);
            return Err(actors::switch_signal());
        }
        self.actors.turn_start = self.steps_used;
        Ok(QUANTUM)
    }

    /// Where the value that ends the running actor's wait goes: the result
    /// register of the call it waits in, or its frame's return.
    fn resume_point(&self) -> Resume {
        let Some(f) = self.frames.last() else {
            return Resume::Nothing;
        };
        let Some(ins) = (f.pc as usize).checked_sub(1).and_then(|pc| f.code.get(pc)) else {
            return Resume::Nothing;
        };
        let base = f.base as usize;
        match *ins {
            Instr::CallBuiltin(a, ..) | Instr::CallFfi(a, ..) | Instr::CallFfi2(a, ..) => {
                Resume::Reg(base + a as usize)
            }
            Instr::Call(r, _) | Instr::CallGlobal(r, ..) => Resume::Reg(base + r as usize),
            Instr::TailCall(..) => Resume::Return,
            _ => Resume::Nothing,
        }
    }

    /// Moves the running actor's stack, frames and handlers into its record.
    fn park_current(&mut self) {
        let id = self.actors.current;
        let top = self.frames.last().map_or(0, |f| {
            f.base as usize + self.protos[f.proto as usize].nregs as usize
        });
        let cap = if self.cap.is_some() {
            self.park_cap()
        } else {
            None
        };
        let Some(a) = self.actors.get_mut(id) else {
            return;
        };
        a.cap = cap;
        a.stack = std::mem::take(&mut self.stack);
        a.frames = std::mem::take(&mut self.frames);
        a.handlers = std::mem::take(&mut self.handlers);
        a.top = top.min(a.stack.len());
        a.parked_bytes = a.stack_bytes();
        let bytes = a.parked_bytes;
        self.heap.add_external(bytes);
    }

    /// Swaps actor `id` in with a new turn and delivers what ended its wait.
    /// `None` when it ended right there (a tail-called wait returning from its
    /// entry frame).
    fn resume(&mut self, id: u32) -> Option<Next> {
        let a = self.actors.get_mut(id)?;
        self.stack = std::mem::take(&mut a.stack);
        self.frames = std::mem::take(&mut a.frames);
        self.handlers = std::mem::take(&mut a.handlers);
        let bytes = std::mem::take(&mut a.parked_bytes);
        a.top = 0;
        let resume = std::mem::replace(&mut a.resume, Resume::Nothing);
        let v = std::mem::replace(&mut a.resume_val, Value::Nil);
        a.default = Value::Nil;
        let fault = a.resume_fault.take();
        let cap = a.cap.take();
        self.heap.sub_external(bytes);
        self.actors.current = id;
        self.steps_used += (self.chunk - self.fuel).max(0) as u64;
        self.chunk = 0;
        self.fuel = 0;
        self.actors.turn_start = self.steps_used;
        if let Some(c) = cap {
            self.resume_cap(*c);
        }
        if let Some(f) = fault {
            return Some(Next::Raise(f));
        }
        match resume {
            Resume::Nothing => {}
            Resume::Reg(slot) => {
                if let Some(r) = self.stack.get_mut(slot) {
                    *r = v;
                }
            }
            Resume::Return => {
                if let Some(f) = self.frames.pop()
                    && let Some(r) = self.stack.get_mut(f.base as usize - 1)
                {
                    *r = v;
                }
                if self.frames.is_empty() {
                    if id == 0 {
                        return Some(Next::MainDone(v));
                    }
                    self.end_current(Outcome::Done(v), None);
                    return None;
                }
            }
        }
        Some(Next::Run)
    }

    /// Carries out what the running actor asked for.
    pub(super) fn switch(&mut self, sw: Switch) -> Next {
        let me = self.actors.current;
        match sw {
            Switch::Yield => {
                self.park_current();
                self.actors.run.push_back(me);
                self.next_actor()
            }
            Switch::Block(wait, when) => {
                let resume = self.resume_point();
                self.park_current();
                let Some(a) = self.actors.get_mut(me) else {
                    return self.next_actor();
                };
                a.wait = wait;
                a.generation = a.generation.wrapping_add(1);
                a.resume = resume;
                let generation = a.generation;
                if let Some(when) = when {
                    self.actors.add_timer(when, me, generation);
                }
                if let Wait::Await(t) = wait
                    && let Some(target) = self.actors.get_mut(t)
                {
                    target.awaiters.push((me, generation));
                }
                self.next_actor()
            }
            Switch::Host(job, idx) => {
                let resume = self.resume_point();
                self.park_current();
                let Some(a) = self.actors.get_mut(me) else {
                    return self.next_actor();
                };
                a.wait = Wait::Host;
                a.generation = a.generation.wrapping_add(1);
                a.resume = resume;
                let generation = a.generation;
                let cancel = self.pool.cancel.clone();
                self.pool
                    .submit(me, generation, idx, job, self.deadline, cancel);
                self.next_actor()
            }
            Switch::KillMain(killer) => {
                // The killer goes on first next time, with its `true`.
                let resume = self.resume_point();
                self.park_current();
                if let Some(a) = self.actors.get_mut(killer) {
                    a.resume = resume;
                    a.resume_val = Value::Bool(true);
                }
                self.actors.run.push_front(killer);
                self.restore_main();
                let mut e = self.runtime_error(Fault {
                    kind: ErrorKind::Killed,
                    message: format!("killed by actor {killer}"),
                });
                e.kind = ErrorKind::Killed;
                Next::Stop(e)
            }
        }
    }

    /// Swaps the next runnable actor in; waits for timers when none is; finds
    /// a deadlock when actor 0 waits for what nothing can bring.
    pub(super) fn next_actor(&mut self) -> Next {
        loop {
            if !self.actors.timers.is_empty() {
                self.actors.fire_timers(Instant::now());
            }
            self.poll_host_calls();
            if let Some(id) = self.actors.run.pop_front() {
                if !self.actors.get(id).is_some_and(|a| a.wait == Wait::None) {
                    continue;
                }
                match self.resume(id) {
                    Some(n) => return n,
                    None => continue,
                }
            }
            let timer = self.actors.next_timer();
            if timer.is_some() || self.pool.in_flight() > 0 {
                if let Err(f) = self.idle_wait(timer) {
                    return self.stop_waiting(*f);
                }
                continue;
            }
            // Nothing can run or wake: actor 0 waits without a timeout.
            let m = &mut self.actors.main;
            let what = match m.wait {
                Wait::Await(t) => format!("`await` of actor {t}, which"),
                _ => "`receive`, and no actor".to_string(),
            };
            m.wait = Wait::None;
            m.generation = m.generation.wrapping_add(1);
            m.resume_fault = Some(Fault::new(
                ErrorKind::Deadlock,
                format!("actor 0 waits in {what} can run to end the wait"),
            ));
            return self.resume(0).unwrap_or(Next::Run);
        }
    }

    /// Takes the results of finished blocking calls (never waits).
    fn poll_host_calls(&mut self) {
        if self.pool.in_flight() == 0 {
            return;
        }
        while let Some(d) = self.pool.finished(None) {
            self.host_done(d);
        }
    }

    /// With nothing runnable: waits for the next timer or a finished host call,
    /// at most 10 ms at a time, failing on Ctrl-C or the deadline.
    fn idle_wait(&mut self, timer: Option<Instant>) -> FaultResult<()> {
        self.check_stop()?;
        let now = Instant::now();
        let mut until = now + POLL;
        if let Some(t) = timer {
            until = until.min(t);
        }
        if let Some(d) = self.deadline {
            until = until.min(d + Duration::from_millis(1));
        }
        if self.pool.in_flight() > 0 {
            if let Some(d) = self.pool.finished(Some(until)) {
                self.host_done(d);
            }
        } else if until > now {
            std::thread::sleep(until - now);
        }
        Ok(())
    }

    /// Ctrl-C or the deadline, as a fault.
    fn check_stop(&self) -> FaultResult<()> {
        match self.interrupt.get() {
            super::limits::Stop::Interrupt => {
                return Err(Fault::new(ErrorKind::Interrupted, "interrupted"));
            }
            super::limits::Stop::Timeout => {
                return Err(super::meter::timeout(self.limits.timeout_ms));
            }
            super::limits::Stop::None => {}
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(super::meter::timeout(self.limits.timeout_ms));
        }
        Ok(())
    }

    /// A blocking call finished: its actor, if still waiting in it, wakes with
    /// the result (converted here, on the VM thread) or its error. The result of
    /// a call whose actor was killed or stopped meanwhile is dropped.
    fn host_done(&mut self, d: super::blocking::Done) {
        let (id, generation, idx, r) = d;
        // The call's capability check, recorded now that its scope checks ran.
        match &r {
            Err(e) if e.is_capability_denied() => {
                let f = Fault::new(ErrorKind::CapabilityDenied, e.message.clone());
                self.audit_returned(idx, Some(&f));
            }
            _ => self.audit_returned(idx, None),
        }
        let waiting = self
            .actors
            .get(id)
            .is_some_and(|a| a.generation == generation && a.wait == Wait::Host);
        if !waiting {
            return;
        }
        let (v, fault) = match r {
            Ok(out) => match super::convert::from_host_rooted(
                &out,
                &mut self.heap,
                &mut self.symbols,
                &self.roots,
            ) {
                Ok(v) if self.host.get(idx).is_none_or(|e| e.ret & v.kind_bit() != 0) => (v, None),
                // An integral Int where a Float is declared widens, as on the VM thread.
                Ok(v) => match self
                    .host
                    .get(idx)
                    .and_then(|e| super::host_call::widen_result(e.ret, v))
                {
                    Some(w) => (w, None),
                    None => (Value::Nil, Some(self.host_return_fault(idx, v))),
                },
                Err(m) => {
                    let name = self.host.get(idx).map_or("", |e| &*e.name).to_string();
                    (Value::Nil, Some(super::blocking::bad_result(&name, m)))
                }
            },
            Err(e) => (Value::Nil, Some(super::blocking::fault_of(e))),
        };
        self.actors.wake(id, v, fault);
    }

    /// Waits for the blocking calls still running (the end of a `jue run`: a
    /// write is never cut off half-way); their results are dropped.
    pub fn finish_host_calls(&mut self) {
        self.pool.drop_queued();
        while self.pool.running > 0 {
            if let Some(d) = self
                .pool
                .finished(Some(Instant::now() + Duration::from_secs(1)))
            {
                self.host_done(d);
            }
        }
    }

    /// Sleeps until `when`, looking at Ctrl-C and the deadline at least every 10 ms.
    fn wait_until(&mut self, when: Instant) -> FaultResult<()> {
        loop {
            self.check_stop()?;
            let now = Instant::now();
            if now >= when {
                return Ok(());
            }
            let mut nap = (when - now).min(POLL);
            if let Some(d) = self.deadline {
                nap = nap.min(d.saturating_duration_since(now) + Duration::from_millis(1));
            }
            std::thread::sleep(nap);
        }
    }

    /// Ctrl-C or the deadline came while every actor waited: the evaluation
    /// ends, reported at actor 0's wait.
    fn stop_waiting(&mut self, fault: Fault) -> Next {
        self.stop_all(fault.kind, &fault.message);
        let e = self.runtime_error(fault);
        Next::Stop(e)
    }

    /// Ends the running actor (not 0) with `outcome`.
    pub(super) fn end_current(&mut self, outcome: Outcome, report: Option<String>) {
        let id = self.actors.current;
        self.frames.clear();
        self.handlers.clear();
        if self.cap.is_some() {
            // Its caps end with it.
            self.uncap_limits();
        }
        self.actors.end(id, outcome, report, &mut self.heap);
    }

    /// The running actor (not 0) failed with `fault` that nothing caught.
    pub(super) fn fail_current(&mut self, fault: Fault) {
        let report = if fault.kind == ErrorKind::Killed {
            None
        } else {
            let f = self.actors.get(self.actors.current).map(|a| a.func);
            Some(f.map(|f| self.show(f)).unwrap_or_default())
        };
        self.end_current(Outcome::Failed(fault.kind, fault.message.into()), report);
    }

    /// A resource limit or an interrupt: every actor but 0 ends with it (not
    /// reported as W0401: the evaluation's error says it), and actor 0 is swapped
    /// back in.
    pub(super) fn stop_all(&mut self, kind: ErrorKind, message: &str) {
        let first = self.actors.base;
        for i in 0..self.actors.slots.len() as u32 {
            let id = first + i;
            if self.actors.is_live(id) {
                self.actors.end(
                    id,
                    Outcome::Failed(kind, message.into()),
                    None,
                    &mut self.heap,
                );
            }
        }
        self.actors.run.clear();
        self.actors.timers.clear();
        let why = if kind == ErrorKind::Timeout {
            super::limits::Stop::Timeout
        } else {
            super::limits::Stop::Interrupt
        };
        self.pool.cancel(why);
        self.restore_main();
    }

    /// Makes actor 0 the running one again, its wait dropped (the evaluation ends).
    fn restore_main(&mut self) {
        if self.actors.current != 0 {
            let m = &mut self.actors.main;
            self.stack = std::mem::take(&mut m.stack);
            self.frames = std::mem::take(&mut m.frames);
            self.handlers = std::mem::take(&mut m.handlers);
            let bytes = std::mem::take(&mut m.parked_bytes);
            self.heap.sub_external(bytes);
            self.actors.current = 0;
        }
        let m = &mut self.actors.main;
        m.top = 0;
        m.wait = Wait::None;
        m.generation = m.generation.wrapping_add(1);
        m.resume = Resume::Nothing;
        m.resume_val = Value::Nil;
        m.resume_fault = None;
        self.actors.run.retain(|&id| id != 0);
    }

    /// The session's actors as `:actors` lists them (tooling §2).
    pub fn actor_infos(&self) -> Vec<ActorInfo> {
        actors::infos(&self.actors, &|v| self.show(v))
    }

    /// The failures of actors that no `await` received since the last call (W0401).
    pub fn take_actor_failures(&mut self) -> Vec<ActorFailure> {
        std::mem::take(&mut self.actors.unreported)
    }

    /// Live actors other than 0.
    pub fn live_actors(&self) -> usize {
        self.actors.live
    }

    /// Stops and forgets every actor (REPL `:reset`); ids go on counting.
    pub fn reset_actors(&mut self) {
        let first = self.actors.base;
        for i in 0..self.actors.slots.len() as u32 {
            let id = first + i;
            if self.actors.is_live(id) {
                self.actors.end(
                    id,
                    Outcome::Failed(ErrorKind::Killed, "reset".into()),
                    None,
                    &mut self.heap,
                );
            }
        }
        self.pool.cancel(super::limits::Stop::Interrupt);
        let next = self.actors.next_id();
        let a = &mut self.actors;
        a.base = next;
        a.slots = Vec::new();
        a.run.clear();
        a.timers.clear();
        a.recent.clear();
        a.unreported.clear();
        let n = a.main.mailbox.len();
        a.main.mailbox.clear();
        self.heap.sub_external(n * actors::Actors::message_bytes());
    }
}

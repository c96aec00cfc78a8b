//! Actors (language §9): green threads of the VM. Each actor has its own register
//! stack, frames, `try` handlers and mailbox; the running actor's stack, frames and
//! handlers are the VM's own (`Vm::stack`, `frames`, `handlers`), swapped with the
//! actor's record on a switch, so the dispatch loop runs one actor exactly as it
//! runs a program without actors.
//!
//! The scheduler is the VM's `drive` loop: an actor runs until it ends, blocks
//! (`receive`, `await`, `sleep`) or has used its quantum of 2,000 steps, which the
//! fuel mechanism enforces (`Vm::refuel` hands out fuel up to the quantum's end
//! whenever another actor lives). The actor built-ins are VM operations
//! (`builtins::Imp::Vm`): they signal a switch by setting `Switch` and returning
//! a fault that `drive` recognises before any `try` handler sees it.

use super::error::{ErrorKind, Fault, FaultResult};
use super::heap::Heap;
use super::value::Value;
use super::{Frame, Handler};
use crate::ground::span::Span;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::Instant;

/// Steps an actor runs before the next runnable one gets its turn.
pub const QUANTUM: u64 = 2_000;
/// Messages a mailbox holds at most.
pub const MAILBOX_LIMIT: usize = 10_000;
/// Ended actors `:actors` keeps showing.
const RECENT: usize = 20;
/// Bytes one mailbox message accounts for in the heap.
const MESSAGE_BYTES: usize = std::mem::size_of::<Value>();

/// The state of an actor as `:actors` shows it (tooling §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActorState {
    /// Running or waiting for its turn.
    Runnable,
    /// In `receive` or `await`.
    Waiting,
    /// In `sleep`.
    Sleeping,
    /// In a blocking host call.
    InHostCall,
    /// Ended with a result.
    Done,
    /// Ended with an error (killed included).
    Failed,
}

impl ActorState {
    /// The state's name as `:actors` prints it.
    pub fn name(self) -> &'static str {
        match self {
            ActorState::Runnable => "runnable",
            ActorState::Waiting => "waiting",
            ActorState::Sleeping => "sleeping",
            ActorState::InHostCall => "in host call",
            ActorState::Done => "done",
            ActorState::Failed => "failed",
        }
    }
}

/// One line of `:actors` (and `Session::actors()`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActorInfo {
    /// The actor's number (`#<actor N>`).
    pub id: u32,
    /// Its state.
    pub state: ActorState,
    /// Messages waiting in its mailbox.
    pub mailbox: usize,
    /// Its function in printed form (`#<fn worker/1>`); `<main>` for actor 0.
    pub function: String,
}

/// An actor that failed and whose failure no `await` received (W0401).
#[derive(Clone, Debug, PartialEq)]
pub struct ActorFailure {
    /// The actor's number.
    pub id: u32,
    /// Its function in printed form.
    pub function: String,
    /// Its error's kind.
    pub kind: ErrorKind,
    /// Its error's message.
    pub message: String,
    /// The source and span of the `spawn` call that started it.
    pub site: Option<(u32, Span)>,
}

/// What an actor waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Wait {
    /// Nothing: running or in the run queue.
    None,
    /// A message.
    Receive,
    /// The end of this actor.
    Await(u32),
    /// The end of a sleep.
    Sleep,
    /// The return of a blocking host call running on a worker thread.
    Host,
}

/// Where the value that ends a wait goes when the actor runs again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Resume {
    /// Nothing to deliver (a new actor, a preempted one).
    Nothing,
    /// Into this absolute register (the call's result register).
    Reg(usize),
    /// As the return value of the running frame (the call was a tail call).
    Return,
}

/// A live actor's record. While it runs, its stack, frames and handlers are the
/// VM's and these hold empty vectors.
pub(super) struct Actor {
    pub(super) stack: Vec<Value>,
    pub(super) frames: Vec<Frame>,
    pub(super) handlers: Vec<Handler>,
    /// Registers in use when parked (the collector's roots).
    pub(super) top: usize,
    pub(super) mailbox: VecDeque<Value>,
    pub(super) wait: Wait,
    /// Counts waits, so that a stale timer or awaiter entry is recognised.
    pub(super) generation: u32,
    pub(super) resume: Resume,
    /// The value delivered on resume.
    pub(super) resume_val: Value,
    /// A fault raised on resume instead (an awaited actor's failure).
    pub(super) resume_fault: Option<Box<Fault>>,
    /// What a timed wait gives when its time is up.
    pub(super) default: Value,
    /// The procedure it runs (for `:actors` and W0401).
    pub(super) func: Value,
    /// The `spawn` call that started it.
    pub(super) site: Option<(u32, Span)>,
    /// Actors awaiting this one, with the generation of their wait.
    pub(super) awaiters: Vec<(u32, u32)>,
    /// Heap bytes its parked stack accounts for.
    pub(super) parked_bytes: usize,
    /// Its experimental caps while parked, if it runs under them (`tiers`);
    /// boxed, so that an uncapped actor pays one word.
    pub(super) cap: Option<Box<super::tiers::ParkedCap>>,
}

impl Actor {
    pub(super) fn new(func: Value) -> Actor {
        Actor {
            stack: Vec::new(),
            frames: Vec::new(),
            handlers: Vec::new(),
            top: 0,
            mailbox: VecDeque::new(),
            wait: Wait::None,
            generation: 0,
            resume: Resume::Nothing,
            resume_val: Value::Nil,
            resume_fault: None,
            default: Value::Nil,
            func,
            site: None,
            awaiters: Vec::new(),
            parked_bytes: 0,
            cap: None,
        }
    }

    /// The heap bytes its stack, frames and handlers take while parked.
    pub(super) fn stack_bytes(&self) -> usize {
        self.stack.capacity() * std::mem::size_of::<Value>()
            + self.frames.capacity() * std::mem::size_of::<Frame>()
            + self.handlers.capacity() * std::mem::size_of::<Handler>()
    }

    fn state(&self) -> ActorState {
        match self.wait {
            Wait::None => ActorState::Runnable,
            Wait::Receive | Wait::Await(_) => ActorState::Waiting,
            Wait::Sleep => ActorState::Sleeping,
            Wait::Host => ActorState::InHostCall,
        }
    }
}

/// How an actor ended.
#[derive(Clone, Debug)]
pub(super) enum Outcome {
    /// It returned this value.
    Done(Value),
    /// It failed (or was killed, or stopped with the evaluation).
    Failed(ErrorKind, Box<str>),
}

/// An actor's slot: live, or the outcome it ended with (kept so that every
/// `await` of it gets the same outcome).
pub(super) enum Slot {
    Live(Box<Actor>),
    Ended(Outcome),
}

/// What the running actor asked the scheduler for.
pub(super) enum Switch {
    /// Its quantum is used up: to the back of the run queue.
    Yield,
    /// It waits; the timed waits end at the instant given.
    Block(Wait, Option<Instant>),
    /// It killed actor 0: the evaluation ends.
    KillMain(u32),
    /// It called a blocking host function (its index): the work goes to a
    /// worker thread and the actor waits in the call.
    Host(super::blocking::Job, usize),
}

/// Every actor of a session and the scheduler's queues.
pub(super) struct Actors {
    /// The running actor (0 between evaluations).
    pub(super) current: u32,
    /// Actor 0, the main program.
    pub(super) main: Box<Actor>,
    /// The id of `slots[0]` (ids before it were forgotten by `:reset`).
    pub(super) base: u32,
    pub(super) slots: Vec<Slot>,
    /// Live actors other than 0.
    pub(super) live: usize,
    pub(super) run: VecDeque<u32>,
    /// Timed waits: (when, sequence, actor, generation), earliest first.
    pub(super) timers: BinaryHeap<Reverse<(Instant, u64, u32, u32)>>,
    timer_seq: u64,
    /// The step count when the running actor's turn began.
    pub(super) turn_start: u64,
    /// The last ended actors, newest last: id, failed, function.
    pub(super) recent: VecDeque<(u32, bool, Value)>,
    /// Failures no `await` received yet (W0401).
    pub(super) unreported: Vec<ActorFailure>,
    /// What the running actor asked for, read by `drive`.
    pub(super) switch: Option<Switch>,
    /// The live-actor limit, actor 0 included.
    pub(super) max: u64,
}

impl Actors {
    pub(super) fn new() -> Actors {
        Actors {
            current: 0,
            main: Box::new(Actor::new(Value::Nil)),
            base: 1,
            slots: Vec::new(),
            live: 0,
            run: VecDeque::new(),
            timers: BinaryHeap::new(),
            timer_seq: 0,
            turn_start: 0,
            recent: VecDeque::new(),
            unreported: Vec::new(),
            switch: None,
            max: 10_000,
        }
    }

    /// The next id to give.
    pub(super) fn next_id(&self) -> u32 {
        self.base + self.slots.len() as u32
    }

    /// A live actor's record.
    #[inline]
    pub(super) fn get_mut(&mut self, id: u32) -> Option<&mut Actor> {
        if id == 0 {
            return Some(&mut *self.main);
        }
        match self.slots.get_mut(id.checked_sub(self.base)? as usize) {
            Some(Slot::Live(a)) => Some(&mut **a),
            _ => None,
        }
    }

    /// A live actor's record (shared).
    pub(super) fn get(&self, id: u32) -> Option<&Actor> {
        if id == 0 {
            return Some(&*self.main);
        }
        match self.slots.get(id.checked_sub(self.base)? as usize) {
            Some(Slot::Live(a)) => Some(&**a),
            _ => None,
        }
    }

    /// Whether the actor has not ended (actor 0 never ends).
    pub(super) fn is_live(&self, id: u32) -> bool {
        self.get(id).is_some()
    }

    /// How an ended actor ended; `None` while it lives. An id forgotten by
    /// `:reset` counts as ended with nil.
    pub(super) fn outcome(&self, id: u32) -> Option<Outcome> {
        if id == 0 {
            return None;
        }
        match id.checked_sub(self.base) {
            None => Some(Outcome::Done(Value::Nil)),
            Some(i) => match self.slots.get(i as usize) {
                Some(Slot::Live(_)) => None,
                Some(Slot::Ended(o)) => Some(o.clone()),
                None => Some(Outcome::Done(Value::Nil)),
            },
        }
    }

    /// Adds a new actor (not yet queued); returns its id.
    pub(super) fn add(&mut self, a: Actor) -> u32 {
        let id = self.next_id();
        self.slots.push(Slot::Live(Box::new(a)));
        self.live += 1;
        id
    }

    /// Starts a timed wait's timer.
    pub(super) fn add_timer(&mut self, when: Instant, id: u32, generation: u32) {
        self.timer_seq += 1;
        self.timers
            .push(Reverse((when, self.timer_seq, id, generation)));
    }

    /// Makes a waiting actor runnable (to the back of the queue) with `v` to deliver.
    pub(super) fn wake(&mut self, id: u32, v: Value, fault: Option<Box<Fault>>) {
        if let Some(a) = self.get_mut(id) {
            a.wait = Wait::None;
            a.generation = a.generation.wrapping_add(1);
            a.resume_val = v;
            a.resume_fault = fault;
            self.run.push_back(id);
        }
    }

    /// Wakes the actors whose timers are due.
    pub(super) fn fire_timers(&mut self, now: Instant) {
        while let Some(Reverse((when, _, id, generation))) = self.timers.peek().copied() {
            if when > now {
                break;
            }
            self.timers.pop();
            let Some(a) = self.get_mut(id) else { continue };
            if a.generation != generation || a.wait == Wait::None {
                continue;
            }
            let v = match a.wait {
                Wait::Sleep => Value::Nil,
                Wait::Host => continue,
                _ => a.default,
            };
            self.wake(id, v, None);
        }
    }

    /// The earliest timer still meaningful, dropping stale ones.
    pub(super) fn next_timer(&mut self) -> Option<Instant> {
        while let Some(Reverse((when, _, id, generation))) = self.timers.peek().copied() {
            match self.get(id) {
                Some(a) if a.generation == generation && a.wait != Wait::None => {
                    return Some(when);
                }
                _ => {
                    self.timers.pop();
                }
            }
        }
        None
    }

    /// Ends a live actor other than 0 with `outcome`: its record goes, awaiters
    /// wake, a failure is kept for W0401 when `report` (the function's printed
    /// form); the heap bytes it accounted for are given back.
    pub(super) fn end(
        &mut self,
        id: u32,
        outcome: Outcome,
        report: Option<String>,
        heap: &mut Heap,
    ) {
        let Some(i) = id.checked_sub(self.base) else {
            return;
        };
        let Some(slot) = self.slots.get_mut(i as usize) else {
            return;
        };
        if !matches!(slot, Slot::Live(_)) {
            return;
        }
        let Slot::Live(a) = std::mem::replace(slot, Slot::Ended(outcome.clone())) else {
            return;
        };
        self.live -= 1;
        heap.sub_external(
            a.parked_bytes + a.mailbox.len() * MESSAGE_BYTES + std::mem::size_of::<Actor>(),
        );
        let failed = matches!(outcome, Outcome::Failed(..));
        if let (Outcome::Failed(kind, message), Some(function)) = (&outcome, report) {
            self.unreported.push(ActorFailure {
                id,
                function,
                kind: *kind,
                message: message.to_string(),
                site: a.site,
            });
        }
        self.recent.push_back((id, failed, a.func));
        if self.recent.len() > RECENT {
            self.recent.pop_front();
        }
        for (w, generation) in a.awaiters {
            let ok = self
                .get(w)
                .is_some_and(|x| x.generation == generation && x.wait == Wait::Await(id));
            if ok {
                let (v, f) = deliver(id, &outcome);
                if f.is_some() {
                    self.unreported.retain(|u| u.id != id);
                }
                self.wake(w, v, f);
            }
        }
    }

    /// Every value the actors hold: parked registers, mailboxes, functions,
    /// pending deliveries, results of ended actors.
    pub(super) fn roots(&self) -> impl Iterator<Item = Value> + '_ {
        let live = std::iter::once(&*self.main)
            .chain(self.slots.iter().filter_map(|s| match s {
                Slot::Live(a) => Some(&**a),
                Slot::Ended(_) => None,
            }))
            .flat_map(|a| {
                a.stack[..a.top.min(a.stack.len())]
                    .iter()
                    .chain(a.mailbox.iter())
                    .copied()
                    .chain([a.func, a.resume_val, a.default])
            });
        let ended = self.slots.iter().filter_map(|s| match s {
            Slot::Ended(Outcome::Done(v)) => Some(*v),
            _ => None,
        });
        live.chain(ended).chain(self.recent.iter().map(|r| r.2))
    }

    /// The prototypes parked actors' frames run (the code collector keeps them).
    pub(super) fn protos(&self) -> Vec<u32> {
        std::iter::once(&*self.main)
            .chain(self.slots.iter().filter_map(|s| match s {
                Slot::Live(a) => Some(&**a),
                Slot::Ended(_) => None,
            }))
            .flat_map(|a| a.frames.iter().map(|f| f.proto))
            .collect()
    }

    /// Counts a message into a mailbox.
    pub(super) fn message_bytes() -> usize {
        MESSAGE_BYTES
    }
}

/// What an `await` of an ended actor gives: its result, or its failure as kind
/// `actor-failed`.
pub(super) fn deliver(id: u32, outcome: &Outcome) -> (Value, Option<Box<Fault>>) {
    match outcome {
        Outcome::Done(v) => (*v, None),
        Outcome::Failed(kind, message) => (
            Value::Nil,
            Some(Fault::new(
                ErrorKind::ActorFailed,
                format!("actor {id} failed: {kind}: {message}"),
            )),
        ),
    }
}

/// The state and mailbox of every actor for `:actors`: live ones in id order,
/// then the ended ones kept.
pub(super) fn infos(a: &Actors, show: &dyn Fn(Value) -> String) -> Vec<ActorInfo> {
    let mut out = Vec::new();
    for (i, s) in a.slots.iter().enumerate() {
        if let Slot::Live(x) = s {
            out.push(ActorInfo {
                id: a.base + i as u32,
                state: x.state(),
                mailbox: x.mailbox.len(),
                function: show(x.func),
            });
        }
    }
    for &(id, failed, f) in &a.recent {
        out.push(ActorInfo {
            id,
            state: if failed {
                ActorState::Failed
            } else {
                ActorState::Done
            },
            mailbox: 0,
            function: show(f),
        });
    }
    out
}

/// A fault that only carries a switch request to `drive`.
#[cold]
pub(super) fn switch_signal() -> Box<Fault> {
    Fault::new(ErrorKind::Host, String::new())
}

/// Checks an optional `ms` argument: an Int ≥ 0.
pub(super) fn millis(who: &str, v: Option<Value>) -> FaultResult<Option<u64>> {
    match v {
        None => Ok(None),
        Some(Value::Int(n)) if n < 0 => Err(Fault::new(
            ErrorKind::Range,
            format!("`{who}`: a negative time of {n} ms"),
        )),
        Some(Value::Int(n)) => Ok(Some(n as u64)),
        Some(other) => Err(super::natives::type_err(
            who,
            "an Int of milliseconds",
            other,
        )),
    }
}

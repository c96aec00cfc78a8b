//! The run-time half of the tier rule for `set!` of a global (language §7): a
//! procedure whose tier a caller of the global may not call is refused with kind
//! `tier`, and the old value stays. The compile-time half (E0201) sees only
//! lambdas and known functions; this sees every value computed at run time.

use super::Vm;
use super::error::{ErrorKind, Fault};
use super::limits::Limits;
use super::value::Value;
use crate::ground::bytecode::Instr;
use crate::ground::tier::TrustTier;
use std::time::{Duration, Instant};

/// The most trusted caller of a guarded global: what a new value must satisfy.
#[derive(Clone, Debug)]
pub struct SetGuard {
    /// The caller's name.
    pub caller: Box<str>,
    /// Its tier.
    pub tier: TrustTier,
}

impl Vm {
    /// Guards global `name`: a procedure `caller` (of `tier`) may not call is
    /// refused by `set!` from now on. `None` lifts the guard.
    pub fn guard_global(&mut self, name: &str, guard: Option<SetGuard>) {
        let Some(&g) = self.global_index.get(name) else {
            return;
        };
        match guard {
            Some(s) => {
                self.set_guards.insert(g, s);
            }
            None => {
                self.set_guards.remove(&g);
            }
        }
    }

    /// Lifts every guard (the session forgot its definitions).
    pub fn clear_global_guards(&mut self) {
        self.set_guards.clear();
    }

    /// Records the tier of host function `index` (for the check below).
    pub fn set_host_tier(&mut self, index: u32, tier: TrustTier) {
        let i = index as usize;
        if self.host_tiers.len() <= i {
            self.host_tiers.resize(i + 1, TrustTier::Empirical);
        }
        self.host_tiers[i] = tier;
    }

    /// The tier of a procedure value (`None` for data, which has none).
    fn tier_of(&self, v: Value) -> Option<TrustTier> {
        match v {
            Value::Closure(_, proto) => self.protos.get(proto as usize).map(|p| p.tier),
            Value::Builtin(id) => Some(crate::ground::builtins::get(id).tier),
            Value::Ffi(i) => self.host_tiers.get(i as usize).copied(),
            _ => None,
        }
    }

    /// The check of `(set! g v)` for a guarded global.
    #[cold]
    #[inline(never)]
    pub(super) fn check_set_tier(&self, g: u32, v: Value) -> Result<(), Box<Fault>> {
        let (Some(guard), Some(tier)) = (self.set_guards.get(&g), self.tier_of(v)) else {
            return Ok(());
        };
        if guard.tier.may_call(tier) {
            return Ok(());
        }
        let name = self
            .global_names
            .get(g as usize)
            .map(|n| n.to_string())
            .unwrap_or_default();
        Err(Fault::new(
            ErrorKind::Tier,
            format!(
                "assigning a procedure of tier {tier} to `{name}` would break `{}`, which is {} and calls it; `{name}` keeps its value",
                guard.caller, guard.tier
            ),
        ))
    }
}

/// The experimental caps in force for part of an evaluation (language §7: the
/// limits belong to the code), and what they replaced.
#[derive(Clone, Copy, Debug)]
pub struct Cap {
    saved: Limits,
    saved_deadline: Option<Instant>,
    /// The caller of the frame that put the caps on: its index, code and pc.
    /// Its code is replaced by [`LEAVE`] until that frame returns. `None` when
    /// the caps cover the whole evaluation.
    resume: Option<(usize, &'static [Instr], u32)>,
}

impl Cap {
    /// Caps for a whole evaluation (its entry code is experimental).
    pub fn whole(limits: Limits, deadline: Option<Instant>) -> Cap {
        Cap {
            saved: limits,
            saved_deadline: deadline,
            resume: None,
        }
    }
}

/// A parked actor's experimental caps (language §9: an actor runs under them
/// counted from its own start): what is left of them, for its next turn. Caps
/// belong to the actor that put them on, never to the actors that run between
/// its turns.
#[derive(Clone, Copy, Debug)]
pub(super) struct ParkedCap {
    /// Steps it may still run under the caps (its own steps only).
    steps_left: u64,
    /// The live-heap ceiling.
    memory: u64,
    /// Its own frames, at most.
    depth: u64,
    deadline: Option<Instant>,
    timeout_ms: Option<u64>,
    /// As [`Cap::resume`], in the actor's own frames.
    resume: Option<(usize, &'static [Instr], u32)>,
}

/// Where the caller of a capped frame resumes: the caps come off, then the
/// caller's own code goes on.
static LEAVE: [Instr; 1] = [Instr::LeaveExperimental];

impl Vm {
    /// Sets the caps experimental code runs under (the session's: §10's
    /// experimental column plus the ResourceExtra* grants).
    pub fn set_experimental_caps(&mut self, caps: Limits) {
        self.experimental_caps = caps;
    }

    /// Experimental code starts running inside an evaluation that is not capped
    /// (a closure it returned, called later): the caps apply from here, counted
    /// from now, until the frame that entered it returns (with its tail calls).
    #[cold]
    #[inline(never)]
    pub(super) fn cap_experimental(&mut self) {
        let caps = self.experimental_caps;
        let saved = self.limits;
        let saved_deadline = self.deadline;
        // Steps used so far, at most one fuel chunk over (what is left of the
        // running chunk is not known here): the cap errs on the strict side.
        let used = self.steps_used.saturating_add(self.chunk.max(0) as u64);
        let mut l = saved;
        l.steps = l.steps.min(used.saturating_add(caps.steps));
        l.memory = l
            .memory
            .min((self.heap.live_bytes() as u64).saturating_add(caps.memory));
        l.depth = l
            .depth
            .min((self.frames.len() as u64).saturating_add(caps.depth));
        if let Some(ms) = caps.timeout_ms {
            let until = Instant::now() + Duration::from_millis(ms);
            if self.deadline.is_none_or(|d| until < d) {
                self.deadline = Some(until);
                l.timeout_ms = Some(ms);
            }
        }
        self.limits = l;
        self.heap
            .set_limit(usize::try_from(l.memory).unwrap_or(usize::MAX));
        // The caller resumes at LEAVE; a frame with no caller ends the
        // evaluation when it returns.
        let resume = match self.frames.len().checked_sub(2) {
            Some(i) => {
                let f = &mut self.frames[i];
                let r = (i, f.code, f.pc);
                f.code = &LEAVE;
                f.pc = 0;
                Some(r)
            }
            None => None,
        };
        self.cap = Some(Cap {
            saved,
            saved_deadline,
            resume,
        });
    }

    /// The running actor is switched out: its caps come off the machine (the
    /// limits as they were before them) and are kept for its next turn.
    pub(super) fn park_cap(&mut self) -> Option<Box<ParkedCap>> {
        let c = self.cap.take()?;
        let used = self.steps_now();
        let l = self.limits;
        let parked = ParkedCap {
            steps_left: l.steps.saturating_sub(used),
            memory: l.memory,
            depth: l.depth,
            deadline: self.deadline,
            timeout_ms: l.timeout_ms,
            resume: c.resume,
        };
        self.limits = c.saved;
        self.deadline = c.saved_deadline;
        self.heap
            .set_limit(usize::try_from(c.saved.memory).unwrap_or(usize::MAX));
        Some(Box::new(parked))
    }

    /// A capped actor is switched in (its fuel reset): its caps go back on over
    /// the running evaluation's limits, its steps counted on from where it left.
    pub(super) fn resume_cap(&mut self, p: ParkedCap) {
        let saved = self.limits;
        let saved_deadline = self.deadline;
        let used = self.steps_now();
        let mut l = saved;
        l.steps = l.steps.min(used.saturating_add(p.steps_left));
        l.memory = l.memory.min(p.memory);
        l.depth = l.depth.min(p.depth);
        if let Some(d) = p.deadline
            && saved_deadline.is_none_or(|s| d < s)
        {
            self.deadline = Some(d);
            l.timeout_ms = p.timeout_ms;
        }
        self.limits = l;
        self.heap
            .set_limit(usize::try_from(l.memory).unwrap_or(usize::MAX));
        self.cap = Some(Cap {
            saved,
            saved_deadline,
            resume: p.resume,
        });
    }

    /// The caps of an actor that capped code spawns: the experimental caps,
    /// counted from its start, for its whole life.
    pub(super) fn spawn_cap(&self) -> Option<Box<ParkedCap>> {
        self.cap?;
        let caps = self.experimental_caps;
        Some(Box::new(ParkedCap {
            steps_left: caps.steps,
            memory: (self.heap.live_bytes() as u64).saturating_add(caps.memory),
            // Its first frame is the trampoline that calls its function.
            depth: caps.depth.saturating_add(1),
            deadline: caps
                .timeout_ms
                .map(|ms| Instant::now() + Duration::from_millis(ms)),
            timeout_ms: caps.timeout_ms,
            resume: None,
        }))
    }

    /// The capped frame returned to its caller (at LEAVE): the caller's code
    /// back, the caps off.
    pub(super) fn leave_experimental(&mut self) {
        if let Some(Some((i, code, pc))) = self.cap.map(|c| c.resume)
            && let Some(f) = self.frames.get_mut(i)
        {
            f.code = code;
            f.pc = pc;
        }
        self.uncap_limits();
    }

    /// A fault unwound to a handler whose frame is the `frames`-th: if the capped
    /// frame is gone, the caps come off (and its caller gets its code back).
    pub(super) fn unwound_to(&mut self, frames: usize) {
        if let Some(Some((i, _, _))) = self.cap.map(|c| c.resume)
            && i + 1 >= frames
        {
            self.leave_experimental();
        }
    }

    /// Takes the caps off (limits, deadline, heap limit as they were).
    pub(super) fn uncap_limits(&mut self) {
        if let Some(c) = self.cap.take() {
            self.limits = c.saved;
            self.deadline = c.saved_deadline;
            self.heap
                .set_limit(usize::try_from(c.saved.memory).unwrap_or(usize::MAX));
        }
    }
}

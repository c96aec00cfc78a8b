//! Blocking host calls off the VM thread (language §6, §9): a call of a
//! function marked blocking, made while other actors live, runs on a worker
//! thread; the calling actor waits in it (`in host call`) while the others run.
//! At most 64 run at once; later ones wait their turn in order.
//!
//! What crosses to the worker is owned: the arguments as owned values, and
//! whatever the function needs of the host's state cloned by the code that
//! prepares the call on the VM thread ([`BlockingNative`]). The result comes
//! back over a channel and becomes a VM value on the VM thread.

use super::error::{ErrorKind, Fault, FaultResult};
use super::limits::Interrupt;
use super::natives::Ctx;
use super::value::Value;
use crate::ground::capability::Capability;
use crate::ground::ffi::context::{HostContext, HostCx, HostData, SharedData};
use crate::ground::ffi::function::HostClosure;
use crate::ground::ffi::{Function, HostError, Value as HostValue};
use std::any::Any;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Instant;

/// Blocking calls running at once, at most.
pub const MAX_RUNNING: usize = 64;

/// What a blocking call's work sees on its thread.
pub struct JobCx {
    /// The evaluation's deadline: the work gives up by then.
    pub deadline: Option<Instant>,
    /// The flag that says stop, for work that can look at it: on the VM thread
    /// the evaluation's interrupt (Ctrl-C); on a worker, the flag the VM raises
    /// when it stops the actors of the evaluation that made the call (Ctrl-C,
    /// a limit, `:reset`), which stays raised for that call.
    pub interrupt: Interrupt,
}

/// The work of a blocking call, owned and sendable.
pub type Job = Box<dyn FnOnce(&JobCx) -> Result<HostValue, HostError> + Send>;

/// A standard host function that may block (files, HTTP): run on the VM
/// thread, it checks its arguments and scopes and returns the work to do, which
/// runs on a worker thread when other actors live and on the VM thread when not.
pub type BlockingNative = fn(&mut Ctx<'_>, &[Value]) -> FaultResult<Job>;

/// A finished call: actor, its wait's generation, the host function's index, the result.
pub(super) type Done = (u32, u32, usize, Result<HostValue, HostError>);

/// The worker pool's bookkeeping.
pub(super) struct Pool {
    tx: Sender<Done>,
    rx: Receiver<Done>,
    /// Calls running on workers now.
    pub(super) running: usize,
    /// Calls waiting for a free worker, in order.
    queued: VecDeque<Queued>,
    /// The stop flag of the calls of this evaluation (see [`JobCx::interrupt`]).
    pub(super) cancel: Interrupt,
}

/// A call waiting for a worker: actor, generation, function index, work, deadline, interrupt.
type Queued = (u32, u32, usize, Job, Option<Instant>, Interrupt);

impl Pool {
    pub(super) fn new() -> Pool {
        let (tx, rx) = channel();
        Pool {
            tx,
            rx,
            running: 0,
            queued: VecDeque::new(),
            cancel: Interrupt::default(),
        }
    }

    /// Calls running or waiting to run.
    pub(super) fn in_flight(&self) -> usize {
        self.running + self.queued.len()
    }

    /// Starts (or queues) a call for actor `id`, whose wait has `generation`.
    pub(super) fn submit(
        &mut self,
        id: u32,
        generation: u32,
        idx: usize,
        job: Job,
        deadline: Option<Instant>,
        interrupt: Interrupt,
    ) {
        if self.running >= MAX_RUNNING {
            self.queued
                .push_back((id, generation, idx, job, deadline, interrupt));
        } else {
            self.start((id, generation, idx, job, deadline, interrupt));
        }
    }

    fn start(&mut self, q: Queued) {
        let (id, generation, idx, job, deadline, interrupt) = q;
        let tx = self.tx.clone();
        let cx = JobCx {
            deadline,
            interrupt,
        };
        let spawned = std::thread::Builder::new()
            .name("jue-host-call".into())
            .spawn(move || {
                // A panic in host code is the call's error, never the VM's.
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&cx)))
                    .unwrap_or_else(|_| Err(HostError::host("the host function panicked")));
                let _ = tx.send((id, generation, idx, r));
            });
        match spawned {
            Ok(_) => self.running += 1,
            Err(e) => {
                let _ = self.tx.send((
                    id,
                    generation,
                    idx,
                    Err(HostError::host(format!(
                        "no thread for a blocking call: {e}"
                    ))),
                ));
                self.running += 1;
            }
        }
    }

    /// A finished call, waiting at most until `until` (`None`: do not wait).
    pub(super) fn finished(&mut self, until: Option<Instant>) -> Option<Done> {
        let got = match until {
            None => self.rx.try_recv().ok(),
            Some(t) => self
                .rx
                .recv_timeout(t.saturating_duration_since(Instant::now()))
                .ok(),
        };
        if got.is_some() {
            self.running = self.running.saturating_sub(1);
            if let Some(q) = self.queued.pop_front() {
                self.start(q);
            }
        }
        got
    }

    /// Drops the calls not started yet (their actors stopped).
    pub(super) fn drop_queued(&mut self) {
        self.queued.clear();
    }

    /// The actors in calls stopped (`why`): the running calls are asked to stop
    /// (a query stops, an embedder's function sees `interrupted`), and later
    /// calls get a fresh flag.
    pub(super) fn cancel(&mut self, why: super::limits::Stop) {
        self.queued.clear();
        if self.running > 0 {
            self.cancel.raise_for(why);
            self.cancel = Interrupt::default();
        }
    }
}

/// What an off-thread closure gets of the VM's host state (`Vm::host_data`):
/// given that state and the function's capability, an owned copy of what the
/// capability opens (the host floor provides it; the VM never looks inside).
pub type Snapshot = fn(&(dyn Any + Send), Option<Capability>) -> Box<dyn Any + Send>;

/// The snapshot of a VM without a host floor: nothing.
pub fn no_snapshot(_: &(dyn Any + Send), _: Option<Capability>) -> Box<dyn Any + Send> {
    Box::new(())
}

/// The message of a callback refused off the VM thread.
pub const NO_CALLBACK_OFF_THREAD: &str = "a blocking host function running beside other actors cannot call Jue procedures back (the VM thread is running the other actors); register it without `blocking` to call back";

/// The context of an embedder's blocking closure on a worker thread: its
/// name, capability and the scope that capability opens (a copy taken at call
/// time), the deadline, the interrupt and the session's shared data. No
/// callbacks into Jue (the VM is running other actors) and no per-session
/// `host_data` (it stays on the VM thread, unsynchronised).
struct WorkerCx {
    name: Arc<str>,
    capability: Option<Capability>,
    deadline: Option<Instant>,
    interrupt: Interrupt,
    data: HostData,
    state: Box<dyn Any + Send>,
    shared: Arc<SharedData>,
}

impl HostContext for WorkerCx {
    fn function_name(&self) -> &str {
        &self.name
    }
    fn capability(&self) -> Option<Capability> {
        self.capability
    }
    fn deadline(&self) -> Option<Instant> {
        self.deadline
    }
    fn interrupted(&self) -> bool {
        self.interrupt.get() != super::limits::Stop::None
    }
    fn host_state(&mut self) -> &mut dyn Any {
        &mut *self.state
    }
    fn host_data(&mut self) -> &mut HostData {
        &mut self.data
    }
    fn call(&mut self, _: &Function, _: &[HostValue]) -> Result<HostValue, HostError> {
        Err(HostError::host(NO_CALLBACK_OFF_THREAD))
    }
    fn shared_data(&self) -> Option<&SharedData> {
        Some(&self.shared)
    }
    fn off_thread(&self) -> bool {
        true
    }
    fn call_by_name(&mut self, _: &str, _: &[HostValue]) -> Result<HostValue, HostError> {
        Err(HostError::host(
            "a blocking host function running beside other actors cannot call back into Jue",
        ))
    }
}

/// What an embedder's closure sees off the VM thread, taken at call time.
pub(super) struct Given {
    pub(super) name: Arc<str>,
    pub(super) capability: Option<Capability>,
    pub(super) state: Box<dyn Any + Send>,
    pub(super) shared: Arc<SharedData>,
}

/// The work of an embedder's closure registered as blocking.
pub(super) fn closure_job(f: Arc<HostClosure>, given: Given, args: Vec<HostValue>) -> Job {
    Box::new(move |jcx: &JobCx| {
        let mut w = WorkerCx {
            name: given.name,
            capability: given.capability,
            deadline: jcx.deadline,
            interrupt: jcx.interrupt.clone(),
            data: HostData::default(),
            state: given.state,
            shared: given.shared,
        };
        let mut cx = HostCx::new(&mut w);
        f(&mut cx, &args)
    })
}

/// The fault a finished call's error becomes in the actor.
pub(super) fn fault_of(e: HostError) -> Box<Fault> {
    Fault::from_host(e)
}

/// A conversion of the result that failed.
pub(super) fn bad_result(name: &str, m: String) -> Box<Fault> {
    Fault::new(
        ErrorKind::Host,
        format!("`{name}` returned a value that cannot cross: {m}"),
    )
}

//! Handles the host keeps to values that live in a session's heap: [`Rooted`] for
//! any value and [`Function`] for a Jue procedure. A handle holds a slot in its
//! session's root table, so the value survives collections; dropping the last
//! clone gives the slot back at the session's next safe point (from any thread).
//! Each handle names its session: using it with another session is an error,
//! never another session's object.

use std::fmt;
use std::sync::{Arc, Mutex};

/// A slot in a session's root table; given back on drop.
pub struct HandleCore {
    pub(crate) session: u64,
    pub(crate) slot: u32,
    pub(crate) release: Arc<Mutex<Vec<u32>>>,
}

impl HandleCore {
    /// The id of the session the handle belongs to.
    pub fn session_id(&self) -> u64 {
        self.session
    }
}

impl Drop for HandleCore {
    fn drop(&mut self) {
        // A poisoned queue only means another thread panicked while pushing: the
        // vector itself is intact, so keep using it.
        let mut q = match self.release.lock() {
            Ok(q) => q,
            Err(p) => p.into_inner(),
        };
        q.push(self.slot);
    }
}

impl fmt::Debug for HandleCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "session {} slot {}", self.session, self.slot)
    }
}

/// A value kept alive in a session's heap for the host: valid across collections
/// until dropped. Read it with `Session::value_of`. Clones share the slot.
#[derive(Clone)]
pub struct Rooted {
    pub(crate) core: Arc<HandleCore>,
}

impl Rooted {
    /// The handle's slot (for hosts that keep handles in their own tables).
    pub fn core(&self) -> &HandleCore {
        &self.core
    }
}

impl fmt::Debug for Rooted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rooted({:?})", self.core)
    }
}

impl PartialEq for Rooted {
    fn eq(&self, other: &Rooted) -> bool {
        same(&self.core, &other.core)
    }
}

/// A Jue procedure (closure, built-in or host function) held by the host: call it
/// with `Session::call_function` or pass it back into Jue as an argument. Valid
/// across collections until the last clone is dropped.
#[derive(Clone)]
pub struct Function {
    pub(crate) core: Arc<HandleCore>,
    pub(crate) printed: Arc<str>,
}

impl Function {
    /// Its printed form (`#<fn f/1>`).
    pub fn printed(&self) -> &str {
        &self.printed
    }

    /// The handle's slot.
    pub fn core(&self) -> &HandleCore {
        &self.core
    }
}

impl fmt::Debug for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Function({}, {:?})", self.printed, self.core)
    }
}

impl PartialEq for Function {
    /// The same handle (one slot of one session): two handles to one procedure
    /// taken at different times are different handles.
    fn eq(&self, other: &Function) -> bool {
        same(&self.core, &other.core)
    }
}

fn same(a: &HandleCore, b: &HandleCore) -> bool {
    a.session == b.session && a.slot == b.slot
}

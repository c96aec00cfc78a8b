//! The root table: values the host holds through handles ([`Rooted`],
//! [`Function`]). Each slot is a root of every collection until its handle is
//! dropped; dropped handles queue their slot, and the table takes the queue at
//! the next collection or rooting (any time is safe: nobody reads a dropped
//! handle's slot again).
//!
//! [`Rooted`]: crate::ground::ffi::Rooted
//! [`Function`]: crate::ground::ffi::Function

use super::value::Value;
use crate::ground::ffi::handle::HandleCore;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Session ids: a handle from one session is refused by every other one.
static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

/// A session's rooted values.
pub struct RootTable {
    session: u64,
    slots: RefCell<Vec<Value>>,
    free: RefCell<Vec<u32>>,
    released: Arc<Mutex<Vec<u32>>>,
}

impl Default for RootTable {
    fn default() -> Self {
        RootTable::new()
    }
}

impl RootTable {
    /// An empty table with a fresh session id.
    pub fn new() -> RootTable {
        RootTable {
            session: NEXT_SESSION.fetch_add(1, Ordering::Relaxed),
            slots: RefCell::new(Vec::new()),
            free: RefCell::new(Vec::new()),
            released: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// The session id handles carry.
    pub fn session(&self) -> u64 {
        self.session
    }

    /// Roots a value; the handle keeps it until dropped.
    pub fn root(&self, v: Value) -> Arc<HandleCore> {
        self.take_released();
        let mut slots = self.slots.borrow_mut();
        let slot = match self.free.borrow_mut().pop() {
            Some(i) => {
                slots[i as usize] = v;
                i
            }
            None => {
                slots.push(v);
                (slots.len() - 1) as u32
            }
        };
        Arc::new(HandleCore {
            session: self.session,
            slot,
            release: Arc::clone(&self.released),
        })
    }

    /// The value behind a handle of this session.
    pub fn get(&self, h: &HandleCore) -> Result<Value, String> {
        if h.session != self.session {
            return Err(format!(
                "a handle of session {} was used with session {}",
                h.session, self.session
            ));
        }
        self.slots
            .borrow()
            .get(h.slot as usize)
            .copied()
            .ok_or_else(|| "a handle to a slot this session never gave".to_string())
    }

    /// Frees the slots of dropped handles.
    pub fn take_released(&self) {
        let released: Vec<u32> = {
            let mut q = match self.released.lock() {
                Ok(q) => q,
                Err(p) => p.into_inner(),
            };
            std::mem::take(&mut *q)
        };
        if released.is_empty() {
            return;
        }
        let mut slots = self.slots.borrow_mut();
        let mut free = self.free.borrow_mut();
        for i in released {
            if let Some(s) = slots.get_mut(i as usize) {
                *s = Value::Nil;
                free.push(i);
            }
        }
    }

    /// The rooted values (after freeing dropped handles' slots), for a collection.
    pub fn values(&self) -> Vec<Value> {
        self.take_released();
        self.slots.borrow().clone()
    }

    /// Slots in use.
    pub fn len(&self) -> usize {
        self.take_released();
        self.slots.borrow().len() - self.free.borrow().len()
    }

    /// Whether no handle is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

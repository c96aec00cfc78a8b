//! The run-time half of the tier rule for `set!` of a global (language §7): a
//! procedure whose tier a caller of the global may not call is refused with kind
//! `tier`, and the old value stays. The compile-time half (E0201) sees only
//! lambdas and known functions; this sees every value computed at run time.

use super::Vm;
use super::error::{ErrorKind, Fault};
use super::heap::Obj;
use super::value::Value;
use crate::ground::tier::TrustTier;

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
            Value::Closure(r) => match self.heap.get(r) {
                Obj::Closure(c) => self.protos.get(c.proto as usize).map(|p| p.tier),
                _ => None,
            },
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

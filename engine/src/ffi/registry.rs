//! The FFI registry: host functions by name, with signatures, capabilities, tiers,
//! documentation and implementations. Names resolve to indices at compile time.

use super::capability::Capability;
use super::tier::TrustTier;
use super::types::Signature;
use std::collections::HashMap;

/// A host function's entry. Standard functions are filled in by the host library.
#[derive(Clone, Debug)]
pub struct FfiEntry {
    /// Name, possibly namespaced (`io:sensor:read`).
    pub name: String,
    /// Parsed signature.
    pub sig: Signature,
    /// Capability it requires, if any.
    pub capability: Option<Capability>,
    /// Its tier.
    pub tier: TrustTier,
    /// One-line documentation.
    pub doc: String,
}

/// The registry.
#[derive(Clone, Debug, Default)]
pub struct FfiRegistry {
    entries: Vec<FfiEntry>,
    by_name: HashMap<String, u32>,
}

impl FfiRegistry {
    /// An empty registry.
    pub fn new() -> FfiRegistry {
        FfiRegistry::default()
    }
    /// Adds or replaces (same index) an entry; returns its index.
    pub fn insert(&mut self, e: FfiEntry) -> u32 {
        if let Some(&i) = self.by_name.get(&e.name) {
            self.entries[i as usize] = e;
            return i;
        }
        let i = self.entries.len() as u32;
        self.by_name.insert(e.name.clone(), i);
        self.entries.push(e);
        i
    }
    /// The index of an exact name.
    pub fn index_of(&self, name: &str) -> Option<u32> {
        self.by_name.get(name).copied()
    }
    /// The entry at an index.
    pub fn entry(&self, i: u32) -> &FfiEntry {
        &self.entries[i as usize]
    }
    /// All entries in index order.
    pub fn entries(&self) -> &[FfiEntry] {
        &self.entries
    }
}

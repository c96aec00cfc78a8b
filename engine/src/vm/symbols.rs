//! The symbol interner: names to small ids and back.

use super::value::SymId;
use std::collections::HashMap;

/// Interns symbol names for one session.
#[derive(Default, Debug, Clone)]
pub struct Symbols {
    names: Vec<Box<str>>,
    ids: HashMap<Box<str>, SymId>,
}

impl Symbols {
    /// The id of `name`, interning it if new.
    pub fn intern(&mut self, name: &str) -> SymId {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = SymId(self.names.len() as u32);
        self.names.push(name.into());
        self.ids.insert(name.into(), id);
        id
    }
    /// The id of `name` if already interned.
    pub fn get(&self, name: &str) -> Option<SymId> {
        self.ids.get(name).copied()
    }
    /// The name of an id.
    pub fn name(&self, id: SymId) -> &str {
        &self.names[id.0 as usize]
    }
}

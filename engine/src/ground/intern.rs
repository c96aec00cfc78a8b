//! Names as small numbers and back: the one interner behind the VM's symbols and
//! the analysis's global names.

use std::collections::HashMap;

/// Interns names; numbers are dense from 0 and stable for the interner's life.
#[derive(Clone, Debug, Default)]
pub struct Interner {
    ids: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl Interner {
    /// The number of a name, new if unseen.
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.into());
        self.ids.insert(name.into(), id);
        id
    }
    /// The number of a name, if seen.
    pub fn get(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }
    /// The name of a number.
    pub fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }
    /// How many names there are.
    pub fn len(&self) -> usize {
        self.names.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

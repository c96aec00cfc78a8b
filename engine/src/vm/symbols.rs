//! The symbol interner: names to small ids and back.

use super::value::SymId;
use crate::ground::intern::Interner;

/// Interns symbol names for one session.
#[derive(Default, Debug, Clone)]
pub struct Symbols(Interner);

impl Symbols {
    /// The id of `name`, interning it if new.
    pub fn intern(&mut self, name: &str) -> SymId {
        SymId(self.0.intern(name))
    }
    /// The id of `name` if already interned.
    pub fn get(&self, name: &str) -> Option<SymId> {
        self.0.get(name).map(SymId)
    }
    /// The name of an id.
    pub fn name(&self, id: SymId) -> &str {
        self.0.name(id.0)
    }
}

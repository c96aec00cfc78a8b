//! The names of a session the line editor completes, hints and highlights.

use jue_engine::{Session, builtins, docs};
use std::collections::BTreeMap;

/// What the helper knows of the session, refreshed after each input.
#[derive(Default)]
pub struct Names {
    /// FFI function name → `NAME SIGNATURE`.
    pub ffi: BTreeMap<String, String>,
    /// User definition name → `(name params...)`.
    pub user: BTreeMap<String, String>,
}

impl Names {
    /// Reads the registry and the user's globals.
    pub fn from_session(s: &Session) -> Names {
        let reg = s.registry();
        let ffi = (0..reg.len() as u32)
            .map(|i| {
                let f = reg.function(i);
                (f.name.clone(), format!("{} {}", f.name, reg.signature(i)))
            })
            .collect();
        let user = s
            .globals()
            .iter()
            .filter(|(n, _)| !n.starts_with(jue_engine::analysis::PRELUDE_PREFIX))
            .map(|(n, g)| {
                let sig = docs::user_definition(n, g, docs::GrantView::Unknown);
                (n.clone(), sig.lines().next().unwrap_or(n).to_string())
            })
            // Imported names, `A/` ones included (language §13).
            .chain(s.imported().map(|(n, g)| {
                let sig = docs::user_definition(n, g, docs::GrantView::Unknown);
                (n.to_string(), sig.lines().next().unwrap_or(n).to_string())
            }))
            .collect();
        Names { ffi, user }
    }

    /// The one-line signature of a callable name, if known.
    pub fn signature(&self, name: &str) -> Option<String> {
        if let Some(s) = self.user.get(name) {
            return Some(s.clone());
        }
        if let Some(s) = self.ffi.get(name) {
            return Some(s.clone());
        }
        if let Some(id) = builtins::find(name, false) {
            let b = builtins::get(id);
            return Some(format!("{} {}", b.name, b.sig));
        }
        docs::special_form(name).and_then(|d| d.lines().next().map(str::to_string))
    }
}

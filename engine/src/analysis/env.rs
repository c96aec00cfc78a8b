//! What analysis knows of the world outside the text: the session's globals, the
//! registry, the mode and the default tier.

use crate::ground::ffi::registry::FfiRegistry;
use crate::ground::ffi::{CapSet, TrustTier};
use crate::ground::span::Span;
use std::collections::HashMap;

/// How many arguments a known function takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Arity {
    /// Required parameters.
    pub required: usize,
    /// Whether extra arguments are collected in a list.
    pub variadic: bool,
}

impl Arity {
    /// Whether `n` arguments are accepted.
    pub fn accepts(self, n: usize) -> bool {
        if self.variadic {
            n >= self.required
        } else {
            n == self.required
        }
    }
    /// "2 arguments", "at least 1 argument".
    pub fn text(self) -> String {
        let s = if self.required == 1 { "" } else { "s" };
        if self.variadic {
            format!("at least {} argument{s}", self.required)
        } else {
            format!("{} argument{s}", self.required)
        }
    }
}

/// What is known of a global defined earlier in the session (REPL) or in the text.
#[derive(Clone, Debug, PartialEq)]
pub struct GlobalInfo {
    /// Arity, when the global is a known function (bound to a lambda, never `set!`).
    pub arity: Option<Arity>,
    /// Parameter names of a known function, for hover and signature help.
    pub params: Vec<String>,
    /// The tier of the definition.
    pub tier: TrustTier,
    /// Capabilities it needs (inferred).
    pub needs: CapSet,
    /// Its doc comment.
    pub doc: Option<String>,
    /// Where its name is written, when in the text being analysed.
    pub span: Option<Span>,
}

/// Where the text comes from: decides W0304 versus E0101, and redefinition rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A file: names must be defined somewhere in it; one definition per name.
    File,
    /// A REPL input: later definitions replace earlier ones; bodies may name future globals.
    Repl,
    /// The prelude: may use internal helpers.
    Prelude,
}

/// The analysis environment.
pub struct Env<'a> {
    /// The FFI registry names resolve against.
    pub registry: &'a FfiRegistry,
    /// Globals defined earlier in the session.
    pub globals: &'a HashMap<String, GlobalInfo>,
    /// File, REPL or prelude.
    pub mode: Mode,
    /// Tier of code with no annotation.
    pub default_tier: TrustTier,
    /// Capabilities assumed granted, for W0301 only (run time stays deny-by-default).
    pub assumed: CapSet,
    /// The names the text's `import` forms bind (language §13); `None` when it
    /// imports nothing.
    pub module: Option<&'a ModuleScope>,
}

impl Env<'_> {
    /// What is known of a global by the name the IR gives it: a session global,
    /// or an imported file's (internal name).
    pub fn global(&self, name: &str) -> Option<&GlobalInfo> {
        self.globals
            .get(name)
            .or_else(|| self.module.and_then(|m| m.globals.get(name)))
    }
}

/// The names a file's imports bind: each is an imported file's own global, known
/// by its internal name (see [`crate::ground::builtins::MODULE_PREFIX`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModuleScope {
    /// A name as written (`f`, or `u/f` for `:as u`) → the internal global name.
    pub names: HashMap<Box<str>, Box<str>>,
    /// Internal global name → what is known of it (its span is `None`: it is in
    /// another file).
    pub globals: HashMap<Box<str>, GlobalInfo>,
    /// Internal global name → the file defining it, as diagnostics name it.
    pub files: HashMap<Box<str>, Box<str>>,
    /// Aliases of `(import "u.jue" :as u)`, for "did you mean" on `u/nope`.
    pub aliases: Vec<Box<str>>,
}

impl ModuleScope {
    /// Whether a name as written is bound by an import.
    pub fn resolve(&self, name: &str) -> Option<&str> {
        self.names.get(name).map(|n| &**n)
    }
}

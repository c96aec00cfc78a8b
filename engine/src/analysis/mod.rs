//! Analysis: from the syntax tree to the IR, with every diagnostic the checker
//! gives. The compiler, the REPL and the language server all read its result.

pub mod capabilities;
pub mod env;
pub mod ir;
mod lower;

pub use env::{Arity, Env, GlobalInfo, Mode};
pub use lower::{ACTOR_NAMES, PRELUDE_PREFIX, SPECIAL_FORMS};

use crate::diagnostic::Diagnostic;
use crate::ffi::{Capability, TrustTier};
use crate::syntax::parser::Parse;
use crate::syntax::span::Span;
use ir::{LocalId, LocalInfo, TopItem};

/// What a name refers to.
#[derive(Clone, Debug, PartialEq)]
pub enum RefTarget {
    /// A local variable.
    Local(LocalId),
    /// A user global.
    Global(Box<str>),
    /// A built-in.
    Builtin(u16),
    /// An FFI function.
    Ffi(u32),
    /// A capability name.
    Capability(Capability),
}

/// One occurrence of a name.
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    /// Where the name is written.
    pub span: Span,
    /// What it refers to.
    pub target: RefTarget,
    /// Whether this occurrence binds the name.
    pub definition: bool,
}

/// A top-level definition of the text.
#[derive(Clone, Debug, PartialEq)]
pub struct Definition {
    /// Its name.
    pub name: String,
    /// Where the name is written.
    pub name_span: Span,
    /// The whole defining form.
    pub span: Span,
    /// Arity if it is a known function.
    pub arity: Option<Arity>,
    /// Parameter names, for a function.
    pub params: Vec<String>,
    /// Its tier.
    pub tier: TrustTier,
    /// Its `;;` doc comment.
    pub doc: Option<String>,
    /// Capabilities it needs, transitively (inferred).
    pub needs: crate::ffi::CapSet,
}

/// The result of analysing one text.
#[derive(Clone, Debug, Default)]
pub struct Analysis {
    /// One item per top-level form without syntax errors, in order.
    pub items: Vec<TopItem>,
    /// Every local variable, indexed by `LocalId`.
    pub locals: Vec<LocalInfo>,
    /// All diagnostics, syntax included, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
    /// Top-level definitions.
    pub definitions: Vec<Definition>,
    /// Every resolved name occurrence.
    pub references: Vec<Reference>,
    /// What the top-level forms need to run (the REPL's pre-flight prompt).
    pub input_needs: crate::ffi::CapSet,
    /// Per top-level definition, the known globals its body uses (for the REPL's
    /// redefinition rule of §7).
    pub global_uses: std::collections::HashMap<String, Vec<String>>,
}

impl Analysis {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        crate::diagnostic::has_errors(&self.diagnostics)
    }
}

/// Analyses a parsed text in an environment.
pub fn analyze(parse: &Parse, env: &Env<'_>) -> Analysis {
    let mut l = lower::Lowerer::new(env);
    l.prescan(&parse.forms);
    let mut items = Vec::new();
    for form in parse.forms.iter().filter(|f| !f.has_error) {
        items.push(l.top(form));
    }
    let mut diagnostics = parse.diagnostics.clone();
    diagnostics.append(&mut l.diags);
    let tier_errors = std::mem::take(&mut l.tier_errors);
    let mut an = Analysis {
        items,
        locals: l.locals,
        diagnostics,
        definitions: l.definitions,
        references: l.references,
        input_needs: crate::ffi::CapSet::EMPTY,
        global_uses: Default::default(),
    };
    let inferred = capabilities::infer(&an, env, &tier_errors, env.mode == Mode::Repl);
    for d in &mut an.definitions {
        d.needs = inferred
            .global_needs
            .get(&d.name)
            .copied()
            .unwrap_or_default();
    }
    an.input_needs = inferred.input_needs;
    an.global_uses = inferred.global_uses;
    an.diagnostics.extend(inferred.diagnostics);
    an.diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
    an
}

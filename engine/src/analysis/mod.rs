//! Analysis: from the syntax tree to the IR, with every diagnostic the checker
//! gives. The compiler, the REPL and the language server all read its result.

pub mod capabilities;
pub mod docs;
pub mod document;
pub mod env;
pub mod globals;
pub mod ir;
mod lower;
pub mod modules;

pub use env::{Arity, Env, GlobalInfo, Mode, ModuleScope};
pub use lower::{ACTOR_NAMES, PRELUDE_PREFIX, SPECIAL_FORMS};

use crate::ground::diagnostic::Diagnostic;
use crate::ground::ffi::{CapSet, Capability, TrustTier};
use crate::ground::span::Span;
use crate::syntax::parser::Parse;
use crate::syntax::tree::TopForm;
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
    pub needs: crate::ground::ffi::CapSet,
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
    pub input_needs: crate::ground::ffi::CapSet,
    /// Per top-level definition, the known globals its body uses (for the REPL's
    /// redefinition rule of §7).
    pub global_uses: std::collections::HashMap<String, Vec<String>>,
    /// Per top-level known function, what it needs by itself (its direct
    /// capabilities and guarded calls): the session recomputes needs from these
    /// when a definition is replaced.
    pub own_needs: std::collections::HashMap<String, capabilities::OwnNeeds>,
}

impl Analysis {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        crate::ground::diagnostic::has_errors(&self.diagnostics)
    }
}

/// A run of forms lowered together, spans relative to where the run starts.
#[derive(Clone, Debug, Default)]
pub struct Lowered {
    /// One item per form without syntax errors.
    pub items: Vec<TopItem>,
    /// Its locals, numbered from 0.
    pub locals: Vec<LocalInfo>,
    /// Lowering diagnostics.
    pub diagnostics: Vec<Diagnostic>,
    /// Its top-level definitions (needs not yet inferred).
    pub definitions: Vec<Definition>,
    /// Its name occurrences.
    pub references: Vec<Reference>,
    /// Spans with an E0201.
    pub tier_errors: Vec<Span>,
    /// What it read of the text's globals.
    pub deps: globals::Deps,
}

impl Lowered {
    /// Gives back spare capacity (a document keeps thousands of these).
    pub fn shrink_to_fit(&mut self) {
        self.locals.shrink_to_fit();
        self.diagnostics.shrink_to_fit();
        self.definitions.shrink_to_fit();
        self.references.shrink_to_fit();
        self.tier_errors.shrink_to_fit();
        self.deps.names.shrink_to_fit();
        self.deps.spans.shrink_to_fit();
    }
}

/// Lowers forms at `place` against the text's globals; `record` keeps what was
/// read of them (for the incremental document).
pub fn lower_forms<'a>(
    forms: &[TopForm],
    env: &'a Env<'a>,
    cx: &'a globals::TextContext,
    place: globals::Place<'a>,
    record: bool,
) -> Lowered {
    let mut l = lower::Lowerer::new(env, cx, place, record);
    let items = forms
        .iter()
        .filter(|f| !f.has_error)
        .map(|f| l.top(f))
        .collect();
    let mut deps = std::mem::take(&mut l.deps);
    deps.finish();
    Lowered {
        items,
        locals: l.locals,
        diagnostics: l.diags,
        definitions: l.definitions,
        references: l.references,
        tier_errors: l.tier_errors,
        deps,
    }
}

/// Analyses a parsed text in an environment, as one unit.
pub fn analyze(parse: &Parse, env: &Env<'_>) -> Analysis {
    let shapes = globals::Shapes::of(&parse.forms, env.default_tier);
    let cx = globals::TextContext::build(std::iter::once((0, &shapes)), env);
    let place = globals::Place {
        unit: 0,
        base: 0,
        own: &shapes,
        units: &globals::OneUnit,
    };
    let lowered = lower_forms(&parse.forms, env, &cx, place, false);
    let mut names = capabilities::Names::default();
    let summary =
        capabilities::summarize(&lowered.items, &lowered.locals, env.registry, &mut |s| {
            names.intern(s)
        });
    let text_fns: Vec<u32> = lowered
        .definitions
        .iter()
        .filter(|d| d.arity.is_some())
        .map(|d| names.intern(&d.name))
        .collect();
    let inference = capabilities::Inference::resolve(
        std::iter::once(&summary),
        text_fns.into_iter(),
        &names,
        env,
    );
    let warnings = capabilities::warn(
        &lowered.items,
        &capabilities::WarnInput {
            summary: &summary,
            names: &names,
            inference: &inference,
            registry: env.registry,
            locals: &lowered.locals,
            tier_errors: &lowered.tier_errors,
            assumed: env.assumed,
            declared: CapSet::EMPTY,
        },
    );
    let mut diagnostics = parse.diagnostics.clone();
    diagnostics.extend(lowered.diagnostics);
    diagnostics.extend(warnings.diagnostics);
    if env.mode != Mode::Repl {
        diagnostics.extend(
            warnings
                .declarations
                .iter()
                .filter(|d| !d.used)
                .map(capabilities::unused_declaration),
        );
    }
    diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
    let mut definitions = lowered.definitions;
    for d in &mut definitions {
        d.needs = names
            .get(&d.name)
            .map(|id| inference.inferred(id))
            .unwrap_or_default();
    }
    let mut global_uses = std::collections::HashMap::new();
    inference.global_uses(&summary, &names, &mut global_uses);
    let mut own_needs = std::collections::HashMap::new();
    inference.own_needs(&summary, &names, &mut own_needs);
    Analysis {
        items: lowered.items,
        locals: lowered.locals,
        diagnostics,
        definitions,
        references: lowered.references,
        input_needs: inference.input_needs,
        global_uses,
        own_needs,
    }
}

//! Lowering: syntax tree to IR. Resolves every name (locals, globals, built-ins,
//! FFI), checks special forms, arity and known argument types, finds unused locals
//! and the variables each lambda captures.

use super::env::{Arity, Env, Mode};
use super::globals::{Deps, Place, TextContext, is_tier_keyword, tier_of_keyword};
use super::ir::{Expr, ExprKind, LocalId, LocalInfo, LocalKind, TopItem};
use super::{Definition, RefTarget, Reference};
use crate::ground::bytecode::Datum;
use crate::ground::diagnostic::{Code, Diagnostic};
use crate::ground::ffi::{TrustTier, Type};
use crate::ground::span::Span;
use crate::syntax::tree::{Node, NodeKind, TopForm};

mod calls;
mod forms;
mod names;

use forms::*;

/// Names of the special forms; they cannot be rebound.
pub const SPECIAL_FORMS: &[&str] = &[
    "quote",
    "if",
    "cond",
    "and",
    "or",
    "when",
    "unless",
    "begin",
    "do",
    "lambda",
    "λ",
    "fn",
    "define",
    "def",
    "let",
    "let*",
    "letrec",
    "set!",
    "require-capability",
    "has-capability?",
    "ffi-call",
    "try",
    "import",
];

/// Names once reserved for the actor model; the actor built-ins of language §9
/// now define them, so none is left reserved.
pub const ACTOR_NAMES: &[&str] = &[];

/// Prefix of the prelude's own globals, so user definitions never collide with them.
pub use crate::ground::builtins::PRELUDE_PREFIX;

/// The statically known type of an expression, if any.
type Ty = Option<Type>;

struct FnCtx {
    id: u32,
    captures: Vec<LocalId>,
}

pub(super) struct Lowerer<'a> {
    env: &'a Env<'a>,
    pub diags: Vec<Diagnostic>,
    pub locals: Vec<LocalInfo>,
    pub references: Vec<Reference>,
    pub definitions: Vec<Definition>,
    local_owner: Vec<u32>,
    local_arity: Vec<Option<Arity>>,
    local_ty: Vec<Ty>,
    /// The tier of the lambda a local is bound to, when it is a known function.
    local_tier: Vec<Option<TrustTier>>,
    scopes: Vec<(Box<str>, LocalId)>,
    fns: Vec<FnCtx>,
    next_fn: u32,
    tier: TrustTier,
    /// The text's globals and `set!` targets (variables assigned anywhere in the
    /// text have no known type or arity).
    cx: &'a TextContext,
    /// Where the forms being lowered are: spans read from `cx` are made relative to it.
    place: Place<'a>,
    /// Whether to record what is read from `cx` (the incremental document needs it).
    record: bool,
    /// What was read from `cx`.
    pub deps: Deps,
    lambda_depth: usize,
    /// Spans with an E0201, where W0301 is not also reported.
    pub tier_errors: Vec<Span>,
    /// The head of the special form being lowered: where a malformed form's E0105
    /// points when no smaller sub-form is at fault.
    form_head: Span,
}

/// Parses a lambda list: `(a b)`, `(a . rest)`, or `args`.
struct Params<'n> {
    required: Vec<&'n Node>,
    rest: Option<&'n Node>,
}

/// Where a parameter list is written: a node of its own (`(lambda (a b) ...)`), or
/// the tail of a `(define (name a b) ...)` head.
#[derive(Clone, Copy)]
enum ParamSrc<'n> {
    Node(&'n Node),
    Items(&'n [Node], Option<&'n Node>),
}

impl<'a> Lowerer<'a> {
    /// A lowerer for forms at `place` in a text whose globals are `cx`.
    pub fn new(
        env: &'a Env<'a>,
        cx: &'a TextContext,
        place: Place<'a>,
        record: bool,
    ) -> Lowerer<'a> {
        Lowerer {
            env,
            diags: Vec::new(),
            locals: Vec::new(),
            references: Vec::new(),
            definitions: Vec::new(),
            local_owner: Vec::new(),
            local_arity: Vec::new(),
            local_ty: Vec::new(),
            local_tier: Vec::new(),
            scopes: Vec::new(),
            fns: Vec::new(),
            next_fn: 0,
            tier: env.default_tier,
            cx,
            place,
            record,
            deps: Deps::default(),
            lambda_depth: 0,
            tier_errors: Vec::new(),
            form_head: Span::default(),
        }
    }

    fn error(&mut self, code: Code, span: Span, msg: impl Into<String>) -> &mut Diagnostic {
        self.diags.push(Diagnostic::new(code, span, msg));
        self.diags.last_mut().expect("just pushed")
    }

    // ----- the text's globals, read through these so the reads are recorded -----

    fn note(&mut self, name: &str) {
        if self.record {
            self.deps.names.push(name.into());
        }
    }

    /// Whether some `set!` in the text assigns `name`.
    fn is_assigned(&mut self, name: &str) -> bool {
        self.note(name);
        self.cx.assigned.contains(name)
    }

    /// Arity and tier of a global the text defines.
    fn text_global(&mut self, name: &str) -> Option<(Option<Arity>, TrustTier)> {
        self.note(name);
        self.cx.globals.get(name).map(|g| (g.arity, g.tier))
    }

    /// Where the text first defines `name`, relative to the forms' start.
    fn text_global_span(&mut self, name: &str) -> Option<Span> {
        self.note(name);
        let g = self.cx.globals.get(name)?;
        let span = self.place.span_of(g)?;
        if self.record && g.unit != self.place.unit {
            self.deps.spans.push((name.into(), span));
        }
        Some(span)
    }

    pub fn top(&mut self, form: &TopForm) -> TopItem {
        self.tier = super::globals::form_tier(form, self.env.default_tier);
        let fn_id = self.push_fn();
        let (expr, ty) = if form.node.head_symbol() == Some("import") {
            self.import_form(form)
        } else {
            self.top_node(&form.node, form.doc.as_deref())
        };
        self.pop_fn(fn_id);
        TopItem {
            expr,
            tier: self.tier,
            ty,
        }
    }

    /// A top-level node: definitions allowed, `begin` and tier forms splice.
    /// A top-level node and its known type: definitions allowed, `begin` and tier
    /// forms splice (their type is that of their last form).
    fn top_node(&mut self, node: &Node, doc: Option<&str>) -> (Expr, Ty) {
        let Some(items) = node.proper_items() else {
            return self.expr(node);
        };
        let tier = match node.head_symbol() {
            Some("define" | "def") => return (self.global_define(node, doc), None),
            Some("begin" | "do") => None,
            Some(h) if is_tier_keyword(h) => match tier_of_keyword(h) {
                Some(t) => Some(t),
                None => return self.expr(node),
            },
            _ => return self.expr(node),
        };
        let saved = tier.map(|t| std::mem::replace(&mut self.tier, t));
        let mut ty = Some(Type::Nil);
        let mut body = Vec::new();
        for n in &items[1..] {
            let (e, t) = self.top_node(n, None);
            ty = t;
            body.push(e);
        }
        if let Some(t) = saved {
            self.tier = t;
        }
        (
            Expr {
                kind: ExprKind::Begin(body),
                span: node.span,
            },
            ty,
        )
    }

    /// A top-level `(import "path.jue" [:as A])`: checked here; what it binds is
    /// in the environment's module scope, built before lowering (language §13).
    /// It has no value.
    fn import_form(&mut self, form: &TopForm) -> (Expr, Ty) {
        let node = &form.node;
        if let Some((_, span)) = form.annotation {
            self.error(
                Code::E0002,
                span,
                "a tier annotation cannot apply to an `import`",
            )
            .help = Some("each imported form has the tier of its own file".into());
        }
        if let Err((span, msg)) = super::modules::import_parts(node) {
            let span = span.unwrap_or_else(|| {
                node.proper_items()
                    .and_then(|i| i.first())
                    .map_or(node.span, |h| h.span)
            });
            self.error(Code::E0105, span, msg).help =
                Some("write `(import \"path.jue\")` or `(import \"path.jue\" :as name)`".into());
        }
        (Expr::nil(node.span), Some(Type::Nil))
    }

    fn global_define(&mut self, node: &Node, doc: Option<&str>) -> Expr {
        let Some((name_node, value)) = self.define_parts(node) else {
            return Expr::nil(node.span);
        };
        let name = name_node.as_symbol().unwrap_or_default().to_string();
        let span = name_node.span;
        if let Some(first) = self.text_global_span(&name)
            && first != span
            && self.env.mode == Mode::File
        {
            self.error(Code::E0105, span, format!("`{name}` is already defined"))
                .related
                .push(crate::ground::diagnostic::Related {
                    span: first,
                    message: "first defined here".into(),
                });
        }
        let (value_expr, _) = match value {
            DefValue::Lambda { params, body } => {
                let e = self.lambda(Some(&name), params, body, node.span);
                (e, Some(Type::Fn))
            }
            DefValue::Expr(v) => self.expr_named(v, Some(&name)),
        };
        let (arity, params) = match &value_expr.kind {
            ExprKind::Lambda(l) if !self.is_assigned(&name) => (
                Some(Arity {
                    required: l.params.len(),
                    variadic: l.rest.is_some(),
                }),
                l.params
                    .iter()
                    .chain(l.rest.iter())
                    .map(|p| self.locals[*p as usize].name.to_string())
                    .collect(),
            ),
            ExprKind::Ffi(_) | ExprKind::Builtin(_) | ExprKind::Global(_)
                if !self.is_assigned(&name) =>
            {
                (self.text_global(&name).and_then(|g| g.0), Vec::new())
            }
            _ => (None, Vec::new()),
        };
        self.references.push(Reference {
            span,
            target: RefTarget::Global(name.clone().into()),
            definition: true,
        });
        self.definitions.push(Definition {
            name: name.clone(),
            name_span: span,
            span: node.span,
            arity,
            params,
            tier: self.tier,
            doc: doc.map(str::to_string),
            needs: crate::ground::ffi::CapSet::EMPTY,
        });
        let global: Box<str> = if self.env.mode == Mode::Prelude {
            format!("{PRELUDE_PREFIX}{name}").into()
        } else {
            name.into()
        };
        Expr {
            kind: ExprKind::Define(global, Box::new(value_expr)),
            span: node.span,
        }
    }

    // ----- scopes and functions -----

    fn push_fn(&mut self) -> u32 {
        let id = self.next_fn;
        self.next_fn += 1;
        self.fns.push(FnCtx {
            id,
            captures: Vec::new(),
        });
        id
    }

    fn pop_fn(&mut self, id: u32) -> Vec<LocalId> {
        let f = self.fns.pop().expect("balanced push_fn/pop_fn");
        debug_assert_eq!(f.id, id);
        f.captures
    }

    fn bind(&mut self, name_node: &Node, kind: LocalKind, ty: Ty, arity: Option<Arity>) -> LocalId {
        let name = name_node.as_symbol().unwrap_or("_");
        let id = self.locals.len() as LocalId;
        let assigned = self.is_assigned(name);
        self.locals.push(LocalInfo {
            name: name.into(),
            span: name_node.span,
            kind,
            captured: false,
            mutated: false,
            used: false,
        });
        self.local_owner.push(self.fns.last().map_or(0, |f| f.id));
        self.local_ty.push(if assigned { None } else { ty });
        self.local_arity.push(if assigned { None } else { arity });
        self.local_tier.push(if assigned || arity.is_none() {
            None
        } else {
            Some(self.tier)
        });
        self.scopes.push((name.into(), id));
        self.references.push(Reference {
            span: name_node.span,
            target: RefTarget::Local(id),
            definition: true,
        });
        id
    }

    /// Leaves a scope opened at `mark`, warning about unused bindings.
    fn unbind_to(&mut self, mark: usize) {
        for (name, id) in self.scopes.drain(mark..).rev().collect::<Vec<_>>() {
            let info = &self.locals[id as usize];
            if !info.used && !name.starts_with('_') {
                let span = info.span;
                let what = match info.kind {
                    LocalKind::Param => "parameter",
                    LocalKind::Catch => "error variable",
                    _ => "binding",
                };
                self.diags.push(
                    Diagnostic::new(Code::W0303, span, format!("unused {what} `{name}`"))
                        .with_help(format!("remove it, or name it `_{name}`")),
                );
            }
        }
    }

    fn lookup_local(&self, name: &str) -> Option<LocalId> {
        self.scopes
            .iter()
            .rev()
            .find(|(n, _)| &**n == name)
            .map(|(_, id)| *id)
    }

    /// Marks a local as used here, recording captures across function boundaries.
    fn use_local(&mut self, id: LocalId) {
        self.locals[id as usize].used = true;
        let owner = self.local_owner[id as usize];
        for f in self.fns.iter_mut().rev() {
            if f.id == owner {
                break;
            }
            self.locals[id as usize].captured = true;
            if !f.captures.contains(&id) {
                f.captures.push(id);
            }
        }
    }

    // ----- expressions -----

    fn expr(&mut self, node: &Node) -> (Expr, Ty) {
        self.expr_named(node, None)
    }

    /// Lowers an expression; `name` is the binding a lambda is written in.
    fn expr_named(&mut self, node: &Node, name: Option<&str>) -> (Expr, Ty) {
        let span = node.span;
        let konst = |c: Datum, t: Type| {
            (
                Expr {
                    kind: ExprKind::Const(c),
                    span,
                },
                Some(t),
            )
        };
        match &node.kind {
            NodeKind::Int(i) => konst(Datum::Int(*i), Type::Int),
            NodeKind::Float(f) => konst(Datum::Float(*f), Type::Float),
            NodeKind::Str(s) => konst(Datum::Str(s.clone()), Type::String),
            NodeKind::Bool(b) => konst(Datum::Bool(*b), Type::Bool),
            NodeKind::Nil => konst(Datum::Nil, Type::Nil),
            NodeKind::Quote(inner) => self.quoted(inner, span),
            NodeKind::Symbol(s) if s.starts_with(':') => konst(Datum::Sym(s.clone()), Type::Symbol),
            NodeKind::Symbol(s) => self.variable(s, span),
            NodeKind::Error => (Expr::nil(span), None),
            // A vector literal is self-quoting (language §12.1).
            NodeKind::Vector(_) => self.quoted(node, span),
            // A dict literal evaluates its keys and values: `(dict k1 v1 ...)`.
            NodeKind::Dict(items) => {
                let args: Vec<Expr> = items.iter().map(|n| self.expr(n).0).collect();
                let id =
                    crate::ground::builtins::find("dict", false).expect("`dict` is a built-in");
                (
                    Expr {
                        kind: ExprKind::CallBuiltin(id, args, span),
                        span,
                    },
                    Some(Type::Dict),
                )
            }
            NodeKind::List(l) => {
                if l.tail.is_some() {
                    self.error(Code::E0105, span, "a dotted list cannot be evaluated")
                        .help = Some("quote it to make data: `'(a . b)`".into());
                    return (Expr::nil(span), None);
                }
                if l.items.is_empty() {
                    return konst(Datum::Nil, Type::Nil);
                }
                self.list_form(node, &l.items, name)
            }
        }
    }

    fn quoted(&mut self, datum: &Node, span: Span) -> (Expr, Ty) {
        let c = to_const(datum);
        let ty = match &c {
            Datum::Nil => Type::Nil,
            Datum::Bool(_) => Type::Bool,
            Datum::Int(_) => Type::Int,
            Datum::Float(_) => Type::Float,
            Datum::Str(_) => Type::String,
            Datum::Sym(_) => Type::Symbol,
            Datum::List(_, None) => Type::List,
            Datum::List(_, Some(_)) => Type::Pair,
            Datum::Vector(_) => Type::Vector,
            Datum::Dict(_) => Type::Dict,
        };
        (
            Expr {
                kind: ExprKind::Const(c),
                span,
            },
            Some(ty),
        )
    }
}

/// Quoted data as a constant (nesting is bounded by the parser's limit).
pub fn to_const(n: &Node) -> Datum {
    match &n.kind {
        NodeKind::Int(i) => Datum::Int(*i),
        NodeKind::Float(f) => Datum::Float(*f),
        NodeKind::Str(s) => Datum::Str(s.clone()),
        NodeKind::Symbol(s) => Datum::Sym(s.clone()),
        NodeKind::Bool(b) => Datum::Bool(*b),
        NodeKind::Nil | NodeKind::Error => Datum::Nil,
        NodeKind::Quote(q) => Datum::List(vec![Datum::Sym("quote".into()), to_const(q)], None),
        NodeKind::Vector(items) => Datum::Vector(items.iter().map(to_const).collect()),
        NodeKind::Dict(items) => Datum::Dict(
            items
                .chunks_exact(2)
                .map(|c| (to_const(&c[0]), to_const(&c[1])))
                .collect(),
        ),
        NodeKind::List(l) => {
            if l.items.is_empty() && l.tail.is_none() {
                return Datum::Nil;
            }
            Datum::List(
                l.items.iter().map(to_const).collect(),
                l.tail.as_ref().map(|t| Box::new(to_const(t))),
            )
        }
    }
}

//! Lowering: syntax tree to IR. Resolves every name (locals, globals, built-ins,
//! FFI), checks special forms, arity and known argument types, finds unused locals
//! and the variables each lambda captures.

use super::env::{Arity, Env, Mode};
use super::globals::{
    Deps, Place, TextContext, is_tier_keyword, lambda_arity, params_arity, tier_of_keyword,
};
use super::ir::{Clause, Expr, ExprKind, Lambda, LocalId, LocalInfo, LocalKind, TopItem};
use super::{Definition, RefTarget, Reference};
use crate::ground::builtins;
use crate::ground::bytecode::Datum;
use crate::ground::diagnostic::{Code, Diagnostic};
use crate::ground::ffi::{Capability, Signature, TrustTier, Type};
use crate::ground::span::Span;
use crate::ground::suggest;
use crate::syntax::tree::{Node, NodeKind, TopForm};
use std::collections::HashSet;

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
];

/// Reserved for the actor model (language §9).
pub const ACTOR_NAMES: &[&str] = &["spawn", "send", "receive", "self"];

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
        let (expr, ty) = self.top_node(&form.node, form.doc.as_deref());
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
        };
        (
            Expr {
                kind: ExprKind::Const(c),
                span,
            },
            Some(ty),
        )
    }

    /// Resolves a name used as a value.
    fn variable(&mut self, name: &str, span: Span) -> (Expr, Ty) {
        if SPECIAL_FORMS.contains(&name) {
            self.error(
                Code::E0105,
                span,
                format!("`{name}` is a special form, not a value"),
            );
            return (Expr::nil(span), None);
        }
        match self.resolve(name, span) {
            Some((kind, ty, _)) => (Expr { kind, span }, ty),
            None => (Expr::nil(span), None),
        }
    }

    /// Resolves a name and applies the call rule of §7 to it.
    fn resolve(&mut self, name: &str, span: Span) -> Option<(ExprKind, Ty, Option<Arity>)> {
        let r = self.resolve_name(name, span)?;
        self.check_tier_use(name, &r.0, span);
        Some(r)
    }

    /// The call rule: code of tier T may use only known functions of tier T or higher.
    fn check_tier_use(&mut self, name: &str, kind: &ExprKind, span: Span) {
        let (callee_tier, cap, def_span) = match kind {
            ExprKind::Builtin(id) => (builtins::get(*id).tier, None, None),
            ExprKind::Ffi(i) => {
                let f = self.env.registry.function(*i);
                (f.tier, f.required_capability, None)
            }
            ExprKind::Local(id) => match self.local_tier[*id as usize] {
                Some(t) => (t, None, Some(self.locals[*id as usize].span)),
                None => return,
            },
            ExprKind::Global(g) => {
                let g = g.strip_prefix(PRELUDE_PREFIX).unwrap_or(g);
                match self.text_global(g) {
                    Some((Some(_), tier)) => {
                        if self.tier.may_call(tier) {
                            return;
                        }
                        // Read only on the error path: it is the one use of the span.
                        (tier, None, self.text_global_span(g))
                    }
                    Some(_) => return,
                    None => match self.env.globals.get(g) {
                        Some(gi) if gi.arity.is_some() => (gi.tier, None, gi.span),
                        _ => return,
                    },
                }
            }
            _ => return,
        };
        if self.tier.may_call(callee_tier) {
            return;
        }
        let cap_text = match cap {
            Some(c) => format!(" and needs {c}"),
            None => String::new(),
        };
        let d = self.error(
            Code::E0201,
            span,
            format!(
                "{} code may not use `{name}`, which is {callee_tier}{cap_text}",
                self.tier
            ),
        );
        d.help = Some(format!(
            "code may use only functions of its own tier or a more trusted one; mark this code `@{callee_tier}`, or pass the function in as a value from less trusted code"
        ));
        if let Some(s) = def_span {
            d.related.push(crate::ground::diagnostic::Related {
                span: s,
                message: format!("`{name}` is defined here as {callee_tier}"),
            });
        }
        self.tier_errors.push(span);
    }

    /// Resolves a name: local, user global, built-in, FFI. Reports unbound names.
    fn resolve_name(&mut self, name: &str, span: Span) -> Option<(ExprKind, Ty, Option<Arity>)> {
        if let Some(id) = self.lookup_local(name) {
            self.use_local(id);
            self.references.push(Reference {
                span,
                target: RefTarget::Local(id),
                definition: false,
            });
            return Some((
                ExprKind::Local(id),
                self.local_ty[id as usize],
                self.local_arity[id as usize],
            ));
        }
        let text_global = self.text_global(name);
        if text_global.is_some() || self.env.globals.contains_key(name) {
            let arity = match text_global {
                Some(g) => g.0,
                None => self.env.globals.get(name).and_then(|g| g.arity),
            };
            let global: Box<str> = if self.env.mode == Mode::Prelude {
                format!("{PRELUDE_PREFIX}{name}").into()
            } else {
                name.into()
            };
            self.references.push(Reference {
                span,
                target: RefTarget::Global(name.into()),
                definition: false,
            });
            let ty = arity.map(|_| Type::Fn);
            return Some((ExprKind::Global(global), ty, arity));
        }
        if let Some(id) = builtins::find(name, self.env.mode == Mode::Prelude) {
            self.references.push(Reference {
                span,
                target: RefTarget::Builtin(id),
                definition: false,
            });
            return Some((ExprKind::Builtin(id), Some(Type::Fn), None));
        }
        if let Some(i) = self.env.registry.index_of(name) {
            self.references.push(Reference {
                span,
                target: RefTarget::Ffi(i),
                definition: false,
            });
            return Some((ExprKind::Ffi(i), Some(Type::Fn), None));
        }
        self.unbound(name, span)
    }

    fn unbound(&mut self, name: &str, span: Span) -> Option<(ExprKind, Ty, Option<Arity>)> {
        if ACTOR_NAMES.contains(&name) {
            self.error(Code::E0101, span, format!("unbound variable `{name}`"))
                .help = Some("reserved for actors (not yet available)".into());
            return None;
        }
        if name.contains(':') {
            let names = self.env.registry.names();
            let d = Diagnostic::new(Code::E0102, span, format!("unknown FFI function `{name}`"));
            let d = match suggest::closest(name, names) {
                Some(s) => d.with_suggestion(s),
                None => d.with_help("`jue registry` lists the registered functions"),
            };
            self.diags.push(d);
            return None;
        }
        if self.env.mode == Mode::Repl && self.lambda_depth > 0 {
            self.diags.push(Diagnostic::new(
                Code::W0304,
                span,
                format!("`{name}` is not defined yet; calling this before defining it is an `unbound` error"),
            ));
            self.references.push(Reference {
                span,
                target: RefTarget::Global(name.into()),
                definition: false,
            });
            return Some((ExprKind::Global(name.into()), None, None));
        }
        if self.record {
            self.deps.all_names = true;
        }
        let locals: Vec<&str> = self.scopes.iter().map(|(n, _)| &**n).collect();
        let candidates = locals
            .into_iter()
            .chain(self.cx.globals.keys().map(|k| &**k))
            .chain(self.env.globals.keys().map(String::as_str))
            .chain(builtins::names().map(|s| -> &str { s }))
            .chain(SPECIAL_FORMS.iter().map(|s| -> &str { s }))
            .chain(self.env.registry.names());
        let d = Diagnostic::new(Code::E0101, span, format!("unbound variable `{name}`"));
        let d = match suggest::closest(name, candidates) {
            Some(s) => d.with_suggestion(s),
            None => d,
        };
        self.diags.push(d);
        None
    }

    fn list_form(&mut self, node: &Node, items: &[Node], name: Option<&str>) -> (Expr, Ty) {
        let span = node.span;
        let head = &items[0];
        if let Some(h) = head.as_symbol() {
            if h.starts_with(':') {
                return self.tier_form(node, h, items);
            }
            if self.lookup_local(h).is_none() {
                let saved = std::mem::replace(&mut self.form_head, head.span);
                let r = self.special_form(node, h, items, name);
                self.form_head = saved;
                if let Some(r) = r {
                    return r;
                }
            }
        }
        self.call(head, &items[1..], span)
    }

    fn special_form(
        &mut self,
        node: &Node,
        h: &str,
        items: &[Node],
        name: Option<&str>,
    ) -> Option<(Expr, Ty)> {
        let span = node.span;
        let args = &items[1..];
        let r = match h {
            "quote" => {
                if args.len() != 1 {
                    self.error(
                        Code::E0105,
                        self.form_head,
                        "`quote` takes exactly one datum",
                    );
                    return Some((Expr::nil(span), None));
                }
                self.quoted(&args[0], span)
            }
            "if" => {
                if args.len() < 2 || args.len() > 3 {
                    self.error(
                        Code::E0105,
                        self.form_head,
                        "`if` takes a test, a then-branch and an optional else-branch",
                    )
                    .help = Some("write `(if test then else)`".into());
                    return Some((Expr::nil(span), None));
                }
                let (c, _) = self.expr(&args[0]);
                let (t, tt) = self.expr(&args[1]);
                let (e, et) = match args.get(2) {
                    Some(n) => self.expr(n),
                    None => (Expr::nil(span), Some(Type::Nil)),
                };
                let ty = if tt == et { tt } else { None };
                (
                    Expr {
                        kind: ExprKind::If(Box::new(c), Box::new(t), Box::new(e)),
                        span,
                    },
                    ty,
                )
            }
            "cond" => self.cond(args, span),
            "and" | "or" => {
                let es: Vec<Expr> = args.iter().map(|a| self.expr(a).0).collect();
                let kind = if h == "and" {
                    ExprKind::And(es)
                } else {
                    ExprKind::Or(es)
                };
                let ty = if args.is_empty() {
                    Some(Type::Bool)
                } else {
                    None
                };
                (Expr { kind, span }, ty)
            }
            "when" | "unless" => {
                if args.is_empty() {
                    self.error(Code::E0105, self.form_head, format!("`{h}` needs a test"));
                    return Some((Expr::nil(span), None));
                }
                let (c, _) = self.expr(&args[0]);
                let (body, _) = self.body(&args[1..], span);
                let body = Expr {
                    kind: ExprKind::Begin(body),
                    span,
                };
                let (t, e) = if h == "when" {
                    (body, Expr::nil(span))
                } else {
                    (Expr::nil(span), body)
                };
                (
                    Expr {
                        kind: ExprKind::If(Box::new(c), Box::new(t), Box::new(e)),
                        span,
                    },
                    None,
                )
            }
            "begin" | "do" => {
                let mut ty = Some(Type::Nil);
                let mut es = Vec::new();
                for a in args {
                    if is_definition(a) {
                        self.error(Code::E0105, a.span, "a definition is not allowed here")
                            .help =
                            Some("definitions go at top level or at the start of a body".into());
                        continue;
                    }
                    let (e, t) = self.expr(a);
                    ty = t;
                    es.push(e);
                }
                (
                    Expr {
                        kind: ExprKind::Begin(es),
                        span,
                    },
                    ty,
                )
            }
            "lambda" | "λ" | "fn" => {
                if args.is_empty() {
                    self.error(
                        Code::E0105,
                        self.form_head,
                        format!("`{h}` needs a parameter list"),
                    );
                    return Some((Expr::nil(span), None));
                }
                (
                    self.lambda(name, ParamSrc::Node(&args[0]), &args[1..], span),
                    Some(Type::Fn),
                )
            }
            "define" | "def" => {
                self.error(
                    Code::E0105,
                    span,
                    "a definition is not allowed here; it has no value",
                )
                .help = Some("definitions go at top level or at the start of a body".into());
                (Expr::nil(span), None)
            }
            "let" | "let*" | "letrec" => self.let_form(h, node, args),
            "set!" => self.set(args, span),
            "require-capability" | "has-capability?" => {
                if !self.tier.may_call(TrustTier::Empirical) {
                    self.error(
                        Code::E0201,
                        items[0].span,
                        format!("`{h}` is empirical and may not appear in {} code", self.tier),
                    )
                    .help = Some(
                        "formal and verified code is pure: it reaches capabilities only through functions passed to it"
                            .into(),
                    );
                    self.tier_errors.push(items[0].span);
                }
                let Some(cap) = self.capability_arg(h, args, span) else {
                    return Some((Expr::nil(span), None));
                };
                if h == "require-capability" {
                    (
                        Expr {
                            kind: ExprKind::RequireCap(cap),
                            span,
                        },
                        Some(Type::Capability),
                    )
                } else {
                    (
                        Expr {
                            kind: ExprKind::HasCap(cap),
                            span,
                        },
                        Some(Type::Bool),
                    )
                }
            }
            "ffi-call" => self.ffi_call(args, span),
            "try" => self.try_form(args, span),
            _ => return None,
        };
        Some(r)
    }

    fn tier_form(&mut self, node: &Node, h: &str, items: &[Node]) -> (Expr, Ty) {
        let Some(tier) = tier_of_keyword(h) else {
            let d = Diagnostic::new(Code::E0002, items[0].span, format!("unknown tier `{h}`"));
            let d = match suggest::closest(&h[1..], TrustTier::ALL.iter().map(|t| t.name())) {
                Some(s) => {
                    let mut d = d.with_suggestion(format!(":{s}"));
                    d.help = Some(format!("did you mean `:{s}`?"));
                    d
                }
                None => d.with_help("tiers are :formal, :verified, :empirical and :experimental"),
            };
            self.diags.push(d);
            return (Expr::nil(node.span), None);
        };
        if !self.tier.may_call(tier) {
            self.error(
                Code::E0201,
                items[0].span,
                format!(
                    "a `{h}` block inside {} code would lower its tier",
                    self.tier
                ),
            )
            .help = Some(format!(
                "a block may raise its claim, never lower it: mark the enclosing form `@{tier}`"
            ));
            self.tier_errors.push(items[0].span);
        }
        let saved = std::mem::replace(&mut self.tier, tier);
        let mut ty = Some(Type::Nil);
        let mut es = Vec::new();
        for a in &items[1..] {
            let (e, t) = self.expr(a);
            ty = t;
            es.push(e);
        }
        self.tier = saved;
        (
            Expr {
                kind: ExprKind::Begin(es),
                span: node.span,
            },
            ty,
        )
    }

    fn cond(&mut self, args: &[Node], span: Span) -> (Expr, Ty) {
        let mut clauses = Vec::new();
        let mut types = Vec::new();
        let mut has_else = false;
        for (i, c) in args.iter().enumerate() {
            let Some(items) = c.proper_items().filter(|i| !i.is_empty()) else {
                self.error(
                    Code::E0105,
                    c.span,
                    "a `cond` clause is a list: `(test expr ...)`",
                );
                continue;
            };
            if items[0].as_symbol() == Some("else") && self.lookup_local("else").is_none() {
                if i + 1 != args.len() {
                    self.error(Code::E0105, c.span, "`else` must be the last clause");
                }
                has_else = true;
                let (body, t) = self.body(&items[1..], c.span);
                types.push(t);
                clauses.push(Clause { test: None, body });
                continue;
            }
            let (test, tt) = self.expr(&items[0]);
            let mut last = tt;
            let mut body = Vec::new();
            for n in &items[1..] {
                let (e, t) = self.expr(n);
                last = t;
                body.push(e);
            }
            types.push(last);
            clauses.push(Clause {
                test: Some(test),
                body,
            });
        }
        if !has_else {
            types.push(Some(Type::Nil));
        }
        let ty = types
            .first()
            .copied()
            .flatten()
            .filter(|t| types.iter().all(|x| *x == Some(*t)));
        (
            Expr {
                kind: ExprKind::Cond(clauses),
                span,
            },
            ty,
        )
    }

    /// A body: leading definitions (mutually recursive), then expressions.
    fn body(&mut self, nodes: &[Node], _span: Span) -> (Vec<Expr>, Ty) {
        let defs_end = nodes
            .iter()
            .position(|n| !is_definition(n))
            .unwrap_or(nodes.len());
        for n in &nodes[defs_end..] {
            if is_definition(n) {
                self.error(
                    Code::E0105,
                    n.span,
                    "a definition must come before the expressions of its body",
                );
            }
        }
        if defs_end == 0 {
            let mut ty = Some(Type::Nil);
            let mut es = Vec::new();
            for n in nodes.iter().filter(|n| !is_definition(n)) {
                let (e, t) = self.expr(n);
                ty = t;
                es.push(e);
            }
            return (es, ty);
        }
        let mark = self.scopes.len();
        let mut parts = Vec::new();
        for d in &nodes[..defs_end] {
            if let Some((name, value)) = self.define_parts(d) {
                let arity = match &value {
                    DefValue::Lambda { params, .. } => src_arity(*params),
                    DefValue::Expr(v) => lambda_arity(v),
                };
                let ty = arity.map(|_| Type::Fn);
                let id = self.bind(name, LocalKind::Rec, ty, arity);
                parts.push((id, d, value));
            }
        }
        let mut binds = Vec::new();
        for (id, d, value) in parts {
            let name = self.locals[id as usize].name.to_string();
            let e = match value {
                DefValue::Lambda { params, body } => self.lambda(Some(&name), params, body, d.span),
                DefValue::Expr(v) => self.expr_named(v, Some(&name)).0,
            };
            binds.push((id, e));
        }
        let mut ty = Some(Type::Nil);
        let mut es = Vec::new();
        for n in nodes[defs_end..].iter().filter(|n| !is_definition(n)) {
            let (e, t) = self.expr(n);
            ty = t;
            es.push(e);
        }
        self.unbind_to(mark);
        let span = nodes[0].span.join(nodes[nodes.len() - 1].span);
        (
            vec![Expr {
                kind: ExprKind::Letrec(binds, es),
                span,
            }],
            ty,
        )
    }

    /// Splits a definition into its name and value; reports malformed ones.
    fn define_parts<'n>(&mut self, node: &'n Node) -> Option<(&'n Node, DefValue<'n>)> {
        let items = node.proper_items()?;
        self.form_head = items[0].span;
        let head = items[0].as_symbol().unwrap_or("define");
        let Some(target) = items.get(1) else {
            self.error(Code::E0105, node.span, format!("`{head}` needs a name"))
                .help = Some(format!("write `({head} name value)`"));
            return None;
        };
        match &target.kind {
            NodeKind::Symbol(s) if !s.starts_with(':') => {
                if !self.bindable(target) {
                    return None;
                }
                match (head, items.len()) {
                    (_, 2) => {
                        self.error(
                            Code::E0105,
                            items[0].span,
                            format!("`{head}` of `{s}` has no value"),
                        )
                        .help = Some(format!("write `({head} {s} value)`"));
                        None
                    }
                    (_, 3) => Some((target, DefValue::Expr(&items[2]))),
                    ("def", _) => Some((
                        target,
                        DefValue::Lambda {
                            params: ParamSrc::Node(&items[2]),
                            body: &items[3..],
                        },
                    )),
                    _ => {
                        self.error(
                            Code::E0105,
                            items[3].span,
                            "`define` of a variable takes exactly one value",
                        )
                        .help = Some(
                            "to define a function write `(define (name params ...) body ...)`"
                                .into(),
                        );
                        None
                    }
                }
            }
            NodeKind::List(l) if head == "define" && !l.items.is_empty() => {
                let name = &l.items[0];
                if name.as_symbol().is_none_or(|s| s.starts_with(':')) {
                    self.error(Code::E0105, name.span, "a function name must be a symbol");
                    return None;
                }
                if !self.bindable(name) {
                    return None;
                }
                let params = ParamSrc::Items(&l.items[1..], l.tail.as_ref());
                Some((
                    name,
                    DefValue::Lambda {
                        params,
                        body: &items[2..],
                    },
                ))
            }
            _ => {
                self.error(
                    Code::E0105,
                    target.span,
                    format!("`{head}` needs a name here"),
                );
                None
            }
        }
    }

    /// Whether a symbol may be bound; special forms may not.
    fn bindable(&mut self, name: &Node) -> bool {
        match name.as_symbol() {
            Some(s) if SPECIAL_FORMS.contains(&s) => {
                self.error(
                    Code::E0105,
                    name.span,
                    format!("`{s}` is a special form and cannot be rebound"),
                );
                false
            }
            Some(s) if s.starts_with(':') => {
                self.error(
                    Code::E0105,
                    name.span,
                    format!("`{s}` is a keyword and cannot be bound"),
                );
                false
            }
            Some(_) => true,
            None => {
                self.error(Code::E0105, name.span, "expected a variable name");
                false
            }
        }
    }

    fn parse_params<'n>(&mut self, src: ParamSrc<'n>) -> Option<Params<'n>> {
        let list = match src {
            ParamSrc::Items(items, tail) => {
                return Some(Params {
                    required: items.iter().collect(),
                    rest: tail,
                });
            }
            ParamSrc::Node(n) => n,
        };
        match &list.kind {
            NodeKind::Symbol(_) => Some(Params {
                required: Vec::new(),
                rest: Some(list),
            }),
            NodeKind::Nil => Some(Params {
                required: Vec::new(),
                rest: None,
            }),
            NodeKind::List(l) => Some(Params {
                required: l.items.iter().collect(),
                rest: l.tail.as_ref(),
            }),
            _ => {
                self.error(Code::E0105, list.span, "expected a parameter list")
                    .help = Some(
                    "write `(lambda (a b) ...)`, `(lambda (a . rest) ...)` or `(lambda args ...)`"
                        .into(),
                );
                None
            }
        }
    }

    fn lambda(
        &mut self,
        name: Option<&str>,
        params: ParamSrc<'_>,
        body: &[Node],
        span: Span,
    ) -> Expr {
        let Some(p) = self.parse_params(params) else {
            return Expr::nil(span);
        };
        let fn_id = self.push_fn();
        self.lambda_depth += 1;
        let mark = self.scopes.len();
        let mut seen = HashSet::new();
        let mut ids = Vec::new();
        let mut rest = None;
        for (i, n) in p.required.iter().chain(p.rest.iter()).enumerate() {
            if !self.bindable(n) {
                continue;
            }
            let s = n.as_symbol().unwrap_or_default();
            if !seen.insert(s) {
                self.error(Code::E0105, n.span, format!("duplicate parameter `{s}`"));
                continue;
            }
            let ty = if i >= p.required.len() {
                Some(Type::List)
            } else {
                None
            };
            let id = self.bind(n, LocalKind::Param, ty, None);
            if i >= p.required.len() {
                rest = Some(id)
            } else {
                ids.push(id)
            }
        }
        let (body, _) = self.body(body, span);
        self.unbind_to(mark);
        self.lambda_depth -= 1;
        let captures = self.pop_fn(fn_id);
        let lambda = Lambda {
            name: name.map(str::to_string),
            params: ids,
            rest,
            body,
            captures,
            tier: self.tier,
        };
        Expr {
            kind: ExprKind::Lambda(Box::new(lambda)),
            span,
        }
    }

    fn let_form(&mut self, h: &str, node: &Node, args: &[Node]) -> (Expr, Ty) {
        let span = node.span;
        // Named let: (let loop ((i 0)) body) is a letrec of a lambda, then a call.
        if h == "let"
            && let Some(loop_name) = args.first().filter(|a| a.as_symbol().is_some())
        {
            return self.named_let(loop_name, &args[1..], span);
        }
        let Some(bindings) = args.first().and_then(|b| self.binding_list(b)) else {
            if args.is_empty() {
                self.error(
                    Code::E0105,
                    self.form_head,
                    format!("`{h}` needs a binding list"),
                )
                .help = Some(format!("write `({h} ((name value) ...) body ...)`"));
            }
            return (Expr::nil(span), None);
        };
        let mark = self.scopes.len();
        let mut binds = Vec::new();
        match h {
            "letrec" => {
                let ids: Vec<LocalId> = bindings
                    .iter()
                    .map(|(n, v)| {
                        let arity = lambda_arity(v);
                        self.bind(n, LocalKind::Rec, arity.map(|_| Type::Fn), arity)
                    })
                    .collect();
                for (id, (n, v)) in ids.into_iter().zip(&bindings) {
                    let e = self.expr_named(v, n.as_symbol()).0;
                    binds.push((id, e));
                }
            }
            "let*" => {
                for (n, v) in &bindings {
                    let (e, t) = self.expr_named(v, n.as_symbol());
                    let arity = lambda_arity_of(&e);
                    let id = self.bind(n, LocalKind::Let, t, arity);
                    binds.push((id, e));
                }
            }
            _ => {
                let values: Vec<(Expr, Ty)> = bindings
                    .iter()
                    .map(|(n, v)| self.expr_named(v, n.as_symbol()))
                    .collect();
                for ((n, _), (e, t)) in bindings.iter().zip(values) {
                    let arity = lambda_arity_of(&e);
                    let id = self.bind(n, LocalKind::Let, t, arity);
                    binds.push((id, e));
                }
            }
        }
        let (body, ty) = self.body(&args[1..], span);
        self.unbind_to(mark);
        let kind = if h == "letrec" {
            ExprKind::Letrec(binds, body)
        } else {
            ExprKind::Let(binds, body)
        };
        (Expr { kind, span }, ty)
    }

    fn named_let(&mut self, loop_name: &Node, args: &[Node], span: Span) -> (Expr, Ty) {
        let Some(bindings) = args.first().and_then(|b| self.binding_list(b)) else {
            self.error(
                Code::E0105,
                self.form_head,
                "named `let` needs a binding list",
            )
            .help = Some("write `(let loop ((i 0)) body ...)`".into());
            return (Expr::nil(span), None);
        };
        if !self.bindable(loop_name) {
            return (Expr::nil(span), None);
        }
        let inits: Vec<Expr> = bindings.iter().map(|(_, v)| self.expr(v).0).collect();
        let mark = self.scopes.len();
        let arity = Arity {
            required: bindings.len(),
            variadic: false,
        };
        let loop_id = self.bind(loop_name, LocalKind::Rec, Some(Type::Fn), Some(arity));
        // The loop name is used by the call below even if the body never recurs.
        self.locals[loop_id as usize].used = true;
        let name = loop_name.as_symbol().map(str::to_string);
        let fn_id = self.push_fn();
        self.lambda_depth += 1;
        let inner = self.scopes.len();
        let params: Vec<LocalId> = bindings
            .iter()
            .map(|(n, _)| self.bind(n, LocalKind::Param, None, None))
            .collect();
        let (body, _) = self.body(&args[1..], span);
        self.unbind_to(inner);
        self.lambda_depth -= 1;
        let captures = self.pop_fn(fn_id);
        let lambda = Lambda {
            name,
            params,
            rest: None,
            body,
            captures,
            tier: self.tier,
        };
        let lambda = Expr {
            kind: ExprKind::Lambda(Box::new(lambda)),
            span,
        };
        self.use_local(loop_id);
        let call = Expr {
            kind: ExprKind::Call(
                Box::new(Expr {
                    kind: ExprKind::Local(loop_id),
                    span: loop_name.span,
                }),
                inits,
            ),
            span,
        };
        self.unbind_to(mark);
        (
            Expr {
                kind: ExprKind::Letrec(vec![(loop_id, lambda)], vec![call]),
                span,
            },
            None,
        )
    }

    /// Reads `((name value) ...)`; reports malformed bindings and duplicates.
    fn binding_list<'n>(&mut self, list: &'n Node) -> Option<Vec<(&'n Node, &'n Node)>> {
        let items: &[Node] = match &list.kind {
            NodeKind::Nil => &[],
            _ => match list.proper_items() {
                Some(i) => i,
                None => {
                    self.error(
                        Code::E0105,
                        list.span,
                        "expected a list of bindings `((name value) ...)`",
                    );
                    return None;
                }
            },
        };
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for b in items {
            match b.proper_items() {
                Some([n, v]) if n.as_symbol().is_some() => {
                    if !self.bindable(n) {
                        continue;
                    }
                    if !seen.insert(n.as_symbol().unwrap_or_default()) {
                        self.error(
                            Code::E0105,
                            n.span,
                            format!("`{}` is bound twice", n.as_symbol().unwrap_or_default()),
                        );
                        continue;
                    }
                    out.push((n, v));
                }
                _ => {
                    self.error(Code::E0105, b.span, "a binding is `(name value)`");
                }
            }
        }
        Some(out)
    }

    fn set(&mut self, args: &[Node], span: Span) -> (Expr, Ty) {
        let [target, value] = args else {
            self.error(
                Code::E0105,
                self.form_head,
                "`set!` takes a name and a value",
            );
            return (Expr::nil(span), None);
        };
        let Some(name) = target.as_symbol().filter(|s| !s.starts_with(':')) else {
            self.error(Code::E0105, target.span, "`set!` needs a variable name");
            return (Expr::nil(span), None);
        };
        let (v, _) = self.expr(value);
        if let Some(id) = self.lookup_local(name) {
            self.locals[id as usize].mutated = true;
            self.references.push(Reference {
                span: target.span,
                target: RefTarget::Local(id),
                definition: false,
            });
            // A `set!` reads nothing, but the variable counts as used and as shared if captured.
            self.use_local(id);
            return (
                Expr {
                    kind: ExprKind::SetLocal(id, Box::new(v)),
                    span,
                },
                Some(Type::Nil),
            );
        }
        if self.text_global(name).is_some() || self.env.globals.contains_key(name) {
            self.references.push(Reference {
                span: target.span,
                target: RefTarget::Global(name.into()),
                definition: false,
            });
            return (
                Expr {
                    kind: ExprKind::SetGlobal(name.into(), Box::new(v)),
                    span,
                },
                Some(Type::Nil),
            );
        }
        if builtins::find(name, false).is_some() || self.env.registry.index_of(name).is_some() {
            self.error(
                Code::E0105,
                target.span,
                format!("cannot assign to built-in `{name}`"),
            )
            .help = Some(format!("define your own: `(define {name} ...)`"));
            return (Expr::nil(span), None);
        }
        self.unbound(name, target.span);
        (Expr::nil(span), None)
    }

    fn capability_arg(&mut self, h: &str, args: &[Node], _span: Span) -> Option<Capability> {
        let arg = match args {
            [a] => a,
            _ => {
                self.error(
                    Code::E0105,
                    self.form_head,
                    format!("`{h}` takes one capability name"),
                )
                .help = Some(format!("write `({h} IoNetwork)`"));
                return None;
            }
        };
        let name = match &arg.kind {
            NodeKind::Symbol(s) => s,
            NodeKind::Quote(q) => match &q.kind {
                NodeKind::Symbol(s) => s,
                _ => {
                    self.error(Code::E0105, arg.span, "expected a capability name");
                    return None;
                }
            },
            _ => {
                self.error(
                    Code::E0105,
                    arg.span,
                    "expected a capability name, written bare or quoted",
                )
                .help = Some(format!("write `({h} IoNetwork)`"));
                return None;
            }
        };
        match Capability::from_name(name) {
            Some(c) => {
                self.references.push(Reference {
                    span: arg.span,
                    target: RefTarget::Capability(c),
                    definition: false,
                });
                Some(c)
            }
            None => {
                let d = Diagnostic::new(
                    Code::E0202,
                    arg.span,
                    format!("unknown capability `{name}`"),
                );
                let d = match suggest::closest(name, Capability::ALL.iter().map(|c| c.name())) {
                    Some(s) => d.with_suggestion(s),
                    None => {
                        d.with_help("`:help` lists the 14 capabilities; e.g. IoNetwork, IoPersist")
                    }
                };
                self.diags.push(d);
                None
            }
        }
    }

    fn ffi_call(&mut self, args: &[Node], span: Span) -> (Expr, Ty) {
        let Some(name_node) = args.first() else {
            self.error(
                Code::E0105,
                self.form_head,
                "`ffi-call` needs a function name",
            );
            return (Expr::nil(span), None);
        };
        let name = match &name_node.kind {
            NodeKind::Symbol(s) => Some(s.clone()),
            NodeKind::Str(s) => Some(s.clone()),
            NodeKind::Quote(q) => q.as_symbol().map(Into::into),
            _ => None,
        };
        let Some(name) = name else {
            self.error(
                Code::E0105,
                name_node.span,
                "the function name of `ffi-call` must be written literally",
            )
            .help = Some("names are never computed at run time: write a symbol or a string".into());
            return (Expr::nil(span), None);
        };
        let arg_exprs: Vec<(Expr, Ty)> = args[1..].iter().map(|a| self.expr(a)).collect();
        let Some(idx) = self.env.registry.index_of(&name) else {
            let names = self.env.registry.names();
            let d = Diagnostic::new(
                Code::E0102,
                name_node.span,
                format!("unknown FFI function `{name}`"),
            );
            let d = match suggest::closest(&name, names) {
                Some(s) => d.with_suggestion(s),
                None => d.with_help("`jue registry` lists the registered functions"),
            };
            self.diags.push(d);
            return (Expr::nil(span), None);
        };
        self.references.push(Reference {
            span: name_node.span,
            target: RefTarget::Ffi(idx),
            definition: false,
        });
        self.check_tier_use(&name, &ExprKind::Ffi(idx), name_node.span);
        let sig = self.env.registry.signature(idx).clone();
        self.check_signature(&name, &sig, name_node.span, &args[1..], &arg_exprs, None);
        let ty = sig.known_return();
        let es = arg_exprs.into_iter().map(|(e, _)| e).collect();
        (
            Expr {
                kind: ExprKind::CallFfi(idx, es, name_node.span),
                span,
            },
            ty,
        )
    }

    fn try_form(&mut self, args: &[Node], span: Span) -> (Expr, Ty) {
        let catch = args
            .last()
            .and_then(|c| c.proper_items())
            .filter(|i| i.first().and_then(Node::as_symbol) == Some("catch"));
        let Some(catch) = catch else {
            self.error(
                Code::E0105,
                self.form_head,
                "`try` needs a final `(catch err handler ...)`",
            )
            .help = Some("write `(try body ... (catch e (error-message e)))`".into());
            return (Expr::nil(span), None);
        };
        let Some(var) = catch.get(1).filter(|v| v.as_symbol().is_some()) else {
            self.error(
                Code::E0105,
                catch.first().map_or(span, |c| c.span),
                "`catch` needs a variable name",
            );
            return (Expr::nil(span), None);
        };
        if !self.bindable(var) {
            return (Expr::nil(span), None);
        }
        let body_nodes = &args[..args.len() - 1];
        let (body, _) = self.body(body_nodes, span);
        let mark = self.scopes.len();
        let id = self.bind(var, LocalKind::Catch, Some(Type::Error), None);
        let (handler, _) = self.body(&catch[2..], span);
        self.unbind_to(mark);
        (
            Expr {
                kind: ExprKind::Try(body, id, handler),
                span,
            },
            None,
        )
    }

    /// A call: resolves the head, checks arity and known argument types.
    fn call(&mut self, head: &Node, args: &[Node], span: Span) -> (Expr, Ty) {
        let arg_exprs: Vec<(Expr, Ty)> = args.iter().map(|a| self.expr(a)).collect();
        let into_exprs = |v: Vec<(Expr, Ty)>| v.into_iter().map(|(e, _)| e).collect::<Vec<_>>();
        if let Some(name) = head.as_symbol().filter(|s| !s.starts_with(':')) {
            if SPECIAL_FORMS.contains(&name) && self.lookup_local(name).is_none() {
                unreachable!("special forms are handled before calls")
            }
            let Some((kind, _, arity)) = self.resolve(name, head.span) else {
                return (Expr::nil(span), None);
            };
            match kind {
                ExprKind::Builtin(id) => {
                    let b = builtins::get(id);
                    self.check_signature(name, &b.sig, head.span, args, &arg_exprs, None);
                    let ty = builtin_result_type(name, &b.sig, &arg_exprs);
                    return (
                        Expr {
                            kind: ExprKind::CallBuiltin(id, into_exprs(arg_exprs)),
                            span,
                        },
                        ty,
                    );
                }
                ExprKind::Ffi(idx) => {
                    let sig = self.env.registry.signature(idx).clone();
                    self.check_signature(name, &sig, head.span, args, &arg_exprs, None);
                    let ty = sig.known_return();
                    return (
                        Expr {
                            kind: ExprKind::CallFfi(idx, into_exprs(arg_exprs), head.span),
                            span,
                        },
                        ty,
                    );
                }
                kind => {
                    if let Some(a) = arity
                        && !a.accepts(args.len())
                    {
                        let def_span = self.definition_span(&kind);
                        let d = self.error(
                            Code::E0103,
                            head.span,
                            format!(
                                "`{name}` takes {}, but {} given",
                                a.text(),
                                given(args.len())
                            ),
                        );
                        if let Some(s) = def_span {
                            d.related.push(crate::ground::diagnostic::Related {
                                span: s,
                                message: "defined here".into(),
                            });
                        }
                    }
                    let callee = Expr {
                        kind,
                        span: head.span,
                    };
                    return (
                        Expr {
                            kind: ExprKind::Call(Box::new(callee), into_exprs(arg_exprs)),
                            span,
                        },
                        None,
                    );
                }
            }
        }
        let (callee, ty) = self.expr(head);
        if let Some(t) = ty.filter(|t| Type::Fn.rejects(*t)) {
            self.error(
                Code::E0104,
                head.span,
                format!("a value of type {t} is not a procedure"),
            );
        }
        (
            Expr {
                kind: ExprKind::Call(Box::new(callee), into_exprs(arg_exprs)),
                span,
            },
            None,
        )
    }

    fn definition_span(&mut self, kind: &ExprKind) -> Option<Span> {
        match kind {
            ExprKind::Local(id) => Some(self.locals[*id as usize].span),
            ExprKind::Global(name) => self
                .text_global_span(name.strip_prefix(PRELUDE_PREFIX).unwrap_or(name))
                .or_else(|| self.env.globals.get(&**name).and_then(|g| g.span)),
            _ => None,
        }
    }

    /// E0103 for a wrong count and E0104 for arguments of known, unaccepted types.
    fn check_signature(
        &mut self,
        name: &str,
        sig: &Signature,
        head: Span,
        args: &[Node],
        arg_exprs: &[(Expr, Ty)],
        related: Option<Span>,
    ) {
        if !sig.accepts_count(args.len()) {
            let d = self.error(
                Code::E0103,
                head,
                format!(
                    "`{name}` takes {}, but {} given",
                    sig.arity_text(),
                    given(args.len())
                ),
            );
            d.help = Some(format!("`{name}` is {sig}"));
            if let Some(s) = related {
                d.related.push(crate::ground::diagnostic::Related {
                    span: s,
                    message: "defined here".into(),
                });
            }
            return;
        }
        for (i, (a, (_, ty))) in args.iter().zip(arg_exprs).enumerate() {
            let (Some(known), Some(param)) = (ty, sig.param(i)) else {
                continue;
            };
            if param.rejects(*known) {
                self.error(
                    Code::E0104,
                    a.span,
                    format!(
                        "argument {} of `{name}` must be {param}, but this is {known}",
                        i + 1
                    ),
                )
                .help = Some(format!("`{name}` is {sig}"));
            }
        }
    }
}

fn given(n: usize) -> String {
    match n {
        1 => "1 was".into(),
        n => format!("{n} were"),
    }
}

/// The result type of a built-in call: arithmetic follows its arguments (language §6).
fn builtin_result_type(name: &str, sig: &Signature, args: &[(Expr, Ty)]) -> Ty {
    if matches!(name, "+" | "-" | "*" | "/" | "abs" | "min" | "max") {
        if args.iter().any(|(_, t)| *t == Some(Type::Float)) {
            return Some(Type::Float);
        }
        if args.iter().all(|(_, t)| *t == Some(Type::Int)) {
            return Some(Type::Int);
        }
        return Some(Type::Number);
    }
    sig.known_return()
}

enum DefValue<'n> {
    Lambda {
        params: ParamSrc<'n>,
        body: &'n [Node],
    },
    Expr(&'n Node),
}

fn is_definition(n: &Node) -> bool {
    matches!(n.head_symbol(), Some("define" | "def"))
}

/// The arity of a parameter list wherever it is written.
fn src_arity(p: ParamSrc<'_>) -> Option<Arity> {
    match p {
        ParamSrc::Node(n) => params_arity(n),
        ParamSrc::Items(items, tail) => Some(Arity {
            required: items.len(),
            variadic: tail.is_some(),
        }),
    }
}

fn lambda_arity_of(e: &Expr) -> Option<Arity> {
    match &e.kind {
        ExprKind::Lambda(l) => Some(Arity {
            required: l.params.len(),
            variadic: l.rest.is_some(),
        }),
        _ => None,
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

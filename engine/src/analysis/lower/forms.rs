//! The special forms: definitions, lambdas and parameter lists, the `let` family,
//! `cond`, bodies, `set!`, tier blocks, capability forms, `ffi-call` and `try`.

use super::*;
use crate::analysis::env::Arity;
use crate::analysis::globals::{lambda_arity, params_arity, tier_of_keyword};
use crate::analysis::ir::{Clause, Expr, ExprKind, Lambda, LocalId, LocalKind};
use crate::analysis::{RefTarget, Reference};
use crate::ground::builtins;
use crate::ground::diagnostic::{Code, Diagnostic};
use crate::ground::ffi::{Capability, TrustTier, Type};
use crate::ground::span::Span;
use crate::ground::suggest;
use crate::syntax::tree::{Node, NodeKind};
use std::collections::HashSet;

impl Lowerer<'_> {
    pub(super) fn list_form(
        &mut self,
        node: &Node,
        items: &[Node],
        name: Option<&str>,
    ) -> (Expr, Ty) {
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

    pub(super) fn special_form(
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
            "import" => {
                self.error(
                    Code::E0105,
                    self.form_head,
                    "`import` is allowed only as a top-level form of a file",
                )
                .help =
                    Some("move it out to the top level, outside any `begin` or tier form".into());
                (Expr::nil(span), None)
            }
            _ => return None,
        };
        Some(r)
    }

    pub(super) fn tier_form(&mut self, node: &Node, h: &str, items: &[Node]) -> (Expr, Ty) {
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

    pub(super) fn cond(&mut self, args: &[Node], span: Span) -> (Expr, Ty) {
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
    pub(super) fn body(&mut self, nodes: &[Node], _span: Span) -> (Vec<Expr>, Ty) {
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
        let mut seen: Vec<(String, Span)> = Vec::new();
        for d in &nodes[..defs_end] {
            if let Some((name, value)) = self.define_parts(d) {
                // Two internal definitions of one name in one body (E0105).
                let n = name.as_symbol().unwrap_or_default().to_string();
                if let Some((_, first)) = seen.iter().find(|(m, _)| *m == n) {
                    let first = *first;
                    self.error(
                        Code::E0105,
                        name.span,
                        format!("`{n}` is already defined in this body"),
                    )
                    .related
                    .push(crate::ground::diagnostic::Related {
                        span: first,
                        message: "first defined here".into(),
                    });
                    continue;
                }
                seen.push((n, name.span));
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
    pub(super) fn define_parts<'n>(&mut self, node: &'n Node) -> Option<(&'n Node, DefValue<'n>)> {
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
    /// Names starting with `%` belong to the engine (the prelude's own globals):
    /// no program may define, bind or assign one (language §7).
    pub(super) fn reserved(&self, name: &str) -> bool {
        name.starts_with('%') && self.env.mode != Mode::Prelude
    }

    pub(super) fn reserved_error(&mut self, name: &str, span: Span) {
        self.error(
            Code::E0105,
            span,
            format!("`{name}` is a reserved name: names starting with `%` belong to the engine"),
        );
    }

    pub(super) fn bindable(&mut self, name: &Node) -> bool {
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
            Some(s) if self.reserved(s) => {
                self.reserved_error(s, name.span);
                false
            }
            Some(_) => true,
            None => {
                self.error(Code::E0105, name.span, "expected a variable name");
                false
            }
        }
    }

    pub(super) fn parse_params<'n>(&mut self, src: ParamSrc<'n>) -> Option<Params<'n>> {
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

    pub(super) fn lambda(
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

    pub(super) fn let_form(&mut self, h: &str, node: &Node, args: &[Node]) -> (Expr, Ty) {
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
                    let arity = self.value_arity(&e);
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
                    let arity = self.value_arity(&e);
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

    pub(super) fn named_let(&mut self, loop_name: &Node, args: &[Node], span: Span) -> (Expr, Ty) {
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
    pub(super) fn binding_list<'n>(&mut self, list: &'n Node) -> Option<Vec<(&'n Node, &'n Node)>> {
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

    pub(super) fn set(&mut self, args: &[Node], span: Span) -> (Expr, Ty) {
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
        if self.reserved(name) {
            self.reserved_error(name, target.span);
            return (Expr::nil(span), None);
        }
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
        if self.text_global(name).is_none()
            && let Some(internal) = self.env.module.and_then(|m| m.resolve(name))
        {
            let file = self
                .env
                .module
                .and_then(|m| m.files.get(internal))
                .map_or("its file", |f| &**f)
                .to_string();
            self.error(
                Code::E0105,
                target.span,
                format!("cannot assign to `{name}`: it is imported from {file}"),
            )
            .help = Some(format!(
                "an imported name belongs to its file: assign it there (a procedure of {file} can do it), or define a name of your own"
            ));
            return (Expr::nil(span), None);
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

    pub(super) fn capability_arg(
        &mut self,
        h: &str,
        args: &[Node],
        _span: Span,
    ) -> Option<Capability> {
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

    pub(super) fn ffi_call(&mut self, args: &[Node], span: Span) -> (Expr, Ty) {
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

    pub(super) fn try_form(&mut self, args: &[Node], span: Span) -> (Expr, Ty) {
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
}

pub(super) enum DefValue<'n> {
    Lambda {
        params: ParamSrc<'n>,
        body: &'n [Node],
    },
    Expr(&'n Node),
}

pub(super) fn is_definition(n: &Node) -> bool {
    matches!(n.head_symbol(), Some("define" | "def"))
}

/// The arity of a parameter list wherever it is written.
pub(super) fn src_arity(p: ParamSrc<'_>) -> Option<Arity> {
    match p {
        ParamSrc::Node(n) => params_arity(n),
        ParamSrc::Items(items, tail) => Some(Arity {
            required: items.len(),
            variadic: tail.is_some(),
        }),
    }
}

impl Lowerer<'_> {
    /// The arity of a bound value when it is a known function: a lambda, or a
    /// local or global known function (so `(let ((h f)) (h 1 2))` is checked).
    pub(super) fn value_arity(&mut self, e: &Expr) -> Option<Arity> {
        match &e.kind {
            ExprKind::Local(id) => self.local_arity[*id as usize],
            ExprKind::Global(g) => {
                let g = g.strip_prefix(PRELUDE_PREFIX).unwrap_or(g).to_string();
                match self.text_global(&g) {
                    Some((a, _)) if !self.is_assigned(&g) => a,
                    Some(_) => None,
                    None => self.env.global(g.as_str()).and_then(|gi| gi.arity),
                }
            }
            _ => lambda_arity_of(e),
        }
    }
}

pub(super) fn lambda_arity_of(e: &Expr) -> Option<Arity> {
    match &e.kind {
        ExprKind::Lambda(l) => Some(Arity {
            required: l.params.len(),
            variadic: l.rest.is_some(),
        }),
        _ => None,
    }
}

//! Names: resolving a symbol to a local, a global, a built-in or an FFI function
//! (with "did you mean" when none), and the tier rule on every use (E0201).

use super::*;
use crate::analysis::env::{Arity, Mode};
use crate::analysis::ir::{Expr, ExprKind};
use crate::analysis::{RefTarget, Reference};
use crate::ground::builtins;
use crate::ground::diagnostic::{Code, Diagnostic};
use crate::ground::ffi::Type;
use crate::ground::span::Span;
use crate::ground::suggest;

impl Lowerer<'_> {
    /// Resolves a name used as a value.
    pub(super) fn variable(&mut self, name: &str, span: Span) -> (Expr, Ty) {
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
    pub(super) fn resolve(
        &mut self,
        name: &str,
        span: Span,
    ) -> Option<(ExprKind, Ty, Option<Arity>)> {
        let r = self.resolve_name(name, span)?;
        self.check_tier_use(name, &r.0, span);
        Some(r)
    }

    /// The call rule: code of tier T may use only known functions of tier T or higher.
    pub(super) fn check_tier_use(&mut self, name: &str, kind: &ExprKind, span: Span) {
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
                    None => match self.env.global(g) {
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
    pub(super) fn resolve_name(
        &mut self,
        name: &str,
        span: Span,
    ) -> Option<(ExprKind, Ty, Option<Arity>)> {
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
        if text_global.is_none()
            && let Some(internal) = self.env.module.and_then(|m| m.resolve(name))
        {
            // An imported name: the imported file's own global (language §13).
            let internal: Box<str> = internal.into();
            let arity = self.env.global(&internal).and_then(|g| g.arity);
            self.references.push(Reference {
                span,
                target: RefTarget::Global(internal.clone()),
                definition: false,
            });
            return Some((ExprKind::Global(internal), arity.map(|_| Type::Fn), arity));
        }
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

    pub(super) fn unbound(
        &mut self,
        name: &str,
        span: Span,
    ) -> Option<(ExprKind, Ty, Option<Arity>)> {
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
        // `u/nope` of an alias `u`: suggestions come from what `u`'s file defines.
        if let Some(m) = self.env.module
            && let Some((alias, _)) = name.split_once('/')
            && m.aliases.iter().any(|a| &**a == alias)
        {
            let prefix = format!("{alias}/");
            let names = m
                .names
                .keys()
                .filter(|n| n.starts_with(&prefix))
                .map(|n| &**n);
            let d = Diagnostic::new(Code::E0101, span, format!("unbound variable `{name}`"))
                .with_help(format!(
                    "the file imported as `{alias}` defines no such name"
                ));
            let d = match suggest::closest(name, names) {
                Some(s) => d.with_suggestion(s),
                None => d,
            };
            self.diags.push(d);
            return None;
        }
        let locals: Vec<&str> = self.scopes.iter().map(|(n, _)| &**n).collect();
        let candidates = locals
            .into_iter()
            .chain(self.cx.globals.keys().map(|k| &**k))
            .chain(self.env.globals.keys().map(String::as_str))
            .chain(
                self.env
                    .module
                    .into_iter()
                    .flat_map(|m| m.names.keys().map(|k| &**k)),
            )
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

    pub(super) fn definition_span(&mut self, kind: &ExprKind) -> Option<Span> {
        match kind {
            ExprKind::Local(id) => Some(self.locals[*id as usize].span),
            ExprKind::Global(name) => self
                .text_global_span(name.strip_prefix(PRELUDE_PREFIX).unwrap_or(name))
                .or_else(|| self.env.global(name).and_then(|g| g.span)),
            _ => None,
        }
    }
}

//! Calls: the head's kind (built-in, FFI, known user function, value), argument
//! counts and known argument types against the signature (E0103, E0104).

use super::*;
use crate::analysis::ir::{Expr, ExprKind};
use crate::ground::builtins;
use crate::ground::diagnostic::Code;
use crate::ground::ffi::{Signature, Type};
use crate::ground::span::Span;
use crate::syntax::tree::Node;

impl Lowerer<'_> {
    /// A call: resolves the head, checks arity and known argument types.
    pub(super) fn call(&mut self, head: &Node, args: &[Node], span: Span) -> (Expr, Ty) {
        let arg_exprs: Vec<(Expr, Ty)> = args.iter().map(|a| self.expr(a)).collect();
        let into_exprs = |v: Vec<(Expr, Ty)>| v.into_iter().map(|(e, _)| e).collect::<Vec<_>>();
        if let Some(name) = head.as_symbol().filter(|s| !s.starts_with(':')) {
            if SPECIAL_FORMS.contains(&name) && self.lookup_local(name).is_none() {
                unreachable!("special forms are handled before calls")
            }
            let Some((kind, head_ty, arity)) = self.resolve(name, head.span) else {
                return (Expr::nil(span), None);
            };
            match kind {
                ExprKind::Builtin(id) => {
                    let b = builtins::get(id);
                    self.check_signature(name, &b.sig, head.span, args, &arg_exprs, None);
                    if b.name == "dict" && !args.len().is_multiple_of(2) {
                        self.error(
                            Code::E0103,
                            head.span,
                            format!(
                                "`{name}` takes keys and values in pairs, but {} given",
                                given(args.len())
                            ),
                        );
                    }
                    let ty = builtin_result_type(name, &b.sig, &arg_exprs);
                    return (
                        Expr {
                            kind: ExprKind::CallBuiltin(id, into_exprs(arg_exprs), head.span),
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
                    // A local of known non-procedure type in head position.
                    if let Some(t) = head_ty.filter(|t| Type::Fn.rejects(*t)) {
                        self.error(
                            Code::E0104,
                            head.span,
                            format!("`{name}` is of type {t}, not a procedure"),
                        );
                    }
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

    /// E0103 for a wrong count and E0104 for arguments of known, unaccepted types.
    pub(super) fn check_signature(
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
        // With two signatures (`sort`), a call is fine if either accepts its
        // known argument types; otherwise the first one's complaints are reported.
        if sig.alt.is_some() && sig.alternatives().any(|s| accepts_known(s, arg_exprs)) {
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

/// Whether a signature accepts the count and every known argument type.
fn accepts_known(sig: &Signature, args: &[(Expr, Ty)]) -> bool {
    let mut one = sig.clone();
    one.alt = None;
    one.accepts_count(args.len())
        && args
            .iter()
            .enumerate()
            .all(|(i, (_, t))| match (t, one.param(i)) {
                (Some(k), Some(p)) => !p.rejects(*k),
                _ => true,
            })
}

pub(super) fn given(n: usize) -> String {
    match n {
        1 => "1 was".into(),
        n => format!("{n} were"),
    }
}

/// The result type of a built-in call: arithmetic follows its arguments (language §6).
pub(super) fn builtin_result_type(name: &str, sig: &Signature, args: &[(Expr, Ty)]) -> Ty {
    if matches!(name, "+" | "-" | "*" | "/" | "abs" | "min" | "max") {
        if args.iter().any(|(_, t)| *t == Some(Type::Float)) {
            return Some(Type::Float);
        }
        if args.iter().all(|(_, t)| *t == Some(Type::Int)) {
            return Some(Type::Int);
        }
        return Some(Type::Number);
    }
    if sig.alt.is_some() {
        // Known only when the known argument types select one signature.
        let fits: Vec<&Signature> = sig
            .alternatives()
            .filter(|s| accepts_known(s, args))
            .collect();
        return match fits.as_slice() {
            [one] => one.known_return(),
            _ => None,
        };
    }
    sig.known_return()
}

//! The analysed program: special forms lowered, every name resolved, spans kept.
//! The compiler reads only this; the language server reads it for navigation.

use crate::ground::bytecode::Datum;
use crate::ground::ffi::{Capability, TrustTier};
use crate::ground::span::Span;

/// Index of a local variable in [`crate::analysis::Analysis::locals`].
pub type LocalId = u32;

/// An expression and its span.
#[derive(Clone, Debug)]
pub struct Expr {
    /// What it does.
    pub kind: ExprKind,
    /// Where it is written.
    pub span: Span,
}

/// A `cond` clause.
#[derive(Clone, Debug)]
pub struct Clause {
    /// The test; `None` for `else`.
    pub test: Option<Expr>,
    /// The body; empty means "the test's value".
    pub body: Vec<Expr>,
}

/// A lambda after analysis.
#[derive(Clone, Debug)]
pub struct Lambda {
    /// The binding it is written in, if any (`#<fn NAME/2>`).
    pub name: Option<String>,
    /// Required parameters.
    pub params: Vec<LocalId>,
    /// The rest parameter of a variadic lambda.
    pub rest: Option<LocalId>,
    /// The body.
    pub body: Vec<Expr>,
    /// Variables of enclosing functions it uses, in capture order.
    pub captures: Vec<LocalId>,
    /// Its trust tier.
    pub tier: TrustTier,
}

/// What an expression does.
#[derive(Clone, Debug)]
pub enum ExprKind {
    /// A constant.
    Const(Datum),
    /// A local variable.
    Local(LocalId),
    /// A user global, by name.
    Global(Box<str>),
    /// A built-in as a value.
    Builtin(u16),
    /// An FFI function as a value.
    Ffi(u32),
    /// `if`, with else defaulting to nil.
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `cond`.
    Cond(Vec<Clause>),
    /// `and`.
    And(Vec<Expr>),
    /// `or`.
    Or(Vec<Expr>),
    /// A sequence; empty is nil.
    Begin(Vec<Expr>),
    /// A closure.
    Lambda(Box<Lambda>),
    /// Bindings evaluated in order, then the body.
    Let(Vec<(LocalId, Expr)>, Vec<Expr>),
    /// Mutually recursive bindings, then the body.
    Letrec(Vec<(LocalId, Expr)>, Vec<Expr>),
    /// `set!` of a local.
    SetLocal(LocalId, Box<Expr>),
    /// `set!` of a global.
    SetGlobal(Box<str>, Box<Expr>),
    /// A top-level definition.
    Define(Box<str>, Box<Expr>),
    /// A call through a value.
    Call(Box<Expr>, Vec<Expr>),
    /// A call of a built-in known at compile time, with the span of its head.
    CallBuiltin(u16, Vec<Expr>, Span),
    /// A call of an FFI function known at compile time, with the span of its name.
    CallFfi(u32, Vec<Expr>, Span),
    /// `(require-capability C)`.
    RequireCap(Capability),
    /// `(has-capability? C)`.
    HasCap(Capability),
    /// `try` body, the error variable, the handler.
    Try(Vec<Expr>, LocalId, Vec<Expr>),
}

impl Expr {
    /// A constant nil at a span.
    pub fn nil(span: Span) -> Expr {
        Expr {
            kind: ExprKind::Const(Datum::Nil),
            span,
        }
    }
}

/// What kind of binding made a local.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalKind {
    /// A lambda parameter.
    Param,
    /// `let`, `let*` binding.
    Let,
    /// `letrec`, internal `define`, named-let name: visible in its own initialiser.
    Rec,
    /// The error variable of `catch`.
    Catch,
}

/// A local variable.
#[derive(Clone, Debug)]
pub struct LocalInfo {
    /// Its name.
    pub name: Box<str>,
    /// Where it is bound.
    pub span: Span,
    /// How it is bound.
    pub kind: LocalKind,
    /// Whether a function other than its own uses it.
    pub captured: bool,
    /// Whether `set!` assigns it.
    pub mutated: bool,
    /// Whether anything reads it.
    pub used: bool,
}

impl LocalInfo {
    /// Whether it must live in a heap cell: shared between functions and possibly
    /// assigned after a closure copied it.
    pub fn boxed(&self) -> bool {
        self.captured && (self.mutated || self.kind == LocalKind::Rec)
    }
}

/// One top-level form, lowered.
#[derive(Clone, Debug)]
pub struct TopItem {
    /// The code.
    pub expr: Expr,
    /// Its tier.
    pub tier: TrustTier,
    /// Its statically known type (language §6), `None` when not known
    /// (`:type` shows that as `Any`).
    pub ty: Option<crate::ground::ffi::Type>,
}

impl Expr {
    /// Calls `f` on each direct sub-expression, mutably.
    pub fn for_each_child_mut<'a>(&'a mut self, mut f: impl FnMut(&'a mut Expr)) {
        match &mut self.kind {
            ExprKind::Const(_)
            | ExprKind::Local(_)
            | ExprKind::Global(_)
            | ExprKind::Builtin(_)
            | ExprKind::Ffi(_)
            | ExprKind::RequireCap(_)
            | ExprKind::HasCap(_) => {}
            ExprKind::If(a, b, c) => {
                f(a);
                f(b);
                f(c);
            }
            ExprKind::Cond(clauses) => {
                for c in clauses {
                    if let Some(t) = &mut c.test {
                        f(t);
                    }
                    c.body.iter_mut().for_each(&mut f);
                }
            }
            ExprKind::And(es) | ExprKind::Or(es) | ExprKind::Begin(es) => es.iter_mut().for_each(f),
            ExprKind::Lambda(l) => l.body.iter_mut().for_each(f),
            ExprKind::Let(binds, body) | ExprKind::Letrec(binds, body) => {
                binds.iter_mut().for_each(|(_, e)| f(e));
                body.iter_mut().for_each(f);
            }
            ExprKind::SetLocal(_, v) | ExprKind::SetGlobal(_, v) | ExprKind::Define(_, v) => f(v),
            ExprKind::Call(callee, args) => {
                f(callee);
                args.iter_mut().for_each(f);
            }
            ExprKind::CallBuiltin(_, args, _) | ExprKind::CallFfi(_, args, _) => {
                args.iter_mut().for_each(f)
            }
            ExprKind::Try(body, _, handler) => {
                body.iter_mut().for_each(&mut f);
                handler.iter_mut().for_each(f);
            }
        }
    }

    /// Gives the text's own globals (names not starting with `%`) their file's
    /// prefix: an imported file's globals are distinct from every other file's.
    pub fn prefix_globals(&mut self, prefix: &str) {
        let mut work: Vec<&mut Expr> = vec![self];
        while let Some(e) = work.pop() {
            match &mut e.kind {
                ExprKind::Global(n) | ExprKind::SetGlobal(n, _) | ExprKind::Define(n, _)
                    if !n.starts_with('%') =>
                {
                    *n = format!("{prefix}{n}").into();
                }
                _ => {}
            }
            e.for_each_child_mut(|c| work.push(c));
        }
    }

    /// Calls `f` on each direct sub-expression.
    pub fn for_each_child<'a>(&'a self, mut f: impl FnMut(&'a Expr)) {
        match &self.kind {
            ExprKind::Const(_)
            | ExprKind::Local(_)
            | ExprKind::Global(_)
            | ExprKind::Builtin(_)
            | ExprKind::Ffi(_)
            | ExprKind::RequireCap(_)
            | ExprKind::HasCap(_) => {}
            ExprKind::If(a, b, c) => {
                f(a);
                f(b);
                f(c);
            }
            ExprKind::Cond(clauses) => {
                for c in clauses {
                    if let Some(t) = &c.test {
                        f(t);
                    }
                    c.body.iter().for_each(&mut f);
                }
            }
            ExprKind::And(es) | ExprKind::Or(es) | ExprKind::Begin(es) => es.iter().for_each(f),
            ExprKind::Lambda(l) => l.body.iter().for_each(f),
            ExprKind::Let(binds, body) | ExprKind::Letrec(binds, body) => {
                binds.iter().for_each(|(_, e)| f(e));
                body.iter().for_each(f);
            }
            ExprKind::SetLocal(_, v) | ExprKind::SetGlobal(_, v) | ExprKind::Define(_, v) => f(v),
            ExprKind::Call(callee, args) => {
                f(callee);
                args.iter().for_each(f);
            }
            ExprKind::CallBuiltin(_, args, _) | ExprKind::CallFfi(_, args, _) => {
                args.iter().for_each(f)
            }
            ExprKind::Try(body, _, handler) => {
                body.iter().for_each(&mut f);
                handler.iter().for_each(f);
            }
        }
    }
}

//! Capability inference and the warnings W0301/W0302 (language §8).
//!
//! Inference: a definition needs C if its body uses C (an FFI function requiring C,
//! called or written as a value) or uses a known function that needs C; computed to a
//! fixpoint. Calls through values add nothing.

use super::Analysis;
use super::env::Env;
use super::ir::{Expr, ExprKind, LocalId};
use crate::diagnostic::{Code, Diagnostic};
use crate::ffi::{CapSet, Capability};
use crate::syntax::span::Span;
use std::collections::HashMap;

/// A known function: a user global or a local bound to a lambda and never assigned.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Global(Box<str>),
    Local(LocalId),
}

#[derive(Default)]
struct Info {
    direct: CapSet,
    uses: Vec<Key>,
}

struct Pass<'a> {
    an: &'a Analysis,
    env: &'a Env<'a>,
    /// Names of the text's top-level functions (known functions).
    text_fns: std::collections::HashSet<&'a str>,
    info: HashMap<Key, Info>,
    top: Info,
    needs: HashMap<Key, CapSet>,
}

/// The capabilities known functions need and the input needs, plus the warnings.
pub struct Inferred {
    /// Per top-level definition name.
    pub global_needs: HashMap<String, CapSet>,
    /// What the top-level forms need, directly or through what they use.
    pub input_needs: CapSet,
    /// W0301 and W0302.
    pub diagnostics: Vec<Diagnostic>,
    /// Per top-level definition, the known globals its body uses.
    pub global_uses: HashMap<String, Vec<String>>,
}

/// Runs inference and the capability warnings over an analysis.
pub fn infer(an: &Analysis, env: &Env<'_>, tier_errors: &[Span], repl: bool) -> Inferred {
    let text_fns = an
        .definitions
        .iter()
        .filter(|d| d.arity.is_some())
        .map(|d| d.name.as_str())
        .collect();
    let mut p = Pass {
        an,
        env,
        text_fns,
        info: HashMap::new(),
        top: Info::default(),
        needs: HashMap::new(),
    };
    for item in &an.items {
        p.collect(&item.expr, None);
    }
    p.fixpoint();
    let mut input = p.top.direct;
    for k in &p.top.uses {
        input = input.union(p.need_of(k));
    }
    let mut w = Warn {
        p: &p,
        diags: Vec::new(),
        active: Vec::new(),
        tier_errors,
        assumed: env.assumed,
    };
    let tops: Vec<&Expr> = an.items.iter().map(|i| &i.expr).collect();
    w.sequence(&tops, CapSet::EMPTY, !repl);
    let mut global_needs = HashMap::new();
    for (k, n) in &p.needs {
        if let Key::Global(g) = k {
            global_needs.insert(g.to_string(), *n);
        }
    }
    let mut global_uses = HashMap::new();
    for (k, inf) in &p.info {
        if let Key::Global(g) = k {
            let uses: Vec<String> = inf
                .uses
                .iter()
                .filter_map(|u| match u {
                    Key::Global(n) => Some(n.to_string()),
                    Key::Local(_) => None,
                })
                .collect();
            global_uses.insert(g.to_string(), uses);
        }
    }
    Inferred {
        global_needs,
        global_uses,
        input_needs: input,
        diagnostics: w.diags,
    }
}

impl Pass<'_> {
    fn known_local(&self, id: LocalId) -> bool {
        let l = &self.an.locals[id as usize];
        !l.mutated
    }

    fn known_global(&self, name: &str) -> bool {
        self.text_fns.contains(name)
            || self
                .env
                .globals
                .get(name)
                .is_some_and(|g| g.arity.is_some())
    }

    fn record(&mut self, owner: &Option<Key>, f: impl FnOnce(&mut Info)) {
        match owner {
            Some(k) => f(self.info.entry(k.clone()).or_default()),
            None => f(&mut self.top),
        }
    }

    /// Pass 1: direct uses and uses of known functions, per owning definition.
    fn collect(&mut self, e: &Expr, owner: Option<Key>) {
        match &e.kind {
            ExprKind::Ffi(i) | ExprKind::CallFfi(i, ..) => {
                if let Some(c) = self.env.registry.function(*i).required_capability {
                    self.record(&owner, |inf| inf.direct.insert(c));
                }
            }
            ExprKind::Global(g) if self.known_global(g) => {
                let k = Key::Global(g.clone());
                self.record(&owner, |inf| inf.uses.push(k));
            }
            ExprKind::Local(id) if self.known_local(*id) => {
                let k = Key::Local(*id);
                self.record(&owner, |inf| inf.uses.push(k));
            }
            _ => {}
        }
        // Children; a lambda bound by a definition belongs to that definition.
        match &e.kind {
            ExprKind::Define(name, v) => {
                // A known function (a lambda, or an alias of one) owns what its value uses.
                let o = if self.known_global(name) {
                    Some(Key::Global(name.clone()))
                } else {
                    owner
                };
                self.collect(v, o);
            }
            ExprKind::Let(binds, body) | ExprKind::Letrec(binds, body) => {
                for (id, init) in binds {
                    let o = if matches!(init.kind, ExprKind::Lambda(_)) && self.known_local(*id) {
                        Some(Key::Local(*id))
                    } else {
                        owner.clone()
                    };
                    self.collect(init, o);
                }
                for b in body {
                    self.collect(b, owner.clone());
                }
            }
            _ => for_each_child(e, |c| self.collect(c, owner.clone())),
        }
    }

    /// Propagates needs from callees to callers with a worklist: each set only
    /// grows, by at most 14 capabilities, so this is linear in the uses.
    fn fixpoint(&mut self) {
        let mut callers: HashMap<Key, Vec<Key>> = HashMap::new();
        for (k, inf) in &self.info {
            self.needs.insert(k.clone(), inf.direct);
            for u in &inf.uses {
                callers.entry(u.clone()).or_default().push(k.clone());
            }
        }
        // Functions from earlier REPL inputs seed the needs of their callers.
        let mut work: Vec<Key> = callers.keys().cloned().collect();
        while let Some(k) = work.pop() {
            let n = self.need_of(&k);
            for c in callers.get(&k).map(Vec::as_slice).unwrap_or(&[]) {
                let cur = self.needs.get(c).copied().unwrap_or_default();
                let new = cur.union(n);
                if new != cur {
                    self.needs.insert(c.clone(), new);
                    work.push(c.clone());
                }
            }
        }
    }

    /// What a known function needs: inferred here, or from an earlier REPL input.
    fn need_of(&self, k: &Key) -> CapSet {
        if let Some(n) = self.needs.get(k) {
            return *n;
        }
        match k {
            Key::Global(g) => self
                .env
                .globals
                .get(&**g)
                .map(|g| g.needs)
                .unwrap_or_default(),
            Key::Local(_) => CapSet::EMPTY,
        }
    }

    /// What using this expression (as a name) needs.
    fn use_needs(&self, e: &Expr) -> CapSet {
        match &e.kind {
            ExprKind::Global(g) if self.known_global(g) => self.need_of(&Key::Global(g.clone())),
            ExprKind::Local(id) if self.known_local(*id) => self.need_of(&Key::Local(*id)),
            _ => CapSet::EMPTY,
        }
    }
}

struct Declaration {
    cap: Capability,
    span: Span,
    used: bool,
    report: bool,
}

struct Warn<'a, 'p> {
    p: &'a Pass<'p>,
    diags: Vec<Diagnostic>,
    active: Vec<Declaration>,
    tier_errors: &'a [Span],
    assumed: CapSet,
}

impl Warn<'_, '_> {
    fn used(&mut self, caps: CapSet) {
        for d in &mut self.active {
            if caps.contains(d.cap) {
                d.used = true;
            }
        }
    }

    /// A body: a `require-capability` declares for the forms after it.
    fn sequence(&mut self, es: &[&Expr], mut declared: CapSet, report_top: bool) {
        let mark = self.active.len();
        for e in es {
            if let ExprKind::RequireCap(c) = e.kind {
                self.active.push(Declaration {
                    cap: c,
                    span: e.span,
                    used: false,
                    report: report_top,
                });
                declared.insert(c);
                continue;
            }
            self.expr(e, declared);
        }
        for d in self.active.drain(mark..) {
            if !d.used && d.report {
                self.diags.push(
                    Diagnostic::new(
                        Code::W0302,
                        d.span,
                        format!(
                            "`(require-capability {})` but nothing after it uses {}",
                            d.cap, d.cap
                        ),
                    )
                    .with_help(
                        "remove the declaration, or move it to the body that uses the capability",
                    ),
                );
            }
        }
    }

    fn expr(&mut self, e: &Expr, declared: CapSet) {
        match &e.kind {
            ExprKind::Ffi(i) | ExprKind::CallFfi(i, ..) => {
                let f = self.p.env.registry.function(*i);
                if let Some(c) = f.required_capability {
                    self.used(CapSet::EMPTY.union([c].into_iter().collect()));
                    let span = match &e.kind {
                        ExprKind::CallFfi(_, _, head) => *head,
                        _ => e.span,
                    };
                    if !declared.contains(c)
                        && !self.assumed.contains(c)
                        && !self.tier_errors.contains(&span)
                    {
                        self.diags.push(
                            Diagnostic::new(
                                Code::W0301,
                                span,
                                format!(
                                    "`{}` uses {c}, which is neither declared nor granted",
                                    f.name
                                ),
                            )
                            .with_help(format!(
                                "add `(require-capability {c})` before it, or grant {c}"
                            )),
                        );
                    }
                }
            }
            ExprKind::Global(_) | ExprKind::Local(_) => {
                let n = self.p.use_needs(e);
                self.used(n);
            }
            _ => {}
        }
        match &e.kind {
            ExprKind::Begin(es) => self.sequence(&es.iter().collect::<Vec<_>>(), declared, true),
            ExprKind::Lambda(l) => {
                self.sequence(&l.body.iter().collect::<Vec<_>>(), declared, true)
            }
            ExprKind::Let(binds, body) | ExprKind::Letrec(binds, body) => {
                for (_, init) in binds {
                    self.expr(init, declared);
                }
                self.sequence(&body.iter().collect::<Vec<_>>(), declared, true);
            }
            ExprKind::Try(body, _, handler) => {
                self.sequence(&body.iter().collect::<Vec<_>>(), declared, true);
                self.sequence(&handler.iter().collect::<Vec<_>>(), declared, true);
            }
            ExprKind::Cond(clauses) => {
                for c in clauses {
                    if let Some(t) = &c.test {
                        self.expr(t, declared);
                    }
                    self.sequence(&c.body.iter().collect::<Vec<_>>(), declared, true);
                }
            }
            _ => for_each_child(e, |c| self.expr(c, declared)),
        }
    }
}

/// Calls `f` on each direct sub-expression.
fn for_each_child(e: &Expr, mut f: impl FnMut(&Expr)) {
    match &e.kind {
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
        ExprKind::CallBuiltin(_, args) | ExprKind::CallFfi(_, args, _) => args.iter().for_each(f),
        ExprKind::Try(body, _, handler) => {
            body.iter().for_each(&mut f);
            handler.iter().for_each(f);
        }
    }
}

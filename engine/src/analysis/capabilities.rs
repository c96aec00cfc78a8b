//! Capability inference and the warnings W0301/W0302 (language §8).
//!
//! Inference: a definition needs C if its body uses C (an FFI function requiring C,
//! called or written as a value) or uses a known function that needs C; computed to a
//! fixpoint. Calls through values add nothing.
//!
//! It runs in three steps so the incremental document can redo only what an edit
//! touched: [`summarize`] reads one unit's lowered forms once (what each definition
//! uses directly); [`Inference::resolve`] joins the summaries of the whole text and
//! propagates needs to a fixpoint (cheap: it sees only names); [`warn`] walks one
//! unit's forms for W0301/W0302 given the needs.
//!
//! Guards: code that runs only when `(has-capability? C)` was true is not a use
//! of C: the then-branch of an `if`/`when` on it, the body of a `cond` clause
//! testing it, the rest of an `and` after it; negated with `not`: the
//! else-branch, an `unless` body, the later `cond` clauses, the rest of an `or`
//! (see `guards`). There is no W0301, and a function whose only uses of C are
//! guarded does not need C. Each use keeps the capabilities guarding it (its
//! mask), which the fixpoint subtracts from what the used function needs.

use super::env::Env;
use super::ir::{Clause, Expr, ExprKind, LocalId, LocalInfo, TopItem};
use crate::ground::diagnostic::{Code, Diagnostic};
use crate::ground::ffi::{CapSet, Capability, FfiRegistry};
use crate::ground::span::Span;
use std::collections::HashMap;

/// Global names as small numbers, stable for the life of a document.
pub type Names = crate::ground::intern::Interner;

/// Who owns what an expression uses.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Owner {
    /// The top level of the text (what running it needs).
    Top,
    /// A top-level definition: its own group when it is a known function, else its
    /// parent's (decided in `resolve`, where the whole text's functions are known).
    Define(u32, usize),
    /// A local bound to a lambda and never assigned.
    Local(LocalId),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Use {
    Global(u32),
    Local(LocalId),
}

#[derive(Clone, Debug, PartialEq)]
struct Group {
    owner: Owner,
    /// Capabilities its own code uses directly, outside guards of them.
    direct: CapSet,
    /// Names it uses directly, in order (globals not yet filtered to known
    /// functions), each with the capabilities guarding that use.
    uses: Vec<(Use, CapSet)>,
    /// With the local functions it reaches folded in: their direct capabilities
    /// and the globals they use (with the guards on the way).
    reach_direct: CapSet,
    reach_globals: Vec<(u32, CapSet)>,
}

/// `a` without the members of `b`.
fn minus(a: CapSet, b: CapSet) -> CapSet {
    CapSet(a.0 & !b.0)
}

/// What a test proves when it is true and when it is false: the capabilities
/// `has-capability?` then says the session holds. `(has-capability? C)`, `not` of a
/// test, `and` (true: all of its tests held) and `or` (false: none held).
fn guards(test: &Expr) -> (CapSet, CapSet) {
    match &test.kind {
        ExprKind::HasCap(c) => ([*c].into_iter().collect(), CapSet::EMPTY),
        ExprKind::CallBuiltin(b, args, _) if args.len() == 1 && is_not(*b) => {
            let (t, f) = guards(&args[0]);
            (f, t)
        }
        ExprKind::And(es) => (
            es.iter()
                .fold(CapSet::EMPTY, |acc, e| acc.union(guards(e).0)),
            CapSet::EMPTY,
        ),
        ExprKind::Or(es) => (
            CapSet::EMPTY,
            es.iter()
                .fold(CapSet::EMPTY, |acc, e| acc.union(guards(e).1)),
        ),
        _ => (CapSet::EMPTY, CapSet::EMPTY),
    }
}

/// Whether a built-in id is `not`.
fn is_not(b: u16) -> bool {
    static NOT: std::sync::OnceLock<Option<u16>> = std::sync::OnceLock::new();
    *NOT.get_or_init(|| crate::ground::builtins::find("not", true)) == Some(b)
}

/// Walks the children of `e`, giving each the capabilities guarding it: `guard`
/// (the enclosing ones) plus what the tests before it prove.
fn for_each_guarded<'a>(e: &'a Expr, guard: CapSet, mut f: impl FnMut(&'a Expr, CapSet)) {
    match &e.kind {
        ExprKind::If(c, t, el) => {
            let (yes, no) = guards(c);
            f(c, guard);
            f(t, guard.union(yes));
            f(el, guard.union(no));
        }
        ExprKind::Cond(clauses) => {
            let mut g = guard;
            for Clause { test, body } in clauses {
                let (yes, no) = test
                    .as_ref()
                    .map_or_else(|| (CapSet::EMPTY, CapSet::EMPTY), guards);
                if let Some(t) = test {
                    f(t, g);
                }
                for b in body {
                    f(b, g.union(yes));
                }
                g = g.union(no);
            }
        }
        ExprKind::And(es) | ExprKind::Or(es) => {
            let and = matches!(e.kind, ExprKind::And(_));
            let mut g = guard;
            for x in es {
                f(x, g);
                let (yes, no) = guards(x);
                g = g.union(if and { yes } else { no });
            }
        }
        _ => e.for_each_child(|c| f(c, guard)),
    }
}

/// One unit's capability facts, read once from its lowered forms.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    groups: Vec<Group>,
    /// Local id → its group, for locals that own one.
    local_group: HashMap<LocalId, usize>,
    /// Every global the unit's code names (for invalidation).
    pub globals: Vec<u32>,
    /// Whether the unit writes `require-capability` anywhere (its W0302 depends on
    /// what other definitions need).
    pub declares: bool,
}

/// Reads the capability facts of a unit's forms; `intern` numbers global names.
pub fn summarize(
    items: &[TopItem],
    locals: &[LocalInfo],
    registry: &FfiRegistry,
    intern: &mut dyn FnMut(&str) -> u32,
) -> Summary {
    let mut c = Collect {
        locals,
        registry,
        intern,
        s: Summary::default(),
    };
    c.new_group(Owner::Top);
    for item in items {
        c.expr(&item.expr, 0, CapSet::EMPTY);
    }
    let mut s = c.s;
    s.globals.sort_unstable();
    s.globals.dedup();
    s.fold_locals();
    s
}

struct Collect<'a> {
    locals: &'a [LocalInfo],
    registry: &'a FfiRegistry,
    intern: &'a mut dyn FnMut(&str) -> u32,
    s: Summary,
}

impl Collect<'_> {
    fn new_group(&mut self, owner: Owner) -> usize {
        self.s.groups.push(Group {
            owner,
            direct: CapSet::EMPTY,
            uses: Vec::new(),
            reach_direct: CapSet::EMPTY,
            reach_globals: Vec::new(),
        });
        if let Owner::Local(id) = owner {
            self.s.local_group.insert(id, self.s.groups.len() - 1);
        }
        self.s.groups.len() - 1
    }

    fn known_local(&self, id: LocalId) -> bool {
        !self.locals[id as usize].mutated
    }

    /// Collects `e` into group `g`; `guard` holds the capabilities that
    /// `has-capability?` tests around it proved held.
    fn expr(&mut self, e: &Expr, g: usize, guard: CapSet) {
        match &e.kind {
            ExprKind::Ffi(i) | ExprKind::CallFfi(i, ..) => {
                if let Some(c) = self.registry.function(*i).required_capability
                    && !guard.contains(c)
                {
                    self.s.groups[g].direct.insert(c);
                }
            }
            // `spawn` and `kill` (language §8, §9).
            ExprKind::Builtin(id) | ExprKind::CallBuiltin(id, ..) => {
                if let Some(c) = crate::ground::builtins::get(*id).capability {
                    self.s.groups[g].direct.insert(c);
                }
            }
            ExprKind::Global(name) | ExprKind::SetGlobal(name, _) => {
                let id = (self.intern)(name);
                self.s.globals.push(id);
                if matches!(e.kind, ExprKind::Global(_)) {
                    self.s.groups[g].uses.push((Use::Global(id), guard));
                }
            }
            ExprKind::Local(id) if self.known_local(*id) => {
                self.s.groups[g].uses.push((Use::Local(*id), guard));
            }
            ExprKind::RequireCap(_) => self.s.declares = true,
            _ => {}
        }
        // Children; a lambda bound by a definition belongs to that definition.
        match &e.kind {
            ExprKind::Define(name, v) => {
                let id = (self.intern)(name);
                let d = self.new_group(Owner::Define(id, g));
                // A definition's needs are what calling it needs: guards around
                // the definition itself do not guard its callers.
                self.expr(v, d, CapSet::EMPTY);
            }
            ExprKind::Let(binds, body) | ExprKind::Letrec(binds, body) => {
                for (id, init) in binds {
                    if matches!(init.kind, ExprKind::Lambda(_)) && self.known_local(*id) {
                        // Likewise a local function: its uses carry the guards.
                        let l = self.new_group(Owner::Local(*id));
                        self.expr(init, l, CapSet::EMPTY);
                    } else {
                        self.expr(init, g, guard);
                    }
                }
                for b in body {
                    self.expr(b, g, guard);
                }
            }
            _ => for_each_guarded(e, guard, |c, cg| self.expr(c, g, cg)),
        }
    }
}

impl Summary {
    /// Folds into each group the local functions it reaches, with the guards on
    /// the way to each.
    fn fold_locals(&mut self) {
        for i in 0..self.groups.len() {
            let mut direct = CapSet::EMPTY;
            let mut globals = Vec::new();
            // (group, guard) pairs: at most 2^14 guards per group, in practice few.
            let mut seen = vec![(i, CapSet::EMPTY)];
            let mut work = vec![(i, CapSet::EMPTY)];
            while let Some((g, mask)) = work.pop() {
                let grp = &self.groups[g];
                direct = direct.union(minus(grp.direct, mask));
                for (u, m) in &grp.uses {
                    let m = mask.union(*m);
                    match u {
                        Use::Global(id) => globals.push((*id, m)),
                        Use::Local(l) => {
                            if let Some(&lg) = self.local_group.get(l)
                                && !seen.contains(&(lg, m))
                            {
                                seen.push((lg, m));
                                work.push((lg, m));
                            }
                        }
                    }
                }
            }
            globals.sort_unstable_by_key(|(id, m)| (*id, m.0));
            globals.dedup();
            self.groups[i].reach_direct = direct;
            self.groups[i].reach_globals = globals;
        }
    }
}

/// The needs of the text's known functions, propagated to a fixpoint.
#[derive(Clone, Debug, Default)]
pub struct Inference {
    /// Per global name number: whether it is a known function.
    known: Vec<bool>,
    /// Per global name number: its needs, when the text's code gives it any facts
    /// (else the session's earlier definition decides, see [`Inference::need_of`]).
    needs: Vec<Option<CapSet>>,
    /// The needs of earlier REPL inputs' functions, by number.
    earlier: Vec<CapSet>,
    /// What the top-level forms need.
    pub input_needs: CapSet,
}

impl Inference {
    /// Joins the summaries of a whole text (in order) and propagates needs. `text_fns`
    /// are the names of the text's definitions that are known functions.
    pub fn resolve<'s>(
        units: impl Iterator<Item = &'s Summary> + Clone,
        text_fns: impl Iterator<Item = u32>,
        names: &Names,
        env: &Env<'_>,
    ) -> Inference {
        let n = names.len();
        let mut known = vec![false; n];
        for id in text_fns {
            known[id as usize] = true;
        }
        let mut earlier = vec![CapSet::EMPTY; n];
        if !env.globals.is_empty() || env.module.is_some() {
            for (id, k) in known.iter_mut().enumerate() {
                if let Some(g) = env.global(names.name(id as u32)) {
                    *k |= g.arity.is_some();
                    earlier[id] = g.needs;
                }
            }
        }
        let mut needs: Vec<Option<CapSet>> = vec![None; n];
        // Per used name: its callers, each with the guards around the use.
        let mut callers: Vec<Vec<(u32, CapSet)>> = vec![Vec::new(); n];
        let mut top = CapSet::EMPTY;
        let mut top_uses = Vec::new();
        for s in units {
            for g in &s.groups {
                let owner = resolve_owner(&s.groups, g.owner, &known);
                let uses_known = g.reach_globals.iter().filter(|(u, _)| known[*u as usize]);
                match owner {
                    None => {
                        top = top.union(g.reach_direct);
                        top_uses.extend(uses_known);
                    }
                    Some(Key::Global(id)) => {
                        // An entry exists once anything was recorded for it.
                        let recorded = !g.direct.is_empty()
                            || g.uses.iter().any(|(u, _)| match u {
                                Use::Global(u) => known[*u as usize],
                                Use::Local(_) => true,
                            });
                        if recorded {
                            let cur = needs[id as usize].get_or_insert(CapSet::EMPTY);
                            *cur = cur.union(g.reach_direct);
                            for (u, mask) in uses_known {
                                callers[*u as usize].push((id, *mask));
                            }
                        }
                    }
                    // A local function's needs are folded into its users' groups.
                    Some(Key::Local) => {}
                }
            }
        }
        let mut inf = Inference {
            known,
            needs,
            earlier,
            input_needs: CapSet::EMPTY,
        };
        // Worklist: each set only grows, by at most 14 capabilities, so this is
        // linear in the uses.
        let mut work: Vec<u32> = (0..n as u32)
            .filter(|u| !callers[*u as usize].is_empty())
            .collect();
        while let Some(k) = work.pop() {
            let nk = inf.need_of(k);
            for &(c, mask) in &callers[k as usize] {
                let cur = inf.needs[c as usize].unwrap_or_default();
                let new = cur.union(minus(nk, mask));
                if new != cur {
                    inf.needs[c as usize] = Some(new);
                    work.push(c);
                }
            }
        }
        inf.input_needs = top_uses.iter().fold(top, |acc, (u, mask)| {
            acc.union(minus(inf.need_of(*u), *mask))
        });
        inf
    }

    /// Whether a global name number is a known function.
    pub fn known(&self, id: u32) -> bool {
        self.known.get(id as usize).copied().unwrap_or(false)
    }

    /// What a known global needs: inferred here, or from an earlier REPL input.
    pub fn need_of(&self, id: u32) -> CapSet {
        let i = id as usize;
        match self.needs.get(i) {
            Some(Some(n)) => *n,
            _ => self.earlier.get(i).copied().unwrap_or_default(),
        }
    }

    /// What the text's code makes a global need (empty when it gives no facts).
    pub fn inferred(&self, id: u32) -> CapSet {
        self.needs
            .get(id as usize)
            .copied()
            .flatten()
            .unwrap_or_default()
    }

    /// Whether the text's code gives a global any facts (an entry in `global_uses`).
    pub fn has_entry(&self, id: u32) -> bool {
        matches!(self.needs.get(id as usize), Some(Some(_)))
    }

    /// The known globals each of a unit's known definitions uses directly, appended
    /// to `out` (the REPL's redefinition rule reads this).
    pub fn global_uses(&self, s: &Summary, names: &Names, out: &mut HashMap<String, Vec<String>>) {
        for g in &s.groups {
            if let Some(Key::Global(id)) = resolve_owner(&s.groups, g.owner, &self.known) {
                if !self.has_entry(id) {
                    continue;
                }
                let list = out.entry(names.name(id).to_string()).or_default();
                for (u, _) in &g.uses {
                    if let Use::Global(u) = u
                        && self.known(*u)
                    {
                        list.push(names.name(*u).to_string());
                    }
                }
            }
        }
    }

    /// What each of a unit's known definitions needs by itself, appended to `out`:
    /// its direct capabilities and the known globals it uses with the guards
    /// around each use. A session recomputes needs from these when a definition
    /// changes, so needs can shrink as well as grow.
    pub fn own_needs(&self, s: &Summary, names: &Names, out: &mut HashMap<String, OwnNeeds>) {
        for g in &s.groups {
            if let Some(Key::Global(id)) = resolve_owner(&s.groups, g.owner, &self.known) {
                let own = out.entry(names.name(id).to_string()).or_default();
                own.direct = own.direct.union(g.reach_direct);
                // Every global, known here or not: in a REPL session a name
                // defined later as a function counts from then on.
                for (u, mask) in &g.reach_globals {
                    own.calls.push((names.name(*u).to_string(), *mask));
                }
            }
        }
    }
}

/// What a definition needs by itself (see [`Inference::own_needs`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OwnNeeds {
    /// Capabilities its code (and its local functions) use directly, unguarded.
    pub direct: CapSet,
    /// Globals it names where a call can reach them, each with the capabilities
    /// guarding the use.
    pub calls: Vec<(String, CapSet)>,
}

enum Key {
    Global(u32),
    Local,
}

/// The group a group's facts are recorded in: `None` for the top level.
fn resolve_owner(groups: &[Group], mut owner: Owner, known: &[bool]) -> Option<Key> {
    loop {
        match owner {
            Owner::Top => return None,
            Owner::Local(_) => return Some(Key::Local),
            Owner::Define(id, parent) => {
                if known[id as usize] {
                    return Some(Key::Global(id));
                }
                owner = groups[parent].owner;
            }
        }
    }
}

/// A top-level `require-capability`, whose W0302 waits for the rest of the text.
#[derive(Clone, Debug, PartialEq)]
pub struct TopDeclaration {
    /// The capability declared.
    pub cap: Capability,
    /// Where.
    pub span: Span,
    /// Whether the rest of its own unit uses it.
    pub used: bool,
}

/// What [`warn`] found in one unit.
#[derive(Clone, Debug, Default)]
pub struct Warnings {
    /// W0301 and W0302 inside the unit.
    pub diagnostics: Vec<Diagnostic>,
    /// Its top-level declarations, in order.
    pub declarations: Vec<TopDeclaration>,
    /// Every capability the unit's code uses (marks earlier units' declarations used).
    pub uses: CapSet,
}

/// Everything [`warn`] reads besides the unit.
pub struct WarnInput<'a> {
    /// The unit's summary.
    pub summary: &'a Summary,
    /// Global names.
    pub names: &'a Names,
    /// The text's needs.
    pub inference: &'a Inference,
    /// The registry.
    pub registry: &'a FfiRegistry,
    /// The unit's locals.
    pub locals: &'a [LocalInfo],
    /// Spans with an E0201, where W0301 is not also reported.
    pub tier_errors: &'a [Span],
    /// Capabilities assumed granted.
    pub assumed: CapSet,
    /// Capabilities declared by top-level forms of earlier units.
    pub declared: CapSet,
}

/// W0301/W0302 for one unit's forms.
pub fn warn(items: &[TopItem], input: &WarnInput<'_>) -> Warnings {
    let mut w = Warn {
        i: input,
        diags: Vec::new(),
        active: Vec::new(),
        uses: CapSet::EMPTY,
    };
    let tops: Vec<&Expr> = items.iter().map(|i| &i.expr).collect();
    let mut declarations = Vec::new();
    w.sequence(&tops, input.declared, Some(&mut declarations));
    Warnings {
        diagnostics: w.diags,
        declarations,
        uses: w.uses,
    }
}

/// The W0302 of a top-level declaration that nothing after it used.
pub fn unused_declaration(d: &TopDeclaration) -> Diagnostic {
    Diagnostic::new(
        Code::W0302,
        d.span,
        format!(
            "`(require-capability {})` but nothing after it uses {}",
            d.cap, d.cap
        ),
    )
    .with_help("remove the declaration, or move it to the body that uses the capability")
}

struct Declaration {
    cap: Capability,
    span: Span,
    used: bool,
}

struct Warn<'a, 'i> {
    i: &'a WarnInput<'i>,
    diags: Vec<Diagnostic>,
    active: Vec<Declaration>,
    uses: CapSet,
}

impl Warn<'_, '_> {
    fn used(&mut self, caps: CapSet) {
        self.uses = self.uses.union(caps);
        for d in &mut self.active {
            if caps.contains(d.cap) {
                d.used = true;
            }
        }
    }

    /// A use of `c` by `name` (an FFI function, `spawn`, `kill`) at `span`:
    /// W0301 unless declared, assumed granted, or already an E0201.
    fn use_of(&mut self, c: Capability, name: &str, span: Span, declared: CapSet) {
        self.used(CapSet::EMPTY.union([c].into_iter().collect()));
        if !declared.contains(c)
            && !self.i.assumed.contains(c)
            && !self.i.tier_errors.contains(&span)
        {
            self.diags.push(
                Diagnostic::new(
                    Code::W0301,
                    span,
                    format!("`{name}` uses {c}, which is neither declared nor granted"),
                )
                .with_help(format!(
                    "add `(require-capability {c})` before it, or grant {c}"
                )),
            );
        }
    }

    /// What using a name needs.
    fn use_needs(&self, e: &Expr) -> CapSet {
        let inf = self.i.inference;
        match &e.kind {
            ExprKind::Global(g) => match self.i.names.get(g) {
                Some(id) if inf.known(id) => inf.need_of(id),
                _ => CapSet::EMPTY,
            },
            ExprKind::Local(id) if !self.i.locals[*id as usize].mutated => {
                match self.i.summary.local_group.get(id) {
                    Some(&g) => {
                        let g = &self.i.summary.groups[g];
                        g.reach_globals
                            .iter()
                            .filter(|(u, _)| inf.known(*u))
                            .fold(g.reach_direct, |acc, (u, m)| {
                                acc.union(minus(inf.need_of(*u), *m))
                            })
                    }
                    None => CapSet::EMPTY,
                }
            }
            _ => CapSet::EMPTY,
        }
    }

    /// A body: a `require-capability` declares for the forms after it. At the top
    /// level (`top` given) declarations are handed back instead of reported.
    fn sequence(
        &mut self,
        es: &[&Expr],
        mut declared: CapSet,
        top: Option<&mut Vec<TopDeclaration>>,
    ) {
        let mark = self.active.len();
        for e in es {
            if let ExprKind::RequireCap(c) = e.kind {
                self.active.push(Declaration {
                    cap: c,
                    span: e.span,
                    used: false,
                });
                declared.insert(c);
                continue;
            }
            self.expr(e, declared);
        }
        let done: Vec<Declaration> = self.active.drain(mark..).collect();
        match top {
            Some(out) => out.extend(done.into_iter().map(|d| TopDeclaration {
                cap: d.cap,
                span: d.span,
                used: d.used,
            })),
            None => {
                for d in done.into_iter().filter(|d| !d.used) {
                    self.diags.push(unused_declaration(&TopDeclaration {
                        cap: d.cap,
                        span: d.span,
                        used: false,
                    }));
                }
            }
        }
    }

    fn expr(&mut self, e: &Expr, declared: CapSet) {
        match &e.kind {
            ExprKind::Ffi(i) | ExprKind::CallFfi(i, ..) => {
                let f = self.i.registry.function(*i);
                if let Some(c) = f.required_capability {
                    let span = match &e.kind {
                        ExprKind::CallFfi(_, _, head) => *head,
                        _ => e.span,
                    };
                    self.use_of(c, &f.name, span, declared);
                }
            }
            ExprKind::Builtin(id) | ExprKind::CallBuiltin(id, ..) => {
                let b = crate::ground::builtins::get(*id);
                if let Some(c) = b.capability {
                    let span = match &e.kind {
                        ExprKind::CallBuiltin(_, _, head) => *head,
                        _ => e.span,
                    };
                    self.use_of(c, b.name, span, declared);
                }
            }
            ExprKind::Global(g) if g.starts_with(crate::ground::builtins::MODULE_PREFIX) => {
                // An imported function's needs show at each use (language §13), as
                // an FFI function's do; a function of the same file's do not.
                let n = self.use_needs(e);
                self.used(n);
                let missing: Vec<Capability> = n
                    .iter()
                    .filter(|c| !declared.contains(*c) && !self.i.assumed.contains(*c))
                    .collect();
                if !missing.is_empty() && !self.i.tier_errors.contains(&e.span) {
                    let caps: Vec<&str> = missing.iter().map(|c| c.name()).collect();
                    let caps = caps.join(", ");
                    let name = crate::ground::builtins::visible_global(g);
                    self.diags.push(
                        Diagnostic::new(
                            Code::W0301,
                            e.span,
                            format!("imported `{name}` uses {caps}, which is neither declared nor granted"),
                        )
                        .with_help(format!(
                            "add `(require-capability {})` before it, or grant {caps}",
                            missing[0]
                        )),
                    );
                }
            }
            ExprKind::Global(_) | ExprKind::Local(_) => {
                let n = self.use_needs(e);
                self.used(n);
            }
            _ => {}
        }
        match &e.kind {
            ExprKind::Begin(es) => self.sequence(&es.iter().collect::<Vec<_>>(), declared, None),
            ExprKind::Lambda(l) => {
                self.sequence(&l.body.iter().collect::<Vec<_>>(), declared, None)
            }
            ExprKind::Let(binds, body) | ExprKind::Letrec(binds, body) => {
                for (_, init) in binds {
                    self.expr(init, declared);
                }
                self.sequence(&body.iter().collect::<Vec<_>>(), declared, None);
            }
            ExprKind::Try(body, _, handler) => {
                self.sequence(&body.iter().collect::<Vec<_>>(), declared, None);
                self.sequence(&handler.iter().collect::<Vec<_>>(), declared, None);
            }
            ExprKind::Cond(clauses) => {
                // What earlier tests proved false guards the later clauses.
                let mut held = declared;
                for c in clauses {
                    let (yes, no) = c
                        .test
                        .as_ref()
                        .map_or((CapSet::EMPTY, CapSet::EMPTY), guards);
                    if let Some(t) = &c.test {
                        self.expr(t, held);
                    }
                    self.sequence(&c.body.iter().collect::<Vec<_>>(), held.union(yes), None);
                    held = held.union(no);
                }
            }
            // A guarded use is as good as a declared one for W0301.
            _ => for_each_guarded(e, declared, |c, held| self.expr(c, held)),
        }
    }
}

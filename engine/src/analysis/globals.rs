//! The text's globals: what each top-level form defines and assigns (its shapes),
//! and the context every form is lowered against, built from all the shapes. Forward
//! references and known functions work in any order because the context exists
//! before any form is lowered; the incremental document rebuilds it from cached
//! shapes after each edit.

use super::env::{Arity, Env};
use crate::ground::builtins;
use crate::ground::ffi::{Signature, TrustTier};
use crate::ground::span::Span;
use crate::syntax::tree::{Node, NodeKind, TopForm};
use std::collections::{HashMap, HashSet};

/// One top-level definition as written, before any lowering.
#[derive(Clone, Debug, PartialEq)]
pub struct DefShape {
    /// The name defined.
    pub name: Box<str>,
    /// Where the name is written, relative to the unit's start.
    pub span: Span,
    /// Its arity when it is written as a function.
    pub arity: Option<Arity>,
    /// For `(define g f)`: the name it aliases, whose arity it takes.
    pub alias: Option<Box<str>>,
    /// The tier it is defined in.
    pub tier: TrustTier,
}

/// What a run of top-level forms says about the text's globals.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Shapes {
    /// Names some `set!` assigns (forms with syntax errors left out).
    pub assigned: Vec<Box<str>>,
    /// Definitions in order (broken forms included, so one syntax error does not
    /// cascade into "unbound" errors wherever the name is used).
    pub defines: Vec<DefShape>,
}

impl Shapes {
    /// Whether two shapes say the same but for where names are written: then the
    /// text context built from them is the same.
    pub fn same_but_spans(&self, other: &Shapes) -> bool {
        self.assigned == other.assigned
            && self.defines.len() == other.defines.len()
            && self.defines.iter().zip(&other.defines).all(|(a, b)| {
                (&a.name, a.arity, &a.alias, a.tier) == (&b.name, b.arity, &b.alias, b.tier)
            })
    }

    /// Reads the shapes of forms; spans stay as the forms have them.
    pub fn of(forms: &[TopForm], default_tier: TrustTier) -> Shapes {
        let mut shapes = Shapes::default();
        let mut work: Vec<&Node> = forms
            .iter()
            .filter(|f| !f.has_error)
            .map(|f| &f.node)
            .collect();
        while let Some(n) = work.pop() {
            if let NodeKind::List(l) = &n.kind {
                if let (Some("set!"), Some(target)) =
                    (n.head_symbol(), l.items.get(1).and_then(Node::as_symbol))
                {
                    shapes.assigned.push(target.into());
                }
                work.extend(l.items.iter());
                work.extend(l.tail.iter());
            }
        }
        for f in forms {
            let tier = f.annotation.map_or(default_tier, |a| a.0);
            let mut top = vec![(&f.node, tier)];
            while let Some((n, tier)) = top.pop() {
                let rest = || n.as_list().map_or(&[][..], |l| &l.items[1..]).iter().rev();
                match n.head_symbol() {
                    Some("begin" | "do") => top.extend(rest().map(|c| (c, tier))),
                    Some(h) if is_tier_keyword(h) => {
                        let t = tier_of_keyword(h).unwrap_or(tier);
                        top.extend(rest().map(|c| (c, t)))
                    }
                    Some("define" | "def") => {
                        if let Some((name, span, arity)) = definition_shape(n) {
                            let alias = n
                                .proper_items()
                                .filter(|i| i.len() == 3)
                                .and_then(|i| i[2].as_symbol())
                                .map(Box::from);
                            shapes.defines.push(DefShape {
                                name: name.into(),
                                span,
                                arity,
                                alias,
                                tier,
                            });
                        }
                    }
                    _ => {}
                }
            }
        }
        shapes
    }
}

/// A global defined in the text, as forms are lowered against it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TextGlobal {
    /// The unit (slot) of its first definition: a stable number, so that moving
    /// text changes nothing here.
    pub unit: u32,
    /// Which of the unit's definitions it is (its span is read from the unit's
    /// shapes, so edits that only move text leave the context alone).
    pub index: u32,
    /// Its arity when it is a known function (never assigned).
    pub arity: Option<Arity>,
    /// The tier of its first definition.
    pub tier: TrustTier,
}

/// The text's globals: every form is lowered against this.
#[derive(Clone, Debug, Default)]
pub struct TextContext {
    /// Names some `set!` in the text assigns: no known type or arity.
    pub assigned: HashSet<Box<str>>,
    /// Each global with its first definition.
    pub globals: HashMap<Box<str>, TextGlobal>,
}

impl TextContext {
    /// Builds the context from the shapes of each unit, in text order, with the
    /// unit's number.
    pub fn build<'s>(
        units: impl Iterator<Item = (u32, &'s Shapes)> + Clone,
        env: &Env<'_>,
    ) -> Self {
        let mut cx = TextContext::default();
        for (_, s) in units.clone() {
            cx.assigned.extend(s.assigned.iter().cloned());
        }
        for (unit, s) in units {
            for (index, d) in s.defines.iter().enumerate() {
                if cx.globals.contains_key(&d.name) {
                    continue;
                }
                // `(define g fs:read-file)`: an alias of a known function is one too.
                let arity = d
                    .arity
                    .or_else(|| cx.alias_arity(d.alias.as_deref()?, env))
                    .filter(|_| !cx.assigned.contains(&d.name));
                let g = TextGlobal {
                    unit,
                    index: index as u32,
                    arity,
                    tier: d.tier,
                };
                cx.globals.insert(d.name.clone(), g);
            }
        }
        cx
    }

    /// The arity of a name a global is defined as, when it names a known function.
    fn alias_arity(&self, target: &str, env: &Env<'_>) -> Option<Arity> {
        let from_sig = |s: &Signature| Arity {
            required: s.params.len(),
            variadic: s.rest.is_some(),
        };
        if let Some(g) = self.globals.get(target) {
            return g.arity;
        }
        if let Some(g) = env.globals.get(target) {
            return g.arity;
        }
        if let Some(id) = builtins::find(target, false) {
            return Some(from_sig(&builtins::get(id).sig));
        }
        env.registry
            .index_of(target)
            .map(|i| from_sig(env.registry.signature(i)))
    }

    /// The names whose facts (defined in which unit as which definition, arity,
    /// tier, assigned) differ between two contexts. A definition moving inside its
    /// unit is not a change: its own unit is lowered again anyway, and other units
    /// that point at it recorded the span they saw (see [`Deps::spans`]).
    pub fn changed_names(&self, other: &TextContext) -> HashSet<Box<str>> {
        let mut out = HashSet::new();
        for (n, g) in &self.globals {
            match other.globals.get(n) {
                Some(o) if o == g => {}
                _ => {
                    out.insert(n.clone());
                }
            }
        }
        for n in other.globals.keys() {
            if !self.globals.contains_key(n) {
                out.insert(n.clone());
            }
        }
        for n in self.assigned.symmetric_difference(&other.assigned) {
            out.insert(n.clone());
        }
        out
    }
}

/// Finds the units of a text by number.
pub trait Units {
    /// Where a unit starts, and its shapes.
    fn locate(&self, unit: u32) -> Option<(u32, &Shapes)>;
}

/// A text lowered as one unit has no other.
pub struct OneUnit;

impl Units for OneUnit {
    fn locate(&self, _: u32) -> Option<(u32, &Shapes)> {
        None
    }
}

/// Where a unit of forms is, for reading the text's globals.
#[derive(Clone, Copy)]
pub struct Place<'a> {
    /// Its number.
    pub unit: u32,
    /// Where it starts.
    pub base: u32,
    /// Its own shapes.
    pub own: &'a Shapes,
    /// The text's other units.
    pub units: &'a dyn Units,
}

impl Place<'_> {
    /// Where a global's first definition is, relative to this unit.
    pub fn span_of(&self, g: &TextGlobal) -> Option<Span> {
        let i = g.index as usize;
        if g.unit == self.unit {
            return Some(self.own.defines.get(i)?.span);
        }
        let (start, shapes) = self.units.locate(g.unit)?;
        let span = shapes.defines.get(i)?.span;
        Some(span.shifted(start).unshifted(self.base))
    }
}

/// What lowering a unit read from the context: re-lower it when any of that changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Deps {
    /// Names whose facts it read (sorted, without repeats once finished).
    pub names: Vec<Box<str>>,
    /// Names whose first definition, in another unit, it pointed at, with the span
    /// it saw relative to its own start: text edited between the two moves it.
    pub spans: Vec<(Box<str>, Span)>,
    /// Whether it read the whole list of names (a "did you mean" suggestion).
    pub all_names: bool,
}

impl Deps {
    /// Sorts and removes repeats.
    pub fn finish(&mut self) {
        self.names.sort_unstable();
        self.names.dedup();
        self.spans.sort_unstable();
        self.spans.dedup();
    }

    /// Whether lowering at `place` against `cx` could differ from what was recorded,
    /// given the names whose facts changed and whether the set of names changed.
    pub fn stale(
        &self,
        cx: &TextContext,
        place: &Place<'_>,
        changed: &HashSet<Box<str>>,
        names_changed: bool,
    ) -> bool {
        (self.all_names && names_changed)
            || (!changed.is_empty() && self.names.iter().any(|n| changed.contains(n)))
            || self
                .spans
                .iter()
                .any(|(n, seen)| cx.globals.get(n).and_then(|g| place.span_of(g)) != Some(*seen))
    }
}

/// The tier a top-level form runs in: a `(:tier ...)` head, else its `@tier`
/// annotation, else the default.
pub fn form_tier(form: &TopForm, default: TrustTier) -> TrustTier {
    let annotated = form.annotation.map_or(default, |a| a.0);
    form.node
        .head_symbol()
        .and_then(tier_of_keyword)
        .unwrap_or(annotated)
}

pub(super) fn is_tier_keyword(h: &str) -> bool {
    h.starts_with(':')
}

pub(super) fn tier_of_keyword(h: &str) -> Option<TrustTier> {
    h.strip_prefix(':').and_then(TrustTier::from_name)
}

/// The arity of a parameter list node.
pub(super) fn params_arity(params: &Node) -> Option<Arity> {
    match &params.kind {
        NodeKind::Symbol(_) => Some(Arity {
            required: 0,
            variadic: true,
        }),
        NodeKind::Nil => Some(Arity {
            required: 0,
            variadic: false,
        }),
        NodeKind::List(l) => Some(Arity {
            required: l.items.len(),
            variadic: l.tail.is_some(),
        }),
        _ => None,
    }
}

/// The arity of a value node that is syntactically a lambda.
pub(super) fn lambda_arity(v: &Node) -> Option<Arity> {
    match v.head_symbol() {
        Some("lambda" | "λ" | "fn") => params_arity(v.as_list()?.items.get(1)?),
        _ => None,
    }
}

/// The name, name span and (if a function) arity of a top-level definition node.
fn definition_shape(n: &Node) -> Option<(&str, Span, Option<Arity>)> {
    let items = n.proper_items()?;
    let head = items[0].as_symbol()?;
    let target = items.get(1)?;
    match &target.kind {
        NodeKind::Symbol(s) => {
            let arity = match (head, items.len()) {
                (_, 3) => lambda_arity(&items[2]),
                ("def", n) if n > 3 => params_arity(&items[2]),
                _ => None,
            };
            Some((s, target.span, arity))
        }
        NodeKind::List(l) if head == "define" => {
            let name = l.items.first()?;
            let arity = Arity {
                required: l.items.len() - 1,
                variadic: l.tail.is_some(),
            };
            Some((name.as_symbol()?, name.span, Some(arity)))
        }
        _ => None,
    }
}

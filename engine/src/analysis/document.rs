//! The incremental document (architecture: "Incremental analysis"). A text is a
//! list of slots (runs of top-level forms that parse the same alone as in the whole
//! text, see [`crate::syntax::parser::Slot`]), each with its parse, its shapes, its
//! lowering, its capability summary and its warnings, all with spans relative to
//! the slot's start so that moving a slot costs nothing.
//!
//! An edit re-parses from the slot it starts in until the parser is back in step
//! with an old slot boundary. [`Document::refresh`] then rebuilds the text context
//! from the cached shapes, re-lowers the slots that were re-parsed or whose
//! recorded reads of the context changed (a definition's arity, tier, existence,
//! `set!`, or a related span), re-joins capability inference over the summaries,
//! and re-warns the slots whose inputs to W0301/W0302 changed. The assembled result
//! equals [`super::analyze`] of the whole text (a property test holds the two side
//! by side). A text that leaves a form open is one slot parsed with the column-0
//! recovery rule, exactly as the whole-text parser does.

use super::capabilities::{self, Inference, Names, Summary, Warnings};
use super::env::{Env, Mode};
use super::globals::{Shapes, TextContext};
use super::ir::{Expr, ExprKind, LocalId, TopItem};
use super::{Analysis, Definition, Lowered, RefTarget, Reference, lower_forms};
use crate::diagnostic::Diagnostic;
use crate::ffi::{CapSet, TrustTier};
use crate::syntax::parser::{Parse, Slot, parse, parse_slots};

/// One slot and everything known about it.
#[derive(Clone, Debug)]
pub struct SlotData {
    /// Length of its text.
    pub len: u32,
    /// Its forms and syntax diagnostics (spans relative to the slot).
    pub parse: Parse,
    shapes: Shapes,
    /// Its lowering (spans relative to the slot, locals numbered from 0).
    pub lowered: Lowered,
    summary: Summary,
    /// Name numbers of its definitions that are known functions.
    text_fns: Vec<u32>,
    warnings: Warnings,
    /// Top-level declarations of earlier slots its warnings were computed with.
    warned_with: CapSet,
    /// Whether it must be lowered again.
    dirty: bool,
}

impl SlotData {
    fn new(slot: Slot, default_tier: TrustTier) -> SlotData {
        SlotData {
            len: slot.len,
            shapes: Shapes::of(&slot.parse.forms, default_tier),
            parse: slot.parse,
            lowered: Lowered::default(),
            summary: Summary::default(),
            text_fns: Vec::new(),
            warnings: Warnings::default(),
            warned_with: CapSet::EMPTY,
            dirty: true,
        }
    }
}

/// What the last refresh redid, for tests and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Work {
    /// Slots re-parsed by the edits since the previous refresh.
    pub reparsed: usize,
    /// Slots lowered again.
    pub relowered: usize,
    /// Slots whose warnings were recomputed.
    pub rewarned: usize,
}

/// A text analysed slot by slot, kept up to date edit by edit.
#[derive(Clone, Debug)]
pub struct Document {
    text: String,
    slots: Vec<SlotData>,
    /// Where each slot starts.
    starts: Vec<u32>,
    /// Whether the text leaves a form open (one slot, parsed whole with recovery).
    whole: bool,
    default_tier: TrustTier,
    names: Names,
    cx: TextContext,
    inference: Inference,
    /// Whether every slot is lowered and warned against the current text.
    fresh: bool,
    /// Slots re-parsed since the last refresh.
    reparsed: usize,
    work: Work,
}

/// Why an edit was refused: its range is not within the text at character boundaries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadEdit {
    /// The range asked for.
    pub range: std::ops::Range<usize>,
    /// The text's length.
    pub len: usize,
}

impl std::fmt::Display for BadEdit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "edit range {}..{} is not within the text of {} bytes at character boundaries",
            self.range.start, self.range.end, self.len
        )
    }
}

impl std::error::Error for BadEdit {}

impl Document {
    /// A document for a text; call [`Document::refresh`] before reading analyses.
    pub fn new(text: String, default_tier: TrustTier) -> Document {
        let mut d = Document {
            text,
            slots: Vec::new(),
            starts: Vec::new(),
            whole: false,
            default_tier,
            names: Names::default(),
            cx: TextContext::default(),
            inference: Inference::default(),
            fresh: false,
            reparsed: 0,
            work: Work::default(),
        };
        d.reparse_from(0, 0, 0, 0);
        d
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Replaces `range` (byte offsets) by `new_text` and re-parses what it touched.
    pub fn edit(&mut self, range: std::ops::Range<usize>, new_text: &str) -> Result<(), BadEdit> {
        let (a, b) = (range.start, range.end);
        if a > b
            || b > self.text.len()
            || !self.text.is_char_boundary(a)
            || !self.text.is_char_boundary(b)
        {
            return Err(BadEdit {
                range,
                len: self.text.len(),
            });
        }
        self.text.replace_range(a..b, new_text);
        self.fresh = false;
        if self.whole {
            self.reparse_from(0, 0, 0, 0);
            return Ok(());
        }
        // The slot the edit starts in: the text before it is unchanged, so the
        // parser's state at its start is too.
        let i = self
            .starts
            .partition_point(|s| *s as usize <= a)
            .saturating_sub(1);
        let delta = new_text.len() as i64 - (b - a) as i64;
        self.reparse_from(i, a + new_text.len(), b, delta);
        Ok(())
    }

    /// Re-parses from slot `i` until a boundary at or after `new_end` that is an old
    /// slot boundary at or after `old_end` (moved by `delta`), then splices.
    fn reparse_from(&mut self, i: usize, new_end: usize, old_end: usize, delta: i64) {
        let start = self.starts.get(i).copied().unwrap_or(0) as usize;
        let starts = &self.starts;
        let mut sync = None;
        let parsed = parse_slots(&self.text, start, |pos| {
            if pos < new_end {
                return false;
            }
            let old = pos as i64 - delta;
            let j = starts.partition_point(|s| (*s as i64) < old);
            let hit = j < starts.len() && starts[j] as i64 == old && old as usize >= old_end;
            if hit {
                sync = Some(j);
            }
            hit
        });
        let tier = self.default_tier;
        match parsed {
            Some(new) => {
                let j = sync.unwrap_or(self.slots.len());
                self.reparsed += new.len();
                let new: Vec<SlotData> = new.into_iter().map(|s| SlotData::new(s, tier)).collect();
                if self.whole {
                    self.slots.clear();
                    self.whole = false;
                    self.slots = new;
                } else {
                    self.slots.splice(i..j, new);
                }
            }
            None => {
                // A form is left open: the whole text is one slot, parsed with recovery.
                let parse = parse(&self.text);
                self.reparsed += 1;
                self.whole = true;
                self.slots = vec![SlotData::new(
                    Slot {
                        len: self.text.len() as u32,
                        parse,
                    },
                    tier,
                )];
            }
        }
        self.starts.clear();
        let mut at = 0u32;
        for s in &self.slots {
            self.starts.push(at);
            at += s.len;
        }
    }

    /// Brings every analysis up to date with the text. `cancelled` is asked between
    /// slots: when it says so, the refresh stops (what it did is kept, what it did not
    /// stays to do) and `false` is returned.
    pub fn refresh(&mut self, env: &Env<'_>, cancelled: &dyn Fn() -> bool) -> bool {
        if self.fresh {
            return true;
        }
        self.work = Work {
            reparsed: std::mem::take(&mut self.reparsed),
            ..Work::default()
        };
        let cx = TextContext::build(
            self.starts
                .iter()
                .copied()
                .zip(self.slots.iter().map(|s| &s.shapes)),
            env,
        );
        let changed = self.cx.changed_names(&cx);
        let names_changed = changed
            .iter()
            .any(|n| self.cx.globals.contains_key(n) != cx.globals.contains_key(n));
        // Slots whose lowering read something that changed are lowered again.
        for (s, &base) in self.slots.iter_mut().zip(&self.starts) {
            if !s.dirty && s.lowered.deps.stale(&cx, base, &changed, names_changed) {
                s.dirty = true;
            }
        }
        for (s, &base) in self.slots.iter_mut().zip(&self.starts) {
            if !s.dirty {
                continue;
            }
            if cancelled() {
                return false;
            }
            s.lowered = lower_forms(&s.parse.forms, env, &cx, base, true);
            s.summary = capabilities::summarize(
                &s.lowered.items,
                &s.lowered.locals,
                env.registry,
                &mut self.names,
            );
            s.text_fns = s
                .lowered
                .definitions
                .iter()
                .filter(|d| d.arity.is_some())
                .map(|d| self.names.intern(&d.name))
                .collect();
            self.work.relowered += 1;
        }
        self.cx = cx;
        let inference = Inference::resolve(
            self.slots.iter().map(|s| &s.summary),
            self.slots.iter().flat_map(|s| s.text_fns.iter().copied()),
            &self.names,
            env,
        );
        let needs_changed: Vec<bool> = (0..self.names.len() as u32)
            .map(|id| {
                self.inference.known(id) != inference.known(id)
                    || self.inference.need_of(id) != inference.need_of(id)
            })
            .collect();
        let any_needs_changed = needs_changed.iter().any(|c| *c);
        let mut declared = CapSet::EMPTY;
        for s in &mut self.slots {
            // W0301 reads the declarations before the slot; W0302 reads what the
            // functions it uses need, and matters only where something is declared.
            let reads_needs = s.summary.declares || !declared.is_empty();
            let stale = s.dirty
                || s.warned_with != declared
                || (reads_needs
                    && any_needs_changed
                    && s.summary.globals.iter().any(|g| needs_changed[*g as usize]));
            if stale {
                s.warnings = capabilities::warn(
                    &s.lowered.items,
                    &capabilities::WarnInput {
                        summary: &s.summary,
                        names: &self.names,
                        inference: &inference,
                        registry: env.registry,
                        locals: &s.lowered.locals,
                        tier_errors: &s.lowered.tier_errors,
                        assumed: env.assumed,
                        declared,
                    },
                );
                s.warned_with = declared;
                s.dirty = false;
                self.work.rewarned += 1;
            }
            for d in &s.warnings.declarations {
                declared.insert(d.cap);
            }
        }
        self.inference = inference;
        self.fresh = true;
        true
    }

    /// What the last refresh (and the edits before it) redid.
    pub fn work(&self) -> Work {
        self.work
    }

    /// The slots with where each starts.
    pub fn slots(&self) -> impl Iterator<Item = (u32, &SlotData)> {
        self.starts.iter().copied().zip(&self.slots)
    }

    /// The slot containing an offset (the last one for the end of the text).
    pub fn slot_at(&self, offset: u32) -> Option<(u32, &SlotData)> {
        let i = self
            .starts
            .partition_point(|s| *s <= offset)
            .checked_sub(1)?;
        Some((self.starts[i], &self.slots[i]))
    }

    /// What a top-level definition needs (inferred over the whole text).
    pub fn needs_of(&self, name: &str) -> CapSet {
        self.names
            .get(name)
            .map(|id| self.inference.inferred(id))
            .unwrap_or_default()
    }

    /// What the top-level forms need.
    pub fn input_needs(&self) -> CapSet {
        self.inference.input_needs
    }

    /// All diagnostics, sorted by position.
    pub fn diagnostics(&self, env_mode: Mode) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        // A top-level declaration is used if the rest of its slot or any later slot uses it.
        let mut later = CapSet::EMPTY;
        let mut unused = Vec::new();
        for (&base, s) in self.starts.iter().zip(&self.slots).rev() {
            if env_mode != Mode::Repl {
                for d in &s.warnings.declarations {
                    if !d.used && !later.contains(d.cap) {
                        unused.push(capabilities::unused_declaration(d).shifted(base));
                    }
                }
            }
            later = later.union(s.warnings.uses);
        }
        for (&base, s) in self.starts.iter().zip(&self.slots) {
            let ds = s
                .parse
                .diagnostics
                .iter()
                .chain(&s.lowered.diagnostics)
                .chain(&s.warnings.diagnostics);
            out.extend(ds.map(|d| d.clone().shifted(base)));
        }
        out.extend(unused);
        out.sort_by_key(|d| (d.span.start, d.span.end));
        out
    }

    /// The whole text's forms and syntax diagnostics, as [`parse`] gives them.
    pub fn parse(&self) -> Parse {
        let mut p = Parse::default();
        for (&base, s) in self.starts.iter().zip(&self.slots) {
            p.forms.extend(s.parse.forms.iter().map(|f| {
                let mut f = f.clone();
                f.shift(base);
                f
            }));
            p.diagnostics
                .extend(s.parse.diagnostics.iter().map(|d| d.clone().shifted(base)));
        }
        p
    }

    /// The whole analysis, as [`super::analyze`] of the text gives it.
    pub fn analysis(&self, env_mode: Mode) -> Analysis {
        let mut an = Analysis {
            diagnostics: self.diagnostics(env_mode),
            input_needs: self.inference.input_needs,
            ..Analysis::default()
        };
        for (&base, s) in self.starts.iter().zip(&self.slots) {
            let first_local = an.locals.len() as LocalId;
            let l = &s.lowered;
            an.items.extend(l.items.iter().map(|i| {
                let mut e = i.expr.clone();
                shift_expr(&mut e, base, first_local);
                TopItem {
                    expr: e,
                    tier: i.tier,
                    ty: i.ty,
                }
            }));
            an.locals.extend(l.locals.iter().map(|x| {
                let mut x = x.clone();
                x.span = x.span.shifted(base);
                x
            }));
            an.definitions
                .extend(l.definitions.iter().map(|d| Definition {
                    name_span: d.name_span.shifted(base),
                    span: d.span.shifted(base),
                    needs: self.needs_of(&d.name),
                    ..d.clone()
                }));
            an.references
                .extend(l.references.iter().map(|r| r.shifted(base, first_local)));
            self.inference
                .global_uses(&s.summary, &self.names, &mut an.global_uses);
        }
        an
    }
}

impl Reference {
    /// The reference in a text where its slot starts at `base` and the slot's
    /// locals are numbered from `first_local`.
    pub fn shifted(&self, base: u32, first_local: LocalId) -> Reference {
        Reference {
            span: self.span.shifted(base),
            target: match &self.target {
                RefTarget::Local(id) => RefTarget::Local(id + first_local),
                t => t.clone(),
            },
            definition: self.definition,
        }
    }
}

/// Moves an expression's spans by `base` and renumbers its locals from `first`.
fn shift_expr(e: &mut Expr, base: u32, first: LocalId) {
    e.span = e.span.shifted(base);
    match &mut e.kind {
        ExprKind::Const(_)
        | ExprKind::Global(_)
        | ExprKind::Builtin(_)
        | ExprKind::Ffi(_)
        | ExprKind::RequireCap(_)
        | ExprKind::HasCap(_) => {}
        ExprKind::Local(id) => *id += first,
        ExprKind::If(a, b, c) => {
            for x in [a, b, c] {
                shift_expr(x, base, first);
            }
        }
        ExprKind::Cond(clauses) => {
            for c in clauses {
                if let Some(t) = &mut c.test {
                    shift_expr(t, base, first);
                }
                c.body.iter_mut().for_each(|x| shift_expr(x, base, first));
            }
        }
        ExprKind::And(es) | ExprKind::Or(es) | ExprKind::Begin(es) => {
            es.iter_mut().for_each(|x| shift_expr(x, base, first))
        }
        ExprKind::Lambda(l) => {
            for id in l
                .params
                .iter_mut()
                .chain(&mut l.rest)
                .chain(&mut l.captures)
            {
                *id += first;
            }
            l.body.iter_mut().for_each(|x| shift_expr(x, base, first));
        }
        ExprKind::Let(binds, body) | ExprKind::Letrec(binds, body) => {
            for (id, x) in binds {
                *id += first;
                shift_expr(x, base, first);
            }
            body.iter_mut().for_each(|x| shift_expr(x, base, first));
        }
        ExprKind::SetLocal(id, v) => {
            *id += first;
            shift_expr(v, base, first);
        }
        ExprKind::SetGlobal(_, v) | ExprKind::Define(_, v) => shift_expr(v, base, first),
        ExprKind::Call(callee, args) => {
            shift_expr(callee, base, first);
            args.iter_mut().for_each(|x| shift_expr(x, base, first));
        }
        ExprKind::CallBuiltin(_, args) => args.iter_mut().for_each(|x| shift_expr(x, base, first)),
        ExprKind::CallFfi(_, args, head) => {
            *head = head.shifted(base);
            args.iter_mut().for_each(|x| shift_expr(x, base, first));
        }
        ExprKind::Try(body, id, handler) => {
            *id += first;
            body.iter_mut()
                .chain(handler.iter_mut())
                .for_each(|x| shift_expr(x, base, first));
        }
    }
}

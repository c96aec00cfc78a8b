//! The incremental document (architecture: "Incremental analysis"). A text is a
//! list of slots (runs of top-level forms that parse the same alone as in the whole
//! text, see [`crate::syntax::parser::Slot`]), each with its syntax diagnostics, its
//! shapes, its lowering, its capability summary and its warnings, all with spans
//! relative to the slot's start so that moving a slot costs nothing. Syntax trees
//! and lowered code are not kept (a slot is re-read from the text when needed), so
//! memory stays a small multiple of the text.
//!
//! An edit re-parses from the slot it starts in until the parser is back in step
//! with an old slot boundary. [`Document::refresh`] then rebuilds the text context
//! only if a re-parsed slot defines or assigns something new, re-lowers the slots
//! that were re-parsed or whose recorded reads of the context changed (a
//! definition's arity, tier, place or existence, a `set!`), joins capability
//! inference again only if a summary changed, and re-warns the slots whose inputs
//! to W0301/W0302 changed. The assembled result equals [`super::analyze`] of the
//! whole text (a property test holds the two side by side). A text that leaves a
//! form or a string open is parsed whole at each edit, exactly as the whole-text
//! parser does (with the recovery rule when a form is open), still cut into slots:
//! those whose text is unchanged keep their analysis.

use super::capabilities::{self, Inference, Names, Summary, Warnings};
use super::env::{Env, Mode};
use super::globals::{Place, Shapes, TextContext, Units};
use super::ir::{Expr, ExprKind, LocalId, TopItem};
use super::{Analysis, Definition, Lowered, RefTarget, Reference, lower_forms};
use crate::ground::diagnostic::Diagnostic;
use crate::ground::ffi::{CapSet, TrustTier};
use crate::syntax::parser::{
    Parse, Slot, parse, parse_slot_recovering, parse_slots, parse_slots_whole,
};
use crate::syntax::tree::TopForm;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The next slot revision: process-wide, so a revision names one slot state in
/// one document and is never reused, even by a document made again.
static NEXT_REV: AtomicU64 = AtomicU64::new(1);

fn next_rev() -> u64 {
    NEXT_REV.fetch_add(1, Ordering::Relaxed)
}

/// A slot to change: it gets a new revision (readers' caches keyed by the old one
/// miss; a slot can change in place at the same address, so its address is no key).
fn slot_mut(slot: &mut Arc<SlotData>) -> &mut SlotData {
    let s = Arc::make_mut(slot);
    s.rev = next_rev();
    s
}

/// One slot and what is known about it.
#[derive(Clone, Debug)]
pub struct SlotData {
    /// Length of its text.
    pub len: u32,
    /// Its revision: new whenever the slot is made or changed (see [`SlotData::rev`]).
    rev: u64,
    /// The forms of a fresh parse, until the slot is lowered.
    pending: Option<Vec<TopForm>>,
    /// Its lowering (spans relative to the slot, locals numbered from 0); `items`
    /// is empty unless the document retains lowered code.
    pub lowered: Lowered,
    summary: Summary,
    /// Name numbers of its definitions that are known functions.
    text_fns: Vec<u32>,
    /// Numbers (in the document's `dep_names`) of the names its lowering read facts
    /// of (`lowered.deps.names` moved here as numbers: far smaller).
    dep_ids: Vec<u32>,
    warnings: Warnings,
}

impl SlotData {
    /// Its revision: a number given when the slot is made and again whenever it
    /// changes (lowered again, warned again), never reused in the process. Two
    /// slots with the same revision are the same text and analysis, up to where
    /// they start and what inference says of their definitions' needs.
    pub fn rev(&self) -> u64 {
        self.rev
    }
}

/// Per-slot facts read on every refresh, kept dense so a refresh of a large text
/// touches one small array instead of every slot.
#[derive(Clone, Copy, Debug, Default)]
struct Meta {
    /// A stable number (kept while the slot's shapes stay the same): the text
    /// context names slots by it.
    id: u32,
    /// It must be lowered again.
    dirty: bool,
    /// Its warnings must be computed again.
    rewarn: bool,
    /// Its lowering points at a definition in another slot (checked on every edit).
    cross: bool,
    /// It writes `require-capability` somewhere.
    declares: bool,
    /// Capabilities its top-level forms declare.
    top_declared: CapSet,
    /// Capabilities its code uses.
    uses: CapSet,
    /// The declarations of earlier slots its warnings were computed with.
    warned_with: CapSet,
    /// In whole-text mode, a hash of its text (to find it unchanged).
    hash: u64,
    /// How many diagnostics it has (syntax, lowering, warnings).
    diagnostics: u32,
    /// How many locals it has.
    locals: u32,
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
    /// Whether the text context was rebuilt.
    pub context: bool,
    /// Whether capability inference was joined again.
    pub inference: bool,
}

/// A text analysed slot by slot, kept up to date edit by edit.
#[derive(Clone, Debug)]
pub struct Document {
    /// Shared with snapshots until the next edit.
    text: Arc<String>,
    // Shared pieces, so a clone (a snapshot for readers) costs little.
    slots: Vec<Arc<SlotData>>,
    /// Each slot's shapes (apart, so lowering one slot can read another's).
    shapes: Vec<Arc<Shapes>>,
    meta: Vec<Meta>,
    /// Where each slot starts.
    starts: Vec<u32>,
    /// Each slot's syntax diagnostics (spans relative to the slot; apart, since in
    /// whole-text mode they change while the rest of a slot is reused).
    syntax: Vec<Vec<Diagnostic>>,
    /// Whether the text leaves a form or a string open: every edit then parses the
    /// whole text (as `parse` does), and slots whose text is unchanged keep their
    /// analysis.
    whole: bool,
    /// In whole-text mode, whether the column-0 recovery rule applied.
    recovering: bool,
    default_tier: TrustTier,
    retain_ir: bool,
    next_id: u32,
    /// Global names, numbered for capability inference.
    names: Arc<Names>,
    /// Every name lowering read facts of (locals' names too), numbered for `dep_ids`;
    /// apart from `names` so inference's tables stay the size of the globals.
    dep_names: Arc<Names>,
    cx: Arc<TextContext>,
    inference: Arc<Inference>,
    /// The context must be rebuilt (a slot's shapes changed).
    context_stale: bool,
    /// Inference must be joined again (slots came or went).
    inference_stale: bool,
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
    /// `default_tier` must be the tier of the environment it is refreshed in.
    pub fn new(text: String, default_tier: TrustTier) -> Document {
        let mut d = Document {
            text: Arc::new(text),
            slots: Vec::new(),
            shapes: Vec::new(),
            meta: Vec::new(),
            starts: Vec::new(),
            whole: false,
            recovering: false,
            syntax: Vec::new(),
            default_tier,
            retain_ir: false,
            next_id: 0,
            names: Arc::default(),
            dep_names: Arc::default(),
            cx: Arc::default(),
            inference: Arc::default(),
            context_stale: true,
            inference_stale: true,
            fresh: false,
            reparsed: 0,
            work: Work::default(),
        };
        d.reparse_from(0, 0, 0, 0);
        d
    }

    /// Keeps each slot's lowered code (for [`Document::analysis`]'s `items`); off
    /// by default, since nothing but a whole-text comparison reads it.
    pub fn retain_ir(&mut self, on: bool) {
        if on != self.retain_ir {
            self.retain_ir = on;
            for m in &mut self.meta {
                m.dirty = true;
            }
            self.fresh = false;
        }
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
        Arc::make_mut(&mut self.text).replace_range(a..b, new_text);
        self.fresh = false;
        if self.whole {
            self.reparse_from(0, 0, 0, 0);
            return Ok(());
        }
        // The slot the edit starts in: the text before it is unchanged, so the
        // parser's state at its start is too.
        let mut i = self
            .starts
            .partition_point(|s| *s as usize <= a)
            .saturating_sub(1);
        // A slot that starts just after a lone `\r`: text put there may turn it
        // into half of a `\r\n`, which moves the boundary, so the slot before
        // is read again too.
        if i > 0 && self.starts[i] as usize == a && self.text.as_bytes()[a - 1] == b'\r' {
            i -= 1;
        }
        let delta = new_text.len() as i64 - (b - a) as i64;
        self.reparse_from(i, a + new_text.len(), b, delta);
        Ok(())
    }

    fn new_slot(
        &mut self,
        slot: Slot,
        old: Option<(&SlotData, &Shapes, u32)>,
        keep_forms: bool,
        hash: u64,
    ) -> (Arc<SlotData>, Arc<Shapes>, Meta, Vec<Diagnostic>) {
        let shapes = Shapes::of(&slot.parse.forms, self.default_tier);
        // A slot replaced one for one keeps its number, so the context's facts stay
        // valid for every name it did not change (spans are read from the shapes).
        let id = match old {
            Some((_, o, id)) => {
                self.context_stale |= !o.same_but_spans(&shapes);
                id
            }
            None => {
                self.context_stale = true;
                self.next_id += 1;
                self.next_id
            }
        };
        let (summary, text_fns) = match old {
            // Kept to compare with after lowering: unchanged means inference holds.
            Some((o, _, _)) => (o.summary.clone(), o.text_fns.clone()),
            None => {
                self.inference_stale = true;
                Default::default()
            }
        };
        let data = SlotData {
            len: slot.len,
            rev: next_rev(),
            pending: keep_forms.then_some(slot.parse.forms),
            lowered: Lowered::default(),
            summary,
            text_fns,
            dep_ids: Vec::new(),
            warnings: Warnings::default(),
        };
        let meta = Meta {
            id,
            hash,
            dirty: true,
            ..Meta::default()
        };
        (
            Arc::new(data),
            Arc::new(shapes),
            meta,
            slot.parse.diagnostics,
        )
    }

    /// Re-parses from slot `i` until a boundary at or after `new_end` that is an old
    /// slot boundary at or after `old_end` (moved by `delta`), then splices.
    fn reparse_from(&mut self, i: usize, new_end: usize, old_end: usize, delta: i64) {
        let start = self.starts.get(i).copied().unwrap_or(0) as usize;
        let starts = &self.starts;
        let mut sync = None;
        // From whole-text mode every slot is read again (the text may be balanced now).
        let whole_before = self.whole;
        let parsed = parse_slots(&self.text, start, |pos| {
            if pos < new_end || whole_before {
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
        let was = (self.whole, self.recovering);
        let (range, new, whole, recovering) = match parsed {
            Some(new) if !self.whole => (i..sync.unwrap_or(self.slots.len()), new, false, false),
            Some(new) => (0..self.slots.len(), new, false, false),
            None => {
                // A form or string is left open: the whole text is parsed as `parse`
                // does, still cut into slots.
                let (new, recovering) = parse_slots_whole(&self.text);
                (0..self.slots.len(), new, true, recovering)
            }
        };
        self.whole = whole;
        self.recovering = recovering;
        // Whole-text mode to whole-text mode: a slot whose text did not change keeps
        // its analysis (found by position and hash).
        let reuse = whole && was == (true, recovering);
        self.reparsed += new.len();
        let old: Vec<(Arc<SlotData>, Arc<Shapes>, u32)> = self.slots[range.clone()]
            .iter()
            .cloned()
            .zip(self.shapes[range.clone()].iter().cloned())
            .zip(self.meta[range.clone()].iter().map(|m| m.id))
            .map(|((s, sh), id)| (s, sh, id))
            .collect();
        let one_for_one = old.len() == new.len();
        if !one_for_one {
            self.context_stale = true;
            self.inference_stale = true;
        }
        // Many new slots (opening a text): trees are read again one at a time when
        // lowered, rather than all held at once.
        let keep_forms = new.len() <= 64;
        let mut slots = Vec::with_capacity(new.len());
        let mut shapes = Vec::with_capacity(new.len());
        let mut metas = Vec::with_capacity(new.len());
        let mut syntax = Vec::with_capacity(new.len());
        let mut at = self.starts.get(range.start).copied().unwrap_or(0) as usize;
        for (k, slot) in new.into_iter().enumerate() {
            let len = slot.len as usize;
            let hash = if whole {
                text_hash(&self.text[at..at + len])
            } else {
                0
            };
            at += len;
            let kept = self.meta.get(range.start + k).copied();
            if let Some(m) = kept.filter(|m| {
                reuse && one_for_one && !m.dirty && !m.rewarn && m.hash == hash && hash != 0
            }) {
                let old_syntax = self.syntax[range.start + k].len() as u32;
                slots.push(old[k].0.clone());
                shapes.push(old[k].1.clone());
                metas.push(Meta {
                    diagnostics: m.diagnostics - old_syntax + slot.parse.diagnostics.len() as u32,
                    ..m
                });
                syntax.push(slot.parse.diagnostics);
                continue;
            }
            let prev = if one_for_one {
                Some((&*old[k].0, &*old[k].1, old[k].2))
            } else {
                None
            };
            let (s, sh, m, d) = self.new_slot(slot, prev, keep_forms, hash);
            slots.push(s);
            shapes.push(sh);
            metas.push(m);
            syntax.push(d);
        }
        self.slots.splice(range.clone(), slots);
        self.shapes.splice(range.clone(), shapes);
        self.syntax.splice(range.clone(), syntax);
        self.meta.splice(range, metas);
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
        // Lowering one slot reads others' shapes: held apart while slots change.
        let shapes = std::mem::take(&mut self.shapes);
        let done = self.refresh_with(&shapes, env, cancelled);
        self.shapes = shapes;
        done
    }

    fn refresh_with(
        &mut self,
        all_shapes: &[Arc<Shapes>],
        env: &Env<'_>,
        cancelled: &dyn Fn() -> bool,
    ) -> bool {
        self.work = Work {
            reparsed: std::mem::take(&mut self.reparsed),
            ..Work::default()
        };
        let lay = Layout {
            starts: self.starts.clone(),
            ids: self.meta.iter().map(|m| m.id).collect(),
            shapes: all_shapes,
        };
        let cx = self.update_context(&lay, env);
        self.recheck_pointers(&lay, &cx);
        if !self.lower_dirty(&lay, &cx, env, cancelled) {
            return false;
        }
        let needs_changed = self.join_inference(env);
        self.warn_stale(&lay, &cx, env, &needs_changed);
        self.fresh = true;
        true
    }

    /// Rebuilds the context if a slot's definitions changed, marking the slots
    /// whose reads of it changed; returns the current context.
    fn update_context(&mut self, lay: &Layout<'_>, env: &Env<'_>) -> Arc<TextContext> {
        if self.context_stale {
            self.work.context = true;
            let cx = TextContext::build(
                self.meta.iter().zip(lay.shapes).map(|(m, s)| (m.id, &**s)),
                env,
            );
            let changed = self.cx.changed_names(&cx);
            let names_changed = changed
                .iter()
                .any(|n| self.cx.globals.contains_key(n) != cx.globals.contains_key(n));
            if !changed.is_empty() {
                let mut changed_ids = vec![false; self.dep_names.len()];
                for n in &changed {
                    if let Some(id) = self.dep_names.get(n) {
                        changed_ids[id as usize] = true;
                    }
                }
                for (k, s) in self.slots.iter().enumerate() {
                    let place = lay.place(k, self.meta[k].id);
                    let m = &mut self.meta[k];
                    let read_changed = s.dep_ids.iter().any(|id| changed_ids[*id as usize]);
                    if !m.dirty
                        && (read_changed
                            || s.lowered.deps.stale(&cx, &place, &changed, names_changed))
                    {
                        m.dirty = true;
                    }
                }
            }
            // Committed now: every slot not yet lowered against it is marked dirty.
            self.cx = Arc::new(cx);
            self.context_stale = false;
        }
        self.cx.clone()
    }

    /// Marks slots that point at a definition in another slot whose place moved.
    fn recheck_pointers(&mut self, lay: &Layout<'_>, cx: &TextContext) {
        for (k, s) in self.slots.iter().enumerate() {
            let m = &mut self.meta[k];
            if m.cross && !m.dirty {
                let place = lay.place(k, m.id);
                if s.lowered.deps.stale(cx, &place, &Default::default(), false) {
                    m.dirty = true;
                }
            }
        }
    }

    /// Lowers the dirty slots; `false` if cancelled on the way.
    fn lower_dirty(
        &mut self,
        lay: &Layout<'_>,
        cx: &TextContext,
        env: &Env<'_>,
        cancelled: &dyn Fn() -> bool,
    ) -> bool {
        // A slot that declares nothing, after slots that declare nothing
        // at top level, gets its warnings at once (they read no needs then), so its
        // code never waits for the rest of the text: memory stays one slot's worth.
        let mut nothing_declared = true;
        for k in 0..self.slots.len() {
            let m = self.meta[k];
            if !m.dirty {
                nothing_declared &= m.top_declared.is_empty() && !(m.rewarn && m.declares);
                continue;
            }
            if cancelled() {
                return false;
            }
            let place = lay.place(k, m.id);
            let forms = match slot_mut(&mut self.slots[k]).pending.take() {
                Some(f) => f,
                None => reparse_slot(
                    &self.text,
                    lay.starts[k],
                    self.slots[k].len,
                    self.recovering,
                ),
            };
            let mut lowered = lower_forms(&forms, env, cx, place, true);
            drop(forms);
            let dep_ids: Vec<u32> = std::mem::take(&mut lowered.deps.names)
                .iter()
                .map(|n| intern(&mut self.dep_names, n))
                .collect();
            let names = &mut self.names;
            let summary =
                capabilities::summarize(&lowered.items, &lowered.locals, env.registry, &mut |n| {
                    intern(names, n)
                });
            let text_fns: Vec<u32> = lowered
                .definitions
                .iter()
                .filter(|d| d.arity.is_some())
                .map(|d| intern(names, &d.name))
                .collect();
            let slot = &mut self.slots[k];
            // Kept on the document at once, so a cancelled refresh forgets nothing.
            self.inference_stale |= summary != slot.summary || text_fns != slot.text_fns;
            let m = &mut self.meta[k];
            m.cross = !lowered.deps.spans.is_empty();
            m.declares = summary.declares;
            m.locals = lowered.locals.len() as u32;
            m.dirty = false;
            m.rewarn = true;
            let s = slot_mut(slot);
            s.lowered = lowered;
            s.lowered.shrink_to_fit();
            s.summary = summary;
            s.text_fns = text_fns;
            s.dep_ids = dep_ids;
            self.work.relowered += 1;
            if nothing_declared && !m.declares {
                self.warn_slot(k, env, CapSet::EMPTY);
            }
            nothing_declared &= !self.meta[k].declares;
        }
        true
    }

    /// Joins inference again if a summary changed; returns, per global name
    /// number, whether what it needs (or whether it is known) changed.
    fn join_inference(&mut self, env: &Env<'_>) -> Vec<bool> {
        if !self.inference_stale {
            return Vec::new();
        }
        self.work.inference = true;
        let inference = Inference::resolve(
            self.slots.iter().map(|s| &s.summary),
            self.slots.iter().flat_map(|s| s.text_fns.iter().copied()),
            &self.names,
            env,
        );
        let changed = (0..self.names.len() as u32)
            .map(|id| {
                self.inference.known(id) != inference.known(id)
                    || self.inference.need_of(id) != inference.need_of(id)
            })
            .collect();
        self.inference = Arc::new(inference);
        self.inference_stale = false;
        changed
    }

    /// Recomputes the warnings of the slots whose inputs changed.
    fn warn_stale(
        &mut self,
        lay: &Layout<'_>,
        cx: &TextContext,
        env: &Env<'_>,
        needs_changed: &[bool],
    ) {
        let any_needs_changed = needs_changed.iter().any(|c| *c);
        let mut declared = CapSet::EMPTY;
        for k in 0..self.slots.len() {
            let m = self.meta[k];
            // W0301 reads the declarations before the slot; W0302 reads what the
            // functions it uses need, and matters only where something is declared.
            // A use of an imported function warns by what it needs (language §13).
            let reads_needs = m.declares
                || !declared.is_empty()
                || self.slots[k].summary.globals.iter().any(|g| {
                    self.names
                        .name(*g)
                        .starts_with(crate::ground::builtins::MODULE_PREFIX)
                });
            let stale = m.rewarn
                || m.warned_with != declared
                || (reads_needs
                    && any_needs_changed
                    && self.slots[k]
                        .summary
                        .globals
                        .iter()
                        .any(|g| needs_changed[*g as usize]));
            if stale {
                if self.slots[k].lowered.items.is_empty() {
                    // Its facts hold (nothing it read changed): only its code is needed.
                    let place = lay.place(k, m.id);
                    let forms = reparse_slot(
                        &self.text,
                        lay.starts[k],
                        self.slots[k].len,
                        self.recovering,
                    );
                    let items = lower_forms(&forms, env, cx, place, false).items;
                    slot_mut(&mut self.slots[k]).lowered.items = items;
                }
                self.warn_slot(k, env, declared);
            }
            declared = declared.union(self.meta[k].top_declared);
        }
    }

    /// Computes a slot's warnings (its code must be at hand), then drops its code
    /// unless it is retained.
    fn warn_slot(&mut self, k: usize, env: &Env<'_>, declared: CapSet) {
        let slot = &self.slots[k];
        let warnings = capabilities::warn(
            &slot.lowered.items,
            &capabilities::WarnInput {
                summary: &slot.summary,
                names: &self.names,
                inference: &self.inference,
                registry: env.registry,
                locals: &slot.lowered.locals,
                tier_errors: &slot.lowered.tier_errors,
                assumed: env.assumed,
                declared,
            },
        );
        let m = &mut self.meta[k];
        m.top_declared = warnings.declarations.iter().fold(CapSet::EMPTY, |acc, d| {
            acc.union([d.cap].into_iter().collect())
        });
        m.uses = warnings.uses;
        m.warned_with = declared;
        m.rewarn = false;
        let s = slot_mut(&mut self.slots[k]);
        m.diagnostics = (self.syntax[k].len()
            + s.lowered.diagnostics.len()
            + warnings.diagnostics.len()) as u32;
        s.warnings = warnings;
        if !self.retain_ir {
            s.lowered.items = Vec::new();
        }
        self.work.rewarned += 1;
    }

    /// What the last refresh (and the edits before it) redid.
    pub fn work(&self) -> Work {
        self.work
    }

    /// The slots with where each starts.
    pub fn slots(&self) -> impl Iterator<Item = (u32, &SlotData)> {
        self.starts
            .iter()
            .copied()
            .zip(self.slots.iter().map(|s| &**s))
    }

    /// Where each slot starts.
    pub fn starts(&self) -> &[u32] {
        &self.starts
    }

    /// Slot `k` with where it starts.
    pub fn slot(&self, k: usize) -> Option<(u32, &SlotData)> {
        Some((*self.starts.get(k)?, self.slots.get(k)?))
    }

    /// The text-wide number of each slot's first local.
    pub fn local_starts(&self) -> Vec<LocalId> {
        let mut n = 0;
        self.meta
            .iter()
            .map(|m| {
                let first = n;
                n += m.locals;
                first
            })
            .collect()
    }

    /// The forms of the slot starting at `start` with length `len`, spans relative
    /// to it (read again from the text).
    pub fn slot_forms(&self, start: u32, len: u32) -> Vec<TopForm> {
        reparse_slot(&self.text, start, len, self.recovering)
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

    /// The default tier it was made with.
    pub fn default_tier(&self) -> TrustTier {
        self.default_tier
    }

    /// All diagnostics, sorted by position.
    pub fn diagnostics(&self, env_mode: Mode) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        // A top-level declaration is used if the rest of its slot or any later slot uses it.
        let mut later = CapSet::EMPTY;
        for k in (0..self.slots.len()).rev() {
            let m = &self.meta[k];
            if env_mode != Mode::Repl && !m.top_declared.is_empty() {
                for d in &self.slots[k].warnings.declarations {
                    if !d.used && !later.contains(d.cap) {
                        out.push(capabilities::unused_declaration(d).shifted(self.starts[k]));
                    }
                }
            }
            later = later.union(m.uses);
        }
        for k in 0..self.slots.len() {
            if self.meta[k].diagnostics == 0 {
                continue;
            }
            let (base, s) = (self.starts[k], &self.slots[k]);
            let ds = self.syntax[k]
                .iter()
                .chain(&s.lowered.diagnostics)
                .chain(&s.warnings.diagnostics);
            out.extend(ds.map(|d| d.clone().shifted(base)));
        }
        out.sort_by_key(|d| (d.span.start, d.span.end));
        out
    }

    /// The whole text's forms and syntax diagnostics, as [`parse`] gives them.
    pub fn parse(&self) -> Parse {
        let mut p = Parse::default();
        for (k, (base, s)) in self.slots().enumerate() {
            p.forms
                .extend(self.slot_forms(base, s.len).into_iter().map(|mut f| {
                    f.shift(base);
                    f
                }));
            p.diagnostics
                .extend(self.syntax[k].iter().map(|d| d.clone().shifted(base)));
        }
        p
    }

    /// The whole analysis, as [`super::analyze`] of the text gives it (`items` only
    /// with [`Document::retain_ir`]).
    pub fn analysis(&self, env_mode: Mode) -> Analysis {
        let mut an = Analysis {
            diagnostics: self.diagnostics(env_mode),
            input_needs: self.inference.input_needs,
            ..Analysis::default()
        };
        for (base, s) in self.slots() {
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
            self.inference
                .own_needs(&s.summary, &self.names, &mut an.own_needs);
        }
        an
    }
}

/// A slot's forms read again from the text (spans relative to the slot).
/// Where the slots are during a refresh: their starts, numbers and shapes.
struct Layout<'s> {
    starts: Vec<u32>,
    ids: Vec<u32>,
    shapes: &'s [Arc<Shapes>],
}

impl Layout<'_> {
    /// Slot `k` as a place to lower, numbered `unit`.
    fn place(&self, k: usize, unit: u32) -> Place<'_> {
        Place {
            unit,
            base: self.starts[k],
            own: &self.shapes[k],
            units: self,
        }
    }
}

impl Units for Layout<'_> {
    // Only diagnostics that point into another slot look here: a search is fine.
    fn locate(&self, unit: u32) -> Option<(u32, &Shapes)> {
        let i = self.ids.iter().position(|id| *id == unit)?;
        Some((self.starts[i], &self.shapes[i]))
    }
}

/// The number of a global name, adding it to the shared table (copied first if
/// a snapshot shares it) only when new.
fn intern(names: &mut Arc<Names>, n: &str) -> u32 {
    names
        .get(n)
        .unwrap_or_else(|| Arc::make_mut(names).intern(n))
}

/// A slot ends at a clean boundary, so it parses alone exactly as it did in the
/// text (with the recovery rule when the text needed it).
fn reparse_slot(text: &str, start: u32, len: u32, recovering: bool) -> Vec<TopForm> {
    let slot = &text[start as usize..(start + len) as usize];
    if recovering {
        parse_slot_recovering(slot)
    } else {
        parse(slot).forms
    }
}

/// A hash of a slot's text.
fn text_hash(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    // 0 means "not hashed".
    h.finish().max(1)
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
        ExprKind::CallBuiltin(_, args, head) => {
            *head = head.shifted(base);
            args.iter_mut().for_each(|x| shift_expr(x, base, first));
        }
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

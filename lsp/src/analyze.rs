//! Documents as the engine's incremental [`Document`], and the read-only snapshot
//! ([`Analyzed`]) the features read: one version's text and slots, shared with the
//! live document (a snapshot costs a pointer per slot; the next edit copies the
//! text once).
//! Slot data is relative to the slot's start; the accessors here hand out absolute
//! spans and text-wide local numbers, reading only the slots a request touches.

use crate::imports::Imports;
use crate::pieces::Pieces;
use crate::project::Project;
use jue_engine::analysis::document::{Document, SlotData};
use jue_engine::analysis::globals::form_tier;
use jue_engine::analysis::ir::{LocalId, LocalInfo, LocalKind};
use jue_engine::analysis::{Definition, Mode, RefTarget, Reference};
use jue_engine::diagnostic::Diagnostic;
use jue_engine::syntax::lexer::{Token, lex};
use jue_engine::syntax::tree::TopForm;
use jue_engine::{CapSet, Span, TrustTier};
use ropey::Rope;
use std::sync::Arc;

/// A document's text at one version with everything the features read.
pub struct Analyzed {
    /// The document version analysed.
    pub version: i32,
    /// The text as a rope, for position conversions.
    pub rope: Rope,
    /// The analysed document (a snapshot).
    pub doc: Document,
    /// Its diagnostics, absolute.
    pub diagnostics: Vec<Diagnostic>,
    /// Text-wide number of each slot's first local.
    local_starts: Vec<LocalId>,
    /// The project it was checked in (registry, assumed grants).
    pub project: Arc<Project>,
    /// The files it imports, checked with it (language §13).
    pub imports: Option<Arc<Imports>>,
    /// Its file and the workspace folders (references and rename reach the
    /// files that import it).
    pub file: Option<(std::path::PathBuf, Vec<std::path::PathBuf>)>,
    /// Per-slot pieces of whole-file answers, handed on from the previous analysis.
    pub pieces: Arc<Pieces>,
}

/// One slot as the features see it.
#[derive(Clone, Copy)]
pub struct SlotView<'a> {
    /// The document it belongs to.
    doc: &'a Document,
    /// Where it starts.
    pub base: u32,
    /// Its data (spans relative to `base`).
    pub data: &'a SlotData,
    /// Text-wide number of its first local.
    pub first_local: LocalId,
}

impl<'a> SlotView<'a> {
    /// Its references, absolute.
    pub fn references(self) -> impl Iterator<Item = Reference> + 'a {
        self.data
            .lowered
            .references
            .iter()
            .map(move |r| r.shifted(self.base, self.first_local))
    }
    /// Its forms, absolute (read again from the text: trees are not kept).
    pub fn forms(&self) -> Vec<TopForm> {
        let mut forms = self.doc.slot_forms(self.base, self.data.len);
        for f in &mut forms {
            f.shift(self.base);
        }
        forms
    }
}

/// Brings a document up to date and takes a snapshot of it. `None` if `cancelled`
/// said so before the refresh finished (a newer edit arrived).
pub fn analyze(
    doc: &mut Document,
    version: i32,
    rope: Rope,
    project: Arc<Project>,
    imports: Option<Arc<Imports>>,
    file: Option<(std::path::PathBuf, Vec<std::path::PathBuf>)>,
    cancelled: &dyn Fn() -> bool,
) -> Option<Analyzed> {
    let snapshot = {
        let session = project.session();
        let mut env = session.env();
        if let Some(i) = &imports {
            env.module = Some(&i.scope);
        }
        if !doc.refresh(&env, cancelled) {
            return None;
        }
        doc.clone()
    };

    let mut diagnostics = snapshot.diagnostics(Mode::File);
    if let Some(i) = &imports {
        // The imports' own (E0105, E0106, E0107), which the document cannot see.
        diagnostics.extend(i.diagnostics.iter().cloned());
        diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
    }
    let local_starts = snapshot.local_starts();
    Some(Analyzed {
        version,
        rope,
        doc: snapshot,
        diagnostics,
        local_starts,
        project,
        imports,
        file,
        pieces: Arc::default(),
    })
}

impl Analyzed {
    /// Whether this analysis redid enough of its text to leave much memory free.
    pub fn was_large(&self) -> bool {
        self.doc.work().relowered > 1000
    }

    /// Capabilities `jue.toml` assumes granted ("granted" in hover).
    pub fn granted(&self) -> CapSet {
        self.project.granted
    }

    /// The text.
    pub fn text(&self) -> &str {
        self.doc.text()
    }

    /// Every slot, in order.
    pub fn slots(&self) -> impl Iterator<Item = SlotView<'_>> {
        self.doc
            .slots()
            .zip(&self.local_starts)
            .map(|((base, data), &first_local)| SlotView {
                doc: &self.doc,
                base,
                data,
                first_local,
            })
    }

    /// The slot holding `off`, and the one before when `off` is at its start (a
    /// cursor right after the previous slot's last form still touches it).
    pub fn slots_at(&self, off: u32) -> Vec<SlotView<'_>> {
        let i = self
            .doc
            .starts()
            .partition_point(|s| *s <= off)
            .saturating_sub(1);
        (i.saturating_sub(1)..=i)
            .filter_map(|k| self.slot_view(k))
            .collect()
    }

    /// The slots overlapping the bytes `from..to` (at least the one holding `from`).
    pub fn slots_between(&self, from: u32, to: u32) -> impl Iterator<Item = SlotView<'_>> {
        let starts = self.doc.starts();
        let first = starts.partition_point(|s| *s <= from).saturating_sub(1);
        let last = starts.partition_point(|s| *s < to.max(from + 1));
        (first..last.max(first + 1)).filter_map(|k| self.slot_view(k))
    }

    /// Slot `k`.
    fn slot_view(&self, k: usize) -> Option<SlotView<'_>> {
        let (base, data) = self.doc.slot(k)?;
        Some(SlotView {
            doc: &self.doc,
            base,
            data,
            first_local: *self.local_starts.get(k)?,
        })
    }

    /// The references of the slots at `off`.
    pub fn references_at(&self, off: u32) -> Vec<Reference> {
        self.slots_at(off)
            .into_iter()
            .flat_map(SlotView::references)
            .collect()
    }

    /// Every reference of the text.
    pub fn references(&self) -> impl Iterator<Item = Reference> + '_ {
        self.slots().flat_map(SlotView::references)
    }

    /// The top-level forms around `off` (its slot and the one before), absolute.
    pub fn forms_at(&self, off: u32) -> Vec<TopForm> {
        self.slots_at(off).iter().flat_map(|s| s.forms()).collect()
    }

    /// The tokens of the slots around `off` (comments included), absolute.
    pub fn tokens_at(&self, off: u32) -> Vec<Token> {
        let slots = self.slots_at(off);
        let (Some(first), Some(last)) = (slots.first(), slots.last()) else {
            return Vec::new();
        };
        let (a, b) = (first.base as usize, (last.base + last.data.len) as usize);
        let mut tokens = lex(&self.text()[a..b]).tokens;
        for t in &mut tokens {
            t.span = t.span.shifted(a as u32);
        }
        tokens
    }

    /// All tokens of the text.
    pub fn tokens(&self) -> Vec<Token> {
        lex(self.text()).tokens
    }

    /// How a local (by text-wide number) is bound, without copying it.
    pub fn local_kind(&self, id: LocalId) -> Option<LocalKind> {
        let s = self.slot_of_local(id)?;
        Some(
            s.data
                .lowered
                .locals
                .get((id - s.first_local) as usize)?
                .kind,
        )
    }

    /// A local by its text-wide number, absolute.
    pub fn local(&self, id: LocalId) -> Option<LocalInfo> {
        let s = self.slot_of_local(id)?;
        let mut l = s
            .data
            .lowered
            .locals
            .get((id - s.first_local) as usize)?
            .clone();
        l.span = l.span.shifted(s.base);
        Some(l)
    }

    /// Every top-level definition, absolute, with its inferred needs.
    pub fn definitions(&self) -> impl Iterator<Item = Definition> + '_ {
        self.slots().flat_map(move |s| {
            s.data
                .lowered
                .definitions
                .iter()
                .map(move |d| self.absolute(s.base, d))
        })
    }

    /// The top-level definitions whose name `keep` accepts, absolute (only those
    /// are copied).
    pub fn definitions_where<'s>(
        &'s self,
        keep: impl Fn(&str) -> bool + Copy + 's,
    ) -> impl Iterator<Item = Definition> + 's {
        self.slots().flat_map(move |s| {
            s.data
                .lowered
                .definitions
                .iter()
                .filter(move |d| keep(&d.name))
                .map(move |d| self.absolute(s.base, d))
        })
    }

    /// The first definition of a name.
    pub fn definition_named(&self, name: &str) -> Option<Definition> {
        self.slots().find_map(|s| {
            s.data
                .lowered
                .definitions
                .iter()
                .find(|d| d.name == name)
                .map(|d| self.absolute(s.base, d))
        })
    }

    fn absolute(&self, base: u32, d: &Definition) -> Definition {
        Definition {
            name_span: d.name_span.shifted(base),
            span: d.span.shifted(base),
            needs: self.doc.needs_of(&d.name),
            ..d.clone()
        }
    }

    /// The tier of the analysed top-level form touching `off`.
    pub fn form_tier(&self, off: u32) -> Option<TrustTier> {
        let forms = self.forms_at(off);
        let f = forms
            .iter()
            .rev()
            .find(|f| !f.has_error && f.full_span().touches(off))?;
        Some(form_tier(f, self.doc.default_tier()))
    }

    /// The slot a local (by text-wide number) belongs to.
    pub fn slot_of_local(&self, id: LocalId) -> Option<SlotView<'_>> {
        let i = self
            .local_starts
            .partition_point(|s| *s <= id)
            .checked_sub(1)?;
        self.slot_view(i)
    }

    /// The spans of every occurrence of a target (a local's only in its slot).
    pub fn occurrences_of(&self, target: &RefTarget) -> Vec<Span> {
        let same = |r: &Reference| &r.target == target;
        match target {
            RefTarget::Local(id) => self
                .slot_of_local(*id)
                .map(|s| s.references().filter(same).map(|r| r.span).collect())
                .unwrap_or_default(),
            _ => self.references().filter(same).map(|r| r.span).collect(),
        }
    }
}

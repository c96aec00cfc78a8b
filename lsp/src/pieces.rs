//! Whole-file answers (full semantic tokens, document symbols, folding ranges)
//! assembled from
//! per-slot pieces cached by slot revision ([`SlotData::rev`]): after an edit only
//! the slots it changed are computed again, the others' pieces are copied with
//! their positions moved to where the slot now starts. Pieces hold positions
//! relative to their slot's start, so a slot that moved needs no new piece.
//!
//! [`SlotData::rev`]: jue_engine::analysis::document::SlotData::rev

use crate::text::Encoding;
use jue_engine::{CapSet, TrustTier};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tower_lsp_server::ls_types::{Position, SemanticToken};

/// A position relative to a slot's start: lines after the slot's first line, and
/// the column counted from the slot's start column on that first line, from the
/// line's start on the others (columns add up in UTF-8 and UTF-16 alike).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rel {
    /// Lines after the slot's first line.
    pub line: u32,
    /// Column (see the type).
    pub col: u32,
}

impl Rel {
    /// `p` relative to a slot starting at `start` (`p` is at or after `start`).
    pub fn of(p: Position, start: Position) -> Rel {
        let line = p.line.saturating_sub(start.line);
        let col = if line == 0 {
            p.character.saturating_sub(start.character)
        } else {
            p.character
        };
        Rel { line, col }
    }

    /// The absolute position of this for a slot starting at `start`.
    pub fn at(self, start: Position) -> Position {
        if self.line == 0 {
            Position::new(start.line, start.character + self.col)
        } else {
            Position::new(start.line + self.line, self.col)
        }
    }
}

/// One slot's semantic tokens, encoded as the protocol does (each relative to the
/// one before), the first relative to the slot's start.
#[derive(Debug, Default)]
pub struct SlotTokens {
    /// The tokens; the first one's delta is from the slot's start.
    pub data: Vec<SemanticToken>,
    /// Where the last token starts, relative to the slot's start.
    pub last: Rel,
}

/// One definition of a slot, as document symbols show it.
#[derive(Debug)]
pub struct SlotSymbol {
    /// Its name.
    pub name: String,
    /// It is a known function (else a variable).
    pub function: bool,
    /// Its tier.
    pub tier: TrustTier,
    /// What it needed when `detail` was written (inference reads the whole text,
    /// so this is checked again at each answer).
    pub needs: CapSet,
    /// Tier and needs, as the symbol's detail shows them.
    pub detail: String,
    /// The whole defining form (with the name), relative to the slot's start.
    pub range: (Rel, Rel),
    /// The name, relative to the slot's start.
    pub selection: (Rel, Rel),
}

/// One kind of piece, per slot revision and position encoding.
#[derive(Debug)]
pub struct Cache<T> {
    map: Mutex<HashMap<(u64, bool), Arc<T>>>,
}

impl<T> Default for Cache<T> {
    fn default() -> Self {
        Cache {
            map: Mutex::default(),
        }
    }
}

impl<T> Cache<T> {
    /// The piece of each slot (`revs`, in order), made by `make(k)` for slot `k`
    /// when not cached; `None` when `make` gives up (a cancelled request). After
    /// it the cache holds exactly these pieces: those of slots that changed are
    /// dropped, so it stays one answer's size.
    pub fn pieces(
        &self,
        revs: &[u64],
        enc: Encoding,
        mut make: impl FnMut(usize) -> Option<T>,
    ) -> Option<Vec<Arc<T>>> {
        let utf8 = enc == Encoding::Utf8;
        // Held throughout: a second whole-file request waits and then finds the
        // pieces made, rather than making them again alongside.
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::with_capacity(revs.len());
        let mut keep = HashMap::with_capacity(revs.len());
        for (k, &rev) in revs.iter().enumerate() {
            let piece = match map.get(&(rev, utf8)) {
                Some(p) => p.clone(),
                None => Arc::new(make(k)?),
            };
            keep.insert((rev, utf8), piece.clone());
            out.push(piece);
        }
        *map = keep;
        Some(out)
    }
}

/// The pieces of one document, shared by its successive analyses.
#[derive(Debug, Default)]
pub struct Pieces {
    /// Semantic tokens per slot.
    pub tokens: Cache<SlotTokens>,
    /// Document symbols per slot.
    pub symbols: Cache<Vec<SlotSymbol>>,
    /// Folding ranges over several lines per slot (start, end).
    pub folds: Cache<Vec<(Rel, Rel)>>,
}

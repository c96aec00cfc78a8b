//! Dicts (language §12.2): immutable maps that keep insertion order, with
//! O(log n) lookup, insert and remove that share structure between versions,
//! and updates in place while no one reads the version they replace.
//!
//! A hash array mapped trie (32-way, keyed by a key's 64-bit structural hash)
//! whose nodes and entries live in the heap's arena, like pairs:
//! - an entry is a pair `(key . value)` in the arena (one 32-byte slot), never
//!   seen by programs (`dict->list` makes new pairs);
//! - a node is `Obj::DictNode`: one `u64` per present child, the child's
//!   handle in the low 32 bits and, for an entry, its insertion number in the
//!   31 bits above (and the top bit, `OWN`), kept in the node slab (no allocator
//!   call per node); a child is an entry or a deeper node; the bitmap says
//!   which of the 32 hash digits are present. Below 64 bits of hash,
//!   `Obj::DictBucket` is a plain list of the entries whose hashes are equal.
//!
//! Versions (Baker's version trees, as in Conchon and Filliâtre's persistent
//! arrays). The newest version of a dict is `Obj::Dict` (a [`Dict`]: root,
//! size, next insertion number and an *epoch*). Every node records the epoch
//! of the one version that may change it in place; any other version copies
//! it first (a path copy, as a purely functional trie does). An entry made
//! by that version is its slot's alone (`OWN`), so its value changes in
//! place too. `dict-set` and `dict-remove` on a newest version change its
//! trie in place and turn the old version's object into `Obj::DictDiff` (a
//! [`Diff`]): "the next version, except for this one key, which I had with
//! this value (or as this entry, or not at all)". So a loop that threads one
//! dict through its updates allocates one 32-byte version object an update
//! (and an entry for a new key), not a path of nodes.
//!
//! An old version stays readable: a lookup walks its diffs to the newest
//! version. Any update of it, a read through the built-ins, and every
//! collection *settle* it: the newest version's epoch is retired (its nodes
//! are now shared), and the old one becomes a newest version of its own, its
//! diffs replayed as a path copy. The collector does not follow a diff's
//! next version: after marking it settles each live old version, so an old
//! version keeps only what differs from the newer ones alive, never the chain
//! of versions made after it, and no diff outlives a collection.

use std::collections::HashMap;

use super::heap::{Heap, Obj};
use super::meter::Meter;
use super::natives::is_equal_plain;
use super::value::{ObjRef, Value};
use crate::vm::error::{ErrorKind, Fault, FaultResult};

/// No node: the root of an empty dict.
const NONE: u32 = u32::MAX;
/// Bits of hash per trie level.
const BITS: u32 = 5;
/// Levels that use hash bits (13 × 5 ≥ 64); a node below them is a collision list.
const MAX_SHIFT: u32 = 64;

/// One entry as a lookup returns it.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    /// The key as first stored.
    pub key: Value,
    /// The value.
    pub value: Value,
}

/// The newest version of a dict, or one being built: its trie, size, next
/// insertion number and the epoch of the nodes it may change in place. Not
/// `Copy`: two copies would change the same nodes (reads go through
/// [`DictView`]; a second version is made by [`derive`], [`set`] or [`remove`]).
#[derive(Clone, Debug)]
pub struct Dict {
    root: u32,
    len: u32,
    next_seq: u32,
    /// 0: no node is this version's own yet (the first update takes an epoch).
    epoch: u64,
}

/// An older version of a dict: the next newer version and the one key where
/// they differ, named by an entry (`pair`) that holds it. Three kinds:
/// - changed (`CHANGED` in `next`): this version has the key with value `old`
///   (and the newer version's insertion number for it);
/// - removed (`old` is its insertion number): this version has entry `pair`,
///   which the newer version lacks;
/// - absent (`old` is nil): this version lacks the key of the newer version's
///   entry `pair`.
///
/// 24 bytes: a version object stays one arena slot, and an update allocates
/// nothing else (the old value is kept here, not in a copy of the entry).
#[derive(Clone, Copy, Debug)]
pub struct Diff {
    old: Value,
    pair: u32,
    next: u32,
}

/// The top bit of `Diff::next`: the diff is of the changed kind. Versions
/// whose handles would need that bit are never made diffs (`diffs_fit`).
const CHANGED: u32 = 1 << 31;

/// What a diff says of its key in its version.
enum Had {
    /// The key with this value (its insertion number is the newer version's).
    Value(Value),
    /// This entry slot.
    Slot(u64),
    /// No entry.
    Nothing,
}

impl Diff {
    /// What a diff keeps alive while the collector marks: its entry and its
    /// value (the next version is settled after marking, see the module comment).
    pub fn refs(&self) -> impl Iterator<Item = ObjRef> {
        [Some(ObjRef(self.pair)), self.old.obj()]
            .into_iter()
            .flatten()
    }

    fn next(&self) -> u32 {
        self.next & !CHANGED
    }

    fn had(&self) -> Had {
        match self.old {
            _ if self.next & CHANGED != 0 => Had::Value(self.old),
            Value::Int(seq) => Had::Slot(slot(seq as u32, self.pair)),
            _ => Had::Nothing,
        }
    }

    /// This version's size from the newer one's.
    fn len_from(&self, newer: u32) -> u32 {
        match self.had() {
            Had::Value(_) => newer,
            Had::Slot(_) => newer + 1,
            Had::Nothing => newer.saturating_sub(1),
        }
    }

    /// The key the diff names.
    fn key(&self, heap: &Heap) -> Option<Value> {
        entry(heap, self.pair).map(|e| e.0)
    }
}

/// A dict to read: a newest version's trie, and the diffs that lead to it
/// from an older version (`NONE` for a newest version).
#[derive(Clone, Copy, Debug)]
pub struct DictView {
    root: u32,
    len: u32,
    diffs: u32,
}

impl Default for Dict {
    fn default() -> Self {
        Dict {
            root: NONE,
            len: 0,
            next_seq: 0,
            epoch: 0,
        }
    }
}

/// The top bit of an entry's slot: the entry is this slot's alone (made by
/// the version that owns the node; no other node names it), so its value may
/// change in place. Copies of a node drop it.
const OWN: u64 = 1 << 63;
/// Insertion numbers take the 31 bits below `OWN`.
const SEQ_MAX: u32 = (1 << 31) - 1;

#[inline(always)]
fn slot(seq: u32, r: u32) -> u64 {
    ((seq as u64) << 32) | r as u64
}

#[inline(always)]
fn slot_ref(s: u64) -> u32 {
    s as u32
}

#[inline(always)]
fn slot_seq(s: u64) -> u32 {
    ((s & !OWN) >> 32) as u32
}

#[inline(always)]
fn digit(h: u64, shift: u32) -> u32 {
    ((h >> shift) & 31) as u32
}

/// Whether two stored-or-looked-up keys are `equal?` (fast for the common keys;
/// no allocation for strings, integers and symbols).
#[inline]
fn key_eq(heap: &Heap, a: Value, b: Value) -> bool {
    match (a, b) {
        (Value::Str(p), Value::Str(q)) => p == q || heap.str(p) == heap.str(q),
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Sym(x), Value::Sym(y)) => x == y,
        _ => is_equal_plain(heap, a, b),
    }
}

/// The slots and bitmap of a node (empty for a handle that is not one).
#[inline(always)]
fn node(heap: &Heap, r: u32) -> (&[u64], u32) {
    match heap.get(ObjRef(r)) {
        Obj::DictNode {
            at, len, bitmap, ..
        } => (heap.node_slots(*at, *len), *bitmap),
        Obj::DictBucket(s) => (s, 0),
        _ => (&[], 0),
    }
}

/// The key and value of an entry handle, or `None` for a node.
#[inline(always)]
fn entry(heap: &Heap, r: u32) -> Option<(Value, Value)> {
    match heap.get(ObjRef(r)) {
        Obj::Pair(k, v) => Some((*k, *v)),
        _ => None,
    }
}

/// The entry of `key` (hash `h`) in the trie at `root`, as its slot.
fn find(heap: &Heap, root: u32, h: u64, key: Value) -> Option<u64> {
    let mut r = root;
    let mut shift = 0;
    while r != NONE {
        let (slots, bitmap) = node(heap, r);
        if shift >= MAX_SHIFT {
            return slots
                .iter()
                .copied()
                .find(|s| entry(heap, slot_ref(*s)).is_some_and(|(k, _)| key_eq(heap, k, key)));
        }
        let bit = 1u32 << digit(h, shift);
        if bitmap & bit == 0 {
            return None;
        }
        let s = slots[(bitmap & (bit - 1)).count_ones() as usize];
        match heap.get(ObjRef(slot_ref(s))) {
            Obj::Pair(k, _) => return key_eq(heap, *k, key).then_some(s),
            Obj::DictNode { .. } | Obj::DictBucket(_) => {
                r = slot_ref(s);
                shift += BITS;
            }
            _ => return None,
        }
    }
    None
}

/// The entry behind a slot.
fn entry_of(heap: &Heap, s: u64) -> Option<Entry> {
    entry(heap, slot_ref(s)).map(|(key, value)| Entry { key, value })
}

/// All entries of the trie at `root`, with their insertion numbers.
fn trie_entries(heap: &Heap, root: u32, out: &mut Vec<(u32, Value, Value)>) {
    if root == NONE {
        return;
    }
    let mut work = vec![root];
    while let Some(r) = work.pop() {
        for s in node(heap, r).0 {
            match heap.get(ObjRef(slot_ref(*s))) {
                Obj::Pair(k, v) => out.push((slot_seq(*s), *k, *v)),
                Obj::DictNode { .. } | Obj::DictBucket(_) => work.push(slot_ref(*s)),
                _ => {}
            }
        }
    }
}

impl DictView {
    /// The dict behind a handle, to read (an empty one for a handle that is
    /// not a dict).
    pub fn of(heap: &Heap, r: ObjRef) -> DictView {
        match heap.get(r) {
            Obj::Dict(d) => DictView {
                root: d.root,
                len: d.len,
                diffs: NONE,
            },
            Obj::DictDiff(_) => {
                let (root, len) = newest(heap, r).unwrap_or((NONE, 0));
                DictView {
                    root,
                    len,
                    diffs: r.0,
                }
            }
            _ => DictView {
                root: NONE,
                len: 0,
                diffs: NONE,
            },
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether there is no entry.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The entry of `key` (whose hash is `h`).
    #[inline]
    pub fn get(&self, heap: &Heap, h: u64, key: Value) -> Option<Entry> {
        if self.diffs != NONE {
            // The first diff on the way to the newest version that names the
            // key says what this version had.
            let mut r = self.diffs;
            while let Obj::DictDiff(df) = heap.get(ObjRef(r)) {
                if let Some(k) = df.key(heap)
                    && key_eq(heap, k, key)
                {
                    return match df.had() {
                        Had::Value(value) => Some(Entry { key: k, value }),
                        Had::Slot(s) => entry_of(heap, s),
                        Had::Nothing => None,
                    };
                }
                r = df.next();
            }
        }
        find(heap, self.root, h, key).and_then(|s| entry_of(heap, s))
    }

    /// Entries in insertion order.
    pub fn entries(&self, heap: &Heap) -> Vec<(Value, Value)> {
        let mut all = self.entries_with_seq(heap);
        all.sort_unstable_by_key(|e| e.0);
        all.into_iter().map(|(_, k, v)| (k, v)).collect()
    }

    /// The first `n` entries in insertion order (only those are sorted: a
    /// printer bounded to `n` elements pays O(len) for a huge dict, not a sort).
    pub fn first_entries(&self, heap: &Heap, n: usize) -> Vec<(Value, Value)> {
        let mut all = self.entries_with_seq(heap);
        if n < all.len() {
            all.select_nth_unstable_by_key(n, |e| e.0);
            all.truncate(n);
        }
        all.sort_unstable_by_key(|e| e.0);
        all.into_iter().map(|(_, k, v)| (k, v)).collect()
    }

    fn entries_with_seq(&self, heap: &Heap) -> Vec<(u32, Value, Value)> {
        let mut out = Vec::with_capacity(self.len());
        trie_entries(heap, self.root, &mut out);
        if self.diffs == NONE {
            return out;
        }
        // The keys the diffs name, each with what the first diff naming it
        // says: an entry, none, or a value whose insertion number is the
        // key's in a newer version (the next diff naming it, or the newest).
        let mut named: HashMap<u64, Vec<Named>> = HashMap::new();
        let mut r = self.diffs;
        while let Obj::DictDiff(df) = heap.get(ObjRef(r)) {
            if let Some(k) = df.key(heap) {
                let h = plain_hash(heap, k).unwrap_or(0);
                let same = named.entry(h).or_default();
                match same.iter_mut().find(|n| key_eq(heap, n.0, k)) {
                    Some(n) => {
                        if let (None, Had::Slot(s)) = (n.2, df.had()) {
                            n.2 = Some(slot_seq(s));
                        }
                    }
                    None => same.push(match df.had() {
                        Had::Value(v) => (k, Some(v), None),
                        Had::Slot(s) => (k, entry_of(heap, s).map(|e| e.value), Some(slot_seq(s))),
                        Had::Nothing => (k, None, Some(0)),
                    }),
                }
            }
            r = df.next();
        }
        let mut newest_seq: HashMap<u64, Vec<(Value, u32)>> = HashMap::new();
        out.retain(|(seq, k, _)| {
            let h = plain_hash(heap, *k).unwrap_or(0);
            let hit = named
                .get(&h)
                .is_some_and(|same| same.iter().any(|n| key_eq(heap, n.0, *k)));
            if hit {
                newest_seq.entry(h).or_default().push((*k, *seq));
            }
            !hit
        });
        for (h, same) in named {
            for (k, v, seq) in same {
                let Some(v) = v else { continue };
                let seq = seq.or_else(|| {
                    newest_seq
                        .get(&h)?
                        .iter()
                        .find(|e| key_eq(heap, e.0, k))
                        .map(|e| e.1)
                });
                out.push((seq.unwrap_or(0), k, v));
            }
        }
        out
    }
}

/// A key that an old version's diffs name, its value in that version (`None`:
/// it has not the key) and its insertion number when a diff says it.
type Named = (Value, Option<Value>, Option<u32>);

/// The root of the newest version a dict handle leads to, and the size of
/// the version behind the handle.
fn newest(heap: &Heap, r: ObjRef) -> Option<(u32, u32)> {
    let mut diffs = Vec::new();
    let mut r = r;
    let (root, mut len) = loop {
        match heap.get(r) {
            Obj::Dict(d) => break (d.root, d.len),
            Obj::DictDiff(df) => {
                diffs.push(*df);
                r = ObjRef(df.next());
            }
            _ => return None,
        }
    };
    for df in diffs.iter().rev() {
        len = df.len_from(len);
    }
    Some((root, len))
}

/// Where an update puts its entry.
#[derive(Clone, Copy)]
enum Put {
    /// A new entry of this value (a present key keeps its place and first key).
    Value(Value),
    /// This entry slot as it is (settling replays an old version's entries).
    Slot(u64),
}

/// What an update did: the value the key had (`None`: it was new) and the
/// slot it has now.
struct Placed {
    old: Option<Value>,
    new: u64,
}

/// Where the path of a removal passed: a node and the index of the slot taken.
#[derive(Clone, Copy)]
struct Step {
    node: u32,
    idx: u32,
}

/// The nodes from the root down to the one a removal changes (at most 14).
struct Path {
    steps: [Step; 14],
    n: usize,
}

impl Path {
    fn new() -> Path {
        Path {
            steps: [Step { node: NONE, idx: 0 }; 14],
            n: 0,
        }
    }
    fn push(&mut self, node: u32, idx: u32) {
        self.steps[self.n] = Step { node, idx };
        self.n += 1;
    }
}

impl Dict {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether there is no entry.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The handle of the root node, if any (for the collector).
    pub fn root(&self) -> Option<ObjRef> {
        (self.root != NONE).then_some(ObjRef(self.root))
    }

    /// Sets `key` (already checked and frozen, with hash `h`) to `value`: a
    /// present key keeps its place and its first-stored key; a new one goes
    /// last. Returns whether the key was new. Changes this dict's own nodes in
    /// place and copies the others.
    pub fn insert(&mut self, heap: &mut Heap, h: u64, key: Value, value: Value) -> bool {
        self.place(heap, h, key, Put::Value(value), &rehash_plain)
            .old
            .is_none()
    }

    /// A second dict on this one's trie. This one's epoch is retired first:
    /// the nodes are shared from now on, so neither changes them in place.
    fn share(&mut self) -> Dict {
        self.epoch = 0;
        Dict {
            root: self.root,
            len: self.len,
            next_seq: self.next_seq,
            epoch: 0,
        }
    }

    /// The epoch of this dict's own nodes (taken on its first update).
    fn own_epoch(&mut self, heap: &mut Heap) -> u64 {
        if self.epoch == 0 {
            self.epoch = heap.fresh_epoch();
        }
        self.epoch
    }

    /// Node `r` as this dict's own: itself when it is, else a copy that is.
    fn own(&self, heap: &mut Heap, r: u32) -> u32 {
        if heap.dict_node_epoch(ObjRef(r)) == self.epoch {
            return r;
        }
        heap.dict_node_copy(ObjRef(r), self.epoch, !OWN)
            .map_or(r, |n| n.0)
    }

    /// [`Dict::insert`] with where the entry comes from, and the hash function
    /// of stored keys given (`rehash`: a key pushed one level down needs its
    /// hash again).
    fn place(
        &mut self,
        heap: &mut Heap,
        h: u64,
        key: Value,
        put: Put,
        rehash: &dyn Fn(&Heap, Value) -> u64,
    ) -> Placed {
        if matches!(put, Put::Value(_)) && self.next_seq >= SEQ_MAX {
            self.renumber(heap, rehash);
        }
        let e = self.own_epoch(heap);
        let seq = self.next_seq;
        let fresh = |heap: &mut Heap, k: Value| match put {
            Put::Value(v) => {
                let k = near_copy(heap, k);
                slot(seq, heap.alloc_entry(Obj::Pair(k, v)).0) | OWN
            }
            Put::Slot(s) => s,
        };
        let placed = 'found: {
            if self.root == NONE {
                let s = fresh(heap, key);
                self.root = heap.dict_node(&[s], 1 << digit(h, 0), e).0;
                break 'found Placed { old: None, new: s };
            }
            self.root = self.own(heap, self.root);
            let mut r = self.root;
            let mut shift = 0;
            loop {
                let (slots, bitmap) = node(heap, r);
                let bit = 1u32 << digit(h, shift);
                let idx = (bitmap & (bit - 1)).count_ones() as usize;
                if bitmap & bit == 0 {
                    let s = fresh(heap, key);
                    heap.dict_node_insert(ObjRef(r), idx, s, bit);
                    break 'found Placed { old: None, new: s };
                }
                let s = slots[idx];
                let child = slot_ref(s);
                match heap.get(ObjRef(child)) {
                    Obj::Pair(k, _) => {
                        let k = *k;
                        if key_eq(heap, k, key) {
                            break 'found match put {
                                Put::Value(v) if s & OWN != 0 => {
                                    // The entry stays where it is (a lookup finds
                                    // it where it found it before); the old value
                                    // goes to the old version's diff.
                                    let was = entry(heap, child).map(|e| e.1);
                                    if let Obj::Pair(_, val) = heap.get_mut(ObjRef(child)) {
                                        *val = v;
                                    }
                                    Placed { old: was, new: s }
                                }
                                Put::Value(v) => {
                                    let was = entry(heap, child).map(|e| e.1);
                                    let new =
                                        slot(slot_seq(s), heap.alloc_entry(Obj::Pair(k, v)).0)
                                            | OWN;
                                    heap.dict_node_put(ObjRef(r), idx, new);
                                    Placed { old: was, new }
                                }
                                Put::Slot(x) => {
                                    let was = entry(heap, child).map(|e| e.1);
                                    heap.dict_node_put(ObjRef(r), idx, x);
                                    Placed { old: was, new: x }
                                }
                            };
                        }
                        let kh = rehash(heap, k);
                        let new = fresh(heap, key);
                        let sub = pair_node(heap, s, kh, new, h, shift + BITS, e);
                        heap.dict_node_put(ObjRef(r), idx, slot(0, sub));
                        break 'found Placed { old: None, new };
                    }
                    Obj::DictBucket(items) => {
                        // A collision list: replace an equal key or append (copied,
                        // so its entries are never any one slot's alone).
                        let mut out: Vec<u64> = items.iter().map(|s| s & !OWN).collect();
                        let found = items.iter().position(|s| {
                            entry(heap, slot_ref(*s)).is_some_and(|(k, _)| key_eq(heap, k, key))
                        });
                        let placed = match found {
                            Some(i) => {
                                let old = out[i];
                                let new = match put {
                                    Put::Value(v) => {
                                        let k = entry(heap, slot_ref(old)).map_or(key, |e| e.0);
                                        slot(slot_seq(old), heap.alloc(Obj::Pair(k, v)).0)
                                    }
                                    Put::Slot(x) => x,
                                };
                                out[i] = new;
                                Placed {
                                    old: entry(heap, slot_ref(old)).map(|e| e.1),
                                    new,
                                }
                            }
                            None => {
                                let new = fresh(heap, key);
                                out.push(new);
                                Placed { old: None, new }
                            }
                        };
                        let placed = Placed {
                            old: placed.old,
                            new: placed.new & !OWN,
                        };
                        let b = bucket(heap, out.into_iter().map(|s| s & !OWN).collect());
                        heap.dict_node_put(ObjRef(r), idx, slot(0, b));
                        break 'found placed;
                    }
                    _ => {
                        let c = self.own(heap, child);
                        if c != child {
                            heap.dict_node_put(ObjRef(r), idx, slot(0, c));
                        }
                        r = c;
                        shift += BITS;
                    }
                }
            }
        };
        if placed.old.is_none() {
            self.len += 1;
            self.next_seq = seq + 1;
        }
        placed
    }

    /// Removes `key`; returns its slot when it was there. The nodes on its
    /// path are made anew (as this dict's own).
    fn take(&mut self, heap: &mut Heap, h: u64, key: Value) -> Option<u64> {
        let e = self.own_epoch(heap);
        let mut path = Path::new();
        let mut r = self.root;
        let mut shift = 0;
        let (slots_left, bitmap_left, gone) = loop {
            if r == NONE {
                return None;
            }
            let (slots, bitmap) = node(heap, r);
            if shift >= MAX_SHIFT {
                let i = slots.iter().position(|s| {
                    entry(heap, slot_ref(*s)).is_some_and(|(k, _)| key_eq(heap, k, key))
                })?;
                let mut out = kept_slots(heap, r, e);
                let gone = out.remove(i);
                break (out, 0, gone);
            }
            let bit = 1u32 << digit(h, shift);
            if bitmap & bit == 0 {
                return None;
            }
            let idx = (bitmap & (bit - 1)).count_ones() as usize;
            let child = slot_ref(slots[idx]);
            match heap.get(ObjRef(child)) {
                Obj::Pair(k, _) => {
                    if !key_eq(heap, *k, key) {
                        return None;
                    }
                    let mut out = kept_slots(heap, r, e);
                    let gone = out.remove(idx);
                    break (out, bitmap & !bit, gone);
                }
                _ => {
                    path.push(r, idx as u32);
                    r = child;
                    shift += BITS;
                }
            }
        };
        // Up the path: a node left empty goes; a non-root node left with a single
        // entry is replaced by that entry (lookups compare keys at any depth).
        let mut cur: Option<u64> = collapse(
            heap,
            slots_left,
            bitmap_left,
            path.n == 0,
            shift >= MAX_SHIFT,
            e,
        );
        for i in (0..path.n).rev() {
            let Step { node: pr, idx } = path.steps[i];
            let bitmap = node(heap, pr).1;
            let mut out = kept_slots(heap, pr, e);
            let mut bm = bitmap;
            match cur {
                Some(s) => out[idx as usize] = s,
                None => {
                    out.remove(idx as usize);
                    let bit = bit_at(bitmap, idx as usize);
                    bm &= !bit;
                }
            }
            cur = collapse(heap, out, bm, i == 0, false, e);
        }
        self.root = match cur {
            Some(s) => slot_ref(s),
            None => NONE,
        };
        self.len -= 1;
        Some(gone)
    }

    /// The same dict with insertion numbers 0, 1, ... (when they run out).
    fn renumber(&mut self, heap: &mut Heap, rehash: &dyn Fn(&Heap, Value) -> u64) {
        let mut all = Vec::with_capacity(self.len());
        trie_entries(heap, self.root, &mut all);
        all.sort_unstable_by_key(|e| e.0);
        let mut d = Dict::default();
        for (_, k, v) in all {
            let h = rehash(heap, k);
            d.place(heap, h, k, Put::Value(v), rehash);
        }
        *self = d;
    }
}

/// A new key as the dict stores it: a short string is copied into a slot
/// beside its entry's, so that a lookup's key comparison reads memory near
/// the entry and not the string's first home (a word in a list of millions).
#[inline]
fn near_copy(heap: &mut Heap, k: Value) -> Value {
    match k {
        Value::Str(r) => match heap.get(r) {
            o @ Obj::SmallStr { .. } => {
                let o = o.clone();
                Value::Str(heap.alloc_entry(o))
            }
            _ => k,
        },
        _ => k,
    }
}

/// The hash of a stored key.
fn rehash_plain(heap: &Heap, k: Value) -> u64 {
    plain_hash(heap, k).unwrap_or(0)
}

/// The version object behind a dict value, settled (see [`settle`]).
fn head_of(heap: &mut Heap, r: ObjRef) -> Option<Dict> {
    settle(heap, r);
    match heap.get_mut(r) {
        Obj::Dict(d) => Some(std::mem::take(d)),
        _ => None,
    }
}

/// Allocates `after` as the new version and turns version `r` (whose dict
/// was taken out and became `after`) into the diff `diff(next)`.
fn hand_over(heap: &mut Heap, r: ObjRef, after: Dict, diff: impl Fn(u32) -> Diff) -> Value {
    let next = heap.alloc(Obj::Dict(after));
    *heap.get_mut(r) = Obj::DictDiff(diff(next.0));
    Value::Dict(next)
}

/// Whether a new version's handle fits a diff (below `CHANGED`): the arena
/// is below 2^31 slots (64 GB), and a new object takes a slot below its end.
fn diffs_fit(heap: &Heap) -> bool {
    heap.slots() < (CHANGED - 1) as usize
}

/// `dict-set`: the dict `r` with `key` (checked and frozen, hash `h`) set to
/// `value`. When `r` is the newest version, its trie changes in place and `r`
/// becomes a diff from the result.
pub fn set(heap: &mut Heap, r: ObjRef, h: u64, key: Value, value: Value) -> Value {
    let Some(mut d) = head_of(heap, r) else {
        return Value::Dict(r);
    };
    if d.root == NONE || d.next_seq >= SEQ_MAX || !diffs_fit(heap) {
        // Nothing to share (an empty literal stays a newest version, so it
        // never holds on to what is built from it), or the insertion numbers
        // are renumbered, or no diff fits: a separate dict.
        *heap.get_mut(r) = Obj::Dict(d);
        let mut new = derive(heap, r);
        new.insert(heap, h, key, value);
        return heap.alloc_dict(new);
    }
    let p = d.place(heap, h, key, Put::Value(value), &rehash_plain);
    let pair = slot_ref(p.new);
    hand_over(heap, r, d, |next| match p.old {
        Some(old) => Diff {
            old,
            pair,
            next: next | CHANGED,
        },
        None => Diff {
            old: Value::Nil,
            pair,
            next,
        },
    })
}

/// `dict-remove`: the dict `r` without `key` (hash `h`), or `None` when it
/// has no such key. As [`set`], in place when `r` is the newest version.
pub fn remove(heap: &mut Heap, r: ObjRef, h: u64, key: Value) -> Option<Value> {
    if !diffs_fit(heap) {
        // A separate version (see `diffs_fit`).
        let mut new = derive(heap, r);
        new.take(heap, h, key)?;
        return Some(heap.alloc_dict(new));
    }
    let mut d = head_of(heap, r)?;
    let Some(gone) = d.take(heap, h, key) else {
        *heap.get_mut(r) = Obj::Dict(d);
        return None;
    };
    Some(hand_over(heap, r, d, |next| Diff {
        old: Value::Int(slot_seq(gone) as i64),
        pair: slot_ref(gone),
        next,
    }))
}

/// A new dict with the entries of `r`, to build on (`r` keeps its own; the
/// two share the trie, so neither changes the other's nodes in place).
pub fn derive(heap: &mut Heap, r: ObjRef) -> Dict {
    settle(heap, r);
    match heap.get_mut(r) {
        Obj::Dict(d) => d.share(),
        _ => Dict::default(),
    }
}

/// Makes version `r` a newest version again if it is a diff: the newest
/// version its diffs lead to gives up its epoch (its nodes become shared) and
/// the diffs are replayed, nearest the newest first, onto a copy. Returns the
/// number of diffs replayed (for the step meter).
pub fn settle(heap: &mut Heap, r: ObjRef) -> usize {
    if !matches!(heap.get(r), Obj::DictDiff(_)) {
        return 0;
    }
    let mut chain: Vec<Diff> = Vec::new();
    let mut at = r;
    let mut d = loop {
        match heap.get_mut(at) {
            Obj::DictDiff(df) => {
                chain.push(*df);
                at = ObjRef(df.next());
            }
            Obj::Dict(d) => break d.share(),
            _ => return 0,
        }
    };
    // Each diff undone, nearest the newest version first. The newest
    // version's next insertion number stays: it is past every one this
    // version holds, so new keys still go last.
    for df in chain.iter().rev() {
        let Some(k) = df.key(heap) else {
            continue;
        };
        let h = plain_hash(heap, k).unwrap_or(0);
        match df.had() {
            Had::Nothing => {
                d.take(heap, h, k);
            }
            // Shared (the slot has no `OWN`): settling an older version
            // through this diff may have put the same entry into its trie.
            Had::Slot(s) => {
                d.place(heap, h, k, Put::Slot(s), &rehash_plain);
            }
            Had::Value(v) => {
                d.place(heap, h, k, Put::Value(v), &rehash_plain);
            }
        }
    }
    *heap.get_mut(r) = Obj::Dict(d);
    chain.len()
}

/// Settles the old versions `live` that survived a collection's marking
/// (diffs, see the module comment), each chain from the newest end, so that
/// every diff is replayed once. `is_live` says which diffs were marked.
pub fn settle_live(heap: &mut Heap, live: &[ObjRef], is_live: &dyn Fn(&Heap, ObjRef) -> bool) {
    let mut on_chain: Vec<ObjRef> = Vec::new();
    for &d in live {
        on_chain.clear();
        let mut at = d;
        while let Obj::DictDiff(df) = heap.get(at) {
            if is_live(heap, at) {
                on_chain.push(at);
            }
            at = ObjRef(df.next());
        }
        for r in on_chain.iter().rev() {
            settle(heap, *r);
        }
    }
}

/// The slots of node `r` for a node of epoch `e` to take over: as they are
/// when `r` is that epoch's, else without `OWN` (the entries stay shared).
fn kept_slots(heap: &Heap, r: u32, e: u64) -> Vec<u64> {
    let slots = node(heap, r).0;
    if heap.dict_node_epoch(ObjRef(r)) == e {
        slots.to_vec()
    } else {
        slots.iter().map(|s| s & !OWN).collect()
    }
}

/// The bit of the `idx`-th set bit of `bitmap`.
fn bit_at(bitmap: u32, idx: usize) -> u32 {
    let mut b = bitmap;
    for _ in 0..idx {
        b &= b - 1;
    }
    b & b.wrapping_neg()
}

/// A node's replacement in its parent after a removal: none when empty, the
/// entry itself when a single entry is left (not at the root), else a new node.
fn collapse(
    heap: &mut Heap,
    slots: Vec<u64>,
    bitmap: u32,
    is_root: bool,
    is_bucket: bool,
    epoch: u64,
) -> Option<u64> {
    if slots.is_empty() {
        return None;
    }
    if !is_root && slots.len() == 1 && entry(heap, slot_ref(slots[0])).is_some() {
        return Some(slots[0]);
    }
    Some(slot(
        0,
        if is_bucket {
            bucket(heap, slots)
        } else {
            heap.dict_node(&slots, bitmap, epoch).0
        },
    ))
}

/// A new collision list (below the last level of hash digits).
fn bucket(heap: &mut Heap, slots: Vec<u64>) -> u32 {
    heap.alloc(Obj::DictBucket(slots.into_boxed_slice())).0
}

/// A node at `shift` holding two entry slots of different keys.
fn pair_node(heap: &mut Heap, a: u64, ha: u64, b: u64, hb: u64, shift: u32, epoch: u64) -> u32 {
    if shift >= MAX_SHIFT {
        return bucket(heap, vec![a, b]);
    }
    let (da, db) = (digit(ha, shift), digit(hb, shift));
    if da == db {
        let sub = pair_node(heap, a, ha, b, hb, shift + BITS, epoch);
        return heap.dict_node(&[slot(0, sub)], 1 << da, epoch).0;
    }
    let pair = if da < db { [a, b] } else { [b, a] };
    heap.dict_node(&pair, (1 << da) | (1 << db), epoch).0
}

// ----- keys -----

const SEED: u64 = 0x9e37_79b9_7f4a_7c15;

#[inline]
fn mix(h: u64, x: u64) -> u64 {
    (h.rotate_left(5) ^ x).wrapping_mul(SEED)
}

/// The final avalanche of MurmurHash3.
#[inline]
fn fmix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

fn hash_str(s: &str) -> u64 {
    let b = s.as_bytes();
    let mut h = mix(SEED, b.len() as u64);
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        h = mix(h, u64::from_le_bytes(c.try_into().unwrap_or([0; 8])));
    }
    let mut last = [0u8; 8];
    let rest = chunks.remainder();
    last[..rest.len()].copy_from_slice(rest);
    mix(h, u64::from_le_bytes(last))
}

/// A key checked, hashed, and frozen if it holds a mutable vector.
pub struct Key {
    /// The key to store (an immutable copy when the given one held a mutable vector).
    pub value: Value,
    /// Its hash, consistent with `equal?`.
    pub hash: u64,
}

enum Walk {
    Visit(Value),
    Leave(ObjRef),
}

/// Checks a key (language §12.2: no procedure, capability, error, actor id or
/// NaN, at any depth; a vector inside itself is refused too) and hashes it
/// consistently with `equal?`. `who` names the built-in in messages.
pub fn key_hash(heap: &Heap, meter: &mut Meter, who: &str, key: Value) -> FaultResult<(u64, bool)> {
    // `dict-update` hashes its key twice (`dict-ref`, then `dict-set`): the
    // last string key's hash is kept (strings never change; the heap forgets
    // it when a collection may reuse the handle).
    if let Value::Str(r) = key {
        if let Some(h) = heap.hash_memo(r) {
            return Ok((h, false));
        }
        let s = heap.str(r);
        // Hashing is one step per 64 bytes past the first (as `equal?`).
        meter.charge(s.len() as u64 / 64)?;
        let h = fmix(hash_str(s));
        heap.set_hash_memo(r, h);
        return Ok((h, false));
    }
    walk_key(heap, who, key, &mut |n| meter.charge(n))
}

/// The hash of a key already stored (so already checked), with no steps charged.
pub fn plain_hash(heap: &Heap, key: Value) -> Option<u64> {
    walk_key(heap, "equal?", key, &mut |_| Ok(()))
        .ok()
        .map(|r| r.0)
}

fn walk_key(
    heap: &Heap,
    who: &str,
    key: Value,
    charge: &mut dyn FnMut(u64) -> FaultResult<()>,
) -> FaultResult<(u64, bool)> {
    // Fast paths for the common keys.
    match key {
        Value::Str(r) => {
            let s = heap.str(r);
            // Hashing is one step per 64 bytes past the first (as `equal?`).
            charge(s.len() as u64 / 64)?;
            return Ok((fmix(hash_str(s)), false));
        }
        Value::Int(i) => return Ok((fmix(mix(1, i as u64)), false)),
        Value::Sym(s) => return Ok((fmix(mix(2, s.0 as u64)), false)),
        _ => {}
    }
    let mut h = SEED;
    let mut mutable = false;
    let mut on_path: Vec<ObjRef> = Vec::new();
    let mut work = vec![Walk::Visit(key)];
    while let Some(w) = work.pop() {
        charge(1)?;
        let v = match w {
            Walk::Leave(r) => {
                on_path.retain(|x| *x != r);
                continue;
            }
            Walk::Visit(v) => v,
        };
        h = match v {
            Value::Nil => mix(h, 3),
            Value::Bool(b) => mix(mix(h, 4), b as u64),
            Value::Int(i) => mix(mix(h, 1), i as u64),
            Value::Float(f) => {
                if f.is_nan() {
                    return Err(bad_key(who, "NaN"));
                }
                // 0.0 and -0.0 are one key.
                let f = if f == 0.0 { 0.0 } else { f };
                mix(mix(h, 5), f.to_bits())
            }
            Value::Str(r) => mix(mix(h, 6), hash_str(heap.str(r))),
            Value::Sym(s) => mix(mix(h, 2), s.0 as u64),
            Value::Pair(r) => {
                let (a, d) = heap.pair(r);
                work.push(Walk::Visit(d));
                work.push(Walk::Visit(a));
                mix(h, 7)
            }
            Value::Vector(r) => {
                if on_path.contains(&r) {
                    return Err(Fault::new(
                        ErrorKind::Type,
                        format!("`{who}`: a key may not contain a vector that contains itself"),
                    ));
                }
                if let Obj::Vector(items, m) = heap.get(r) {
                    mutable |= *m;
                    on_path.push(r);
                    work.push(Walk::Leave(r));
                    for it in items.iter().rev() {
                        work.push(Walk::Visit(*it));
                    }
                    mix(mix(h, 8), items.len() as u64)
                } else {
                    h
                }
            }
            Value::Dict(r) => {
                // `equal?` ignores order, so the hash takes only the size; the
                // entries are still walked, to check them.
                let d = heap.dict(r);
                for (_, val) in d.entries(heap) {
                    work.push(Walk::Visit(val));
                }
                mix(mix(h, 9), d.len() as u64)
            }
            other => return Err(bad_key(who, other.type_name())),
        };
    }
    Ok((fmix(h), mutable))
}

/// "a" or "an" before a type name.
fn article(what: &str) -> &'static str {
    match what.chars().next() {
        Some('A' | 'E' | 'I' | 'O' | 'U') => "an",
        _ => "a",
    }
}

fn bad_key(who: &str, what: &str) -> Box<Fault> {
    Fault::new(
        ErrorKind::Type,
        format!(
            "`{who}`: a dict key may not be or contain {} {what}",
            article(what)
        ),
    )
}

/// Checks and hashes a key for a lookup (never stored, so never copied).
pub fn lookup_key(heap: &Heap, meter: &mut Meter, who: &str, key: Value) -> FaultResult<u64> {
    Ok(key_hash(heap, meter, who, key)?.0)
}

/// Checks and hashes a key to store, copying its mutable vectors into
/// immutable ones (language §12.2).
pub fn store_key(heap: &mut Heap, meter: &mut Meter, who: &str, key: Value) -> FaultResult<Key> {
    let (hash, mutable) = key_hash(heap, meter, who, key)?;
    let value = if mutable { freeze(heap, key) } else { key };
    Ok(Key { value, hash })
}

/// [`store_key`] for values coming from a host: no steps charged.
pub fn store_key_unmetered(heap: &mut Heap, who: &str, key: Value) -> FaultResult<Key> {
    let (hash, mutable) = walk_key(heap, who, key, &mut |_| Ok(()))?;
    let value = if mutable { freeze(heap, key) } else { key };
    Ok(Key { value, hash })
}

enum Build {
    Visit(Value),
    Pair,
    Vector(usize),
    Dict(ObjRef, usize),
}

/// A copy of `v` in which every vector is immutable (the key was checked, so it
/// holds no cycle). Iterative.
fn freeze(heap: &mut Heap, v: Value) -> Value {
    let mut out: Vec<Value> = Vec::new();
    let mut work = vec![Build::Visit(v)];
    while let Some(t) = work.pop() {
        match t {
            Build::Visit(v) => match v {
                Value::Pair(r) => {
                    let (a, d) = heap.pair(r);
                    work.push(Build::Pair);
                    work.push(Build::Visit(d));
                    work.push(Build::Visit(a));
                }
                Value::Vector(r) => {
                    let items = heap.vec(r).to_vec();
                    work.push(Build::Vector(items.len()));
                    for it in items.into_iter().rev() {
                        work.push(Build::Visit(it));
                    }
                }
                Value::Dict(r) => {
                    let vals: Vec<Value> = heap
                        .dict(r)
                        .entries(heap)
                        .into_iter()
                        .map(|(_, v)| v)
                        .collect();
                    work.push(Build::Dict(r, vals.len()));
                    for it in vals.into_iter().rev() {
                        work.push(Build::Visit(it));
                    }
                }
                other => out.push(other),
            },
            Build::Pair => {
                let d = out.pop().unwrap_or(Value::Nil);
                let a = out.pop().unwrap_or(Value::Nil);
                out.push(heap.cons(a, d));
            }
            Build::Vector(n) => {
                let items = out.split_off(out.len() - n);
                out.push(heap.vector(items, false));
            }
            Build::Dict(r, n) => {
                let vals = out.split_off(out.len() - n);
                // The same keys (stored, so already immutable) in the same order.
                let keys = heap.dict(r).entries(heap);
                let mut d = Dict::default();
                for ((k, _), v) in keys.into_iter().zip(vals) {
                    let h = plain_hash(heap, k).unwrap_or(0);
                    d.insert(heap, h, k, v);
                }
                out.push(heap.alloc_dict(d));
            }
        }
    }
    out.pop().unwrap_or(Value::Nil)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Hashes that force the trie's rare shapes: the real one, full 64-bit
    /// collisions (collision lists at the bottom), and hashes that differ only
    /// in their last digits (the deepest levels).
    fn hash_of(mode: u8, k: i64) -> u64 {
        match mode {
            0 => fmix(mix(1, k as u64)),
            1 => (k % 3) as u64,
            _ => (((k as u64) & 15) << 60) | 0x0123_4567_89ab_cdef,
        }
    }

    fn int(v: Value) -> i64 {
        match v {
            Value::Int(i) => i,
            _ => -1,
        }
    }

    /// The entries of a dict value as integers, in order.
    fn ints(heap: &Heap, dv: Value) -> Vec<(i64, i64)> {
        let Value::Dict(r) = dv else { return vec![] };
        heap.dict(r)
            .entries(heap)
            .into_iter()
            .map(|(k, v)| (int(k), int(v)))
            .collect()
    }

    /// Checks a dict value against its model: entries in order, and a lookup
    /// of every key 0..64 (through its diffs when it is an old version).
    fn check(heap: &Heap, dv: Value, model: &[(i64, i64)], mode: u8) -> Result<(), TestCaseError> {
        prop_assert_eq!(&ints(heap, dv), model);
        let Value::Dict(r) = dv else { return Ok(()) };
        let d = heap.dict(r);
        prop_assert_eq!(d.len(), model.len());
        for k in 0..64 {
            let want = model.iter().find(|e| e.0 == k).map(|e| e.1);
            let have = d
                .get(heap, hash_of(mode, k), Value::Int(k))
                .map(|e| int(e.value));
            prop_assert_eq!(have, want);
        }
        Ok(())
    }

    fn set_model(model: &mut Vec<(i64, i64)>, k: i64, v: i64) -> bool {
        match model.iter_mut().find(|e| e.0 == k) {
            Some(e) => {
                e.1 = v;
                false
            }
            None => {
                model.push((k, v));
                true
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Inserts and removes on one dict being built, against a model (a
        /// list in insertion order), with forced hash shapes and collections
        /// in between.
        #[test]
        fn trie_shapes_match_a_model(
            mode in 0u8..3,
            ops in prop::collection::vec((0u8..3, 0i64..64, any::<i16>()), 0..120),
        ) {
            let mut heap = Heap::new();
            let mut d = Dict::default();
            let mut model: Vec<(i64, i64)> = Vec::new();
            let rehash = move |_: &Heap, k: Value| hash_of(mode, int(k));
            for (i, (op, k, v)) in ops.into_iter().enumerate() {
                let h = hash_of(mode, k);
                let v = v as i64;
                if op < 2 {
                    let p = d.place(&mut heap, h, Value::Int(k), Put::Value(Value::Int(v)), &rehash);
                    prop_assert_eq!(p.old.is_none(), set_model(&mut model, k, v));
                } else {
                    let was = d.take(&mut heap, h, Value::Int(k));
                    let pos = model.iter().position(|e| e.0 == k);
                    prop_assert_eq!(was.is_some(), pos.is_some());
                    if let Some(p) = pos { model.remove(p); }
                }
                prop_assert_eq!(d.len(), model.len());
                if i % 7 == 0 {
                    let dv = heap.alloc_dict(d);
                    heap.collect([dv]);
                    check(&heap, dv, &model, mode)?;
                    let Value::Dict(r) = dv else { unreachable!() };
                    d = head_of(&mut heap, r).unwrap_or_default();
                }
            }
            let dv = heap.alloc_dict(d);
            check(&heap, dv, &model, mode)?;
        }

        /// `set` and `remove` on any kept version, old or newest, read before
        /// and after collections that keep some versions and drop others:
        /// every version reads as its model, however its diffs were settled.
        #[test]
        fn versions_match_their_models(
            ops in prop::collection::vec((0u8..8, any::<u64>(), 0i64..24, any::<i16>()), 0..150),
        ) {
            run_versions(ops)?;
        }
    }

    fn run_versions(ops: Vec<(u8, u64, i64, i16)>) -> Result<(), TestCaseError> {
        {
            let mut heap = Heap::new();
            let empty = heap.alloc_dict(Dict::default());
            let mut kept: Vec<(Value, Vec<(i64, i64)>)> = vec![(empty, vec![])];
            for (op, pick, k, v) in ops {
                let i = ((pick as u128 * kept.len() as u128) >> 64) as usize;
                let (dv, model) = kept[i].clone();
                let Value::Dict(r) = dv else { unreachable!() };
                let h = hash_of(0, k);
                match op {
                    0..=3 => {
                        let new = set(&mut heap, r, h, Value::Int(k), Value::Int(v as i64));
                        let mut m = model;
                        set_model(&mut m, k, v as i64);
                        kept.push((new, m));
                    }
                    4 => {
                        let mut m = model;
                        let pos = m.iter().position(|e| e.0 == k);
                        match remove(&mut heap, r, h, Value::Int(k)) {
                            Some(new) => {
                                prop_assert!(pos.is_some());
                                if let Some(p) = pos {
                                    m.remove(p);
                                }
                                kept.push((new, m));
                            }
                            None => prop_assert!(pos.is_none()),
                        }
                    }
                    5 => {
                        // A read through the built-ins settles the version.
                        settle(&mut heap, r);
                        check(&heap, dv, &model, 0)?;
                    }
                    6 => check(&heap, dv, &model, 0)?,
                    _ => {
                        // Keep every other version; the rest may be freed.
                        let mut n = 0;
                        kept.retain(|_| {
                            n += 1;
                            n % 2 == 1 || n > 40
                        });
                        heap.collect(kept.iter().map(|e| e.0));
                        for (dv, m) in &kept {
                            prop_assert!(
                                !matches!(dv.obj().map(|r| heap.get(r)), Some(Obj::DictDiff(_))),
                                "a diff outlived a collection"
                            );
                            check(&heap, *dv, m, 0)?;
                        }
                    }
                }
            }
            for (dv, m) in &kept {
                check(&heap, *dv, m, 0)?;
            }
        }
        Ok(())
    }

    /// Found by `versions_match_their_models`: an old version settled through
    /// a diff puts that diff's entry into its trie; when the diff's own
    /// version is settled later, the entry is in two tries, and changing it
    /// in place through one showed in the other.
    #[test]
    fn an_entry_settled_into_two_versions_changes_in_neither() {
        let raw: Vec<(u8, usize, i64, i16)> = vec![
            (0, 0, 0, 0),
            (0, 0, 0, 0),
            (0, 0, 0, 0),
            (0, 0, 0, 0),
            (0, 0, 0, 0),
            (0, 0, 0, 0),
            (0, 0, 0, 0),
            (0, 0, 0, 0),
            (7, 0, 0, 0),
            (7, 0, 0, 0),
            (0, 0, 13, 0),
            (0, 13835058055282163712, 0, 0),
            (0, 14757395258967641293, 13, 0),
            (0, 9223372036854775808, 0, 0),
            (0, 0, 0, 0),
            (0, 0, 0, 0),
            (0, 0, 0, 0),
            (0, 0, 0, 0),
            (7, 0, 0, 0),
            (0, 9223372036854775808, 0, 0),
            (0, 5270498306774157605, 13, 1),
        ];
        let ops = raw
            .into_iter()
            .map(|(a, b, c, d)| (a, b as u64, c, d))
            .collect::<Vec<_>>();
        run_versions(ops).unwrap();
    }

    /// Large tries (thousands of nodes, more than the collector's prefetch
    /// rings hold) survive collections whole, old versions included, and
    /// what the collector counts as live is the same on a second pass.
    #[test]
    fn large_tries_survive_collections_whole() {
        let mut heap = Heap::new();
        let mut dv = heap.alloc_dict(Dict::default());
        let mut kept = Vec::new();
        for k in 0..20_000i64 {
            let Value::Dict(r) = dv else { unreachable!() };
            dv = set(
                &mut heap,
                r,
                hash_of(0, k),
                Value::Int(k),
                Value::Int(k * 2),
            );
            if k % 5_000 == 4_999 {
                kept.push((dv, k + 1));
                heap.collect(kept.iter().map(|e| e.0));
            }
        }
        let live = heap.live_bytes();
        heap.collect(kept.iter().map(|e| e.0));
        assert_eq!(heap.live_bytes(), live);
        for (dv, n) in &kept {
            let Value::Dict(r) = *dv else { unreachable!() };
            let d = heap.dict(r);
            assert_eq!(d.len() as i64, *n);
            for k in 0..20_000i64 {
                let got = d.get(&heap, hash_of(0, k), Value::Int(k)).map(|e| e.value);
                match got {
                    Some(Value::Int(v)) => assert!(k < *n && v == k * 2, "{k} -> {v}"),
                    None => assert!(k >= *n, "{k} lost from a dict of {n}"),
                    Some(other) => panic!("{k} -> {other:?}"),
                }
            }
        }
        heap.collect([]);
        assert_eq!(heap.live_bytes(), 0);
    }

    /// An old version kept alive does not keep the versions made after it:
    /// after a collection it holds about what a dict of its size holds, not
    /// the 100,000 updates threaded through it.
    #[test]
    fn an_old_version_does_not_keep_the_newer_ones() {
        let mut heap = Heap::new();
        let mut d = Dict::default();
        for k in 0..10 {
            d.insert(&mut heap, hash_of(0, k), Value::Int(k), Value::Int(k));
        }
        let base = heap.alloc_dict(d);
        heap.collect([base]);
        let small = heap.live_bytes();
        let mut dv = base;
        for k in 0..100_000i64 {
            let Value::Dict(r) = dv else { unreachable!() };
            dv = set(
                &mut heap,
                r,
                hash_of(0, k % 5_000),
                Value::Int(k % 5_000),
                Value::Int(k),
            );
        }
        assert_eq!(ints(&heap, dv).len(), 5_000);
        heap.collect([base]);
        assert!(
            heap.live_bytes() <= 2 * small,
            "{} bytes live, {small} for the old version alone",
            heap.live_bytes()
        );
        let want: Vec<(i64, i64)> = (0..10).map(|k| (k, k)).collect();
        assert_eq!(ints(&heap, base), want);
    }

    /// Updates of a newest version change its nodes and entries in place: a
    /// thousand updates of one key allocate a version object each (the old
    /// version's diff keeps the old value), not a path of nodes.
    #[test]
    fn updates_of_the_newest_version_are_in_place() {
        let mut heap = Heap::new();
        let mut d = Dict::default();
        for k in 0..1_000 {
            d.insert(&mut heap, hash_of(0, k), Value::Int(k), Value::Int(k));
        }
        let mut dv = heap.alloc_dict(d);
        let Value::Dict(r) = dv else { unreachable!() };
        dv = set(&mut heap, r, hash_of(0, 7), Value::Int(7), Value::Int(0));
        let before = heap.live_bytes();
        for i in 0..1_000 {
            let Value::Dict(r) = dv else { unreachable!() };
            dv = set(&mut heap, r, hash_of(0, 7), Value::Int(7), Value::Int(i));
        }
        let per_update = (heap.live_bytes() - before) / 1_000;
        assert_eq!(per_update, std::mem::size_of::<Obj>());
        let Value::Dict(r) = dv else { unreachable!() };
        let got = heap.dict(r).get(&heap, hash_of(0, 7), Value::Int(7));
        assert_eq!(got.map(|e| int(e.value)), Some(999));
    }

    #[test]
    fn insertion_numbers_are_renumbered_when_they_run_out() {
        let mut heap = Heap::new();
        let mut d = Dict::default();
        for k in 0..3 {
            d.insert(&mut heap, hash_of(0, k), Value::Int(k), Value::Int(k));
        }
        d.take(&mut heap, hash_of(0, 1), Value::Int(1));
        d.next_seq = SEQ_MAX;
        d.insert(&mut heap, hash_of(0, 9), Value::Int(9), Value::Int(9));
        assert_eq!(d.next_seq, 3);
        let dv = heap.alloc_dict(d);
        let keys: Vec<i64> = ints(&heap, dv).into_iter().map(|e| e.0).collect();
        assert_eq!(keys, vec![0, 2, 9]);
    }
}

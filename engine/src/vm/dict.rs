//! Dicts (language §12.2): immutable maps that keep insertion order, with
//! O(log n) lookup, insert and remove that share structure between versions.
//!
//! A hash array mapped trie (32-way, keyed by a key's 64-bit structural hash)
//! whose nodes and entries live in the heap's arena, like pairs:
//! - an entry is a pair `(key . value)` in the arena (one 32-byte slot), never
//!   seen by programs (`dict->list` makes new pairs);
//! - a node is `Obj::DictNode`: one `u64` per present child, the child's
//!   handle in the low 32 bits and, for an entry, its insertion number in the
//!   high 32 bits, kept in the heap's node slab (no allocator call per node); a
//!   child is an entry or a deeper node; the bitmap says which of the 32 hash
//!   digits are present. Below 64 bits of hash, `Obj::DictBucket` is a plain
//!   list of the entries whose hashes are equal.
//!
//! So a new version copies only the nodes on one path (at most 32 × 8 bytes
//! each) and never touches the rest: no reference counts (the collector frees
//! old versions), nothing copied but handles. Order is the insertion number:
//! a set of a present key keeps it, iteration sorts by it. A dict itself is
//! `Obj::Dict(Dict)`: its root, size and next insertion number.

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

/// An immutable, insertion-ordered dict: a handle to its trie, 12 bytes, `Copy`.
#[derive(Clone, Copy, Debug)]
pub struct Dict {
    root: u32,
    len: u32,
    next_seq: u32,
}

impl Default for Dict {
    fn default() -> Self {
        Dict {
            root: NONE,
            len: 0,
            next_seq: 0,
        }
    }
}

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
    (s >> 32) as u32
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
        Obj::DictNode { at, len, bitmap } => (heap.node_slots(*at, *len), *bitmap),
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

/// Where the path of an update passed: a node and the index of the slot taken.
#[derive(Clone, Copy)]
struct Step {
    node: u32,
    idx: u32,
}

/// The nodes from the root down to the one an update changes (at most 14).
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

    /// The entry of `key` (whose hash is `h`).
    pub fn get(&self, heap: &Heap, h: u64, key: Value) -> Option<Entry> {
        let mut r = self.root;
        let mut shift = 0;
        while r != NONE {
            let (slots, bitmap) = node(heap, r);
            if shift >= MAX_SHIFT {
                return slots.iter().find_map(|s| {
                    let (k, v) = entry(heap, slot_ref(*s))?;
                    key_eq(heap, k, key).then_some(Entry { key: k, value: v })
                });
            }
            let bit = 1u32 << digit(h, shift);
            if bitmap & bit == 0 {
                return None;
            }
            let s = slots[(bitmap & (bit - 1)).count_ones() as usize];
            match heap.get(ObjRef(slot_ref(s))) {
                Obj::Pair(k, v) => {
                    return key_eq(heap, *k, key).then_some(Entry { key: *k, value: *v });
                }
                Obj::DictNode { .. } | Obj::DictBucket(_) => {
                    r = slot_ref(s);
                    shift += BITS;
                }
                _ => return None,
            }
        }
        None
    }

    /// Sets `key` (already checked and frozen, with hash `h`) to `value`: a
    /// present key keeps its place and its first-stored key; a new one goes
    /// last. Returns whether the key was new. Allocates the new path in `heap`.
    pub fn insert(&mut self, heap: &mut Heap, h: u64, key: Value, value: Value) -> bool {
        self.insert_hashed(heap, h, key, value, &|heap, k| {
            plain_hash(heap, k).unwrap_or(0)
        })
    }

    /// [`Dict::insert`] with the hash function of stored keys given (`rehash`:
    /// a key pushed one level down needs its hash again).
    fn insert_hashed(
        &mut self,
        heap: &mut Heap,
        h: u64,
        key: Value,
        value: Value,
        rehash: &dyn Fn(&Heap, Value) -> u64,
    ) -> bool {
        if self.next_seq == u32::MAX {
            self.renumber(heap, rehash);
        }
        let seq = self.next_seq;
        if self.root == NONE {
            let e = heap.alloc(Obj::Pair(key, value)).0;
            self.root = heap.dict_node(&[slot(seq, e)], 1 << digit(h, 0)).0;
            self.len = 1;
            self.next_seq = seq + 1;
            return true;
        }
        let mut path = Path::new();
        let mut r = self.root;
        let mut shift = 0;
        // The new slot list of the deepest node changed, and whether the key is new.
        let (bottom, fresh) = loop {
            let (slots, bitmap) = node(heap, r);
            if shift >= MAX_SHIFT {
                // A collision list: replace an equal key or append.
                let mut out = slots.to_vec();
                let found = slots.iter().position(|s| {
                    entry(heap, slot_ref(*s)).is_some_and(|(k, _)| key_eq(heap, k, key))
                });
                let fresh = match found {
                    Some(i) => {
                        let k = entry(heap, slot_ref(out[i])).map_or(key, |e| e.0);
                        let e = heap.alloc(Obj::Pair(k, value)).0;
                        out[i] = slot(slot_seq(out[i]), e);
                        false
                    }
                    None => {
                        let e = heap.alloc(Obj::Pair(key, value)).0;
                        out.push(slot(seq, e));
                        true
                    }
                };
                break (bucket(heap, out), fresh);
            }
            let bit = 1u32 << digit(h, shift);
            let idx = (bitmap & (bit - 1)).count_ones() as usize;
            if bitmap & bit == 0 {
                let n = slots.len();
                let mut out = [0u64; 32];
                out[..idx].copy_from_slice(&slots[..idx]);
                out[idx + 1..=n].copy_from_slice(&slots[idx..]);
                let e = heap.alloc(Obj::Pair(key, value)).0;
                out[idx] = slot(seq, e);
                break (heap.dict_node(&out[..=n], bitmap | bit).0, true);
            }
            let s = slots[idx];
            let child = slot_ref(s);
            match heap.get(ObjRef(child)) {
                Obj::Pair(k, _) => {
                    let k = *k;
                    let (new, fresh) = if key_eq(heap, k, key) {
                        let e = heap.alloc(Obj::Pair(k, value)).0;
                        (slot(slot_seq(s), e), false)
                    } else {
                        let kh = rehash(heap, k);
                        let e = heap.alloc(Obj::Pair(key, value)).0;
                        let sub = pair_node(heap, s, kh, slot(seq, e), h, shift + BITS);
                        (slot(0, sub), true)
                    };
                    break (node_with(heap, r, idx, new), fresh);
                }
                _ => {
                    path.push(r, idx as u32);
                    r = child;
                    shift += BITS;
                }
            }
        };
        self.root = rebuild(heap, &path, bottom);
        if fresh {
            self.len += 1;
            self.next_seq = seq + 1;
        }
        fresh
    }

    /// Removes `key`; returns whether it was there.
    pub fn remove(&mut self, heap: &mut Heap, h: u64, key: Value) -> bool {
        let mut path = Path::new();
        let mut r = self.root;
        let mut shift = 0;
        let (slots_left, bitmap_left) = loop {
            if r == NONE {
                return false;
            }
            let (slots, bitmap) = node(heap, r);
            if shift >= MAX_SHIFT {
                let Some(i) = slots.iter().position(|s| {
                    entry(heap, slot_ref(*s)).is_some_and(|(k, _)| key_eq(heap, k, key))
                }) else {
                    return false;
                };
                let mut out = slots.to_vec();
                out.remove(i);
                break (out, 0);
            }
            let bit = 1u32 << digit(h, shift);
            if bitmap & bit == 0 {
                return false;
            }
            let idx = (bitmap & (bit - 1)).count_ones() as usize;
            let child = slot_ref(slots[idx]);
            match heap.get(ObjRef(child)) {
                Obj::Pair(k, _) => {
                    if !key_eq(heap, *k, key) {
                        return false;
                    }
                    let mut out = slots.to_vec();
                    out.remove(idx);
                    break (out, bitmap & !bit);
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
        );
        for i in (0..path.n).rev() {
            let Step { node: pr, idx } = path.steps[i];
            let (slots, bitmap) = node(heap, pr);
            let mut out = slots.to_vec();
            let mut bm = bitmap;
            match cur {
                Some(s) => out[idx as usize] = s,
                None => {
                    out.remove(idx as usize);
                    let bit = bit_at(bitmap, idx as usize);
                    bm &= !bit;
                }
            }
            cur = collapse(heap, out, bm, i == 0, false);
        }
        self.root = match cur {
            Some(s) => slot_ref(s),
            None => NONE,
        };
        self.len -= 1;
        true
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
        if self.root == NONE {
            return out;
        }
        let mut work = vec![self.root];
        while let Some(r) = work.pop() {
            for s in node(heap, r).0 {
                match heap.get(ObjRef(slot_ref(*s))) {
                    Obj::Pair(k, v) => out.push((slot_seq(*s), *k, *v)),
                    Obj::DictNode { .. } | Obj::DictBucket(_) => work.push(slot_ref(*s)),
                    _ => {}
                }
            }
        }
        out
    }

    /// The same dict with insertion numbers 0, 1, ... (when they run out).
    fn renumber(&mut self, heap: &mut Heap, rehash: &dyn Fn(&Heap, Value) -> u64) {
        let mut d = Dict::default();
        for (k, v) in self.entries(heap) {
            let h = rehash(heap, k);
            d.insert_hashed(heap, h, k, v, rehash);
        }
        *self = d;
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
            heap.dict_node(&slots, bitmap).0
        },
    ))
}

/// A new collision list (below the last level of hash digits).
fn bucket(heap: &mut Heap, slots: Vec<u64>) -> u32 {
    heap.alloc(Obj::DictBucket(slots.into_boxed_slice())).0
}

/// A node at `shift` holding two entry slots of different keys.
fn pair_node(heap: &mut Heap, a: u64, ha: u64, b: u64, hb: u64, shift: u32) -> u32 {
    if shift >= MAX_SHIFT {
        return bucket(heap, vec![a, b]);
    }
    let (da, db) = (digit(ha, shift), digit(hb, shift));
    if da == db {
        let sub = pair_node(heap, a, ha, b, hb, shift + BITS);
        return heap.dict_node(&[slot(0, sub)], 1 << da).0;
    }
    let pair = if da < db { [a, b] } else { [b, a] };
    heap.dict_node(&pair, (1 << da) | (1 << db)).0
}

/// Copies the nodes of `path` with the changed child put in: the new root.
fn rebuild(heap: &mut Heap, path: &Path, mut child: u32) -> u32 {
    for i in (0..path.n).rev() {
        let Step { node: r, idx } = path.steps[i];
        child = node_with(heap, r, idx as usize, slot(0, child));
    }
    child
}

/// A copy of node `r` (a trie node; a collision list never has node
/// children) with slot `idx` set to `s`.
fn node_with(heap: &mut Heap, r: u32, idx: usize, s: u64) -> u32 {
    if let Some(n) = heap.dict_node_with(ObjRef(r), idx, s) {
        return n.0;
    }
    let is_bucket = matches!(heap.get(ObjRef(r)), Obj::DictBucket(_));
    let (slots, bitmap) = node(heap, r);
    let mut out = slots.to_vec();
    if let Some(x) = out.get_mut(idx) {
        *x = s;
    }
    if is_bucket {
        bucket(heap, out)
    } else {
        heap.dict_node(&out, bitmap).0
    }
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

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Inserts and removes against a model (a list in insertion order), with
        /// collections in between: sizes, lookups and order agree, and old
        /// versions stay as they were.
        #[test]
        fn trie_matches_a_model(
            mode in 0u8..3,
            ops in prop::collection::vec((0u8..3, 0i64..64, any::<i16>()), 0..120),
        ) {
            let mut heap = Heap::new();
            let mut d = Dict::default();
            let mut model: Vec<(i64, i64)> = Vec::new();
            let mut old: Vec<(Value, Vec<(i64, i64)>)> = Vec::new();
            for (i, (op, k, v)) in ops.into_iter().enumerate() {
                let h = hash_of(mode, k);
                let (k, v) = (k, v as i64);
                if op < 2 {
                    let rehash = |_: &Heap, k: Value| match k {
                        Value::Int(k) => hash_of(mode, k),
                        _ => 0,
                    };
                    let fresh = d.insert_hashed(&mut heap, h, Value::Int(k), Value::Int(v), &rehash);
                    match model.iter_mut().find(|e| e.0 == k) {
                        Some(e) => { prop_assert!(!fresh); e.1 = v; }
                        None => { prop_assert!(fresh); model.push((k, v)); }
                    }
                } else {
                    let was = d.remove(&mut heap, h, Value::Int(k));
                    let pos = model.iter().position(|e| e.0 == k);
                    prop_assert_eq!(was, pos.is_some());
                    if let Some(p) = pos { model.remove(p); }
                }
                prop_assert_eq!(d.len(), model.len());
                if i % 7 == 0 {
                    // Keep this version, and collect with only the kept versions as roots.
                    let dv = heap.alloc_dict(d);
                    old.push((dv, model.clone()));
                    heap.collect(old.iter().map(|o| o.0));
                }
            }
            let dv = heap.alloc_dict(d);
            old.push((dv, model));
            for (dv, model) in &old {
                let Value::Dict(r) = *dv else { unreachable!() };
                let d = heap.dict(r);
                let got: Vec<(i64, i64)> = d
                    .entries(&heap)
                    .into_iter()
                    .map(|(k, v)| match (k, v) {
                        (Value::Int(k), Value::Int(v)) => (k, v),
                        _ => (-1, -1),
                    })
                    .collect();
                prop_assert_eq!(&got, model);
                for k in 0..64 {
                    let want = model.iter().find(|e| e.0 == k).map(|e| e.1);
                    let have = d.get(&heap, hash_of(mode, k), Value::Int(k)).map(|e| match e.value {
                        Value::Int(v) => v,
                        _ => -1,
                    });
                    prop_assert_eq!(have, want);
                }
            }
        }
    }

    /// Large tries (thousands of nodes, more than the collector's prefetch
    /// rings hold) survive collections whole, old versions included, and
    /// what the collector counts as live is the same on a second pass.
    #[test]
    fn large_tries_survive_collections_whole() {
        let mut heap = Heap::new();
        let mut d = Dict::default();
        let mut kept = Vec::new();
        for k in 0..20_000i64 {
            d.insert(&mut heap, hash_of(0, k), Value::Int(k), Value::Int(k * 2));
            if k % 5_000 == 4_999 {
                kept.push((heap.alloc_dict(d), k + 1));
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

    #[test]
    fn insertion_numbers_are_renumbered_when_they_run_out() {
        let mut heap = Heap::new();
        let mut d = Dict::default();
        for k in 0..3 {
            d.insert(&mut heap, hash_of(0, k), Value::Int(k), Value::Int(k));
        }
        d.remove(&mut heap, hash_of(0, 1), Value::Int(1));
        d.next_seq = u32::MAX;
        d.insert(&mut heap, hash_of(0, 9), Value::Int(9), Value::Int(9));
        let keys: Vec<i64> = d
            .entries(&heap)
            .into_iter()
            .map(|(k, _)| if let Value::Int(k) = k { k } else { -1 })
            .collect();
        assert_eq!(keys, vec![0, 2, 9]);
        assert_eq!(d.next_seq, 3);
    }
}

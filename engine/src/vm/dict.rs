//! Dicts (language §12.2): immutable maps that keep insertion order, with
//! O(log n) lookup, insert and remove that share structure between versions.
//!
//! Two persistent structures from `imbl`: a hash array mapped trie from a key's
//! structural hash to its entry (key, value, place in the order), and a
//! persistent vector of the keys in order (a removed key leaves a hole, and the
//! order is compacted when holes outnumber entries). Keys are VM values whose
//! equality needs the heap, so the trie is keyed by the 64-bit hash and a bucket
//! holds the (rare) keys that share one.

use super::heap::{Heap, Obj};
use super::meter::Meter;
use super::natives::is_equal_plain;
use super::value::{ObjRef, Value};
use crate::vm::error::{ErrorKind, Fault, FaultResult};
use std::hash::{BuildHasher, Hasher};

/// The hash of a key is already mixed: the trie uses it as it is.
#[derive(Clone, Copy, Default, Debug)]
pub struct PreHashed;

/// See [`PreHashed`].
#[derive(Default)]
pub struct PreHasher(u64);

impl Hasher for PreHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ *b as u64).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl BuildHasher for PreHashed {
    type Hasher = PreHasher;
    fn build_hasher(&self) -> PreHasher {
        PreHasher(0)
    }
}

/// One entry: the key as first stored, its value, its index in the order.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    /// The key.
    pub key: Value,
    /// The value.
    pub value: Value,
    /// Index in the order vector.
    pub seq: u32,
}

/// The entries whose keys share one hash (almost always one).
#[derive(Clone, Debug)]
enum Bucket {
    One(Entry),
    Many(Vec<Entry>),
}

impl Bucket {
    fn entries(&self) -> &[Entry] {
        match self {
            Bucket::One(e) => std::slice::from_ref(e),
            Bucket::Many(v) => v,
        }
    }
}

/// Non-atomic reference counts: a dict's nodes are shared only between
/// versions in one heap, on the thread that runs that VM (see `Send` below).
type Ptr = imbl::shared_ptr::RcK;
type Map = imbl::GenericHashMap<u64, Bucket, PreHashed, Ptr>;
type Order = imbl::GenericVector<Slot, Ptr>;

/// A slot of the order: the key's hash and the key, or a hole.
#[derive(Clone, Copy, Debug)]
struct Slot {
    hash: u64,
    key: Option<Value>,
}

/// An immutable, insertion-ordered dict. Cloning is O(1).
#[derive(Clone, Debug, Default)]
pub struct Dict {
    map: Map,
    order: Order,
    len: usize,
}

// SAFETY: the `Rc`s inside a dict are shared only with other versions of it,
// and every version lives in one VM's heap (or, during a native call, in that
// VM thread's locals): no clone is ever reachable from two threads at once, so
// moving the whole VM to another thread moves every clone together. Dicts
// cross to hosts only as owned snapshots (`convert`), never as `Dict`.
unsafe impl Send for Dict {}

impl Dict {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is no entry.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The entry of `key` (whose hash is `h`).
    pub fn get(&self, heap: &Heap, h: u64, key: Value) -> Option<Entry> {
        let b = self.map.get(&h)?;
        b.entries()
            .iter()
            .find(|e| is_equal_plain(heap, e.key, key))
            .copied()
    }

    /// Sets `key` (already checked and frozen) to `value`: a present key keeps
    /// its place and its first-stored key; a new one is appended. Returns
    /// whether the key was new.
    pub fn insert(&mut self, heap: &Heap, h: u64, key: Value, value: Value) -> bool {
        if let Some(b) = self.map.get_mut(&h) {
            match b {
                Bucket::One(e) if is_equal_plain(heap, e.key, key) => {
                    e.value = value;
                    return false;
                }
                Bucket::Many(v) => {
                    if let Some(e) = v.iter_mut().find(|e| is_equal_plain(heap, e.key, key)) {
                        e.value = value;
                        return false;
                    }
                }
                Bucket::One(_) => {}
            }
        }
        let seq = self.order.len() as u32;
        let e = Entry { key, value, seq };
        self.order.push_back(Slot {
            hash: h,
            key: Some(key),
        });
        match self.map.get_mut(&h) {
            Some(b) => {
                let mut v = b.entries().to_vec();
                v.push(e);
                *b = Bucket::Many(v);
            }
            None => {
                self.map.insert(h, Bucket::One(e));
            }
        }
        self.len += 1;
        true
    }

    /// Removes `key`; returns whether it was there.
    pub fn remove(&mut self, heap: &Heap, h: u64, key: Value) -> bool {
        let Some(b) = self.map.get(&h) else {
            return false;
        };
        let Some(pos) = b
            .entries()
            .iter()
            .position(|e| is_equal_plain(heap, e.key, key))
        else {
            return false;
        };
        let mut rest = b.entries().to_vec();
        let gone = rest.remove(pos);
        match rest.len() {
            0 => {
                self.map.remove(&h);
            }
            1 => {
                self.map.insert(h, Bucket::One(rest[0]));
            }
            _ => {
                self.map.insert(h, Bucket::Many(rest));
            }
        }
        self.order
            .set(gone.seq as usize, Slot { hash: h, key: None });
        self.len -= 1;
        if self.order.len() > 2 * self.len + 32 {
            self.compact();
        }
        true
    }

    /// Renumbers the order without holes.
    fn compact(&mut self) {
        let slots: Vec<Slot> = self
            .order
            .iter()
            .filter(|s| s.key.is_some())
            .copied()
            .collect();
        self.order = Order::new();
        for (i, s) in slots.into_iter().enumerate() {
            if let Some(b) = self.map.get_mut(&s.hash) {
                let k = s.key;
                let fix = |e: &mut Entry| {
                    if same(e.key, k) {
                        e.seq = i as u32;
                    }
                };
                match b {
                    Bucket::One(e) => fix(e),
                    Bucket::Many(v) => v.iter_mut().for_each(fix),
                }
            }
            self.order.push_back(s);
        }
    }

    /// Entries in order.
    pub fn entries(&self) -> impl Iterator<Item = (Value, Value)> + '_ {
        self.order.iter().filter_map(move |s| {
            let k = s.key?;
            let b = self.map.get(&s.hash)?;
            b.entries()
                .iter()
                .find(|e| same(e.key, Some(k)))
                .map(|e| (e.key, e.value))
        })
    }

    /// Entries in no particular order (for the collector).
    pub fn entries_unordered(&self) -> impl Iterator<Item = (Value, Value)> + '_ {
        self.map
            .values()
            .flat_map(|b| b.entries().iter().map(|e| (e.key, e.value)))
    }

    /// The same keys in the same order with new values (in order).
    pub fn with_values(&self, values: &[Value]) -> Dict {
        let mut d = self.clone();
        for (s, v) in self.order.iter().filter(|s| s.key.is_some()).zip(values) {
            if let Some(b) = d.map.get_mut(&s.hash) {
                match b {
                    Bucket::One(e) => e.value = *v,
                    Bucket::Many(es) => {
                        if let Some(e) = es.iter_mut().find(|e| same(e.key, s.key)) {
                            e.value = *v;
                        }
                    }
                }
            }
        }
        d
    }
}

/// Whether a stored key is this very key (the same handle, or the same
/// immediate value): keys in the order are copies of the entries' keys.
fn same(a: Value, b: Option<Value>) -> bool {
    match b {
        Some(b) => super::natives::is_eq(a, b),
        None => false,
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
        Value::Str(r) => return Ok((fmix(hash_str(heap.str(r))), false)),
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
                for (_, val) in d.entries() {
                    work.push(Walk::Visit(val));
                }
                mix(mix(h, 9), d.len() as u64)
            }
            other => return Err(bad_key(who, other.type_name())),
        };
    }
    Ok((fmix(h), mutable))
}

fn bad_key(who: &str, what: &str) -> Box<Fault> {
    Fault::new(
        ErrorKind::Type,
        format!("`{who}`: a dict key may not be or contain a {what}"),
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
                    let vals: Vec<Value> = heap.dict(r).entries().map(|(_, v)| v).collect();
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
                let d = heap.dict(r).with_values(&vals);
                let len = d.len();
                out.push(heap.alloc_dict(d, len));
            }
        }
    }
    out.pop().unwrap_or(Value::Nil)
}

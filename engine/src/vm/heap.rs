//! The heap: one arena of objects behind `ObjRef` handles, a free list, and a
//! mark-sweep collector that frees cycles. Marking uses an explicit worklist,
//! so data of any depth is safe.

use super::dict::{Dict, DictView, Diff};
use super::error::ErrorKind;
use super::value::{ObjRef, Value};

/// A closure: its compiled prototype and captured values, in one arena slot
/// when it captures at most one value. A second and third capture sit in one
/// more slot (a pair), more than three in one `Obj::Captures`: either way no
/// allocation outside the arena for the common closures, and the slot stays
/// the size of a pair (memory per cons cell unchanged).
#[derive(Debug, Clone)]
pub struct Closure {
    /// Index of the prototype in the session's code table (`Value::Closure`
    /// carries a copy, so that calls need not read this object).
    pub proto: u32,
    /// The arena slot of the captures after the first (`NO_REST` if none).
    rest: u32,
    /// The first captured value (nil when none); cells for assigned variables.
    first: Value,
}

/// A closure that captures at most one value has no `rest` slot.
const NO_REST: u32 = u32::MAX;

/// A heap object.
#[derive(Debug, Clone)]
pub enum Obj {
    /// A free slot; holds the next free slot (or `u32::MAX`).
    Free(u32),
    /// Cons cell.
    Pair(Value, Value),
    /// Immutable string longer than the string slab's largest class.
    Str(Box<str>),
    /// Immutable string of `SMALL_STR` + 1 to `SLAB_STR_MAX` bytes, kept in
    /// the heap's string slab at `at` (its class follows from `len`): no
    /// allocator call to make or free it. The bytes are a whole UTF-8 string.
    /// The range belongs to this one object (the sweep gives it back): an
    /// `Obj::SlabStr` is never cloned into a second slot.
    SlabStr {
        /// Offset of the first byte in the slab.
        at: u32,
        /// Bytes used.
        len: u32,
    },
    /// Immutable string of at most `SMALL_STR` bytes, held in the slot itself:
    /// no allocation to make it and none to free (numbers' texts, short
    /// appends). Its first `len` bytes are a whole UTF-8 string.
    SmallStr {
        /// Bytes used.
        len: u8,
        /// The text, then zeros.
        bytes: [u8; SMALL_STR],
    },
    /// Closure.
    Closure(Closure),
    /// Error value.
    Error(ErrorKind, Box<str>),
    /// Box for an assigned, captured variable.
    Cell(Value),
    /// A vector: its slots, and whether `vector-set!` may change them (literals
    /// and dict keys are immutable).
    Vector(Box<[Value]>, bool),
    /// The newest version of a dict: its trie (see `dict`).
    Dict(Dict),
    /// An older version of a dict: the next newer version and what this one
    /// had where that one changed (see `dict`).
    DictDiff(Diff),
    /// A node of a dict's trie: `len` slots at `at` in the node slab, one per
    /// present child (an entry or a deeper node: handle and insertion
    /// number), and which hash digits those are (see `dict`).
    DictNode {
        /// Index of the first slot in the slab.
        at: u32,
        /// Number of slots (1 to 32).
        len: u32,
        /// The hash digits present.
        bitmap: u32,
        /// The dict version that may change this node in place (0: none).
        epoch: u64,
    },
    /// A collision list of a dict's trie: entries whose 64-bit hashes are equal.
    DictBucket(Box<[u64]>),
    /// The captures after the first of a closure that captures more than three.
    Captures(Box<[Value]>),
}

/// Bytes a dict holds per entry at most (an entry's slot, its handle in a
/// node, a share of the node's slot): what a dict is checked against the limit
/// for before it grows.
pub const DICT_ENTRY_BYTES: usize = 64;

const NO_FREE: u32 = u32::MAX;

/// The longest string held inline (`Obj::SmallStr`): what fits beside the
/// length in the room a slot has anyway (a pair's second value and more).
pub const SMALL_STR: usize = 22;

// Inline strings must not make every slot (every cons cell) bigger.
const _: () = assert!(std::mem::size_of::<Obj>() == 32);

/// Storage for the slots of dict trie nodes: one array of words, reused by
/// size (a node has 1 to 32 slots), so that making and freeing a node calls
/// no allocator. The free ranges of each size are a stack of their starts
/// (not links inside the ranges: reading a link from a cold range stalled
/// every node made, measured).
#[derive(Debug)]
struct Slab {
    words: Vec<u64>,
    free: [Vec<u32>; 33],
}

impl Default for Slab {
    fn default() -> Self {
        Slab {
            words: Vec::new(),
            free: std::array::from_fn(|_| Vec::new()),
        }
    }
}

impl Slab {
    /// A free range of `len` slots: a freed one of that size, else new words.
    #[inline]
    fn range(&mut self, len: usize) -> usize {
        if let Some(at) = self.free[len].pop() {
            at as usize
        } else {
            let at = self.words.len();
            self.words.resize(at + len, 0);
            at
        }
    }

    /// Stores `slots` (1 to 32 of them); returns where.
    #[inline]
    fn take(&mut self, slots: &[u64]) -> u32 {
        let len = slots.len();
        let at = self.range(len);
        self.words[at..at + len].copy_from_slice(slots);
        at as u32
    }

    /// Copies the `len` slots at `at` to a new range, each slot ANDed with
    /// `mask`; returns where (`None` for a range outside the slab).
    #[inline]
    fn copy_masked(&mut self, at: u32, len: u32, mask: u64) -> Option<u32> {
        let (at, len) = (at as usize, len as usize);
        if at + len > self.words.len() {
            return None;
        }
        let new = self.range(len);
        for i in 0..len {
            self.words[new + i] = self.words[at + i] & mask;
        }
        Some(new as u32)
    }

    /// Copies the `len` slots at `at` to a new range one longer, with `s`
    /// put in at `idx`; returns where (`None` for a range outside the slab
    /// or a node already full).
    fn grow_with(&mut self, at: u32, len: u32, idx: usize, s: u64) -> Option<u32> {
        let (at, len) = (at as usize, len as usize);
        if at + len > self.words.len() || idx > len || len >= 32 {
            return None;
        }
        let new = self.range(len + 1);
        self.words.copy_within(at..at + idx, new);
        self.words.copy_within(at + idx..at + len, new + idx + 1);
        self.words[new + idx] = s;
        Some(new as u32)
    }

    /// Frees the range at `at` of `len` slots.
    fn give(&mut self, at: u32, len: u32) {
        self.free[len as usize].push(at);
    }

    #[inline(always)]
    fn slots(&self, at: u32, len: u32) -> &[u64] {
        self.words
            .get(at as usize..at as usize + len as usize)
            .unwrap_or(&[])
    }
}
/// The longest string kept in the string slab; longer ones are `Obj::Str`.
pub const SLAB_STR_MAX: usize = 1024;
/// A string slab of this size is never compacted.
const STR_SLAB_KEEP: usize = 1 << 20;
/// Size classes of the string slab: 24, 32, 48, 64, ... 768, 1024 bytes.
const STR_CLASSES: usize = 12;

/// The class of a string of `len` bytes (`SMALL_STR` < len ≤ `SLAB_STR_MAX`):
/// two classes per power of two, so at most a third of a range is unused.
#[inline(always)]
fn str_class(len: usize) -> usize {
    // len lies in (2^(b-1), 2^b]; the lower class of that range is 1.5 × 2^(b-1).
    let b = (usize::BITS - (len - 1).leading_zeros()) as usize;
    let mid = 3 << (b - 2);
    (b - 5) * 2 + usize::from(len > mid)
}

/// Bytes of a class.
#[inline(always)]
fn str_class_size(class: usize) -> usize {
    let b = 5 + class / 2;
    if class.is_multiple_of(2) {
        3 << (b - 2)
    } else {
        1 << b
    }
}

/// Storage for the bytes of mid-sized strings (what string building makes):
/// one array cut in ranges of a few size classes, each class a stack of free
/// range starts, as the node slab. malloc and free took a third of a
/// string-building run (perf), mostly glibc's bins after a sweep freed
/// thousands of strings at once.
#[derive(Debug, Default)]
struct StrSlab {
    bytes: Vec<u8>,
    free: [Vec<u32>; STR_CLASSES],
}

impl StrSlab {
    /// A range for a string of `len` bytes; `None` when the slab would pass
    /// 4 GiB (its offsets are 32 bits), or the system refuses memory.
    #[inline]
    fn take(&mut self, len: usize) -> Option<u32> {
        let class = str_class(len);
        if let Some(at) = self.free[class].pop() {
            return Some(at);
        }
        let at = self.bytes.len();
        let end = at.checked_add(str_class_size(class))?;
        if end > u32::MAX as usize {
            return None;
        }
        if end > self.bytes.capacity() {
            self.bytes.try_reserve(end - at).ok()?;
        }
        self.bytes.resize(end, 0);
        Some(at as u32)
    }

    /// Frees the range at `at` of a string of `len` bytes.
    fn give(&mut self, at: u32, len: u32) {
        self.free[str_class(len as usize)].push(at);
    }

    #[inline(always)]
    fn text(&self, at: u32, len: u32) -> &str {
        let b = self
            .bytes
            .get(at as usize..at as usize + len as usize)
            .unwrap_or_default();
        // SAFETY: every range a live `SlabStr` names was written whole from
        // `&str`s (`Heap::string`, `Heap::concat`) and is not written again
        // until the string is freed.
        unsafe { std::str::from_utf8_unchecked(b) }
    }
}

/// Bytes a pair accounts for.
pub const PAIR_BYTES: usize = std::mem::size_of::<Obj>();
/// How many objects the mark loop prefetches ahead of the one it marks.
const MARK_AHEAD: usize = 8;

/// Asks for the cache line of `x` ahead of its use (a hint: no effect on
/// what the program computes, none on other targets).
#[inline(always)]
fn prefetch<T>(x: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing the program sees and cannot fault; the
    // pointer comes from a reference anyway.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>((x as *const T).cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

/// A queue of at most `MARK_AHEAD` items, oldest out first: where the mark
/// loop keeps what it has prefetched until it arrives.
#[derive(Default)]
struct Ring<T> {
    items: [T; MARK_AHEAD],
    head: usize,
    len: usize,
}

impl<T: Copy> Ring<T> {
    fn is_full(&self) -> bool {
        self.len == MARK_AHEAD
    }

    /// Adds `x` last (the ring is not full).
    fn push(&mut self, x: T) {
        debug_assert!(!self.is_full());
        self.items[(self.head + self.len) % MARK_AHEAD] = x;
        self.len += 1;
    }

    /// Takes the oldest item.
    fn pop(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        let x = self.items[self.head];
        self.head = (self.head + 1) % MARK_AHEAD;
        self.len -= 1;
        Some(x)
    }
}

/// The children named by a dict node's or bucket's slots (handle in the low 32 bits).
fn slot_refs(slots: &[u64]) -> impl Iterator<Item = ObjRef> + '_ {
    slots.iter().map(|s| ObjRef(*s as u32))
}

/// What a collection's marking found live.
#[derive(Default)]
struct Tally {
    live: usize,
    live_nodes: bool,
    live_strs: usize,
    live_objs: usize,
    /// Old dict versions marked (settled after marking).
    diffs: Vec<ObjRef>,
}

/// Collections never run more often than every this many allocated bytes.
const MIN_THRESHOLD: usize = 4 << 20;

/// The object arena with its accounting.
#[derive(Debug)]
pub struct Heap {
    objs: Vec<Obj>,
    marks: Vec<bool>,
    free: u32,
    live_bytes: usize,
    threshold: usize,
    limit: usize,
    collections: u64,
    /// Bytes held for good outside the arena (interned symbols), counted as live.
    pinned: usize,
    /// The slots of dict trie nodes.
    slab: Slab,
    /// The bytes of mid-sized strings.
    strs: StrSlab,
    /// The last epoch given to a dict (`dict`: nodes a version may change in place).
    epoch: u64,
    /// The last string hashed as a dict key, and its hash (until a collection).
    hash_memo: std::cell::Cell<(u32, u64)>,
    /// Free slots set aside for dict entries (next, end): a dict's entries sit
    /// together, not one a page among what was allocated between them.
    entry_block: (u32, u32),
    /// Bytes outside the arena that live with the actors (parked register
    /// stacks, mailboxes, records), counted as live while they exist.
    external: usize,
}

impl Default for Heap {
    fn default() -> Self {
        Heap::new()
    }
}

/// Bytes an object accounts for: its slot plus what it owns.
fn cost(o: &Obj) -> usize {
    std::mem::size_of::<Obj>()
        + match o {
            Obj::Str(s) => s.len(),
            Obj::SlabStr { len, .. } => *len as usize,
            // Counted as a heap string of its length is, so that limits do
            // not depend on where the bytes are.
            Obj::SmallStr { len, .. } => *len as usize,
            Obj::Captures(c) => c.len() * std::mem::size_of::<Value>(),
            Obj::Error(_, m) => m.len(),
            Obj::Vector(v, _) => v.len() * std::mem::size_of::<Value>(),
            Obj::DictNode { len, .. } => *len as usize * std::mem::size_of::<u64>(),
            Obj::DictBucket(s) => s.len() * std::mem::size_of::<u64>(),
            _ => 0,
        }
}

impl Heap {
    /// An empty heap.
    pub fn new() -> Heap {
        Heap {
            objs: Vec::new(),
            marks: Vec::new(),
            free: NO_FREE,
            live_bytes: 0,
            threshold: MIN_THRESHOLD,
            limit: usize::MAX,
            collections: 0,
            pinned: 0,
            slab: Slab::default(),
            strs: StrSlab::default(),
            epoch: 0,
            hash_memo: std::cell::Cell::new((u32::MAX, 0)),
            entry_block: (0, 0),
            external: 0,
        }
    }

    /// Sets the live-byte limit; collections are scheduled so that it is checked in time.
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
        self.threshold = self.threshold.min(limit);
    }

    /// Counts `bytes` held for good outside the arena (a new interned symbol's name):
    /// they stay in the live bytes, so they count toward the memory limit.
    pub fn pin_bytes(&mut self, bytes: usize) {
        self.pinned = self.pinned.saturating_add(bytes);
        self.live_bytes = self.live_bytes.saturating_add(bytes);
    }

    /// Counts `bytes` held outside the arena for a while (an actor's parked stack
    /// or mailbox): live, so toward the memory limit, until [`Heap::sub_external`].
    pub fn add_external(&mut self, bytes: usize) {
        self.external = self.external.saturating_add(bytes);
        self.live_bytes = self.live_bytes.saturating_add(bytes);
    }

    /// Gives back bytes counted by [`Heap::add_external`].
    pub fn sub_external(&mut self, bytes: usize) {
        let bytes = bytes.min(self.external);
        self.external -= bytes;
        self.live_bytes = self.live_bytes.saturating_sub(bytes);
    }

    /// Bytes held by allocated objects (garbage included until the next collection).
    pub fn live_bytes(&self) -> usize {
        self.live_bytes
    }

    /// How many collections have run.
    pub fn collections(&self) -> u64 {
        self.collections
    }

    /// Whether a collection is due: enough was allocated, or the limit is passed.
    #[inline(always)]
    pub fn wants_collection(&self) -> bool {
        self.live_bytes >= self.threshold
    }

    /// Whether the heap is over its limit.
    pub fn over_limit(&self) -> bool {
        self.live_bytes > self.limit
    }

    /// Allocates an object. Always inlined: out of line, the object was written
    /// to the stack by the caller and read back in two 16-byte halves, a
    /// store-forwarding stall on every allocation (perf: 8-15% of closure- and
    /// string-heavy runs).
    #[inline(always)]
    pub fn alloc(&mut self, obj: Obj) -> ObjRef {
        let bytes = cost(&obj);
        self.alloc_counted(obj, bytes)
    }

    /// A dict value for a trie built in this heap (its nodes and entries were
    /// counted as they were allocated).
    pub fn alloc_dict(&mut self, d: Dict) -> Value {
        Value::Dict(self.alloc(Obj::Dict(d)))
    }

    /// A new vector.
    pub fn vector(&mut self, items: Vec<Value>, mutable: bool) -> Value {
        Value::Vector(self.alloc(Obj::Vector(items.into_boxed_slice(), mutable)))
    }

    /// The limit on live bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Refuses, before anything is allocated, a new object of `bytes` that could
    /// never fit under the limit (language §10: `(make-vector 1000000000000 0)`).
    pub fn check_room(&self, bytes: usize) -> Result<(), String> {
        if bytes > self.limit {
            return Err(format!(
                "an allocation of {bytes} bytes passes the memory limit of {} bytes",
                self.limit
            ));
        }
        Ok(())
    }

    // Out of line, as it was before dict nodes joined the arena: inlined into
    // `closure` (which the new variants made happen) it stalled on the object
    // copied through the stack, 5% on the closure benchmark (measured).
    #[inline(never)]
    fn alloc_counted(&mut self, obj: Obj, bytes: usize) -> ObjRef {
        self.live_bytes += bytes;
        if self.free != NO_FREE {
            let i = self.free;
            let old = std::mem::replace(&mut self.objs[i as usize], obj);
            if let Obj::Free(next) = old {
                self.free = next;
                // Free slots are cold: the next one is asked for now, so that
                // the next allocation does not wait for it.
                if let Some(o) = self.objs.get(next as usize) {
                    prefetch(o);
                }
            }
            // The slot held `Obj::Free`, which owns nothing: no drop code here.
            std::mem::forget(old);
            ObjRef(i)
        } else {
            self.objs.push(obj);
            ObjRef(self.objs.len() as u32 - 1)
        }
    }

    /// [`Heap::alloc`] inlined into its caller, for objects the caller builds
    /// piece by piece (strings): out of line, the object was read back from the
    /// stack in 16-byte halves over narrower stores, a store-forwarding stall
    /// (perf: 80 % of `alloc_counted`'s time in string building).
    #[inline(always)]
    fn alloc_inline(&mut self, obj: Obj) -> ObjRef {
        let i = self.free;
        if let Some(Obj::Free(next)) = self.objs.get(i as usize) {
            let next = *next;
            self.live_bytes += cost(&obj);
            self.free = next;
            if let Some(o) = self.objs.get(next as usize) {
                prefetch(o);
            }
            // SAFETY: the slot is in the arena (just read) and holds
            // `Obj::Free`, which owns nothing: overwritten without a drop.
            unsafe { std::ptr::write(&mut self.objs[i as usize], obj) };
            return ObjRef(i);
        }
        self.alloc(obj)
    }

    /// A new pair.
    #[inline]
    pub fn cons(&mut self, car: Value, cdr: Value) -> Value {
        Value::Pair(self.alloc(Obj::Pair(car, cdr)))
    }

    /// A new string, held inline (`Obj::SmallStr`) when it is short, in the
    /// string slab up to `SLAB_STR_MAX` bytes, else moved into the heap as it is.
    #[inline]
    pub fn string(&mut self, s: impl AsRef<str> + Into<Box<str>>) -> Value {
        let text = s.as_ref();
        if text.len() <= SMALL_STR {
            let len = text.len() as u8;
            let r = self.alloc_inline(Obj::SmallStr {
                len,
                bytes: [0; SMALL_STR],
            });
            // The text goes into the slot itself: built on the stack first, it
            // was read back over the narrower stores of a short copy (a
            // store-forwarding stall, half of `number->string`, perf).
            if let Obj::SmallStr { bytes, .. } = &mut self.objs[r.0 as usize] {
                bytes[..text.len()].copy_from_slice(text.as_bytes());
            }
            return Value::Str(r);
        }
        if text.len() <= SLAB_STR_MAX
            && let Some(v) = self.slab_string(text)
        {
            return v;
        }
        // A long text keeps its own allocation, moved, not copied.
        Value::Str(self.alloc(Obj::Str(s.into())))
    }

    /// A copy of `s` (`SMALL_STR` < len ≤ `SLAB_STR_MAX`) in the string slab;
    /// `None` when the slab cannot grow.
    // Out of line: inlined, it kept `string`'s short path from being inlined
    // into `number->string` (8% of the string benchmark in a call, perf).
    #[inline(never)]
    fn slab_string(&mut self, s: &str) -> Option<Value> {
        let at = self.strs.take(s.len())?;
        let at_ = at as usize;
        self.strs.bytes[at_..at_ + s.len()].copy_from_slice(s.as_bytes());
        let len = s.len() as u32;
        Some(Value::Str(self.alloc_inline(Obj::SlabStr { at, len })))
    }

    /// A new string of the strings `parts` one after the other (anything not
    /// a string counts as empty): the parts are copied straight into the new
    /// string's slot or slab range, no text built on the side. `None` when the
    /// system refuses the memory for a long one.
    pub fn concat(&mut self, parts: &[Value]) -> Option<Value> {
        let total: usize = parts
            .iter()
            .map(|p| match p {
                Value::Str(r) => self.str_len(*r),
                _ => 0,
            })
            .sum();
        if total <= SMALL_STR {
            // Every part is short too, so held in its slot: each is read by
            // value and written into the new slot.
            let len = total as u8;
            let new = self.alloc_inline(Obj::SmallStr {
                len,
                bytes: [0; SMALL_STR],
            });
            let mut w = 0;
            for p in parts {
                let Value::Str(r) = p else { continue };
                let Obj::SmallStr { len, bytes: src } = self.objs[r.0 as usize] else {
                    continue;
                };
                let n = (len as usize).min(total - w);
                if let Obj::SmallStr { bytes, .. } = &mut self.objs[new.0 as usize] {
                    bytes[w..w + n].copy_from_slice(&src[..n]);
                }
                w += n;
            }
            return Some(Value::Str(new));
        }
        let slab = if total > SLAB_STR_MAX {
            None
        } else {
            self.strs.take(total)
        };
        let Some(at) = slab else {
            let mut s = String::new();
            s.try_reserve_exact(total).ok()?;
            for p in parts {
                if let Value::Str(r) = p {
                    s.push_str(self.str(*r));
                }
            }
            return Some(Value::Str(self.alloc(Obj::Str(s.into()))));
        };
        let mut w = at as usize;
        let end = w + total;
        for p in parts {
            let Value::Str(r) = p else { continue };
            // The arena and the slab are separate fields: a part is read from
            // one while the new string is written into the slab.
            let n = match &self.objs[r.0 as usize] {
                Obj::SmallStr { len, bytes } => {
                    let n = (*len as usize).min(end - w);
                    self.strs.bytes[w..w + n].copy_from_slice(&bytes[..n]);
                    n
                }
                Obj::SlabStr { at: src, len } => {
                    let (src, n) = (*src as usize, (*len as usize).min(end - w));
                    self.strs.bytes.copy_within(src..src + n, w);
                    n
                }
                Obj::Str(s) => {
                    let n = s.len().min(end - w);
                    self.strs.bytes[w..w + n].copy_from_slice(&s.as_bytes()[..n]);
                    n
                }
                _ => 0,
            };
            w += n;
        }
        debug_assert_eq!(w, end);
        let len = total as u32;
        Some(Value::Str(self.alloc_inline(Obj::SlabStr { at, len })))
    }

    /// A new closure of `proto` capturing `caps` (see [`Closure`]): `small` holds
    /// the first three captures, `more` the ones after (only when there are more
    /// than three).
    // Out of line: inlined into the dispatch loop, its stack temporaries cost
    // the loop a register (the code pointer was reloaded from the stack at
    // every instruction: 10% on the closure benchmark, measured).
    #[inline(never)]
    pub fn closure(&mut self, proto: u32, n: usize, small: [Value; 3], more: Vec<Value>) -> ObjRef {
        let rest = match n {
            0 | 1 => NO_REST,
            2 | 3 => self.alloc(Obj::Pair(small[1], small[2])).0,
            _ => {
                let mut all = Vec::with_capacity(n - 1);
                all.extend_from_slice(&small[1..]);
                all.extend(more);
                self.alloc(Obj::Captures(all.into())).0
            }
        };
        self.alloc(Obj::Closure(Closure {
            proto,
            rest,
            first: small[0],
        }))
    }

    /// The first capture of the closure behind `r` (nil if it is not a closure).
    #[inline(always)]
    pub fn first_capture(&self, r: ObjRef) -> Value {
        match &self.objs[r.0 as usize] {
            Obj::Closure(c) => c.first,
            _ => Value::Nil,
        }
    }

    /// Capture `i` of a closure (nil past its captures: the compiler never asks).
    #[inline(always)]
    pub fn capture(&self, c: &Closure, i: u16) -> Value {
        if i == 0 {
            return c.first;
        }
        if c.rest == NO_REST {
            return Value::Nil;
        }
        match &self.objs[c.rest as usize] {
            Obj::Pair(a, b) => match i {
                1 => *a,
                2 => *b,
                _ => Value::Nil,
            },
            Obj::Captures(v) => v.get(i as usize - 1).copied().unwrap_or(Value::Nil),
            _ => Value::Nil,
        }
    }

    /// The object behind a handle.
    #[inline(always)]
    pub fn get(&self, r: ObjRef) -> &Obj {
        &self.objs[r.0 as usize]
    }

    /// The object behind a handle, mutably.
    #[inline(always)]
    pub fn get_mut(&mut self, r: ObjRef) -> &mut Obj {
        &mut self.objs[r.0 as usize]
    }

    /// A new node of a dict's trie holding `slots` (1 to 32), for the hash
    /// digits of `bitmap`, changeable in place by the version of `epoch`;
    /// counted like any object (its slot and 8 bytes a child).
    pub fn dict_node(&mut self, slots: &[u64], bitmap: u32, epoch: u64) -> ObjRef {
        let len = slots.len() as u32;
        let at = self.slab.take(slots);
        self.alloc(Obj::DictNode {
            at,
            len,
            bitmap,
            epoch,
        })
    }

    /// A copy of dict trie node `r` for the version of `epoch`, each slot
    /// ANDed with `mask` (the step of a path copy); `None` when `r` is not a node.
    pub fn dict_node_copy(&mut self, r: ObjRef, epoch: u64, mask: u64) -> Option<ObjRef> {
        let Obj::DictNode {
            at, len, bitmap, ..
        } = *self.get(r)
        else {
            return None;
        };
        let at = self.slab.copy_masked(at, len, mask)?;
        Some(self.alloc(Obj::DictNode {
            at,
            len,
            bitmap,
            epoch,
        }))
    }

    /// Sets slot `idx` of dict trie node `r` in place (a node of the version
    /// changing it: see `dict`).
    pub fn dict_node_put(&mut self, r: ObjRef, idx: usize, s: u64) {
        if let Obj::DictNode { at, len, .. } = *self.get(r)
            && (idx as u32) < len
            && let Some(w) = self.slab.words.get_mut(at as usize + idx)
        {
            *w = s;
        }
    }

    /// Inserts slot `s` at `idx` of dict trie node `r` in place, for the hash
    /// digit `bit` (a node of the version changing it: see `dict`). The node
    /// moves to a range one slot longer; its old range is given back.
    pub fn dict_node_insert(&mut self, r: ObjRef, idx: usize, s: u64, bit: u32) {
        let Obj::DictNode {
            at, len, bitmap, ..
        } = *self.get(r)
        else {
            return;
        };
        let Some(new) = self.slab.grow_with(at, len, idx, s) else {
            return;
        };
        self.slab.give(at, len);
        if let Obj::DictNode {
            at: a,
            len: l,
            bitmap: b,
            ..
        } = self.get_mut(r)
        {
            (*a, *l, *b) = (new, len + 1, bitmap | bit);
        }
        self.live_bytes += std::mem::size_of::<u64>();
    }

    /// The epoch of a dict trie node (0 for anything else).
    #[inline(always)]
    pub fn dict_node_epoch(&self, r: ObjRef) -> u64 {
        match self.get(r) {
            Obj::DictNode { epoch, .. } => *epoch,
            _ => 0,
        }
    }

    /// The hash kept for string `r` as a dict key, if it is the last one hashed.
    #[inline(always)]
    pub fn hash_memo(&self, r: ObjRef) -> Option<u64> {
        let (at, h) = self.hash_memo.get();
        (at == r.0).then_some(h)
    }

    /// Keeps `h` as the hash of string `r` as a dict key.
    #[inline(always)]
    pub fn set_hash_memo(&self, r: ObjRef, h: u64) {
        self.hash_memo.set((r.0, h));
    }

    /// Slots in the arena (live, garbage and free).
    pub fn slots(&self) -> usize {
        self.objs.len()
    }

    /// A new epoch, never given before in this heap (64 bits: never wraps).
    pub fn fresh_epoch(&mut self) -> u64 {
        self.epoch += 1;
        self.epoch
    }

    /// The slots of a dict trie node.
    #[inline(always)]
    pub fn node_slots(&self, at: u32, len: u32) -> &[u64] {
        self.slab.slots(at, len)
    }

    /// The car and cdr of a pair handle.
    #[inline(always)]
    pub fn pair(&self, r: ObjRef) -> (Value, Value) {
        match self.objs[r.0 as usize] {
            Obj::Pair(a, d) => (a, d),
            _ => (Value::Nil, Value::Nil),
        }
    }

    /// The slots of a vector handle.
    pub fn vec(&self, r: ObjRef) -> &[Value] {
        match &self.objs[r.0 as usize] {
            Obj::Vector(v, _) => v,
            _ => &[],
        }
    }

    /// The dict behind a handle, to read (an empty one for a handle that is
    /// not a dict).
    #[inline]
    pub fn dict(&self, r: ObjRef) -> DictView {
        DictView::of(self, r)
    }

    /// The text of a string handle.
    pub fn str(&self, r: ObjRef) -> &str {
        match &self.objs[r.0 as usize] {
            Obj::Str(s) => s,
            Obj::SlabStr { at, len } => self.strs.text(*at, *len),
            Obj::SmallStr { len, bytes } => {
                let b = bytes.get(..*len as usize).unwrap_or_default();
                // SAFETY: `string` copied these bytes from a whole `&str`
                // and nothing changes them after, so they are valid UTF-8.
                unsafe { std::str::from_utf8_unchecked(b) }
            }
            _ => "",
        }
    }

    /// The length in bytes of a string handle's text (0 for a handle that is not one).
    #[inline]
    pub fn str_len(&self, r: ObjRef) -> usize {
        match &self.objs[r.0 as usize] {
            Obj::Str(s) => s.len(),
            Obj::SlabStr { len, .. } => *len as usize,
            Obj::SmallStr { len, .. } => *len as usize,
            _ => 0,
        }
    }

    /// Allocates a dict entry (or its key) in the block of slots set aside
    /// for entries, so that a dict built among millions of other allocations
    /// keeps its entries together (word count -2 %, measured).
    #[inline]
    pub fn alloc_entry(&mut self, obj: Obj) -> ObjRef {
        const BLOCK: u32 = 256;
        if self.entry_block.0 == self.entry_block.1 {
            let start = self.objs.len() as u32;
            if start > u32::MAX - 2 * BLOCK {
                return self.alloc(obj);
            }
            self.objs
                .extend(std::iter::repeat_with(|| Obj::Free(NO_FREE)).take(BLOCK as usize));
            self.entry_block = (start, start + BLOCK);
        }
        let i = self.entry_block.0;
        let Some(slot) = self.objs.get_mut(i as usize) else {
            self.entry_block = (0, 0);
            return self.alloc(obj);
        };
        self.live_bytes += cost(&obj);
        *slot = obj;
        self.entry_block.0 += 1;
        ObjRef(i)
    }

    /// Gives the slots set aside for entries and not used back to the free
    /// list (at a collection: before marking, and again before the sweep,
    /// since settling old dict versions may have set aside a new block and
    /// the arena's free end may be cut after the sweep).
    fn release_entry_block(&mut self) {
        let (next, end) = std::mem::take(&mut self.entry_block);
        for i in (next..end).rev() {
            if let Some(o) = self.objs.get_mut(i as usize) {
                *o = Obj::Free(self.free);
                self.free = i;
            }
        }
    }

    /// Builds a proper list from values.
    pub fn list(&mut self, items: &[Value]) -> Value {
        self.list_with_tail(items, Value::Nil)
    }

    /// Builds a list from values ending in `tail`.
    pub fn list_with_tail(&mut self, items: &[Value], tail: Value) -> Value {
        let mut acc = tail;
        for v in items.iter().rev() {
            acc = self.cons(*v, acc);
        }
        acc
    }

    /// Collects garbage: marks from `roots`, frees everything else.
    pub fn collect(&mut self, roots: impl IntoIterator<Item = Value>) {
        self.collect_traced(roots, &mut |_, _| {});
    }

    /// Collects garbage, telling `trace` the prototype of every live closure; `trace`
    /// pushes whatever that prototype keeps alive (its constants) onto the worklist.
    /// The code collector uses it to find live prototypes in the same pass.
    pub fn collect_traced(
        &mut self,
        roots: impl IntoIterator<Item = Value>,
        trace: &mut dyn FnMut(u32, &mut Vec<ObjRef>),
    ) {
        self.collections += 1;
        // A handle freed now may name another string after.
        self.hash_memo.set((u32::MAX, 0));
        self.release_entry_block();
        self.marks.clear();
        self.marks.resize(self.objs.len(), false);
        let work: Vec<ObjRef> = roots.into_iter().filter_map(Value::obj).collect();
        let mut t = Tally::default();
        self.mark(work, trace, &mut t);
        // Old dict versions still live are settled now (their chains of newer
        // versions are not marked: see `dict`), and what they hold is marked.
        while !t.diffs.is_empty() {
            let diffs = std::mem::take(&mut t.diffs);
            super::dict::settle_live(self, &diffs, &|h, r| {
                h.marks.get(r.0 as usize).copied().unwrap_or(false)
            });
            let roots: Vec<ObjRef> = diffs
                .iter()
                .filter_map(|r| match self.get(*r) {
                    Obj::Dict(d) => d.root(),
                    _ => None,
                })
                .collect();
            self.marks.resize(self.objs.len(), false);
            self.mark(roots, trace, &mut t);
        }
        let Tally {
            live,
            live_nodes,
            live_strs,
            live_objs,
            ..
        } = t;
        self.release_entry_block();
        for (i, (obj, marked)) in self.objs.iter_mut().zip(&self.marks).enumerate() {
            if *marked || matches!(obj, Obj::Free(_)) {
                continue;
            }
            match *obj {
                Obj::DictNode { at, len, .. } => self.slab.give(at, len),
                Obj::SlabStr { at, len } => self.strs.give(at, len),
                _ => {}
            }
            *obj = Obj::Free(self.free);
            self.free = i as u32;
        }
        if !live_nodes {
            // No dict left: give the slab's memory back.
            self.slab = Slab::default();
        }
        self.live_bytes = live + self.pinned + self.external;
        // The actors' stacks and mailboxes are live too: a threshold below them
        // would collect at every safe point once many actors wait.
        self.threshold = ((live + self.external) * 2)
            .max(MIN_THRESHOLD)
            .min(self.limit.max(1));
        // The string slab keeps room for what is allocated until the next
        // collection (else it would shrink and grow again every cycle, page
        // faults and zeroing included); past that, its memory goes back.
        let keep = (live_strs + self.threshold).max(STR_SLAB_KEEP);
        if self.strs.bytes.len() > 2 * keep {
            self.compact_strs(live_strs);
        }
        // Give back memory when most of the arena is free at its end, but keep
        // slots for what is allocated until the next collection: truncated
        // below that, the arena grew again every cycle (pushes, reallocation
        // and page faults: 10 % of string building, perf).
        let keep_slots = (live_objs + self.threshold / std::mem::size_of::<Obj>()).max(1024);
        while let Some(Obj::Free(_)) = self.objs.last() {
            if self.objs.len() <= keep_slots {
                break;
            }
            self.objs.pop();
        }
        if self.objs.len() < self.marks.len() {
            self.rebuild_free_list();
        }
    }

    /// Marks everything reachable from `work`, counting what is live into `t`.
    fn mark(
        &mut self,
        mut work: Vec<ObjRef>,
        trace: &mut dyn FnMut(u32, &mut Vec<ObjRef>),
        t: &mut Tally,
    ) {
        // Marking a large heap waits on memory: each object popped is a cache
        // miss. So objects wait in a small ring after they leave the work list,
        // their slot and mark prefetched, and are marked a few pops later, when
        // both have arrived (the "prefetch on grey" of Boehm's collector).
        let mut ring: Ring<u32> = Ring::default();
        let mut nodes: Ring<(u32, u32)> = Ring::default();
        loop {
            while !ring.is_full() {
                let Some(r) = work.pop() else { break };
                let i = r.0 as usize;
                if i < self.objs.len() {
                    prefetch(&self.objs[i]);
                    prefetch(&self.marks[i]);
                }
                ring.push(r.0);
            }
            let Some(i) = ring.pop() else {
                // The nodes whose slots are still on their way come last.
                let Some((at, len)) = nodes.pop() else { break };
                work.extend(slot_refs(self.slab.slots(at, len)));
                continue;
            };
            let i = i as usize;
            if i >= self.marks.len() || self.marks[i] {
                continue;
            }
            self.marks[i] = true;
            t.live_objs += 1;
            let obj = &self.objs[i];
            // Counted here, while the object is in the cache: the sweep then
            // never reads a live object.
            t.live += cost(obj);
            match obj {
                Obj::Pair(a, d) => {
                    work.extend(a.obj());
                    work.extend(d.obj());
                }
                Obj::Closure(c) => {
                    work.extend(c.first.obj());
                    if c.rest != NO_REST {
                        work.push(ObjRef(c.rest));
                    }
                    trace(c.proto, &mut work);
                }
                Obj::Captures(v) => work.extend(v.iter().filter_map(|v| v.obj())),
                Obj::Cell(v) => work.extend(v.obj()),
                Obj::Vector(items, _) => work.extend(items.iter().filter_map(|v| v.obj())),
                Obj::Dict(d) => work.extend(d.root()),
                Obj::DictDiff(d) => {
                    t.diffs.push(ObjRef(i as u32));
                    work.extend(d.refs());
                }
                Obj::DictNode { at, len, .. } => {
                    t.live_nodes = true;
                    // Its slots are in the slab, another cache miss: asked for
                    // now and read when MARK_AHEAD more nodes have been seen.
                    for line in self.slab.slots(*at, *len).chunks(8) {
                        prefetch(&line[0]);
                    }
                    if nodes.is_full()
                        && let Some((at, len)) = nodes.pop()
                    {
                        work.extend(slot_refs(self.slab.slots(at, len)));
                    }
                    nodes.push((*at, *len));
                }
                Obj::DictBucket(slots) => work.extend(slot_refs(slots)),
                Obj::SlabStr { len, .. } => t.live_strs += str_class_size(str_class(*len as usize)),
                Obj::Free(_) | Obj::Str(_) | Obj::SmallStr { .. } | Obj::Error(..) => {}
            }
        }
    }

    /// Moves the live strings of the string slab to the front of a new one of
    /// `live` bytes, so that a host that once built many strings does not keep
    /// their memory for good. Runs after a sweep (every `SlabStr` left is live).
    fn compact_strs(&mut self, live: usize) {
        let mut at_obj: Vec<(u32, u32)> = self
            .objs
            .iter()
            .enumerate()
            .filter_map(|(i, o)| match o {
                Obj::SlabStr { at, .. } => Some((*at, i as u32)),
                _ => None,
            })
            .collect();
        at_obj.sort_unstable();
        let mut bytes = Vec::with_capacity(live);
        for (old, i) in at_obj {
            if let Obj::SlabStr { at, len } = &mut self.objs[i as usize] {
                let size = str_class_size(str_class(*len as usize));
                let from = old as usize;
                let Some(range) = self.strs.bytes.get(from..from + size) else {
                    continue;
                };
                *at = bytes.len() as u32;
                bytes.extend_from_slice(range);
            }
        }
        self.strs = StrSlab {
            bytes,
            free: Default::default(),
        };
    }

    /// After truncating the arena, rebuilds the free list from the slots left.
    fn rebuild_free_list(&mut self) {
        self.free = NO_FREE;
        for i in (0..self.objs.len()).rev() {
            if let Obj::Free(_) = self.objs[i] {
                self.objs[i] = Obj::Free(self.free);
                self.free = i as u32;
            }
        }
        self.objs.shrink_to(self.objs.len() * 2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_cycles_and_keeps_roots() {
        let mut h = Heap::new();
        let keep = h.cons(Value::Int(1), Value::Nil);
        // A cycle through a cell and a closure, unreachable.
        let cell = h.alloc(Obj::Cell(Value::Nil));
        let clo = h.closure(
            0,
            1,
            [Value::Cell(cell), Value::Nil, Value::Nil],
            Vec::new(),
        );
        *h.get_mut(cell) = Obj::Cell(Value::Closure(clo, 0));
        let before = h.live_bytes();
        h.collect([keep]);
        assert!(h.live_bytes() < before);
        assert_eq!(
            h.pair(match keep {
                Value::Pair(r) => r,
                _ => unreachable!(),
            })
            .0
            .type_name(),
            "Int"
        );
    }

    #[test]
    fn closures_keep_every_capture_and_stay_pair_sized() {
        assert!(std::mem::size_of::<Obj>() <= 32);
        for n in 0..7usize {
            let mut h = Heap::new();
            let caps: Vec<Value> = (0..n)
                .map(|i| h.cons(Value::Int(i as i64), Value::Nil))
                .collect();
            let mut small = [Value::Nil; 3];
            for (k, v) in caps.iter().take(3).enumerate() {
                small[k] = *v;
            }
            let more = caps.iter().skip(3).copied().collect();
            let c = h.closure(7, n, small, more);
            h.collect([Value::Closure(c, 7)]);
            let Obj::Closure(clo) = h.get(c).clone() else {
                panic!("not a closure")
            };
            assert_eq!(clo.proto, 7);
            for i in 0..n {
                let Value::Pair(r) = h.capture(&clo, i as u16) else {
                    panic!("capture {i} of {n} lost")
                };
                assert!(matches!(h.pair(r).0, Value::Int(k) if k == i as i64));
            }
        }
    }

    #[test]
    fn deep_list_marks_without_recursion() {
        let mut h = Heap::new();
        let mut v = Value::Nil;
        for _ in 0..1_000_000 {
            v = h.cons(v, Value::Nil);
        }
        h.collect([v]);
        assert!(h.live_bytes() >= 1_000_000 * std::mem::size_of::<Obj>());
        h.collect([]);
        assert_eq!(h.live_bytes(), 0);
    }

    fn text(h: &Heap, v: Value) -> String {
        match v {
            Value::Str(r) => h.str(r).to_string(),
            _ => panic!("not a string"),
        }
    }

    #[test]
    fn string_classes_hold_their_lengths() {
        let mut last = 0;
        for len in SMALL_STR + 1..=SLAB_STR_MAX {
            let c = str_class(len);
            assert!(c < STR_CLASSES, "{len}");
            assert!(str_class_size(c) >= len, "{len}");
            assert!(c >= last, "classes grow with length");
            // No class is more than half unused.
            assert!(str_class_size(c) < 2 * len, "{len}");
            last = c;
        }
    }

    #[test]
    fn strings_of_every_representation_join_and_survive_collections() {
        let mut h = Heap::new();
        // Short (inline), slab-sized and long (own allocation) parts, with
        // multi-byte characters so a byte slip would break UTF-8.
        let parts: Vec<Value> = ["é", &"ab€".repeat(10), &"x".repeat(2000), ""]
            .iter()
            .map(|t| h.string(*t))
            .collect();
        let mut kept = Vec::new();
        for n in 1..=parts.len() {
            for start in 0..parts.len() {
                let pick: Vec<Value> = parts.iter().cycle().skip(start).take(n).copied().collect();
                let want: String = pick.iter().map(|p| text(&h, *p)).collect();
                let v = h.concat(&pick).expect("memory");
                assert_eq!(text(&h, v), want);
                kept.push((v, want));
            }
        }
        // Short parts joined into a short string, and into a slab one.
        let short: Vec<Value> = ["a", "bc", "", "d€", "é"]
            .iter()
            .map(|t| h.string(*t))
            .collect();
        let v = h.concat(&short).expect("memory");
        assert_eq!(text(&h, v), "abcd€é");
        for n in [12, 30] {
            let many: Vec<Value> = short.iter().cycle().take(n).copied().collect();
            let want: String = many.iter().map(|p| text(&h, *p)).collect();
            let v = h.concat(&many).expect("memory");
            assert_eq!(text(&h, v), want);
            kept.push((v, want));
        }
        // Garbage between the kept strings, then collections: the freed ranges
        // are reused and the kept texts stay as they were.
        for round in 0..3 {
            for i in 0..500 {
                h.string("g".repeat(23 + (i * 7 + round) % 1000));
            }
            let roots: Vec<Value> = kept
                .iter()
                .map(|k| k.0)
                .chain(parts.iter().copied())
                .collect();
            h.collect(roots);
            for (v, want) in &kept {
                assert_eq!(&text(&h, *v), want);
            }
        }
    }

    #[test]
    fn a_mostly_dead_string_slab_is_compacted_and_keeps_the_live_texts() {
        let mut h = Heap::new();
        let mut keep = Vec::new();
        for i in 0..20_000 {
            let t = format!("{i:05}{}", "s".repeat(500 + i % 300));
            let v = h.string(t.as_str());
            if i % 200 == 0 {
                keep.push((v, t));
            }
        }
        let before = h.strs.bytes.len();
        h.collect(keep.iter().map(|k| k.0).collect::<Vec<_>>());
        assert!(
            h.strs.bytes.len() < before / 4,
            "slab of {} bytes after compaction, {before} before",
            h.strs.bytes.len()
        );
        for (v, t) in &keep {
            assert_eq!(&text(&h, *v), t);
        }
        // New strings go after the compacted ones without overwriting them.
        let fresh: Vec<(Value, String)> = (0..100)
            .map(|i| {
                let t = format!("new {i} {}", "n".repeat(100));
                (h.string(t.as_str()), t)
            })
            .collect();
        for (v, t) in keep.iter().chain(&fresh) {
            assert_eq!(&text(&h, *v), t);
        }
        // A large slab with nothing live in it is given back whole.
        for i in 0..20_000 {
            h.string("d".repeat(600 + i % 300));
        }
        h.collect([]);
        assert_eq!(
            h.strs.bytes.len(),
            0,
            "no string left: the slab is given back"
        );
    }

    #[test]
    fn the_arena_keeps_room_for_one_cycle_and_gives_back_the_rest() {
        let mut h = Heap::new();
        let mut v = Value::Nil;
        for _ in 0..1_000_000 {
            v = h.cons(Value::Int(1), v);
        }
        h.collect([v]);
        let full = h.objs.len();
        assert!(full >= 1_000_000);
        // All dead: the arena shrinks, but keeps slots for what the next cycle
        // allocates (the threshold's worth), so it does not grow again at once.
        h.collect([]);
        let room = h.threshold / std::mem::size_of::<Obj>();
        assert!(
            h.objs.len() <= room.max(1024),
            "{} slots kept",
            h.objs.len()
        );
        assert!(
            h.objs.len() >= room.min(full),
            "{} slots kept",
            h.objs.len()
        );
        for _ in 0..room {
            h.cons(Value::Nil, Value::Nil);
        }
        assert!(
            h.objs.len() <= room.max(1024),
            "a cycle's allocations fit the kept slots"
        );
    }
}

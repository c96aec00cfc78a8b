//! Values: a 16-byte `Copy` enum; heap objects sit behind handles.

use crate::ground::ffi::Capability;

/// A handle to an object in the heap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ObjRef(pub u32);

/// An interned symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SymId(pub u32);

/// A Jue value. `Copy` and 16 bytes: the VM moves these around constantly.
///
/// `repr(C, u64)` fixes the layout: the tag is the word at offset 0 and every
/// payload starts at offset 8 (none is longer than 8 bytes), with no padding
/// between them. So the compiler moves a value as two words, the way it writes
/// a fresh one (tag word, payload word); with a byte tag it moved bytes 1..16 as
/// two overlapping words, and loads that straddle two earlier stores cannot be
/// store-forwarded: a stall of a dozen cycles or more on every such copy. The VM
/// also relies on the layout to test and copy registers in place
/// ([`copy_value`], [`read_int`], ...).
#[derive(Clone, Copy, Debug)]
#[repr(C, u64)]
pub enum Value {
    /// `nil`, also the empty list.
    Nil,
    /// `true` / `false`.
    Bool(bool),
    /// 64-bit integer.
    Int(i64),
    /// 64-bit float.
    Float(f64),
    /// Immutable string.
    Str(ObjRef),
    /// Interned symbol (keywords included).
    Sym(SymId),
    /// Cons cell.
    Pair(ObjRef),
    /// Compiled procedure with its captured values, and the index of the
    /// prototype it runs: fixed when the closure is made (the heap object keeps
    /// it too, for the collector), so a call finds the code without reading
    /// the object.
    Closure(ObjRef, u32),
    /// Built-in procedure, by index into the built-in table.
    Builtin(u16),
    /// FFI function, by index into the session registry.
    Ffi(u32),
    /// A capability witness.
    Capability(Capability),
    /// An error value, as bound by `catch`.
    Error(ObjRef),
    /// Reserved for actors.
    Actor(u32),
    /// A vector (mutable, or immutable when it came from a literal).
    Vector(ObjRef),
    /// An immutable, insertion-ordered dict.
    Dict(ObjRef),
    /// Internal: a global or letrec slot that has not been assigned yet.
    Undefined,
    /// Internal: a box holding a captured variable that is assigned.
    Cell(ObjRef),
}

const _: () = assert!(std::mem::size_of::<Value>() == 16);
const _: () = assert!(std::mem::align_of::<Value>() == 8);

/// Copies the value at `src` to `dst` as its two words, tag and payload: the
/// VM's copy between raw register pointers. The compiler may merge the two
/// words into one 16-byte move; that is fine (measured): the stalls came from
/// the overlapping partial moves of the old byte-tag layout (see [`Value`]).
///
/// # Safety
/// `src` must point to a valid `Value` and `dst` to writable memory for one
/// `Value`. Sound because `Value` is `repr(C, u64)`: its tag is the initialised
/// word at offset 0 and the payload of every variant lies within bytes 8..16
/// (size 16, align 8, asserted above), so copying the two words reproduces every
/// byte. The payload is moved as `MaybeUninit<u64>`, so copying the uninitialised
/// padding inside a shorter payload is allowed.
#[inline(always)]
pub unsafe fn copy_value(dst: *mut Value, src: *const Value) {
    use std::mem::MaybeUninit;
    // SAFETY: see the function's contract; both pointers are 8-aligned.
    // The loads are volatile so that they stay two 8-byte loads: merged into one
    // 16-byte load, they cannot be forwarded from the two 8-byte stores that
    // wrote the register (`write_int`, `write_handle`), a stall on every
    // argument a tail call moves and every value a return copies (measured in
    // `perf annotate`: the hottest instructions of mapfold).
    unsafe {
        let tag = src.cast::<u64>().read_volatile();
        let payload = src.cast::<MaybeUninit<u64>>().add(1).read_volatile();
        dst.cast::<u64>().write(tag);
        dst.cast::<MaybeUninit<u64>>().add(1).write(payload);
    }
}

impl Value {
    /// Only `nil` and `false` are false.
    #[inline(always)]
    pub fn is_truthy(self) -> bool {
        !matches!(self, Value::Nil | Value::Bool(false))
    }
    /// The heap object this value refers to, if any.
    #[inline]
    pub fn obj(self) -> Option<ObjRef> {
        match self {
            Value::Str(r)
            | Value::Pair(r)
            | Value::Closure(r, _)
            | Value::Error(r)
            | Value::Vector(r)
            | Value::Dict(r)
            | Value::Cell(r) => Some(r),
            _ => None,
        }
    }
    /// The type name used in messages (`Int`, `String`, ...).
    pub fn type_name(self) -> &'static str {
        match self {
            Value::Nil => "Nil",
            Value::Bool(_) => "Bool",
            Value::Int(_) => "Int",
            Value::Float(_) => "Float",
            Value::Str(_) => "String",
            Value::Sym(_) => "Symbol",
            Value::Pair(_) => "Pair",
            Value::Vector(_) => "Vector",
            Value::Dict(_) => "Dict",
            Value::Closure(..) | Value::Builtin(_) | Value::Ffi(_) => "Fn",
            Value::Capability(_) => "Capability",
            Value::Error(_) => "Error",
            Value::Actor(_) => "ActorId",
            Value::Undefined | Value::Cell(_) => "Any",
        }
    }
    /// The kind bit of this value (see `ffi::types`), for signature checks.
    #[inline]
    pub fn kind_bit(self) -> u16 {
        use crate::ground::types as t;
        match self {
            Value::Nil | Value::Undefined | Value::Cell(_) => t::NIL,
            Value::Bool(_) => t::BOOL,
            Value::Int(_) => t::INT,
            Value::Float(_) => t::FLOAT,
            Value::Str(_) => t::STR,
            Value::Sym(_) => t::SYM,
            Value::Pair(_) => t::PAIR,
            Value::Vector(_) => t::VEC,
            Value::Dict(_) => t::DICT,
            Value::Closure(..) | Value::Builtin(_) | Value::Ffi(_) => t::FN,
            Value::Capability(_) => t::CAP,
            Value::Actor(_) => t::ACTOR,
            Value::Error(_) => t::ERR,
        }
    }
    /// Whether this is a procedure.
    pub fn is_procedure(self) -> bool {
        matches!(self, Value::Closure(..) | Value::Builtin(_) | Value::Ffi(_))
    }
}

/// The tag word of a value (see [`copy_value`] for the layout).
const fn tag_of(v: &Value) -> u64 {
    // SAFETY: `Value` is `repr(C, u64)`: its first word is the initialised tag.
    unsafe { *(v as *const Value).cast::<u64>() }
}

/// Tags of the variants the VM's fast paths test, read from real values so they
/// follow the declaration order.
pub const TAG_BOOL: u64 = tag_of(&Value::Bool(false));
/// See [`TAG_BOOL`].
pub const TAG_INT: u64 = tag_of(&Value::Int(0));
/// See [`TAG_BOOL`].
pub const TAG_CLOSURE: u64 = tag_of(&Value::Closure(ObjRef(0), 0));
/// See [`TAG_BOOL`].
pub const TAG_PAIR: u64 = tag_of(&Value::Pair(ObjRef(0)));

// Fast-path accessors: the VM reads and writes a register's tag word and payload
// separately, so that the loads always match earlier stores (see `copy_value`).
// Each has the contract of `copy_value`: the pointer is 8-aligned and points to a
// valid `Value` (to read) or to memory for one (to write). The payload of every
// variant sits at offset 8 (`repr(C, u64)`).

/// The integer at `p`, if it holds one.
///
/// # Safety
/// `p` points to a valid `Value`.
#[inline(always)]
pub unsafe fn read_int(p: *const Value) -> Option<i64> {
    // SAFETY: a valid value has an initialised tag; if it is `TAG_INT` the payload
    // at offset 8 is an initialised `i64`.
    unsafe {
        if p.cast::<u64>().read() == TAG_INT {
            Some(p.cast::<u8>().add(8).cast::<i64>().read())
        } else {
            None
        }
    }
}

/// The closure handle and prototype at `p`, if it holds a closure.
///
/// # Safety
/// `p` points to a valid `Value`.
#[inline(always)]
pub unsafe fn read_closure(p: *const Value) -> Option<(ObjRef, u32)> {
    // SAFETY: as in `read_int`; the payload of `Closure` is an `ObjRef` at
    // offset 8 and the prototype's `u32` at offset 12 (`repr(C)` fields).
    unsafe {
        if p.cast::<u64>().read() == TAG_CLOSURE {
            let payload = p.cast::<u8>().add(8);
            Some((
                payload.cast::<ObjRef>().read(),
                payload.add(4).cast::<u32>().read(),
            ))
        } else {
            None
        }
    }
}

/// Stores `Value::Int(i)` at `p`.
///
/// # Safety
/// `p` is valid for writing one `Value`.
#[inline(always)]
pub unsafe fn write_int(p: *mut Value, i: i64) {
    // SAFETY: the tag and the `i64` payload at offset 8 make a valid `Value::Int`.
    unsafe {
        p.cast::<u64>().write(TAG_INT);
        p.cast::<u8>().add(8).cast::<i64>().write(i);
    }
}

/// Stores a value whose payload is a heap handle alone (`tag` is [`TAG_PAIR`])
/// at `p` as two full words, so that [`copy_value`]'s loads forward from these
/// stores.
///
/// # Safety
/// `p` is valid for writing one `Value`; `tag` is the tag of a variant whose
/// payload is an `ObjRef`.
#[inline(always)]
pub unsafe fn write_handle(p: *mut Value, tag: u64, r: ObjRef) {
    // SAFETY: the tag and the `ObjRef` (a `u32` at offset 8, followed by padding
    // of this variant, zeroed here) make a valid value of that variant.
    unsafe {
        p.cast::<u64>().write(tag);
        p.cast::<u8>().add(8).cast::<u64>().write(r.0 as u64);
    }
}

/// Stores `Value::Closure(r, proto)` at `p` as two full words (see
/// [`write_handle`]).
///
/// # Safety
/// `p` is valid for writing one `Value`.
#[inline(always)]
pub unsafe fn write_closure(p: *mut Value, r: ObjRef, proto: u32) {
    // SAFETY: the tag, then the `ObjRef` at offset 8 and the prototype at
    // offset 12 (little- or big-endian alike, as two `u32` halves of the word
    // in memory order), make a valid `Value::Closure`.
    unsafe {
        p.cast::<u64>().write(TAG_CLOSURE);
        let mut word = [0u8; 8];
        word[..4].copy_from_slice(&r.0.to_ne_bytes());
        word[4..].copy_from_slice(&proto.to_ne_bytes());
        p.cast::<u8>()
            .add(8)
            .cast::<u64>()
            .write(u64::from_ne_bytes(word));
    }
}

/// Stores `Value::Bool(b)` at `p`.
///
/// # Safety
/// `p` is valid for writing one `Value`.
#[inline(always)]
pub unsafe fn write_bool(p: *mut Value, b: bool) {
    // SAFETY: as in `write_int`, with a `bool` payload: byte 8 holds 0 or 1 and
    // bytes 9..16 are padding of this variant, zeroed here. The payload is written
    // as one word so that a later word copy of it forwards cleanly.
    unsafe {
        p.cast::<u64>().write(TAG_BOOL);
        let word = u64::from_ne_bytes([b as u8, 0, 0, 0, 0, 0, 0, 0]);
        p.cast::<u8>().add(8).cast::<u64>().write(word);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_accessors_agree_with_the_enum() {
        let mut v = Value::Nil;
        // SAFETY: `v` is a valid, writable value.
        unsafe {
            write_int(&mut v, -7);
            assert!(matches!(v, Value::Int(-7)));
            assert_eq!(read_int(&v), Some(-7));
            write_bool(&mut v, true);
            assert!(matches!(v, Value::Bool(true)));
            assert_eq!(read_int(&v), None);
            let c = Value::Closure(ObjRef(42), 7);
            assert_eq!(read_closure(&c), Some((ObjRef(42), 7)));
            let mut d = Value::Float(1.5);
            copy_value(&mut d, &c);
            assert!(matches!(d, Value::Closure(ObjRef(42), 7)));
            copy_value(&mut d, &Value::Sym(SymId(3)));
            assert!(matches!(d, Value::Sym(SymId(3))));
            write_handle(&mut d, TAG_PAIR, ObjRef(9));
            assert!(matches!(d, Value::Pair(ObjRef(9))));
            write_closure(&mut d, ObjRef(8), u32::MAX - 1);
            assert!(matches!(d, Value::Closure(ObjRef(8), p) if p == u32::MAX - 1));
            assert_eq!(read_closure(&d), Some((ObjRef(8), u32::MAX - 1)));
        }
    }
}

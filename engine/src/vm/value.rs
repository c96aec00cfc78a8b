//! Values: a 16-byte `Copy` enum; heap objects sit behind handles.

use crate::ffi::Capability;

/// A handle to an object in the heap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ObjRef(pub u32);

/// An interned symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SymId(pub u32);

/// A Jue value. `Copy` and 16 bytes: the VM moves these around constantly.
#[derive(Clone, Copy, Debug)]
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
    /// Compiled procedure with its captured values.
    Closure(ObjRef),
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
    /// Internal: a global or letrec slot that has not been assigned yet.
    Undefined,
    /// Internal: a box holding a captured variable that is assigned.
    Cell(ObjRef),
}

const _: () = assert!(std::mem::size_of::<Value>() == 16);

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
            | Value::Closure(r)
            | Value::Error(r)
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
            Value::Closure(_) | Value::Builtin(_) | Value::Ffi(_) => "Fn",
            Value::Capability(_) => "Capability",
            Value::Error(_) => "Error",
            Value::Actor(_) => "ActorId",
            Value::Undefined | Value::Cell(_) => "Any",
        }
    }
    /// The kind bit of this value (see `ffi::types`), for signature checks.
    #[inline]
    pub fn kind_bit(self) -> u16 {
        use crate::ffi::types as t;
        match self {
            Value::Nil | Value::Undefined | Value::Cell(_) => t::NIL,
            Value::Bool(_) => t::BOOL,
            Value::Int(_) => t::INT,
            Value::Float(_) => t::FLOAT,
            Value::Str(_) => t::STR,
            Value::Sym(_) => t::SYM,
            Value::Pair(_) => t::PAIR,
            Value::Closure(_) | Value::Builtin(_) | Value::Ffi(_) => t::FN,
            Value::Capability(_) => t::CAP,
            Value::Actor(_) => t::ACTOR,
            Value::Error(_) => t::ERR,
        }
    }
    /// Whether this is a procedure.
    pub fn is_procedure(self) -> bool {
        matches!(self, Value::Closure(_) | Value::Builtin(_) | Value::Ffi(_))
    }
}

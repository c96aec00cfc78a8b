//! The instruction set: a register machine. Registers are frame-relative slots;
//! every instruction fits in 8 bytes.

use crate::ffi::TrustTier;
use crate::syntax::span::Span;
use crate::vm::value::Value;

/// A frame-relative register.
pub type Reg = u16;

/// One instruction. Jumps are relative to the instruction after the jump.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Instr {
    /// R = nil
    LoadNil(Reg),
    /// R = bool
    LoadBool(Reg, bool),
    /// R = small integer
    LoadInt(Reg, i32),
    /// R = constant
    LoadConst(Reg, u32),
    /// R = the internal "not yet assigned" marker
    LoadUndef(Reg),
    /// dst = src
    Move(Reg, Reg),
    /// R = global (unbound error if not yet defined)
    GetGlobal(Reg, u32),
    /// global = R (the global must be defined)
    SetGlobal(u32, Reg),
    /// global = R (defines it)
    DefGlobal(u32, Reg),
    /// R = capture of the running closure
    GetCapture(Reg, u16),
    /// R = a new cell holding R
    CellNew(Reg),
    /// dst = contents of the cell in src (unbound error if not yet assigned)
    CellGet(Reg, Reg),
    /// cell in a := b
    CellSet(Reg, Reg),
    /// R = a closure of a prototype, capturing what the prototype lists
    Closure(Reg, u32),
    /// pc += offset
    Jump(i32),
    /// if R is false or nil, pc += offset
    JumpIfFalse(Reg, i32),
    /// if R is neither false nor nil, pc += offset
    JumpIfTrue(Reg, i32),
    /// dst = a + b
    Add(Reg, Reg, Reg),
    /// dst = a - b
    Sub(Reg, Reg, Reg),
    /// dst = a * b
    Mul(Reg, Reg, Reg),
    /// dst = a + immediate
    AddImm(Reg, Reg, i16),
    /// dst = a < b
    Lt(Reg, Reg, Reg),
    /// dst = a <= b
    Le(Reg, Reg, Reg),
    /// dst = a > b
    Gt(Reg, Reg, Reg),
    /// dst = a >= b
    Ge(Reg, Reg, Reg),
    /// dst = a = b (numeric)
    NumEq(Reg, Reg, Reg),
    /// if !(a < b) pc += offset (compare-and-branch for `(if (< a b) ...)`)
    JumpIfNotLtImm(Reg, i16, i16),
    /// if !(a = b) pc += offset
    JumpIfNotEqImm(Reg, i16, i16),
    /// Call R with the argc values after it; the result replaces R.
    Call(Reg, u16),
    /// Call R with the argc values after it, reusing this frame.
    TailCall(Reg, u16),
    /// Call a built-in on argc values starting at R; the result replaces R.
    CallBuiltin(Reg, u16, u16),
    /// Call an FFI function on argc values starting at R; the result replaces R.
    CallFfi(Reg, u16, u16),
    /// Return R.
    Return(Reg),
    /// R = the capability's token, or a capability-denied error.
    RequireCap(Reg, u8),
    /// R = whether the session holds the capability.
    HasCap(Reg, u8),
    /// Protect what follows: on a catchable error put it in R and jump by offset.
    PushHandler(Reg, i32),
    /// End of the protected code.
    PopHandler,
}

const _: () = assert!(std::mem::size_of::<Instr>() <= 8);

/// Where a closure's captured value comes from, in the creating frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CaptureSrc {
    /// A register of the creating frame.
    Reg(Reg),
    /// A capture of the creating closure.
    Capture(u16),
}

/// A compiled function.
#[derive(Clone, Debug)]
pub struct Proto {
    /// Name for printing and stack traces (`lambda` when anonymous, `<top>` for a top-level form).
    pub name: Box<str>,
    /// Required parameters.
    pub nparams: u16,
    /// Whether extra arguments are collected into a list.
    pub variadic: bool,
    /// Registers the frame needs.
    pub nregs: u16,
    /// The code.
    pub code: Vec<Instr>,
    /// The source span of each instruction.
    pub spans: Vec<Span>,
    /// Constants.
    pub consts: Vec<Value>,
    /// What a closure of this prototype captures.
    pub captures: Vec<CaptureSrc>,
    /// Which source text the code comes from.
    pub source: u32,
    /// The tier of the code.
    pub tier: TrustTier,
}

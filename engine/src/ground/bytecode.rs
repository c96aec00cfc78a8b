//! The bytecode: one vocabulary that the compiler writes and the VM reads. A
//! register machine: registers are frame-relative slots; every instruction fits in
//! 8 bytes. Constants are plain data here ([`Constant`]); the VM makes its own
//! values of them when it loads a prototype.

use super::span::Span;
use super::tier::TrustTier;

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
    /// dst = src, an `unbound` error if src is not assigned yet (letrec-family reads)
    MoveChecked(Reg, Reg),
    /// R = global (unbound error if not yet defined)
    GetGlobal(Reg, u32),
    /// global = R (the global must be defined)
    SetGlobal(u32, Reg),
    /// global = R (defines it)
    DefGlobal(u32, Reg),
    /// R = capture of the running closure
    GetCapture(Reg, u16),
    /// R = the running closure itself (a named let or letrec function calling
    /// itself: no capture, no cell)
    LoadSelf(Reg),
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
    /// if a < b, pc += offset (`(if (not (< a b)) ...)`)
    JumpIfLt(Reg, Reg, i16),
    /// if !(a < b), pc += offset (`(if (< a b) ...)`)
    JumpIfNotLt(Reg, Reg, i16),
    /// if a > b, pc += offset
    JumpIfGt(Reg, Reg, i16),
    /// if !(a > b), pc += offset
    JumpIfNotGt(Reg, Reg, i16),
    /// if a < immediate, return R (`JumpIfNotLtImm` over a `Return` in one
    /// dispatch: a recursion's base case in tail position, `(if (< n 2) n
    /// ...)`).
    ReturnIfLtImm(Reg, i16, Reg),
    /// if !(a < b), return R (`JumpIfLt` over a `Return`: `(if (not (< a b))
    /// r ...)`).
    ReturnIfNotLt(Reg, Reg, Reg),
    /// if R is nil, pc += offset (`(if (null? x) ...)` inverted)
    JumpIfNil(Reg, i32),
    /// if R is not nil, pc += offset (`(if (null? x) ...)`)
    JumpIfNotNil(Reg, i32),
    /// dst = car of src (the built-in `car`: a type error unless a pair)
    Car(Reg, Reg),
    /// dst = cdr of src (the built-in `cdr`)
    Cdr(Reg, Reg),
    /// dst = a new pair of a and b (the built-in `cons`)
    Cons(Reg, Reg, Reg),
    /// dst = whether src is nil (`null?`, `nil?`)
    IsNil(Reg, Reg),
    /// dst = whether src is a pair (`pair?`)
    IsPair(Reg, Reg),
    /// dst = whether src is false or nil (`not`)
    Not(Reg, Reg),
    /// dst = whether a and b are identical (`eq?`)
    Eq(Reg, Reg, Reg),
    /// Call R with the argc values after it; the result replaces R.
    Call(Reg, u16),
    /// Global G into R, then `Call(R, argc)`: a call of a global whose
    /// arguments make no call and assign nothing, so reading the global after
    /// them reads what reading it first would have (language §4: arguments
    /// left to right, then the call).
    CallGlobal(Reg, u32, u8),
    /// Call R with the argc values after it, reusing this frame.
    TailCall(Reg, u16),
    /// When R holds the running closure itself: the argc (at most 3)
    /// arguments after it into the parameters and back to the start, checking
    /// steps as a tail call does. Otherwise nothing: the `TailCall(R, argc)`
    /// after it runs. Emitted for a named function's tail call of the global
    /// of its name at its own fixed arity (a redefinition may have changed the
    /// global since; the parameters are its first registers).
    TailSelf(Reg, u16),
    /// Call a built-in on argc values starting at R; the result replaces R.
    CallBuiltin(Reg, u16, u16),
    /// Call an FFI function on argc values starting at R; the result replaces R.
    CallFfi(Reg, u16, u16),
    /// Call an FFI function on two values in registers A and B (each below 256)
    /// with the window R, R+1 reserved for them; the result goes to R. Saves
    /// moving locals into the window: a pure function is called on them in
    /// place, any other after they are copied into the window.
    CallFfi2(Reg, u16, u8, u8),
    /// Return R.
    Return(Reg),
    /// The first instruction of code written at tier experimental: the VM puts
    /// the experimental caps on the evaluation, if they are not on already, until
    /// this frame returns (language §7: the limits belong to the code).
    EnterExperimental,
    /// Never compiled: where the caller of the frame that put the experimental
    /// caps on resumes, so that they come off there.
    LeaveExperimental,
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

/// Quoted data, as the source wrote it.
#[derive(Clone, Debug, PartialEq)]
pub enum Datum {
    /// nil
    Nil,
    /// Boolean.
    Bool(bool),
    /// Integer.
    Int(i64),
    /// Float.
    Float(f64),
    /// String.
    Str(Box<str>),
    /// Symbol.
    Sym(Box<str>),
    /// List with optional improper tail.
    List(Vec<Datum>, Option<Box<Datum>>),
    /// A vector literal (immutable when loaded).
    Vector(Vec<Datum>),
    /// A dict written as data: keys and values in the order written.
    Dict(Vec<(Datum, Datum)>),
}

/// A constant of compiled code.
#[derive(Clone, Debug, PartialEq)]
pub enum Constant {
    /// Quoted data.
    Datum(Datum),
    /// A built-in procedure, by id.
    Builtin(u16),
    /// An FFI function, by registry index.
    Ffi(u32),
}

/// What the compiler needs from the place its code will run: a slot per global
/// name, and a home for each prototype it makes (whose index `Closure` names).
pub trait Linker {
    /// The slot of a global, made (undefined) when new.
    fn global_slot(&mut self, name: &str) -> u32;
    /// Takes a prototype and returns its index.
    fn add_proto(&mut self, proto: Proto<Constant>) -> u32;
}

/// A compiled function; `K` is the type of its constants ([`Constant`] as
/// compiled, the VM's values once loaded).
#[derive(Clone, Debug)]
pub struct Proto<K> {
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
    pub consts: Vec<K>,
    /// What a closure of this prototype captures.
    pub captures: Vec<CaptureSrc>,
    /// Which source text the code comes from.
    pub source: u32,
    /// The tier of the code.
    pub tier: TrustTier,
}

impl Instr {
    /// Every register operand, for validation.
    pub fn registers(&self) -> impl Iterator<Item = Reg> {
        let (a, b, c): (Option<Reg>, Option<Reg>, Option<Reg>) = match *self {
            Instr::LoadNil(r)
            | Instr::LoadBool(r, _)
            | Instr::LoadInt(r, _)
            | Instr::LoadConst(r, _)
            | Instr::LoadUndef(r)
            | Instr::GetGlobal(r, _)
            | Instr::SetGlobal(_, r)
            | Instr::DefGlobal(_, r)
            | Instr::GetCapture(r, _)
            | Instr::LoadSelf(r)
            | Instr::CellNew(r)
            | Instr::Closure(r, _)
            | Instr::JumpIfFalse(r, _)
            | Instr::JumpIfTrue(r, _)
            | Instr::JumpIfNotLtImm(r, _, _)
            | Instr::JumpIfNotEqImm(r, _, _)
            | Instr::JumpIfNil(r, _)
            | Instr::JumpIfNotNil(r, _)
            | Instr::Return(r)
            | Instr::RequireCap(r, _)
            | Instr::HasCap(r, _)
            | Instr::PushHandler(r, _) => (Some(r), None, None),
            Instr::Move(a, b)
            | Instr::MoveChecked(a, b)
            | Instr::CellGet(a, b)
            | Instr::CellSet(a, b)
            | Instr::AddImm(a, b, _)
            | Instr::Car(a, b)
            | Instr::Cdr(a, b)
            | Instr::IsNil(a, b)
            | Instr::IsPair(a, b)
            | Instr::Not(a, b)
            | Instr::JumpIfLt(a, b, _)
            | Instr::JumpIfNotLt(a, b, _)
            | Instr::JumpIfGt(a, b, _)
            | Instr::JumpIfNotGt(a, b, _) => (Some(a), Some(b), None),
            Instr::Add(a, b, c)
            | Instr::Sub(a, b, c)
            | Instr::Mul(a, b, c)
            | Instr::Lt(a, b, c)
            | Instr::Le(a, b, c)
            | Instr::Gt(a, b, c)
            | Instr::Ge(a, b, c)
            | Instr::NumEq(a, b, c)
            | Instr::Cons(a, b, c)
            | Instr::Eq(a, b, c)
            | Instr::ReturnIfNotLt(a, b, c) => (Some(a), Some(b), Some(c)),
            Instr::ReturnIfLtImm(a, _, r) => (Some(a), Some(r), None),
            // A call window: the callee (or first argument) and every argument after it.
            Instr::Call(a, n) | Instr::TailCall(a, n) | Instr::TailSelf(a, n) => {
                (Some(a), Some(a.saturating_add(n)), None)
            }
            Instr::CallGlobal(a, _, n) => (Some(a), Some(a.saturating_add(n.into())), None),
            Instr::CallBuiltin(a, _, n) | Instr::CallFfi(a, _, n) => {
                (Some(a), Some(a.saturating_add(n.max(1) - 1)), None)
            }
            // The window's last register (so all of it) and the two arguments.
            Instr::CallFfi2(a, _, x, y) => {
                (Some(a.saturating_add(1)), Some(x as Reg), Some(y as Reg))
            }
            Instr::Jump(_)
            | Instr::PopHandler
            | Instr::EnterExperimental
            | Instr::LeaveExperimental => (None, None, None),
        };
        a.into_iter().chain(b).chain(c)
    }

    /// The relative offset of a jump, if this is one.
    pub fn jump_offset(&self) -> Option<i64> {
        match *self {
            Instr::Jump(o)
            | Instr::JumpIfFalse(_, o)
            | Instr::JumpIfTrue(_, o)
            | Instr::JumpIfNil(_, o)
            | Instr::JumpIfNotNil(_, o)
            | Instr::PushHandler(_, o) => Some(o as i64),
            Instr::JumpIfNotLtImm(_, _, o)
            | Instr::JumpIfNotEqImm(_, _, o)
            | Instr::JumpIfLt(_, _, o)
            | Instr::JumpIfNotLt(_, _, o)
            | Instr::JumpIfGt(_, _, o)
            | Instr::JumpIfNotGt(_, _, o) => Some(o as i64),
            _ => None,
        }
    }
}

impl<K> Proto<K> {
    /// Checks what the VM relies on without re-checking at run time: every register
    /// operand lies inside the frame, every jump lands inside the code, every constant
    /// exists, and the code cannot run off its end.
    pub fn validate(&self) -> Result<(), String> {
        let n = self.code.len() as i64;
        if !matches!(
            self.code.last(),
            Some(Instr::Return(_) | Instr::TailCall(..) | Instr::Jump(_))
        ) {
            return Err(format!("{}: code does not end in a return", self.name));
        }
        if self.spans.len() != self.code.len() {
            return Err(format!(
                "{}: span table length differs from code",
                self.name
            ));
        }
        for (pc, i) in self.code.iter().enumerate() {
            if let Some(r) = i.registers().find(|r| *r >= self.nregs) {
                return Err(format!(
                    "{}: instruction {pc} {i:?} uses register {r} of {}",
                    self.name, self.nregs
                ));
            }
            if let Some(off) = i.jump_offset() {
                let target = pc as i64 + 1 + off;
                if !(0..n).contains(&target) {
                    return Err(format!(
                        "{}: instruction {pc} jumps outside the code",
                        self.name
                    ));
                }
            }
            // `TailSelf` restarts this prototype with its arguments copied into
            // registers 0 to 2: only for a fixed arity of at most 3, matched.
            if matches!(i, Instr::TailSelf(_, argc)
                if *argc > 3 || *argc != self.nparams || self.variadic)
            {
                return Err(format!(
                    "{}: instruction {pc} restarts a function of another shape",
                    self.name
                ));
            }
            if matches!(i, Instr::LoadConst(_, k) if *k as usize >= self.consts.len()) {
                return Err(format!(
                    "{}: instruction {pc} reads a missing constant",
                    self.name
                ));
            }
        }
        Ok(())
    }

    /// A readable listing, for debugging and tests.
    pub fn disassemble(&self) -> String {
        let mut s = format!(
            "{} ({} params{}, {} regs)\n",
            self.name,
            self.nparams,
            if self.variadic { "+" } else { "" },
            self.nregs
        );
        for (pc, i) in self.code.iter().enumerate() {
            s.push_str(&format!("{pc:4}  {i:?}\n"));
        }
        s
    }
}

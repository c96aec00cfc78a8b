//! Floor 3, the compiler: analysed IR to register bytecode. Locals live in
//! registers; variables that closures share and assign live in cells; calls in tail
//! position reuse the frame.
//!
//! **Invariant:** imports only analysis and the ground floor. It writes
//! `ground::bytecode` and hands each prototype to a [`Linker`] (the VM, in a
//! session); it never sees VM values.

use crate::analysis::Analysis;
use crate::analysis::ir::{Clause, Expr, ExprKind, Lambda, LocalId, TopItem};
use crate::ground::builtins::PRELUDE_PREFIX;
use crate::ground::builtins::{self, Imp};
use crate::ground::bytecode::Datum;
use crate::ground::bytecode::{CaptureSrc, Constant, Instr, Linker, Proto, Reg};
use crate::ground::ffi::TrustTier;
use crate::ground::span::Span;
use std::collections::HashMap;

/// A function being compiled.
struct FnState {
    code: Vec<Instr>,
    spans: Vec<Span>,
    consts: Vec<Constant>,
    next: u32,
    max: u32,
    regs: HashMap<LocalId, Reg>,
    captures: HashMap<LocalId, u16>,
    /// The letrec-bound variable holding this function, when no `set!` assigns
    /// it: the function reads it as itself (`LoadSelf`), not through a capture.
    self_id: Option<LocalId>,
    /// With `self_id`: the parameters' registers, when the function has a fixed
    /// arity and no parameter lives in a cell, so that a tail call of itself
    /// can assign them and jump back to the start (a loop).
    self_params: Option<Vec<Reg>>,
    /// With `self_params`: the parameters' locals, in order.
    self_param_ids: Vec<LocalId>,
    /// The name and arity of a named function of fixed arity (at most 3
    /// parameters): a tail call of the global of that name at that arity is
    /// tried as a loop (`Instr::TailSelf`).
    global_self: Option<(Box<str>, usize)>,
    span: Span,
}

impl FnState {
    fn new(span: Span) -> FnState {
        FnState {
            code: Vec::new(),
            spans: Vec::new(),
            consts: Vec::new(),
            next: 0,
            max: 0,
            regs: HashMap::new(),
            captures: HashMap::new(),
            self_id: None,
            self_params: None,
            self_param_ids: Vec::new(),
            global_self: None,
            span,
        }
    }
}

/// A function too large for the register file.
#[derive(Debug, Clone, PartialEq)]
pub struct TooLarge(pub Span);

/// Compiles analysed items into the VM's code table.
pub struct Compiler<'a> {
    linker: &'a mut dyn Linker,
    an: &'a Analysis,
    source: u32,
    f: FnState,
    too_large: Option<Span>,
    /// Set just before a letrec initialiser that is a lambda is compiled: the
    /// variable it is bound to (see `FnState::self_id`).
    pending_self: Option<LocalId>,
}

/// Compiles one top-level item to an entry prototype; returns its index.
pub fn compile_item(
    linker: &mut dyn Linker,
    an: &Analysis,
    item: &TopItem,
    source: u32,
) -> Result<u32, TooLarge> {
    let mut c = Compiler {
        linker,
        an,
        source,
        f: FnState::new(item.expr.span),
        too_large: None,
        pending_self: None,
    };
    let dst = c.alloc();
    c.expr(&item.expr, dst, true);
    if let Some(s) = c.too_large {
        return Err(TooLarge(s));
    }
    let f = std::mem::replace(&mut c.f, FnState::new(item.expr.span));
    Ok(c.finish(f, "<top>".into(), 0, false, Vec::new(), item.tier))
}

const MAX_REGS: u32 = u16::MAX as u32 - 256;

impl Compiler<'_> {
    fn finish(
        &mut self,
        f: FnState,
        name: Box<str>,
        nparams: u16,
        variadic: bool,
        captures: Vec<CaptureSrc>,
        tier: TrustTier,
    ) -> u32 {
        let (mut code, mut spans) = (f.code, f.spans);
        if tier == TrustTier::Experimental {
            // Jumps are relative, so a first instruction shifts none of them.
            code.insert(0, Instr::EnterExperimental);
            spans.insert(0, spans.first().copied().unwrap_or(self.f.span));
        }
        let proto = Proto {
            name,
            nparams,
            variadic,
            nregs: f.max.max(1) as u16,
            code,
            spans,
            consts: f.consts,
            captures,
            source: self.source,
            tier,
        };
        self.linker.add_proto(proto)
    }

    fn emit(&mut self, i: Instr) -> usize {
        self.f.code.push(i);
        self.f.spans.push(self.f.span);
        self.f.code.len() - 1
    }

    fn alloc(&mut self) -> Reg {
        let r = self.f.next;
        self.f.next += 1;
        if self.f.next > MAX_REGS {
            self.too_large.get_or_insert(self.f.span);
            self.f.next = MAX_REGS;
            return (MAX_REGS - 1) as Reg;
        }
        self.f.max = self.f.max.max(self.f.next);
        r as Reg
    }

    /// A window of `n` registers for a call; it starts at `dst` when `dst` is the
    /// newest register, so the result lands where it is wanted without a move.
    /// Calls take a window of one and their arguments' registers as each is
    /// compiled (`args_into`).
    fn window(&mut self, dst: Reg, n: usize) -> Reg {
        if dst as u32 + 1 == self.f.next && n > 0 {
            self.alloc_n(n - 1);
            dst
        } else {
            self.alloc_n(n)
        }
    }

    fn alloc_n(&mut self, n: usize) -> Reg {
        let base = self.f.next as Reg;
        for _ in 0..n {
            self.alloc();
        }
        base
    }

    fn mark(&self) -> u32 {
        self.f.next
    }

    fn release(&mut self, mark: u32) {
        self.f.next = mark;
    }

    fn konst(&mut self, v: Constant) -> u32 {
        self.f.consts.push(v);
        (self.f.consts.len() - 1) as u32
    }

    /// Patches a jump at `at` to land at the current end of code.
    fn patch(&mut self, at: usize) {
        let off = (self.f.code.len() - at - 1) as i32;
        match &mut self.f.code[at] {
            Instr::Jump(o)
            | Instr::JumpIfFalse(_, o)
            | Instr::JumpIfTrue(_, o)
            | Instr::JumpIfNil(_, o)
            | Instr::JumpIfNotNil(_, o)
            | Instr::PushHandler(_, o) => *o = off,
            Instr::JumpIfNotLtImm(_, _, o)
            | Instr::JumpIfNotEqImm(_, _, o)
            | Instr::JumpIfLt(_, _, o)
            | Instr::JumpIfNotLt(_, _, o)
            | Instr::JumpIfGt(_, _, o)
            | Instr::JumpIfNotGt(_, _, o) => {
                *o = i16::try_from(off).unwrap_or_else(|_| {
                    self.too_large.get_or_insert(self.f.span);
                    0
                })
            }
            _ => unreachable!("patching a non-jump"),
        }
    }

    fn global_slot(&mut self, name: &str) -> u32 {
        self.linker.global_slot(name)
    }

    fn load_const(&mut self, c: &Datum, dst: Reg) {
        match c {
            Datum::Nil => self.emit(Instr::LoadNil(dst)),
            Datum::Bool(b) => self.emit(Instr::LoadBool(dst, *b)),
            Datum::Int(i) if i32::try_from(*i).is_ok() => self.emit(Instr::LoadInt(dst, *i as i32)),
            _ => {
                let k = self.konst(Constant::Datum(c.clone()));
                self.emit(Instr::LoadConst(dst, k))
            }
        };
    }

    fn ret_if(&mut self, tail: bool, dst: Reg) {
        if tail {
            self.emit(Instr::Return(dst));
        }
    }

    /// Where a local lives: a register of this frame, or a capture.
    fn local_place(&self, id: LocalId) -> Place {
        if let Some(r) = self.f.regs.get(&id) {
            Place::Reg(*r)
        } else if let Some(c) = self.f.captures.get(&id) {
            Place::Capture(*c)
        } else {
            // Analysis resolved it; an unknown place means a compiler bug, reported as nil.
            Place::Missing
        }
    }

    fn boxed(&self, id: LocalId) -> bool {
        self.an.locals[id as usize].boxed()
    }

    /// Whether reads must check the local is assigned: letrec-family bindings can be
    /// read before their initialiser ran.
    fn checked(&self, id: LocalId) -> bool {
        self.an.locals[id as usize].kind == crate::analysis::ir::LocalKind::Rec
    }

    /// Reads a local into `dst`.
    fn read_local(&mut self, id: LocalId, dst: Reg) {
        if self.f.self_id == Some(id) {
            self.emit(Instr::LoadSelf(dst));
            return;
        }
        let boxed = self.boxed(id);
        match self.local_place(id) {
            Place::Reg(r) if boxed => self.emit(Instr::CellGet(dst, r)),
            Place::Reg(r) if self.checked(id) => self.emit(Instr::MoveChecked(dst, r)),
            Place::Reg(r) if r != dst => self.emit(Instr::Move(dst, r)),
            Place::Reg(_) => 0,
            Place::Capture(c) => {
                self.emit(Instr::GetCapture(dst, c));
                if boxed {
                    self.emit(Instr::CellGet(dst, dst))
                } else {
                    0
                }
            }
            Place::Missing => self.emit(Instr::LoadNil(dst)),
        };
    }

    /// The register of a local that can be read in place: one no `set!` assigns
    /// (a later operand could otherwise assign it before it is read), not boxed,
    /// not a `letrec` binding.
    fn plain_local(&self, e: &Expr) -> Option<Reg> {
        let ExprKind::Local(id) = e.kind else {
            return None;
        };
        let info = &self.an.locals[id as usize];
        let plain =
            !info.boxed() && !info.mutated && info.kind != crate::analysis::ir::LocalKind::Rec;
        match (self.local_place(id), plain) {
            (Place::Reg(r), true) => Some(r),
            _ => None,
        }
    }

    /// A register holding the value of `e`: the local's own register when it can be
    /// read directly (`plain_local`), else a new temporary.
    fn operand(&mut self, e: &Expr) -> Reg {
        if let Some(r) = self.plain_local(e) {
            return r;
        }
        let r = self.alloc();
        self.expr(e, r, false);
        r
    }

    /// Compiles `e` so that its value ends in `dst`; in tail position, returns it.
    fn expr(&mut self, e: &Expr, dst: Reg, tail: bool) {
        let saved_span = std::mem::replace(&mut self.f.span, e.span);
        let mark = self.mark();
        match &e.kind {
            ExprKind::Const(c) => {
                self.load_const(c, dst);
                self.ret_if(tail, dst);
            }
            ExprKind::Local(id) => match (
                tail,
                self.local_place(*id),
                self.boxed(*id) || self.checked(*id),
            ) {
                // Return a local straight from its register.
                (true, Place::Reg(r), false) => {
                    self.emit(Instr::Return(r));
                }
                _ => {
                    self.read_local(*id, dst);
                    self.ret_if(tail, dst);
                }
            },
            ExprKind::Global(name) => {
                let slot = self.global_slot(name);
                self.emit(Instr::GetGlobal(dst, slot));
                self.ret_if(tail, dst);
            }
            ExprKind::Builtin(id) => {
                self.builtin_value(*id, dst);
                self.ret_if(tail, dst);
            }
            ExprKind::Ffi(i) => {
                let k = self.konst(Constant::Ffi(*i));
                self.emit(Instr::LoadConst(dst, k));
                self.ret_if(tail, dst);
            }
            ExprKind::If(c, t, f) => self.if_expr(c, t, f, dst, tail),
            ExprKind::Cond(clauses) => self.cond(clauses, dst, tail),
            ExprKind::And(es) | ExprKind::Or(es) => {
                let is_and = matches!(e.kind, ExprKind::And(_));
                if es.is_empty() {
                    self.emit(Instr::LoadBool(dst, is_and));
                    self.ret_if(tail, dst);
                } else {
                    let mut jumps = Vec::new();
                    for (i, x) in es.iter().enumerate() {
                        let last = i + 1 == es.len();
                        self.expr(x, dst, tail && last);
                        if !last {
                            let j = if is_and {
                                Instr::JumpIfFalse(dst, 0)
                            } else {
                                Instr::JumpIfTrue(dst, 0)
                            };
                            jumps.push(self.emit(j));
                        }
                    }
                    for j in jumps {
                        self.patch(j);
                    }
                    self.ret_if(tail, dst);
                }
            }
            ExprKind::Begin(es) => self.sequence(es, dst, tail),
            ExprKind::Lambda(l) => {
                self.lambda(l, e.span, dst);
                self.ret_if(tail, dst);
            }
            ExprKind::Let(binds, body) => {
                for (id, init) in binds {
                    let r = self.alloc();
                    self.expr(init, r, false);
                    if self.boxed(*id) {
                        self.emit(Instr::CellNew(r));
                    }
                    self.f.regs.insert(*id, r);
                }
                self.sequence(body, dst, tail);
            }
            ExprKind::Letrec(binds, body) => {
                let regs: Vec<Reg> = binds.iter().map(|_| self.alloc()).collect();
                for ((id, _), r) in binds.iter().zip(&regs) {
                    self.emit(Instr::LoadUndef(*r));
                    if self.boxed(*id) {
                        self.emit(Instr::CellNew(*r));
                    }
                    self.f.regs.insert(*id, *r);
                }
                for ((id, init), r) in binds.iter().zip(&regs) {
                    // A function bound here that no `set!` assigns is, when it
                    // runs, the value of its variable (the cell is set right
                    // after the closure is made, before anything can call it).
                    if matches!(init.kind, ExprKind::Lambda(_))
                        && !self.an.locals[*id as usize].mutated
                    {
                        self.pending_self = Some(*id);
                    }
                    if self.boxed(*id) {
                        let t = self.alloc();
                        self.expr(init, t, false);
                        self.emit(Instr::CellSet(*r, t));
                    } else {
                        self.expr(init, *r, false);
                    }
                    self.pending_self = None;
                }
                self.sequence(body, dst, tail);
            }
            ExprKind::SetLocal(id, v) => {
                let t = self.alloc();
                self.expr(v, t, false);
                let boxed = self.boxed(*id);
                match self.local_place(*id) {
                    Place::Reg(r) if boxed => self.emit(Instr::CellSet(r, t)),
                    Place::Reg(r) => self.emit(Instr::Move(r, t)),
                    Place::Capture(c) => {
                        let cell = self.alloc();
                        self.emit(Instr::GetCapture(cell, c));
                        self.emit(Instr::CellSet(cell, t))
                    }
                    Place::Missing => 0,
                };
                self.emit(Instr::LoadNil(dst));
                self.ret_if(tail, dst);
            }
            ExprKind::SetGlobal(name, v) | ExprKind::Define(name, v) => {
                let t = self.alloc();
                self.expr(v, t, false);
                let slot = self.global_slot(name);
                let i = if matches!(e.kind, ExprKind::Define(..)) {
                    Instr::DefGlobal(slot, t)
                } else {
                    Instr::SetGlobal(slot, t)
                };
                self.emit(i);
                self.emit(Instr::LoadNil(dst));
                self.ret_if(tail, dst);
            }
            ExprKind::Call(callee, args) if tail && self.is_self_loop(callee, args.len()) => {
                self.self_loop(args);
            }
            ExprKind::Call(callee, args)
                if !tail
                    && args.len() <= u8::MAX as usize
                    && matches!(callee.kind, ExprKind::Global(_))
                    && args.iter().all(|a| self.calls_nothing(a)) =>
            {
                let ExprKind::Global(name) = &callee.kind else {
                    return;
                };
                let base = self.window(dst, 1);
                self.args_into(args, base + 1);
                self.f.span = e.span;
                let slot = self.global_slot(name);
                self.emit(Instr::CallGlobal(base, slot, args.len() as u8));
                if base != dst {
                    self.emit(Instr::Move(dst, base));
                }
            }
            ExprKind::Call(callee, args) => {
                let base = self.window(dst, 1);
                self.expr(callee, base, false);
                self.args_into(args, base + 1);
                self.f.span = e.span;
                if tail && self.is_global_self(callee, args.len()) {
                    self.emit(Instr::TailSelf(base, args.len() as u16));
                }
                self.call_at(base, args.len(), dst, tail);
            }
            ExprKind::CallBuiltin(id, args, _) => self.call_builtin(*id, args, e.span, dst, tail),
            ExprKind::CallFfi(i, args, _) => {
                let base = self.window(dst, 1);
                if args.len() == 2 {
                    self.ffi_pair(base, *i as u16, args, e.span);
                } else {
                    self.args_into(args, base);
                    self.f.span = e.span;
                    self.emit(Instr::CallFfi(base, *i as u16, args.len() as u16));
                }
                self.move_result(base, dst, tail);
            }
            ExprKind::RequireCap(c) => {
                self.emit(Instr::RequireCap(dst, c.index()));
                self.ret_if(tail, dst);
            }
            ExprKind::HasCap(c) => {
                self.emit(Instr::HasCap(dst, c.index()));
                self.ret_if(tail, dst);
            }
            ExprKind::Try(body, err, handler) => {
                let err_reg = self.alloc();
                let push = self.emit(Instr::PushHandler(err_reg, 0));
                // Not in tail position: the handler must still be in place after the body.
                self.sequence(body, dst, false);
                self.emit(Instr::PopHandler);
                let skip = self.emit(Instr::Jump(0));
                self.patch(push);
                if self.boxed(*err) {
                    self.emit(Instr::CellNew(err_reg));
                }
                self.f.regs.insert(*err, err_reg);
                self.sequence(handler, dst, tail);
                self.patch(skip);
                self.ret_if(tail, dst);
            }
        }
        self.release(mark);
        self.f.span = saved_span;
    }

    fn move_result(&mut self, base: Reg, dst: Reg, tail: bool) {
        if tail {
            self.emit(Instr::Return(base));
        } else if base != dst {
            self.emit(Instr::Move(dst, base));
        }
    }

    /// Compiles `args` into the registers from `base` on, taking each register
    /// only when its argument is compiled: it is then the newest, so a call
    /// there puts its window on it and its result needs no move (as in Lua).
    fn args_into(&mut self, args: &[Expr], base: Reg) {
        for (i, a) in args.iter().enumerate() {
            let r = base + i as Reg;
            if r as u32 >= self.f.next {
                self.alloc();
            }
            self.expr(a, r, false);
        }
    }

    /// An FFI call of two arguments at window `base`: a plain local is passed
    /// from its own register (`CallFfi2`; it cannot change while the other
    /// argument is computed), anything else is computed into the window.
    fn ffi_pair(&mut self, base: Reg, idx: u16, args: &[Expr], span: Span) {
        let mut regs = [base, base + 1];
        for (i, a) in args.iter().enumerate() {
            let w = base + i as Reg;
            if w as u32 >= self.f.next {
                self.alloc();
            }
            match self.plain_local(a) {
                Some(r) => regs[i] = r,
                None => self.expr(a, w, false),
            }
        }
        self.f.span = span;
        match (u8::try_from(regs[0]), u8::try_from(regs[1])) {
            (Ok(x), Ok(y)) => {
                self.emit(Instr::CallFfi2(base, idx, x, y));
            }
            _ => {
                for (i, r) in regs.into_iter().enumerate() {
                    let w = base + i as Reg;
                    if r != w {
                        self.emit(Instr::Move(w, r));
                    }
                }
                self.emit(Instr::CallFfi(base, idx, 2));
            }
        }
    }

    /// Whether a tail call of `callee` with `argc` arguments is the running
    /// function calling itself at its own arity (see `FnState::self_params`).
    fn is_self_loop(&self, callee: &Expr, argc: usize) -> bool {
        matches!(callee.kind, ExprKind::Local(id) if self.f.self_id == Some(id))
            && self.f.self_params.as_ref().is_some_and(|p| p.len() == argc)
    }

    /// Whether `callee` is the global the running function is named after,
    /// called at its fixed arity (the VM checks that the global still holds
    /// the running closure).
    fn is_global_self(&self, callee: &Expr, argc: usize) -> bool {
        matches!((&callee.kind, &self.f.global_self),
            (ExprKind::Global(name), Some((me, n))) if **name == **me && *n == argc)
    }

    /// A tail call of the running function by itself, as a loop: the arguments
    /// into temporaries, then into the parameters, then a jump back to the
    /// start (a backward jump: the step count and the deadline are checked
    /// there, as at a tail call). Same frame, same closure: what the tail call
    /// would have done, without the call.
    fn self_loop(&mut self, args: &[Expr]) {
        let params = self.f.self_params.clone().unwrap_or_default();
        let ids = self.f.self_param_ids.clone();
        let mut temps: Vec<Reg> = Vec::with_capacity(args.len());
        for (i, (a, p)) in args.iter().zip(&params).enumerate() {
            let id = ids.get(i).copied();
            let later_read = id.is_some_and(|id| args[i + 1..].iter().any(|b| mentions(b, id)));
            let t = match a.kind {
                // An argument that is the parameter itself stays where it is
                // (unless `set!` assigns it: a later argument could change it).
                ExprKind::Local(l)
                    if self.f.regs.get(&l) == Some(p) && !self.an.locals[l as usize].mutated =>
                {
                    *p
                }
                // Straight into the parameter when no later argument reads it
                // and this one cannot read it after writing it: it does not
                // mention it, or it is one instruction that reads its operands
                // (computed elsewhere) before it writes.
                _ if !later_read && (is_inline_op(a) || id.is_some_and(|id| !mentions(a, id))) => {
                    self.expr(a, *p, false);
                    *p
                }
                _ => {
                    let t = self.alloc();
                    self.expr(a, t, false);
                    t
                }
            };
            temps.push(t);
        }
        for (p, t) in params.iter().zip(temps) {
            if *p != t {
                self.emit(Instr::Move(*p, t));
            }
        }
        let back = -(self.f.code.len() as i64 + 1);
        let off = i32::try_from(back).unwrap_or_else(|_| {
            self.too_large.get_or_insert(self.f.span);
            0
        });
        self.emit(Instr::Jump(off));
    }

    /// Whether evaluating `e` calls nothing and assigns nothing (a constant, a
    /// local, a global, or an inline built-in of such), so that no global can
    /// change while it runs.
    fn calls_nothing(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Const(_)
            | ExprKind::Local(_)
            | ExprKind::Global(_)
            | ExprKind::Builtin(_) => true,
            ExprKind::CallBuiltin(_, args, _) => {
                is_inline_op(e) && args.iter().all(|a| self.calls_nothing(a))
            }
            _ => false,
        }
    }

    /// `(dict-update d k f [default])` as the prelude defines it, `(dict-set d
    /// k (f (dict-ref d k [default])))` with d, k, f and default evaluated once,
    /// left to right, but without the prelude function's frame and rest list
    /// (a sixth of a word count's time). Errors are those of the same
    /// `dict-ref`, call and `dict-set`. `get` and `set` are their ids.
    fn dict_update(
        &mut self,
        [get, set]: [u16; 2],
        args: &[Expr],
        span: Span,
        dst: Reg,
        tail: bool,
    ) {
        // The window of the final `dict-set`: d, k, then the new value.
        let base = self.window(dst, 3);
        self.expr(&args[0], base, false);
        self.expr(&args[1], base + 1, false);
        let f = self.alloc();
        self.expr(&args[2], f, false);
        let default = args.get(3).map(|a| {
            let r = self.alloc();
            self.expr(a, r, false);
            r
        });
        self.f.span = span;
        let n = if default.is_some() { 3 } else { 2 };
        let w = self.alloc_n(n);
        self.emit(Instr::Move(w, base));
        self.emit(Instr::Move(w + 1, base + 1));
        if let Some(d) = default {
            self.emit(Instr::Move(w + 2, d));
        }
        self.emit(Instr::CallBuiltin(w, get, n as u16));
        let c = self.alloc_n(2);
        self.emit(Instr::Move(c, f));
        self.emit(Instr::Move(c + 1, w));
        self.emit(Instr::Call(c, 1));
        self.emit(Instr::Move(base + 2, c));
        self.emit(Instr::CallBuiltin(base, set, 3));
        self.move_result(base, dst, tail);
    }

    fn call_at(&mut self, base: Reg, argc: usize, dst: Reg, tail: bool) {
        if tail {
            self.emit(Instr::TailCall(base, argc as u16));
        } else {
            self.emit(Instr::Call(base, argc as u16));
            if base != dst {
                self.emit(Instr::Move(dst, base));
            }
        }
    }

    fn sequence(&mut self, es: &[Expr], dst: Reg, tail: bool) {
        if es.is_empty() {
            self.emit(Instr::LoadNil(dst));
            self.ret_if(tail, dst);
            return;
        }
        for (i, x) in es.iter().enumerate() {
            if i + 1 == es.len() {
                self.expr(x, dst, tail);
            } else {
                let m = self.mark();
                let t = self.alloc();
                self.expr(x, t, false);
                self.release(m);
            }
        }
    }

    fn builtin_value(&mut self, id: u16, dst: Reg) {
        let b = builtins::get(id);
        if let Imp::Prelude = b.imp {
            let slot = self.global_slot(&format!("{PRELUDE_PREFIX}{}", b.name));
            self.emit(Instr::GetGlobal(dst, slot));
        } else {
            let k = self.konst(Constant::Builtin(id));
            self.emit(Instr::LoadConst(dst, k));
        }
    }

    fn call_builtin(&mut self, id: u16, args: &[Expr], span: Span, dst: Reg, tail: bool) {
        let b = builtins::get(id);
        if b.name == "dict-update"
            && matches!(args.len(), 3 | 4)
            && let (Some(get), Some(set)) = (
                builtins::find("dict-ref", false),
                builtins::find("dict-set", false),
            )
        {
            return self.dict_update([get, set], args, span, dst, tail);
        }
        if let Imp::Prelude = b.imp {
            let base = self.window(dst, 1);
            self.builtin_value(id, base);
            self.args_into(args, base + 1);
            self.f.span = span;
            return self.call_at(base, args.len(), dst, tail);
        }
        // The small built-ins as instructions of their own. Only reached when the
        // head resolved to the built-in (analysis gives a user's redefinition a
        // global or local head instead), and only at the built-in's own arity.
        if let Some(op) = inline_unary(b.name).filter(|_| args.len() == 1) {
            let a = self.operand(&args[0]);
            self.f.span = span;
            self.emit(op(dst, a));
            return self.ret_if(tail, dst);
        }
        if let Some(op) = inline_binary(b.name).filter(|_| args.len() == 2) {
            let imm = match (small_int(&args[1]), b.name) {
                (Some(i), "+") => Some(i),
                (Some(i), "-") => i.checked_neg(),
                _ => None,
            };
            let a = self.operand(&args[0]);
            let ins = match imm {
                Some(imm) => Instr::AddImm(dst, a, imm),
                None => {
                    let c = self.operand(&args[1]);
                    op(dst, a, c)
                }
            };
            self.f.span = span;
            self.emit(ins);
            return self.ret_if(tail, dst);
        }
        let base = self.window(dst, 1);
        self.args_into(args, base);
        self.f.span = span;
        self.emit(Instr::CallBuiltin(base, id, args.len() as u16));
        self.move_result(base, dst, tail);
    }

    fn if_expr(&mut self, c: &Expr, t: &Expr, f: &Expr, dst: Reg, tail: bool) {
        let jump = self.branch_if_false(c);
        self.expr(t, dst, tail);
        if tail {
            if !self.fuse_return(jump) {
                self.patch(jump);
            }
            self.expr(f, dst, true);
        } else {
            let skip = self.emit(Instr::Jump(0));
            self.patch(jump);
            self.expr(f, dst, false);
            self.patch(skip);
        }
    }

    /// When the branch at `jump` (not patched yet) jumps over a lone `Return`
    /// only, as a recursion's base case does, makes the two one instruction
    /// that returns or goes on (one dispatch fewer) and says so. Nothing can
    /// jump to the dropped `Return`: it was emitted just now, as the whole
    /// branch, and jumps to later code are patched after this.
    fn fuse_return(&mut self, jump: usize) -> bool {
        let code = &mut self.f.code;
        if code.len() != jump + 2 {
            return false;
        }
        let Some(&Instr::Return(r)) = code.last() else {
            return false;
        };
        let fused = match code[jump] {
            Instr::JumpIfNotLtImm(a, imm, _) => Instr::ReturnIfLtImm(a, imm, r),
            Instr::JumpIfLt(a, b, _) => Instr::ReturnIfNotLt(a, b, r),
            _ => return false,
        };
        code[jump] = fused;
        code.pop();
        self.f.spans.pop();
        true
    }

    /// Emits a test of `c` that jumps when it is false; returns the jump to patch.
    fn branch_if_false(&mut self, c: &Expr) -> usize {
        self.branch(c, false)
    }

    /// Emits a test of `c` that jumps when its truth is `when`; returns the jump
    /// to patch. `(< x K)` and `(= x K)` with a small constant become one
    /// compare-and-branch, `(null? x)` a test of x's tag, and `(not e)` the
    /// opposite test of `e` (when `not` is the built-in).
    fn branch(&mut self, c: &Expr, when: bool) -> usize {
        let m = self.mark();
        if let ExprKind::CallBuiltin(id, args, _) = &c.kind {
            let b = builtins::get(*id);
            let name = if let Imp::Prelude = b.imp { "" } else { b.name };
            match (args.as_slice(), name) {
                ([e], "not") => {
                    let at = self.branch(e, !when);
                    self.release(m);
                    return at;
                }
                ([e], "null?" | "nil?") => {
                    let r = self.operand(e);
                    let saved = std::mem::replace(&mut self.f.span, c.span);
                    // Jumps when `(null? e)` is `when`.
                    let at = self.emit(if when {
                        Instr::JumpIfNil(r, 0)
                    } else {
                        Instr::JumpIfNotNil(r, 0)
                    });
                    self.f.span = saved;
                    self.release(m);
                    return at;
                }
                _ => {}
            }
            let fused = match (args.as_slice(), name, when) {
                ([a, k], "<" | "=", false) => small_int(k).map(|imm| (a, imm)),
                _ => None,
            };
            // `(< a b)` and `(> a b)` of two registers: one compare-and-branch
            // (the slow path names the operator and checks `a` first, as `Lt`
            // and `Gt` do).
            if let ([x, y], "<" | ">", None) = (args.as_slice(), name, fused) {
                let a = self.operand(x);
                let b = self.operand(y);
                let saved = std::mem::replace(&mut self.f.span, c.span);
                let j = match (name, when) {
                    ("<", true) => Instr::JumpIfLt(a, b, 0),
                    ("<", false) => Instr::JumpIfNotLt(a, b, 0),
                    (_, true) => Instr::JumpIfGt(a, b, 0),
                    (_, false) => Instr::JumpIfNotGt(a, b, 0),
                };
                let at = self.emit(j);
                self.f.span = saved;
                self.release(m);
                return at;
            }
            if let Some((a, imm)) = fused {
                let r = self.operand(a);
                let saved = std::mem::replace(&mut self.f.span, c.span);
                let j = if name == "<" {
                    Instr::JumpIfNotLtImm(r, imm, 0)
                } else {
                    Instr::JumpIfNotEqImm(r, imm, 0)
                };
                let at = self.emit(j);
                self.f.span = saved;
                self.release(m);
                return at;
            }
        }
        let r = self.operand(c);
        let at = self.emit(if when {
            Instr::JumpIfTrue(r, 0)
        } else {
            Instr::JumpIfFalse(r, 0)
        });
        self.release(m);
        at
    }

    fn cond(&mut self, clauses: &[Clause], dst: Reg, tail: bool) {
        let mut ends = Vec::new();
        let mut has_else = false;
        for cl in clauses {
            match &cl.test {
                None => {
                    has_else = true;
                    self.sequence(&cl.body, dst, tail);
                    break;
                }
                Some(test) if cl.body.is_empty() => {
                    // `(test)` yields the test's value when it is true.
                    self.expr(test, dst, false);
                    ends.push(self.emit(Instr::JumpIfTrue(dst, 0)));
                }
                Some(test) => {
                    let next = self.branch_if_false(test);
                    self.sequence(&cl.body, dst, tail);
                    if !tail {
                        ends.push(self.emit(Instr::Jump(0)));
                    }
                    self.patch(next);
                }
            }
        }
        if !has_else {
            self.emit(Instr::LoadNil(dst));
            self.ret_if(tail, dst);
        }
        for j in ends {
            self.patch(j);
        }
        // Clauses `(test)` jump here with the value in dst.
        if tail
            && clauses
                .iter()
                .any(|c| c.test.is_some() && c.body.is_empty())
        {
            self.emit(Instr::Return(dst));
        }
    }

    fn lambda(&mut self, l: &Lambda, span: Span, dst: Reg) {
        // The variable this lambda is bound to, when it reads it as itself: not
        // captured then.
        let me = self.pending_self.take();
        let captures: Vec<LocalId> = l
            .captures
            .iter()
            .copied()
            .filter(|id| Some(*id) != me)
            .collect();
        // Where each capture comes from, in this (the creating) frame.
        let mut srcs: Vec<CaptureSrc> = Vec::with_capacity(captures.len());
        for id in &captures {
            let src = if self.f.self_id == Some(*id) {
                // The creating function itself, which has no register of its own.
                let r = self.alloc();
                self.emit(Instr::LoadSelf(r));
                CaptureSrc::Reg(r)
            } else {
                match self.local_place(*id) {
                    Place::Reg(r) => CaptureSrc::Reg(r),
                    Place::Capture(c) => CaptureSrc::Capture(c),
                    Place::Missing => CaptureSrc::Reg(0),
                }
            };
            srcs.push(src);
        }
        let outer = std::mem::replace(&mut self.f, FnState::new(span));
        self.f.self_id = me;
        for (i, id) in captures.iter().enumerate() {
            self.f.captures.insert(*id, i as u16);
        }
        for p in l.params.iter().chain(l.rest.iter()) {
            let r = self.alloc();
            self.f.regs.insert(*p, r);
        }
        for p in l.params.iter().chain(l.rest.iter()) {
            if self.boxed(*p) {
                let r = self.f.regs[p];
                self.emit(Instr::CellNew(r));
            }
        }
        if me.is_some() && l.rest.is_none() && !l.params.iter().any(|p| self.boxed(*p)) {
            self.f.self_params = Some(l.params.iter().map(|p| self.f.regs[p]).collect());
            self.f.self_param_ids = l.params.clone();
        }
        // `TailSelf` moves arguments into registers 0 to 2: the parameters.
        if let (Some(name), None, 0..=3) = (&l.name, &l.rest, l.params.len())
            && l.params
                .iter()
                .enumerate()
                .all(|(i, p)| self.f.regs[p] == i as Reg)
        {
            self.f.global_self = Some((name.as_str().into(), l.params.len()));
        }
        let dst_inner = self.alloc();
        self.sequence(&l.body, dst_inner, true);
        let inner = std::mem::replace(&mut self.f, outer);
        let name: Box<str> = l.name.as_deref().unwrap_or("lambda").into();
        let idx = self.finish(
            inner,
            name,
            l.params.len() as u16,
            l.rest.is_some(),
            srcs,
            l.tier,
        );
        self.emit(Instr::Closure(dst, idx));
    }
}

enum Place {
    Reg(Reg),
    Capture(u16),
    Missing,
}

/// The value of a small integer constant expression.
fn small_int(e: &Expr) -> Option<i16> {
    match e.kind {
        ExprKind::Const(Datum::Int(i)) => i16::try_from(i).ok(),
        _ => None,
    }
}

/// Whether `e` reads or assigns local `id` anywhere inside it (closures
/// included: they capture it when made).
fn mentions(e: &Expr, id: LocalId) -> bool {
    let mut work = vec![e];
    while let Some(x) = work.pop() {
        if matches!(x.kind, ExprKind::Local(l) | ExprKind::SetLocal(l, _) if l == id) {
            return true;
        }
        x.for_each_child(|c| work.push(c));
    }
    false
}

/// Whether `e` compiles to one instruction of its own that reads its operands
/// (each computed into a new register or read from its local) before it writes
/// its result: the small built-ins `call_builtin` inlines, at their arity.
fn is_inline_op(e: &Expr) -> bool {
    let ExprKind::CallBuiltin(id, args, _) = &e.kind else {
        return false;
    };
    let b = builtins::get(*id);
    if let Imp::Prelude = b.imp {
        return false;
    }
    match args.len() {
        1 => inline_unary(b.name).is_some(),
        2 => inline_binary(b.name).is_some(),
        _ => false,
    }
}

/// The instruction a one-argument built-in compiles to, if it has one.
fn inline_unary(name: &str) -> Option<fn(Reg, Reg) -> Instr> {
    match name {
        "car" => Some(Instr::Car),
        "cdr" => Some(Instr::Cdr),
        "null?" | "nil?" => Some(Instr::IsNil),
        "pair?" => Some(Instr::IsPair),
        "not" => Some(Instr::Not),
        _ => None,
    }
}

/// The instruction a two-argument built-in compiles to, if it has one (`+` and
/// `-` of a small constant become `AddImm`).
fn inline_binary(name: &str) -> Option<fn(Reg, Reg, Reg) -> Instr> {
    match name {
        "cons" => Some(Instr::Cons),
        "eq?" => Some(Instr::Eq),
        "+" => Some(Instr::Add),
        "-" => Some(Instr::Sub),
        "*" => Some(Instr::Mul),
        "<" => Some(Instr::Lt),
        "<=" => Some(Instr::Le),
        ">" => Some(Instr::Gt),
        ">=" => Some(Instr::Ge),
        "=" => Some(Instr::NumEq),
        _ => None,
    }
}

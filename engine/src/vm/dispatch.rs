//! The dispatch loop and the call path: entering frames, stack growth, the faults
//! of calls, and the arithmetic slow paths.

use super::error::{ErrorKind, Fault};
use super::heap::Obj;
use super::natives::{self, ArithOp};
use super::value::{
    TAG_PAIR, Value, copy_value, read_closure, read_int, write_bool, write_closure, write_handle,
    write_int,
};
use super::{Frame, Handler, STACK_SLACK, Step, Vm};
use crate::ground::bytecode::{CaptureSrc, Instr};
use crate::ground::ffi::Capability;

impl Vm {
    /// Makes room for a frame of `nregs` registers at `base`. The register stack
    /// counts toward the memory limit with the heap: growing it past the limit is
    /// a `memory-limit` error, as is a refusal by the system.
    #[inline]
    pub(super) fn ensure_stack(&mut self, base: usize, nregs: usize) -> Step {
        let need = base + nregs + STACK_SLACK;
        if self.stack.len() < need {
            self.grow_stack(need)?;
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn grow_stack(&mut self, need: usize) -> Step {
        const SLOT: usize = std::mem::size_of::<Value>();
        let limit = usize::try_from(self.limits.memory).unwrap_or(usize::MAX);
        let mut room = limit.saturating_sub(self.heap.live_bytes()) / SLOT;
        if need > room {
            // Garbage may be what fills the limit: collect (every register is a
            // root here, stale ones too, which only keeps more alive) and look again.
            let top = self.stack.len();
            self.collect_with_top(top, &[]);
            room = limit.saturating_sub(self.heap.live_bytes()) / SLOT;
        }
        if need > room {
            return Err(Fault::new(
                ErrorKind::MemoryLimit,
                format!(
                    "the call stack needs {} bytes of registers, past the memory limit of {limit} bytes",
                    need.saturating_mul(SLOT)
                ),
            ));
        }
        let want = need.max(self.stack.len().saturating_mul(2)).min(room);
        if self
            .stack
            .try_reserve_exact(want - self.stack.len())
            .is_err()
        {
            return Err(Fault::new(
                ErrorKind::MemoryLimit,
                "the system refused memory for the call stack",
            ));
        }
        self.stack.resize(want, Value::Nil);
        Ok(())
    }

    /// Sets up the arguments of a closure call at `base`: arity and the rest list.
    /// Other registers are not cleared: the compiler writes every register before it
    /// reads it, and the collector tolerates stale values above the arguments.
    /// Out of line: calls of fixed arity with room on the stack skip it.
    #[inline(never)]
    pub(super) fn enter(&mut self, proto: u32, base: usize, argc: usize) -> Step {
        let p = &self.protos[proto as usize];
        let (nparams, variadic, nregs) = (p.nparams as usize, p.variadic, p.nregs as usize);
        if argc != nparams && !(variadic && argc > nparams) {
            return Err(self.arity_fault(proto, argc));
        }
        self.ensure_stack(base, nregs)?;
        if variadic {
            let rest = self.heap.list(&self.stack[base + nparams..base + argc]);
            self.stack[base + nparams] = rest;
            if self.heap.wants_collection() {
                self.safe_point_collect(base + nregs)?;
            }
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    pub(super) fn arity_fault(&self, proto: u32, argc: usize) -> Box<Fault> {
        let p = &self.protos[proto as usize];
        let want = if p.variadic {
            format!("at least {}", p.nparams)
        } else {
            p.nparams.to_string()
        };
        let s = if p.nparams == 1 && !p.variadic {
            ""
        } else {
            "s"
        };
        Fault::new(
            ErrorKind::Arity,
            format!(
                "`{}` takes {want} argument{s}, but {argc} were given",
                p.name
            ),
        )
    }

    #[cold]
    #[inline(never)]
    pub(super) fn depth_fault(&self) -> Box<Fault> {
        Fault::new(
            ErrorKind::DepthLimit,
            format!(
                "call depth passes the limit of {} nested calls",
                self.limits.depth
            ),
        )
    }

    #[cold]
    #[inline(never)]
    pub(super) fn unbound_global(&self, g: u32) -> Box<Fault> {
        let name = self
            .global_names
            .get(g as usize)
            .map(|n| n.to_string())
            .unwrap_or_default();
        let name = crate::ground::builtins::visible_global(&name).to_string();
        Fault::new(ErrorKind::Unbound, format!("`{name}` is not defined (yet)"))
    }

    #[cold]
    #[inline(never)]
    pub(super) fn not_callable(&self, v: Value) -> Box<Fault> {
        Fault::new(
            ErrorKind::Type,
            format!("{} is not a procedure", self.show(v)),
        )
    }

    /// The main loop: runs until the entry frame returns, or a fault.
    ///
    /// Hot state lives in locals: the running frame's instruction pointer (and
    /// its code's start, for the `pc` a frame record keeps), base, register
    /// window and step fuel. The frame record on `self.frames` holds the frame's `pc`
    /// only once saved (`save!`): before a call (the return address) and before
    /// anything that can fail, collect garbage or read the frames. Its prototype is
    /// read from the record where needed (constants, GC points).
    pub(super) fn execute(&mut self) -> Result<Value, Box<Fault>> {
        let frame = *self.frames.last().expect("a frame to run");
        let mut base = frame.base as usize;
        // The running code as a start and an instruction pointer: one register
        // in the dispatch head instead of a code slice and an index (the slice
        // was reloaded from the stack at every instruction, perf).
        let mut code0: *const Instr = frame.code.as_ptr();
        // SAFETY: a frame's pc is inside its code.
        let mut ip: *const Instr = unsafe { code0.add(frame.pc as usize) };
        // The index of the next instruction in the running code.
        macro_rules! pc {
            () => {
                // SAFETY: `ip` points into the code that starts at `code0`.
                (unsafe { ip.offset_from(code0) } as usize)
            };
        }
        // Step fuel, in bytes of code: the room left at `ip` is `budget - ip`
        // (`room!`; the steps are that over 8, `left!`), so straight-line code
        // needs no counting; calls, returns and backward jumps check it
        // (`tick!`) and move it to where execution goes on
        // (`budget = at!(room)`), with no need of the code's start and no
        // division on the way.
        const INSTR: i64 = std::mem::size_of::<Instr>() as i64;
        // The room is always a whole number of instructions (`budget` starts
        // at fuel × 8 past `ip` and both move by multiples of 8), so a shift
        // divides it exactly.
        const STEP_SHIFT: u32 = INSTR.trailing_zeros();
        const _: () = assert!(INSTR == 1 << STEP_SHIFT);
        let mut budget = self.fuel * INSTR + ip as i64;
        macro_rules! room {
            () => {
                budget - ip as i64
            };
        }
        macro_rules! left {
            () => {
                room!() >> STEP_SHIFT
            };
        }
        macro_rules! at {
            ($room:expr) => {
                $room + ip as i64
            };
        }
        let mut depth_limit = usize::try_from(self.limits.depth).unwrap_or(usize::MAX);
        assert!(base + self.protos[frame.proto as usize].nregs as usize <= self.stack.len());
        // The running frame's registers. Re-derived whenever the frame changes or the
        // stack may have grown (`rebase!`).
        // SAFETY: `base` is inside the stack (asserted just above).
        let mut regs: *mut Value = unsafe { self.stack.as_mut_ptr().add(base) };

        // SAFETY: every register operand is below the frame's `nregs` (checked by
        // `Proto::validate` when the code was added) and `run`, `enter` and the
        // inline call paths (which check the room first) keep
        // `base + nregs <= stack.len()`; `regs` is re-derived after anything that can
        // reallocate the stack (only `enter` does, through `ensure_stack`).
        macro_rules! r {
            ($i:expr) => {
                (*unsafe { &mut *regs.add($i as usize) })
            };
        }
        // A pointer to a register (same invariant as `r!`).
        macro_rules! rp {
            ($i:expr) => {{
                #[allow(unused_unsafe)]
                let p = unsafe { regs.add($i as usize) };
                p
            }};
        }
        // Stores a value returned by a call out of line (a native, a slow path) into a
        // register, word by word (`copy_value`).
        macro_rules! put {
            ($d:expr, $v:expr) => {{
                let v: Value = $v;
                // SAFETY: the register is inside the frame (see `r!`).
                unsafe { copy_value(rp!($d), &v) }
            }};
        }
        // A registry function's call on `$args`, its result into register `$a`.
        // A pure function with no capability, its arguments of the declared types
        // (see `pure_fast`), is called in place: no work to charge, nothing
        // allocated, no callback. Anything else goes through `host_call`
        // (`$slow`) on the window at `$a`.
        macro_rules! ffi_call {
            ($a:expr, $idx:expr, $args:expr, $slow:expr) => {{
                if let Some(f) = self.pure_fast($idx as usize, $args) {
                    match f($args) {
                        Ok(v) => put!($a, v),
                        Err(e) => fail!(e),
                    }
                    continue;
                }
                // The frame state is saved only if the call fails: host calls
                // neither read it nor collect garbage.
                let v = $slow;
                // A callback from the host may have grown the stack.
                rebase!();
                budget -= self.take_work() * INSTR;
                match v {
                    Ok(v) => put!($a, v),
                    Err(e) => fail!(e),
                }
                gc_point!();
            }};
        }
        macro_rules! rebase {
            () => {
                // SAFETY: every frame's `base + nregs` is within the stack (`enter`,
                // `ensure_stack`), so `base` is in bounds.
                regs = unsafe { self.stack.as_mut_ptr().add(base) };
            };
        }
        macro_rules! save {
            () => {
                if let Some(f) = self.frames.last_mut() {
                    f.pc = pc!() as u32;
                }
                self.fuel = left!();
            };
        }
        macro_rules! fail {
            ($e:expr) => {{
                save!();
                return Err($e);
            }};
        }
        // Checks the fuel at a call, return or backward jump; evaluates to the
        // room left at `ip`, which the caller moves to where execution goes on.
        macro_rules! tick {
            () => {{
                let mut room = room!();
                if room <= 0 {
                    save!();
                    self.refuel()?;
                    room = self.fuel * INSTR;
                    // Keep `budget` in step for a `save!` before the caller moves it.
                    #[allow(unused_assignments)]
                    {
                        budget = at!(room);
                    }
                }
                room
            }};
        }
        macro_rules! gc_point {
            () => {
                if self.heap.wants_collection() {
                    save!();
                    let top = base + self.protos[self.cur_proto() as usize].nregs as usize;
                    self.safe_point_collect(top)?;
                }
            };
        }
        macro_rules! jump {
            ($off:expr) => {
                // SAFETY: validated jumps stay inside the code.
                ip = unsafe { ip.offset($off as isize) }
            };
        }
        // Int, Int on the fast path, reading tags and payloads in place; anything
        // else (floats, overflow, type errors) in a cold function.
        macro_rules! arith {
            ($d:expr, $a:expr, $b:expr, $op:expr, $fast:ident) => {{
                // SAFETY: the registers are inside the frame (see `r!`).
                let fast = match unsafe { (read_int(rp!($a)), read_int(rp!($b))) } {
                    (Some(p), Some(q)) => p.$fast(q),
                    _ => None,
                };
                match fast {
                    // SAFETY: as above.
                    Some(v) => unsafe { write_int(rp!($d), v) },
                    None => match arith_slow($op, r!($a), r!($b)) {
                        Ok(v) => put!($d, v),
                        Err(e) => fail!(e),
                    },
                }
            }};
        }
        // The truth of a comparison of two registers (Int, Int inline).
        macro_rules! compare {
            ($a:expr, $b:expr, $op:expr, $fast:expr) => {{
                // SAFETY: the registers are inside the frame (see `r!`).
                match unsafe { (read_int(rp!($a)), read_int(rp!($b))) } {
                    (Some(p), Some(q)) => $fast(p, q),
                    _ => match compare_slow($op, r!($a), r!($b)) {
                        Ok(b) => b,
                        Err(e) => fail!(e),
                    },
                }
            }};
        }
        // The truth of a comparison of a register with an immediate (Int
        // inline).
        macro_rules! compare_imm {
            ($a:expr, $imm:expr, $op:expr, $fast:expr) => {{
                // SAFETY: the register is inside the frame (see `r!`).
                match unsafe { read_int(rp!($a)) } {
                    Some(p) => $fast(p, $imm as i64),
                    None => match compare_slow($op, r!($a), Value::Int($imm as i64)) {
                        Ok(b) => b,
                        Err(e) => fail!(e),
                    },
                }
            }};
        }
        macro_rules! compare_into {
            ($d:expr, $a:expr, $b:expr, $op:expr, $fast:expr) => {{
                let b = compare!($a, $b, $op, $fast);
                // SAFETY: the register is inside the frame (see `r!`).
                unsafe { write_bool(rp!($d), b) };
            }};
        }
        // Returns the value at `$src` (a `*const Value`) to the caller's slot.
        macro_rules! do_return {
            ($src:expr) => {{
                let src: *const Value = $src;
                let room = tick!();
                // SAFETY: the slot below a frame's base holds its callee, so it is in
                // the stack; `src` points to a valid value (a register or a local).
                unsafe { copy_value(regs.sub(1), src) };
                let done = self.frames.pop();
                debug_assert_eq!(done.map(|f| f.base as usize), Some(base));
                match self.frames.last() {
                    None => {
                        self.fuel = room >> STEP_SHIFT;
                        // SAFETY: written just above.
                        return Ok(unsafe { *regs.sub(1) });
                    }
                    Some(f) => {
                        base = f.base as usize;
                        code0 = f.code.as_ptr();
                        // SAFETY: a saved pc is inside its frame's code.
                        ip = unsafe { code0.add(f.pc as usize) };
                        budget = at!(room);
                        rebase!();
                    }
                }
            }};
        }

        // Global `$g` into register `$d`; a global not defined (yet) is kind `unbound`.
        macro_rules! get_global {
            ($d:expr, $g:expr) => {{
                let Some(v) = self.globals.get($g as usize) else {
                    fail!(self.unbound_global($g));
                };
                if let Value::Undefined = v {
                    fail!(self.unbound_global($g));
                }
                // SAFETY: `v` is a valid value; `$d` is inside the frame (see `r!`).
                unsafe { copy_value(rp!($d), v) };
            }};
        }

        // While register `$f` holds `apply`, its last argument spread into the
        // call window (its first argument moved to `$f`); the count after.
        macro_rules! spread_applies {
            ($f:expr, $argc:expr) => {{
                let f: usize = $f;
                let mut argc: usize = $argc;
                while let Value::Builtin(id) = r!(f) {
                    if id != self.apply_id {
                        break;
                    }
                    // The step check before the arguments move, so that a
                    // switch there can run this instruction again.
                    let _ = tick!();
                    save!();
                    match self.spread_apply(base + f, argc, true) {
                        Ok(n) => argc = n,
                        Err(e) => fail!(e),
                    }
                    rebase!();
                }
                argc
            }};
        }

        // Enters the closure in register `$f`, which runs prototype `$callee`,
        // with `$argc` arguments after it; `$room` is the fuel's room at the
        // call (`tick!`).
        macro_rules! call_closure {
            ($f:expr, $argc:expr, $callee:expr, $room:expr) => {{
                let f: usize = $f;
                let argc: usize = $argc;
                let callee: u32 = $callee;
                let new_base = base + f + 1;
                let p = &self.protos[callee as usize];
                // The callee's code read with its shape: one prototype lookup.
                // SAFETY: a prototype's code, kept in `code` and the frame.
                let callee_code = unsafe { detach(&p.code) };
                // The common case inline: fixed arity matched, depth and
                // stack room fine. Everything else goes through `enter`.
                if argc == p.nparams as usize
                    && !p.variadic
                    && self.frames.len() < depth_limit
                    && new_base + p.nregs as usize + STACK_SLACK <= self.stack.len()
                {
                    // The caller's pc is the return address.
                    if let Some(fr) = self.frames.last_mut() {
                        fr.pc = pc!() as u32;
                    }
                    // The stack stays where it is: the callee's registers
                    // start just past the callee's slot.
                    // SAFETY: `new_base + nregs` is within the stack (checked
                    // just above).
                    regs = unsafe { regs.add(f + 1) };
                    base = new_base;
                } else {
                    if self.frames.len() >= depth_limit {
                        fail!(self.depth_fault());
                    }
                    save!();
                    self.enter(callee, new_base, argc)?;
                    base = new_base;
                    rebase!();
                }
                code0 = callee_code.as_ptr();
                ip = code0;
                self.frames.push(Frame {
                    code: callee_code,
                    proto: callee,
                    base: new_base as u32,
                    pc: 0,
                });
                budget = at!($room);
            }};
        }

        // A call of the value in register `$f` with `$argc` arguments after it
        // (the body of `Call`, shared with `apply`).
        macro_rules! call_at {
            ($f:expr, $argc:expr) => {{
                let f: usize = $f;
                let argc: usize = $argc;
                let room = tick!();
                let at = base + f as usize;
                // SAFETY: `f` is inside the frame (see `r!`).
                if let Some((_, callee)) = unsafe { read_closure(rp!(f)) } {
                    call_closure!(f, argc, callee, room);
                } else {
                    budget = at!(room);
                    self.fuel = room >> STEP_SHIFT;
                    match r!(f) {
                        Value::Builtin(id) => {
                            save!();
                            let v = self.call_builtin_value(id, at + 1, argc);
                            budget -= self.take_work() * INSTR;
                            match v {
                                Ok(v) => put!(f, v),
                                Err(e) => fail!(e),
                            }
                            gc_point!();
                        }
                        Value::Ffi(i) => {
                            save!();
                            let v = self.host_call(i as usize, at + 1, argc);
                            // A callback from the host may have grown the stack.
                            rebase!();
                            budget -= self.take_work() * INSTR;
                            match v {
                                Ok(v) => put!(f, v),
                                Err(e) => return Err(e),
                            }
                            gc_point!();
                        }
                        other => fail!(self.not_callable(other)),
                    }
                }
            }};
        }
        loop {
            // SAFETY: validated code ends in a terminator and jumps stay inside it.
            let ins = unsafe { *ip };
            // SAFETY: as above: the next instruction is in the code (or `ip` is
            // one past a terminator, which moves it before any read).
            ip = unsafe { ip.add(1) };
            match ins {
                Instr::LoadNil(d) => r!(d) = Value::Nil,
                Instr::LoadBool(d, b) => r!(d) = Value::Bool(b),
                Instr::LoadInt(d, i) => r!(d) = Value::Int(i as i64),
                Instr::LoadConst(d, k) => {
                    r!(d) = self.protos[self.cur_proto() as usize].consts[k as usize]
                }
                Instr::LoadUndef(d) => r!(d) = Value::Undefined,
                // SAFETY: both registers are inside the frame (see `r!`).
                Instr::Move(d, s) => unsafe { copy_value(rp!(d), rp!(s)) },
                Instr::MoveChecked(d, s) => {
                    let v = r!(s);
                    if let Value::Undefined = v {
                        fail!(used_before_definition());
                    }
                    r!(d) = v;
                }
                Instr::GetGlobal(d, g) => get_global!(d, g),
                Instr::SetGlobal(g, s) => {
                    if let Value::Undefined = self.globals[g as usize] {
                        let name = self.global_names[g as usize].to_string();
                        fail!(Fault::new(
                            ErrorKind::Unbound,
                            format!("cannot assign `{name}`: it is not defined yet")
                        ));
                    }
                    if !self.set_guards.is_empty()
                        && let Err(f) = self.check_set_tier(g, r!(s))
                    {
                        fail!(f);
                    }
                    self.globals[g as usize] = r!(s);
                }
                Instr::DefGlobal(g, s) => self.globals[g as usize] = r!(s),
                Instr::GetCapture(d, i) => {
                    // The first capture (the only one of most closures) read in
                    // place; the others out of line.
                    // SAFETY: the slot below a frame's base holds its callee.
                    let v = match (i, unsafe { *regs.sub(1) }) {
                        (0, Value::Closure(c, _)) => self.heap.first_capture(c),
                        _ => self.capture(base, i),
                    };
                    r!(d) = v;
                }
                // SAFETY: the slot below a frame's base holds its callee (the
                // running closure); `d` is inside the frame (see `r!`).
                Instr::LoadSelf(d) => unsafe { copy_value(rp!(d), regs.sub(1)) },
                Instr::CellNew(d) => {
                    let c = self.heap.alloc(Obj::Cell(r!(d)));
                    r!(d) = Value::Cell(c);
                    gc_point!();
                }
                Instr::CellGet(d, s) => {
                    let v = match r!(s) {
                        Value::Cell(c) => match self.heap.get(c) {
                            Obj::Cell(v) => *v,
                            _ => Value::Nil,
                        },
                        other => other,
                    };
                    if let Value::Undefined = v {
                        fail!(used_before_definition());
                    }
                    r!(d) = v;
                }
                Instr::CellSet(a, b) => {
                    let v = r!(b);
                    if let Value::Cell(c) = r!(a) {
                        *self.heap.get_mut(c) = Obj::Cell(v);
                    }
                }
                Instr::Closure(d, p) => {
                    // The first three captures gathered without allocating (see
                    // `heap::Closure`); more only for closures that capture more.
                    let srcs = &self.protos[p as usize].captures;
                    let n = srcs.len();
                    let mut small = [Value::Nil; 3];
                    let mut more = Vec::new();
                    for (k, src) in srcs.iter().enumerate() {
                        let v = match *src {
                            CaptureSrc::Reg(r) => self.stack[base + r as usize],
                            CaptureSrc::Capture(i) => self.capture(base, i),
                        };
                        if k < 3 {
                            small[k] = v;
                        } else {
                            more.push(v);
                        }
                    }
                    let c = self.heap.closure(p, n, small, more);
                    // SAFETY: the register is inside the frame (see `r!`).
                    unsafe { write_closure(rp!(d), c, p) };
                    gc_point!();
                }
                Instr::Jump(off) => {
                    if off < 0 {
                        let room = tick!();
                        jump!(off);
                        budget = at!(room);
                    } else {
                        jump!(off);
                    }
                }
                Instr::JumpIfFalse(c, off) => {
                    if !r!(c).is_truthy() {
                        jump!(off);
                    }
                }
                Instr::JumpIfTrue(c, off) => {
                    if r!(c).is_truthy() {
                        jump!(off);
                    }
                }
                Instr::Add(d, a, b) => arith!(d, a, b, ArithOp::Add, checked_add),
                Instr::Sub(d, a, b) => arith!(d, a, b, ArithOp::Sub, checked_sub),
                Instr::Mul(d, a, b) => arith!(d, a, b, ArithOp::Mul, checked_mul),
                Instr::AddImm(d, a, imm) => {
                    // SAFETY: the registers are inside the frame (see `r!`).
                    match unsafe { read_int(rp!(a)) }.and_then(|p| p.checked_add(imm as i64)) {
                        Some(v) => unsafe { write_int(rp!(d), v) },
                        None => match arith_slow(ArithOp::Add, r!(a), Value::Int(imm as i64)) {
                            Ok(v) => put!(d, v),
                            Err(e) => fail!(e),
                        },
                    }
                }
                Instr::Lt(d, a, b) => compare_into!(d, a, b, ArithOp::Lt, |p: i64, q: i64| p < q),
                Instr::Le(d, a, b) => compare_into!(d, a, b, ArithOp::Le, |p: i64, q: i64| p <= q),
                Instr::Gt(d, a, b) => compare_into!(d, a, b, ArithOp::Gt, |p: i64, q: i64| p > q),
                Instr::Ge(d, a, b) => compare_into!(d, a, b, ArithOp::Ge, |p: i64, q: i64| p >= q),
                Instr::NumEq(d, a, b) => {
                    compare_into!(d, a, b, ArithOp::NumEq, |p: i64, q: i64| p == q)
                }
                Instr::JumpIfNotLtImm(a, imm, off) => {
                    if !compare_imm!(a, imm, ArithOp::Lt, |p: i64, q: i64| p < q) {
                        jump!(off);
                    }
                }
                Instr::JumpIfNotEqImm(a, imm, off) => {
                    if !compare_imm!(a, imm, ArithOp::NumEq, |p: i64, q: i64| p == q) {
                        jump!(off);
                    }
                }
                Instr::ReturnIfLtImm(a, imm, s) => {
                    if compare_imm!(a, imm, ArithOp::Lt, |p: i64, q: i64| p < q) {
                        do_return!(rp!(s));
                    }
                }
                Instr::ReturnIfNotLt(a, b, s) => {
                    if !compare!(a, b, ArithOp::Lt, |p: i64, q: i64| p < q) {
                        do_return!(rp!(s));
                    }
                }
                Instr::JumpIfLt(a, b, off) => {
                    if compare!(a, b, ArithOp::Lt, |p: i64, q: i64| p < q) {
                        jump!(off);
                    }
                }
                Instr::JumpIfNotLt(a, b, off) => {
                    if !compare!(a, b, ArithOp::Lt, |p: i64, q: i64| p < q) {
                        jump!(off);
                    }
                }
                Instr::JumpIfGt(a, b, off) => {
                    if compare!(a, b, ArithOp::Gt, |p: i64, q: i64| p > q) {
                        jump!(off);
                    }
                }
                Instr::JumpIfNotGt(a, b, off) => {
                    if !compare!(a, b, ArithOp::Gt, |p: i64, q: i64| p > q) {
                        jump!(off);
                    }
                }
                Instr::JumpIfNil(c, off) => {
                    if let Value::Nil = r!(c) {
                        jump!(off);
                    }
                }
                Instr::JumpIfNotNil(c, off) => {
                    if !matches!(r!(c), Value::Nil) {
                        jump!(off);
                    }
                }
                Instr::Car(d, s) => match r!(s) {
                    Value::Pair(p) => {
                        let v = self.heap.pair(p).0;
                        r!(d) = v;
                    }
                    other => fail!(natives::pair_expected("car", other)),
                },
                Instr::Cdr(d, s) => match r!(s) {
                    Value::Pair(p) => {
                        let v = self.heap.pair(p).1;
                        r!(d) = v;
                    }
                    other => fail!(natives::pair_expected("cdr", other)),
                },
                Instr::Cons(d, a, b) => {
                    let c = self.heap.alloc(Obj::Pair(r!(a), r!(b)));
                    // SAFETY: the register is inside the frame (see `r!`).
                    unsafe { write_handle(rp!(d), TAG_PAIR, c) };
                    gc_point!();
                }
                Instr::IsNil(d, s) => {
                    let b = matches!(r!(s), Value::Nil);
                    // SAFETY: the register is inside the frame (see `r!`).
                    unsafe { write_bool(rp!(d), b) };
                }
                Instr::IsPair(d, s) => {
                    let b = matches!(r!(s), Value::Pair(_));
                    // SAFETY: as above.
                    unsafe { write_bool(rp!(d), b) };
                }
                Instr::Not(d, s) => {
                    let b = !r!(s).is_truthy();
                    // SAFETY: as above.
                    unsafe { write_bool(rp!(d), b) };
                }
                Instr::Eq(d, a, b) => {
                    let b = natives::is_eq(r!(a), r!(b));
                    // SAFETY: as above.
                    unsafe { write_bool(rp!(d), b) };
                }
                Instr::CallGlobal(f, g, argc) => {
                    // A closure (the common case) goes straight in, its
                    // prototype taken from the global as read.
                    if let Some(v) = self.globals.get(g as usize)
                        && let Value::Closure(_, callee) = *v
                    {
                        // SAFETY: `v` is a valid value; `f` is inside the
                        // frame (see `r!`).
                        unsafe { copy_value(rp!(f), v) };
                        let room = tick!();
                        call_closure!(f as usize, argc as usize, callee, room);
                        continue;
                    }
                    get_global!(f, g);
                    let argc = spread_applies!(f as usize, argc as usize);
                    call_at!(f as usize, argc);
                }
                Instr::Call(f, argc) => {
                    let argc = spread_applies!(f as usize, argc as usize);
                    call_at!(f as usize, argc);
                }
                Instr::TailSelf(f, _) => {
                    // SAFETY: `f` is inside the frame (see `r!`); the slot below
                    // a frame's base holds its callee, the running closure.
                    let me = unsafe { read_closure(regs.sub(1)) };
                    if me.is_some() && unsafe { read_closure(rp!(f)) } == me {
                        // The same closure, so the same prototype, whose arity
                        // the compiler matched: no frame change at all.
                        let room = tick!();
                        // Three slots whatever the count (a fixed copy, as in
                        // `TailCall`): past the arguments they are registers the
                        // restarted function writes before it reads them.
                        for i in 0..3 {
                            // SAFETY: `f + 3 < nregs + STACK_SLACK` (`f + argc <
                            // nregs` by `Proto::validate`) and `3 <= STACK_SLACK`,
                            // so both sides are in the stack; the target `i` is
                            // below the source `f + 1 + i`.
                            unsafe { copy_value(rp!(i), rp!(f as usize + 1 + i)) };
                        }
                        ip = code0;
                        budget = at!(room);
                    }
                }
                Instr::TailCall(f, argc) => {
                    let argc = spread_applies!(f as usize, argc as usize);
                    let room = tick!();
                    let at = base + f as usize;
                    // SAFETY: `f` is inside the frame (see `r!`).
                    if let Some((_, callee)) = unsafe { read_closure(rp!(f)) } {
                        // Move the callee and its arguments down over this frame,
                        // lowest first (the target is below the source). A plain
                        // loop: `copy_within` is a `memmove` call, a quarter of the
                        // time of a tail-call loop.
                        let from = f as usize;
                        if argc < 4 {
                            // The common short call: four slots copied, a fixed
                            // count the compiler unrolls (half the work of the loop).
                            // The ones past the arguments are stale registers of a
                            // frame the new one may overwrite freely.
                            for i in 0..4 {
                                // SAFETY: `base + f + 3` is below `base + nregs +
                                // STACK_SLACK <= stack.len()` (`f + argc < nregs`
                                // by `Proto::validate`, and `STACK_SLACK >= 3`),
                                // and the stack holds valid values everywhere;
                                // the target `base - 1 + i` is below the source.
                                unsafe { copy_value(regs.sub(1).add(i), regs.add(from + i)) };
                            }
                        } else {
                            // (An exclusive range: `0..=argc` compiles to a slower loop.)
                            for i in 0..argc + 1 {
                                // SAFETY: registers `f..=f + argc` are inside the frame
                                // (`Proto::validate` checks the call window), and
                                // `base - 1 + i < base + f + i` stays below them.
                                unsafe { copy_value(regs.sub(1).add(i), regs.add(from + i)) };
                            }
                        }
                        let p = &self.protos[callee as usize];
                        // SAFETY: a prototype's code, kept in `code` and the frame.
                        let callee_code = unsafe { detach(&p.code) };
                        if !(argc == p.nparams as usize
                            && !p.variadic
                            && base + p.nregs as usize + STACK_SLACK <= self.stack.len())
                        {
                            save!();
                            self.enter(callee, base, argc)?;
                            rebase!();
                        }
                        code0 = callee_code.as_ptr();
                        ip = code0;
                        if let Some(fr) = self.frames.last_mut() {
                            fr.proto = callee;
                            fr.code = callee_code;
                        }
                        budget = at!(room);
                    } else {
                        self.fuel = room >> STEP_SHIFT;
                        match r!(f) {
                            Value::Builtin(id) => {
                                save!();
                                let v = self.call_builtin_value(id, at + 1, argc);
                                budget -= self.take_work() * INSTR;
                                match v {
                                    Ok(v) => do_return!(&v),
                                    Err(e) => fail!(e),
                                }
                            }
                            Value::Ffi(i) => {
                                save!();
                                let v = self.host_call(i as usize, at + 1, argc);
                                // A callback from the host may have grown the stack.
                                rebase!();
                                budget -= self.take_work() * INSTR;
                                do_return!(&v?);
                            }
                            other => fail!(self.not_callable(other)),
                        }
                    }
                }
                Instr::CallBuiltin(a, id, argc) if id == self.apply_id => {
                    let _ = tick!();
                    save!();
                    let mut argc = match self.spread_apply(base + a as usize, argc as usize, false)
                    {
                        Ok(n) => n,
                        Err(e) => fail!(e),
                    };
                    rebase!();
                    while let Value::Builtin(id) = r!(a) {
                        if id != self.apply_id {
                            break;
                        }
                        match self.spread_apply(base + a as usize, argc, true) {
                            Ok(n) => argc = n,
                            Err(e) => fail!(e),
                        }
                        rebase!();
                    }
                    call_at!(a as usize, argc);
                }
                Instr::CallBuiltin(a, id, argc) => {
                    let at = base + a as usize;
                    // The fuel as of here, for the steps a native charges.
                    self.fuel = left!();
                    let v = match natives::builtin(id) {
                        Some(nf) => self.call_native(nf, at, argc as usize),
                        None => {
                            // An actor built-in (the VM's own operation): it reads
                            // the frame (the `spawn` site, where to resume).
                            save!();
                            self.vm_builtin(id, at, argc as usize)
                        }
                    };
                    budget -= self.take_work() * INSTR;
                    match v {
                        Ok(v) => put!(a, v),
                        Err(e) => fail!(e),
                    }
                    gc_point!();
                }
                Instr::CallFfi(a, idx, argc) => {
                    // SAFETY: the call window, register `a` and the `argc` from
                    // it, is inside the frame (`Proto::validate`); nothing writes
                    // the registers while `args` lives.
                    let args = unsafe {
                        std::slice::from_raw_parts(rp!(a) as *const Value, argc as usize)
                    };
                    ffi_call!(
                        a,
                        idx,
                        args,
                        self.host_call(idx as usize, base + a as usize, argc as usize)
                    );
                }
                Instr::Return(s) => do_return!(rp!(s)),
                Instr::RequireCap(d, c) => {
                    let cap = Capability::ALL[c as usize];
                    let held = self.grants.contains(cap);
                    self.audit.record(
                        "require-capability",
                        cap,
                        held,
                        (!held).then(|| "not granted".to_string()),
                    );
                    if !held {
                        fail!(Fault::new(
                            ErrorKind::CapabilityDenied,
                            format!(
                                "this code requires the capability {cap}, which this session does not hold"
                            )
                        ));
                    }
                    r!(d) = Value::Capability(cap);
                }
                Instr::HasCap(d, c) => {
                    r!(d) = Value::Bool(self.grants.contains(Capability::ALL[c as usize]))
                }
                Instr::PushHandler(slot, off) => {
                    let target = (pc!() as i64 + off as i64) as u32;
                    self.handlers.push(Handler {
                        frames: self.frames.len(),
                        slot: base + slot as usize,
                        pc: target,
                    });
                }
                Instr::PopHandler => {
                    self.handlers.pop();
                }
                Instr::EnterExperimental => {
                    if self.cap.is_none() {
                        self.cap_experimental();
                        depth_limit = usize::try_from(self.limits.depth).unwrap_or(usize::MAX);
                    }
                }
                Instr::LeaveExperimental => {
                    // The frame that put the caps on returned here (`tiers`).
                    let room = room!();
                    self.leave_experimental();
                    if let Some(f) = self.frames.last() {
                        code0 = f.code.as_ptr();
                        // SAFETY: a saved pc is inside its frame's code.
                        ip = unsafe { code0.add(f.pc as usize) };
                    }
                    budget = at!(room);
                    depth_limit = usize::try_from(self.limits.depth).unwrap_or(usize::MAX);
                }
                Instr::CallFfi2(a, idx, x, y) => {
                    // Word by word (`copy_value`): the registers were written so.
                    let mut args = [Value::Nil; 2];
                    // SAFETY: `x` and `y` are inside the frame (`Proto::validate`).
                    unsafe {
                        copy_value(&mut args[0], rp!(x));
                        copy_value(&mut args[1], rp!(y));
                    }
                    ffi_call!(
                        a,
                        idx,
                        &args,
                        self.host_call_pair(idx as usize, base + a as usize, args)
                    );
                }
            }
        }
    }

    /// Spreads the last argument of an `apply` at `at` into the arguments of a
    /// call: afterwards the procedure is at `at` and the returned count of
    /// arguments follows it. With `shift`, `at` holds `apply` itself and the
    /// arguments start after it. Charges a step per element (language §10).
    #[cold]
    #[inline(never)]
    pub(super) fn spread_apply(
        &mut self,
        at: usize,
        argc: usize,
        shift: bool,
    ) -> Result<usize, Box<Fault>> {
        if argc < 2 {
            return Err(Fault::new(
                ErrorKind::Arity,
                format!("`apply` takes at least 2 arguments, but {argc} were given"),
            ));
        }
        if shift {
            for i in 0..argc {
                self.stack[at + i] = self.stack[at + i + 1];
            }
        }
        let list_at = at + argc - 1;
        let lst = self.stack[list_at];
        // One step per element, charged as a built-in's work is.
        let items = natives::list_items_charging(&self.heap, &mut |_| Ok(()), "apply", lst)?;
        let n = argc - 2 + items.len();
        self.work = self.work.saturating_add(items.len() as u64);
        let bytes = items.len().saturating_mul(std::mem::size_of::<Value>());
        self.heap
            .check_room(bytes)
            .map_err(|m| Fault::new(ErrorKind::MemoryLimit, m))?;
        self.ensure_stack(at + 1, n)?;
        self.stack[list_at..list_at + items.len()].copy_from_slice(&items);
        Ok(n)
    }

    /// The steps a built-in charged, taken out of the VM's record of them.
    #[inline(always)]
    fn take_work(&mut self) -> i64 {
        // Capped at 2^40 steps (18 minutes at 10^9 steps a second): one
        // built-in's charge past that counts as that, and the fuel, counted in
        // bytes of code (8 a step), cannot overflow.
        std::mem::take(&mut self.work).min(1 << 40) as i64
    }

    /// The prototype of the running frame.
    #[inline]
    pub(super) fn cur_proto(&self) -> u32 {
        self.frames.last().map_or(0, |f| f.proto)
    }

    /// Capture `i` of the closure running in the frame at `base` (it sits just below).
    #[inline]
    pub(super) fn capture(&self, base: usize, i: u16) -> Value {
        match self.stack[base - 1] {
            Value::Closure(c, _) => match self.heap.get(c) {
                Obj::Closure(c) => self.heap.capture(c, i),
                _ => Value::Nil,
            },
            _ => Value::Nil,
        }
    }

    /// The code of a prototype, detached from the borrow of `self`.
    #[inline(always)]
    pub(super) fn code_of(&self, proto: u32) -> &'static [Instr] {
        // SAFETY: the code of a prototype, used as `detach` requires.
        unsafe { detach(&self.protos[proto as usize].code) }
    }
}

// `TailCall` copies four slots from the callee's register on (see there).
const _: () = assert!(STACK_SLACK >= 3);

/// A prototype's code, detached from the borrow of the VM.
///
/// # Safety
/// `code` must be the code of a prototype in `Vm::protos`, and the slice used
/// only while `run` runs: no prototype in use is replaced or freed then (the code
/// collector, `collect_code`, refuses to run with frames); the only prototype
/// added meanwhile is a callback's trampoline (`callback.rs`), appended or put
/// in a freed slot, and moving the `Proto` structs does not move their code
/// buffers. `execute` keeps such slices only in its locals and in `self.frames`,
/// which `run` clears before it returns.
#[inline(always)]
unsafe fn detach(code: &[Instr]) -> &'static [Instr] {
    // SAFETY: see the contract above.
    unsafe { &*(code as *const [Instr]) }
}

/// Arithmetic off the Int, Int fast path: floats, overflow, type errors. Out of
/// line so that the dispatch loop stays small.
#[cold]
#[inline(never)]
fn arith_slow(op: ArithOp, x: Value, y: Value) -> Result<Value, Box<Fault>> {
    natives::arith2(op, x, y)
}

/// Comparison off the Int, Int fast path (see `arith_slow`).
#[cold]
#[inline(never)]
fn compare_slow(op: ArithOp, x: Value, y: Value) -> Result<bool, Box<Fault>> {
    natives::compare2(op, x, y)
}

/// The fault of reading a letrec-family variable before its initialiser ran.
#[cold]
#[inline(never)]
fn used_before_definition() -> Box<Fault> {
    Fault::new(
        ErrorKind::Unbound,
        "a variable was used before its definition ran",
    )
}

//! What hosts that convert values themselves (the Python package, the C ABI) need
//! beyond `eval` and `call`: replacing the output hook, building arguments in the
//! heap, and calling a procedure *value* with no new code per call (the VM's
//! `call`: a closure runs as the entry frame, other procedures through one
//! trampoline per argument count, so a call adds no prototype and keeps nothing
//! alive after it returns).

use super::Session;
use crate::vm::error::{ErrorKind, RuntimeError};
use crate::vm::heap::Heap;
use crate::vm::output::Output;
use crate::vm::symbols::Symbols;
use crate::vm::value::Value;

fn fault(kind: ErrorKind, message: String) -> RuntimeError {
    RuntimeError {
        kind,
        message,
        stack: Vec::new(),
    }
}

impl Session {
    /// Replaces where `print` and `println` write (flushing the old output first);
    /// returns the old output.
    pub fn set_output(&mut self, out: Output) -> Output {
        self.vm.out.flush();
        std::mem::replace(&mut self.vm.out, out)
    }

    /// The heap and the symbol table, to build arguments for
    /// [`Session::call_value`] and to read results. A value built here or
    /// returned by an evaluation is valid until the next evaluation starts (a
    /// collection may then reclaim it) unless the host roots it, e.g. in a global
    /// ([`Session::set_global`]).
    pub fn heap_and_symbols(&mut self) -> (&mut Heap, &mut Symbols) {
        (&mut self.vm.heap, &mut self.vm.symbols)
    }

    /// An owned host value built in the heap ([`Function`] handles of this
    /// session cross as the procedure they hold); valid as
    /// [`Session::heap_and_symbols`] says.
    ///
    /// [`Function`]: crate::ground::ffi::Function
    pub fn host_to_vm(&mut self, v: &crate::ground::ffi::Value) -> Result<Value, String> {
        crate::vm::convert::from_host_rooted(
            v,
            &mut self.vm.heap,
            &mut self.vm.symbols,
            &self.vm.roots,
        )
    }

    /// The procedure `name` names, found as [`Session::call`] finds it: a Jue
    /// global, a built-in, or an FFI function of the registry.
    pub fn procedure(&self, name: &str) -> Result<Value, RuntimeError> {
        self.vm
            .procedure_named(name, |g| self.globals.contains_key(g))
            .map_err(|f| fault(f.kind, f.message))
    }

    /// Calls a procedure value with arguments already in the heap, under the
    /// limits of the default tier; capability checks apply as for any call. The
    /// result is a VM value, valid as [`Session::heap_and_symbols`] says.
    pub fn call_value(&mut self, callee: Value, args: &[Value]) -> Result<Value, RuntimeError> {
        if !callee.is_procedure() {
            return Err(fault(
                ErrorKind::Type,
                format!("{} is not a procedure", self.vm.show(callee)),
            ));
        }
        let limits = self.effective_limits(self.default_tier);
        self.vm.set_experimental_caps(self.experimental_caps());
        let r = match callee {
            // The host's Ints widen where the host function declares a Float.
            Value::Ffi(i) if args.iter().any(|a| matches!(a, Value::Int(_))) => {
                let mut args = args.to_vec();
                self.vm.widen_host_args(i as usize, &mut args);
                self.vm.call(callee, &args, limits, self.default_tier)
            }
            _ => self.vm.call(callee, args, limits, self.default_tier),
        };
        self.last_steps = self.vm.steps_used();
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ground::span::SourceFile;

    #[test]
    fn call_value_runs_and_adds_no_code_per_call() {
        let mut s = Session::new();
        s.eval(SourceFile::new(
            "t",
            "(define (add a b) (+ a b)) (define (id x) x)",
        ))
        .unwrap();
        let f = s.procedure("add").unwrap();
        let r = s.call_value(f, &[Value::Int(2), Value::Int(3)]).unwrap();
        assert!(matches!(r, Value::Int(5)));
        let protos = s.vm().protos().len();
        for i in 0..100 {
            let r = s.call_value(f, &[Value::Int(i), Value::Int(1)]).unwrap();
            assert!(matches!(r, Value::Int(x) if x == i + 1));
        }
        assert_eq!(s.vm().protos().len(), protos);
        // The arguments do not stay reachable.
        let (heap, _) = s.heap_and_symbols();
        let big = heap.string("x".repeat(1 << 20));
        let id = s.procedure("id").unwrap();
        s.call_value(id, &[big]).unwrap();
        let before = s.vm().heap.live_bytes();
        s.collect_garbage();
        assert!(s.vm().heap.live_bytes() + (1 << 20) <= before);
    }

    #[test]
    fn errors_and_non_procedures() {
        let mut s = Session::new();
        let e = s.call_value(Value::Int(1), &[]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Type);
        assert_eq!(s.procedure("nope").unwrap_err().kind, ErrorKind::Unbound);
        let car = s.procedure("car").unwrap();
        let e = s.call_value(car, &[Value::Int(1)]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Type);
        let plus = s.procedure("+").unwrap();
        let many = vec![Value::Int(1); 20];
        assert!(matches!(s.call_value(plus, &many), Ok(Value::Int(20))));
    }

    #[test]
    fn set_output_redirects_print() {
        let mut s = Session::new();
        let buf = crate::vm::output::Captured::default();
        s.set_output(Output::new(Box::new(buf.clone())));
        s.eval(SourceFile::new("t", "(println \"hi\" 1)")).unwrap();
        assert_eq!(buf.text(), "hi 1\n");
    }
}

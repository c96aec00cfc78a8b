//! The VM's call paths: the inline fast path (fixed arity, room on the stack)
//! and the slow path through `enter` (rest lists, arity errors, stack growth,
//! the depth limit) must agree, for calls and tail calls alike; results of
//! natives and arithmetic slow paths land in the right register; steps are
//! counted once per instruction.

use jue_engine::{ErrorKind, EvalError, Session, Value};

fn ev(s: &mut Session, text: &str) -> Value {
    match s.eval_str("test.jue", text) {
        Ok(v) => v,
        Err(e) => panic!("evaluating {text:?} failed: {e:?}"),
    }
}

fn runtime_err(s: &mut Session, text: &str) -> jue_engine::RuntimeError {
    match s.eval_str("test.jue", text) {
        Err(EvalError::Runtime(e)) => e,
        other => panic!("expected a run-time error for {text:?}, got {other:?}"),
    }
}

fn names(e: &jue_engine::RuntimeError) -> Vec<&str> {
    e.stack.iter().map(|f| f.function.as_str()).collect()
}

#[test]
fn variadic_calls_and_tail_calls_build_rest_lists() {
    let mut s = Session::new();
    ev(&mut s, "(define (v a . rest) (list a rest))");
    // Exactly the required arguments: an empty rest list, through a call ...
    assert_eq!(
        ev(&mut s, "(list (v 1))"),
        ev(&mut s, "(list (list 1 nil))")
    );
    // ... and through a tail call.
    ev(&mut s, "(define (t x) (v x))");
    assert_eq!(ev(&mut s, "(t 1)"), ev(&mut s, "(list 1 nil)"));
    ev(&mut s, "(define (t3 x) (v x 2 3))");
    assert_eq!(ev(&mut s, "(t3 1)"), ev(&mut s, "(list 1 (list 2 3))"));
}

#[test]
fn arity_errors_on_both_call_paths_keep_the_call_stack() {
    let mut s = Session::new();
    ev(&mut s, "(define (two a b) (+ a b))");
    // Called through a parameter, so the compiler cannot check the count.
    ev(&mut s, "(define (caller f x) (+ 1 (f x)))");
    let e = runtime_err(&mut s, "(caller two 1)");
    assert_eq!(e.kind, ErrorKind::Arity);
    assert_eq!(e.message, "`two` takes 2 arguments, but 1 were given");
    assert_eq!(names(&e)[0], "caller");
    // A tail call with the wrong count is reported in the tail-calling frame.
    ev(&mut s, "(define (tail-caller f x) (f x x x))");
    let e = runtime_err(&mut s, "(+ 1 (tail-caller two 1))");
    assert_eq!(e.kind, ErrorKind::Arity);
    assert_eq!(names(&e)[0], "tail-caller");
    // The session still works afterwards.
    assert_eq!(ev(&mut s, "(two 1 2)"), Value::Int(3));
}

#[test]
fn deep_calls_grow_the_register_stack() {
    let mut s = Session::new();
    // Many registers per frame, so growth happens many times on the way down.
    ev(
        &mut s,
        "(define (wide n)
           (if (= n 0) 0
               (let ((a (+ n 1)) (b (+ n 2)) (c (+ n 3)) (d (+ n 4)) (e (+ n 5)))
                 (+ (- (+ a b c d e) (* 5 n) 15) (wide (- n 1))))))",
    );
    assert_eq!(ev(&mut s, "(wide 20000)"), Value::Int(0));
    // A tail call into a function with a larger frame than the caller's.
    ev(
        &mut s,
        "(define (small n) (if (= n 0) 'done (big n)))
         (define (big n)
           (let ((a n) (b n) (c n) (d n) (e n) (f n) (g n) (h n))
             (small (- (+ a b c d e f g h) (* 7 n) 1))))",
    );
    assert_eq!(ev(&mut s, "(eq? (small 1000) 'done)"), Value::Bool(true));
}

#[test]
fn depth_limit_is_exact_on_the_fast_path() {
    let mut s = Session::new();
    ev(&mut s, "(define (d n) (if (= n 0) 0 (+ 1 (d (- n 1)))))");
    s.limits.depth = 1000;
    // The form tail-calls `d`, so its frame becomes the first of the 1000 ...
    assert_eq!(ev(&mut s, "(d 999)"), Value::Int(999));
    // ... and one call more does not fit.
    assert_eq!(runtime_err(&mut s, "(d 1000)").kind, ErrorKind::DepthLimit);
    // Nor does it as a non-tail call from the form's own frame.
    assert_eq!(
        runtime_err(&mut s, "(+ 0 (d 999))").kind,
        ErrorKind::DepthLimit
    );
    assert_eq!(ev(&mut s, "(+ 0 (d 998))"), Value::Int(998));
}

#[test]
fn redefined_globals_are_called_afresh() {
    let mut s = Session::new();
    ev(&mut s, "(define (f x) (+ x 1))");
    ev(&mut s, "(define (g x) (f x))");
    assert_eq!(ev(&mut s, "(g 1)"), Value::Int(2));
    // Another arity and a rest list: the call site must not assume the old shape.
    ev(&mut s, "(define (f . xs) xs)");
    assert_eq!(ev(&mut s, "(g 1)"), ev(&mut s, "(list 1)"));
    ev(&mut s, "(define f car)");
    assert_eq!(runtime_err(&mut s, "(g 1)").kind, ErrorKind::Type);
    ev(&mut s, "(define f 5)");
    assert_eq!(runtime_err(&mut s, "(g 1)").kind, ErrorKind::Type);
}

#[test]
fn slow_path_results_land_in_their_registers() {
    let mut s = Session::new();
    // Float and mixed arithmetic, comparisons and natives through values.
    assert_eq!(
        ev(
            &mut s,
            "(let ((a 1.5) (b 2)) (list (+ a b) (- b a) (* a b) (< a b) (= b 2.0)))"
        ),
        ev(&mut s, "(list 3.5 0.5 3.0 true true)")
    );
    ev(&mut s, "(define (ap f x y) (f x y))");
    ev(&mut s, "(define (ap-tail f x y) (car (list (ap f x y))))");
    assert_eq!(ev(&mut s, "(ap-tail cons 1 2)"), ev(&mut s, "(cons 1 2)"));
    assert_eq!(ev(&mut s, "(ap-tail + 1 2)"), Value::Int(3));
    assert_eq!(
        runtime_err(&mut s, "(ap-tail + 9223372036854775807 1)").kind,
        ErrorKind::Overflow
    );
    assert_eq!(
        runtime_err(&mut s, "(ap-tail + 1 \"a\")").kind,
        ErrorKind::Type
    );
}

#[test]
fn builtins_called_through_values_are_counted_once() {
    // A loop that calls `+` through a value costs about as many steps per round
    // as the same loop calling it directly: no instruction is counted twice.
    let mut s = Session::new();
    ev(
        &mut s,
        "(define (direct n acc) (if (= n 0) acc (direct (- n 1) (+ acc 1))))
         (define (through f n acc) (if (= n 0) acc (through f (- n 1) (f acc 1))))",
    );
    ev(&mut s, "(direct 10000 0)");
    let direct = s.steps_used();
    ev(&mut s, "(through + 10000 0)");
    let through = s.steps_used();
    // `direct` runs 6 instructions per round, `through` 10 (three more moves and
    // a load before its call of `f`). Counting the segment before the call of `f`
    // again at the tail call would make that 19.
    assert!((10000 * 6..10000 * 6 + 100).contains(&direct), "{direct}");
    assert!(
        (10000 * 10..10000 * 10 + 100).contains(&through),
        "{through}"
    );
}

/// Language §4: code compiled before a global shadows a built-in keeps the
/// built-in (compiled inline for `car`, `null?`, `not`, `cons`); code compiled
/// after calls the user's function.
#[test]
fn inline_built_ins_follow_the_shadowing_rule() {
    let mut s = Session::new();
    ev(
        &mut s,
        "(define (before l) (list (car l) (null? l) (not l) (cons 1 2)))",
    );
    ev(&mut s, "(define (car _x) 'mine)");
    ev(&mut s, "(define (null? _x) 'mine)");
    ev(&mut s, "(define (not _x) 'mine)");
    ev(&mut s, "(define (cons _x _y) 'mine)");
    assert_eq!(
        ev(&mut s, "(before '(7))"),
        ev(&mut s, "(list 7 false false '(1 . 2))")
    );
    assert_eq!(
        ev(
            &mut s,
            "(list (car '(7)) (null? nil) (not false) (cons 1 2) (if (null? 1) 1 2))"
        ),
        ev(&mut s, "(list 'mine 'mine 'mine 'mine 1)")
    );
}

#[test]
fn letrec_functions_read_themselves() {
    let mut s = Session::new();
    // A named let calling itself (the function reads itself, no capture).
    ev(
        &mut s,
        "(define (count-to n) (let loop ((i 0) (acc '())) (if (= i n) (reverse acc) (loop (+ i 1) (cons i acc)))))",
    );
    assert_eq!(ev(&mut s, "(count-to 3)"), ev(&mut s, "(list 0 1 2)"));
    // The value it reads is the closure its variable holds.
    ev(
        &mut s,
        "(define (mk) (letrec ((f (lambda (n) (if (= n 0) f (f (- n 1)))))) f))",
    );
    assert_eq!(
        ev(&mut s, "(let ((g (mk))) (eq? g (g 5)))"),
        Value::Bool(true)
    );
    // A lambda inside the loop that captures the loop's variable.
    ev(
        &mut s,
        "(define (nested n) (let loop ((i n)) (if (= i 0) (lambda () loop) ((lambda () (loop (- i 1)))))))",
    );
    assert_eq!(ev(&mut s, "(procedure? ((nested 3)))"), Value::Bool(true));
    // Mutual recursion through letrec.
    ev(
        &mut s,
        "(define (ev? n) (letrec ((e (lambda (n) (if (= n 0) true (o (- n 1))))) (o (lambda (n) (if (= n 0) false (e (- n 1)))))) (e n)))",
    );
    assert_eq!(
        ev(&mut s, "(list (ev? 10) (ev? 7))"),
        ev(&mut s, "(list true false)")
    );
    // A variable that `set!` assigns is read afresh, not as the running function.
    ev(
        &mut s,
        "(define (h) (letrec ((f (lambda (n) (if (= n 0) 'old (f (- n 1)))))) (let ((old f)) (set! f (lambda (n) 'new)) (old 3))))",
    );
    assert_eq!(ev(&mut s, "(h)"), ev(&mut s, "'new"));
    // A tail call of itself becomes a loop: arguments are still evaluated left
    // to right before any parameter changes, also when one assigns another.
    ev(
        &mut s,
        "(define (swap n) (let loop ((a 1) (b 2) (k n)) (if (= k 0) (list a b) (loop b a (- k 1)))))",
    );
    assert_eq!(ev(&mut s, "(swap 3)"), ev(&mut s, "(list 2 1)"));
    ev(
        &mut s,
        "(define (assign) (let loop ((i 0) (j 0)) (if (> j 0) (list i j) (loop i (begin (set! i 7) 1)))))",
    );
    assert_eq!(ev(&mut s, "(assign)"), ev(&mut s, "(list 0 1)"));
    // Such a loop still counts its steps and stops at the limit.
    let mut limited = Session::new();
    limited.limits = jue_engine::Limits {
        steps: 100_000,
        ..jue_engine::Limits::DEFAULT
    };
    let e = runtime_err(&mut limited, "(let loop ((i 0)) (loop (+ i 1)))");
    assert_eq!(e.kind, ErrorKind::StepLimit);
}

#[test]
fn short_and_long_strings_agree() {
    let mut s = Session::new();
    // 22 bytes are held in the heap slot, 23 in an allocation: both behave alike.
    let cases = [
        "(string=? (string-append \"0123456789\" \"0123456789\" \"ab\") \"01234567890123456789ab\")",
        "(= (string-length (string-append \"0123456789\" \"0123456789\" \"ab\")) 22)",
        "(= (string-length (string-append \"0123456789\" \"0123456789\" \"abc\")) 23)",
        "(string=? (string-append \"0123456789\" \"0123456789\" \"abc\") \"01234567890123456789abc\")",
        "(string=? (number->string -1234567890) \"-1234567890\")",
        "(string=? (string-append \"é\" \"ü\" (number->string 42)) \"éü42\")",
        "(string=? (substring (string-append \"0123456789\" \"0123456789\" \"abcd\") 20 24) \"abcd\")",
        "(= (dict-ref (dict-set (dict) (string-append \"k\" \"ey\") 7) \"key\") 7)",
        "(eq? (string->symbol (string-append \"sym\" \"bol\")) 'symbol)",
        "(string=? (string-append) \"\")",
    ];
    for c in cases {
        assert_eq!(ev(&mut s, c), Value::Bool(true), "{c}");
    }
    let e = runtime_err(&mut s, "(define (id x) x) (string-append \"a\" (id 1))");
    assert_eq!(e.kind, ErrorKind::Type);
}

#[test]
fn map_and_filter_leave_their_input_alone() {
    let mut s = Session::new();
    ev(&mut s, "(define xs (list 1 2 3 4))");
    assert_eq!(
        ev(&mut s, "(map (lambda (x) (* x 10)) xs)"),
        ev(&mut s, "(list 10 20 30 40)")
    );
    assert_eq!(
        ev(&mut s, "(filter (lambda (x) (> x 2)) xs)"),
        ev(&mut s, "(list 3 4)")
    );
    assert_eq!(
        ev(&mut s, "(filter-map (lambda (x) (and (> x 1) (* x x))) xs)"),
        ev(&mut s, "(list 4 9 16)")
    );
    // The identity map is a fresh list equal to its input, which is unchanged.
    assert_eq!(
        ev(
            &mut s,
            "(let ((ys (map (lambda (x) x) xs))) (list (equal? ys xs) (eq? ys xs)))"
        ),
        ev(&mut s, "(list true false)")
    );
    assert_eq!(ev(&mut s, "xs"), ev(&mut s, "(list 1 2 3 4)"));
    assert_eq!(ev(&mut s, "(map (lambda (x) x) nil)"), Value::Nil);
    // The hidden helper cannot be named by user code.
    assert!(s.eval_str("test.jue", "(__reverse-fresh! xs)").is_err());
}

#[test]
fn a_function_tail_calling_its_own_global_loops_until_the_global_changes() {
    let mut s = Session::new();
    // A top-level loop (the global of its own name, at its own arity) runs in
    // one frame: far past the depth limit.
    ev(
        &mut s,
        "(define (count i acc) (if (= i 0) acc (count (- i 1) (+ acc 1))))",
    );
    s.limits.depth = 50;
    assert_eq!(ev(&mut s, "(count 100000 0)"), Value::Int(100000));
    // Arguments are all evaluated before any parameter changes.
    ev(
        &mut s,
        "(define (swap a b k) (if (= k 0) (list a b) (swap b a (- k 1))))",
    );
    assert_eq!(ev(&mut s, "(swap 1 2 3)"), ev(&mut s, "(list 2 1)"));
    // A parameter in a cell (captured and assigned) gets a fresh cell each time.
    ev(
        &mut s,
        "(define (cells n acc) (if (= n 0) (map (lambda (f) (f)) acc) (cells (- n 1) (cons (lambda () (set! n (* n 10)) n) acc))))",
    );
    assert_eq!(ev(&mut s, "(cells 3 '())"), ev(&mut s, "(list 10 20 30)"));
    // The global changed while the loop runs: the next call is the new value's.
    ev(
        &mut s,
        "(define (f n) (if (= n 0) 'old (begin (if (= n 3) (set! f (lambda (n) (list 'new n)))) (f (- n 1)))))",
    );
    assert_eq!(ev(&mut s, "(f 5)"), ev(&mut s, "(list 'new 2)"));
    // A new value of another arity is called as such, with its arity error.
    ev(
        &mut s,
        "(define (h n) (if (= n 3) (set! h (lambda (a b) (list a b)))) (if (= n 0) 'done (h (- n 1))))",
    );
    assert_eq!(runtime_err(&mut s, "(h 5)").kind, ErrorKind::Arity);
    assert_eq!(ev(&mut s, "(h 1 2)"), ev(&mut s, "(list 1 2)"));
    // The loop still counts its steps and stops at the limit.
    let mut limited = Session::new();
    limited.limits = jue_engine::Limits {
        steps: 100_000,
        ..jue_engine::Limits::DEFAULT
    };
    ev(&mut limited, "(define (spin i) (spin (+ i 1)))");
    assert_eq!(
        runtime_err(&mut limited, "(spin 0)").kind,
        ErrorKind::StepLimit
    );
}

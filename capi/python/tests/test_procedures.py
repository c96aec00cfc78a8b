"""Jue procedures reach Python as callable handles: call, keep, pass back in."""

import gc

import pytest

from jue import JueError, Procedure, Session


@pytest.fixture
def s():
    with Session() as session:
        yield session


def test_closure_comes_back_callable(s):
    add3 = s.eval("(let ((n 3)) (lambda (x) (+ x n)))")
    assert isinstance(add3, Procedure)
    assert add3(4) == 7
    assert "lambda" in repr(add3)


def test_builtin_and_named_function(s):
    s.eval("(define (sq x) (* x x))")
    sq = s.eval("sq")
    assert sq(9) == 81
    car = s.eval("car")
    assert car([1, 2]) == 1


def test_handle_survives_collections_and_garbage(s):
    f = s.eval("(let ((data (list 1 2 3))) (lambda () data))")
    s.eval("(define (churn n acc) (if (= n 0) (length acc) (churn (- n 1) (cons (list n n n) acc))))")
    for _ in range(50):
        assert s.call("churn", 2000, []) == 2000
    s.collect_garbage()
    assert f() == [1, 2, 3]


def test_procedure_passed_back_in(s):
    s.eval("(define (twice f x) (f (f x)))")
    inc = s.eval("(lambda (x) (+ x 1))")
    assert s.call("twice", inc, 5) == 7
    assert s.call("map", inc, [1, 2]) == [2, 3]


def test_procedures_in_lists(s):
    fs = s.eval("(list car cdr)")
    assert fs[0]([1, 2]) == 1 and fs[1]([1, 2]) == [2]


def test_errors_inside_a_handle_call(s):
    f = s.eval("(lambda (x) (/ x 0))")
    with pytest.raises(JueError) as e:
        f(1)
    assert e.value.kind == "division-by-zero"


def test_another_sessions_procedure_is_refused(s):
    other = Session()
    g = other.eval("(lambda (x) x)")
    s.eval("(define (call1 f) (f 1))")
    with pytest.raises(ValueError, match="another session"):
        s.call("call1", g)


def test_many_handles_are_released(s):
    # Dropped handles free their slot: 20,000 short-lived closures over 1 KB
    # strings fit in a 4 MB heap.
    s.eval("(define (mk n) (lambda () n))")
    s.set_limits(memory=4 << 20)
    for i in range(20_000):
        f = s.call("mk", "y" * 1000)
        assert f() == "y" * 1000
        del f
    gc.collect()


def test_handle_outlives_closed_session_safely():
    s = Session()
    f = s.eval("(lambda () 1)")
    s.close()
    with pytest.raises(JueError) as e:
        f()
    assert e.value.kind == "closed"


def test_memory_stays_flat_over_many_calls():
    # bench/python_memory.py: calls with string and list arguments and handles
    # made and dropped; it fails if resident memory grows by 20 MB or more.
    import subprocess
    import sys
    from pathlib import Path

    bench = Path(__file__).resolve().parents[3] / "bench" / "python_memory.py"
    out = subprocess.run([sys.executable, str(bench), "200000"], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "200000 calls" in out.stdout


def test_call_inside_a_callback_runs_within_the_evaluation(s):
    from jue import LimitError, Symbol

    s.eval("(define (triple x) (* x 3)) (define (work n) (if (= n 0) 'done (work (- n 1))))")
    s.register("py:via", lambda name, x: s.call(name, x), ["String", "Any"], "Any")
    # A Jue global, a built-in and an FFI function (its Int widens), by name.
    assert s.eval('(+ 1 (py:via "triple" 7))') == 22
    assert s.eval('(py:via "length" (list 1 2 3))') == 3
    assert s.eval('(py:via "int-to-float" 2)') == 2.0
    # An error of the nested call reaches the callback as a JueError of its
    # kind; uncaught there, it comes back out of eval unchanged.
    with pytest.raises(JueError) as e:
        s.eval('(py:via "nope" 1)')
    assert e.value.kind == "unbound" and "nope" in e.value.message
    with pytest.raises(JueError) as e:
        s.eval('(py:via "car" 5)')
    assert e.value.kind == "type"
    # Its steps count toward the running evaluation's limit, which `try`
    # cannot catch.
    assert s.eval('(py:via "work" 100)', steps=50_000) == Symbol("done")
    with pytest.raises(LimitError) as e:
        s.eval("(try (py:via \"work\" 1000000) (catch e 'swallowed))", steps=50_000)
    assert e.value.kind == "step-limit"
    # Limits of its own are refused: it runs under the running evaluation's.
    s.register("py:limited", lambda: s.call("triple", 1, steps=10), [], "Any")
    with pytest.raises(ValueError, match="limits"):
        s.eval("(py:limited)")
    # eval from inside a callback is still refused; call from outside as before.
    assert s.call("triple", 2) == 6


def test_call_from_another_thread_while_running_is_refused(s):
    import threading

    s.eval("(define (triple x) (* x 3))")
    seen = []

    def other_thread():
        def run():
            try:
                seen.append(s.call("triple", 1))
            except JueError as e:
                seen.append(e.kind)

        t = threading.Thread(target=run)
        t.start()
        t.join()
        return 0

    s.register("py:other", other_thread, [], "Int")
    assert s.eval("(py:other)") == 0
    assert seen == ["thread"]  # a Python session belongs to its thread

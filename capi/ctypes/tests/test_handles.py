"""Procedure handles through the C ABI (jue_handle_call, jue_handle_free) and
dict order across the JSON envelope."""

import ctypes
import gc
import json

import pytest

import jue_ctypes as jue
from jue_ctypes import Handle, JueError, Session


@pytest.fixture
def s():
    with Session() as session:
        yield session


def count(s):
    return s._lib.jue_handle_count(s._ptr)


def test_closure_comes_back_as_a_callable_handle(s):
    add = s.eval("(let ((k 10)) (lambda (x) (+ x k)))")
    assert isinstance(add, Handle) and add.number > 0
    assert add(5) == 15
    # Passed back in, by name or inside data.
    assert s.call("map", add, [1, 2]) == [11, 12]
    s.eval("(define (twice f x) (f (f x)))")
    assert s.call("twice", add, 0) == 20
    assert count(s) == 1


def test_handles_survive_collections(s):
    f = s.eval("(let ((data (list 1 2 3))) (lambda () data))")
    s.eval("(define (churn n acc) (if (= n 0) (length acc) (churn (- n 1) (cons (list n n n) acc))))")
    for _ in range(20):
        assert s.call("churn", 5000, []) == 5000
    assert f() == [1, 2, 3]


def test_freed_handle_is_a_type_error(s):
    f = s.eval("(lambda () 1)")
    n = f.number
    f.free()
    lib = s._lib
    assert lib.jue_handle_free(s._ptr, n) == -1
    with pytest.raises(JueError) as e:
        jue._take(lib, lib.jue_handle_call(s._ptr, n, b"[]"))
    assert e.value.kind == "type"
    with pytest.raises(JueError) as e:
        jue._take(lib, lib.jue_call(s._ptr, b"list", b'[{"handle": 999}]'))
    assert e.value.kind == "type"
    assert count(s) == 0


def test_dropped_handles_are_freed(s):
    s.eval("(define (mk n) (lambda () n))")
    for i in range(2000):
        f = s.call("mk", i)
        assert f() == i
        del f
    gc.collect()
    assert count(s) == 0


def test_callback_receives_a_callable_handle(s):
    kept = []

    def apply(f, x):
        assert isinstance(f, Handle)
        kept.append(f)
        return f(x)  # runs inside the evaluation that called us

    s.register("py:apply", apply, ["Fn", "Any"], "Any")
    assert s.eval("(let ((k 3)) (py:apply (lambda (x) (* x k)) 14))") == 42
    assert s.eval("(py:apply car (list 7 8))") == 7
    # Kept past the callback.
    assert kept[0](2) == 6


def test_procedure_called_from_a_callback_is_under_the_evaluations_limits(s):
    s.register("py:call", lambda f: f(), ["Fn"], "Any")
    s.eval("(define (spin n) (if (= n 0) 0 (spin (- n 1))))")
    lib = s._lib
    lib.jue_session_set_limits.restype = ctypes.c_void_p
    lib.jue_session_set_limits.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    assert jue._take(lib, lib.jue_session_set_limits(s._ptr, b'{"steps": 100000}'))["steps"] == 100000
    with pytest.raises(JueError) as e:
        s.eval("(py:call (lambda () (spin 100000000)))")
    assert e.value.kind == "step-limit"


def test_dicts_keep_their_order_across_the_envelope(s):
    lib = s._lib
    raw = lambda p: json.loads(ctypes.string_at(p).decode())  # noqa: E731
    env = raw(lib.jue_eval(s._ptr, b'{"z" 1 "a" 2 "m" 3}'))
    # Not the sorted order: the dict's own.
    assert list(env["result"]) == ["z", "a", "m"]
    env = raw(lib.jue_call(s._ptr, b"dict-keys", b'[{"b": 1, "a": 2, "c": 3}]'))
    assert env["result"] == ["b", "a", "c"]
    d = {"y": 1, "x": [1, {"q": 2, "p": 3}]}
    s.eval("(define (id x) x)")
    back = s.call("id", d)
    assert back == d and list(back) == ["y", "x"] and list(back["x"][1]) == ["q", "p"]
    # A dict whose only key is a tag name comes back as a dict.
    assert s.call("id", {"handle": "x"}) == {"handle": "x"}


def test_jue_call_inside_a_callback_runs_within_the_evaluation(s):
    s.eval("(define (triple x) (* x 3)) (define (work n) (if (= n 0) 'done (work (- n 1))))")
    s.register("py:via", lambda name, x: s.call(name, x), ["String", "Any"], "Any")
    # A Jue global, a built-in and an FFI function, called by name from inside.
    assert s.eval('(+ 1 (py:via "triple" 7))') == 22
    assert s.eval('(py:via "length" (list 1 2 3))') == 3
    assert s.eval('(py:via "int-to-float" 2)') == 2.0
    with pytest.raises(JueError) as e:
        s.eval('(py:via "nope" 1)')
    assert e.value.kind == "host" and "nope" in e.value.message
    # The nested call's steps count toward the running evaluation's limit.
    lib = s._lib
    lib.jue_session_set_limits.restype = ctypes.c_void_p
    lib.jue_session_set_limits.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    jue._take(lib, lib.jue_session_set_limits(s._ptr, b'{"steps": 50000}'))
    assert s.eval('(py:via "work" 100)') == jue.Symbol("done")
    with pytest.raises(JueError) as e:
        s.eval("(try (py:via \"work\" 1000000) (catch e 'swallowed))")
    assert e.value.kind == "step-limit"
    jue._take(lib, lib.jue_session_set_limits(s._ptr, b'{"steps": 100000000}'))
    assert s.call("triple", 2) == 6


def test_jue_call_from_another_thread_while_running_is_busy(s):
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
    assert seen == ["busy"]

"""Python functions registered with blocking=True (language §6, §9): called
while other actors live, they run on worker threads, which take the GIL
themselves; their exceptions come back as those of other callbacks do."""

import threading
import time

import pytest

from jue import JueError, Procedure, Session, Symbol


@pytest.fixture
def s():
    with Session() as session:
        session.grant("SysCreateActor")
        yield session


def test_blocking_callbacks_run_off_the_vm_thread_and_overlap(s):
    threads = []

    def slow(i):
        threads.append(threading.get_ident())
        time.sleep(0.3)  # releases the GIL: the other calls overlap
        return i * 10

    s.register("py:slow", slow, ["Int"], "Int", blocking=True)
    t = time.monotonic()
    got = s.eval(
        "(define (work i to) (send to (py:slow i)))"
        "(define (start n) (when (> n 0) (spawn work n (self)) (start (- n 1))))"
        "(define (gather n acc) (if (= n 0) acc (gather (- n 1) (+ acc (receive)))))"
        "(start 6)"
        "(gather 6 0)"
    )
    took = time.monotonic() - t
    assert got == 210
    # One after another would take 1.8 s.
    assert took < 1.2, took
    assert len(threads) == 6
    assert threading.get_ident() not in threads


def test_a_blocking_callbacks_exception_comes_back_as_itself(s):
    class Boom(ValueError):
        pass

    def fail(x):
        raise Boom(f"boom {x}")

    s.register("py:fail", fail, ["Int"], "Int", blocking=True)
    # Another actor lives (asleep), so actor 0's call runs on a worker thread.
    with pytest.raises(Boom) as e:
        s.eval("(spawn sleep 200) (py:fail 7)")
    assert str(e.value) == "boom 7"
    # Inside an actor, the failure is the actor's: `await` reports it.
    with pytest.raises(JueError) as e:
        s.eval("(define a (spawn py:fail 8)) (spawn sleep 200) (await a)")
    assert e.value.kind == "actor-failed"
    assert "raised Boom: boom 8" in e.value.message
    # Caught in Jue like any host error.
    assert s.eval("(spawn sleep 100) (try (py:fail 9) (catch e (error-kind e)))") == Symbol("host")


def test_a_blocking_callback_cannot_call_jue_back_off_thread(s):
    def apply_it(f):
        assert isinstance(f, Procedure)
        return f(1)

    s.register("py:apply", apply_it, ["Fn"], "Any", blocking=True)
    # On the VM thread (no other actor) it may call back.
    assert s.eval("(py:apply (lambda (x) (+ x 1)))") == 2
    with pytest.raises(JueError) as e:
        s.eval("(spawn sleep 200) (py:apply (lambda (x) (+ x 1)))")
    assert "cannot call Jue procedures back" in e.value.message


def test_a_keyboard_interrupt_in_a_blocking_callback_stops_the_evaluation(s):
    def stop():
        raise KeyboardInterrupt("stop")

    s.register("py:stop", stop, [], "Nil", blocking=True)
    with pytest.raises(KeyboardInterrupt):
        s.eval("(spawn sleep 5000) (py:stop)")
    assert s.eval("(+ 1 2)") == 3


def test_an_int_from_a_blocking_callback_widens_to_a_declared_float(s):
    s.register("py:two", lambda: 2, [], "Float", blocking=True)
    got = s.eval("(spawn sleep 100) (py:two)")
    assert got == 2.0 and isinstance(got, float)

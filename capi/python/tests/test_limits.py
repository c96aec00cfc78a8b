"""Limits per session and per evaluation: steps, memory, wall time, depth."""

import time

import pytest

from jue import LimitError, Session

LOOP = "(define (loop n) (loop (+ n 1)))"


def test_step_limit_per_session():
    with Session(steps=10_000) as s:
        s.eval(LOOP)
        with pytest.raises(LimitError) as e:
            s.call("loop", 0)
        assert e.value.kind == "step-limit"
        assert s.eval("(+ 1 1)") == 2


def test_step_limit_per_evaluation_then_restored():
    with Session() as s:
        s.eval("(define (count n) (if (= n 0) 0 (count (- n 1))))")
        with pytest.raises(LimitError):
            s.eval("(count 100000)", steps=1000)
        assert s.eval("(count 100000)") == 0
        assert s.limits["steps"] == 1_000_000_000


def test_timeout():
    with Session(timeout_ms=100) as s:
        s.eval(LOOP)
        t = time.monotonic()
        with pytest.raises(LimitError) as e:
            s.call("loop", 0)
        assert e.value.kind == "timeout"
        assert time.monotonic() - t < 2.0


def test_depth_limit():
    with Session(depth=100) as s:
        s.eval("(define (deep n) (if (= n 0) 0 (+ 1 (deep (- n 1)))))")
        assert s.call("deep", 50) == 50
        with pytest.raises(LimitError) as e:
            s.call("deep", 1000)
        assert e.value.kind == "depth-limit"


def test_memory_limit():
    with Session(memory=1 << 20) as s:
        s.eval("(define (grow n acc) (if (= n 0) acc (grow (- n 1) (cons n acc))))")
        with pytest.raises(LimitError) as e:
            s.call("grow", 10_000_000, [])
        assert e.value.kind == "memory-limit"


def test_set_limits():
    with Session() as s:
        s.set_limits(steps=500, timeout_ms=1000)
        assert s.limits["steps"] == 500 and s.limits["timeout_ms"] == 1000
        s.eval(LOOP)
        with pytest.raises(LimitError):
            s.call("loop", 0)
        assert s.steps_used >= 500


def test_limits_per_call():
    with Session() as s:
        s.eval(LOOP)
        with pytest.raises(LimitError) as e:
            s.call("loop", 0, steps=2000)
        assert e.value.kind == "step-limit"
        with pytest.raises(LimitError) as e:
            s.call("loop", 0, timeout_ms=50)
        assert e.value.kind == "timeout"
        assert s.limits["steps"] == 1_000_000_000 and s.limits["timeout_ms"] is None
        assert s.call("+", 1, 2, steps=10) == 3

"""Jue from Python: the README's embedding example (type-checked by
`mypy --strict` in the tests).

Run: ``python capi/python/example.py`` after ``pip install ./capi/python``.
"""

from __future__ import annotations

import contextlib
import io
import math

import jue


def main() -> None:
    with jue.Session(steps=10_000_000, timeout_ms=5_000) as s:
        # Definitions persist; values convert natively.
        s.eval("(define (sq x) (* x x))")
        assert s.call("sq", 12) == 144

        # A Python function as an FFI function; Jue calls it like any other.
        def hypot(a: float, b: float) -> float:
            return math.hypot(a, b)

        s.register("app:hypot", hypot, ["Float", "Float"], "Float", doc="Hypotenuse.")
        assert s.eval("(app:hypot 3.0 4.0)") == 5.0

        # A Jue procedure comes back as a callable handle.
        add = s.eval("(lambda (a b) (+ a b))")
        assert isinstance(add, jue.Procedure)
        assert add(2, 3) == 5
        assert s.call("map", s.eval("(lambda (x) (* 10 x))"), [1, 2]) == [10, 20]

        # print goes to sys.stdout, so redirect_stdout captures it.
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            s.eval('(println "hello from jue")')
        assert buf.getvalue() == "hello from jue\n"

        # Errors: a hierarchy with kind, message and position.
        try:
            s.eval("(define (first x) (car x)) (first 1)", name="bad.jue")
        except jue.JueError as e:
            print(f"{e.kind} at {e.source}:{e.line}:{e.column}: {e.message}")

        # Limits per evaluation.
        s.eval("(define (loop n) (loop (+ n 1)))")
        try:
            s.eval("(loop 0)", steps=1_000)
        except jue.LimitError as e:
            print("stopped:", e.kind)
    print("example ok")


if __name__ == "__main__":
    main()

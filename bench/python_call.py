"""The Python round trip: `session.call` of a Jue identity function, against
lupa (Lua from Python) calling a Lua identity function and a bare Python
function. Prints nanoseconds per call, best of 5 runs of 200,000 calls, in the
thread's CPU time (time.thread_time_ns), so that other load on the machine, which
deschedules the process, does not count.

Run: python bench/python_call.py   (with `jue` installed: pip install ./capi/python;
lupa is optional: pip install lupa)
"""

from __future__ import annotations

import sys
import time
from typing import Any, Callable

N = 200_000
RUNS = 5


def per_call_ns(f: Callable[[Any], Any], arg: Any) -> float:
    best = float("inf")
    for _ in range(RUNS):
        t = time.thread_time_ns()
        for _ in range(N):
            f(arg)
        best = min(best, (time.thread_time_ns() - t) / N)
    return best


def main() -> None:
    import jue

    rows: list[tuple[str, float]] = []
    rows.append(("python lambda", per_call_ns(lambda x: x, 7)))

    s = jue.Session()
    s.eval("(define (id x) x)")
    assert s.call("id", 7) == 7
    rows.append(("jue session.call('id', 7)", per_call_ns(lambda x: s.call("id", x), 7)))
    ident = s.eval("id")
    rows.append(("jue Procedure id(7)", per_call_ns(ident, 7)))
    rows.append(("jue session.call('id', 'a string')",
                 per_call_ns(lambda x: s.call("id", x), "hello")))
    rows.append(("jue session.call('id', [1, 2, 3])",
                 per_call_ns(lambda x: s.call("id", x), [1, 2, 3])))

    try:
        import lupa  # type: ignore[import-not-found]

        lua = lupa.LuaRuntime()
        lid = lua.eval("function(x) return x end")
        assert lid(7) == 7
        rows.append((f"lupa {lupa.__version__} identity(7)", per_call_ns(lid, 7)))
        rows.append(("lupa identity('a string')", per_call_ns(lid, "hello")))
    except ImportError:
        print("(lupa not installed: pip install lupa)", file=sys.stderr)

    for name, ns in rows:
        print(f"{name:40s} {ns:8.0f} ns/call")


if __name__ == "__main__":
    main()

"""Resident memory of a long-running Python host: 1,000,000 `session.call`s
with string and list arguments, plus 100,000 handles made and dropped. Prints
the RSS after warm-up and at the end; exits 1 if it grew by 20 MB or more.

Run: python bench/python_memory.py [CALLS]   (with `jue` installed)
"""

from __future__ import annotations

import resource
import sys


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / (1 << 20)


def main() -> None:
    import jue

    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    s = jue.Session()
    s.eval("(define (size s xs) (+ (string-length s) (length xs))) (define (mk n) (lambda () n))")
    text = "x" * 1000
    items = list(range(20))

    def burst(n: int) -> None:
        for i in range(n):
            assert s.call("size", text, items) == 1020
            if i % 10 == 0:
                f = s.call("mk", text)
                assert f() == text

    burst(calls // 10)  # warm-up
    start = rss_mb()
    burst(calls)
    end = rss_mb()
    print(f"{calls} calls: RSS {start:.1f} MB after warm-up, {end:.1f} MB at the end "
          f"(+{end - start:.1f} MB)")
    sys.exit(0 if end - start < 20 else 1)


if __name__ == "__main__":
    main()

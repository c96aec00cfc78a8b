"""Stopping evaluations: session.interrupt() from another thread, Ctrl-C
(SIGINT) in a child process, and the GIL released while Jue runs."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from jue import Interrupted, JueError, Session

LOOP = "(define (loop n) (loop (+ n 1)))"


def test_interrupt_from_another_thread():
    with Session() as s:
        s.eval(LOOP)
        timer = threading.Timer(0.2, s.interrupt)
        timer.start()
        t = time.monotonic()
        with pytest.raises(Interrupted) as e:
            s.call("loop", 0)
        assert e.value.kind == "interrupted"
        assert time.monotonic() - t < 2.0
        assert s.eval("(+ 2 2)") == 4


def test_interrupt_while_idle_is_dropped():
    with Session() as s:
        s.interrupt()
        assert s.eval("(+ 1 1)") == 2
        s.eval("(define (count n) (if (= n 0) 0 (count (- n 1))))")
        s.interrupt()
        assert s.call("count", 100_000) == 0


def test_gil_is_released_while_jue_runs():
    ticks = 0
    stop = threading.Event()

    def ticker():
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0.001)

    th = threading.Thread(target=ticker)
    th.start()
    try:
        with Session(timeout_ms=300) as s:
            s.eval(LOOP)
            with pytest.raises(JueError):
                s.call("loop", 0)
    finally:
        stop.set()
        th.join()
    assert ticks > 5


CHILD = textwrap.dedent(
    """
    import sys, time
    import jue
    s = jue.Session()
    s.eval("(define (loop n) (loop (+ n 1)))")
    print("ready", flush=True)
    t = None
    try:
        s.call("loop", 0)
    except KeyboardInterrupt:
        print("KeyboardInterrupt", flush=True)
    print("after", s.eval("(+ 20 22)"), flush=True)
    # A second Ctrl-C, during eval this time.
    print("ready", flush=True)
    try:
        s.eval("(loop 0)")
    except KeyboardInterrupt:
        print("KeyboardInterrupt", flush=True)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT by os.kill")
def test_sigint_stops_a_running_evaluation():
    p = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        out = []
        assert p.stdout is not None
        for _ in range(2):
            line = p.stdout.readline()
            assert line.strip() == "ready", (line, p.stderr.read() if p.stderr else "")
            time.sleep(0.3)
            sent = time.monotonic()
            os.kill(p.pid, signal.SIGINT)
            line = p.stdout.readline()
            assert line.strip() == "KeyboardInterrupt", (line, p.stderr.read() if p.stderr else "")
            assert time.monotonic() - sent < 1.0
            out.append(line)
            if len(out) == 1:
                assert p.stdout.readline().strip() == "after 42"
        assert p.wait(timeout=10) == 0
    finally:
        if p.poll() is None:
            p.kill()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT by os.kill")
def test_python_sigint_handler_set_later_still_works():
    code = textwrap.dedent(
        """
        import signal
        import jue
        s = jue.Session()
        s.eval("(define (loop n) (loop (+ n 1)))")
        s.eval("1")  # installs jue's handler in front of Python's
        hits = []
        def handler(signum, frame):
            hits.append(signum)
            raise RuntimeError("custom handler")
        signal.signal(signal.SIGINT, handler)  # replaces it
        print("ready", flush=True)
        try:
            s.call("loop", 0)
        except RuntimeError as e:
            print("custom", hits, flush=True)
        """
    )
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout is not None
        assert p.stdout.readline().strip() == "ready"
        time.sleep(0.3)
        os.kill(p.pid, signal.SIGINT)
        assert p.stdout.readline().strip() == "custom [2]"
        assert p.wait(timeout=10) == 0
    finally:
        if p.poll() is None:
            p.kill()


def test_session_is_used_from_its_own_thread_only():
    with Session() as s:
        f = s.eval("(lambda () 1)")
        errors = []

        def other():
            for op in (lambda: s.eval("1"), f, lambda: s.call("+", 1, 2)):
                try:
                    op()
                except JueError as e:
                    errors.append(e.kind)
            s.interrupt()  # allowed from any thread
            del_f = f  # dropping a handle from another thread is fine too
            del del_f

        th = threading.Thread(target=other)
        th.start()
        th.join()
        assert errors == ["thread", "thread", "thread"]
        assert s.eval("(+ 1 2)") == 3 and f() == 1


BUSY_CHILD = textwrap.dedent(
    """
    import io
    import jue
    s = jue.Session(output=io.StringIO())
    s.eval("(define (loop n) (println n) (loop (+ n 1)))")
    s.register("py:cb", lambda x: x, ["Any"], "Any")
    s.eval("(define (loop2 n) (loop2 (py:cb (+ n 1))))")
    for name in ["loop", "loop2"]:  # printing all the time; calling Python all the time
        print("ready", flush=True)
        try:
            s.call(name, 0)
        except KeyboardInterrupt:
            print("KeyboardInterrupt", flush=True)
    print(s.eval("(+ 1 2)"), flush=True)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT by os.kill")
def test_sigint_while_printing_or_in_callbacks():
    p = subprocess.Popen([sys.executable, "-c", BUSY_CHILD], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout is not None
        for _ in range(2):
            assert p.stdout.readline().strip() == "ready"
            time.sleep(0.3)
            sent = time.monotonic()
            os.kill(p.pid, signal.SIGINT)
            assert p.stdout.readline().strip() == "KeyboardInterrupt"
            assert time.monotonic() - sent < 1.0
        assert p.stdout.readline().strip() == "3"
        assert p.wait(timeout=10) == 0
    finally:
        if p.poll() is None:
            p.kill()

"""Python callbacks registered as FFI functions, called from Jue programs."""

import gc
import subprocess
import sys
from pathlib import Path

import pytest

from jue_ctypes import JueError, Session, Symbol

PYDIR = Path(__file__).resolve().parent.parent


@pytest.fixture
def s():
    with Session() as session:
        yield session


def test_callback_called_from_jue_program(s):
    seen = []

    def shout(text):
        seen.append(text)
        return text.upper() + "!"

    entry = s.register("py:shout", shout, ["String"], "String", doc="Shouts.")
    assert entry["name"] == "py:shout"
    assert entry["tier"] == "empirical"
    assert entry["documentation"] == "Shouts."
    assert entry["host_function"] >= 100
    s.eval("(define (twice t) (string-append (py:shout t) (py:shout t)))")
    assert s.eval('(twice "hi")') == "HI!HI!"
    assert seen == ["hi", "hi"]
    assert s.call("py:shout", "x") == "X!"


def test_callback_value_mapping(s):
    got = []

    def echo(*args):
        got.append(args)
        return list(args)

    s.register("py:echo", echo, ["Any..."], "Any")
    out = s.eval("(py:echo 1 2.5 \"s\" true false nil 'sym (list 1 (list 2)))")
    assert out == [1, 2.5, "s", True, False, None, Symbol("sym"), [1, [2]]]
    args = got[0]
    assert type(args[0]) is int and type(args[1]) is float and type(args[3]) is bool


def test_callback_bool_result_is_bool(s):
    s.register("py:yes", lambda: True, [], "Bool")
    assert s.eval("(if (py:yes) 'y 'n)") == Symbol("y")


def test_callback_that_raises_is_host_error(s):
    def boom(x):
        raise ValueError(f"bad value {x}")

    s.register("py:boom", boom, ["Int"], "Int")
    with pytest.raises(JueError) as e:
        s.eval("(py:boom 7)")
    assert e.value.kind == "host"
    assert "ValueError" in e.value.message and "bad value 7" in e.value.message
    assert "py:boom" in e.value.message
    # The error is catchable inside Jue as a host error.
    s.eval("(define (safe) (try (py:boom 1) (catch e (error-kind e))))")
    assert s.eval("(safe)") in ("host", Symbol("host"))
    # The session keeps working.
    assert s.eval("(+ 1 1)") == 2


def test_callback_result_of_wrong_type_is_host_error(s):
    s.register("py:liar", lambda: "not an int", [], "Int")
    with pytest.raises(JueError) as e:
        s.eval("(py:liar)")
    assert e.value.kind == "host"


def test_callback_unconvertible_result_is_host_error(s):
    s.register("py:obj", lambda: object(), [], "Any")
    with pytest.raises(JueError) as e:
        s.eval("(py:obj)")
    assert e.value.kind == "host"
    s.register("py:nan", lambda: float("nan"), [], "Float")
    with pytest.raises(JueError) as e:
        s.eval("(py:nan)")
    assert e.value.kind == "host"


def test_callback_arguments_are_checked_before_it_runs(s):
    calls = []
    s.register("py:inc", lambda n: calls.append(n) or n + 1, ["Int"], "Int")
    assert s.call("py:inc", 1) == 2
    with pytest.raises(JueError) as e:
        s.call("py:inc", "one")
    assert e.value.kind == "type"
    with pytest.raises(JueError) as e:
        s.call("py:inc", True)
    assert e.value.kind == "type"
    with pytest.raises(JueError) as e:
        s.eval('(define (f x) (py:inc x)) (f "one")')
    assert e.value.kind == "type"
    assert calls == [1]


def test_callback_reentering_its_session_is_refused(s):
    def reenter():
        return s.eval("1")

    s.register("py:reenter", reenter, [], "Int")
    with pytest.raises(JueError) as e:
        s.eval("(py:reenter)")
    assert e.value.kind == "host" and "busy" in e.value.message


def test_callback_may_use_another_session(s):
    with Session() as other:
        other.eval("(define (k) 41)")
        s.register("py:other", lambda: other.eval("(k)") + 1, [], "Int")
        assert s.eval("(py:other)") == 42


def test_callback_kept_alive_after_references_dropped(s):
    def make():
        return lambda x: x * 2

    s.register("py:dbl", make(), ["Int"], "Int")
    gc.collect()
    assert s.eval("(py:dbl 21)") == 42


def test_replacing_a_registration(s):
    s.register("py:v", lambda: 1, [], "Int")
    s.eval("(define (use) (py:v))")
    s.register("py:v", lambda: 2, [], "Int")
    assert s.eval("(use)") == 2
    names = [f["name"] for f in s.registry()["functions"]]
    assert names.count("py:v") == 1


def test_registered_function_in_registry(s):
    s.register("py:r", lambda p: None, ["String"], "String?", capability="IoPersist", doc="d")
    f = next(f for f in s.registry()["functions"] if f["name"] == "py:r")
    assert f["required_capability"] == "IoPersist"
    assert f["parameter_types"] == ["String"] and f["return_type"] == "String?"
    assert f["tier"] == "empirical" and f["documentation"] == "d"


# ------------------------------------------------------------------ capabilities


def test_capability_function_denied_without_grant(s, tmp_path):
    calls = []

    def read(path):
        calls.append(path)
        return "secret"

    s.register("py:read", read, ["String"], "String", capability="IoPersist")
    with pytest.raises(JueError) as e:
        s.eval('(py:read "x")')
    assert e.value.kind == "capability-denied"
    with pytest.raises(JueError) as e:
        s.call("py:read", "x")
    assert e.value.kind == "capability-denied"
    assert calls == []
    s.grant("IoPersist", str(tmp_path))
    assert s.eval('(py:read "x")') == "secret"
    s.revoke("IoPersist")
    with pytest.raises(JueError) as e:
        s.call("py:read", "x")
    assert e.value.kind == "capability-denied"
    assert calls == ["x"]


def test_capability_through_value_is_still_checked(s):
    s.register("py:net", lambda: "body", [], "String", capability="IoNetwork")
    s.eval("(define (call-it f) (f))")
    with pytest.raises(JueError) as e:
        s.eval("(call-it py:net)")
    assert e.value.kind in ("capability-denied", "compile")


def test_capability_with_formal_or_verified_tier_is_refused(s):
    for tier in ("formal", "verified"):
        with pytest.raises(JueError) as e:
            s.register("py:f", lambda: 1, [], "Int", capability="SysClock", tier=tier)
        assert e.value.kind == "registry"
    assert all(f["name"] != "py:f" for f in s.registry()["functions"])
    # Without a capability, formal is fine; experimental with one is fine.
    assert s.register("py:pure", lambda: 1, [], "Int", tier="formal")["tier"] == "formal"
    s.register("py:exp", lambda: 1, [], "Int", capability="SysClock", tier="experimental")


def test_register_bad_specs(s):
    cases = [
        dict(name="", fn=lambda: 1, params=[], returns="Int"),
        dict(name="has space", fn=lambda: 1, params=[], returns="Int"),
        dict(name="py:t", fn=lambda: 1, params=["Integer"], returns="Int"),
        dict(name="py:t", fn=lambda: 1, params=[], returns="Whatever"),
        dict(name="py:t", fn=lambda: 1, params=[], returns="Int", capability="io-persist"),
        dict(name="py:t", fn=lambda: 1, params=[], returns="Int", tier="divine"),
        dict(name="py:t", fn=lambda: 1, params=[1], returns="Int"),
    ]
    for c in cases:
        with pytest.raises(JueError) as e:
            s.register(**c)
        assert e.value.kind == "registry", c
    with pytest.raises(JueError) as e:
        s.register("py:t", "not callable", [], "Int")
    assert e.value.kind == "argument"


def test_example_script_runs():
    out = subprocess.run(
        [sys.executable, str(PYDIR / "example.py")], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "math:add [10, 20] ->" in out.stdout
    assert '"result": 30' in out.stdout
    assert "without IoPersist -> capability-denied" in out.stdout
    assert "example ok" in out.stdout


def test_close_from_inside_a_callback():
    s = Session()

    def closer():
        s.close()
        return 7

    s.register("py:close", closer, [], "Int")
    assert s.eval("(py:close)") == 7
    with pytest.raises(JueError) as e:
        s.eval("1")
    assert e.value.kind == "argument"


@pytest.mark.parametrize("exc", [KeyboardInterrupt("cb"), SystemExit(3)])
def test_base_exception_in_callback_comes_back(exc):
    with Session() as s:
        def cb():
            raise exc

        s.register("py:base", cb, [], "Any")
        with pytest.raises(BaseException) as e:
            s.eval("(try (py:base) (catch e 0))")
        assert e.value is exc
        assert s.eval("(+ 1 2)") == 3

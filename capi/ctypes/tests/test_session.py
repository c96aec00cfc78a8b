"""The Python module over libjue: every Session function, value mapping, errors."""

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

import jue_ctypes as jue
from jue_ctypes import JueError, Session, Symbol

PYDIR = Path(__file__).resolve().parent.parent


@pytest.fixture
def s():
    with Session() as session:
        yield session


def test_version():
    assert jue.version().startswith("jue ")


# ------------------------------------------------------------------ eval


def test_eval_arithmetic_and_definitions_persist(s):
    assert s.eval("(+ 1 2)") == 3
    s.eval("(define (sq x) (* x x))")
    assert s.eval("(sq 12)") == 144


@pytest.mark.parametrize(
    "src, want",
    [
        ("42", 42),
        ("-7", -7),
        ("2.5", 2.5),
        ("3.0", 3.0),
        ("true", True),
        ("false", False),
        ("nil", None),
        ('"text"', "text"),
        ("'sym", Symbol("sym")),
        ("(list 1 2.0 \"x\" true nil)", [1, 2.0, "x", True, None]),
        ("(list (list 1) (list 2 (list 3)))", [[1], [2, [3]]]),
    ],
)
def test_eval_value_mapping(s, src, want):
    got = s.eval(src)
    assert got == want
    assert type(got) is type(want)


def test_eval_strings_round_trip_unescaped_text(s):
    text = 'quote " backslash \\ newline \n tab \t unicode é 😀'
    s.eval("(define (id x) x)")
    assert s.call("id", text) == text


def test_eval_compile_error(s):
    with pytest.raises(JueError) as e:
        s.eval("(+ 1")
    assert e.value.kind == "compile"
    assert "E0" in e.value.message and "1:1" in e.value.message


def test_eval_unknown_name_is_compile_error(s):
    with pytest.raises(JueError) as e:
        s.eval("(no-such-function 1)")
    assert e.value.kind == "compile"


def test_eval_runtime_error_kind(s):
    s.eval("(define (d x y) (/ x y))")
    with pytest.raises(JueError) as e:
        s.eval("(d 1 0)")
    assert e.value.kind == "division-by-zero"
    with pytest.raises(JueError) as e:
        s.eval('(error "mine")')
    assert e.value.kind == "user" and "mine" in e.value.message


def test_eval_result_that_cannot_cross(s):
    with pytest.raises(JueError) as e:
        s.eval("(cons 1 2)")
    assert e.value.kind == "type"


def test_eval_output_goes_to_stdout(s, capfd):
    s.eval('(println "hello from jue")')
    assert "hello from jue" in capfd.readouterr().out


def test_eval_bad_input_types(s):
    with pytest.raises(JueError) as e:
        s.eval(42)
    assert e.value.kind == "argument"
    with pytest.raises(JueError) as e:
        s.eval("(+ 1 2)\0")
    assert e.value.kind == "argument"


# ------------------------------------------------------------------ call


def test_call_ffi_function(s):
    assert s.call("math:add", 10, 20) == 30
    assert s.call("fadd", 1.5, 2.25) == 3.75


def test_call_jue_function_and_builtin(s):
    s.eval("(define (greet name) (string-append \"hi \" name))")
    assert s.call("greet", "ann") == "hi ann"
    assert s.call("length", [1, 2, 3]) == 3
    assert s.call("list", 1, Symbol("a"), None) == [1, Symbol("a"), None]


def test_call_bool_is_not_int(s):
    with pytest.raises(JueError) as e:
        s.call("math:add", True, 1)
    assert e.value.kind == "type"
    s.eval("(define (kind x) (cond ((bool? x) 'bool) ((int? x) 'int) (else 'other)))")
    assert s.call("kind", True) == Symbol("bool")
    assert s.call("kind", 1) == Symbol("int")


def test_call_int_widens_where_a_float_is_declared(s):
    # Tooling §5 "Conversions": the host's integral number widens; a bool does not.
    r = s.call("fadd", 1, 2.0)
    assert r == 3.0 and type(r) is float
    with pytest.raises(JueError) as e:
        s.call("fadd", True, 2.0)
    assert e.value.kind == "type"
    # Jue code keeps language §6's rule.
    with pytest.raises(JueError) as e:
        s.eval("(define (one) 1) (fadd (one) 2.0)")
    assert e.value.kind == "type"


def test_call_unknown_name(s):
    with pytest.raises(JueError) as e:
        s.call("no-such-fn", 1)
    assert e.value.kind == "unbound"


def test_call_wrong_arity(s):
    with pytest.raises(JueError) as e:
        s.call("math:add", 1)
    assert e.value.kind == "arity"


def test_call_unconvertible_python_values(s):
    # A dict with str keys crosses (a Jue Dict); one with other keys does not.
    for bad in (object(), {1: "a"}, float("nan"), float("inf"), 2**64, b"bytes"):
        with pytest.raises(JueError) as e:
            s.call("list", bad)
        assert e.value.kind == "type", bad


def test_call_non_procedure(s):
    s.eval("(define x 5)")
    with pytest.raises(JueError) as e:
        s.call("x")
    assert e.value.kind == "type"


# ------------------------------------------------------------------ grant / revoke


def test_grant_and_revoke_clock(s):
    with pytest.raises(JueError) as e:
        s.call("get-wall-clock")
    assert e.value.kind == "capability-denied"
    assert s.grant("SysClock") == {"capability": "SysClock", "scope": None}
    assert s.call("get-wall-clock") > 1_600_000_000 * 10**9
    s.revoke("SysClock")
    with pytest.raises(JueError) as e:
        s.eval("(get-wall-clock)")
    assert e.value.kind == "capability-denied"


def test_grant_scoped_persist(s, tmp_path):
    inside = tmp_path / "in"
    inside.mkdir()
    (inside / "a.txt").write_text("A", encoding="utf-8")
    (tmp_path / "b.txt").write_text("B", encoding="utf-8")
    got = s.grant("IoPersist", str(inside))
    assert got["capability"] == "IoPersist" and got["scope"] == str(inside.resolve())
    assert s.call("fs:read-file", str(inside / "a.txt")) == "A"
    with pytest.raises(JueError) as e:
        s.call("fs:read-file", str(tmp_path / "b.txt"))
    assert e.value.kind == "capability-denied"
    assert s.call("fs:safe-read", str(inside / "missing")) is None


def test_grant_syntax_with_equals(s, tmp_path):
    assert s.grant(f"IoPersist={tmp_path}")["scope"] == str(tmp_path.resolve())
    assert s.grant("ResourceExtraTime=250")["scope"] == "250 milliseconds"


def test_grant_errors(s):
    with pytest.raises(JueError) as e:
        s.grant("io-network")
    assert e.value.kind == "grant"
    assert "E0202" in e.value.message and "IoNetwork" in e.value.message
    with pytest.raises(JueError) as e:
        s.grant("SysClock", "scope")
    assert e.value.kind == "grant"
    with pytest.raises(JueError) as e:
        s.grant("ResourceExtraMemory")
    assert e.value.kind == "grant"
    with pytest.raises(JueError) as e:
        s.grant("IoPersist", "/definitely/not/here")
    assert e.value.kind == "grant"
    with pytest.raises(JueError) as e:
        s.revoke("NotACapability")
    assert e.value.kind == "grant"
    with pytest.raises(JueError) as e:
        s.grant(None)
    assert e.value.kind == "argument"


def test_revoke_without_grant_is_fine(s):
    s.revoke("IoNetwork")


# ------------------------------------------------------------------ registry


def test_registry_schema(s):
    reg = s.registry()
    funcs = {f["name"]: f for f in reg["functions"]}
    add = funcs["math:add"]
    assert add["parameter_types"] == ["Int", "Int"]
    assert add["return_type"] == "Int"
    assert add["required_capability"] is None
    assert add["tier"] == "formal"
    assert add["blocking"] is False
    assert funcs["net:http-get"]["blocking"] is True
    assert set(add) == {
        "blocking",
        "name",
        "parameter_types",
        "return_type",
        "required_capability",
        "tier",
        "documentation",
        "host_function",
        "location",
    }
    assert funcs["fs:read-file"]["required_capability"] == "IoPersist"


def test_registry_matches_cli(s):
    """The same schema as `jue registry --json`, when the CLI is built."""
    root = PYDIR.parent.parent
    for profile in ("debug", "release"):
        exe = root / "target" / profile / "jue"
        if exe.is_file():
            break
    else:
        pytest.skip("the jue CLI is not built")
    out = subprocess.run([str(exe), "registry", "--json"], capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip("this jue CLI has no `registry --json`")
    import json

    assert json.loads(out.stdout) == s.registry()


# ------------------------------------------------------------------ lifetime


def test_close_is_idempotent_and_use_after_close_raises():
    s = Session()
    s.close()
    s.close()
    with pytest.raises(JueError) as e:
        s.eval("1")
    assert e.value.kind == "argument"


def test_context_manager_frees():
    with Session() as s:
        assert s.eval("1") == 1
    assert s._ptr is None


def test_many_sessions_are_independent():
    a, b = Session(), Session()
    try:
        a.eval("(define v 1)")
        b.eval("(define v 2)")
        a.grant("SysClock")
        assert a.eval("v") == 1 and b.eval("v") == 2
        with pytest.raises(JueError):
            b.call("get-wall-clock")
    finally:
        a.close()
        b.close()


def test_garbage_collected_session():
    for _ in range(50):
        s = Session()
        s.register("py:id", lambda x: x, ["Any"], "Any")
        assert s.call("py:id", 3) == 3
        del s
    gc.collect()


# ------------------------------------------------------------------ library lookup


def _run(code, env):
    return subprocess.run(
        [sys.executable, "-c", code], cwd=PYDIR, env=env, capture_output=True, text=True
    )


def test_jue_lib_env_is_used():
    env = dict(os.environ, JUE_LIB="/nonexistent/libjue.so")
    out = _run("import jue_ctypes as jue; jue.version()", env)
    assert out.returncode != 0
    assert "/nonexistent/libjue.so" in out.stderr


def test_workspace_lookup_without_env():
    env = {k: v for k, v in os.environ.items() if k != "JUE_LIB"}
    out = _run("import jue_ctypes as jue; print(jue._find_library())", env)
    assert out.returncode == 0, out.stderr
    p = Path(out.stdout.strip())
    assert p.parent.parent.name == "target" and p.parent.name in ("release", "debug")

"""The exception hierarchy: JueError with kind, message, position and stack."""

import pytest

from jue import CapabilityError, CompileError, JueError, LimitError, Session


@pytest.fixture
def s():
    with Session() as session:
        yield session


def test_hierarchy():
    for cls in (CompileError, CapabilityError, LimitError):
        assert issubclass(cls, JueError) and issubclass(cls, Exception)


def test_compile_error_has_position_and_diagnostics(s):
    with pytest.raises(CompileError) as e:
        s.eval("(define x 1)\n(+ x undefined-name)", name="app.jue")
    err = e.value
    assert err.kind == "compile"
    assert "undefined-name" in err.message
    assert (err.source, err.line, err.column) == ("app.jue", 2, 6)
    assert len(err.diagnostics) >= 1 and "app.jue:2:6" in err.diagnostics[0]
    assert "app.jue:2:6" in str(err)


def test_runtime_error_has_position_and_stack(s):
    s.eval("(define (inner x) (/ x 0))\n(define (outer x) (+ 1 (inner x)))", name="lib.jue")
    with pytest.raises(JueError) as e:
        s.call("outer", 5)
    err = e.value
    assert type(err) is JueError
    assert err.kind == "division-by-zero"
    assert (err.source, err.line) == ("lib.jue", 1)
    assert err.stack[0].startswith("inner at lib.jue:1:")
    assert any(f.startswith("outer at lib.jue:2:") for f in err.stack)


def test_user_error(s):
    with pytest.raises(JueError) as e:
        s.eval('(error "bad thing")')
    assert e.value.kind == "user" and "bad thing" in e.value.message


def test_capability_denied(s):
    with pytest.raises(CapabilityError) as e:
        s.eval('(fs:read-file "/etc/hostname")')
    assert e.value.kind == "capability-denied"


def test_unknown_function_by_call(s):
    with pytest.raises(JueError) as e:
        s.call("no-such-function")
    assert e.value.kind == "unbound"


def test_arity_error(s):
    s.eval("(define (f a) a)")
    with pytest.raises(JueError) as e:
        s.call("f", 1, 2)
    assert e.value.kind == "arity"


def test_session_usable_after_errors(s):
    for src in ["(car 1)", "(", "(/ 1 0)"]:
        with pytest.raises(JueError):
            s.eval(src)
    assert s.eval("(+ 1 2)") == 3


def test_grant_errors(s):
    with pytest.raises(JueError) as e:
        s.grant("fs:reed")
    assert e.value.kind == "grant"

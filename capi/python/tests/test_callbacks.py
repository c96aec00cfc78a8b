"""Python functions registered as FFI functions; their exceptions come back out."""

import traceback

import pytest

from jue import CapabilityError, JueError, LimitError, Procedure, Session, Symbol, Vector


@pytest.fixture
def s():
    with Session() as session:
        yield session


def test_register_and_call(s):
    s.register("py:hypot", lambda a, b: (a * a + b * b) ** 0.5, ["Float", "Float"], "Float",
               doc="Hypotenuse.")
    assert s.eval("(py:hypot 3.0 4.0)") == 5.0
    assert s.call("py:hypot", 6.0, 8.0) == 10.0
    entry = next(f for f in s.registry() if f["name"] == "py:hypot")
    assert entry["documentation"] == "Hypotenuse." and entry["host_function"] >= 100
    assert entry["tier"] == "empirical"


def test_values_reach_the_callback_natively(s):
    seen = []

    def look(x):
        seen.append(x)
        return x

    s.register("py:look", look, ["Any"], "Any")
    assert s.eval("(py:look (list 1 2.5 \"s\" 'a true nil))") == [1, 2.5, "s", Symbol("a"), True, None]
    assert seen == [[1, 2.5, "s", Symbol("a"), True, None]]


def test_capability_required(s):
    s.register("py:secret", lambda: "s3cret", [], "String", capability="IoPersist")
    with pytest.raises(CapabilityError):
        s.eval("(py:secret)")
    s.grant("IoPersist")
    assert s.eval("(py:secret)") == "s3cret"
    s.revoke("IoPersist")
    with pytest.raises(CapabilityError):
        s.call("py:secret")


def test_bad_registration(s):
    with pytest.raises(JueError) as e:
        s.register("py:x", lambda: 1, ["Nope"], "Int")
    assert e.value.kind == "registry"
    with pytest.raises(JueError) as e:
        s.register("py:y", lambda: 1, [], "Int", tier="bogus")
    assert e.value.kind == "registry"
    with pytest.raises(TypeError):
        s.register("py:z", 42, [], "Int")  # type: ignore[arg-type]


class Boom(ValueError):
    pass


def raise_boom(x):
    raise Boom(f"boom {x}")


@pytest.mark.parametrize("exc", [Boom("b"), KeyboardInterrupt("cb"), SystemExit(3)])
def test_callback_exception_comes_back_as_itself(s, exc):
    def cb(_x):
        raise exc

    s.register("py:raise", cb, ["Any"], "Any")
    with pytest.raises(BaseException) as e:
        s.eval("(py:raise 1)")
    assert e.value is exc
    frames = [f.name for f in traceback.extract_tb(e.value.__traceback__)]
    assert "cb" in frames
    # The session is still usable.
    assert s.eval("(+ 1 2)") == 3


def test_callback_exception_through_call_and_handles(s):
    s.register("py:boom", raise_boom, ["Any"], "Any")
    with pytest.raises(Boom, match="boom 7"):
        s.call("py:boom", 7)
    f = s.eval("(lambda (x) (py:boom x))")
    with pytest.raises(Boom, match="boom 8"):
        f(8)


def test_jue_can_catch_an_ordinary_exception(s):
    s.register("py:boom", raise_boom, ["Any"], "Any")
    r = s.eval("(try (py:boom 1) (catch e (list (error-kind e) (error-message e))))")
    assert r[0] == Symbol("host") or r[0] == "host"
    assert "Boom" in r[1] and "boom 1" in r[1]
    # A later, unrelated host error is not mistaken for it.
    s.register("py:bad", lambda: object(), [], "Any")
    with pytest.raises(JueError) as e:
        s.eval("(py:bad)")
    assert e.value.kind == "host"


def test_jue_cannot_swallow_keyboard_interrupt(s):
    def cb():
        raise KeyboardInterrupt

    s.register("py:ki", cb, [], "Any")
    with pytest.raises(KeyboardInterrupt):
        s.eval("(try (py:ki) (catch e 0))")
    assert s.eval("1") == 1


def test_bad_return_value_is_a_host_error(s):
    s.register("py:obj", lambda: object(), [], "Any")
    with pytest.raises(JueError) as e:
        s.eval("(py:obj)")
    assert e.value.kind == "host" and "cannot take" in e.value.message
    s.register("py:int", lambda: "not an int", [], "Int")
    with pytest.raises(JueError):
        s.eval("(py:int)")


def test_reentry_is_refused(s):
    def reenter():
        return s.eval("1")

    s.register("py:re", reenter, [], "Any")
    with pytest.raises(JueError) as e:
        s.eval("(py:re)")
    assert e.value.kind == "busy"
    assert s.eval("2") == 2


def test_callback_may_use_another_session(s):
    other = Session()
    s.register("py:other", lambda x: other.eval(f"(* {x} 2)"), ["Int"], "Int")
    assert s.eval("(py:other 21)") == 42


def test_int_result_widens_to_a_declared_float(s):
    s.register("py:three", lambda: 3, [], "Float")
    r = s.eval("(py:three)")
    assert r == 3.0 and type(r) is float
    s.register("py:maybe", lambda: 2, [], "Float?")
    assert type(s.call("py:maybe")) is float


def test_procedure_arguments_arrive_callable(s):
    # A Jue closure passed to a Python callback is a jue.Procedure: callable
    # during the callback (under the running evaluation) and kept for later.
    kept = []

    def apply_twice(f, x):
        assert isinstance(f, Procedure)
        kept.append(f)
        return f(f(x))

    s.register("py:twice", apply_twice, ["Fn", "Any"], "Any")
    assert s.eval("(let ((k 10)) (py:twice (lambda (x) (+ x k)) 1))") == 21
    assert s.eval("(py:twice car (list (list 7)))") == 7
    # Kept past the callback: a handle like any other.
    assert kept[0](5) == 15
    assert s.call("map", kept[0], [1, 2]) == [11, 12]


def test_procedure_called_from_a_callback_counts_against_limits(s):
    s.register("py:call", lambda f: f(), ["Fn"], "Any")
    s.eval("(define (spin n) (if (= n 0) 0 (spin (- n 1))))")
    with pytest.raises(LimitError):
        s.eval("(py:call (lambda () (spin 100000000)))", steps=100_000)
    assert s.eval("(py:call (lambda () (spin 10)))") == 0


def test_errors_of_a_procedure_called_from_a_callback(s):
    caught = []

    def call(f):
        try:
            return f(0)
        except JueError as e:
            caught.append(e.kind)
            return "handled"

    s.register("py:guard", call, ["Fn"], "Any")
    assert s.eval("(py:guard (lambda (x) (/ 1 x)))") == "handled"
    assert caught == ["division-by-zero"]


def test_nested_callback_exception_comes_back_as_itself(s):
    class Boom(Exception):
        pass

    def inner():
        raise Boom("deep")

    s.register("py:inner", inner, [], "Any")
    s.register("py:outer", lambda f: f(), ["Fn"], "Any")
    with pytest.raises(Boom, match="deep"):
        s.eval("(py:outer (lambda () (py:inner)))")
    assert s.eval("3") == 3


def test_callbacks_receive_and_return_dicts_and_vectors(s):
    seen = []

    def look(x):
        seen.append(x)
        return x

    s.register("py:look", look, ["Any"], "Any")
    assert s.eval('(dict-keys (py:look {"b" 1 "a" (vector 1 2)}))') == ["b", "a"]
    assert seen[0] == {"b": 1, "a": [1, 2]} and type(seen[0]["a"]) is Vector
    assert s.eval("(vector? (py:look (vector 1)))") is True
    s.register("py:mk", lambda: {"k": Vector([1]), "l": [1]}, [], "Dict")
    assert s.eval('(vector? (dict-ref (py:mk) "k"))') is True
    s.register("py:bad", lambda: {2: 1}, [], "Any")
    with pytest.raises(JueError) as e:
        s.eval("(py:bad)")
    assert e.value.kind == "host" and "str" in e.value.message


def test_int_argument_from_python_widens_to_a_declared_float(s):
    s.register("py:half", lambda x: x / 2, ["Float"], "Float")
    r = s.call("py:half", 3)
    assert r == 1.5 and type(r) is float
    # Jue code gets no implicit conversion (language §6).
    with pytest.raises(JueError) as e:
        s.eval("(define (n) 3) (py:half (n))")
    assert e.value.kind == "type"

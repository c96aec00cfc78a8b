"""Values cross natively both ways (tooling §5's table without the JSON column)."""

import pytest

import jue
from jue import JueError, Session, Symbol


@pytest.fixture
def s():
    with Session() as session:
        session.eval("(define (id x) x)")
        yield session


def test_version():
    assert jue.version().startswith("jue ")


@pytest.mark.parametrize(
    "value",
    [0, -(2**63), 2**63 - 1, 1.5, -0.25, "", "héllo\nworld", True, False, None,
     [1, [2.5, "x", None, [True]]], Symbol("a"), [Symbol("b"), 3]],
)
def test_identity_round_trip(s, value):
    assert s.call("id", value) == value


def test_bool_is_not_int(s):
    assert s.call("id", True) is True
    assert s.call("id", 1) == 1 and type(s.call("id", 1)) is int
    assert s.eval("(number? true)") is False


def test_int_and_float_stay_apart(s):
    assert type(s.call("id", 1.0)) is float
    assert s.eval("(equal? 1 1.0)") is False


def test_tuple_goes_in_as_list(s):
    assert s.call("id", (1, 2, (3,))) == [1, 2, [3]]


def test_empty_list_is_nil(s):
    # Jue's empty list is nil.
    assert s.call("id", []) is None
    assert s.eval("(null? (list))") is True


def test_symbol_value_semantics():
    assert Symbol("a") == Symbol("a") and Symbol("a") != Symbol("b")
    assert hash(Symbol("a")) == hash(Symbol("a"))
    assert repr(Symbol("a")) == 'jue.Symbol("a")' and str(Symbol("a")) == "a"
    with pytest.raises(ValueError):
        Symbol("")


def test_values_from_jue(s):
    assert s.eval("(list 1 2.5 \"s\" 'sym true nil)") == [1, 2.5, "s", Symbol("sym"), True, None]
    assert s.eval("(quote (a (b)))") == [Symbol("a"), [Symbol("b")]]


def test_integer_out_of_range_is_overflow_error(s):
    with pytest.raises(OverflowError):
        s.call("id", 2**63)


def test_dict_crosses_in_order(s):
    d = {"z": 1, "a": [2, "x"], "m": {"inner": None}}
    back = s.call("id", d)
    assert back == d and list(back) == ["z", "a", "m"]
    # It is a Jue Dict inside, in insertion order.
    assert s.call("dict?", d) is True
    assert s.call("dict-keys", d) == ["z", "a", "m"]
    assert s.call("dict-ref", d, "a") == [2, "x"]
    assert s.eval('(dict-set (dict "b" 1) "a" 2)') == {"b": 1, "a": 2}
    assert s.call("id", {}) == {}


def test_dict_with_other_keys_is_a_type_error(s):
    with pytest.raises(TypeError, match="dict key must be a str"):
        s.call("id", {1: "one"})
    with pytest.raises(TypeError, match="dict key must be a str"):
        s.call("id", [{"ok": 1}, {Symbol("k"): 2}])
    # Out of Jue: a Dict with a key that is not a String is kind `type`.
    with pytest.raises(JueError) as e:
        s.eval("(dict 1 2)")
    assert e.value.kind == "type"


def test_vector_crosses_as_vector(s):
    v = jue.Vector([1, "two", [3]])
    assert isinstance(v, list) and repr(v) == "jue.Vector([1, 'two', [3]])"
    assert s.call("vector?", v) is True
    assert s.call("vector?", [1, 2]) is False
    assert s.call("vector-ref", v, 1) == "two"
    back = s.call("id", v)
    assert type(back) is jue.Vector and back == [1, "two", [3]]
    out = s.eval("(vector 1 (vector 2))")
    assert type(out) is jue.Vector and type(out[1]) is jue.Vector
    assert s.call("id", jue.Vector()) == jue.Vector() and s.call("vector-length", jue.Vector()) == 0


def test_object_does_not_cross(s):
    with pytest.raises(TypeError, match="object"):
        s.call("id", object())
    with pytest.raises(TypeError, match="set"):
        s.call("id", {1, 2})


def test_improper_list_does_not_cross(s):
    with pytest.raises(JueError) as e:
        s.eval("(cons 1 2)")
    assert e.value.kind == "type"


def test_error_value_does_not_cross(s):
    with pytest.raises(JueError) as e:
        s.eval("(try (/ 1 0) (catch e e))")
    assert e.value.kind == "type" and "division" in e.value.message


def test_deep_nesting_is_an_error_not_a_crash(s):
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(ValueError, match="nested too deeply"):
        s.call("id", deep)


def test_arguments_do_not_stay_alive(s):
    # 10,000 calls with a 100 KB string: the heap does not keep them (the
    # session's memory limit is 8 MB, far below the 1 GB they add up to).
    s.set_limits(memory=8 << 20)
    big = "x" * 100_000
    for _ in range(10_000):
        assert s.call("string-length", big) == 100_000

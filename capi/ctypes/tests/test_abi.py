"""The raw C ABI through ctypes: every function, with null pointers, invalid
UTF-8, malformed JSON, wrong argument types and unknown names."""

import ctypes
import json

import pytest

import jue_ctypes as jue

lib = jue.load_library()
CB = jue._CALLBACK


def take(ptr):
    assert ptr, "an entry point returned null"
    try:
        text = ctypes.string_at(ptr)
    finally:
        lib.jue_string_free(ptr)
    env = json.loads(text.decode("utf-8"))
    assert env["status"] in ("success", "error")
    if env["status"] == "error":
        assert set(env["error"]) == {"kind", "message"}
        assert isinstance(env["error"]["kind"], str) and env["error"]["message"]
    return env


def err_kind(ptr):
    env = take(ptr)
    assert env["status"] == "error", env
    return env["error"]["kind"]


def ok(ptr):
    env = take(ptr)
    assert env["status"] == "success", env
    return env["result"]


@pytest.fixture
def sp():
    p = lib.jue_session_new()
    assert p
    yield p
    lib.jue_session_free(p)


SPEC = json.dumps(
    {"name": "c:id", "parameter_types": ["Any"], "return_type": "Any"}
).encode()


def test_version_is_static():
    v = lib.jue_version()
    assert v == lib.jue_version() and v.startswith(b"jue ")


def test_free_functions_accept_null():
    lib.jue_string_free(None)
    lib.jue_session_free(None)


def test_null_session_everywhere():
    assert err_kind(lib.jue_eval(None, b"1")) == "argument"
    assert err_kind(lib.jue_call(None, b"math:add", b"[1,2]")) == "argument"
    assert err_kind(lib.jue_grant(None, b"SysClock")) == "argument"
    assert err_kind(lib.jue_revoke(None, b"SysClock")) == "argument"
    assert err_kind(lib.jue_registry(None)) == "argument"
    keep = CB(lambda u, a: None)
    assert err_kind(lib.jue_register(None, SPEC, keep, None)) == "argument"


def test_null_strings(sp):
    assert err_kind(lib.jue_eval(sp, None)) == "argument"
    assert err_kind(lib.jue_call(sp, None, b"[]")) == "argument"
    assert err_kind(lib.jue_call(sp, b"math:add", None)) == "argument"
    assert err_kind(lib.jue_grant(sp, None)) == "argument"
    assert err_kind(lib.jue_revoke(sp, None)) == "argument"
    keep = CB(lambda u, a: None)
    assert err_kind(lib.jue_register(sp, None, keep, None)) == "argument"


def test_null_callback(sp):
    assert err_kind(lib.jue_register(sp, SPEC, ctypes.cast(None, CB), None)) == "argument"


@pytest.mark.parametrize("bad", [b"\xff\xfe", b"(+ 1 \xc3)", b"\xed\xa0\x80"])
def test_invalid_utf8(sp, bad):
    assert err_kind(lib.jue_eval(sp, bad)) == "argument"
    assert err_kind(lib.jue_call(sp, bad, b"[]")) == "argument"
    assert err_kind(lib.jue_call(sp, b"list", bad)) == "argument"
    assert err_kind(lib.jue_grant(sp, bad)) == "argument"
    assert err_kind(lib.jue_revoke(sp, bad)) == "argument"
    keep = CB(lambda u, a: None)
    assert err_kind(lib.jue_register(sp, bad, keep, None)) == "argument"


@pytest.mark.parametrize(
    "args", [b"", b"[1,", b"{", b"[1 2]", b"nope", b"[NaN]", b"[1e999]", b"[" * 10000]
)
def test_malformed_json_arguments(sp, args):
    assert err_kind(lib.jue_call(sp, b"list", args)) == "argument"


@pytest.mark.parametrize(
    "args",
    [b"1", b'"x"', b"null", b"true", b'{"args": 3}',
     b"[18446744073709551616]", b"[9223372036854775808]"],
)
def test_wrongly_shaped_json_arguments(sp, args):
    assert err_kind(lib.jue_call(sp, b"list", args)) == "argument"


def test_objects_are_dicts_and_tags_must_hold_their_kind(sp):
    # Tooling §5: an object is a Dict with String keys; a one-member object named
    # symbol, vector or dict is that tag, and its value must be of the tag's kind.
    assert ok(lib.jue_call(sp, b"list", b'[{"a": 1}, {"vector": [1, 2]}]')) == [
        {"a": 1},
        {"vector": [1, 2]},
    ]
    assert err_kind(lib.jue_call(sp, b"list", b'[{"symbol": 3}]')) == "type"


def test_call_accepts_object_with_args_and_ignores_capability(sp):
    assert ok(lib.jue_call(sp, b"math:add", b'{"args": [10, 20]}')) == 30
    req = json.dumps({"args": [], "capability": "SysClock"}).encode()
    assert err_kind(lib.jue_call(sp, b"get-wall-clock", req)) == "capability-denied"
    req = json.dumps({"args": ["/etc/hostname"], "capability": "IoPersist"}).encode()
    assert err_kind(lib.jue_call(sp, b"fs:read-file", req)) == "capability-denied"


def test_json_numbers(sp):
    assert ok(lib.jue_call(sp, b"list", b"[1, 1.0, 1e2, -0.5, 9223372036854775807]")) == [
        1, 1.0, 100.0, -0.5, 9223372036854775807
    ]
    # an exponent makes a Float: Int-only functions refuse it
    assert err_kind(lib.jue_call(sp, b"math:add", b"[1e1, 2]")) == "type"
    assert ok(lib.jue_call(sp, b"int?", b"[1]")) is True
    assert ok(lib.jue_call(sp, b"float?", b"[1.0]")) is True


def test_unknown_names(sp):
    assert err_kind(lib.jue_call(sp, b"no:such", b"[]")) == "unbound"
    assert err_kind(lib.jue_grant(sp, b"NoSuchCap")) == "grant"
    assert err_kind(lib.jue_revoke(sp, b"NoSuchCap")) == "grant"
    assert err_kind(lib.jue_eval(sp, b"(no:such 1)")) == "compile"


def test_wrong_argument_types(sp):
    assert err_kind(lib.jue_call(sp, b"math:add", b'["1", 2]')) == "type"
    assert err_kind(lib.jue_call(sp, b"math:add", b"[true, 2]")) == "type"
    assert err_kind(lib.jue_call(sp, b"fs:read-file", b"[1]")) in ("type", "capability-denied")


def test_revoke_takes_bare_name_only(sp):
    assert err_kind(lib.jue_revoke(sp, b"IoPersist=/tmp")) == "grant"


def test_grant_result(sp, tmp_path):
    got = ok(lib.jue_grant(sp, f"IoPersist={tmp_path}".encode()))
    assert got == {"capability": "IoPersist", "scope": str(tmp_path.resolve())}
    assert ok(lib.jue_revoke(sp, b"IoPersist")) is None


@pytest.mark.parametrize(
    "spec",
    [b"", b"{", b"[]", b'"name"', b"null", b'{"name": "x"}', b'{"parameter_types": [], "return_type": "Int"}'],
)
def test_register_bad_spec(sp, spec):
    keep = CB(lambda u, a: None)
    assert err_kind(lib.jue_register(sp, spec, keep, None)) in ("argument", "registry")


def test_register_ignores_capability_field(sp):
    """`capability` in the spec grants nothing and requires nothing: only
    `required_capability` counts."""
    reply = ctypes.create_string_buffer(b'{"status":"success","result":1}')
    keep = CB(lambda u, a: ctypes.addressof(reply))
    spec = json.dumps(
        {"name": "c:one", "parameter_types": [], "return_type": "Int", "capability": "IoPersist"}
    ).encode()
    f = ok(lib.jue_register(sp, spec, keep, None))
    assert f["required_capability"] is None
    spec = json.dumps(
        {"name": "c:two", "parameter_types": [], "return_type": "Int",
         "required_capability": "IoPersist", "capability": "IoPersist"}
    ).encode()
    ok(lib.jue_register(sp, spec, keep, None))
    assert err_kind(lib.jue_call(sp, b"c:two", b'{"args": [], "capability": "IoPersist"}')) == "capability-denied"
    assert ok(lib.jue_call(sp, b"c:one", b"[]")) == 1


def test_register_formal_with_capability_refused(sp):
    keep = CB(lambda u, a: None)
    spec = json.dumps(
        {"name": "c:f", "parameter_types": [], "return_type": "Int",
         "required_capability": "SysClock", "tier": "formal"}
    ).encode()
    assert err_kind(lib.jue_register(sp, spec, keep, None)) == "registry"


def _register_raw(sp, name, reply_fn, user_data=None):
    keep = CB(reply_fn)
    spec = json.dumps({"name": name, "parameter_types": ["Any..."], "return_type": "Any"}).encode()
    ok(lib.jue_register(sp, spec, keep, user_data))
    return keep


def test_callback_receives_user_data_and_args_json(sp):
    seen = []
    reply = ctypes.create_string_buffer(b'{"status":"success","result":[1,"two"]}')

    def cb(user_data, args):
        seen.append((user_data, json.loads(args)))
        return ctypes.addressof(reply)

    keep = _register_raw(sp, "c:seen", cb, 1234)
    assert ok(lib.jue_eval(sp, b"(c:seen 1 2.5 \"s\" 'q (list true nil))")) == [1, "two"]
    assert seen == [(1234, [1, 2.5, "s", {"symbol": "q"}, [True, None]])]
    del keep


@pytest.mark.parametrize(
    "reply",
    [
        None,  # null
        b"not json",
        b"\xff\xfe",
        b'{"result": 1}',
        b'{"status": "maybe"}',
        b"[1]",
        b'{"status":"error","error":{"kind":"io","message":"disk on fire"}}',
        b'{"status":"error"}',
        b'{"status":"success","result":{"symbol":3}}',
    ],
)
def test_callback_bad_replies_become_host_errors(sp, reply):
    buf = ctypes.create_string_buffer(reply) if reply is not None else None
    keep = _register_raw(sp, "c:bad", lambda u, a: ctypes.addressof(buf) if buf else None)
    env = take(lib.jue_eval(sp, b"(c:bad 1)"))
    assert env["status"] == "error" and env["error"]["kind"] == "host", env
    assert "c:bad" in env["error"]["message"]
    if reply and b"disk on fire" in reply:
        assert "disk on fire" in env["error"]["message"]
    # and the session still works
    assert ok(lib.jue_eval(sp, b"(+ 1 2)")) == 3
    del keep


def test_callback_success_without_result_is_nil(sp):
    buf = ctypes.create_string_buffer(b'{"status":"success"}')
    keep = _register_raw(sp, "c:nil", lambda u, a: ctypes.addressof(buf))
    assert ok(lib.jue_eval(sp, b"(c:nil)")) is None
    del keep


def test_free_session_from_its_own_callback_is_deferred():
    p = lib.jue_session_new()
    buf = ctypes.create_string_buffer(b'{"status":"success","result":5}')

    def cb(u, a):
        lib.jue_session_free(p)  # deferred until the running call returns
        return ctypes.addressof(buf)

    keep = _register_raw(p, "c:free", cb)
    assert ok(lib.jue_eval(p, b"(c:free)")) == 5
    del keep  # the session is gone now; nothing else to free


def test_registry_json(sp):
    reg = ok(lib.jue_registry(sp))
    assert isinstance(reg["functions"], list) and len(reg["functions"]) >= 30
    names = [f["name"] for f in reg["functions"]]
    assert "math:add" in names and "fs:safe-read" in names


def test_deeply_nested_values(sp):
    deep = b"[" * 120 + b"]" * 120
    env = take(lib.jue_call(sp, b"list", deep))
    assert env["status"] in ("success", "error")
    src = b"(define (nest n) (if (= n 0) nil (list (nest (- n 1))))) (nest 2000)"
    env = take(lib.jue_eval(sp, src))
    assert env["status"] in ("success", "error")

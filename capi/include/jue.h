/*
 * jue.h — the C ABI of Jue (libjue), tooling spec §5 "C and Python".
 *
 * ENVELOPES. Every function below that returns `char *` returns a JSON envelope,
 * built by serde_json and encoded as UTF-8:
 *
 *     {"status": "success", "result": <value>}
 *     {"status": "error", "error": {"kind": "<kind>", "message": "<text>"}}
 *
 * OWNERSHIP OF RETURNED STRINGS. Each such `char *` is allocated by the library,
 * owned by the caller, and must be freed exactly once with jue_string_free() —
 * never with free(). It is never null in practice (null only if even building the
 * error envelope failed, which jue_string_free also accepts).
 *
 * OWNERSHIP OF ARGUMENTS. Every `const char *` argument is borrowed: it must be
 * null or a NUL-terminated string valid for the duration of the call; the library
 * copies what it keeps. A null pointer, invalid UTF-8 or malformed JSON gives an
 * error envelope of kind "argument", never a crash. A null session gives kind
 * "argument" too.
 *
 * VALUES. JSON integers are Jue Ints (64-bit; larger is an "argument" error),
 * numbers with `.` or an exponent are Floats; strings, booleans, null and arrays
 * are Strings, Bools, nil and lists ([] is nil; nil comes back as null);
 * {"symbol": "name"} is a Symbol, {"vector": [...]} a Vector, {"handle": n} a
 * procedure (see HANDLES), {"dict": {...}} and every other object a Dict with
 * String keys. Object members keep their order both ways (a Dict's entries go
 * out in the Dict's order; an object's members come in in the text's order). A
 * Dict whose only key is "symbol", "vector", "dict" or "handle" goes out as
 * {"dict": {...}}. Improper pairs, capabilities, actors, error values, Dicts with
 * a key that is not a String and non-finite floats do not cross (kind "type").
 * An integral number passed by the host (jue_call, jue_handle_call) where an FFI
 * function declares a Float, and a callback's integral result where its spec
 * declares a Float, widen to a Float.
 *
 * HANDLES. A Jue procedure (closure, built-in or FFI function) in a result or
 * in a callback's arguments goes out as {"handle": n}, n > 0: a number the host
 * holds until it calls jue_handle_free(s, n). The procedure stays alive (across
 * collections) while its handle is held; call it with jue_handle_call, pass it
 * back in as {"handle": n} in any argument or callback result. Each crossing
 * gives a new number (free each one); jue_session_free frees those still held,
 * and jue_handle_count tells how many are.
 *
 * ERROR KINDS. The engine's run-time kinds (type, arity, unbound, range,
 * capability-denied, division-by-zero, overflow, step-limit, memory-limit,
 * timeout, depth-limit, interrupted, host, user), plus:
 *   "argument"  null pointer, invalid UTF-8, malformed or wrongly shaped JSON;
 *   "compile"   the source has error diagnostics ("E0101 at LINE:COL: message",
 *               joined with "; "); nothing ran;
 *   "grant"     a grant/revoke that cannot be made (unknown capability E0202,
 *               missing/invalid scope or amount);
 *   "registry"  a registration the registry refuses (bad name or type, a
 *               capability-requiring function of tier formal or verified);
 *   "busy"      the session is already running a call (a callback re-entered its
 *               own session other than by jue_call/jue_handle_call, or two
 *               threads used it at once);
 *   "panic"     an internal panic was caught (it never crosses the boundary); the
 *               session it happened in is then unusable;
 *   "broken"    the session was made unusable by an earlier panic.
 *
 * THREADS. A session may be used from any thread but by one call at a time
 * (overlapping calls get "busy"). Distinct sessions are independent. The one
 * exception is jue_interrupt, which any thread may call at any time.
 *
 * OUTPUT. What a Jue program prints (print, println, ...) goes to the process's
 * standard output (file descriptor 1), flushed on every write, unless an output
 * hook is set with jue_set_output.
 *
 * CONTROL. jue_session_set_limits sets the step, memory, wall-time and depth
 * limits of later evaluations; jue_interrupt stops the running one. A wall-time
 * limit or an interrupt ends jue_eval/jue_call with kind "timeout" or
 * "interrupted"; the session stays usable.
 *
 * CAPABILITIES. A new session holds none. Grants belong to the session and are
 * checked at each host call; nothing in a request (e.g. a "capability" field)
 * can grant one.
 */
#ifndef JUE_H
#define JUE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque session. Created by jue_session_new, freed by jue_session_free. */
typedef struct JueSession JueSession;

/*
 * A host callback registered with jue_register.
 *   user_data  the pointer given to jue_register, passed back unchanged.
 *   args_json  a JSON array of the positional arguments, e.g. "[\"a.txt\"]".
 *              Owned by the library; valid only until the callback returns.
 * Returns an envelope: {"status":"success","result":<value>} or
 * {"status":"error","error":{"kind":"...","message":"..."}}.
 *
 * OWNERSHIP OF THE RETURNED STRING: it stays owned by the host. The library
 * copies it immediately when the callback returns and never frees or keeps the
 * pointer, so it must stay valid until control is back in the library (e.g. a
 * static buffer, or a buffer the host frees on the callback's next call or when
 * the session is freed). An error envelope, invalid UTF-8, invalid JSON, a reply
 * that is not an envelope, or a null return becomes a Jue run-time error of kind
 * "host" (the message names the function and includes the callback's kind and
 * message). A result whose type the registered return type does not allow is a
 * "host" error too; arguments always match the registered parameter types.
 * A procedure among the arguments arrives as {"handle": n}: the callback may
 * call it with jue_handle_call (it runs within the running evaluation) and keep
 * it past the call; it frees it with jue_handle_free either way. It may also
 * call a global, built-in or FFI function by name with jue_call (likewise within
 * the running evaluation). Otherwise the callback may not call jue_* functions on
 * the same session (they return "busy"); it may use other sessions.
 */
typedef const char *(*jue_callback)(void *user_data, const char *args_json);

/* The library version, e.g. "jue 0.1.0". Static storage: do NOT free it. */
const char *jue_version(void);

/* A new session: the standard registry, no capabilities granted.
 * Owned by the caller; free with jue_session_free. Null only on failure. */
JueSession *jue_session_new(void);

/* Frees a session and everything registered in it. Null is ignored. Freeing
 * twice is undefined. Called from a callback of the same session, the session is
 * freed when the running call returns. */
void jue_session_free(JueSession *s);

/* Frees a string returned by any jue_* function except jue_version. Null is ignored. */
void jue_string_free(char *p);

/* Grants a capability in the `--grant` syntax: "CAP" or "CAP=SCOPE"
 * (e.g. "IoPersist=/data", "IoNetwork=example.com:443", "ResourceExtraTime=500").
 * Result: {"capability": "CAP", "scope": <resolved scope or null>}.
 * Errors: "grant" (unknown capability, bad scope), "argument". */
char *jue_grant(JueSession *s, const char *grant);

/* Revokes every grant of a capability, given by its bare name ("IoPersist").
 * Result: null. Errors: "grant" (unknown capability), "argument". */
char *jue_revoke(JueSession *s, const char *cap);

/* Checks, compiles and runs Jue source in the session (definitions persist).
 * Result: the value of the last form. Errors: "compile", run-time kinds, "type"
 * (a result that cannot cross), "argument". */
char *jue_eval(JueSession *s, const char *source);

/* Calls a Jue global, built-in or FFI function by name. args_json is a JSON
 * array of positional arguments, e.g. "[10, 20]" (or an object whose "args" is
 * such an array; its other fields, "capability" included, are ignored).
 * Capability checks apply exactly as for a call from Jue code. Made from inside
 * a callback of the same session (on its thread), it runs within the evaluation
 * that called the callback, under its limits, as jue_handle_call does; from
 * another thread while the session runs it is refused with "busy".
 * Errors: "unbound" (unknown name), "arity", "type", "capability-denied", any
 * run-time kind, "argument", "busy". */
char *jue_call(JueSession *s, const char *name, const char *args_json);

/* Registers `callback` as an FFI function described by spec_json, one function
 * in the registry JSON schema (`jue registry --json`):
 *   {"name": "host:read", "parameter_types": ["String"], "return_type": "String?",
 *    "required_capability": "IoPersist" | null, "tier": "empirical",
 *    "documentation": "..."}
 * name, parameter_types and return_type are required; tier defaults to
 * empirical; "host_function" and "location" are accepted and ignored (a fresh
 * custom id from 100 is assigned); a "capability" field is ignored. A function of
 * the same name is replaced. A function requiring a capability runs only while
 * the session holds it (else "capability-denied"); one requiring a capability
 * with tier formal or verified is refused ("registry").
 * user_data is passed to every call; callback and user_data must stay valid
 * until the session is freed (the library never frees user_data).
 * Result: the function as the registry lists it. Errors: "registry", "argument". */
char *jue_register(JueSession *s, const char *spec_json, jue_callback callback,
                   void *user_data);

/* The session's registry as JSON, {"functions": [...]}, in the schema of
 * `jue registry --json`. */
char *jue_registry(JueSession *s);

/* Sets the limits of later evaluations and calls from a JSON object with any of
 *   "steps"       VM steps (a non-negative integer),
 *   "memory"      live heap bytes,
 *   "timeout_ms"  wall time in milliseconds, or null for none,
 *   "depth"       non-tail call depth;
 * limits not named stay as they are. Defaults: steps 1000000000, memory
 * 268435456, timeout_ms null, depth 100000. Exceeding one ends the evaluation
 * with kind "step-limit", "memory-limit", "timeout" or "depth-limit".
 * Result: all four limits now in force, as such an object.
 * Errors: "argument" (not an object, an unknown key, a negative or non-integer
 * value). */
char *jue_session_set_limits(JueSession *s, const char *limits_json);

/* Asks the evaluation running in `s` to stop, from any thread (for example a
 * watchdog, or a SIGINT handler: it only sets an atomic flag). The running
 * jue_eval/jue_call returns an error of kind "interrupted" within microseconds
 * (a host callback that is running finishes first). Raised while nothing runs,
 * the request is dropped: the next evaluation is not affected. Returns 0, or -1
 * for a null session. `s` must not be freed while this call runs. */
int jue_interrupt(JueSession *s);

/*
 * An output hook set with jue_set_output.
 *   user_data  the pointer given to jue_set_output, passed back unchanged.
 *   text       `len` bytes of UTF-8 (followed by a NUL not counted in `len`;
 *              the text itself may contain NUL bytes). Owned by the library;
 *              valid only until the hook returns.
 * Called once per piece a Jue program prints, on the thread running the
 * evaluation. It may not call jue_* functions on the same session.
 */
typedef void (*jue_output)(void *user_data, const char *text, size_t len);

/* Sends program output to `output` (with `user_data`), or back to standard
 * output when `output` is null. `output` and `user_data` must stay valid until
 * the session is freed or the hook replaced (the library never frees user_data).
 * Result: null. Errors: "argument", "busy". */
char *jue_set_output(JueSession *s, jue_output output, void *user_data);

/* Calls the procedure behind `handle` with a JSON array of positional
 * arguments (as jue_call). From inside a callback of the same session, on the
 * callback's thread, it runs within the running evaluation (its steps count
 * and its limits hold; a limit it meets also ends that evaluation); otherwise it
 * is a call of its own, like jue_call. Errors: "type" (a handle not held), the
 * errors of jue_call. */
char *jue_handle_call(JueSession *s, uint64_t handle, const char *args_json);

/* Frees a handle: the procedure may then be collected. Any thread, any time
 * (also from a callback). Returns 0, or -1 for a null session or a handle not
 * held (already freed, never given). */
int jue_handle_free(JueSession *s, uint64_t handle);

/* How many handles the host holds in `s`, or -1 for a null session. */
int64_t jue_handle_count(JueSession *s);

#ifdef __cplusplus
}
#endif

#endif /* JUE_H */

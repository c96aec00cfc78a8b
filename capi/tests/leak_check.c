/* Leak check driver for capi/valgrind.sh: a loop of create / eval / call /
 * register / grant / revoke / registry / error paths / free, every returned
 * string freed with jue_string_free. Exits non-zero if an envelope is wrong. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include "jue.h"

static const char *reply_ok = "{\"status\":\"success\",\"result\":[1,\"two\",{\"symbol\":\"three\"}]}";
static const char *reply_err = "{\"status\":\"error\",\"error\":{\"kind\":\"io\",\"message\":\"boom\"}}";

static const char *cb(void *user_data, const char *args_json) {
    (void)args_json;
    return user_data ? reply_err : reply_ok;
}

static int failures = 0;
static JueSession *current; /* the session c:apply calls back into */
static char apply_reply[256];

/* The number in a {"handle":N} inside an envelope, or 0. */
static uint64_t handle_in(const char *env) {
    const char *p = env ? strstr(env, "{\"handle\":") : NULL;
    return p ? strtoull(p + 10, NULL, 10) : 0;
}

/* c:apply (f x): calls the procedure handle it receives on x, from inside the
 * callback, keeps nothing, and returns that call's envelope. */
static const char *cb_apply(void *user_data, const char *args_json) {
    (void)user_data;
    uint64_t h = handle_in(args_json);
    const char *comma = strchr(args_json, ',');
    char args[64];
    /* [{"handle":N},X] -> [X] */
    snprintf(args, sizeof args, "[%s", comma ? comma + 1 : "]");
    char *env = jue_handle_call(current, h, args);
    snprintf(apply_reply, sizeof apply_reply, "%s", env ? env : "null");
    jue_string_free(env);
    if (jue_handle_free(current, h) != 0) failures++;
    return apply_reply;
}

/* Output hook: appends to a fixed buffer. */
struct sink { char buf[256]; size_t len; };

static void on_output(void *user_data, const char *text, size_t len) {
    struct sink *k = user_data;
    if (k->len + len < sizeof k->buf) {
        memcpy(k->buf + k->len, text, len);
        k->len += len;
        k->buf[k->len] = 0;
    }
}

/* Interrupts the session after 100 ms, from another thread. */
static void *interrupter(void *arg) {
    struct timespec t = {0, 100 * 1000 * 1000};
    nanosleep(&t, NULL);
    jue_interrupt(arg);
    return NULL;
}

static void expect(char *env, const char *needle) {
    if (!env || !strstr(env, needle)) {
        fprintf(stderr, "expected %s in %s\n", needle, env ? env : "(null)");
        failures++;
    }
    jue_string_free(env);
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 50;
    printf("%s\n", jue_version());
    for (int i = 0; i < n; i++) {
        JueSession *s = jue_session_new();
        if (!s) { fprintf(stderr, "no session\n"); return 1; }
        expect(jue_eval(s, "(define (sq x) (* x x)) (sq 12)"), "144");
        expect(jue_eval(s, "(list 1 2.5 \"s\" 'sym (list true nil))"), "\"success\"");
        expect(jue_call(s, "math:add", "[10, 20]"), "30");
        expect(jue_call(s, "sq", "{\"args\": [3], \"capability\": \"IoPersist\"}"), "9");
        expect(jue_eval(s, "(+ 1"), "compile");
        expect(jue_eval(s, "(/ 1 0)"), "division-by-zero");
        /* Procedure handles: kept, called, passed back in, freed. */
        char *env = jue_eval(s, "(let ((k 10)) (lambda (x) (+ x k)))");
        uint64_t h = handle_in(env);
        jue_string_free(env);
        if (h == 0 || jue_handle_count(s) != 1) { fprintf(stderr, "no handle\n"); failures++; }
        expect(jue_handle_call(s, h, "[5]"), "15");
        char args[96];
        snprintf(args, sizeof args, "[{\"handle\":%llu}, [1, 2]]", (unsigned long long)h);
        expect(jue_call(s, "map", args), "[11,12]");
        expect(jue_eval(s, "(define (churn n) (if (= n 0) 0 (begin (make-vector 20 n) (churn (- n 1))))) (churn 20000)"), "success");
        expect(jue_handle_call(s, h, "[1]"), "11");
        if (jue_handle_free(s, h) != 0 || jue_handle_free(s, h) != -1) failures++;
        expect(jue_handle_call(s, h, "[1]"), "\"type\"");
        expect(jue_handle_call(s, 0, "[1]"), "\"type\"");
        if (jue_handle_free(NULL, 1) != -1 || jue_handle_count(NULL) != -1) failures++;
        current = s;
        expect(jue_register(s, "{\"name\":\"c:apply\",\"parameter_types\":[\"Fn\",\"Any\"],"
                               "\"return_type\":\"Any\"}", cb_apply, NULL), "c:apply");
        expect(jue_eval(s, "(c:apply (lambda (x) (* x 3)) 14)"), "42");
        expect(jue_eval(s, "(c:apply car (list 7 8))"), "7");
        /* Dicts keep their order across the envelope, both ways. */
        expect(jue_eval(s, "{\"z\" 1 \"a\" (vector 2) \"m\" nil}"),
               "{\"z\":1,\"a\":{\"vector\":[2]},\"m\":null}");
        expect(jue_call(s, "dict-keys", "[{\"b\": 1, \"a\": 2, \"c\": 3}]"), "[\"b\",\"a\",\"c\"]");
        expect(jue_call(s, "list", "[{\"dict\": {\"handle\": 1}}]"), "{\"dict\":{\"handle\":1}}");
        if (jue_handle_count(s) != 0) { fprintf(stderr, "handles left\n"); failures++; }
        expect(jue_call(s, "no:such", "[]"), "unbound");
        expect(jue_call(s, "math:add", "[1,"), "argument");
        expect(jue_call(s, "math:add", NULL), "argument");
        expect(jue_eval(s, "\xff\xfe"), "argument");
        expect(jue_eval(NULL, "1"), "argument");
        expect(jue_grant(s, "io-network"), "E0202");
        expect(jue_grant(s, "SysClock"), "success");
        expect(jue_call(s, "get-wall-clock", "[]"), "success");
        expect(jue_revoke(s, "SysClock"), "success");
        expect(jue_call(s, "get-wall-clock", "[]"), "capability-denied");
        expect(jue_register(s, "{\"name\":\"c:ok\",\"parameter_types\":[\"Any...\"],"
                               "\"return_type\":\"Any\"}", cb, NULL), "c:ok");
        expect(jue_register(s, "{\"name\":\"c:err\",\"parameter_types\":[],"
                               "\"return_type\":\"Any\",\"required_capability\":\"IoPersist\"}",
                            cb, (void *)1), "c:err");
        expect(jue_register(s, "{\"name\":\"c:f\",\"parameter_types\":[],\"return_type\":\"Int\","
                               "\"required_capability\":\"SysClock\",\"tier\":\"formal\"}",
                            cb, NULL), "registry");
        expect(jue_register(s, "{", cb, NULL), "argument");
        expect(jue_eval(s, "(c:ok 1 \"x\" 'y)"), "three");
        expect(jue_call(s, "c:err", "[]"), "capability-denied");
        expect(jue_grant(s, "IoPersist"), "success");
        expect(jue_call(s, "c:err", "[]"), "boom");
        expect(jue_registry(s), "math:add");

        /* Control: limits, interrupts, the output hook. */
        expect(jue_session_set_limits(s, "{\"steps\": 5000}"), "\"steps\":5000");
        expect(jue_eval(s, "(define (loop n) (loop (+ n 1))) (loop 0)"), "step-limit");
        expect(jue_session_set_limits(s, "{\"steps\": 1000000000000, \"timeout_ms\": 50}"),
               "\"timeout_ms\":50");
        expect(jue_call(s, "loop", "[0]"), "timeout");
        expect(jue_session_set_limits(s, "{\"timeout_ms\": null}"), "\"timeout_ms\":null");
        expect(jue_session_set_limits(s, "{\"stepz\": 1}"), "argument");
        expect(jue_session_set_limits(s, "{\"steps\": -1}"), "argument");
        expect(jue_session_set_limits(s, "[1]"), "argument");
        if (jue_interrupt(s) != 0 || jue_interrupt(NULL) != -1) failures++;
        expect(jue_eval(s, "(+ 40 2)"), "42"); /* an idle interrupt is dropped */
        if (i == 0) {
            pthread_t th;
            pthread_create(&th, NULL, interrupter, s);
            expect(jue_call(s, "loop", "[0]"), "interrupted");
            pthread_join(th, NULL);
        }
        struct sink k = {{0}, 0};
        expect(jue_set_output(s, on_output, &k), "success");
        expect(jue_eval(s, "(println \"hi\" 1) (print \"x\")"), "success");
        if (strcmp(k.buf, "hi 1\nx") != 0) {
            fprintf(stderr, "output hook got [%s]\n", k.buf);
            failures++;
        }
        expect(jue_set_output(s, NULL, NULL), "success");
        expect(jue_set_output(NULL, on_output, &k), "argument");
        jue_session_free(s);
    }
    jue_string_free(NULL);
    jue_session_free(NULL);
    if (failures) { fprintf(stderr, "%d failures\n", failures); return 1; }
    printf("leak_check: %d iterations ok\n", n);
    return 0;
}

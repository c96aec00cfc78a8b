/* Embedding Jue in a long-running C program (README, "Embedding from C"):
 * limits, an output hook, a host callback, N calls with string and list
 * arguments while resident memory is watched, and a runaway evaluation stopped
 * from another thread with jue_interrupt.
 *
 * Build: cc -std=c99 -I capi/include capi/examples/embed.c -L target/release -ljue
 *        -lpthread -Wl,-rpath,target/release -o embed
 * Run:   ./embed [CALLS]   (exit status 1 if RSS grew by 20 MB or more) */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "jue.h"

static size_t printed = 0;

static void on_output(void *user_data, const char *text, size_t len) {
    (void)user_data;
    (void)text;
    printed += len;
}

/* A host function: succeeds on strings, fails (an error envelope, never a crash)
 * on anything else. The reply is static, as jue.h allows. */
static const char *host_len(void *user_data, const char *args_json) {
    (void)user_data;
    return args_json[1] == '"' ? "{\"status\":\"success\",\"result\":1}"
                               : "{\"status\":\"error\",\"error\":{\"kind\":\"host\",\"message\":\"not a string\"}}";
}

static double rss_mb(void) {
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    fclose(f);
    return (double)resident * (double)sysconf(_SC_PAGESIZE) / (1 << 20);
}

static int check(char *env, const char *needle) {
    int ok = env && strstr(env, needle);
    if (!ok) fprintf(stderr, "expected %s in %s\n", needle, env ? env : "(null)");
    jue_string_free(env);
    return ok;
}

static void *stopper(void *s) {
    struct timespec t = {0, 200 * 1000 * 1000};
    nanosleep(&t, NULL);
    jue_interrupt(s);
    return NULL;
}

int main(int argc, char **argv) {
    long calls = argc > 1 ? atol(argv[1]) : 1000000;
    int ok = 1;
    JueSession *s = jue_session_new();
    ok &= check(jue_session_set_limits(s, "{\"steps\": 1000000, \"memory\": 67108864}"), "success");
    ok &= check(jue_set_output(s, on_output, NULL), "success");
    ok &= check(jue_register(s, "{\"name\":\"host:len\",\"parameter_types\":[\"Any\"],"
                                "\"return_type\":\"Int\"}", host_len, NULL), "success");
    ok &= check(jue_eval(s, "(define (work s xs) (+ (string-length s) (length xs) (host:len s)))"
                            "(define (loop n) (loop (+ n 1)))"), "success");
    ok &= check(jue_call(s, "host:len", "[1]"), "not a string");

    char args[1200];
    snprintf(args, sizeof args, "[\"%0999d\", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]", 7);
    double start = 0;
    for (long i = 0; i < calls + calls / 10 && ok; i++) {
        if (i == calls / 10) start = rss_mb(); /* after warm-up */
        ok &= check(jue_call(s, "work", args), "1010");
        if (i % 1000 == 0) ok &= check(jue_eval(s, "(println \"tick\")"), "success");
    }
    double end = rss_mb();
    printf("%ld calls: RSS %.1f MB after warm-up, %.1f MB at the end (+%.1f MB); %zu bytes printed\n",
           calls, start, end, end - start, printed);

    /* A runaway evaluation, stopped from another thread. */
    ok &= check(jue_session_set_limits(s, "{\"steps\": 100000000000}"), "success");
    pthread_t th;
    pthread_create(&th, NULL, stopper, s);
    ok &= check(jue_call(s, "loop", "[0]"), "interrupted");
    pthread_join(th, NULL);
    ok &= check(jue_eval(s, "(+ 40 2)"), "42");
    jue_session_free(s);
    if (!ok) return 2;
    return end - start < 20 ? 0 : 1;
}

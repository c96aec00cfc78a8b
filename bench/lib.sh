# shellcheck shell=bash
# Shared helpers for bench/suite/run.sh, bench/data/run.sh, bench/actors/run.sh.
# Source it; it defines functions only (plus HERE_LIB and BENCH_ROOT).
# Progress goes to stderr (log), results to stdout.

HERE_LIB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BENCH_ROOT="$(cd "$HERE_LIB/.." && pwd)"

log() { printf '%s\n' "$*" >&2; }
die() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

# need TOOL PACKAGE: die with the Debian package to install if TOOL is missing.
need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 not found: apt-get install -y $2"
}

# The real Python interpreter (python3 may be a pyenv shim, whose start-up
# would be counted in every Python time).
python_exe() { python3 -c 'import sys; print(sys.executable)'; }

# jue_binary: the release `jue`, $JUE if set. Dies with the build command if
# it is missing.
jue_binary() {
  local j="${JUE:-$BENCH_ROOT/target/release/jue}"
  [[ -x $j ]] || die "no jue binary at $j: build it with \`nice -n 15 cargo build --release -p jue\` (or set JUE=)"
  printf '%s\n' "$j"
}

# hyperfine_json OUT.json RUNS WARMUP CMD...: time the commands side by side
# in one hyperfine invocation (-N: no shell in between). Dies on failure.
# With BENCH_INTERLEAVE=1, instead RUNS invocations of one run each (after
# WARMUP invocations not kept), so that the commands alternate run by run and
# a change in the machine's load hits all of them alike (hyperfine itself
# runs all runs of the first command, then of the next); OUT.json then has
# the same fields (median wall time, mean user and system time) over them.
hyperfine_json() {
  local out=$1 runs=$2 warmup=$3
  shift 3
  if [[ ${BENCH_INTERLEAVE:-0} != 1 ]]; then
    if ! hyperfine -N --style none --warmup "$warmup" --runs "$runs" \
          --export-json "$out" "$@" >/dev/null 2>"$out.err"; then
      cat "$out.err" >&2
      die "hyperfine failed"
    fi
    return
  fi
  local i parts=()
  for ((i = 0; i < warmup + runs; i++)); do
    if ! hyperfine -N --style none --runs 1 \
          --export-json "$out.$i" "$@" >/dev/null 2>"$out.err"; then
      cat "$out.err" >&2
      die "hyperfine failed"
    fi
    ((i < warmup)) || parts+=("$out.$i")
  done
  python3 -c 'import json, statistics, sys
runs = [json.load(open(p))["results"] for p in sys.argv[2:]]
out = {"results": []}
for k in range(len(runs[0])):
    rs = [r[k] for r in runs]
    out["results"].append({
        "command": rs[0]["command"],
        "median": statistics.median(r["mean"] for r in rs),
        "user": statistics.fmean(r["user"] for r in rs),
        "system": statistics.fmean(r["system"] for r in rs),
    })
json.dump(out, open(sys.argv[1], "w"))' "$out" "${parts[@]}"
  rm -f "$out".[0-9]*
}

# medians OUT.json: for each command, one a line, its median wall time and
# its mean CPU time (user + system) in seconds, separated by a tab. CPU time
# counts what the program did, not the time it waited for a core on a loaded
# machine: the ratio of CPU times is the steadier one under load.
medians() {
  python3 -c 'import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print("%.6f\t%.6f" % (r["median"], r["user"] + r["system"]))' "$1"
}

# peak_rss_kb PROGRAM ARGS...: run it once under GNU time; print its maximum
# resident set size in KiB (stdout of the program is discarded).
peak_rss_kb() {
  local err
  err="$(mktemp)"
  if ! /usr/bin/time -v "$@" >/dev/null 2>"$err"; then
    cat "$err" >&2
    rm -f "$err"
    return 1
  fi
  awk -F': *' '/Maximum resident set size/ { print $2 }' "$err"
  rm -f "$err"
}

# machine_line: "CPU model, N cores, kernel" for the results header.
machine_line() {
  local cpu
  cpu="$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)"
  printf '%s, %s cores, Linux %s\n' "${cpu:-unknown CPU}" "$(nproc)" "$(uname -r)"
}

# jue_flags FILE: the options on FILE's first line after "; bench-flags:"
# (e.g. --grant IoPersist), which a Jue peer program needs to run.
jue_flags() { sed -n '1s/^; bench-flags://p' "$1"; }

# jue_ready FILE: true if a jue binary is there and `jue check` accepts FILE
# (the peer programs of issues 17 and 18 use features Jue does not have yet;
# they join the comparison by themselves once it does).
jue_ready() {
  local j="${JUE:-$BENCH_ROOT/target/release/jue}"
  [[ -x $j ]] && "$j" check "$1" >/dev/null 2>&1
}

# compare_row ROWS NAME EXPECT RUNS WARMUP LABEL CMD [LABEL CMD]...:
# run each command once (in the current directory) and keep those that print
# exactly EXPECT, reporting the others on stderr and setting FAIL=1; time the
# kept ones in ONE hyperfine invocation; append
# "NAME<TAB>LABEL<TAB>median s<TAB>mean CPU s" to the file ROWS for each.
# CMD is a command line with words quoted by printf %q (hyperfine -N splits
# it the same way).
# shellcheck disable=SC2034 # FAIL is read by the sourcing script
compare_row() {
  local rows=$1 name=$2 expect=$3 runs=$4 warmup=$5
  shift 5
  local labels=() cmds=() label cmd out status tmp
  tmp="$(mktemp -d)"
  while [[ $# -ge 2 ]]; do
    label=$1 cmd=$2
    shift 2
    status=0
    out="$(eval "$cmd" 2>"$tmp/err")" || status=$?
    if [[ $status != 0 ]]; then
      log "FAIL: $name under $label exited with status $status:"
      sed 's/^/    /' "$tmp/err" | head -20 >&2
      FAIL=1
    elif [[ $out != "$expect" ]]; then
      log "FAIL: $name under $label printed '$out', expected '$expect'"
      FAIL=1
    else
      labels+=("$label"); cmds+=("$cmd")
    fi
  done
  if [[ ${#cmds[@]} -gt 0 ]]; then
    hyperfine_json "$tmp/h.json" "$runs" "$warmup" "${cmds[@]}"
    local i=0 m
    while read -r m; do
      printf '%s\t%s\t%s\n' "$name" "${labels[$i]}" "$m" >> "$rows"
      i=$((i + 1))
    done < <(medians "$tmp/h.json")
  fi
  rm -rf "$tmp"
}

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
hyperfine_json() {
  local out=$1 runs=$2 warmup=$3
  shift 3
  if ! hyperfine -N --style none --warmup "$warmup" --runs "$runs" \
        --export-json "$out" "$@" >/dev/null 2>"$out.err"; then
    cat "$out.err" >&2
    die "hyperfine failed"
  fi
}

# medians OUT.json: the median wall time in seconds of each command, one a line.
medians() {
  python3 -c 'import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print("%.6f" % r["median"])' "$1"
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

#!/usr/bin/env bash
# Whole-process benchmarks: Jue (release build) against Lua 5.4 and Python 3.
#
# Usage: bench/compare.sh [--quick] [--no-jue] [--rebuild]
#   --quick    1 run per command, no warm-up (smoke test)
#   --no-jue   skip Jue (check and time only the Lua and Python halves)
#   --rebuild  run `cargo build --release` even if target/release/jue exists
# Environment: JUE=/path/to/jue overrides the binary (default target/release/jue);
#   BENCH_FALLBACK=1 ignores hyperfine and GNU time (tests the fallback paths).
#
# Per program (fib, loop, list, closure) it checks that the three outputs are
# identical and equal to the known answer, then times each with hyperfine
# (`--warmup 1 --runs 5 -N`, minimum kept) or, without hyperfine, a loop over
# `date +%s%N` keeping the minimum of 5 runs. It then prints
#   - the table: program, jue s, lua s, python s, jue/lua, python/jue
#   - the FFI call cost: ffi.jue (registry `add`) against builtin.jue (`+`)
#   - gc.jue's time and peak RSS (GNU `/usr/bin/time -v`, else /proc polling)
#   - start-up: `jue run` of an empty file against `python3 -c pass`
# Progress goes to stderr, results to stdout. Exit status 1 if any output was
# wrong or any program failed.
#
# Per shared/notes/fast-vm.md §3: compare ratios to Lua rather than absolute
# times, and treat differences under 5% as noise on these 2-core machines.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"

QUICK=0
NO_JUE=0
REBUILD=0
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    --no-jue) NO_JUE=1 ;;
    --rebuild) REBUILD=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "compare.sh: unknown option: $arg (try --help)" >&2; exit 2 ;;
  esac
done

if [[ $QUICK == 1 ]]; then
  RUNS=1; WARMUP=0; STARTUP_RUNS=1
else
  RUNS=5; WARMUP=1; STARTUP_RUNS=20
fi

log() { printf '%s\n' "$*" >&2; }
die() { printf 'compare.sh: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- tools ----
missing_pkgs=()
command -v lua5.4 >/dev/null 2>&1 || missing_pkgs+=(lua5.4)
command -v hyperfine >/dev/null 2>&1 || missing_pkgs+=(hyperfine)
[[ -x /usr/bin/time ]] || missing_pkgs+=(time)
if [[ ${#missing_pkgs[@]} -gt 0 ]]; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "installing ${missing_pkgs[*]} with apt-get ..."
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing_pkgs[@]}"; } >&2; then
      log "warning: apt-get install ${missing_pkgs[*]} failed; continuing with what is there"
    fi
  else
    log "warning: missing ${missing_pkgs[*]} (not root or no apt-get); continuing with what is there"
  fi
fi

LUA="$(command -v lua5.4 || true)"
[[ -n $LUA ]] || die "lua5.4 not found (Debian package lua5.4)"
command -v python3 >/dev/null 2>&1 || die "python3 not found"
# Resolve the real interpreter: python3 may be a shim script (pyenv), whose
# start-up would otherwise be counted in every Python time.
PY="$(python3 -c 'import sys; print(sys.executable)')"
[[ -x $PY ]] || die "cannot resolve the python3 interpreter"

BENCH_FALLBACK="${BENCH_FALLBACK:-0}"
HYPERFINE=""
if [[ $BENCH_FALLBACK != 1 ]] && command -v hyperfine >/dev/null 2>&1 && hyperfine --help 2>/dev/null | grep -q -- '--shell'; then
  HYPERFINE="$(command -v hyperfine)"
  if ! hyperfine --help 2>/dev/null | grep -q -- '-N'; then
    HYPERFINE=""   # too old for -N (needs hyperfine >= 1.13)
  fi
fi

GNU_TIME=""
if [[ $BENCH_FALLBACK != 1 && -x /usr/bin/time ]] && /usr/bin/time -v true >/dev/null 2>&1; then
  GNU_TIME=/usr/bin/time
fi

JUE="${JUE:-$ROOT/target/release/jue}"
if [[ $NO_JUE == 0 ]]; then
  if [[ ! -x $JUE || $REBUILD == 1 ]]; then
    log "building jue: cargo build --release ..."
    (cd "$ROOT" && cargo build --release >&2) \
      || die "cargo build --release failed (use --no-jue to run only the Lua and Python halves)"
  fi
  [[ -x $JUE ]] || die "no jue binary at $JUE"
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
: > "$TMP/empty.jue"

log "lua: $LUA ($("$LUA" -v 2>&1 | head -1))"
log "python: $PY ($("$PY" --version 2>&1))"
[[ $NO_JUE == 1 ]] || log "jue: $JUE"
if [[ -n $HYPERFINE ]]; then
  log "timing: $(hyperfine --version), --warmup $WARMUP --runs $RUNS -N, minimum kept"
else
  log "timing: no hyperfine; date +%s%N loop, $WARMUP warm-up, minimum of $RUNS runs"
fi

# ------------------------------------------------------------- helpers ----
declare -A EXPECT=(
  [fib]=832040
  [loop]=10000000
  [list]=500000500000
  [closure]=500001500000
  [gc]=12500022500000
  [ffi]=10000000
  [builtin]=10000000
)

FAIL=0

# cmd LANG PROG -> a command line (arguments shell-quoted), for eval/hyperfine.
cmd() {
  local lang=$1 prog=$2
  case "$lang" in
    jue) printf '%q run %q' "$JUE" "$HERE/$prog.jue" ;;
    lua) printf '%q %q' "$LUA" "$HERE/$prog.lua" ;;
    py)  printf '%q %q' "$PY" "$HERE/$prog.py" ;;
  esac
}

# check LANG PROG: run once, compare stdout with the expected answer.
# Returns 0 if right; prints the problem and sets FAIL otherwise.
check() {
  local lang=$1 prog=$2 out status=0
  out="$(eval "$(cmd "$lang" "$prog")" 2>"$TMP/stderr")" || status=$?
  if [[ $status != 0 ]]; then
    log "FAIL: $prog ($lang) exited with status $status:"
    sed 's/^/    /' "$TMP/stderr" | head -20 >&2
    FAIL=1
    return 1
  fi
  if [[ $out != "${EXPECT[$prog]}" ]]; then
    log "FAIL: $prog ($lang) printed '$out', expected '${EXPECT[$prog]}'"
    FAIL=1
    return 1
  fi
  return 0
}

# time_min RUNS WARMUP CMD... : print the minimum wall time in seconds of each
# command, one per line, in order.
time_min() {
  local runs=$1 warmup=$2
  shift 2
  if [[ -n $HYPERFINE ]]; then
    local json="$TMP/hyperfine.json"
    if ! "$HYPERFINE" -N --style none --warmup "$warmup" --runs "$runs" \
          --export-json "$json" "$@" >/dev/null 2>"$TMP/hyperfine.err"; then
      cat "$TMP/hyperfine.err" >&2
      die "hyperfine failed"
    fi
    "$PY" -c 'import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print("%.6f" % r["min"])' "$json"
  else
    local c i t0 t1 best
    for c in "$@"; do
      for ((i = 0; i < warmup; i++)); do eval "$c" >/dev/null 2>&1; done
      best=""
      for ((i = 0; i < runs; i++)); do
        t0=$(date +%s%N)
        eval "$c" >/dev/null 2>&1
        t1=$(date +%s%N)
        if [[ -z $best ]] || (( t1 - t0 < best )); then best=$((t1 - t0)); fi
      done
      awk -v ns="$best" 'BEGIN { printf "%.6f\n", ns / 1e9 }'
    done
  fi
}

# ratio A B -> A/B with 2 decimals, or "-" if either is missing.
ratio() {
  if [[ $1 == - || $2 == - ]]; then echo -; return; fi
  awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f\n", a / b; else print "-" }'
}
fmt_s() { if [[ $1 == - ]]; then echo -; else awk -v s="$1" 'BEGIN { printf "%.3f\n", s }'; fi; }
fmt_ms() { if [[ $1 == - ]]; then echo -; else awk -v s="$1" 'BEGIN { printf "%.1f\n", s * 1000 }'; fi; }

# peak_rss_kb PROGRAM ARGS...: run it once (stdout to $TMP/rss.out); print
# its peak RSS in KiB. Takes an argument vector, not a command string, so the
# process measured is the program itself and not a shell around it.
peak_rss_kb() {
  if [[ -n $GNU_TIME ]]; then
    "$GNU_TIME" -v "$@" >"$TMP/rss.out" 2>"$TMP/rss.err" || { cat "$TMP/rss.err" >&2; return 1; }
    awk -F': *' '/Maximum resident set size/ { print $2 }' "$TMP/rss.err"
  else
    # /proc polling: VmHWM is the process's own high-water mark, so the last
    # value read before exit is (nearly) its peak.
    local pid hwm="" h status=0
    "$@" >"$TMP/rss.out" 2>"$TMP/rss.err" &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
      h="$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)"
      [[ -n $h ]] && hwm=$h
      sleep 0.01
    done
    wait "$pid" || status=$?
    [[ $status == 0 ]] || { cat "$TMP/rss.err" >&2; return 1; }
    echo "${hwm:-0}"
  fi
}

# ------------------------------------------------------ main programs ----
LANGS=(lua py)
[[ $NO_JUE == 1 ]] || LANGS=(jue lua py)

declare -A T
rows=()
for prog in fib loop list closure; do
  log "== $prog"
  ok_langs=()
  for lang in "${LANGS[@]}"; do
    if check "$lang" "$prog"; then ok_langs+=("$lang"); fi
  done
  cmds=()
  for lang in "${ok_langs[@]}"; do cmds+=("$(cmd "$lang" "$prog")"); done
  for lang in jue lua py; do T[$prog,$lang]=-; done
  if [[ ${#cmds[@]} -gt 0 ]]; then
    mapfile -t times < <(time_min "$RUNS" "$WARMUP" "${cmds[@]}")
    [[ ${#times[@]} == "${#cmds[@]}" ]] || die "timing $prog failed"
    for i in "${!ok_langs[@]}"; do T[$prog,${ok_langs[$i]}]=${times[$i]}; done
  fi
  for lang in "${LANGS[@]}"; do
    if [[ ! " ${ok_langs[*]} " =~ " $lang " ]]; then T[$prog,$lang]=FAIL; fi
  done
  rows+=("$prog")
done

num() { [[ $1 == - || $1 == FAIL ]] && echo - || echo "$1"; }

echo
echo "Whole-process wall time, minimum of $RUNS run(s); outputs checked identical and correct."
printf '%-9s %10s %10s %10s %9s %11s\n' program "jue s" "lua s" "python s" "jue/lua" "python/jue"
for prog in "${rows[@]}"; do
  j=${T[$prog,jue]} l=${T[$prog,lua]} p=${T[$prog,py]}
  fj=$j; [[ $j == - || $j == FAIL ]] || fj=$(fmt_s "$j")
  fl=$l; [[ $l == - || $l == FAIL ]] || fl=$(fmt_s "$l")
  fp=$p; [[ $p == - || $p == FAIL ]] || fp=$(fmt_s "$p")
  printf '%-9s %10s %10s %10s %9s %11s\n' "$prog" "$fj" "$fl" "$fp" \
    "$(ratio "$(num "$j")" "$(num "$l")")" "$(ratio "$(num "$p")" "$(num "$j")")"
done

# ------------------------------------------------------- jue-only parts ----
if [[ $NO_JUE == 0 ]]; then
  echo
  log "== ffi vs builtin"
  if check jue ffi && check jue builtin; then
    mapfile -t ft < <(time_min "$RUNS" "$WARMUP" "$(cmd jue ffi)" "$(cmd jue builtin)")
    printf 'FFI call cost: ffi.jue (add) %s s, builtin.jue (+) %s s, ffi/builtin %s\n' \
      "$(fmt_s "${ft[0]}")" "$(fmt_s "${ft[1]}")" "$(ratio "${ft[0]}" "${ft[1]}")"
  else
    echo "FFI call cost: FAIL (see above)"
  fi

  log "== gc"
  if check jue gc; then
    mapfile -t gt < <(time_min "$RUNS" "$WARMUP" "$(cmd jue gc)")
    if gc_kb="$(peak_rss_kb "$JUE" run "$HERE/gc.jue")" \
        && base_kb="$(peak_rss_kb "$JUE" run "$TMP/empty.jue")"; then
      how="/proc VmHWM polling"; [[ -z $GNU_TIME ]] || how="/usr/bin/time -v"
      printf 'gc.jue: %s s; peak RSS %.1f MiB (empty program: %.1f MiB; %s)\n' \
        "$(fmt_s "${gt[0]}")" "$(awk -v k="$gc_kb" 'BEGIN { print k / 1024 }')" \
        "$(awk -v k="$base_kb" 'BEGIN { print k / 1024 }')" "$how"
    else
      echo "gc.jue: peak RSS measurement failed"; FAIL=1
    fi
  else
    echo "gc.jue: FAIL (see above)"
  fi
fi

# ------------------------------------------------------------ start-up ----
log "== start-up"
su_cmds=()
[[ $NO_JUE == 1 ]] || su_cmds+=("$(printf '%q run %q' "$JUE" "$TMP/empty.jue")")
su_cmds+=("$(printf '%q -c pass' "$PY")" "$(printf "%q -e ''" "$LUA")")
mapfile -t st < <(time_min "$STARTUP_RUNS" "$WARMUP" "${su_cmds[@]}")
echo
if [[ $NO_JUE == 1 ]]; then
  printf 'Start-up (min of %s): python3 -c pass %s ms, lua5.4 -e %s %s ms\n' \
    "$STARTUP_RUNS" "$(fmt_ms "${st[0]}")" "''" "$(fmt_ms "${st[1]}")"
else
  printf 'Start-up (min of %s): jue run empty.jue %s ms, python3 -c pass %s ms, lua5.4 -e %s %s ms; python/jue %s\n' \
    "$STARTUP_RUNS" "$(fmt_ms "${st[0]}")" "$(fmt_ms "${st[1]}")" "''" "$(fmt_ms "${st[2]}")" \
    "$(ratio "${st[1]}" "${st[0]}")"
fi

if [[ $FAIL != 0 ]]; then
  echo
  echo "Some programs failed or printed a wrong answer (details on stderr)."
  exit 1
fi

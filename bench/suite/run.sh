#!/usr/bin/env bash
# The side-by-side benchmark suite of issue 19: each workload as NAME.jue and
# NAME.lua (same algorithm, same sizes), run under the release `jue run`,
# `lua5.4` and `luajit -joff` (LuaJIT's interpreter, JIT off) in ONE hyperfine
# invocation per workload, so the three share the machine's state.
#
# Usage: bench/suite/run.sh [--quick] [--runs N] [--interleave] [--only a,b,...]
#   --quick      1 run per command, no warm-up (smoke test)
#   --runs N     timed runs per command (default 5, plus 1 warm-up)
#   --interleave alternate the runtimes run by run (N hyperfine invocations
#                of one run each) instead of one invocation per workload
#                (which runs all of Jue's runs, then Lua's...): steadier when
#                the load of a shared machine changes during the suite
#   --only LIST  only these workloads (comma-separated); skips start-up and
#                memory unless "startup" / "memory" is in LIST
# Environment: JUE=/path/to/jue (default target/release/jue).
# Needs: hyperfine, lua5.4, luajit, GNU time (/usr/bin/time), python3
#   (apt-get install -y hyperfine lua5.4 luajit time).
#
# Before timing, every program is run once under each runtime and its output
# (a checksum) must equal the known answer in all three; a wrong or failed
# run is reported and that workload is left out of the table (exit status 1).
#
# Writes a Markdown report to stdout: median wall times, Jue/Lua5.4 and
# Jue/LuaJIT ratios and their geometric means, the host-call cost (hostcall
# against loop), start-up (empty program, 20 runs) and memory per cons cell
# (peak RSS of cons1m minus an empty program's, over 10^6 cells).
# Progress goes to stderr. bench/results.sh puts this into bench/RESULTS.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=bench/lib.sh
source "$HERE/../lib.sh"

RUNS=5
WARMUP=1
STARTUP_RUNS=20
ONLY=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) RUNS=1; WARMUP=0; STARTUP_RUNS=3 ;;
    --runs) shift; [[ ${1:-} =~ ^[1-9][0-9]*$ ]] || die "--runs needs a positive integer"; RUNS=$1 ;;
    --interleave) export BENCH_INTERLEAVE=1 ;;
    --only) shift; ONLY=",${1:-},"; [[ $ONLY != ",," ]] || die "--only needs a list" ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown option: $1 (try --help)" ;;
  esac
  shift
done

need hyperfine hyperfine
need lua5.4 lua5.4
need luajit luajit
need python3 python3
[[ -x /usr/bin/time ]] || die "/usr/bin/time not found: apt-get install -y time"
JUE="$(jue_binary)"
LUA="$(command -v lua5.4)"
LUAJIT="$(command -v luajit)"

# Workloads in table order, with the checksum each must print.
WORKLOADS=(fib tak nqueens loop closure mapfold listchurn strings walk hostcall)
declare -A EXPECT=(
  [fib]=832040
  [tak]=700
  [nqueens]=4600
  [loop]=10000000
  [closure]=500001500000
  [mapfold]=1001000000
  [listchurn]=4000000
  [strings]=2920000
  [walk]=50005000000
  [hostcall]=10000000
  [cons1m]=1000000
)
selected() { [[ -z $ONLY || $ONLY == *",$1,"* ]]; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# cmdline RUNTIME PROG -> one command line (words shell-quoted) for hyperfine -N.
cmdline() {
  case "$1" in
    jue) printf '%q run %q' "$JUE" "$HERE/$2.jue" ;;
    lua) printf '%q %q' "$LUA" "$HERE/$2.lua" ;;
    luajit) printf '%q -joff %q' "$LUAJIT" "$HERE/$2.lua" ;;
  esac
}
# argv RUNTIME PROG -> the same as an argument vector (into the array ARGV).
argv() {
  case "$1" in
    jue) ARGV=("$JUE" run "$HERE/$2.jue") ;;
    lua) ARGV=("$LUA" "$HERE/$2.lua") ;;
    luajit) ARGV=("$LUAJIT" -joff "$HERE/$2.lua") ;;
  esac
}

FAIL=0
# check PROG: run it under the three runtimes; 0 if all print the checksum.
check() {
  local prog=$1 rt out status ok=0
  for rt in jue lua luajit; do
    argv "$rt" "$prog"
    status=0
    out="$("${ARGV[@]}" 2>"$TMP/stderr")" || status=$?
    if [[ $status != 0 ]]; then
      log "FAIL: $prog under $rt exited with status $status:"
      sed 's/^/    /' "$TMP/stderr" | head -20 >&2
      ok=1
    elif [[ $out != "${EXPECT[$prog]}" ]]; then
      log "FAIL: $prog under $rt printed '$out', expected '${EXPECT[$prog]}'"
      ok=1
    fi
  done
  [[ $ok == 0 ]] || FAIL=1
  return $ok
}

log "jue: $JUE"
log "lua: $LUA ($("$LUA" -v 2>&1 | head -1))"
log "luajit: $LUAJIT ($("$LUAJIT" -v 2>&1 | head -1))"
log "timing: $(hyperfine --version), -N --warmup $WARMUP --runs $RUNS${BENCH_INTERLEAVE:+ interleaved}, median kept"

START=$(date +%s)
: > "$TMP/times.tsv"
for prog in "${WORKLOADS[@]}"; do
  selected "$prog" || continue
  log "== $prog"
  check "$prog" || continue
  hyperfine_json "$TMP/$prog.json" "$RUNS" "$WARMUP" \
    "$(cmdline jue "$prog")" "$(cmdline lua "$prog")" "$(cmdline luajit "$prog")"
  mapfile -t m < <(medians "$TMP/$prog.json")
  # prog, then wall and CPU seconds of jue, lua5.4, luajit
  printf '%s\t%s\t%s\t%s\n' "$prog" "${m[0]}" "${m[1]}" "${m[2]}" >> "$TMP/times.tsv"
done

: > "$TMP/startup.tsv"
if selected startup; then
  log "== start-up (empty program)"
  hyperfine_json "$TMP/startup.json" "$STARTUP_RUNS" "$WARMUP" \
    "$(cmdline jue empty)" "$(cmdline lua empty)" "$(cmdline luajit empty)"
  mapfile -t m < <(medians "$TMP/startup.json")
  printf '%s\t%s\t%s\n' "${m[0]}" "${m[1]}" "${m[2]}" | cut -f1,3,5 > "$TMP/startup.tsv"
fi

: > "$TMP/memory.tsv"
if selected memory; then
  log "== memory per cons cell (peak RSS, /usr/bin/time -v)"
  if check cons1m; then
    for rt in jue lua luajit; do
      argv "$rt" cons1m; full="$(peak_rss_kb "${ARGV[@]}")"
      argv "$rt" empty; base="$(peak_rss_kb "${ARGV[@]}")"
      printf '%s\t%s\t%s\n' "$rt" "$full" "$base" >> "$TMP/memory.tsv"
    done
  fi
fi
ELAPSED=$(( $(date +%s) - START ))

python3 - "$TMP" "$RUNS" "$WARMUP" "$STARTUP_RUNS" "$ELAPSED" <<'PY'
import math, os, sys
tmp, runs, warmup, startup_runs, elapsed = sys.argv[1:6]

def rows(name):
    path = os.path.join(tmp, name)
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]

# per workload: (wall jue, lua, luajit), (cpu jue, lua, luajit)
times, cpu = {}, {}
for r in rows("times.tsv"):
    v = list(map(float, r[1:]))
    times[r[0]], cpu[r[0]] = tuple(v[0::2]), tuple(v[1::2])
how = ("the runtimes alternating run by run (--interleave)"
       if os.environ.get("BENCH_INTERLEAVE") == "1"
       else "one hyperfine invocation per workload")
print(f"Median wall time of {runs} run(s) after {warmup} warm-up, whole process "
      f"(start-up included), {how}; every output "
      f"checked equal to the known checksum under all three. The CPU columns are "
      f"the same ratios taken on mean user + system time, which a loaded machine "
      f"disturbs less than wall time.\n")
print("| workload | jue s | lua5.4 s | luajit -joff s | jue/lua5.4 | jue/luajit-interp "
      "| CPU jue/lua5.4 | CPU jue/luajit-interp |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
geo = lambda xs: math.exp(sum(map(math.log, xs)) / len(xs))
r_lua, r_jit, c_lua, c_jit = [], [], [], []
for prog, (j, l, lj) in times.items():
    cj, cl, clj = cpu[prog]
    r_lua.append(j / l); r_jit.append(j / lj); c_lua.append(cj / cl); c_jit.append(cj / clj)
    print(f"| {prog} | {j:.3f} | {l:.3f} | {lj:.3f} | {j / l:.2f} | {j / lj:.2f} "
          f"| {cj / cl:.2f} | {cj / clj:.2f} |")
if r_lua:
    print(f"| **geometric mean** | | | | **{geo(r_lua):.2f}** | **{geo(r_jit):.2f}** "
          f"| **{geo(c_lua):.2f}** | **{geo(c_jit):.2f}** |")
    over_lua = [p for p, (j, l, _) in times.items() if j / l > 1.0]
    over_jit = [p for p, (j, _, lj) in times.items() if j / lj > 1.25]
    print()
    print("Issue 19 targets (wall-time medians): every workload ≤ 1.00× Lua 5.4 "
          f"(missed by: {', '.join(over_lua) or 'none'}); against LuaJIT's interpreter "
          f"a geometric mean ≤ 1.00× (now {geo(r_jit):.2f}) and no workload above 1.25× "
          f"(above: {', '.join(over_jit) or 'none'}).")
if "hostcall" in times and "loop" in times:
    h, l = times["hostcall"], times["loop"]
    ch, cl = cpu["hostcall"], cpu["loop"]
    print()
    print("Host calls: `hostcall` is `loop` with one host-function call per iteration "
          "instead of the built-in `+` (Jue: the registry's `add` through the FFI; "
          "Lua: the C function `os.difftime`). hostcall/loop, wall (CPU): "
          f"jue {h[0] / l[0]:.2f} ({ch[0] / cl[0]:.2f}), lua5.4 {h[1] / l[1]:.2f} "
          f"({ch[1] / cl[1]:.2f}), luajit -joff {h[2] / l[2]:.2f} ({ch[2] / cl[2]:.2f}) "
          "(issue 19 target for Jue: ≤ 1.5).")
st = rows("startup.tsv")
if st:
    j, l, lj = (float(x) * 1000 for x in st[0])
    print()
    print(f"Start-up (empty program, median of {startup_runs}): jue run {j:.1f} ms, "
          f"lua5.4 {l:.1f} ms, luajit -joff {lj:.1f} ms.")
mem = rows("memory.tsv")
if mem:
    print()
    print("Memory per cons cell: (peak RSS of `cons1m`, a live list of 10^6 cells, "
          "minus peak RSS of an empty program) / 10^6, from `/usr/bin/time -v`. "
          "Lua's cell is a table `{car, cdr}`.\n")
    print("| runtime | peak RSS cons1m KiB | empty KiB | bytes per cell |")
    print("|---|---:|---:|---:|")
    names = {"jue": "jue", "lua": "lua5.4", "luajit": "luajit -joff"}
    for rt, full, base in mem:
        per = (int(full) - int(base)) * 1024 / 1e6
        print(f"| {names[rt]} | {full} | {base} | {per:.0f} |")
print()
print(f"Suite wall time: {elapsed} s.")
PY

if [[ $FAIL != 0 ]]; then
  log "some programs failed or printed a wrong checksum (see above)"
  exit 1
fi

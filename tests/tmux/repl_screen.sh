#!/usr/bin/env bash
# What the REPL's screen shows, in a real terminal (tmux): prompt, highlighting,
# signature hint, completion, multi-line input, results, Ctrl-C, history, exit.
# Usage: tests/tmux/repl_screen.sh path/to/jue      (run by tests/repl_tmux.rs)
set -euo pipefail
BIN=${1:?usage: repl_screen.sh JUE_BINARY}
S=jue-screen-$$
TMP=$(mktemp -d)
SOCK=$TMP/tmux.sock                       # a private tmux server
T="tmux -S $SOCK"
cleanup() { $T kill-server 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT

screen() { $T capture-pane -p -t "$S"; }
wait_for() {   # wait_for PATTERN [timeout_s]: poll the screen until PATTERN (fixed string) appears
  local pat=$1 deadline=$(( $(date +%s%N) + ${2:-10}000000000 ))
  while (( $(date +%s%N) < deadline )); do
    if screen | grep -qF -- "$pat"; then return 0; fi
    sleep 0.02
  done
  echo "FAIL: timed out waiting for: $pat"; echo "--- screen ---"; screen; exit 1
}
wait_colour() {  # wait_colour PATTERN: like wait_for, on the screen with its colour escapes
  local pat=$1 deadline=$(( $(date +%s%N) + 10000000000 ))
  while (( $(date +%s%N) < deadline )); do
    if $T capture-pane -e -p -t "$S" | grep -qF -- "$pat"; then return 0; fi
    sleep 0.02
  done
  echo "FAIL: timed out waiting for coloured: $pat"; $T capture-pane -e -p -t "$S" | cat -v; exit 1
}
wait_prompt() {  # wait until the last non-blank line is a fresh, empty prompt
  local deadline=$(( $(date +%s%N) + 10000000000 ))
  while (( $(date +%s%N) < deadline )); do
    if [ "$(screen | sed '/^$/d' | tail -n 1)" = "jue>" ]; then return 0; fi
    sleep 0.02
  done
  echo "FAIL: timed out waiting for a fresh prompt"; screen; exit 1
}
pass() { echo "ok - $1"; }

printf 'set -g remain-on-exit on\nset -g history-limit 5000\n' > "$TMP/tmux.conf"
# The shell records the REPL's own exit status (128+n if a signal ended it): more
# exact than tmux's pane status, which tmux records only some time after the pane dies.
$T -f "$TMP/tmux.conf" new-session -d -s "$S" -x 100 -y 40 \
  "env -u NO_COLOR TERM=xterm-256color XDG_DATA_HOME=$TMP/data $BIN repl; echo \$? > $TMP/status"

wait_for "jue>";                                         pass "prompt"
$T send-keys -t "$S" '(+ 1 2)' Enter;   wait_for "3";    pass "result"
$T send-keys -t "$S" '(define' ;        wait_colour $'\e[35mdefine';  pass "special form highlighted"
$T send-keys -t "$S" ' (f x)' Enter
wait_for "jue> (define (f x)"
$T send-keys -t "$S" '  (* x 2))' Enter
$T send-keys -t "$S" '(f 21)' Enter;    wait_for "42";   pass "multi-line input"
$T send-keys -t "$S" '(math:add ';      wait_for "; math:add (Int Int) → Int";  pass "signature hint"
$T send-keys -t "$S" C-u '(string-len' Tab; wait_for "(string-length"; pass "tab completion"
$T send-keys -t "$S" ' "abcd")' Enter;  wait_for "4";    pass "completed call runs"
$T send-keys -t "$S" '(define (loop) (loop))' Enter
$T send-keys -t "$S" '(loop)' Enter;    sleep 0.3
$T send-keys -t "$S" C-c;               wait_for "interrupted";  pass "Ctrl-C stops a runaway loop"
$T send-keys -t "$S" '(f 50)' Enter;    wait_for "100";  pass "definitions kept"
$T send-keys -t "$S" '(+ 1' Enter 'junk';  wait_for "junk"
$T send-keys -t "$S" C-c;  sleep 0.3     # each readline reads the terminal afresh: no type-ahead across it
$T send-keys -t "$S" '(* 3 3)' Enter;   wait_for "9";    pass "Ctrl-C discards a partial input"
$T send-keys -t "$S" Up;                wait_for "jue> (* 3 3)"; pass "history"
$T send-keys -t "$S" C-u ':nope' Enter; wait_for "did you mean"; pass "unknown command"
wait_prompt
$T send-keys -t "$S" C-d
status=
for _ in $(seq 500); do
  [ -s "$TMP/status" ] && status=$(cat "$TMP/status") && break
  sleep 0.02
done
[ "$status" = 0 ] || { echo "FAIL: exit status $status"; screen; exit 1; }
pass "Ctrl-D exits with 0"
mode=$(stat -c %a "$TMP/data/jue/history")
[ "$mode" = 600 ] || { echo "FAIL: history mode $mode"; exit 1; }
pass "history file is 0600"
echo "tmux screen test: all passed"

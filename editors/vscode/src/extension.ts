// The Jue extension: starts `jue lsp` and connects VS Code to it.

import * as vscode from "vscode";
import {
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
} from "vscode-languageclient/node";
import { LSP_ARGS, checkServer, resolveServerCommand } from "./server";

const CLIENT_ID = "jue";
const CLIENT_NAME = "Jue Language Server";

let client: LanguageClient | undefined;
let output: vscode.OutputChannel | undefined;
let status: vscode.StatusBarItem | undefined;
/** File watchers whose changes the client forwards (workspace/didChangeWatchedFiles). */
let watchers: vscode.FileSystemWatcher[] = [];
/** Serialises start/stop/restart so that two restarts never overlap. */
let pending: Promise<void> = Promise.resolve();

export function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel(CLIENT_NAME);
  context.subscriptions.push(output);

  status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 0);
  status.name = "Jue";
  status.command = "jue.showOutput";
  context.subscriptions.push(status);

  context.subscriptions.push(
    vscode.commands.registerCommand("jue.restartServer", () => enqueue(() => restart(true))),
    vscode.commands.registerCommand("jue.showOutput", () => output?.show(true)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("jue.server")) {
        void enqueue(() => restart(false));
      }
    }),
  );

  return enqueue(() => start());
}

export function deactivate(): Promise<void> {
  return enqueue(() => stop());
}

function enqueue(task: () => Promise<void>): Promise<void> {
  pending = pending.then(task, task);
  return pending;
}

function log(message: string): void {
  output?.appendLine(`[${new Date().toISOString()}] ${message}`);
}

function setStatus(text: string, tooltip: string, error = false): void {
  if (!status) {
    return;
  }
  status.text = text;
  status.tooltip = tooltip;
  status.backgroundColor = error ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
  status.show();
}

function workspaceRoot(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

async function start(): Promise<void> {
  const config = vscode.workspace.getConfiguration("jue");
  const resolved = resolveServerCommand(config.get<string>("server.path"), workspaceRoot());
  const extraArgs = (config.get<string[]>("server.extraArgs") ?? []).filter((a) => typeof a === "string");

  log(`checking \`${resolved.command} --version\``);
  const check = await checkServer(resolved);
  if (!check.ok) {
    log(check.message);
    setStatus("$(error) Jue", check.message, true);
    void showServerError(check.message);
    return;
  }
  log(`found jue ${check.version} at \`${check.command}\``);

  // No `transport`: with TransportKind.stdio the client would append `--stdio`,
  // which `jue lsp` rejects; without it the client talks over the child's stdio anyway.
  const serverOptions: ServerOptions = {
    command: check.command,
    args: [...LSP_ARGS, ...extraArgs],
    options: { cwd: workspaceRoot() },
  };

  disposeWatchers();
  watchers = [
    vscode.workspace.createFileSystemWatcher("**/jue.toml"),
    vscode.workspace.createFileSystemWatcher("**/*.jue"),
  ];
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "jue" },
      { scheme: "untitled", language: "jue" },
    ],
    synchronize: { fileEvents: watchers },
    outputChannel: output,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
  };

  const c = new LanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, clientOptions);
  c.onDidChangeState((e) => {
    if (e.newState === State.Running) {
      setStatus("$(check) Jue", `jue ${check.version} language server (${check.command} lsp) is running`);
    } else if (e.newState === State.Stopped) {
      setStatus("$(circle-slash) Jue", "The Jue language server is stopped. Run \"Jue: Restart language server\".");
    }
  });
  client = c;
  try {
    setStatus("$(sync~spin) Jue", "Starting the Jue language server");
    await c.start();
    log(`language server started: ${check.command} ${[...LSP_ARGS, ...extraArgs].join(" ")}`);
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    const message =
      `Jue language server failed to start: \`${check.command} ${LSP_ARGS.join(" ")}\` (jue ${check.version}): ${detail}. ` +
      "See \"Jue: Show language server output\". If this jue has no `lsp` command, it is too old: " +
      "install a newer one, or point the setting jue.server.path at one.";
    log(message);
    setStatus("$(error) Jue", message, true);
    void showServerError(message);
    client = undefined;
    try {
      await c.dispose();
    } catch {
      /* already stopped */
    }
    disposeWatchers();
  }
}

function disposeWatchers(): void {
  watchers.forEach((w) => w.dispose());
  watchers = [];
}

async function stop(): Promise<void> {
  const c = client;
  client = undefined;
  disposeWatchers();
  if (!c) {
    return;
  }
  try {
    if (c.state !== State.Stopped) {
      await c.stop(5000);
    }
  } catch (e) {
    log(`stopping the language server: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    await c.dispose();
  } catch {
    /* already disposed */
  }
}

async function restart(fromCommand: boolean): Promise<void> {
  log(fromCommand ? "restarting the language server (command)" : "restarting the language server (settings changed)");
  await stop();
  await start();
  if (fromCommand && client?.state === State.Running) {
    void vscode.window.showInformationMessage("Jue language server restarted.");
  }
}

async function showServerError(message: string): Promise<void> {
  const openSettings = "Open Settings";
  const showOutput = "Show Output";
  const choice = await vscode.window.showErrorMessage(message, openSettings, showOutput);
  if (choice === openSettings) {
    await vscode.commands.executeCommand("workbench.action.openSettings", "jue.server.path");
  } else if (choice === showOutput) {
    output?.show(true);
  }
}

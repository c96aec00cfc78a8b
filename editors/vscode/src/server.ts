// Finding and checking the `jue` executable that runs the language server.
//
// This module does not import `vscode`, so the protocol test (tests/protocol)
// runs the very same code under plain Node, from the bundle `out/server.js`.

import { execFile } from "child_process";
import * as os from "os";
import * as path from "path";

/** The command used when the setting `jue.server.path` is empty. */
export const DEFAULT_COMMAND = "jue";

/** Arguments that start the language server on stdio. */
export const LSP_ARGS: readonly string[] = ["lsp"];

export interface ResolvedCommand {
  /** What to spawn: an absolute path, or a bare name looked up on PATH. */
  command: string;
  /** Where the command came from, for messages. */
  source: "setting" | "PATH";
  /** The setting as the user wrote it (empty when PATH is used). */
  setting: string;
}

/**
 * Resolve the setting `jue.server.path` to a command.
 * - empty (or only white space): `jue`, looked up on PATH;
 * - `~` or `~/...`: the home directory;
 * - a relative path with a directory part (`./bin/jue`, `target/debug/jue`):
 *   resolved against the workspace folder (else the current directory);
 * - a bare name (`jue-dev`): looked up on PATH, like the default.
 */
export function resolveServerCommand(setting: string | undefined | null, workspaceRoot?: string): ResolvedCommand {
  const raw = (setting ?? "").trim();
  if (raw === "") {
    return { command: DEFAULT_COMMAND, source: "PATH", setting: "" };
  }
  let p = raw;
  if (p === "~") {
    p = os.homedir();
  } else if (p.startsWith("~/") || p.startsWith("~\\")) {
    p = path.join(os.homedir(), p.slice(2));
  }
  if (path.isAbsolute(p)) {
    return { command: path.normalize(p), source: "setting", setting: raw };
  }
  if (p.includes("/") || p.includes("\\")) {
    return { command: path.resolve(workspaceRoot ?? process.cwd(), p), source: "setting", setting: raw };
  }
  return { command: p, source: "setting", setting: raw };
}

export type ServerCheck =
  | { ok: true; command: string; version: string }
  | { ok: false; command: string; reason: "missing" | "failed"; message: string };

/** How to fix a missing or broken server: the same text in every message. */
export const HOW_TO_FIX =
  "Install Jue (in a checkout of the Jue repository: `cargo install --path .`, which puts `jue` in ~/.cargo/bin) " +
  "and make sure `jue --version` works in a terminal, or set the setting `jue.server.path` to the full path of " +
  "the `jue` executable (for example `/path/to/jue/target/release/jue`). Then run \"Jue: Restart language server\".";

/** The message shown when `jue --version` cannot be run or fails. */
export function describeFailure(resolved: ResolvedCommand, detail: string, reason: "missing" | "failed"): string {
  const bare = !resolved.command.includes("/") && !resolved.command.includes("\\");
  const fromSetting = resolved.source === "setting" ? ` (from the setting jue.server.path = "${resolved.setting}")` : "";
  const where = bare
    ? `\`${resolved.command}\`${fromSetting} was not found on PATH`
    : `\`${resolved.command}\`${fromSetting} does not exist or is not executable`;
  const what =
    reason === "missing"
      ? `Jue language server not started: ${where}.`
      : `Jue language server not started: \`${resolved.command} --version\` failed (${detail}).` +
        (resolved.source === "setting" ? ` Check the setting jue.server.path = "${resolved.setting}".` : "");
  return `${what} ${HOW_TO_FIX}`;
}

/**
 * Run `COMMAND --version` and expect `jue X.Y.Z` on stdout (exit 0).
 * Never throws; the result says what went wrong in words a user can act on.
 */
export function checkServer(resolved: ResolvedCommand, timeoutMs = 10_000): Promise<ServerCheck> {
  return new Promise((resolve) => {
    let child;
    try {
      child = execFile(
        resolved.command,
        ["--version"],
        { timeout: timeoutMs, windowsHide: true, encoding: "utf8" },
        (error, stdout, stderr) => {
          if (error) {
            const code = (error as NodeJS.ErrnoException).code;
            if (code === "ENOENT" || code === "EACCES" || code === "ENOTDIR") {
              resolve({
                ok: false,
                command: resolved.command,
                reason: "missing",
                message: describeFailure(resolved, String(code), "missing"),
              });
              return;
            }
            const killed = (error as { killed?: boolean }).killed;
            const detail = killed
              ? `no answer within ${timeoutMs} ms`
              : `exit status ${typeof code === "number" ? code : (error as { code?: unknown }).code ?? "?"}` +
                (String(stderr).trim() ? `: ${firstLine(String(stderr))}` : "");
            resolve({
              ok: false,
              command: resolved.command,
              reason: "failed",
              message: describeFailure(resolved, detail, "failed"),
            });
            return;
          }
          const line = firstLine(String(stdout));
          const m = /^jue\s+(\S+)/.exec(line);
          if (!m) {
            resolve({
              ok: false,
              command: resolved.command,
              reason: "failed",
              message: describeFailure(resolved, `it printed "${line}", not "jue X.Y.Z"`, "failed"),
            });
            return;
          }
          resolve({ ok: true, command: resolved.command, version: m[1] });
        },
      );
    } catch (e) {
      resolve({
        ok: false,
        command: resolved.command,
        reason: "missing",
        message: describeFailure(resolved, e instanceof Error ? e.message : String(e), "missing"),
      });
      return;
    }
    child.on("error", () => {
      /* reported through the callback */
    });
  });
}

function firstLine(s: string): string {
  return s.trim().split(/\r?\n/, 1)[0] ?? "";
}

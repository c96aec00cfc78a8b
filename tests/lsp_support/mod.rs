//! A small JSON-RPC client for the language server tests: spawns the server,
//! frames messages, answers server-to-client requests, waits for replies.
#![allow(dead_code)]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// The server command: `jue lsp`, or the program named by `JUE_LSP_SERVER`
/// (another server binary), run without arguments.
pub fn server_command() -> Command {
    match std::env::var_os("JUE_LSP_SERVER") {
        Some(p) => Command::new(p),
        None => {
            let mut c = Command::new(env!("CARGO_BIN_EXE_jue"));
            c.arg("lsp");
            c
        }
    }
}

pub const TIMEOUT: Duration = Duration::from_secs(20);

pub struct Client {
    pub child: Child,
    stdin: Option<ChildStdin>,
    rx: Receiver<Value>,
    next_id: i64,
    /// Notifications (and requests from the server) received and not yet taken.
    pub notifications: Vec<Value>,
    /// Responses received while waiting for another id.
    pub other_responses: Vec<Value>,
}

pub fn frame(v: &Value) -> Vec<u8> {
    let body = serde_json::to_vec(v).expect("json");
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend(body);
    out
}

fn read_message(r: &mut impl BufRead) -> Option<Value> {
    let mut len = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length:") {
            len = v.trim().parse::<usize>().ok();
        }
    }
    let mut buf = vec![0; len?];
    r.read_exact(&mut buf).ok()?;
    serde_json::from_slice(&buf).ok()
}

impl Client {
    pub fn spawn_in(dir: &Path) -> Client {
        let mut child = server_command()
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the language server");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            while let Some(v) = read_message(&mut r) {
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        Client {
            child,
            stdin,
            rx,
            next_id: 1,
            notifications: Vec::new(),
            other_responses: Vec::new(),
        }
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        if let Some(s) = self.stdin.as_mut() {
            let _ = s.write_all(bytes);
            let _ = s.flush();
        }
    }

    pub fn send(&mut self, v: &Value) {
        let bytes = frame(v);
        self.send_raw(&bytes);
    }

    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request; returns its id.
    pub fn send_request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    fn handle_incoming(&mut self, v: Value) -> Option<Value> {
        if v.get("method").is_some() {
            if let Some(id) = v.get("id") {
                // A request from the server: answer it (and keep it, for tests to see).
                let id = id.clone();
                self.send(&json!({"jsonrpc": "2.0", "id": id, "result": null}));
            }
            self.notifications.push(v);
            None
        } else {
            Some(v)
        }
    }

    /// Waits for the response to `id` (the whole message, `result` or `error`).
    pub fn response(&mut self, id: i64) -> Value {
        if let Some(i) = self
            .other_responses
            .iter()
            .position(|r| r.get("id") == Some(&json!(id)))
        {
            return self.other_responses.remove(i);
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(v) => {
                    if let Some(r) = self.handle_incoming(v) {
                        if r.get("id") == Some(&json!(id)) {
                            return r;
                        }
                        self.other_responses.push(r);
                    }
                }
                Err(e) => panic!("no response to request {id}: {e:?}"),
            }
        }
    }

    /// Sends a request and returns its `result` (panics on an error response).
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.send_request(method, params);
        let r = self.response(id);
        if let Some(e) = r.get("error") {
            panic!("{method} failed: {e}");
        }
        r["result"].clone()
    }

    /// Waits for a notification matching `pred`, taking it.
    pub fn wait_notification(&mut self, method: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(i) = self
                .notifications
                .iter()
                .position(|n| n["method"] == method && pred(&n["params"]))
            {
                return self.notifications.remove(i)["params"].clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(v) => {
                    self.handle_incoming(v);
                }
                Err(e) => panic!(
                    "no {method} notification: {e:?}; got {:?}",
                    self.notifications
                ),
            }
        }
    }

    /// Diagnostics published for `uri` at `version`.
    pub fn diagnostics(&mut self, uri: &str, version: i64) -> Vec<Value> {
        let p = self.wait_notification("textDocument/publishDiagnostics", |p| {
            p["uri"] == uri && p["version"] == json!(version)
        });
        p["diagnostics"].as_array().cloned().unwrap_or_default()
    }

    /// Initializes as a VS Code-like client offering `encodings`.
    pub fn initialize(&mut self, root: &Path, encodings: &[&str]) -> Value {
        self.initialize_with(root, vscode_capabilities(encodings))
    }

    /// Initializes with the given client capabilities.
    pub fn initialize_with(&mut self, root: &Path, capabilities: Value) -> Value {
        let root_uri = file_uri(root);
        let r = self.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": root_uri,
                "workspaceFolders": [{"uri": root_uri, "name": "test"}],
                "capabilities": capabilities,
            }),
        );
        self.notify("initialized", json!({}));
        r
    }

    pub fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "jue", "version": 1, "text": text}}),
        );
    }

    pub fn at(&mut self, method: &str, uri: &str, line: u32, character: u32) -> Value {
        self.request(
            method,
            json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}),
        )
    }

    /// Shuts down and exits; returns the exit status, waiting at most a few seconds.
    pub fn shutdown(mut self) -> std::process::ExitStatus {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        self.wait_exit(Duration::from_secs(5))
            .expect("server exits promptly after `exit`")
    }

    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(s)) = self.child.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// Messages still queued, without blocking longer than `d`.
    pub fn drain(&mut self, d: Duration) {
        loop {
            match self.rx.recv_timeout(d) {
                Ok(v) => {
                    if let Some(r) = self.handle_incoming(v) {
                        self.other_responses.push(r);
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return,
            }
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `file://` URI of a path (ASCII paths, as the tests use).
pub fn file_uri(p: &Path) -> String {
    format!("file://{}", p.display())
}

/// A fresh directory under the target dir.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let base = std::env::temp_dir().join(format!("jue-lsp-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).expect("temp dir");
    base
}

/// Every completion item kind (1 to 25).
fn all_kinds() -> Vec<u32> {
    (1..=25).collect()
}

/// What VS Code announces (the parts the server reads), offering `encodings`.
pub fn vscode_capabilities(encodings: &[&str]) -> Value {
    json!({
        "general": {"positionEncodings": encodings},
        "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true, "relativePatternSupport": true}},
        "textDocument": {
            "hover": {"contentFormat": ["markdown", "plaintext"]},
            "completion": {
                "completionItem": {"documentationFormat": ["markdown", "plaintext"], "snippetSupport": true,
                    "resolveSupport": {"properties": ["documentation", "detail"]}},
                "completionItemKind": {"valueSet": all_kinds()},
            },
            "signatureHelp": {"signatureInformation": {"documentationFormat": ["markdown", "plaintext"]}},
            "documentSymbol": {"hierarchicalDocumentSymbolSupport": true},
            "foldingRange": {"rangeLimit": 5000, "lineFoldingOnly": true},
            "codeAction": {"codeActionLiteralSupport": {"codeActionKind": {"valueSet": ["", "quickfix", "refactor"]}}},
            "semanticTokens": {"requests": {"range": true, "full": {"delta": true}},
                "tokenTypes": [], "tokenModifiers": [], "formats": ["relative"]},
        },
    })
}

/// What Neovim (0.10) announces: Markdown, hierarchical symbols, literals, every
/// kind, UTF-8 offered, no dynamic registration of file watchers.
pub fn neovim_capabilities() -> Value {
    json!({
        "general": {"positionEncodings": ["utf-8", "utf-16", "utf-32"]},
        "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": false}},
        "textDocument": {
            "hover": {"contentFormat": ["markdown", "plaintext"]},
            "completion": {
                "completionItem": {"documentationFormat": ["markdown", "plaintext"], "snippetSupport": false},
                "completionItemKind": {"valueSet": all_kinds()},
            },
            "signatureHelp": {"signatureInformation": {"documentationFormat": ["markdown", "plaintext"]}},
            "documentSymbol": {"hierarchicalDocumentSymbolSupport": true},
            "codeAction": {"codeActionLiteralSupport": {"codeActionKind": {"valueSet": ["quickfix"]}}},
        },
    })
}

/// An eglot-like client: plaintext only, no completion kind value set (so the
/// protocol's first 18 kinds), flat symbols, commands instead of code-action
/// literals, dynamic registration of file watchers.
pub fn eglot_capabilities() -> Value {
    json!({
        "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}},
        "textDocument": {
            "hover": {"contentFormat": ["plaintext"]},
            "completion": {"completionItem": {"snippetSupport": false}},
            "signatureHelp": {"signatureInformation": {"documentationFormat": ["plaintext"]}},
            "documentSymbol": {"hierarchicalDocumentSymbolSupport": false},
            "codeAction": {"dynamicRegistration": false},
        },
    })
}

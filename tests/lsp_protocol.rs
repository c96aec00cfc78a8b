//! The language server by the protocol (tooling §3, "By the protocol"), against a
//! plain JSON-RPC client: one answer per request id, cancellation, versions, line
//! ends, answers shaped by each client profile, file watchers, and files that are
//! not regular.

mod lsp_support;

use lsp_support::{
    Client, eglot_capabilities, file_uri, frame, neovim_capabilities, temp_dir, vscode_capabilities,
};
use serde_json::{Value, json};
use std::time::Duration;

fn alive(c: &mut Client) {
    let r = c.request("workspace/symbol", json!({"query": "zzz-none"}));
    assert!(r.is_array(), "{r}");
}

/// Waits for the answer to `id`, then checks no second answer with that id comes.
fn only_answer(c: &mut Client, id: i64) -> Value {
    let r = c.response(id);
    c.drain(Duration::from_millis(300));
    assert!(
        !c.other_responses.iter().any(|o| o["id"] == json!(id)),
        "two answers for {id}: {r} and {:?}",
        c.other_responses
    );
    r
}

fn error_code(r: &Value) -> i64 {
    r["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("not an error answer: {r}"))
}

#[test]
fn every_request_with_an_id_gets_exactly_one_answer() {
    let dir = temp_dir("one-answer");
    let mut c = Client::spawn_in(&dir);
    c.initialize(&dir, &[]);

    // Unknown methods, `$/` ones included: MethodNotFound.
    for m in [
        "$/jue/unknown",
        "$/progress",
        "jue/unknown",
        "textDocument/noSuchThing",
    ] {
        let id = c.send_request(m, json!({}));
        let r = only_answer(&mut c, id);
        assert_eq!(error_code(&r), -32601, "{m}: {r}");
    }
    // `$/` notifications (no id) get no answer and do no harm.
    c.notify("$/setTrace", json!({"value": "off"}));
    c.notify("$/cancelRequest", json!({"id": 999}));

    // Malformed requests that carry an id: InvalidRequest, once each.
    let malformed: [(i64, Value); 5] = [
        (9001, json!({"jsonrpc": "2.0", "id": 9001, "method": 3})),
        (
            9002,
            json!({"jsonrpc": "1.0", "id": 9002, "method": "textDocument/hover"}),
        ),
        (9003, json!({"jsonrpc": "2.0", "id": 9003})),
        (
            9004,
            json!({"jsonrpc": "2.0", "id": 9004, "method": "workspace/symbol", "params": 5}),
        ),
        (9005, json!({"id": 9005, "method": "shutdown"})),
    ];
    for (id, msg) in malformed {
        c.send_raw(&frame(&msg));
        let r = only_answer(&mut c, id);
        assert_eq!(error_code(&r), -32600, "{msg}: {r}");
    }
    // A string id is answered with the same id.
    c.send_raw(&frame(
        &json!({"jsonrpc": "2.0", "id": "s-1", "method": []}),
    ));
    c.drain(Duration::from_millis(500));
    let r = c
        .other_responses
        .iter()
        .find(|r| r["id"] == "s-1")
        .cloned()
        .expect("answer for the string id");
    assert_eq!(error_code(&r), -32600, "{r}");

    // `$/cancelRequest` is a notification: sent with an id, it is answered.
    let id = c.send_request("$/cancelRequest", json!({"id": 12345}));
    let r = only_answer(&mut c, id);
    assert_eq!(error_code(&r), -32600, "{r}");

    // A notification's method called with an id: an error, not silence.
    let id = c.send_request(
        "textDocument/didClose",
        json!({"textDocument": {"uri": "file:///x.jue"}}),
    );
    let r = only_answer(&mut c, id);
    assert!(r.get("error").is_some(), "{r}");
    alive(&mut c);
    assert!(c.shutdown().success());
}

/// `n` lines of small definitions.
fn definitions(n: usize) -> String {
    (0..n)
        .map(|i| format!("(define (fn-{i:05} x) (+ x {i}))\n"))
        .collect()
}

#[test]
fn cancel_request_stops_the_work_and_answers_request_cancelled() {
    let dir = temp_dir("cancel");
    let mut c = Client::spawn_in(&dir);
    c.initialize(&dir, &[]);
    let uri = file_uri(&dir.join("big.jue"));
    let text = definitions(20_000);
    // Open, ask for every token, and cancel, in one write: the request is still
    // running (the first analysis of 20,000 lines) when the cancellation comes.
    let id = 777;
    let mut bytes = frame(
        &json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params":
        {"textDocument": {"uri": uri, "languageId": "jue", "version": 1, "text": text}}}),
    );
    bytes.extend(frame(
        &json!({"jsonrpc": "2.0", "id": id, "method": "textDocument/semanticTokens/full",
        "params": {"textDocument": {"uri": uri}}}),
    ));
    bytes.extend(frame(
        &json!({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": id}}),
    ));
    c.send_raw(&bytes);
    let r = only_answer(&mut c, id);
    assert_eq!(
        error_code(&r),
        -32800,
        "{}",
        &r.to_string()[..200.min(r.to_string().len())]
    );
    // The server goes on: diagnostics for the document, and answers.
    let d = c.diagnostics(&uri, 1);
    assert!(d.is_empty(), "{d:?}");
    let h = c.at("textDocument/hover", &uri, 3, 10);
    assert!(
        h["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("fn-00003"),
        "{h}"
    );
    assert!(c.shutdown().success());
}

#[test]
fn a_request_is_answered_on_its_own_version_or_content_modified() {
    let dir = temp_dir("versions");
    let mut c = Client::spawn_in(&dir);
    c.initialize(&dir, &[]);
    let uri = file_uri(&dir.join("v.jue"));
    // Version 1: a parameter `x` at (0, 11). Later versions: an empty first line.
    let v1 = format!("(define (f x) x)\n{}", definitions(3000));
    c.open(&uri, &v1);
    let mut answered = 0;
    let mut modified = 0;
    for round in 0..6 {
        let version = 2 + round * 2;
        // Hover sent against the text with `x`, immediately followed by an edit
        // that moves everything down a line; then the edit undone.
        let id = 5000 + round;
        let mut bytes = frame(
            &json!({"jsonrpc": "2.0", "id": id, "method": "textDocument/hover",
            "params": {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 11}}}),
        );
        bytes.extend(frame(&json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "\n"}]}})));
        c.send_raw(&bytes);
        let r = only_answer(&mut c, id);
        if let Some(e) = r.get("error") {
            assert_eq!(e["code"], -32801, "{r}");
            modified += 1;
        } else {
            // Answered on version 1's text: the parameter, never version 2's empty line.
            let v = r["result"]["contents"]["value"].as_str().unwrap_or("");
            assert!(v.contains("parameter"), "answered on newer text: {r}");
            answered += 1;
        }
        c.notify("textDocument/didChange", json!({
            "textDocument": {"uri": uri, "version": version + 1},
            "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}}, "text": ""}]}));
        c.diagnostics(&uri, version + 1);
    }
    assert_eq!(answered + modified, 6);
    assert!(c.shutdown().success());
}

#[test]
fn a_lone_cr_ends_a_line() {
    let dir = temp_dir("cr");
    let mut c = Client::spawn_in(&dir);
    c.initialize(&dir, &[]);
    let uri = file_uri(&dir.join("cr.jue"));
    // Lines: 0 `(define (f x) x)`, 1 `; note`, 2 `(f 1)`, 3 `(no-such-fn 2)`.
    c.open(&uri, "(define (f x) x)\r; note\r\n(f 1)\r(no-such-fn 2)");
    let d = c.diagnostics(&uri, 1);
    let e = d
        .iter()
        .find(|d| d["code"] == "E0101")
        .unwrap_or_else(|| panic!("no E0101 in {d:?}"));
    assert_eq!(
        e["range"]["start"],
        json!({"line": 3, "character": 1}),
        "{e}"
    );
    assert_eq!(
        e["range"]["end"],
        json!({"line": 3, "character": 11}),
        "{e}"
    );
    // The comment ends at the CR: `(f 1)` on line 2 is code.
    let h = c.at("textDocument/hover", &uri, 2, 1);
    assert!(
        h["contents"]["value"].as_str().unwrap().contains("(f x)"),
        "{h}"
    );
    // An edit by position after a lone CR lands where the editor shows it.
    c.notify("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": 2},
        "contentChanges": [{"range": {"start": {"line": 3, "character": 1}, "end": {"line": 3, "character": 11}}, "text": "f"}]}));
    let d = c.diagnostics(&uri, 2);
    assert!(d.is_empty(), "{d:?}");
    assert!(c.shutdown().success());
}

const PROFILE_DOC: &str = "(define (fetch url)\n  (net:http-get url))\n(require-capability Io)\n";

/// Hover text and kind, the kind of the first capability completion, the shape of
/// document symbols and of the W0301 quick fix, for a client with `caps`.
fn profile(name: &str, caps: Value) -> (Client, Value, String) {
    let dir = temp_dir(name);
    let mut c = Client::spawn_in(&dir);
    let init = c.initialize_with(&dir, caps);
    let uri = file_uri(&dir.join("p.jue"));
    c.open(&uri, PROFILE_DOC);
    c.diagnostics(&uri, 1);
    (c, init, uri)
}

struct Seen {
    signature_doc_kind: String,
    hover_kind: String,
    hover: String,
    cap_kind: Option<i64>,
    kinds: Vec<i64>,
    symbols: Value,
    action: Value,
    encoding: String,
}

fn look(c: &mut Client, init: &Value, uri: &str) -> Seen {
    let h = c.at("textDocument/hover", uri, 1, 5);
    let sig = c.at("textDocument/signatureHelp", uri, 1, 16);
    let comp = c.at("textDocument/completion", uri, 2, 21);
    let cap = comp["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == "IoNetwork")
        .cloned()
        .unwrap_or_else(|| panic!("no IoNetwork in {comp}"));
    let all = c.at("textDocument/completion", uri, 1, 3);
    let kinds = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["kind"].as_i64())
        .collect();
    let symbols = c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": {"start": {"line": 1, "character": 3}, "end": {"line": 1, "character": 3}}, "context": {"diagnostics": []}}),
    );
    let action = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == "add `(require-capability IoNetwork)`")
        .cloned()
        .unwrap_or_else(|| panic!("no fix in {actions}"));
    Seen {
        signature_doc_kind: sig["signatures"][0]["documentation"]["kind"]
            .as_str()
            .unwrap_or_else(|| panic!("no signature documentation: {sig}"))
            .to_string(),
        hover_kind: h["contents"]["kind"].as_str().unwrap().to_string(),
        hover: h["contents"]["value"].as_str().unwrap().to_string(),
        cap_kind: cap["kind"].as_i64(),
        kinds,
        symbols: symbols[0].clone(),
        action,
        encoding: init["capabilities"]["positionEncoding"]
            .as_str()
            .unwrap()
            .to_string(),
    }
}

fn registrations(c: &mut Client) -> Vec<Value> {
    c.drain(Duration::from_millis(500));
    c.notifications
        .iter()
        .filter(|n| n["method"] == "client/registerCapability")
        .cloned()
        .collect()
}

#[test]
fn vscode_profile() {
    let (mut c, init, uri) = profile("p-vscode", vscode_capabilities(&["utf-16"]));
    let s = look(&mut c, &init, &uri);
    assert_eq!(s.hover_kind, "markdown");
    assert!(
        s.hover
            .starts_with("```jue\nnet:http-get (String) → String\n```"),
        "{}",
        s.hover
    );
    assert_eq!(s.cap_kind, Some(20)); // EnumMember
    assert!(s.symbols.get("selectionRange").is_some(), "{}", s.symbols);
    assert!(s.action["edit"]["changes"].is_object(), "{}", s.action);
    assert_eq!(s.encoding, "utf-16");
    assert_eq!(
        init["capabilities"]["semanticTokensProvider"]["range"],
        true
    );
    assert_eq!(
        init["capabilities"]["semanticTokensProvider"]["full"]["delta"],
        true
    );
    assert_eq!(
        init["capabilities"]["completionProvider"]["resolveProvider"],
        true
    );
    let regs = registrations(&mut c);
    let text = serde_json::to_string(&regs).unwrap();
    assert!(
        text.contains("**/jue.toml") && text.contains("**/*.jue"),
        "{text}"
    );
    assert!(c.shutdown().success());
}

#[test]
fn neovim_profile() {
    let (mut c, init, uri) = profile("p-nvim", neovim_capabilities());
    let s = look(&mut c, &init, &uri);
    assert_eq!(s.hover_kind, "markdown");
    assert_eq!(s.cap_kind, Some(20));
    assert!(s.symbols.get("selectionRange").is_some(), "{}", s.symbols);
    assert!(s.action.get("edit").is_some(), "{}", s.action);
    assert_eq!(s.encoding, "utf-8");
    // Dynamic registration not offered: none asked for.
    assert!(registrations(&mut c).is_empty());
    assert!(c.shutdown().success());
}

/// Plaintext hover, kinds from the first 18, flat symbols, commands.
fn check_plain(c: &mut Client, s: &Seen, uri: &str) {
    assert_eq!(s.hover_kind, "plaintext");
    assert_eq!(s.signature_doc_kind, "plaintext");
    assert!(!s.hover.contains("```"), "{}", s.hover);
    assert!(
        s.hover.starts_with("net:http-get (String) → String\ntier"),
        "{}",
        s.hover
    );
    // No EnumMember (20) without a value set: Enum (13) instead.
    assert_eq!(s.cap_kind, Some(13));
    assert!(!s.kinds.is_empty());
    assert!(
        s.kinds.iter().all(|k| (1..=18).contains(k)),
        "{:?}",
        s.kinds
    );
    assert!(s.symbols.get("location").is_some(), "flat: {}", s.symbols);
    assert!(s.symbols.get("selectionRange").is_none(), "{}", s.symbols);
    assert_eq!(s.action["command"], "jue.applyEdit", "{}", s.action);
    assert!(s.action.get("edit").is_none(), "{}", s.action);
    assert_eq!(s.encoding, "utf-16");
    // Running the command makes the server ask the client to apply the edit.
    let r = c.request(
        "workspace/executeCommand",
        json!({"command": s.action["command"], "arguments": s.action["arguments"]}),
    );
    assert!(r.is_null(), "{r}");
    let apply = c.wait_notification("workspace/applyEdit", |_| true);
    let e = &apply["edit"]["changes"][uri][0];
    assert_eq!(
        e["newText"], "(require-capability IoNetwork)\n  ",
        "{apply}"
    );
}

#[test]
fn eglot_profile() {
    let (mut c, init, uri) = profile("p-eglot", eglot_capabilities());
    let s = look(&mut c, &init, &uri);
    check_plain(&mut c, &s, &uri);
    assert!(
        !registrations(&mut c).is_empty(),
        "eglot offers dynamic registration"
    );
    assert!(c.shutdown().success());
}

#[test]
fn minimal_profile() {
    let (mut c, init, uri) = profile("p-minimal", json!({}));
    let s = look(&mut c, &init, &uri);
    check_plain(&mut c, &s, &uri);
    assert!(registrations(&mut c).is_empty());
    assert!(c.shutdown().success());
}

#[test]
fn completion_is_filtered_capped_and_resolved() {
    let dir = temp_dir("completion-cap");
    let mut c = Client::spawn_in(&dir);
    c.initialize(&dir, &[]);
    let uri = file_uri(&dir.join("many.jue"));
    let mut text = definitions(2000);
    text.push_str("(fn-");
    let last = 2000;
    c.open(&uri, &text);
    c.diagnostics(&uri, 1);
    let id = c.send_request(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": {"line": last, "character": 4}}),
    );
    let r = c.response(id);
    let size = r.to_string().len();
    let r = &r["result"];
    let items = r["items"].as_array().unwrap();
    assert_eq!(items.len(), 200);
    assert_eq!(r["isIncomplete"], true);
    assert!(
        items
            .iter()
            .all(|i| i["label"].as_str().unwrap().starts_with("fn-"))
    );
    assert!(items.iter().all(|i| i.get("documentation").is_none()));
    assert!(size < 200 * 1024, "{size} bytes");
    // Typed further: fn-0199x, ten of them, complete.
    c.notify("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": 2},
        "contentChanges": [{"range": {"start": {"line": last, "character": 4}, "end": {"line": last, "character": 4}}, "text": "0199"}]}));
    let r = c.at("textDocument/completion", &uri, last, 8);
    let mut labels: Vec<&str> = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    labels.sort();
    let want: Vec<String> = (1990..2000).map(|i| format!("fn-{i:05}")).collect();
    assert_eq!(labels, want);
    assert_eq!(r["isIncomplete"], false);
    // Resolve renders the documentation from the item's data alone.
    let item = r["items"][0].clone();
    let resolved = c.request("completionItem/resolve", item.clone());
    let doc = resolved["documentation"]["value"].as_str().unwrap();
    assert!(doc.contains(item["label"].as_str().unwrap()), "{resolved}");
    assert!(doc.contains("needs no capability"), "{resolved}");
    assert!(c.shutdown().success());
}

/// The absolute (line, start, length, type) of each token in LSP's relative encoding.
fn absolute(data: &[Value]) -> Vec<(u64, u64, u64, u64)> {
    let mut out = Vec::new();
    let (mut line, mut col) = (0, 0);
    for t in data.chunks(5) {
        let n = |i: usize| t[i].as_u64().unwrap();
        if n(0) > 0 {
            col = 0;
        }
        line += n(0);
        col += n(1);
        out.push((line, col, n(2), n(3)));
    }
    out
}

#[test]
fn semantic_tokens_range_and_delta() {
    let dir = temp_dir("tokens");
    let mut c = Client::spawn_in(&dir);
    c.initialize(&dir, &[]);
    let uri = file_uri(&dir.join("t.jue"));
    let text = "(define (f x) (net:http-get x))\n(define (g y)\n  (let ((z y)) (+ z 1)))\n(define (h) (require-capability IoNetwork))\n";
    c.open(&uri, text);
    c.diagnostics(&uri, 1);
    let full = c.request(
        "textDocument/semanticTokens/full",
        json!({"textDocument": {"uri": uri}}),
    );
    let all = absolute(full["data"].as_array().unwrap());
    assert!(all.len() > 6, "{all:?}");
    let first_id = full["resultId"].as_str().expect("resultId").to_string();
    // A range: exactly the tokens of its lines (1 to 2), same positions.
    let range = c.request(
        "textDocument/semanticTokens/range",
        json!({"textDocument": {"uri": uri}, "range": {"start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 30}}}),
    );
    let part = absolute(range["data"].as_array().unwrap());
    let want: Vec<_> = all
        .iter()
        .copied()
        .filter(|t| (1..=2).contains(&t.0))
        .collect();
    assert!(!want.is_empty());
    assert_eq!(part, want);
    // An edit, then a delta against the first result: applied, it gives the new full.
    c.notify("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": 2},
        "contentChanges": [{"range": {"start": {"line": 2, "character": 2}, "end": {"line": 2, "character": 2}}, "text": "(+ y 2) "}]}));
    c.diagnostics(&uri, 2);
    let delta = c.request(
        "textDocument/semanticTokens/full/delta",
        json!({"textDocument": {"uri": uri}, "previousResultId": first_id}),
    );
    let edits = delta["edits"].as_array().expect("a delta");
    let mut data: Vec<Value> = full["data"].as_array().unwrap().clone();
    for e in edits.iter().rev() {
        let start = e["start"].as_u64().unwrap() as usize;
        let del = e["deleteCount"].as_u64().unwrap() as usize;
        let new: Vec<Value> = e["data"].as_array().cloned().unwrap_or_default();
        data.splice(start..start + del, new);
    }
    let fresh = c.request(
        "textDocument/semanticTokens/full",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(&data, fresh["data"].as_array().unwrap());
    // An unknown previous id: the whole list.
    let whole = c.request(
        "textDocument/semanticTokens/full/delta",
        json!({"textDocument": {"uri": uri}, "previousResultId": "nope"}),
    );
    assert!(whole["data"].is_array(), "{whole}");
    assert!(c.shutdown().success());
}

const REGISTRY: &str = r#"{"functions": [{"name": "host:ping", "parameter_types": [], "return_type": "Int",
  "required_capability": null, "tier": "formal", "documentation": "Pings the host.",
  "host_function": 9, "location": null}]}"#;

#[test]
fn watchers_are_registered_and_changes_recheck_open_documents() {
    let dir = temp_dir("watch");
    std::fs::write(dir.join("jue.toml"), "[registry]\nfiles = [\"reg.json\"]\n").unwrap();
    std::fs::write(dir.join("reg.json"), r#"{"functions": []}"#).unwrap();
    let mut c = Client::spawn_in(&dir);
    c.initialize(&dir, &[]);
    let uri = file_uri(&dir.join("w.jue"));
    c.open(&uri, "(host:ping)\n");
    let d = c.diagnostics(&uri, 1);
    assert!(d.iter().any(|d| d["code"] == "E0102"), "{d:?}");
    // Watchers for jue.toml, *.jue and the registry file jue.toml names.
    let reg = dir.join("reg.json").canonicalize().unwrap();
    let want = reg.to_string_lossy().into_owned();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = serde_json::to_string(&registrations(&mut c)).unwrap();
        if text.contains(&want) {
            assert!(
                text.contains("**/jue.toml") && text.contains("**/*.jue"),
                "{text}"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no watcher for {want}: {text}"
        );
    }
    // The registry file changes; the client says so: the open document is re-checked.
    std::fs::write(dir.join("reg.json"), REGISTRY).unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": file_uri(&reg), "type": 2}]}),
    );
    let d = c.diagnostics(&uri, 1);
    assert!(d.is_empty(), "{d:?} {:?}", c.notifications);
    let h = c.at("textDocument/hover", &uri, 0, 3);
    assert!(
        h["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("Pings the host."),
        "{h}"
    );
    assert!(c.shutdown().success());
}

#[cfg(unix)]
#[test]
fn fifos_and_devices_in_the_workspace_do_not_block() {
    let dir = temp_dir("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(dir.join("pipe.jue"))
        .arg(dir.join("reg.json"))
        .status()
        .expect("mkfifo");
    assert!(made.success());
    std::os::unix::fs::symlink("/dev/stdin", dir.join("stdin.jue")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.join("zero.jue")).unwrap();
    std::fs::write(
        dir.join("jue.toml"),
        "[registry]\nfiles = [\"reg.json\", \"/dev/stdin\"]\n",
    )
    .unwrap();
    std::fs::write(dir.join("ok.jue"), "(define (on-disk) 1)\n").unwrap();
    let mut c = Client::spawn_in(&dir);
    c.initialize(&dir, &[]);
    let uri = file_uri(&dir.join("w.jue"));
    c.open(&uri, "(define (here) 2)\n");
    // Diagnostics arrive (jue.toml's registry files were not read, and said so).
    c.diagnostics(&uri, 1);
    let m = c.wait_notification("window/showMessage", |_| true);
    assert!(
        m["message"]
            .as_str()
            .unwrap()
            .contains("not a regular file"),
        "{m}"
    );
    // Workspace symbols list the regular file and skip the rest.
    let r = c.request("workspace/symbol", json!({"query": ""}));
    let names: Vec<&str> = r
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"on-disk"), "{names:?}");
    // The FIFO opened by the editor is a document like any other; files changed
    // on disk (the FIFO among them) are read again without blocking.
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": file_uri(&dir.join("pipe.jue")), "type": 2},
                           {"uri": file_uri(&dir.join("reg.json")), "type": 2}]}),
    );
    let r = c.request("workspace/symbol", json!({"query": "on"}));
    assert!(r.as_array().is_some_and(|a| !a.is_empty()), "{r}");
    alive(&mut c);
    assert!(c.shutdown().success());
}

#[test]
fn folding_ranges_follow_the_brackets() {
    let dir = temp_dir("folding");
    let mut c = Client::spawn_in(&dir);
    c.initialize(&dir, &[]);
    let uri = file_uri(&dir.join("f.jue"));
    let text = "; (not\n; a list)\n@formal\n(define (g y)\n  (let ((z\n          y))\n    [z\n     1]))\n(f \"(\n\")\n";
    c.open(&uri, text);
    c.diagnostics(&uri, 1);
    let folds = c.request(
        "textDocument/foldingRange",
        json!({"textDocument": {"uri": uri}}),
    );
    let mut lines: Vec<(u64, u64)> = folds
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["startLine"].as_u64().unwrap(),
                f["endLine"].as_u64().unwrap(),
            )
        })
        .collect();
    lines.sort();
    // The annotated form from its annotation, the define, the let, its bindings;
    // not the comment, the vector or the string's parenthesis.
    assert_eq!(lines, vec![(2, 7), (3, 7), (4, 5), (4, 7), (8, 9)]);
    // VS Code folds whole lines: no characters.
    assert!(folds[0].get("startCharacter").is_none(), "{folds}");
    assert!(c.shutdown().success());
    // A client that takes two ranges gets the two that span the most lines.
    let mut c = Client::spawn_in(&dir);
    c.initialize_with(
        &dir,
        json!({"textDocument": {"foldingRange": {"rangeLimit": 2}}}),
    );
    c.open(&uri, text);
    c.diagnostics(&uri, 1);
    let folds = c.request(
        "textDocument/foldingRange",
        json!({"textDocument": {"uri": uri}}),
    );
    let lines: Vec<(u64, u64)> = folds
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["startLine"].as_u64().unwrap(),
                f["endLine"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(lines, vec![(2, 7), (3, 7)], "{folds}");
    assert!(folds[0]["startCharacter"].is_u64(), "{folds}");
    assert!(c.shutdown().success());
}

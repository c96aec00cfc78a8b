//! The language server under stress and bad input: bursts of edits, garbage,
//! out-of-range positions, unknown documents, requests before `initialize`, and
//! the ways a session can end.

mod lsp_support;

use lsp_support::{Client, file_uri, temp_dir};
use serde_json::json;
use std::time::{Duration, Instant};

fn alive(c: &mut Client) {
    let r = c.request("workspace/symbol", json!({"query": "zzz-nothing"}));
    assert!(r.is_array(), "{r}");
}

#[test]
fn burst_of_edits_then_requests_see_the_final_text() {
    let dir = temp_dir("burst");
    let mut c = Client::spawn_in(&dir);
    c.initialize(&dir, &[]); // UTF-16 columns
    let uri = file_uri(&dir.join("burst.jue"));
    c.open(&uri, "");
    let mut version = 1;
    let (mut line, mut col) = (0u32, 0u32);
    let mut expected = String::new();
    let start = Instant::now();
    for i in 0..20 {
        let text = format!("(define (f{i} 😀) (+ 😀 {i}))\n");
        for ch in text.chars() {
            version += 1;
            let s = ch.to_string();
            c.notify(
                "textDocument/didChange",
                json!({"textDocument": {"uri": uri, "version": version},
                       "contentChanges": [{"range": {"start": {"line": line, "character": col}, "end": {"line": line, "character": col}}, "text": s}]}),
            );
            if ch == '\n' {
                line += 1;
                col = 0;
            } else {
                col += ch.len_utf16() as u32;
            }
        }
        expected.push_str(&text);
    }
    assert!(version > 400, "{version} edits");
    // The first request after the burst sees the last version.
    let syms = c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(syms.as_array().unwrap().len(), 20, "{syms}");
    let edits = c.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    assert_eq!(
        edits,
        json!([]),
        "the text is exactly what was typed (already formatted)"
    );
    // Diagnostics arrive for the last version, and are empty.
    let d = c.diagnostics(&uri, version);
    assert!(d.is_empty(), "{d:?}");
    let h = c.at("textDocument/hover", &uri, 19, 10);
    assert!(
        h["contents"]["value"].as_str().unwrap().contains("f19"),
        "{h}"
    );
    assert!(start.elapsed() < Duration::from_secs(30));
    assert!(c.shutdown().success());
}

#[test]
fn bad_input_is_answered_or_ignored() {
    let dir = temp_dir("bad");
    let mut c = Client::spawn_in(&dir);
    // A request before initialize: an error answer (ServerNotInitialized), not a crash.
    let id = c.send_request("textDocument/hover", json!({"textDocument": {"uri": "file:///nope.jue"}, "position": {"line": 0, "character": 0}}));
    let r = c.response(id);
    assert_eq!(r["error"]["code"], -32002, "{r}");
    c.initialize(&dir, &[]);
    alive(&mut c);

    // Not JSON; JSON that is not a message; unknown methods.
    c.send_raw(b"Content-Length: 9\r\n\r\n{garbage}");
    c.send_raw(b"Content-Length: 2\r\n\r\n[]");
    let id = c.send_request("jue/unknownMethod", json!({}));
    assert!(c.response(id).get("error").is_some());
    c.notify("jue/unknownNotification", json!({"x": 1}));
    // Invalid params.
    let id = c.send_request("textDocument/hover", json!({"textDocument": 42}));
    assert!(c.response(id).get("error").is_some());
    alive(&mut c);

    // Unknown URIs.
    let unknown = "file:///does/not/exist.jue";
    for m in [
        "textDocument/hover",
        "textDocument/completion",
        "textDocument/definition",
        "textDocument/signatureHelp",
    ] {
        let r = c.at(m, unknown, 0, 0);
        assert!(r.is_null(), "{m}: {r}");
    }
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": unknown, "version": 2}, "contentChanges": [{"text": "x"}]}),
    );
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": unknown}}),
    );
    c.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": unknown}}),
    );
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": unknown, "type": 2}]}),
    );
    alive(&mut c);

    // Garbage documents; requests everywhere, including past the end.
    let deep = "(".repeat(5000);
    let deep_valid = format!(
        "(define (f x) {}x{})",
        "(list ".repeat(990),
        ")".repeat(990)
    );
    let garbage = [
        "(((((",
        ")))) ]]] [[[ \"unterminated",
        "\u{0}\u{1}\u{7f} #<> @@@ @nottier (:formal (:experimental 1)) '''",
        "(define) (define 1 2 3) (lambda) (let ((x)) ) (cond (else)) (try) (catch)",
        "(require-capability) (has-capability? 1 2) (ffi-call) (ffi-call \"no:such\")",
        "(define (f . ) 1) ( . ) (. x) (1 . 2 . 3)",
        "\"\\q\\u{zzzz}\" 1e999999 99999999999999999999999 -0x 'sym\r\n\r(\u{2028}x\u{2029})",
        &deep,
        &deep_valid,
        "𝕏😀\u{fe0f}é\u{301} (define (𝕏) 😀)",
    ];
    for (i, text) in garbage.iter().enumerate() {
        let uri = format!("file://{}/g{i}.jue", dir.display());
        c.open(&uri, text);
        for (line, ch) in [(0, 0), (0, 3), (0, 9999), (9999, 0), (9999, 9999), (1, 1)] {
            for m in [
                "textDocument/hover",
                "textDocument/completion",
                "textDocument/signatureHelp",
                "textDocument/definition",
                "textDocument/prepareRename",
            ] {
                let id = c.send_request(m, json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": ch}}));
                let r = c.response(id);
                assert!(
                    r.get("result").is_some() || r.get("error").is_some(),
                    "{m}: {r}"
                );
            }
        }
        for m in [
            "textDocument/documentSymbol",
            "textDocument/semanticTokens/full",
            "textDocument/foldingRange",
        ] {
            c.request(m, json!({"textDocument": {"uri": uri}}));
        }
        c.request(
            "textDocument/formatting",
            json!({"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
        );
        c.request("textDocument/inlayHint", json!({"textDocument": {"uri": uri}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 99, "character": 0}}}));
        c.request("textDocument/codeAction", json!({"textDocument": {"uri": uri}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 99, "character": 0}}, "context": {"diagnostics": []}}));
        c.request("textDocument/selectionRange", json!({"textDocument": {"uri": uri}, "positions": [{"line": 0, "character": 2}, {"line": 500, "character": 500}]}));
        // Edits with ranges past the end, reversed, and inside surrogate pairs: clamped.
        c.notify("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [
            {"range": {"start": {"line": 50, "character": 0}, "end": {"line": 60, "character": 5}}, "text": "(tail)"},
            {"range": {"start": {"line": 0, "character": 4}, "end": {"line": 0, "character": 1}}, "text": "😀"},
            {"range": {"start": {"line": 0, "character": 1}, "end": {"line": 0, "character": 2}}, "text": ""},
        ]}));
        c.diagnostics(&uri, 2);
    }
    alive(&mut c);
    assert!(c.shutdown().success());
}

#[test]
fn closing_stdin_ends_the_server() {
    let dir = temp_dir("eof");
    let mut c = Client::spawn_in(&dir);
    c.initialize(&dir, &[]);
    c.open(&file_uri(&dir.join("x.jue")), "(define x 1)");
    c.close_stdin();
    assert!(
        c.wait_exit(Duration::from_secs(5)).is_some(),
        "server still running after stdin closed"
    );
}

#[test]
fn exit_ends_the_server_with_stdin_open() {
    let dir = temp_dir("exit");
    let mut c = Client::spawn_in(&dir);
    c.initialize(&dir, &[]);
    c.notify("exit", json!(null));
    let status = c
        .wait_exit(Duration::from_secs(5))
        .expect("server still running after exit");
    // `exit` without `shutdown` first: status 1, as the LSP specification says.
    assert_eq!(status.code(), Some(1));
    let dir = temp_dir("exit2");
    let mut c = Client::spawn_in(&dir);
    c.initialize(&dir, &[]);
    let t = Instant::now();
    assert!(c.shutdown().success());
    assert!(t.elapsed() < Duration::from_secs(2));
}

/// Position (UTF-16 = bytes here: the text is ASCII) of a byte offset.
fn position(text: &str, off: usize) -> serde_json::Value {
    let line = text[..off].matches('\n').count();
    let col = off - text[..off].rfind('\n').map_or(0, |i| i + 1);
    json!({"line": line, "character": col})
}

/// What a diagnostic says, without the document's URI (in related information).
fn essence(d: &serde_json::Value) -> String {
    let related: Vec<String> = d["relatedInformation"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|x| format!("{} {}", x["location"]["range"], x["message"]))
                .collect()
        })
        .unwrap_or_default();
    format!(
        "{} {} {} {:?}",
        d["range"], d["code"], d["message"], related
    )
}

#[test]
fn incremental_diagnostics_equal_those_of_a_fresh_open() {
    let dir = temp_dir("incremental");
    let mut c = Client::spawn_in(&dir);
    c.initialize(&dir, &[]);
    let uri = file_uri(&dir.join("edited.jue"));
    let mut text = String::from(
        ";; Fetches a page.\n(define (fetch u) (net:http-get u))\n\n(define (twice f x) (f (f x)))\n\n(define (main) (fetch \"a\") (twice fetch 1))\n",
    );
    c.open(&uri, &text);
    // Each edit: (find this, replace it by that). They change arities, add and remove
    // definitions, declare capabilities at top level, unbalance and mend the text.
    let edits: &[(&str, &str)] = &[
        ("(define (twice f x)", "(define (twice f x y)"),
        ("(fetch \"a\")", "(fetch \"a\" \"b\")"),
        (
            "\n\n(define (main)",
            "\n\n(require-capability IoNetwork)\n(define (main)",
        ),
        ("(define (fetch u)", "(define (fetch u"),
        ("(define (fetch u", "(define (fetch u)"),
        ("(define (twice f x y)", "(define (twice f x)"),
        (";; Fetches a page.\n", "(define (fetch) 1)\n"),
        ("(require-capability IoNetwork)\n", ""),
        (
            "(define (fetch) 1)\n",
            "@formal\n(define (pure) (fetch 1))\n",
        ),
    ];
    for (version, (from, to)) in (2..).zip(edits) {
        let at = text.find(from).expect("edit target present");
        let (start, end) = (position(&text, at), position(&text, at + from.len()));
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version},
                   "contentChanges": [{"range": {"start": start, "end": end}, "text": to}]}),
        );
        text.replace_range(at..at + from.len(), to);
        let got: Vec<String> = c.diagnostics(&uri, version).iter().map(essence).collect();
        let fresh = file_uri(&dir.join(format!("fresh{version}.jue")));
        c.open(&fresh, &text);
        let want: Vec<String> = c.diagnostics(&fresh, 1).iter().map(essence).collect();
        assert_eq!(got, want, "after edit {version} the text is:\n{text}");
        assert!(!want.is_empty(), "every step has something to report");
    }
    assert!(c.shutdown().success());
}

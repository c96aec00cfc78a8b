//! The language server's features over JSON-RPC, against `jue lsp` (or the binary
//! named by `JUE_LSP_SERVER`).

mod lsp_support;

use lsp_support::{Client, file_uri, temp_dir};
use serde_json::{Value, json};

const A: &str = r#";; Fetches a page.
;; Returns the body.
(define (fetch url)
  (net:http-get url))

(define (save path text) (fs:write-file path text))
(define (g x y) (+ x yy))
@formal (define (pure n) (fetch n))
(net:http-gett "x")
(define (online?) (has-capability? IoNetwork))
"#;

/// (line, UTF-16 column) of the `nth` occurrence of `needle`, plus `add` characters.
fn pos(text: &str, needle: &str, add: usize) -> (u32, u32) {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} not in text"));
    let before = &text[..at];
    let line = before.matches('\n').count() as u32;
    let ls = before.rfind('\n').map_or(0, |i| i + 1);
    let col = text[ls..at].encode_utf16().count()
        + text[at..]
            .chars()
            .take(add)
            .map(char::len_utf16)
            .sum::<usize>();
    (line, col as u32)
}

fn range(v: &Value) -> (u64, u64, u64, u64) {
    (
        v["start"]["line"].as_u64().unwrap(),
        v["start"]["character"].as_u64().unwrap(),
        v["end"]["line"].as_u64().unwrap(),
        v["end"]["character"].as_u64().unwrap(),
    )
}

fn hover_text(c: &mut Client, uri: &str, at: (u32, u32)) -> String {
    let h = c.at("textDocument/hover", uri, at.0, at.1);
    h["contents"]["value"]
        .as_str()
        .unwrap_or_else(|| panic!("no hover at {at:?}: {h}"))
        .to_string()
}

fn setup(name: &str) -> (std::path::PathBuf, Client, String) {
    let dir = temp_dir(name);
    std::fs::write(
        dir.join("jue.toml"),
        "[capabilities]\ngranted = [\"IoPersist\"]\n",
    )
    .unwrap();
    std::fs::write(dir.join("a.jue"), A).unwrap();
    let mut c = Client::spawn_in(&dir);
    let init = c.initialize(&dir, &["utf-16"]);
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-16");
    let uri = file_uri(&dir.join("a.jue"));
    c.open(&uri, A);
    (dir, c, uri)
}

#[test]
fn diagnostics_hover_and_navigation() {
    let (_dir, mut c, uri) = setup("diag");
    let diags = c.diagnostics(&uri, 1);
    let codes: Vec<&str> = diags.iter().map(|d| d["code"].as_str().unwrap()).collect();
    for want in ["W0301", "W0303", "E0101", "E0201", "E0102"] {
        assert!(codes.contains(&want), "{want} missing from {codes:?}");
    }
    // fs:write-file needs IoPersist, which jue.toml grants: no W0301 on line 5.
    assert!(
        !diags
            .iter()
            .any(|d| d["code"] == "W0301" && d["range"]["start"]["line"] == 5),
        "{diags:?}"
    );
    let w = diags.iter().find(|d| d["code"] == "W0301").unwrap();
    assert_eq!(range(&w["range"]), (3, 3, 3, 15));
    assert_eq!(w["severity"], 2);
    assert_eq!(w["source"], "jue");
    let e = diags.iter().find(|d| d["code"] == "E0201").unwrap();
    assert_eq!(e["severity"], 1);
    let rel = &e["relatedInformation"][0];
    assert_eq!(rel["location"]["uri"], uri.as_str());
    assert_eq!(rel["location"]["range"]["start"]["line"], 2, "{e}");
    let unbound = diags.iter().find(|d| d["code"] == "E0101").unwrap();
    assert!(
        unbound["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `y`"),
        "{unbound}"
    );

    // Hover: FFI (not granted / granted per jue.toml), user definition with doc, built-in,
    // special form, local, capability.
    let h = hover_text(&mut c, &uri, pos(A, "net:http-get", 3));
    assert!(
        h.starts_with("```jue\nnet:http-get (String) → String\n```"),
        "{h}"
    );
    assert!(
        h.contains("tier empirical · needs IoNetwork (not granted ✗)"),
        "{h}"
    );
    let h = hover_text(&mut c, &uri, pos(A, "fs:write-file", 2));
    assert!(h.contains("needs IoPersist (granted ✓)"), "{h}");
    let h = hover_text(&mut c, &uri, pos(A, "fetch url", 1));
    assert!(h.starts_with("```jue\n(fetch url)\n```"), "{h}");
    assert!(
        h.contains("IoNetwork ✗")
            && h.contains("Fetches a page.")
            && h.contains("Returns the body."),
        "{h}"
    );
    let h = hover_text(&mut c, &uri, pos(A, "+ x yy", 0));
    assert!(h.contains("(built-in)"), "{h}");
    let h = hover_text(&mut c, &uri, pos(A, "define (fetch", 2));
    assert!(h.contains("special form"), "{h}");
    let h = hover_text(&mut c, &uri, pos(A, "url))", 1));
    assert!(h.contains("local variable (parameter)"), "{h}");
    let h = hover_text(&mut c, &uri, pos(A, "IoNetwork))", 2));
    assert!(
        h.contains("IoNetwork (not granted ✗)") && h.contains("capability:"),
        "{h}"
    );
    let h = c.at("textDocument/hover", &uri, 4, 0);
    assert!(h.is_null(), "{h}");

    // Definition, references, rename.
    let use_of_fetch = pos(A, "fetch n", 1);
    let d = c.at(
        "textDocument/definition",
        &uri,
        use_of_fetch.0,
        use_of_fetch.1,
    );
    assert_eq!(range(&d["range"]), (2, 9, 2, 14), "{d}");
    let refs = c.request(
        "textDocument/references",
        json!({"textDocument": {"uri": uri}, "position": {"line": use_of_fetch.0, "character": use_of_fetch.1},
               "context": {"includeDeclaration": true}}),
    );
    assert_eq!(refs.as_array().unwrap().len(), 2, "{refs}");
    let url = pos(A, "url))", 1);
    let prep = c.at("textDocument/prepareRename", &uri, url.0, url.1);
    assert_eq!(range(&prep), (3, 16, 3, 19));
    let edit = c.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": uri}, "position": {"line": url.0, "character": url.1}, "newName": "address"}),
    );
    let edits = edit["changes"][&uri].as_array().unwrap();
    assert_eq!(edits.len(), 2, "{edit}");
    assert!(edits.iter().all(|e| e["newText"] == "address"));
    let id = c.send_request(
        "textDocument/rename",
        json!({"textDocument": {"uri": uri}, "position": {"line": url.0, "character": url.1}, "newName": "(bad"}),
    );
    assert!(c.response(id).get("error").is_some());

    // Document symbols.
    let syms = c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    let names: Vec<&str> = syms
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["fetch", "save", "g", "pure", "online?"]);
    assert_eq!(syms[0]["kind"], 12); // Function
    assert_eq!(range(&syms[0]["selectionRange"]), (2, 9, 2, 14));

    // Inlay hints: after `fetch`, what it needs.
    let hints = c.request(
        "textDocument/inlayHint",
        json!({"textDocument": {"uri": uri}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 20, "character": 0}}}),
    );
    let fetch_hint = hints
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["position"] == json!({"line": 2, "character": 14}));
    assert_eq!(
        fetch_hint.expect("hint after fetch")["label"],
        "⟨IoNetwork⟩",
        "{hints}"
    );

    // Folding and selection ranges.
    let folds = c.request(
        "textDocument/foldingRange",
        json!({"textDocument": {"uri": uri}}),
    );
    assert!(
        folds
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["startLine"] == 2 && f["endLine"] == 3),
        "{folds}"
    );
    let sel = c.request(
        "textDocument/selectionRange",
        json!({"textDocument": {"uri": uri}, "positions": [{"line": url.0, "character": url.1}]}),
    );
    let s0 = &sel[0];
    assert_eq!(range(&s0["range"]), (3, 16, 3, 19));
    assert_eq!(range(&s0["parent"]["range"]), (3, 2, 3, 20));
    assert_eq!(range(&s0["parent"]["parent"]["range"]), (2, 0, 3, 21));

    // Semantic tokens: `define` is a special form (0), `net:http-get` an FFI function (1),
    // `url` a parameter (4), `IoNetwork` a capability (2), `@formal` a tier (3).
    let toks = c.request(
        "textDocument/semanticTokens/full",
        json!({"textDocument": {"uri": uri}}),
    );
    let data: Vec<u64> = toks["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let mut decoded = Vec::new();
    let (mut line, mut col) = (0, 0);
    for t in data.chunks(5) {
        if t[0] > 0 {
            col = 0;
        }
        line += t[0];
        col += t[1];
        decoded.push((line, col, t[2], t[3]));
    }
    for want in [
        (2, 1, 6, 0),
        (3, 3, 12, 1),
        (2, 15, 3, 4),
        (9, 35, 9, 2),
        (7, 0, 7, 3),
    ] {
        assert!(decoded.contains(&want), "{want:?} not in {decoded:?}");
    }

    let status = c.shutdown();
    assert!(status.success(), "{status:?}");
}

#[test]
fn code_actions() {
    let (_dir, mut c, uri) = setup("actions");
    c.diagnostics(&uri, 1);
    let actions = |c: &mut Client, line: u32| {
        c.request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 40}},
                   "context": {"diagnostics": []}}),
        )
    };
    let a = actions(&mut c, 3);
    let add = a
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["title"] == "add `(require-capability IoNetwork)`")
        .expect("W0301 fix");
    let e = &add["edit"]["changes"][&uri][0];
    assert_eq!(range(&e["range"]), (3, 2, 3, 2));
    assert_eq!(e["newText"], "(require-capability IoNetwork)\n  ");
    assert_eq!(add["kind"], "quickfix");

    let a = actions(&mut c, 6);
    let fix = a
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["title"] == "replace with `y`")
        .expect("E0101 fix");
    assert_eq!(fix["edit"]["changes"][&uri][0]["newText"], "y");

    let a = actions(&mut c, 8);
    let fix = a
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["title"] == "replace with `net:http-get`")
        .expect("E0102 fix");
    assert_eq!(
        range(&fix["edit"]["changes"][&uri][0]["range"]),
        (8, 1, 8, 14)
    );

    let a = actions(&mut c, 7);
    let titles: Vec<&str> = a
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["title"].as_str().unwrap())
        .collect();
    let lower = a
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["title"] == "lower this form to `@empirical`")
        .unwrap_or_else(|| panic!("{titles:?}"));
    let e = &lower["edit"]["changes"][&uri][0];
    assert_eq!(range(&e["range"]), (7, 0, 7, 7));
    assert_eq!(e["newText"], "@empirical");
    let raise = a
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["title"] == "raise fetch to `@formal`")
        .unwrap_or_else(|| panic!("{titles:?}"));
    let e = &raise["edit"]["changes"][&uri][0];
    assert_eq!(range(&e["range"]), (2, 0, 2, 0));
    assert_eq!(e["newText"], "@formal ");

    // A top-level use: a new top-level form before the enclosing one.
    let top = "(println 1)\n(print (net:http-get \"http://example.com\"))\n";
    let uri2 = uri.replace("a.jue", "top.jue");
    c.open(&uri2, top);
    c.diagnostics(&uri2, 1);
    let a = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri2}, "range": {"start": {"line": 1, "character": 10}, "end": {"line": 1, "character": 10}},
               "context": {"diagnostics": []}}),
    );
    let e = &a[0]["edit"]["changes"][&uri2][0];
    assert_eq!(range(&e["range"]), (1, 0, 1, 0), "{a}");
    assert_eq!(e["newText"], "(require-capability IoNetwork)\n");
}

const B: &str = "(define (area w h) (* w h))\n(define (k a) (let ((bb 1)) (+ a b)))\n(require-capability I)\n(math:add 1 \n(net:h\n";

#[test]
fn completion_and_signature_help() {
    let dir = temp_dir("complete");
    let mut c = Client::spawn_in(&dir);
    c.initialize(&dir, &[]);
    let uri = file_uri(&dir.join("b.jue"));
    c.open(&uri, B);
    c.diagnostics(&uri, 1);
    let labels = |r: &Value| -> Vec<String> {
        r["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["label"].as_str().unwrap().to_string())
            .collect()
    };
    // With nothing typed yet (before `a`): locals, globals, special forms,
    // built-ins and FFI names in scope, at most 200.
    let at = pos(B, "a b)))", 0);
    let r = c.at("textDocument/completion", &uri, at.0, at.1);
    let l = labels(&r);
    assert!(l.len() <= 200, "{}", l.len());
    for want in ["bb", "a", "area", "k", "define", "let", "+", "map"] {
        assert!(l.iter().any(|x| x == want), "{want} missing");
    }
    assert!(!l.iter().any(|x| x == "w"), "w is not in scope here");
    // Typed `b`: only what starts with it.
    let at = pos(B, "b)))", 1);
    let r = c.at("textDocument/completion", &uri, at.0, at.1);
    let l = labels(&r);
    assert!(l.iter().any(|x| x == "bb"), "{l:?}");
    assert!(l.iter().all(|x| x.to_lowercase().starts_with('b')), "{l:?}");
    // Typed `net:h`: the FFI function, its documentation through resolve.
    let at = pos(B, "net:h\n", 5);
    let r = c.at("textDocument/completion", &uri, at.0, at.1);
    let item = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == "net:http-get")
        .unwrap_or_else(|| panic!("no net:http-get in {r}"))
        .clone();
    assert_eq!(item["detail"], "(String) → String");
    assert!(
        item.get("documentation").is_none(),
        "sent by resolve: {item}"
    );
    assert_eq!(range(&item["textEdit"]["range"]), (4, 1, 4, 6));
    let item = c.request("completionItem/resolve", item);
    assert!(
        item["documentation"]["value"]
            .as_str()
            .unwrap()
            .contains("needs IoNetwork"),
        "{item}"
    );

    let at = pos(B, "I)", 1);
    let r = c.at("textDocument/completion", &uri, at.0, at.1);
    let l = labels(&r);
    // Capability names, only those starting with the typed `I`.
    assert!(l.iter().all(|x| x.starts_with('I')), "{l:?}");
    assert!(l.iter().any(|x| x == "IoNetwork"), "{l:?}");

    let at = pos(B, "1 \n", 2);
    let s = c.at("textDocument/signatureHelp", &uri, at.0, at.1);
    assert_eq!(
        s["signatures"][0]["label"], "(math:add Int Int) → Int",
        "{s}"
    );
    assert_eq!(s["activeParameter"], 1);
    assert_eq!(
        s["signatures"][0]["parameters"][1]["label"],
        json!([14, 17])
    );
    let at = pos(B, "w h))", 0);
    let s = c.at("textDocument/signatureHelp", &uri, at.0, at.1);
    assert_eq!(s["signatures"][0]["label"], "(* Number...) → Number", "{s}");
    assert_eq!(s["activeParameter"], 0);
}

#[test]
fn utf8_encoding_incremental_edits_formatting_and_workspace_symbols() {
    let dir = temp_dir("utf8");
    std::fs::write(dir.join("c.jue"), "(define (helper-in-c) 1)\n").unwrap();
    for skipped in ["target", "node_modules", ".hidden"] {
        std::fs::create_dir_all(dir.join(skipped)).unwrap();
        std::fs::write(
            dir.join(skipped).join("x.jue"),
            "(define (helper-skipped) 1)\n",
        )
        .unwrap();
    }
    let mut c = Client::spawn_in(&dir);
    let init = c.initialize(&dir, &["utf-8", "utf-16"]);
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-8");
    let uri = file_uri(&dir.join("u.jue"));
    let text = "(define (f 😀) (+ 😀 zz))\n";
    c.open(&uri, text);
    let d = c.diagnostics(&uri, 1);
    let e = d.iter().find(|d| d["code"] == "E0101").unwrap();
    assert_eq!(range(&e["range"]), (0, 25, 0, 27), "UTF-8 columns");
    // Incremental edit in UTF-8 columns: zz -> 😀😀 (unbound again, two scalars later).
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2},
               "contentChanges": [{"range": {"start": {"line": 0, "character": 25}, "end": {"line": 0, "character": 27}}, "text": "λ😀"}]}),
    );
    let d = c.diagnostics(&uri, 2);
    let e = d
        .iter()
        .find(|d| d["code"] == "E0101")
        .expect("λ😀 unbound");
    assert_eq!(range(&e["range"]), (0, 25, 0, 31));
    let h = c.at("textDocument/hover", &uri, 0, 21);
    assert!(
        h["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("local variable"),
        "{h}"
    );

    // Formatting.
    let f = "(define   (g x)\n      (* x 2))\n\n\n\n(g 21)";
    let uri_f = file_uri(&dir.join("f.jue"));
    c.open(&uri_f, f);
    let edits = c.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri_f}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    assert_eq!(edits[0]["newText"], "(define (g x) (* x 2))\n\n(g 21)\n");

    // Workspace symbols from disk, skipping target/, node_modules/ and hidden directories.
    let syms = c.request("workspace/symbol", json!({"query": "helper"}));
    let syms = syms.as_array().unwrap();
    assert_eq!(syms.len(), 1, "{syms:?}");
    assert_eq!(syms[0]["name"], "helper-in-c");
    assert_eq!(syms[0]["location"]["uri"], file_uri(&dir.join("c.jue")));
    // Refreshed from disk when the file changes.
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(
        dir.join("c.jue"),
        "(define (helper-in-c) 1)\n(define helper-two 2)\n",
    )
    .unwrap();
    let syms = c.request("workspace/symbol", json!({"query": "HELPER"}));
    assert_eq!(syms.as_array().unwrap().len(), 2, "{syms}");
}

#[test]
fn jue_toml_is_reread_when_it_changes() {
    let dir = temp_dir("toml");
    std::fs::write(dir.join("jue.toml"), "[capabilities]\ngranted = []\n").unwrap();
    let mut c = Client::spawn_in(&dir);
    c.initialize(&dir, &[]);
    let uri = file_uri(&dir.join("n.jue"));
    let text = "(define (f) (net:http-get \"http://x\"))\n";
    c.open(&uri, text);
    let d = c.diagnostics(&uri, 1);
    assert!(d.iter().any(|d| d["code"] == "W0301"), "{d:?}");
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(
        dir.join("jue.toml"),
        "[capabilities]\ngranted = [\"IoNetwork\", \"io-netwrk\"]\n",
    )
    .unwrap();
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": text}]}),
    );
    let d = c.diagnostics(&uri, 2);
    assert!(
        !d.iter().any(|d| d["code"] == "W0301"),
        "granted now: {d:?}"
    );
    let m = c.wait_notification("window/showMessage", |_| true);
    assert!(m["message"].as_str().unwrap().contains("io-netwrk"), "{m}");
    let h = c.at("textDocument/hover", &uri, 0, 15);
    assert!(
        h["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("(granted ✓)"),
        "{h}"
    );
}

/// `has-capability?` guards reach the editor from the engine: no W0301 on a
/// guarded use, and the inlay hint of a guarded definition names nothing.
/// Lone-CR line ends: the server and the parser's messages name the same line.
#[test]
fn capability_guards_and_lone_cr_lines() {
    let dir = temp_dir("guards");
    let mut c = Client::spawn_in(&dir);
    c.initialize(&dir, &[]);
    let uri = file_uri(&dir.join("g.jue"));
    let text = "(define (stamp)\r  (if (has-capability? SysClock) (get-wall-clock) 0))\r(define (now) (get-wall-clock))\r";
    c.open(&uri, text);
    let d = c.diagnostics(&uri, 1);
    let w: Vec<u64> = d
        .iter()
        .filter(|d| d["code"] == "W0301")
        .map(|d| d["range"]["start"]["line"].as_u64().unwrap())
        .collect();
    // Only the unguarded use, on the third line (lone CRs end lines).
    assert_eq!(w, vec![2], "{d:?}");
    let hints = c.request(
        "textDocument/inlayHint",
        json!({"textDocument": {"uri": uri}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 5, "character": 0}}}),
    );
    let labels: Vec<(u64, String)> = hints
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["position"]["line"].as_u64().unwrap(),
                h["label"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(labels, vec![(2, "⟨SysClock⟩".to_string())], "{hints}");

    // An unclosed form: the help names the line the editor shows.
    let uri = file_uri(&dir.join("u.jue"));
    c.open(&uri, "(define (f x)\r  (+ x 1)\r\r(define (g y) y)\r");
    let d = c.diagnostics(&uri, 1);
    let e = d.iter().find(|d| d["code"] == "E0001").expect("E0001");
    assert_eq!(e["range"]["start"]["line"], 0, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("line 2")
            || e.to_string().contains("at the end of line 2"),
        "{e}"
    );
}

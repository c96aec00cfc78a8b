//! The language server across files (tooling §3, language §13): a document is
//! analysed with the files it imports; their diagnostics are published under
//! their own URIs; hover, definition and completion follow imported names; an
//! importer is checked again when a file it imports is saved.

mod lsp_support;

use lsp_support::{Client, file_uri, temp_dir};
use serde_json::json;

const U: &str = ";; Doubles.\n(define (twice x) (* 2 x))\n(define (fetch url) (net:http-get url))\n(define broken (nope))\n";
const MAIN: &str = "(import \"lib/u.jue\")\n(import \"lib/u.jue\" :as u)\n(twice 1)\n(u/twice 2)\n(u/twic 3)\n(fetch \"x\")\n";

#[test]
fn a_document_with_its_imports() {
    let dir = temp_dir("modules");
    std::fs::create_dir_all(dir.join("lib")).unwrap();
    std::fs::write(dir.join("lib/u.jue"), U).unwrap();
    std::fs::write(dir.join("main.jue"), MAIN).unwrap();
    let mut c = Client::spawn_in(&dir);
    c.initialize(&dir, &["utf-16"]);
    let uri = file_uri(&dir.join("main.jue"));
    c.open(&uri, MAIN);
    let diags = c.diagnostics(&uri, 1);
    let got: Vec<(String, u64)> = diags
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["range"]["start"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    // Only `u/twic` is unbound (with a suggestion from u.jue); the imported
    // `fetch` needs IoNetwork: W0301 at its name.
    assert!(got.contains(&("E0101".to_string(), 4)), "{got:?}");
    assert!(got.contains(&("W0301".to_string(), 5)), "{got:?}");
    assert_eq!(
        got.iter().filter(|(c, _)| c == "E0101").count(),
        1,
        "{got:?}"
    );
    let e = diags.iter().find(|d| d["code"] == "E0101").unwrap();
    assert!(e["message"].as_str().unwrap().contains("u/twice"), "{e}");

    // The imported file's own error, under its URI (it is not open).
    let u_uri = file_uri(&dir.join("lib/u.jue"));
    let p = c.wait_notification("textDocument/publishDiagnostics", |p| p["uri"] == u_uri);
    let codes: Vec<&str> = p["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"E0101"), "{p}");

    // Hover names the file; definition goes there; the path string opens it.
    let h = c.at("textDocument/hover", &uri, 3, 3);
    let text = h["contents"]["value"].as_str().unwrap_or_default();
    assert!(
        text.contains("u/twice") && text.contains("lib/u.jue") && text.contains("Doubles"),
        "{h}"
    );
    let d = c.at("textDocument/definition", &uri, 2, 2);
    let d = if d.is_array() { d[0].clone() } else { d };
    assert_eq!(d["uri"], json!(u_uri), "{d}");
    assert_eq!(d["range"]["start"]["line"], 1, "{d}");
    let d = c.at("textDocument/definition", &uri, 0, 12);
    let d = if d.is_array() { d[0].clone() } else { d };
    assert_eq!(d["uri"], json!(u_uri), "{d}");

    // Completion after `u/` lists the file's definitions.
    let r = c.at("textDocument/completion", &uri, 4, 6);
    let items = r["items"]
        .as_array()
        .or(r.as_array())
        .cloned()
        .unwrap_or_default();
    let labels: Vec<&str> = items.iter().filter_map(|i| i["label"].as_str()).collect();
    assert!(labels.contains(&"u/twice"), "{labels:?}");

    // Saving a change to the imported file checks the importer again.
    std::fs::write(
        dir.join("lib/u.jue"),
        U.replace(
            "(define (twice x)",
            "(define (twic x) x)\n(define (twice x)",
        ),
    )
    .unwrap();
    c.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": u_uri}}),
    );
    let p = c.wait_notification("textDocument/publishDiagnostics", |p| {
        p["uri"] == json!(uri)
            && !p["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["code"] == "E0101")
    });
    assert!(
        p["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["code"] == "W0301")
    );
}

#[test]
fn imports_stay_beneath_the_workspace_folder() {
    let dir = temp_dir("modules-root");
    std::fs::create_dir_all(dir.join("ws/sub")).unwrap();
    std::fs::write(dir.join("outside.jue"), "(define z 1)\n").unwrap();
    std::fs::write(dir.join("ws/top.jue"), "(define t 1)\n").unwrap();
    let text = "(import \"../top.jue\")\n(import \"../../outside.jue\")\nt\n";
    std::fs::write(dir.join("ws/sub/m.jue"), text).unwrap();
    let ws = dir.join("ws");
    let mut c = Client::spawn_in(&ws);
    c.initialize(&ws, &["utf-16"]);
    let uri = file_uri(&dir.join("ws/sub/m.jue"));
    c.open(&uri, text);
    let diags = c.diagnostics(&uri, 1);
    let got: Vec<(&str, u64)> = diags
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap(),
                d["range"]["start"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    // `../top.jue` is inside the workspace folder (the root), `../../outside.jue` is not.
    assert_eq!(got, vec![("E0107", 1)], "{diags:?}");
}

#[test]
fn references_and_rename_reach_the_importers() {
    let dir = temp_dir("modules-refs");
    std::fs::create_dir_all(dir.join("lib")).unwrap();
    let u = "(define (twice x) (* 2 x))\n(twice 0)\n";
    std::fs::write(dir.join("lib/u.jue"), u).unwrap();
    let main = "(import \"lib/u.jue\")\n(import \"lib/u.jue\" :as u)\n(twice 1)\n(u/twice 2)\n";
    std::fs::write(dir.join("main.jue"), main).unwrap();
    std::fs::write(dir.join("other.jue"), "(define (twice y) y)\n(twice 3)\n").unwrap();
    let mut c = Client::spawn_in(&dir);
    c.initialize(&dir, &["utf-16"]);
    let u_uri = file_uri(&dir.join("lib/u.jue"));
    let main_uri = file_uri(&dir.join("main.jue"));
    c.open(&u_uri, u);
    c.diagnostics(&u_uri, 1);
    let refs = references(&mut c, &u_uri, (0, 10), true);
    let got = locations(&refs);
    // Its own two, and main.jue's two (not other.jue's own `twice`).
    assert_eq!(
        got,
        vec![
            (u_uri.clone(), 0, 9),
            (u_uri.clone(), 1, 1),
            (main_uri.clone(), 2, 1),
            (main_uri.clone(), 3, 1),
        ],
        "{refs}"
    );
    let edit = rename(&mut c, &u_uri, (0, 10), "double");
    let edits = edit["changes"][main_uri.as_str()].as_array().unwrap();
    let mut starts: Vec<(u64, u64, u64)> = edits
        .iter()
        .map(|e| {
            assert_eq!(e["newText"], "double");
            (
                e["range"]["start"]["line"].as_u64().unwrap(),
                e["range"]["start"]["character"].as_u64().unwrap(),
                e["range"]["end"]["character"].as_u64().unwrap(),
            )
        })
        .collect();
    starts.sort();
    // `twice` whole; in `u/twice` only the part after the alias.
    assert_eq!(starts, vec![(2, 1, 6), (3, 3, 8)], "{edit}");
    assert_eq!(edit["changes"][u_uri.as_str()].as_array().unwrap().len(), 2);
}

#[test]
fn an_open_imported_file_is_read_from_its_editor() {
    let dir = temp_dir("modules-open");
    let u = "(define (twice x) (* 2 x))\n";
    std::fs::write(dir.join("u.jue"), u).unwrap();
    let main = "(import \"u.jue\")\n(twice 1)\n";
    std::fs::write(dir.join("main.jue"), main).unwrap();
    let mut c = Client::spawn_in(&dir);
    c.initialize(&dir, &["utf-16"]);
    let (u_uri, main_uri) = (
        file_uri(&dir.join("u.jue")),
        file_uri(&dir.join("main.jue")),
    );
    c.open(&u_uri, u);
    c.open(&main_uri, main);
    assert!(c.diagnostics(&main_uri, 1).is_empty());
    // An unsaved edit renames it: the importer, checked again, no longer finds it.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": u_uri, "version": 2},
               "contentChanges": [{"text": "(define (thrice x) (* 3 x))\n"}]}),
    );
    let p = c.wait_notification("textDocument/publishDiagnostics", |p| {
        p["uri"] == json!(main_uri)
            && p["diagnostics"]
                .as_array()
                .is_some_and(|d| d.iter().any(|d| d["code"] == "E0101"))
    });
    let e = &p["diagnostics"][0];
    assert!(e["message"].as_str().unwrap().contains("`twice`"), "{p}");
}

#[test]
fn signature_help_and_the_capability_fix_follow_imported_functions() {
    let dir = temp_dir("modules-sig");
    let u = ";; Joins.\n(define (join a b) (list a b))\n(define (fetch url) (net:http-get url))\n";
    std::fs::write(dir.join("u.jue"), u).unwrap();
    let main = "(import \"u.jue\")\n(import \"u.jue\" :as u)\n(join 1 2)\n(u/join 1 \n(define (go) (fetch \"x\"))\n";
    std::fs::write(dir.join("main.jue"), main).unwrap();
    let mut c = Client::spawn_in(&dir);
    c.initialize(&dir, &["utf-16"]);
    let uri = file_uri(&dir.join("main.jue"));
    c.open(&uri, main);
    let diags = c.diagnostics(&uri, 1);

    // `(join 1 |2)`: the second parameter; the label and doc come from u.jue.
    let h = c.at("textDocument/signatureHelp", &uri, 2, 8);
    assert_eq!(h["signatures"][0]["label"], "(join a b)", "{h}");
    assert_eq!(h["activeParameter"], 1, "{h}");
    let doc = h["signatures"][0]["documentation"]["value"]
        .as_str()
        .unwrap_or_default();
    assert!(doc.contains("Joins") && doc.contains("u.jue"), "{h}");
    // `(u/join 1 |`, in a form left open (not analysed): found by its name.
    let h = c.at("textDocument/signatureHelp", &uri, 3, 10);
    assert_eq!(h["signatures"][0]["label"], "(u/join a b)", "{h}");
    assert_eq!(h["activeParameter"], 1, "{h}");

    // W0301 at the imported `fetch`: the fix declares IoNetwork in `go`'s body.
    let w = diags
        .iter()
        .find(|d| d["code"] == "W0301")
        .unwrap_or_else(|| panic!("{diags:?}"))
        .clone();
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": w["range"],
               "context": {"diagnostics": [w]}}),
    );
    let fix = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            a["title"]
                .as_str()
                .unwrap_or_default()
                .contains("require-capability IoNetwork")
        })
        .unwrap_or_else(|| panic!("{actions}"));
    let edit = &fix["edit"]["changes"][uri.as_str()][0];
    assert_eq!(edit["newText"], "(require-capability IoNetwork) ", "{fix}");
    assert_eq!(edit["range"]["start"]["line"], 4, "{fix}");
    assert_eq!(edit["range"]["start"]["character"], 13, "{fix}");
}

/// The reply to `textDocument/references` at `(line, character)` of `uri`.
fn references(c: &mut Client, uri: &str, at: (u64, u64), declaration: bool) -> serde_json::Value {
    c.request(
        "textDocument/references",
        json!({"textDocument": {"uri": uri}, "position": {"line": at.0, "character": at.1},
               "context": {"includeDeclaration": declaration}}),
    )
}

/// The reply to `textDocument/rename` at `(line, character)` of `uri`.
fn rename(c: &mut Client, uri: &str, at: (u64, u64), new_name: &str) -> serde_json::Value {
    c.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": uri}, "position": {"line": at.0, "character": at.1},
               "newName": new_name}),
    )
}

/// The (uri, line, character) of each location of a reply, sorted.
fn locations(v: &serde_json::Value) -> Vec<(String, u64, u64)> {
    let mut got: Vec<(String, u64, u64)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["uri"].as_str().unwrap().to_string(),
                l["range"]["start"]["line"].as_u64().unwrap(),
                l["range"]["start"]["character"].as_u64().unwrap(),
            )
        })
        .collect();
    got.sort();
    got
}

#[test]
fn references_and_rename_from_an_importer_reach_the_file_and_every_importer() {
    let dir = temp_dir("modules-refs-in");
    std::fs::create_dir_all(dir.join("lib")).unwrap();
    let u = "(define (twice x) (* 2 x))\n(twice 0)\n";
    std::fs::write(dir.join("lib/u.jue"), u).unwrap();
    let main = "(import \"lib/u.jue\" :as u)\n(u/twice 1)\n";
    std::fs::write(dir.join("main.jue"), main).unwrap();
    let other = "(import \"lib/u.jue\")\n(twice 2)\n(twice 3)\n";
    std::fs::write(dir.join("other.jue"), other).unwrap();
    std::fs::write(dir.join("own.jue"), "(define (twice y) y)\n(twice 4)\n").unwrap();
    let mut c = Client::spawn_in(&dir);
    c.initialize(&dir, &["utf-16"]);
    let (u_uri, main_uri, other_uri) = (
        file_uri(&dir.join("lib/u.jue")),
        file_uri(&dir.join("main.jue")),
        file_uri(&dir.join("other.jue")),
    );
    c.open(&main_uri, main);
    c.diagnostics(&main_uri, 1);
    let refs = references(&mut c, &main_uri, (1, 5), true);
    // The definition and use in u.jue, this use, other.jue's two; not own.jue's.
    assert_eq!(
        locations(&refs),
        vec![
            (u_uri.clone(), 0, 9),
            (u_uri.clone(), 1, 1),
            (main_uri.clone(), 1, 1),
            (other_uri.clone(), 1, 1),
            (other_uri.clone(), 2, 1),
        ],
        "{refs}"
    );
    let refs = references(&mut c, &main_uri, (1, 5), false);
    assert_eq!(locations(&refs).len(), 4, "{refs}");

    // Rename from `u/twice`: only `twice` of it, and everywhere else whole.
    let p = c.request(
        "textDocument/prepareRename",
        json!({"textDocument": {"uri": main_uri}, "position": {"line": 1, "character": 5}}),
    );
    assert_eq!(p["start"]["character"], 3, "{p}");
    let edit = rename(&mut c, &main_uri, (1, 5), "double");
    let changes = edit["changes"].as_object().unwrap();
    assert_eq!(changes.len(), 3, "{edit}");
    let main_edits = edit["changes"][main_uri.as_str()].as_array().unwrap();
    assert_eq!(main_edits[0]["range"]["start"]["character"], 3, "{edit}");
    assert_eq!(main_edits[0]["range"]["end"]["character"], 8, "{edit}");
    assert_eq!(edit["changes"][u_uri.as_str()].as_array().unwrap().len(), 2);
    assert_eq!(
        edit["changes"][other_uri.as_str()]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert!(
        edit["changes"][u_uri.as_str()]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["newText"] == "double")
    );
}

#[test]
fn an_edit_reaches_importers_of_importers() {
    let dir = temp_dir("modules-chain");
    // a imports b, b imports c: a sees c only through b's function.
    let c_text = "(define (leaf x) x)\n";
    std::fs::write(dir.join("c.jue"), c_text).unwrap();
    std::fs::write(
        dir.join("b.jue"),
        "(import \"c.jue\")\n(define (mid x) (leaf x))\n",
    )
    .unwrap();
    let a = "(import \"b.jue\")\n(mid 1)\n";
    std::fs::write(dir.join("a.jue"), a).unwrap();
    let mut cl = Client::spawn_in(&dir);
    cl.initialize(&dir, &["utf-16"]);
    let (a_uri, c_uri) = (file_uri(&dir.join("a.jue")), file_uri(&dir.join("c.jue")));
    cl.open(&a_uri, a);
    assert!(cl.diagnostics(&a_uri, 1).is_empty());
    cl.open(&c_uri, c_text);
    cl.diagnostics(&c_uri, 1);
    // An unsaved edit of c: `leaf` now needs IoNetwork, so `mid` does, and a's
    // call of `mid` is W0301.
    cl.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": c_uri, "version": 2},
               "contentChanges": [{"text": "(define (leaf x) (net:http-get x))\n"}]}),
    );
    let p = cl.wait_notification("textDocument/publishDiagnostics", |p| {
        p["uri"] == json!(a_uri)
            && p["diagnostics"]
                .as_array()
                .is_some_and(|d| d.iter().any(|d| d["code"] == "W0301"))
    });
    let w = &p["diagnostics"][0];
    assert_eq!(w["range"]["start"]["line"], 1, "{p}");
    assert!(w["message"].as_str().unwrap().contains("IoNetwork"), "{p}");
    // c's arity changes on disk (closed): a's call is checked again, E0103-like.
    cl.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": c_uri}}),
    );
    std::fs::write(
        dir.join("b.jue"),
        "(import \"c.jue\")\n(define (mid x y) (leaf x))\n",
    )
    .unwrap();
    cl.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": file_uri(&dir.join("b.jue")), "type": 2}]}),
    );
    let p = cl.wait_notification("textDocument/publishDiagnostics", |p| {
        p["uri"] == json!(a_uri)
            && p["diagnostics"].as_array().is_some_and(|d| {
                d.iter()
                    .any(|d| d["message"].as_str().unwrap_or("").contains("mid"))
                    && !d.iter().any(|d| d["code"] == "W0301")
            })
    });
    assert!(!p["diagnostics"].as_array().unwrap().is_empty(), "{p}");
}

/// Sets a file's modification time to `secs` seconds after the epoch.
fn set_age(path: &std::path::Path, secs: u64) {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

#[test]
fn unchanged_imports_are_not_read_again() {
    let dir = temp_dir("modules-cache");
    let u = dir.join("u.jue");
    std::fs::write(&u, "(define (aaaa x) x)\n").unwrap();
    set_age(&u, 1_700_000_000);
    let main = "(import \"u.jue\")\n(aaaa 1)\n";
    std::fs::write(dir.join("main.jue"), main).unwrap();
    let mut c = Client::spawn_in(&dir);
    c.initialize(&dir, &["utf-16"]);
    let uri = file_uri(&dir.join("main.jue"));
    c.open(&uri, main);
    assert!(c.diagnostics(&uri, 1).is_empty());
    // The file changes behind the server's back, keeping its length and time: an
    // edit of the document uses the imports as read (the file is not read again).
    std::fs::write(&u, "(define (bbbb x) x)\n").unwrap();
    set_age(&u, 1_700_000_000);
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2},
               "contentChanges": [{"range": {"start": {"line": 2, "character": 0},
                                             "end": {"line": 2, "character": 0}},
                                   "text": "(aaaa 2)\n"}]}),
    );
    assert!(c.diagnostics(&uri, 2).is_empty());
    // Its modification time changed: read again, `aaaa` is gone.
    set_age(&u, 1_700_000_060);
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 3},
               "contentChanges": [{"range": {"start": {"line": 3, "character": 0},
                                             "end": {"line": 3, "character": 0}},
                                   "text": ";; more\n"}]}),
    );
    let d = c.diagnostics(&uri, 3);
    assert_eq!(
        d.iter().filter(|d| d["code"] == "E0101").count(),
        2,
        "{d:?}"
    );
    // An import added by the edit is read at once.
    std::fs::write(dir.join("v.jue"), "(define (cccc x) x)\n").unwrap();
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 4},
               "contentChanges": [{"text": "(import \"u.jue\")\n(import \"v.jue\")\n(bbbb (cccc 1))\n"}]}),
    );
    assert!(c.diagnostics(&uri, 4).is_empty());
}

#[test]
fn references_read_open_importers_from_their_editors() {
    let dir = temp_dir("modules-refs-open");
    std::fs::create_dir_all(dir.join("lib")).unwrap();
    let u = "(define (twice x) (* 2 x))\n";
    std::fs::write(dir.join("lib/u.jue"), u).unwrap();
    let main = "(import \"lib/u.jue\")\n(twice 1)\n";
    std::fs::write(dir.join("main.jue"), main).unwrap();
    let mut c = Client::spawn_in(&dir);
    c.initialize(&dir, &["utf-16"]);
    let (u_uri, main_uri) = (
        file_uri(&dir.join("lib/u.jue")),
        file_uri(&dir.join("main.jue")),
    );
    // main.jue open with a use its file on disk does not have yet.
    c.open(&main_uri, &format!("{main}(twice 2)\n"));
    c.diagnostics(&main_uri, 1);
    c.open(&u_uri, u);
    c.diagnostics(&u_uri, 1);
    let refs = references(&mut c, &u_uri, (0, 10), false);
    assert_eq!(
        locations(&refs),
        vec![(main_uri.clone(), 1, 1), (main_uri.clone(), 2, 1)],
        "{refs}"
    );
}

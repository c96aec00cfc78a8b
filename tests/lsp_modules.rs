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
    let refs = c.request(
        "textDocument/references",
        json!({"textDocument": {"uri": u_uri}, "position": {"line": 0, "character": 10},
               "context": {"includeDeclaration": true}}),
    );
    let mut got: Vec<(String, u64, u64)> = refs
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
    let edit = c.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": u_uri}, "position": {"line": 0, "character": 10},
               "newName": "double"}),
    );
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

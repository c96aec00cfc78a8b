//! The shipped documentation cannot drift from the engine: the tables of
//! `docs/language.md` between `<!-- generated:NAME -->` and
//! `<!-- end generated:NAME -->` must be exactly what the engine's own tables
//! render (built-ins, special forms, the standard FFI registry, capabilities).
//! `JUE_BLESS=1 cargo test -p jue --test docs` rewrites them after a change.
//! The README and the docs link only to files inside the repository.

use jue_engine::{Capability, Session, builtins, docs};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A table cell: `|` escaped, backquoted code kept.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn builtins_table() -> String {
    let mut t = String::from("| built-in | signature | tier | what it does |\n|---|---|---|---|\n");
    for b in builtins::all().iter().filter(|b| !b.hidden) {
        t.push_str(&format!(
            "| `{}` | `{}` | {} | {} |\n",
            cell(b.name),
            cell(&b.sig.to_string()),
            b.tier,
            cell(b.doc)
        ));
    }
    t
}

fn special_forms_table() -> String {
    let mut t = String::from("| form | syntax | meaning |\n|---|---|---|\n");
    let mut seen: Vec<String> = Vec::new();
    for name in jue_engine::analysis::SPECIAL_FORMS {
        let Some(d) = docs::special_form(name) else {
            panic!("special form `{name}` has no documentation in jue_engine::docs");
        };
        let mut lines = d.lines();
        let syntax = lines.next().unwrap_or("").to_string();
        let meaning = lines.nth(1).unwrap_or("").to_string();
        if seen.contains(&syntax) {
            continue; // an alias, documented with its form
        }
        seen.push(syntax.clone());
        t.push_str(&format!(
            "| `{}` | {} | {} |\n",
            cell(name),
            cell(&syntax),
            cell(&meaning)
        ));
    }
    t
}

fn ffi_table() -> String {
    let session = Session::new();
    let reg = session.registry();
    let mut t = String::from(
        "| function | signature | capability | tier | what it does |\n|---|---|---|---|---|\n",
    );
    for i in 0..reg.len() as u32 {
        let f = reg.function(i);
        t.push_str(&format!(
            "| `{}` | `{}` | {} | {} | {} |\n",
            cell(&f.name),
            cell(&reg.signature(i).to_string()),
            f.required_capability
                .map_or("—".to_string(), |c| c.name().to_string()),
            f.tier,
            cell(&f.documentation)
        ));
    }
    t
}

fn capabilities_table() -> String {
    let mut t = String::from("| capability | what a grant allows |\n|---|---|\n");
    for c in Capability::ALL {
        t.push_str(&format!("| `{}` | {} |\n", c.name(), cell(c.description())));
    }
    t
}

/// Replaces (or, blessing, rewrites) every generated section; returns the
/// sections that differ.
fn check_sections(path: &Path, sections: &[(&str, String)], bless: bool) -> Vec<String> {
    let mut text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut stale = Vec::new();
    for (name, want) in sections {
        let open = format!("<!-- generated:{name} -->\n");
        let close = format!("<!-- end generated:{name} -->");
        let start = text
            .find(&open)
            .unwrap_or_else(|| panic!("{} has no `{}`", path.display(), open.trim()))
            + open.len();
        let end = start
            + text[start..]
                .find(&close)
                .unwrap_or_else(|| panic!("{} has no `{close}`", path.display()));
        if text[start..end] != *want {
            stale.push(name.to_string());
            text.replace_range(start..end, want);
        }
    }
    if bless && !stale.is_empty() {
        std::fs::write(path, &text).expect("rewrite the docs");
    }
    stale
}

#[test]
fn language_reference_tables_are_the_engines_own() {
    let path = root().join("docs/language.md");
    let sections = [
        ("special-forms", special_forms_table()),
        ("builtins", builtins_table()),
        ("ffi", ffi_table()),
        ("capabilities", capabilities_table()),
    ];
    let bless = std::env::var_os("JUE_BLESS").is_some();
    let stale = check_sections(&path, &sections, bless);
    assert!(
        bless || stale.is_empty(),
        "docs/language.md is out of date in: {}; run `JUE_BLESS=1 cargo test -p jue --test docs` and commit",
        stale.join(", ")
    );
}

#[test]
fn every_builtin_and_ffi_function_is_in_the_reference_with_its_signature() {
    // Independent of the generated sections' layout: each name and signature
    // appears on one line of the reference.
    let text = std::fs::read_to_string(root().join("docs/language.md")).expect("language.md");
    let has = |name: &str, sig: &str| {
        text.lines()
            .any(|l| l.contains(&format!("`{}`", cell(name))) && l.contains(&cell(sig)))
    };
    for b in builtins::all().iter().filter(|b| !b.hidden) {
        assert!(
            has(b.name, &b.sig.to_string()),
            "built-in {} {} missing",
            b.name,
            b.sig
        );
    }
    let session = Session::new();
    let reg = session.registry();
    for i in 0..reg.len() as u32 {
        let f = reg.function(i);
        assert!(
            has(&f.name, &reg.signature(i).to_string()),
            "FFI function {} {} missing",
            f.name,
            reg.signature(i)
        );
    }
    // The same registry as `jue registry --json`, which embedders read.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_jue"))
        .args(["registry", "--json"])
        .output()
        .expect("jue registry --json");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let names: Vec<&str> = json["functions"]
        .as_array()
        .expect("functions")
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert_eq!(names.len(), reg.len());
    for n in names {
        assert!(
            text.contains(&format!("| `{n}` |")),
            "{n} missing from the FFI table"
        );
    }
}

#[test]
fn readme_and_docs_link_only_inside_the_repository() {
    let mut files = vec![root().join("README.md")];
    for e in std::fs::read_dir(root().join("docs")).expect("docs/") {
        let p = e.expect("entry").path();
        if p.extension().is_some_and(|x| x == "md") {
            files.push(p);
        }
    }
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read");
        assert!(
            !text.contains("../shared"),
            "{} points outside the repository (../shared)",
            f.display()
        );
        // Every relative Markdown link names a file of the repository.
        let dir = f.parent().expect("dir");
        for (i, _) in text.match_indices("](") {
            let rest = &text[i + 2..];
            let Some(end) = rest.find(')') else { continue };
            let target = rest[..end].split('#').next().unwrap_or("");
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let resolved = dir.join(target);
            assert!(
                resolved.exists(),
                "{}: link to {target} which does not exist",
                f.display()
            );
            let canon = resolved.canonicalize().expect("canonical");
            assert!(
                canon.starts_with(root().canonicalize().expect("root")),
                "{}: link to {target} leaves the repository",
                f.display()
            );
        }
    }
}

//! The engine's floors import only what docs/architecture.md allows: each
//! top-level module of `engine/src` may name (`crate::X`) only the modules listed
//! for it here. A new arrow is a design decision: change the table and the
//! architecture document together.

use std::collections::BTreeSet;
use std::path::Path;

/// Each floor and the floors it may import.
const ALLOWED: &[(&str, &[&str])] = &[
    ("ground", &[]),
    ("syntax", &["ground"]),
    ("analysis", &["ground", "syntax"]),
    ("compile", &["ground", "analysis"]),
    ("vm", &["ground"]),
    ("host", &["ground", "vm"]),
    (
        "session",
        &["ground", "syntax", "analysis", "compile", "vm", "host"],
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top-level modules named as `crate::X` in a text (comments included: a doc
/// link upward is as confusing as an import).
fn named_modules(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            found.insert(name);
        }
    }
    found
}

#[test]
fn every_floor_imports_only_what_it_may() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for entry in std::fs::read_dir(&src).expect("engine/src") {
        let p = entry.expect("entry").path();
        let module = p
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        if module == "lib" {
            continue;
        }
        let Some((_, allowed)) = ALLOWED.iter().find(|(m, _)| *m == module) else {
            problems.push(format!(
                "`{module}` is a top-level module that no floor names: add it to ALLOWED and to docs/architecture.md"
            ));
            continue;
        };
        seen.insert(module.clone());
        let mut files = Vec::new();
        if p.is_dir() {
            rust_files(&p, &mut files);
        } else {
            files.push(p.clone());
        }
        for f in files {
            let text = std::fs::read_to_string(&f).expect("readable source");
            for name in named_modules(&text) {
                if name != module && !allowed.contains(&name.as_str()) {
                    problems.push(format!(
                        "{} names `crate::{name}`, but `{module}` may import only {allowed:?}",
                        f.strip_prefix(&src).unwrap_or(&f).display()
                    ));
                }
            }
        }
    }
    for (m, _) in ALLOWED {
        assert!(seen.contains(*m), "floor `{m}` is missing from engine/src");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_check_sees_an_upward_import() {
    // The scanner itself: an import of the VM from analysis would be caught.
    let names = named_modules("use crate::vm::value::Value; // and crate::ground::span");
    assert!(names.contains("vm") && names.contains("ground"));
}

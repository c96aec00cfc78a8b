//! Times the incremental document on a file and reports its memory:
//! `cargo run --release -p jue-engine --example document_time FILE`.
//! Prints the whole-text analysis time, the time of a one-character edit with its
//! refresh (median of 20, at the start, middle and end of the text), and the
//! resident memory with the document alive.

use jue_engine::Session;
use jue_engine::analysis::Env;
use jue_engine::analysis::document::Document;
use std::time::Instant;

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: document_time FILE");
        std::process::exit(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(2);
        }
    };
    let session = Session::new();
    let env = session.env();
    let before = rss_mib();
    let t = Instant::now();
    let mut doc = Document::new(text, env.default_tier);
    doc.refresh(&env, &|| false);
    let whole = t.elapsed().as_secs_f64() * 1e3;
    let peak = rss_mib() - before;
    unsafe extern "C" {
        fn malloc_trim(pad: usize) -> i32;
    }
    // SAFETY: glibc's malloc_trim only returns free heap pages to the system.
    unsafe { malloc_trim(0) };
    let slots = doc.slots().count();
    println!(
        "whole text: {whole:.1} ms ({slots} slots, {} diagnostics); memory {:.0} MiB (after the analysis; {peak:.0} MiB before free pages were returned)",
        doc.diagnostics(env.mode).len(),
        rss_mib() - before
    );
    // A name of a function defined in the text: inserting a use of it changes what
    // its user needs, so capability inference is joined again.
    let callee = doc
        .slots()
        .find_map(|(_, s)| s.lowered.definitions.iter().find(|d| d.arity.is_some()))
        .map(|d| format!(" {}", d.name));
    for (name, frac) in [("start", 0.0), ("middle", 0.5), ("end", 0.999)] {
        let len = doc.text().len();
        // The start of a line inside a form near `frac` of the text.
        let mut at = (len as f64 * frac) as usize;
        at = doc.text()[at..].find("\n ").map_or(0, |i| at + i + 1);
        let median = time_edits(&mut doc, &env, at, " ");
        println!(
            "edit at the {name}: {median:.2} ms (median of 20; {:.0}x faster than the whole text); {:?}",
            whole / median,
            doc.work()
        );
    }
    if let Some(callee) = callee {
        let mut at = doc.text().len() / 2;
        at = doc.text()[at..].find("(+ ").map_or(0, |i| at + i + 2);
        let median = time_edits(&mut doc, &env, at, &callee);
        println!(
            "edit adding a use of `{}` in the middle: {median:.2} ms (median of 20; {:.0}x faster than the whole text); {:?}",
            callee.trim(),
            whole / median,
            doc.work()
        );
    }
}

/// The median time, in ms, of 20 edits at `at` that insert `text` and take it
/// out again, each with its refresh and diagnostics.
fn time_edits(doc: &mut Document, env: &Env<'_>, at: usize, text: &str) -> f64 {
    let mut times = Vec::new();
    for i in 0..20 {
        let t = Instant::now();
        if i % 2 == 0 {
            doc.edit(at..at, text).expect("valid");
        } else {
            doc.edit(at..at + text.len(), "").expect("valid");
        }
        doc.refresh(env, &|| false);
        let _ = doc.diagnostics(env.mode);
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

//! Times the whole-file answers (full semantic tokens, folding ranges, document
//! symbols) in process, apart from the protocol's serialisation: the first
//! answer after the open, then after a one-character edit, with the cost of
//! turning the answer into JSON as tower-lsp-server does (`to_value`, then text).
//!
//! Usage: cargo run --release -p jue-lsp --example whole_file_time FILE

use jue_engine::analysis::document::Document;
use jue_lsp::analyze::{Analyzed, analyze};
use jue_lsp::features::{ClientCaps, Ctx, document_symbols, folding_ranges, semantic_tokens_full};
use jue_lsp::project::Projects;
use jue_lsp::protocol::Cancel;
use jue_lsp::text::Encoding;
use ropey::Rope;
use std::str::FromStr;
use std::time::Instant;
use tower_lsp_server::ls_types::{SemanticTokens, Uri};

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: whole_file_time FILE");
        std::process::exit(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    let project = Projects::default().for_file(None).0;
    let tier = project.session().env().default_tier;
    let mut doc = Document::new(text, tier);
    let uri = Uri::from_str("file:///big.jue").expect("a valid URI");
    let caps = ClientCaps {
        hierarchical_symbols: true,
        folding_limit: Some(5000),
        line_folding_only: true,
        ..ClientCaps::default()
    };
    let cancel = Cancel::default();
    let mut last: Option<Analyzed> = None;
    for round in 0..4 {
        if round > 0 {
            // One character in the fourth line, as the benchmark types it.
            let at = doc
                .text()
                .match_indices('\n')
                .nth(2)
                .map_or(0, |(i, _)| i + 1);
            doc.edit(at..at, " ").expect("an edit at a line start");
        }
        let rope = Rope::from_str(doc.text());
        let mut a = analyze(&mut doc, round, rope, project.clone(), None, None, &|| {
            false
        })
        .expect("done");
        if let Some(l) = &last {
            a.pieces = l.pieces.clone();
        }
        let cx = Ctx {
            doc: &a,
            uri: &uri,
            enc: Encoding::Utf16,
            caps: &caps,
            cancel: &cancel,
        };
        let t = Instant::now();
        let tokens = semantic_tokens_full(&cx);
        let tok = ms(t);
        let t = Instant::now();
        let json = serde_json::to_value(SemanticTokens {
            result_id: None,
            data: tokens,
        })
        .expect("json")
        .to_string();
        let tok_json = ms(t);
        let t = Instant::now();
        let folds = folding_ranges(&cx);
        let fold = ms(t);
        let t = Instant::now();
        let symbols = document_symbols(&cx);
        let sym = ms(t);
        let t = Instant::now();
        let sjson = serde_json::to_value(&symbols).expect("json").to_string();
        let sym_json = ms(t);
        println!(
            "{}: tokens {tok:.1} ms (+{tok_json:.1} ms JSON, {} KB); folding {fold:.1} ms ({} ranges); symbols {sym:.1} ms (+{sym_json:.1} ms JSON, {} KB)",
            if round == 0 { "first" } else { "after an edit" },
            json.len() / 1024,
            folds.len(),
            sjson.len() / 1024,
        );
        last = Some(a);
    }
}

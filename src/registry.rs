//! `jue registry`: the FFI registry as text (through the engine's one renderer) or JSON.

use clap::Args;
use jue_engine::docs::{self, GrantView};
use jue_engine::{FfiRegistry, Session};
use std::process::ExitCode;

/// Arguments of `jue registry`.
#[derive(Args, Debug)]
pub struct RegistryArgs {
    /// Print JSON (the schema `jue.toml` and the C ABI read).
    #[arg(long)]
    pub json: bool,
    /// Keep functions whose name, capability or documentation contains this word.
    pub filter: Option<String>,
}

/// Prints the standard registry.
pub fn main(args: RegistryArgs) -> ExitCode {
    for (feature, names) in jue_engine::ffi::standard::missing_features() {
        eprintln!(
            "note: this build of jue leaves out {} (cargo feature `{feature}`)",
            names.join(", ")
        );
    }
    let session = Session::new();
    let reg: &FfiRegistry = session.registry();
    let keep: Vec<u32> = (0..reg.len() as u32)
        .filter(|i| {
            args.filter
                .as_deref()
                .is_none_or(|w| docs::matches_filter(reg.function(*i), w))
        })
        .collect();
    if keep.is_empty() && !args.json {
        let filter = args.filter.as_deref().unwrap_or("");
        eprintln!("no FFI function matches `{}`", filter.escape_debug());
        return ExitCode::SUCCESS;
    }
    if args.json {
        let functions: Vec<serde_json::Value> = keep
            .iter()
            .map(|i| jue_engine::ffi::registry::function_json(reg.function(*i)))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "functions": functions }))
                .unwrap_or_default()
        );
    } else {
        let blocks: Vec<String> = keep
            .iter()
            .map(|i| docs::ffi_function(reg.function(*i), reg.signature(*i), GrantView::Unknown))
            .collect();
        println!("{}", blocks.join("\n\n"));
    }
    ExitCode::SUCCESS
}

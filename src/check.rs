//! `jue check`: diagnostics only, as reports or JSON Lines.

use crate::options::{parse_tier, read_source, stderr_color};
use clap::{Args, ValueEnum};
use jue_engine::report::render_diagnostic;
use jue_engine::{Session, TrustTier};
use std::process::ExitCode;

/// Output formats.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// miette reports on stderr.
    Text,
    /// One JSON object per diagnostic on stdout.
    Json,
}

/// Arguments of `jue check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Files to check.
    #[arg(required = true)]
    pub files: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Default tier of code without an annotation.
    #[arg(long, value_name = "TIER", value_parser = parse_tier)]
    pub tier: Option<TrustTier>,
    /// Assume a capability granted (for W0301), as `jue run --grant` would grant it.
    #[arg(long = "grant", value_name = "CAP[=SCOPE]", value_parser = crate::options::parse_grant_arg)]
    pub grants: Vec<String>,
}

/// Checks files: 1 if any has an error diagnostic (or cannot be read), else 0.
pub fn main(args: CheckArgs) -> ExitCode {
    let color = stderr_color();
    let mut failed = false;
    let mut warnings = 0usize;
    // A file imported twice, or also given as FILE, is checked and reported once.
    let mut reported: std::collections::HashSet<std::path::PathBuf> = Default::default();
    let mut checked = 0usize;
    for path in &args.files {
        let source = match read_source(path) {
            Ok(s) => s,
            Err(msg) => {
                eprintln!("{msg}");
                failed = true;
                continue;
            }
        };
        let mut session = Session::new();
        if let Some(t) = args.tier {
            session.default_tier = t;
        }
        // The nearest jue.toml above the file: assumed grants and extra registry files.
        if let Some(path) = jue_engine::config::find_config(std::path::Path::new(path)) {
            match jue_engine::config::load_config(&path) {
                Ok(cfg) => {
                    for p in cfg.apply_to(&mut session) {
                        eprintln!("warning: {p}");
                    }
                }
                Err(e) => eprintln!("warning: {e}"),
            }
        }
        let assumed = args
            .grants
            .iter()
            .filter_map(|g| jue_engine::session::grants::parse_grant(g).ok())
            .map(|(c, _)| c);
        session.assume_granted(assumed.collect());
        // The file and every file it imports, in the order first read (tooling §1).
        let files = session.check_program(&source, Some(std::path::Path::new(path)));
        for (key, source, analysis) in &files {
            if let Some(k) = key
                && !reported.insert(k.clone())
            {
                continue;
            }
            failed |= analysis.has_errors();
            warnings += analysis.diagnostics.len();
            checked += 1;
            report(&args, source, analysis, color);
        }
    }
    finish(&args, failed, warnings, checked)
}

/// Writes one file's diagnostics, as reports or JSON Lines.
fn report(
    args: &CheckArgs,
    source: &jue_engine::SourceFile,
    analysis: &jue_engine::analysis::Analysis,
    color: bool,
) {
    let path = source.name();
    {
        for d in &analysis.diagnostics {
            match args.format {
                Format::Text => eprint!("{}", render_diagnostic(d, source, color)),
                Format::Json => {
                    let (l, c) = source.line_col(d.span.start);
                    let (el, ec) = source.line_col(d.span.end);
                    let obj = serde_json::json!({
                        "file": path,
                        "code": d.code.as_str(),
                        "severity": d.severity().as_str(),
                        "line": l + 1,
                        "column": c + 1,
                        "end": {"line": el + 1, "column": ec + 1},
                        "message": d.message,
                        "help": d.help,
                    });
                    println!("{obj}");
                }
            }
        }
    }
}

/// The exit status and the text form's closing line.
fn finish(args: &CheckArgs, failed: bool, warnings: usize, checked: usize) -> ExitCode {
    if failed {
        ExitCode::from(1)
    } else {
        // A one-line "all clear" on stderr (stdout stays for the JSON lines).
        if args.format == Format::Text {
            // Imported files count: each checked once.
            let n = checked;
            eprintln!(
                "checked {n} file{}: no errors{}",
                if n == 1 { "" } else { "s" },
                if warnings > 0 {
                    format!(
                        " ({warnings} warning{})",
                        if warnings == 1 { "" } else { "s" }
                    )
                } else {
                    String::new()
                }
            );
        }
        ExitCode::SUCCESS
    }
}

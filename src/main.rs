//! The `jue` command: a thin layer that parses arguments and calls the engine.

mod check;
mod options;
mod registry;
mod repl;
mod run;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Jue: a small Lisp with a typed, capability-checked FFI registry.
#[derive(Parser)]
#[command(
    name = "jue",
    version,
    about,
    disable_help_subcommand = false,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    /// With no command, `jue` starts the REPL and takes the options of `jue repl`.
    #[command(flatten)]
    repl: repl::ReplArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run a program.
    Run(run::RunArgs),
    /// Report diagnostics without running.
    Check(check::CheckArgs),
    /// Show the FFI registry.
    Registry(registry::RegistryArgs),
    /// The interactive REPL (also `jue` with no command).
    Repl(repl::ReplArgs),
    /// The language server, on stdio (LSP).
    Lsp,
}

fn main() -> ExitCode {
    // Analysis and compilation recurse over source nesting (bounded at 1,000 levels);
    // a large stack keeps even unoptimised builds far from its end.
    let worker = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(real_main);
    match worker.map(|h| h.join()) {
        Ok(Ok(code)) => code,
        _ => ExitCode::from(70),
    }
}

fn real_main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            // `jue prog.jue`: the file was meant to be run.
            if e.kind() == clap::error::ErrorKind::InvalidSubcommand
                && let Some(first) = std::env::args()
                    .nth(1)
                    .filter(|a| a.ends_with(".jue") || std::path::Path::new(a).is_file())
            {
                eprintln!("hint: to run a program: jue run {first}");
            }
            return ExitCode::from(code);
        }
    };
    // A closed stdout (`jue run prog | head -2`) ends every command but the language
    // server the way it ends `cat`: killed by SIGPIPE at its next write, quietly,
    // status 141 in a shell. Rust ignores SIGPIPE, which would turn the closed pipe
    // into an error that `print` ignores (the program running on to its step limit)
    // or a panic in `println!`. The server keeps the error: its client is the reader.
    if !matches!(cli.command, Some(Command::Lsp)) {
        default_sigpipe();
    }
    match cli.command {
        Some(Command::Run(a)) => run::main(a),
        Some(Command::Check(a)) => check::main(a),
        Some(Command::Registry(a)) => registry::main(a),
        Some(Command::Lsp) => jue_lsp::run_stdio(),
        Some(Command::Repl(a)) => repl::main(a),
        None => repl::main(cli.repl),
    }
}

/// Restores the default action of SIGPIPE (terminate) that the Rust runtime replaced
/// with "ignore".
fn default_sigpipe() {
    // SAFETY: setting a signal's disposition to SIG_DFL installs no Rust handler and
    // is async-signal-safe; it affects only how this process reacts to a closed pipe.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

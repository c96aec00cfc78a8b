//! jue-repl: the interactive Jue REPL (tooling.md §2) over `jue-engine`.
//!
//! The engine owns every piece of language logic (lexing, checking, printing,
//! documentation); this crate owns the terminal: line editing, highlighting,
//! completion, the capability prompt, history, Ctrl-C and the `:command`s.
//!
//! Modules, one job each; imports point one way, top to bottom:
//! - [`session`]: the loop (terminal or pipe), input accumulation, dispatch;
//! - [`commands`]: what each `:command` does;
//! - [`edit`]: `:edit`, the user's editor on an input or a definition;
//! - [`helper`]: the rustyline helper (completion, hints, highlighting, validation);
//! - [`state`]: the REPL around the engine session, one evaluation, `*1 *2 *3`;
//! - [`table`]: the `:command` table (names, arguments, help);
//! - [`names`]: the session's names the helper completes and highlights;
//! - [`preflight`]: the capability prompt;
//! - [`history`]: the owner-only history file;
//! - [`interrupt`]: Ctrl-C during an evaluation.

pub mod commands;
pub mod edit;
pub mod helper;
pub mod history;
pub mod interrupt;
pub mod names;
pub mod preflight;
pub mod session;
pub mod state;
pub mod table;

use jue_engine::{Limits, TrustTier};

/// The wall-time limit of one REPL evaluation unless `--timeout` says otherwise.
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;

/// How the REPL starts.
#[derive(Clone, Debug)]
pub struct Options {
    /// Limits of formal, verified and empirical code (restored by `:reset`).
    pub limits: Limits,
    /// Default tier, if not empirical (restored by `:reset`).
    pub tier: Option<TrustTier>,
    /// `--grant CAP[=SCOPE]` specs.
    pub grants: Vec<String>,
    /// `--no-prompt`: never ask for capabilities.
    pub no_prompt: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            limits: Limits {
                timeout_ms: Some(DEFAULT_TIMEOUT_MS),
                ..Limits::DEFAULT
            },
            tier: None,
            grants: Vec::new(),
            no_prompt: false,
        }
    }
}

/// Runs the REPL until `:quit`, Ctrl-D or the end of piped input; returns the
/// exit status (tooling.md §1: 0, or 1 when a piped input failed; 2 for a bad `--grant`).
pub fn run(options: Options) -> i32 {
    session::main(options)
}

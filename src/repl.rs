//! `jue repl` (and `jue` alone): the interactive REPL of the `jue-repl` crate.

use crate::options::LimitArgs;
use clap::Args;
use std::process::ExitCode;

/// Arguments of `jue repl`.
#[derive(Args, Debug, Default)]
pub struct ReplArgs {
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Never ask for capabilities: inputs run without the ones not granted.
    #[arg(long)]
    pub no_prompt: bool,
}

/// Starts the REPL: 0 on `:quit`/Ctrl-D or a piped input that all succeeded,
/// 1 if a piped input failed, 2 for a `--grant` that cannot be made.
pub fn main(args: ReplArgs) -> ExitCode {
    let defaults = jue_repl::Options::default();
    let options = jue_repl::Options {
        limits: args.limits.limits(defaults.limits),
        tier: args.limits.tier,
        grants: args.limits.grants.clone(),
        no_prompt: args.no_prompt,
    };
    let code = jue_repl::run(options);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

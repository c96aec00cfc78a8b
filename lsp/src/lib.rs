//! jue-lsp: the Jue language server (tooling §3), over stdio.
//!
//! The server holds no language logic: every diagnostic, name, type, tier,
//! capability and documentation text comes from `jue-engine`. The CLI calls
//! [`run_stdio`] for `jue lsp`.

#![allow(clippy::collapsible_if)] // nested `if let`s read better here than let-chains

pub mod analyze;
pub mod features;
pub mod files;
pub mod format;
pub mod forms;
pub mod imports;
mod memory;
pub mod pieces;
pub mod project;
pub mod protocol;
mod server;
mod stdio;
pub mod text;
pub mod workspace;

pub use server::Backend;

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use tower_lsp_server::{LspService, Server};

/// Whether the client sent `shutdown`: the exit status is 0 only then (LSP spec).
pub(crate) static SHUTDOWN_REQUESTED: AtomicBool = AtomicBool::new(false);

/// Serves LSP on stdin/stdout until `exit` or the end of stdin.
pub async fn serve_stdio() {
    let (service, socket) = LspService::new(Backend::new);
    // Client frames go through a tolerant filter (see `stdio`) into the server.
    let (to_server, server_in) = tokio::io::duplex(1 << 16);
    let filter = tokio::spawn(stdio::filter(tokio::io::stdin(), to_server));
    Server::new(server_in, tokio::io::stdout(), socket)
        .serve(protocol::Protocol(service))
        .await;
    filter.abort();
}

/// Runs the server on its own tokio runtime; returns when the client says `exit`
/// or closes stdin. Analyses still running are abandoned, never waited for.
pub fn run_stdio() -> ExitCode {
    memory::tune_allocator();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        // Analysis recurses over source nesting (bounded at 1,000 levels): give every
        // thread, blocking ones included, the stack the CLI's main thread has.
        .thread_stack_size(256 << 20)
        .max_blocking_threads(8)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("jue lsp: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(serve_stdio());
    rt.shutdown_background();
    if SHUTDOWN_REQUESTED.load(Ordering::SeqCst) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

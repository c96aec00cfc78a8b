//! The JSON-RPC rules tower-lsp-server does not keep by itself, as a layer around
//! its service: a request whose method starts with `$/` gets MethodNotFound (the
//! library answers it and then drops the answer, leaving the client waiting), and
//! a malformed request that carries an id (turned by the stdin filter into a
//! request of [`INVALID_REQUEST`]) gets InvalidRequest.
//!
//! Cancellation: tower-lsp-server answers `$/cancelRequest` by dropping the
//! handler's future and sending RequestCancelled; [`Cancel`] carries that drop to
//! the blocking work the handler started, which checks it and stops.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use tower_lsp_server::jsonrpc::{Error, Request, Response};
use tower_service::Service;

/// The method the stdin filter gives a malformed request that has an id.
pub const INVALID_REQUEST: &str = "jue/$invalidRequest";

/// The error answer this layer gives a request itself, if any.
fn own_answer(method: &str) -> Option<Error> {
    if method == INVALID_REQUEST {
        return Some(Error::invalid_request());
    }
    if method.starts_with("$/") && method != "$/cancelRequest" {
        let mut e = Error::method_not_found();
        e.data = Some(method.to_string().into());
        return Some(e);
    }
    None
}

/// Wraps the LSP service so every request with an id gets exactly one answer.
pub struct Protocol<S>(pub S);

type Boxed<E> = Pin<Box<dyn Future<Output = Result<Option<Response>, E>> + Send>>;

impl<S> Service<Request> for Protocol<S>
where
    S: Service<Request, Response = Option<Response>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Option<Response>;
    type Error = S::Error;
    type Future = Boxed<S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        if let Some(id) = req.id().cloned() {
            if let Some(e) = own_answer(req.method()) {
                return Box::pin(std::future::ready(Ok(Some(Response::from_error(id, e)))));
            }
        }
        Box::pin(self.0.call(req))
    }
}

/// Whether the request that started some work was cancelled (its handler dropped).
#[derive(Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// True once the request is cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
    /// A guard that cancels when dropped: held by the handler's future, which
    /// tower-lsp-server drops on `$/cancelRequest`.
    pub fn on_drop(&self) -> CancelOnDrop {
        CancelOnDrop(self.clone())
    }
}

/// Cancels its [`Cancel`] when dropped.
pub struct CancelOnDrop(Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.0.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_dollar_methods_and_invalid_requests() {
        assert!(own_answer("$/cancelRequest").is_none());
        assert!(own_answer("textDocument/hover").is_none());
        assert_eq!(own_answer("$/jue/x").map(|e| e.code.code()), Some(-32601));
        assert_eq!(
            own_answer(INVALID_REQUEST).map(|e| e.code.code()),
            Some(-32600)
        );
    }

    #[test]
    fn dropping_the_guard_cancels() {
        let c = Cancel::default();
        let g = c.on_drop();
        assert!(!c.is_cancelled());
        drop(g);
        assert!(c.is_cancelled());
    }
}

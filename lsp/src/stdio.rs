//! A tolerant front for stdin. tower-lsp-server's reader stops for good at the
//! first message it cannot decode (its framed stream ends after an error), which
//! would end the server. This task reads the client's frames itself and passes on
//! only well-formed JSON-RPC messages: a frame without a usable `Content-Length`
//! is skipped, a body that is not a JSON-RPC message is dropped, and a malformed
//! request that carries an id is turned into a request of
//! [`INVALID_REQUEST`](crate::protocol::INVALID_REQUEST), which the protocol layer
//! answers with InvalidRequest (-32600), so the client gets exactly one answer.

use crate::protocol::INVALID_REQUEST;
use serde_json::{Map, Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tower_lsp_server::jsonrpc::{Request, Response};

/// Largest body accepted (a frame announcing more is skipped unread... as far as possible).
const MAX_BODY: usize = 512 << 20;

/// An id tower-lsp-server can answer: a number that fits i64, a string, or null.
fn usable_id(id: &Value) -> bool {
    id.is_i64() || id.is_string() || id.is_null()
}

/// Whether a JSON object is a JSON-RPC 2.0 request, notification or response.
fn well_formed(obj: &Map<String, Value>) -> bool {
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return false;
    }
    let id = obj.get("id");
    if id.is_some_and(|i| !usable_id(i)) {
        return false;
    }
    let (result, error) = (obj.contains_key("result"), obj.contains_key("error"));
    match obj.get("method") {
        // Params are structured (null tolerated: some clients send it for `shutdown`).
        Some(Value::String(_)) => {
            !result
                && !error
                && obj
                    .get("params")
                    .is_none_or(|p| p.is_object() || p.is_array() || p.is_null())
        }
        Some(_) => false,
        None => id.is_some() && result != error,
    }
}

fn sanitize(body: &[u8]) -> Option<Vec<u8>> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let obj = v.as_object()?;
    if well_formed(obj)
        && (serde_json::from_value::<Request>(v.clone()).is_ok()
            || serde_json::from_value::<Response>(v.clone()).is_ok())
    {
        return Some(body.to_vec());
    }
    // A broken response has nobody to answer; a broken request with an id does.
    if !obj.contains_key("method") && (obj.contains_key("result") || obj.contains_key("error")) {
        return None;
    }
    let id = obj.get("id").filter(|id| id.is_i64() || id.is_string())?;
    serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": id, "method": INVALID_REQUEST})).ok()
}

/// Copies framed messages from `input` to `output`, sanitised, until `input` ends.
pub async fn filter(input: impl AsyncRead + Unpin, mut output: impl AsyncWrite + Unpin) {
    let mut r = BufReader::new(input);
    loop {
        // Headers up to an empty line.
        let mut len: Option<usize> = None;
        let mut saw_header = false;
        loop {
            let mut line = Vec::new();
            match r.read_until(b'\n', &mut line).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let text = String::from_utf8_lossy(&line);
            let text = text.trim();
            if text.is_empty() {
                if saw_header {
                    break;
                }
                continue;
            }
            saw_header = true;
            if let Some((k, v)) = text.split_once(':') {
                if k.trim().eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().ok();
                }
            }
        }
        let Some(n) = len else { continue };
        if n > MAX_BODY {
            // Skip the body without holding it.
            let mut rest = (&mut r).take(n as u64);
            if tokio::io::copy(&mut rest, &mut tokio::io::sink())
                .await
                .is_err()
            {
                return;
            }
            continue;
        }
        let mut body = vec![0; n];
        if r.read_exact(&mut body).await.is_err() {
            return;
        }
        let Some(clean) = sanitize(&body) else {
            continue;
        };
        let mut frame = format!("Content-Length: {}\r\n\r\n", clean.len()).into_bytes();
        frame.extend(clean);
        if output.write_all(&frame).await.is_err() || output.flush().await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{INVALID_REQUEST, sanitize};

    #[test]
    fn keeps_messages_and_repairs_or_drops_the_rest() {
        let kept = |b: &[u8]| sanitize(b).as_deref() == Some(b);
        let repaired = |b: &[u8]| {
            sanitize(b).is_some_and(|f| String::from_utf8_lossy(&f).contains(INVALID_REQUEST))
        };
        assert!(kept(
            br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#
        ));
        assert!(kept(
            br#"{"jsonrpc":"2.0","id":1,"method":"shutdown","params":null}"#
        ));
        assert!(kept(br#"{"jsonrpc":"2.0","method":"initialized"}"#));
        assert!(kept(br#"{"jsonrpc":"2.0","id":1,"result":null}"#));
        assert!(kept(
            br#"{"jsonrpc":"2.0","id":"a","error":{"code":1,"message":"m"}}"#
        ));
        assert!(sanitize(b"{garbage}").is_none());
        assert!(sanitize(b"[]").is_none());
        assert!(sanitize(br#"{"jsonrpc":"2.0","method":3}"#).is_none());
        assert!(sanitize(br#"{"jsonrpc":"2.0","id":2,"result":1,"error":{}}"#).is_none());
        assert!(repaired(br#"{"jsonrpc":"1.0","id":7,"method":"x"}"#));
        assert!(repaired(br#"{"jsonrpc":"2.0","id":7,"method":3}"#));
        assert!(repaired(br#"{"jsonrpc":"2.0","id":7}"#));
        assert!(repaired(
            br#"{"jsonrpc":"2.0","id":"s","method":"m","params":5}"#
        ));
        assert!(repaired(br#"{"id":8,"method":"textDocument/hover"}"#));
    }
}

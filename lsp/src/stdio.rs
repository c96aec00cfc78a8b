//! A tolerant front for stdin. tower-lsp-server's reader stops for good at the
//! first message it cannot decode (its framed stream ends after an error), which
//! would end the server. This task reads the client's frames itself and passes on
//! only well-formed JSON-RPC messages: a frame without a usable `Content-Length`
//! is skipped, a body that is not a JSON-RPC message is dropped, and one that
//! carries a request id is turned into a request of an unknown method, so the
//! client still gets an error answer for that id.

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tower_lsp_server::jsonrpc::{Request, Response};

/// Largest body accepted (a frame announcing more is skipped unread... as far as possible).
const MAX_BODY: usize = 512 << 20;

fn sanitize(body: &[u8]) -> Option<Vec<u8>> {
    if serde_json::from_slice::<Response>(body).is_ok()
        || serde_json::from_slice::<Request>(body).is_ok()
    {
        return Some(body.to_vec());
    }
    let v: Value = serde_json::from_slice(body).ok()?;
    let id = v.get("id").filter(|id| id.is_i64() || id.is_string())?;
    serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": id, "method": "$/jue/invalidRequest"})).ok()
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
    use super::sanitize;

    #[test]
    fn keeps_messages_and_repairs_or_drops_the_rest() {
        assert!(
            sanitize(br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#).is_some()
        );
        assert!(sanitize(br#"{"jsonrpc":"2.0","id":1,"result":null}"#).is_some());
        assert!(sanitize(b"{garbage}").is_none());
        assert!(sanitize(b"[]").is_none());
        let fixed = sanitize(br#"{"jsonrpc":"1.0","id":7,"method":3}"#).expect("answered");
        assert!(String::from_utf8(fixed).unwrap().contains("invalidRequest"));
    }
}

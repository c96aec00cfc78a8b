//! HTTP backend of `net:http-get` / `http:get`: a real blocking client (ureq).

use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::error::HostError;
use super::scope::{NetScopes, UrlTarget};

/// The longest any request may take, whatever time the evaluation has left.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest body accepted (after content decoding).
pub const MAX_BODY_BYTES: u64 = 16 * 1024 * 1024;
/// How many redirects one request follows at most.
pub const MAX_REDIRECTS: usize = 5;

/// GETs `url` and returns its body as text, following at most 5 redirects that the scopes allow.
pub fn http_get(scopes: &NetScopes, url: &str, timeout: Duration) -> Result<String, HostError> {
    let budget = timeout.min(MAX_TIMEOUT);
    let deadline = Instant::now() + budget;
    let mut current = url.to_string();
    let mut redirects = 0;
    loop {
        // Every hop is checked, so a redirect cannot lead outside the grants.
        if let Err(e) = scopes.allows(&current) {
            return Err(if current == url {
                e
            } else {
                HostError::new(e.kind, format!("redirect from {url}: {}", e.message))
            });
        }
        let target = UrlTarget::parse(&current)?;
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(timed_out(url, budget));
        }
        let agent = agent_for(&target, remaining);
        let mut response = agent
            .get(current.as_str())
            .call()
            .map_err(|e| map_err(url, &current, budget, e))?;
        let status = response.status();
        if status.is_redirection() && is_followed_redirect(status.as_u16()) {
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
                .ok_or_else(|| {
                    HostError::host(format!(
                        "HTTP GET {current} returned {status} without a valid Location header"
                    ))
                })?;
            if redirects >= MAX_REDIRECTS {
                return Err(HostError::host(format!(
                    "HTTP GET {url}: too many redirects (more than {MAX_REDIRECTS})"
                )));
            }
            redirects += 1;
            current = resolve_location(&current, &location)?;
            continue;
        }
        if !status.is_success() {
            let shown = if current == url {
                url.to_string()
            } else {
                format!("{url} (redirected to {current})")
            };
            return Err(HostError::host(format!(
                "HTTP GET {shown} returned status {status}"
            )));
        }
        // Read with a limit: never buffer more than 16 MiB (+1 byte to detect excess).
        let bytes = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY_BYTES)
            .read_to_vec()
            .map_err(|e| map_err(url, &current, budget, e))?;
        return String::from_utf8(bytes).map_err(|e| {
            HostError::host(format!(
                "HTTP GET {url}: body is not valid UTF-8 (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ))
        });
    }
}

/// True for the statuses whose Location is followed (300 and 304 are not redirects to follow).
fn is_followed_redirect(code: u16) -> bool {
    matches!(code, 301 | 302 | 303 | 307 | 308)
}

/// Builds a client for one hop: no automatic redirects, the remaining time, no proxy for loopback.
fn agent_for(target: &UrlTarget, remaining: Duration) -> ureq::Agent {
    // Loopback never goes through a proxy; other hosts honour the proxy environment
    // variables (and NO_PROXY) as ureq reads them.
    let proxy = if is_loopback(&target.host) {
        None
    } else {
        ureq::Proxy::try_from_env()
    };
    ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(Some(remaining))
        .proxy(proxy)
        .build()
        .into()
}

/// True for `localhost`, `*.localhost`, 127.0.0.0/8 and ::1 (literal, no DNS).
fn is_loopback(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    host.parse::<IpAddr>().is_ok_and(|ip| match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    })
}

/// Turns a ureq error into a host error naming the URL (and the hop, after a redirect).
fn map_err(url: &str, current: &str, budget: Duration, e: ureq::Error) -> HostError {
    let shown = if current == url {
        url.to_string()
    } else {
        format!("{url} (redirected to {current})")
    };
    match e {
        ureq::Error::Timeout(_) => timed_out(url, budget),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => timed_out(url, budget),
        ureq::Error::BodyExceedsLimit(_) => HostError::host(format!(
            "HTTP GET {shown}: body is larger than {MAX_BODY_BYTES} bytes (16 MiB)"
        )),
        other => HostError::host(format!("HTTP GET {shown} failed: {other}")),
    }
}

/// The host error for a request that ran out of time.
fn timed_out(url: &str, budget: Duration) -> HostError {
    HostError::host(format!(
        "HTTP GET {url} timed out after {} ms",
        budget.as_millis()
    ))
}

/// Resolves a Location header against the URL that returned it.
fn resolve_location(base: &str, location: &str) -> Result<String, HostError> {
    let location = location.trim();
    // Fragments are never sent to a server.
    let location = location.split('#').next().unwrap_or("");
    if location.is_empty() {
        return Err(HostError::host(format!(
            "HTTP GET {base}: redirect with an empty Location"
        )));
    }
    if has_scheme(location) {
        return Ok(location.to_string());
    }
    let uri: ureq::http::Uri = base
        .parse()
        .map_err(|e| HostError::host(format!("invalid URL {base}: {e}")))?;
    let scheme = uri.scheme_str().unwrap_or("http");
    let authority = uri
        .authority()
        .map_or("", ureq::http::uri::Authority::as_str);
    if let Some(rest) = location.strip_prefix("//") {
        return Ok(format!("{scheme}://{rest}"));
    }
    if location.starts_with('/') {
        return Ok(format!("{scheme}://{authority}{location}"));
    }
    let path = uri.path();
    if location.starts_with('?') {
        return Ok(format!("{scheme}://{authority}{path}{location}"));
    }
    // A relative reference replaces the last path segment.
    let dir = match path.rfind('/') {
        Some(i) => &path[..=i],
        None => "/",
    };
    Ok(format!("{scheme}://{authority}{dir}{location}"))
}

/// True when `s` starts with `scheme:` (RFC 3986: a letter, then letters, digits, `+-.`).
fn has_scheme(s: &str) -> bool {
    match s.find(':') {
        Some(i) if i > 0 => {
            let scheme = &s[..i];
            scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::error::HostErrorKind;
    use super::*;
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpListener, TcpStream};
    use std::thread;

    /// How long a test server keeps accepting before it stops by itself.
    const SERVER_LIFETIME: Duration = Duration::from_secs(20);

    /// Starts a loopback server answering each request path through `handler`, for a bounded time.
    fn serve(handler: fn(&str, u16) -> Vec<u8>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("addr");
        listener.set_nonblocking(true).expect("nonblocking");
        thread::spawn(move || {
            let start = Instant::now();
            while start.elapsed() < SERVER_LIFETIME {
                match listener.accept() {
                    Ok((stream, _)) => {
                        thread::spawn(move || handle(stream, handler, addr.port()));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        addr
    }

    /// Reads one request head and writes the handler's response; errors are ignored.
    fn handle(mut stream: TcpStream, handler: fn(&str, u16) -> Vec<u8>, port: u16) {
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let text = String::from_utf8_lossy(&head);
        let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
        if path == "/hang" {
            // Accept and never answer; hold the socket until the client gives up.
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let _ = stream.read(&mut buf);
            return;
        }
        let _ = stream.write_all(&handler(&path, port));
        let _ = stream.flush();
    }

    /// An HTTP/1.1 response with Content-Length and Connection: close.
    fn response(status: &str, extra: &str, body: &[u8]) -> Vec<u8> {
        let mut out = format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n",
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(body);
        out
    }

    /// The test server's pages, by request path.
    fn routes(path: &str, port: u16) -> Vec<u8> {
        match path {
            "/ok" => response(
                "200 OK",
                "Content-Type: text/plain\r\n",
                "hello, wörld".as_bytes(),
            ),
            "/missing" => response("404 Not Found", "", b"nope"),
            "/error" => response("500 Internal Server Error", "", b""),
            "/redir-ok" => response(
                "302 Found",
                &format!("Location: http://127.0.0.1:{port}/ok\r\n"),
                b"",
            ),
            "/redir-rel" => response("301 Moved Permanently", "Location: ok\r\n", b""),
            "/redir-abs-path" => response("307 Temporary Redirect", "Location: /redir-ok\r\n", b""),
            "/redir-bad" => {
                // Another loopback port that is not granted (nothing needs to listen there).
                let other = if port == 1 { 2 } else { port - 1 };
                response(
                    "302 Found",
                    &format!("Location: http://127.0.0.1:{other}/ok\r\n"),
                    b"",
                )
            }
            "/redir-ftp" => response("302 Found", "Location: ftp://127.0.0.1/x\r\n", b""),
            "/loop" => response("302 Found", "Location: /loop\r\n", b""),
            "/no-location" => response("302 Found", "", b""),
            "/big" => response("200 OK", "", &vec![b'a'; 17 * 1024 * 1024]),
            "/exact" => response("200 OK", "", &vec![b'b'; MAX_BODY_BYTES as usize]),
            "/big-close" => {
                // No Content-Length: the body ends when the server closes.
                let mut out = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
                out.extend(vec![b'c'; 17 * 1024 * 1024]);
                out
            }
            "/binary" => response("200 OK", "", &[b'o', b'k', 0xff, 0xfe, 0x00]),
            _ => response("404 Not Found", "", b""),
        }
    }

    /// Scopes granting exactly the test server's 127.0.0.1:port.
    fn granted(addr: SocketAddr) -> NetScopes {
        let mut scopes = NetScopes::new();
        scopes
            .grant(Some(&format!("127.0.0.1:{}", addr.port())))
            .expect("grant");
        scopes
    }

    const T: Duration = Duration::from_secs(10);

    /// A 200 returns the body; the host is compared literally.
    #[test]
    fn get_200_returns_body() {
        let addr = serve(routes);
        let body = http_get(&granted(addr), &format!("http://{addr}/ok"), T).expect("200");
        assert_eq!(body, "hello, wörld");
        // `localhost` is not the same literal host as 127.0.0.1.
        let e = http_get(
            &granted(addr),
            &format!("http://localhost:{}/ok", addr.port()),
            T,
        )
        .expect_err("literal");
        assert_eq!(e.kind, HostErrorKind::CapabilityDenied);
    }

    /// 404 and 500 are `host` errors naming the status and URL.
    #[test]
    fn non_2xx_is_host_error_naming_status() {
        let addr = serve(routes);
        let url = format!("http://{addr}/missing");
        let e = http_get(&granted(addr), &url, T).expect_err("404");
        assert_eq!(e.kind, HostErrorKind::Host);
        assert!(
            e.message.contains("404") && e.message.contains(&url),
            "{}",
            e.message
        );
        let e = http_get(&granted(addr), &format!("http://{addr}/error"), T).expect_err("500");
        assert!(e.message.contains("500"), "{}", e.message);
    }

    /// Absolute, relative and chained redirects are followed; loops stop after 5.
    #[test]
    fn redirects_are_followed_within_scope() {
        let addr = serve(routes);
        let s = granted(addr);
        assert_eq!(
            http_get(&s, &format!("http://{addr}/redir-ok"), T).expect("abs"),
            "hello, wörld"
        );
        assert_eq!(
            http_get(&s, &format!("http://{addr}/redir-rel"), T).expect("rel"),
            "hello, wörld"
        );
        assert_eq!(
            http_get(&s, &format!("http://{addr}/redir-abs-path"), T).expect("2 hops"),
            "hello, wörld"
        );
        let e = http_get(&s, &format!("http://{addr}/loop"), T).expect_err("loop");
        assert_eq!(e.kind, HostErrorKind::Host);
        assert!(e.message.contains("too many redirects"), "{}", e.message);
        let e = http_get(&s, &format!("http://{addr}/no-location"), T).expect_err("no location");
        assert_eq!(e.kind, HostErrorKind::Host);
    }

    /// A redirect to an ungranted port is `capability-denied` naming its URL.
    #[test]
    fn redirect_outside_scope_is_denied() {
        let addr = serve(routes);
        let e = http_get(&granted(addr), &format!("http://{addr}/redir-bad"), T).expect_err("bad");
        assert_eq!(e.kind, HostErrorKind::CapabilityDenied);
        let other = addr.port() - 1;
        assert!(
            e.message.contains(&format!("http://127.0.0.1:{other}/ok")),
            "{}",
            e.message
        );
        let e = http_get(&granted(addr), &format!("http://{addr}/redir-ftp"), T).expect_err("ftp");
        assert_eq!(e.kind, HostErrorKind::Host);
    }

    /// 17 MiB bodies (with and without Content-Length) fail; exactly 16 MiB passes.
    #[test]
    fn bodies_over_16_mib_are_refused() {
        let addr = serve(routes);
        let s = granted(addr);
        for path in ["/big", "/big-close"] {
            let e = http_get(&s, &format!("http://{addr}{path}"), T).expect_err(path);
            assert_eq!(e.kind, HostErrorKind::Host);
            assert!(e.message.contains("16 MiB"), "{}", e.message);
        }
        let exact = http_get(&s, &format!("http://{addr}/exact"), T).expect("exactly 16 MiB");
        assert_eq!(exact.len() as u64, MAX_BODY_BYTES);
    }

    /// A server that never answers times out within the given time.
    #[test]
    fn silent_server_times_out() {
        let addr = serve(routes);
        let start = Instant::now();
        let e = http_get(
            &granted(addr),
            &format!("http://{addr}/hang"),
            Duration::from_millis(300),
        )
        .expect_err("hang");
        assert_eq!(e.kind, HostErrorKind::Host);
        assert!(e.message.contains("timed out"), "{}", e.message);
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "took {:?}",
            start.elapsed()
        );
        let e = http_get(&granted(addr), &format!("http://{addr}/ok"), Duration::ZERO)
            .expect_err("zero");
        assert!(e.message.contains("timed out"), "{}", e.message);
    }

    /// A non-UTF-8 body is a `host` error.
    #[test]
    fn non_utf8_body_is_host_error() {
        let addr = serve(routes);
        let e = http_get(&granted(addr), &format!("http://{addr}/binary"), T).expect_err("binary");
        assert_eq!(e.kind, HostErrorKind::Host);
        assert!(e.message.contains("UTF-8"), "{}", e.message);
    }

    /// Denied or non-http URLs fail before any connection.
    #[test]
    fn scope_and_scheme_checked_before_connecting() {
        // No server: a denied or unsupported URL must fail before any connection.
        let s = NetScopes::new();
        assert_eq!(
            http_get(&s, "http://127.0.0.1:9/", T)
                .expect_err("none")
                .kind,
            HostErrorKind::CapabilityDenied
        );
        let mut any = NetScopes::new();
        any.grant(None).expect("any");
        assert_eq!(
            http_get(&any, "ftp://127.0.0.1/", T).expect_err("ftp").kind,
            HostErrorKind::Host
        );
        assert_eq!(
            http_get(&any, "not a url", T).expect_err("junk").kind,
            HostErrorKind::Host
        );
    }

    /// A refused connection is a `host` error.
    #[test]
    fn unreachable_port_is_host_error() {
        // Bind then drop to find a loopback port with nothing listening.
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let mut s = NetScopes::new();
        s.grant(Some("127.0.0.1")).expect("grant");
        let e = http_get(
            &s,
            &format!("http://127.0.0.1:{port}/"),
            Duration::from_secs(2),
        )
        .expect_err("refused");
        assert_eq!(e.kind, HostErrorKind::Host);
    }

    /// Location headers resolve against the base URL; loopback detection is literal.
    #[test]
    fn location_resolution_and_loopback() {
        let b = "http://h:8/a/b?q=1";
        assert_eq!(
            resolve_location(b, "https://x/y").expect("abs"),
            "https://x/y"
        );
        assert_eq!(resolve_location(b, "//x/y").expect("net"), "http://x/y");
        assert_eq!(resolve_location(b, "/y#f").expect("path"), "http://h:8/y");
        assert_eq!(resolve_location(b, "c").expect("rel"), "http://h:8/a/c");
        assert_eq!(
            resolve_location(b, "?z").expect("query"),
            "http://h:8/a/b?z"
        );
        assert!(resolve_location(b, "").is_err());
        assert!(is_loopback("127.0.0.1") && is_loopback("127.9.9.9") && is_loopback("::1"));
        assert!(
            is_loopback("localhost")
                && is_loopback("a.localhost")
                && is_loopback("::ffff:127.0.0.1")
        );
        assert!(
            !is_loopback("10.0.0.1")
                && !is_loopback("example.com")
                && !is_loopback("localhost.example")
        );
    }
}

//! The FFI through the `jue` command (tooling §1): `--grant` and `--sensor` for
//! `jue run`, `jue registry` as text and JSON, and `jue check --grant` /
//! `--format json`.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn jue() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_jue"));
    c.env("NO_COLOR", "1");
    c
}

fn run(args: &[&str]) -> Output {
    jue().args(args).output().expect("jue runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh directory for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let d = std::env::temp_dir().join(format!("jue-cli-ffi-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("temp dir");
        Scratch(std::fs::canonicalize(&d).expect("canonical"))
    }
    fn path(&self) -> &Path {
        &self.0
    }
    fn file(&self, name: &str, text: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, text).expect("write");
        p.to_str().expect("UTF-8").to_string()
    }
    fn dir(&self) -> &str {
        self.0.to_str().expect("UTF-8")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A Jue string literal.
fn q(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

#[test]
fn run_with_a_persist_grant_reads_and_writes_in_its_directory() {
    let d = Scratch::new("persist");
    d.file("in.txt", "hello");
    let input = q(&format!("{}/in.txt", d.dir()));
    let output = q(&format!("{}/out.txt", d.dir()));
    let prog = d.file(
        "prog.jue",
        &format!(
            "(define text (fs:read-file {input}))\n\
             (println (fs:write-file {output} (string-append text \"!\")))\n\
             (println (fs:read-file {output}))\n"
        ),
    );
    let grant = format!("IoPersist={}", d.dir());
    let o = run(&["run", "--grant", &grant, &prog]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "6\nhello!\n");
    assert_eq!(
        std::fs::read_to_string(d.path().join("out.txt")).unwrap(),
        "hello!"
    );
    // Options may follow the file.
    let o = run(&["run", &prog, "--grant", &grant]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn run_with_a_relative_persist_scope_and_relative_paths() {
    let d = Scratch::new("relative");
    std::fs::create_dir(d.path().join("data")).unwrap();
    d.file("data/a.txt", "A");
    d.file("secret.txt", "S");
    d.file(
        "prog.jue",
        "(println (fs:read-file \"data/a.txt\"))\n(println (fs:list-dir \"data\"))\n(fs:read-file \"secret.txt\")\n",
    );
    let o = jue()
        .args(["run", "--grant", "IoPersist=data", "prog.jue"])
        .current_dir(d.path())
        .output()
        .expect("jue runs");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(stdout(&o), "A\n(\"a.txt\")\n");
    let err = stderr(&o);
    assert!(err.contains("capability-denied"), "{err}");
    assert!(err.contains("secret.txt"), "{err}");
}

#[test]
fn run_without_the_grant_is_denied_with_exit_1() {
    let d = Scratch::new("nogrant");
    d.file("in.txt", "hello");
    let prog = d.file(
        "prog.jue",
        &format!(
            "(println \"before\")\n(fs:read-file {})\n(println \"after\")\n",
            q(&format!("{}/in.txt", d.dir()))
        ),
    );
    let o = run(&["run", &prog]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "before\n");
    let err = stderr(&o);
    assert!(err.contains("capability-denied"), "{err}");
    assert!(err.contains("IoPersist"), "{err}");
    assert!(err.contains("fs:read-file"), "{err}");
}

#[test]
fn a_misspelled_capability_is_a_usage_error_with_a_suggestion() {
    let d = Scratch::new("misspelled");
    let prog = d.file("prog.jue", "(println \"ran\")\n");
    let o = run(&["run", "--grant", "io-network", &prog]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o), "", "nothing ran");
    let err = stderr(&o);
    assert!(err.contains("E0202"), "{err}");
    assert!(err.contains("IoNetwork"), "{err}");
    let o = run(&["check", "--grant", "iopersist", &prog]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("E0202"), "{}", stderr(&o));
    // Bad scopes and amounts are usage errors too.
    let missing = format!("IoPersist={}/no/such/dir", d.dir());
    let o = run(&["run", "--grant", &missing, &prog]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    let o = run(&["run", "--grant", "ResourceExtraTime", &prog]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = run(&["run", "--grant", "SysClock=now", &prog]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn sensors_are_set_from_the_command_line() {
    let d = Scratch::new("sensor");
    let prog = d.file(
        "prog.jue",
        "(println (io:sensor:read 'temp) (io:sensor:read 'other) (read-sensor))\n",
    );
    let o = run(&[
        "run",
        "--grant",
        "IoReadSensor",
        "--sensor",
        "temp=21.5",
        "--sensor",
        "default=-3",
        &prog,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "21.5 0.0 -3.0\n");
    // The sensor is there, the grant is not.
    let o = run(&["run", "--sensor", "temp=21.5", &prog]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("IoReadSensor"), "{}", stderr(&o));
    // A bad sensor value is a usage error.
    let o = run(&["run", "--sensor", "temp=warm", &prog]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn formal_code_with_effects_does_not_run() {
    let d = Scratch::new("formal");
    let prog = d.file(
        "prog.jue",
        "(println \"ran\")\n@formal (define (db-query p) (db:query p \"select 1\"))\n",
    );
    let o = run(&["run", "--grant", "IoPersist", &prog]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o), "");
    assert!(stderr(&o).contains("E0201"), "{}", stderr(&o));
}

/// A server on 127.0.0.1 that answers one request with `hi`, within 10 s; joins to
/// whether it answered.
fn one_shot_server() -> (u16, std::thread::JoinHandle<bool>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = l.local_addr().unwrap().port();
    l.set_nonblocking(true).unwrap();
    let server = std::thread::spawn(move || {
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            let Ok((mut c, _)) = l.accept() else {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            };
            let _ = c.set_nonblocking(false);
            let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = c.set_write_timeout(Some(Duration::from_secs(2)));
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match c.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let _ =
                c.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi");
            return true;
        }
        false
    });
    (port, server)
}

#[test]
fn run_http_get_against_a_loopback_server() {
    let (port, server) = one_shot_server();
    let d = Scratch::new("http");
    let prog = d.file(
        "prog.jue",
        &format!("(println (net:http-get \"http://127.0.0.1:{port}/x\"))\n"),
    );
    // Another port's grant does not allow it, and nothing is contacted.
    let other = format!(
        "IoNetwork=127.0.0.1:{}",
        if port == 1 { 2 } else { port - 1 }
    );
    let o = run(&["run", "--grant", &other, &prog]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("capability-denied"), "{}", stderr(&o));
    let grant = format!("IoNetwork=127.0.0.1:{port}");
    let o = run(&["run", "--grant", &grant, &prog]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "hi\n");
    assert!(server.join().unwrap(), "the server was contacted once");
}

#[test]
fn loopback_requests_never_go_through_a_proxy() {
    let (port, server) = one_shot_server();
    // A "proxy" that must never be contacted.
    let proxy = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    proxy.set_nonblocking(true).unwrap();
    let proxy_url = format!("http://127.0.0.1:{}", proxy.local_addr().unwrap().port());
    let d = Scratch::new("proxy");
    let prog = d.file(
        "prog.jue",
        &format!("(println (net:http-get \"http://127.0.0.1:{port}/x\"))\n"),
    );
    let o = jue()
        .args([
            "run",
            "--grant",
            &format!("IoNetwork=127.0.0.1:{port}"),
            &prog,
        ])
        .env("HTTP_PROXY", &proxy_url)
        .env("http_proxy", &proxy_url)
        .env("ALL_PROXY", &proxy_url)
        .env("all_proxy", &proxy_url)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .expect("jue runs");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "hi\n");
    assert!(server.join().unwrap());
    assert!(
        matches!(proxy.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the proxy was contacted"
    );
}

#[test]
fn registry_lists_functions_with_signatures_and_capabilities() {
    let o = run(&["registry"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.contains("net:http-get (String) → String"), "{out}");
    assert!(out.contains("needs IoNetwork"), "{out}");
    assert!(out.contains("math:add (Int Int) → Int"), "{out}");
    assert!(
        out.contains("db:query (String String Any...) → List"),
        "{out}"
    );
    assert!(out.contains("fs:safe-read (String) → String?"), "{out}");
    assert!(out.contains("tier formal · no capability"), "{out}");
    // The capability line follows its function's line.
    let at = out.find("net:http-get (String) → String").unwrap();
    let next = &out[at..];
    let second_line = next.lines().nth(1).unwrap_or("");
    assert!(
        second_line.contains("tier empirical") && second_line.contains("needs IoNetwork"),
        "{second_line}"
    );
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
}

#[test]
fn registry_json_has_the_schema_fields() {
    let o = run(&["registry", "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    let functions = v["functions"].as_array().expect("functions array");
    assert_eq!(functions.len(), 31);
    for f in functions {
        for key in [
            "name",
            "parameter_types",
            "return_type",
            "required_capability",
            "tier",
            "documentation",
            "host_function",
            "location",
        ] {
            assert!(f.get(key).is_some(), "missing {key} in {f}");
        }
        assert!(
            f["name"].is_string() && f["parameter_types"].is_array(),
            "{f}"
        );
        assert!(f["host_function"].is_u64(), "{f}");
        assert!(
            ["formal", "verified", "empirical", "experimental"]
                .contains(&f["tier"].as_str().unwrap_or("")),
            "{f}"
        );
    }
    let get = functions
        .iter()
        .find(|f| f["name"] == "net:http-get")
        .expect("net:http-get");
    assert_eq!(get["parameter_types"], serde_json::json!(["String"]));
    assert_eq!(get["return_type"], "String");
    assert_eq!(get["required_capability"], "IoNetwork");
    assert_eq!(get["tier"], "empirical");
    assert_eq!(get["host_function"], 26);
    let add = functions.iter().find(|f| f["name"] == "add").expect("add");
    assert_eq!(add["required_capability"], serde_json::Value::Null);
    assert_eq!(add["tier"], "formal");
    assert_eq!(add["host_function"], 9);
    let clock = functions
        .iter()
        .find(|f| f["name"] == "get-wall-clock")
        .expect("clock");
    assert_eq!(clock["host_function"], 2);
    assert_eq!(clock["required_capability"], "SysClock");
}

#[test]
fn registry_filter_keeps_matching_functions() {
    let o = run(&["registry", "sensor"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.contains("read-sensor () → Float"), "{out}");
    assert!(out.contains("io:sensor:read (Symbol) → Float"), "{out}");
    assert!(!out.contains("net:http-get"), "{out}");
    assert!(!out.contains("math:add"), "{out}");
    // By capability, case-insensitively, and in JSON.
    let o = run(&["registry", "--json", "iopersist"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    let names: Vec<&str> = v["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "fs:read-file",
            "fs:safe-read",
            "fs:write-file",
            "fs:list-dir",
            "db:query",
            "db_query"
        ]
    );
    // Nothing matches: no functions, still success.
    let o = run(&["registry", "--json", "zzz-nothing"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    assert_eq!(v["functions"], serde_json::json!([]));
}

#[test]
fn check_grant_suppresses_w0301() {
    let d = Scratch::new("check");
    let prog = d.file("net.jue", "(define (fetch u) (net:http-get u))\n");
    let o = run(&["check", &prog]);
    assert_eq!(o.status.code(), Some(0), "warnings do not fail");
    let err = stderr(&o);
    assert!(err.contains("W0301"), "{err}");
    assert!(err.contains("IoNetwork"), "{err}");
    let o = run(&["check", "--grant", "IoNetwork", &prog]);
    assert_eq!(o.status.code(), Some(0));
    assert!(!stderr(&o).contains("W0301"), "{}", stderr(&o));
    // A scoped grant counts too; another capability does not.
    let o = run(&["check", "--grant", "IoNetwork=127.0.0.1:8080", &prog]);
    assert!(!stderr(&o).contains("W0301"), "{}", stderr(&o));
    let o = run(&["check", "--grant", "IoPersist", &prog]);
    assert!(stderr(&o).contains("W0301"), "{}", stderr(&o));
    // The same in JSON.
    let o = run(&["check", "--format", "json", &prog]);
    assert!(stdout(&o).contains("\"W0301\""), "{}", stdout(&o));
    let o = run(&["check", "--format", "json", "--grant", "IoNetwork", &prog]);
    assert!(!stdout(&o).contains("W0301"), "{}", stdout(&o));
}

#[test]
fn check_format_json_emits_json_lines() {
    let d = Scratch::new("jsonl");
    let prog = d.file(
        "bad.jue",
        "(define (fetch u) (net:http-get u))\n@formal (define (q p) (db:query p \"select 1\"))\n(math:add 1 \"two\")\n",
    );
    let other = d.file("ok.jue", "(println (fs:read-file \"x\"))\n");
    let o = run(&["check", "--format", "json", &prog, &other]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "an error diagnostic fails the check"
    );
    let out = stdout(&o);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect();
    assert!(lines.len() >= 4, "{out}");
    for v in &lines {
        assert!(v["file"].is_string(), "{v}");
        assert!(v["code"].is_string(), "{v}");
        assert!(
            ["error", "warning"].contains(&v["severity"].as_str().unwrap()),
            "{v}"
        );
        assert!(v["line"].as_u64().unwrap() >= 1, "{v}");
        assert!(v["column"].as_u64().unwrap() >= 1, "{v}");
        assert!(
            v["end"]["line"].is_u64() && v["end"]["column"].is_u64(),
            "{v}"
        );
        assert!(v["message"].is_string(), "{v}");
        assert!(v["help"].is_string() || v["help"].is_null(), "{v}");
    }
    let codes: Vec<(&str, &str, u64)> = lines
        .iter()
        .map(|v| {
            (
                v["file"].as_str().unwrap(),
                v["code"].as_str().unwrap(),
                v["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(codes.contains(&(prog.as_str(), "W0301", 1)), "{codes:?}");
    assert!(codes.contains(&(prog.as_str(), "E0201", 2)), "{codes:?}");
    assert!(codes.contains(&(prog.as_str(), "E0104", 3)), "{codes:?}");
    assert!(codes.contains(&(other.as_str(), "W0301", 1)), "{codes:?}");
    // Ordered by file (as given), then position.
    let keys: Vec<(usize, u64, u64)> = lines
        .iter()
        .map(|v| {
            (
                if v["file"] == prog.as_str() { 0 } else { 1 },
                v["line"].as_u64().unwrap(),
                v["column"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    // The E0104 points at the argument "two" (columns 13 to 18, end exclusive).
    let e0104 = lines.iter().find(|v| v["code"] == "E0104").unwrap();
    assert_eq!(e0104["column"], 13);
    assert_eq!(e0104["end"], serde_json::json!({"line": 3, "column": 18}));
}

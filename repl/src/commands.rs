//! The `:command`s (tooling.md §2): dispatch and what each does. Every command
//! writes to stderr; a failing command returns `false` (a failed piped input).

use crate::names::Names;
use crate::preflight::Asker;
use crate::state::{RESULT_NAMES, Repl};
use crate::table::{COMMANDS, TOPICS, did_you_mean, find};
use jue_engine::docs::{self, GrantView};
use jue_engine::session::grants::parse_capability;
use jue_engine::{Capability, GrantSource, SourceFile, TrustTier, builtins};
use std::time::{SystemTime, UNIX_EPOCH};

/// Runs a command line (starting with `:`).
pub fn run(repl: &mut Repl, line: &str, asker: &mut dyn Asker) -> bool {
    let (cmd, rest) = match line.find(char::is_whitespace) {
        Some(i) => (&line[..i], line[i..].trim()),
        None => (line, ""),
    };
    let Some(c) = find(cmd) else {
        let hint = did_you_mean(cmd)
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        repl.message(&format!(
            "unknown command `{}`{hint} (`:help` lists commands)",
            crate::preflight::escape_control(cmd)
        ));
        return false;
    };
    let args: Vec<&str> = rest.split_whitespace().collect();
    match c.name {
        ":help" => help(repl, &args),
        ":grant" => grant(repl, &args),
        ":revoke" => revoke(repl, &args),
        ":caps" => caps(repl),
        ":registry" => registry(repl, rest),
        ":doc" => doc(repl, rest),
        ":type" => type_of(repl, rest),
        ":tier" => tier(repl, &args),
        ":load" => load(repl, rest, asker),
        ":reload" => reload(repl, rest, asker),
        ":save" => save(repl, rest),
        ":edit" => crate::edit::edit(repl, rest, asker),
        ":history" => history(repl, rest),
        ":bt" => backtrace(repl),
        ":set" => set(repl, &args),
        ":reset" => reset(repl, &args),
        ":limits" => limits(repl, &args),
        ":time" => {
            repl.timing = !repl.timing;
            repl.message(if repl.timing {
                "timing on"
            } else {
                "timing off"
            });
            true
        }
        ":audit" => audit(repl),
        ":actors" => actors(repl),
        ":sensor" => sensor(repl, &args),
        ":actuators" => actuators(repl),
        ":quit" => {
            repl.quit = true;
            true
        }
        _ => unreachable!("every command in the table is dispatched"),
    }
}

fn usage(repl: &Repl, c: &str) -> bool {
    let c = find(c).expect("known command");
    repl.message(&format!("usage: {} {}", c.name, c.args));
    false
}

/// Wraps `text` at word boundaries to lines of at most `width` columns, each
/// line after `indent`.
pub fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty()
            && indent.len() + line.chars().count() + 1 + word.chars().count() > width
        {
            out.push_str(indent);
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(indent);
        out.push_str(&line);
    }
    out.trim_end().to_string()
}

/// Commands the `:help` list leaves to its last lines (`:quit` leaves), so the
/// list fits 24 rows; `:help CMD` still describes them.
const HELP_UNLISTED: &[&str] = &[":quit"];

/// Pairs of commands the `:help` list shows on one row, with the row's text.
const HELP_JOINED: &[(&str, &str, &str)] = &[
    (
        ":sensor",
        ":actuators",
        " set a virtual sensor; actuators' last values",
    ),
    (
        ":load",
        ":reload",
        "   evaluate a file; load changed files again",
    ),
];

fn help(repl: &mut Repl, args: &[&str]) -> bool {
    if let Some(name) = args.first() {
        if let Some((_, text)) = TOPICS.iter().find(|(t, _)| t == name) {
            repl.message(&wrap(text, 80, ""));
            return true;
        }
        return match find(name) {
            Some(c) => {
                repl.message(&format!(
                    "{} {}\n{}",
                    c.name,
                    c.args,
                    wrap(c.help, 80, "  ")
                ));
                true
            }
            None => {
                let full = if name.starts_with(':') {
                    name.to_string()
                } else {
                    format!(":{name}")
                };
                let hint = did_you_mean(&full)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                let topics: Vec<&str> = TOPICS.iter().map(|(t, _)| *t).collect();
                repl.message(&format!(
                    "no command or topic `{}`{hint} (topics: {})",
                    crate::preflight::escape_control(name),
                    topics.join(", ")
                ));
                false
            }
        };
    }
    // One line per command, within 80 columns and 24 rows with the prompt.
    let mut text = String::from(
        "commands: `:help CMD` for one; topics: keys results capabilities limits docs\n",
    );
    for c in COMMANDS {
        if HELP_UNLISTED.contains(&c.name) {
            continue;
        }
        if let Some((_, second, short)) = HELP_JOINED.iter().find(|j| j.0 == c.name) {
            text.push_str(&format!("  {} {}, {second} {short}\n", c.name, c.args));
            continue;
        }
        if HELP_JOINED.iter().any(|j| j.1 == c.name) {
            continue;
        }
        let head = format!("{} {}", c.name, c.args);
        text.push_str(&format!("  {head:<22} {}\n", c.short));
    }
    // One footer line, so that the list still fits 24 rows with `:actors`; the
    // documentation's files are under the `docs` topic.
    text.push_str(
        "Enter runs balanced input · Ctrl-C discards/stops · `*1`, `*e` · `:quit` leaves",
    );
    repl.message(&text);
    true
}

fn grant(repl: &mut Repl, args: &[&str]) -> bool {
    let Some(name) = args.first() else {
        return usage(repl, ":grant");
    };
    if args.len() > 2 {
        return usage(repl, ":grant");
    }
    let cap = match parse_capability(name) {
        Ok(c) => c,
        Err(e) => {
            repl.message(&format!("error: {e}"));
            return false;
        }
    };
    match repl
        .session
        .grant(cap, args.get(1).copied(), GrantSource::Command)
    {
        Ok(()) => {
            let scope = repl
                .session
                .grant_records()
                .iter()
                .rev()
                .find(|r| r.capability == cap)
                .and_then(|r| r.scope.clone());
            repl.message(&match scope {
                Some(s) => format!("granted {cap} ({s})"),
                None => format!("granted {cap}"),
            });
            true
        }
        Err(e) => {
            repl.message(&format!("error: {e}"));
            false
        }
    }
}

fn revoke(repl: &mut Repl, args: &[&str]) -> bool {
    let [name] = args else {
        return usage(repl, ":revoke");
    };
    match parse_capability(name) {
        Ok(cap) => {
            let held = repl.session.grants().contains(cap);
            repl.session.revoke(cap);
            repl.message(&if held {
                format!("revoked {cap}")
            } else {
                format!("{cap} was not granted")
            });
            true
        }
        Err(e) => {
            repl.message(&format!("error: {e}"));
            false
        }
    }
}

/// A UTC time as `YYYY-MM-DD HH:MM:SS`.
pub fn utc(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

fn caps(repl: &mut Repl) -> bool {
    let records = repl.session.grant_records();
    if records.is_empty() {
        repl.message("no capability is held (deny by default); `:grant CAP` grants one");
        return true;
    }
    let mut text = String::new();
    for r in records {
        let scope = match (&r.scope, r.capability) {
            (Some(s), _) => s.clone(),
            (None, Capability::IoNetwork) => "any host".into(),
            (None, _) => "unscoped".into(),
        };
        text.push_str(&format!(
            "{:<20} {:<28} {:<12} {} UTC\n",
            r.capability.name(),
            scope,
            r.source.label(),
            utc(r.time)
        ));
    }
    repl.message(text.trim_end());
    true
}

/// Whether an FFI function passes every word of a `:registry` filter:
/// `tier:T` (or a bare tier), `cap:C` (or a bare capability; `cap:none` for
/// pure functions), `ns:NS` (or `NS:`), `granted`, `denied`, else a word of
/// its name, capability or documentation.
fn registry_match(f: &jue_engine::FfiFunction, words: &[&str], held: jue_engine::CapSet) -> bool {
    words.iter().all(|w| {
        let tier = w.strip_prefix("tier:").unwrap_or(w);
        if let Some(t) = TrustTier::from_name(tier) {
            return f.tier == t;
        }
        let cap = w.strip_prefix("cap:").unwrap_or(w);
        if cap == "none" && w.starts_with("cap:") {
            return f.required_capability.is_none();
        }
        if let Some(c) = Capability::from_name(cap) {
            return f.required_capability == Some(c);
        }
        if let Some(ns) = w.strip_prefix("ns:").or_else(|| w.strip_suffix(':')) {
            return f.name.starts_with(&format!("{ns}:"));
        }
        match *w {
            "granted" => f.required_capability.is_some_and(|c| held.contains(c)),
            "denied" => f.required_capability.is_some_and(|c| !held.contains(c)),
            _ => docs::matches_filter(f, w),
        }
    })
}

fn registry(repl: &mut Repl, filter: &str) -> bool {
    let reg = repl.session.registry();
    let held = repl.session.grants();
    let view = GrantView::Against(held);
    let words: Vec<&str> = filter.split_whitespace().collect();
    // A function's exact name shows that one; otherwise every match.
    let found: Vec<u32> = match (words.as_slice(), reg.index_of(filter.trim())) {
        ([_], Some(i)) => vec![i],
        _ => (0..reg.len() as u32)
            .filter(|i| registry_match(reg.function(*i), &words, held))
            .collect(),
    };
    let text = match found.as_slice() {
        [] => {
            repl.message(&format!(
                "no FFI function matches `{}` (filters: tier:T cap:C cap:none ns:NS granted denied, or any word)",
                crate::preflight::escape_control(filter)
            ));
            return true;
        }
        // One function: its whole entry, through the one renderer.
        [i] => docs::ffi_function(reg.function(*i), reg.signature(*i), view),
        _ => {
            let rows: Vec<[String; 5]> = found
                .iter()
                .map(|i| docs::ffi_row(reg.function(*i), reg.signature(*i), view))
                .collect();
            let width = |k: usize| rows.iter().map(|r| r[k].chars().count()).max().unwrap_or(0);
            let (w1, w2, w3) = (width(1), width(2), width(3));
            let mut t = String::new();
            for r in &rows {
                let line = format!(
                    "{} {:<w1$}  {:<w2$}  {:<w3$}  {}",
                    r[0], r[1], r[2], r[3], r[4]
                );
                t.push_str(line.trim_end());
                t.push('\n');
            }
            t.push_str(&format!(
                "{} functions · ✓ granted, ✗ not, · no capability · `:doc NAME` for one",
                rows.len()
            ));
            t
        }
    };
    // Names and documentation may come from a host's registry file.
    let text: Vec<String> = text.lines().map(crate::preflight::escape_control).collect();
    let text = text.join("\n");
    page(repl, &text);
    true
}

/// Shows a long text through `$PAGER` (else `less -FRX`) when stdout and stderr
/// are terminals and it is taller than the screen; otherwise on stderr.
fn page(repl: &Repl, text: &str) {
    let rows = text.lines().count();
    if repl.interactive
        && std::io::IsTerminal::is_terminal(&std::io::stdout())
        && std::io::IsTerminal::is_terminal(&std::io::stderr())
        && rows + 1 > terminal_rows()
    {
        let pager = std::env::var("PAGER")
            .ok()
            .filter(|p| !p.trim().is_empty())
            .unwrap_or_else(|| "less -FRX".to_string());
        let child = std::process::Command::new("sh")
            .arg("-c")
            .arg(&pager)
            .stdin(std::process::Stdio::piped())
            .spawn();
        if let Ok(mut child) = child {
            if let Some(mut stdin) = child.stdin.take() {
                // The pager may quit before reading it all (`q`): not an error.
                let _ = std::io::Write::write_all(&mut stdin, text.as_bytes());
            }
            if child.wait().is_ok() {
                return;
            }
        }
    }
    repl.message(text);
}

/// The terminal's height in rows (24 when it cannot be asked).
fn terminal_rows() -> usize {
    // SAFETY: TIOCGWINSZ fills a winsize the call owns; failure leaves it zeroed.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(libc::STDERR_FILENO, libc::TIOCGWINSZ, &mut ws) } == 0;
    if ok && ws.ws_row > 0 {
        ws.ws_row as usize
    } else {
        24
    }
}

fn doc(repl: &mut Repl, name: &str) -> bool {
    if name.is_empty() || name.contains(char::is_whitespace) {
        return usage(repl, ":doc");
    }
    let s = &repl.session;
    let view = GrantView::Against(s.grants());
    // An imported name (language §13) is what the session's inputs see first.
    let imported = s.imported().find(|(n, _)| *n == name).map(|(_, g)| g);
    let text = if let Some(g) = imported {
        Some(docs::user_definition(name, g, view))
    } else if let Some(g) = s
        .globals()
        .get(name)
        .filter(|_| !RESULT_NAMES.contains(&name))
    {
        Some(docs::user_definition(name, g, view))
    } else if let Some(i) = s.registry().index_of(name) {
        Some(docs::ffi_function(
            s.registry().function(i),
            s.registry().signature(i),
            view,
        ))
    } else if let Some(id) = builtins::find(name, false) {
        Some(docs::builtin(builtins::get(id)))
    } else if let Some(d) = docs::special_form(name) {
        Some(d)
    } else {
        Capability::from_name(name).map(|c| docs::capability(c, view))
    };
    match text {
        Some(t) => {
            repl.message(&t);
            true
        }
        None => {
            let names = Names::from_session(s);
            let mut all: Vec<String> = names
                .ffi
                .keys()
                .cloned()
                .chain(names.user.keys().cloned())
                .collect();
            all.extend(builtins::names().map(str::to_string));
            all.extend(
                jue_engine::analysis::SPECIAL_FORMS
                    .iter()
                    .map(|s| s.to_string()),
            );
            all.extend(Capability::ALL.iter().map(|c| c.name().to_string()));
            let hint = jue_engine::suggest::closest(name, all.iter().map(String::as_str))
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            repl.message(&format!(
                "no documentation for `{}`{hint}",
                crate::preflight::escape_control(name)
            ));
            false
        }
    }
}

fn type_of(repl: &mut Repl, expr: &str) -> bool {
    if expr.is_empty() {
        return usage(repl, ":type");
    }
    let source = SourceFile::new("<type>", expr.to_string());
    let an = repl.session.check(&source);
    if an.has_errors() {
        let mut text = String::new();
        for d in an.diagnostics.iter().filter(|d| d.is_error()) {
            text.push_str(&jue_engine::report::render_diagnostic(
                d, &source, repl.color,
            ));
        }
        repl.message(&text);
        return false;
    }
    // The analysis knows each form's static type (language §6); unknown is Any.
    let t = an
        .items
        .last()
        .and_then(|i| i.ty)
        .unwrap_or(jue_engine::Type::Any);
    repl.message(&t.to_string());
    true
}

fn parse_tier(repl: &Repl, s: &str) -> Option<TrustTier> {
    let t = TrustTier::from_name(s);
    if t.is_none() {
        let hint = jue_engine::suggest::closest(s, TrustTier::ALL.iter().map(|t| t.name()))
            .map(|t| format!("; did you mean `{t}`?"))
            .unwrap_or_default();
        repl.message(&format!(
            "error: E0002: unknown tier `{s}` (formal, verified, empirical, experimental){hint}"
        ));
    }
    t
}

fn tier(repl: &mut Repl, args: &[&str]) -> bool {
    match args {
        [] => {
            repl.message(&format!("tier {}", repl.session.default_tier));
            true
        }
        [name] => match parse_tier(repl, name) {
            Some(t) => {
                repl.session.default_tier = t;
                repl.message(&format!("tier {t}"));
                true
            }
            None => false,
        },
        _ => usage(repl, ":tier"),
    }
}

fn load(repl: &mut Repl, path: &str, asker: &mut dyn Asker) -> bool {
    if path.is_empty() {
        return usage(repl, ":load");
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            repl.message(&format!(
                "error: cannot read `{}`: {e}",
                crate::preflight::escape_control(path)
            ));
            return false;
        }
    };
    let source = match SourceFile::from_bytes(path, bytes) {
        Ok(s) => s,
        Err(e) => {
            repl.message(&format!("error: {e}"));
            return false;
        }
    };
    // FILE's directory is the root of its imports (language §13).
    let prepared = repl
        .session
        .prepare_file(source, std::path::Path::new(path));
    let ok = repl.eval_prepared(prepared, false, asker);
    if ok {
        repl.message(&format!("loaded {path}"));
    }
    ok
}

/// `:reload [FILE]` (tooling §2): loaded files whose text changed, or only FILE,
/// checked as a whole; with no error, run again through the pre-flight prompt.
fn reload(repl: &mut Repl, path: &str, asker: &mut dyn Asker) -> bool {
    let only = (!path.is_empty()).then(|| std::path::Path::new(path));
    match repl.session.prepare_reload(only) {
        Ok(r) if r.reloaded.is_empty() => {
            repl.message("nothing changed");
            true
        }
        Ok(r) => {
            let mut ok = true;
            for p in r.programs {
                ok &= repl.eval_prepared(Ok(p), false, asker);
            }
            if ok {
                // One line per file: what ran again, and what was only checked.
                let mut lines: Vec<String> =
                    r.reloaded.iter().map(|n| format!("reloaded {n}")).collect();
                lines.extend(
                    r.checked.iter().map(|n| {
                        format!("checked {n} (it imports a reloaded file; not run again)")
                    }),
                );
                repl.message(&lines.join("\n"));
            }
            ok
        }
        Err(e) => {
            repl.eval_prepared(Err(e), false, asker);
            repl.message("nothing reloaded");
            false
        }
    }
}

fn reset(repl: &mut Repl, args: &[&str]) -> bool {
    match args {
        [] => {
            repl.reset(false);
            repl.message(
                "reset: definitions and *1..*3 dropped; tier and limits restored; grants kept",
            );
            true
        }
        ["all"] => {
            repl.reset(true);
            repl.message("reset: definitions, *1..*3 and grants dropped; tier and limits restored");
            true
        }
        _ => usage(repl, ":reset"),
    }
}

fn show_limits(repl: &Repl) -> String {
    let l = repl.session.limits;
    let e = repl.session.effective_limits(repl.session.default_tier);
    let time = |t: Option<u64>| t.map_or("none".to_string(), |ms| format!("{ms} ms"));
    let mut s = format!(
        "steps  {}\nmemory {} bytes\ntime   {}\ndepth  {}\nactors {}",
        l.steps,
        l.memory,
        time(l.timeout_ms),
        l.depth,
        l.actors
    );
    if e.memory != l.memory || e.timeout_ms != l.timeout_ms {
        s.push_str(&format!(
            "\nwith ResourceExtra* grants: memory {} bytes, time {}",
            e.memory,
            time(e.timeout_ms)
        ));
    }
    s
}

fn limits(repl: &mut Repl, args: &[&str]) -> bool {
    match args {
        [] => {
            repl.message(&show_limits(repl));
            true
        }
        [what, value] => {
            let off = matches!(*value, "off" | "none");
            let n: Option<u64> = value.replace('_', "").parse().ok();
            let l = &mut repl.session.limits;
            match (*what, n) {
                ("steps", Some(n)) => l.steps = n,
                ("memory", Some(n)) => l.memory = n,
                ("time", Some(n)) => l.timeout_ms = Some(n),
                ("time", None) if off => l.timeout_ms = None,
                ("depth", Some(n)) => l.depth = n,
                ("actors", Some(n)) if n >= 1 => l.actors = n,
                ("actors", Some(_)) => {
                    repl.message("error: the actor limit counts actor 0, so it is at least 1");
                    return false;
                }
                ("steps" | "memory" | "time" | "depth" | "actors", None) => {
                    repl.message(&format!("error: `{value}` is not a number"));
                    return false;
                }
                _ => return usage(repl, ":limits"),
            }
            repl.message(&show_limits(repl));
            true
        }
        _ => usage(repl, ":limits"),
    }
}

/// `:actors` (tooling §2): live actors in id order, then the 20 that ended last.
fn actors(repl: &mut Repl) -> bool {
    let list = repl.session.actors();
    if list.is_empty() {
        repl.message("no actors yet (`spawn` starts one)");
        return true;
    }
    let mut text = format!("{:<14} {:<13} {:>7}  function\n", "id", "state", "mailbox");
    for a in list {
        text.push_str(&format!(
            "{:<14} {:<13} {:>7}  {}\n",
            format!("#<actor {}>", a.id),
            a.state.name(),
            a.mailbox,
            crate::preflight::escape_control(&a.function)
        ));
    }
    repl.message(text.trim_end());
    true
}

fn audit(repl: &mut Repl) -> bool {
    let a = repl.session.audit();
    if a.total() == 0 {
        repl.message("no capability checks yet");
        return true;
    }
    let mut text = String::from("checks per function, capability and result:\n");
    for (f, cap, allowed, n) in a.counts() {
        text.push_str(&format!(
            "  {:<20} {:<18} {:<8} {:>6}  first {}  last {}\n",
            f,
            cap.name(),
            if allowed { "allowed" } else { "denied" },
            n.count,
            utc(n.first),
            utc(n.last)
        ));
    }
    let recent: Vec<_> = a.recent().rev().take(20).collect();
    text.push_str(&format!("last {}:\n", recent.len()));
    for r in recent.into_iter().rev() {
        text.push_str(&format!(
            "  {} {:<20} {:<18} {}{}\n",
            utc(r.time),
            r.function,
            r.capability.name(),
            if r.allowed { "allowed" } else { "denied" },
            r.detail
                .as_deref()
                .map(|d| format!(" ({})", crate::preflight::escape_control(d)))
                .unwrap_or_default()
        ));
    }
    repl.message(text.trim_end());
    true
}

fn sensor(repl: &mut Repl, args: &[&str]) -> bool {
    let [name, value] = args else {
        return usage(repl, ":sensor");
    };
    match value.parse::<f64>() {
        Ok(v) => {
            repl.session.sensors().set_sensor(name, v);
            repl.message(&format!("sensor {name} = {v:?}"));
            true
        }
        Err(_) => {
            repl.message(&format!("error: `{value}` is not a number"));
            false
        }
    }
}

fn actuators(repl: &mut Repl) -> bool {
    let list = repl.session.sensors().actuators();
    if list.is_empty() {
        repl.message("no actuator has been written");
        return true;
    }
    let mut text = String::new();
    for (name, value, count) in list {
        text.push_str(&format!("{name:<20} last {value:?}  writes {count}\n"));
    }
    repl.message(text.trim_end());
    true
}

fn save(repl: &mut Repl, path: &str) -> bool {
    if path.is_empty() {
        return usage(repl, ":save");
    }
    if repl.definitions.is_empty() {
        repl.message("nothing to save: no definition in this session yet");
        return false;
    }
    let mut text = String::new();
    for (_, def) in &repl.definitions {
        text.push_str(def);
        text.push_str("\n\n");
    }
    text.pop();
    let target = std::path::Path::new(path);
    let shown = crate::preflight::escape_control(path);
    // Written beside the target, then renamed over it: a failure leaves the old file whole.
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = target
        .file_name()
        .map_or("jue-save".into(), |n| n.to_string_lossy().into_owned());
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = std::fs::write(&temp, &text).and_then(|()| std::fs::rename(&temp, target));
    match written {
        Ok(()) => {
            repl.message(&format!(
                "saved {} definition{} to {shown}",
                repl.definitions.len(),
                if repl.definitions.len() == 1 { "" } else { "s" }
            ));
            true
        }
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            repl.message(&format!("error: cannot write `{shown}`: {e}"));
            false
        }
    }
}

fn history(repl: &mut Repl, filter: &str) -> bool {
    // The `:history` input itself was just recorded: leave it out.
    let past = &repl.history[..repl.history.len().saturating_sub(1)];
    let matching: Vec<(usize, &String)> = past
        .iter()
        .enumerate()
        .filter(|(_, h)| filter.is_empty() || h.contains(filter))
        .collect();
    if matching.is_empty() {
        repl.message(&if filter.is_empty() {
            "no history yet".to_string()
        } else {
            format!(
                "no input in the history contains `{}`",
                crate::preflight::escape_control(filter)
            )
        });
        return true;
    }
    let mut text = String::new();
    for (i, h) in &matching[matching.len().saturating_sub(20)..] {
        let first = h.lines().next().unwrap_or("");
        let more = if h.lines().nth(1).is_some() {
            " …"
        } else {
            ""
        };
        text.push_str(&format!(
            "{:>5}  {}{more}\n",
            i + 1,
            crate::preflight::escape_control(first)
        ));
    }
    repl.message(text.trim_end());
    true
}

fn backtrace(repl: &mut Repl) -> bool {
    let Some(e) = &repl.last_error else {
        repl.message("no run-time error yet");
        return true;
    };
    let lines = jue_engine::report::call_stack_lines(e, &repl.session);
    let mut text = format!("{}: {}\n", e.kind, e.message);
    if lines.is_empty() {
        text.push_str("(no call stack)");
    }
    for l in lines {
        text.push_str("  ");
        text.push_str(&l);
        text.push('\n');
    }
    repl.message(text.trim_end());
    true
}

fn show_bounds(repl: &Repl) -> String {
    let b = repl.bounds;
    let n = |v: usize| {
        if v == usize::MAX {
            "off".to_string()
        } else {
            v.to_string()
        }
    };
    format!(
        "print-length {}\nprint-depth  {}\nprint-chars  {}",
        n(b.length),
        n(b.depth),
        n(b.chars)
    )
}

fn set(repl: &mut Repl, args: &[&str]) -> bool {
    match args {
        [] => {
            repl.message(&show_bounds(repl));
            true
        }
        [what, value] => {
            let n: Option<usize> = if matches!(*value, "off" | "none") {
                Some(usize::MAX)
            } else {
                value.replace(['_', ','], "").parse().ok()
            };
            let Some(n) = n else {
                repl.message(&format!(
                    "error: `{}` is not a number (or `off`)",
                    crate::preflight::escape_control(value)
                ));
                return false;
            };
            match *what {
                "print-length" => repl.bounds.length = n,
                "print-depth" => repl.bounds.depth = n,
                "print-chars" => repl.bounds.chars = n,
                _ => return usage(repl, ":set"),
            }
            repl.message(&show_bounds(repl));
            true
        }
        _ => usage(repl, ":set"),
    }
}

//! The REPL's state around the engine session, and the evaluation of one Jue
//! text: check, pre-flight prompt, run, print, `*1 *2 *3`.

use crate::Options;
use crate::interrupt;
use crate::names::Names;
use crate::preflight::{self, Asker, Decision};
use jue_engine::analysis::RefTarget;
use jue_engine::report::{render_diagnostic, render_runtime_error};
use jue_engine::vm::limits::Stop;
use jue_engine::vm::output::Output;
use jue_engine::vm::printer::{self, Bounds};
use jue_engine::vm::value::Value;
use jue_engine::{
    Capability, EvalError, GrantSource, RuntimeError, Session, SourceFile, Value as HostValue,
};
use std::cell::RefCell;
use std::io::{self, IsTerminal, Write};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// The result history names, newest first.
pub const RESULT_NAMES: [&str; 3] = ["*1", "*2", "*3"];

/// Program output (`print`) on stdout, written as it happens, remembering
/// whether the last line is unfinished so the REPL can end it before a result.
struct StdoutWriter {
    at_line_start: Arc<AtomicBool>,
}

impl Write for StdoutWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(&last) = buf.last() {
            self.at_line_start.store(last == b'\n', Ordering::SeqCst);
        }
        let mut out = io::stdout().lock();
        out.write_all(buf)?;
        out.flush()?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        io::stdout().flush()
    }
}

/// A REPL session: the engine session plus what the REPL keeps around it.
pub struct Repl {
    /// The engine session.
    pub session: Session,
    /// How the REPL was started (`:reset` restores its limits and tier).
    pub options: Options,
    /// Colour on stderr.
    pub color: bool,
    /// Stdin is a terminal: prompts may be asked.
    pub interactive: bool,
    /// `:time` is on.
    pub timing: bool,
    /// `:quit` was given.
    pub quit: bool,
    /// Names for completion and highlighting, refreshed after each input.
    pub names: Rc<RefCell<Names>>,
    /// How much of a result is printed (`:set print-length` ...).
    pub bounds: Bounds,
    /// The last run-time error (`:bt`; `*e` holds it as a value).
    pub last_error: Option<RuntimeError>,
    /// Inputs, oldest first: earlier sessions' (from the history file) and this one's.
    pub history: Vec<String>,
    /// Per definition, the globals and FFI functions its body names: the pre-flight
    /// prompt follows them to say why an input needs a capability.
    pub calls: std::collections::HashMap<String, Vec<String>>,
    /// The session's definitions for `:save`, in the order they were last made:
    /// (name, text with its `;;` comments and annotations).
    pub definitions: Vec<(String, String)>,
    /// Globals the Jue inputs since the last refresh of `names` (re)defined.
    pub defined: Vec<String>,
    at_line_start: Arc<AtomicBool>,
    inputs: u32,
}

/// Whether colour is wanted on stderr: a terminal, and no `NO_COLOR`.
pub fn want_color(interactive: bool) -> bool {
    interactive
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && io::stderr().is_terminal()
}

impl Repl {
    /// A REPL over a fresh session with the options' limits, tier and grants.
    pub fn new(options: Options, interactive: bool) -> Result<Repl, String> {
        let at_line_start = Arc::new(AtomicBool::new(true));
        let session = new_session(&options, &at_line_start);
        let mut repl = Repl {
            session,
            color: want_color(interactive),
            interactive,
            timing: false,
            quit: false,
            names: Rc::new(RefCell::new(Names::default())),
            bounds: Bounds::DEFAULT,
            last_error: None,
            history: Vec::new(),
            definitions: Vec::new(),
            defined: Vec::new(),
            calls: std::collections::HashMap::new(),
            at_line_start,
            inputs: 0,
            options,
        };
        for g in repl.options.grants.clone() {
            repl.session
                .grant_spec(&g, GrantSource::CommandLine)
                .map_err(|e| format!("error: --grant {g}: {e}"))?;
        }
        interrupt::set_target(repl.session.interrupt());
        repl.refresh_names();
        Ok(repl)
    }

    /// Drops definitions and `*1..*3` and restores the start-up tier and limits;
    /// keeps grants (unless `all`) and sensor values.
    pub fn reset(&mut self, all: bool) {
        // Definitions and actors go; the registry, the audit log, sensors and
        // actuators stay.
        self.session.reset_definitions();
        self.session.reset_actors();
        if all {
            for c in jue_engine::Capability::ALL {
                self.session.revoke(c);
            }
        }
        self.session.limits = self.options.limits;
        self.session.default_tier = self
            .options
            .tier
            .unwrap_or(jue_engine::TrustTier::Empirical);
        for n in RESULT_NAMES.iter().chain(&["*e"]) {
            self.session.set_global(n, Value::Nil);
        }
        self.last_error = None;
        self.definitions.clear();
        self.refresh_names();
    }

    /// Recomputes the names the editor helper completes and highlights.
    pub fn refresh_names(&mut self) {
        self.defined.clear();
        *self.names.borrow_mut() = Names::from_session(&self.session);
    }

    /// Updates those names after Jue inputs: only what they defined. Should
    /// the session have gained globals another way, everything is read again.
    pub fn refresh_defined_names(&mut self) {
        let defined = std::mem::take(&mut self.defined);
        let mut names = self.names.borrow_mut();
        names.update(&self.session, &defined);
        if names.user.len() + names.internal != self.session.globals().len() {
            *names = Names::from_session(&self.session);
        }
    }

    /// Flushes program output and ends an unfinished line.
    pub fn end_output_line(&self) {
        let mut out = io::stdout().lock();
        if !self.at_line_start.swap(true, Ordering::SeqCst) {
            let _ = out.write_all(b"\n");
        }
        let _ = out.flush();
    }

    /// A message on stderr (stdout flushed first).
    pub fn message(&self, text: &str) {
        let _ = io::stdout().flush();
        let mut err = io::stderr().lock();
        let _ = err.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = err.write_all(b"\n");
        }
        let _ = err.flush();
    }

    /// The source name of the next Jue input: `<repl:N>`.
    pub fn next_input_name(&mut self) -> String {
        self.inputs += 1;
        format!("<repl:{}>", self.inputs)
    }

    /// Checks a text whole, asks for the capabilities it needs, runs its forms in
    /// order, and prints the value of the last one (unless a definition) when `print_result`.
    pub fn eval_text(
        &mut self,
        source: SourceFile,
        print_result: bool,
        asker: &mut dyn Asker,
    ) -> bool {
        let prepared = self.session.prepare(source);
        self.eval_prepared(prepared, print_result, asker)
    }

    /// [`Repl::eval_text`] of a prepared text (`:load` prepares a file, whose
    /// directory is its imports' root; `:reload` prepares the changed files).
    pub fn eval_prepared(
        &mut self,
        prepared: Result<jue_engine::Prepared, EvalError>,
        print_result: bool,
        asker: &mut dyn Asker,
    ) -> bool {
        let prepared = match prepared {
            Ok(p) => p,
            Err(EvalError::Compile {
                source,
                diagnostics,
                imported,
            }) => {
                let mut text = String::new();
                for d in &diagnostics {
                    text.push_str(&render_diagnostic(d, &source, self.color));
                }
                for (file, ds) in &imported {
                    for d in ds {
                        text.push_str(&render_diagnostic(d, file, self.color));
                    }
                }
                self.message(&text);
                return false;
            }
            Err(EvalError::Runtime(e)) => {
                self.message(&render_runtime_error(&e, &self.session, self.color));
                return false;
            }
        };
        // The session knows them from here on, even if running fails.
        self.defined
            .extend(prepared.analysis.definitions.iter().map(|d| d.name.clone()));
        if !prepared.analysis.diagnostics.is_empty() || !prepared.imported.is_empty() {
            let mut text = String::new();
            for d in &prepared.analysis.diagnostics {
                text.push_str(&render_diagnostic(d, &prepared.source, self.color));
            }
            for (file, ds) in &prepared.imported {
                for d in ds {
                    text.push_str(&render_diagnostic(d, file, self.color));
                }
            }
            self.message(&text);
        }
        // Pre-flight: every capability the input may use that the session lacks.
        let held = self.session.grants();
        let missing: Vec<Capability> = prepared
            .analysis
            .input_needs
            .iter()
            .filter(|c| !held.contains(*c))
            .filter(|c| {
                !matches!(
                    c,
                    Capability::ResourceExtraMemory | Capability::ResourceExtraTime
                )
            })
            .collect();
        self.keep_calls(&prepared);
        let mut once = Vec::new();
        if !missing.is_empty() {
            let scoped: Vec<Capability> = missing
                .iter()
                .copied()
                .filter(|c| matches!(c, Capability::IoPersist | Capability::IoNetwork))
                .collect();
            let (decision, scope) = if self.interactive && !self.options.no_prompt {
                self.message(&self.why(&missing, &prepared));
                preflight::ask_scoped(&missing, asker)
            } else {
                (Decision::No, None)
            };
            if scope.is_some() && scoped.len() != 1 {
                self.message("note: a scope in the answer needs exactly one of IoPersist, IoNetwork in the question; granting without scope");
            }
            match decision {
                Decision::Cancel => {
                    self.message("cancelled: the input did not run");
                    return false;
                }
                Decision::Session | Decision::Once => {
                    let source = if decision == Decision::Session {
                        GrantSource::Prompt
                    } else {
                        GrantSource::PromptOnce
                    };
                    for &c in &missing {
                        let scope = scope.as_deref().filter(|_| scoped == [c]);
                        match self.session.grant(c, scope, source) {
                            Ok(()) if decision == Decision::Once => once.push(c),
                            Ok(()) => {}
                            Err(e) => self.message(&format!("error: cannot grant {c}: {e}")),
                        }
                    }
                }
                Decision::No => {
                    let names: Vec<&str> = missing.iter().map(|c| c.name()).collect();
                    self.message(&format!(
                        "note: running without {}; calls that need {} fail with capability-denied (`:grant CAP` grants)",
                        names.join(", "),
                        if names.len() == 1 { "it" } else { "them" }
                    ));
                }
            }
        }
        let start = Instant::now();
        // One evaluation: its forms share one budget of steps and time (§10).
        // Ctrl-C counts from here until the result is printed, so one pressed
        // while a long result is formatted stops its printing.
        let evaluating = interrupt::Evaluating::start(&self.session.interrupt());
        let result = self.session.run(&prepared);
        let steps = self.session.steps_used();
        let ends_in_definition = prepared.items.last().is_some_and(|i| i.is_definition);
        let (last, failure) = match result {
            // An input of only comments has no forms and prints nothing.
            Ok(_) if prepared.items.is_empty() => (None, None),
            Ok(v) => (Some((v, ends_in_definition)), None),
            Err(e) => (None, Some(e)),
        };
        let elapsed = start.elapsed();
        for c in once {
            self.session.revoke(c);
        }
        self.end_output_line();
        let ok = match failure {
            Some(e) => {
                self.message(&render_runtime_error(&e, &self.session, self.color));
                self.scope_hint(&e);
                self.keep_error(e);
                false
            }
            None => {
                self.keep_definitions(&prepared);
                if let (true, Some((v, false))) = (print_result, last) {
                    self.print_result(v);
                    self.shift_results(v);
                }
                true
            }
        };
        drop(evaluating);
        // Actors that failed during the input and were not awaited (W0401),
        // after its result line.
        let mut warnings = String::new();
        for (d, source) in self.session.take_actor_warnings() {
            match source {
                Some(src) => warnings.push_str(&render_diagnostic(&d, &src, self.color)),
                None => warnings.push_str(&format!("warning[W0401]: {}\n", d.message)),
            }
        }
        if !warnings.is_empty() {
            self.message(&warnings);
        }
        // Like W0401, after the result line: what the input read of unset sensors.
        if let Some(note) = self
            .session
            .sensors()
            .take_unset_reads()
            .note(":sensor NAME VALUE")
        {
            self.message(&note);
        }
        if self.timing {
            self.message(&format!(
                "time: {:.3} ms · steps: {steps}",
                elapsed.as_secs_f64() * 1000.0
            ));
        }
        ok
    }

    /// Records which names each definition of a prepared text calls.
    fn keep_calls(&mut self, prepared: &jue_engine::session::Prepared) {
        let reg = self.session.registry();
        for d in &prepared.analysis.definitions {
            let mut names: Vec<String> = Vec::new();
            for r in &prepared.analysis.references {
                if r.definition || r.span.start < d.span.start || r.span.end > d.span.end {
                    continue;
                }
                let name = match &r.target {
                    RefTarget::Global(n) if **n != *d.name => n.to_string(),
                    RefTarget::Ffi(i) if (*i as usize) < reg.len() => reg.function(*i).name.clone(),
                    _ => continue,
                };
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            self.calls.insert(d.name.clone(), names);
        }
    }

    /// Why an input needs each capability: the chain of calls from a name the
    /// input's top-level forms use to the FFI function that needs it
    /// (`now → get-wall-clock`), and what `y` would grant.
    fn why(&self, missing: &[Capability], prepared: &jue_engine::session::Prepared) -> String {
        let reg = self.session.registry();
        let defs = &prepared.analysis.definitions;
        let mut starts: Vec<String> = Vec::new();
        for r in &prepared.analysis.references {
            let inside = defs
                .iter()
                .any(|d| r.span.start >= d.span.start && r.span.end <= d.span.end);
            if r.definition || inside {
                continue;
            }
            let name = match &r.target {
                RefTarget::Global(n) => n.to_string(),
                RefTarget::Ffi(i) if (*i as usize) < reg.len() => reg.function(*i).name.clone(),
                _ => continue,
            };
            if !starts.contains(&name) {
                starts.push(name);
            }
        }
        let needs = |name: &str, c: Capability| {
            reg.index_of(name)
                .is_some_and(|i| reg.function(i).required_capability == Some(c))
        };
        let mut lines = Vec::new();
        for &c in missing {
            // Breadth first, so the shortest chain is named.
            let mut queue: std::collections::VecDeque<Vec<String>> =
                starts.iter().map(|s| vec![s.clone()]).collect();
            let mut seen: Vec<String> = starts.clone();
            let mut found = None;
            while let Some(path) = queue.pop_front() {
                let last = path.last().map_or("", String::as_str);
                if needs(last, c) {
                    found = Some(path);
                    break;
                }
                if path.len() > 20 {
                    continue;
                }
                for next in self.calls.get(last).into_iter().flatten() {
                    if !seen.contains(next) {
                        seen.push(next.clone());
                        let mut p = path.clone();
                        p.push(next.clone());
                        queue.push_back(p);
                    }
                }
            }
            let scope = match c {
                Capability::IoPersist => format!(
                    "; `y` grants it for the current directory only ({}); `y DIR` for another",
                    std::env::current_dir()
                        .map(|d| d.display().to_string())
                        .unwrap_or_else(|_| "?".into())
                ),
                Capability::IoNetwork => {
                    "; `y` grants it for any host; `y HOST[:PORT]` for one".into()
                }
                _ => String::new(),
            };
            lines.push(match found {
                Some(path) => format!("{c} is needed by {}{scope}", path.join(" → ")),
                None => format!("{c} may be needed{scope}"),
            });
        }
        let lines: Vec<String> = lines.iter().map(|l| preflight::escape_control(l)).collect();
        lines.join("\n")
    }

    /// Prints a result within the print bounds, in pieces, so Ctrl-C stops a long
    /// one at once (the rest is dropped and a note says so). The caller holds the
    /// evaluation's `Evaluating` guard, so SIGINT raises the flag checked here.
    fn print_result(&mut self, v: Value) {
        let mut text = String::new();
        let vm = self.session.vm();
        printer::write_value_bounded(&mut text, v, false, &vm.print_ctx(), self.bounds);
        text.push('\n');
        let intr = self.session.interrupt();
        let mut out = io::stdout().lock();
        let mut rest = text.as_str();
        while !rest.is_empty() {
            if intr.get() != Stop::None {
                let _ = out.write_all(b"\n");
                let _ = out.flush();
                drop(out);
                self.message("interrupted: the rest of the result is not printed");
                return;
            }
            let mut cut = rest.len().min(4096);
            while !rest.is_char_boundary(cut) {
                cut += 1;
            }
            if out.write_all(&rest.as_bytes()[..cut]).is_err() {
                return;
            }
            let _ = out.flush();
            rest = &rest[cut..];
        }
    }

    /// After a call denied for being outside a held grant's scope, says how to
    /// widen it (the input is not run again: its earlier forms may have acted).
    fn scope_hint(&self, e: &RuntimeError) {
        if e.kind != jue_engine::ErrorKind::CapabilityDenied {
            return;
        }
        let held = self.session.grants();
        let hint = if held.contains(Capability::IoPersist) && e.message.contains("IoPersist") {
            "hint: `:grant IoPersist DIR` adds a directory to the scope, then run the input again"
        } else if held.contains(Capability::IoNetwork) && e.message.contains("IoNetwork") {
            "hint: `:grant IoNetwork HOST[:PORT]` adds a host to the scope, then run the input again"
        } else {
            return;
        };
        self.message(hint);
    }

    /// Keeps a run-time error for `:bt` and as `*e`.
    fn keep_error(&mut self, e: RuntimeError) {
        let value = HostValue::Error {
            kind: e.kind.name().to_string(),
            message: e.message.clone(),
        };
        let _ = self.session.set_global_value("*e", &value);
        self.last_error = Some(e);
    }

    /// Records the definitions of a text that ran, for `:save`: a redefinition
    /// moves the name to the end with its new text.
    fn keep_definitions(&mut self, prepared: &jue_engine::session::Prepared) {
        let text = prepared.source.text();
        for d in &prepared.analysis.definitions {
            let (start, end) = (d.span.start as usize, d.span.end as usize);
            if end > text.len() || start > end {
                continue;
            }
            let start = leading_comments(text, start);
            self.definitions.retain(|(n, _)| *n != d.name);
            self.definitions
                .push((d.name.clone(), text[start..end].trim().to_string()));
        }
    }

    fn shift_results(&mut self, v: Value) {
        let vm = self.session.vm();
        let older: Vec<Value> = RESULT_NAMES[..2]
            .iter()
            .map(|n| vm.global(n).unwrap_or(Value::Nil))
            .collect();
        self.session.set_global("*3", older[1]);
        self.session.set_global("*2", older[0]);
        self.session.set_global("*1", v);
    }
}

fn new_session(options: &Options, at_line_start: &Arc<AtomicBool>) -> Session {
    let out = Output::new(Box::new(StdoutWriter {
        at_line_start: Arc::clone(at_line_start),
    }));
    let mut session = Session::with_output(out);
    session.set_repl_mode(true);
    session.limits = options.limits;
    if let Some(t) = options.tier {
        session.default_tier = t;
    }
    for n in RESULT_NAMES.iter().chain(&["*e"]) {
        session.set_global(n, Value::Nil);
    }
    session
}

/// Where a definition starting at `start` begins with the `;;` comments and
/// `@tier` annotations written on the lines just above it (and before it on its line).
pub fn leading_comments(text: &str, start: usize) -> usize {
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let before = text[line_start..start].trim();
    if !(before.is_empty() || before.starts_with('@')) {
        return start;
    }
    let mut begin = line_start;
    while begin > 0 {
        let prev_start = text[..begin - 1].rfind('\n').map_or(0, |i| i + 1);
        let line = text[prev_start..begin - 1].trim();
        if line.starts_with(";;") || line.starts_with('@') {
            begin = prev_start;
        } else {
            break;
        }
    }
    begin
}

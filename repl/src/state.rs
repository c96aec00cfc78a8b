//! The REPL's state around the engine session, and the evaluation of one Jue
//! text: check, pre-flight prompt, run, print, `*1 *2 *3`.

use crate::Options;
use crate::interrupt;
use crate::names::Names;
use crate::preflight::{self, Asker, Decision};
use jue_engine::report::{render_diagnostic, render_runtime_error};
use jue_engine::vm::output::Output;
use jue_engine::vm::value::Value;
use jue_engine::{Capability, EvalError, GrantSource, Session, SourceFile};
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
        // Definitions go; the registry, the audit log, sensors and actuators stay.
        self.session.reset_definitions();
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
        for n in RESULT_NAMES {
            self.session.set_global(n, Value::Nil);
        }
        self.refresh_names();
    }

    /// Recomputes the names the editor helper completes and highlights.
    pub fn refresh_names(&self) {
        *self.names.borrow_mut() = Names::from_session(&self.session);
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
        let prepared = match self.session.prepare(source) {
            Ok(p) => p,
            Err(EvalError::Compile {
                source,
                diagnostics,
            }) => {
                let mut text = String::new();
                for d in &diagnostics {
                    text.push_str(&render_diagnostic(d, &source, self.color));
                }
                self.message(&text);
                return false;
            }
            Err(EvalError::Runtime(e)) => {
                self.message(&render_runtime_error(&e, &self.session, self.color));
                return false;
            }
        };
        if !prepared.analysis.diagnostics.is_empty() {
            let mut text = String::new();
            for d in &prepared.analysis.diagnostics {
                text.push_str(&render_diagnostic(d, &prepared.source, self.color));
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
        let mut once = Vec::new();
        if !missing.is_empty() {
            let decision = if self.interactive && !self.options.no_prompt {
                preflight::ask(&missing, asker)
            } else {
                Decision::No
            };
            match decision {
                Decision::Session | Decision::Once => {
                    let source = if decision == Decision::Session {
                        GrantSource::Prompt
                    } else {
                        GrantSource::PromptOnce
                    };
                    for &c in &missing {
                        match self.session.grant(c, None, source) {
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
        let result = {
            let _guard = interrupt::Evaluating::start(&self.session.interrupt());
            self.session.run(&prepared)
        };
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
                false
            }
            None => {
                if let (true, Some((v, false))) = (print_result, last) {
                    let shown = self.session.show(v);
                    {
                        let mut out = io::stdout().lock();
                        let _ = writeln!(out, "{shown}");
                        let _ = out.flush();
                    }
                    self.shift_results(v);
                }
                true
            }
        };
        if self.timing {
            self.message(&format!(
                "time: {:.3} ms · steps: {steps}",
                elapsed.as_secs_f64() * 1000.0
            ));
        }
        ok
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
    for n in RESULT_NAMES {
        session.set_global(n, Value::Nil);
    }
    session
}

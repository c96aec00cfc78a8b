//! The session: registry, grants, globals, limits and the VM; checks, compiles and
//! runs source. The CLI, the REPL, the language server and embedders use this.

use crate::analysis::{self, Analysis, Env, GlobalInfo, Mode};
use crate::builtins;
use crate::compile::{self, TooLarge};
use crate::diagnostic::{Code, Diagnostic};
use crate::ffi::registry::{FfiEntry, FfiRegistry};
use crate::ffi::{CapSet, TrustTier};
use crate::syntax::span::SourceFile;
use crate::syntax::tree::NodeKind;
use crate::vm::error::RuntimeError;
use crate::vm::limits::{Interrupt, Limits};
use crate::vm::output::Output;
use crate::vm::value::Value;
use crate::vm::{HostEntry, Vm};
use std::collections::HashMap;

/// Why an evaluation did not produce a value.
#[derive(Debug)]
pub enum EvalError {
    /// The text has error diagnostics; nothing ran.
    Compile {
        /// The text.
        source: SourceFile,
        /// All its diagnostics (warnings too).
        diagnostics: Vec<Diagnostic>,
    },
    /// A run-time error stopped it.
    Runtime(RuntimeError),
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvalError::Compile { diagnostics, .. } => {
                let first = diagnostics.iter().find(|d| d.is_error());
                match first {
                    Some(d) => write!(f, "{}: {}", d.code, d.message),
                    None => f.write_str("compile error"),
                }
            }
            EvalError::Runtime(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for EvalError {}

/// One compiled top-level form.
#[derive(Clone, Debug)]
pub struct PreparedItem {
    /// Its entry prototype.
    pub proto: u32,
    /// Its tier (experimental forms run under the experimental caps).
    pub tier: TrustTier,
    /// Whether it is a definition (prints nothing in the REPL).
    pub is_definition: bool,
}

/// A checked and compiled text, ready to run.
#[derive(Debug)]
pub struct Prepared {
    /// The text.
    pub source: SourceFile,
    /// Its analysis (warnings, definitions, references).
    pub analysis: Analysis,
    /// Its forms, compiled.
    pub items: Vec<PreparedItem>,
}

/// A Jue session.
pub struct Session {
    vm: Vm,
    registry: FfiRegistry,
    globals: HashMap<String, GlobalInfo>,
    sources: Vec<SourceFile>,
    /// Limits of formal, verified and empirical code.
    pub limits: Limits,
    /// Tier of code with no annotation.
    pub default_tier: TrustTier,
    mode: Mode,
}

impl Default for Session {
    fn default() -> Self {
        Session::new()
    }
}

impl Session {
    /// A session in file mode writing program output to standard output.
    pub fn new() -> Session {
        Session::with_output(Output::stdout())
    }

    /// A session writing program output to `out`.
    pub fn with_output(out: Output) -> Session {
        let mut s = Session {
            vm: Vm::new(out),
            registry: FfiRegistry::new(),
            globals: HashMap::new(),
            sources: Vec::new(),
            limits: Limits::DEFAULT,
            default_tier: TrustTier::Empirical,
            mode: Mode::File,
        };
        s.install_standard_registry();
        s.load_prelude();
        s
    }

    fn install_standard_registry(&mut self) {
        for f in crate::ffi::standard::pure_functions() {
            let entry = FfiEntry {
                name: f.name.into(),
                sig: f.sig.clone(),
                capability: None,
                tier: f.tier,
                doc: f.doc.into(),
            };
            let idx = self.registry.insert(entry);
            self.vm.set_host(
                idx,
                HostEntry {
                    name: f.name.into(),
                    capability: None,
                    params: f.sig.params.iter().map(|t| t.kinds()).collect(),
                    rest: f.sig.rest.map(|t| t.kinds()),
                    imp: Some(f.imp),
                },
            );
        }
    }

    fn load_prelude(&mut self) {
        let saved = std::mem::replace(&mut self.mode, Mode::Prelude);
        let r = self.eval(SourceFile::new("<prelude>", builtins::PRELUDE));
        self.mode = saved;
        if let Err(e) = r {
            // The prelude is part of the engine: failing to load it is a bug, caught by tests.
            debug_assert!(false, "prelude failed: {e}");
        }
    }

    /// Switches between file rules (the default) and REPL rules.
    pub fn set_repl_mode(&mut self, repl: bool) {
        self.mode = if repl { Mode::Repl } else { Mode::File };
    }

    /// The FFI registry.
    pub fn registry(&self) -> &FfiRegistry {
        &self.registry
    }

    /// The interrupt flag: raise it to stop the running evaluation.
    pub fn interrupt(&self) -> Interrupt {
        self.vm.interrupt.clone()
    }

    /// Capabilities held now.
    pub fn grants(&self) -> CapSet {
        self.vm.grants
    }

    /// Replaces the held capabilities.
    pub fn set_grants(&mut self, grants: CapSet) {
        self.vm.grants = grants;
    }

    /// Globals defined so far, as analysis sees them.
    pub fn globals(&self) -> &HashMap<String, GlobalInfo> {
        &self.globals
    }

    /// A source text by id.
    pub fn source(&self, id: u32) -> Option<&SourceFile> {
        self.sources.get(id as usize)
    }

    /// The VM (for printing and inspection).
    pub fn vm(&self) -> &Vm {
        &self.vm
    }

    /// The printed form of a value.
    pub fn show(&self, v: Value) -> String {
        self.vm.show(v)
    }

    /// Steps used by the last evaluation.
    pub fn steps_used(&self) -> u64 {
        self.vm.steps_used()
    }

    /// Sets a global's value (REPL `*1`).
    pub fn set_global(&mut self, name: &str, v: Value) {
        self.vm.set_global(name, v);
    }

    /// Checks a text without compiling or running it.
    pub fn check(&self, source: &SourceFile) -> Analysis {
        let parse = crate::syntax::parse(source.text());
        let env = Env {
            registry: &self.registry,
            globals: &self.globals,
            mode: self.mode,
            default_tier: self.default_tier,
        };
        analysis::analyze(&parse, &env)
    }

    /// Checks and compiles a text. With any error diagnostic nothing is compiled.
    pub fn prepare(&mut self, source: SourceFile) -> Result<Prepared, EvalError> {
        let parse = crate::syntax::parse(source.text());
        let env = Env {
            registry: &self.registry,
            globals: &self.globals,
            mode: self.mode,
            default_tier: self.default_tier,
        };
        let mut analysis = analysis::analyze(&parse, &env);
        if analysis.has_errors() {
            return Err(EvalError::Compile {
                source,
                diagnostics: analysis.diagnostics,
            });
        }
        let source_id = self.sources.len() as u32;
        self.sources.push(source.clone());
        let mut items = Vec::new();
        let forms = parse.forms.iter().filter(|f| !f.has_error);
        for (item, form) in analysis.items.iter().zip(forms) {
            match compile::compile_item(&mut self.vm, &analysis, item, source_id) {
                Ok(proto) => items.push(PreparedItem {
                    proto,
                    tier: item.tier,
                    is_definition: is_definition_form(&form.node),
                }),
                Err(TooLarge(span)) => {
                    analysis.diagnostics.push(Diagnostic::new(
                        Code::E0105,
                        span,
                        "this function needs more than 65,000 registers; split it into smaller functions",
                    ));
                    return Err(EvalError::Compile {
                        source,
                        diagnostics: analysis.diagnostics,
                    });
                }
            }
        }
        let user_definitions = if self.mode == Mode::Prelude {
            &[][..]
        } else {
            &analysis.definitions[..]
        };
        for d in user_definitions {
            let prior = self
                .globals
                .get(&d.name)
                .map(|g| g.needs)
                .unwrap_or_default();
            self.globals.insert(
                d.name.clone(),
                GlobalInfo {
                    arity: d.arity,
                    params: d.params.clone(),
                    tier: d.tier,
                    needs: prior,
                    doc: d.doc.clone(),
                    span: None,
                },
            );
        }
        Ok(Prepared {
            source,
            analysis,
            items,
        })
    }

    /// Runs prepared forms in order; returns the value of the last.
    pub fn run(&mut self, prepared: &Prepared) -> Result<Value, RuntimeError> {
        let mut last = Value::Nil;
        for item in &prepared.items {
            last = self.run_item(item)?;
        }
        Ok(last)
    }

    /// Runs one prepared form under the limits its tier allows.
    pub fn run_item(&mut self, item: &PreparedItem) -> Result<Value, RuntimeError> {
        let mut limits = self.limits;
        if item.tier == TrustTier::Experimental {
            // Experimental forms: capped, with the heap counted as growth from here.
            let mut cap = Limits::EXPERIMENTAL;
            cap.memory = (self.vm.heap.live_bytes() as u64).saturating_add(cap.memory);
            limits = limits.min(cap);
        }
        self.vm.run(item.proto, limits)
    }

    /// Checks, compiles and runs a text; returns the value of its last form.
    pub fn eval(&mut self, source: SourceFile) -> Result<Value, EvalError> {
        let prepared = self.prepare(source)?;
        self.run(&prepared).map_err(EvalError::Runtime)
    }

    /// [`Session::eval`] of a named string.
    pub fn eval_str(&mut self, name: &str, text: &str) -> Result<Value, EvalError> {
        self.eval(SourceFile::new(name, text))
    }

    /// Collects garbage now.
    pub fn collect_garbage(&mut self) {
        self.vm.collect(&[]);
    }
}

fn is_definition_form(n: &crate::syntax::tree::Node) -> bool {
    match n.head_symbol() {
        Some("define" | "def") => true,
        Some("begin" | "do") | Some(_)
            if matches!(n.kind, NodeKind::List(_))
                && n.head_symbol()
                    .is_some_and(|h| h.starts_with(':') || h == "begin" || h == "do") =>
        {
            let items = n.proper_items().unwrap_or(&[]);
            items.len() > 1 && items[1..].iter().all(is_definition_form)
        }
        _ => false,
    }
}

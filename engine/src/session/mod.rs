//! Floor 6, the session: registry, grants, globals, limits and the VM; checks,
//! compiles and runs source. The CLI, the REPL, the language server and embedders
//! use this.
//!
//! **Invariant:** the only floor that sees every other one. It wires the host's
//! implementations into the VM (`sync_host_table`), compiles with the VM as the
//! compiler's linker, and keeps what the REPL rules need between inputs.

pub mod config;
mod embed;
pub mod grants;
mod handles;
pub mod register;
pub mod report;

use crate::analysis::{self, Analysis, Env, GlobalInfo, Mode};
use crate::compile::{self, TooLarge};
use crate::ground::diagnostic::{Code, Diagnostic};
use crate::ground::ffi::Implementation;
use crate::ground::ffi::Value as HostValue;
use crate::ground::ffi::registry::FfiRegistry;
use crate::ground::ffi::{CapSet, Capability, FfiFunction, RegistryError, TrustTier};
use crate::ground::span::{SourceFile, Span};
use crate::host::HostState;
use crate::vm::error::{ErrorKind, RuntimeError};
use crate::vm::limits::{Interrupt, Limits};
use crate::vm::output::Output;
use crate::vm::value::Value;
use crate::vm::{HostCode, HostEntry, Vm, convert};
use grants::{GrantError, GrantSource, Grants};
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

/// An evaluation error as a miette report: a compile error points into its
/// source (every error diagnostic labelled); a run-time error names its kind and
/// call stack (render it with [`report::render_runtime_error`] for the source lines,
/// which the session holds).
impl miette::Diagnostic for EvalError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        match self {
            EvalError::Compile { diagnostics, .. } => diagnostics
                .iter()
                .find(|d| d.is_error())
                .map(|d| Box::new(d.code) as Box<dyn std::fmt::Display>),
            EvalError::Runtime(e) => Some(Box::new(format!("run-time error: {}", e.kind))),
        }
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        match self {
            EvalError::Compile { diagnostics, .. } => diagnostics
                .iter()
                .find(|d| d.is_error())
                .and_then(|d| d.help.as_ref())
                .map(|h| Box::new(h) as Box<dyn std::fmt::Display>),
            EvalError::Runtime(e) if !e.stack.is_empty() => {
                let names: Vec<&str> = e.stack.iter().map(|f| f.function.as_str()).collect();
                Some(Box::new(format!("call stack: {}", names.join(" ← "))))
            }
            EvalError::Runtime(_) => None,
        }
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        match self {
            EvalError::Compile { source, .. } => Some(source as &dyn miette::SourceCode),
            EvalError::Runtime(_) => None,
        }
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        match self {
            EvalError::Compile { diagnostics, .. } => {
                Some(Box::new(diagnostics.iter().filter(|d| d.is_error()).map(
                    |d| miette::LabeledSpan::new_with_span(Some(d.message.clone()), d.span),
                )))
            }
            EvalError::Runtime(_) => None,
        }
    }
}

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
    /// Keeps its code from the code collector while this (or a clone) lives.
    pin: std::sync::Arc<()>,
}

/// The prelude's Jue source: the built-ins written in Jue. Loops, not recursion,
/// so they run on lists of any length in constant stack.
const PRELUDE: &str = include_str!("prelude.jue");

/// Bytes compiling takes per byte of source text, as measured on generated
/// programs of definitions (a 5 MB file peaks at about 160 MB while checked).
pub const COMPILE_BYTES_PER_BYTE: u64 = 32;

/// A Jue session.
pub struct Session {
    vm: Vm,
    registry: FfiRegistry,
    grants: Grants,
    assumed_extra: CapSet,
    /// For each global, the definitions that use it and their tiers (REPL rule of §7).
    callers: HashMap<String, Vec<(String, TrustTier)>>,
    last_steps: u64,
    globals: HashMap<String, GlobalInfo>,
    /// Source texts by id, kept while code from them lives (see `collect_code`).
    sources: HashMap<u32, SourceFile>,
    next_source: u32,
    /// Code that prepared forms still hold: the code collector keeps it.
    pins: Vec<Pin>,
    /// The last evaluation's pin: its source stays readable (error reports) until
    /// the next evaluation.
    last_pin: Option<std::sync::Arc<()>>,
    /// Live prototypes after the last code collection.
    live_after_sweep: usize,
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
        let mut vm = Vm::new(out);
        vm.host_data = Box::new(HostState::default());
        let mut s = Session {
            vm,
            registry: FfiRegistry::standard(),
            grants: Grants::default(),
            assumed_extra: CapSet::EMPTY,
            callers: HashMap::new(),
            last_steps: 0,
            globals: HashMap::new(),
            sources: HashMap::new(),
            next_source: 0,
            pins: Vec::new(),
            last_pin: None,
            live_after_sweep: 0,
            limits: Limits::DEFAULT,
            default_tier: TrustTier::Empirical,
            mode: Mode::File,
        };
        s.sync_host_table();
        s.load_prelude();
        s
    }

    /// A session over a given registry (e.g. one built with `FfiCallGenerator`).
    pub fn with_registry(registry: FfiRegistry, out: Output) -> Session {
        let mut s = Session::with_output(out);
        s.registry = registry;
        s.sync_host_table();
        s
    }

    /// Makes the VM's host table match the registry (indices are stable).
    fn sync_host_table(&mut self) {
        for i in 0..self.registry.len() as u32 {
            let f = self.registry.function(i);
            let sig = self.registry.signature(i);
            let ret = if sig.ret_optional {
                sig.ret.kinds() | crate::ground::types::NIL
            } else {
                sig.ret.kinds()
            };
            self.vm.set_host(
                i,
                HostEntry {
                    name: f.name.as_str().into(),
                    capability: f.required_capability,
                    params: sig.params.iter().map(|t| t.kinds()).collect(),
                    rest: sig.rest.map(|t| t.kinds()),
                    ret,
                    imp: match self.registry.implementation(i) {
                        Implementation::Host(h) => Some(HostCode::Closure(h.closure().clone())),
                        Implementation::Standard(h) => crate::host::library::standard_blocking(h)
                            .map(HostCode::Blocking)
                            .or_else(|| {
                                crate::host::library::standard_native(h).map(HostCode::Native)
                            }),
                        Implementation::Missing => None,
                    },
                    blocking: f.blocking,
                },
            );
        }
    }

    /// Registers a host function (see [`FfiRegistry::register_function`]); code
    /// compiled afterwards can call it, by name or through `ffi-call`.
    pub fn register_function(&mut self, f: FfiFunction) -> Result<(), RegistryError> {
        self.registry.register_function(f)?;
        self.sync_host_table();
        Ok(())
    }

    /// Adds registry JSON for checking (no implementations); returns how many functions.
    pub fn load_registry_json(&mut self, text: &str) -> Result<usize, RegistryError> {
        let n = self.registry.load_json(text)?;
        self.sync_host_table();
        Ok(n)
    }

    /// Grants a capability with an optional scope or amount.
    pub fn grant(
        &mut self,
        cap: Capability,
        scope: Option<&str>,
        source: GrantSource,
    ) -> Result<(), GrantError> {
        let host = host_state(&mut self.vm.host_data);
        self.grants
            .grant(&mut self.vm.grants, host, cap, scope, source)
    }

    /// Grants from the `CAP[=SCOPE]` syntax.
    pub fn grant_spec(&mut self, spec: &str, source: GrantSource) -> Result<(), GrantError> {
        let (cap, scope) = grants::parse_grant(spec)?;
        self.grant(cap, scope.as_deref(), source)
    }

    /// Revokes every grant of a capability; effective at the next call.
    pub fn revoke(&mut self, cap: Capability) {
        let host = host_state(&mut self.vm.host_data);
        self.grants.revoke(&mut self.vm.grants, host, cap);
    }

    /// The grants as recorded, in order.
    pub fn grant_records(&self) -> &[grants::GrantRecord] {
        self.grants.records()
    }

    /// Capabilities assumed granted by checking: the grants held plus any declared
    /// for checking only (`jue check --grant`, `jue.toml`).
    pub fn assumed_grants(&self) -> CapSet {
        self.vm.grants.union(self.assumed_extra)
    }

    /// Adds capabilities assumed granted for checking (no effect at run time).
    pub fn assume_granted(&mut self, caps: CapSet) {
        self.assumed_extra = self.assumed_extra.union(caps);
    }

    /// The audit log of capability checks.
    pub fn audit(&self) -> &crate::vm::audit::Audit {
        &self.vm.audit
    }

    /// The sensor and actuator bank.
    pub fn sensors(&self) -> &crate::host::SensorBank {
        // The session put its `HostState` there when it made the VM.
        match self.vm.host_data.downcast_ref::<HostState>() {
            Some(h) => &h.sensors,
            None => unreachable!("the session's VM holds its host state"),
        }
    }

    /// The limits in force for code of `tier`: the options, the experimental caps,
    /// and the ResourceExtra* grants on top.
    pub fn effective_limits(&self, tier: TrustTier) -> Limits {
        let mut limits = self.limits;
        if tier == TrustTier::Experimental {
            // Experimental forms: capped, with the heap counted as growth from now.
            let mut cap = Limits::EXPERIMENTAL;
            cap.memory = (self.vm.heap.live_bytes() as u64).saturating_add(cap.memory);
            limits = limits.min(cap);
        }
        limits.memory = limits.memory.saturating_add(self.grants.extra_memory);
        if let Some(t) = limits.timeout_ms.as_mut() {
            *t = t.saturating_add(self.grants.extra_time_ms);
        }
        limits
    }

    fn load_prelude(&mut self) {
        let saved = std::mem::replace(&mut self.mode, Mode::Prelude);
        let r = self.eval_raw(SourceFile::new("<prelude>", PRELUDE));
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

    /// Globals defined so far, as analysis sees them.
    pub fn globals(&self) -> &HashMap<String, GlobalInfo> {
        &self.globals
    }

    /// A source text by id.
    pub fn source(&self, id: u32) -> Option<&SourceFile> {
        self.sources.get(&id)
    }

    /// The VM (for printing and inspection).
    #[doc(hidden)]
    pub fn vm(&self) -> &Vm {
        &self.vm
    }

    /// The printed form of a value.
    #[doc(hidden)]
    pub fn show(&self, v: Value) -> String {
        self.vm.show(v)
    }

    /// Steps used by the last evaluation (`run`, `run_item`, `eval`, `call`).
    pub fn steps_used(&self) -> u64 {
        self.last_steps
    }

    /// Drops every definition (REPL `:reset`); keeps the registry, grants, the
    /// audit log, sensors and actuators.
    pub fn reset_definitions(&mut self) {
        self.vm
            .undefine_globals(|n| !n.starts_with(crate::ground::builtins::PRELUDE_PREFIX));
        self.globals.clear();
        self.callers.clear();
    }

    /// Waits for blocking host calls still running on worker threads (their
    /// actors stopped with the evaluation): the end of a `jue run` waits for
    /// them, so that a write is never cut off half-way (language §9).
    pub fn finish_host_calls(&mut self) {
        self.vm.finish_host_calls();
    }

    /// Stops and forgets every actor (REPL `:reset`); ids go on counting.
    pub fn reset_actors(&mut self) {
        self.vm.reset_actors();
    }

    /// The session's actors as `:actors` lists them (language §9, tooling §2):
    /// live ones in id order, then the 20 that ended last.
    pub fn actors(&self) -> Vec<crate::vm::actors::ActorInfo> {
        self.vm.actor_infos()
    }

    /// W0401 for each actor that failed and whose failure no `await` received,
    /// since the last call, each with the source text of its `spawn` call (for
    /// rendering). Hosts call it after `eval`/`call`; `jue run` and the REPL
    /// after each evaluation.
    pub fn take_actor_warnings(&mut self) -> Vec<(Diagnostic, Option<SourceFile>)> {
        self.vm
            .take_actor_failures()
            .into_iter()
            .map(|f| {
                let (source, span) = match f.site {
                    Some((src, span)) => (self.sources.get(&src).cloned(), span),
                    None => (None, Span::default()),
                };
                let d = Diagnostic::new(
                    Code::W0401,
                    span,
                    format!(
                        "actor {} ({}) failed: {}: {}",
                        f.id, f.function, f.kind, f.message
                    ),
                )
                .with_help("`await` the actor to receive its failure");
                (d, source)
            })
            .collect()
    }

    /// Defines a global from the host (REPL `*1`): code compiled afterwards sees it.
    #[doc(hidden)]
    pub fn set_global(&mut self, name: &str, v: Value) {
        self.vm.set_global(name, v);
        self.globals.entry(name.to_string()).or_insert(GlobalInfo {
            arity: None,
            params: Vec::new(),
            tier: TrustTier::Formal,
            needs: CapSet::EMPTY,
            doc: None,
            span: None,
        });
    }

    /// Defines a global from an owned value (REPL `*e`); procedures cannot cross.
    pub fn set_global_value(&mut self, name: &str, v: &HostValue) -> Result<(), String> {
        let v = convert::from_host(v, &mut self.vm.heap, &mut self.vm.symbols)?;
        self.set_global(name, v);
        Ok(())
    }

    /// What analysis knows of this session.
    pub fn env(&self) -> Env<'_> {
        Env {
            registry: &self.registry,
            globals: &self.globals,
            mode: self.mode,
            default_tier: self.default_tier,
            assumed: self.assumed_grants(),
        }
    }

    /// Checks a text without compiling or running it.
    pub fn check(&self, source: &SourceFile) -> Analysis {
        let parse = crate::syntax::parse(source.text());
        let env = self.env();
        analysis::analyze(&parse, &env)
    }

    /// Checks and compiles a text. With any error diagnostic nothing is compiled.
    pub fn prepare(&mut self, source: SourceFile) -> Result<Prepared, EvalError> {
        self.room_to_compile(&source)?;
        // Between evaluations, before new code: prepared forms still held are pinned.
        self.maybe_collect_code();
        let parse = crate::syntax::parse(source.text());
        let env = self.env();
        let mut analysis = analysis::analyze(&parse, &env);
        self.check_redefinition_tiers(&mut analysis);
        if analysis.has_errors() {
            return Err(EvalError::Compile {
                source,
                diagnostics: analysis.diagnostics,
            });
        }
        // Ids are never reused: an error kept by the host names its source by id.
        let source_id = self.next_source;
        self.next_source = self.next_source.wrapping_add(1) % u32::MAX;
        self.sources.insert(source_id, source.clone());
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
                    // Its forms compiled so far are unpinned: the collector frees them.
                    self.sources.remove(&source_id);
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
        for (def, uses) in &analysis.global_uses {
            let tier = analysis
                .definitions
                .iter()
                .find(|d| &d.name == def)
                .map_or(self.default_tier, |d| d.tier);
            for u in uses {
                let list = self.callers.entry(u.clone()).or_default();
                list.retain(|(c, _)| c != def);
                list.push((def.clone(), tier));
            }
        }
        let user_definitions = if self.mode == Mode::Prelude {
            &[][..]
        } else {
            &analysis.definitions[..]
        };
        for d in user_definitions {
            self.globals.insert(
                d.name.clone(),
                GlobalInfo {
                    arity: d.arity,
                    params: d.params.clone(),
                    tier: d.tier,
                    // Inferred through this text and the session's earlier
                    // definitions, so later inputs (the REPL's pre-flight prompt,
                    // `:doc`) see what calling it needs.
                    needs: d.needs,
                    doc: d.doc.clone(),
                    span: None,
                },
            );
        }
        // Earlier definitions that call a (re)defined one need what it needs now.
        let mut work: Vec<String> = user_definitions.iter().map(|d| d.name.clone()).collect();
        while let Some(name) = work.pop() {
            let needs = self.globals.get(&name).map(|g| g.needs).unwrap_or_default();
            let callers: Vec<String> = self
                .callers
                .get(&name)
                .map(|l| l.iter().map(|(c, _)| c.clone()).collect())
                .unwrap_or_default();
            for c in callers {
                if let Some(g) = self.globals.get_mut(&c) {
                    let union = g.needs.union(needs);
                    if union != g.needs {
                        g.needs = union;
                        work.push(c);
                    }
                }
            }
        }
        let pin = std::sync::Arc::new(());
        self.pins.push(Pin {
            token: std::sync::Arc::downgrade(&pin),
            protos: items.iter().map(|i| i.proto).collect(),
            source: source_id,
        });
        Ok(Prepared {
            source,
            analysis,
            items,
            pin,
        })
    }

    /// Compiling holds the text's tree, analysis and code at once, about
    /// [`COMPILE_BYTES_PER_BYTE`] bytes per byte of text: a text whose compilation
    /// cannot fit under the memory limit is refused before any of it is read
    /// (`memory-limit`), so a huge text cannot take the process past the limit.
    fn room_to_compile(&self, source: &SourceFile) -> Result<(), EvalError> {
        let need = (source.text().len() as u64).saturating_mul(COMPILE_BYTES_PER_BYTE);
        let limit = self.effective_limits(self.default_tier).memory;
        if need > limit {
            return Err(EvalError::Runtime(RuntimeError {
                kind: ErrorKind::MemoryLimit,
                message: format!(
                    "compiling {} ({} bytes) needs about {need} bytes, past the memory limit of {limit} bytes",
                    source.name(),
                    source.text().len()
                ),
                stack: Vec::new(),
            }));
        }
        Ok(())
    }

    /// REPL: a new definition may not claim less than a caller defined earlier
    /// needs (§7); E0201 at the new definition, and the old one stays.
    fn check_redefinition_tiers(&self, analysis: &mut Analysis) {
        if self.mode != Mode::Repl {
            return;
        }
        self.check_set_tiers(analysis);
        for d in &analysis.definitions {
            let Some(callers) = self.callers.get(&d.name) else {
                continue;
            };
            if !self.globals.contains_key(&d.name) {
                continue;
            }
            if let Some((caller, tier)) = callers
                .iter()
                .find(|(c, t)| c != &d.name && !t.may_call(d.tier))
            {
                analysis.diagnostics.push(
                    Diagnostic::new(
                        Code::E0201,
                        d.name_span,
                        format!(
                            "redefining `{}` as {} would break `{caller}`, which is {tier} and calls it",
                            d.name, d.tier
                        ),
                    )
                    .with_help(format!("define it at tier {tier} or higher (`@{tier}`); the old definition stays")),
                );
            }
        }
    }

    /// REPL: `set!` of a global is a redefinition for the tier rule (§7): a
    /// procedure of lower tier than a caller defined earlier may not be assigned
    /// to it; E0201 at the assignment, and the old value stays (nothing runs).
    fn check_set_tiers(&self, analysis: &mut Analysis) {
        let mut found: Vec<(String, TrustTier, crate::ground::span::Span)> = Vec::new();
        let mut work: Vec<&crate::analysis::ir::Expr> =
            analysis.items.iter().map(|i| &i.expr).collect();
        while let Some(e) = work.pop() {
            if let crate::analysis::ir::ExprKind::SetGlobal(name, v) = &e.kind {
                let tier = match &v.kind {
                    crate::analysis::ir::ExprKind::Lambda(l) => Some(l.tier),
                    crate::analysis::ir::ExprKind::Global(g) => {
                        self.globals.get(&**g).and_then(|g| g.arity.map(|_| g.tier))
                    }
                    _ => None,
                };
                if let Some(t) = tier {
                    found.push((name.to_string(), t, e.span));
                }
            }
            e.for_each_child(|c| work.push(c));
        }
        for (name, tier, span) in found {
            let Some(callers) = self.callers.get(&name) else {
                continue;
            };
            if let Some((caller, ctier)) = callers
                .iter()
                .find(|(c, t)| c != &name && !t.may_call(tier))
            {
                analysis.diagnostics.push(
                    Diagnostic::new(
                        Code::E0201,
                        span,
                        format!(
                            "assigning a procedure of tier {tier} to `{name}` would break `{caller}`, which is {ctier} and calls it"
                        ),
                    )
                    .with_help(format!(
                        "`set!` of a global is a redefinition: give the new procedure tier {ctier} or higher"
                    )),
                );
            }
        }
    }

    /// Runs prepared forms in order; returns the value of the last. The limits
    /// count from the start of the whole evaluation, not of each form.
    #[doc(hidden)]
    pub fn run(&mut self, prepared: &Prepared) -> Result<Value, RuntimeError> {
        let start = std::time::Instant::now();
        let mut steps = 0u64;
        let mut last = Value::Nil;
        for item in &prepared.items {
            let mut limits = self.effective_limits(item.tier);
            let elapsed = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
            let overall = self.effective_limits(TrustTier::Empirical);
            limits.steps = limits.steps.min(overall.steps.saturating_sub(steps));
            limits.timeout_ms = match (limits.timeout_ms, overall.timeout_ms) {
                (Some(t), Some(o)) => Some(t.min(o.saturating_sub(elapsed))),
                (t, o) => t.or(o.map(|o| o.saturating_sub(elapsed))),
            };
            let whole = self.effective_limits(item.tier);
            let r = self.vm.run(item.proto, limits);
            steps = steps.saturating_add(self.vm.steps_used());
            self.last_steps = steps;
            last = r.map_err(|mut e| {
                // The VM saw what was left of the budget; the user set the whole one.
                match e.kind {
                    ErrorKind::StepLimit => {
                        e.message = format!(
                            "evaluation used more than the step limit of {} steps",
                            whole.steps.min(overall.steps)
                        );
                    }
                    ErrorKind::Timeout => {
                        if let Some(ms) = whole.timeout_ms.or(overall.timeout_ms) {
                            let ms = overall.timeout_ms.map_or(ms, |o| ms.min(o));
                            e.message =
                                format!("evaluation ran longer than the time limit of {ms} ms");
                        }
                    }
                    _ => {}
                }
                e
            })?;
        }
        self.last_steps = steps;
        Ok(last)
    }

    /// Runs one prepared form alone, under the limits its tier allows.
    #[doc(hidden)]
    pub fn run_item(&mut self, item: &PreparedItem) -> Result<Value, RuntimeError> {
        let limits = self.effective_limits(item.tier);
        let r = self.vm.run(item.proto, limits);
        self.last_steps = self.vm.steps_used();
        r
    }

    /// Checks, compiles and runs a text; returns the value of its last form,
    /// copied out (procedures as callable [`Function`](crate::ground::ffi::Function) handles).
    pub fn eval(&mut self, source: SourceFile) -> Result<HostValue, EvalError> {
        let v = self.eval_raw(source)?;
        self.to_host(v).map_err(|message| {
            EvalError::Runtime(RuntimeError {
                kind: crate::vm::error::ErrorKind::Host,
                message,
                stack: Vec::new(),
            })
        })
    }

    /// [`Session::eval`] returning the VM's own value, which is valid only until
    /// the next collection (the REPL prints it at once). Not for hosts.
    #[doc(hidden)]
    pub fn eval_vm(&mut self, source: SourceFile) -> Result<Value, EvalError> {
        self.eval_raw(source)
    }

    /// [`Session::eval`] with the VM's value: valid only until the next collection.
    pub(crate) fn eval_raw(&mut self, source: SourceFile) -> Result<Value, EvalError> {
        let prepared = self.prepare(source)?;
        self.last_pin = Some(prepared.pin.clone());
        self.run(&prepared).map_err(EvalError::Runtime)
    }

    /// Evaluates a named string; the result copied out as an owned value.
    pub fn eval_str(&mut self, name: &str, text: &str) -> Result<HostValue, EvalError> {
        self.eval(SourceFile::new(name, text))
    }

    /// A VM value as an owned value; data nested deeper than
    /// [`crate::ground::ffi::value::MAX_DEPTH`] is an error.
    #[doc(hidden)]
    pub fn to_host(&self, v: Value) -> Result<HostValue, String> {
        let show = |v: Value| self.vm.show(v);
        convert::to_host_rooted(v, &self.vm.heap, &self.vm.symbols, &self.vm.roots, &show)
    }

    /// Calls a Jue global, built-in or FFI function by name with owned arguments
    /// (the embedding API); the result copied out. Capability checks apply as for
    /// any call: a host function needing a capability the session lacks is denied.
    pub fn call(&mut self, name: &str, args: &[HostValue]) -> Result<HostValue, EvalError> {
        let callee = self.procedure(name).map_err(EvalError::Runtime)?;
        self.call_owned(callee, args)
    }

    /// Calls a procedure value on owned arguments under the default tier's limits.
    fn call_owned(&mut self, callee: Value, args: &[HostValue]) -> Result<HostValue, EvalError> {
        use crate::vm::error::ErrorKind;
        let runtime = |kind, message: String| {
            EvalError::Runtime(RuntimeError {
                kind,
                message,
                stack: Vec::new(),
            })
        };
        let mut vals = Vec::with_capacity(args.len());
        for a in args {
            let v = convert::from_host_rooted(
                a,
                &mut self.vm.heap,
                &mut self.vm.symbols,
                &self.vm.roots,
            )
            .map_err(|m| runtime(ErrorKind::Type, m))?;
            vals.push(v);
        }
        let v = self.call_value(callee, &vals).map_err(EvalError::Runtime)?;
        self.to_host(v).map_err(|m| runtime(ErrorKind::Host, m))
    }

    /// Collects garbage now: the heap, and the code and source texts nothing
    /// reachable needs any more.
    pub fn collect_garbage(&mut self) {
        self.collect_code();
    }

    /// Collects code when enough was added since the last time: the cost of a
    /// collection is spread over at least as much new code as was live.
    fn maybe_collect_code(&mut self) {
        if self.vm.protos_since_sweep() > self.live_after_sweep.max(256) {
            self.collect_code();
        }
    }

    /// The heap and code collection (between evaluations only).
    fn collect_code(&mut self) {
        self.pins.retain(|p| p.token.strong_count() > 0);
        let pinned: Vec<u32> = self
            .pins
            .iter()
            .flat_map(|p| p.protos.iter().copied())
            .collect();
        let sweep = self.vm.collect_code(&pinned, &[]);
        self.live_after_sweep = sweep.live_protos;
        let pins = &self.pins;
        self.sources.retain(|id, _| {
            sweep.live_sources.binary_search(id).is_ok() || pins.iter().any(|p| p.source == *id)
        });
    }

    /// How much code and source the session holds now.
    pub fn code_stats(&self) -> CodeStats {
        CodeStats {
            protos: self.vm.live_protos(),
            sources: self.sources.len(),
        }
    }
}

/// Prepared code the code collector must keep while its token lives.
struct Pin {
    token: std::sync::Weak<()>,
    protos: Vec<u32>,
    source: u32,
}

/// How much code a session holds (see [`Session::code_stats`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeStats {
    /// Compiled functions alive.
    pub protos: usize,
    /// Source texts kept.
    pub sources: usize,
}

/// The session's host state, which it put in its VM.
fn host_state(data: &mut Box<dyn std::any::Any + Send>) -> &mut HostState {
    if !data.is::<HostState>() {
        *data = Box::new(HostState::default());
    }
    match data.downcast_mut::<HostState>() {
        Some(h) => h,
        None => unreachable!("just made"),
    }
}

/// Whether a top-level form only defines (a definition, or a splicing `begin` or tier
/// form of definitions): the REPL prints nothing for it.
fn is_definition_form(n: &crate::syntax::tree::Node) -> bool {
    let splices = |h: &str| h == "begin" || h == "do" || h.starts_with(':');
    match n.head_symbol() {
        Some("define" | "def") => true,
        Some(h) if splices(h) => {
            let items = n.proper_items().unwrap_or(&[]);
            items.len() > 1 && items[1..].iter().all(is_definition_form)
        }
        _ => false,
    }
}

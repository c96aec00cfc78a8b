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

use crate::analysis::capabilities::OwnNeeds;
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
        /// The files it imports that have diagnostics, each with its own, in the
        /// order they were first read (language §13).
        imported: Vec<(SourceFile, Vec<Diagnostic>)>,
    },
    /// A run-time error stopped it.
    Runtime(RuntimeError),
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvalError::Compile {
                diagnostics,
                imported,
                ..
            } => {
                if let Some(d) = diagnostics.iter().find(|d| d.is_error()) {
                    return write!(f, "{}: {}", d.code, d.message);
                }
                for (file, ds) in imported {
                    if let Some(d) = ds.iter().find(|d| d.is_error()) {
                        return write!(f, "{}: {}: {}", file.name(), d.code, d.message);
                    }
                }
                f.write_str("compile error")
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
    /// Its forms, compiled, with those of the files it loads for the first time
    /// in the order they run (language §13).
    pub items: Vec<PreparedItem>,
    /// The files it imports that are loaded now, each with its diagnostics
    /// (warnings), in the order they were first read.
    pub imported: Vec<(SourceFile, Vec<Diagnostic>)>,
    /// Files loaded when the item at an index starts to run.
    loads: Vec<(usize, std::path::PathBuf, LoadedFile)>,
    /// Keeps its code from the code collector while this (or a clone) lives.
    pin: std::sync::Arc<()>,
}

/// What `:reload` found to do ([`Session::prepare_reload`]).
#[derive(Default)]
pub struct Reload {
    /// The changed files, as diagnostics name them: they run again.
    pub reloaded: Vec<String>,
    /// The loaded files importing them, directly or not: checked, not run.
    pub checked: Vec<String>,
    /// The changed files' programs, imported files before their importers.
    pub programs: Vec<Prepared>,
}

/// A file loaded in the session: what importers see of it, and what `:reload`
/// compares.
#[derive(Clone, Debug)]
pub struct LoadedFile {
    /// Its name in diagnostics when it was loaded.
    pub name: String,
    /// Its text when it was read.
    pub text: std::sync::Arc<str>,
    /// Its definitions as importers see them.
    exports: Vec<analysis::modules::Export>,
    /// The files it imports.
    pub imports: Vec<std::path::PathBuf>,
    /// The root its imports stay beneath.
    pub root: std::path::PathBuf,
    /// The prefix of its globals (empty for a main file: `:load`, `jue run`).
    prefix: String,
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
    /// What each session definition needs by itself, and who calls whom through
    /// those facts: needs are recomputed from them when a definition is replaced.
    own_needs: HashMap<String, OwnNeeds>,
    needs_callers: HashMap<String, std::collections::HashSet<String>>,
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
    /// Files by resolved path → their number, whose globals are `%m<N>/name`.
    module_ids: HashMap<std::path::PathBuf, u32>,
    /// Files loaded in the session (language §13: each runs once).
    loaded: HashMap<std::path::PathBuf, LoadedFile>,
    /// The names the session's top level (REPL inputs, `eval`ed texts) imported.
    top_scope: analysis::ModuleScope,
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
        vm.host_snapshot = crate::host::library::host_snapshot;
        let mut s = Session {
            vm,
            registry: FfiRegistry::standard(),
            grants: Grants::default(),
            assumed_extra: CapSet::EMPTY,
            callers: HashMap::new(),
            own_needs: HashMap::new(),
            needs_callers: HashMap::new(),
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
            module_ids: HashMap::new(),
            loaded: HashMap::new(),
            top_scope: analysis::ModuleScope::default(),
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
            self.vm.set_host_tier(i, f.tier);
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
                        Implementation::Standard(h) => crate::vm::ffi_math::pure(h)
                            .map(HostCode::Pure)
                            .or_else(|| {
                                crate::host::library::standard_blocking(h).map(HostCode::Blocking)
                            })
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

    /// The caps experimental code runs under when it starts inside code of
    /// another tier (amounts, counted from where it starts): §10's experimental
    /// column with the ResourceExtra* grants on top.
    pub(crate) fn experimental_caps(&self) -> Limits {
        let mut cap = Limits::EXPERIMENTAL;
        cap.memory = cap.memory.saturating_add(self.grants.extra_memory);
        if let Some(t) = cap.timeout_ms.as_mut() {
            *t = t.saturating_add(self.grants.extra_time_ms);
        }
        cap
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

    /// The names the session's top level imported (`f`, `u/f`), with what is
    /// known of each (language §13).
    pub fn imported(&self) -> impl Iterator<Item = (&str, &GlobalInfo)> {
        self.top_scope
            .names
            .iter()
            .filter_map(|(n, internal)| self.top_scope.globals.get(internal).map(|g| (&**n, g)))
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
        self.own_needs.clear();
        self.needs_callers.clear();
        self.vm.clear_global_guards();
        self.loaded.clear();
        self.top_scope = analysis::ModuleScope::default();
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
            module: Some(&self.top_scope).filter(|m| !m.names.is_empty()),
        }
    }

    /// Checks one text without compiling or running it, and without reading the
    /// files it imports (no I/O): names earlier texts imported are known, its own
    /// imports' are not ([`Session::check_program`] checks a program whole).
    pub fn check(&self, source: &SourceFile) -> Analysis {
        let parse = crate::syntax::parse(source.text());
        let env = self.env();
        analysis::analyze(&parse, &env)
    }

    /// Checks a text and every file it imports (language §13), without running
    /// anything: each file once, in the order first read, with its resolved path
    /// (`None` for a text that is no file), its text named as diagnostics name it
    /// (tooling §1), and its analysis. The root is `file`'s directory, else the
    /// current directory.
    pub fn check_program(
        &self,
        source: &SourceFile,
        file: Option<&std::path::Path>,
    ) -> Vec<(Option<std::path::PathBuf>, SourceFile, Analysis)> {
        self.check_program_in(source, file, None)
            .files
            .into_iter()
            .map(|f| (f.key.map(std::path::PathBuf::from), f.source, f.analysis))
            .collect()
    }

    /// [`Session::check_program`] with the whole result (scopes, imports, what
    /// each file defines), and an explicit root (the language server's workspace
    /// folder) instead of `file`'s directory.
    pub fn check_program_in(
        &self,
        source: &SourceFile,
        file: Option<&std::path::Path>,
        root: Option<&std::path::Path>,
    ) -> analysis::modules::Program {
        self.check_program_open(source, file, root, &HashMap::new())
    }

    /// [`Session::check_program_in`] reading the files in `open` (by resolved
    /// path) from there rather than from disk: an editor's unsaved text. Paths
    /// still resolve on disk, beneath the root.
    pub fn check_program_open(
        &self,
        source: &SourceFile,
        file: Option<&std::path::Path>,
        root: Option<&std::path::Path>,
        open: &HashMap<std::path::PathBuf, String>,
    ) -> analysis::modules::Program {
        let (dir, key) = root_of(file);
        let root = root.map_or(dir, std::path::Path::to_path_buf);
        let mut ids = self.module_ids.clone();
        let mut loader = SessionLoader {
            root_path: root,
            root: None,
            loaded: &HashMap::new(),
            reload: &[],
            ids: &mut ids,
            budget: self.text_budget(source),
            open: Some(open),
        };
        let env = self.env();
        let scope = Some(&self.top_scope).filter(|m| !m.names.is_empty());
        analysis::modules::check_program(source.clone(), key, None, &env, scope, &mut loader)
    }

    /// How many bytes of program text may be read besides `main` under the memory
    /// limit (compiling takes [`COMPILE_BYTES_PER_BYTE`] per byte).
    fn text_budget(&self, main: &SourceFile) -> u64 {
        let limit = self.effective_limits(self.default_tier).memory;
        (limit / COMPILE_BYTES_PER_BYTE).saturating_sub(main.text().len() as u64)
    }

    /// Checks and compiles a text. With any error diagnostic nothing is compiled.
    /// Its imports are relative to the current directory, which is their root.
    pub fn prepare(&mut self, source: SourceFile) -> Result<Prepared, EvalError> {
        self.prepare_in(source, None, &[])
    }

    /// [`Session::prepare`] of the text of the program file `path`: its directory
    /// is the root its imports stay beneath (`jue run FILE`, `:load FILE`).
    pub fn prepare_file(
        &mut self,
        source: SourceFile,
        path: &std::path::Path,
    ) -> Result<Prepared, EvalError> {
        self.prepare_in(source, Some(path), &[])
    }

    fn prepare_in(
        &mut self,
        source: SourceFile,
        file: Option<&std::path::Path>,
        reload: &[std::path::PathBuf],
    ) -> Result<Prepared, EvalError> {
        let (root, key) = root_of(file);
        self.prepare_program(source, root, key, None, reload)
    }

    /// Checks and compiles a program: a main text (a file `key` with `prefix`
    /// when an imported file is checked again), and the files it imports that
    /// are not loaded or are in `reload`.
    fn prepare_program(
        &mut self,
        source: SourceFile,
        root: std::path::PathBuf,
        key: Option<String>,
        main_prefix: Option<String>,
        reload: &[std::path::PathBuf],
    ) -> Result<Prepared, EvalError> {
        self.room_to_compile(&source)?;
        // Between evaluations, before new code: prepared forms still held are pinned.
        self.maybe_collect_code();
        let module_main = main_prefix.is_some();
        let budget = self.text_budget(&source);
        let mut program = {
            let mut loader = SessionLoader {
                root_path: root.clone(),
                root: None,
                loaded: &self.loaded,
                reload,
                ids: &mut self.module_ids,
                budget,
                open: None,
            };
            let env = Env {
                registry: &self.registry,
                globals: &self.globals,
                mode: self.mode,
                default_tier: self.default_tier,
                assumed: self.vm.grants.union(self.assumed_extra),
                module: None,
            };
            let scope = Some(&self.top_scope).filter(|m| !m.names.is_empty());
            analysis::modules::check_program(source, key, main_prefix, &env, scope, &mut loader)
        };
        if !module_main {
            // The REPL's redefinition rule is about the session's own globals.
            self.check_redefinition_tiers(&mut program.files[0].analysis);
        }
        let input_needs = program.input_needs();
        let has_errors = program.has_errors();
        let mut files = program.files.iter_mut();
        let main = files.next().expect("a program has its main text");
        let imported: Vec<(SourceFile, Vec<Diagnostic>)> = files
            .filter(|f| !f.analysis.diagnostics.is_empty())
            .map(|f| {
                (
                    f.source.clone(),
                    std::mem::take(&mut f.analysis.diagnostics),
                )
            })
            .collect();
        if has_errors {
            return Err(EvalError::Compile {
                source: main.source.clone(),
                diagnostics: std::mem::take(&mut main.analysis.diagnostics),
                imported,
            });
        }
        let order = program.run_order();
        // Ids are never reused: an error kept by the host names its source by id.
        let mut source_ids = Vec::with_capacity(program.files.len());
        for f in &mut program.files {
            let source_id = self.next_source;
            self.next_source = self.next_source.wrapping_add(1) % u32::MAX;
            self.sources.insert(source_id, f.source.clone());
            source_ids.push(source_id);
            if !f.prefix.is_empty() {
                for item in &mut f.analysis.items {
                    item.expr.prefix_globals(&f.prefix);
                }
            }
        }
        let mut items = Vec::new();
        let mut loads = Vec::new();
        let mut started = vec![false; program.files.len()];
        // A main file is loaded too (`:load`, `jue run`): a later import of it runs nothing.
        if let Some(k) = &program.files[0].key {
            loads.push((
                0,
                std::path::PathBuf::from(k),
                loaded_file(&program.files[0], &root),
            ));
        }
        started[0] = true;
        let mut protos_of: Vec<Vec<u32>> = vec![Vec::new(); program.files.len()];
        for (f, i) in order {
            let file = &program.files[f];
            // A file is loaded when its first form starts; an empty one at its import.
            let mut start = |t: usize, at: usize, loads: &mut Vec<_>| {
                if !started[t] {
                    started[t] = true;
                    let pf = &program.files[t];
                    if let Some(k) = &pf.key {
                        loads.push((at, std::path::PathBuf::from(k), loaded_file(pf, &root)));
                    }
                }
            };
            start(f, items.len(), &mut loads);
            if let Some(k) = file.imports.iter().position(|imp| imp.form == i)
                && let Some(analysis::modules::Target::File(t)) = file.targets.get(k)
            {
                start(*t, items.len(), &mut loads);
            }
            let (Some(item), Some(form)) = (file.analysis.items.get(i), file.parse.forms.get(i))
            else {
                continue;
            };
            match compile::compile_item(&mut self.vm, &file.analysis, item, source_ids[f]) {
                Ok(proto) => {
                    protos_of[f].push(proto);
                    items.push(PreparedItem {
                        proto,
                        tier: item.tier,
                        is_definition: is_definition_form(&form.node),
                    })
                }
                Err(TooLarge(span)) => {
                    // Its forms compiled so far are unpinned: the collector frees them.
                    for id in &source_ids {
                        self.sources.remove(id);
                    }
                    let d = Diagnostic::new(
                        Code::E0105,
                        span,
                        "this function needs more than 65,000 registers; split it into smaller functions",
                    );
                    let file = &mut program.files[f];
                    file.analysis.diagnostics.push(d);
                    let (source, diagnostics, imported) = if f == 0 {
                        (
                            file.source.clone(),
                            std::mem::take(&mut file.analysis.diagnostics),
                            imported,
                        )
                    } else {
                        let one = (
                            file.source.clone(),
                            std::mem::take(&mut file.analysis.diagnostics),
                        );
                        (program.files[0].source.clone(), Vec::new(), vec![one])
                    };
                    return Err(EvalError::Compile {
                        source,
                        diagnostics,
                        imported,
                    });
                }
            }
        }
        let mut program_files = program.files.into_iter();
        let main = program_files.next().expect("a program has its main text");
        let source = main.source;
        let mut analysis = main.analysis;
        analysis.input_needs = input_needs;
        let source_id = source_ids[0];
        if module_main {
            // An imported file checked again: its globals are its own, not the session's.
            return Ok(self.pin_prepared(
                source,
                analysis,
                items,
                imported,
                loads,
                protos_of,
                &source_ids,
            ));
        }
        // What this text imported stays visible to the session's later texts; a
        // name it defines itself replaces an earlier import of that name.
        self.top_scope = main.scope;
        for d in &analysis.definitions {
            self.top_scope.names.remove(d.name.as_str());
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
        // `set!` of a called global is tier-checked at run time too (§7).
        for uses in analysis.global_uses.values() {
            for u in uses {
                self.guard_global(u);
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
        if !user_definitions.is_empty() {
            for d in user_definitions {
                let own = analysis.own_needs.get(&d.name).cloned().unwrap_or_default();
                // Callers that stopped calling stay listed: they are only
                // recomputed for nothing, never wrong.
                for (callee, _) in &own.calls {
                    let set = self.needs_callers.entry(callee.clone()).or_default();
                    if !set.contains(&d.name) {
                        set.insert(d.name.clone());
                    }
                }
                self.own_needs.insert(d.name.clone(), own);
            }
            self.recompute_needs(user_definitions.iter().map(|d| d.name.clone()).collect());
        }
        let _ = source_id;
        Ok(self.pin_prepared(
            source,
            analysis,
            items,
            imported,
            loads,
            protos_of,
            &source_ids,
        ))
    }

    /// `:reload` (tooling §2): the files loaded in the session whose text changed
    /// since it was read (or only `only`), checked again with the files they
    /// import, and so are the loaded files that import them, directly or not
    /// (with their text as loaded; they are not run again); then the changed
    /// files compiled, imported files before their importers (nothing: nothing
    /// changed). With any error diagnostic nothing is compiled, so nothing is
    /// reloaded. Run each program with [`Session::run`]: the new definitions
    /// replace the old ones under the same globals, so code compiled earlier calls
    /// them.
    pub fn prepare_reload(&mut self, only: Option<&std::path::Path>) -> Result<Reload, EvalError> {
        let only = match only {
            Some(p) => match std::fs::canonicalize(p) {
                Ok(c) if self.loaded.contains_key(&c) => Some(c),
                _ => {
                    return Err(EvalError::Runtime(RuntimeError {
                        kind: ErrorKind::Host,
                        message: format!(
                            "{} is not a file loaded in this session (`:load` or `import` loads one)",
                            p.display()
                        ),
                        stack: Vec::new(),
                    }));
                }
            },
            None => None,
        };
        // Read again; a file that cannot be read any more is reloaded to report why.
        let mut changed: Vec<(std::path::PathBuf, Option<String>)> = Vec::new();
        let mut paths: Vec<&std::path::PathBuf> = self.loaded.keys().collect();
        paths.sort();
        for path in paths {
            let f = &self.loaded[path];
            if only.as_ref().is_some_and(|o| o != path) {
                continue;
            }
            let limit = self.effective_limits(self.default_tier).memory / COMPILE_BYTES_PER_BYTE;
            let text = crate::host::source::ProgramRoot::open(&f.root)
                .map_err(|e| e.to_string())
                .and_then(|r| r.read(path, limit));
            match text {
                Ok(t) if only.is_none() && *t == *f.text => {}
                Ok(t) => changed.push((path.clone(), Some(t))),
                Err(_) => changed.push((path.clone(), None)),
            }
        }
        if changed.is_empty() {
            return Ok(Reload::default());
        }
        let set: Vec<std::path::PathBuf> = changed.iter().map(|(p, _)| p.clone()).collect();
        // The loaded files that import a changed one, directly or not (a fixpoint
        // over the loaded files: each round adds at least one or stops).
        let mut importers: Vec<std::path::PathBuf> = Vec::new();
        loop {
            let reaches = |q: &std::path::PathBuf| set.contains(q) || importers.contains(q);
            let mut more: Vec<std::path::PathBuf> = self
                .loaded
                .iter()
                .filter(|(p, f)| !reaches(p) && f.imports.iter().any(reaches))
                .map(|(p, _)| p.clone())
                .collect();
            if more.is_empty() {
                break;
            }
            more.sort();
            importers.extend(more);
        }
        // What a check walks again: the changed files and those importers (which
        // are read as loaded, not from disk).
        let walked: Vec<std::path::PathBuf> = set.iter().chain(&importers).cloned().collect();
        let texts: HashMap<std::path::PathBuf, String> = importers
            .iter()
            .map(|p| (p.clone(), self.loaded[p].text.to_string()))
            .collect();
        // Files another changed file imports (directly or not) run inside its program.
        let mut inner: std::collections::HashSet<std::path::PathBuf> = Default::default();
        for p in &set {
            let mut work: Vec<&std::path::PathBuf> = self.loaded[p].imports.iter().collect();
            let mut seen: std::collections::HashSet<&std::path::PathBuf> = Default::default();
            while let Some(q) = work.pop() {
                if !seen.insert(q) {
                    continue;
                }
                if set.contains(q) && q != p {
                    inner.insert(q.clone());
                }
                if let Some(l) = self.loaded.get(q) {
                    work.extend(l.imports.iter());
                }
            }
        }
        // What a check of a loaded file with `text` starts from: its source, path,
        // root and prefix.
        let start = |path: &std::path::PathBuf, text: String| {
            let f = &self.loaded[path];
            (
                SourceFile::new(f.name.as_str(), text),
                path.clone(),
                f.root.clone(),
                Some(f.prefix.clone()).filter(|p| !p.is_empty()),
            )
        };
        let mut roots = Vec::new();
        for (path, text) in changed {
            let f = &self.loaded[&path];
            let Some(text) = text else {
                let d = Diagnostic::new(
                    Code::E0107,
                    crate::ground::span::Span::new(0, 0),
                    format!("cannot read {} again", path.display()),
                );
                return Err(EvalError::Compile {
                    source: SourceFile::new(f.name.as_str(), ""),
                    diagnostics: vec![d],
                    imported: Vec::new(),
                });
            };
            if inner.contains(&path) {
                continue;
            }
            roots.push(start(&path, text));
        }
        // The importers are checked too (not run): a change may break them.
        let checked: Vec<_> = importers
            .iter()
            .map(|p| start(p, self.loaded[p].text.to_string()))
            .collect();
        // Check everything before compiling anything: with an error nothing is reloaded.
        for (source, path, root, prefix) in roots.iter().chain(&checked) {
            let mut ids = self.module_ids.clone();
            let mut loader = SessionLoader {
                root_path: root.clone(),
                root: None,
                loaded: &self.loaded,
                reload: &walked,
                ids: &mut ids,
                budget: self.text_budget(source),
                open: Some(&texts),
            };
            let env = self.env();
            let scope = Some(&self.top_scope).filter(|m| !m.names.is_empty());
            let key = path.to_str().map(str::to_string);
            let mut program = analysis::modules::check_program(
                source.clone(),
                key,
                prefix.clone(),
                &env,
                scope,
                &mut loader,
            );
            if program.has_errors() {
                let mut files = program.files.iter_mut();
                let main = files.next().expect("a program has its main text");
                let imported = files
                    .filter(|f| !f.analysis.diagnostics.is_empty())
                    .map(|f| {
                        (
                            f.source.clone(),
                            std::mem::take(&mut f.analysis.diagnostics),
                        )
                    })
                    .collect();
                return Err(EvalError::Compile {
                    source: main.source.clone(),
                    diagnostics: std::mem::take(&mut main.analysis.diagnostics),
                    imported,
                });
            }
        }
        let name = |p: &std::path::PathBuf| self.loaded.get(p).map(|f| f.name.clone());
        let mut reloaded: Vec<String> = set.iter().filter_map(name).collect();
        reloaded.sort();
        let checked: Vec<String> = importers.iter().filter_map(name).collect();
        let mut programs = Vec::new();
        for (source, path, root, prefix) in roots {
            let key = path.to_str().map(str::to_string);
            programs.push(self.prepare_program(source, root, key, prefix, &set)?);
        }
        Ok(Reload {
            reloaded,
            checked,
            programs,
        })
    }

    /// Pins a program's code (one pin per file's source, one token) and wraps it.
    #[allow(clippy::too_many_arguments)]
    fn pin_prepared(
        &mut self,
        source: SourceFile,
        analysis: Analysis,
        items: Vec<PreparedItem>,
        imported: Vec<(SourceFile, Vec<Diagnostic>)>,
        loads: Vec<(usize, std::path::PathBuf, LoadedFile)>,
        protos_of: Vec<Vec<u32>>,
        source_ids: &[u32],
    ) -> Prepared {
        let pin = std::sync::Arc::new(());
        for (f, protos) in protos_of.into_iter().enumerate() {
            self.pins.push(Pin {
                token: std::sync::Arc::downgrade(&pin),
                protos,
                source: source_ids[f],
            });
        }
        Prepared {
            source,
            analysis,
            items,
            imported,
            loads,
            pin,
        }
    }

    /// Recomputes what the (re)defined `names` and every definition that calls
    /// them, directly or not, need: from scratch, so a redefinition that no longer
    /// uses a capability drops it from its callers too. The least fixpoint,
    /// starting from each one's own direct needs; work proportional to the callers.
    fn recompute_needs(&mut self, names: Vec<String>) {
        let mut affected: std::collections::HashSet<String> = names.iter().cloned().collect();
        let mut work = names;
        while let Some(n) = work.pop() {
            for c in self.needs_callers.get(&n).into_iter().flatten() {
                if affected.insert(c.clone()) {
                    work.push(c.clone());
                }
            }
        }
        for a in &affected {
            let direct = self.own_needs.get(a).map(|o| o.direct).unwrap_or_default();
            if let Some(g) = self.globals.get_mut(a) {
                g.needs = direct;
            }
        }
        // Needs only grow from here, each by at most 14 capabilities: bounded.
        let mut work: Vec<String> = affected.iter().cloned().collect();
        while let Some(a) = work.pop() {
            let Some(own) = self.own_needs.get(&a) else {
                continue;
            };
            let mut new = own.direct;
            for (callee, mask) in &own.calls {
                if let Some(g) = self.globals.get(callee) {
                    new = new.union(CapSet(g.needs.0 & !mask.0));
                }
            }
            let Some(g) = self.globals.get_mut(&a) else {
                continue;
            };
            if new != g.needs {
                g.needs = new;
                for c in self.needs_callers.get(&a).into_iter().flatten() {
                    if affected.contains(c) {
                        work.push(c.clone());
                    }
                }
            }
        }
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

    /// Guards `set!` of global `name` by its most trusted caller (itself aside).
    fn guard_global(&mut self, name: &str) {
        let strictest = self.callers.get(name).and_then(|list| {
            list.iter()
                .filter(|(c, _)| c != name)
                .fold(None::<&(String, TrustTier)>, |best, c| match best {
                    Some(b) if !b.1.may_call(c.1) => Some(b),
                    _ => Some(c),
                })
                .map(|(c, t)| crate::vm::tiers::SetGuard {
                    caller: c.as_str().into(),
                    tier: *t,
                })
        });
        self.vm.guard_global(name, strictest);
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
        for (index, item) in prepared.items.iter().enumerate() {
            // A file counts as loaded once its forms start to run (language §13).
            for (_, path, file) in prepared.loads.iter().filter(|(at, ..)| *at == index) {
                self.loaded.insert(path.clone(), file.clone());
            }
            let mut limits = self.effective_limits(item.tier);
            let elapsed = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
            let overall = self.effective_limits(TrustTier::Empirical);
            limits.steps = limits.steps.min(overall.steps.saturating_sub(steps));
            limits.timeout_ms = match (limits.timeout_ms, overall.timeout_ms) {
                (Some(t), Some(o)) => Some(t.min(o.saturating_sub(elapsed))),
                (t, o) => t.or(o.map(|o| o.saturating_sub(elapsed))),
            };
            let whole = self.effective_limits(item.tier);
            self.vm.set_experimental_caps(self.experimental_caps());
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
        let end = prepared.items.len();
        for (_, path, file) in prepared.loads.iter().filter(|(at, ..)| *at >= end) {
            self.loaded.insert(path.clone(), file.clone());
        }
        Ok(last)
    }

    /// Runs one prepared form alone, under the limits its tier allows.
    #[doc(hidden)]
    pub fn run_item(&mut self, item: &PreparedItem) -> Result<Value, RuntimeError> {
        let limits = self.effective_limits(item.tier);
        self.vm.set_experimental_caps(self.experimental_caps());
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
        Some("define" | "def" | "import") => true,
        Some(h) if splices(h) => {
            let items = n.proper_items().unwrap_or(&[]);
            items.len() > 1 && items[1..].iter().all(is_definition_form)
        }
        _ => false,
    }
}

/// The root of a program and its main file's identity: the file's directory,
/// else the current directory (language §13).
fn root_of(file: Option<&std::path::Path>) -> (std::path::PathBuf, Option<String>) {
    match file {
        Some(f) => {
            let parent = f
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            let key = std::fs::canonicalize(f)
                .ok()
                .map(|p| p.to_string_lossy().into_owned());
            (parent.to_path_buf(), key)
        }
        None => (std::path::PathBuf::from("."), None),
    }
}

/// What the session keeps of a file once it ran.
fn loaded_file(f: &analysis::modules::ProgramFile, root: &std::path::Path) -> LoadedFile {
    LoadedFile {
        name: f.source.name().to_string(),
        text: f.source.text().into(),
        exports: f.exports.clone(),
        imports: f
            .resolved
            .iter()
            .flatten()
            .map(std::path::PathBuf::from)
            .collect(),
        root: std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf()),
        prefix: f.prefix.clone(),
    }
}

/// The session's view of the files of a program being checked.
struct SessionLoader<'s> {
    root_path: std::path::PathBuf,
    /// Opened at the first import: a text without one does no I/O.
    root: Option<Result<crate::host::source::ProgramRoot, String>>,
    loaded: &'s HashMap<std::path::PathBuf, LoadedFile>,
    /// Loaded files to check (and run) again (`:reload`).
    reload: &'s [std::path::PathBuf],
    ids: &'s mut HashMap<std::path::PathBuf, u32>,
    /// Bytes of text that may still be read.
    budget: u64,
    /// Texts to read instead of the files (an editor's open documents).
    open: Option<&'s HashMap<std::path::PathBuf, String>>,
}

impl SessionLoader<'_> {
    fn root(&mut self) -> Result<&crate::host::source::ProgramRoot, String> {
        let path = &self.root_path;
        self.root
            .get_or_insert_with(|| {
                crate::host::source::ProgramRoot::open(path).map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| format!("the program's root cannot be opened ({e})"))
    }
}

impl analysis::modules::Loader for SessionLoader<'_> {
    fn resolve(&mut self, from: Option<&str>, path: &str) -> Result<String, String> {
        let root = self.root()?;
        let p = root.resolve(from.map(std::path::Path::new), path)?;
        p.to_str()
            .map(str::to_string)
            .ok_or_else(|| "its resolved path is not UTF-8".to_string())
    }

    fn loaded(&mut self, key: &str) -> Option<Vec<analysis::modules::Export>> {
        let p = std::path::Path::new(key);
        if self.reload.iter().any(|r| r == p) {
            return None;
        }
        self.loaded.get(p).map(|f| f.exports.clone())
    }

    fn read(&mut self, key: &str) -> Result<String, String> {
        let budget = self.budget;
        let open = self.open.and_then(|o| o.get(std::path::Path::new(key)));
        let text = match open {
            Some(t) if t.len() as u64 > budget => {
                return Err(format!(
                    "it is {} bytes, more than the {budget} bytes a program's files may hold under the memory limit",
                    t.len()
                ));
            }
            Some(t) => t.clone(),
            None => self.root()?.read(std::path::Path::new(key), budget)?,
        };
        self.budget = self.budget.saturating_sub(text.len() as u64);
        Ok(text)
    }

    fn prefix(&mut self, key: &str) -> String {
        let next = self.ids.len() as u32;
        let id = *self
            .ids
            .entry(std::path::PathBuf::from(key))
            .or_insert(next);
        format!("{}{id}/", crate::ground::builtins::MODULE_PREFIX)
    }
}

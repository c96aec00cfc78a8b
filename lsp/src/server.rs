//! The LSP front: documents, scheduling of analyses, and the protocol handlers.
//!
//! Ordering: tower-lsp-server runs handlers concurrently, but polls each new one
//! first in arrival order. Every `didOpen`/`didChange` applies its edit to the
//! document's rope synchronously (under a std mutex, before any `.await`), so
//! edits are applied in wire order. Analyses run on blocking threads; an analysis
//! whose version is no longer current is dropped (a newer edit cancels it), and
//! diagnostics are only published for the current version. A request reads the
//! document's version when it arrives, in the same first poll, and is answered
//! on that version or with ContentModified.

use crate::analyze::{Analyzed, analyze};
use crate::features::{self, ClientCaps, Ctx};
use crate::format;
use crate::imports::Imports;
use crate::project::Project;
use crate::project::Projects;
use crate::protocol::Cancel;
use crate::text::{Encoding, apply_change, position_to_offset};
use crate::workspace::WorkspaceIndex;
use jue_engine::analysis::document::Document;
use ropey::Rope;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

struct Doc {
    uri: Uri,
    path: Option<PathBuf>,
    /// Its path resolved (symlinks followed), as imports name files; and which
    /// opening this is, so a document closed and opened again is new to the
    /// imports cache.
    resolved: Option<PathBuf>,
    opened: u64,
    rope: Rope,
    version: i32,
    /// The newest version, read by a running analysis to know a newer edit came.
    latest: Arc<AtomicI32>,
    /// The incremental document; edits reach it in wire order, like the rope.
    live: Arc<Mutex<Live>>,
    analyzed: Option<Arc<Analyzed>>,
}

/// The engine's incremental document and the project it was analysed in; built
/// at the first analysis and again when the project (registry, grants) changes.
#[derive(Default)]
struct Live {
    doc: Option<Document>,
    project: Option<Arc<Project>>,
    /// The last analysis made of it, for a task that waited for the lock.
    last: Option<Arc<Analyzed>>,
    /// What its imports bound when the document was built: a change starts it again.
    imports: Option<Arc<Imports>>,
}

#[derive(Default)]
struct State {
    utf8: std::sync::atomic::AtomicBool,
    docs: Mutex<HashMap<String, Doc>>,
    projects: Projects,
    index: WorkspaceIndex,
    /// Each document's imports, as last read.
    imports: crate::imports::ImportsCache,
    /// The imports whose files' diagnostics were last published, per document:
    /// the same imports are not published again at each edit.
    published: Mutex<HashMap<String, std::sync::Weak<Imports>>>,
    roots: Mutex<Vec<PathBuf>>,
    /// What the client can take, from `initialize`.
    caps: Mutex<Arc<ClientCaps>>,
    /// The last semantic tokens sent per document, for `full/delta`.
    tokens: TokenCache,
    /// The id and registry files of the file watchers registered with the client.
    watching: tokio::sync::Mutex<Option<(String, Vec<PathBuf>)>>,
    /// Serialises publishing, so an older version's diagnostics never follow a newer one's.
    publish: tokio::sync::Mutex<()>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn file_path(uri: &Uri) -> Option<PathBuf> {
    if uri.scheme().as_str() != "file" {
        return None;
    }
    uri.to_file_path().map(|p| p.into_owned())
}

impl State {
    /// The open documents' texts by resolved path, but the one at `except`:
    /// imported files and, for references and rename, other files are read from
    /// here before disk.
    fn open_texts(&self, except: Option<&std::path::Path>) -> HashMap<PathBuf, String> {
        lock(&self.docs)
            .values()
            .filter(|d| except.is_none() || d.path.as_deref() != except)
            .filter_map(|d| Some((d.resolved.clone()?, d.rope.to_string())))
            .collect()
    }

    fn caps(&self) -> Arc<ClientCaps> {
        lock(&self.caps).clone()
    }

    fn enc(&self) -> Encoding {
        if self.utf8.load(std::sync::atomic::Ordering::Relaxed) {
            Encoding::Utf8
        } else {
            Encoding::Utf16
        }
    }

    /// The analysis of a document's current version (computing it if needed), with
    /// any config problems met; `None` if the document is gone or has moved on
    /// (past `version` when given), or if `stop` says so first (a cancelled request).
    fn analysis_of(
        &self,
        key: &str,
        version: Option<i32>,
        stop: &dyn Fn() -> bool,
    ) -> Option<(Arc<Analyzed>, Vec<String>)> {
        let (rope, path, current, live, latest) = {
            let docs = lock(&self.docs);
            let d = docs.get(key)?;
            if version.is_some_and(|v| v != d.version) {
                return None;
            }
            let (live, latest) = (d.live.clone(), d.latest.clone());
            (d.rope.clone(), d.path.clone(), d.version, live, latest)
        };
        let (project, problems) = self.projects.for_file(path.as_deref());
        {
            let docs = lock(&self.docs);
            if let Some(a) = docs.get(key).and_then(|d| d.analyzed.clone()) {
                if a.version == current && Arc::ptr_eq(&a.project, &project) {
                    return Some((a, problems));
                }
            }
        }
        // The files it imports: read again only when they (or its imports) changed.
        let roots = lock(&self.roots).clone();
        let imports = {
            let text = rope.to_string();
            // Imported files that are open are read from their editors (unsaved text).
            let open: HashMap<PathBuf, (u64, i32)> = if text.contains("import") {
                lock(&self.docs)
                    .values()
                    .filter(|d| d.path.is_some() && d.path != path)
                    .filter_map(|d| Some((d.resolved.clone()?, (d.opened, d.version))))
                    .collect()
            } else {
                HashMap::new()
            };
            let texts = || self.open_texts(path.as_deref());
            self.imports.imports(
                key,
                current,
                &project,
                &text,
                path.as_deref(),
                &roots,
                &open,
                &texts,
            )
        };
        let file = path.clone().map(|p| (p, roots));
        let analyzed = {
            let mut l = lock(&live);
            // A newer edit already reached the document: this version is gone.
            if latest.load(Ordering::SeqCst) != current {
                return None;
            }
            let same_imports = Imports::same(l.imports.as_deref(), imports.as_deref());
            // Another task may have analysed this version while we waited for the lock.
            // (Read from the live document: `docs` is never locked after `live`.)
            if let Some(a) = &l.last {
                if a.version == current && Arc::ptr_eq(&a.project, &project) && same_imports {
                    return Some((a.clone(), problems));
                }
            }
            let same_project = l.project.as_ref().is_some_and(|p| Arc::ptr_eq(p, &project));
            let reuse = same_project
                && same_imports
                && l.doc
                    .as_ref()
                    .is_some_and(|d| d.text().len() == rope.len_bytes());
            if !reuse {
                // New text, project or imported names: analysed from scratch.
                let tier = project.session().env().default_tier;
                l.project = Some(project.clone());
                l.doc = Some(Document::new(rope.to_string(), tier));
            }
            l.imports = imports.clone();
            let cancelled = || latest.load(Ordering::SeqCst) != current || stop();
            let doc = l.doc.as_mut()?;
            let mut a = analyze(doc, current, rope, project, imports, file, &cancelled)?;
            // Whole-file answers reuse the pieces of the slots this edit left alone.
            if let Some(last) = &l.last {
                a.pieces = last.pieces.clone();
            }
            let a = Arc::new(a);
            l.last = Some(a.clone());
            a
        };
        let old = {
            let mut docs = lock(&self.docs);
            let d = docs.get_mut(key)?;
            if d.version != current {
                return Some((analyzed, problems));
            }
            d.analyzed.replace(analyzed.clone())
        };
        if analyzed.was_large() {
            drop(old);
            crate::memory::release_free_memory();
        }
        Some((analyzed, problems))
    }
}

/// Registers file watchers (`client/registerCapability`) where the client allows
/// it: `**/jue.toml`, `**/*.jue` and the registry files the projects met name.
/// Registered again (and the old registration dropped) when those files change.
async fn watch(state: &State, client: &Client) {
    if !state.caps().watch_registration {
        return;
    }
    let files = state.projects.watched_files();
    let registry: Vec<PathBuf> = files
        .into_iter()
        .filter(|f| f.file_name().is_none_or(|n| n != "jue.toml"))
        .collect();
    let mut watching = state.watching.lock().await;
    if watching.as_ref().is_some_and(|(_, r)| *r == registry) {
        return;
    }
    static NEXT: AtomicI32 = AtomicI32::new(0);
    let id = format!("jue-watch-{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let mut globs: Vec<String> = vec!["**/jue.toml".into(), "**/*.jue".into()];
    globs.extend(registry.iter().map(|f| f.to_string_lossy().into_owned()));
    let options = DidChangeWatchedFilesRegistrationOptions {
        watchers: globs
            .into_iter()
            .map(|g| FileSystemWatcher {
                glob_pattern: GlobPattern::String(g),
                kind: None,
            })
            .collect(),
    };
    let registration = Registration {
        id: id.clone(),
        method: "workspace/didChangeWatchedFiles".into(),
        register_options: serde_json::to_value(options).ok(),
    };
    if client
        .register_capability(vec![registration])
        .await
        .is_err()
    {
        return;
    }
    if let Some((old, _)) = watching.replace((id, registry)) {
        let _ = client
            .unregister_capability(vec![Unregistration {
                id: old,
                method: "workspace/didChangeWatchedFiles".into(),
            }])
            .await;
    }
}

/// The last semantic tokens sent for each document, under their result id.
#[derive(Default)]
struct TokenCache {
    next: AtomicI32,
    last: Mutex<HashMap<String, (String, Vec<SemanticToken>)>>,
}

impl TokenCache {
    /// Keeps `data` as the document's last tokens; returns their new result id.
    fn remember(&self, uri: &Uri, data: &[SemanticToken]) -> String {
        let id = self.next.fetch_add(1, Ordering::Relaxed).to_string();
        lock(&self.last).insert(uri.as_str().to_string(), (id.clone(), data.to_vec()));
        id
    }
    /// The tokens last sent under `id`, if they are still the document's last.
    fn get(&self, uri: &Uri, id: &str) -> Option<Vec<SemanticToken>> {
        let last = lock(&self.last);
        let (known, data) = last.get(uri.as_str())?;
        (known == id).then(|| data.clone())
    }
    fn forget(&self, uri: &Uri) {
        lock(&self.last).remove(uri.as_str());
    }
}

/// The language server.
pub struct Backend {
    client: Client,
    state: Arc<State>,
}

impl Backend {
    /// A server talking to `client`.
    pub fn new(client: Client) -> Backend {
        Backend {
            client,
            state: Arc::new(State::default()),
        }
    }

    /// Analyses a document version in the background and publishes its diagnostics.
    fn schedule(&self, key: String, version: i32) {
        let state = self.state.clone();
        let client = self.client.clone();
        tokio::spawn(async move {
            let st = state.clone();
            let k = key.clone();
            let r =
                tokio::task::spawn_blocking(move || st.analysis_of(&k, Some(version), &|| false))
                    .await;
            let Ok(Some((a, problems))) = r else { return };
            if a.project.config.is_some() {
                // Apart: diagnostics never wait for the client's answer.
                let (state, client) = (state.clone(), client.clone());
                tokio::spawn(async move { watch(&state, &client).await });
            }
            for p in problems {
                client
                    .show_message(MessageType::WARNING, format!("jue.toml: {p}"))
                    .await;
            }
            let _guard = state.publish.lock().await;
            let uri = {
                let docs = lock(&state.docs);
                match docs.get(&key) {
                    Some(d) if d.version == version => d.uri.clone(),
                    _ => return,
                }
            };
            let (caps, cancel) = (state.caps(), Cancel::default());
            let cx = Ctx {
                doc: &a,
                uri: &uri,
                enc: state.enc(),
                caps: &caps,
                cancel: &cancel,
            };
            let diags = features::diagnostics(&cx);
            client.publish_diagnostics(uri, diags, Some(version)).await;
            // Diagnostics of imported files that are not open, under their own URIs.
            let fresh = a.imports.as_ref().filter(|i| {
                let mut published = lock(&state.published);
                let old = published.insert(key.clone(), Arc::downgrade(i));
                !old.and_then(|w| w.upgrade())
                    .is_some_and(|o| Arc::ptr_eq(&o, i))
            });
            if let Some(imports) = fresh {
                for f in &imports.files {
                    let Some(furi) = Uri::from_file_path(&f.path) else {
                        continue;
                    };
                    if lock(&state.docs).contains_key(furi.as_str()) {
                        continue;
                    }
                    let d = features::file_diagnostics(
                        &f.rope,
                        f.source.text(),
                        &f.diagnostics,
                        &furi,
                        state.enc(),
                    );
                    client.publish_diagnostics(furi, d, None).await;
                }
            }
        });
    }

    /// Open documents that import files are checked again (a file they import may
    /// have changed on disk). With `changed`, only those that read that file,
    /// directly or not, or whose imports had errors (it may be what they missed).
    /// Their imports are read again only if a file they read changed.
    fn recheck_importers(&self, except: Option<&str>, changed: Option<&std::path::Path>) {
        let reads = |a: &Analyzed| {
            a.imports.as_ref().is_some_and(|i| {
                changed.is_none_or(|c| {
                    !i.diagnostics.is_empty() || i.files.iter().any(|f| f.path == c)
                })
            })
        };
        let list: Vec<(String, i32)> = {
            let mut docs = lock(&self.state.docs);
            docs.iter_mut()
                .filter(|(k, _)| except != Some(k.as_str()))
                .filter(|(_, d)| d.analyzed.as_deref().is_some_and(reads))
                .map(|(k, d)| {
                    d.analyzed = None;
                    (k.clone(), d.version)
                })
                .collect()
        };
        for (k, v) in list {
            self.schedule(k, v);
        }
    }

    /// The version a request about `uri` is answered on: the document's version
    /// when the request arrived. Called before the handler's first `.await`, which
    /// tower-lsp-server reaches in wire order, after every earlier edit was applied.
    fn version_now(&self, uri: &Uri) -> Option<(String, i32)> {
        let key = uri.as_str().to_string();
        let version = lock(&self.state.docs).get(&key)?.version;
        Some((key, version))
    }

    /// The analysis of one version of a document: ContentModified once that
    /// version is gone (a newer edit came first, or the document was closed).
    async fn snapshot(&self, key: &str, version: i32, cancel: &Cancel) -> Result<Arc<Analyzed>> {
        {
            let docs = lock(&self.state.docs);
            let d = docs.get(key).ok_or_else(Error::content_modified)?;
            if let Some(a) = d.analyzed.as_ref().filter(|a| a.version == version) {
                return Ok(a.clone());
            }
        }
        let st = self.state.clone();
        let k = key.to_string();
        let c = cancel.clone();
        match tokio::task::spawn_blocking(move || {
            st.analysis_of(&k, Some(version), &|| c.is_cancelled())
        })
        .await
        {
            Ok(Some((a, _))) => Ok(a),
            _ if cancel.is_cancelled() => Err(Error::request_cancelled()),
            _ => Err(Error::content_modified()),
        }
    }

    /// Runs a feature on a document's analysis at the version the request was
    /// sent against, on a blocking thread. `Ok(None)` for an unknown document or a
    /// panic in the feature (never a dead server); ContentModified once that
    /// version is gone. Dropping the returned future (`$/cancelRequest`) tells the
    /// feature, through `Ctx::cancelled`, to stop.
    fn with_doc<R: Send + 'static>(
        &self,
        uri: &Uri,
        f: impl FnOnce(&Ctx<'_>) -> R + Send + 'static,
    ) -> impl std::future::Future<Output = Result<Option<R>>> + Send + '_ {
        // Taken now, synchronously: the version current when the request arrived.
        let at = self.version_now(uri);
        let uri = uri.clone();
        async move {
            let Some((key, version)) = at else {
                return Ok(None);
            };
            let cancel = Cancel::default();
            let _guard = cancel.on_drop();
            let doc = self.snapshot(&key, version, &cancel).await?;
            let enc = self.state.enc();
            let caps = self.state.caps();
            let r = tokio::task::spawn_blocking(move || {
                let cx = Ctx {
                    doc: &doc,
                    uri: &uri,
                    enc,
                    caps: &caps,
                    cancel: &cancel,
                };
                f(&cx)
            })
            .await;
            Ok(r.ok())
        }
    }

    fn at<R: Send + 'static>(
        &self,
        pos: &TextDocumentPositionParams,
        f: impl FnOnce(&Ctx<'_>, usize) -> R + Send + 'static,
    ) -> impl std::future::Future<Output = Result<Option<R>>> + Send + '_ {
        let p = pos.position;
        self.with_doc(&pos.text_document.uri, move |cx| {
            let off = position_to_offset(&cx.doc.rope, p, cx.enc);
            f(cx, off)
        })
    }

    fn reanalyse_all(&self) {
        let list: Vec<(String, i32)> = {
            let mut docs = lock(&self.state.docs);
            docs.iter_mut()
                .map(|(k, d)| {
                    d.analyzed = None;
                    (k.clone(), d.version)
                })
                .collect()
        };
        for (k, v) in list {
            self.schedule(k, v);
        }
    }
}

fn semantic_legend() -> SemanticTokensLegend {
    SemanticTokensLegend {
        token_types: features::TOKEN_TYPES.to_vec(),
        token_modifiers: features::TOKEN_MODIFIERS.to_vec(),
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let utf8 = params
            .capabilities
            .general
            .as_ref()
            .and_then(|g| g.position_encodings.as_ref())
            .is_some_and(|v| v.contains(&PositionEncodingKind::UTF8));
        self.state
            .utf8
            .store(utf8, std::sync::atomic::Ordering::Relaxed);
        *lock(&self.state.caps) = Arc::new(ClientCaps::from_client(&params.capabilities));
        let mut roots: Vec<PathBuf> = params
            .workspace_folders
            .iter()
            .flatten()
            .filter_map(|f| file_path(&f.uri))
            .collect();
        #[allow(deprecated)]
        if roots.is_empty() {
            if let Some(p) = params.root_uri.as_ref().and_then(file_path) {
                roots.push(p);
            }
        }
        *lock(&self.state.roots) = roots;
        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                position_encoding: Some(if utf8 {
                    PositionEncodingKind::UTF8
                } else {
                    PositionEncodingKind::UTF16
                }),
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::INCREMENTAL),
                        save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                        ..Default::default()
                    },
                )),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                completion_provider: Some(CompletionOptions {
                    trigger_characters: Some(vec!["(".into(), "@".into()]),
                    resolve_provider: Some(true),
                    ..Default::default()
                }),
                execute_command_provider: Some(ExecuteCommandOptions {
                    commands: vec![features::APPLY_EDIT_COMMAND.into()],
                    ..Default::default()
                }),
                signature_help_provider: Some(SignatureHelpOptions {
                    trigger_characters: Some(vec!["(".into(), " ".into()]),
                    retrigger_characters: Some(vec![" ".into()]),
                    ..Default::default()
                }),
                definition_provider: Some(OneOf::Left(true)),
                references_provider: Some(OneOf::Left(true)),
                rename_provider: Some(OneOf::Right(RenameOptions {
                    prepare_provider: Some(true),
                    work_done_progress_options: Default::default(),
                })),
                document_symbol_provider: Some(OneOf::Left(true)),
                workspace_symbol_provider: Some(OneOf::Left(true)),
                semantic_tokens_provider: Some(
                    SemanticTokensServerCapabilities::SemanticTokensOptions(
                        SemanticTokensOptions {
                            legend: semantic_legend(),
                            full: Some(SemanticTokensFullOptions::Delta { delta: Some(true) }),
                            range: Some(true),
                            ..Default::default()
                        },
                    ),
                ),
                code_action_provider: Some(CodeActionProviderCapability::Options(
                    CodeActionOptions {
                        code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                        ..Default::default()
                    },
                )),
                inlay_hint_provider: Some(OneOf::Left(true)),
                folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
                selection_range_provider: Some(SelectionRangeProviderCapability::Simple(true)),
                document_formatting_provider: Some(OneOf::Left(true)),
                ..Default::default()
            },
            server_info: Some(ServerInfo {
                name: "jue".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            ..Default::default()
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        // In a task of its own: the client's answer may never come (a client that
        // stops reading), and the server must still end at `exit` or end of input.
        let (state, client) = (self.state.clone(), self.client.clone());
        tokio::spawn(async move { watch(&state, &client).await });
    }

    async fn shutdown(&self) -> Result<()> {
        crate::SHUTDOWN_REQUESTED.store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let td = params.text_document;
        let key = td.uri.as_str().to_string();
        let version = td.version;
        static OPENED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let path = file_path(&td.uri);
        let resolved = path.as_ref().and_then(|p| std::fs::canonicalize(p).ok());
        lock(&self.state.docs).insert(
            key.clone(),
            Doc {
                resolved,
                opened: OPENED.fetch_add(1, Ordering::Relaxed),
                path,
                uri: td.uri,
                rope: Rope::from_str(&td.text),
                version,
                latest: Arc::new(AtomicI32::new(version)),
                live: Arc::default(),
                analyzed: None,
            },
        );
        self.schedule(key, version);
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let key = params.text_document.uri.as_str().to_string();
        let version = params.text_document.version;
        let enc = self.state.enc();
        let resolved = {
            let mut docs = lock(&self.state.docs);
            let Some(d) = docs.get_mut(&key) else { return };
            // Announce the version first: a running analysis of an older one stops at
            // its next slot and lets go of the document.
            d.latest.store(version, Ordering::SeqCst);
            let mut live = lock(&d.live);
            for c in &params.content_changes {
                let range = apply_change(&mut d.rope, c, enc);
                if let Some(doc) = &mut live.doc {
                    if doc.edit(range, &c.text).is_err() {
                        live.doc = None; // rebuilt from the rope at the next analysis
                    }
                }
            }
            drop(live);
            d.version = version;
            d.resolved.clone()
        };
        self.schedule(key.clone(), version);
        // Open documents importing it read its text from here: check them again.
        if let Some(p) = resolved {
            self.recheck_importers(Some(&key), Some(&p));
        }
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        if let Some(p) = file_path(&params.text_document.uri) {
            self.state.index.forget(&p);
        }
        let key = params.text_document.uri.as_str().to_string();
        let version = lock(&self.state.docs).get(&key).map(|d| d.version);
        if let Some(v) = version {
            self.schedule(key, v); // re-checks jue.toml; re-analyses only if it changed
        }
        self.recheck_importers(None, None);
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let key = params.text_document.uri.as_str().to_string();
        let removed = lock(&self.state.docs).remove(&key);
        self.state.tokens.forget(&params.text_document.uri);
        self.state.imports.forget(&key);
        lock(&self.state.published).remove(&key);
        // Its importers read it from disk again (its unsaved edits are gone).
        if let Some(p) = removed.as_ref().and_then(|d| d.resolved.as_deref()) {
            self.recheck_importers(None, Some(p));
        }
        if removed.is_some() {
            let _guard = self.state.publish.lock().await;
            self.client
                .publish_diagnostics(params.text_document.uri, Vec::new(), None)
                .await;
        }
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let watched = self.state.projects.watched_files();
        let mut config_changed = false;
        for c in &params.changes {
            let Some(p) = file_path(&c.uri) else {
                config_changed = true; // not a file we can place: assume the worst
                continue;
            };
            self.state.index.forget(&p);
            let real = std::fs::canonicalize(&p).unwrap_or_else(|_| p.clone());
            config_changed |= p.file_name().is_some_and(|n| n == "jue.toml")
                || watched.iter().any(|w| *w == p || *w == real);
        }
        if config_changed {
            // Grants or registry may differ: every project read again, every open
            // document analysed again.
            self.state.projects.invalidate();
            self.reanalyse_all();
        } else {
            // A `*.jue` file: its symbols are read again; open documents are
            // re-checked (their analyses stand: nothing they read changed).
            let list: Vec<(String, i32)> = lock(&self.state.docs)
                .iter()
                .map(|(k, d)| (k.clone(), d.version))
                .collect();
            for (k, v) in list {
                self.schedule(k, v);
            }
            self.recheck_importers(None, None);
        }
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        Ok(self
            .at(&params.text_document_position_params, features::hover)
            .await?
            .flatten())
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let list = self
            .at(&params.text_document_position, features::completion)
            .await?;
        Ok(list.map(CompletionResponse::List))
    }

    async fn completion_resolve(&self, item: CompletionItem) -> Result<CompletionItem> {
        let caps = self.state.caps();
        // The item's document, as last analysed (its definitions, registry and grants).
        let doc = item
            .data
            .as_ref()
            .and_then(|d| d.get("uri"))
            .and_then(|u| u.as_str())
            .and_then(|u| {
                lock(&self.state.docs)
                    .get(u)
                    .and_then(|d| d.analyzed.clone())
            });
        Ok(features::resolve_completion(item, doc.as_deref(), &caps))
    }

    async fn signature_help(&self, params: SignatureHelpParams) -> Result<Option<SignatureHelp>> {
        Ok(self
            .at(
                &params.text_document_position_params,
                features::signature_help,
            )
            .await?
            .flatten())
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        Ok(self
            .at(&params.text_document_position_params, features::definition)
            .await?
            .flatten()
            .map(GotoDefinitionResponse::Scalar))
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let decl = params.context.include_declaration;
        let open = self.state.open_texts(None);
        self.at(&params.text_document_position, move |cx, off| {
            features::references(cx, off, decl, &open)
        })
        .await
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        Ok(self
            .at(&params, features::prepare_rename)
            .await?
            .flatten()
            .map(PrepareRenameResponse::Range))
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let name = params.new_name.clone();
        let open = self.state.open_texts(None);
        let r = self
            .at(&params.text_document_position, move |cx, off| {
                features::rename(cx, off, &name, &open)
            })
            .await?;
        match r {
            Some(Ok(edit)) => Ok(edit),
            Some(Err(msg)) => Err(Error::invalid_params(msg)),
            None => Ok(None),
        }
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        self.with_doc(&params.text_document.uri, features::document_symbols)
            .await
    }

    async fn symbol(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<WorkspaceSymbolResponse>> {
        let mut roots = lock(&self.state.roots).clone();
        if roots.is_empty() {
            // No workspace root: the directories of the open files' projects.
            let docs = lock(&self.state.docs);
            for d in docs.values() {
                if let Some(dir) = d
                    .analyzed
                    .as_ref()
                    .and_then(|a| a.project.config.as_ref())
                    .and_then(|c| c.parent())
                {
                    if !roots.iter().any(|r| r == dir) {
                        roots.push(dir.to_path_buf());
                    }
                }
            }
        }
        let st = self.state.clone();
        let query = params.query;
        let r = tokio::task::spawn_blocking(move || {
            st.index.symbols(&roots, &query, &st.projects, st.enc())
        })
        .await;
        Ok(r.ok().map(WorkspaceSymbolResponse::Flat))
    }

    async fn semantic_tokens_full(
        &self,
        params: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        let tokens = self
            .with_doc(&params.text_document.uri, features::semantic_tokens_full)
            .await?;
        Ok(tokens.map(|data| {
            let id = self.state.tokens.remember(&params.text_document.uri, &data);
            SemanticTokensResult::Tokens(SemanticTokens {
                result_id: Some(id),
                data,
            })
        }))
    }

    async fn semantic_tokens_full_delta(
        &self,
        params: SemanticTokensDeltaParams,
    ) -> Result<Option<SemanticTokensFullDeltaResult>> {
        let uri = params.text_document.uri.clone();
        let tokens = self.with_doc(&uri, features::semantic_tokens_full).await?;
        Ok(tokens.map(|data| {
            let previous = self.state.tokens.get(&uri, &params.previous_result_id);
            let id = self.state.tokens.remember(&uri, &data);
            match previous {
                Some(old) => SemanticTokensFullDeltaResult::TokensDelta(SemanticTokensDelta {
                    result_id: Some(id),
                    edits: features::tokens_delta(&old, &data),
                }),
                None => SemanticTokensFullDeltaResult::Tokens(SemanticTokens {
                    result_id: Some(id),
                    data,
                }),
            }
        }))
    }

    async fn semantic_tokens_range(
        &self,
        params: SemanticTokensRangeParams,
    ) -> Result<Option<SemanticTokensRangeResult>> {
        let range = params.range;
        Ok(self
            .with_doc(&params.text_document.uri, move |cx| {
                features::semantic_tokens(cx, Some(range))
            })
            .await?
            .map(|data| {
                SemanticTokensRangeResult::Tokens(SemanticTokens {
                    result_id: None,
                    data,
                })
            }))
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let range = params.range;
        self.with_doc(&params.text_document.uri, move |cx| {
            features::code_actions(cx, range)
        })
        .await
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        // The one command: a quick fix's edit, for clients without code-action literals.
        if params.command != features::APPLY_EDIT_COMMAND {
            return Err(Error::invalid_params(format!(
                "unknown command `{}`",
                params.command
            )));
        }
        let edit = params
            .arguments
            .into_iter()
            .next()
            .and_then(|a| serde_json::from_value::<WorkspaceEdit>(a).ok())
            .ok_or_else(|| Error::invalid_params("expected one WorkspaceEdit argument"))?;
        // The client applies it; its answer (applied or not) needs no reply here.
        let _ = self.client.apply_edit(edit).await;
        Ok(None)
    }

    async fn inlay_hint(&self, params: InlayHintParams) -> Result<Option<Vec<InlayHint>>> {
        let range = params.range;
        self.with_doc(&params.text_document.uri, move |cx| {
            features::inlay_hints(cx, Some(range))
        })
        .await
    }

    async fn folding_range(&self, params: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        self.with_doc(&params.text_document.uri, features::folding_ranges)
            .await
    }

    async fn selection_range(
        &self,
        params: SelectionRangeParams,
    ) -> Result<Option<Vec<SelectionRange>>> {
        let positions = params.positions;
        self.with_doc(&params.text_document.uri, move |cx| {
            positions
                .iter()
                .map(|p| {
                    let off = position_to_offset(&cx.doc.rope, *p, cx.enc);
                    features::selection_range(cx, off)
                })
                .collect()
        })
        .await
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        Ok(self
            .with_doc(&params.text_document.uri, format::formatting_edits)
            .await?
            .flatten())
    }
}

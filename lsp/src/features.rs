//! The features, as functions of one analysed document. Every fact comes from the
//! engine (analysis, registry, built-ins, the docs renderer); this module only maps
//! it to LSP shapes and positions.

use crate::analyze::{Analyzed, SlotView};
use crate::forms;
use crate::pieces::{Rel, SlotSymbol, SlotTokens};
use crate::protocol::Cancel;
use crate::text::{Cursor, Encoding, encoded_len, offset_to_position, positions_of, span_to_range};
use jue_engine::analysis::ir::LocalKind;
use jue_engine::analysis::{Definition, GlobalInfo, RefTarget, Reference, SPECIAL_FORMS};
use jue_engine::builtins;
use jue_engine::diagnostic::{Code, Severity};
use jue_engine::docs::{self, GrantView};
use jue_engine::syntax::lexer::{TokenKind, lex};
use jue_engine::syntax::tree::Node;
use jue_engine::{CapSet, Capability, Span, TrustTier};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use tower_lsp_server::ls_types::*;

/// What the client announced it can take (`initialize`), which shapes answers.
#[derive(Clone, Debug, Default)]
pub struct ClientCaps {
    /// Hover contents may be Markdown (else plaintext).
    pub hover_markdown: bool,
    /// Completion documentation may be Markdown.
    pub completion_markdown: bool,
    /// Signature documentation may be Markdown.
    pub signature_markdown: bool,
    /// The completion item kinds the client knows (`None`: the protocol's first
    /// set, Text to Reference, as the specification says for a missing valueSet).
    pub completion_kinds: Option<Vec<CompletionItemKind>>,
    /// `DocumentSymbol` trees (else flat `SymbolInformation`).
    pub hierarchical_symbols: bool,
    /// `CodeAction` literals (else `Command`s run through `workspace/executeCommand`).
    pub code_action_literals: bool,
    /// The server may register file watchers (`client/registerCapability`).
    pub watch_registration: bool,
    /// Most folding ranges the client wants (`foldingRange.rangeLimit`).
    pub folding_limit: Option<usize>,
    /// The client folds whole lines only (`foldingRange.lineFoldingOnly`).
    pub line_folding_only: bool,
}

fn has_markdown(formats: Option<&Vec<MarkupKind>>) -> bool {
    formats.is_some_and(|f| f.contains(&MarkupKind::Markdown))
}

impl ClientCaps {
    /// Reads the capabilities a client sent with `initialize`.
    pub fn from_client(c: &ClientCapabilities) -> ClientCaps {
        let td = c.text_document.as_ref();
        let completion = td.and_then(|t| t.completion.as_ref());
        ClientCaps {
            hover_markdown: has_markdown(
                td.and_then(|t| t.hover.as_ref())
                    .and_then(|h| h.content_format.as_ref()),
            ),
            completion_markdown: has_markdown(
                completion
                    .and_then(|c| c.completion_item.as_ref())
                    .and_then(|i| i.documentation_format.as_ref()),
            ),
            signature_markdown: has_markdown(
                td.and_then(|t| t.signature_help.as_ref())
                    .and_then(|s| s.signature_information.as_ref())
                    .and_then(|i| i.documentation_format.as_ref()),
            ),
            completion_kinds: completion
                .and_then(|c| c.completion_item_kind.as_ref())
                .and_then(|k| k.value_set.clone()),
            hierarchical_symbols: td
                .and_then(|t| t.document_symbol.as_ref())
                .and_then(|d| d.hierarchical_document_symbol_support)
                .unwrap_or(false),
            code_action_literals: td
                .and_then(|t| t.code_action.as_ref())
                .is_some_and(|a| a.code_action_literal_support.is_some()),
            folding_limit: td
                .and_then(|t| t.folding_range.as_ref())
                .and_then(|f| f.range_limit)
                .map(|n| n as usize),
            line_folding_only: td
                .and_then(|t| t.folding_range.as_ref())
                .and_then(|f| f.line_folding_only)
                .unwrap_or(false),
            watch_registration: c
                .workspace
                .as_ref()
                .and_then(|w| w.did_change_watched_files.as_ref())
                .and_then(|d| d.dynamic_registration)
                .unwrap_or(false),
        }
    }

    /// A kind the client knows: `kind` itself, else the nearest fallback it lists,
    /// else none (a missing kind is always allowed).
    pub fn completion_kind(&self, kind: CompletionItemKind) -> Option<CompletionItemKind> {
        use CompletionItemKind as K;
        let fallbacks: &[CompletionItemKind] = match kind {
            K::ENUM_MEMBER => &[K::ENUM_MEMBER, K::CONSTANT, K::ENUM, K::VALUE, K::TEXT],
            K::FUNCTION => &[K::FUNCTION, K::METHOD, K::TEXT],
            K::VARIABLE => &[K::VARIABLE, K::FIELD, K::TEXT],
            K::KEYWORD => &[K::KEYWORD, K::TEXT],
            _ => &[K::TEXT],
        };
        let known = |k: &CompletionItemKind| match &self.completion_kinds {
            Some(set) => set.contains(k),
            // Text (1) to Reference (18): the kinds of the protocol's first version.
            None => serde_json::to_value(k)
                .ok()
                .and_then(|v| v.as_i64())
                .is_some_and(|n| (1..=18).contains(&n)),
        };
        fallbacks.iter().copied().find(|k| known(k))
    }

    /// The renderer's text as the client's documentation: Markdown or plaintext.
    pub fn markup(&self, markdown_ok: bool, rendered: &str) -> MarkupContent {
        if markdown_ok {
            MarkupContent {
                kind: MarkupKind::Markdown,
                value: markdown(rendered),
            }
        } else {
            MarkupContent {
                kind: MarkupKind::PlainText,
                value: rendered.to_string(),
            }
        }
    }
}

/// Everything a feature needs besides the document: its URI and the encoding.
pub struct Ctx<'a> {
    /// The document.
    pub doc: &'a Analyzed,
    /// Its URI.
    pub uri: &'a Uri,
    /// Negotiated position encoding.
    pub enc: Encoding,
    /// What the client can take.
    pub caps: &'a ClientCaps,
    /// Set when the request was cancelled: long features stop early.
    pub cancel: &'a Cancel,
}

impl Ctx<'_> {
    /// Whether the request asking for this was cancelled.
    pub fn cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }
    fn range(&self, span: Span) -> Range {
        span_to_range(
            &self.doc.rope,
            span.start as usize,
            span.end as usize,
            self.enc,
        )
    }
    fn pos(&self, off: usize) -> Position {
        offset_to_position(&self.doc.rope, off, self.enc)
    }
    fn text(&self) -> &str {
        self.doc.text()
    }
    fn view(&self) -> GrantView {
        GrantView::Against(self.doc.granted())
    }
    fn slice(&self, span: Span) -> &str {
        self.text()
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }
}

// ----- diagnostics -----

/// The document's diagnostics in LSP form.
pub fn diagnostics(cx: &Ctx<'_>) -> Vec<Diagnostic> {
    file_diagnostics(&cx.doc.rope, cx.text(), &cx.doc.diagnostics, cx.uri, cx.enc)
}

/// The diagnostics of a text as LSP diagnostics (an open document's, or an
/// imported file's published under its own URI).
pub fn file_diagnostics(
    rope: &ropey::Rope,
    text: &str,
    diags: &[jue_engine::diagnostic::Diagnostic],
    uri: &Uri,
    enc: Encoding,
) -> Vec<Diagnostic> {
    // Every position in one forward scan (a broken file can have many).
    let mut offsets: Vec<u32> = Vec::new();
    for d in diags {
        offsets.extend([d.span.start, d.span.end.max(d.span.start)]);
        for r in &d.related {
            offsets.extend([r.span.start, r.span.end.max(r.span.start)]);
        }
    }
    let positions = positions_of(rope, text, &offsets, enc);
    let mut ranges = positions.chunks(2).map(|p| Range::new(p[0], p[1]));
    diags
        .iter()
        .map(|d| {
            let range = ranges.next().unwrap_or_default();
            let mut message = d.message.clone();
            if let Some(h) = &d.help {
                message.push_str("\nhelp: ");
                message.push_str(h);
            }
            let related: Vec<DiagnosticRelatedInformation> = d
                .related
                .iter()
                .map(|r| DiagnosticRelatedInformation {
                    location: Location::new(uri.clone(), ranges.next().unwrap_or_default()),
                    message: r.message.clone(),
                })
                .collect();
            Diagnostic {
                range,
                severity: Some(match d.severity() {
                    Severity::Error => DiagnosticSeverity::ERROR,
                    Severity::Warning => DiagnosticSeverity::WARNING,
                }),
                code: Some(NumberOrString::String(d.code.as_str().to_string())),
                source: Some("jue".into()),
                message,
                related_information: (!related.is_empty()).then_some(related),
                tags: (d.code == Code::W0303 || d.code == Code::W0302)
                    .then(|| vec![DiagnosticTag::UNNECESSARY]),
                ..Default::default()
            }
        })
        .collect()
}

// ----- names -----

/// The reference at an offset (the smallest one touching it).
pub fn reference_at(doc: &Analyzed, off: u32) -> Option<Reference> {
    doc.references_at(off)
        .into_iter()
        .filter(|r| r.span.touches(off))
        .min_by_key(|r| (r.span.len(), u32::MAX - r.span.start))
}

fn definition_named(doc: &Analyzed, name: &str) -> Option<Definition> {
    doc.definition_named(name)
}

fn global_info(d: &Definition) -> GlobalInfo {
    GlobalInfo {
        arity: d.arity,
        params: d.params.clone(),
        tier: d.tier,
        needs: d.needs,
        doc: d.doc.clone(),
        span: Some(d.name_span),
    }
}

/// The symbol token at an offset and its text.
fn symbol_at(doc: &Analyzed, off: u32) -> Option<(Span, &str, TokenKind)> {
    let t = doc
        .tokens_at(off)
        .into_iter()
        .filter(|t| t.span.touches(off))
        .find(|t| matches!(t.kind, TokenKind::Symbol | TokenKind::Annotation))?;
    let s = doc.text().get(t.span.start as usize..t.span.end as usize)?;
    Some((t.span, s, t.kind.clone()))
}

fn tier_text(t: TrustTier) -> String {
    format!(
        "(:{t} expr ...) or @{t} before a top-level form\ntrust tier\nCode of tier {t} may use only functions of tier {t} or higher \
         (formal > verified > empirical > experimental)."
    )
}

/// What the docs renderer says about the name at an offset, and its span.
pub fn doc_at(doc: &Analyzed, off: u32) -> Option<(String, Span)> {
    let view = GrantView::Against(doc.granted());
    if let Some(r) = reference_at(doc, off) {
        let text = match &r.target {
            RefTarget::Ffi(i) => {
                let s = doc.project.session();
                let reg = s.registry();
                if (*i as usize) < reg.len() {
                    docs::ffi_function(reg.function(*i), reg.signature(*i), view)
                } else {
                    return None;
                }
            }
            RefTarget::Builtin(id) => docs::builtin(builtins::get(*id)),
            RefTarget::Global(name) if name.starts_with(builtins::MODULE_PREFIX) => {
                // An imported name: its definition in the other file, which it names.
                let (file, d) = doc.imports.as_ref()?.definition(name)?;
                let written = doc.text().get(r.span.start as usize..r.span.end as usize)?;
                format!(
                    "{}\nimported from {}",
                    docs::user_definition(written, &global_info(d), view),
                    file.source.name()
                )
            }
            RefTarget::Global(name) => {
                let d = definition_named(doc, name)?;
                docs::user_definition(name, &global_info(&d), view)
            }
            RefTarget::Local(id) => {
                let l = doc.local(*id)?;
                let kind = match l.kind {
                    LocalKind::Param => "parameter",
                    LocalKind::Let => "let binding",
                    LocalKind::Rec => "local definition",
                    LocalKind::Catch => "caught error",
                };
                format!("{}\nlocal variable ({kind})", l.name)
            }
            RefTarget::Capability(c) => docs::capability(*c, view),
        };
        return Some((text, r.span));
    }
    let (span, word, kind) = symbol_at(doc, off)?;
    if kind == TokenKind::Annotation {
        let t = TrustTier::from_name(word.trim_start_matches('@'))?;
        return Some((tier_text(t), span));
    }
    if let Some(t) = word.strip_prefix(':').and_then(TrustTier::from_name) {
        return Some((tier_text(t), span));
    }
    if word == "catch" {
        return Some((
            "(catch err handler ...)\nthe handler clause of `try`\nBinds the run-time error to err and runs the handler.".into(),
            span,
        ));
    }
    if SPECIAL_FORMS.contains(&word) {
        return Some((docs::special_form(word)?, span));
    }
    if let Some(c) = Capability::from_name(word) {
        return Some((docs::capability(c, view), span));
    }
    // Names in forms that were not analysed (a syntax error inside): by name.
    if let Some(id) = builtins::find(word, false) {
        return Some((docs::builtin(builtins::get(id)), span));
    }
    let s = doc.project.session();
    let reg = s.registry();
    if let Some(i) = reg.index_of(word) {
        return Some((
            docs::ffi_function(reg.function(i), reg.signature(i), view),
            span,
        ));
    }
    drop(s);
    let d = definition_named(doc, word)?;
    Some((docs::user_definition(word, &global_info(&d), view), span))
}

/// The renderer's text as Markdown: the first line (signature) in a `jue` block.
pub fn markdown(rendered: &str) -> String {
    let mut lines = rendered.lines();
    let first = lines.next().unwrap_or("");
    let mut md = format!("```jue\n{first}\n```");
    if let Some(second) = lines.next() {
        md.push('\n');
        md.push_str(second);
    }
    let rest: Vec<&str> = lines.collect();
    if !rest.is_empty() {
        md.push_str("\n\n");
        md.push_str(&rest.join("  \n"));
    }
    md
}

/// Hover.
pub fn hover(cx: &Ctx<'_>, off: usize) -> Option<Hover> {
    let (text, span) = doc_at(cx.doc, off as u32)?;
    Some(Hover {
        contents: HoverContents::Markup(cx.caps.markup(cx.caps.hover_markdown, &text)),
        range: Some(cx.range(span)),
    })
}

// ----- completion -----

fn is_capability_form(head: &str) -> bool {
    head == "require-capability" || head == "has-capability?"
}

/// Most completion items sent at once; a longer list is cut and marked incomplete.
pub const MAX_COMPLETIONS: usize = 200;

/// What a completion item names, kept in its `data` so that
/// `completionItem/resolve` can render its documentation again, statelessly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Local,
    Definition,
    Special,
    Builtin,
    Ffi,
    Capability,
    Tier,
}

impl Source {
    const ALL: [Source; 7] = [
        Source::Local,
        Source::Definition,
        Source::Special,
        Source::Builtin,
        Source::Ffi,
        Source::Capability,
        Source::Tier,
    ];
    fn tag(self) -> &'static str {
        match self {
            Source::Local => "local",
            Source::Definition => "def",
            Source::Special => "special",
            Source::Builtin => "builtin",
            Source::Ffi => "ffi",
            Source::Capability => "cap",
            Source::Tier => "tier",
        }
    }
    fn from_tag(t: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.tag() == t)
    }
}

/// Whether a label is offered for a typed prefix (case-insensitive prefix match).
fn matches_prefix(label: &str, prefix: &str) -> bool {
    label.len() >= prefix.len()
        && label
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// Completion at an offset: the candidates starting with the typed prefix, at most
/// [`MAX_COMPLETIONS`] (`isIncomplete` when cut, so the client asks again as the
/// user types), without documentation (sent by `completionItem/resolve`).
pub fn completion(cx: &Ctx<'_>, off: usize) -> CompletionList {
    let text = cx.text();
    let off = off.min(text.len());
    let ws = forms::word_start(text, off);
    let prefix = &text[ws..off];
    let edit_range = Range::new(cx.pos(ws), cx.pos(off));
    let mut items: Vec<CompletionItem> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut cut = false;
    // Adds an item if it matches and is new; false once the list is full.
    let mut push = |label: &str, kind, detail: Option<String>, source: Source, sort: &str| {
        if !matches_prefix(label, prefix) || seen.contains(label) {
            return true;
        }
        if items.len() == MAX_COMPLETIONS {
            cut = true;
            return false;
        }
        seen.insert(label.to_string());
        items.push(CompletionItem {
            label: label.to_string(),
            kind: cx.caps.completion_kind(kind),
            detail,
            sort_text: Some(format!("{sort}{label}")),
            filter_text: Some(label.to_string()),
            text_edit: Some(CompletionTextEdit::Edit(TextEdit::new(
                edit_range,
                label.to_string(),
            ))),
            data: Some(serde_json::json!({"uri": cx.uri.as_str(), "source": source.tag()})),
            ..Default::default()
        });
        true
    };
    let call = forms::call_context(text, &cx.doc.tokens_at(off as u32), off);
    let in_cap_form = call.as_ref().is_some_and(|c| {
        c.items_before == 1
            && c.head
                .as_ref()
                .is_some_and(|(h, _, _)| is_capability_form(h))
    });
    let list = |items, cut| CompletionList {
        is_incomplete: cut,
        items,
    };
    if in_cap_form {
        for c in Capability::ALL {
            push(
                c.name(),
                CompletionItemKind::ENUM_MEMBER,
                Some(c.description().to_string()),
                Source::Capability,
                "0",
            );
        }
        return list(items, cut);
    }
    if prefix.starts_with('@') || prefix.starts_with(':') {
        let sigil = &prefix[..1];
        for t in TrustTier::ALL {
            let label = format!("{sigil}{t}");
            push(
                &label,
                CompletionItemKind::KEYWORD,
                Some("trust tier".into()),
                Source::Tier,
                "0",
            );
        }
        if sigil == "@" {
            return list(items, cut);
        }
    }
    'fill: {
        // Locals in scope, innermost first.
        let mut locals = forms::locals_in_scope(text, &cx.doc.forms_at(off as u32), off as u32);
        locals.reverse();
        for name in locals {
            if !push(
                &name,
                CompletionItemKind::VARIABLE,
                Some("local".into()),
                Source::Local,
                "0",
            ) {
                break 'fill;
            }
        }
        for d in cx
            .doc
            .definitions_where(|name| matches_prefix(name, prefix))
        {
            if cx.cancelled() {
                break 'fill;
            }
            let kind = if d.arity.is_some() {
                CompletionItemKind::FUNCTION
            } else {
                CompletionItemKind::VARIABLE
            };
            let detail = docs::user_definition(&d.name, &global_info(&d), GrantView::Unknown)
                .lines()
                .next()
                .map(str::to_string);
            if !push(&d.name, kind, detail, Source::Definition, "1") {
                break 'fill;
            }
        }
        // Imported names, `A/N` included (language §13).
        if let Some(imports) = &cx.doc.imports {
            let mut names: Vec<(&str, &str)> = imports
                .scope
                .names
                .iter()
                .filter(|(n, _)| matches_prefix(n, prefix))
                .map(|(n, i)| (&**n, &**i))
                .collect();
            names.sort_unstable();
            for (name, internal) in names {
                let Some(info) = imports.scope.globals.get(internal) else {
                    continue;
                };
                let kind = if info.arity.is_some() {
                    CompletionItemKind::FUNCTION
                } else {
                    CompletionItemKind::VARIABLE
                };
                let detail = docs::user_definition(name, info, GrantView::Unknown)
                    .lines()
                    .next()
                    .map(str::to_string);
                if !push(name, kind, detail, Source::Definition, "1") {
                    break 'fill;
                }
            }
        }
        for name in SPECIAL_FORMS {
            if !matches_prefix(name, prefix) {
                continue;
            }
            let detail =
                docs::special_form(name).and_then(|d| d.lines().next().map(str::to_string));
            if !push(
                name,
                CompletionItemKind::KEYWORD,
                detail,
                Source::Special,
                "2",
            ) {
                break 'fill;
            }
        }
        for b in builtins::all().iter().filter(|b| !b.hidden) {
            if !push(
                b.name,
                CompletionItemKind::FUNCTION,
                Some(b.sig.to_string()),
                Source::Builtin,
                "3",
            ) {
                break 'fill;
            }
        }
        let s = cx.doc.project.session();
        let reg = s.registry();
        for i in 0..reg.len() as u32 {
            let f = reg.function(i);
            if !matches_prefix(&f.name, prefix) {
                continue;
            }
            if !push(
                &f.name,
                CompletionItemKind::FUNCTION,
                Some(reg.signature(i).to_string()),
                Source::Ffi,
                "4",
            ) {
                break 'fill;
            }
        }
    }
    list(items, cut)
}

/// The documentation of a completion item, rendered again from what its `data`
/// names: `doc` is the item's document when it is open (user definitions, the
/// project's registry and grants come from it).
pub fn completion_documentation(
    label: &str,
    data: &serde_json::Value,
    doc: Option<&Analyzed>,
) -> Option<String> {
    let source = Source::from_tag(data.get("source")?.as_str()?)?;
    let view = doc.map_or(GrantView::Unknown, |d| GrantView::Against(d.granted()));
    match source {
        Source::Local => None,
        Source::Definition => {
            let d = definition_named(doc?, label)?;
            Some(docs::user_definition(label, &global_info(&d), view))
        }
        Source::Special => docs::special_form(label),
        Source::Builtin => builtins::find(label, false).map(|id| docs::builtin(builtins::get(id))),
        Source::Ffi => {
            let s = doc?.project.session();
            let reg = s.registry();
            let i = reg.index_of(label)?;
            Some(docs::ffi_function(reg.function(i), reg.signature(i), view))
        }
        Source::Capability => Capability::from_name(label).map(|c| docs::capability(c, view)),
        Source::Tier => TrustTier::from_name(label.trim_start_matches(['@', ':'])).map(tier_text),
    }
}

/// `completionItem/resolve`: the item with its documentation in the client's format.
pub fn resolve_completion(
    mut item: CompletionItem,
    doc: Option<&Analyzed>,
    caps: &ClientCaps,
) -> CompletionItem {
    if item.documentation.is_none() {
        if let Some(data) = &item.data {
            if let Some(text) = completion_documentation(&item.label, data, doc) {
                item.documentation = Some(Documentation::MarkupContent(
                    caps.markup(caps.completion_markdown, &text),
                ));
            }
        }
    }
    item
}

// ----- signature help -----

/// Signature help for the call open at an offset.
pub fn signature_help(cx: &Ctx<'_>, off: usize) -> Option<SignatureHelp> {
    let text = cx.text();
    let call = forms::call_context(text, &cx.doc.tokens_at(off as u32), off)?;
    let (name, hs, _) = call.head.clone()?;
    let arg = call.items_before.saturating_sub(1);
    // What the head names: the analysis's reference when the form was analysed, else by name.
    let target = cx
        .doc
        .references_at(hs as u32)
        .into_iter()
        .find(|r| r.span.start as usize == hs)
        .map(|r| r.target.clone());
    let s = cx.doc.project.session();
    let reg = s.registry();
    let target = target.or_else(|| {
        if definition_named(cx.doc, &name).is_some() {
            Some(RefTarget::Global(name.clone().into()))
        } else if let Some(internal) = cx
            .doc
            .imports
            .as_ref()
            .and_then(|i| i.scope.names.get(name.as_str()))
        {
            // An imported name (or `A/N`) in a form that was not analysed.
            Some(RefTarget::Global(internal.clone()))
        } else if let Some(id) = builtins::find(&name, false) {
            Some(RefTarget::Builtin(id))
        } else {
            reg.index_of(&name).map(RefTarget::Ffi)
        }
    })?;
    // (label pieces, variadic, doc)
    let (params, variadic, ret, doc): (Vec<String>, bool, Option<String>, String) = match &target {
        RefTarget::Ffi(i) => {
            let f = reg.function(*i);
            let sig = reg.signature(*i);
            (
                sig.param_strings(),
                sig.rest.is_some(),
                Some(sig.return_string()),
                docs::ffi_function(f, sig, cx.view()),
            )
        }
        RefTarget::Builtin(id) => {
            let b = builtins::get(*id);
            (
                b.sig.param_strings(),
                b.sig.rest.is_some(),
                Some(b.sig.return_string()),
                docs::builtin(b),
            )
        }
        RefTarget::Global(g) if g.starts_with(builtins::MODULE_PREFIX) => {
            // An imported function: its definition in the other file, which it names.
            let (file, d) = cx.doc.imports.as_ref()?.definition(g)?;
            let a = d.arity?;
            let mut p = d.params.clone();
            if a.variadic {
                if let Some(last) = p.last_mut() {
                    *last = format!(". {last}");
                }
            }
            let doc = format!(
                "{}\nimported from {}",
                docs::user_definition(&name, &global_info(d), cx.view()),
                file.source.name()
            );
            (p, a.variadic, None, doc)
        }
        RefTarget::Global(g) => {
            let d = definition_named(cx.doc, g)?;
            let a = d.arity?;
            let mut p = d.params.clone();
            if a.variadic {
                if let Some(last) = p.last_mut() {
                    *last = format!(". {last}");
                }
            }
            (
                p,
                a.variadic,
                None,
                docs::user_definition(g, &global_info(&d), cx.view()),
            )
        }
        _ => return None,
    };
    let mut label = format!("({name}");
    let mut offsets = Vec::new();
    for p in &params {
        label.push(' ');
        let start = encoded_len(&label, cx.enc);
        label.push_str(p);
        offsets.push([start, encoded_len(&label, cx.enc)]);
    }
    label.push(')');
    if let Some(r) = ret {
        label.push_str(" → ");
        label.push_str(&r);
    }
    let active = if params.is_empty() {
        0
    } else if variadic {
        arg.min(params.len() - 1)
    } else {
        arg
    } as u32;
    let info = SignatureInformation {
        label,
        documentation: Some(Documentation::MarkupContent(
            cx.caps.markup(cx.caps.signature_markdown, &doc),
        )),
        parameters: Some(
            offsets
                .into_iter()
                .map(|o| ParameterInformation {
                    label: ParameterLabel::LabelOffsets(o),
                    documentation: None,
                })
                .collect(),
        ),
        active_parameter: Some(active),
    };
    Some(SignatureHelp {
        signatures: vec![info],
        active_signature: Some(0),
        active_parameter: Some(active),
    })
}

// ----- navigation -----

/// The spans of every occurrence of the local or user global at an offset
/// (definition first), or `None` when the name is neither.
pub fn occurrences(doc: &Analyzed, off: u32) -> Option<(RefTarget, Vec<Span>, Option<Span>)> {
    let r = reference_at(doc, off)?;
    let target = r.target.clone();
    let def_span = match &target {
        RefTarget::Local(id) => doc.local(*id).map(|l| l.span),
        RefTarget::Global(name) => definition_named(doc, name).map(|d| d.name_span),
        _ => return None,
    };
    let mut spans: Vec<Span> = doc.occurrences_of(&target);
    if let Some(d) = def_span {
        spans.push(d);
    }
    spans.sort();
    spans.dedup();
    Some((target, spans, def_span))
}

/// Go to definition.
pub fn definition(cx: &Ctx<'_>, off: usize) -> Option<Location> {
    if let Some(imports) = &cx.doc.imports {
        // An import's path string goes to the file.
        if let Some((_, path)) = imports.paths.iter().find(|(s, _)| s.touches(off as u32)) {
            let uri = Uri::from_file_path(path)?;
            return Some(Location::new(uri, Range::default()));
        }
        // An imported name, or `A/N`, goes to its definition in the other file.
        if let Some(r) = reference_at(cx.doc, off as u32)
            && let RefTarget::Global(name) = &r.target
            && name.starts_with(builtins::MODULE_PREFIX)
        {
            let (file, d) = imports.definition(name)?;
            let uri = Uri::from_file_path(&file.path)?;
            let range = span_to_range(
                &file.rope,
                d.name_span.start as usize,
                d.name_span.end as usize,
                cx.enc,
            );
            return Some(Location::new(uri, range));
        }
    }
    let (_, _, def) = occurrences(cx.doc, off as u32)?;
    Some(Location::new(cx.uri.clone(), cx.range(def?)))
}

/// One file's occurrences of a name: its URI, text, spans and the definition's span.
type FileUses = (Uri, ropey::Rope, Vec<Span>, Option<Span>);

/// Where the imported name at an offset occurs across the workspace (language
/// §13, tooling §3): in its defining file (the text read with this document),
/// in this document, and in every other file under the root that imports the
/// defining file directly. With the name as its file defines it; `None` when the
/// name at the offset is not imported.
fn imported_occurrences(
    cx: &Ctx<'_>,
    off: u32,
    open: &HashMap<PathBuf, String>,
) -> Option<(String, Vec<FileUses>)> {
    let imports = cx.doc.imports.as_ref()?;
    let r = reference_at(cx.doc, off)?;
    let RefTarget::Global(g) = &r.target else {
        return None;
    };
    if !g.starts_with(builtins::MODULE_PREFIX) {
        return None;
    }
    let (file, d) = imports.definition(g)?;
    let roots = cx
        .doc
        .file
        .as_ref()
        .map(|(_, r)| r.clone())
        .unwrap_or_default();
    let session = cx.doc.project.session();
    let mut own = crate::imports::own_occurrences(
        &session,
        &file.path,
        file.source.text(),
        &roots,
        &d.name,
        open,
    );
    own.push(d.name_span);
    own.sort();
    own.dedup();
    let mut out = vec![
        (
            Uri::from_file_path(&file.path)?,
            file.rope.clone(),
            own,
            Some(d.name_span),
        ),
        (
            cx.uri.clone(),
            cx.doc.rope.clone(),
            cx.doc.occurrences_of(&r.target),
            None,
        ),
    ];
    if cx.cancelled() {
        return None;
    }
    let this = cx
        .doc
        .file
        .as_ref()
        .and_then(|(p, _)| std::fs::canonicalize(p).ok());
    for (p, rope, spans) in
        crate::imports::importer_occurrences(&session, &file.path, &roots, &d.name, open)
    {
        if this.is_some() && std::fs::canonicalize(&p).ok() == this {
            continue; // this document: its open text was read above
        }
        if let Some(uri) = Uri::from_file_path(&p) {
            out.push((uri, rope, spans, None));
        }
    }
    Some((d.name.clone(), out))
}

/// The part of an occurrence that is the name itself: `twice` of `u/twice`.
fn name_part(rope: &ropey::Rope, s: Span, name: &str) -> (usize, usize) {
    let (a, b) = (s.start as usize, s.end as usize);
    let text = rope.get_byte_slice(a..b).map(|t| t.to_string());
    match text {
        Some(t)
            if t.len() > name.len()
                && t.ends_with(name)
                && t[..t.len() - name.len()].ends_with('/') =>
        {
            (b - name.len(), b)
        }
        _ => (a, b),
    }
}

/// Find references. `open`: the open documents' texts by resolved path (other
/// files are read from disk).
pub fn references(
    cx: &Ctx<'_>,
    off: usize,
    include_declaration: bool,
    open: &HashMap<PathBuf, String>,
) -> Vec<Location> {
    if let Some((_, files)) = imported_occurrences(cx, off as u32, open) {
        let mut out = Vec::new();
        for (uri, rope, spans, def) in files {
            out.extend(
                spans
                    .into_iter()
                    .filter(|s| include_declaration || Some(*s) != def)
                    .map(|s| {
                        Location::new(
                            uri.clone(),
                            span_to_range(&rope, s.start as usize, s.end as usize, cx.enc),
                        )
                    }),
            );
        }
        return out;
    }
    let Some((target, spans, def)) = occurrences(cx.doc, off as u32) else {
        return Vec::new();
    };
    let mut out: Vec<Location> = spans
        .into_iter()
        .filter(|s| include_declaration || Some(*s) != def)
        .map(|s| Location::new(cx.uri.clone(), cx.range(s)))
        .collect();
    for (uri, rope, spans) in importer_uses(cx, &target, open) {
        out.extend(spans.into_iter().map(|s| {
            Location::new(
                uri.clone(),
                span_to_range(&rope, s.start as usize, s.end as usize, cx.enc),
            )
        }));
    }
    out
}

/// A top-level definition's uses in the files under the root that import this
/// document directly (language §13; tooling §3 references and rename).
fn importer_uses(
    cx: &Ctx<'_>,
    target: &RefTarget,
    open: &HashMap<PathBuf, String>,
) -> Vec<(Uri, ropey::Rope, Vec<Span>)> {
    let (RefTarget::Global(name), Some((path, roots))) = (target, &cx.doc.file) else {
        return Vec::new();
    };
    if name.starts_with('%') {
        return Vec::new();
    }
    let session = cx.doc.project.session();
    crate::imports::importer_occurrences(&session, path, roots, name, open)
        .into_iter()
        .filter_map(|(p, rope, spans)| Some((Uri::from_file_path(&p)?, rope, spans)))
        .collect()
}

/// The name a global target is written by in its own file.
fn name_of(target: &RefTarget) -> &str {
    match target {
        RefTarget::Global(g) => builtins::visible_global(g),
        _ => "",
    }
}

/// Whether a text is one plain symbol that may name a variable.
pub fn valid_name(name: &str) -> bool {
    let lexed = jue_engine::syntax::lexer::lex(name);
    lexed.diagnostics.is_empty()
        && lexed.tokens.len() == 1
        && lexed.tokens[0].kind == TokenKind::Symbol
        && lexed.tokens[0].span.len() == name.len()
        && !name.starts_with(':')
        && !SPECIAL_FORMS.contains(&name)
}

/// The range that rename would change at an offset.
pub fn prepare_rename(cx: &Ctx<'_>, off: usize) -> Option<Range> {
    let r = reference_at(cx.doc, off as u32)?;
    if let RefTarget::Global(g) = &r.target {
        if g.starts_with(builtins::MODULE_PREFIX) {
            // An imported name: renamed in its file; of `A/N`, only `N`.
            let name = builtins::visible_global(g);
            let (a, b) = name_part(&cx.doc.rope, r.span, name);
            return Some(span_to_range(&cx.doc.rope, a, b, cx.enc));
        }
    }
    matches!(r.target, RefTarget::Local(_) | RefTarget::Global(_)).then(|| cx.range(r.span))
}

/// Rename: edits for every occurrence; `Err` with a message for an invalid name.
/// `open` as for [`references`].
pub fn rename(
    cx: &Ctx<'_>,
    off: usize,
    new_name: &str,
    open: &HashMap<PathBuf, String>,
) -> Result<Option<WorkspaceEdit>, String> {
    if !valid_name(new_name) {
        return Err(format!("`{new_name}` is not a valid Jue name"));
    }
    if let Some((name, files)) = imported_occurrences(cx, off as u32, open) {
        // An imported name: its definition and every use, in every file.
        let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
        for (uri, rope, spans, _) in files {
            let edits = changes.entry(uri).or_default();
            for s in spans {
                let (a, b) = name_part(&rope, s, &name);
                let range = span_to_range(&rope, a, b, cx.enc);
                edits.push(TextEdit::new(range, new_name.to_string()));
            }
        }
        changes.retain(|_, e| !e.is_empty());
        return Ok(Some(WorkspaceEdit {
            changes: Some(changes),
            ..Default::default()
        }));
    }
    let Some((target, spans, _)) = occurrences(cx.doc, off as u32) else {
        return Ok(None);
    };
    let edits = spans
        .into_iter()
        .map(|s| TextEdit::new(cx.range(s), new_name.to_string()))
        .collect();
    let mut changes = HashMap::new();
    changes.insert(cx.uri.clone(), edits);
    // Importers' uses: `name` or `A/name`, whose alias stays.
    for (uri, rope, spans) in importer_uses(cx, &target, open) {
        let edits = spans
            .into_iter()
            .map(|s| {
                let (a, b) = name_part(&rope, s, name_of(&target));
                TextEdit::new(span_to_range(&rope, a, b, cx.enc), new_name.to_string())
            })
            .collect();
        changes.insert(uri, edits);
    }
    Ok(Some(WorkspaceEdit {
        changes: Some(changes),
        ..Default::default()
    }))
}

// ----- symbols -----

fn needs_detail(tier: TrustTier, needs: CapSet) -> String {
    let caps: Vec<String> = needs.iter().map(|c| c.to_string()).collect();
    if caps.is_empty() {
        format!("@{tier}")
    } else {
        format!("@{tier} ⟨{}⟩", caps.join(", "))
    }
}

/// One slot's definitions as symbol pieces (positions relative to the slot's start).
fn slot_symbols(cx: &Ctx<'_>, slot: SlotView<'_>, cursor: &mut Cursor<'_>) -> Vec<SlotSymbol> {
    let start = cursor.at(slot.base as usize);
    let mut rel = |off: u32| Rel::of(cursor.at((slot.base + off) as usize), start);
    let mut out = Vec::with_capacity(slot.data.lowered.definitions.len());
    for d in &slot.data.lowered.definitions {
        let r = d.span.join(d.name_span);
        // In order, so the cursor only moves forward within a definition.
        let (a, na, nb, b) = (
            rel(r.start),
            rel(d.name_span.start),
            rel(d.name_span.end),
            rel(r.end),
        );
        let needs = cx.doc.doc.needs_of(&d.name);
        out.push(SlotSymbol {
            name: d.name.clone(),
            function: d.arity.is_some(),
            tier: d.tier,
            needs,
            detail: needs_detail(d.tier, needs),
            range: (a, b),
            selection: (na, nb),
        });
    }
    out
}

/// Document symbols: the top-level definitions, as a tree where the client takes
/// one, else as flat `SymbolInformation`. Assembled from per-slot pieces: only the
/// definitions of slots that changed since the last answer are read again.
#[allow(deprecated)]
pub fn document_symbols(cx: &Ctx<'_>) -> DocumentSymbolResponse {
    let doc = cx.doc;
    let slots: Vec<SlotView<'_>> = doc.slots().collect();
    let revs: Vec<u64> = slots.iter().map(|s| s.data.rev()).collect();
    let mut cursor = Cursor::new(&doc.rope, doc.text(), cx.enc);
    let pieces = doc
        .pieces
        .symbols
        .pieces(&revs, cx.enc, |k| {
            (!cx.cancelled()).then(|| slot_symbols(cx, slots[k], &mut cursor))
        })
        .unwrap_or_default();
    let kind = |s: &SlotSymbol| {
        if s.function {
            SymbolKind::FUNCTION
        } else {
            SymbolKind::VARIABLE
        }
    };
    let mut cursor = Cursor::new(&doc.rope, doc.text(), cx.enc);
    let placed = slots.iter().zip(&pieces).flat_map(|(slot, piece)| {
        let start = if piece.is_empty() {
            Position::new(0, 0)
        } else {
            cursor.at(slot.base as usize)
        };
        piece.iter().map(move |s| {
            let range = Range::new(s.range.0.at(start), s.range.1.at(start));
            let selection = Range::new(s.selection.0.at(start), s.selection.1.at(start));
            (s, range, selection)
        })
    });
    if !cx.caps.hierarchical_symbols {
        return DocumentSymbolResponse::Flat(
            placed
                .map(|(s, range, _)| SymbolInformation {
                    name: s.name.clone(),
                    kind: kind(s),
                    tags: None,
                    deprecated: None,
                    location: Location::new(cx.uri.clone(), range),
                    container_name: None,
                })
                .collect(),
        );
    }
    DocumentSymbolResponse::Nested(
        placed
            .map(|(s, range, selection_range)| {
                // What a definition needs is inferred over the whole text: its
                // piece's detail holds while that stays the same.
                let needs = doc.doc.needs_of(&s.name);
                DocumentSymbol {
                    name: s.name.clone(),
                    detail: Some(if needs == s.needs {
                        s.detail.clone()
                    } else {
                        needs_detail(s.tier, needs)
                    }),
                    kind: kind(s),
                    tags: None,
                    deprecated: None,
                    range,
                    selection_range,
                    children: None,
                }
            })
            .collect(),
    )
}

// ----- semantic tokens -----

/// Token types, in legend order.
pub const TOKEN_TYPES: &[SemanticTokenType] = &[
    SemanticTokenType::KEYWORD,     // special forms
    SemanticTokenType::FUNCTION,    // FFI functions, built-ins, user functions
    SemanticTokenType::ENUM_MEMBER, // capabilities
    SemanticTokenType::DECORATOR,   // tiers
    SemanticTokenType::PARAMETER,   // parameters
    SemanticTokenType::VARIABLE,    // other locals
];
/// Token modifiers, in legend order.
pub const TOKEN_MODIFIERS: &[SemanticTokenModifier] = &[
    SemanticTokenModifier::DEFAULT_LIBRARY, // built-ins and FFI functions
    SemanticTokenModifier::DECLARATION,
];

/// Semantic tokens of the document, or of the lines of `range`: only the slots
/// the range touches are read.
pub fn semantic_tokens(cx: &Ctx<'_>, range: Option<Range>) -> Vec<SemanticToken> {
    let doc = cx.doc;
    let text = doc.text();
    let (from, to) = match range {
        Some(r) => {
            let a =
                crate::text::position_to_offset(&doc.rope, Position::new(r.start.line, 0), cx.enc);
            let b = crate::text::position_to_offset(
                &doc.rope,
                Position::new(r.end.line.saturating_add(1), 0),
                cx.enc,
            );
            (a as u32, b as u32)
        }
        None => (0, text.len() as u32),
    };
    let mut raw: Vec<(Span, u32, u32)> = Vec::new();
    for slot in doc.slots_between(from, to) {
        if cx.cancelled() {
            return Vec::new();
        }
        slot_tokens(cx, slot, &mut raw);
    }
    raw.retain(|(s, _, _)| s.end > from && s.start < to);
    raw.sort_by_key(|(s, _, _)| s.start);
    let mut out = Vec::new();
    let (mut pl, mut pc) = (0u32, 0u32);
    let mut last_end = 0u32;
    // Tokens in order: positions by one forward scan, not a rope lookup each.
    let mut cursor = Cursor::new(&doc.rope, text, cx.enc);
    for (span, ty, m) in raw {
        if span.start < last_end {
            continue;
        }
        let p = cursor.at(span.start as usize);
        let e = cursor.at(span.end as usize);
        if e.line != p.line {
            continue;
        }
        let dl = p.line - pl;
        let dc = if dl == 0 {
            p.character - pc
        } else {
            p.character
        };
        out.push(SemanticToken {
            delta_line: dl,
            delta_start: dc,
            length: e.character - p.character,
            token_type: ty,
            token_modifiers_bitset: m,
        });
        pl = p.line;
        pc = p.character;
        last_end = span.end;
    }
    out
}

/// Semantic tokens of the whole document, assembled from per-slot pieces: only the
/// slots that changed since the last whole answer are tokenised again, and only the
/// first token of each slot is encoded again (the others are relative to the one
/// before, in the same slot). Equal to `semantic_tokens(cx, None)`.
pub fn semantic_tokens_full(cx: &Ctx<'_>) -> Vec<SemanticToken> {
    let doc = cx.doc;
    let slots: Vec<SlotView<'_>> = doc.slots().collect();
    let revs: Vec<u64> = slots.iter().map(|s| s.data.rev()).collect();
    // Slots to tokenise come in order: one forward scan finds their positions.
    let mut cursor = Cursor::new(&doc.rope, doc.text(), cx.enc);
    let mut raw = Vec::new();
    let pieces = doc.pieces.tokens.pieces(&revs, cx.enc, |k| {
        if cx.cancelled() {
            return None;
        }
        let slot = slots[k];
        raw.clear();
        slot_tokens(cx, slot, &mut raw);
        raw.sort_by_key(|(s, _, _)| s.start);
        let start = cursor.at(slot.base as usize);
        let mut piece = SlotTokens::default();
        let mut prev = Rel::default();
        let mut last_end = 0u32;
        for &(span, ty, m) in &raw {
            if span.start < last_end {
                continue;
            }
            let p = cursor.at(span.start as usize);
            let e = cursor.at(span.end as usize);
            if e.line != p.line {
                continue;
            }
            let r = Rel::of(p, start);
            piece.data.push(SemanticToken {
                delta_line: r.line - prev.line,
                delta_start: if r.line == prev.line {
                    r.col - prev.col
                } else {
                    r.col
                },
                length: e.character - p.character,
                token_type: ty,
                token_modifiers_bitset: m,
            });
            prev = r;
            last_end = span.end;
        }
        piece.last = prev;
        piece.data.shrink_to_fit();
        Some(piece)
    });
    let Some(pieces) = pieces else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(pieces.iter().map(|p| p.data.len()).sum());
    let mut cursor = Cursor::new(&doc.rope, doc.text(), cx.enc);
    let mut prev = Position::new(0, 0);
    for (slot, piece) in slots.iter().zip(&pieces) {
        let Some(first) = piece.data.first() else {
            continue;
        };
        let start = cursor.at(slot.base as usize);
        let p = Rel {
            line: first.delta_line,
            col: first.delta_start,
        }
        .at(start);
        out.push(SemanticToken {
            delta_line: p.line - prev.line,
            delta_start: if p.line == prev.line {
                p.character - prev.character
            } else {
                p.character
            },
            ..*first
        });
        out.extend_from_slice(&piece.data[1..]);
        prev = piece.last.at(start);
    }
    out
}

/// The tokens of one slot, unsorted (absolute spans, type, modifiers), onto `raw`.
fn slot_tokens(cx: &Ctx<'_>, slot: SlotView<'_>, raw: &mut Vec<(Span, u32, u32)>) {
    let doc = cx.doc;
    let text = doc.text();
    let (a, b) = (slot.base as usize, (slot.base + slot.data.len) as usize);
    let by_start: HashMap<u32, Reference> = slot.references().map(|r| (r.span.start, r)).collect();
    let mut prev_open = false;
    for t in &lex(&text[a..b]).tokens {
        let span = t.span.shifted(a as u32);
        let word = text
            .get(span.start as usize..span.end as usize)
            .unwrap_or("");
        match t.kind {
            TokenKind::Annotation => raw.push((span, 3, 0)),
            TokenKind::Symbol | TokenKind::Str(_) => {
                if let Some(r) = by_start.get(&span.start).filter(|r| r.span.end <= span.end) {
                    let decl = if r.definition { 2 } else { 0 };
                    let ty = match &r.target {
                        RefTarget::Ffi(_) => Some((1, 1)),
                        RefTarget::Builtin(_) => Some((1, 1)),
                        RefTarget::Capability(_) => Some((2, 0)),
                        RefTarget::Local(id) => match doc.local_kind(*id) {
                            Some(LocalKind::Param) => Some((4, decl)),
                            _ => Some((5, decl)),
                        },
                        RefTarget::Global(_) => None,
                    };
                    if let Some((ty, m)) = ty {
                        raw.push((r.span, ty, m));
                    }
                } else if t.kind == TokenKind::Symbol {
                    if prev_open && (SPECIAL_FORMS.contains(&word) || word == "catch") {
                        raw.push((span, 0, 0));
                    } else if word
                        .strip_prefix(':')
                        .and_then(TrustTier::from_name)
                        .is_some()
                    {
                        raw.push((span, 3, 0));
                    }
                }
            }
            _ => {}
        }
        if t.kind != TokenKind::Comment {
            prev_open = t.kind.is_open();
        }
    }
}

/// The edit turning one token list into another: the tokens between their
/// common beginning and common end replaced (indices count integers, five per token).
pub fn tokens_delta(old: &[SemanticToken], new: &[SemanticToken]) -> Vec<SemanticTokensEdit> {
    let same = |a: &SemanticToken, b: &SemanticToken| {
        (
            a.delta_line,
            a.delta_start,
            a.length,
            a.token_type,
            a.token_modifiers_bitset,
        ) == (
            b.delta_line,
            b.delta_start,
            b.length,
            b.token_type,
            b.token_modifiers_bitset,
        )
    };
    let head = old.iter().zip(new).take_while(|(a, b)| same(a, b)).count();
    let tail = old[head..]
        .iter()
        .rev()
        .zip(new[head..].iter().rev())
        .take_while(|(a, b)| same(a, b))
        .count();
    if head == old.len() && head == new.len() {
        return Vec::new();
    }
    vec![SemanticTokensEdit {
        start: (head * 5) as u32,
        delete_count: ((old.len() - head - tail) * 5) as u32,
        data: Some(new[head..new.len() - tail].to_vec()),
    }]
}

// ----- inlay hints -----

/// After each definition's name, the capabilities it needs.
pub fn inlay_hints(cx: &Ctx<'_>, range: Option<Range>) -> Vec<InlayHint> {
    cx.doc
        .definitions()
        .filter(|d| !d.needs.is_empty())
        .filter_map(|d| {
            let position = cx.pos(d.name_span.end as usize);
            if let Some(r) = range {
                if position.line < r.start.line || position.line > r.end.line {
                    return None;
                }
            }
            let caps: Vec<String> = d.needs.iter().map(|c| c.to_string()).collect();
            Some(InlayHint {
                position,
                label: InlayHintLabel::String(format!("⟨{}⟩", caps.join(", "))),
                kind: None,
                text_edits: None,
                tooltip: Some(InlayHintTooltip::String(format!(
                    "`{}` needs {} (inferred, transitively)",
                    d.name,
                    caps.join(", ")
                ))),
                padding_left: Some(true),
                padding_right: None,
                data: None,
            })
        })
        .collect()
}

// ----- folding and selection -----

/// One slot's folding ranges over several lines (forms, and an annotation with
/// the form after it), relative to the slot's start.
fn slot_folds(cx: &Ctx<'_>, slot: SlotView<'_>, cursor: &mut Cursor<'_>) -> Vec<(Rel, Rel)> {
    let text = cx.text();
    let mut spans: Vec<u32> = Vec::new(); // start, end, start, end...
    let mut push = |start: u32, end: u32| spans.extend([start, end]);
    let base = slot.base;
    let (a, b) = (base as usize, (base + slot.data.len) as usize);
    // Open brackets: (start, whether a parenthesis); the annotation before the
    // top-level form being read.
    let mut stack: Vec<(u32, bool)> = Vec::new();
    let mut annotation: Option<u32> = None;
    for t in lex(&text[a..b]).tokens {
        let span = t.span.shifted(base);
        match t.kind {
            TokenKind::Annotation if stack.is_empty() => annotation = Some(span.start),
            TokenKind::LParen => stack.push((span.start, true)),
            TokenKind::LBracket => stack.push((span.start, false)),
            TokenKind::RParen | TokenKind::RBracket => {
                if let Some((start, paren)) = stack.pop() {
                    if paren {
                        push(start, span.end);
                    }
                    if stack.is_empty() {
                        if let Some(at) = annotation.take() {
                            push(at, span.end);
                        }
                    }
                }
            }
            TokenKind::Comment => {}
            _ if stack.is_empty() => annotation = None,
            _ => {}
        }
    }
    // Positions in offset order: the shared cursor only moves forward.
    let start = cursor.at(base as usize);
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_by_key(|&i| spans[i]);
    let mut rel = vec![Rel::default(); spans.len()];
    for i in order {
        rel[i] = Rel::of(cursor.at(spans[i] as usize), start);
    }
    rel.chunks(2)
        .filter(|ab| ab[1].line > ab[0].line)
        .map(|ab| (ab[0], ab[1]))
        .collect()
}

/// Folding ranges: every list spanning several lines, and an annotated top-level
/// form with its annotation. Read from each slot's tokens (brackets matched on a
/// stack), not from parsed forms, a slot at a time; each slot's ranges are cached
/// by its revision, so only the slots changed since the last answer are read again.
pub fn folding_ranges(cx: &Ctx<'_>) -> Vec<FoldingRange> {
    let doc = cx.doc;
    let slots: Vec<SlotView<'_>> = doc.slots().collect();
    let revs: Vec<u64> = slots.iter().map(|s| s.data.rev()).collect();
    let mut cursor = Cursor::new(&doc.rope, doc.text(), cx.enc);
    let Some(pieces) = doc.pieces.folds.pieces(&revs, cx.enc, |k| {
        (!cx.cancelled()).then(|| slot_folds(cx, slots[k], &mut cursor))
    }) else {
        return Vec::new();
    };
    let mut cursor = Cursor::new(&doc.rope, doc.text(), cx.enc);
    let mut out: Vec<FoldingRange> = Vec::with_capacity(pieces.iter().map(|p| p.len()).sum());
    for (slot, piece) in slots.iter().zip(&pieces) {
        if piece.is_empty() {
            continue;
        }
        let start = cursor.at(slot.base as usize);
        out.extend(piece.iter().map(|(a, b)| {
            let (a, b) = (a.at(start), b.at(start));
            FoldingRange {
                start_line: a.line,
                start_character: Some(a.character),
                end_line: b.line,
                end_character: Some(b.character),
                kind: Some(FoldingRangeKind::Region),
                collapsed_text: None,
            }
        }));
    }
    out.sort_by_key(|r| (r.start_line, r.end_line));
    out.dedup_by_key(|r| (r.start_line, r.end_line));
    if cx.caps.line_folding_only {
        for r in &mut out {
            (r.start_character, r.end_character) = (None, None);
        }
    }
    if let Some(limit) = cx.caps.folding_limit {
        // The outermost first: keep the ranges that span the most lines.
        if out.len() > limit {
            let mut by_size: Vec<usize> = (0..out.len()).collect();
            by_size.sort_by_key(|&i| std::cmp::Reverse(out[i].end_line - out[i].start_line));
            let mut keep = vec![false; out.len()];
            for &i in &by_size[..limit] {
                keep[i] = true;
            }
            let mut k = keep.into_iter();
            out.retain(|_| k.next().unwrap_or(false));
        }
    }
    out
}

/// Selection ranges: the nested forms around each position.
pub fn selection_range(cx: &Ctx<'_>, off: usize) -> SelectionRange {
    let forms = cx.doc.forms_at(off as u32);
    let nodes = forms::nodes_touching(&forms, off as u32);
    let mut cur: Option<SelectionRange> = None;
    let top = forms::top_form_at(&forms, off as u32).filter(|t| t.full_span().touches(off as u32));
    if let Some(t) = top.filter(|t| t.annotation.is_some()) {
        cur = Some(SelectionRange {
            range: cx.range(t.full_span()),
            parent: None,
        });
    }
    for n in nodes {
        cur = Some(SelectionRange {
            range: cx.range(n.span),
            parent: cur.map(Box::new),
        });
    }
    cur.unwrap_or_else(|| {
        let p = cx.pos(off);
        SelectionRange {
            range: Range::new(p, p),
            parent: None,
        }
    })
}

// ----- code actions -----

fn is_fn_form(head: &str) -> bool {
    matches!(head, "define" | "def" | "lambda" | "fn" | "λ")
}

/// The index of the first body form of a define/def/lambda list, if it has one.
fn body_start(items: &[Node]) -> Option<usize> {
    let head = items.first()?.as_symbol()?;
    let i = match head {
        "lambda" | "fn" | "λ" => 2,
        "define" if items.get(1)?.as_list().is_some() => 2,
        "def" if items.len() >= 4 && items.get(2)?.as_list().is_some() => 3,
        _ => return None,
    };
    (i < items.len()).then_some(i)
}

fn line_indent(text: &str, off: usize) -> (usize, String) {
    let ls = text[..off].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let col = text[ls..off].chars().count();
    (ls, " ".repeat(col))
}

/// Where to declare a capability for a use at `span`, and the text to insert.
fn declare_edit(cx: &Ctx<'_>, span: Span, caps: &[Capability]) -> Option<TextEdit> {
    let text = cx.text();
    let forms = cx.doc.forms_at(span.start);
    let lists = forms::enclosing_lists(text, &forms, span.start);
    let decls: Vec<String> = caps
        .iter()
        .map(|c| format!("(require-capability {c})"))
        .collect();
    for n in lists.iter().rev() {
        let items = n.proper_items().unwrap_or(&[]);
        let Some(head) = items.first().and_then(Node::as_symbol) else {
            continue;
        };
        if !is_fn_form(head) {
            continue;
        }
        let Some(b) = body_start(items) else { continue };
        let body = &items[b];
        if body.span.start > span.start {
            continue; // the use is in the parameter list or name: not in the body
        }
        let at = body.span.start as usize;
        let (ls, indent) = line_indent(text, at);
        let same_line_as_head = !text[n.span.start as usize..at].contains(['\n', '\r']);
        let new_text = if same_line_as_head || !text[ls..at].trim().is_empty() {
            format!("{} ", decls.join(" "))
        } else {
            let sep = format!("\n{indent}");
            format!("{}{sep}", decls.join(&sep))
        };
        let p = cx.pos(at);
        return Some(TextEdit::new(Range::new(p, p), new_text));
    }
    // At top level: a new top-level form before the enclosing one.
    let top = forms::top_form_at(&forms, span.start)?;
    let at = top.full_span().start as usize;
    let (ls, _) = line_indent(text, at);
    let p = cx.pos(ls);
    Some(TextEdit::new(
        Range::new(p, p),
        format!("{}\n", decls.join("\n")),
    ))
}

/// The tier the code at `off` has: the innermost `(:T ...)`, else the top-level form's.
fn tier_keyword_at(cx: &Ctx<'_>, off: u32) -> Option<Span> {
    let forms = cx.doc.forms_at(off);
    let lists = forms::enclosing_lists(cx.text(), &forms, off);
    lists.iter().rev().find_map(|n| {
        let h = n.as_list()?.items.first()?;
        let s = h.as_symbol()?;
        s.strip_prefix(':')
            .and_then(TrustTier::from_name)
            .map(|_| h.span)
    })
}

/// Edits that make the form containing `off` claim tier `t`.
fn set_tier_edit(cx: &Ctx<'_>, off: u32, t: TrustTier) -> Option<TextEdit> {
    if let Some(k) = tier_keyword_at(cx, off) {
        return Some(TextEdit::new(cx.range(k), format!(":{t}")));
    }
    let forms = cx.doc.forms_at(off);
    let top = forms::top_form_at(&forms, off)?;
    match top.annotation {
        Some((_, s)) => Some(TextEdit::new(cx.range(s), format!("@{t}"))),
        None => {
            let p = cx.pos(top.node.span.start as usize);
            Some(TextEdit::new(Range::new(p, p), format!("@{t} ")))
        }
    }
}

fn overlaps(a: Range, b: Range) -> bool {
    !(a.end < b.start || b.end < a.start)
}

/// The command a client without code-action literals runs for a quick fix: the
/// server asks the client to apply the edit given as its one argument.
pub const APPLY_EDIT_COMMAND: &str = "jue.applyEdit";

fn action(
    cx: &Ctx<'_>,
    title: String,
    edits: Vec<TextEdit>,
    diag: Option<Diagnostic>,
    preferred: bool,
) -> CodeActionOrCommand {
    let mut changes = HashMap::new();
    changes.insert(cx.uri.clone(), edits);
    if !cx.caps.code_action_literals {
        let edit = WorkspaceEdit {
            changes: Some(changes),
            ..Default::default()
        };
        return CodeActionOrCommand::Command(Command {
            title,
            command: APPLY_EDIT_COMMAND.into(),
            arguments: serde_json::to_value(edit).ok().map(|e| vec![e]),
        });
    }
    CodeActionOrCommand::CodeAction(CodeAction {
        title,
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: diag.map(|d| vec![d]),
        edit: Some(WorkspaceEdit {
            changes: Some(changes),
            ..Default::default()
        }),
        is_preferred: Some(preferred),
        ..Default::default()
    })
}

/// Quick fixes for the diagnostics overlapping a range.
pub fn code_actions(cx: &Ctx<'_>, range: Range) -> Vec<CodeActionOrCommand> {
    let lsp_diags = diagnostics(cx);
    let mut out = Vec::new();
    for (d, ld) in cx.doc.diagnostics.iter().zip(lsp_diags) {
        if !overlaps(ld.range, range) {
            continue;
        }
        let target = cx
            .doc
            .references_at(d.span.start)
            .into_iter()
            .find(|r| r.span == d.span || (r.span.start == d.span.start && !r.definition))
            .map(|r| r.target.clone());
        match d.code {
            Code::W0301 => {
                // The capabilities the message names, as words (`IoRead` is not
                // `IoReadSensor`).
                let named: Vec<Capability> = Capability::ALL
                    .into_iter()
                    .filter(|c| {
                        d.message
                            .split(|ch: char| !ch.is_alphanumeric())
                            .any(|w| w == c.name())
                    })
                    .collect();
                let caps: Vec<Capability> = match &target {
                    Some(RefTarget::Ffi(i)) => {
                        let s = cx.doc.project.session();
                        let reg = s.registry();
                        ((*i as usize) < reg.len())
                            .then(|| reg.function(*i).required_capability)
                            .flatten()
                            .into_iter()
                            .collect()
                    }
                    // An imported function: what it needs that the message says is missing.
                    Some(RefTarget::Global(g)) if g.starts_with(builtins::MODULE_PREFIX) => cx
                        .doc
                        .imports
                        .as_ref()
                        .and_then(|i| i.scope.globals.get(&**g))
                        .map(|info| info.needs.iter().filter(|c| named.contains(c)).collect())
                        .unwrap_or_default(),
                    _ => Vec::new(),
                };
                let caps = if caps.is_empty() {
                    named.into_iter().take(1).collect()
                } else {
                    caps
                };
                if !caps.is_empty() {
                    if let Some(edit) = declare_edit(cx, d.span, &caps) {
                        let forms: Vec<String> = caps
                            .iter()
                            .map(|c| format!("`(require-capability {c})`"))
                            .collect();
                        out.push(action(
                            cx,
                            format!("add {}", forms.join(" and ")),
                            vec![edit],
                            Some(ld),
                            true,
                        ));
                    }
                }
            }
            Code::E0101 | Code::E0102 => {
                if let Some(s) = &d.suggestion {
                    let old = cx.slice(d.span);
                    let new = if old.starts_with('"') {
                        format!("\"{s}\"")
                    } else {
                        s.clone()
                    };
                    out.push(action(
                        cx,
                        format!("replace with `{s}`"),
                        vec![TextEdit::new(ld.range, new)],
                        Some(ld),
                        true,
                    ));
                }
            }
            Code::E0201 => {
                let (callee_tier, user) = match &target {
                    Some(RefTarget::Ffi(i)) => {
                        let s = cx.doc.project.session();
                        let reg = s.registry();
                        (
                            ((*i as usize) < reg.len()).then(|| reg.function(*i).tier),
                            None,
                        )
                    }
                    Some(RefTarget::Builtin(id)) => (Some(builtins::get(*id).tier), None),
                    Some(RefTarget::Global(g)) => {
                        let def = definition_named(cx.doc, g);
                        (def.as_ref().map(|x| x.tier), def)
                    }
                    _ => (None, None),
                };
                if let Some(t) = callee_tier {
                    if let Some(edit) = set_tier_edit(cx, d.span.start, t) {
                        out.push(action(
                            cx,
                            format!("lower this form to `@{t}`"),
                            vec![edit],
                            Some(ld.clone()),
                            false,
                        ));
                    }
                }
                if let Some(def) = user {
                    // The caller's tier: the code around the use.
                    let caller = caller_tier(cx, d.span.start);
                    if let Some(u) = caller {
                        if let Some(edit) = set_tier_edit(cx, def.name_span.start, u) {
                            out.push(action(
                                cx,
                                format!("raise {} to `@{u}`", def.name),
                                vec![edit],
                                Some(ld),
                                false,
                            ));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn caller_tier(cx: &Ctx<'_>, off: u32) -> Option<TrustTier> {
    if let Some(k) = tier_keyword_at(cx, off) {
        return cx.slice(k).strip_prefix(':').and_then(TrustTier::from_name);
    }
    // The analysed item of the top-level form.
    cx.doc.form_tier(off)
}

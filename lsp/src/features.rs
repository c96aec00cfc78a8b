//! The features, as functions of one analysed document. Every fact comes from the
//! engine (analysis, registry, built-ins, the docs renderer); this module only maps
//! it to LSP shapes and positions.

use crate::analyze::Analyzed;
use crate::forms;
use crate::text::{Encoding, encoded_len, offset_to_position, span_to_range};
use jue_engine::analysis::ir::LocalKind;
use jue_engine::analysis::{Definition, GlobalInfo, RefTarget, Reference, SPECIAL_FORMS};
use jue_engine::builtins;
use jue_engine::diagnostic::{Code, Severity};
use jue_engine::docs::{self, GrantView};
use jue_engine::syntax::lexer::TokenKind;
use jue_engine::syntax::tree::Node;
use jue_engine::{Capability, Span, TrustTier};
use std::collections::{HashMap, HashSet};
use tower_lsp_server::ls_types::*;

/// Everything a feature needs besides the document: its URI and the encoding.
pub struct Ctx<'a> {
    /// The document.
    pub doc: &'a Analyzed,
    /// Its URI.
    pub uri: &'a Uri,
    /// Negotiated position encoding.
    pub enc: Encoding,
}

impl Ctx<'_> {
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
    cx.doc
        .diagnostics
        .iter()
        .map(|d| {
            let mut message = d.message.clone();
            if let Some(h) = &d.help {
                message.push_str("\nhelp: ");
                message.push_str(h);
            }
            let related: Vec<DiagnosticRelatedInformation> = d
                .related
                .iter()
                .map(|r| DiagnosticRelatedInformation {
                    location: Location::new(cx.uri.clone(), cx.range(r.span)),
                    message: r.message.clone(),
                })
                .collect();
            Diagnostic {
                range: cx.range(d.span),
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
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: markdown(&text),
        }),
        range: Some(cx.range(span)),
    })
}

// ----- completion -----

fn is_capability_form(head: &str) -> bool {
    head == "require-capability" || head == "has-capability?"
}

/// Completion at an offset.
pub fn completion(cx: &Ctx<'_>, off: usize) -> Vec<CompletionItem> {
    let text = cx.text();
    let off = off.min(text.len());
    let ws = forms::word_start(text, off);
    let prefix = &text[ws..off];
    let edit_range = Range::new(cx.pos(ws), cx.pos(off));
    let view = cx.view();
    let mut items: Vec<CompletionItem> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut push = |items: &mut Vec<CompletionItem>, item: CompletionItem| {
        if seen.insert(item.label.clone()) {
            items.push(item);
        }
    };
    let item = |label: &str, kind, detail: Option<String>, doc: Option<String>, sort: &str| {
        CompletionItem {
            label: label.to_string(),
            kind: Some(kind),
            detail,
            documentation: doc.map(|d| {
                Documentation::MarkupContent(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value: markdown(&d),
                })
            }),
            sort_text: Some(format!("{sort}{label}")),
            filter_text: Some(label.to_string()),
            text_edit: Some(CompletionTextEdit::Edit(TextEdit::new(
                edit_range,
                label.to_string(),
            ))),
            ..Default::default()
        }
    };
    let call = forms::call_context(text, &cx.doc.tokens_at(off as u32), off);
    let in_cap_form = call.as_ref().is_some_and(|c| {
        c.items_before == 1
            && c.head
                .as_ref()
                .is_some_and(|(h, _, _)| is_capability_form(h))
    });
    if in_cap_form {
        for c in Capability::ALL {
            push(
                &mut items,
                item(
                    c.name(),
                    CompletionItemKind::ENUM_MEMBER,
                    Some(c.description().to_string()),
                    Some(docs::capability(c, view)),
                    "0",
                ),
            );
        }
        return items;
    }
    if prefix.starts_with('@') || prefix.starts_with(':') {
        let sigil = &prefix[..1];
        for t in TrustTier::ALL {
            let label = format!("{sigil}{t}");
            push(
                &mut items,
                item(
                    &label,
                    CompletionItemKind::KEYWORD,
                    Some("trust tier".into()),
                    Some(tier_text(t)),
                    "0",
                ),
            );
        }
        if sigil == "@" {
            return items;
        }
    }
    // Locals in scope, innermost first.
    let mut locals = forms::locals_in_scope(text, &cx.doc.forms_at(off as u32), off as u32);
    locals.reverse();
    for name in locals {
        push(
            &mut items,
            item(
                &name,
                CompletionItemKind::VARIABLE,
                Some("local".into()),
                None,
                "0",
            ),
        );
    }
    for d in cx.doc.definitions() {
        let kind = if d.arity.is_some() {
            CompletionItemKind::FUNCTION
        } else {
            CompletionItemKind::VARIABLE
        };
        let rendered = docs::user_definition(&d.name, &global_info(&d), view);
        let detail = rendered.lines().next().map(str::to_string);
        push(&mut items, item(&d.name, kind, detail, Some(rendered), "1"));
    }
    for name in SPECIAL_FORMS {
        let doc = docs::special_form(name);
        let detail = doc
            .as_ref()
            .and_then(|d| d.lines().next())
            .map(str::to_string);
        push(
            &mut items,
            item(name, CompletionItemKind::KEYWORD, detail, doc, "2"),
        );
    }
    for b in builtins::all().iter().filter(|b| !b.hidden) {
        push(
            &mut items,
            item(
                b.name,
                CompletionItemKind::FUNCTION,
                Some(b.sig.to_string()),
                Some(docs::builtin(b)),
                "3",
            ),
        );
    }
    let s = cx.doc.project.session();
    let reg = s.registry();
    for i in 0..reg.len() as u32 {
        let f = reg.function(i);
        let sig = reg.signature(i);
        push(
            &mut items,
            item(
                &f.name,
                CompletionItemKind::FUNCTION,
                Some(sig.to_string()),
                Some(docs::ffi_function(f, sig, view)),
                "4",
            ),
        );
    }
    items
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
        documentation: Some(Documentation::MarkupContent(MarkupContent {
            kind: MarkupKind::Markdown,
            value: markdown(&doc),
        })),
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
    let (_, _, def) = occurrences(cx.doc, off as u32)?;
    Some(Location::new(cx.uri.clone(), cx.range(def?)))
}

/// Find references.
pub fn references(cx: &Ctx<'_>, off: usize, include_declaration: bool) -> Vec<Location> {
    let Some((_, spans, def)) = occurrences(cx.doc, off as u32) else {
        return Vec::new();
    };
    spans
        .into_iter()
        .filter(|s| include_declaration || Some(*s) != def)
        .map(|s| Location::new(cx.uri.clone(), cx.range(s)))
        .collect()
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
    matches!(r.target, RefTarget::Local(_) | RefTarget::Global(_)).then(|| cx.range(r.span))
}

/// Rename: edits for every occurrence; `Err` with a message for an invalid name.
pub fn rename(cx: &Ctx<'_>, off: usize, new_name: &str) -> Result<Option<WorkspaceEdit>, String> {
    if !valid_name(new_name) {
        return Err(format!("`{new_name}` is not a valid Jue name"));
    }
    let Some((_, spans, _)) = occurrences(cx.doc, off as u32) else {
        return Ok(None);
    };
    let edits = spans
        .into_iter()
        .map(|s| TextEdit::new(cx.range(s), new_name.to_string()))
        .collect();
    let mut changes = HashMap::new();
    changes.insert(cx.uri.clone(), edits);
    Ok(Some(WorkspaceEdit {
        changes: Some(changes),
        ..Default::default()
    }))
}

// ----- symbols -----

fn needs_text(d: &Definition) -> String {
    let caps: Vec<String> = d.needs.iter().map(|c| c.to_string()).collect();
    if caps.is_empty() {
        format!("@{}", d.tier)
    } else {
        format!("@{} ⟨{}⟩", d.tier, caps.join(", "))
    }
}

/// Document symbols: the top-level definitions.
#[allow(deprecated)]
pub fn document_symbols(cx: &Ctx<'_>) -> Vec<DocumentSymbol> {
    cx.doc
        .definitions()
        .map(|d| DocumentSymbol {
            name: d.name.clone(),
            detail: Some(needs_text(&d)),
            kind: if d.arity.is_some() {
                SymbolKind::FUNCTION
            } else {
                SymbolKind::VARIABLE
            },
            tags: None,
            deprecated: None,
            range: cx.range(d.span.join(d.name_span)),
            selection_range: cx.range(d.name_span),
            children: None,
        })
        .collect()
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

/// Semantic tokens of the whole document.
pub fn semantic_tokens(cx: &Ctx<'_>) -> Vec<SemanticToken> {
    let doc = cx.doc;
    let text = doc.text();
    let refs: Vec<Reference> = doc.references().collect();
    let mut by_start: HashMap<u32, &Reference> = HashMap::new();
    for r in &refs {
        by_start.insert(r.span.start, r);
    }
    let mut raw: Vec<(Span, u32, u32)> = Vec::new();
    let mut prev_open = false;
    for t in &doc.tokens() {
        let word = text
            .get(t.span.start as usize..t.span.end as usize)
            .unwrap_or("");
        match t.kind {
            TokenKind::Annotation => raw.push((t.span, 3, 0)),
            TokenKind::Symbol | TokenKind::Str(_) => {
                if let Some(r) = by_start
                    .get(&t.span.start)
                    .filter(|r| r.span.end <= t.span.end)
                {
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
                        raw.push((t.span, 0, 0));
                    } else if word
                        .strip_prefix(':')
                        .and_then(TrustTier::from_name)
                        .is_some()
                    {
                        raw.push((t.span, 3, 0));
                    }
                }
            }
            _ => {}
        }
        if t.kind != TokenKind::Comment {
            prev_open = t.kind.is_open();
        }
    }
    raw.sort_by_key(|(s, _, _)| s.start);
    let mut out = Vec::new();
    let (mut pl, mut pc) = (0u32, 0u32);
    let mut last_end = 0u32;
    for (span, ty, m) in raw {
        if span.start < last_end {
            continue;
        }
        let p = cx.pos(span.start as usize);
        let e = cx.pos(span.end as usize);
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

/// Folding ranges: every form spanning several lines.
pub fn folding_ranges(cx: &Ctx<'_>) -> Vec<FoldingRange> {
    let mut out = Vec::new();
    let mut push = |s: Span| {
        let a = cx.pos(s.start as usize);
        let b = cx.pos(s.end as usize);
        if b.line > a.line {
            out.push(FoldingRange {
                start_line: a.line,
                start_character: Some(a.character),
                end_line: b.line,
                end_character: Some(b.character),
                kind: Some(FoldingRangeKind::Region),
                collapsed_text: None,
            });
        }
    };
    for s in cx.doc.slots() {
        let forms = s.forms();
        for f in &forms {
            if f.annotation.is_some() {
                push(f.full_span());
            }
        }
        forms::each_list(&forms, |n| push(n.span));
    }
    out.sort_by_key(|r| (r.start_line, r.end_line));
    out.dedup_by_key(|r| (r.start_line, r.end_line));
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
    let ls = text[..off].rfind('\n').map_or(0, |i| i + 1);
    let col = text[ls..off].chars().count();
    (ls, " ".repeat(col))
}

/// Where to declare a capability for a use at `span`, and the text to insert.
fn declare_edit(cx: &Ctx<'_>, span: Span, cap: Capability) -> Option<TextEdit> {
    let text = cx.text();
    let forms = cx.doc.forms_at(span.start);
    let lists = forms::enclosing_lists(text, &forms, span.start);
    let decl = format!("(require-capability {cap})");
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
        let same_line_as_head = !text[n.span.start as usize..at].contains('\n');
        let new_text = if same_line_as_head || !text[ls..at].trim().is_empty() {
            format!("{decl} ")
        } else {
            format!("{decl}\n{indent}")
        };
        let p = cx.pos(at);
        return Some(TextEdit::new(Range::new(p, p), new_text));
    }
    // At top level: a new top-level form before the enclosing one.
    let top = forms::top_form_at(&forms, span.start)?;
    let at = top.full_span().start as usize;
    let (ls, _) = line_indent(text, at);
    let p = cx.pos(ls);
    Some(TextEdit::new(Range::new(p, p), format!("{decl}\n")))
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

fn action(
    cx: &Ctx<'_>,
    title: String,
    edits: Vec<TextEdit>,
    diag: Option<Diagnostic>,
    preferred: bool,
) -> CodeActionOrCommand {
    let mut changes = HashMap::new();
    changes.insert(cx.uri.clone(), edits);
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
                let cap = match &target {
                    Some(RefTarget::Ffi(i)) => {
                        let s = cx.doc.project.session();
                        let reg = s.registry();
                        ((*i as usize) < reg.len())
                            .then(|| reg.function(*i).required_capability)
                            .flatten()
                    }
                    _ => None,
                }
                .or_else(|| {
                    Capability::ALL
                        .into_iter()
                        .find(|c| d.message.contains(c.name()))
                });
                if let Some(cap) = cap {
                    if let Some(edit) = declare_edit(cx, d.span, cap) {
                        out.push(action(
                            cx,
                            format!("add `(require-capability {cap})`"),
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

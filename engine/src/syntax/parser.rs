//! The parser: tokens to top-level forms, with the recovery rules of language §2.
//! It never recurses: nesting is an explicit stack, so any input is safe.

use super::lexer::{Lexer, Token, TokenKind};
use super::tree::{Bracket, List, Node, NodeKind, TopForm};
use crate::ground::diagnostic::{Code, Diagnostic};
use crate::ground::span::Span;
use crate::ground::tier::TrustTier;

/// Deepest source nesting accepted (language §1).
pub const MAX_NESTING: usize = 1000;

/// The result of parsing a text.
#[derive(Clone, Debug, Default)]
pub struct Parse {
    /// Top-level forms in order.
    pub forms: Vec<TopForm>,
    /// Syntax diagnostics (E0001, E0002), lexer's included.
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses a whole text. Tokens stream from the lexer; a text that turns out to end
/// with a form still open is parsed again with the column-0 recovery rule of §2,
/// which applies only then.
pub fn parse(text: &str) -> Parse {
    let line_starts = line_starts(text);
    let mut p = Parser::new(text, Some(&line_starts), false);
    p.run();
    if p.unbalanced {
        p = Parser::new(text, Some(&line_starts), true);
        p.run();
    }
    let mut diagnostics = p.diags;
    diagnostics.append(&mut p.lexer.diagnostics);
    let mut forms = p.forms;
    attach_docs(text, &line_starts, &p.comments, &mut forms);
    diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
    Parse { forms, diagnostics }
}

/// A run of top-level forms that parses the same on its own as inside the whole
/// text: the unit the incremental document re-parses. A slot starts at the text's
/// start or at a slot boundary: the start of the line after a complete top-level
/// form (and any comment on the same line), where the parser holds no state and no
/// token crosses. Spans are relative to the slot's start.
#[derive(Clone, Debug, Default)]
pub struct Slot {
    /// Length of the slot's text in bytes.
    pub len: u32,
    /// Its forms and syntax diagnostics.
    pub parse: Parse,
}

/// Parses `text[start..]` slot by slot. After each slot, `stop` is asked with the
/// absolute offset where the next would begin, and parsing ends there when it says
/// so; otherwise it runs to the end of the text. `None` when a form or a string is
/// still open at the end: such a text must be parsed whole with [`parse`] (whose
/// column-0 recovery applies only then). `start` must be 0 or a slot boundary.
pub fn parse_slots(text: &str, start: usize, stop: impl FnMut(usize) -> bool) -> Option<Vec<Slot>> {
    let run = slots_from(text, start, false, true, stop);
    (!run.unbalanced && !run.unterminated_string).then_some(run.slots)
}

/// Parses a whole text that leaves a form or a string open (the case where
/// [`parse_slots`] gives up) slot by slot, exactly as [`parse`] does: with the
/// column-0 recovery rule when a form is left open (a string left open alone does
/// not call for it). Slot boundaries are the same kind of clean line starts. The
/// second result says whether recovery was used.
pub fn parse_slots_whole(text: &str) -> (Vec<Slot>, bool) {
    let plain = slots_from(text, 0, false, false, |_| false);
    if !plain.unbalanced {
        return (plain.slots, false);
    }
    (slots_from(text, 0, true, false, |_| false).slots, true)
}

/// The forms of one slot of a text parsed with recovery (see
/// [`parse_slots_whole`]), read from the slot's text alone.
pub fn parse_slot_recovering(slot: &str) -> Vec<TopForm> {
    let mut p = Parser::new(slot, None, true);
    p.run();
    let mut forms = p.forms;
    attach_docs(slot, &line_starts(slot), &p.comments, &mut forms);
    forms
}

/// What [`slots_from`] read.
struct SlotRun {
    slots: Vec<Slot>,
    /// A slot ended with a form open.
    unbalanced: bool,
    /// A string ran to the end of the text.
    unterminated_string: bool,
}

fn slots_from(
    text: &str,
    start: usize,
    recover: bool,
    give_up: bool,
    mut stop: impl FnMut(usize) -> bool,
) -> SlotRun {
    let mut run = SlotRun {
        slots: Vec::new(),
        unbalanced: false,
        unterminated_string: false,
    };
    let mut pos = start;
    // Lines before the slot, for the line numbers messages name.
    let mut line_base = count_line_ends(&text.as_bytes()[..start]);
    loop {
        let rest = &text[pos..];
        let mut p = Parser::new(rest, None, recover);
        p.line_base = line_base;
        let end = p.run_to_boundary();
        // An unclosed string is read by scanning to the end of the text, so like an
        // unclosed form it makes the text one piece.
        run.unbalanced |= p.unbalanced;
        run.unterminated_string |= p.lexer.unterminated_string;
        if give_up && (run.unbalanced || run.unterminated_string) {
            return run;
        }
        let len = end.unwrap_or(rest.len());
        let slot_text = &rest[..len];
        let mut diagnostics = p.diags;
        diagnostics.extend(
            p.lexer
                .diagnostics
                .into_iter()
                .filter(|d| (d.span.start as usize) < len),
        );
        diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
        let mut forms = p.forms;
        attach_docs(slot_text, &line_starts(slot_text), &p.comments, &mut forms);
        run.slots.push(Slot {
            len: len as u32,
            parse: Parse { forms, diagnostics },
        });
        line_base += count_line_ends(slot_text.as_bytes());
        pos += len;
        if end.is_none() || stop(pos) {
            return run;
        }
    }
}

enum Dot {
    None,
    After(Span),
    Done,
}

struct Frame {
    open: Span,
    bracket: Bracket,
    items: Vec<Node>,
    tail: Option<Node>,
    dot: Dot,
    /// A closer of the wrong kind was reported for it: its message already says
    /// what to write, so it is not reported again as unclosed.
    mismatched: bool,
}

struct Parser<'a> {
    text: &'a str,
    /// Byte offset of each line start: line lookups are binary searches. Absent
    /// when parsing a slot: lines are then counted when a message needs one.
    line_starts: Option<&'a [u32]>,
    lexer: Lexer<'a>,
    /// End of the last token that is not a comment, and of the last token.
    last_end: u32,
    last_any_end: u32,
    /// Comment spans, for doc comments.
    comments: Vec<Span>,
    /// Whether a form was still open at the end.
    unbalanced: bool,
    diags: Vec<Diagnostic>,
    stack: Vec<Frame>,
    /// Pending quote marks with the depth they were written at.
    quotes: Vec<(Span, usize)>,
    forms: Vec<TopForm>,
    annotation: Option<(Option<TrustTier>, Span)>,
    recover_at_column_zero: bool,
    /// Lines before `text` in the whole text (a slot's), for messages.
    line_base: usize,
    /// Whether the top-level form being built has a syntax error.
    top_error: bool,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, line_starts: Option<&'a [u32]>, recover: bool) -> Parser<'a> {
        Parser {
            text,
            line_starts,
            lexer: Lexer::new(text),
            last_end: 0,
            last_any_end: 0,
            comments: Vec::new(),
            unbalanced: false,
            diags: Vec::new(),
            stack: Vec::new(),
            quotes: Vec::new(),
            forms: Vec::new(),
            annotation: None,
            recover_at_column_zero: recover,
            line_base: 0,
            top_error: false,
        }
    }

    fn error(&mut self, code: Code, span: Span, msg: impl Into<String>) -> &mut Diagnostic {
        // An error between top-level forms (a stray `)`, a bad annotation) leaves the
        // next form intact; one inside a form marks that form as broken.
        if !self.stack.is_empty() {
            self.top_error = true;
        }
        self.diags.push(Diagnostic::new(code, span, msg));
        let last = self.diags.len() - 1;
        &mut self.diags[last]
    }

    fn at_column_zero(&self, span: Span) -> bool {
        // After `\n` or a lone `\r` (the token itself is not a `\n`).
        span.start == 0 || matches!(self.text.as_bytes()[span.start as usize - 1], b'\n' | b'\r')
    }

    /// 1-based line of the last token so far that is not a comment.
    fn line_of_previous_token(&self) -> usize {
        let off = self.last_end.saturating_sub(1);
        let line = match self.line_starts {
            Some(ls) => line_of(ls, off),
            None => count_line_ends(&self.text.as_bytes()[..off as usize]),
        };
        self.line_base + line + 1
    }

    fn run(&mut self) {
        while let Some(tok) = self.lexer.next() {
            let span = tok.span;
            self.token(tok);
            self.last_any_end = span.end;
        }
        self.finish();
    }

    /// The end-of-text rules: unclosed forms, dangling quotes and annotations.
    fn finish(&mut self) {
        if !self.stack.is_empty() {
            self.unbalanced = true;
            self.close_all_unclosed();
        }
        self.dangling_quotes(0);
        if let Some((_, span)) = self.annotation.take() {
            self.error(Code::E0002, span, "annotation with no form after it");
        }
    }

    /// Like `run`, but ends at the first slot boundary and returns it; `None` when
    /// the text ended first (then the end-of-text rules have run).
    fn run_to_boundary(&mut self) -> Option<usize> {
        let mut boundary: Option<usize> = None;
        while let Some(tok) = self.lexer.next() {
            let span = tok.span;
            let comment = tok.kind == TokenKind::Comment;
            if let Some(b) = boundary {
                if span.start as usize >= b {
                    return Some(b);
                }
                if !comment {
                    boundary = None;
                }
            }
            self.token(tok);
            self.last_any_end = span.end;
            let clean = self.stack.is_empty()
                && self.quotes.is_empty()
                && self.annotation.is_none()
                && !self.top_error;
            if !comment && clean {
                boundary = line_end_after(self.text, span.end as usize);
            }
        }
        self.finish();
        None
    }

    fn token(&mut self, tok: Token) {
        let span = tok.span;
        match &tok.kind {
            TokenKind::Comment => {
                self.comments.push(span);
                return;
            }
            TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace | TokenKind::HashParen => {
                if self.recover_at_column_zero
                    && !self.stack.is_empty()
                    && self.at_column_zero(span)
                {
                    self.close_all_unclosed();
                }
                let bracket = match tok.kind {
                    TokenKind::LParen => Bracket::Paren,
                    TokenKind::LBrace => Bracket::Brace,
                    TokenKind::HashParen => Bracket::Vector,
                    _ => Bracket::Square,
                };
                if self.stack.len() + self.quotes.len() >= MAX_NESTING {
                    self.error(
                        Code::E0001,
                        span,
                        "nesting too deep (more than 1000 levels)",
                    );
                    let end = self.skip_nested();
                    self.complete(Node {
                        kind: NodeKind::Error,
                        span: Span::new(span.start as usize, end),
                    });
                    return;
                }
                self.stack.push(Frame {
                    open: span,
                    bracket,
                    items: Vec::with_capacity(4),
                    tail: None,
                    dot: Dot::None,
                    mismatched: false,
                });
            }
            TokenKind::RParen => self.close(span, ')'),
            TokenKind::RBracket => self.close(span, ']'),
            TokenKind::RBrace => self.close(span, '}'),
            TokenKind::Quote => {
                // Quotes nest too: `''''a` is as deep as `((((a))))`.
                if self.stack.len() + self.quotes.len() >= MAX_NESTING {
                    // One diagnostic for a run of quotes past the limit, not one each.
                    if !self.top_error {
                        self.error(
                            Code::E0001,
                            span,
                            "nesting too deep (more than 1000 levels)",
                        );
                    }
                    self.top_error = true;
                } else {
                    self.quotes.push((span, self.stack.len()));
                }
            }
            TokenKind::Dot => self.dot(span),
            TokenKind::Annotation => {
                let word = &self.text[span.start as usize + 1..span.end as usize];
                self.annotate(word, span)
            }
            TokenKind::Error => self.complete(Node {
                kind: NodeKind::Error,
                span,
            }),
            kind => {
                let kind = match kind {
                    TokenKind::Int(i) => NodeKind::Int(*i),
                    TokenKind::Float(f) => NodeKind::Float(*f),
                    TokenKind::Str(s) => NodeKind::Str(s.clone()),
                    TokenKind::Symbol => {
                        NodeKind::Symbol(self.text[span.start as usize..span.end as usize].into())
                    }
                    TokenKind::Bool(b) => NodeKind::Bool(*b),
                    _ => NodeKind::Nil,
                };
                self.complete(Node { kind, span });
            }
        }
        self.last_end = span.end;
    }

    /// Skips a too-deep list whose opener was just read; returns its end offset.
    fn skip_nested(&mut self) -> usize {
        let mut depth = 1usize;
        for t in self.lexer.by_ref() {
            self.last_end = t.span.end;
            self.last_any_end = t.span.end;
            if t.kind.is_open() {
                depth += 1;
            } else if t.kind.is_close() {
                depth -= 1;
                if depth == 0 {
                    return t.span.end as usize;
                }
            }
        }
        self.text.len()
    }

    /// Closes every open form, reporting the outermost as unclosed. The innermost
    /// forms that got a closer of the wrong kind count as closed by it (`(+ 1 2]`
    /// is one error, at the `]`, whose help says to write `)`); the ones around
    /// them are still reported.
    fn close_all_unclosed(&mut self) {
        let fixed = self.stack.iter().rev().take_while(|f| f.mismatched).count();
        let open = self.stack.len() - fixed;
        if open > 0 {
            let closers: String = self.stack[..open]
                .iter()
                .rev()
                .map(|f| f.bracket.close())
                .collect();
            let line = self.line_of_previous_token();
            let outer = self.stack[0].open;
            let open_char = self.stack[0].bracket.open();
            self.error(Code::E0001, outer, format!("unclosed `{open_char}`"))
                .help = Some(format!("add `{closers}` at the end of line {line}"));
        }
        self.top_error = true;
        while let Some(frame) = self.stack.pop() {
            let end = self.last_any_end.max(frame.open.end);
            self.finish_frame(frame, end.max(frame_end_floor(&self.stack)));
        }
    }

    fn close(&mut self, span: Span, ch: char) {
        match self.stack.last() {
            None => {
                self.error(
                    Code::E0001,
                    span,
                    format!("unexpected `{ch}` with no opening delimiter"),
                );
            }
            Some(f) if f.bracket.close() != ch => {
                // The opener is named by a related span, not a line number, so the
                // message stays true when lines are added above (incremental reuse).
                let (open, opened, close) = (f.bracket.open(), f.open, f.bracket.close());
                let d = self.error(Code::E0001, span, format!("`{ch}` does not close `{open}`"));
                d.help = Some(format!("write `{close}`"));
                d.related.push(crate::ground::diagnostic::Related {
                    span: opened,
                    message: format!("`{open}` opened here"),
                });
                if let Some(f) = self.stack.last_mut() {
                    f.mismatched = true;
                }
            }
            Some(_) => {
                let frame = self.stack.pop().expect("checked non-empty");
                self.finish_frame(frame, span.end);
            }
        }
    }

    fn finish_frame(&mut self, frame: Frame, end: u32) {
        let span = Span {
            start: frame.open.start,
            end,
        };
        self.dangling_quotes(self.stack.len() + 1);
        if let Dot::After(d) = frame.dot {
            self.error(Code::E0001, d, "`.` must be followed by exactly one datum");
        }
        if matches!(frame.bracket, Bracket::Brace | Bracket::Vector) {
            let items = frame.items;
            let kind = if frame.bracket == Bracket::Vector {
                NodeKind::Vector(items)
            } else {
                if items.len() % 2 == 1 {
                    let last = items[items.len() - 1].span;
                    self.error(
                        Code::E0001,
                        last,
                        "a dict literal needs a value after each key: this key has none",
                    );
                }
                NodeKind::Dict(items)
            };
            self.complete(Node { kind, span });
            return;
        }
        let list = List {
            items: frame.items,
            tail: frame.tail,
            bracket: frame.bracket,
        };
        self.complete(Node {
            kind: NodeKind::List(Box::new(list)),
            span,
        });
    }

    /// Reports quote marks at `depth` with nothing after them.
    fn dangling_quotes(&mut self, depth: usize) {
        while let Some(&(q, d)) = self.quotes.last() {
            if d != depth {
                break;
            }
            self.quotes.pop();
            self.error(Code::E0001, q, "`'` must be followed by a datum");
        }
    }

    fn dot(&mut self, span: Span) {
        let Some(frame) = self.stack.last_mut() else {
            self.error(Code::E0001, span, "`.` outside a list");
            return;
        };
        if matches!(frame.bracket, Bracket::Brace | Bracket::Vector) {
            self.error(
                Code::E0001,
                span,
                "a `.` cannot stand in a vector or dict literal",
            );
            return;
        }
        if frame.items.is_empty() || !matches!(frame.dot, Dot::None) {
            self.error(Code::E0001, span, "misplaced `.`: write `(a . b)`");
            return;
        }
        frame.dot = Dot::After(span);
    }

    fn annotate(&mut self, word: &str, span: Span) {
        if !self.stack.is_empty() {
            self.error(
                Code::E0002,
                span,
                "an annotation may only stand before a top-level form",
            )
            .help = Some("use a tier form instead: `(:formal ...)`".into());
            return;
        }
        if let Some((_, prev)) = self.annotation.take() {
            self.error(
                Code::E0002,
                prev,
                "annotation followed by another annotation",
            );
        }
        let tier = TrustTier::from_name(word);
        if tier.is_none() {
            let d = self.error(Code::E0002, span, format!("unknown annotation `@{word}`"));
            d.help = Some("tiers are @formal, @verified, @empirical and @experimental".into());
            if let Some(s) =
                crate::ground::suggest::closest(word, TrustTier::ALL.iter().map(|t| t.name()))
            {
                d.suggestion = Some(format!("@{s}"));
                d.help = Some(format!("did you mean `@{s}`?"));
            }
        }
        self.annotation = Some((tier, span));
    }

    /// A datum is finished: apply pending quotes, then add it to its list or the top level.
    fn complete(&mut self, mut node: Node) {
        let depth = self.stack.len();
        while let Some(&(q, d)) = self.quotes.last() {
            if d != depth {
                break;
            }
            self.quotes.pop();
            let span = q.join(node.span);
            node = Node {
                kind: NodeKind::Quote(Box::new(node)),
                span,
            };
        }
        match self.stack.last_mut() {
            Some(frame) => match frame.dot {
                Dot::None => frame.items.push(node),
                Dot::After(_) => {
                    frame.tail = Some(node);
                    frame.dot = Dot::Done;
                }
                Dot::Done => {
                    let span = node.span;
                    self.error(Code::E0001, span, "only one datum may follow `.`");
                }
            },
            None => {
                let annotation = self.annotation.take().and_then(|(t, s)| t.map(|t| (t, s)));
                let has_error = std::mem::take(&mut self.top_error);
                self.forms.push(TopForm {
                    node,
                    annotation,
                    doc: None,
                    has_error,
                });
            }
        }
    }
}

/// A frame closed by recovery ends no earlier than where its parent started.
fn frame_end_floor(stack: &[Frame]) -> u32 {
    stack.last().map_or(0, |f| f.open.end)
}

/// Byte offsets where lines start; `\n`, `\r\n` and a lone `\r` end a line, as
/// for the lexer, `SourceFile` and the language server.
fn line_starts(text: &str) -> Vec<u32> {
    crate::ground::span::line_starts(text)
}

/// How many line ends `bytes` holds (`\r\n` is one; a `\r` at the very end counts).
fn count_line_ends(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
        .count()
}

/// The start of the line after the one holding `from`: just past its `\n`,
/// `\r\n` or lone `\r`; `None` on the last line.
fn line_end_after(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let i = from
        + bytes[from..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')?;
    Some(if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
        i + 2
    } else {
        i + 1
    })
}

/// 0-based line of a byte offset.
fn line_of(starts: &[u32], off: u32) -> usize {
    starts.partition_point(|s| *s <= off) - 1
}

/// Attaches the `;;` lines directly above each top-level form (annotation lines between allowed).
fn attach_docs(text: &str, starts: &[u32], comments: &[Span], forms: &mut [TopForm]) {
    if comments.is_empty() {
        return;
    }
    let line_of = |off: u32| line_of(starts, off);
    let line_start = |off: u32| starts[line_of(off)] as usize;
    for form in forms.iter_mut() {
        let start = form.full_span().start;
        let mut line = line_of(start);
        let mut lines = Vec::new();
        // Walk back over comments that each sit alone on the line just above.
        let idx = comments.partition_point(|c| c.start < start);
        for c in comments[..idx].iter().rev() {
            let cline = line_of(c.start);
            let alone = text[line_start(c.start)..c.start as usize]
                .trim()
                .is_empty();
            let body = &text[c.start as usize..c.end as usize];
            if cline + 1 != line || !alone || !body.starts_with(";;") {
                break;
            }
            let body = body.trim_start_matches(";;");
            lines.push(
                body.strip_prefix(' ')
                    .unwrap_or(body)
                    .trim_end()
                    .to_string(),
            );
            line = cline;
        }
        if !lines.is_empty() {
            lines.reverse();
            form.doc = Some(lines.join("\n"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &str) -> Vec<(Code, u32)> {
        parse(text)
            .diagnostics
            .iter()
            .map(|d| (d.code, d.span.start))
            .collect()
    }

    #[test]
    fn several_forms() {
        let p = parse("1 (a b) '(c . d) [x]");
        assert!(p.diagnostics.is_empty());
        assert_eq!(p.forms.len(), 4);
        assert!(matches!(p.forms[2].node.kind, NodeKind::Quote(_)));
    }

    #[test]
    fn unclosed_form_recovers_at_column_zero() {
        let text = "(define (f x)\n  (+ x 1)\n\n(define (g y) y)\n";
        let p = parse(text);
        assert_eq!(p.diagnostics.len(), 1, "{:?}", p.diagnostics);
        assert_eq!(p.diagnostics[0].span.start, 0);
        assert_eq!(
            p.diagnostics[0].help.as_deref(),
            Some("add `)` at the end of line 2")
        );
        assert_eq!(p.forms.len(), 2);
        assert!(p.forms[0].has_error);
        assert!(!p.forms[1].has_error);
    }

    #[test]
    fn balanced_text_ignores_layout() {
        let p = parse("(define (f x)\n(+ x 1))\n");
        assert!(p.diagnostics.is_empty());
        assert_eq!(p.forms.len(), 1);
    }

    #[test]
    fn stray_and_mismatched_closers() {
        assert_eq!(codes(") (a)"), vec![(Code::E0001, 0)]);
        let p = parse("(let ([x 1)) x)");
        assert!(!p.diagnostics.is_empty());
    }

    #[test]
    fn dots() {
        assert!(codes("'(1 . 2)").is_empty());
        assert_eq!(codes("(. 1)").len(), 1);
        assert_eq!(codes("(1 . 2 3)").len(), 1);
        assert_eq!(codes("(1 .)").len(), 1);
        assert_eq!(codes(".").len(), 1);
    }

    #[test]
    fn annotations() {
        let p = parse("@formal\n\n; c\n(define x 1)");
        assert!(p.diagnostics.is_empty());
        assert_eq!(p.forms[0].annotation.map(|a| a.0), Some(TrustTier::Formal));
        assert_eq!(codes("@bogus 1")[0].0, Code::E0002);
        assert_eq!(codes("@formal @verified 1")[0].0, Code::E0002);
        assert_eq!(codes("(a @formal b)")[0].0, Code::E0002);
        assert_eq!(codes("1 @formal")[0].0, Code::E0002);
    }

    #[test]
    fn deep_nesting_is_a_diagnostic() {
        let text = "(".repeat(100_000) + &")".repeat(100_000);
        let p = parse(&text);
        assert_eq!(p.diagnostics.len(), 1);
        assert!(p.diagnostics[0].message.contains("nesting too deep"));
        let unclosed = "(".repeat(100_000);
        let p = parse(&unclosed);
        assert!(!p.diagnostics.is_empty());
    }

    #[test]
    fn doc_comments() {
        let p =
            parse(";; Adds one.\n;; Really.\n(define (inc x) (+ x 1))\n; not doc\n\n(define y 2)");
        assert_eq!(p.forms[0].doc.as_deref(), Some("Adds one.\nReally."));
        assert_eq!(p.forms[1].doc, None);
    }
}

//! The lexer: text to tokens with byte spans. The parser, the REPL's validator and
//! highlighter, and the language server's semantic tokens all read this one stream.

use crate::ground::diagnostic::{Code, Diagnostic};
use crate::ground::number::{self, Number};
use crate::ground::span::Span;

/// What a token is.
#[derive(Clone, Debug, PartialEq)]
pub enum TokenKind {
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `{`, opening a dict literal.
    LBrace,
    /// `}`
    RBrace,
    /// `#(`, opening a vector literal (closed by `)`).
    HashParen,
    /// `'`
    Quote,
    /// A lone `.`
    Dot,
    /// Integer literal.
    Int(i64),
    /// Float literal.
    Float(f64),
    /// String literal, escapes decoded.
    Str(Box<str>),
    /// Symbol, keywords included (`:formal`); its name is the text at the span.
    Symbol,
    /// `true` / `false`.
    Bool(bool),
    /// `nil`.
    Nil,
    /// `@word`; the word is the text at the span after `@`.
    Annotation,
    /// `;` to the end of the line.
    Comment,
    /// Text that could not be read (already diagnosed).
    Error,
}

impl TokenKind {
    /// Whether this opens a list.
    pub fn is_open(&self) -> bool {
        matches!(
            self,
            TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace | TokenKind::HashParen
        )
    }
    /// Whether this closes a list.
    pub fn is_close(&self) -> bool {
        matches!(
            self,
            TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace
        )
    }
}

/// A token and where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Where it is.
    pub span: Span,
}

/// The tokens of a text and the diagnostics met while reading them.
#[derive(Clone, Debug, Default)]
pub struct Lexed {
    /// Tokens in order, comments included, white space left out.
    pub tokens: Vec<Token>,
    /// E0001 for bad tokens, escapes and unterminated strings.
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads a whole text into tokens.
pub fn lex(text: &str) -> Lexed {
    let mut lx = Lexer::new(text);
    let tokens = lx.by_ref().collect();
    Lexed {
        tokens,
        diagnostics: lx.diagnostics,
    }
}

/// A streaming lexer: yields tokens one at a time, collecting diagnostics.
pub struct Lexer<'a> {
    text: &'a str,
    pos: usize,
    slot: Option<Token>,
    /// Diagnostics met so far.
    pub diagnostics: Vec<Diagnostic>,
    /// Whether a string ran to the end of the text unclosed: how it is read then
    /// depends on all the text after it (see `parse_slots`).
    pub unterminated_string: bool,
}

impl Iterator for Lexer<'_> {
    type Item = Token;
    fn next(&mut self) -> Option<Token> {
        self.scan_one()
    }
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `text`.
    pub fn new(text: &'a str) -> Lexer<'a> {
        Lexer {
            text,
            pos: 0,
            slot: None,
            diagnostics: Vec::new(),
            unterminated_string: false,
        }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn push(&mut self, kind: TokenKind, start: usize) {
        self.slot = Some(Token {
            kind,
            span: Span::new(start, self.pos),
        });
    }

    fn error(&mut self, span: Span, message: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::new(Code::E0001, span, message));
    }

    /// Scans up to and including the next token.
    fn scan_one(&mut self) -> Option<Token> {
        let bytes = self.text.as_bytes();
        while self.pos < bytes.len() {
            // ASCII white space is by far the most common byte: skip it without decoding.
            if matches!(bytes[self.pos], b' ' | b'\n' | b'\t' | b'\r') {
                self.pos += 1;
                continue;
            }
            let Some(c) = self.peek() else { break };
            let start = self.pos;
            match c {
                c if c.is_whitespace() => self.pos += c.len_utf8(),
                '(' => self.single(TokenKind::LParen),
                ')' => self.single(TokenKind::RParen),
                '[' => self.single(TokenKind::LBracket),
                ']' => self.single(TokenKind::RBracket),
                '{' => self.single(TokenKind::LBrace),
                '}' => self.single(TokenKind::RBrace),
                '#' if self.text[start..].starts_with("#(") => {
                    self.pos += 2;
                    self.push(TokenKind::HashParen, start);
                }
                '#' => {
                    self.pos += 1;
                    self.word();
                    self.push(TokenKind::Error, start);
                    self.error(
                        Span::new(start, self.pos),
                        "`#` starts only a vector literal `#(`",
                    );
                }
                '\'' => self.single(TokenKind::Quote),
                ';' => {
                    // A comment ends at any line end: `\n`, `\r\n` or a lone `\r`.
                    let end = self.text[start..]
                        .find(['\n', '\r'])
                        .map_or(self.text.len(), |i| start + i);
                    self.pos = end;
                    self.push(TokenKind::Comment, start);
                }
                '"' => self.string(),
                '@' => {
                    self.pos += 1;
                    self.word();
                    self.push(TokenKind::Annotation, start);
                }
                _ => {
                    let word = self.word();
                    let kind = classify(word);
                    match kind {
                        Ok(kind) => self.push(kind, start),
                        Err(msg) => {
                            self.push(TokenKind::Error, start);
                            self.error(Span::new(start, self.pos), msg);
                        }
                    }
                }
            }
            if self.slot.is_some() {
                return self.slot.take();
            }
        }
        self.slot.take()
    }

    fn single(&mut self, kind: TokenKind) {
        let start = self.pos;
        self.pos += 1;
        self.push(kind, start);
    }

    /// Consumes a run of non-delimiter characters.
    fn word(&mut self) -> &'a str {
        let text: &'a str = self.text;
        let bytes = text.as_bytes();
        let start = self.pos;
        let mut i = start;
        while i < bytes.len() {
            let b = bytes[i];
            if b < 0x80 {
                if b.is_ascii_whitespace()
                    || matches!(b, b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'"' | b';')
                {
                    break;
                }
                i += 1;
            } else {
                // Non-ASCII: decode, since Unicode white space also ends a word.
                let c = text[i..].chars().next().unwrap_or(' ');
                if c.is_whitespace() {
                    break;
                }
                i += c.len_utf8();
            }
        }
        self.pos = i;
        &text[start..i]
    }

    fn string(&mut self) {
        let start = self.pos;
        self.pos += 1;
        let mut value = String::new();
        loop {
            let Some(c) = self.peek() else {
                // Unterminated: report at the opening quote, resume at the next line.
                self.error(Span::new(start, start + 1), "unterminated string");
                self.unterminated_string = true;
                let resume = self.text[start..]
                    .find(['\n', '\r'])
                    .map_or(self.text.len(), |i| start + i + 1);
                self.pos = resume;
                self.push(TokenKind::Error, start);
                return;
            };
            self.pos += c.len_utf8();
            match c {
                '"' => break,
                '\\' => {
                    let esc_start = self.pos - 1;
                    match self.peek() {
                        Some('n') => value.push('\n'),
                        Some('t') => value.push('\t'),
                        Some('r') => value.push('\r'),
                        Some('0') => value.push('\0'),
                        Some('"') => value.push('"'),
                        Some('\\') => value.push('\\'),
                        Some('u') => {
                            self.pos += 1;
                            match self.unicode_escape() {
                                Some(ch) => value.push(ch),
                                None => self.error(
                                    Span::new(esc_start, self.pos),
                                    "bad unicode escape: write `\\u{1F600}`, a hexadecimal scalar value in braces",
                                ),
                            }
                            continue;
                        }
                        Some(other) => {
                            let end = self.pos + other.len_utf8();
                            self.error(
                                Span::new(esc_start, end),
                                format!("unknown escape `\\{other}`"),
                            );
                        }
                        None => continue,
                    }
                    if let Some(c) = self.peek() {
                        self.pos += c.len_utf8();
                    }
                }
                c => value.push(c),
            }
        }
        self.push(TokenKind::Str(value.into()), start);
    }

    /// Reads `{HEX}` after `\u`; consumes what it can.
    fn unicode_escape(&mut self) -> Option<char> {
        if self.peek() != Some('{') {
            return None;
        }
        let rest = &self.text[self.pos..];
        let close = rest.find(['}', '"', '\n'])?;
        if rest.as_bytes()[close] != b'}' {
            return None;
        }
        let hex = &rest[1..close];
        self.pos += close + 1;
        if hex.is_empty() || hex.len() > 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
    }
}

/// Reads a whole string as a number literal of §1 (`string->number`).
pub fn read_number(s: &str) -> Option<TokenKind> {
    match classify(s) {
        Ok(k @ (TokenKind::Int(_) | TokenKind::Float(_))) => Some(k),
        _ => None,
    }
}

/// Decides what a bare word is: number, literal, dot or symbol.
fn classify(word: &str) -> Result<TokenKind, String> {
    match word {
        "." => return Ok(TokenKind::Dot),
        "true" => return Ok(TokenKind::Bool(true)),
        "false" => return Ok(TokenKind::Bool(false)),
        "nil" => return Ok(TokenKind::Nil),
        _ => {}
    }
    match number::read(word) {
        Some(Ok(Number::Int(i))) => Ok(TokenKind::Int(i)),
        Some(Ok(Number::Float(f))) => Ok(TokenKind::Float(f)),
        Some(Err(e)) => Err(e.to_string()),
        None => Ok(TokenKind::Symbol),
    }
}

/// Whether a text ends inside an open form or string, or after an annotation:
/// the REPL keeps reading lines while this holds.
pub fn is_incomplete(text: &str) -> bool {
    let lexed = lex(text);
    if lexed
        .diagnostics
        .iter()
        .any(|d| d.message == "unterminated string")
    {
        return true;
    }
    let mut depth: i64 = 0;
    let mut last_significant = None;
    for t in &lexed.tokens {
        match t.kind {
            ref k if k.is_open() => depth += 1,
            ref k if k.is_close() => depth = (depth - 1).max(0),
            _ => {}
        }
        if t.kind != TokenKind::Comment {
            last_significant = Some(&t.kind);
        }
    }
    depth > 0
        || matches!(
            last_significant,
            Some(TokenKind::Annotation) | Some(TokenKind::Quote)
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<TokenKind> {
        lex(s).tokens.into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn numbers_and_symbols() {
        assert_eq!(
            kinds("-7 1.0 1e16 - 1+ 1.2.3"),
            vec![
                TokenKind::Int(-7),
                TokenKind::Float(1.0),
                TokenKind::Float(1e16),
                TokenKind::Symbol,
                TokenKind::Symbol,
                TokenKind::Symbol,
            ]
        );
        let text = "math:add is-even? my_var λ :formal a\u{2003}b";
        let l = lex(text);
        let words: Vec<&str> = l
            .tokens
            .iter()
            .map(|t| &text[t.span.start as usize..t.span.end as usize])
            .collect();
        assert_eq!(
            words,
            ["math:add", "is-even?", "my_var", "λ", ":formal", "a", "b"]
        );
        assert!(l.tokens.iter().all(|t| t.kind == TokenKind::Symbol));
    }

    #[test]
    fn out_of_range_integer_is_an_error() {
        let l = lex("99999999999999999999");
        assert_eq!(l.diagnostics.len(), 1);
        assert_eq!(l.diagnostics[0].code, Code::E0001);
    }

    #[test]
    fn string_escapes() {
        assert_eq!(
            kinds(r#""a\n\t\"\\\u{1F600}""#),
            vec![TokenKind::Str("a\n\t\"\\😀".into())]
        );
        let l = lex(r#""bad \q escape""#);
        assert_eq!(l.diagnostics.len(), 1);
        assert_eq!(l.diagnostics[0].span, Span::new(5, 7));
    }

    #[test]
    fn unterminated_string_resumes_next_line() {
        let l = lex("\"abc\n(+ 1 2)");
        assert_eq!(l.diagnostics.len(), 1);
        assert_eq!(l.diagnostics[0].span, Span::new(0, 1));
        assert!(l.tokens.iter().any(|t| t.kind == TokenKind::Int(1)));
    }

    #[test]
    fn a_lone_cr_ends_comments_and_unterminated_strings() {
        // The form after a comment ended by a lone CR is code, not comment.
        let l = lex("; note\r(+ 1 2)");
        assert_eq!(l.tokens[0].kind, TokenKind::Comment);
        assert_eq!(l.tokens[0].span, Span::new(0, 6));
        assert!(l.tokens.iter().any(|t| t.kind == TokenKind::Int(1)));
        let l = lex("; note\r\n(+ 1 2)");
        assert_eq!(l.tokens[0].span, Span::new(0, 6));
        let l = lex("\"abc\r(+ 1 2)");
        assert_eq!(l.diagnostics.len(), 1);
        assert!(l.tokens.iter().any(|t| t.kind == TokenKind::Int(2)));
    }

    #[test]
    fn incomplete_inputs() {
        assert!(is_incomplete("(define (f x)"));
        assert!(is_incomplete("\"abc"));
        assert!(is_incomplete("@formal"));
        assert!(!is_incomplete("(+ 1 2)"));
        assert!(!is_incomplete(")"));
    }
}

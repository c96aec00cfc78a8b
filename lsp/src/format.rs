//! Formatting (tooling §3): whitespace only, idempotent, comments kept.
//!
//! A form that fits in 80 columns stays on one line; otherwise the head and first
//! argument stay on the first line and the rest align under the first argument.
//! Bodies of definitions, lambdas, `let`-family, `when`/`unless`, `cond` clauses,
//! `try`/`catch` and tier forms indent by 2. At most one blank line between
//! top-level forms; no trailing spaces; one final newline. A text with a syntax
//! error is left alone.

use crate::features::Ctx;
use crate::text::span_to_range;
use jue_engine::syntax::lexer::{TokenKind, lex};
use tower_lsp_server::ls_types::TextEdit;

const WIDTH: usize = 80;

#[derive(Debug)]
enum Elem {
    Atom(String),
    /// A comment; `trailing` when it followed other code on its line.
    Comment {
        text: String,
        trailing: bool,
    },
    List {
        open: char,
        close: char,
        items: Vec<Item>,
    },
    Quote(Box<Elem>),
}

/// An element and whether a blank line preceded it in the original.
#[derive(Debug)]
struct Item {
    elem: Elem,
    blank_before: bool,
    newline_before: bool,
}

fn parse(text: &str) -> Option<Vec<Item>> {
    let lexed = lex(text);
    if !lexed.diagnostics.is_empty() {
        return None;
    }
    let mut stack: Vec<(char, Vec<Item>)> = vec![(' ', Vec::new())];
    let mut quotes: Vec<usize> = Vec::new(); // depth of pending quote marks
    let mut prev_end = 0usize;
    let mut pending_gap: Option<(bool, bool)> = None;
    for t in &lexed.tokens {
        let (s, e) = (t.span.start as usize, t.span.end as usize);
        let gap = &text[prev_end..s];
        let nl = gap.matches('\n').count();
        prev_end = e;
        let (blank, newline) = pending_gap.take().unwrap_or((nl >= 2, nl >= 1));
        let word = &text[s..e];
        let elem = match &t.kind {
            TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace | TokenKind::HashParen => {
                // `#` stands for the vector opener `#(`.
                stack.push((word.chars().next().unwrap_or('('), Vec::new()));
                // The list's own gap is recorded when it closes.
                stack.last_mut()?.1.push(Item {
                    elem: Elem::Atom(String::new()),
                    blank_before: blank,
                    newline_before: newline,
                });
                continue;
            }
            TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => {
                let (open, mut items) = stack.pop()?;
                if stack.is_empty() {
                    return None;
                }
                let marker = items.remove(0);
                let close = match open {
                    '[' => ']',
                    '{' => '}',
                    _ => ')',
                };
                let mut elem = Elem::List { open, close, items };
                while quotes.last() == Some(&stack.len()) {
                    quotes.pop();
                    elem = Elem::Quote(Box::new(elem));
                }
                stack.last_mut()?.1.push(Item {
                    elem,
                    blank_before: marker.blank_before,
                    newline_before: marker.newline_before,
                });
                continue;
            }
            TokenKind::Quote => {
                quotes.push(stack.len());
                pending_gap = Some((blank, newline));
                continue;
            }
            TokenKind::Comment => Elem::Comment {
                text: word.trim_end().to_string(),
                trailing: !newline && s > 0,
            },
            TokenKind::Error => return None,
            _ => Elem::Atom(word.to_string()),
        };
        let mut elem = elem;
        if !matches!(elem, Elem::Comment { .. }) {
            while quotes.last() == Some(&stack.len()) {
                quotes.pop();
                elem = Elem::Quote(Box::new(elem));
            }
        }
        // A list's items start after the marker; keep the marker first.
        stack.last_mut()?.1.push(Item {
            elem,
            blank_before: blank,
            newline_before: newline,
        });
    }
    if stack.len() != 1 || !quotes.is_empty() {
        return None;
    }
    stack.pop().map(|(_, items)| items)
}

fn flat(e: &Elem) -> Option<String> {
    match e {
        Elem::Atom(a) => (!a.contains('\n')).then(|| a.clone()),
        Elem::Comment { .. } => None,
        Elem::Quote(q) => flat(q).map(|s| format!("'{s}")),
        Elem::List { open, close, items } => {
            let mut parts = Vec::new();
            for i in items {
                parts.push(flat(&i.elem)?);
            }
            Some(format!("{}{}{close}", open_text(*open), parts.join(" ")))
        }
    }
}

fn width(s: &str) -> usize {
    s.chars().count()
}

/// How many arguments after the head stay on the first line of a body form.
fn body_header(head: &str, items: &[Item]) -> Option<usize> {
    let second_is_symbol = matches!(items.get(1).map(|i| &i.elem), Some(Elem::Atom(_)));
    Some(match head {
        "define" => 1,
        "def" => {
            if items.len() >= 4 && matches!(items.get(2).map(|i| &i.elem), Some(Elem::List { .. }))
            {
                2
            } else {
                1
            }
        }
        "lambda" | "fn" | "λ" => 1,
        "let" | "let*" | "letrec" => {
            if second_is_symbol {
                2
            } else {
                1
            }
        }
        "when" | "unless" | "catch" => 1,
        "try" | "cond" => 0,
        h if h.starts_with(':') && jue_engine::TrustTier::from_name(&h[1..]).is_some() => 0,
        _ => return None,
    })
}

/// Renders an element starting at column `col` (the caller has written up to `col`).
fn render(e: &Elem, col: usize, out: &mut String) {
    match e {
        Elem::Atom(a) => out.push_str(a),
        Elem::Comment { text, .. } => out.push_str(text),
        Elem::Quote(q) => {
            out.push('\'');
            render(q, col + 1, out);
        }
        Elem::List { open, close, items } => {
            if let Some(f) = flat(e) {
                if col + width(&f) <= WIDTH {
                    out.push_str(&f);
                    return;
                }
            }
            out.push_str(open_text(*open));
            if items.is_empty() {
                out.push(*close);
                return;
            }
            let head_atom = match &items[0].elem {
                Elem::Atom(a) => Some(a.as_str()),
                _ => None,
            };
            // First line: the head and, by style, some arguments.
            let (header, indent) = match head_atom.and_then(|h| body_header(h, items)) {
                Some(n) => (n, col + 2),
                None => match head_atom {
                    Some(h)
                        if items.len() > 1 && !matches!(items[1].elem, Elem::Comment { .. }) =>
                    {
                        (1, col + 1 + width(h) + 1)
                    }
                    _ => (0, col + 1),
                },
            };
            let mut cur = col + 1;
            let mut last_comment = false;
            let mut i = 0;
            // Head and header arguments on the first line (until a comment).
            while i < items.len() && i <= header {
                let it = &items[i];
                if let Elem::Comment { trailing, .. } = it.elem {
                    if i == 0 || !trailing {
                        break;
                    }
                }
                if i > 0 {
                    out.push(' ');
                    cur += 1;
                }
                let start = out.len();
                render(&it.elem, cur, out);
                cur = last_line_width(out, start, cur);
                last_comment = matches!(it.elem, Elem::Comment { .. });
                i += 1;
                if last_comment {
                    break;
                }
            }
            for it in &items[i..] {
                let trailing = matches!(it.elem, Elem::Comment { trailing: true, .. });
                if trailing && !last_comment && i > 0 {
                    out.push(' ');
                    cur += 1;
                } else {
                    if it.blank_before {
                        out.push('\n');
                    }
                    out.push('\n');
                    out.push_str(&" ".repeat(indent));
                    cur = indent;
                }
                let start = out.len();
                render(&it.elem, cur, out);
                cur = last_line_width(out, start, cur);
                last_comment = matches!(it.elem, Elem::Comment { .. });
                i += 1;
            }
            if last_comment {
                out.push('\n');
                out.push_str(&" ".repeat(indent));
            }
            out.push(*close);
        }
    }
}

fn last_line_width(out: &str, start: usize, col: usize) -> usize {
    let written = &out[start..];
    match written.rfind('\n') {
        Some(i) => width(&written[i + 1..]),
        None => col + width(written),
    }
}

/// The formatted text, or `None` for a text with a syntax error.
pub fn format_text(text: &str) -> Option<String> {
    let items = parse(text)?;
    let mut out = String::new();
    let mut prev_annotation = false;
    let mut first = true;
    for it in &items {
        let trailing = matches!(it.elem, Elem::Comment { trailing: true, .. });
        if !first {
            if trailing || (prev_annotation && !it.newline_before) {
                out.push(' ');
            } else {
                if it.blank_before {
                    out.push('\n');
                }
                out.push('\n');
            }
        }
        let line_start = out.rfind('\n').map_or(0, |i| i + 1);
        let col = width(&out[line_start..]);
        render(&it.elem, col, &mut out);
        prev_annotation = matches!(&it.elem, Elem::Atom(a) if a.starts_with('@'));
        first = false;
    }
    // No trailing spaces (outside strings: lines are rebuilt, so only comments could carry them).
    let mut result: String = out
        .split('\n')
        .map(|l| l.trim_end_matches([' ', '\t']))
        .collect::<Vec<_>>()
        .join("\n");
    if !result.is_empty() {
        result.push('\n');
    }
    Some(result)
}

/// One edit replacing the whole document with its formatted text (none if unchanged).
pub fn formatting_edits(cx: &Ctx<'_>) -> Option<Vec<TextEdit>> {
    let text = cx.doc.text();
    let formatted = format_text(text)?;
    if formatted == text {
        return Some(Vec::new());
    }
    let range = span_to_range(&cx.doc.rope, 0, text.len(), cx.enc);
    Some(vec![TextEdit::new(range, formatted)])
}

/// The opening delimiter a list was written with (`#` stands for `#(`).
fn open_text(open: char) -> &'static str {
    match open {
        '#' => "#(",
        '[' => "[",
        '{' => "{",
        _ => "(",
    }
}

#[cfg(test)]
mod tests {
    use super::format_text;

    fn idem(src: &str) -> String {
        let once = format_text(src).expect("formats");
        let twice = format_text(&once).expect("formats again");
        assert_eq!(once, twice, "not idempotent for:\n{src}");
        once
    }

    #[test]
    fn vectors_and_dicts_keep_their_delimiters() {
        assert_eq!(
            idem("(define   v  #(1  2 \"a\"))\n(define d {\"a\"   #(1)  :b   '{x 1}})"),
            "(define v #(1 2 \"a\"))\n(define d {\"a\" #(1) :b '{x 1}})\n"
        );
        let long = "(define config {\"name\" \"a fairly long name here\" \"items\" #(1 2 3 4 5 6 7 8 9 10) \"nested\" {:k #(\"x\" \"y\")}})";
        let out = idem(long);
        assert!(
            out.contains("#(1 2 3 4 5 6 7 8 9 10)") && out.contains("{:k #(\"x\" \"y\")}"),
            "{out}"
        );
    }

    #[test]
    fn short_forms_stay_on_one_line() {
        assert_eq!(
            idem("(define   (f x)\n   (* x 2))\n\n\n\n(f 21)"),
            "(define (f x) (* x 2))\n\n(f 21)\n"
        );
    }

    #[test]
    fn long_forms_break_with_body_indent_and_alignment() {
        let src = "(define (fetch-all urls) (map (lambda (u) (net:http-get u)) urls) (println \"done with all of the urls, and a long message\"))";
        let out = idem(src);
        assert_eq!(
            out,
            "(define (fetch-all urls)\n  (map (lambda (u) (net:http-get u)) urls)\n  (println \"done with all of the urls, and a long message\"))\n"
        );
        let call =
            "(some-function-name first-argument second-argument third-argument fourth-argument)";
        assert_eq!(
            idem(call),
            "(some-function-name first-argument\n                    second-argument\n                    third-argument\n                    fourth-argument)\n"
        );
    }

    #[test]
    fn comments_are_kept() {
        let src = ";; doc\n(define (f x) ; trailing\n  ;; inside\n  x)   \n; end\n";
        let out = idem(src);
        assert!(
            out.contains(";; doc\n(define (f x) ; trailing\n  ;; inside\n  x)"),
            "{out}"
        );
        assert!(out.ends_with("; end\n"));
        assert!(!out.lines().any(|l| l.ends_with(' ')));
        let quoted = idem("@formal (define xs '(1 2   3))\n(cond ((= 1 2) 'a) (else 'b))");
        assert_eq!(
            quoted,
            "@formal (define xs '(1 2 3))\n(cond ((= 1 2) 'a) (else 'b))\n"
        );
    }

    #[test]
    fn syntax_errors_are_left_alone() {
        assert!(format_text("(define (f x)").is_none());
        assert_eq!(format_text("").as_deref(), Some(""));
    }
}

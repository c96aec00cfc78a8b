//! Walking the engine's syntax tree and token stream: ancestors of a position,
//! the enclosing call, names in scope. No language rules live here beyond which
//! special forms bind names.

use jue_engine::syntax::lexer::{Token, TokenKind};
use jue_engine::syntax::tree::{Node, NodeKind, TopForm};

/// The children of a node (list items and tail, or a quoted datum).
pub fn children(n: &Node) -> Vec<&Node> {
    match &n.kind {
        NodeKind::List(l) => l.items.iter().chain(l.tail.iter()).collect(),
        NodeKind::Quote(q) => vec![q],
        _ => Vec::new(),
    }
}

/// Whether a list node was closed (its last character is its closing bracket).
pub fn is_closed(text: &str, n: &Node) -> bool {
    matches!(
        text.as_bytes().get((n.span.end as usize).wrapping_sub(1)),
        Some(b')' | b']')
    ) && n.span.len() >= 2
}

/// Whether `off` lies inside a list (after its opening bracket, before its closing one;
/// anywhere after the opening one for an unclosed list).
pub fn inside_list(text: &str, n: &Node, off: u32) -> bool {
    n.as_list().is_some() && n.span.start < off && (off < n.span.end || !is_closed(text, n))
}

/// The top-level form at or just before `off`.
pub fn top_form_at(forms: &[TopForm], off: u32) -> Option<&TopForm> {
    let i = forms.partition_point(|f| f.full_span().start <= off);
    let f = forms.get(i.checked_sub(1)?)?;
    Some(f)
}

/// Lists enclosing `off`, outermost first (iterative: any depth).
pub fn enclosing_lists<'a>(text: &str, forms: &'a [TopForm], off: u32) -> Vec<&'a Node> {
    let mut out = Vec::new();
    let Some(top) = top_form_at(forms, off) else {
        return out;
    };
    let mut cur = &top.node;
    while inside_list(text, cur, off) {
        out.push(cur);
        let next = children(cur).into_iter().find(|c| {
            inside_list(text, c, off)
                || matches!(c.kind, NodeKind::Quote(_)) && c.span.start < off && off < c.span.end
        });
        match next {
            Some(n) => {
                // Step through quotes to the quoted list.
                let mut n = n;
                while let NodeKind::Quote(q) = &n.kind {
                    n = q;
                }
                cur = n;
            }
            None => break,
        }
    }
    out
}

/// Every node whose span touches `off`, outermost first.
pub fn nodes_touching(forms: &[TopForm], off: u32) -> Vec<&Node> {
    let mut out = Vec::new();
    let Some(top) = forms.iter().find(|f| f.node.span.touches(off)) else {
        return out;
    };
    let mut cur = &top.node;
    out.push(cur);
    'down: loop {
        for c in children(cur) {
            if c.span.touches(off) {
                out.push(c);
                cur = c;
                continue 'down;
            }
        }
        return out;
    }
}

/// Calls every list node of the forms (iteratively), with its depth.
pub fn each_list<'a>(forms: &'a [TopForm], mut f: impl FnMut(&'a Node)) {
    let mut stack: Vec<&Node> = forms.iter().map(|t| &t.node).collect();
    while let Some(n) = stack.pop() {
        if n.as_list().is_some() {
            f(n);
        }
        stack.extend(children(n));
    }
}

/// The call being written at `off`, read from the token stream (robust for
/// unbalanced text): the head token, and how many items precede the word at `off`
/// (the head counts as one).
#[derive(Clone, Debug, PartialEq)]
pub struct CallContext {
    /// The head symbol's text and byte span, if the head is a symbol.
    pub head: Option<(String, usize, usize)>,
    /// Items written before the word at the cursor, head included.
    pub items_before: usize,
}

/// Start of the word ending at `off` (symbol characters only).
pub fn word_start(text: &str, off: usize) -> usize {
    let mut start = off.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    for (i, c) in text[..start].char_indices().rev() {
        if c.is_whitespace() || "()[]'\";".contains(c) {
            return i + c.len_utf8();
        }
        start = i;
    }
    start
}

/// The innermost call open at `off`.
pub fn call_context(text: &str, tokens: &[Token], off: usize) -> Option<CallContext> {
    let ws = word_start(text, off);
    let mut stack: Vec<CallContext> = Vec::new();
    for t in tokens {
        if t.span.end as usize > ws || t.span.start as usize >= ws {
            break;
        }
        match t.kind {
            TokenKind::Comment | TokenKind::Quote | TokenKind::Dot => {}
            TokenKind::LParen | TokenKind::LBracket => {
                if let Some(top) = stack.last_mut() {
                    top.items_before += 1;
                }
                stack.push(CallContext {
                    head: None,
                    items_before: 0,
                });
            }
            TokenKind::RParen | TokenKind::RBracket => {
                stack.pop();
            }
            _ => {
                if let Some(top) = stack.last_mut() {
                    top.items_before += 1;
                    if top.items_before == 1 && t.kind == TokenKind::Symbol {
                        let (s, e) = (t.span.start as usize, t.span.end as usize);
                        top.head = Some((text[s..e].to_string(), s, e));
                    }
                }
            }
        }
    }
    stack.pop()
}

fn symbols_of(n: &Node, out: &mut Vec<(String, u32)>) {
    match &n.kind {
        NodeKind::Symbol(s) => out.push((s.to_string(), n.span.start)),
        NodeKind::List(l) => {
            for i in l.items.iter().chain(l.tail.iter()) {
                if let Some(s) = i.as_symbol() {
                    out.push((s.to_string(), i.span.start));
                }
            }
        }
        _ => {}
    }
}

/// Local names visible at `off`, innermost binding last, from the binding forms
/// enclosing it (parameters, `let`-family bindings, `catch` variables, internal
/// definitions of an enclosing body).
pub fn locals_in_scope(text: &str, forms: &[TopForm], off: u32) -> Vec<String> {
    let mut names: Vec<(String, u32)> = Vec::new();
    let lists = enclosing_lists(text, forms, off);
    for (depth, n) in lists.iter().enumerate() {
        let Some(items) = n.as_list().map(|l| &l.items) else {
            continue;
        };
        let head = items.first().and_then(Node::as_symbol).unwrap_or("");
        match head {
            "lambda" | "fn" | "λ" => {
                if let Some(p) = items.get(1) {
                    symbols_of(p, &mut names);
                }
            }
            "define" | "def"
                if depth > 0 || items.get(1).is_some_and(|i| i.as_list().is_some()) =>
            {
                match items.get(1) {
                    Some(sig) if sig.as_list().is_some() => {
                        let mut v = Vec::new();
                        symbols_of(sig, &mut v);
                        names.extend(v.into_iter().skip(1));
                    }
                    Some(_) if head == "def" && items.len() >= 4 => {
                        if let Some(p) = items.get(2) {
                            symbols_of(p, &mut names);
                        }
                    }
                    _ => {}
                }
            }
            "let" | "let*" | "letrec" => {
                let mut bindings = items.get(1);
                if let Some(name) = items.get(1).and_then(Node::as_symbol) {
                    names.push((name.to_string(), items[1].span.start));
                    bindings = items.get(2);
                }
                for b in bindings.and_then(|b| b.proper_items()).unwrap_or(&[]) {
                    if let Some(first) = b.proper_items().and_then(|i| i.first()) {
                        if let Some(s) = first.as_symbol() {
                            names.push((s.to_string(), first.span.start));
                        }
                    }
                }
            }
            "catch" => {
                if let Some(s) = items.get(1).and_then(Node::as_symbol) {
                    names.push((s.to_string(), items[1].span.start));
                }
            }
            _ => {}
        }
        // Internal definitions in this body.
        {
            for item in items.iter().skip(1) {
                if let Some(ii) = item.proper_items() {
                    if matches!(ii.first().and_then(Node::as_symbol), Some("define" | "def")) {
                        match ii.get(1) {
                            Some(s) if s.as_symbol().is_some() => {
                                names.push((s.as_symbol().unwrap_or("").to_string(), s.span.start))
                            }
                            Some(l) => {
                                if let Some(f) = l.proper_items().and_then(|x| x.first()) {
                                    if let Some(s) = f.as_symbol() {
                                        names.push((s.to_string(), f.span.start));
                                    }
                                }
                            }
                            None => {}
                        }
                    }
                }
            }
        }
    }
    names.into_iter().map(|(n, _)| n).collect()
}

//! The syntax tree: data as read, every node with its span.

use crate::ground::span::Span;
use crate::ground::tier::TrustTier;

/// Which delimiters a list was written with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bracket {
    /// `( )`
    Paren,
    /// `[ ]`
    Square,
    /// `{ }`: a dict literal (parsed into [`NodeKind::Dict`], never a list).
    Brace,
    /// `#( )`: a vector literal (parsed into [`NodeKind::Vector`]).
    Vector,
}

impl Bracket {
    /// The closing character.
    pub fn close(self) -> char {
        match self {
            Bracket::Paren | Bracket::Vector => ')',
            Bracket::Square => ']',
            Bracket::Brace => '}',
        }
    }
    /// The opening delimiter.
    pub fn open(self) -> &'static str {
        match self {
            Bracket::Paren => "(",
            Bracket::Square => "[",
            Bracket::Brace => "{",
            Bracket::Vector => "#(",
        }
    }
}

/// A list: items, an optional dotted tail, and its delimiters.
#[derive(Clone, Debug, PartialEq)]
pub struct List {
    /// The items before any dot.
    pub items: Vec<Node>,
    /// The datum after ` . `, for an improper list.
    pub tail: Option<Node>,
    /// `(` or `[`.
    pub bracket: Bracket,
}

/// What a node is.
#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    /// Integer.
    Int(i64),
    /// Float.
    Float(f64),
    /// String, escapes decoded.
    Str(Box<str>),
    /// Symbol or keyword.
    Symbol(Box<str>),
    /// `true` or `false`.
    Bool(bool),
    /// `nil`.
    Nil,
    /// A list.
    List(Box<List>),
    /// `'datum`.
    Quote(Box<Node>),
    /// `#(d ...)`: a vector literal, its elements data.
    Vector(Vec<Node>),
    /// `{k v ...}`: a dict literal, keys and values alternating.
    Dict(Vec<Node>),
    /// Something that could not be read (already diagnosed).
    Error,
}

/// A node and its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// What it is.
    pub kind: NodeKind,
    /// Where it is.
    pub span: Span,
}

impl Node {
    /// The symbol's name, if this is a symbol.
    pub fn as_symbol(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Symbol(s) => Some(s),
            _ => None,
        }
    }
    /// The list, if this is one.
    pub fn as_list(&self) -> Option<&List> {
        match &self.kind {
            NodeKind::List(l) => Some(l),
            _ => None,
        }
    }
    /// The list's items if this is a proper list.
    pub fn proper_items(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::List(l) if l.tail.is_none() => Some(&l.items),
            _ => None,
        }
    }
    /// The head symbol of a list form.
    pub fn head_symbol(&self) -> Option<&str> {
        self.as_list()?.items.first()?.as_symbol()
    }
    /// The innermost node whose span touches `offset` (iterative: no deep recursion).
    pub fn node_at(&self, offset: u32) -> Option<&Node> {
        if !self.span.touches(offset) {
            return None;
        }
        let mut cur = self;
        'down: loop {
            let children: Vec<&Node> = match &cur.kind {
                NodeKind::List(l) => l.items.iter().chain(l.tail.iter()).collect(),
                NodeKind::Quote(q) => vec![q],
                NodeKind::Vector(v) | NodeKind::Dict(v) => v.iter().collect(),
                _ => return Some(cur),
            };
            for c in children {
                if c.span.touches(offset) {
                    cur = c;
                    continue 'down;
                }
            }
            return Some(cur);
        }
    }
}

/// A top-level form with what stands before it.
#[derive(Clone, Debug, PartialEq)]
pub struct TopForm {
    /// The form.
    pub node: Node,
    /// An `@tier` annotation before it.
    pub annotation: Option<(TrustTier, Span)>,
    /// The `;;` comment lines directly above it, each without `;;` and one space.
    pub doc: Option<String>,
    /// Whether a syntax error lies inside it (it is not checked further).
    pub has_error: bool,
}

impl TopForm {
    /// Moves every span right by `by` (see [`Span::shifted`]).
    pub fn shift(&mut self, by: u32) {
        if let Some((_, s)) = &mut self.annotation {
            *s = s.shifted(by);
        }
        let mut work = vec![&mut self.node];
        while let Some(n) = work.pop() {
            n.span = n.span.shifted(by);
            match &mut n.kind {
                NodeKind::List(l) => work.extend(l.items.iter_mut().chain(l.tail.iter_mut())),
                NodeKind::Quote(q) => work.push(q),
                NodeKind::Vector(v) | NodeKind::Dict(v) => work.extend(v.iter_mut()),
                _ => {}
            }
        }
    }

    /// The span of the form with its annotation.
    pub fn full_span(&self) -> Span {
        match self.annotation {
            Some((_, s)) => s.join(self.node.span),
            None => self.node.span,
        }
    }
}

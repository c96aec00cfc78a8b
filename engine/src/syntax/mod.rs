//! Floor 1, syntax: the lexer, the parser with recovery, and the tree with spans.
//!
//! **Invariant:** imports only the ground floor; parsing never fails (a tree plus
//! diagnostics); the tree is a value with byte spans, no interned names.

pub mod lexer;
pub mod parser;
pub mod tree;

pub use crate::ground::span::{self, SourceFile, Span};
pub use parser::{Parse, parse};

//! Syntax: spans, the lexer, the tree and the parser.

pub mod lexer;
pub mod parser;
pub mod span;
pub mod tree;

pub use parser::{Parse, parse};
pub use span::{SourceFile, Span};

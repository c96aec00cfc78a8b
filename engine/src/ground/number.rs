//! Number literals of language §1, read by the lexer and by `string->number`.

use std::fmt;

/// A number read from text.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    /// An `Int` literal.
    Int(i64),
    /// A `Float` literal.
    Float(f64),
}

/// A word shaped like a number whose value does not fit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutOfRange {
    /// An integer outside i64.
    Int(String),
    /// A float outside f64's finite range.
    Float(String),
}

impl fmt::Display for OutOfRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutOfRange::Int(w) => write!(f, "integer `{w}` is out of range (a 64-bit integer)"),
            OutOfRange::Float(w) => write!(f, "float `{w}` is out of range"),
        }
    }
}

/// Reads a word as a number: `None` if it is not shaped like one, an error if it is
/// but does not fit.
pub fn read(word: &str) -> Option<Result<Number, OutOfRange>> {
    match shape(word) {
        Shape::Int => Some(
            word.parse::<i64>()
                .map(Number::Int)
                .map_err(|_| OutOfRange::Int(word.to_string())),
        ),
        Shape::Float => Some(match word.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Number::Float(f)),
            _ => Err(OutOfRange::Float(word.to_string())),
        }),
        Shape::NotNumber => None,
    }
}

/// Reads a whole string as a number literal, or nothing (`string->number`).
pub fn parse(word: &str) -> Option<Number> {
    read(word).and_then(Result::ok)
}

enum Shape {
    Int,
    Float,
    NotNumber,
}

/// Matches §1: `-?[0-9]+`, `-?[0-9]+\.[0-9]+([eE][+-]?[0-9]+)?`, `-?[0-9]+[eE][+-]?[0-9]+`.
fn shape(word: &str) -> Shape {
    let b = word.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let s = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > s
    };
    if !digits(&mut i) {
        return Shape::NotNumber;
    }
    if i == b.len() {
        return Shape::Int;
    }
    let mut float = false;
    if b[i] == b'.' {
        i += 1;
        if !digits(&mut i) {
            return Shape::NotNumber;
        }
        float = true;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if !digits(&mut i) {
            return Shape::NotNumber;
        }
        float = true;
    }
    if i == b.len() && float {
        Shape::Float
    } else {
        Shape::NotNumber
    }
}

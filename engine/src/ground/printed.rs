//! The printed form of atoms (language §3) that every floor writes the same way:
//! floats and string literals.

use std::fmt::Write;

/// A float as Rust's `{:?}` prints it: shortest form that reads back, with `.` or exponent.
pub fn write_float(out: &mut String, f: f64) {
    let _ = write!(out, "{f:?}");
}

/// A string in double quotes with escapes.
pub fn write_string_literal(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

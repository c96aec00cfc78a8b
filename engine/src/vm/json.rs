//! `json-parse` and `json-stringify` (language §12.5). Parsing is serde_json's,
//! into a small tree of our own (objects keep document order), with its
//! line/column errors turned into the byte offsets the language names.

use super::data::room;
use super::dict::{self, Dict};
use super::error::{ErrorKind, Fault, FaultResult};
use super::natives::{Ctx, string_arg, type_err};
use super::value::{ObjRef, Value};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::{HashSet, VecDeque};
use std::fmt;

/// Deepest nesting of arrays and objects accepted.
const MAX_DEPTH: usize = 1000;

/// A parsed JSON value.
enum J {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl<'de> Deserialize<'de> for J {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<J, D::Error> {
        d.deserialize_any(JVisitor)
    }
}

struct JVisitor;

impl<'de> Visitor<'de> for JVisitor {
    type Value = J;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<J, E> {
        Ok(J::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<J, E> {
        Ok(J::Bool(b))
    }
    fn visit_i64<E>(self, i: i64) -> Result<J, E> {
        Ok(J::Int(i))
    }
    fn visit_u64<E>(self, u: u64) -> Result<J, E> {
        Ok(match i64::try_from(u) {
            Ok(i) => J::Int(i),
            Err(_) => J::Float(u as f64),
        })
    }
    fn visit_f64<E>(self, f: f64) -> Result<J, E> {
        Ok(J::Float(f))
    }
    fn visit_str<E>(self, s: &str) -> Result<J, E> {
        Ok(J::Str(s.to_string()))
    }
    fn visit_string<E>(self, s: String) -> Result<J, E> {
        Ok(J::Str(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<J, A::Error> {
        let mut v = Vec::new();
        while let Some(x) = seq.next_element()? {
            v.push(x);
        }
        Ok(J::Arr(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<J, A::Error> {
        let mut v = Vec::new();
        while let Some((k, x)) = map.next_entry::<String, J>()? {
            v.push((k, x));
        }
        Ok(J::Obj(v))
    }
}

fn json_err(msg: impl fmt::Display, at: usize) -> Box<Fault> {
    Fault::new(ErrorKind::Json, format!("`json-parse`: {msg} at byte {at}"))
}

/// The offset of the first `[` or `{` that opens level 1,001, if any.
fn too_deep(text: &[u8]) -> Option<usize> {
    let (mut depth, mut in_str, mut esc) = (0usize, false, false);
    for (i, b) in text.iter().enumerate() {
        if in_str {
            if esc {
                esc = false;
            } else if *b == b'\\' {
                esc = true;
            } else if *b == b'"' {
                in_str = false;
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// Byte offset of serde_json's (line, column) position.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start = if line <= 1 {
        0
    } else {
        text.match_indices('\n')
            .nth(line - 2)
            .map_or(text.len(), |(i, _)| i + 1)
    };
    (start + column.saturating_sub(1)).min(text.len())
}

/// Parses with serde_json; the error as a kind `json` fault at the spec's offset.
fn parse_text(text: &str) -> Result<J, Box<Fault>> {
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    let r = J::deserialize(&mut de).and_then(|j| de.end().map(|_| j));
    r.map_err(|e| {
        if e.is_eof() {
            return json_err("the text ends too early", text.len());
        }
        let at = offset_of(text, e.line(), e.column());
        let msg = e.to_string();
        let msg = msg
            .split(" at line ")
            .next()
            .unwrap_or("not JSON")
            .to_string();
        let bytes = text.as_bytes();
        if msg.contains("surrogate") || msg.contains("escape") {
            // At the `\` of the escape.
            let mut i = at.min(bytes.len().saturating_sub(1));
            while i > 0 && !(bytes[i] == b'\\' && bytes.get(i + 1) == Some(&b'u')) {
                i -= 1;
            }
            return json_err(msg, i);
        }
        if msg.contains("number out of range") {
            // At the number's first byte.
            let mut i = at.min(bytes.len());
            while i > 0 && matches!(bytes[i - 1], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
                i -= 1;
            }
            return json_err(msg, i);
        }
        // serde_json reports the byte after the one that broke the text.
        json_err(msg, at)
    })
}

/// `json-parse`
pub(super) fn parse(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let text = string_arg(cx, "json-parse", a[0])?.to_string();
    if let Some(at) = too_deep(text.as_bytes()) {
        // The text up to that bracket may already have failed earlier.
        match parse_text(&text[..at]) {
            Err(f) if !f.message.ends_with(&format!("at byte {at}")) => return Err(f),
            _ => {
                return Err(json_err(
                    format!("arrays and objects nest deeper than {MAX_DEPTH}"),
                    at,
                ));
            }
        }
    }
    let j = parse_text(&text)?;
    room(cx, text.len())?;
    let zeros = if text.contains("-0") {
        negative_zeros(&text)
    } else {
        VecDeque::new()
    };
    build(cx, j, zeros)
}

/// For each number of the text whose value is negative zero, in document
/// order: whether it is written as an integer (`-0`). serde_json gives `-0`
/// and `-0.0` alike as the float -0.0; the integer `-0` is the Int 0 (an
/// integer has no sign of zero), `-0.0` stays a Float.
fn negative_zeros(text: &str) -> VecDeque<bool> {
    let b = text.as_bytes();
    let mut out = VecDeque::new();
    let (mut i, mut in_str, mut esc) = (0, false, false);
    while i < b.len() {
        let c = b[i];
        if in_str {
            if esc {
                esc = false;
            } else if c == b'\\' {
                esc = true;
            } else if c == b'"' {
                in_str = false;
            }
            i += 1;
            continue;
        }
        if c == b'"' {
            in_str = true;
        } else if c == b'-' {
            let start = i;
            i += 1;
            while i < b.len() && matches!(b[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
                i += 1;
            }
            let tok = &text[start..i];
            if tok.parse::<f64>().is_ok_and(|f| f == 0.0) {
                out.push_back(tok == "-0");
            }
            continue;
        }
        i += 1;
    }
    out
}

enum Build {
    Visit(J),
    Arr(usize),
    Obj(Vec<String>),
}

/// The VM value of a parsed tree, built without recursion.
/// `zeros` says, for each float -0.0 of the tree in document order, whether
/// the text wrote it as the integer `-0` (see [`negative_zeros`]).
fn build(cx: &mut Ctx, j: J, mut zeros: VecDeque<bool>) -> FaultResult<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mut work = vec![Build::Visit(j)];
    while let Some(t) = work.pop() {
        cx.meter.charge(1)?;
        match t {
            Build::Visit(j) => match j {
                J::Null => out.push(Value::Nil),
                J::Bool(b) => out.push(Value::Bool(b)),
                J::Int(i) => out.push(Value::Int(i)),
                J::Float(f) if f == 0.0 && f.is_sign_negative() => {
                    if zeros.pop_front() == Some(true) {
                        out.push(Value::Int(0));
                    } else {
                        out.push(Value::Float(f));
                    }
                }
                J::Float(f) => out.push(Value::Float(f)),
                J::Str(s) => out.push(cx.heap.string(s)),
                J::Arr(items) => {
                    work.push(Build::Arr(items.len()));
                    work.extend(items.into_iter().rev().map(Build::Visit));
                }
                J::Obj(entries) => {
                    let (keys, vals): (Vec<String>, Vec<J>) = entries.into_iter().unzip();
                    work.push(Build::Obj(keys));
                    work.extend(vals.into_iter().rev().map(Build::Visit));
                }
            },
            Build::Arr(n) => {
                let items = out.split_off(out.len() - n);
                out.push(cx.heap.vector(items, true));
            }
            Build::Obj(keys) => {
                let vals = out.split_off(out.len() - keys.len());
                let mut d = Dict::default();
                for (k, v) in keys.into_iter().zip(vals) {
                    let kv = cx.heap.string(k);
                    let h = dict::lookup_key(cx.heap, &mut cx.meter, "json-parse", kv)?;
                    d.insert(cx.heap, h, kv, v);
                }
                out.push(cx.heap.alloc_dict(d));
            }
        }
    }
    Ok(out.pop().unwrap_or(Value::Nil))
}

enum Out {
    Visit(Value),
    Text(&'static str),
    /// A member name with its `,` and `:`.
    Name(String),
    Leave(ObjRef),
}

/// `json-stringify`
pub(super) fn stringify(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let mut s = String::new();
    let mut open: HashSet<ObjRef> = HashSet::new();
    let mut work = vec![Out::Visit(a[0])];
    let bad = |what: &str| {
        Fault::new(
            ErrorKind::Type,
            format!("`json-stringify`: {what} has no JSON form"),
        )
    };
    while let Some(t) = work.pop() {
        cx.meter.charge(1)?;
        let v = match t {
            Out::Text(x) => {
                s.push_str(x);
                continue;
            }
            Out::Name(n) => {
                s.push_str(&n);
                continue;
            }
            Out::Leave(r) => {
                s.push(']');
                open.remove(&r);
                continue;
            }
            Out::Visit(v) => v,
        };
        match v {
            Value::Nil => s.push_str("null"),
            Value::Bool(b) => s.push_str(if b { "true" } else { "false" }),
            Value::Int(i) => s.push_str(&i.to_string()),
            Value::Float(f) => {
                if !f.is_finite() {
                    return Err(bad(&format!("the float {}", cx.show(v, false)?)));
                }
                super::printer::write_float(&mut s, f);
            }
            Value::Str(r) => write_json_string(&mut s, cx.heap.str(r)),
            Value::Sym(sym) => {
                let name = cx.symbols.name(sym);
                write_json_string(&mut s, name.strip_prefix(':').unwrap_or(name));
            }
            Value::Pair(_) => {
                let mut items = Vec::new();
                let mut cur = v;
                while let Value::Pair(r) = cur {
                    let (x, d) = cx.heap.pair(r);
                    items.push(x);
                    cur = d;
                }
                if !matches!(cur, Value::Nil) {
                    return Err(bad("an improper list"));
                }
                s.push('[');
                work.push(Out::Text("]"));
                push_items(&mut work, &items);
            }
            Value::Vector(r) => {
                if !open.insert(r) {
                    return Err(Fault::new(
                        ErrorKind::Type,
                        "`json-stringify`: the data is cyclic (a vector contains itself)",
                    ));
                }
                s.push('[');
                work.push(Out::Leave(r));
                let items = cx.heap.vec(r).to_vec();
                push_items(&mut work, &items);
            }
            Value::Dict(r) => {
                let entries: Vec<(Value, Value)> = cx.heap.dict(r).entries(cx.heap);
                let mut names: Vec<String> = Vec::with_capacity(entries.len());
                let mut any_symbol = false;
                for (k, _) in &entries {
                    match k {
                        Value::Str(r) => names.push(cx.heap.str(*r).to_string()),
                        Value::Sym(sym) => {
                            any_symbol = true;
                            let n = cx.symbols.name(*sym);
                            names.push(n.strip_prefix(':').unwrap_or(n).to_string());
                        }
                        o => {
                            return Err(bad(&format!(
                                "a dict key of type {} (only strings and symbols are names)",
                                o.type_name()
                            )));
                        }
                    }
                }
                if any_symbol {
                    let mut seen = HashSet::new();
                    for n in &names {
                        if !seen.insert(n.as_str()) {
                            return Err(Fault::new(
                                ErrorKind::Type,
                                format!(
                                    "`json-stringify`: two keys of a dict give the name \"{n}\""
                                ),
                            ));
                        }
                    }
                }
                s.push('{');
                work.push(Out::Text("}"));
                for (i, ((_, val), name)) in entries.iter().zip(&names).enumerate().rev() {
                    work.push(Out::Visit(*val));
                    let mut key = String::new();
                    if i > 0 {
                        key.push(',');
                    }
                    write_json_string(&mut key, name);
                    key.push(':');
                    work.push(Out::Name(key));
                }
            }
            other => return Err(type_err("json-stringify", "JSON data", other)),
        }
        room(cx, s.len())?;
    }
    Ok(cx.heap.string(s))
}

fn push_items(work: &mut Vec<Out>, items: &[Value]) {
    for (i, it) in items.iter().enumerate().rev() {
        work.push(Out::Visit(*it));
        if i > 0 {
            work.push(Out::Text(","));
        }
    }
}

/// A JSON string literal, escaped as §12.5 says.
fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

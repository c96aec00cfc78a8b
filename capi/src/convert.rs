//! Values across the boundary (tooling §5): JSON integers are Ints, numbers with
//! `.` or an exponent Floats; strings, booleans, null and arrays are String, Bool,
//! nil and lists; `{"symbol": "name"}` is a Symbol, `{"vector": [...]}` a
//! Vector, `{"handle": n}` a procedure the host holds (see [`Handles`]),
//! `{"dict": {...}}` and every other object a Dict with String keys, its entries
//! in the order of the text both ways ([`Oj`] keeps it; serde_json's own `Map`
//! sorts without its `preserve_order` feature, which would reorder every other
//! JSON output of the workspace). Improper pairs, capabilities, actors, error
//! values and dicts with other keys do not cross (kind `type`).

use crate::Failure;
use jue_engine::{Function, Value};
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use std::collections::HashMap;
use std::fmt;

/// Deepest nesting of JSON read (serde_json's own recursion limit is 128 unless
/// disabled, which the engine does; this bounds the stack either way).
const MAX_DEPTH: usize = 1_000;

/// A JSON value whose objects keep their members' order.
#[derive(Clone, Debug, PartialEq)]
pub enum Oj {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer that fits in an i64.
    Int(i64),
    /// An integer above `i64::MAX` (no Int holds it).
    Big(u64),
    /// A number with `.` or an exponent.
    Float(f64),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<Oj>),
    /// An object, members in order.
    Obj(Vec<(String, Oj)>),
}

impl Oj {
    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Oj> {
        match self {
            Oj::Obj(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Oj::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Parses JSON text, keeping object order.
    pub fn parse(text: &str) -> Result<Oj, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_str(text);
        let v = serde::de::DeserializeSeed::deserialize(OjSeed(0), &mut de)?;
        de.end()?;
        Ok(v)
    }
}

impl fmt::Display for Oj {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match serde_json::to_string(self) {
            Ok(s) => f.write_str(&s),
            Err(_) => f.write_str("<json>"),
        }
    }
}

impl From<serde_json::Value> for Oj {
    fn from(v: serde_json::Value) -> Oj {
        use serde_json::Value as J;
        match v {
            J::Null => Oj::Null,
            J::Bool(b) => Oj::Bool(b),
            J::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => Oj::Int(i),
                (None, Some(u)) => Oj::Big(u),
                _ => Oj::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            J::String(s) => Oj::Str(s),
            J::Array(a) => Oj::Arr(a.into_iter().map(Oj::from).collect()),
            J::Object(m) => Oj::Obj(m.into_iter().map(|(k, v)| (k, Oj::from(v))).collect()),
        }
    }
}

impl Serialize for Oj {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Oj::Null => s.serialize_unit(),
            Oj::Bool(b) => s.serialize_bool(*b),
            Oj::Int(i) => s.serialize_i64(*i),
            Oj::Big(u) => s.serialize_u64(*u),
            Oj::Float(x) => s.serialize_f64(*x),
            Oj::Str(t) => s.serialize_str(t),
            Oj::Arr(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for it in items {
                    seq.serialize_element(it)?;
                }
                seq.end()
            }
            Oj::Obj(members) => {
                let mut map = s.serialize_map(Some(members.len()))?;
                for (k, v) in members {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// Reads an [`Oj`] at a nesting depth.
struct OjSeed(usize);

impl<'de> serde::de::DeserializeSeed<'de> for OjSeed {
    type Value = Oj;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Oj, D::Error> {
        if self.0 > MAX_DEPTH {
            return Err(serde::de::Error::custom(
                "JSON nested more than 1000 levels deep",
            ));
        }
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for OjSeed {
    type Value = Oj;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Oj, E> {
        Ok(Oj::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Oj, E> {
        Ok(Oj::Bool(b))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Oj, E> {
        Ok(Oj::Int(i))
    }
    fn visit_u64<E>(self, u: u64) -> Result<Oj, E> {
        Ok(i64::try_from(u).map_or(Oj::Big(u), Oj::Int))
    }
    fn visit_f64<E>(self, x: f64) -> Result<Oj, E> {
        Ok(Oj::Float(x))
    }
    fn visit_str<E>(self, s: &str) -> Result<Oj, E> {
        Ok(Oj::Str(s.to_string()))
    }
    fn visit_string<E>(self, s: String) -> Result<Oj, E> {
        Ok(Oj::Str(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Oj, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = a.next_element_seed(OjSeed(self.0 + 1))? {
            items.push(v);
        }
        Ok(Oj::Arr(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Oj, A::Error> {
        let mut members: Vec<(String, Oj)> = Vec::new();
        while let Some(k) = a.next_key::<String>()? {
            let v = a.next_value_seed(OjSeed(self.0 + 1))?;
            // A repeated name: the last value, in the first one's place (as a
            // Jue dict sets a present key).
            match members.iter_mut().find(|(m, _)| *m == k) {
                Some(slot) => slot.1 = v,
                None => members.push((k, v)),
            }
        }
        Ok(Oj::Obj(members))
    }
}

/// The procedures a C host holds, by number: what `{"handle": n}` names. A
/// procedure that crosses out (a result, a callback's argument) gets a new
/// number; `jue_handle_free` gives it back.
#[derive(Default)]
pub struct Handles {
    next: u64,
    map: HashMap<u64, Function>,
}

impl Handles {
    /// Keeps `f` under a new number.
    pub fn add(&mut self, f: Function) -> u64 {
        self.next += 1;
        self.map.insert(self.next, f);
        self.next
    }
    /// The procedure numbered `n`.
    pub fn get(&self, n: u64) -> Option<&Function> {
        self.map.get(&n)
    }
    /// Drops handle `n`; whether it was held.
    pub fn remove(&mut self, n: u64) -> bool {
        self.map.remove(&n).is_some()
    }
    /// How many handles are held.
    pub fn len(&self) -> usize {
        self.map.len()
    }
    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

fn tag(name: &str, v: Oj) -> Oj {
    Oj::Obj(vec![(name.to_string(), v)])
}

/// A value as JSON, or a `type` failure for what cannot cross; procedures are
/// kept in `handles` and go out as `{"handle": n}`.
pub fn value_to_json(v: &Value, handles: &mut Handles) -> Result<Oj, Failure> {
    let no = |what: String| {
        Err(Failure::new(
            "type",
            format!("{what} cannot cross the C boundary"),
        ))
    };
    Ok(match v {
        Value::Nil => Oj::Null,
        Value::Bool(b) => Oj::Bool(*b),
        Value::Int(i) => Oj::Int(*i),
        Value::Float(f) if f.is_finite() => Oj::Float(*f),
        Value::Float(f) => return no(format!("the float {f} (not finite)")),
        Value::String(s) => Oj::Str(s.clone()),
        Value::Symbol(s) => tag("symbol", Oj::Str(s.clone())),
        Value::List(items) => Oj::Arr(
            items
                .iter()
                .map(|i| value_to_json(i, handles))
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Value::Vector(items) => tag(
            "vector",
            Oj::Arr(
                items
                    .iter()
                    .map(|i| value_to_json(i, handles))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        ),
        Value::Dict(entries) => {
            let mut m = Vec::with_capacity(entries.len());
            for (k, val) in entries {
                let Value::String(k) = k else {
                    return no(format!("a dict with the key {k} (only String keys cross)"));
                };
                m.push((k.clone(), value_to_json(val, handles)?));
            }
            // A dict whose only key is a tag name goes out tagged, so that it comes
            // back as a dict.
            let tag_like = m.len() == 1 && is_tag(&m[0].0);
            if tag_like {
                tag("dict", Oj::Obj(m))
            } else {
                Oj::Obj(m)
            }
        }
        Value::Function(f) => tag("handle", Oj::Int(handles.add(f.clone()) as i64)),
        Value::Pair(..) => return no(format!("an improper list {v}")),
        Value::Procedure(p) => return no(format!("a procedure ({p})")),
        Value::Capability(c) => return no(format!("a capability ({c})")),
        Value::Actor(a) => return no(format!("an actor ({a})")),
        Value::Error { kind, message } => {
            return no(format!("an error value ({kind}: {message})"));
        }
    })
}

fn is_tag(k: &str) -> bool {
    matches!(k, "symbol" | "vector" | "dict" | "handle")
}

/// JSON as a value, or an `argument` failure for JSON no value has (`type` for
/// a malformed tag or an unknown handle).
pub fn json_to_value(j: &Oj, handles: &Handles) -> Result<Value, Failure> {
    let bad = |m: String| Err(Failure::new(crate::kinds::ARGUMENT, m));
    Ok(match j {
        Oj::Null => Value::Nil,
        Oj::Bool(b) => Value::Bool(*b),
        Oj::Int(i) => Value::Int(*i),
        Oj::Big(u) => return bad(format!("the integer {u} does not fit in an Int (64-bit)")),
        Oj::Float(f) if f.is_finite() => Value::Float(*f),
        Oj::Float(f) => return bad(format!("the number {f} is not a finite Float")),
        Oj::Str(s) => Value::String(s.clone()),
        Oj::Arr(items) => {
            if items.is_empty() {
                Value::Nil
            } else {
                Value::List(
                    items
                        .iter()
                        .map(|i| json_to_value(i, handles))
                        .collect::<Result<Vec<_>, _>>()?,
                )
            }
        }
        Oj::Obj(m) => {
            let tagged = match m.as_slice() {
                [(k, v)] if is_tag(k) => Some((k.as_str(), v)),
                _ => None,
            };
            match tagged {
                Some(("symbol", Oj::Str(s))) if !s.is_empty() => Value::Symbol(s.clone()),
                Some(("vector", Oj::Arr(items))) => Value::Vector(
                    items
                        .iter()
                        .map(|i| json_to_value(i, handles))
                        .collect::<Result<Vec<_>, _>>()?,
                ),
                Some(("dict", Oj::Obj(inner))) => dict_of(inner, handles)?,
                Some(("handle", Oj::Int(n))) => match handles.get(*n as u64) {
                    Some(f) if *n > 0 => Value::Function(f.clone()),
                    _ => {
                        return Err(Failure::new(
                            "type",
                            format!("no handle {n} is held (freed, or never given)"),
                        ));
                    }
                },
                Some((_, other)) => {
                    return Err(Failure::new(
                        "type",
                        format!("the tag object {j} holds {other}, which is not its kind"),
                    ));
                }
                None => dict_of(m, handles)?,
            }
        }
    })
}

/// A JSON object as a Dict with String keys, in its order.
fn dict_of(m: &[(String, Oj)], handles: &Handles) -> Result<Value, Failure> {
    let mut entries = Vec::with_capacity(m.len());
    for (k, v) in m {
        entries.push((Value::String(k.clone()), json_to_value(v, handles)?));
    }
    Ok(Value::Dict(entries))
}

/// serde_json reads an integer too large for 64 bits as a float; the spec makes
/// every JSON integer an Int, so such a literal is an error. Scans the (already
/// valid) JSON text for number tokens outside strings.
pub fn check_integer_literals(text: &str) -> Result<(), Failure> {
    let b = text.as_bytes();
    let (mut i, mut in_str) = (0, false);
    while i < b.len() {
        let c = b[i];
        if in_str {
            match c {
                b'\\' => i += 1,
                b'"' => in_str = false,
                _ => {}
            }
            i += 1;
        } else if c == b'"' {
            in_str = true;
            i += 1;
        } else if c == b'-' || c.is_ascii_digit() {
            let start = i;
            while i < b.len() && matches!(b[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                i += 1;
            }
            let tok = &text[start..i];
            if !tok.contains(['.', 'e', 'E']) && tok.parse::<i64>().is_err() {
                return Err(Failure::new(
                    crate::kinds::ARGUMENT,
                    format!("the integer {tok} does not fit in an Int (64-bit)"),
                ));
            }
        } else {
            i += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oj(text: &str) -> Oj {
        Oj::parse(text).unwrap()
    }

    #[test]
    fn round_trips() {
        let mut h = Handles::default();
        let j = oj(r#"[1, 2.5, "s", true, null, {"symbol": "a"}, [1, [2]]]"#);
        let v = json_to_value(&j, &h).unwrap();
        assert_eq!(value_to_json(&v, &mut h).unwrap(), j);
        assert!(matches!(
            json_to_value(&oj("1.0"), &h).unwrap(),
            Value::Float(_)
        ));
        assert!(matches!(
            json_to_value(&oj("1"), &h).unwrap(),
            Value::Int(1)
        ));
        assert!(json_to_value(&oj("18446744073709551615"), &h).is_err());
        assert!(check_integer_literals("[1, \"18446744073709551616\", 2.5e300]").is_ok());
        assert!(check_integer_literals("[18446744073709551616]").is_err());
        // Objects are dicts; the tags make symbols, vectors and tag-like dicts.
        assert_eq!(
            json_to_value(&oj(r#"{"x": 1}"#), &h).unwrap(),
            Value::Dict(vec![(Value::String("x".into()), Value::Int(1))])
        );
        let tagged =
            oj(r#"[{"vector": [1, "a"]}, {"dict": {"symbol": 1}}, {"dict": {"handle": 2}}]"#);
        let v = json_to_value(&tagged, &h).unwrap();
        assert!(matches!(&v, Value::List(items) if matches!(items[0], Value::Vector(_))));
        assert_eq!(value_to_json(&v, &mut h).unwrap(), tagged);
        assert!(json_to_value(&oj(r#"{"symbol": 5}"#), &h).is_err());
        let e = json_to_value(&oj(r#"{"handle": 7}"#), &h).unwrap_err();
        assert_eq!(e.kind, "type");
        assert!(value_to_json(&Value::Dict(vec![(Value::Int(1), Value::Nil)]), &mut h).is_err());
        assert!(value_to_json(&Value::Float(f64::NAN), &mut h).is_err());
        assert!(value_to_json(&Value::Procedure("#<procedure f>".into()), &mut h).is_err());
    }

    #[test]
    fn objects_keep_their_order() {
        let h = Handles::default();
        let text = r#"{"z":1,"a":2,"m":{"y":true,"b":null}}"#;
        let j = oj(text);
        assert_eq!(serde_json::to_string(&j).unwrap(), text);
        let Value::Dict(entries) = json_to_value(&j, &h).unwrap() else {
            panic!("not a dict")
        };
        let keys: Vec<String> = entries.iter().map(|(k, _)| k.to_string()).collect();
        assert_eq!(keys, ["\"z\"", "\"a\"", "\"m\""]);
        let mut h = Handles::default();
        let back = value_to_json(&Value::Dict(entries), &mut h).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
        // A repeated name keeps its first place and its last value.
        assert_eq!(oj(r#"{"a":1,"b":2,"a":3}"#), oj(r#"{"a":3,"b":2}"#));
        // Deep nesting is an error, not a stack overflow.
        let deep = "[".repeat(5000) + &"]".repeat(5000);
        assert!(Oj::parse(&deep).is_err());
    }
}

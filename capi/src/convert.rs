//! Values across the boundary (tooling §5): JSON integers are Ints, numbers with
//! `.` or an exponent Floats; strings, booleans, null and arrays are String, Bool,
//! nil and lists; `{"symbol": "name"}` is a Symbol, `{"vector": [...]}` a
//! Vector, `{"dict": {...}}` and every other object a Dict with String keys.
//! Improper pairs, procedures, capabilities, actors, error values and dicts with
//! other keys do not cross (kind `type`).

use crate::Failure;
use jue_engine::Value;
use serde_json::{Map, Number, Value as Json};

/// A value as JSON, or a `type` failure for what cannot cross.
pub fn value_to_json(v: &Value) -> Result<Json, Failure> {
    let no = |what: String| {
        Err(Failure::new(
            "type",
            format!("{what} cannot cross the C boundary"),
        ))
    };
    Ok(match v {
        Value::Nil => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::Number((*i).into()),
        Value::Float(f) => match Number::from_f64(*f) {
            Some(n) => Json::Number(n),
            None => return no(format!("the float {f} (not finite)")),
        },
        Value::String(s) => Json::String(s.clone()),
        Value::Symbol(s) => {
            let mut m = Map::new();
            m.insert("symbol".into(), Json::String(s.clone()));
            Json::Object(m)
        }
        Value::List(items) => Json::Array(
            items
                .iter()
                .map(value_to_json)
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Value::Vector(items) => {
            let arr = items
                .iter()
                .map(value_to_json)
                .collect::<Result<Vec<_>, _>>()?;
            let mut m = Map::new();
            m.insert("vector".into(), Json::Array(arr));
            Json::Object(m)
        }
        Value::Dict(entries) => {
            let mut m = Map::new();
            for (k, val) in entries {
                let Value::String(k) = k else {
                    return no(format!("a dict with the key {k} (only String keys cross)"));
                };
                m.insert(k.clone(), value_to_json(val)?);
            }
            // A dict whose only key is a tag name goes out tagged, so that it comes
            // back as a dict.
            let tag_like = m.len() == 1
                && m.keys()
                    .next()
                    .is_some_and(|k| matches!(k.as_str(), "symbol" | "vector" | "dict"));
            if tag_like {
                let mut outer = Map::new();
                outer.insert("dict".into(), Json::Object(m));
                Json::Object(outer)
            } else {
                Json::Object(m)
            }
        }
        Value::Pair(..) => return no(format!("an improper list {v}")),
        Value::Procedure(p) => return no(format!("a procedure ({p})")),
        Value::Function(f) => return no(format!("a procedure ({})", f.printed())),
        Value::Capability(c) => return no(format!("a capability ({c})")),
        Value::Actor(a) => return no(format!("an actor ({a})")),
        Value::Error { kind, message } => {
            return no(format!("an error value ({kind}: {message})"));
        }
    })
}

/// JSON as a value, or an `argument` failure for JSON no value has.
pub fn json_to_value(j: &Json) -> Result<Value, Failure> {
    let bad = |m: String| Err(Failure::new(crate::kinds::ARGUMENT, m));
    Ok(match j {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Int(i)
            } else if n.is_u64() {
                return bad(format!("the integer {n} does not fit in an Int (64-bit)"));
            } else {
                match n.as_f64() {
                    Some(f) if f.is_finite() => Value::Float(f),
                    _ => return bad(format!("the number {n} is not a finite Float")),
                }
            }
        }
        Json::String(s) => Value::String(s.clone()),
        Json::Array(items) => {
            if items.is_empty() {
                Value::Nil
            } else {
                Value::List(
                    items
                        .iter()
                        .map(json_to_value)
                        .collect::<Result<Vec<_>, _>>()?,
                )
            }
        }
        Json::Object(m) => {
            let tag = if m.len() == 1 {
                m.iter().next().map(|(k, v)| (k.as_str(), v))
            } else {
                None
            };
            match tag {
                Some(("symbol", Json::String(s))) if !s.is_empty() => Value::Symbol(s.clone()),
                Some(("vector", Json::Array(items))) => Value::Vector(
                    items
                        .iter()
                        .map(json_to_value)
                        .collect::<Result<Vec<_>, _>>()?,
                ),
                Some(("dict", Json::Object(inner))) => dict_of(inner)?,
                Some(("symbol" | "vector" | "dict", other)) => {
                    return Err(Failure::new(
                        "type",
                        format!("the tag object {j} holds {other}, which is not its kind"),
                    ));
                }
                _ => dict_of(m)?,
            }
        }
    })
}

/// A JSON object as a Dict with String keys, in its order.
fn dict_of(m: &Map<String, Json>) -> Result<Value, Failure> {
    let mut entries = Vec::with_capacity(m.len());
    for (k, v) in m {
        entries.push((Value::String(k.clone()), json_to_value(v)?));
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
    use serde_json::json;

    #[test]
    fn round_trips() {
        let j = json!([1, 2.5, "s", true, null, {"symbol": "a"}, [1, [2]]]);
        let v = json_to_value(&j).unwrap();
        assert_eq!(value_to_json(&v).unwrap(), j);
        assert!(matches!(
            json_to_value(&json!(1.0)).unwrap(),
            Value::Float(_)
        ));
        assert!(matches!(json_to_value(&json!(1)).unwrap(), Value::Int(1)));
        assert!(json_to_value(&json!(u64::MAX)).is_err());
        assert!(check_integer_literals("[1, \"18446744073709551616\", 2.5e300]").is_ok());
        assert!(check_integer_literals("[18446744073709551616]").is_err());
        // Objects are dicts; the tags make symbols, vectors and tag-like dicts.
        assert_eq!(
            json_to_value(&json!({"x": 1})).unwrap(),
            Value::Dict(vec![(Value::String("x".into()), Value::Int(1))])
        );
        let tagged = json!([{"vector": [1, "a"]}, {"dict": {"symbol": 1}}]);
        let v = json_to_value(&tagged).unwrap();
        assert!(matches!(&v, Value::List(items) if matches!(items[0], Value::Vector(_))));
        assert_eq!(value_to_json(&v).unwrap(), tagged);
        assert!(json_to_value(&json!({"symbol": 5})).is_err());
        assert!(value_to_json(&Value::Dict(vec![(Value::Int(1), Value::Nil)])).is_err());
        assert!(value_to_json(&Value::Float(f64::NAN)).is_err());
        assert!(value_to_json(&Value::Procedure("#<procedure f>".into())).is_err());
    }
}

//! Native built-ins of language §12: vectors, dicts, strings and `format`, list
//! utilities and JSON. Each charges a step per element it visits (`cx.meter`)
//! and refuses an allocation that could never fit before making it. Built-ins
//! that call procedures are written in Jue (the prelude); none here does.

use super::dict::{self, Dict};
use super::error::{ErrorKind, Fault, FaultResult};
use super::heap::Obj;
use super::natives::{Ctx, NativeFn, is_equal, list_items, string_arg, type_err};
use super::value::{ObjRef, Value};

/// The natives of this file, by name.
pub(super) fn by_name(name: &str) -> Option<NativeFn> {
    Some(match name {
        "vector" => vector,
        "make-vector" => make_vector,
        "vector?" => is_vector,
        "vector-length" => vector_length,
        "vector-ref" => vector_ref,
        "vector-set!" => vector_set,
        "vector->list" => vector_to_list,
        "list->vector" => list_to_vector,
        "dict" => dict_new,
        "dict?" => is_dict,
        "dict-size" => dict_size,
        "dict-ref" => dict_ref,
        "dict-has?" => dict_has,
        "dict-set" => dict_set,
        "dict-remove" => dict_remove,
        "dict-keys" => dict_keys,
        "dict-values" => dict_values,
        "dict->list" => dict_to_list,
        "list->dict" => list_to_dict,
        "dict-merge" => dict_merge,
        "string-ref" => string_ref,
        "string-split" => string_split,
        "string-join" => string_join,
        "string-contains?" => string_contains,
        "string-index" => string_index,
        "string-starts-with?" => string_starts_with,
        "string-ends-with?" => string_ends_with,
        "string-replace" => string_replace,
        "string-upcase" => string_upcase,
        "string-downcase" => string_downcase,
        "string-trim" => string_trim,
        "format" => format,
        "apply" => apply_outside_vm,
        "assoc" => assoc,
        "member" => member,
        "range" => range,
        "list-tail" => list_tail,
        "last" => last,
        "json-parse" => super::json::parse,
        "json-stringify" => super::json::stringify,
        "__check-vector" => check_vector,
        _ => return None,
    })
}

fn int_arg(who: &str, v: Value) -> FaultResult<i64> {
    match v {
        Value::Int(i) => Ok(i),
        o => Err(type_err(who, "an Int", o)),
    }
}

fn range_err(msg: String) -> Box<Fault> {
    Fault::new(ErrorKind::Range, msg)
}

/// Refuses an allocation of `bytes` that could never fit under the memory limit.
pub(super) fn room(cx: &Ctx, bytes: usize) -> FaultResult<()> {
    cx.heap
        .check_room(bytes)
        .map_err(|m| Fault::new(ErrorKind::MemoryLimit, m))
}

/// The elements of a proper list, charging a step each.
pub(super) fn items(cx: &mut Ctx, who: &str, v: Value) -> FaultResult<Vec<Value>> {
    let items = list_items(cx.heap, &mut cx.meter, who, v)?;
    cx.meter.charge(items.len() as u64)?;
    Ok(items)
}

/// A new list, charging a step per element and refusing one that cannot fit.
pub(super) fn make_list(cx: &mut Ctx, items: &[Value]) -> FaultResult<Value> {
    cx.meter.charge(items.len() as u64)?;
    room(cx, items.len().saturating_mul(48))?;
    Ok(cx.heap.list(items))
}

// ----- vectors -----

fn vec_arg(who: &str, v: Value) -> FaultResult<super::value::ObjRef> {
    match v {
        Value::Vector(r) => Ok(r),
        o => Err(type_err(who, "a vector", o)),
    }
}

fn vector(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    cx.meter.charge(a.len() as u64)?;
    Ok(cx.heap.vector(a.to_vec(), true))
}

fn make_vector(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let n = int_arg("make-vector", a[0])?;
    if n < 0 {
        return Err(range_err(format!("`make-vector`: length {n} is negative")));
    }
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    room(cx, n.saturating_mul(std::mem::size_of::<Value>()))?;
    cx.meter.charge(n as u64)?;
    let fill = a.get(1).copied().unwrap_or(Value::Nil);
    Ok(cx.heap.vector(vec![fill; n], true))
}

fn is_vector(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    Ok(Value::Bool(matches!(a[0], Value::Vector(_))))
}

fn vector_length(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let r = vec_arg("vector-length", a[0])?;
    Ok(Value::Int(cx.heap.vec(r).len() as i64))
}

fn index(who: &str, i: Value, len: usize) -> FaultResult<usize> {
    let i = int_arg(who, i)?;
    if i < 0 || i as u64 >= len as u64 {
        return Err(range_err(format!(
            "`{who}`: index {i} is out of range for a vector of length {len}"
        )));
    }
    Ok(i as usize)
}

fn vector_ref(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let r = vec_arg("vector-ref", a[0])?;
    let v = cx.heap.vec(r);
    let i = index("vector-ref", a[1], v.len())?;
    Ok(v[i])
}

fn vector_set(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let r = vec_arg("vector-set!", a[0])?;
    match cx.heap.get_mut(r) {
        Obj::Vector(items, mutable) => {
            let i = index("vector-set!", a[1], items.len())?;
            if !*mutable {
                return Err(Fault::new(
                    ErrorKind::Immutable,
                    "`vector-set!`: this vector is a literal (or a dict key) and cannot change",
                ));
            }
            items[i] = a[2];
            Ok(Value::Nil)
        }
        _ => Err(type_err("vector-set!", "a vector", a[0])),
    }
}

fn vector_to_list(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let r = vec_arg("vector->list", a[0])?;
    let items = cx.heap.vec(r).to_vec();
    make_list(cx, &items)
}

fn list_to_vector(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let v = items(cx, "list->vector", a[0])?;
    Ok(cx.heap.vector(v, true))
}

fn check_vector(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let who = cx.str(a[1]).to_string();
    vec_arg(&who, a[0]).map(|_| Value::Nil)
}

// ----- dicts -----

/// The dict handle of an argument, settled (an old version read or changed
/// becomes a version of its own; each replayed change is a step).
fn dict_arg(cx: &mut Ctx, who: &str, v: Value) -> FaultResult<ObjRef> {
    match v {
        Value::Dict(r) => {
            let replayed = dict::settle(cx.heap, r);
            cx.meter.charge(replayed as u64)?;
            Ok(r)
        }
        o => Err(type_err(who, "a dict", o)),
    }
}

/// Refuses an update that could never fit under the memory limit.
fn dict_room(cx: &mut Ctx, len: usize) -> FaultResult<()> {
    room(cx, len.saturating_mul(super::heap::DICT_ENTRY_BYTES))
}

/// Sets each (key, value) into `d`, left to right; returns the new dict.
/// Refused before anything is allocated when the result could never fit under
/// the memory limit; each insert allocates one path of the trie (counted as
/// it is made, bounded by the trie's depth).
fn set_all(cx: &mut Ctx, who: &str, mut d: Dict, pairs: &[(Value, Value)]) -> FaultResult<Value> {
    dict_room(cx, d.len().saturating_add(pairs.len()))?;
    for &(k, v) in pairs {
        let key = dict::store_key(cx.heap, &mut cx.meter, who, k)?;
        d.insert(cx.heap, key.hash, key.value, v);
    }
    Ok(cx.heap.alloc_dict(d))
}

fn dict_new(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    if !a.len().is_multiple_of(2) {
        return Err(Fault::new(
            ErrorKind::Arity,
            format!(
                "`dict` takes keys and values in pairs, but {} arguments were given",
                a.len()
            ),
        ));
    }
    let pairs: Vec<(Value, Value)> = a.chunks(2).map(|c| (c[0], c[1])).collect();
    set_all(cx, "dict", Dict::default(), &pairs)
}

fn is_dict(_: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    Ok(Value::Bool(matches!(a[0], Value::Dict(_))))
}

fn dict_size(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let r = dict_arg(cx, "dict-size", a[0])?;
    Ok(Value::Int(cx.heap.dict(r).len() as i64))
}

fn lookup(cx: &mut Ctx, who: &str, d: Value, k: Value) -> FaultResult<Option<Value>> {
    let r = dict_arg(cx, who, d)?;
    let h = dict::lookup_key(cx.heap, &mut cx.meter, who, k)?;
    Ok(cx.heap.dict(r).get(cx.heap, h, k).map(|e| e.value))
}

fn dict_ref(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    match lookup(cx, "dict-ref", a[0], a[1])? {
        Some(v) => Ok(v),
        None => match a.get(2) {
            Some(d) => Ok(*d),
            None => Err(Fault::new(
                ErrorKind::Key,
                format!("`dict-ref`: no key {} in the dict", cx.show(a[1], false)?),
            )),
        },
    }
}

fn dict_has(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    Ok(Value::Bool(lookup(cx, "dict-has?", a[0], a[1])?.is_some()))
}

fn dict_set(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let r = dict_arg(cx, "dict-set", a[0])?;
    dict_room(cx, cx.heap.dict(r).len().saturating_add(1))?;
    let key = dict::store_key(cx.heap, &mut cx.meter, "dict-set", a[1])?;
    Ok(dict::set(cx.heap, r, key.hash, key.value, a[2]))
}

fn dict_remove(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let r = dict_arg(cx, "dict-remove", a[0])?;
    let h = dict::lookup_key(cx.heap, &mut cx.meter, "dict-remove", a[1])?;
    Ok(dict::remove(cx.heap, r, h, a[1]).unwrap_or(a[0]))
}

fn entries(cx: &mut Ctx, who: &str, v: Value) -> FaultResult<Vec<(Value, Value)>> {
    let r = dict_arg(cx, who, v)?;
    let d = cx.heap.dict(r);
    cx.meter.charge(d.len() as u64)?;
    Ok(d.entries(cx.heap))
}

fn dict_keys(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let ks: Vec<Value> = entries(cx, "dict-keys", a[0])?
        .into_iter()
        .map(|e| e.0)
        .collect();
    make_list(cx, &ks)
}

fn dict_values(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let vs: Vec<Value> = entries(cx, "dict-values", a[0])?
        .into_iter()
        .map(|e| e.1)
        .collect();
    make_list(cx, &vs)
}

fn dict_to_list(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let es = entries(cx, "dict->list", a[0])?;
    room(cx, es.len().saturating_mul(96))?;
    let pairs: Vec<Value> = es.into_iter().map(|(k, v)| cx.heap.cons(k, v)).collect();
    Ok(cx.heap.list(&pairs))
}

fn list_to_dict(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let elems = items(cx, "list->dict", a[0])?;
    let mut pairs = Vec::with_capacity(elems.len());
    for e in elems {
        match e {
            Value::Pair(r) => pairs.push(cx.heap.pair(r)),
            o => return Err(type_err("list->dict", "a list of pairs `(key . value)`", o)),
        }
    }
    set_all(cx, "list->dict", Dict::default(), &pairs)
}

fn dict_merge(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let Some((first, rest)) = a.split_first() else {
        return Ok(cx.heap.alloc_dict(Dict::default()));
    };
    let r = dict_arg(cx, "dict-merge", *first)?;
    let mut pairs = Vec::new();
    for v in rest {
        pairs.extend(entries(cx, "dict-merge", *v)?);
    }
    if pairs.is_empty() {
        return Ok(*first);
    }
    let d = dict::derive(cx.heap, r);
    set_all(cx, "dict-merge", d, &pairs)
}

// ----- strings -----

fn text(cx: &Ctx, who: &str, v: Value) -> FaultResult<String> {
    Ok(string_arg(cx, who, v)?.to_string())
}

fn new_string(cx: &mut Ctx, s: String) -> FaultResult<Value> {
    room(cx, s.len())?;
    cx.meter.charge(s.len() as u64 / 16)?;
    Ok(cx.heap.string(s))
}

fn strings_list(cx: &mut Ctx, parts: Vec<&str>) -> FaultResult<Value> {
    room(cx, parts.iter().map(|p| p.len() + 96).sum())?;
    let vals: Vec<Value> = parts.into_iter().map(|p| cx.heap.string(p)).collect();
    make_list(cx, &vals)
}

fn string_ref(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let s = string_arg(cx, "string-ref", a[0])?;
    let i = int_arg("string-ref", a[1])?;
    let ch = usize::try_from(i).ok().and_then(|i| s.chars().nth(i));
    match ch {
        Some(c) => {
            cx.meter.charge(i as u64 / 16)?;
            Ok(cx.heap.string(c.to_string()))
        }
        None => {
            let n = s.chars().count();
            Err(range_err(format!(
                "`string-ref`: index {i} is out of range for a string of {n} characters"
            )))
        }
    }
}

fn string_split(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let s = text(cx, "string-split", a[0])?;
    let sep = match a.get(1) {
        Some(sep) => Some(text(cx, "string-split", *sep)?),
        None => None,
    };
    // Slices of `s`: each part is copied once, into its heap string.
    let parts: Vec<&str> = match &sep {
        None => s.split_whitespace().collect(),
        Some(sep) if sep.is_empty() => s
            .char_indices()
            .map(|(i, c)| &s[i..i + c.len_utf8()])
            .collect(),
        Some(sep) => s.split(sep.as_str()).collect(),
    };
    strings_list(cx, parts)
}

fn string_join(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let elems = items(cx, "string-join", a[0])?;
    let sep = text(cx, "string-join", a[1])?;
    let mut out = String::new();
    for (i, e) in elems.iter().enumerate() {
        if i > 0 {
            out.push_str(&sep);
        }
        match e {
            Value::Str(r) => out.push_str(cx.heap.str(*r)),
            o => return Err(type_err("string-join", "a list of strings", *o)),
        }
    }
    new_string(cx, out)
}

fn two_strings(cx: &Ctx, who: &str, a: &[Value]) -> FaultResult<(String, String)> {
    Ok((text(cx, who, a[0])?, text(cx, who, a[1])?))
}

fn string_contains(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let (s, p) = two_strings(cx, "string-contains?", a)?;
    Ok(Value::Bool(s.contains(p.as_str())))
}

fn string_index(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let (s, p) = two_strings(cx, "string-index", a)?;
    Ok(match s.find(p.as_str()) {
        Some(b) => Value::Int(s[..b].chars().count() as i64),
        None => Value::Nil,
    })
}

fn string_starts_with(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let (s, p) = two_strings(cx, "string-starts-with?", a)?;
    Ok(Value::Bool(s.starts_with(p.as_str())))
}

fn string_ends_with(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let (s, p) = two_strings(cx, "string-ends-with?", a)?;
    Ok(Value::Bool(s.ends_with(p.as_str())))
}

fn string_replace(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let s = text(cx, "string-replace", a[0])?;
    let old = text(cx, "string-replace", a[1])?;
    let new = text(cx, "string-replace", a[2])?;
    // Refuse before building a result that cannot fit.
    let count = if old.is_empty() {
        s.chars().count() + 1
    } else {
        s.matches(old.as_str()).count()
    };
    room(cx, s.len().saturating_add(count.saturating_mul(new.len())))?;
    new_string(cx, s.replace(old.as_str(), &new))
}

fn string_upcase(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let s = text(cx, "string-upcase", a[0])?.to_uppercase();
    new_string(cx, s)
}

fn string_downcase(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let s = text(cx, "string-downcase", a[0])?.to_lowercase();
    new_string(cx, s)
}

fn string_trim(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let s = text(cx, "string-trim", a[0])?.trim().to_string();
    new_string(cx, s)
}

fn format(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let tpl = text(cx, "format", a[0])?;
    let args = &a[1..];
    let mut out = String::new();
    let mut next = 0;
    let mut chars = tpl.chars();
    let bad = |m: String| Fault::new(ErrorKind::Format, m);
    while let Some(c) = chars.next() {
        if c != '~' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('~') => out.push('~'),
            Some(d @ ('a' | 's')) => {
                let Some(v) = args.get(next) else {
                    return Err(bad(format!(
                        "`format`: the template has more directives than the {} arguments given",
                        args.len()
                    )));
                };
                next += 1;
                out.push_str(&cx.show(*v, d == 'a')?);
                room(cx, out.len())?;
            }
            Some(other) => {
                return Err(bad(format!(
                    "`format`: unknown directive `~{other}` (use `~a`, `~s` or `~~`)"
                )));
            }
            None => return Err(bad("`format`: the template ends with a lone `~`".into())),
        }
    }
    if next != args.len() {
        return Err(bad(format!(
            "`format`: {} arguments were given for {next} directives",
            args.len()
        )));
    }
    new_string(cx, out)
}

// ----- lists -----

/// `apply` is carried out by the VM's call path (it spreads its last argument
/// into a call); this native is reached only if a caller bypassed that path.
fn apply_outside_vm(_: &mut Ctx, _: &[Value]) -> FaultResult<Value> {
    Err(Fault::new(
        ErrorKind::Host,
        "`apply` is carried out by the VM's call instructions",
    ))
}

fn assoc(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let mut cur = a[1];
    loop {
        cx.meter.charge(1)?;
        match cur {
            Value::Nil => return Ok(Value::Nil),
            Value::Pair(r) => {
                let (e, d) = cx.heap.pair(r);
                match e {
                    Value::Pair(p) => {
                        if is_equal(cx.heap, &mut cx.meter, cx.heap.pair(p).0, a[0])? {
                            return Ok(e);
                        }
                    }
                    o => return Err(type_err("assoc", "a list of pairs", o)),
                }
                cur = d;
            }
            _ => return Err(type_err("assoc", "a proper list", a[1])),
        }
    }
}

fn member(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let mut cur = a[1];
    loop {
        cx.meter.charge(1)?;
        match cur {
            Value::Nil => return Ok(Value::Nil),
            Value::Pair(r) => {
                let (e, d) = cx.heap.pair(r);
                if is_equal(cx.heap, &mut cx.meter, e, a[0])? {
                    return Ok(cur);
                }
                cur = d;
            }
            _ => return Err(type_err("member", "a proper list", a[1])),
        }
    }
}

fn range(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let (start, end, step) = match a.len() {
        1 => (0, int_arg("range", a[0])?, 1),
        2 => (int_arg("range", a[0])?, int_arg("range", a[1])?, 1),
        _ => (
            int_arg("range", a[0])?,
            int_arg("range", a[1])?,
            int_arg("range", a[2])?,
        ),
    };
    if step == 0 {
        return Err(range_err("`range`: the step is 0".into()));
    }
    let span = if step > 0 {
        (end as i128 - start as i128).max(0)
    } else {
        (start as i128 - end as i128).max(0)
    };
    let step_abs = (step as i128).abs();
    let n = (span + step_abs - 1) / step_abs;
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    room(cx, n.saturating_mul(48))?;
    cx.meter.charge(n as u64)?;
    let mut acc = Value::Nil;
    for i in (0..n).rev() {
        let v = start as i128 + i as i128 * step as i128;
        acc = cx.heap.cons(Value::Int(v as i64), acc);
    }
    Ok(acc)
}

fn list_tail(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let k = int_arg("list-tail", a[1])?;
    if !matches!(a[0], Value::Nil | Value::Pair(_)) {
        return Err(type_err("list-tail", "a list", a[0]));
    }
    let mut cur = a[0];
    let mut i = 0;
    while i < k {
        cx.meter.charge(1)?;
        match cur {
            Value::Pair(r) => cur = cx.heap.pair(r).1,
            _ => break,
        }
        i += 1;
    }
    if k < 0 || i < k {
        return Err(range_err(format!(
            "`list-tail`: {k} is out of range for a list of length {i}"
        )));
    }
    Ok(cur)
}

fn last(cx: &mut Ctx, a: &[Value]) -> FaultResult<Value> {
    let mut cur = a[0];
    let Value::Pair(_) = cur else {
        return match cur {
            Value::Nil => Err(range_err("`last`: the list is empty".into())),
            o => Err(type_err("last", "a list", o)),
        };
    };
    loop {
        cx.meter.charge(1)?;
        match cur {
            Value::Pair(r) => {
                let (x, d) = cx.heap.pair(r);
                match d {
                    Value::Nil => return Ok(x),
                    Value::Pair(_) => cur = d,
                    _ => return Err(type_err("last", "a proper list", a[0])),
                }
            }
            _ => return Err(type_err("last", "a proper list", a[0])),
        }
    }
}

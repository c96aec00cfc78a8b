//! The built-in procedures of language §5: one table with each name, signature,
//! tier, documentation and implementation. Analysis reads the signatures; the VM
//! calls the implementations; hover and `:doc` read the documentation.

use super::capability::Capability;
use super::tier::TrustTier;
use super::types::{Signature, Type};
use std::collections::HashMap;
use std::sync::LazyLock;

/// How a built-in is implemented (the VM holds the native functions, the
/// session compiles the prelude).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Imp {
    /// A Rust function of the VM (`vm::natives`).
    Native,
    /// A function of the prelude, written in Jue.
    Prelude,
    /// An operation of the VM itself: the actor built-ins of language §9, which
    /// switch actors and so need the whole machine, not a native's context.
    Vm,
}

/// One built-in procedure.
pub struct BuiltinDef {
    /// Name as written.
    pub name: &'static str,
    /// Signature.
    pub sig: Signature,
    /// Tier: formal, except `print`/`println` (empirical).
    pub tier: TrustTier,
    /// One-line documentation.
    pub doc: &'static str,
    /// Implementation.
    pub imp: Imp,
    /// Internal helpers of the prelude are not visible to programs.
    pub hidden: bool,
    /// The capability a call needs (`spawn`, `kill`; language §9), checked
    /// statically like an FFI function's and at run time at each call.
    pub capability: Option<Capability>,
}

/// The global name of a prelude function `map` is `%prelude:map`: names starting
/// with `%` belong to the engine (language §7), so no program can define one.
pub const PRELUDE_PREFIX: &str = "%prelude:";

/// The global `f` of an imported file is `%m<N>/f` in the VM, N the file's number in
/// the session (language §13): distinct from every other file's `f`, shared by every
/// importer, and impossible to write in a program.
pub const MODULE_PREFIX: &str = "%m";

/// A global's name as its program wrote it: the prelude's or a module's internal
/// prefix taken off.
pub fn visible_global(name: &str) -> &str {
    if let Some(n) = name.strip_prefix(PRELUDE_PREFIX) {
        return n;
    }
    match name
        .strip_prefix(MODULE_PREFIX)
        .and_then(|r| r.split_once('/'))
    {
        Some((digits, n)) if digits.bytes().all(|b| b.is_ascii_digit()) => n,
        _ => name,
    }
}

use Type::*;

fn def(name: &'static str, sig: Signature, doc: &'static str) -> BuiltinDef {
    BuiltinDef {
        name,
        sig,
        tier: TrustTier::Formal,
        doc,
        imp: Imp::Native,
        hidden: false,
        capability: None,
    }
}

fn prelude(name: &'static str, sig: Signature, doc: &'static str) -> BuiltinDef {
    BuiltinDef {
        name,
        sig,
        tier: TrustTier::Formal,
        doc,
        imp: Imp::Prelude,
        hidden: false,
        capability: None,
    }
}

fn sig(params: &[Type], ret: Type) -> Signature {
    Signature::new(params, ret)
}

static TABLE: LazyLock<Vec<BuiltinDef>> = LazyLock::new(|| {
    let pred = |name, doc| def(name, sig(&[Any], Bool), doc);
    let mut t = vec![
        def(
            "+",
            sig(&[], Number).rest(Number),
            "Sum of the arguments; `(+)` is 0.",
        ),
        def(
            "*",
            sig(&[], Number).rest(Number),
            "Product of the arguments; `(*)` is 1.",
        ),
        def(
            "-",
            sig(&[Number], Number).rest(Number),
            "Difference; `(- x)` negates.",
        ),
        def(
            "/",
            sig(&[Number], Number).rest(Number),
            "Quotient; two Ints truncate toward zero; `(/ x)` is `(/ 1 x)`.",
        ),
        def(
            "%",
            sig(&[Int, Int], Int),
            "Remainder with the sign of the dividend.",
        ),
        def("abs", sig(&[Number], Number), "Absolute value."),
        def(
            "min",
            sig(&[Number], Number).rest(Number),
            "Smallest argument.",
        ),
        def(
            "max",
            sig(&[Number], Number).rest(Number),
            "Largest argument.",
        ),
        def(
            "=",
            sig(&[Number], Bool).rest(Number),
            "Numeric equality, chained; Int and Float compare by value.",
        ),
        def(
            "<",
            sig(&[Number], Bool).rest(Number),
            "Strictly increasing, chained: `(< 1 2 3)`.",
        ),
        def(
            ">",
            sig(&[Number], Bool).rest(Number),
            "Strictly decreasing, chained.",
        ),
        def(
            "<=",
            sig(&[Number], Bool).rest(Number),
            "Non-decreasing, chained.",
        ),
        def(
            ">=",
            sig(&[Number], Bool).rest(Number),
            "Non-increasing, chained.",
        ),
        def(
            "not",
            sig(&[Any], Bool),
            "`true` for nil and false, else `false`.",
        ),
        def(
            "eq?",
            sig(&[Any, Any], Bool),
            "Identity: numbers, booleans, nil and symbols by value; strings, pairs, vectors, dicts and procedures by identity.",
        ),
        def(
            "equal?",
            sig(&[Any, Any], Bool),
            "Structural equality, no numeric conversion: `(equal? 1 1.0)` is false; dicts in any order.",
        ),
        def("cons", sig(&[Any, Any], Pair), "A new pair."),
        def("car", sig(&[Pair], Any), "First element of a pair."),
        def("cdr", sig(&[Pair], Any), "Rest of a pair."),
        def("list", sig(&[], List).rest(Any), "A list of the arguments."),
        def(
            "length",
            sig(&[List], Int),
            "Number of elements of a proper list.",
        ),
        def(
            "append",
            sig(&[], List).rest(List),
            "Concatenation of lists.",
        ),
        def("reverse", sig(&[List], List), "The list reversed."),
        def(
            "list-ref",
            sig(&[List, Int], Any),
            "Element at a 0-based index; out of range is a `range` error.",
        ),
        pred("null?", "Whether the value is nil (the empty list)."),
        pred("pair?", "Whether the value is a pair."),
        pred("list?", "Whether the value is a proper list."),
        pred("int?", "Whether the value is an Int."),
        pred("float?", "Whether the value is a Float."),
        pred("number?", "Whether the value is an Int or a Float."),
        pred("string?", "Whether the value is a String."),
        pred(
            "symbol?",
            "Whether the value is a Symbol (keywords included).",
        ),
        pred("bool?", "Whether the value is true or false."),
        pred("nil?", "Whether the value is nil."),
        pred("procedure?", "Whether the value can be called."),
        pred("capability?", "Whether the value is a capability token."),
        pred("actor?", "Whether the value is an actor id."),
        prelude(
            "map",
            sig(&[Fn, List], List),
            "The list of `(f x)` for each element x.",
        ),
        prelude(
            "filter",
            sig(&[Fn, List], List),
            "The elements x for which `(f x)` is true.",
        ),
        prelude(
            "foldl",
            sig(&[Fn, Any, List], Any),
            "`(foldl f init '(a b))` is `(f (f init a) b)`.",
        ),
        prelude(
            "foldr",
            sig(&[Fn, Any, List], Any),
            "`(foldr f init '(a b))` is `(f a (f b init))`.",
        ),
        def(
            "string-length",
            sig(&[String], Int),
            "Number of characters (Unicode scalar values).",
        ),
        def(
            "string-append",
            sig(&[], String).rest(String),
            "Concatenation of strings.",
        ),
        def(
            "substring",
            sig(&[String, Int, Int], String),
            "Characters from start to end (exclusive); out of range is a `range` error.",
        ),
        def(
            "string=?",
            sig(&[String, String], Bool),
            "Whether two strings are equal.",
        ),
        def(
            "string->symbol",
            sig(&[String], Symbol),
            "The symbol with this name.",
        ),
        def(
            "symbol->string",
            sig(&[Symbol], String),
            "The name of a symbol.",
        ),
        def(
            "number->string",
            sig(&[Number], String),
            "The printed form of a number.",
        ),
        def(
            "string->number",
            sig(&[String], Number).optional(),
            "Reads a number in the literal syntax; nil otherwise.",
        ),
        def(
            "to-string",
            sig(&[Any], String),
            "Exactly what `print` writes for the value.",
        ),
        def(
            "error",
            sig(&[String], Any).rest(Any),
            "Raises an error of kind `user` with the message and irritants.",
        ),
        def(
            "error-kind",
            sig(&[Error], Symbol),
            "The kind of an error value, e.g. `division-by-zero`.",
        ),
        def(
            "error-message",
            sig(&[Error], String),
            "The message of an error value.",
        ),
    ];
    t.extend(data_builtins());
    let mut print = def(
        "print",
        sig(&[], Nil).rest(Any),
        "Writes the arguments separated by spaces; strings raw.",
    );
    print.tier = TrustTier::Empirical;
    let mut println = def(
        "println",
        sig(&[], Nil).rest(Any),
        "Like `print`, then a newline.",
    );
    println.tier = TrustTier::Empirical;
    t.push(print);
    t.push(println);
    t.extend(actor_builtins());
    let mut check = def(
        "__check-list",
        sig(&[Any, Any], Nil),
        "Raises a type error unless the value is a proper list.",
    );
    check.hidden = true;
    t.push(check);
    let mut reverse_fresh = def(
        "__reverse-fresh!",
        sig(&[Any], Any),
        "Reverses in place a list the prelude built and alone holds.",
    );
    reverse_fresh.hidden = true;
    t.push(reverse_fresh);
    t
});

/// The actor built-ins of language §9: tier empirical, run by the VM itself;
/// `spawn` and `kill` need a capability.
fn actor_builtins() -> Vec<BuiltinDef> {
    let actor = |name, sig, cap: Option<Capability>, doc| BuiltinDef {
        name,
        sig,
        tier: TrustTier::Empirical,
        doc,
        imp: Imp::Vm,
        hidden: false,
        capability: cap,
    };
    vec![
        actor(
            "spawn",
            sig(&[Fn], ActorId).rest(Any),
            Some(Capability::SysCreateActor),
            "Starts an actor running `(f arg ...)` and returns its id; past the live-actor limit: kind `limit`.",
        ),
        actor(
            "send",
            sig(&[ActorId, Any], Bool),
            None,
            "Queues a message for an actor: `true`; to one that has ended: `false`; to a full mailbox (10,000): kind `limit`.",
        ),
        actor(
            "receive",
            sig(&[], Any).opt(&[Int, Any]),
            None,
            "The oldest message of the calling actor's mailbox, waiting for one; with `ms`, `default` (nil) if none arrives in time.",
        ),
        actor("self", sig(&[], ActorId), None, "The calling actor's id."),
        actor(
            "await",
            sig(&[ActorId], Any).opt(&[Int, Any]),
            None,
            "Waits for an actor to end and gives its result; its failure is kind `actor-failed`; with `ms`, `default` (nil) if it has not ended in time.",
        ),
        actor(
            "kill",
            sig(&[ActorId], Bool),
            Some(Capability::SysTerminateActor),
            "Ends a live actor (it fails with kind `killed`): `true`; one that has ended: `false`.",
        ),
        actor(
            "actor-alive?",
            sig(&[ActorId], Bool),
            None,
            "Whether the actor has not ended yet.",
        ),
        actor(
            "sleep",
            sig(&[Int], Nil),
            None,
            "Suspends the calling actor for at least `ms` milliseconds while the others run.",
        ),
    ]
}

/// The built-ins of language §12: vectors, dicts, strings, lists, JSON.
fn data_builtins() -> Vec<BuiltinDef> {
    let pred = |name, doc| def(name, sig(&[Any], Bool), doc);
    let mut t = vec![
        def(
            "vector",
            sig(&[], Vector).rest(Any),
            "A new mutable vector of the arguments.",
        ),
        def(
            "make-vector",
            sig(&[Int], Vector).opt(&[Any]),
            "`(make-vector n fill)`: n slots all holding fill (nil when omitted).",
        ),
        pred("vector?", "Whether the value is a vector."),
        def(
            "vector-length",
            sig(&[Vector], Int),
            "Number of slots of a vector.",
        ),
        def(
            "vector-ref",
            sig(&[Vector, Int], Any),
            "The element at a 0-based index; out of range is a `range` error.",
        ),
        def(
            "vector-set!",
            sig(&[Vector, Int, Any], Nil),
            "Sets a slot; a literal vector is kind `immutable`.",
        ),
        def(
            "vector->list",
            sig(&[Vector], List),
            "The elements as a list.",
        ),
        def(
            "list->vector",
            sig(&[List], Vector),
            "A new mutable vector of a list's elements.",
        ),
        prelude(
            "vector-map",
            sig(&[Fn, Vector], Vector),
            "A new vector of `(f x)` for each element, in index order.",
        ),
        prelude(
            "vector-for-each",
            sig(&[Fn, Vector], Nil),
            "`(f x)` for each element, in index order.",
        ),
        def(
            "dict",
            sig(&[], Dict).rest(Any),
            "`(dict k1 v1 k2 v2 ...)`: a dict of these entries, set left to right.",
        ),
        pred("dict?", "Whether the value is a dict."),
        def("dict-size", sig(&[Dict], Int), "Number of entries."),
        def(
            "dict-ref",
            sig(&[Dict, Any], Any).opt(&[Any]),
            "The key's value; a missing key gives the default, or kind `key` without one.",
        ),
        def(
            "dict-has?",
            sig(&[Dict, Any], Bool),
            "Whether the key is in the dict.",
        ),
        def(
            "dict-set",
            sig(&[Dict, Any, Any], Dict),
            "A dict with the key set: a new key is appended, a present one keeps its place.",
        ),
        def(
            "dict-remove",
            sig(&[Dict, Any], Dict),
            "A dict without the key.",
        ),
        prelude(
            "dict-update",
            sig(&[Dict, Any, Fn], Dict).opt(&[Any]),
            "`(dict-set d k (f (dict-ref d k)))`; with a default, a missing key gives `(f default)`.",
        ),
        def("dict-keys", sig(&[Dict], List), "The keys, in order."),
        def(
            "dict-values",
            sig(&[Dict], List),
            "The values, in the order of their keys.",
        ),
        def(
            "dict->list",
            sig(&[Dict], List),
            "Pairs `(k . v)`, in order.",
        ),
        def(
            "list->dict",
            sig(&[List], Dict),
            "A dict from pairs `(k . v)`, set left to right.",
        ),
        def(
            "dict-merge",
            sig(&[], Dict).rest(Dict),
            "The first dict with the entries of the later ones set into it in order.",
        ),
        def(
            "string-ref",
            sig(&[String, Int], String),
            "The one-character string at a character index.",
        ),
        def(
            "string-split",
            sig(&[String], List).opt(&[String]),
            "The pieces between occurrences of sep; without sep, split at white space.",
        ),
        def(
            "string-join",
            sig(&[List, String], String),
            "The strings of a list with sep between them.",
        ),
        def(
            "string-contains?",
            sig(&[String, String], Bool),
            "Whether part occurs in the string.",
        ),
        def(
            "string-index",
            sig(&[String, String], Int).optional(),
            "Character index of the first occurrence of part, or nil.",
        ),
        def(
            "string-starts-with?",
            sig(&[String, String], Bool),
            "Whether the string starts with the prefix.",
        ),
        def(
            "string-ends-with?",
            sig(&[String, String], Bool),
            "Whether the string ends with the suffix.",
        ),
        def(
            "string-replace",
            sig(&[String, String, String], String),
            "Every occurrence of old replaced by new, left to right.",
        ),
        def(
            "string-upcase",
            sig(&[String], String),
            "Upper case (Unicode full mapping).",
        ),
        def(
            "string-downcase",
            sig(&[String], String),
            "Lower case (Unicode full mapping).",
        ),
        def(
            "string-trim",
            sig(&[String], String),
            "Without leading and trailing white space.",
        ),
        def(
            "format",
            sig(&[String], String).rest(Any),
            "The template with `~a` (as print writes), `~s` (printed form) and `~~` replaced.",
        ),
        def(
            "apply",
            sig(&[Fn, Any], Any).rest(Any),
            "`(apply f a ... lst)` calls f with a ... and the elements of lst.",
        ),
        prelude(
            "for-each",
            sig(&[Fn, List], Nil),
            "`(f x)` for each element, in order.",
        ),
        prelude(
            "filter-map",
            sig(&[Fn, List], List),
            "The true results of `(f x)`, in order.",
        ),
        prelude(
            "any",
            sig(&[Fn, List], Any),
            "The first true result of `(f x)`, else false.",
        ),
        prelude(
            "every",
            sig(&[Fn, List], Any),
            "False at the first false result of `(f x)`, else the last result; true for nil.",
        ),
        prelude(
            "sort",
            sig(&[List, Fn], List).or(sig(&[Vector, Fn], Vector)),
            "`(sort seq less?)`: a stable sort into a new list or mutable vector.",
        ),
        def(
            "assoc",
            sig(&[Any, List], Pair).optional(),
            "The first pair whose car is equal? to the key, or nil.",
        ),
        def(
            "member",
            sig(&[Any, List], List),
            "The first tail whose car is equal? to x, or nil.",
        ),
        def(
            "range",
            sig(&[Int], List).opt(&[Int, Int]),
            "`(range n)`, `(range a b)`, `(range a b step)`: a list of Ints.",
        ),
        def(
            "list-tail",
            sig(&[List, Int], List),
            "The list without its first k elements.",
        ),
        def(
            "last",
            sig(&[List], Any),
            "The last element; nil is a `range` error.",
        ),
        def(
            "json-parse",
            sig(&[String], Any),
            "The value of one JSON text: objects as dicts, arrays as vectors.",
        ),
        def(
            "json-stringify",
            sig(&[Any], String),
            "Compact JSON of the value.",
        ),
    ];
    let mut check = def(
        "__check-vector",
        sig(&[Any, Any], Nil),
        "Raises a type error unless the value is a vector.",
    );
    check.hidden = true;
    t.push(check);
    t
}

static BY_NAME: LazyLock<HashMap<&'static str, u16>> = LazyLock::new(|| {
    TABLE
        .iter()
        .enumerate()
        .map(|(i, b)| (b.name, i as u16))
        .collect()
});

/// All built-ins, indexed by id.
pub fn all() -> &'static [BuiltinDef] {
    &TABLE
}

/// The built-in with this id.
pub fn get(id: u16) -> &'static BuiltinDef {
    &TABLE[id as usize]
}

/// The id of a built-in by name; hidden ones only when `internal`.
pub fn find(name: &str, internal: bool) -> Option<u16> {
    let id = *BY_NAME.get(name)?;
    (internal || !TABLE[id as usize].hidden).then_some(id)
}

/// Names of the visible built-ins.
pub fn names() -> impl Iterator<Item = &'static str> {
    TABLE.iter().filter(|b| !b.hidden).map(|b| b.name)
}

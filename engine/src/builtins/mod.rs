//! The built-in procedures of language §5: one table with each name, signature,
//! tier, documentation and implementation. Analysis reads the signatures; the VM
//! calls the implementations; hover and `:doc` read the documentation.

pub mod natives;

use crate::ffi::{Signature, TrustTier, Type};
use natives::NativeFn;
use std::collections::HashMap;
use std::sync::LazyLock;

/// How a built-in is implemented.
#[derive(Clone, Copy)]
pub enum Imp {
    /// A Rust function.
    Native(NativeFn),
    /// A function of the prelude, written in Jue.
    Prelude,
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
}

/// The prelude's Jue source: the built-ins written in Jue. Loops, not recursion,
/// so they run on lists of any length in constant stack.
pub const PRELUDE: &str = include_str!("prelude.jue");

use Type::*;

fn def(name: &'static str, sig: Signature, doc: &'static str, f: NativeFn) -> BuiltinDef {
    BuiltinDef {
        name,
        sig,
        tier: TrustTier::Formal,
        doc,
        imp: Imp::Native(f),
        hidden: false,
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
    }
}

fn sig(params: &[Type], ret: Type) -> Signature {
    Signature::new(params, ret)
}

static TABLE: LazyLock<Vec<BuiltinDef>> = LazyLock::new(|| {
    use natives as n;
    let pred = |name, doc, f| def(name, sig(&[Any], Bool), doc, f);
    let mut t = vec![
        def(
            "+",
            sig(&[], Number).rest(Number),
            "Sum of the arguments; `(+)` is 0.",
            n::add,
        ),
        def(
            "*",
            sig(&[], Number).rest(Number),
            "Product of the arguments; `(*)` is 1.",
            n::mul,
        ),
        def(
            "-",
            sig(&[Number], Number).rest(Number),
            "Difference; `(- x)` negates.",
            n::sub,
        ),
        def(
            "/",
            sig(&[Number], Number).rest(Number),
            "Quotient; two Ints truncate toward zero; `(/ x)` is `(/ 1 x)`.",
            n::div,
        ),
        def(
            "%",
            sig(&[Int, Int], Int),
            "Remainder with the sign of the dividend.",
            n::rem,
        ),
        def("abs", sig(&[Number], Number), "Absolute value.", n::abs),
        def(
            "min",
            sig(&[Number], Number).rest(Number),
            "Smallest argument.",
            n::min,
        ),
        def(
            "max",
            sig(&[Number], Number).rest(Number),
            "Largest argument.",
            n::max,
        ),
        def(
            "=",
            sig(&[Number], Bool).rest(Number),
            "Numeric equality, chained; Int and Float compare by value.",
            n::num_eq,
        ),
        def(
            "<",
            sig(&[Number], Bool).rest(Number),
            "Strictly increasing, chained: `(< 1 2 3)`.",
            n::lt,
        ),
        def(
            ">",
            sig(&[Number], Bool).rest(Number),
            "Strictly decreasing, chained.",
            n::gt,
        ),
        def(
            "<=",
            sig(&[Number], Bool).rest(Number),
            "Non-decreasing, chained.",
            n::le,
        ),
        def(
            ">=",
            sig(&[Number], Bool).rest(Number),
            "Non-increasing, chained.",
            n::ge,
        ),
        def(
            "not",
            sig(&[Any], Bool),
            "`true` for nil and false, else `false`.",
            n::not,
        ),
        def(
            "eq?",
            sig(&[Any, Any], Bool),
            "Identity: numbers, booleans, nil and symbols by value; strings, pairs and procedures by identity.",
            n::eq,
        ),
        def(
            "equal?",
            sig(&[Any, Any], Bool),
            "Structural equality, no numeric conversion: `(equal? 1 1.0)` is false.",
            n::equal,
        ),
        def("cons", sig(&[Any, Any], Pair), "A new pair.", n::cons),
        def("car", sig(&[Pair], Any), "First element of a pair.", n::car),
        def("cdr", sig(&[Pair], Any), "Rest of a pair.", n::cdr),
        def(
            "list",
            sig(&[], List).rest(Any),
            "A list of the arguments.",
            n::list,
        ),
        def(
            "length",
            sig(&[List], Int),
            "Number of elements of a proper list.",
            n::length,
        ),
        def(
            "append",
            sig(&[], List).rest(List),
            "Concatenation of lists.",
            n::append,
        ),
        def(
            "reverse",
            sig(&[List], List),
            "The list reversed.",
            n::reverse,
        ),
        def(
            "list-ref",
            sig(&[List, Int], Any),
            "Element at a 0-based index; out of range is a `range` error.",
            n::list_ref,
        ),
        pred(
            "null?",
            "Whether the value is nil (the empty list).",
            n::is_nil,
        ),
        pred("pair?", "Whether the value is a pair.", n::is_pair),
        pred("list?", "Whether the value is a proper list.", n::is_list),
        pred("int?", "Whether the value is an Int.", n::is_int),
        pred("float?", "Whether the value is a Float.", n::is_float),
        pred(
            "number?",
            "Whether the value is an Int or a Float.",
            n::is_number,
        ),
        pred("string?", "Whether the value is a String.", n::is_string),
        pred(
            "symbol?",
            "Whether the value is a Symbol (keywords included).",
            n::is_symbol,
        ),
        pred("bool?", "Whether the value is true or false.", n::is_bool),
        pred("nil?", "Whether the value is nil.", n::is_nil),
        pred(
            "procedure?",
            "Whether the value can be called.",
            n::is_procedure,
        ),
        pred(
            "capability?",
            "Whether the value is a capability token.",
            n::is_capability,
        ),
        pred("actor?", "Whether the value is an actor id.", n::is_actor),
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
            n::string_length,
        ),
        def(
            "string-append",
            sig(&[], String).rest(String),
            "Concatenation of strings.",
            n::string_append,
        ),
        def(
            "substring",
            sig(&[String, Int, Int], String),
            "Characters from start to end (exclusive); out of range is a `range` error.",
            n::substring,
        ),
        def(
            "string=?",
            sig(&[String, String], Bool),
            "Whether two strings are equal.",
            n::string_eq,
        ),
        def(
            "string->symbol",
            sig(&[String], Symbol),
            "The symbol with this name.",
            n::string_to_symbol,
        ),
        def(
            "symbol->string",
            sig(&[Symbol], String),
            "The name of a symbol.",
            n::symbol_to_string,
        ),
        def(
            "number->string",
            sig(&[Number], String),
            "The printed form of a number.",
            n::number_to_string,
        ),
        def(
            "string->number",
            sig(&[String], Number).optional(),
            "Reads a number in the literal syntax; nil otherwise.",
            n::string_to_number,
        ),
        def(
            "to-string",
            sig(&[Any], String),
            "Exactly what `print` writes for the value.",
            n::to_string,
        ),
        def(
            "error",
            sig(&[String], Any).rest(Any),
            "Raises an error of kind `user` with the message and irritants.",
            n::error,
        ),
        def(
            "error-kind",
            sig(&[Error], Symbol),
            "The kind of an error value, e.g. `division-by-zero`.",
            n::error_kind,
        ),
        def(
            "error-message",
            sig(&[Error], String),
            "The message of an error value.",
            n::error_message,
        ),
    ];
    let mut print = def(
        "print",
        sig(&[], Nil).rest(Any),
        "Writes the arguments separated by spaces; strings raw.",
        n::print,
    );
    print.tier = TrustTier::Empirical;
    let mut println = def(
        "println",
        sig(&[], Nil).rest(Any),
        "Like `print`, then a newline.",
        n::println,
    );
    println.tier = TrustTier::Empirical;
    t.push(print);
    t.push(println);
    let mut check = def(
        "__check-list",
        sig(&[Any, Any], Nil),
        "Raises a type error unless the value is a proper list.",
        n::check_list,
    );
    check.hidden = true;
    t.push(check);
    t
});

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

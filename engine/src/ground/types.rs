//! Type names of signatures (language §6) and what values they accept.

use std::fmt;

/// A type name of the language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    /// 64-bit integer.
    Int,
    /// 64-bit float.
    Float,
    /// Int or Float.
    Number,
    /// Boolean.
    Bool,
    /// String.
    String,
    /// Symbol.
    Symbol,
    /// Nil.
    Nil,
    /// Nil or a pair.
    List,
    /// Pair.
    Pair,
    /// Any vector (literal or not).
    Vector,
    /// Any dict.
    Dict,
    /// Any procedure.
    Fn,
    /// Capability token.
    Capability,
    /// Actor id.
    ActorId,
    /// Error value.
    Error,
    /// Anything.
    Any,
}

// One bit per kind of run-time value; a type is a set of kinds.
/// Kind bit of nil.
pub const NIL: u16 = 1;
/// Kind bit of booleans.
pub const BOOL: u16 = 2;
/// Kind bit of integers.
pub const INT: u16 = 4;
/// Kind bit of floats.
pub const FLOAT: u16 = 8;
/// Kind bit of strings.
pub const STR: u16 = 16;
/// Kind bit of symbols.
pub const SYM: u16 = 32;
/// Kind bit of pairs.
pub const PAIR: u16 = 64;
/// Kind bit of procedures.
pub const FN: u16 = 128;
/// Kind bit of capabilities.
pub const CAP: u16 = 256;
/// Kind bit of actors.
pub const ACTOR: u16 = 512;
/// Kind bit of errors.
pub const ERR: u16 = 1024;
/// Kind bit of vectors.
pub const VEC: u16 = 2048;
/// Kind bit of dicts.
pub const DICT: u16 = 4096;

impl Type {
    /// All type names.
    pub const ALL: [Type; 16] = [
        Type::Int,
        Type::Float,
        Type::Number,
        Type::Bool,
        Type::String,
        Type::Symbol,
        Type::Nil,
        Type::List,
        Type::Pair,
        Type::Vector,
        Type::Dict,
        Type::Fn,
        Type::Capability,
        Type::ActorId,
        Type::Error,
        Type::Any,
    ];

    /// The name as written (`Int`).
    pub fn name(self) -> &'static str {
        match self {
            Type::Int => "Int",
            Type::Float => "Float",
            Type::Number => "Number",
            Type::Bool => "Bool",
            Type::String => "String",
            Type::Symbol => "Symbol",
            Type::Nil => "Nil",
            Type::List => "List",
            Type::Pair => "Pair",
            Type::Vector => "Vector",
            Type::Dict => "Dict",
            Type::Fn => "Fn",
            Type::Capability => "Capability",
            Type::ActorId => "ActorId",
            Type::Error => "Error",
            Type::Any => "Any",
        }
    }

    /// Parses a type name.
    pub fn from_name(s: &str) -> Option<Type> {
        Type::ALL.into_iter().find(|t| t.name() == s)
    }

    /// The set of value kinds this type admits.
    pub fn kinds(self) -> u16 {
        match self {
            Type::Int => INT,
            Type::Float => FLOAT,
            Type::Number => INT | FLOAT,
            Type::Bool => BOOL,
            Type::String => STR,
            Type::Symbol => SYM,
            Type::Nil => NIL,
            Type::List => NIL | PAIR,
            Type::Pair => PAIR,
            Type::Vector => VEC,
            Type::Dict => DICT,
            Type::Fn => FN,
            Type::Capability => CAP,
            Type::ActorId => ACTOR,
            Type::Error => ERR,
            Type::Any => u16::MAX,
        }
    }

    /// Whether a value statically known to be of type `known` can never be accepted here.
    pub fn rejects(self, known: Type) -> bool {
        self.kinds() & known.kinds() == 0
    }

    /// Whether every value of `known` is accepted here.
    pub fn accepts_all(self, known: Type) -> bool {
        known.kinds() & !self.kinds() == 0
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A function signature: parameter types, an optional variadic rest type, a return type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Signature {
    /// Required parameters.
    pub params: Vec<Type>,
    /// Optional parameters after the required ones (built-ins only), written in
    /// brackets: `(Dict Any [Any]) → Any`.
    pub optional: Vec<Type>,
    /// A second signature of the same built-in (`sort`: lists and vectors); a
    /// call is accepted if either accepts it.
    pub alt: Option<Box<Signature>>,
    /// Type of each extra argument, for `T...`.
    pub rest: Option<Type>,
    /// Return type.
    pub ret: Type,
    /// Whether the return is `T?` (T or nil).
    pub ret_optional: bool,
}

impl Signature {
    /// A fixed-arity signature.
    pub fn new(params: &[Type], ret: Type) -> Signature {
        Signature {
            params: params.to_vec(),
            optional: Vec::new(),
            alt: None,
            rest: None,
            ret,
            ret_optional: false,
        }
    }
    /// Adds a variadic rest type.
    pub fn rest(mut self, t: Type) -> Signature {
        self.rest = Some(t);
        self
    }
    /// Adds optional parameters (in brackets).
    pub fn opt(mut self, types: &[Type]) -> Signature {
        self.optional = types.to_vec();
        self
    }
    /// Adds a second signature.
    pub fn or(mut self, other: Signature) -> Signature {
        self.alt = Some(Box::new(other));
        self
    }
    /// This signature and its alternative, if any.
    pub fn alternatives(&self) -> impl Iterator<Item = &Signature> {
        std::iter::once(self).chain(self.alt.as_deref())
    }
    /// Marks the return as `T?`.
    pub fn optional(mut self) -> Signature {
        self.ret_optional = true;
        self
    }
    /// Whether `n` arguments are accepted.
    pub fn accepts_count(&self, n: usize) -> bool {
        let one = if self.rest.is_some() {
            n >= self.params.len()
        } else {
            n >= self.params.len() && n <= self.params.len() + self.optional.len()
        };
        one || self.alt.as_ref().is_some_and(|a| a.accepts_count(n))
    }
    /// The parameter type of argument `i`.
    pub fn param(&self, i: usize) -> Option<Type> {
        self.params
            .get(i)
            .or_else(|| self.optional.get(i - self.params.len()))
            .copied()
            .or(self.rest)
    }
    /// The statically known result type: none for `T?` and `Any`.
    pub fn known_return(&self) -> Option<Type> {
        (!self.ret_optional && self.ret != Type::Any).then_some(self.ret)
    }
    /// Describes the accepted argument count ("2", "at least 1").
    pub fn arity_text(&self) -> String {
        let n = self.params.len();
        let m = n + self.optional.len();
        if self.rest.is_some() {
            let s = if n == 1 { "" } else { "s" };
            format!("at least {n} argument{s}")
        } else if m > n {
            if m == n + 1 {
                format!("{n} or {m} arguments")
            } else {
                format!("{n} to {m} arguments")
            }
        } else {
            let s = if n == 1 { "" } else { "s" };
            format!("{n} argument{s}")
        }
    }
    /// Parses seed-style type strings: parameters (`"Int"`, last may be `"Int..."`) and a return (`"String?"`).
    pub fn parse(params: &[String], ret: &str) -> Result<Signature, String> {
        let mut sig = Signature::new(&[], Type::Any);
        for (i, p) in params.iter().enumerate() {
            if let Some(base) = p.strip_suffix("...") {
                if i + 1 != params.len() {
                    return Err(format!("only the last parameter may be variadic: `{p}`"));
                }
                sig.rest =
                    Some(Type::from_name(base).ok_or_else(|| format!("unknown type `{base}`"))?);
            } else {
                sig.params
                    .push(Type::from_name(p).ok_or_else(|| format!("unknown type `{p}`"))?);
            }
        }
        let (base, opt) = match ret.strip_suffix('?') {
            Some(b) => (b, true),
            None => (ret, false),
        };
        sig.ret = Type::from_name(base).ok_or_else(|| format!("unknown type `{base}`"))?;
        sig.ret_optional = opt;
        Ok(sig)
    }
    /// The parameter types as seed-style strings.
    pub fn param_strings(&self) -> Vec<String> {
        let mut v: Vec<String> = self.params.iter().map(|t| t.name().to_string()).collect();
        v.extend(self.optional.iter().map(|t| format!("[{t}]")));
        if let Some(r) = self.rest {
            v.push(format!("{r}..."));
        }
        v
    }
    /// The return type as a seed-style string.
    pub fn return_string(&self) -> String {
        format!("{}{}", self.ret, if self.ret_optional { "?" } else { "" })
    }
}

impl fmt::Display for Signature {
    /// `(Int Int) → Int`, `(Number...) → Number`, `(String) → String?`,
    /// `(List Fn) → List, (Vector Fn) → Vector`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "({}) → {}",
            self.param_strings().join(" "),
            self.return_string()
        )?;
        if let Some(a) = &self.alt {
            write!(f, ", {a}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse() {
        let s = Signature::new(&[Type::String, Type::String], Type::List).rest(Type::Any);
        assert_eq!(s.to_string(), "(String String Any...) → List");
        let p = Signature::parse(&s.param_strings(), &s.return_string()).unwrap();
        assert_eq!(p, s);
        assert_eq!(
            Signature::parse(&["String".into()], "String?")
                .unwrap()
                .to_string(),
            "(String) → String?"
        );
        assert!(Signature::parse(&["Blob".into()], "Int").is_err());
    }

    #[test]
    fn acceptance() {
        assert!(Type::Float.rejects(Type::Int));
        assert!(!Type::Int.rejects(Type::Number));
        assert!(Type::Pair.rejects(Type::Nil));
        assert!(!Type::List.rejects(Type::Nil));
        assert!(Type::Number.accepts_all(Type::Int));
    }
}

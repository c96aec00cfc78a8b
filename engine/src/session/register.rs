//! Typed registration (issue 14, point 5): register a Rust closure and let its
//! parameter and return types make the registry entry.
//!
//! ```
//! use jue_engine::Session;
//! let mut s = Session::new();
//! s.register_fn("app:hypot", |a: f64, b: f64| a.hypot(b)).unwrap();
//! // An Int where a Float is expected widens.
//! assert_eq!(s.eval_str("<doc>", "(app:hypot 3 4.0)").unwrap(), jue_engine::Value::Float(5.0));
//! ```
//!
//! Types: `i64` is `Int`; `f64` is `Number` as a parameter (an `Int` widens) and
//! `Float` as a result; `bool`, `String`, `Vec<T>` (`List`), `Option<T>` (`T?` as
//! a result, `Any` checked as nil-or-`T` as a parameter), [`Value`] (`Any`),
//! [`Function`] (`Fn`), `()` (`Nil`) and `Result<T, HostError>` (a host error).

use super::Session;
use crate::ground::ffi::{
    Capability, FfiFunction, Function, HostCx, HostError, HostFunction, RegistryError,
    SourceLocation, TrustTier, Value,
};

/// A Rust type a host function's parameter can have: its Jue type and the check.
pub trait FromJue: Sized {
    /// The type name in the registry entry (`Int`, `Number`, `List`, …).
    fn jue_type() -> String;
    /// Converts an argument; `Err` says what was wrong (the caller names the argument).
    fn from_jue(v: &Value) -> Result<Self, String>;
}

/// A Rust type a host function can return: its Jue type and the conversion.
pub trait IntoJue {
    /// The return type name in the registry entry (`Float`, `String?`, …).
    fn jue_type() -> String;
    /// Converts the result.
    fn into_jue(self) -> Result<Value, HostError>;
}

fn wrong(expected: &str, got: &Value) -> String {
    format!("expected {expected}, got {}", got.type_name())
}

impl FromJue for i64 {
    fn jue_type() -> String {
        "Int".into()
    }
    fn from_jue(v: &Value) -> Result<i64, String> {
        match v {
            Value::Int(i) => Ok(*i),
            other => Err(wrong("Int", other)),
        }
    }
}

impl FromJue for f64 {
    /// `Number`: an integral argument widens to a float.
    fn jue_type() -> String {
        "Number".into()
    }
    fn from_jue(v: &Value) -> Result<f64, String> {
        match v {
            Value::Float(x) => Ok(*x),
            Value::Int(i) => Ok(*i as f64),
            other => Err(wrong("Float", other)),
        }
    }
}

impl FromJue for bool {
    fn jue_type() -> String {
        "Bool".into()
    }
    fn from_jue(v: &Value) -> Result<bool, String> {
        match v {
            Value::Bool(b) => Ok(*b),
            other => Err(wrong("Bool", other)),
        }
    }
}

impl FromJue for String {
    fn jue_type() -> String {
        "String".into()
    }
    fn from_jue(v: &Value) -> Result<String, String> {
        match v {
            Value::String(s) => Ok(s.clone()),
            other => Err(wrong("String", other)),
        }
    }
}

impl<T: FromJue> FromJue for Vec<T> {
    fn jue_type() -> String {
        "List".into()
    }
    fn from_jue(v: &Value) -> Result<Vec<T>, String> {
        match v {
            Value::Nil => Ok(Vec::new()),
            Value::List(items) => items
                .iter()
                .enumerate()
                .map(|(i, x)| T::from_jue(x).map_err(|m| format!("element {}: {m}", i + 1)))
                .collect(),
            other => Err(wrong("a proper list", other)),
        }
    }
}

impl<T: FromJue> FromJue for Option<T> {
    /// `Any`: parameter types have no `T?`; nil or a `T`, checked here.
    fn jue_type() -> String {
        "Any".into()
    }
    fn from_jue(v: &Value) -> Result<Option<T>, String> {
        match v {
            Value::Nil => Ok(None),
            other => T::from_jue(other).map(Some),
        }
    }
}

impl FromJue for Value {
    fn jue_type() -> String {
        "Any".into()
    }
    fn from_jue(v: &Value) -> Result<Value, String> {
        Ok(v.clone())
    }
}

impl FromJue for Function {
    fn jue_type() -> String {
        "Fn".into()
    }
    fn from_jue(v: &Value) -> Result<Function, String> {
        match v {
            Value::Function(f) => Ok(f.clone()),
            other => Err(wrong("Fn", other)),
        }
    }
}

impl IntoJue for i64 {
    fn jue_type() -> String {
        "Int".into()
    }
    fn into_jue(self) -> Result<Value, HostError> {
        Ok(Value::Int(self))
    }
}

impl IntoJue for f64 {
    fn jue_type() -> String {
        "Float".into()
    }
    fn into_jue(self) -> Result<Value, HostError> {
        Ok(Value::Float(self))
    }
}

impl IntoJue for bool {
    fn jue_type() -> String {
        "Bool".into()
    }
    fn into_jue(self) -> Result<Value, HostError> {
        Ok(Value::Bool(self))
    }
}

impl IntoJue for String {
    fn jue_type() -> String {
        "String".into()
    }
    fn into_jue(self) -> Result<Value, HostError> {
        Ok(Value::String(self))
    }
}

impl IntoJue for &str {
    fn jue_type() -> String {
        "String".into()
    }
    fn into_jue(self) -> Result<Value, HostError> {
        Ok(Value::String(self.to_string()))
    }
}

impl IntoJue for () {
    fn jue_type() -> String {
        "Nil".into()
    }
    fn into_jue(self) -> Result<Value, HostError> {
        Ok(Value::Nil)
    }
}

impl<T: IntoJue> IntoJue for Vec<T> {
    fn jue_type() -> String {
        "List".into()
    }
    fn into_jue(self) -> Result<Value, HostError> {
        if self.is_empty() {
            return Ok(Value::Nil);
        }
        Ok(Value::List(
            self.into_iter()
                .map(IntoJue::into_jue)
                .collect::<Result<_, _>>()?,
        ))
    }
}

impl<T: IntoJue> IntoJue for Option<T> {
    fn jue_type() -> String {
        let t = T::jue_type();
        // `Any?` and `Nil?` are not type names; they already admit nil.
        if t == "Any" || t == "Nil" || t.ends_with('?') {
            t
        } else {
            format!("{t}?")
        }
    }
    fn into_jue(self) -> Result<Value, HostError> {
        match self {
            Some(v) => v.into_jue(),
            None => Ok(Value::Nil),
        }
    }
}

impl IntoJue for Value {
    fn jue_type() -> String {
        "Any".into()
    }
    fn into_jue(self) -> Result<Value, HostError> {
        Ok(self)
    }
}

impl IntoJue for Function {
    fn jue_type() -> String {
        "Fn".into()
    }
    fn into_jue(self) -> Result<Value, HostError> {
        Ok(Value::Function(self))
    }
}

impl<T: IntoJue> IntoJue for Result<T, HostError> {
    fn jue_type() -> String {
        T::jue_type()
    }
    fn into_jue(self) -> Result<Value, HostError> {
        self.and_then(IntoJue::into_jue)
    }
}

/// A Rust closure usable as a typed host function; `Args` is its parameter tuple
/// (implemented for closures of up to six [`FromJue`] parameters returning an
/// [`IntoJue`]). The first parameter may be `&mut HostCx` with
/// [`Session::register_fn_cx`].
pub trait TypedFn<Args>: Send + Sync + 'static {
    /// The registry's parameter type names.
    fn param_types() -> Vec<String>;
    /// The registry's return type name.
    fn return_type() -> String;
    /// Converts the arguments, calls, converts the result.
    fn call_typed(&self, name: &str, args: &[Value]) -> Result<Value, HostError>;
}

/// A typed closure that receives the [`HostCx`] first.
pub trait TypedCxFn<Args>: Send + Sync + 'static {
    /// The registry's parameter type names.
    fn param_types() -> Vec<String>;
    /// The registry's return type name.
    fn return_type() -> String;
    /// Converts the arguments, calls, converts the result.
    fn call_typed(
        &self,
        cx: &mut HostCx<'_>,
        name: &str,
        args: &[Value],
    ) -> Result<Value, HostError>;
}

/// Converts argument `i` (0-based) of `name`, naming it in the error.
fn arg<T: FromJue>(name: &str, args: &[Value], i: usize) -> Result<T, HostError> {
    let v = args
        .get(i)
        .ok_or_else(|| HostError::type_error(format!("`{name}` is missing argument {}", i + 1)))?;
    T::from_jue(v)
        .map_err(|m| HostError::type_error(format!("argument {} of `{name}`: {m}", i + 1)))
}

macro_rules! typed_fn {
    ($($a:ident : $i:tt),*) => {
        impl<F, R, $($a),*> TypedFn<($($a,)*)> for F
        where
            F: Fn($($a),*) -> R + Send + Sync + 'static,
            R: IntoJue,
            $($a: FromJue,)*
        {
            fn param_types() -> Vec<String> {
                vec![$($a::jue_type()),*]
            }
            fn return_type() -> String {
                R::jue_type()
            }
            #[allow(unused_variables)]
            fn call_typed(&self, name: &str, args: &[Value]) -> Result<Value, HostError> {
                (self)($(arg::<$a>(name, args, $i)?),*).into_jue()
            }
        }

        impl<F, R, $($a),*> TypedCxFn<($($a,)*)> for F
        where
            F: Fn(&mut HostCx<'_>, $($a),*) -> R + Send + Sync + 'static,
            R: IntoJue,
            $($a: FromJue,)*
        {
            fn param_types() -> Vec<String> {
                vec![$($a::jue_type()),*]
            }
            fn return_type() -> String {
                R::jue_type()
            }
            #[allow(unused_variables)]
            fn call_typed(&self, cx: &mut HostCx<'_>, name: &str, args: &[Value]) -> Result<Value, HostError> {
                (self)(cx, $(arg::<$a>(name, args, $i)?),*).into_jue()
            }
        }
    };
}

typed_fn!();
typed_fn!(A: 0);
typed_fn!(A: 0, B: 1);
typed_fn!(A: 0, B: 1, C: 2);
typed_fn!(A: 0, B: 1, C: 2, D: 3);
typed_fn!(A: 0, B: 1, C: 2, D: 3, E: 4);
typed_fn!(A: 0, B: 1, C: 2, D: 3, E: 4, G: 5);

/// The entry of a typed host function (no implementation yet).
fn typed_entry(
    name: &str,
    params: Vec<String>,
    ret: String,
    capability: Option<Capability>,
    tier: TrustTier,
    doc: &str,
) -> FfiFunction {
    let doc = if doc.is_empty() {
        format!("Host function `{name}`.")
    } else {
        doc.to_string()
    };
    FfiFunction::new(
        name,
        HostFunction::Custom(0),
        capability,
        params,
        ret,
        doc,
        SourceLocation::default(),
    )
    .with_tier(tier)
}

impl Session {
    /// Registers a Rust closure as a host function; its parameter and return
    /// types make the registry entry (see the module docs). Tier empirical, no
    /// capability. Code compiled afterwards can call it.
    pub fn register_fn<Args, F: TypedFn<Args>>(
        &mut self,
        name: &str,
        f: F,
    ) -> Result<(), RegistryError> {
        self.register_fn_with(name, None, TrustTier::Empirical, "", f)
    }

    /// [`Session::register_fn`] with a capability (checked before every call, its
    /// grant's scope visible through [`HostCx`]), a tier and a one-line doc.
    pub fn register_fn_with<Args, F: TypedFn<Args>>(
        &mut self,
        name: &str,
        capability: Option<Capability>,
        tier: TrustTier,
        doc: &str,
        f: F,
    ) -> Result<(), RegistryError> {
        let entry = typed_entry(
            name,
            F::param_types(),
            F::return_type(),
            capability,
            tier,
            doc,
        );
        let owned = name.to_string();
        self.register_function(entry.with_implementation(move |args| f.call_typed(&owned, args)))
    }

    /// Registers a typed closure whose first parameter is the [`HostCx`].
    pub fn register_fn_cx<Args, F: TypedCxFn<Args>>(
        &mut self,
        name: &str,
        capability: Option<Capability>,
        tier: TrustTier,
        doc: &str,
        f: F,
    ) -> Result<(), RegistryError> {
        let entry = typed_entry(
            name,
            F::param_types(),
            F::return_type(),
            capability,
            tier,
            doc,
        );
        let owned = name.to_string();
        self.register_function(
            entry.with_context_implementation(move |cx, args| f.call_typed(cx, &owned, args)),
        )
    }
}

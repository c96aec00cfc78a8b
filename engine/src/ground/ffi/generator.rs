//! `FfiCallGenerator`: turns a call of a registered function with constant
//! arguments into host-call code: one constant push per argument, then the call.

use super::function::SourceLocation;
use super::host_function::HostFunction;
use super::registry::FfiRegistry;
use super::value::Value;
use crate::ground::capability::Capability;
use std::fmt;

/// One operation of generated host-call code.
#[derive(Clone, Debug, PartialEq)]
pub enum FfiOp {
    /// Push a constant argument.
    PushConst(Value),
    /// Call the registry function at `function` with the `argc` values pushed.
    HostCall {
        /// Registry index.
        function: u32,
        /// Its host function id.
        host_function: HostFunction,
        /// How many arguments.
        argc: u8,
    },
    /// Push whether the session holds the capability with this registry index.
    HasCap(usize),
}

/// Why code could not be generated.
#[derive(Clone, Debug, PartialEq)]
pub enum GenerateError {
    /// No function of that name.
    UnknownFunction(String),
    /// The argument count does not match the signature.
    WrongArgumentCount {
        /// Function.
        name: String,
        /// Accepted count, as text.
        expected: String,
        /// Given.
        given: usize,
    },
    /// A value that cannot be a constant (procedure, capability, actor).
    NotAConstant(String),
}

impl fmt::Display for GenerateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GenerateError::UnknownFunction(n) => write!(f, "unknown FFI function `{n}`"),
            GenerateError::WrongArgumentCount {
                name,
                expected,
                given,
            } => {
                write!(f, "`{name}` takes {expected}, but {given} were given")
            }
            GenerateError::NotAConstant(v) => {
                write!(f, "{v} cannot be passed as a constant argument")
            }
        }
    }
}

impl std::error::Error for GenerateError {}

/// Generates host-call code against a registry.
#[derive(Clone, Debug)]
pub struct FfiCallGenerator {
    /// The registry names resolve against.
    pub registry: FfiRegistry,
    /// Where the generated code is attributed.
    pub location: SourceLocation,
}

impl Default for FfiCallGenerator {
    fn default() -> Self {
        FfiCallGenerator::new()
    }
}

impl FfiCallGenerator {
    /// A generator over the standard registry.
    pub fn new() -> FfiCallGenerator {
        FfiCallGenerator {
            registry: FfiRegistry::standard(),
            location: SourceLocation::default(),
        }
    }

    /// Code calling `name` with constant `args`: one push per argument, then the call.
    pub fn generate_ffi_call(
        &self,
        name: &str,
        args: Vec<Value>,
    ) -> Result<Vec<FfiOp>, GenerateError> {
        let index = self
            .registry
            .index_of(name)
            .ok_or_else(|| GenerateError::UnknownFunction(name.into()))?;
        let sig = self.registry.signature(index);
        if !sig.accepts_count(args.len()) || args.len() > u8::MAX as usize {
            return Err(GenerateError::WrongArgumentCount {
                name: name.into(),
                expected: sig.arity_text(),
                given: args.len(),
            });
        }
        let argc = args.len() as u8;
        let mut ops = Vec::with_capacity(args.len() + 1);
        for a in args {
            check_constant(&a)?;
            ops.push(FfiOp::PushConst(a));
        }
        let host_function = self.registry.function(index).host_function;
        ops.push(FfiOp::HostCall {
            function: index,
            host_function,
            argc,
        });
        Ok(ops)
    }

    /// `[HasCap(i)]` for a function that needs a capability, else empty.
    pub fn generate_capability_check(&self, name: &str) -> Result<Vec<FfiOp>, GenerateError> {
        let f = self
            .registry
            .find_function(name)
            .ok_or_else(|| GenerateError::UnknownFunction(name.into()))?;
        Ok(match f.required_capability {
            Some(c) => vec![FfiOp::HasCap(
                self.registry
                    .get_capability_index(&c)
                    .unwrap_or(c.index() as usize),
            )],
            None => Vec::new(),
        })
    }

    /// The capability a `HasCap` index stands for in this registry.
    pub fn capability_at(&self, index: usize) -> Option<Capability> {
        Capability::ALL
            .into_iter()
            .find(|c| self.registry.get_capability_index(c) == Some(index))
    }
}

/// Constants are data: procedures, capabilities and actors are refused, never encoded as numbers.
fn check_constant(v: &Value) -> Result<(), GenerateError> {
    let mut work = vec![v];
    while let Some(v) = work.pop() {
        match v {
            Value::Procedure(_) | Value::Function(_) | Value::Capability(_) | Value::Actor(_) => {
                return Err(GenerateError::NotAConstant(v.to_string()));
            }
            Value::List(items) | Value::Vector(items) => work.extend(items.iter()),
            Value::Dict(entries) => {
                for (k, x) in entries {
                    work.push(k);
                    work.push(x);
                }
            }
            Value::Pair(a, d) => {
                work.push(a);
                work.push(d);
            }
            _ => {}
        }
    }
    Ok(())
}

//! `FfiFunction`: one host function's entry, with the seed's seven fields plus its
//! tier and its implementation.

use super::context::HostCx;
use super::error::HostError;
use super::host_function::HostFunction;
use super::value::Value;
use crate::ground::capability::Capability;
use crate::ground::tier::TrustTier;
use std::fmt;
use std::sync::Arc;

/// Where a function was declared (for hover and `jue registry`).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SourceLocation {
    /// File, or empty when unknown.
    pub file: String,
    /// 1-based line, 0 when unknown.
    pub line: u32,
}

impl SourceLocation {
    /// A location in a file.
    pub fn new(file: impl Into<String>, line: u32) -> SourceLocation {
        SourceLocation {
            file: file.into(),
            line,
        }
    }
    /// Whether nothing is known.
    pub fn is_unknown(&self) -> bool {
        self.file.is_empty()
    }
}

/// A host closure: receives its context and the arguments, returns a value or an error.
pub type HostClosure = dyn Fn(&mut HostCx<'_>, &[Value]) -> Result<Value, HostError> + Send + Sync;

/// The implementation of an FFI function: a host's closure over owned values. The
/// ground floor only holds it; the VM calls it.
#[derive(Clone)]
pub struct HostImpl(Arc<HostClosure>);

impl HostImpl {
    /// Wraps a host closure over the arguments alone.
    pub fn new(
        f: impl Fn(&[Value]) -> Result<Value, HostError> + Send + Sync + 'static,
    ) -> HostImpl {
        HostImpl(Arc::new(move |_: &mut HostCx<'_>, args: &[Value]| f(args)))
    }

    /// Wraps a host closure that also receives its context.
    pub fn with_context(
        f: impl Fn(&mut HostCx<'_>, &[Value]) -> Result<Value, HostError> + Send + Sync + 'static,
    ) -> HostImpl {
        HostImpl(Arc::new(f))
    }
    /// The closure.
    pub fn closure(&self) -> &Arc<HostClosure> {
        &self.0
    }
}

impl fmt::Debug for HostImpl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HostImpl(closure)")
    }
}

/// What runs a registry entry, as the registry knows it.
#[derive(Clone, Debug)]
pub enum Implementation {
    /// The host's own closure.
    Host(HostImpl),
    /// The standard implementation of this host function (the host floor has it).
    Standard(HostFunction),
    /// Nothing: an entry declared for checking only.
    Missing,
}

impl Implementation {
    /// Whether something runs the entry.
    pub fn is_runnable(&self) -> bool {
        !matches!(self, Implementation::Missing)
    }
}

/// A host function as the registry holds it.
#[derive(Clone, Debug, Default)]
pub struct FfiFunction {
    /// Name, possibly namespaced with `:` (`io:sensor:read`).
    pub name: String,
    /// The host function id it maps to.
    pub host_function: HostFunction,
    /// The capability it requires, if any (pure functions need none).
    pub required_capability: Option<Capability>,
    /// Parameter type names; the last may be `T...`.
    pub parameter_types: Vec<String>,
    /// Return type name, `T?` for T or nil.
    pub return_type: String,
    /// One-line documentation.
    pub documentation: String,
    /// Where it was declared.
    pub location: SourceLocation,
    /// Its trust tier (empirical by default).
    pub tier: TrustTier,
    /// Its implementation; `None` uses the standard one of `host_function`.
    pub implementation: Option<HostImpl>,
    /// Whether its calls may wait on the outside world: inside actors they run
    /// off the VM thread (language §6, §9), so the implementation must be safe
    /// to call from another thread, several calls at once.
    pub blocking: bool,
}

impl FfiFunction {
    /// The seed's fields in order; tier empirical, no implementation.
    pub fn new(
        name: impl Into<String>,
        host_function: HostFunction,
        required_capability: impl Into<Option<Capability>>,
        parameter_types: impl IntoIterator<Item = impl Into<String>>,
        return_type: impl Into<String>,
        documentation: impl Into<String>,
        location: SourceLocation,
    ) -> FfiFunction {
        FfiFunction {
            name: name.into(),
            host_function,
            required_capability: required_capability.into(),
            parameter_types: parameter_types.into_iter().map(Into::into).collect(),
            return_type: return_type.into(),
            documentation: documentation.into(),
            location,
            tier: TrustTier::Empirical,
            implementation: None,
            blocking: false,
        }
    }

    /// Marks it blocking (language §6, §9): inside actors its calls run off the
    /// VM thread while the other actors run.
    pub fn with_blocking(mut self, blocking: bool) -> FfiFunction {
        self.blocking = blocking;
        self
    }

    /// Sets the tier.
    pub fn with_tier(mut self, tier: TrustTier) -> FfiFunction {
        self.tier = tier;
        self
    }

    /// Sets the implementation to a host closure.
    pub fn with_implementation(
        mut self,
        f: impl Fn(&[Value]) -> Result<Value, HostError> + Send + Sync + 'static,
    ) -> FfiFunction {
        self.implementation = Some(HostImpl::new(f));
        self
    }

    /// Sets the implementation to a host closure that receives a [`HostCx`]: the
    /// grant's scope, the deadline, callbacks into Jue, per-session data.
    pub fn with_context_implementation(
        mut self,
        f: impl Fn(&mut HostCx<'_>, &[Value]) -> Result<Value, HostError> + Send + Sync + 'static,
    ) -> FfiFunction {
        self.implementation = Some(HostImpl::with_context(f));
        self
    }
}

/// Why a registration was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegistryError {
    /// The name is empty or not a symbol.
    BadName(String),
    /// A type name is not one of the language's.
    BadType(String),
    /// A capability-requiring function claims tier formal or verified.
    TierTooHigh {
        /// The function.
        name: String,
        /// Its tier.
        tier: TrustTier,
        /// Its capability.
        capability: Capability,
    },
    /// Neither an implementation nor a standard host function with this signature.
    NoImplementation(String),
    /// Registry JSON that cannot be read.
    Json(String),
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistryError::BadName(n) => write!(f, "`{n}` is not a valid function name"),
            RegistryError::BadType(m) => f.write_str(m),
            RegistryError::TierTooHigh {
                name,
                tier,
                capability,
            } => write!(
                f,
                "`{name}` requires {capability} and so cannot claim tier {tier}: formal and verified code is pure"
            ),
            RegistryError::NoImplementation(n) => write!(
                f,
                "`{n}` has no implementation and its host function's standard signature differs; give it one with `with_implementation`"
            ),
            RegistryError::Json(m) => write!(f, "registry JSON: {m}"),
        }
    }
}

impl std::error::Error for RegistryError {}

//! The FFI registry: host functions by name, in registration order (names resolve
//! to that index at compile time), with JSON export and import.

use super::function::{FfiFunction, Implementation, RegistryError, SourceLocation};
use super::host_function::HostFunction;
use super::standard;
use crate::ground::capability::Capability;
use crate::ground::tier::TrustTier;
use crate::ground::types::Signature;
use serde_json::json;
use std::collections::HashMap;

#[derive(Clone, Debug)]
struct Entry {
    function: FfiFunction,
    sig: Signature,
    /// Declared for checking only (registry JSON): never runs.
    declared: bool,
}

/// The registry.
#[derive(Clone, Debug, Default)]
pub struct FfiRegistry {
    entries: Vec<Entry>,
    by_name: HashMap<String, usize>,
    capability_indices: HashMap<Capability, usize>,
    next_custom: u16,
}

/// Whether a name can be written as a Jue symbol.
fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && !n.starts_with([':', '\'', '@'])
        && !n
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '"' | ';'))
        && crate::ground::number::read(n).is_none()
        && !matches!(n, "true" | "false" | "nil" | ".")
}

impl FfiRegistry {
    /// An empty registry.
    pub fn new() -> FfiRegistry {
        FfiRegistry {
            next_custom: 100,
            ..FfiRegistry::default()
        }
    }

    /// The standard registry of language §6.
    pub fn standard() -> FfiRegistry {
        let mut r = FfiRegistry::new();
        for f in standard::functions() {
            let func = FfiFunction {
                name: f.name.into(),
                host_function: f.host,
                required_capability: f.capability,
                parameter_types: f.sig.param_strings(),
                return_type: f.sig.return_string(),
                documentation: f.doc.into(),
                location: SourceLocation::default(),
                tier: f.tier,
                implementation: None,
                blocking: f.host.is_blocking(),
            };
            r.insert(func, f.sig);
        }
        r
    }

    /// Registers a function, replacing one of the same name (which keeps its index,
    /// so code compiled earlier calls the new one). Refuses bad names and types, a
    /// capability-requiring function of tier formal or verified, and a function with
    /// neither an implementation nor a standard host function of the same signature.
    pub fn register_function(&mut self, mut f: FfiFunction) -> Result<(), RegistryError> {
        let sig = self.validate(&f)?;
        if f.implementation.is_none() {
            match standard::standard_signature(f.host_function) {
                Some(std_sig) if std_sig == sig => {}
                _ => return Err(RegistryError::NoImplementation(f.name)),
            }
            // The standard implementation blocks as the standard function does.
            f.blocking |= f.host_function.is_blocking();
        } else if !matches!(f.host_function, HostFunction::Custom(_))
            && standard::standard_signature(f.host_function).is_none_or(|s| s != sig)
        {
            // Its own implementation, not the standard function it names: a custom id.
            f.host_function = HostFunction::Custom(self.next_custom);
        }
        if let HostFunction::Custom(n) = f.host_function {
            self.next_custom = self.next_custom.max(n.saturating_add(1));
        }
        self.insert(f, sig);
        Ok(())
    }

    /// Adds a function for checking only (from registry JSON): no implementation needed.
    pub fn declare(&mut self, f: FfiFunction) -> Result<(), RegistryError> {
        let sig = self.validate(&f)?;
        let name = f.name.clone();
        self.insert(f, sig);
        if let Some(&i) = self.by_name.get(&name) {
            self.entries[i].declared = true;
        }
        Ok(())
    }

    fn validate(&self, f: &FfiFunction) -> Result<Signature, RegistryError> {
        if !valid_name(&f.name) {
            return Err(RegistryError::BadName(f.name.clone()));
        }
        let sig = Signature::parse(&f.parameter_types, &f.return_type)
            .map_err(|m| RegistryError::BadType(format!("`{}`: {m}", f.name)))?;
        if let (Some(c), TrustTier::Formal | TrustTier::Verified) = (f.required_capability, f.tier)
        {
            return Err(RegistryError::TierTooHigh {
                name: f.name.clone(),
                tier: f.tier,
                capability: c,
            });
        }
        Ok(sig)
    }

    fn insert(&mut self, f: FfiFunction, sig: Signature) {
        if let Some(c) = f.required_capability {
            let next = self.capability_indices.len();
            self.capability_indices.entry(c).or_insert(next);
        }
        match self.by_name.get(&f.name) {
            Some(&i) => {
                self.entries[i] = Entry {
                    function: f,
                    sig,
                    declared: false,
                }
            }
            None => {
                self.by_name.insert(f.name.clone(), self.entries.len());
                self.entries.push(Entry {
                    function: f,
                    sig,
                    declared: false,
                });
            }
        }
    }

    /// The function with exactly this name.
    pub fn find_function(&self, name: &str) -> Option<&FfiFunction> {
        self.by_name.get(name).map(|&i| &self.entries[i].function)
    }

    /// The index of a capability among those the registry's functions require, in
    /// order of first registration.
    pub fn get_capability_index(&self, capability: &Capability) -> Option<usize> {
        self.capability_indices.get(capability).copied()
    }

    /// Functions in registration order.
    pub fn iter(&self) -> impl Iterator<Item = &FfiFunction> {
        self.entries.iter().map(|e| &e.function)
    }

    /// Number of functions.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The compile-time index of a name.
    pub fn index_of(&self, name: &str) -> Option<u32> {
        self.by_name.get(name).map(|&i| i as u32)
    }

    /// The function at an index.
    pub fn function(&self, i: u32) -> &FfiFunction {
        &self.entries[i as usize].function
    }

    /// The parsed signature at an index.
    pub fn signature(&self, i: u32) -> &Signature {
        &self.entries[i as usize].sig
    }

    /// Names in registration order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.function.name.as_str())
    }

    /// What runs for the function at an index: its own implementation, else the
    /// standard one of its host function when the signatures agree.
    pub fn implementation(&self, i: u32) -> Implementation {
        let e = &self.entries[i as usize];
        if e.declared {
            // Checking-only entries must not borrow a standard implementation: that
            // would let a JSON file drop a capability requirement.
            return Implementation::Missing;
        }
        if let Some(imp) = &e.function.implementation {
            return Implementation::Host(imp.clone());
        }
        match standard::standard_signature(e.function.host_function) {
            Some(sig) if sig == e.sig => Implementation::Standard(e.function.host_function),
            _ => Implementation::Missing,
        }
    }

    /// The registry as JSON, in the schema of `jue registry --json`.
    pub fn to_json(&self) -> serde_json::Value {
        let functions: Vec<serde_json::Value> = self.iter().map(function_json).collect();
        json!({ "functions": functions })
    }

    /// Reads registry JSON into a new registry (entries serve checking only).
    pub fn from_json(text: &str) -> Result<FfiRegistry, RegistryError> {
        let mut r = FfiRegistry::new();
        r.load_json(text)?;
        Ok(r)
    }

    /// Adds the functions of registry JSON (for checking only); returns how many.
    pub fn load_json(&mut self, text: &str) -> Result<usize, RegistryError> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| RegistryError::Json(e.to_string()))?;
        let list = v
            .get("functions")
            .and_then(|f| f.as_array())
            .ok_or_else(|| {
                RegistryError::Json("expected an object with a `functions` array".into())
            })?;
        let mut parsed = Vec::new();
        for (i, f) in list.iter().enumerate() {
            parsed.push(
                function_from_json(f)
                    .map_err(|m| RegistryError::Json(format!("function {}: {m}", i + 1)))?,
            );
        }
        // Validate all before adding any: a broken file changes nothing.
        for f in &parsed {
            self.validate(f)?;
        }
        let n = parsed.len();
        for f in parsed {
            self.declare(f)?;
        }
        Ok(n)
    }
}

/// One function in the JSON schema.
pub fn function_json(f: &FfiFunction) -> serde_json::Value {
    json!({
        "name": f.name,
        "parameter_types": f.parameter_types,
        "return_type": f.return_type,
        "required_capability": f.required_capability.map(|c| c.name()),
        "tier": f.tier.name(),
        "documentation": f.documentation,
        "host_function": f.host_function.id(),
        "blocking": f.blocking,
        "location": if f.location.is_unknown() { serde_json::Value::Null } else { json!({"file": f.location.file, "line": f.location.line}) },
    })
}

fn function_from_json(v: &serde_json::Value) -> Result<FfiFunction, String> {
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    let name = s("name").ok_or("missing `name`")?;
    let params = v
        .get("parameter_types")
        .and_then(|p| p.as_array())
        .ok_or("missing `parameter_types`")?
        .iter()
        .map(|p| {
            p.as_str()
                .map(str::to_string)
                .ok_or("parameter types must be strings")
        })
        .collect::<Result<Vec<_>, _>>()?;
    let ret = s("return_type").ok_or("missing `return_type`")?;
    let cap = match v.get("required_capability") {
        None | Some(serde_json::Value::Null) => None,
        Some(c) => {
            let c = c
                .as_str()
                .ok_or("`required_capability` must be a string or null")?;
            Some(Capability::from_name(c).ok_or_else(|| format!("unknown capability `{c}`"))?)
        }
    };
    let tier = match s("tier") {
        None => TrustTier::Empirical,
        Some(t) => TrustTier::from_name(&t).ok_or_else(|| format!("unknown tier `{t}`"))?,
    };
    let id = v
        .get("host_function")
        .and_then(|h| h.as_u64())
        .unwrap_or(100);
    let host_function = u16::try_from(id)
        .ok()
        .and_then(HostFunction::from_id)
        .unwrap_or(HostFunction::Custom(100));
    let location = match v.get("location") {
        Some(l) if l.is_object() => SourceLocation {
            file: l
                .get("file")
                .and_then(|f| f.as_str())
                .unwrap_or_default()
                .to_string(),
            line: l
                .get("line")
                .and_then(|x| x.as_u64())
                .and_then(|x| u32::try_from(x).ok())
                .unwrap_or(0),
        },
        _ => SourceLocation::default(),
    };
    Ok(FfiFunction {
        name,
        host_function,
        required_capability: cap,
        parameter_types: params,
        return_type: ret,
        documentation: s("documentation").unwrap_or_default(),
        location,
        tier,
        implementation: None,
        blocking: v.get("blocking").and_then(|b| b.as_bool()).unwrap_or(false),
    })
}

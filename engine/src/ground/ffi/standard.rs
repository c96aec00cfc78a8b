//! The standard registry of language §6: every function's declaration (name,
//! host id, signature, capability, tier, documentation). What runs each one is the
//! host floor's business (`host::library`); the network and database functions
//! exist only with the `net` and `db` cargo features.

use super::host_function::HostFunction;
use crate::ground::capability::Capability;
use crate::ground::tier::TrustTier;
use crate::ground::types::{Signature, Type};

/// A standard function's declaration.
pub struct StandardFn {
    /// Name.
    pub name: &'static str,
    /// Host function.
    pub host: HostFunction,
    /// Capability it requires.
    pub capability: Option<Capability>,
    /// Signature.
    pub sig: Signature,
    /// Tier.
    pub tier: TrustTier,
    /// One-line documentation.
    pub doc: &'static str,
}

/// Every function of the standard registry, in the order of the language reference.
pub fn functions() -> Vec<StandardFn> {
    use HostFunction as H;
    #[cfg(feature = "db")]
    use Type::Any;
    use Type::{Bool, Float, Int, List, String, Symbol};
    let ii = || Signature::new(&[Int, Int], Int);
    let ff = || Signature::new(&[Float, Float], Float);
    let f = TrustTier::Formal;
    let e = TrustTier::Empirical;
    let pure = |name, host, sig, tier, doc| StandardFn {
        name,
        host,
        capability: None,
        sig,
        tier,
        doc,
    };
    let cap = |name, host, sig, c, doc| StandardFn {
        name,
        host,
        capability: Some(c),
        sig,
        tier: e,
        doc,
    };
    let fs_doc_read = "Reads a UTF-8 file inside the granted IoPersist directories.";
    #[cfg(feature = "net")]
    let http_doc = "HTTP(S) GET of a URL allowed by the IoNetwork grants; returns the body (30 s timeout, 16 MiB cap).";
    #[cfg(feature = "db")]
    let db_doc = "Runs one SQL statement on an SQLite file with `?` parameters bound; returns rows as lists, or nil.";
    #[allow(unused_mut)] // extended only with the `net` and `db` features
    let mut fns = vec![
        pure(
            "add",
            H::IntAdd,
            ii(),
            f,
            "Adds two integers; overflow is an error.",
        ),
        pure(
            "sub",
            H::IntSub,
            ii(),
            f,
            "Subtracts the second integer from the first.",
        ),
        pure(
            "mul",
            H::IntMul,
            ii(),
            f,
            "Multiplies two integers; overflow is an error.",
        ),
        pure(
            "div",
            H::IntDiv,
            ii(),
            f,
            "Integer quotient, truncated toward zero; by zero is an error.",
        ),
        pure(
            "mod",
            H::IntMod,
            ii(),
            f,
            "Integer remainder with the sign of the dividend.",
        ),
        pure(
            "math:add",
            H::IntAdd,
            ii(),
            f,
            "Adds two integers (namespaced form of `add`).",
        ),
        pure("fadd", H::FloatAdd, ff(), f, "Adds two floats."),
        pure("fsub", H::FloatSub, ff(), f, "Subtracts two floats."),
        pure("fmul", H::FloatMul, ff(), f, "Multiplies two floats."),
        pure(
            "fdiv",
            H::FloatDiv,
            ff(),
            f,
            "Divides two floats (IEEE: by zero gives inf).",
        ),
        pure(
            "int-to-float",
            H::IntToFloat,
            Signature::new(&[Int], Float),
            f,
            "Converts an integer to a float.",
        ),
        pure(
            "float-to-int",
            H::FloatToInt,
            Signature::new(&[Float], Int),
            TrustTier::Verified,
            "Truncates a float to an integer; NaN, infinities and out of range are `overflow` errors.",
        ),
        pure(
            "eq",
            H::IntEq,
            Signature::new(&[Int, Int], Bool),
            f,
            "Whether two integers are equal.",
        ),
        pure(
            "lt",
            H::IntLt,
            Signature::new(&[Int, Int], Bool),
            f,
            "Whether the first integer is less than the second.",
        ),
        pure(
            "gt",
            H::IntGt,
            Signature::new(&[Int, Int], Bool),
            f,
            "Whether the first integer is greater than the second.",
        ),
        pure(
            "feq",
            H::FloatEq,
            Signature::new(&[Float, Float], Bool),
            f,
            "Whether two floats are equal.",
        ),
        pure(
            "flt",
            H::FloatLt,
            Signature::new(&[Float, Float], Bool),
            f,
            "Whether the first float is less than the second.",
        ),
        pure(
            "fgt",
            H::FloatGt,
            Signature::new(&[Float, Float], Bool),
            f,
            "Whether the first float is greater than the second.",
        ),
        cap(
            "read-sensor",
            H::ReadSensor,
            Signature::new(&[], Float),
            Capability::IoReadSensor,
            "Reads the sensor named `default` (0.0 if never set).",
        ),
        cap(
            "io:sensor:read",
            H::SensorRead,
            Signature::new(&[Symbol], Float),
            Capability::IoReadSensor,
            "Reads a named sensor (0.0 if never set).",
        ),
        cap(
            "write-actuator",
            H::WriteActuator,
            Signature::new(&[Float], Bool),
            Capability::IoWriteActuator,
            "Writes the actuator named `default`; true once written.",
        ),
        cap(
            "io:actuator:write",
            H::ActuatorWrite,
            Signature::new(&[Symbol, Float], Bool),
            Capability::IoWriteActuator,
            "Writes a named actuator; true once written.",
        ),
        cap(
            "get-wall-clock",
            H::GetWallClockNs,
            Signature::new(&[], Int),
            Capability::SysClock,
            "Nanoseconds since the Unix epoch, from the real clock.",
        ),
        cap(
            "fs:read-file",
            H::PersistRead,
            Signature::new(&[String], String),
            Capability::IoPersist,
            fs_doc_read,
        ),
        cap(
            "fs:safe-read",
            H::FsSafeRead,
            Signature::new(&[String], String).optional(),
            Capability::IoPersist,
            "Reads a UTF-8 file inside the granted directories; nil when missing or unreadable.",
        ),
        cap(
            "fs:write-file",
            H::PersistWrite,
            Signature::new(&[String, String], Int),
            Capability::IoPersist,
            "Writes (creates or truncates) a file inside the granted directories; returns the bytes written.",
        ),
        cap(
            "fs:list-dir",
            H::FsListDir,
            Signature::new(&[String], List),
            Capability::IoPersist,
            "Names in a directory inside the granted directories, sorted by bytes.",
        ),
    ];
    #[cfg(feature = "net")]
    fns.extend([
        cap(
            "net:http-get",
            H::HttpGet,
            Signature::new(&[String], String),
            Capability::IoNetwork,
            http_doc,
        ),
        cap(
            "http:get",
            H::HttpGet,
            Signature::new(&[String], String),
            Capability::IoNetwork,
            "Alias of `net:http-get`.",
        ),
    ]);
    #[cfg(feature = "db")]
    fns.extend([
        cap(
            "db:query",
            H::DbQuery,
            Signature::new(&[String, String], List).rest(Any),
            Capability::IoPersist,
            db_doc,
        ),
        cap(
            "db_query",
            H::DbQuery,
            Signature::new(&[String, String], List).rest(Any),
            Capability::IoPersist,
            "Alias of `db:query`.",
        ),
    ]);
    fns
}

/// The standard signature of a host function id, if this build has one.
pub fn standard_signature(h: HostFunction) -> Option<Signature> {
    functions().into_iter().find(|f| f.host == h).map(|f| f.sig)
}

/// Standard functions this build leaves out, with the cargo feature that brings
/// them (`jue registry` says so).
pub fn missing_features() -> Vec<(&'static str, &'static [&'static str])> {
    let mut missing = Vec::new();
    if cfg!(not(feature = "net")) {
        missing.push(("net", &["net:http-get", "http:get"][..]));
    }
    if cfg!(not(feature = "db")) {
        missing.push(("db", &["db:query", "db_query"][..]));
    }
    missing
}

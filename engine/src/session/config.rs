//! `jue.toml`: capabilities assumed granted when checking, and extra registry files.
//!
//! ```toml
//! [capabilities]
//! granted = ["IoNetwork", "IoPersist=data"]
//! [registry]
//! files = ["host-registry.json"]
//! ```

use crate::ground::ffi::{CapSet, Capability};
use crate::session::Session;
use crate::session::grants::parse_grant;
use std::path::{Path, PathBuf};

/// A project's `jue.toml`, read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProjectConfig {
    /// The file it was read from.
    pub path: PathBuf,
    /// Capabilities assumed granted (scopes are accepted and ignored for checking).
    pub granted: CapSet,
    /// Registry JSON files, resolved against the config's directory.
    pub registry_files: Vec<PathBuf>,
    /// Problems found: unknown names, unreadable files. The rest still applies.
    pub problems: Vec<String>,
}

/// The nearest `jue.toml` in `start` or a directory above it.
pub fn find_config(start: &Path) -> Option<PathBuf> {
    let dir = if start.is_dir() {
        start.to_path_buf()
    } else {
        start.parent()?.to_path_buf()
    };
    let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
    dir.ancestors()
        .map(|d| d.join("jue.toml"))
        .find(|p| p.is_file())
}

/// Reads a `jue.toml`; a file that is not valid TOML is an error, unknown names are problems.
pub fn load_config(path: &Path) -> Result<ProjectConfig, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let doc: toml::Table = text
        .parse()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut cfg = ProjectConfig {
        path: path.to_path_buf(),
        ..ProjectConfig::default()
    };
    let base = path.parent().unwrap_or(Path::new("."));
    for (section, value) in &doc {
        match section.as_str() {
            "capabilities" => read_capabilities(value, &mut cfg),
            "registry" => read_registry(value, base, &mut cfg),
            other => cfg
                .problems
                .push(format!("{}: unknown section [{other}]", path.display())),
        }
    }
    Ok(cfg)
}

fn read_capabilities(value: &toml::Value, cfg: &mut ProjectConfig) {
    let list = value.get("granted").and_then(|g| g.as_array());
    for item in list.into_iter().flatten() {
        match item.as_str().map(parse_grant) {
            Some(Ok((cap, _))) => cfg.granted.insert(cap),
            Some(Err(e)) => cfg.problems.push(format!("{}: {e}", cfg.path.display())),
            None => cfg.problems.push(format!(
                "{}: capabilities must be strings",
                cfg.path.display()
            )),
        }
    }
}

fn read_registry(value: &toml::Value, base: &Path, cfg: &mut ProjectConfig) {
    let list = value.get("files").and_then(|g| g.as_array());
    for item in list.into_iter().flatten() {
        match item.as_str() {
            Some(f) => cfg.registry_files.push(base.join(f)),
            None => cfg.problems.push(format!(
                "{}: registry files must be strings",
                cfg.path.display()
            )),
        }
    }
}

impl ProjectConfig {
    /// Applies it to a session used for checking: assumed grants and registry files.
    /// Returns problems met (a broken registry file is reported; the rest applies).
    pub fn apply_to(&self, session: &mut Session) -> Vec<String> {
        let mut problems = self.problems.clone();
        session.assume_granted(self.granted);
        for f in &self.registry_files {
            let r = std::fs::read_to_string(f)
                .map_err(|e| e.to_string())
                .and_then(|text| session.load_registry_json(&text).map_err(|e| e.to_string()));
            if let Err(e) = r {
                problems.push(format!("{}: {e}", f.display()));
            }
        }
        problems
    }

    /// Whether the config grants a capability.
    pub fn grants(&self, c: Capability) -> bool {
        self.granted.contains(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_grants_and_registry_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let sub = dir.path().join("src");
        std::fs::create_dir(&sub).expect("sub");
        std::fs::write(
            dir.path().join("jue.toml"),
            "[capabilities]\ngranted = [\"IoNetwork\", \"IoPersist=data\", \"io-netwrk\"]\n[registry]\nfiles = [\"reg.json\"]\n",
        )
        .expect("write");
        let found = find_config(&sub.join("a.jue")).expect("found above");
        let cfg = load_config(&found).expect("valid toml");
        assert!(cfg.grants(Capability::IoNetwork) && cfg.grants(Capability::IoPersist));
        assert_eq!(cfg.problems.len(), 1, "{:?}", cfg.problems);
        assert!(cfg.problems[0].contains("E0202"));
        let mut s = Session::new();
        let problems = cfg.apply_to(&mut s);
        assert!(
            problems.iter().any(|p| p.contains("reg.json")),
            "{problems:?}"
        );
        std::fs::write(dir.path().join("reg.json"), r#"{"functions":[{"name":"host:ping","parameter_types":[],"return_type":"Bool","required_capability":"IoNetwork","tier":"empirical","documentation":"Pings."}]}"#).expect("write");
        let mut s = Session::new();
        assert!(!cfg.apply_to(&mut s).iter().any(|p| p.contains("reg.json")));
        assert!(s.registry().find_function("host:ping").is_some());
        assert!(load_config(&dir.path().join("nope.toml")).is_err());
        std::fs::write(dir.path().join("bad.toml"), "[capabilities\n").expect("write");
        assert!(load_config(&dir.path().join("bad.toml")).is_err());
    }
}

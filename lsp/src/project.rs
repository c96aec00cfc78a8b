//! Projects: the nearest `jue.toml` above a file, read with the engine's config
//! module, and the checking session built from it. A project is re-read when the
//! modification time of its `jue.toml` or of one of its registry files changes.

use jue_engine::config::{ProjectConfig, find_config, load_config};
use jue_engine::vm::output::Output;
use jue_engine::{CapSet, Session};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

/// One project: a checking session with the config applied.
pub struct Project {
    /// The `jue.toml` it comes from (`None`: no config, nothing assumed).
    pub config: Option<PathBuf>,
    /// Capabilities `jue.toml` assumes granted.
    pub granted: CapSet,
    /// Modification times of the config and its registry files when read.
    stamps: Vec<(PathBuf, Option<SystemTime>)>,
    session: Mutex<Session>,
}

impl Project {
    /// The checking session (never runs anything; program output goes nowhere).
    pub fn session(&self) -> MutexGuard<'_, Session> {
        self.session.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn stale(&self) -> bool {
        self.stamps.iter().any(|(p, t)| mtime(p) != *t)
    }
}

fn mtime(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

fn checking_session() -> Session {
    Session::with_output(Output::new(Box::new(std::io::sink())))
}

/// Builds a project from a config path, returning the problems to show the user.
fn build(config: Option<&Path>) -> (Project, Vec<String>) {
    let mut session = checking_session();
    let mut problems = Vec::new();
    let mut stamps = Vec::new();
    let mut granted = CapSet::EMPTY;
    if let Some(path) = config {
        stamps.push((path.to_path_buf(), mtime(path)));
        // Only a regular file is read (`find_config` looked for one; check again).
        let loaded = match std::fs::metadata(path) {
            Ok(m) if m.is_file() => load_config(path),
            _ => Err(format!("{}: not a regular file", path.display())),
        };
        match loaded {
            Ok(cfg) => {
                problems.extend(apply(&cfg, &mut session));
                granted = cfg.granted;
                for f in &cfg.registry_files {
                    stamps.push((f.clone(), mtime(f)));
                }
            }
            Err(e) => problems.push(e),
        }
    }
    let project = Project {
        config: config.map(Path::to_path_buf),
        granted,
        stamps,
        session: Mutex::new(session),
    };
    (project, problems)
}

/// Applies a config as `ProjectConfig::apply_to` does, but reads registry files
/// only if they are regular files, never blocking on a FIFO or device.
fn apply(cfg: &ProjectConfig, session: &mut Session) -> Vec<String> {
    let mut problems = cfg.problems.clone();
    session.assume_granted(cfg.granted);
    for f in &cfg.registry_files {
        let r = crate::files::read_regular_text(f)
            .map_err(|e| e.to_string())
            .and_then(|text| session.load_registry_json(&text).map_err(|e| e.to_string()));
        if let Err(e) = r {
            problems.push(format!("{}: {e}", f.display()));
        }
    }
    problems
}

/// All projects met so far, by config path.
#[derive(Default)]
pub struct Projects {
    by_config: Mutex<HashMap<Option<PathBuf>, Arc<Project>>>,
}

impl Projects {
    /// The project of a file (or of no file), re-read if its config changed on disk.
    /// Returns the problems of a fresh read, for `window/showMessage`.
    pub fn for_file(&self, file: Option<&Path>) -> (Arc<Project>, Vec<String>) {
        let config = file.and_then(find_config);
        let mut map = self.by_config.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = map.get(&config) {
            if !p.stale() {
                return (p.clone(), Vec::new());
            }
        }
        let (project, problems) = build(config.as_deref());
        let project = Arc::new(project);
        map.insert(config, project.clone());
        (project, problems)
    }

    /// The config files and registry files of every project met, to watch.
    pub fn watched_files(&self) -> Vec<PathBuf> {
        let map = self.by_config.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<PathBuf> = map
            .values()
            .flat_map(|p| p.stamps.iter().map(|(f, _)| f.clone()))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Forgets every project, so the next use re-reads its config.
    pub fn invalidate(&self) {
        self.by_config
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

//! Persistent history in `$XDG_DATA_HOME/jue/history` (default
//! `~/.local/share/jue/history`), owner-only (0600): history can hold secrets.

use rustyline::Editor;
use rustyline::history::FileHistory;
use std::fs::{self, DirBuilder, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

/// The history file and whether a failure was already reported.
pub struct History {
    path: Option<PathBuf>,
    warned: bool,
}

/// Where the history lives.
pub fn history_path() -> Option<PathBuf> {
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(".local/share"))
        })?;
    Some(data.join("jue").join("history"))
}

impl History {
    /// Finds and creates the history file (0600, its directory 0700).
    pub fn open() -> History {
        let mut h = History {
            path: history_path(),
            warned: false,
        };
        if let Err(e) = h.create() {
            h.warn(&e);
        }
        h
    }

    fn create(&self) -> Result<(), String> {
        let Some(path) = &self.path else {
            return Err("no HOME or XDG_DATA_HOME".into());
        };
        if let Some(dir) = path.parent() {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        self.restrict()
    }

    fn restrict(&self) -> Result<(), String> {
        if let Some(path) = &self.path {
            fs::set_permissions(path, fs::Permissions::from_mode(0o600))
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(())
    }

    fn warn(&mut self, why: &str) {
        if !self.warned {
            self.warned = true;
            eprintln!("warning: history will not be saved ({why})");
        }
    }

    /// Loads earlier sessions' history into the editor.
    pub fn load<H: rustyline::Helper>(&mut self, editor: &mut Editor<H, FileHistory>) {
        let Some(path) = self.path.clone() else {
            return;
        };
        if path.exists()
            && let Err(e) = editor.load_history(&path)
        {
            self.warn(&format!("{}: {e}", path.display()));
        }
    }

    /// Adds an entry and appends it to the file, keeping it owner-only.
    pub fn add<H: rustyline::Helper>(&mut self, editor: &mut Editor<H, FileHistory>, line: &str) {
        let _ = editor.add_history_entry(line);
        let Some(path) = self.path.clone() else {
            return;
        };
        let r = editor
            .append_history(&path)
            .map_err(|e| format!("{}: {e}", path.display()))
            .and_then(|()| self.restrict());
        if let Err(e) = r {
            self.warn(&e);
        }
    }
}

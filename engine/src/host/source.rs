//! Program text beneath a root: the files `import` reads (language §13).
//!
//! Reading program text needs no capability, so it must never leave the program's
//! own tree: every path is resolved and opened through a cap-std handle of the
//! root, which refuses `..`, symlinks and absolute paths that lead outside it.
//! Only regular files are opened (a FIFO would block, a device could act), with
//! `O_NONBLOCK`, and the handle's own fstat decides; a file is read up to a size
//! limit, so a huge file costs nothing.

use cap_std::fs::{Dir, OpenOptions, OpenOptionsExt};
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

/// The directory a program's imports may not leave.
pub struct ProgramRoot {
    dir: Dir,
    abs: PathBuf,
}

impl ProgramRoot {
    /// Opens a root directory.
    pub fn open(root: &Path) -> io::Result<ProgramRoot> {
        let abs = std::fs::canonicalize(root)?;
        let dir = Dir::open_ambient_dir(&abs, cap_std::ambient_authority())?;
        Ok(ProgramRoot { dir, abs })
    }

    /// The root's resolved absolute path.
    pub fn path(&self) -> &Path {
        &self.abs
    }

    /// Resolves an import's `path` written in the file `from` (a resolved path
    /// beneath the root; `None`: a text at the root, such as a REPL input) to the
    /// imported file's resolved absolute path, or says why it cannot be imported.
    pub fn resolve(&self, from: Option<&Path>, path: &str) -> Result<PathBuf, String> {
        check_shape(path)?;
        let dir = from
            .and_then(|f| f.parent())
            .and_then(|d| d.strip_prefix(&self.abs).ok())
            .unwrap_or(Path::new(""));
        let joined = dir.join(path);
        match self.dir.canonicalize(&joined) {
            Ok(rel) => Ok(self.abs.join(rel)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err("no such file".into()),
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied && is_escape(&e) => {
                // cap-std refuses every absolute symlink; one that leads back
                // inside the root is allowed (language §13 resolves every symlink).
                // Reading goes through the root's handle again, which refuses
                // anything that leads outside by then.
                match std::fs::canonicalize(self.abs.join(&joined)) {
                    Ok(p) if p.starts_with(&self.abs) => Ok(p),
                    _ => Err(format!(
                        "it is outside the program's root {}",
                        self.abs.display()
                    )),
                }
            }
            Err(e) => Err(e.to_string()),
        }
    }

    /// Reads a resolved file (from [`ProgramRoot::resolve`]) as UTF-8, refusing
    /// anything but a regular file and files longer than `max` bytes.
    pub fn read(&self, file: &Path, max: u64) -> Result<String, String> {
        let rel = file
            .strip_prefix(&self.abs)
            .map_err(|_| format!("it is outside the program's root {}", self.abs.display()))?;
        // Refused by kind before opening anything: opening a device can have effects.
        let md = self.dir.metadata(rel).map_err(|e| describe(&e))?;
        if !md.is_file() {
            return Err(not_regular(md.is_dir()));
        }
        let mut options = OpenOptions::new();
        options
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
        let file = self
            .dir
            .open_with(rel, &options)
            .map_err(|e| describe(&e))?;
        // The entry may have changed since: the open handle decides.
        let md = file.metadata().map_err(|e| describe(&e))?;
        if !md.is_file() {
            return Err(not_regular(md.is_dir()));
        }
        if md.len() > max {
            return Err(format!(
                "it is {} bytes, more than the {max} bytes a program's files may hold under the memory limit",
                md.len()
            ));
        }
        let mut bytes = Vec::new();
        file.take(max.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| describe(&e))?;
        if bytes.len() as u64 > max {
            return Err(format!(
                "it is more than the {max} bytes a program's files may hold under the memory limit"
            ));
        }
        String::from_utf8(bytes).map_err(|e| {
            format!(
                "it is not valid UTF-8 (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            )
        })
    }
}

/// The shape language §13 asks of an import path: relative, `/` between
/// components, ending in `.jue`.
fn check_shape(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("the path is empty".into());
    }
    if path.starts_with('/') || Path::new(path).is_absolute() {
        return Err("the path is absolute; write it relative to the importing file".into());
    }
    if path.contains('\\') || path.contains('\0') {
        return Err("the path must use `/` between components".into());
    }
    if !path.ends_with(".jue") {
        return Err("the path must end in `.jue`".into());
    }
    if Path::new(path)
        .components()
        .any(|c| matches!(c, Component::Prefix(_) | Component::RootDir))
    {
        return Err("the path is absolute; write it relative to the importing file".into());
    }
    Ok(())
}

/// Whether cap-std refused a path for leading out of its directory.
fn is_escape(e: &io::Error) -> bool {
    let m = e.to_string();
    m.contains("outside") || m.contains("escape")
}

fn describe(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file".into(),
        io::ErrorKind::PermissionDenied if is_escape(e) => {
            "it is outside the program's root".into()
        }
        io::ErrorKind::PermissionDenied => "it cannot be read (permission denied)".into(),
        _ => format!("it cannot be read ({e})"),
    }
}

fn not_regular(dir: bool) -> String {
    if dir {
        "it is a directory".into()
    } else {
        "it is not a regular file (a FIFO, socket or device)".into()
    }
}

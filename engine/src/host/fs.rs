//! File-system backends of `fs:read-file`, `fs:safe-read`, `fs:write-file`, `fs:list-dir`.
//!
//! Every access is made beneath the handle of the granted directory the path lies in
//! (see `scope`), so the object checked is the object opened, read, listed or replaced.

use std::ffi::{OsStr, OsString};
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use cap_std::fs::{Dir, File, Metadata, OpenOptions, OpenOptionsExt, Permissions};

use super::error::HostError;
use super::scope::{EntryKind, Located, PersistScopes, check_shape};

/// Distinguishes temporary files written concurrently by one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Reads a whole UTF-8 text file inside the IoPersist scopes.
pub fn read_file(scopes: &PersistScopes, path: &str) -> Result<String, HostError> {
    let at = scopes.locate(path)?;
    read_located(scopes, path, &at)
}

/// Like `read_file`, but `None` when the file is missing, unreadable or not UTF-8.
pub fn safe_read(scopes: &PersistScopes, path: &str) -> Result<Option<String>, HostError> {
    // A malformed path (empty, too long, too deep) is the program's error, not a file's state.
    check_shape(path)?;
    match scopes.locate(path) {
        Ok(at) => match read_located(scopes, path, &at) {
            Ok(text) => Ok(Some(text)),
            // A path that led outside while being opened is still a denial.
            Err(e) if e.is_capability_denied() => Err(e),
            Err(_) => Ok(None),
        },
        // Leaving the scope is still a denial: nil must not hide a capability problem.
        Err(e) if e.is_capability_denied() => Err(e),
        Err(_) => Ok(None),
    }
}

/// Writes `content` to a file inside the scopes (creates or replaces, atomically); returns the bytes written.
pub fn write_file(scopes: &PersistScopes, path: &str, content: &str) -> Result<i64, HostError> {
    let at = scopes.locate(path)?;
    let fail = |e: &io::Error| scopes.io_error(path, "write", e);
    let (parent, name) = open_parent(&at, path).map_err(|e| match e {
        ParentError::Io(e) => fail(&e),
        ParentError::Refused(e) => e,
    })?;
    let existing = match parent.symlink_metadata(&name) {
        Ok(md) => {
            refuse_kind(path, "write", kind_of(&md))?;
            if md.file_type().is_symlink() {
                // Naming followed every link, so one here was put there during the call.
                return Err(HostError::host(format!(
                    "cannot write {path}: it was replaced by a symbolic link during the call"
                )));
            }
            // Renaming over a read-only file would bypass its permissions; refuse like open(2).
            if md.permissions().readonly() {
                return Err(HostError::host(format!(
                    "cannot write {path}: the file is read-only"
                )));
            }
            Some(md.permissions())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(fail(&e)),
    };
    replace_file(&parent, &name, content.as_bytes(), existing).map_err(|e| fail(&e))?;
    i64::try_from(content.len()).map_err(|_| HostError::host("file too large"))
}

/// Lists the entry names of a directory inside the scopes, without `.`/`..`, sorted by bytes.
pub fn list_dir(scopes: &PersistScopes, path: &str) -> Result<Vec<String>, HostError> {
    let at = scopes.locate(path)?;
    let fail = |e: &io::Error| scopes.io_error(path, "list", e);
    // O_DIRECTORY: a FIFO or device is refused by the kernel without being opened.
    let dir = at
        .root
        .open_dir(rel_or_dot(&at.rel))
        .map_err(|e| fail(&e))?;
    let mut names = Vec::new();
    for entry in dir.entries().map_err(|e| fail(&e))? {
        let entry = entry.map_err(|e| fail(&e))?;
        // Non-UTF-8 names are shown with U+FFFD rather than failing the whole listing.
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

/// Reads a located file as UTF-8; `path` is the caller's spelling for messages.
fn read_located(scopes: &PersistScopes, path: &str, at: &Located<'_>) -> Result<String, HostError> {
    let mut file = open_regular(scopes, path, at, "read")?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e| HostError::host(format!("cannot read {path}: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        HostError::host(format!(
            "file {path} is not valid UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Opens a located regular file for reading, refusing directories, FIFOs, sockets and
/// devices without blocking. The kind seen when naming refuses most without opening
/// anything (opening a device can have effects); the authority is the handle's own
/// fstat after an `O_NONBLOCK` open, since the entry may change in between.
pub(super) fn open_regular(
    scopes: &PersistScopes,
    path: &str,
    at: &Located<'_>,
    doing: &str,
) -> Result<File, HostError> {
    refuse_kind(path, doing, at.kind)?;
    let mut options = OpenOptions::new();
    options
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    let file = at
        .root
        .open_with(rel_or_dot(&at.rel), &options)
        .map_err(|e| scopes.io_error(path, doing, &e))?;
    let md = file
        .metadata()
        .map_err(|e| scopes.io_error(path, doing, &e))?;
    refuse_kind(path, doing, kind_of(&md))?;
    Ok(file)
}

/// Why the parent directory of a located path could not be opened.
pub(super) enum ParentError {
    /// The open itself failed (an escape included).
    Io(io::Error),
    /// The path names no file that could be created or replaced.
    Refused(HostError),
}

/// Opens the directory holding a located path beneath its scope, with the entry's name.
pub(super) fn open_parent(at: &Located<'_>, path: &str) -> Result<(Dir, OsString), ParentError> {
    let (Some(parent), Some(name)) = (at.rel.parent(), at.rel.file_name()) else {
        // The scope itself: a directory.
        return Err(ParentError::Refused(HostError::host(format!(
            "cannot write {path}: it is a directory"
        ))));
    };
    let dir = at
        .root
        .open_dir(rel_or_dot(parent))
        .map_err(ParentError::Io)?;
    Ok((dir, name.to_os_string()))
}

/// Writes `bytes` to a new temporary file in `parent` and renames it over `name`, so
/// readers never see a half-written file; on any failure the temporary file is removed
/// and the old content stays.
pub(super) fn replace_file(
    parent: &Dir,
    name: &OsStr,
    bytes: &[u8],
    permissions: Option<Permissions>,
) -> io::Result<()> {
    let (tmp, mut file) = create_temp(parent)?;
    let result = (|| {
        file.write_all(bytes)?;
        if let Some(p) = permissions {
            file.set_permissions(p)?;
        }
        file.sync_all()?;
        drop(file);
        parent.rename(&tmp, parent, name)
    })();
    if result.is_err() {
        let _ = parent.remove_file(&tmp);
    }
    result
}

/// The kind of an entry from its metadata (not following a final symlink).
pub(super) fn kind_of(md: &Metadata) -> EntryKind {
    let t = md.file_type();
    if t.is_dir() {
        EntryKind::Dir
    } else if t.is_file() || t.is_symlink() {
        EntryKind::File
    } else {
        EntryKind::Other
    }
}

/// Refuses directories and non-regular files with a `host` error naming `path`.
pub(super) fn refuse_kind(path: &str, doing: &str, kind: EntryKind) -> Result<(), HostError> {
    let why = match kind {
        EntryKind::File | EntryKind::Missing => return Ok(()),
        EntryKind::Dir => "it is a directory",
        EntryKind::Other => "not a regular file (a FIFO, socket or device)",
    };
    Err(HostError::host(format!("cannot {doing} {path}: {why}")))
}

/// `rel`, or `.` for the scope itself (cap-std opens `.` as the directory it is given).
fn rel_or_dot(rel: &Path) -> &Path {
    if rel.as_os_str().is_empty() {
        Path::new(".")
    } else {
        rel
    }
}

/// Creates a new, uniquely named temporary file in `dir`.
fn create_temp(dir: &Dir) -> io::Result<(OsString, File)> {
    let pid = std::process::id();
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    loop {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let candidate = OsString::from(format!(".jue-write-{pid}-{n}.tmp"));
        // create_new never follows or reuses an existing entry.
        match dir.open_with(&candidate, &options) {
            Ok(f) => return Ok((candidate, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::error::HostErrorKind;
    use super::*;
    use std::fs;
    use std::os::unix::fs::{PermissionsExt, symlink};
    use std::path::PathBuf;

    /// A granted `scope` directory beside an ungranted `outside` one, in a fresh temp dir.
    fn setup() -> (tempfile::TempDir, PathBuf, PersistScopes) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = fs::canonicalize(tmp.path()).expect("canonical");
        let scope = root.join("scope");
        fs::create_dir(&scope).expect("mkdir");
        fs::create_dir(root.join("outside")).expect("mkdir outside");
        fs::write(root.join("outside/secret.txt"), "secret").expect("secret");
        let mut scopes = PersistScopes::new();
        scopes
            .grant(Some(scope.to_str().expect("utf8")))
            .expect("grant");
        (tmp, scope, scopes)
    }

    /// The path `dir/name` as a String.
    fn p(dir: &Path, name: &str) -> String {
        dir.join(name).to_str().expect("utf8").to_string()
    }

    /// Write, rewrite (truncate) and read back, leaving no temporary file.
    #[test]
    fn write_then_read_round_trip() {
        let (_t, scope, scopes) = setup();
        let f = p(&scope, "a.txt");
        assert_eq!(write_file(&scopes, &f, "héllo").expect("write"), 6);
        assert_eq!(read_file(&scopes, &f).expect("read"), "héllo");
        // Truncates: a shorter write replaces everything.
        assert_eq!(write_file(&scopes, &f, "x").expect("rewrite"), 1);
        assert_eq!(read_file(&scopes, &f).expect("read"), "x");
        assert_eq!(write_file(&scopes, &f, "").expect("empty"), 0);
        assert_eq!(read_file(&scopes, &f).expect("read"), "");
        assert_eq!(safe_read(&scopes, &f).expect("safe"), Some(String::new()));
        // No temporary file is left behind.
        assert_eq!(
            list_dir(&scopes, scope.to_str().expect("utf8")).expect("ls"),
            vec!["a.txt"]
        );
    }

    /// A rewrite keeps the mode; a read-only file is not replaced.
    #[test]
    fn write_keeps_permissions_and_refuses_read_only() {
        let (_t, scope, scopes) = setup();
        let f = p(&scope, "perm.txt");
        write_file(&scopes, &f, "1").expect("write");
        fs::set_permissions(&f, fs::Permissions::from_mode(0o640)).expect("chmod");
        write_file(&scopes, &f, "2").expect("rewrite");
        assert_eq!(
            fs::metadata(&f).expect("md").permissions().mode() & 0o777,
            0o640
        );
        fs::set_permissions(&f, fs::Permissions::from_mode(0o444)).expect("chmod ro");
        assert_eq!(
            write_file(&scopes, &f, "3").expect_err("ro").kind,
            HostErrorKind::Host
        );
        assert_eq!(fs::read_to_string(&f).expect("read"), "2");
    }

    /// Writing under a missing directory, or onto a directory, fails.
    #[test]
    fn write_never_creates_directories() {
        let (_t, scope, scopes) = setup();
        let e = write_file(&scopes, &p(&scope, "newdir/a.txt"), "x").expect_err("no mkdir");
        assert_eq!(e.kind, HostErrorKind::Host);
        assert!(!scope.join("newdir").exists());
        fs::create_dir(scope.join("d")).expect("mkdir d");
        let e = write_file(&scopes, &p(&scope, "d"), "x").expect_err("dir target");
        assert_eq!(e.kind, HostErrorKind::Host);
    }

    /// `..` and symlink escapes are denied by every fs function, safe-read included.
    #[test]
    fn escapes_are_denied_for_every_function() {
        let (_t, scope, scopes) = setup();
        let esc = p(&scope, "../outside/secret.txt");
        assert_eq!(
            read_file(&scopes, &esc).expect_err("read").kind,
            HostErrorKind::CapabilityDenied
        );
        assert_eq!(
            safe_read(&scopes, &esc).expect_err("safe").kind,
            HostErrorKind::CapabilityDenied
        );
        assert_eq!(
            write_file(&scopes, &esc, "x").expect_err("write").kind,
            HostErrorKind::CapabilityDenied
        );
        assert_eq!(
            list_dir(&scopes, &p(&scope, "..")).expect_err("ls").kind,
            HostErrorKind::CapabilityDenied
        );
        // A missing file outside is still a denial for safe-read, not nil.
        let missing = p(&scope, "../outside/missing.txt");
        assert_eq!(
            safe_read(&scopes, &missing).expect_err("safe missing").kind,
            HostErrorKind::CapabilityDenied
        );
        // Symlinks pointing outside.
        symlink(scope.join("../outside/secret.txt"), scope.join("l")).expect("symlink");
        assert_eq!(
            read_file(&scopes, &p(&scope, "l")).expect_err("link").kind,
            HostErrorKind::CapabilityDenied
        );
        symlink(scope.join("../outside/created.txt"), scope.join("dangling")).expect("symlink");
        assert_eq!(
            write_file(&scopes, &p(&scope, "dangling"), "x")
                .expect_err("dangling")
                .kind,
            HostErrorKind::CapabilityDenied
        );
        assert!(!scope.join("../outside/created.txt").exists());
        assert_eq!(
            fs::read_to_string(scope.join("../outside/secret.txt")).expect("read"),
            "secret"
        );
    }

    /// Non-UTF-8 and missing files: `host` errors for read-file, None for safe-read.
    #[test]
    fn utf8_and_missing_files() {
        let (_t, scope, scopes) = setup();
        fs::write(scope.join("bin"), [b'o', b'k', 0xff, 0xfe]).expect("write bin");
        let e = read_file(&scopes, &p(&scope, "bin")).expect_err("not utf8");
        assert_eq!(e.kind, HostErrorKind::Host);
        assert!(
            e.message.contains("UTF-8") && e.message.contains("offset 2"),
            "{}",
            e.message
        );
        assert_eq!(safe_read(&scopes, &p(&scope, "bin")).expect("safe"), None);
        let e = read_file(&scopes, &p(&scope, "missing.txt")).expect_err("missing");
        assert_eq!(e.kind, HostErrorKind::Host);
        assert!(e.message.contains("missing.txt"), "{}", e.message);
        assert_eq!(
            safe_read(&scopes, &p(&scope, "missing.txt")).expect("safe"),
            None
        );
        assert_eq!(
            safe_read(&scopes, &p(&scope, "nodir/missing.txt")).expect("safe"),
            None
        );
        fs::create_dir(scope.join("d")).expect("mkdir");
        assert_eq!(
            read_file(&scopes, &p(&scope, "d")).expect_err("dir").kind,
            HostErrorKind::Host
        );
        assert_eq!(safe_read(&scopes, &p(&scope, "d")).expect("safe dir"), None);
    }

    /// Listing returns names only, sorted by bytes.
    #[test]
    fn list_dir_sorted_by_bytes() {
        let (_t, scope, scopes) = setup();
        for name in ["b", "B", "a", "é", "Z.txt", ".hidden"] {
            fs::write(scope.join(name), "").expect("touch");
        }
        fs::create_dir(scope.join("sub")).expect("mkdir");
        let names = list_dir(&scopes, scope.to_str().expect("utf8")).expect("ls");
        assert_eq!(names, vec![".hidden", "B", "Z.txt", "a", "b", "sub", "é"]);
        assert_eq!(
            list_dir(&scopes, &p(&scope, "sub")).expect("empty"),
            Vec::<String>::new()
        );
        assert_eq!(
            list_dir(&scopes, &p(&scope, "a")).expect_err("file").kind,
            HostErrorKind::Host
        );
        assert_eq!(
            list_dir(&scopes, &p(&scope, "nope"))
                .expect_err("missing")
                .kind,
            HostErrorKind::Host
        );
    }
}

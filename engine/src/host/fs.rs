//! File-system backends of `fs:read-file`, `fs:safe-read`, `fs:write-file`, `fs:list-dir`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::error::HostError;
use super::scope::PersistScopes;

/// Distinguishes temporary files written concurrently by one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Reads a whole UTF-8 text file inside the IoPersist scopes.
pub fn read_file(scopes: &PersistScopes, path: &str) -> Result<String, HostError> {
    let resolved = scopes.check(path)?;
    read_resolved(path, &resolved)
}

/// Like `read_file`, but `None` when the file is missing, unreadable or not UTF-8.
pub fn safe_read(scopes: &PersistScopes, path: &str) -> Result<Option<String>, HostError> {
    match scopes.check(path) {
        Ok(resolved) => Ok(read_resolved(path, &resolved).ok()),
        // Leaving the scope is still a denial: nil must not hide a capability problem.
        Err(e) if e.is_capability_denied() => Err(e),
        Err(_) => Ok(None),
    }
}

/// Writes `content` to a file inside the scopes (creates or replaces, atomically); returns the bytes written.
pub fn write_file(scopes: &PersistScopes, path: &str, content: &str) -> Result<i64, HostError> {
    let target = scopes.check(path)?;
    let fail = |e: std::io::Error| HostError::host(format!("cannot write {path}: {e}"));
    let existing = match fs::metadata(&target) {
        Ok(md) => {
            if md.is_dir() {
                return Err(HostError::host(format!(
                    "cannot write {path}: it is a directory"
                )));
            }
            if !md.is_file() {
                return Err(HostError::host(format!(
                    "cannot write {path}: not a regular file"
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
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(fail(e)),
    };
    let dir = match target.parent() {
        Some(d) => d.to_path_buf(),
        None => {
            return Err(HostError::host(format!(
                "cannot write {path}: no parent directory"
            )));
        }
    };
    // Write a sibling temporary file, then rename it over the target: readers never
    // see a half-written file, and a failed write leaves the old content intact.
    let (tmp_path, mut file) = create_temp(&dir).map_err(fail)?;
    let result = (|| {
        file.write_all(content.as_bytes())?;
        if let Some(perms) = existing {
            file.set_permissions(perms)?;
        }
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp_path, &target)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp_path);
        return Err(fail(e));
    }
    i64::try_from(content.len()).map_err(|_| HostError::host("file too large"))
}

/// Lists the entry names of a directory inside the scopes, without `.`/`..`, sorted by bytes.
pub fn list_dir(scopes: &PersistScopes, path: &str) -> Result<Vec<String>, HostError> {
    let resolved = scopes.check(path)?;
    let entries =
        fs::read_dir(&resolved).map_err(|e| HostError::host(format!("cannot list {path}: {e}")))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| HostError::host(format!("cannot list {path}: {e}")))?;
        // Non-UTF-8 names are shown with U+FFFD rather than failing the whole listing.
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

/// Reads an already checked path as UTF-8; `path` is the caller's spelling for messages.
fn read_resolved(path: &str, resolved: &Path) -> Result<String, HostError> {
    let md =
        fs::metadata(resolved).map_err(|e| HostError::host(format!("cannot read {path}: {e}")))?;
    // Refuse FIFOs and devices: reading them could block or never end.
    if !md.is_file() {
        let what = if md.is_dir() {
            "it is a directory"
        } else {
            "not a regular file"
        };
        return Err(HostError::host(format!("cannot read {path}: {what}")));
    }
    let bytes =
        fs::read(resolved).map_err(|e| HostError::host(format!("cannot read {path}: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        HostError::host(format!(
            "file {path} is not valid UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Creates a new, uniquely named temporary file in `dir`.
fn create_temp(dir: &Path) -> std::io::Result<(PathBuf, fs::File)> {
    let pid = std::process::id();
    loop {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let candidate = dir.join(format!(".jue-write-{pid}-{n}.tmp"));
        // create_new never follows or reuses an existing entry.
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&candidate)
        {
            Ok(f) => return Ok((candidate, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::error::HostErrorKind;
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};

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

//! Scopes of the IoPersist (directories) and IoNetwork (hosts) capabilities.
//!
//! An IoPersist path is handled in two steps. It is first *named*: resolved like
//! realpath (iteratively, with bounded work) to decide which granted directory it lies
//! in and to word a `capability-denied` error. It is then *opened* from that directory's
//! handle (cap-std: `openat2(RESOLVE_BENEATH)` on Linux), which is the authority: a
//! rename or symlink swap after the naming can make the call fail, never leave the scope.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use cap_std::ambient_authority;
use cap_std::fs::Dir;

use super::error::HostError;

/// The longest path accepted, in bytes (Linux's PATH_MAX).
pub const MAX_PATH_BYTES: usize = 4096;
/// The most components (names between `/`) a path may have.
pub const MAX_PATH_COMPONENTS: usize = 256;
/// How many symlinks one naming may follow (Linux's own limit is 40).
const MAX_SYMLINK_FOLLOWS: u32 = 40;
/// How many components one naming may visit, symlink targets included: bounds its work.
const MAX_RESOLVE_STEPS: usize = 4096;

/// The directories granted to IoPersist: each stored canonical (realpath), for
/// naming and messages, and as an open directory handle, for every access.
#[derive(Debug, Clone, Default)]
pub struct PersistScopes {
    paths: Vec<PathBuf>,
    handles: Vec<Arc<Dir>>,
}

impl PartialEq for PersistScopes {
    /// Two sets of scopes are equal when they name the same directories in the same order.
    fn eq(&self, other: &Self) -> bool {
        self.paths == other.paths
    }
}

impl Eq for PersistScopes {}

/// What a path's last component was when the path was named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A FIFO, socket or device.
    Other,
    /// Nothing yet (its parent directory exists).
    Missing,
}

/// A path named inside a scope, to be opened from the scope's directory handle.
#[derive(Debug)]
pub struct Located<'a> {
    /// The handle of the scope the path lies in.
    pub root: &'a Dir,
    /// The path below the scope: plain names only, empty for the scope itself.
    pub rel: PathBuf,
    /// The canonical absolute path, for messages.
    pub resolved: PathBuf,
    /// What the last component was when the path was named.
    pub kind: EntryKind,
}

/// The outcome of naming a path.
enum Resolved {
    /// The path leads here (canonical); the last component is of this kind.
    Found(PathBuf, EntryKind),
    /// The path cannot be resolved; `best` is where it would lead, used only to
    /// decide between `capability-denied` and a `host` error.
    Unresolvable { best: PathBuf, reason: String },
}

impl PersistScopes {
    /// An empty set of scopes (nothing granted).
    pub fn new() -> Self {
        PersistScopes::default()
    }

    /// Grants a directory (relative to the current directory; `None` = the current directory).
    pub fn grant(&mut self, dir: Option<&str>) -> Result<PathBuf, HostError> {
        let given = match dir {
            None => std::env::current_dir()
                .map_err(|e| HostError::host(format!("cannot read the current directory: {e}")))?,
            Some("") => return Err(HostError::host("IoPersist scope: empty directory name")),
            Some(d) => PathBuf::from(d),
        };
        let canonical = fs::canonicalize(&given).map_err(|e| {
            HostError::host(format!(
                "IoPersist scope {} cannot be resolved: {e}",
                given.display()
            ))
        })?;
        if !canonical.is_dir() {
            return Err(HostError::host(format!(
                "IoPersist scope {} is not a directory",
                given.display()
            )));
        }
        // The handle is taken now: every later access is made beneath it.
        let handle = Dir::open_ambient_dir(&canonical, ambient_authority()).map_err(|e| {
            HostError::host(format!(
                "IoPersist scope {} cannot be opened: {e}",
                given.display()
            ))
        })?;
        // Grants accumulate; a repeated grant adds no scope but renews its handle
        // (the directory may have been replaced since).
        match self.paths.iter().position(|p| *p == canonical) {
            Some(i) => self.handles[i] = Arc::new(handle),
            None => {
                self.paths.push(canonical.clone());
                self.handles.push(Arc::new(handle));
            }
        }
        Ok(canonical)
    }

    /// Removes every granted directory.
    pub fn clear(&mut self) {
        self.paths.clear();
        self.handles.clear();
    }

    /// True when no directory is granted.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// The granted directories, canonical, in grant order.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.paths
    }

    /// Resolves `path` (`..`, every symlink) and returns it when it lies inside a scope.
    pub fn check(&self, path: &str) -> Result<PathBuf, HostError> {
        self.locate(path).map(|l| l.resolved)
    }

    /// Names `path` (`..`, every symlink) and returns where it lies inside a scope,
    /// with the scope's handle to open it from.
    pub fn locate(&self, path: &str) -> Result<Located<'_>, HostError> {
        check_shape(path)?;
        let abs = absolute(Path::new(path))?;
        let mut resolved = resolve(&abs);
        // A trailing `/` or `/.` names a directory: it must exist, never be created as a file.
        let names_dir = path.ends_with('/') || path.ends_with("/.") || path == ".";
        if let (true, Resolved::Found(p, kind)) = (names_dir, &resolved)
            && *kind != EntryKind::Dir
        {
            let reason = if *kind == EntryKind::Missing {
                "no such directory"
            } else {
                "not a directory"
            };
            resolved = Resolved::Unresolvable {
                best: p.clone(),
                reason: reason.to_string(),
            };
        }
        match resolved {
            Resolved::Found(p, kind) => match self.scope_of(&p) {
                Some((i, rel)) => Ok(Located {
                    root: &self.handles[i],
                    rel,
                    resolved: p,
                    kind,
                }),
                None => Err(self.denied(path, &p)),
            },
            Resolved::Unresolvable { best, reason } => {
                // Outside every scope stays a denial even when the path is broken,
                // so a caller cannot probe the file system outside its grants.
                if self.scope_of(&best).is_some() {
                    Err(HostError::host(format!(
                        "path {path} cannot be resolved: {reason}"
                    )))
                } else {
                    Err(self.denied(path, &best))
                }
            }
        }
    }

    /// The innermost scope holding the canonical `p` (component-wise), and `p` below it.
    fn scope_of(&self, p: &Path) -> Option<(usize, PathBuf)> {
        self.paths
            .iter()
            .enumerate()
            .filter_map(|(i, dir)| p.strip_prefix(dir).ok().map(|rel| (i, rel.to_path_buf())))
            .min_by_key(|(_, rel)| rel.components().count())
    }

    /// The `capability-denied` error for `path`, naming where it leads and the scopes.
    fn denied(&self, path: &str, resolved: &Path) -> HostError {
        let shown = if Path::new(path) == resolved {
            format!("path {path}")
        } else {
            format!("path {path} (resolved to {})", resolved.display())
        };
        HostError::capability_denied(format!(
            "{shown} is outside the granted IoPersist scopes: {}",
            self.describe()
        ))
    }

    /// The error for an open that the kernel stopped from leaving the scope: the path
    /// was changed (a rename or symlink swap) between its naming and its opening.
    pub fn escaped(&self, path: &str) -> HostError {
        HostError::capability_denied(format!(
            "path {path} led outside the granted IoPersist scopes while it was opened \
             (it changed during the call): {}",
            self.describe()
        ))
    }

    /// Maps an I/O error of an access beneath a scope: an escape is a denial, the rest `host`.
    pub fn io_error(&self, path: &str, doing: &str, e: &io::Error) -> HostError {
        if is_escape(e) {
            self.escaped(path)
        } else {
            HostError::host(format!("cannot {doing} {path}: {e}"))
        }
    }

    /// The scopes as a comma-separated list, or `(none granted)`.
    pub fn describe(&self) -> String {
        if self.paths.is_empty() {
            "(none granted)".to_string()
        } else {
            let names: Vec<String> = self.paths.iter().map(|d| d.display().to_string()).collect();
            names.join(", ")
        }
    }
}

/// True for cap-std's refusal of a path that led outside its directory (openat2's EXDEV).
/// cap-std reports it as a PermissionDenied error without an OS error code.
fn is_escape(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::PermissionDenied && e.raw_os_error().is_none()
}

/// Refuses empty, NUL-holding, too long or too deep paths before any file-system work.
pub fn check_shape(path: &str) -> Result<(), HostError> {
    if path.is_empty() {
        return Err(HostError::host("empty path"));
    }
    if path.len() > MAX_PATH_BYTES {
        return Err(HostError::host(format!(
            "a path of {} bytes is longer than the limit of {MAX_PATH_BYTES} bytes",
            path.len()
        )));
    }
    if path.contains('\0') {
        return Err(HostError::host(format!(
            "path {path:?} contains a NUL byte"
        )));
    }
    let components = path.split('/').filter(|c| !c.is_empty()).count();
    if components > MAX_PATH_COMPONENTS {
        return Err(HostError::host(format!(
            "a path of {components} components is deeper than the limit of {MAX_PATH_COMPONENTS}"
        )));
    }
    Ok(())
}

/// Makes `p` absolute against the current directory, without touching the file system further.
fn absolute(p: &Path) -> Result<PathBuf, HostError> {
    if p.is_absolute() {
        return Ok(p.to_path_buf());
    }
    let cwd = std::env::current_dir()
        .map_err(|e| HostError::host(format!("cannot read the current directory: {e}")))?;
    Ok(cwd.join(p))
}

/// Pushes the names and `..`s of `p` onto `todo` so that the first one is on top.
fn push_components(todo: &mut Vec<OsString>, p: &Path) {
    let start = todo.len();
    for c in p.components() {
        match c {
            Component::Normal(name) => todo.push(name.to_os_string()),
            Component::ParentDir => todo.push(OsString::from("..")),
            // The root is handled by the caller; `.` changes nothing.
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    todo[start..].reverse();
}

/// Where `base` followed by `first` and the rest of `todo` leads, lexically (no file-system access).
fn lexical(base: &Path, first: Option<&OsString>, todo: &[OsString]) -> PathBuf {
    let mut out = base.to_path_buf();
    for name in first.into_iter().chain(todo.iter().rev()) {
        if name == ".." {
            out.pop();
        } else {
            out.push(name);
        }
    }
    out
}

/// Names an absolute path like realpath, also when its last component is missing or a
/// dangling symlink. Iterative: a worklist of components, never a recursion per
/// component, and at most `MAX_RESOLVE_STEPS` components visited in all.
fn resolve(abs: &Path) -> Resolved {
    let mut todo = Vec::new();
    push_components(&mut todo, abs);
    let mut out = PathBuf::from("/");
    let mut kind = EntryKind::Dir;
    let mut follows = 0;
    let mut steps = 0;
    while let Some(name) = todo.pop() {
        let unresolvable = |out: &Path, reason: String, todo: &[OsString]| Resolved::Unresolvable {
            best: lexical(out, Some(&name), todo),
            reason,
        };
        steps += 1;
        if steps > MAX_RESOLVE_STEPS {
            return unresolvable(
                &out,
                "too many components after following symbolic links".to_string(),
                &todo,
            );
        }
        match kind {
            EntryKind::Dir => {}
            EntryKind::Missing => {
                let reason = format!("directory {} does not exist", out.display());
                return unresolvable(&out, reason, &todo);
            }
            EntryKind::File | EntryKind::Other => {
                let reason = format!("{} is not a directory", out.display());
                return unresolvable(&out, reason, &todo);
            }
        }
        if name == ".." {
            out.pop();
            continue;
        }
        let candidate = out.join(&name);
        match fs::symlink_metadata(&candidate) {
            Ok(md) if md.file_type().is_symlink() => {
                follows += 1;
                if follows > MAX_SYMLINK_FOLLOWS {
                    return unresolvable(
                        &out,
                        "too many levels of symbolic links".to_string(),
                        &todo,
                    );
                }
                match fs::read_link(&candidate) {
                    Ok(target) if target.as_os_str().is_empty() => {
                        return unresolvable(&out, "empty symbolic link".to_string(), &todo);
                    }
                    // A relative target is relative to the directory holding the link (`out`).
                    Ok(target) => {
                        if target.is_absolute() {
                            out = PathBuf::from("/");
                        }
                        push_components(&mut todo, &target);
                    }
                    Err(e) => return unresolvable(&out, e.to_string(), &todo),
                }
            }
            Ok(md) => {
                kind = if md.is_dir() {
                    EntryKind::Dir
                } else if md.is_file() {
                    EntryKind::File
                } else {
                    EntryKind::Other
                };
                out = candidate;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                kind = EntryKind::Missing;
                out = candidate;
            }
            Err(e) => return unresolvable(&out, e.to_string(), &todo),
        }
    }
    Resolved::Found(out, kind)
}

/// The hosts granted to IoNetwork: any host, or a list of `host` / `host:port`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetScopes {
    any: bool,
    hosts: Vec<(String, Option<u16>)>,
}

impl NetScopes {
    /// An empty set of scopes (nothing granted).
    pub fn new() -> Self {
        NetScopes::default()
    }

    /// Grants `host`, `host:port`, `[v6]`, `[v6]:port`; `None` grants any host.
    pub fn grant(&mut self, scope: Option<&str>) -> Result<(), HostError> {
        let Some(scope) = scope else {
            self.any = true;
            return Ok(());
        };
        let entry = parse_host_port(scope.trim())
            .map_err(|why| HostError::host(format!("IoNetwork scope {scope:?}: {why}")))?;
        if !self.hosts.contains(&entry) {
            self.hosts.push(entry);
        }
        Ok(())
    }

    /// Removes every grant.
    pub fn clear(&mut self) {
        self.any = false;
        self.hosts.clear();
    }

    /// True when nothing is granted.
    pub fn is_empty(&self) -> bool {
        !self.any && self.hosts.is_empty()
    }

    /// True when an unscoped grant allows every host.
    pub fn is_any(&self) -> bool {
        self.any
    }

    /// The granted `(host, port)` pairs, hosts lowercased, IPv6 without brackets.
    pub fn hosts(&self) -> &[(String, Option<u16>)] {
        &self.hosts
    }

    /// The scopes as a comma-separated list, `(any host)` or `(none granted)`.
    pub fn describe(&self) -> String {
        if self.any {
            return "(any host)".to_string();
        }
        if self.hosts.is_empty() {
            return "(none granted)".to_string();
        }
        let names: Vec<String> = self
            .hosts
            .iter()
            .map(|(h, p)| {
                let h = if h.contains(':') {
                    format!("[{h}]")
                } else {
                    h.clone()
                };
                match p {
                    Some(p) => format!("{h}:{p}"),
                    None => h,
                }
            })
            .collect();
        names.join(", ")
    }

    #[cfg(feature = "net")]
    /// Checks an `http`/`https` URL's host and port against the grants (no DNS).
    pub fn allows(&self, url: &str) -> Result<(), HostError> {
        let target = UrlTarget::parse(url)?;
        if self.any {
            return Ok(());
        }
        let ok = self
            .hosts
            .iter()
            .any(|(h, p)| *h == target.host && p.is_none_or(|p| p == target.port));
        if ok {
            Ok(())
        } else {
            Err(HostError::capability_denied(format!(
                "URL {url} is outside the granted IoNetwork scopes: {}",
                self.describe()
            )))
        }
    }
}

#[cfg(feature = "net")]
/// The scheme, host and effective port of an `http`/`https` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct UrlTarget {
    /// `http` or `https`.
    pub scheme: String,
    /// Lowercased host, IPv6 without brackets.
    pub host: String,
    /// The explicit port, else 80 or 443 by scheme.
    pub port: u16,
}

#[cfg(feature = "net")]
impl UrlTarget {
    /// Parses a URL with the same parser the HTTP client uses, so both agree on the host.
    pub(super) fn parse(url: &str) -> Result<UrlTarget, HostError> {
        let uri: ureq::http::Uri = url
            .parse()
            .map_err(|e| HostError::host(format!("invalid URL {url}: {e}")))?;
        let scheme = match uri.scheme_str() {
            Some(s) => s.to_ascii_lowercase(),
            None => return Err(HostError::host(format!("URL {url} has no scheme"))),
        };
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            other => {
                return Err(HostError::host(format!(
                    "unsupported URL scheme {other} in {url} (only http and https)"
                )));
            }
        };
        let host = match uri.host() {
            Some(h) if !h.is_empty() => h,
            _ => return Err(HostError::host(format!("URL {url} has no host"))),
        };
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host)
            .to_ascii_lowercase();
        Ok(UrlTarget {
            scheme,
            host,
            port: uri.port_u16().unwrap_or(default_port),
        })
    }
}

/// Parses a scope `host`, `host:port`, `[v6]` or `[v6]:port` into (lowercased host, port).
fn parse_host_port(s: &str) -> Result<(String, Option<u16>), String> {
    if s.is_empty() {
        return Err("empty host".to_string());
    }
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let Some(end) = rest.find(']') else {
            return Err("missing ] after IPv6 address".to_string());
        };
        let host = &rest[..end];
        let after = &rest[end + 1..];
        let port = match after {
            "" => None,
            _ => match after.strip_prefix(':') {
                Some(p) => Some(p),
                None => return Err(format!("unexpected {after:?} after ]")),
            },
        };
        if host.is_empty() || !host.contains(':') {
            return Err("brackets must hold an IPv6 address".to_string());
        }
        (host, port)
    } else {
        match s.matches(':').count() {
            0 => (s, None),
            1 => {
                let (h, p) = s.split_once(':').unwrap_or((s, ""));
                (h, Some(p))
            }
            _ => return Err("write an IPv6 address in brackets, e.g. [::1]:8080".to_string()),
        }
    };
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '%');
    if host.is_empty() || !host.chars().all(valid) {
        return Err(format!("invalid host {host:?}"));
    }
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => Some(n),
            _ => return Err(format!("invalid port {p:?}")),
        },
    };
    Ok((host.to_ascii_lowercase(), port))
}

#[cfg(test)]
mod tests {
    use super::super::error::HostErrorKind;
    use super::*;
    use std::os::unix::fs::symlink;

    /// A temporary tree: `root/scope` (granted), `root/outside`, `root/scopeb` (name-prefix sibling).
    struct Tree {
        _tmp: tempfile::TempDir,
        root: PathBuf,
        scope: PathBuf,
        scopes: PersistScopes,
    }

    /// A temp tree with a granted `scope`, an `outside` dir and a `scopeb` name-prefix sibling.
    fn tree() -> Tree {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = fs::canonicalize(tmp.path()).expect("canonical tempdir");
        let scope = root.join("scope");
        fs::create_dir(&scope).expect("mkdir scope");
        fs::create_dir(root.join("outside")).expect("mkdir outside");
        fs::create_dir(root.join("scopeb")).expect("mkdir scopeb");
        fs::create_dir(scope.join("sub")).expect("mkdir sub");
        fs::write(scope.join("in.txt"), "in").expect("write in");
        fs::write(root.join("outside/secret.txt"), "secret").expect("write secret");
        let mut scopes = PersistScopes::new();
        let granted = scopes
            .grant(Some(scope.to_str().expect("utf8")))
            .expect("grant");
        assert_eq!(granted, scope);
        Tree {
            _tmp: tmp,
            root,
            scope,
            scopes,
        }
    }

    /// The path as a String.
    fn s(p: &Path) -> String {
        p.to_str().expect("utf8 path").to_string()
    }

    /// The kind of an expected error.
    fn kind(r: Result<PathBuf, HostError>) -> HostErrorKind {
        r.expect_err("expected an error").kind
    }

    /// Existing and not-yet-existing paths inside the scope resolve to canonical paths.
    #[test]
    fn existing_and_new_files_inside_are_allowed() {
        let t = tree();
        let p = t.scopes.check(&s(&t.scope.join("in.txt"))).expect("inside");
        assert_eq!(p, t.scope.join("in.txt"));
        let p = t
            .scopes
            .check(&s(&t.scope.join("new.txt")))
            .expect("new file");
        assert_eq!(p, t.scope.join("new.txt"));
        let p = t
            .scopes
            .check(&s(&t.scope.join("sub/../new2.txt")))
            .expect("dotdot inside");
        assert_eq!(p, t.scope.join("new2.txt"));
        assert_eq!(
            t.scopes.check(&s(&t.scope)).expect("the scope itself"),
            t.scope
        );
        assert_eq!(
            t.scopes
                .check(&format!("{}/.", s(&t.scope)))
                .expect("scope/."),
            t.scope
        );
        assert_eq!(
            t.scopes
                .check(&format!("{}/sub/..", s(&t.scope)))
                .expect("sub/.."),
            t.scope
        );
    }

    /// `..` escapes, including through missing directories, are denied.
    #[test]
    fn dotdot_escapes_are_denied() {
        let t = tree();
        let esc = format!("{}/../outside/secret.txt", s(&t.scope));
        let e = t.scopes.check(&esc).expect_err("escape");
        assert_eq!(e.kind, HostErrorKind::CapabilityDenied);
        assert!(e.message.contains("outside/secret.txt"), "{}", e.message);
        assert!(e.message.contains(&s(&t.scope)), "{}", e.message);
        // A final `..` leaves the scope.
        assert_eq!(
            kind(t.scopes.check(&format!("{}/..", s(&t.scope)))),
            HostErrorKind::CapabilityDenied
        );
        assert_eq!(
            kind(t.scopes.check(&format!("{}/sub/../..", s(&t.scope)))),
            HostErrorKind::CapabilityDenied
        );
        // New file outside, via `..`.
        assert_eq!(
            kind(
                t.scopes
                    .check(&format!("{}/../outside/new.txt", s(&t.scope)))
            ),
            HostErrorKind::CapabilityDenied
        );
        // A missing directory followed by `..` cannot escape either.
        let e = t
            .scopes
            .check(&format!("{}/missing/../../outside/x", s(&t.scope)))
            .expect_err("missing escape");
        assert_eq!(e.kind, HostErrorKind::CapabilityDenied);
        assert_eq!(
            kind(t.scopes.check("/etc/passwd")),
            HostErrorKind::CapabilityDenied
        );
    }

    /// /x/scopeb is not inside /x/scope.
    #[test]
    fn prefix_sibling_is_not_inside() {
        let t = tree();
        let e = t
            .scopes
            .check(&s(&t.root.join("scopeb/x")))
            .expect_err("sibling");
        assert_eq!(e.kind, HostErrorKind::CapabilityDenied);
    }

    /// Symlinks (file, dir, dangling, relative, looping) cannot lead out of the scope.
    #[test]
    fn symlinks_out_of_scope_are_denied() {
        let t = tree();
        // A symlinked file pointing outside.
        symlink(t.root.join("outside/secret.txt"), t.scope.join("link.txt")).expect("symlink");
        assert_eq!(
            kind(t.scopes.check(&s(&t.scope.join("link.txt")))),
            HostErrorKind::CapabilityDenied
        );
        // A symlinked directory pointing outside, and a new file under it.
        symlink(t.root.join("outside"), t.scope.join("dirlink")).expect("symlink dir");
        assert_eq!(
            kind(t.scopes.check(&s(&t.scope.join("dirlink/secret.txt")))),
            HostErrorKind::CapabilityDenied
        );
        assert_eq!(
            kind(t.scopes.check(&s(&t.scope.join("dirlink/new.txt")))),
            HostErrorKind::CapabilityDenied
        );
        // A dangling symlink whose target would be created outside.
        symlink(t.root.join("outside/created.txt"), t.scope.join("dangling"))
            .expect("symlink dangling");
        assert_eq!(
            kind(t.scopes.check(&s(&t.scope.join("dangling")))),
            HostErrorKind::CapabilityDenied
        );
        // A relative dangling symlink pointing outside.
        symlink("../outside/rel.txt", t.scope.join("reldangling")).expect("symlink rel");
        assert_eq!(
            kind(t.scopes.check(&s(&t.scope.join("reldangling")))),
            HostErrorKind::CapabilityDenied
        );
        // A dangling symlink to a missing directory, then a file under it.
        symlink(t.root.join("outside/nodir"), t.scope.join("deaddir")).expect("symlink deaddir");
        assert_eq!(
            kind(t.scopes.check(&s(&t.scope.join("deaddir/f")))),
            HostErrorKind::CapabilityDenied
        );
        // A symlink loop is never allowed.
        symlink(t.scope.join("loop2"), t.scope.join("loop1")).expect("loop1");
        symlink(t.scope.join("loop1"), t.scope.join("loop2")).expect("loop2");
        assert_eq!(
            kind(t.scopes.check(&s(&t.scope.join("loop1")))),
            HostErrorKind::Host
        );
        // A symlink inside the scope that stays inside is fine, resolved to its target.
        symlink(t.scope.join("in.txt"), t.scope.join("ok-link")).expect("ok link");
        assert_eq!(
            t.scopes.check(&s(&t.scope.join("ok-link"))).expect("ok"),
            t.scope.join("in.txt")
        );
        // A dangling symlink inside the scope resolves to its (new) target.
        symlink("sub/target.txt", t.scope.join("new-link")).expect("new link");
        assert_eq!(
            t.scopes.check(&s(&t.scope.join("new-link"))).expect("ok"),
            t.scope.join("sub/target.txt")
        );
    }

    /// The shape limits are exact: 4,096 bytes and 256 components pass, one more fails.
    #[test]
    fn path_shape_limits_are_exact() {
        let at_bytes = format!("/{}", "x".repeat(MAX_PATH_BYTES - 1));
        assert!(check_shape(&at_bytes).is_ok());
        let over = format!("{at_bytes}y");
        let e = check_shape(&over).expect_err("4097 bytes");
        assert_eq!(e.kind, HostErrorKind::Host);
        assert!(e.message.contains("4097 bytes"), "{}", e.message);
        let at_depth = "/d".repeat(MAX_PATH_COMPONENTS);
        assert!(check_shape(&at_depth).is_ok());
        // Empty names (`//`) are not components; `.` and `..` are.
        assert!(check_shape(&format!("//{at_depth}//")).is_ok());
        let e = check_shape(&format!("{at_depth}/.")).expect_err("257 components");
        assert!(e.message.contains("257 components"), "{}", e.message);
    }

    /// A scope granted through a symlink is stored as its realpath.
    #[test]
    fn symlinked_scope_is_stored_canonical() {
        let t = tree();
        let link = t.root.join("scope-link");
        symlink(&t.scope, &link).expect("symlink");
        let mut scopes = PersistScopes::new();
        assert_eq!(scopes.grant(Some(&s(&link))).expect("grant"), t.scope);
        assert_eq!(
            scopes.check(&s(&link.join("in.txt"))).expect("via link"),
            t.scope.join("in.txt")
        );
    }

    /// A path whose parent is missing is a `host` error inside, denied outside.
    #[test]
    fn missing_parent_is_never_allowed() {
        let t = tree();
        let e = t
            .scopes
            .check(&s(&t.scope.join("nodir/file.txt")))
            .expect_err("missing parent");
        assert_eq!(e.kind, HostErrorKind::Host);
        let e = t
            .scopes
            .check(&s(&t.scope.join("in.txt/file.txt")))
            .expect_err("file as dir");
        assert_eq!(e.kind, HostErrorKind::Host);
        let e = t
            .scopes
            .check(&s(&t.root.join("outside/nodir/f")))
            .expect_err("outside");
        assert_eq!(e.kind, HostErrorKind::CapabilityDenied);
        // A trailing slash names a directory, which must exist.
        let e = t
            .scopes
            .check(&format!("{}/", s(&t.scope.join("newdir"))))
            .expect_err("dir/");
        assert_eq!(e.kind, HostErrorKind::Host);
        assert_eq!(kind(t.scopes.check("")), HostErrorKind::Host);
    }

    /// Grants must be existing directories, relative to the current directory, and accumulate.
    #[test]
    fn grant_rules() {
        let t = tree();
        let mut scopes = PersistScopes::new();
        assert!(scopes.is_empty());
        let e = scopes
            .check(&s(&t.scope.join("in.txt")))
            .expect_err("nothing granted");
        assert_eq!(e.kind, HostErrorKind::CapabilityDenied);
        assert!(e.message.contains("(none granted)"), "{}", e.message);
        assert_eq!(
            scopes
                .grant(Some(&s(&t.scope.join("missing"))))
                .expect_err("missing")
                .kind,
            HostErrorKind::Host
        );
        assert_eq!(
            scopes
                .grant(Some(&s(&t.scope.join("in.txt"))))
                .expect_err("file")
                .kind,
            HostErrorKind::Host
        );
        let cwd = fs::canonicalize(std::env::current_dir().expect("cwd")).expect("canonical cwd");
        assert_eq!(scopes.grant(None).expect("cwd grant"), cwd);
        assert_eq!(scopes.grant(Some(".")).expect("dot grant"), cwd);
        assert_eq!(scopes.dirs(), std::slice::from_ref(&cwd));
        // A relative grant is relative to the current directory.
        let ups = "../".repeat(cwd.components().count() - 1);
        let rel = format!("{ups}{}", s(&t.scope).trim_start_matches('/'));
        assert_eq!(scopes.grant(Some(&rel)).expect("relative grant"), t.scope);
        assert_eq!(scopes.dirs().len(), 2);
        scopes.clear();
        assert!(scopes.is_empty());
    }

    /// host, host:port and bracketed IPv6 scopes parse; malformed ones are refused.
    #[test]
    fn net_scope_parsing() {
        let mut n = NetScopes::new();
        assert!(n.is_empty());
        n.grant(Some("Example.COM")).expect("host");
        n.grant(Some("api.test:8080")).expect("host:port");
        n.grant(Some("[::1]:9000")).expect("v6 port");
        n.grant(Some("[FE80::1]")).expect("v6");
        assert_eq!(
            n.hosts(),
            &[
                ("example.com".to_string(), None),
                ("api.test".to_string(), Some(8080)),
                ("::1".to_string(), Some(9000)),
                ("fe80::1".to_string(), None),
            ]
        );
        assert_eq!(
            n.describe(),
            "example.com, api.test:8080, [::1]:9000, [fe80::1]"
        );
        for bad in [
            "",
            "host:",
            "host:0",
            "host:70000",
            "host:+80",
            "::1",
            "[::1",
            "[::1]x",
            "[]",
            "a/b",
            "u@h",
        ] {
            assert_eq!(
                n.grant(Some(bad)).expect_err(bad).kind,
                HostErrorKind::Host,
                "{bad}"
            );
        }
        n.clear();
        assert!(n.is_empty());
        n.grant(None).expect("any");
        assert!(n.is_any());
    }

    /// URLs match scopes by literal host and effective port; other schemes are `host` errors.
    #[cfg(feature = "net")]
    #[test]
    fn net_scope_matching() {
        let mut n = NetScopes::new();
        let denied = |n: &NetScopes, u: &str| n.allows(u).expect_err(u).kind;
        assert_eq!(
            denied(&n, "http://example.com/"),
            HostErrorKind::CapabilityDenied
        );
        n.grant(Some("example.com")).expect("grant");
        n.grant(Some("api.test:8080")).expect("grant");
        n.grant(Some("secure.test:443")).expect("grant");
        n.grant(Some("[::1]:9000")).expect("grant");
        assert!(n.allows("http://EXAMPLE.com/x").is_ok());
        assert!(n.allows("https://example.com:8443/x").is_ok());
        assert!(n.allows("http://api.test:8080/").is_ok());
        assert!(n.allows("https://secure.test/").is_ok());
        assert!(n.allows("http://[::1]:9000/").is_ok());
        assert!(n.allows("http://user@example.com/").is_ok());
        assert_eq!(
            denied(&n, "http://api.test/"),
            HostErrorKind::CapabilityDenied
        );
        assert_eq!(
            denied(&n, "http://secure.test/"),
            HostErrorKind::CapabilityDenied
        );
        assert_eq!(
            denied(&n, "http://example.com.evil/"),
            HostErrorKind::CapabilityDenied
        );
        assert_eq!(
            denied(&n, "http://example.com@evil.test/"),
            HostErrorKind::CapabilityDenied
        );
        assert_eq!(
            denied(&n, "http://[::1]:9001/"),
            HostErrorKind::CapabilityDenied
        );
        let e = n.allows("http://other.test:81/p").expect_err("other");
        assert!(
            e.message.contains("http://other.test:81/p") && e.message.contains("api.test:8080"),
            "{}",
            e.message
        );
        assert_eq!(denied(&n, "ftp://example.com/"), HostErrorKind::Host);
        assert_eq!(denied(&n, "file:///etc/passwd"), HostErrorKind::Host);
        assert_eq!(denied(&n, "example.com"), HostErrorKind::Host);
        assert_eq!(denied(&n, "http://exa mple.com/"), HostErrorKind::Host);
        let mut any = NetScopes::new();
        any.grant(None).expect("any");
        assert!(any.allows("https://anything.test:1/").is_ok());
        assert_eq!(denied(&any, "gopher://x/"), HostErrorKind::Host);
    }
}

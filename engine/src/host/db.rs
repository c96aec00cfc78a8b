//! SQLite backend of `db:query` / `db_query`: one statement, parameters bound.

use std::ffi::{OsString, c_int};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use cap_std::fs::{Dir, File, Permissions};
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, MAIN_DB, OpenFlags, config::DbConfig};

use super::error::{HostError, HostErrorKind};
use super::fs;
use super::scope::{EntryKind, Located, PersistScopes};

/// A SQL value crossing the FFI: the engine maps Jue values onto these and back.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    /// SQL NULL (Jue `nil`).
    Null,
    /// INTEGER (Jue Int; Bool is bound as 1/0).
    Int(i64),
    /// REAL (Jue Float).
    Real(f64),
    /// TEXT (Jue String).
    Text(String),
    /// BLOB (shown by the engine as a lowercase hex String).
    Blob(Vec<u8>),
}

impl SqlValue {
    /// The SQLite value borrowed from this one, for binding.
    fn as_value_ref(&self) -> ValueRef<'_> {
        match self {
            SqlValue::Null => ValueRef::Null,
            SqlValue::Int(i) => ValueRef::Integer(*i),
            SqlValue::Real(f) => ValueRef::Real(*f),
            SqlValue::Text(s) => ValueRef::Text(s.as_bytes()),
            SqlValue::Blob(b) => ValueRef::Blob(b),
        }
    }
}

/// Lowercase hex of a blob, the way `db:query` shows BLOB columns.
pub fn blob_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// What `db:query` watches while SQLite works: the evaluation's deadline and stop flag.
#[derive(Debug, Clone, Default)]
pub struct Watch {
    /// When the evaluation must stop, if it has a time limit.
    pub deadline: Option<Instant>,
    /// The evaluation's stop flag (see `HostState::stop`): non-zero means stop, 2 = timeout.
    pub stop: Option<Arc<AtomicU8>>,
}

/// How many SQLite virtual-machine instructions run between two looks at the watch
/// (measured: the stop lands 0.04–0.2 ms after the deadline).
const PROGRESS_EVERY: c_int = 1000;

/// The largest database file `db:query` loads (SQLite's own cap on an in-memory database).
const MAX_DB_BYTES: u64 = 1 << 30;

/// What stopped a statement, as the progress handler saw it.
const STOPPED_TIMEOUT: u8 = 1;
const STOPPED_INTERRUPT: u8 = 2;

impl Watch {
    /// Why the evaluation must stop now, if it must.
    fn stopped(&self) -> Option<u8> {
        if let Some(flag) = &self.stop {
            match flag.load(Ordering::Relaxed) {
                0 => {}
                2 => return Some(STOPPED_TIMEOUT),
                _ => return Some(STOPPED_INTERRUPT),
            }
        }
        match self.deadline {
            Some(d) if Instant::now() >= d => Some(STOPPED_TIMEOUT),
            _ => None,
        }
    }
}

/// The error for a statement stopped by the watch.
fn stopped_error(why: u8) -> HostError {
    if why == STOPPED_TIMEOUT {
        HostError::new(
            HostErrorKind::Timeout,
            "db:query stopped: the evaluation's time limit passed",
        )
    } else {
        HostError::new(HostErrorKind::Interrupted, "db:query interrupted")
    }
}

/// Runs exactly one SQL statement on the database file `path` (inside the scopes) with bound `params`.
///
/// The file is read whole through the scope's directory handle into an in-memory
/// database; a statement that may write is followed by an atomic write-back (temporary
/// file + rename beneath the same handle). SQLite itself never opens a file by name.
/// Returns the rows (column values in SELECT order), or `None` for a statement without result columns.
pub fn query(
    scopes: &PersistScopes,
    path: &str,
    sql: &str,
    params: &[SqlValue],
    watch: &Watch,
) -> Result<Option<Vec<Vec<SqlValue>>>, HostError> {
    let at = scopes.locate(path)?;
    // Clear messages for what the authorizer would refuse anyway.
    refuse_statically(sql)?;
    if let Some(why) = watch.stopped() {
        return Err(stopped_error(why));
    }
    let _in_use = InUse::take(&at.resolved, watch)?;
    let mut file = DbFile::load(scopes, path, &at)?;
    let refusal = Arc::new(Mutex::new(None::<String>));
    let stopped = Arc::new(AtomicU8::new(0));
    let mut conn = open(
        path,
        &mut file,
        Arc::clone(&refusal),
        watch,
        Arc::clone(&stopped),
    )?;
    let sql_error = |e: rusqlite::Error| match stopped.load(Ordering::Relaxed) {
        0 => sql_error(sql, &refusal, e),
        why => stopped_error(why),
    };

    let (rows, writes) = {
        let mut stmt = conn.prepare(sql).map_err(sql_error)?;
        let expected = stmt.parameter_count();
        if expected != params.len() {
            return Err(HostError::host(format!(
                "db:query: the SQL has {expected} parameter(s) but {} value(s) were given",
                params.len()
            )));
        }
        for (i, value) in params.iter().enumerate() {
            stmt.raw_bind_parameter(i + 1, ToSqlOutput::Borrowed(value.as_value_ref()))
                .map_err(sql_error)?;
        }
        let writes = !stmt.readonly();
        (run(&mut stmt, &sql_error)?, writes)
    };
    if writes {
        file.save(scopes, path, &mut conn)?;
    }
    Ok(rows)
}

/// The database files a statement is running on in this process. Each
/// statement loads its file, runs and writes it back whole, so two at once on
/// one file (actors' calls run on worker threads) would lose one's write: they
/// take turns, in no particular order; statements on other files run at once.
static IN_USE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
/// Signalled when a file is given back.
static GIVEN_BACK: Condvar = Condvar::new();

/// A database file held by the running statement until it is dropped.
struct InUse(PathBuf);

impl InUse {
    /// Waits for the file (canonical path) to be free, watching the deadline and
    /// the stop flag meanwhile.
    fn take(file: &Path, watch: &Watch) -> Result<InUse, HostError> {
        let mut busy = IN_USE.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if !busy.iter().any(|p| p == file) {
                busy.push(file.to_path_buf());
                return Ok(InUse(file.to_path_buf()));
            }
            if let Some(why) = watch.stopped() {
                return Err(stopped_error(why));
            }
            busy = GIVEN_BACK
                .wait_timeout(busy, Duration::from_millis(10))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

impl Drop for InUse {
    fn drop(&mut self) {
        let mut busy = IN_USE.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(i) = busy.iter().position(|p| *p == self.0) {
            busy.swap_remove(i);
        }
        drop(busy);
        GIVEN_BACK.notify_all();
    }
}

/// Runs a prepared, bound statement and collects its rows (`None` without result columns).
fn run(
    stmt: &mut rusqlite::Statement<'_>,
    sql_error: &dyn Fn(rusqlite::Error) -> HostError,
) -> Result<Option<Vec<Vec<SqlValue>>>, HostError> {
    let columns = stmt.column_count();
    if columns == 0 {
        stmt.raw_execute().map_err(sql_error)?;
        return Ok(None);
    }
    let mut out = Vec::new();
    let mut rows = stmt.raw_query();
    while let Some(row) = rows.next().map_err(sql_error)? {
        let mut values = Vec::with_capacity(columns);
        for i in 0..columns {
            let value = match row.get_ref(i).map_err(sql_error)? {
                ValueRef::Null => SqlValue::Null,
                ValueRef::Integer(n) => SqlValue::Int(n),
                ValueRef::Real(f) => SqlValue::Real(f),
                ValueRef::Text(t) => match std::str::from_utf8(t) {
                    Ok(s) => SqlValue::Text(s.to_string()),
                    Err(_) => {
                        return Err(HostError::host(format!(
                            "db:query: column {} holds TEXT that is not valid UTF-8",
                            i + 1
                        )));
                    }
                },
                ValueRef::Blob(b) => SqlValue::Blob(b.to_vec()),
            };
            values.push(value);
        }
        out.push(values);
    }
    Ok(Some(out))
}

/// A database file reached beneath a scope: its directory, name and open handle.
struct DbFile {
    /// The directory holding the file, opened beneath the scope.
    parent: Dir,
    /// The file's name in `parent`.
    name: OsString,
    /// The open file and its length; `None` for a new or empty database.
    content: Option<(File, usize)>,
    /// The existing file's permissions, kept on write-back; `None` for a new file.
    permissions: Option<Permissions>,
}

impl DbFile {
    /// Opens the located database through the scope handle (regular files only) and
    /// checks that it can be read whole.
    fn load(scopes: &PersistScopes, path: &str, at: &Located<'_>) -> Result<DbFile, HostError> {
        let fail = |e: &std::io::Error| scopes.io_error(path, "open database", e);
        let (parent, name) = fs::open_parent(at, path).map_err(|e| match e {
            fs::ParentError::Io(e) => fail(&e),
            fs::ParentError::Refused(_) => {
                HostError::host(format!("cannot open database {path}: it is a directory"))
            }
        })?;
        if at.kind == EntryKind::Missing {
            return Ok(DbFile {
                parent,
                name,
                content: None,
                permissions: None,
            });
        }
        let mut file = fs::open_regular(scopes, path, at, "open database")?;
        let md = file.metadata().map_err(|e| fail(&e))?;
        if md.len() > MAX_DB_BYTES {
            return Err(HostError::host(format!(
                "cannot open database {path}: {} bytes is more than the {MAX_DB_BYTES} bytes db:query loads",
                md.len()
            )));
        }
        let mut header = Vec::with_capacity(100);
        (&mut file)
            .take(100)
            .read_to_end(&mut header)
            .and_then(|_| file.seek(SeekFrom::Start(0)))
            .map_err(|e| fail(&e))?;
        // Bytes 18 and 19 of the header are 2 in WAL mode: the newest data may be in the
        // `-wal` file, which is never read here.
        if header.len() == 100
            && header.starts_with(b"SQLite format 3\0")
            && (header[18] == 2 || header[19] == 2)
        {
            return Err(HostError::host(format!(
                "cannot open database {path}: it is in WAL journal mode, which db:query does not read"
            )));
        }
        // A journal beside it means another process is inside a transaction, or crashed in one.
        let mut journal = name.clone();
        journal.push("-journal");
        if parent.symlink_metadata(&journal).is_ok_and(|m| m.len() > 0) {
            return Err(HostError::host(format!(
                "cannot open database {path}: it has a pending journal (another process is writing it, or crashed while writing it)"
            )));
        }
        // The bound above makes the length fit.
        let len = usize::try_from(md.len()).unwrap_or(usize::MAX);
        Ok(DbFile {
            parent,
            name,
            content: (len > 0).then_some((file, len)),
            permissions: Some(md.permissions()),
        })
    }

    /// Writes the in-memory database back over the file, atomically, beneath the scope.
    fn save(
        &self,
        scopes: &PersistScopes,
        path: &str,
        conn: &mut Connection,
    ) -> Result<(), HostError> {
        let data = conn
            .serialize(MAIN_DB)
            .map_err(|e| HostError::host(format!("cannot save database {path}: {e}")))?;
        fs::replace_file(&self.parent, &self.name, &data, self.permissions.clone())
            .map_err(|e| scopes.io_error(path, "save database", &e))
    }
}

/// Opens an in-memory connection holding the database's bytes, guarded by the
/// authorizer, keeping temporary data in memory and watching the deadline and stop flag.
fn open(
    path: &str,
    file: &mut DbFile,
    refusal: Arc<Mutex<Option<String>>>,
    watch: &Watch,
    stopped: Arc<AtomicU8>,
) -> Result<Connection, HostError> {
    let seen = Arc::clone(&stopped);
    let setup = |e: rusqlite::Error| match seen.load(Ordering::Relaxed) {
        0 => HostError::host(format!("cannot open database {path}: {e}")),
        why => stopped_error(why),
    };
    let mut conn = Connection::open_in_memory_with_flags(
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(setup)?;
    // Watch from the start: loading and checking a large file is work too.
    let watch = watch.clone();
    conn.progress_handler(
        PROGRESS_EVERY,
        Some(move || match watch.stopped() {
            Some(why) => {
                stopped.store(why, Ordering::Relaxed);
                true
            }
            None => false,
        }),
    )
    .map_err(setup)?;
    // Read straight from the handle into SQLite's buffer (one copy of the file in
    // memory). sqlite3_malloc64(0) is NULL: an empty file stays a new database.
    if let Some((handle, len)) = file.content.take() {
        let read_only = file.permissions.as_ref().is_some_and(|p| p.readonly());
        conn.deserialize_read_exact(MAIN_DB, handle, len, read_only)
            .map_err(setup)?;
        // A file that is not a database fails here rather than at the statement.
        conn.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))
            .map_err(setup)?;
    }
    // Sorts, temporary tables and indexes stay in memory: no file outside the scope.
    conn.pragma_update(None, "temp_store", "MEMORY")
        .map_err(setup)?;
    // Defensive mode stops SQL from corrupting the file (writable_schema and friends).
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)
        .map_err(setup)?;
    conn.authorizer(Some(move |ctx: AuthContext<'_>| {
        authorize(&ctx.action, &refusal)
    }))
    .map_err(setup)?;
    Ok(conn)
}

/// The authorizer: refuses ATTACH, extension loading and pragmas that name directories.
fn authorize(action: &AuthAction<'_>, refusal: &Mutex<Option<String>>) -> Authorization {
    let reason = match action {
        // A plain VACUUM attaches a temporary database named ''; that one is harmless.
        AuthAction::Attach { filename: "" } => None,
        AuthAction::Attach { filename } => {
            Some(format!("ATTACH is refused (database {filename:?})"))
        }
        // ATTACH with a computed file name reaches the authorizer without a name.
        AuthAction::Unknown { code, .. } if *code == rusqlite::ffi::SQLITE_ATTACH => {
            Some("ATTACH is refused".to_string())
        }
        AuthAction::Function { function_name }
            if function_name.eq_ignore_ascii_case("load_extension") =>
        {
            Some("extension loading is refused".to_string())
        }
        AuthAction::Pragma { pragma_name, .. }
            if pragma_name.eq_ignore_ascii_case("temp_store_directory")
                || pragma_name.eq_ignore_ascii_case("data_store_directory") =>
        {
            Some(format!("PRAGMA {pragma_name} is refused"))
        }
        // Temporary data stays in memory: setting temp_store back to files is refused.
        AuthAction::Pragma {
            pragma_name,
            pragma_value: Some(_),
        } if pragma_name.eq_ignore_ascii_case("temp_store") => {
            Some("PRAGMA temp_store cannot be changed (temporary data stays in memory)".to_string())
        }
        _ => None,
    };
    match reason {
        None => Authorization::Allow,
        Some(r) => {
            *refusal.lock().unwrap_or_else(PoisonError::into_inner) = Some(r);
            Authorization::Deny
        }
    }
}

/// Maps a SQLite error to a host error, preferring the clearer reasons we know about.
fn sql_error(sql: &str, refusal: &Mutex<Option<String>>, e: rusqlite::Error) -> HostError {
    let statements = count_statements(sql);
    if matches!(e, rusqlite::Error::MultipleStatement) || statements > 1 {
        return HostError::host(format!(
            "db:query runs exactly one statement per call; found {}",
            statements.max(2)
        ));
    }
    if let Some(reason) = refusal
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
    {
        return HostError::host(format!("db:query: {reason}"));
    }
    match e {
        rusqlite::Error::Empty => HostError::host("db:query: no SQL statement given"),
        other => HostError::host(format!("db:query: {other}")),
    }
}

/// Refuses ATTACH and VACUUM INTO by the statement's leading keyword, ignoring comments and case.
fn refuse_statically(sql: &str) -> Result<(), HostError> {
    let tokens = tokenize(sql);
    let words = |from: usize| {
        tokens[from..]
            .iter()
            .take_while(|t| **t != Token::Semicolon)
            .filter_map(|t| match t {
                Token::Word(w) => Some(w.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    let first = words(0);
    match first.first().copied() {
        Some("ATTACH") => Err(HostError::host("db:query: ATTACH is refused")),
        Some("VACUUM") if first.contains(&"INTO") => {
            Err(HostError::host("db:query: VACUUM INTO is refused"))
        }
        _ => Ok(()),
    }
}

/// A lexical token, enough to find statement boundaries and keywords.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A bare word (keyword or identifier), uppercased.
    Word(String),
    /// A `;`.
    Semicolon,
    /// Anything else: literals, quoted identifiers, operators.
    Other,
}

/// Splits SQL into tokens, skipping whitespace and comments like SQLite's tokenizer.
fn tokenize(sql: &str) -> Vec<Token> {
    let chars: Vec<char> = sql.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    // Skips to just after the closing `close` of a quoted token, honouring doubled quotes.
    let skip_quoted = |mut i: usize, close: char, doubled: bool| {
        while i < chars.len() {
            if chars[i] == close {
                if doubled && chars.get(i + 1) == Some(&close) {
                    i += 2;
                    continue;
                }
                return i + 1;
            }
            i += 1;
        }
        i
    };
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && chars.get(i + 1) == Some(&'-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i = (i + 2).min(chars.len());
        } else if c == ';' {
            tokens.push(Token::Semicolon);
            i += 1;
        } else if c == '\'' || c == '"' || c == '`' {
            i = skip_quoted(i + 1, c, true);
            tokens.push(Token::Other);
        } else if c == '[' {
            i = skip_quoted(i + 1, ']', false);
            tokens.push(Token::Other);
        } else if c.is_alphabetic() || c == '_' || !c.is_ascii() {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric()
                    || chars[i] == '_'
                    || chars[i] == '$'
                    || !chars[i].is_ascii())
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            tokens.push(Token::Word(word.to_ascii_uppercase()));
        } else {
            tokens.push(Token::Other);
            i += 1;
        }
    }
    tokens
}

/// Counts the non-empty statements in `sql` (a trigger's BEGIN ... END body counts as part of one).
fn count_statements(sql: &str) -> usize {
    let tokens = tokenize(sql);
    let mut count = 0;
    let mut current: Vec<&Token> = Vec::new();
    let mut in_body = false;
    for (i, t) in tokens.iter().enumerate() {
        match t {
            Token::Semicolon if !in_body => {
                if !current.is_empty() {
                    count += 1;
                }
                current.clear();
            }
            _ => {
                if let Token::Word(w) = t {
                    if w == "BEGIN" && is_create_trigger(&current) {
                        in_body = true;
                    } else if w == "END"
                        && in_body
                        && matches!(tokens.get(i + 1), None | Some(Token::Semicolon))
                    {
                        in_body = false;
                    }
                }
                if *t != Token::Semicolon {
                    current.push(t);
                }
            }
        }
    }
    if !current.is_empty() {
        count += 1;
    }
    count
}

/// True when the tokens so far start `CREATE [TEMP|TEMPORARY] TRIGGER`.
fn is_create_trigger(tokens: &[&Token]) -> bool {
    let words: Vec<&str> = tokens
        .iter()
        .take(3)
        .filter_map(|t| match t {
            Token::Word(w) => Some(w.as_str()),
            _ => None,
        })
        .collect();
    matches!(
        words.as_slice(),
        ["CREATE", "TRIGGER", ..] | ["CREATE", "TEMP" | "TEMPORARY", "TRIGGER"]
    )
}

#[cfg(test)]
mod tests {
    use super::super::error::HostErrorKind;
    use super::*;
    use std::fs;
    use std::path::{Path, PathBuf};

    /// A granted `scope` directory beside an ungranted `outside` one, in a fresh temp dir.
    fn setup() -> (tempfile::TempDir, PathBuf, PersistScopes, String) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = fs::canonicalize(tmp.path()).expect("canonical");
        let scope = root.join("scope");
        fs::create_dir(&scope).expect("mkdir");
        fs::create_dir(root.join("outside")).expect("mkdir outside");
        let mut scopes = PersistScopes::new();
        scopes
            .grant(Some(scope.to_str().expect("utf8")))
            .expect("grant");
        let db = scope.join("test.db").to_str().expect("utf8").to_string();
        (tmp, root, scopes, db)
    }

    /// `query` without a deadline or stop flag.
    fn query(
        scopes: &PersistScopes,
        path: &str,
        sql: &str,
        params: &[SqlValue],
    ) -> Result<Option<Vec<Vec<SqlValue>>>, HostError> {
        super::query(scopes, path, sql, params, &Watch::default())
    }

    /// Asserts a `host` error and returns its message.
    fn host_err(r: Result<Option<Vec<Vec<SqlValue>>>, HostError>) -> String {
        let e = r.expect_err("expected a host error");
        assert_eq!(e.kind, HostErrorKind::Host, "{}", e.message);
        e.message
    }

    /// Round trip of every column type, with None for statements without result columns.
    #[test]
    fn create_insert_select_all_types() {
        let (_t, _root, s, db) = setup();
        assert!(!Path::new(&db).exists());
        let r = query(
            &s,
            &db,
            "CREATE TABLE t(i INTEGER, r REAL, s TEXT, n, b BLOB)",
            &[],
        )
        .expect("create");
        assert_eq!(r, None);
        assert!(
            Path::new(&db).exists(),
            "a missing database file is created"
        );
        let r = query(
            &s,
            &db,
            "INSERT INTO t VALUES (?, ?, ?, ?, ?)",
            &[
                SqlValue::Int(-7),
                SqlValue::Real(2.5),
                SqlValue::Text("héllo".into()),
                SqlValue::Null,
                SqlValue::Blob(vec![0xde, 0xad, 0x00, 0x0f]),
            ],
        )
        .expect("insert");
        assert_eq!(r, None);
        query(
            &s,
            &db,
            "INSERT INTO t(i, s) VALUES (?1, ?2)",
            &[SqlValue::Int(1), SqlValue::Int(1)],
        )
        .expect("insert 2");
        let rows = query(&s, &db, "SELECT b, n, s, r, i FROM t ORDER BY i", &[])
            .expect("select")
            .expect("rows");
        assert_eq!(
            rows,
            vec![
                vec![
                    SqlValue::Blob(vec![0xde, 0xad, 0x00, 0x0f]),
                    SqlValue::Null,
                    SqlValue::Text("héllo".into()),
                    SqlValue::Real(2.5),
                    SqlValue::Int(-7),
                ],
                vec![
                    SqlValue::Null,
                    SqlValue::Null,
                    SqlValue::Text("1".into()),
                    SqlValue::Null,
                    SqlValue::Int(1)
                ],
            ]
        );
        assert_eq!(blob_hex(&[0xde, 0xad, 0x00, 0x0f]), "dead000f");
        // A query with result columns but no rows is an empty list, not None.
        let rows = query(
            &s,
            &db,
            "SELECT i FROM t WHERE i > ?",
            &[SqlValue::Int(100)],
        )
        .expect("select");
        assert_eq!(rows, Some(vec![]));
        // RETURNING has result columns.
        let rows =
            query(&s, &db, "INSERT INTO t(i) VALUES (42) RETURNING i", &[]).expect("returning");
        assert_eq!(rows, Some(vec![vec![SqlValue::Int(42)]]));
        // Plain VACUUM still works under the authorizer.
        assert_eq!(query(&s, &db, "VACUUM", &[]).expect("vacuum"), None);
        // A trailing semicolon and comments are one statement.
        let rows = query(&s, &db, "SELECT count(*) FROM t; -- done\n /* end */", &[])
            .expect("tail comment");
        assert_eq!(rows, Some(vec![vec![SqlValue::Int(3)]]));
    }

    /// SQL text passed as a parameter is stored as data, never run.
    #[test]
    fn injection_through_a_parameter_stays_data() {
        let (_t, _root, s, db) = setup();
        query(&s, &db, "CREATE TABLE users(name TEXT)", &[]).expect("create");
        let evil = "x'); DROP TABLE users; --";
        query(
            &s,
            &db,
            "INSERT INTO users VALUES (?)",
            &[SqlValue::Text(evil.into())],
        )
        .expect("insert");
        let rows = query(
            &s,
            &db,
            "SELECT name FROM users WHERE name = ?",
            &[SqlValue::Text(evil.into())],
        )
        .expect("select")
        .expect("rows");
        assert_eq!(rows, vec![vec![SqlValue::Text(evil.into())]]);
        let rows = query(&s, &db, "SELECT count(*) FROM users", &[]).expect("count");
        assert_eq!(rows, Some(vec![vec![SqlValue::Int(1)]]));
    }

    /// ATTACH, VACUUM INTO and load_extension fail with `host`, however spelled.
    #[test]
    fn attach_vacuum_into_and_extensions_are_refused() {
        let (_t, root, s, db) = setup();
        query(&s, &db, "CREATE TABLE t(x)", &[]).expect("create");
        let outside = root.join("outside/copy.db");
        let out = outside.to_str().expect("utf8");
        let m = host_err(query(&s, &db, &format!("ATTACH '{out}' AS o"), &[]));
        assert!(m.contains("ATTACH"), "{m}");
        let m = host_err(query(
            &s,
            &db,
            &format!("/* hi */ attach\n database '{out}' as o"),
            &[],
        ));
        assert!(m.contains("ATTACH"), "{m}");
        let m = host_err(query(
            &s,
            &db,
            "ATTACH ? AS o",
            &[SqlValue::Text(out.into())],
        ));
        assert!(m.contains("ATTACH"), "{m}");
        let m = host_err(query(&s, &db, &format!("VACUUM INTO '{out}'"), &[]));
        assert!(m.contains("VACUUM INTO"), "{m}");
        let m = host_err(query(
            &s,
            &db,
            &format!("vacuum -- c\n main /* x */ into '{out}'"),
            &[],
        ));
        assert!(m.contains("VACUUM INTO"), "{m}");
        let m = host_err(query(&s, &db, "SELECT load_extension('/tmp/evil.so')", &[]));
        assert!(m.contains("extension loading"), "{m}");
        let m = host_err(query(
            &s,
            &db,
            "SELECT LOAD_EXTENSION(?)",
            &[SqlValue::Text("/tmp/evil".into())],
        ));
        assert!(m.contains("extension loading"), "{m}");
        assert!(!outside.exists(), "nothing was written outside the scope");
    }

    /// The authorizer refuses ATTACH and VACUUM INTO even without the static check.
    #[test]
    fn authorizer_alone_refuses_attach_and_vacuum_into() {
        // Bypass the static check: the authorizer must hold on its own.
        let (_t, root, s, db) = setup();
        let at = s.locate(&db).expect("inside");
        let mut file = DbFile::load(&s, &db, &at).expect("load");
        let refusal = Arc::new(Mutex::new(None));
        let stopped = Arc::new(AtomicU8::new(0));
        let conn = open(
            &db,
            &mut file,
            Arc::clone(&refusal),
            &Watch::default(),
            stopped,
        )
        .expect("open");
        conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
            .expect("setup");
        let outside = root.join("outside/copy.db");
        let out = outside.to_str().expect("utf8");
        assert!(conn.execute_batch(&format!("VACUUM INTO '{out}'")).is_err());
        assert!(conn.execute_batch(&format!("ATTACH '{out}' AS o")).is_err());
        assert!(
            conn.execute_batch(&format!("ATTACH '{}' || '' AS o", out))
                .is_err()
        );
        assert!(conn.execute_batch("VACUUM").is_ok());
        assert!(!outside.exists());
    }

    /// Two statements are refused and nothing runs; a trigger body is one statement.
    #[test]
    fn one_statement_per_call() {
        let (_t, _root, s, db) = setup();
        let m = host_err(query(&s, &db, "CREATE TABLE a(x); CREATE TABLE b(x)", &[]));
        assert!(m.contains("exactly one statement"), "{m}");
        // The second statement depends on the first: still reported as two statements.
        let m = host_err(query(
            &s,
            &db,
            "CREATE TABLE c(x); INSERT INTO c VALUES (1)",
            &[],
        ));
        assert!(m.contains("exactly one statement"), "{m}");
        // Nothing ran.
        let rows = query(&s, &db, "SELECT count(*) FROM sqlite_master", &[]).expect("count");
        assert_eq!(rows, Some(vec![vec![SqlValue::Int(0)]]));
        let m = host_err(query(&s, &db, "   -- only a comment", &[]));
        assert!(m.contains("no SQL statement"), "{m}");
        // A trigger body holds semicolons but is one statement.
        query(&s, &db, "CREATE TABLE t(x)", &[]).expect("t");
        query(&s, &db, "CREATE TABLE log(x)", &[]).expect("log");
        query(
            &s,
            &db,
            "CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES (new.x); INSERT INTO log VALUES (0); END;",
            &[],
        )
        .expect("trigger");
        query(&s, &db, "INSERT INTO t VALUES (5)", &[]).expect("fire");
        let rows = query(&s, &db, "SELECT x FROM log ORDER BY x", &[]).expect("log");
        assert_eq!(
            rows,
            Some(vec![vec![SqlValue::Int(0)], vec![SqlValue::Int(5)]])
        );
    }

    /// Wrong parameter counts and bad SQL are `host` errors.
    #[test]
    fn parameter_count_and_sql_errors() {
        let (_t, _root, s, db) = setup();
        let m = host_err(query(&s, &db, "SELECT ?, ?", &[SqlValue::Int(1)]));
        assert!(m.contains("2 parameter") && m.contains("1 value"), "{m}");
        let m = host_err(query(&s, &db, "SELECT 1", &[SqlValue::Int(1)]));
        assert!(m.contains("0 parameter"), "{m}");
        let m = host_err(query(&s, &db, "SELECT * FROM nope", &[]));
        assert!(m.contains("no such table"), "{m}");
        host_err(query(&s, &db, "SELEC 1", &[]));
    }

    /// Database paths go through the scope check and are never URIs.
    #[test]
    fn paths_are_scoped_and_never_uris() {
        let (_t, root, s, _db) = setup();
        let outside = root
            .join("outside/x.db")
            .to_str()
            .expect("utf8")
            .to_string();
        let e = query(&s, &outside, "SELECT 1", &[]).expect_err("outside");
        assert_eq!(e.kind, HostErrorKind::CapabilityDenied);
        assert!(!Path::new(&outside).exists());
        let scope = &s.dirs()[0];
        let esc = format!("{}/../outside/y.db", scope.display());
        assert_eq!(
            query(&s, &esc, "SELECT 1", &[]).expect_err("escape").kind,
            HostErrorKind::CapabilityDenied
        );
        // A URI is taken as a (relative) file name and checked like one: here it is outside.
        let uri = format!("file:{outside}?mode=rwc");
        assert_eq!(
            query(&s, &uri, "SELECT 1", &[]).expect_err("uri").kind,
            HostErrorKind::CapabilityDenied
        );
        // A file name that looks like a URI inside the scope is just a file.
        let odd = scope.join("file:odd.db");
        query(&s, odd.to_str().expect("utf8"), "CREATE TABLE t(x)", &[]).expect("odd name");
        assert!(odd.exists());
        // A missing directory is never created.
        let nodir = scope.join("nodir/x.db");
        assert_eq!(
            query(&s, nodir.to_str().expect("utf8"), "SELECT 1", &[])
                .expect_err("nodir")
                .kind,
            HostErrorKind::Host
        );
    }

    /// The statement counter ignores semicolons in literals, comments and trigger bodies.
    #[test]
    fn statement_counting() {
        assert_eq!(count_statements("SELECT 1"), 1);
        assert_eq!(count_statements("SELECT ';'; -- ;\n"), 1);
        assert_eq!(count_statements("SELECT 1; SELECT 2"), 2);
        assert_eq!(count_statements("SELECT \"a;b\" /* ; */ ;;"), 1);
        assert_eq!(count_statements(""), 0);
        assert_eq!(
            count_statements(
                "create temp trigger x after insert on t begin select 1; select 2; end; select 3"
            ),
            2
        );
    }
}

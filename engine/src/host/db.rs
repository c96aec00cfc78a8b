//! SQLite backend of `db:query` / `db_query`: one statement, parameters bound.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, config::DbConfig};

use super::error::HostError;
use super::scope::PersistScopes;

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

/// Runs exactly one SQL statement on the database file `path` (inside the scopes) with bound `params`.
///
/// Returns the rows (column values in SELECT order), or `None` for a statement without result columns.
pub fn query(
    scopes: &PersistScopes,
    path: &str,
    sql: &str,
    params: &[SqlValue],
) -> Result<Option<Vec<Vec<SqlValue>>>, HostError> {
    let resolved = scopes.check(path)?;
    // Clear messages for what the authorizer would refuse anyway.
    refuse_statically(sql)?;
    let refusal = Arc::new(Mutex::new(None::<String>));
    let conn = open(path, &resolved, Arc::clone(&refusal))?;
    let sql_error = |e: rusqlite::Error| sql_error(sql, &refusal, e);

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

/// Opens the (already checked) database file as a plain file name, guarded by the authorizer.
fn open(
    path: &str,
    resolved: &Path,
    refusal: Arc<Mutex<Option<String>>>,
) -> Result<Connection, HostError> {
    // No SQLITE_OPEN_URI: the name is a file name. The resolved path is absolute, so
    // it never starts with `file:` even though the bundled build enables URIs globally.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(resolved, flags)
        .map_err(|e| HostError::host(format!("cannot open database {path}: {e}")))?;
    let setup = |e: rusqlite::Error| HostError::host(format!("cannot set up database {path}: {e}"));
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
    use std::path::PathBuf;

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
        let resolved = s.check(&db).expect("inside");
        let refusal = Arc::new(Mutex::new(None));
        let conn = open(&db, &resolved, Arc::clone(&refusal)).expect("open");
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

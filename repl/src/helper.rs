//! The rustyline helper: completion, signature hints, highlighting and
//! multi-line validation, all from the engine's lexer and tables.

use crate::names::Names;
use crate::table::{COMMANDS, TOPICS};
use jue_engine::analysis::SPECIAL_FORMS;
use jue_engine::syntax::lexer::{TokenKind, is_incomplete, lex};
use jue_engine::{Capability, TrustTier, builtins};
use nu_ansi_term::{Color, Style};
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::{Hint, Hinter};
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Cmd, ConditionalEventHandler, Context, Event, EventContext, Helper, RepeatCount};
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// Lines longer than this are neither highlighted nor hinted: every key redraws
/// the whole line, and a 6,000-character paste must stay fast to edit.
pub const HIGHLIGHT_LIMIT: usize = 2_000;

/// The REPL's rustyline helper.
pub struct JueHelper {
    names: Rc<RefCell<Names>>,
    color: bool,
    show_match: Cell<bool>,
    files: FilenameCompleter,
}

impl JueHelper {
    /// A helper reading `names`; highlighting only with `color`.
    pub fn new(names: Rc<RefCell<Names>>, color: bool) -> JueHelper {
        JueHelper {
            names,
            color,
            show_match: Cell::new(true),
            files: FilenameCompleter::new(),
        }
    }
}

impl Helper for JueHelper {}

fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '\'' | '"' | ';')
}

/// Start of the word ending at `pos`.
fn word_start(line: &str, pos: usize) -> usize {
    line[..pos]
        .char_indices()
        .rev()
        .find(|(_, c)| is_delimiter(*c))
        .map_or(0, |(i, c)| i + c.len_utf8())
}

/// The head symbol of the innermost list still open at `pos`, if any.
pub fn enclosing_head(line: &str, pos: usize) -> Option<String> {
    let lexed = lex(&line[..pos]);
    let mut stack: Vec<usize> = Vec::new();
    for (i, t) in lexed.tokens.iter().enumerate() {
        if t.kind.is_open() {
            stack.push(i);
        } else if t.kind.is_close() {
            stack.pop();
        }
    }
    let open = *stack.last()?;
    let head = lexed.tokens.get(open + 1)?;
    (head.kind == TokenKind::Symbol)
        .then(|| line[head.span.start as usize..head.span.end as usize].to_string())
}

impl Completer for JueHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let start = word_start(line, pos);
        let word = &line[start..pos];
        let pairs = |it: &mut dyn Iterator<Item = String>| -> Vec<Pair> {
            let mut v: Vec<String> = it.filter(|c| c.starts_with(word)).collect();
            v.sort();
            v.dedup();
            v.into_iter()
                .map(|c| Pair {
                    display: c.clone(),
                    replacement: c,
                })
                .collect()
        };
        // Names of Jue code are listed with their signatures (`map (Procedure
        // List) → List`), as the hint shows them; the replacement is the name.
        let with_signatures = |mut v: Vec<Pair>| -> Vec<Pair> {
            let names = self.names.borrow();
            for p in &mut v {
                if let Some(sig) = names.signature(&p.replacement) {
                    p.display = sig;
                }
            }
            v
        };
        let trimmed = line.trim_start();
        if trimmed.starts_with(':') {
            let lead = line.len() - trimmed.len();
            let mut parts = line[lead..pos].split_whitespace();
            let cmd = parts.next().unwrap_or("");
            if start == lead {
                let mut v = pairs(&mut COMMANDS.iter().map(|c| c.name.to_string()));
                for p in &mut v {
                    if let Some(c) = crate::table::find(&p.replacement) {
                        p.display = format!("{} {}", c.name, c.args).trim_end().to_string();
                    }
                    p.replacement.push(' ');
                }
                return Ok((start, v));
            }
            let candidates: Vec<String> = match cmd {
                ":grant" | ":revoke" => Capability::ALL
                    .iter()
                    .map(|c| c.name().to_string())
                    .collect(),
                ":help" => COMMANDS
                    .iter()
                    .map(|c| c.name.to_string())
                    .chain(COMMANDS.iter().map(|c| c.name[1..].to_string()))
                    .chain(TOPICS.iter().map(|(t, _)| t.to_string()))
                    .collect(),
                ":tier" => TrustTier::ALL
                    .iter()
                    .map(|t| t.name().to_string())
                    .collect(),
                ":limits" => ["steps", "memory", "time", "depth"]
                    .map(String::from)
                    .to_vec(),
                ":set" => ["print-length", "print-depth", "print-chars"]
                    .map(String::from)
                    .to_vec(),
                ":load" | ":reload" => jue_paths(word),
                ":save" => return self.files.complete(line, pos, ctx),
                ":doc" | ":type" | ":registry" => self.all_names(),
                ":edit" => self.names.borrow().user.keys().cloned().collect(),
                _ => Vec::new(),
            };
            return Ok((start, pairs(&mut candidates.into_iter())));
        }
        // Inside the path string of an `import`: `.jue` files and directories.
        if line[..pos].matches('"').count() % 2 == 1
            && enclosing_head(line, pos).as_deref() == Some("import")
        {
            return Ok((start, pairs(&mut jue_paths(word).into_iter())));
        }
        if matches!(
            enclosing_head(line, pos).as_deref(),
            Some("require-capability" | "has-capability?")
        ) {
            let caps = Capability::ALL.iter().map(|c| c.name().to_string());
            return Ok((start, pairs(&mut caps.into_iter())));
        }
        let candidates = self.all_names();
        Ok((start, with_signatures(pairs(&mut candidates.into_iter()))))
    }
}

/// Completions of a partly typed path relative to the current directory: `.jue`
/// files and directories (with `/`), hidden ones only when a `.` is typed; at
/// most 1,000 entries are read.
pub fn jue_paths(typed: &str) -> Vec<String> {
    let (dir, base) = match typed.rfind('/') {
        Some(i) => (&typed[..=i], &typed[i + 1..]),
        None => ("", typed),
    };
    let Ok(entries) = std::fs::read_dir(if dir.is_empty() { "." } else { dir }) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries.flatten().take(1_000) {
        let Ok(name) = e.file_name().into_string() else {
            continue;
        };
        if !name.starts_with(base) || (name.starts_with('.') && !base.starts_with('.')) {
            continue;
        }
        // Follows symlinks, so a linked directory completes as one.
        match std::fs::metadata(e.path()) {
            Ok(m) if m.is_dir() => out.push(format!("{dir}{name}/")),
            Ok(m) if m.is_file() && name.ends_with(".jue") => out.push(format!("{dir}{name}")),
            _ => {}
        }
    }
    out
}

impl JueHelper {
    fn all_names(&self) -> Vec<String> {
        let names = self.names.borrow();
        SPECIAL_FORMS
            .iter()
            .map(|s| s.to_string())
            .chain(builtins::names().map(str::to_string))
            .chain(names.ffi.keys().cloned())
            .chain(names.user.keys().cloned())
            .collect()
    }
}

/// Enter at the end of an input that is still open inserts a newline indented
/// two columns past the innermost open bracket (none inside an open string), so
/// a multi-line definition lines up as it is typed.
pub struct AutoIndent;

impl ConditionalEventHandler for AutoIndent {
    fn handle(
        &self,
        _evt: &Event,
        _n: RepeatCount,
        _positive: bool,
        ctx: &EventContext,
    ) -> Option<Cmd> {
        let line = ctx.line();
        if ctx.pos() < line.len()
            || line.len() > HIGHLIGHT_LIMIT
            || line.trim_start().starts_with(':')
            || !is_incomplete(line)
        {
            return None; // the default: accept, or a plain newline
        }
        Some(Cmd::Insert(
            1,
            format!("\n{}", " ".repeat(indent_for(line))),
        ))
    }
}

/// The indentation of the next line of an open input: the column of the
/// innermost open bracket plus two; zero inside an open string.
pub fn indent_for(text: &str) -> usize {
    let mut open: Vec<usize> = Vec::new();
    let mut column = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut in_comment = false;
    for c in text.chars() {
        if c == '\n' {
            column = 0;
            in_comment = false;
            escaped = false;
            continue;
        }
        if in_comment {
        } else if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else {
            match c {
                '"' => in_string = true,
                ';' => in_comment = true,
                '(' | '[' => open.push(column),
                ')' | ']' => {
                    open.pop();
                }
                _ => {}
            }
        }
        column += 1;
    }
    if in_string {
        return 0;
    }
    open.last().map_or(0, |c| c + 2)
}

/// A hint that shows a signature and inserts nothing when accepted.
pub struct SigHint(String);

impl Hint for SigHint {
    fn display(&self) -> &str {
        &self.0
    }
    fn completion(&self) -> Option<&str> {
        None
    }
}

impl Hinter for JueHelper {
    type Hint = SigHint;

    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<SigHint> {
        if pos < line.len() || line.len() > HIGHLIGHT_LIMIT || line.trim_start().starts_with(':') {
            return None;
        }
        let head = enclosing_head(line, pos)?;
        // Only once the head is written out (followed by a space or an argument).
        let after_head = line[..pos].rfind(head.as_str())? + head.len();
        if after_head == pos {
            return None;
        }
        let sig = self.names.borrow().signature(&head)?;
        Some(SigHint(format!("  ; {sig}")))
    }
}

impl Validator for JueHelper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        let input = ctx.input();
        if input.trim_start().starts_with(':') || !is_incomplete(input) {
            Ok(ValidationResult::Valid(None))
        } else {
            Ok(ValidationResult::Incomplete)
        }
    }
}

/// The bracket pair to emphasise: the bracket at or just before the cursor and its match.
fn matching_pair(line: &str, pos: usize) -> Option<(usize, usize)> {
    let lexed = lex(line);
    let brackets: Vec<(usize, bool)> = lexed
        .tokens
        .iter()
        .filter(|t| t.kind.is_open() || t.kind.is_close())
        .map(|t| (t.span.start as usize, t.kind.is_open()))
        .collect();
    let at = brackets
        .iter()
        .position(|(s, _)| *s == pos)
        .or_else(|| brackets.iter().position(|(s, _)| *s + 1 == pos))?;
    let (s, open) = brackets[at];
    let mut depth = 0i32;
    if open {
        for &(t, o) in &brackets[at..] {
            depth += if o { 1 } else { -1 };
            if depth == 0 {
                return Some((s, t));
            }
        }
    } else {
        for &(t, o) in brackets[..=at].iter().rev() {
            depth += if o { -1 } else { 1 };
            if depth == 0 {
                return Some((t, s));
            }
        }
    }
    None
}

impl Highlighter for JueHelper {
    fn highlight<'l>(&self, line: &'l str, pos: usize) -> Cow<'l, str> {
        if !self.color || line.is_empty() || line.len() > HIGHLIGHT_LIMIT {
            return Cow::Borrowed(line);
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with(':') {
            let lead = line.len() - trimmed.len();
            let end = trimmed
                .find(char::is_whitespace)
                .map_or(line.len(), |i| lead + i);
            return Cow::Owned(format!(
                "{}{}{}",
                &line[..lead],
                Style::new().bold().paint(&line[lead..end]),
                &line[end..]
            ));
        }
        let pair = if self.show_match.get() {
            matching_pair(line, pos)
        } else {
            None
        };
        let names = self.names.borrow();
        let lexed = lex(line);
        let mut out = String::with_capacity(line.len() * 2);
        let mut at = 0usize;
        for t in &lexed.tokens {
            let (s, e) = (t.span.start as usize, t.span.end as usize);
            if s < at || e > line.len() {
                continue;
            }
            out.push_str(&line[at..s]);
            let text = &line[s..e];
            let style = match &t.kind {
                TokenKind::LParen
                | TokenKind::LBracket
                | TokenKind::LBrace
                | TokenKind::HashParen
                | TokenKind::RParen
                | TokenKind::RBracket
                | TokenKind::RBrace => {
                    if pair.is_some_and(|(a, b)| a == s || b == s) {
                        Some(Style::new().bold().underline().fg(Color::LightYellow))
                    } else {
                        None
                    }
                }
                TokenKind::Symbol => {
                    if SPECIAL_FORMS.contains(&text) {
                        Some(Color::Magenta.bold())
                    } else if names.ffi.contains_key(text) {
                        Some(Style::new().fg(Color::Cyan))
                    } else if Capability::from_name(text).is_some() {
                        Some(Style::new().fg(Color::Yellow))
                    } else if text.starts_with(':') {
                        Some(Style::new().fg(Color::LightBlue))
                    } else if builtins::find(text, false).is_some() {
                        Some(Style::new().fg(Color::Blue))
                    } else {
                        None
                    }
                }
                TokenKind::Int(_)
                | TokenKind::Float(_)
                | TokenKind::Str(_)
                | TokenKind::Bool(_)
                | TokenKind::Nil => Some(Style::new().fg(Color::Green)),
                TokenKind::Comment => Some(Style::new().fg(Color::DarkGray).italic()),
                TokenKind::Annotation => Some(Color::Yellow.bold()),
                TokenKind::Error => Some(Style::new().fg(Color::Red)),
                TokenKind::Quote | TokenKind::Dot => None,
            };
            match style {
                Some(st) => out.push_str(&st.paint(text).to_string()),
                None => out.push_str(text),
            }
            at = e;
        }
        out.push_str(&line[at..]);
        Cow::Owned(out)
    }

    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(
        &'s self,
        prompt: &'p str,
        _default: bool,
    ) -> Cow<'b, str> {
        if self.color && prompt == "jue> " {
            Cow::Owned(Color::Green.bold().paint(prompt).to_string())
        } else {
            Cow::Borrowed(prompt)
        }
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        if self.color {
            Cow::Owned(Style::new().dimmed().paint(hint).to_string())
        } else {
            Cow::Borrowed(hint)
        }
    }

    fn highlight_char(&self, line: &str, _pos: usize, kind: CmdKind) -> bool {
        self.show_match.set(kind != CmdKind::ForcedRefresh);
        self.color && line.len() <= HIGHLIGHT_LIMIT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jue_paths_lists_jue_files_and_directories() {
        let d = std::env::temp_dir().join(format!("jue-paths-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("lib")).unwrap();
        std::fs::create_dir_all(d.join(".hidden")).unwrap();
        for f in ["a.jue", "ab.jue", "a.txt"] {
            std::fs::write(d.join(f), "").unwrap();
        }
        let typed = format!("{}/a", d.display());
        let mut got = jue_paths(&typed);
        got.sort();
        assert_eq!(got, [format!("{typed}.jue"), format!("{typed}b.jue")]);
        let mut got = jue_paths(&format!("{}/", d.display()));
        got.sort();
        let names: Vec<&str> = got
            .iter()
            .map(|p| p.rsplit_once('/').map_or("", |x| x.1))
            .collect();
        // `lib/` ends in `/`: the last component is empty; hidden entries are left out.
        assert_eq!(names, ["a.jue", "ab.jue", ""], "{got:?}");
        assert!(got.iter().any(|p| p.ends_with("/lib/")));
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn heads_and_pairs() {
        assert_eq!(
            enclosing_head("(math:add 1 ", 12).as_deref(),
            Some("math:add")
        );
        assert_eq!(enclosing_head("(f (g 1) ", 9).as_deref(), Some("f"));
        assert_eq!(matching_pair("(a (b))", 7), Some((0, 6)));
        assert_eq!(matching_pair("(a (b))", 3), Some((3, 5)));
        assert_eq!(word_start("(math:ad", 8), 1);
    }

    #[test]
    fn indentation_follows_the_innermost_open_bracket() {
        assert_eq!(indent_for("(define (f x)"), 2);
        assert_eq!(indent_for("(define (f x)\n  (let ((a 1))"), 4);
        assert_eq!(indent_for("(list \"a ( b"), 0);
        assert_eq!(indent_for("(f ; (g\n"), 2);
    }

    #[test]
    fn completions_show_signatures() {
        let mut names = Names::default();
        names.user.insert("area".into(), "(area w h)".into());
        let h = JueHelper::new(Rc::new(RefCell::new(names)), false);
        let history = rustyline::history::DefaultHistory::new();
        let ctx = Context::new(&history);
        let (start, got) = h.complete("(are", 4, &ctx).expect("complete");
        assert_eq!(start, 1);
        let area = got.iter().find(|p| p.replacement == "area").expect("area");
        assert_eq!(area.display, "(area w h)");
        // A built-in shows its signature; the replacement stays the bare name.
        let (_, got) = h.complete("(string-len", 11, &ctx).expect("complete");
        assert_eq!(
            got.len(),
            1,
            "{:?}",
            got.iter().map(|p| &p.display).collect::<Vec<_>>()
        );
        assert_eq!(got[0].replacement, "string-length");
        assert!(
            got[0].display.starts_with("string-length ("),
            "{}",
            got[0].display
        );
        // Commands show their arguments.
        let (_, got) = h.complete(":ed", 3, &ctx).expect("complete");
        assert_eq!(got[0].display, ":edit [NAME]");
        assert_eq!(got[0].replacement, ":edit ");
    }

    #[test]
    fn long_lines_are_left_plain() {
        let h = JueHelper::new(Rc::new(RefCell::new(Names::default())), true);
        let short = "(+ 1 2)";
        assert!(matches!(h.highlight(short, 0), Cow::Owned(_)));
        let long = format!("(list {})", "1 ".repeat(3_000));
        assert!(matches!(h.highlight(&long, 0), Cow::Borrowed(_)));
        assert!(!h.highlight_char(&long, 0, CmdKind::Other));
    }
}

//! The pre-flight capability prompt: one question naming every capability an
//! input may use that the session does not hold.

use jue_engine::Capability;

/// Where an answer comes from (the line editor on a terminal).
pub trait Asker {
    /// Shows `prompt` and reads one answer; `None` for Ctrl-C, Ctrl-D or no terminal.
    fn ask(&mut self, prompt: &str) -> Option<String>;
}

/// The answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// `y`: grant unscoped for the session.
    Session,
    /// `once`: grant for this input only.
    Once,
    /// `N`, Enter, Ctrl-D, refusal: run without them.
    No,
    /// Ctrl-C at the question: the input does not run.
    Cancel,
}

/// What an [`Asker`] returns for Ctrl-C at the question.
pub const CANCELLED: &str = "\u{3}";

/// Escapes control characters (and other invisible ones) so text cannot move the
/// cursor, clear the screen or forge a different question.
pub fn escape_control(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control()
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// The question: `grant IoNetwork, IoPersist for this session? [y/N/once] `.
pub fn question(missing: &[Capability]) -> String {
    let names: Vec<&str> = missing.iter().map(|c| c.name()).collect();
    escape_control(&format!(
        "grant {} for this session? [y/N/once] ",
        names.join(", ")
    ))
}

/// Parses an answer.
pub fn decide(answer: Option<&str>) -> Decision {
    match answer.map(|a| a.trim().to_ascii_lowercase()).as_deref() {
        Some("y" | "yes") => Decision::Session,
        Some("once" | "o") => Decision::Once,
        Some(CANCELLED) => Decision::Cancel,
        _ => Decision::No,
    }
}

/// Discards type-ahead on the terminal, so nothing typed or pasted before the
/// question can answer it.
pub fn discard_type_ahead() {
    // SAFETY: tcflush on the process's own stdin descriptor; failure is harmless.
    unsafe {
        libc::tcflush(libc::STDIN_FILENO, libc::TCIFLUSH);
    }
}

/// Asks once for all `missing` capabilities.
pub fn ask(missing: &[Capability], asker: &mut dyn Asker) -> Decision {
    ask_scoped(missing, asker).0
}

/// Asks once for all `missing` capabilities; `y SCOPE` (or `once SCOPE`) also
/// gives the scope of the one scoped capability among them (a directory for
/// IoPersist, a host for IoNetwork).
pub fn ask_scoped(missing: &[Capability], asker: &mut dyn Asker) -> (Decision, Option<String>) {
    discard_type_ahead();
    let answer = asker.ask(&question(missing));
    split_scope(answer.as_deref())
}

/// `y ./data` → (Session, Some("./data")); anything else as [`decide`].
pub fn split_scope(answer: Option<&str>) -> (Decision, Option<String>) {
    let Some(a) = answer else {
        return (Decision::No, None);
    };
    let a = a.trim();
    match a.split_once(char::is_whitespace) {
        Some((word, scope)) if matches!(decide(Some(word)), Decision::Session | Decision::Once) => {
            (decide(Some(word)), Some(scope.trim().to_string()))
        }
        _ => (decide(Some(a)), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_decides() {
        assert_eq!(escape_control("a\x1b[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(
            question(&[Capability::IoNetwork, Capability::IoPersist]),
            "grant IoNetwork, IoPersist for this session? [y/N/once] "
        );
        assert_eq!(decide(Some("Y")), Decision::Session);
        assert_eq!(decide(Some(" once ")), Decision::Once);
        assert_eq!(decide(Some("")), Decision::No);
        assert_eq!(decide(None), Decision::No);
        assert_eq!(decide(Some(CANCELLED)), Decision::Cancel);
        assert_eq!(
            split_scope(Some("y ./data ")),
            (Decision::Session, Some("./data".into()))
        );
        assert_eq!(split_scope(Some("no way")), (Decision::No, None));
    }
}

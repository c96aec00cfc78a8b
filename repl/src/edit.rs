//! `:edit [NAME]`: the last input, or a definition of the session, in the
//! user's editor (`$VISUAL`, else `$EDITOR`); what is saved is evaluated as if
//! typed. The text goes through a private temporary file (`jue-edit-*.jue`,
//! owner-only, removed afterwards).

use crate::preflight::{Asker, escape_control};
use crate::state::Repl;
use jue_engine::SourceFile;
use std::io::{self, Write};
use std::process::{Command, Stdio};
use std::time::SystemTime;

/// The editor command: `$VISUAL`, else `$EDITOR` (either may hold arguments,
/// `code --wait`); on a terminal with neither, `vi`, as git and psql do.
pub fn editor_command(interactive: bool) -> Option<String> {
    ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|e| !e.trim().is_empty())
        .or_else(|| interactive.then(|| "vi".to_string()))
}

/// The text `:edit` starts from: NAME's definition as last made (with its `;;`
/// comments), or the last input that was Jue text (not a command).
fn starting_text(repl: &Repl, name: &str) -> Result<String, String> {
    if !name.is_empty() {
        return repl
            .definitions
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.clone())
            .ok_or_else(|| {
                format!(
                    "`{}` is not a definition made in this session (`:doc` documents built-ins and FFI functions)",
                    escape_control(name)
                )
            });
    }
    // The `:edit` input itself is the newest entry.
    repl.history
        .iter()
        .rev()
        .skip(1)
        .find(|h| {
            let t = h.trim();
            !t.starts_with(':') && !matches!(t, "exit" | "quit" | "help")
        })
        .cloned()
        .ok_or_else(|| "nothing to edit: no input yet (`:edit NAME` edits a definition)".into())
}

/// What the editor left.
enum Edited {
    /// Saved: the text.
    Saved(String),
    /// Quit without saving (the file is untouched).
    NotSaved,
}

/// Writes `text` to a temporary file, runs the editor on it and reads it back.
fn run_editor(editor: &str, text: &str, interactive: bool) -> Result<Edited, String> {
    let mut file = tempfile::Builder::new()
        .prefix("jue-edit-")
        .suffix(".jue")
        .tempfile()
        .map_err(|e| format!("cannot create a temporary file: {e}"))?;
    let mut body = text.to_string();
    if !body.ends_with('\n') {
        body.push('\n');
    }
    file.write_all(body.as_bytes())
        .and_then(|()| file.flush())
        .map_err(|e| format!("cannot write the temporary file: {e}"))?;
    let path = file.path().to_path_buf();
    let modified = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let before: Option<SystemTime> = modified(&path);
    // Through the shell, as git does, so `$EDITOR` may carry arguments; the path
    // is passed as an argument, never spliced into the command text.
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("jue-edit")
        .arg(&path);
    if !interactive {
        // Piped: the REPL's stdin holds the next inputs, and its stdout results.
        cmd.stdin(Stdio::null()).stdout(Stdio::from(io::stderr()));
    }
    let _ = io::stdout().flush();
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start the editor `{}`: {e}", escape_control(editor)))?;
    if !status.success() {
        return Err(format!(
            "the editor `{}` failed ({status}); nothing was evaluated",
            escape_control(editor)
        ));
    }
    let after = modified(&path);
    // Read by path: editors that save by renaming replace the file we made.
    let saved = std::fs::read(&path).map_err(|e| format!("cannot read the edited file: {e}"))?;
    let saved = String::from_utf8(saved).map_err(|_| "the edited file is not UTF-8".to_string())?;
    if saved == body && after == before {
        return Ok(Edited::NotSaved);
    }
    Ok(Edited::Saved(saved))
}

/// `:edit [NAME]`.
pub fn edit(repl: &mut Repl, name: &str, asker: &mut dyn Asker) -> bool {
    if name.contains(char::is_whitespace) {
        repl.message("usage: :edit [NAME]");
        return false;
    }
    let text = match starting_text(repl, name) {
        Ok(t) => t,
        Err(msg) => {
            repl.message(&msg);
            return false;
        }
    };
    let Some(editor) = editor_command(repl.interactive) else {
        repl.message("`:edit` needs an editor: set $VISUAL or $EDITOR");
        return false;
    };
    let saved = match run_editor(&editor, &text, repl.interactive) {
        Ok(Edited::Saved(t)) => t,
        Ok(Edited::NotSaved) => {
            repl.message("not saved: nothing was evaluated");
            return true;
        }
        Err(msg) => {
            repl.message(&msg);
            return false;
        }
    };
    let trimmed = saved.trim();
    if trimmed.is_empty() {
        repl.message("the edited text is empty: nothing was evaluated");
        return true;
    }
    if trimmed.starts_with(':') {
        repl.message("`:edit` evaluates Jue text, not commands: nothing was evaluated");
        return false;
    }
    // As if typed: in the history (so `:edit` again starts from it), checked,
    // through the pre-flight prompt, run, its result printed.
    repl.history.push(saved.trim_end().to_string());
    let input = repl.next_input_name();
    repl.eval_text(SourceFile::new(input, saved), true, asker)
}

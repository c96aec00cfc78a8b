//! The loop: reads inputs (from rustyline on a terminal, line by line from a
//! pipe), runs them through the engine, prints results and keeps `*1 *2 *3`.

use crate::commands;
use crate::helper::JueHelper;
use crate::history::History;
use crate::preflight::Asker;
use crate::state::Repl;
use crate::{Options, interrupt};
use jue_engine::SourceFile;
use jue_engine::syntax::lexer::is_incomplete;
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{
    Behavior, CompletionType, Config, Editor, EventHandler, KeyCode, KeyEvent, Modifiers,
};
use std::io::{self, BufRead, IsTerminal, Write};
use std::rc::Rc;

/// Runs one input (a command or Jue text); whether it succeeded.
pub fn handle_input(repl: &mut Repl, text: &str, asker: &mut dyn Asker) -> bool {
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return true;
    }
    repl.history.push(text.trim_end().to_string());
    // Bare `exit`, `quit` and `help` do what a newcomer means, unless defined.
    let word = trimmed.trim_end();
    if matches!(word, "exit" | "quit" | "help") && !repl.session.globals().contains_key(word) {
        if word == "help" {
            return commands::run(repl, ":help", asker);
        }
        repl.quit = true;
        return true;
    }
    if trimmed.starts_with(':') {
        let ok = commands::run(repl, trimmed.trim_end(), asker);
        repl.refresh_names();
        ok
    } else {
        let name = repl.next_input_name();
        let ok = repl.eval_text(SourceFile::new(name, text.to_string()), true, asker);
        repl.refresh_defined_names();
        ok
    }
}

/// Asks nothing: the answer is always "no" (pipes, `--no-prompt`).
pub struct NoAsker;

impl Asker for NoAsker {
    fn ask(&mut self, _prompt: &str) -> Option<String> {
        None
    }
}

struct EditorAsker<'e>(&'e mut Editor<JueHelper, FileHistory>);

impl Asker for EditorAsker<'_> {
    fn ask(&mut self, prompt: &str) -> Option<String> {
        match self.0.readline(prompt) {
            Ok(answer) => Some(answer),
            Err(ReadlineError::Interrupted) => Some(crate::preflight::CANCELLED.to_string()),
            Err(_) => None,
        }
    }
}

/// Entry point: a terminal session or a piped one.
pub fn main(options: Options) -> i32 {
    let interactive = io::stdin().is_terminal();
    interrupt::install(!interactive);
    let mut repl = match Repl::new(options, interactive) {
        Ok(r) => r,
        Err(msg) => {
            eprintln!("{msg}");
            return 2;
        }
    };
    if interactive {
        interactive_loop(&mut repl)
    } else {
        piped_loop(&mut repl)
    }
}

/// Stdin is not a terminal: inputs delimited by the lexer, no prompt, no colour.
fn piped_loop(repl: &mut Repl) -> i32 {
    let mut failed = false;
    let mut pending = String::new();
    let stdin = io::stdin();
    let mut lines = stdin.lock();
    let mut line = String::new();
    loop {
        line.clear();
        match lines.read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                repl.message(&format!("error: cannot read standard input: {e}"));
                failed = true;
                break;
            }
        }
        if pending.is_empty() && line.trim().is_empty() {
            continue;
        }
        pending.push_str(&line);
        if !pending.ends_with('\n') {
            pending.push('\n');
        }
        if pending.trim_start().starts_with(':') || !is_incomplete(&pending) {
            let input = std::mem::take(&mut pending);
            if !handle_input(repl, &input, &mut NoAsker) {
                failed = true;
            }
            if repl.quit {
                break;
            }
        }
    }
    if !pending.trim().is_empty() && !repl.quit && !handle_input(repl, &pending, &mut NoAsker) {
        failed = true;
    }
    let _ = io::stdout().flush();
    i32::from(failed)
}

/// Stdin is a terminal: rustyline with history, completion, hints, highlighting.
fn interactive_loop(repl: &mut Repl) -> i32 {
    let config = Config::builder()
        .behavior(Behavior::PreferTerm)
        // Tab completes the common prefix, a second Tab lists the candidates
        // with their signatures.
        .completion_type(CompletionType::List)
        .auto_add_history(false)
        .history_ignore_space(true)
        .max_history_size(10_000)
        .map(|b| b.build())
        .unwrap_or_default();
    let mut editor: Editor<JueHelper, FileHistory> = match Editor::with_config(config) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot start the line editor: {e}");
            return 1;
        }
    };
    editor.set_helper(Some(JueHelper::new(Rc::clone(&repl.names), repl.color)));
    // Enter (CR) and Ctrl-J (LF, what some terminals and pastes send).
    for key in [
        KeyEvent(KeyCode::Enter, Modifiers::NONE),
        KeyEvent::ctrl('J'),
    ] {
        editor.bind_sequence(
            key,
            EventHandler::Conditional(Box::new(crate::helper::AutoIndent)),
        );
    }
    let mut history = History::open();
    history.load(&mut editor);
    repl.history = editor.history().iter().cloned().collect();
    repl.message(&format!(
        "Jue {} · :help for commands, :q or Ctrl-D to leave",
        env!("CARGO_PKG_VERSION")
    ));
    let prompt = "jue> ";
    loop {
        match editor.readline(prompt) {
            Ok(line) => {
                if line.trim().is_empty() {
                    continue;
                }
                history.add(&mut editor, &line);
                handle_input(repl, &line, &mut EditorAsker(&mut editor));
                if repl.quit {
                    break;
                }
            }
            // Ctrl-C while editing: the partial input is discarded.
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                repl.message(&format!("error: {e}"));
                return 1;
            }
        }
    }
    0
}

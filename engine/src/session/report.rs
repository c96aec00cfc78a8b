//! Renders diagnostics and run-time errors as miette reports. Callers decide on
//! colour; this module knows nothing about terminals.

use crate::ground::diagnostic::{Diagnostic, SourceDiagnostic};
use crate::ground::span::SourceFile;
use crate::session::Session;
use crate::vm::error::{ErrorKind, RuntimeError};
use crate::vm::printer::grouped;
use std::fmt;

fn handler(color: bool) -> miette::GraphicalReportHandler {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    miette::GraphicalReportHandler::new_themed(theme).with_width(100)
}

/// A diagnostic as a report pointing into its source.
pub fn render_diagnostic(d: &Diagnostic, source: &SourceFile, color: bool) -> String {
    let mut out = String::new();
    let sd = SourceDiagnostic::new(d.clone(), source);
    if handler(color).render_report(&mut out, &sd).is_err() {
        out = format!("{}: {}\n", d.code, d.message);
    }
    out
}

/// A run-time error as a report: its kind, message, where, and the call stack.
#[derive(Debug)]
pub struct RuntimeReport {
    kind: ErrorKind,
    message: String,
    source: Option<miette::NamedSource<String>>,
    span: Option<crate::ground::span::Span>,
    stack: String,
}

impl RuntimeReport {
    /// Builds the report, resolving stack spans to files and lines.
    pub fn new(e: &RuntimeError, session: &Session) -> RuntimeReport {
        let top = e.stack.first();
        let source = top
            .and_then(|f| session.source(f.source))
            .map(SourceFile::to_named_source);
        let mut stack = String::new();
        for line in collapse_frames(e, session) {
            stack.push_str("\n  ");
            stack.push_str(&line);
        }
        RuntimeReport {
            kind: e.kind,
            message: e.message.clone(),
            source,
            span: top.map(|f| f.span),
            stack,
        }
    }
}

impl fmt::Display for RuntimeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for RuntimeReport {}

impl miette::Diagnostic for RuntimeReport {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!("run-time error: {}", self.kind)))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        (!self.stack.is_empty())
            .then(|| Box::new(format!("call stack:{}", self.stack)) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let span = self.span?;
        self.source.as_ref()?;
        Some(Box::new(std::iter::once(
            miette::LabeledSpan::new_primary_with_span(Some(self.kind.name().to_string()), span),
        )))
    }
}

/// Frames of a run of identical ones shown before the rest are counted.
const SHOWN_OF_A_RUN: usize = 10;
/// Lines of a collapsed stack shown at most (the first ones and the last few).
const MAX_STACK_LINES: usize = 40;

/// Every frame of the call stack, innermost first: `at f (file:line:col)`.
pub fn call_stack_lines(e: &RuntimeError, session: &Session) -> Vec<String> {
    e.stack
        .iter()
        .map(|f| {
            let loc = match session.source(f.source) {
                Some(src) => {
                    let (l, c) = src.line_col(f.span.start);
                    format!("{}:{}:{}", src.name(), l + 1, c + 1)
                }
                None => "?".into(),
            };
            format!("at {} ({loc})", f.function)
        })
        .collect()
}

/// The call stack as a report shows it: a run of identical frames (deep recursion)
/// shows its first ten, then `… 99,990 more frames of deep`; a stack still longer
/// than 40 lines keeps its first 30 and last 10 around `… N more frames`.
pub fn collapse_frames(e: &RuntimeError, session: &Session) -> Vec<String> {
    let all = call_stack_lines(e, session);
    let mut lines = Vec::new();
    let mut i = 0;
    while i < all.len() {
        let run = all[i..].iter().take_while(|l| **l == all[i]).count();
        lines.extend(all[i..i + run.min(SHOWN_OF_A_RUN)].iter().cloned());
        if run > SHOWN_OF_A_RUN {
            let function = e.stack[i].function.as_str();
            lines.push(format!(
                "… {} more frames of {function}",
                grouped(run - SHOWN_OF_A_RUN)
            ));
        }
        i += run;
    }
    if lines.len() > MAX_STACK_LINES {
        let tail = 10;
        let head = MAX_STACK_LINES - tail;
        let hidden = lines.len() - head - tail;
        let mut kept: Vec<String> = lines[..head].to_vec();
        kept.push(format!("… {} more frames", grouped(hidden)));
        kept.extend(lines[lines.len() - tail..].iter().cloned());
        lines = kept;
    }
    lines
}

/// A run-time error rendered as text.
pub fn render_runtime_error(e: &RuntimeError, session: &Session, color: bool) -> String {
    let r = RuntimeReport::new(e, session);
    let mut out = String::new();
    if handler(color).render_report(&mut out, &r).is_err() {
        out = format!("{}: {}\n", e.kind, e.message);
    }
    out
}

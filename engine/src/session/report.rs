//! Renders diagnostics and run-time errors as miette reports. Callers decide on
//! colour; this module knows nothing about terminals.

use crate::ground::diagnostic::{Diagnostic, SourceDiagnostic};
use crate::ground::span::SourceFile;
use crate::session::Session;
use crate::vm::error::{ErrorKind, RuntimeError};
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
        for f in &e.stack {
            let loc = match session.source(f.source) {
                Some(src) => {
                    let (l, c) = src.line_col(f.span.start);
                    format!("{}:{}:{}", src.name(), l + 1, c + 1)
                }
                None => "?".into(),
            };
            stack.push_str(&format!("\n  at {} ({loc})", f.function));
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

/// A run-time error rendered as text.
pub fn render_runtime_error(e: &RuntimeError, session: &Session, color: bool) -> String {
    let r = RuntimeReport::new(e, session);
    let mut out = String::new();
    if handler(color).render_report(&mut out, &r).is_err() {
        out = format!("{}: {}\n", e.kind, e.message);
    }
    out
}

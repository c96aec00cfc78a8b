//! Diagnostics: stable codes, severities, spans, messages, help and related spans.
//! Every stage reports through this one type; renderers (miette, LSP, JSON) read it.

use crate::ground::span::{SourceFile, Span};
use std::fmt;

/// The stable diagnostic codes of the language reference, §11.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    /// Syntax error.
    E0001,
    /// Unknown or misplaced annotation, unknown tier name.
    E0002,
    /// Unbound variable.
    E0101,
    /// Unknown FFI function.
    E0102,
    /// Wrong number of arguments.
    E0103,
    /// Argument of known type not accepted.
    E0104,
    /// Malformed special form, misplaced or duplicate definition.
    E0105,
    /// Import cycle.
    E0106,
    /// Import of a file that cannot be imported (missing, outside the root, ...).
    E0107,
    /// Trust-tier violation.
    E0201,
    /// Unknown capability name.
    E0202,
    /// Capability used but neither declared nor granted.
    W0301,
    /// Declared capability never used.
    W0302,
    /// Unused local binding.
    W0303,
    /// REPL: a body names a global not defined yet.
    W0304,
    /// Run time: an actor failed and no `await` received its failure (language §9).
    W0401,
}

impl Code {
    /// The code as written in reports (`E0101`).
    pub fn as_str(self) -> &'static str {
        match self {
            Code::E0001 => "E0001",
            Code::E0002 => "E0002",
            Code::E0101 => "E0101",
            Code::E0102 => "E0102",
            Code::E0103 => "E0103",
            Code::E0104 => "E0104",
            Code::E0105 => "E0105",
            Code::E0106 => "E0106",
            Code::E0107 => "E0107",
            Code::E0201 => "E0201",
            Code::E0202 => "E0202",
            Code::W0301 => "W0301",
            Code::W0302 => "W0302",
            Code::W0303 => "W0303",
            Code::W0304 => "W0304",
            Code::W0401 => "W0401",
        }
    }
    /// The severity every diagnostic of this code has.
    pub fn severity(self) -> Severity {
        if self.as_str().starts_with('E') {
            Severity::Error
        } else {
            Severity::Warning
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error or warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Severity {
    /// Stops the program from running.
    Error,
    /// Reported, never changes what runs.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A secondary span with its label.
#[derive(Clone, Debug, PartialEq)]
pub struct Related {
    /// Where.
    pub span: Span,
    /// What it is.
    pub message: String,
}

/// One diagnostic about one source text.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// Stable code.
    pub code: Code,
    /// The primary span.
    pub span: Span,
    /// One-line message.
    pub message: String,
    /// Optional help line (e.g. "did you mean `car`?").
    pub help: Option<String>,
    /// Related spans in the same text.
    pub related: Vec<Related>,
    /// A replacement text for the primary span that fixes it ("did you mean"), for code actions.
    pub suggestion: Option<String>,
}

impl Diagnostic {
    /// A diagnostic without help or related spans.
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            span,
            message: message.into(),
            help: None,
            related: Vec::new(),
            suggestion: None,
        }
    }
    /// The diagnostic with every span moved right by `by` (see [`Span::shifted`]).
    pub fn shifted(mut self, by: u32) -> Diagnostic {
        self.span = self.span.shifted(by);
        for r in &mut self.related {
            r.span = r.span.shifted(by);
        }
        self
    }
    /// Adds a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }
    /// Adds a related span.
    pub fn with_related(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.related.push(Related {
            span,
            message: message.into(),
        });
        self
    }
    /// Adds a "did you mean" replacement, with its help line.
    pub fn with_suggestion(mut self, replacement: impl Into<String>) -> Diagnostic {
        let r = replacement.into();
        self.help = Some(format!("did you mean `{r}`?"));
        self.suggestion = Some(r);
        self
    }
    /// The code's severity.
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }
    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }
}

/// Whether any diagnostic is an error.
pub fn has_errors(diags: &[Diagnostic]) -> bool {
    diags.iter().any(Diagnostic::is_error)
}

/// A diagnostic bundled with its source, as a miette report.
#[derive(Debug)]
pub struct SourceDiagnostic {
    diag: Diagnostic,
    source: miette::NamedSource<String>,
}

impl SourceDiagnostic {
    /// Bundles a diagnostic with the text it points into.
    pub fn new(diag: Diagnostic, file: &SourceFile) -> SourceDiagnostic {
        SourceDiagnostic {
            diag,
            source: file.to_named_source(),
        }
    }
}

impl fmt::Display for SourceDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl std::error::Error for SourceDiagnostic {}

impl miette::Diagnostic for SourceDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.diag.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity() {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diag
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let primary =
            miette::LabeledSpan::new_primary_with_span(Some("here".into()), self.diag.span);
        let related = self
            .diag
            .related
            .iter()
            .map(|r| miette::LabeledSpan::new_with_span(Some(r.message.clone()), r.span));
        Some(Box::new(std::iter::once(primary).chain(related)))
    }
}

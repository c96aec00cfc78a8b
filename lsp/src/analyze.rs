//! The one place where a document is analysed. Today it is a full analysis with
//! the engine's `Session::check`; the engine's incremental analysis replaces the
//! body of [`analyze`] (and nothing else) when it lands.

use crate::project::Project;
use jue_engine::analysis::Analysis;
use jue_engine::syntax::lexer::{Token, lex};
use jue_engine::syntax::parser::Parse;
use jue_engine::{CapSet, SourceFile};
use ropey::Rope;
use std::sync::Arc;

/// A document's text at one version with everything the features read.
pub struct Analyzed {
    /// The document version analysed.
    pub version: i32,
    /// The text as a rope, for position conversions.
    pub rope: Rope,
    /// The text.
    pub source: SourceFile,
    /// Its tokens (comments included), for semantic tokens and completion context.
    pub tokens: Vec<Token>,
    /// Its syntax tree, for forms: folding, selection, code actions, formatting.
    pub parse: Parse,
    /// The engine's analysis: diagnostics, definitions, references.
    pub analysis: Analysis,
    /// The project it was checked in (registry, assumed grants).
    pub project: Arc<Project>,
}

impl Analyzed {
    /// Capabilities `jue.toml` assumes granted ("granted" in hover).
    pub fn granted(&self) -> CapSet {
        self.project.granted
    }
    /// The text.
    pub fn text(&self) -> &str {
        self.source.text()
    }
}

/// Analyses one version of a document.
pub fn analyze(name: &str, version: i32, rope: Rope, project: Arc<Project>) -> Analyzed {
    let text = rope.to_string();
    let source = SourceFile::new(name, text);
    let analysis = project.session().check(&source);
    let parse = jue_engine::syntax::parse(source.text());
    let tokens = lex(source.text()).tokens;
    Analyzed {
        version,
        rope,
        source,
        tokens,
        parse,
        analysis,
        project,
    }
}

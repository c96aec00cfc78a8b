//! Byte spans and source texts with their line index.

use std::sync::Arc;

/// A half-open byte range `[start, end)` in one source text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from byte offsets.
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }
    /// The smallest span covering both.
    pub fn join(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
    /// Whether `offset` lies inside (end inclusive, so a cursor after a token counts).
    pub fn touches(self, offset: u32) -> bool {
        self.start <= offset && offset <= self.end
    }
    /// Length in bytes.
    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }
    /// The span moved right by `by` bytes. Wrapping, so that a span made relative to
    /// a later offset with [`Span::unshifted`] comes back exactly.
    pub fn shifted(self, by: u32) -> Span {
        Span {
            start: self.start.wrapping_add(by),
            end: self.end.wrapping_add(by),
        }
    }
    /// The span moved left by `by` bytes (wrapping; see [`Span::shifted`]).
    pub fn unshifted(self, by: u32) -> Span {
        Span {
            start: self.start.wrapping_sub(by),
            end: self.end.wrapping_sub(by),
        }
    }
    /// Whether the span is empty.
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(s: Span) -> Self {
        miette::SourceSpan::new((s.start as usize).into(), s.len())
    }
}

/// Byte offsets where lines start. A line ends at `\n`, `\r\n` or a lone `\r`
/// (as LSP counts lines), so an editor and a message name the same line.
pub fn line_starts(text: &str) -> Vec<u32> {
    let bytes = text.as_bytes();
    let mut starts = vec![0u32];
    for (i, &b) in bytes.iter().enumerate() {
        let ends = b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
        if ends {
            starts.push(i as u32 + 1);
        }
    }
    starts
}

/// A named source text with a line index, shared cheaply.
#[derive(Clone, Debug)]
pub struct SourceFile {
    name: Arc<str>,
    text: Arc<str>,
    line_starts: Arc<[u32]>,
}

impl SourceFile {
    /// A source from a name (a path, or `<repl>`) and its text.
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> SourceFile {
        let text: Arc<str> = text.into();
        let starts = line_starts(&text);
        SourceFile {
            name: name.into(),
            text,
            line_starts: starts.into(),
        }
    }

    /// Decodes bytes as UTF-8; invalid input is an error naming the byte offset.
    pub fn from_bytes(name: &str, bytes: Vec<u8>) -> Result<SourceFile, Utf8Error> {
        match String::from_utf8(bytes) {
            Ok(s) => Ok(SourceFile::new(name, s)),
            Err(e) => Err(Utf8Error {
                file: name.to_string(),
                offset: e.utf8_error().valid_up_to(),
            }),
        }
    }

    /// The name given at creation.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The whole text.
    pub fn text(&self) -> &str {
        &self.text
    }
    /// The text of a span.
    pub fn slice(&self, span: Span) -> &str {
        &self.text[span.start as usize..span.end as usize]
    }
    /// 0-based line of a byte offset.
    pub fn line_of(&self, offset: u32) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }
    /// Byte offset where a 0-based line starts.
    pub fn line_start(&self, line: usize) -> u32 {
        self.line_starts
            .get(line)
            .copied()
            .unwrap_or(self.text.len() as u32)
    }
    /// Number of lines (a final line without newline counts).
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }
    /// 0-based line and column, the column counting Unicode scalar values.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let offset = offset.min(self.text.len() as u32);
        let line = self.line_of(offset);
        let start = self.line_starts[line] as usize;
        let mut end = offset as usize;
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        (line, self.text[start..end].chars().count())
    }
    /// The source as a miette named source, for rendering reports.
    pub fn to_named_source(&self) -> miette::NamedSource<String> {
        miette::NamedSource::new(&self.name, self.text.to_string())
    }
}

/// A source file is a miette source: reports (e.g. an `EvalError`) point into it
/// by name without copying the text.
impl miette::SourceCode for SourceFile {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let inner = self.text().read_span(span, before, after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name().to_string(),
            inner.data(),
            *inner.span(),
            inner.line(),
            inner.column(),
            inner.line_count(),
        )))
    }
}

/// A source that is not valid UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utf8Error {
    /// The file name.
    pub file: String,
    /// The first byte that is not valid UTF-8.
    pub offset: usize,
}

impl std::fmt::Display for Utf8Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: invalid UTF-8 at byte offset {}",
            self.file, self.offset
        )
    }
}

impl std::error::Error for Utf8Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars() {
        let s = SourceFile::new("t", "ab\nλx y\n");
        assert_eq!(s.line_col(0), (0, 0));
        assert_eq!(s.line_col(3), (1, 0));
        assert_eq!(s.line_col(6), (1, 2));
        assert_eq!(s.line_count(), 3);
    }

    #[test]
    fn lone_cr_and_crlf_end_lines() {
        let s = SourceFile::new("t", "a\rb\r\nc\nd\u{2028}e");
        assert_eq!(s.line_count(), 4);
        assert_eq!(s.line_col(2), (1, 0)); // b, after a lone CR
        assert_eq!(s.line_col(4), (1, 2)); // the LF of CRLF is still line 1
        assert_eq!(s.line_col(5), (2, 0)); // c
        assert_eq!(s.line_col(7), (3, 0)); // d: U+2028 is not a line end
        assert_eq!(line_starts("x\r"), vec![0, 2]);
        assert_eq!(line_starts("\r\n\r\r"), vec![0, 2, 3, 4]);
    }

    #[test]
    fn invalid_utf8_names_offset() {
        let e = SourceFile::from_bytes("f.jue", vec![b'(', b'a', 0xff, b')']).unwrap_err();
        assert_eq!(e.offset, 2);
        assert!(e.to_string().contains("byte offset 2"));
    }
}

//! Where `print` writes: a writer that remembers whether a line is unfinished,
//! so the REPL can end it before printing a result.

use std::io::{self, Write};

/// Program output.
pub struct Output {
    inner: Box<dyn Write + Send>,
    at_line_start: bool,
}

impl Output {
    /// Wraps a writer.
    pub fn new(inner: Box<dyn Write + Send>) -> Output {
        Output {
            inner,
            at_line_start: true,
        }
    }
    /// Output to the process's standard output, buffered.
    pub fn stdout() -> Output {
        Output::new(Box::new(io::BufWriter::new(io::stdout())))
    }
    /// Whether nothing, or a complete line, was written last.
    pub fn at_line_start(&self) -> bool {
        self.at_line_start
    }
    /// Writes text; errors (a closed pipe) are ignored, as a program cannot act on them.
    pub fn write_str(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        self.at_line_start = s.ends_with('\n');
        let _ = self.inner.write_all(s.as_bytes());
    }
    /// Flushes.
    pub fn flush(&mut self) {
        let _ = self.inner.flush();
    }
    /// Ends an unfinished line.
    pub fn end_line(&mut self) {
        if !self.at_line_start {
            self.write_str("\n");
        }
    }
}

/// A shared in-memory buffer, for tests and embedding.
#[derive(Clone, Default)]
pub struct Captured(pub std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Captured {
    /// What was written, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
    /// Empties the buffer.
    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

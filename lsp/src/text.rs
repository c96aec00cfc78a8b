//! Documents as ropes, and exact conversions between LSP positions (UTF-8 or
//! UTF-16 columns, negotiated at `initialize`) and the engine's byte offsets.
//!
//! Lines end at `\n`, `\r\n` or a lone `\r`, as LSP says (ropey's `cr_lines` on,
//! its other Unicode line breaks off), as the engine's `SourceFile` does. Out-of-range positions are clamped, never rejected:
//! a line past the end means the end of the text, a column past the end of its
//! line means the end of that line, a column inside a character means its start.

use ropey::{Rope, RopeSlice};
use tower_lsp_server::ls_types::{Position, Range, TextDocumentContentChangeEvent};

/// How LSP columns count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// Bytes of UTF-8.
    Utf8,
    /// UTF-16 code units (the LSP default).
    Utf16,
}

/// A line without its final line break (`\n`, `\r\n` or `\r`).
fn line_body(line: RopeSlice<'_>) -> RopeSlice<'_> {
    let mut n = line.len_chars();
    if n > 0 && line.char(n - 1) == '\n' {
        n -= 1;
    }
    if n > 0 && line.char(n - 1) == '\r' {
        n -= 1;
    }
    line.slice(..n)
}

/// The char index of an LSP position.
pub fn position_to_char(rope: &Rope, pos: Position, enc: Encoding) -> usize {
    let line = pos.line as usize;
    if line >= rope.len_lines() {
        return rope.len_chars();
    }
    let start = rope.line_to_char(line);
    let body = line_body(rope.line(line));
    let col = pos.character as usize;
    let chars = match enc {
        Encoding::Utf16 => {
            let cu = col.min(body.len_utf16_cu());
            body.utf16_cu_to_char(cu)
        }
        Encoding::Utf8 => {
            let b = col.min(body.len_bytes());
            body.byte_to_char(b)
        }
    };
    start + chars
}

/// The byte offset of an LSP position.
pub fn position_to_offset(rope: &Rope, pos: Position, enc: Encoding) -> usize {
    rope.char_to_byte(position_to_char(rope, pos, enc))
}

/// The LSP position of a byte offset (clamped; inside a character means its start).
pub fn offset_to_position(rope: &Rope, offset: usize, enc: Encoding) -> Position {
    let offset = offset.min(rope.len_bytes());
    let ch = rope.byte_to_char(offset);
    let line = rope.char_to_line(ch);
    let line_start = rope.line_to_char(line);
    let col = match enc {
        Encoding::Utf16 => rope.char_to_utf16_cu(ch) - rope.char_to_utf16_cu(line_start),
        Encoding::Utf8 => rope.char_to_byte(ch) - rope.char_to_byte(line_start),
    };
    Position::new(line as u32, col as u32)
}

/// How far ahead of the last offset a [`Cursor`] scans; beyond, it asks the rope.
const FAR: usize = 16 << 10;

/// Positions of byte offsets met in increasing order, found by scanning the text
/// forward from the last one (linear over a whole document, where the rope
/// lookups of [`offset_to_position`] cost a tree descent each). An offset before
/// the current line is found through the rope.
pub struct Cursor<'a> {
    rope: &'a Rope,
    text: &'a str,
    enc: Encoding,
    line: u32,
    line_start: usize,
    scanned: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `text` (the rope's text).
    pub fn new(rope: &'a Rope, text: &'a str, enc: Encoding) -> Cursor<'a> {
        Cursor {
            rope,
            text,
            enc,
            line: 0,
            line_start: 0,
            scanned: 0,
        }
    }

    /// The position of `off`, as [`offset_to_position`] gives it.
    pub fn at(&mut self, off: usize) -> Position {
        let text = self.text;
        let mut off = off.min(text.len());
        while !text.is_char_boundary(off) {
            off -= 1;
        }
        // Behind the current line, or far ahead (a range in the middle of a big
        // file): found through the rope rather than by scanning.
        if off < self.line_start || off > self.scanned.max(self.line_start) + FAR {
            let p = offset_to_position(self.rope, off, self.enc);
            self.line = p.line;
            self.line_start = self
                .rope
                .char_to_byte(self.rope.line_to_char(p.line as usize));
            self.scanned = off;
            return p;
        }
        let bytes = text.as_bytes();
        let mut i = self.scanned.max(self.line_start);
        while i < off {
            let Some(k) = bytes[i..off].iter().position(|&b| b == b'\n' || b == b'\r') else {
                break;
            };
            let j = i + k;
            if bytes[j] == b'\r' && bytes.get(j + 1) == Some(&b'\n') {
                if j + 1 == off {
                    break; // between the CR and LF of one line end: still this line
                }
                i = j + 2;
            } else {
                i = j + 1;
            }
            self.line += 1;
            self.line_start = i;
        }
        self.scanned = self.scanned.max(off);
        let col = match self.enc {
            Encoding::Utf8 => off - self.line_start,
            Encoding::Utf16 => {
                let s = &text[self.line_start..off];
                if s.is_ascii() {
                    s.len()
                } else {
                    s.encode_utf16().count()
                }
            }
        };
        Position::new(self.line, col as u32)
    }
}

/// The positions of many byte offsets, in their order, found in one forward scan.
pub fn positions_of(rope: &Rope, text: &str, offsets: &[u32], enc: Encoding) -> Vec<Position> {
    let mut order: Vec<usize> = (0..offsets.len()).collect();
    order.sort_by_key(|&i| offsets[i]);
    let mut out = vec![Position::new(0, 0); offsets.len()];
    let mut cursor = Cursor::new(rope, text, enc);
    for i in order {
        out[i] = cursor.at(offsets[i] as usize);
    }
    out
}

/// The LSP range of a byte span.
pub fn span_to_range(rope: &Rope, start: usize, end: usize, enc: Encoding) -> Range {
    Range::new(
        offset_to_position(rope, start, enc),
        offset_to_position(rope, end.max(start), enc),
    )
}

/// Applies one content change (a range edit, or the whole text when it has no range);
/// returns the byte range of the text before it that the change replaced.
pub fn apply_change(
    rope: &mut Rope,
    change: &TextDocumentContentChangeEvent,
    enc: Encoding,
) -> std::ops::Range<usize> {
    match change.range {
        None => {
            let all = 0..rope.len_bytes();
            *rope = Rope::from_str(&change.text);
            all
        }
        Some(range) => {
            let mut a = position_to_char(rope, range.start, enc);
            let mut b = position_to_char(rope, range.end, enc);
            if a > b {
                std::mem::swap(&mut a, &mut b);
            }
            let bytes = rope.char_to_byte(a)..rope.char_to_byte(b);
            rope.remove(a..b);
            rope.insert(a, &change.text);
            bytes
        }
    }
}

/// The length of a text in the negotiated encoding (semantic tokens, label offsets).
pub fn encoded_len(s: &str, enc: Encoding) -> u32 {
    match enc {
        Encoding::Utf8 => s.len() as u32,
        Encoding::Utf16 => s.encode_utf16().count() as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_astral_and_multibyte_text() {
        let rope = Rope::from_str("(λ (x) x)\n(define 😀 \"é\")\r\nlast");
        for enc in [Encoding::Utf8, Encoding::Utf16] {
            let text = rope.to_string();
            for (i, _) in text.char_indices() {
                // Between the CR and LF of a CRLF is no position of its own.
                if text[..i].ends_with('\r') && text[i..].starts_with('\n') {
                    continue;
                }
                let p = offset_to_position(&rope, i, enc);
                assert_eq!(position_to_offset(&rope, p, enc), i, "{enc:?} {i}");
            }
        }
        // 😀 is 2 UTF-16 units, 4 bytes.
        let after = rope.to_string().find(" \"é").unwrap();
        assert_eq!(
            offset_to_position(&rope, after, Encoding::Utf16),
            Position::new(1, 10)
        );
        assert_eq!(
            offset_to_position(&rope, after, Encoding::Utf8),
            Position::new(1, 12)
        );
        // Past the end: clamped.
        assert_eq!(
            position_to_offset(&rope, Position::new(99, 0), Encoding::Utf16),
            rope.len_bytes()
        );
        assert_eq!(
            position_to_offset(&rope, Position::new(0, 999), Encoding::Utf16),
            "(λ (x) x)".len()
        );
        // Inside a surrogate pair / inside a UTF-8 sequence: the character's start.
        let smile = rope.to_string().find('😀').unwrap();
        assert_eq!(
            position_to_offset(&rope, Position::new(1, 9), Encoding::Utf16),
            smile
        );
        assert_eq!(
            position_to_offset(&rope, Position::new(1, 10), Encoding::Utf8),
            smile
        );
    }

    #[test]
    fn every_line_end_counts() {
        // LF, CRLF and a lone CR each end a line; U+2028 and form feed do not.
        let text = "a\nb\r\nc\rd\u{2028}e\u{c}f";
        let rope = Rope::from_str(text);
        for enc in [Encoding::Utf8, Encoding::Utf16] {
            assert_eq!(position_to_offset(&rope, Position::new(1, 0), enc), 2);
            assert_eq!(position_to_offset(&rope, Position::new(2, 0), enc), 5);
            assert_eq!(position_to_offset(&rope, Position::new(3, 0), enc), 7);
            // Past the end of a line: its end, before the line break.
            assert_eq!(position_to_offset(&rope, Position::new(1, 9), enc), 3);
            assert_eq!(position_to_offset(&rope, Position::new(2, 9), enc), 6);
            assert_eq!(offset_to_position(&rope, 6, enc), Position::new(2, 1));
            assert_eq!(offset_to_position(&rope, 7, enc).line, 3);
            let last = text.find('f').unwrap();
            assert_eq!(offset_to_position(&rope, last, enc).line, 3);
        }
        // An edit that joins a CR and an LF makes one line end of the two.
        let mut rope = Rope::from_str("x\ry");
        let change = TextDocumentContentChangeEvent {
            range: Some(Range::new(Position::new(1, 0), Position::new(1, 0))),
            range_length: None,
            text: "\n".into(),
        };
        apply_change(&mut rope, &change, Encoding::Utf16);
        assert_eq!(rope.to_string(), "x\r\ny");
        assert_eq!(rope.len_lines(), 2);
    }

    #[test]
    fn the_cursor_agrees_with_the_rope() {
        let text = "(λ x)\r\n😀 é\rab\n\n\r\r\nend\r";
        let rope = Rope::from_str(text);
        for enc in [Encoding::Utf8, Encoding::Utf16] {
            let offsets: Vec<u32> = (0..=text.len() as u32 + 2).collect();
            let want: Vec<Position> = offsets
                .iter()
                .map(|&o| offset_to_position(&rope, o as usize, enc))
                .collect();
            // In order, in reverse (through the rope), and shuffled by positions_of.
            let mut c = Cursor::new(&rope, text, enc);
            for (o, w) in offsets.iter().zip(&want) {
                assert_eq!(c.at(*o as usize), *w, "{enc:?} at {o}");
            }
            let mut c = Cursor::new(&rope, text, enc);
            for (o, w) in offsets.iter().zip(&want).rev() {
                assert_eq!(c.at(*o as usize), *w, "{enc:?} back at {o}");
            }
            let mixed: Vec<u32> = offsets
                .iter()
                .map(|o| (o * 7) % (text.len() as u32 + 1))
                .collect();
            let got = positions_of(&rope, text, &mixed, enc);
            for (o, g) in mixed.iter().zip(got) {
                assert_eq!(
                    g,
                    offset_to_position(&rope, *o as usize, enc),
                    "{enc:?} mixed {o}"
                );
            }
        }
    }

    #[test]
    fn the_cursor_jumps_far_ahead_through_the_rope() {
        let text = "é😀x\r\ny\r".repeat(20_000);
        let rope = Rope::from_str(&text);
        let mut c = Cursor::new(&rope, &text, Encoding::Utf16);
        for off in (0..text.len())
            .step_by(7919)
            .chain([text.len() - 1, text.len()])
        {
            assert_eq!(
                c.at(off),
                offset_to_position(&rope, off, Encoding::Utf16),
                "{off}"
            );
        }
    }

    #[test]
    fn applies_incremental_edits() {
        let mut rope = Rope::from_str("(+ 1 2)\n");
        let change = TextDocumentContentChangeEvent {
            range: Some(Range::new(Position::new(0, 3), Position::new(0, 4))),
            range_length: None,
            text: "λ😀".into(),
        };
        apply_change(&mut rope, &change, Encoding::Utf16);
        assert_eq!(rope.to_string(), "(+ λ😀 2)\n");
        let change = TextDocumentContentChangeEvent {
            range: Some(Range::new(Position::new(0, 4), Position::new(0, 6))),
            range_length: None,
            text: "".into(),
        };
        apply_change(&mut rope, &change, Encoding::Utf16);
        assert_eq!(rope.to_string(), "(+ λ 2)\n");
    }
}

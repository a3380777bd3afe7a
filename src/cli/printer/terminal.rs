//! Terminal safety: text bound for a terminal passes through [`TerminalSafe`], which prints
//! control characters (C0 but TAB and the line feeds that end lines, DEL, C1) escaped
//! (`\x1b`, `\u{9b}`), so that a value such as `\x1b]0;title\x07` or `\x1b[2J` in an input
//! cannot retitle, clear or otherwise drive the user's terminal. Files keep the real bytes:
//! only what is printed goes through here.

use std::io::{self, Write};

/// A writer that escapes control characters on their way to `inner`.
pub struct TerminalSafe<W: Write> {
    inner: W,
    /// The first byte of a two-byte UTF-8 character split across two writes (0xC2 starts every
    /// C1 control).
    pending: Option<u8>,
}

impl<W: Write> TerminalSafe<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        TerminalSafe {
            inner,
            pending: None,
        }
    }
}

/// How a control byte (or the C1 character after 0xC2) is shown.
fn escaped_byte(b: u8) -> String {
    format!("\\x{b:02x}")
}

impl<W: Write> Write for TerminalSafe<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut out: Vec<u8> = Vec::with_capacity(buf.len());
        let mut bytes = buf.iter().copied().peekable();
        if let Some(first) = self.pending.take() {
            match bytes.peek() {
                Some(&next @ 0x80..=0x9f) => {
                    out.extend_from_slice(format!("\\u{{{next:x}}}").as_bytes());
                    bytes.next();
                }
                _ => out.push(first),
            }
        }
        while let Some(b) = bytes.next() {
            match b {
                b'\t' | b'\n' => out.push(b),
                0x00..=0x1f | 0x7f => out.extend_from_slice(escaped_byte(b).as_bytes()),
                0xc2 => match bytes.peek() {
                    Some(&next @ 0x80..=0x9f) => {
                        out.extend_from_slice(format!("\\u{{{next:x}}}").as_bytes());
                        bytes.next();
                    }
                    Some(_) => out.push(b),
                    None => self.pending = Some(b),
                },
                _ => out.push(b),
            }
        }
        self.inner.write_all(&out)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if let Some(b) = self.pending.take() {
            self.inner.write_all(&[b])?;
        }
        self.inner.flush()
    }
}

impl<W: Write> Drop for TerminalSafe<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(pieces: &[&[u8]]) -> String {
        let mut out = Vec::new();
        {
            let mut w = TerminalSafe::new(&mut out);
            for piece in pieces {
                w.write_all(piece).unwrap();
            }
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escape_sequences_are_printed_escaped() {
        assert_eq!(
            shown(&["code \x1b]0;title\x07 and \x1b[2J\r\n".as_bytes()]),
            "code \\x1b]0;title\\x07 and \\x1b[2J\\x0d\n"
        );
        assert_eq!(shown(&["a\tb\x7fc\0".as_bytes()]), "a\tb\\x7fc\\x00");
    }

    #[test]
    fn c1_controls_are_escaped_even_split_across_writes() {
        assert_eq!(shown(&["x\u{9b}2J".as_bytes()]), "x\\u{9b}2J");
        let bytes = "x\u{9b}y".as_bytes();
        assert_eq!(shown(&[&bytes[..2], &bytes[2..]]), "x\\u{9b}y");
    }

    #[test]
    fn other_text_passes_unchanged() {
        let text = "żółw Ä ü € 🎉 \u{a0}";
        assert_eq!(shown(&[text.as_bytes()]), text);
        let bytes = "é".as_bytes();
        assert_eq!(shown(&[&bytes[..1], &bytes[1..]]), "é");
    }
}

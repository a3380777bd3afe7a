//! Text decoding: inputs in UTF-16 (found by their BOM) or a legacy encoding (`--encoding
//! windows-1252`, any WHATWG label) are transcoded to UTF-8 as they stream. A byte sequence the
//! encoding cannot decode becomes the byte 0xFF, which is never valid UTF-8, so the field that
//! held it is rejected as `invalid_encoding` downstream instead of being silently replaced.

use std::io::{self, BufRead, Read};

use encoding_rs::{Decoder, DecoderResult, Encoding, UTF_16BE, UTF_16LE, UTF_8};

/// The encoding a source is read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    /// UTF-8 (with or without BOM): the bytes pass through and are validated per field.
    Utf8,
    /// Anything else, transcoded to UTF-8.
    Other(&'static Encoding),
}

impl TextEncoding {
    /// Looks up a WHATWG label (`windows-1252`, `latin1`, `utf-16le`, `shift_jis`, ...).
    pub fn for_label(label: &str) -> Option<Self> {
        Encoding::for_label(label.trim().as_bytes()).map(|e| {
            if e == UTF_8 {
                TextEncoding::Utf8
            } else {
                TextEncoding::Other(e)
            }
        })
    }

    /// The encoding's label (`UTF-8`, `windows-1252`, `UTF-16LE`).
    pub fn name(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Other(e) => e.name(),
        }
    }
}

/// Decides the encoding of a source from its BOM, then the label the user gave (a BOM wins, as
/// in the WHATWG decode algorithm), then UTF-8.
pub fn sniff(source: &mut impl BufRead, label: Option<TextEncoding>) -> io::Result<TextEncoding> {
    let head = source.fill_buf()?;
    Ok(if head.starts_with(b"\xEF\xBB\xBF") {
        TextEncoding::Utf8
    } else if head.starts_with(b"\xFF\xFE") {
        TextEncoding::Other(UTF_16LE)
    } else if head.starts_with(b"\xFE\xFF") {
        TextEncoding::Other(UTF_16BE)
    } else {
        label.unwrap_or(TextEncoding::Utf8)
    })
}

/// A reader that transcodes its source to UTF-8, marking undecodable input with 0xFF.
pub struct Transcoder<R> {
    source: R,
    decoder: Decoder,
    input: Vec<u8>,
    input_start: usize,
    input_end: usize,
    eof: bool,
    finished: bool,
    output: Vec<u8>,
    output_start: usize,
    output_end: usize,
}

impl<R: Read> Transcoder<R> {
    /// Decodes `source` from `encoding` into UTF-8, a byte-order mark taken off.
    pub fn new(source: R, encoding: &'static Encoding) -> Self {
        Transcoder {
            source,
            decoder: encoding.new_decoder_with_bom_removal(),
            input: vec![0; 64 * 1024],
            input_start: 0,
            input_end: 0,
            eof: false,
            finished: false,
            output: vec![0; 128 * 1024],
            output_start: 0,
            output_end: 0,
        }
    }

    /// Decodes the next piece of input into the output buffer.
    fn decode_more(&mut self) -> io::Result<()> {
        if self.input_start == self.input_end && !self.eof {
            self.input_start = 0;
            self.input_end = loop {
                match self.source.read(&mut self.input) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            };
            self.eof = self.input_end == 0;
        }
        // One byte of the output is kept free for the 0xFF marker.
        let room = self.output.len() - 1;
        let (result, read, written) = self.decoder.decode_to_utf8_without_replacement(
            &self.input[self.input_start..self.input_end],
            &mut self.output[..room],
            self.eof,
        );
        self.input_start += read;
        self.output_start = 0;
        self.output_end = written;
        match result {
            DecoderResult::InputEmpty => self.finished = self.eof,
            DecoderResult::OutputFull => {}
            DecoderResult::Malformed(_, _) => {
                self.output[self.output_end] = 0xFF;
                self.output_end += 1;
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for Transcoder<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.output_start == self.output_end {
            if self.finished || out.is_empty() {
                return Ok(0);
            }
            self.decode_more()?;
        }
        let n = out.len().min(self.output_end - self.output_start);
        out[..n].copy_from_slice(&self.output[self.output_start..self.output_start + n]);
        self.output_start += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transcode(bytes: &[u8], encoding: &'static Encoding) -> Vec<u8> {
        let mut out = Vec::new();
        Transcoder::new(bytes, encoding)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn windows_1252_becomes_utf8() {
        let label = TextEncoding::for_label("windows-1252").unwrap();
        let TextEncoding::Other(e) = label else {
            panic!()
        };
        assert_eq!(transcode(b"caf\xe9;\x80", e), "café;€".as_bytes());
    }

    #[test]
    fn utf16_with_bom_becomes_utf8_without_bom() {
        let mut le = vec![0xFF, 0xFE];
        for unit in "Code\nÄ1".encode_utf16() {
            le.extend_from_slice(&unit.to_le_bytes());
        }
        let mut source = &le[..];
        let sniffed = sniff(&mut std::io::BufReader::new(&mut source), None).unwrap();
        assert_eq!(sniffed, TextEncoding::Other(UTF_16LE));
        assert_eq!(transcode(&le, UTF_16LE), "Code\nÄ1".as_bytes());
    }

    #[test]
    fn undecodable_input_is_marked_not_replaced() {
        // An unpaired surrogate in UTF-16LE.
        let bytes = [b'A', 0, 0x00, 0xD8, b'B', 0];
        let out = transcode(&bytes, UTF_16LE);
        assert_eq!(out, b"A\xFFB");
        assert!(std::str::from_utf8(&out).is_err());
    }

    #[test]
    fn tiny_reads_lose_nothing() {
        let mut reader = Transcoder::new(&b"caf\xe9 cr\xe8me"[..], encoding_rs::WINDOWS_1252);
        let mut out = Vec::new();
        let mut byte = [0u8; 1];
        while reader.read(&mut byte).unwrap() == 1 {
            out.push(byte[0]);
        }
        assert_eq!(out, "café crème".as_bytes());
    }

    #[test]
    fn labels_resolve_like_browsers() {
        assert_eq!(
            TextEncoding::for_label("latin1").map(TextEncoding::name),
            Some("windows-1252")
        );
        assert_eq!(TextEncoding::for_label("utf8"), Some(TextEncoding::Utf8));
        assert_eq!(TextEncoding::for_label("klingon"), None);
    }
}

//! Splitting bytes into CSV records with `csv-core`, over a buffer we own, so that every record
//! knows the physical line it starts on (blank lines, CRLF, lone CR and quoted newlines
//! counted exactly) and its raw bytes, kept for records that cannot be split into columns.

use std::io::{self, Read};

use csv::ByteRecord;

const BUFFER: usize = 256 * 1024;

/// One record as split.
#[derive(Debug)]
pub struct SplitRecord {
    /// Physical line (1-based) of the record's first byte.
    pub line: u64,
    pub fields: ByteRecord,
}

/// Splits a byte source into records.
pub struct Splitter<R> {
    source: R,
    core: csv_core::Reader,
    buf: Vec<u8>,
    pos: usize,
    filled: usize,
    eof: bool,
    /// Line of the next unread byte.
    line: u64,
    /// The last byte consumed was a CR whose line break is not counted yet.
    pending_cr: bool,
    out: Vec<u8>,
    ends: Vec<usize>,
    /// The raw bytes of the last record, terminator excluded.
    raw: Vec<u8>,
    started: bool,
}

impl<R: Read> Splitter<R> {
    pub fn new(source: R) -> Self {
        Splitter {
            source,
            core: csv_core::ReaderBuilder::new().build(),
            buf: vec![0; BUFFER],
            pos: 0,
            filled: 0,
            eof: false,
            line: 1,
            pending_cr: false,
            out: vec![0; 4096],
            ends: vec![0; 64],
            raw: Vec::new(),
            started: false,
        }
    }

    /// The raw bytes of the record last returned, without its line terminator.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// Gives back the source, for reading what is left of it.
    pub fn into_source(self) -> R {
        self.source
    }

    fn refill(&mut self) -> io::Result<()> {
        if self.pos < self.filled || self.eof {
            return Ok(());
        }
        self.pos = 0;
        self.filled = loop {
            match self.source.read(&mut self.buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if self.filled == 0 {
            self.eof = true;
        }
        if !self.started {
            self.started = true;
            if self.buf[..self.filled].starts_with(b"\xEF\xBB\xBF") {
                self.pos = 3;
            }
        }
        Ok(())
    }

    /// The next record, or None at the end of the input. Empty lines between records are
    /// skipped (they are not records); a line of only spaces is a record of one field.
    pub fn next_record(&mut self) -> io::Result<Option<SplitRecord>> {
        // Skip line terminators (and empty lines) up to the record's first byte.
        loop {
            self.refill()?;
            if self.pos == self.filled {
                return Ok(None);
            }
            let b = self.buf[self.pos];
            if b != b'\r' && b != b'\n' {
                break;
            }
            count_lines(&mut self.line, &mut self.pending_cr, &[b]);
            self.pos += 1;
        }
        if self.pending_cr {
            self.line += 1;
            self.pending_cr = false;
        }
        let line = self.line;
        self.raw.clear();
        let (mut out_len, mut ends_len) = (0, 0);
        loop {
            self.refill()?;
            let input = &self.buf[self.pos..self.filled];
            let (result, nin, nout, nend) =
                self.core
                    .read_record(input, &mut self.out[out_len..], &mut self.ends[ends_len..]);
            let consumed = &self.buf[self.pos..self.pos + nin];
            self.raw.extend_from_slice(consumed);
            count_lines(&mut self.line, &mut self.pending_cr, consumed);
            self.pos += nin;
            out_len += nout;
            ends_len += nend;
            match result {
                csv_core::ReadRecordResult::InputEmpty => {}
                csv_core::ReadRecordResult::OutputFull => {
                    let len = self.out.len();
                    self.out.resize(len * 2, 0);
                }
                csv_core::ReadRecordResult::OutputEndsFull => {
                    let len = self.ends.len();
                    self.ends.resize(len * 2, 0);
                }
                csv_core::ReadRecordResult::Record => break,
                csv_core::ReadRecordResult::End => {
                    if ends_len == 0 {
                        return Ok(None);
                    }
                    break;
                }
            }
        }
        while matches!(self.raw.last(), Some(b'\r' | b'\n')) {
            self.raw.pop();
        }
        let mut fields = ByteRecord::with_capacity(out_len, ends_len);
        let mut start = 0;
        for &end in &self.ends[..ends_len] {
            fields.push_field(&self.out[start..end]);
            start = end;
        }
        Ok(Some(SplitRecord { line, fields }))
    }
}

/// Counts line breaks in consumed bytes: LF, CRLF (once) and a lone CR each end a line. A CR
/// is counted when the byte after it is known not to be LF.
fn count_lines(line: &mut u64, pending_cr: &mut bool, bytes: &[u8]) {
    for &b in bytes {
        if b == b'\n' {
            *line += 1;
            *pending_cr = false;
        } else {
            if *pending_cr {
                *line += 1;
            }
            *pending_cr = b == b'\r';
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn split(bytes: &[u8]) -> Vec<(u64, Vec<String>, String)> {
        let mut s = Splitter::new(bytes);
        let mut all = Vec::new();
        while let Some(r) = s.next_record().unwrap() {
            let fields = r
                .fields
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect();
            all.push((
                r.line,
                fields,
                String::from_utf8_lossy(s.raw()).into_owned(),
            ));
        }
        all
    }

    fn lines(bytes: &[u8]) -> Vec<u64> {
        split(bytes).into_iter().map(|(l, _, _)| l).collect()
    }

    #[test]
    fn lines_are_exact_for_every_line_ending() {
        assert_eq!(lines(b"h\na\nb\n"), [1, 2, 3]);
        assert_eq!(lines(b"h\r\na\r\nb"), [1, 2, 3]);
        assert_eq!(lines(b"h\ra\rb\r"), [1, 2, 3], "lone CR (old Mac)");
        assert_eq!(
            lines(b"h\n\na\n\n\nb\n"),
            [1, 3, 6],
            "blank lines are not records"
        );
        assert_eq!(
            lines(b"h\r\r\na\r\r\nb"),
            [1, 3, 5],
            "\\r\\r\\n is a line and an empty line"
        );
        assert_eq!(lines(b"h\n\"x\ny\"\nb\n"), [1, 2, 4], "quoted newline");
        assert_eq!(lines(b"\xEF\xBB\xBFh\na\n"), [1, 2]);
    }

    #[test]
    fn raw_text_is_kept_without_the_terminator() {
        let records = split(b"Code,Note\r\nA,\"x, y\"\r\n");
        assert_eq!(records[1].2, "A,\"x, y\"");
        assert_eq!(records[1].1, ["A", "x, y"]);
    }

    #[test]
    fn records_larger_than_the_buffers_are_whole() {
        let long = "x".repeat(BUFFER * 2 + 17);
        let many = vec!["f"; 300].join(",");
        let text = format!("h\n{long}\n{many}\nlast\n");
        let records = split(text.as_bytes());
        assert_eq!(records[1].1[0].len(), long.len());
        assert_eq!(records[2].1.len(), 300);
        assert_eq!(records[3].0, 4);
    }

    proptest! {
        /// Whatever the csv crate writes, we split back into the same fields.
        #[test]
        fn reads_back_what_a_csv_writer_wrote(
            rows in proptest::collection::vec(proptest::collection::vec("[a-z,\"\r\n ü]{0,6}", 3), 1..20),
            crlf: bool,
        ) {
            let mut writer = csv::WriterBuilder::new()
                .terminator(if crlf { csv::Terminator::CRLF } else { csv::Terminator::Any(b'\n') })
                .from_writer(Vec::new());
            for row in &rows {
                writer.write_record(row).unwrap();
            }
            let bytes = writer.into_inner().unwrap();
            let got: Vec<Vec<String>> = split(&bytes).into_iter().map(|(_, f, _)| f).collect();
            // A record whose only content is empty fields written as "" is still a record.
            prop_assert_eq!(got, rows);
        }
    }
}

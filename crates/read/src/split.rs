//! Splitting bytes into CSV records with `csv-core`, over a buffer we own, so that every record
//! knows the physical line it starts on (blank lines, CRLF, lone CR, `\r\r\n` and quoted
//! newlines counted exactly), keeps its raw bytes, and is checked for damage csv-core forgives:
//! a stray quote in an unquoted field, a NUL byte, a quote that is never closed, a record past
//! the size bound. A damaged record is reported and reading resumes at the line after its start,
//! so one broken quote never swallows the rest of a file.

use std::io::{self, Read};

use csv::ByteRecord;

const BUFFER: usize = 256 * 1024;

/// The delimiters sniffed from the header line, in the order ties are broken.
pub const SNIFFED_DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// How to split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitOptions {
    /// The field delimiter; None sniffs it from the first line.
    pub delimiter: Option<u8>,
    /// The quote character (`"` unless `--quote` says otherwise).
    pub quote: u8,
    /// A record larger than this is rejected and reading resumes at the line after its start.
    pub max_record_bytes: usize,
    /// Physical lines before the header to skip (a title, a preamble).
    pub skip_lines: u64,
    /// Inside a quoted field, this byte followed by the quote is a quote, followed by itself is
    /// itself (e.g. `\`); None: only a doubled quote is a quote.
    pub escape: Option<u8>,
}

impl Default for SplitOptions {
    fn default() -> Self {
        SplitOptions {
            delimiter: None,
            quote: b'"',
            max_record_bytes: 1 << 20,
            skip_lines: 0,
            escape: None,
        }
    }
}

/// What is wrong with a record's bytes, beyond its field count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Damage {
    /// A quote inside an unquoted field, or text after a closing quote.
    StrayQuote,
    /// A quote after a delimiter and spaces (`a, "b"`): fields separated by `, `.
    SpaceBeforeQuote,
    /// A NUL byte.
    NulByte,
    /// A quote opened in the record is never closed before the end of the input.
    Unterminated,
    /// The record grew past the size bound (an unclosed quote, or a giant line).
    TooLong,
    /// A quote opened on this line ran on over later lines into a record that is broken (a
    /// stray quote, or not the header's number of fields): this line alone is the record, and
    /// reading resumed at the next line.
    RunsOn,
}

/// The records read whole over several lines (a quoted value with line breaks): how many,
/// how many lines they took beyond their first (lines that are no row of their own), and how
/// many hold a later line that reads alone as a row of the file (the header's width), which a
/// stray quote may have joined.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MultiLine {
    /// Records over several lines, kept whole.
    pub records: u64,
    /// Lines those records took beyond their first.
    pub lines: u64,
    /// Those records of which a later line reads alone as a sound row of the header's width.
    pub row_like: u64,
}

impl MultiLine {
    /// Adds `other`'s counts.
    pub fn add(&mut self, other: MultiLine) {
        self.records += other.records;
        self.lines += other.lines;
        self.row_like += other.row_like;
    }
}

/// One record as split.
#[derive(Debug)]
pub struct SplitRecord {
    /// Physical line (1-based) of the record's first byte.
    pub line: u64,
    /// The fields.
    pub fields: ByteRecord,
    /// What is wrong with the record's bytes, if anything.
    pub damage: Option<Damage>,
}

/// Splits a byte source into records.
pub struct Splitter<R> {
    source: R,
    options: SplitOptions,
    core: Option<csv_core::Reader>,
    delimiter: u8,
    buf: Vec<u8>,
    pos: usize,
    filled: usize,
    eof: bool,
    /// Line of the next unread byte.
    line: u64,
    /// The last byte consumed was a CR whose line break is not counted yet.
    pending_cr: bool,
    /// Line on which the last record's content ended.
    content_end_line: u64,
    /// Empty lines met since the count was last taken.
    empty_lines: u64,
    out: Vec<u8>,
    ends: Vec<usize>,
    /// The raw bytes of the last record, terminator excluded (its first line when damaged),
    /// when they are not in `buf` at `raw_in_buf`.
    raw: Vec<u8>,
    raw_in_buf: Option<(usize, usize)>,
    started: bool,
    /// The last record was one giant line cut at the size bound: the rest of that line is
    /// dropped before the next record is read (not before: a caller that stops at the cut
    /// record, as the header reader does, never reads an endless line to its end).
    rest_of_line_to_drop: bool,
    /// The header's number of fields, once known: a record over several lines that does not
    /// have it is cut to its first line (see [`Damage::RunsOn`]).
    expected_fields: Option<usize>,
    lines_skipped: u64,
    /// The records kept whole over several lines, so far.
    multi_line: MultiLine,
    /// Readers for looking at a record's other readings (built once: building one costs
    /// about what reading a record does).
    probes: [csv_core::Reader; 2],
}

impl<R: Read> Splitter<R> {
    /// Splits `source` with `options`.
    pub fn new(source: R, options: SplitOptions) -> Self {
        Splitter {
            source,
            options,
            core: None,
            delimiter: options.delimiter.unwrap_or(b','),
            buf: vec![0; BUFFER],
            pos: 0,
            filled: 0,
            eof: false,
            line: 1,
            pending_cr: false,
            content_end_line: 0,
            empty_lines: 0,
            out: vec![0; 4096],
            ends: vec![0; 64],
            raw: Vec::new(),
            raw_in_buf: None,
            started: false,
            rest_of_line_to_drop: false,
            expected_fields: None,
            lines_skipped: 0,
            multi_line: MultiLine::default(),
            probes: [csv_core::Reader::default(), csv_core::Reader::default()],
        }
    }

    /// Sets the header's number of fields (see [`Damage::RunsOn`]).
    pub fn expect_fields(&mut self, count: usize) {
        self.expected_fields = Some(count);
    }

    /// The raw bytes of the record last returned, without its line terminator; for a damaged
    /// record, its first line.
    pub fn raw(&self) -> &[u8] {
        match self.raw_in_buf {
            Some((start, end)) => &self.buf[start..end],
            None => &self.raw,
        }
    }

    /// Whether the input looks binary: its first block holds NUL bytes or mostly control bytes.
    pub fn looks_binary(&self) -> bool {
        let head = &self.buf[..self.filled.min(8192)];
        let control = head
            .iter()
            .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\r' | b'\n'))
            .count();
        head.contains(&0) || control * 10 > head.len()
    }

    /// The delimiter in use (sniffed or given); known once the first record is read.
    pub fn delimiter(&self) -> u8 {
        self.delimiter
    }

    /// Empty lines met since the last call (between records, and at the end once the last
    /// record has been read).
    pub fn take_empty_lines(&mut self) -> u64 {
        std::mem::take(&mut self.empty_lines)
    }

    /// The records read whole over several lines so far (see [`MultiLine`]).
    pub fn multi_line(&self) -> MultiLine {
        self.multi_line
    }

    /// Lines skipped before the header (`skip_lines`, fewer when the input had fewer).
    pub fn lines_skipped(&self) -> u64 {
        self.lines_skipped
    }

    /// Gives back the source, for reading what is left of it.
    pub fn into_source(self) -> R {
        self.source
    }

    fn refill(&mut self) -> io::Result<()> {
        if self.pos < self.filled || self.eof {
            return Ok(());
        }
        if self.buf.len() > BUFFER {
            self.buf.truncate(BUFFER); // after a replay grew it
        }
        self.pos = 0;
        self.filled = self.read_some(0)?;
        if self.filled == 0 {
            self.eof = true;
        }
        if !self.started {
            self.started = true;
            self.skip_preamble()?;
            // Sniffing needs the whole first line: read on until a line break, a full buffer
            // or the end.
            while self.filled > 0
                && self.filled < self.buf.len()
                && !first_line_complete(&self.buf[..self.filled], self.options.quote)
            {
                let n = self.read_some(self.filled)?;
                if n == 0 {
                    break;
                }
                self.filled += n;
            }
            if self.buf[..self.filled].starts_with(b"\xEF\xBB\xBF") {
                self.pos = 3;
            }
            if self.options.delimiter.is_none() {
                self.delimiter =
                    sniff_delimiter(&self.buf[self.pos..self.filled], self.options.quote);
            }
            self.core = Some(self.options.core(self.delimiter));
            self.probes = [
                self.options.core(self.delimiter),
                self.options.core(self.delimiter),
            ];
        }
        Ok(())
    }

    /// The next record, or None at the end of the input. Empty lines are not records (they are
    /// counted, see [`Splitter::take_empty_lines`]); a line of only spaces is a record.
    pub fn next_record(&mut self) -> io::Result<Option<SplitRecord>> {
        if self.rest_of_line_to_drop {
            self.rest_of_line_to_drop = false;
            self.drop_rest_of_line()?;
        }
        // Skip line terminators (and empty lines) up to the record's first byte.
        loop {
            self.refill()?;
            if self.pos == self.filled {
                if self.pending_cr {
                    self.line += 1;
                    self.pending_cr = false;
                }
                // At the end, the last line break ends the last line: it is no empty line.
                self.empty_lines += self.line.saturating_sub(self.content_end_line + 1);
                self.content_end_line = self.line.saturating_sub(1);
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
        self.empty_lines += line.saturating_sub(self.content_end_line + 1);
        // The record's bytes stay in the buffer unless it spans a refill; only then are they
        // copied (into `raw`).
        self.raw.clear();
        self.raw_in_buf = None;
        let mut start = self.pos;
        let mut spilled = false;
        let (mut out_len, mut ends_len) = (0, 0);
        let mut damage = None;
        loop {
            if self.pos == self.filled && !self.eof {
                self.raw.extend_from_slice(&self.buf[start..self.filled]);
                spilled = true;
                self.refill()?;
                start = self.pos;
            }
            let core = self.core.as_mut().expect("built on the first refill");
            let input = &self.buf[self.pos..self.filled];
            let (result, nin, nout, nend) =
                core.read_record(input, &mut self.out[out_len..], &mut self.ends[ends_len..]);
            count_lines(
                &mut self.line,
                &mut self.pending_cr,
                &self.buf[self.pos..self.pos + nin],
            );
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
                    if ends_len == 0 && self.raw.is_empty() && self.pos == start {
                        return Ok(None);
                    }
                    break;
                }
            }
            if self.raw.len() + (self.pos - start) > self.options.max_record_bytes {
                damage = Some(Damage::TooLong);
                break;
            }
        }
        // A record that completed in one read is held to the same bound as one read in pieces.
        if damage.is_none() && self.raw.len() + (self.pos - start) > self.options.max_record_bytes {
            damage = Some(Damage::TooLong);
        }
        // A record of the wrong width over several lines is read on past (see
        // `cut_reads_better`): what follows it must be in the buffer.
        if damage.is_none()
            && self.line > line
            && self.expected_fields.is_some_and(|n| n != ends_len)
        {
            self.fill_lookahead()?;
        }
        // Whether the record's bytes are all in the buffer, from `start` (no refill met it).
        let in_buffer = !spilled;
        let mut end = self.pos;
        if spilled || damage.is_some() {
            self.raw.extend_from_slice(&self.buf[start..end]);
            spilled = true;
        }
        let record_bytes: &[u8] = if spilled {
            &self.raw
        } else {
            &self.buf[start..end]
        };
        // Where the record's content ends: a consumed LF has moved the line on already.
        let terminated_by_lf = record_bytes.last() == Some(&b'\n');
        let mut trimmed = record_bytes.len();
        if damage.is_none() {
            while trimmed > 0 && matches!(record_bytes[trimmed - 1], b'\r' | b'\n') {
                trimmed -= 1;
            }
            let dialect = self.options.dialect(self.delimiter);
            damage = dialect.inspect(&record_bytes[..trimmed]);
            // A broken record over several lines is most likely a stray quote that swallowed
            // the lines after it: its first line alone is rejected, and the next lines are read
            // again as records of their own. (A sound record over several lines, a real
            // multi-line field, is kept whole.)
            // Only a record whose bytes moved the line count on past its own terminator holds a
            // line break (most records do not: no search for them).
            let spans_lines = self.line > line + 1 || (self.line > line && !terminated_by_lf);
            let first_break = spans_lines
                .then(|| memchr::memchr2(b'\n', b'\r', &record_bytes[..trimmed]))
                .flatten();
            // A record over several lines whose bytes are broken (a stray quote) is cut to its
            // first line. One whose bytes are sound (of the wrong width, or even of the right
            // one) may still be a quote opened on its first line and closed by a quote on a
            // later one: it is cut when what follows its first line reads on its own as sound
            // records of the header's width ending where it ends; else it stays whole (a real
            // multi-line field).
            let wrong_count = self.expected_fields.is_some_and(|n| n != ends_len);
            let swallowed = damage.is_none()
                && first_break.is_some_and(|at| {
                    let rest = after_line_break(record_bytes, at);
                    let Some(n) = self.expected_fields else {
                        return false;
                    };
                    let [probe_whole, probe_cut] = &mut self.probes;
                    // Closed by a quote that is no closing quote of its own line (an inch mark,
                    // `27"`, or a lone `"` line): what lies between the two lines, read without
                    // that last quote, is sound records of the header's width.
                    if let Some(before) = without_closing_quote(rest, dialect.quote) {
                        if splits_into_sound_records(before, probe_whole, dialect, n) {
                            return true;
                        }
                    }
                    if !wrong_count {
                        return splits_into_sound_records(rest, probe_whole, dialect, n);
                    }
                    // Of the wrong width: read on past it both ways, and cut when reading
                    // from its second line meets fewer broken records.
                    let first_line = record_bytes.len() - rest.len();
                    let following = &self.buf[self.pos..self.filled];
                    let window: std::borrow::Cow<[u8]> = if spilled {
                        let mut joined = record_bytes.to_vec();
                        joined.extend_from_slice(&following[..following.len().min(LOOKAHEAD)]);
                        joined.into()
                    } else {
                        let stop = (self.pos + LOOKAHEAD).min(self.filled);
                        (&self.buf[start..stop]).into()
                    };
                    cut_reads_better(
                        &window,
                        first_line,
                        record_bytes.len(),
                        self.eof && window.len() == record_bytes.len() + following.len(),
                        [probe_whole, probe_cut],
                        dialect,
                        n,
                    )
                });
            // Kept whole over several lines: counted, and a later line that reads alone as a
            // row of the file is a warning's worth (a stray quote may have joined rows).
            if let (None, false, Some(at), Some(n)) =
                (damage, swallowed, first_break, self.expected_fields)
            {
                let rest = after_line_break(&record_bytes[..trimmed], at);
                let [probe, _] = &mut self.probes;
                let row_like = rest
                    .split(|&b| b == b'\n' || b == b'\r')
                    .filter(|l| !l.is_empty())
                    .any(|l| splits_into_sound_records(l, probe, dialect, n));
                self.multi_line.records += 1;
                self.multi_line.row_like += u64::from(row_like);
                self.multi_line.lines += line_breaks(&record_bytes[..trimmed]);
            }
            if (swallowed
                || matches!(
                    damage,
                    Some(Damage::StrayQuote | Damage::SpaceBeforeQuote | Damage::NulByte)
                ))
                && first_break.is_some()
            {
                damage = Some(Damage::RunsOn);
                // Kept whole, terminator included: what follows its first line is read again.
                trimmed = if spilled { self.raw.len() } else { end - start };
                if !spilled {
                    self.raw.extend_from_slice(&self.buf[start..end]);
                    spilled = true;
                }
            }
        }
        if spilled {
            self.raw.truncate(trimmed);
        } else {
            end = start + trimmed;
            self.raw_in_buf = Some((start, end));
        }
        self.content_end_line = if terminated_by_lf && damage.is_none() {
            self.line - 1
        } else {
            self.line
        };
        if damage.is_some() {
            if let Some((a, b)) = self.raw_in_buf.take() {
                self.raw = self.buf[a..b].to_vec();
            }
        }
        if matches!(
            damage,
            Some(Damage::Unterminated | Damage::TooLong | Damage::RunsOn)
        ) {
            self.resume_after_first_line(line, in_buffer.then_some(start))?;
            // How much was read before the bound tripped depends on the reads; what is kept does not.
            self.raw.truncate(self.options.max_record_bytes);
            out_len = 0;
            ends_len = 0;
        }
        let mut fields = ByteRecord::with_capacity(out_len, ends_len);
        match self.options.escape.filter(|&e| e != self.options.quote) {
            // csv-core drops an escape before any byte; only before the quote or itself is it
            // an escape here, so such a record's fields are taken from its bytes again.
            Some(escape) if damage.is_none() && memchr::memchr(escape, self.raw()).is_some() => {
                let dialect = self.options.dialect(self.delimiter);
                for field in split_escaped(self.raw(), dialect, escape) {
                    fields.push_field(&field);
                }
            }
            _ => {
                let mut start = 0;
                for &end in &self.ends[..ends_len] {
                    fields.push_field(&self.out[start..end]);
                    start = end;
                }
            }
        }
        Ok(Some(SplitRecord {
            line,
            fields,
            damage,
        }))
    }

    /// Drops the first `skip_lines` physical lines (LF, CRLF or a lone CR each end one; quotes
    /// mean nothing there), and leaves what follows at the start of the buffer.
    fn skip_preamble(&mut self) -> io::Result<()> {
        let mut left = self.options.skip_lines;
        while left > 0 {
            if self.pos == self.filled {
                self.pos = 0;
                self.filled = self.read_some(0)?;
                if self.filled == 0 {
                    self.eof = true;
                    break;
                }
            }
            let rest = &self.buf[self.pos..self.filled];
            let Some(at) = memchr::memchr2(b'\n', b'\r', rest) else {
                self.pos = self.filled;
                continue;
            };
            self.pos += at + 1;
            if rest[at] == b'\r' {
                // A CR may be the first half of a CRLF that the next read brings.
                if self.pos == self.filled {
                    self.pos = 0;
                    self.filled = self.read_some(0)?;
                }
                if self.buf[self.pos..self.filled].first() == Some(&b'\n') {
                    self.pos += 1;
                }
            }
            left -= 1;
            self.line += 1;
            self.lines_skipped += 1;
        }
        self.content_end_line = self.line - 1;
        self.buf.copy_within(self.pos..self.filled, 0);
        self.filled -= self.pos;
        self.pos = 0;
        Ok(())
    }

    /// One read into the buffer from `at`, retried when interrupted.
    fn read_some(&mut self, at: usize) -> io::Result<usize> {
        loop {
            match self.source.read(&mut self.buf[at..]) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The next lines already in the buffer (up to `count`, not consumed), without their
    /// terminators: for a look at what follows the header.
    pub fn peek_lines(&self, count: usize) -> Vec<&[u8]> {
        self.buf[self.pos..self.filled]
            .split(|&b| b == b'\n')
            .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
            .filter(|line| !line.is_empty())
            .take(count)
            .collect()
    }

    /// Reads on into the free end of the buffer until [`LOOKAHEAD`] bytes follow the record
    /// just read, the buffer is full, or the input ends.
    fn fill_lookahead(&mut self) -> io::Result<()> {
        while !self.eof && self.filled - self.pos < LOOKAHEAD && self.filled < self.buf.len() {
            let n = self.read_some(self.filled)?;
            if n == 0 {
                self.eof = true;
            }
            self.filled += n;
        }
        Ok(())
    }

    /// Drops the input up to the next line break (the rest of a giant line).
    fn drop_rest_of_line(&mut self) -> io::Result<()> {
        loop {
            self.refill()?;
            if self.pos == self.filled {
                return Ok(());
            }
            let rest = &self.buf[self.pos..self.filled];
            match rest.iter().position(|&b| b == b'\n' || b == b'\r') {
                Some(at) => {
                    self.pos += at;
                    return Ok(());
                }
                None => self.pos = self.filled,
            }
        }
    }

    /// After a record that ran away (an unclosed quote), keeps its first line as its raw text
    /// and puts everything after that line back in front of the unread input.
    /// `in_buffer`: the record's bytes are still in the buffer from this offset on, and
    /// reading resumes by moving back in it (no copy).
    fn resume_after_first_line(
        &mut self,
        start_line: u64,
        in_buffer: Option<usize>,
    ) -> io::Result<()> {
        let first_break = memchr::memchr2(b'\n', b'\r', &self.raw);
        match first_break {
            Some(at) => {
                let skip = if self.raw[at] == b'\r' && self.raw.get(at + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                let breaks: Vec<u8> = self.raw[at..at + skip].to_vec();
                match in_buffer {
                    Some(start) => {
                        self.raw.truncate(at);
                        self.pos = start + at + skip;
                    }
                    None => {
                        let mut replay = self.raw.split_off(at);
                        replay.drain(..skip);
                        replay.extend_from_slice(&self.buf[self.pos..self.filled]);
                        self.filled = replay.len();
                        self.pos = 0;
                        self.buf = replay;
                        if self.buf.len() < BUFFER {
                            self.buf.resize(BUFFER, 0);
                        }
                    }
                }
                // Count the line break as if read: a CR at the very end may still pair with an
                // LF that comes next.
                self.line = start_line;
                self.pending_cr = false;
                count_lines(&mut self.line, &mut self.pending_cr, &breaks);
            }
            None => {
                // One giant line: the rest of it is dropped when the next record is asked for.
                self.rest_of_line_to_drop = true;
                self.line = start_line;
                self.pending_cr = false;
            }
        }
        self.content_end_line = start_line;
        if let Some(core) = self.core.as_mut() {
            core.reset();
        }
        Ok(())
    }
}

impl SplitOptions {
    /// The csv-core reader for these options.
    fn core(&self, delimiter: u8) -> csv_core::Reader {
        self.dialect(delimiter).core()
    }

    fn dialect(&self, delimiter: u8) -> Dialect {
        Dialect {
            delimiter,
            quote: self.quote,
            escape: self.escape,
        }
    }
}

/// How a file writes its fields: the delimiter, the quote and the escape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Dialect {
    delimiter: u8,
    quote: u8,
    escape: Option<u8>,
}

impl Dialect {
    fn core(self) -> csv_core::Reader {
        let mut builder = csv_core::ReaderBuilder::new();
        builder.delimiter(self.delimiter).quote(self.quote);
        if let Some(escape) = self.escape {
            builder
                .escape(Some(escape))
                .double_quote(escape == self.quote);
        }
        builder.build()
    }

    fn inspect(self, raw: &[u8]) -> Option<Damage> {
        inspect_escaped(raw, self.delimiter, self.quote, self.escape)
    }
}

/// The fields of a sound record's bytes in a dialect with an escape byte: inside a quoted
/// field, the escape before the quote gives the quote, before itself gives itself, and before
/// anything else is kept as written; a doubled quote is a quote too.
fn split_escaped(raw: &[u8], dialect: Dialect, escape: u8) -> Vec<Vec<u8>> {
    let mut fields = Vec::new();
    let mut field = Vec::new();
    let mut i = 0;
    let n = raw.len();
    loop {
        if i < n && raw[i] == dialect.quote {
            i += 1;
            while i < n {
                let b = raw[i];
                if b == escape && i + 1 < n && (raw[i + 1] == dialect.quote || raw[i + 1] == escape)
                {
                    field.push(raw[i + 1]);
                    i += 2;
                } else if b == dialect.quote && raw.get(i + 1) == Some(&dialect.quote) {
                    field.push(b);
                    i += 2;
                } else if b == dialect.quote {
                    i += 1;
                    break;
                } else {
                    field.push(b);
                    i += 1;
                }
            }
            // Up to the delimiter (a sound record has none other than it here).
            while i < n && raw[i] != dialect.delimiter {
                field.push(raw[i]);
                i += 1;
            }
        } else {
            while i < n && raw[i] != dialect.delimiter {
                field.push(raw[i]);
                i += 1;
            }
        }
        fields.push(std::mem::take(&mut field));
        if i >= n {
            return fields;
        }
        i += 1; // the delimiter
    }
}

/// How far past a broken record over several lines the two readings of it are compared.
const LOOKAHEAD: usize = 64 * 1024;

/// Whether reading `window` from `first_line` (the record cut to its first line, which counts
/// as one broken record) meets more sound records (or as many, and fewer broken ones, or as
/// many over fewer bytes) than reading it whole (it ends at `record_end` and counts as one broken record) and on from
/// there, up to the first offset where both readings are between records. `at_eof`: the
/// window ends where the input ends. Without such an offset in the window, the record stays
/// whole.
fn cut_reads_better(
    window: &[u8],
    first_line: usize,
    record_end: usize,
    at_eof: bool,
    [probe_whole, probe_cut]: [&mut csv_core::Reader; 2],
    dialect: Dialect,
    fields: usize,
) -> bool {
    let mut whole = Reading::new(record_end, probe_whole, dialect);
    let mut cut = Reading::new(first_line, probe_cut, dialect);
    // Each reading's broken records, their bytes, and its sound records so far.
    let mut tally_whole = Tally {
        broken: 1,
        broken_bytes: record_end,
        sound: 0,
    };
    let mut tally_cut = Tally {
        broken: 1,
        broken_bytes: first_line,
        sound: 0,
    };
    loop {
        if whole.pos == cut.pos {
            // More sound records; then fewer broken ones; then damage on fewer bytes (one line
            // rather than many).
            let rank = |t: &Tally| (std::cmp::Reverse(t.sound), t.broken, t.broken_bytes);
            return rank(&tally_cut) < rank(&tally_whole);
        }
        let (reading, tally) = if whole.pos < cut.pos {
            (&mut whole, &mut tally_whole)
        } else {
            (&mut cut, &mut tally_cut)
        };
        let start = reading.pos;
        match reading.next(window, at_eof, fields) {
            None => return false,
            Some(true) => tally.sound += 1,
            Some(false) => {
                tally.broken += 1;
                tally.broken_bytes += reading.pos - start;
            }
        }
    }
}

/// What one reading of a window met.
struct Tally {
    broken: u32,
    broken_bytes: usize,
    sound: u32,
}

/// One way of reading a window record by record.
struct Reading<'a> {
    core: &'a mut csv_core::Reader,
    pos: usize,
    dialect: Dialect,
}

impl<'a> Reading<'a> {
    fn new(pos: usize, core: &'a mut csv_core::Reader, dialect: Dialect) -> Self {
        core.reset();
        Reading { core, pos, dialect }
    }

    /// Reads the next record: whether it is sound (no damage, `fields` wide), or None when the
    /// window ends inside it (or at its end, but not the input's).
    fn next(&mut self, window: &[u8], at_eof: bool, fields: usize) -> Option<bool> {
        let start = self.pos;
        // The fields' bytes are not looked at: a small buffer, emptied when full, will do.
        let mut out = [0u8; 4096];
        let mut ends = vec![0usize; fields + 1];
        let (mut out_len, mut ends_len) = (0, 0);
        let mut too_wide = false;
        loop {
            let input = &window[self.pos..];
            if input.is_empty() && !at_eof {
                return None;
            }
            let (result, nin, nout, nend) =
                self.core
                    .read_record(input, &mut out[out_len..], &mut ends[ends_len..]);
            self.pos += nin;
            out_len += nout;
            ends_len += nend;
            match result {
                csv_core::ReadRecordResult::InputEmpty => {}
                csv_core::ReadRecordResult::OutputFull => out_len = 0,
                // More fields than the header has.
                csv_core::ReadRecordResult::OutputEndsFull => {
                    too_wide = true;
                    ends_len = 0;
                }
                csv_core::ReadRecordResult::End => {
                    return (self.pos > start || at_eof).then_some(true);
                }
                csv_core::ReadRecordResult::Record => {
                    let mut raw = &window[start..self.pos];
                    while let [rest @ .., b'\r' | b'\n'] = raw {
                        raw = rest;
                    }
                    let damage = self.dialect.inspect(raw);
                    if let (Some(_), Some(at)) = (damage, memchr::memchr2(b'\n', b'\r', raw)) {
                        // As the splitter does: broken bytes over several lines are cut to
                        // the first line, and reading resumes on the next.
                        self.pos = window.len() - after_line_break(&window[start..], at).len();
                        self.core.reset();
                        return Some(false);
                    }
                    return Some(!too_wide && ends_len == fields && damage.is_none());
                }
            }
        }
    }
}

/// The line breaks in `bytes` (CRLF counted as one).
fn line_breaks(bytes: &[u8]) -> u64 {
    let mut count = 0;
    let mut after_cr = false;
    for &b in bytes {
        match b {
            b'\r' => {
                count += 1;
                after_cr = true;
            }
            b'\n' if after_cr => after_cr = false,
            b'\n' => count += 1,
            _ => after_cr = false,
        }
    }
    count
}

/// The bytes after the line break at `at` (CRLF counted as one).
fn after_line_break(bytes: &[u8], at: usize) -> &[u8] {
    let skip = if bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n') {
        2
    } else {
        1
    };
    &bytes[at + skip..]
}

/// `bytes` (what follows a record's first line) without the quote that ends them, when they
/// end on a quote that closes nothing of its own line: one after a character that is no
/// delimiter opening a quoted field on that line (`Monitor 27"`), or alone on its line. None
/// when they end otherwise (or on a doubled quote, `""`).
fn without_closing_quote(bytes: &[u8], quote: u8) -> Option<&[u8]> {
    let mut end = bytes.len();
    while end > 0 && matches!(bytes[end - 1], b'\r' | b'\n') {
        end -= 1;
    }
    if end == 0 || bytes[end - 1] != quote || (end >= 2 && bytes[end - 2] == quote) {
        return None;
    }
    let before = &bytes[..end - 1];
    // The last line, up to the quote: a quoted field of its own would have opened there.
    let line_start = memchr::memrchr2(b'\n', b'\r', before).map_or(0, |at| at + 1);
    if memchr::memchr(quote, &before[line_start..]).is_some() {
        return None;
    }
    // Without trailing line breaks: a lone quote line leaves one behind.
    let mut cut = before.len();
    while cut > 0 && matches!(before[cut - 1], b'\r' | b'\n') {
        cut -= 1;
    }
    (cut > 0).then_some(&before[..cut])
}

/// Whether `bytes` read from scratch are one or more records, each free of damage and of
/// `fields` fields, that end exactly where `bytes` end.
fn splits_into_sound_records(
    bytes: &[u8],
    core: &mut csv_core::Reader,
    dialect: Dialect,
    fields: usize,
) -> bool {
    let mut reading = Reading::new(0, core, dialect);
    let mut records = 0;
    while reading.pos < bytes.len() {
        match reading.next(bytes, true, fields) {
            Some(true) => records += 1,
            _ => return false,
        }
    }
    records > 0
}

/// Picks the most frequent of `, ; TAB |` outside quotes on the first line (ties in that order),
/// a comma when none occurs.
///
/// ```
/// use voucher_import_read::split::sniff_delimiter;
/// assert_eq!(sniff_delimiter(b"Code;Active;\"a,b\"\r\nX;true;1", b'"'), b';');
/// assert_eq!(sniff_delimiter(b"Code\n", b'"'), b',');
/// ```
pub fn sniff_delimiter(head: &[u8], quote: u8) -> u8 {
    let mut counts = [0usize; SNIFFED_DELIMITERS.len()];
    let mut quoted = false;
    for &b in head {
        if b == quote {
            quoted = !quoted;
        } else if !quoted && (b == b'\n' || b == b'\r') {
            break;
        } else if !quoted {
            if let Some(i) = SNIFFED_DELIMITERS.iter().position(|&d| d == b) {
                counts[i] += 1;
            }
        }
    }
    let best = (0..counts.len()).fold(0, |best, i| if counts[i] > counts[best] { i } else { best });
    SNIFFED_DELIMITERS[best]
}

/// Another of `, ; TAB |` than `given` that occurs, outside quotes, the same number of times
/// (at least once) on every line: the delimiter the lines seem to use.
pub fn consistent_delimiter(lines: &[Vec<u8>], given: u8, quote: u8) -> Option<u8> {
    SNIFFED_DELIMITERS
        .iter()
        .copied()
        .filter(|&d| d != given)
        .find(|&d| {
            let counts: Vec<usize> = lines
                .iter()
                .map(|line| {
                    let mut quoted = false;
                    line.iter()
                        .filter(|&&b| {
                            if b == quote {
                                quoted = !quoted;
                            }
                            !quoted && b == d
                        })
                        .count()
                })
                .collect();
            counts[0] > 0 && counts.iter().all(|&c| c == counts[0])
        })
}

/// A delimiter as the options spell it: `tab` or the character.
pub fn delimiter_name(delimiter: u8) -> String {
    match delimiter {
        b'\t' => "tab".into(),
        other => (other as char).to_string(),
    }
}

/// Whether `head` holds a line break outside quotes (the first line is all there).
fn first_line_complete(head: &[u8], quote: u8) -> bool {
    let mut quoted = false;
    for &b in head {
        if b == quote {
            quoted = !quoted;
        } else if !quoted && (b == b'\n' || b == b'\r') {
            return true;
        }
    }
    false
}

/// Finds what csv-core forgives in a record's raw bytes (terminator excluded).
///
/// ```
/// use voucher_import_read::split::{inspect, Damage};
/// assert_eq!(inspect(b"A,say \"hi\"", b',', b'"'), Some(Damage::StrayQuote));
/// assert_eq!(inspect(b"A,\"say \"\"hi\"\"\"", b',', b'"'), None);
/// ```
pub fn inspect(raw: &[u8], delimiter: u8, quote: u8) -> Option<Damage> {
    inspect_escaped(raw, delimiter, quote, None)
}

/// [`inspect`] for a file whose quoted fields escape the quote with `escape` (`\"`).
fn inspect_escaped(raw: &[u8], delimiter: u8, quote: u8, escape: Option<u8>) -> Option<Damage> {
    // One pass finds the first NUL or quote; most records have neither.
    let first = memchr::memchr2(0, quote, raw)?;
    if raw[first] == 0 || memchr::memchr(0, &raw[first..]).is_some() {
        return Some(Damage::NulByte);
    }
    let n = raw.len();
    let mut i = 0;
    loop {
        if i < n && raw[i] == quote {
            i += 1;
            loop {
                let next = match escape.filter(|&e| e != quote) {
                    // An escape takes the byte after it, whatever it is.
                    Some(e) => {
                        let mut k = i;
                        loop {
                            match raw.get(k) {
                                None => break None,
                                Some(&b) if b == e => k += 2,
                                Some(&b) if b == quote => break Some(k - i),
                                Some(_) => k += 1,
                            }
                        }
                    }
                    None => raw[i..].iter().position(|&b| b == quote),
                };
                match next {
                    None => return Some(Damage::Unterminated),
                    Some(k) => {
                        i += k + 1;
                        if i < n && raw[i] == quote {
                            i += 1; // a doubled quote inside the field
                        } else {
                            break;
                        }
                    }
                }
            }
            if i == n {
                return None;
            }
            if raw[i] != delimiter {
                return Some(Damage::StrayQuote);
            }
            i += 1;
        } else {
            let end = raw[i..]
                .iter()
                .position(|&b| b == delimiter)
                .map_or(n, |k| i + k);
            if let Some(at) = raw[i..end].iter().position(|&b| b == quote) {
                // `a, "b"`: the quote opens a field after a delimiter and a space.
                let spaced = at > 0 && raw[i..i + at].iter().all(|&b| b == b' ');
                return Some(if spaced {
                    Damage::SpaceBeforeQuote
                } else {
                    Damage::StrayQuote
                });
            }
            if end == n {
                return None;
            }
            i = end + 1;
        }
    }
}

/// Counts line breaks in consumed bytes: LF, CRLF (once) and a lone CR each end a line. A CR
/// is counted when the byte after it is known not to be LF.
fn count_lines(line: &mut u64, pending_cr: &mut bool, bytes: &[u8]) {
    let Some(&first) = bytes.first() else {
        return;
    };
    // The common case, no CR: count LFs at memchr speed, in one pass that also looks for CR.
    let mut lfs = 0;
    let mut has_cr = false;
    for at in memchr::memchr2_iter(b'\n', b'\r', bytes) {
        if bytes[at] == b'\r' {
            has_cr = true;
            break;
        }
        lfs += 1;
    }
    if !has_cr {
        if *pending_cr && first != b'\n' {
            *line += 1;
        }
        *pending_cr = false;
        *line += lfs;
        return;
    }
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

    type Split = (u64, Vec<String>, String, Option<Damage>);

    fn split_with(bytes: &[u8], options: SplitOptions) -> (Vec<Split>, u64) {
        split_from(bytes, options)
    }

    /// A source that hands out one byte per read, so every record spans buffer refills.
    struct OneByte<'a>(&'a [u8]);

    impl Read for OneByte<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match (self.0.split_first(), buf.first_mut()) {
                (Some((&b, rest)), Some(slot)) => {
                    *slot = b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    fn split_from(source: impl Read, options: SplitOptions) -> (Vec<Split>, u64) {
        let mut s = Splitter::new(source, options);
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
                r.damage,
            ));
        }
        (all, s.take_empty_lines())
    }

    fn split(bytes: &[u8]) -> Vec<Split> {
        split_with(bytes, SplitOptions::default()).0
    }

    fn lines(bytes: &[u8]) -> Vec<u64> {
        split(bytes).into_iter().map(|(l, _, _, _)| l).collect()
    }

    fn empty_lines(bytes: &[u8]) -> u64 {
        split_with(bytes, SplitOptions::default()).1
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
    fn empty_lines_are_counted_once_each() {
        assert_eq!(empty_lines(b"h\na\nb\n"), 0);
        assert_eq!(empty_lines(b"h\na\nb"), 0);
        assert_eq!(empty_lines(b"h\na\n\n"), 1, "a trailing empty line");
        assert_eq!(empty_lines(b"h\n\na\n\n\nb\n"), 3);
        assert_eq!(
            empty_lines(b"h\r\r\na\r\r\nb\r\r\n"),
            3,
            "\\r\\r\\n endings"
        );
        assert_eq!(empty_lines(b"h\r\n\r\na\r\n"), 1);
        assert_eq!(empty_lines(b"h\r\ra\r"), 1, "lone CR");
        assert_eq!(empty_lines(b"\n\nh\na\n"), 2, "before the header");
    }

    #[test]
    fn raw_text_is_kept_without_the_terminator() {
        let records = split(b"Code,Note\r\nA,\"x, y\"\r\n");
        assert_eq!(records[1].2, "A,\"x, y\"");
        assert_eq!(records[1].1, ["A", "x, y"]);
    }

    #[test]
    fn delimiters_are_sniffed_from_the_first_line() {
        assert_eq!(sniff_delimiter(b"Code;Active;\"a,b,c\"\nx,y,z", b'"'), b';');
        assert_eq!(sniff_delimiter(b"Code\tActive\n", b'"'), b'\t');
        assert_eq!(sniff_delimiter(b"Code|Active|x,y\n", b'"'), b'|');
        assert_eq!(sniff_delimiter(b"Code\n", b'"'), b',');
        let (records, _) = split_with(b"Code;Note\n1;\"a;b\"\n", SplitOptions::default());
        assert_eq!(records[1].1, ["1", "a;b"]);
        let forced = SplitOptions {
            delimiter: Some(b','),
            ..SplitOptions::default()
        };
        assert_eq!(split_with(b"a;b,c\n", forced).0[0].1, ["a;b", "c"]);
    }

    #[test]
    fn forgiven_damage_is_found() {
        assert_eq!(inspect(b"a,b\"c,d", b',', b'"'), Some(Damage::StrayQuote));
        assert_eq!(inspect(b"a,\"b\"c,d", b',', b'"'), Some(Damage::StrayQuote));
        assert_eq!(inspect(b"a,\"b\"\"c\",d", b',', b'"'), None);
        assert_eq!(inspect(b"a,\"b,c\"", b',', b'"'), None);
        assert_eq!(inspect(b"a,\"b", b',', b'"'), Some(Damage::Unterminated));
        assert_eq!(inspect(b"a,b\0", b',', b'"'), Some(Damage::NulByte));
        assert_eq!(inspect(b"", b',', b'"'), None);
    }

    #[test]
    fn an_unclosed_quote_does_not_swallow_the_rest() {
        let records = split(b"Code,Note\nA,\"never closed\nB,ok\nC,ok\n");
        let summary: Vec<(u64, Option<Damage>, String)> = records
            .iter()
            .map(|(l, f, raw, d)| {
                (
                    *l,
                    *d,
                    if d.is_some() {
                        raw.clone()
                    } else {
                        f.join("|")
                    },
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (1, None, "Code|Note".into()),
                (2, Some(Damage::Unterminated), "A,\"never closed".into()),
                (3, None, "B|ok".into()),
                (4, None, "C|ok".into()),
            ]
        );
    }

    #[test]
    fn a_record_past_the_bound_is_cut_and_reading_resumes() {
        let mut text = b"Code,Note\nA,\"opens\n".to_vec();
        for i in 0..50 {
            text.extend_from_slice(format!("R{i},filler filler filler\n").as_bytes());
        }
        let options = SplitOptions {
            max_record_bytes: 200,
            ..SplitOptions::default()
        };
        let (records, _) = split_with(&text, options);
        assert_eq!(records[1].0, 2);
        assert_eq!(records[1].3, Some(Damage::TooLong));
        assert_eq!(records[1].2, "A,\"opens");
        assert_eq!(
            records.len(),
            2 + 50,
            "every later line is read as its own record"
        );
        assert_eq!(records[2].0, 3);
        assert_eq!(records[51].0, 52);
        assert_eq!(records[51].1, ["R49", "filler filler filler"]);
    }

    #[test]
    fn one_giant_line_is_cut_at_the_bound() {
        let text = format!("Code,Note\nA,{}\nB,ok\n", "x".repeat(5000));
        let options = SplitOptions {
            max_record_bytes: 1000,
            ..SplitOptions::default()
        };
        let (records, _) = split_with(text.as_bytes(), options);
        assert_eq!(records.len(), 3);
        assert_eq!(records[1].3, Some(Damage::TooLong));
        assert_eq!(
            (records[2].0, records[2].1.clone()),
            (3, vec!["B".to_string(), "ok".to_string()])
        );
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
        /// Whatever the csv crate writes, we split back into the same fields, undamaged.
        #[test]
        fn reads_back_what_a_csv_writer_wrote(
            rows in proptest::collection::vec(proptest::collection::vec("[a-z,;\"\r\n ü]{0,6}", 3), 1..20),
            crlf: bool,
            delimiter in proptest::sample::select(vec![b',', b';', b'\t', b'|']),
        ) {
            let mut writer = csv::WriterBuilder::new()
                .delimiter(delimiter)
                .terminator(if crlf { csv::Terminator::CRLF } else { csv::Terminator::Any(b'\n') })
                .from_writer(Vec::new());
            for row in &rows {
                writer.write_record(row).unwrap();
            }
            let bytes = writer.into_inner().unwrap();
            let options = SplitOptions { delimiter: Some(delimiter), ..SplitOptions::default() };
            let (got, _) = split_with(&bytes, options);
            prop_assert!(got.iter().all(|r| r.3.is_none()), "no damage in well-formed CSV");
            let fields: Vec<Vec<String>> = got.into_iter().map(|r| r.1).collect();
            prop_assert_eq!(fields, rows);
        }

        /// Any bytes at all: no panic, and every record has a line at or after the previous one.
        #[test]
        fn any_bytes_split_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let options = SplitOptions { max_record_bytes: 64, ..SplitOptions::default() };
            let (records, empty) = split_with(&bytes, options);
            let lines: Vec<u64> = records.iter().map(|r| r.0).collect();
            prop_assert!(lines.windows(2).all(|w| w[0] < w[1]), "{:?}", lines);
            // Byte by byte (every record spanning refills) gives the very same records.
            let slow = split_from(OneByte(&bytes), options);
            prop_assert_eq!((records, empty), slow);
        }
    }
}

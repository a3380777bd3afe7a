//! Reading for `voucher-import`: the edge where untrusted bytes come in. A source (a file or
//! stdin, plain, gzip or zstd, UTF-8, UTF-16 or a legacy encoding) becomes chunks of raw
//! records, every field kept as bytes, every record with its data-row number and starting line.
//! Broken records are flagged here (wrong field count, stray quote, NUL byte, unclosed quote,
//! past the size bound, bytes that are not UTF-8) and travel on as rows to be rejected; nothing
//! is inferred, dropped or read twice. Kept free of the query engine so it can be fuzzed alone.

pub mod decode;
pub mod source;
pub mod split;

use std::io::{self, Read};
use std::path::PathBuf;

use csv::ByteRecord;
use sha2::{Digest, Sha256};

pub use decode::TextEncoding;
pub use source::{Compression, InputPath};
use split::Splitter;
pub use split::{Damage, SplitOptions};

/// Records per chunk at most: the unit of parallel rule evaluation and of memory.
pub const CHUNK_ROWS: usize = 8192;

/// Bytes of records per chunk: a chunk is cut when it holds this much even if it has fewer
/// than [`CHUNK_ROWS`] records, so that the chunks in flight (a few per worker) take memory in
/// proportion to bytes, not to the size of the largest records (8192 records of 100 KB would
/// be 800 MB a chunk). Ordinary voucher rows (under 500 bytes) never reach it.
pub const CHUNK_BYTES: usize = 2 << 20;

/// Why a file cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The file as a whole is not a CSV we can read (empty, binary, broken compression).
    #[error("{path}: {message}\n  fix: {fix}")]
    File {
        path: PathBuf,
        message: String,
        fix: String,
    },
}

/// Why a record cannot be imported as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordProblem {
    /// The record has a different number of fields than the header.
    FieldCount { expected: usize, found: usize },
    /// The record's bytes are damaged in a way that makes its fields unreliable.
    Damaged(Damage),
    /// These columns (0-based positions in the file) hold bytes that are not UTF-8.
    InvalidEncoding { columns: Vec<usize> },
    /// These columns (0-based positions, with why) hold typed values that cannot be written
    /// as text (a Parquet timestamp out of range); their fields are empty.
    UnreadableValue { columns: Vec<(usize, String)> },
    /// The record repeats the file's header (files joined with `cat`, a second header line):
    /// its cells equal the header's, trimmed and ignoring letter case.
    RepeatedHeader,
}

impl RecordProblem {
    /// True when the record's fields cannot be placed in columns (`malformed_record`).
    pub fn is_malformed(&self) -> bool {
        !matches!(
            self,
            RecordProblem::InvalidEncoding { .. } | RecordProblem::UnreadableValue { .. }
        )
    }

    /// The message for a malformed record; `max_record_bytes` is the bound in force.
    pub fn malformed_reason(&self, max_record_bytes: usize) -> String {
        match self {
            RecordProblem::FieldCount { expected, found } => {
                format!("the record has {found} fields, the header has {expected}")
            }
            RecordProblem::Damaged(Damage::StrayQuote) => {
                "a quote inside an unquoted field, or text after a closing quote: quote the whole field and double the quotes inside it".to_owned()
            }
            RecordProblem::Damaged(Damage::NulByte) => "the record holds a NUL byte".to_owned(),
            RecordProblem::Damaged(Damage::Unterminated) => {
                "a quote opened in this record is never closed; reading resumed at the next line".to_owned()
            }
            RecordProblem::Damaged(Damage::SpaceBeforeQuote) => {
                "a quote after a delimiter and a space: the fields seem separated by a delimiter and a space (', '); a quoted field must start right after the delimiter: remove the spaces before the quotes (values are trimmed anyway)".to_owned()
            }
            RecordProblem::RepeatedHeader => {
                "the line repeats the header (files joined one after the other, or a second header line): it is no voucher".to_owned()
            }
            RecordProblem::Damaged(Damage::RunsOn) => {
                "a quote opened on this line runs on over the next lines into a broken record (most likely a stray quote: quote the whole field and double the quotes inside it); this line alone is rejected, and the next lines were read as rows of their own".to_owned()
            }
            RecordProblem::Damaged(Damage::TooLong) => format!(
                "the record runs past --max-record-bytes ({max_record_bytes} bytes), most likely from a quote that is never closed; reading resumed at the next line"
            ),
            RecordProblem::InvalidEncoding { .. } | RecordProblem::UnreadableValue { .. } => {
                String::new()
            }
        }
    }
}

/// One record as read.
#[derive(Debug, Clone)]
pub struct Record {
    /// Data-row number in its file: 1 is the first record after the header.
    pub row: u64,
    /// Physical line (1-based) where the record starts; 0 where a format has no lines.
    pub line: u64,
    pub fields: ByteRecord,
    pub problem: Option<RecordProblem>,
    /// The record's text as written, kept only when its fields cannot be placed in columns.
    pub raw: Option<Vec<u8>>,
}

impl Record {
    /// Whether the record's fields cannot be placed in columns (see
    /// [`RecordProblem::is_malformed`]).
    pub fn is_malformed(&self) -> bool {
        self.problem
            .as_ref()
            .is_some_and(RecordProblem::is_malformed)
    }
}

/// Consecutive records of one file.
#[derive(Debug)]
pub struct Chunk {
    pub file: usize,
    pub records: Vec<Record>,
    /// Empty or whitespace-only lines met while reading this chunk (skipped, not records).
    pub blank_lines: u64,
    /// On a file's first chunk, about how many records the whole file holds, when that can be
    /// told (an uncompressed UTF-8 file: its size over the first chunk's bytes per record).
    /// Consumers size their tables with it; nothing depends on it being right.
    pub estimated_file_rows: Option<u64>,
    /// Stored bytes of the file read when the chunk was handed out (for progress).
    pub stored_bytes_read: u64,
}

impl Chunk {
    pub fn new(file: usize) -> Self {
        Chunk {
            file,
            records: Vec::with_capacity(CHUNK_ROWS),
            blank_lines: 0,
            estimated_file_rows: None,
            stored_bytes_read: 0,
        }
    }
}

/// What reading one whole file found, known once its last byte has been read.
#[derive(Debug, Clone)]
pub struct FileDigest {
    pub file: usize,
    pub sha256: String,
    pub bytes: u64,
    pub rows: u64,
}

/// How to read CSV input.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    pub split: SplitOptions,
    /// The encoding when the file has no BOM; None is UTF-8.
    pub encoding: Option<TextEncoding>,
    /// Leave the UTF-8 check of each record to the consumer (who decodes the fields anyway,
    /// perhaps on other threads): [`RecordProblem::InvalidEncoding`] is then never set. See
    /// [`record_text`].
    pub defer_utf8_check: bool,
}

/// A CSV input whose header has been read and whose records are still to come.
pub struct OpenInput {
    pub index: usize,
    pub path: PathBuf,
    /// The header fields, trimmed.
    pub header: Vec<String>,
    pub compression: Compression,
    pub encoding: TextEncoding,
    pub delimiter: u8,
    /// What reading the header noticed (a given delimiter that looks wrong), for the summary.
    pub notes: Vec<String>,
    /// Lines skipped before the header (`--skip-lines`).
    pub lines_skipped: u64,
    splitter: Splitter<Box<dyn Read + Send>>,
    hash: source::HashHandle,
    blank_lines: u64,
    defer_utf8_check: bool,
    /// The file's size, when its bytes are the text (not compressed, UTF-8).
    text_file_bytes: Option<u64>,
}

impl std::fmt::Debug for OpenInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenInput")
            .field("path", &self.path)
            .field("header", &self.header)
            .finish()
    }
}

impl OpenInput {
    /// Opens a file or stdin and reads its header.
    pub fn open(index: usize, input: &InputPath, options: &ReadOptions) -> Result<Self, ReadError> {
        let path = input.path();
        let opened = source::open(input, options.encoding).map_err(|e| io_error(&path, e))?;
        let plain_text =
            opened.compression == Compression::None && opened.encoding == TextEncoding::Utf8;
        let mut opened_input = Self::from_source(index, path, opened, options)?;
        if let (InputPath::File(file), true) = (input, plain_text) {
            opened_input.text_file_bytes = std::fs::metadata(file).ok().map(|m| m.len());
        }
        Ok(opened_input)
    }

    /// Reads a header from any byte stream; `name` names it in messages.
    pub fn from_reader(
        index: usize,
        name: &str,
        reader: Box<dyn Read + Send>,
        options: &ReadOptions,
    ) -> Result<Self, ReadError> {
        let path = PathBuf::from(name);
        let opened =
            source::open_reader(reader, name, options.encoding).map_err(|e| io_error(&path, e))?;
        Self::from_source(index, path, opened, options)
    }

    fn from_source(
        index: usize,
        path: PathBuf,
        opened: source::OpenedSource,
        options: &ReadOptions,
    ) -> Result<Self, ReadError> {
        let compression = opened.compression;
        let mut splitter = Splitter::new(opened.text, options.split);
        let header = splitter
            .next_record()
            .map_err(|e| stream_error(&path, compression, e))?;
        let file_error = |message: String, fix: &str| ReadError::File {
            path: path.clone(),
            message,
            fix: fix.to_owned(),
        };
        if header
            .as_ref()
            .is_some_and(|h| h.damage == Some(Damage::TooLong))
        {
            let max = options.split.max_record_bytes;
            return Err(if splitter.looks_binary() {
                file_error(
                    "the file is not text: it holds NUL or control bytes where a CSV header should be"
                        .into(),
                    "pass a CSV file (UTF-16 files need their BOM; Parquet files end in .parquet)",
                )
            } else {
                file_error(
                    format!("the header line is longer than {max} bytes"),
                    "raise --max-record-bytes if it is real, or check that this is the CSV file",
                )
            });
        }
        let header = match header {
            Some(h)
                if !h
                    .fields
                    .iter()
                    .all(|f| f.iter().all(u8::is_ascii_whitespace)) =>
            {
                h
            }
            Some(h) if h.fields.len() > 1 => {
                return Err(file_error(
                    "the header line has no column names: it holds only delimiters".into(),
                    "the first line must be a header naming the columns, one of them 'Code' (a title above it: --skip-lines)",
                ))
            }
            _ => {
                return Err(file_error(
                    "the file is empty: there is no header line".into(),
                    "the first line must be a header naming the columns, one of them 'Code'",
                ))
            }
        };
        let header_is_utf8 = header.fields.iter().all(|f| std::str::from_utf8(f).is_ok());
        if header.damage == Some(Damage::NulByte) || (!header_is_utf8 && splitter.looks_binary()) {
            return Err(file_error(
                "the file is not text: it holds NUL or control bytes where a CSV header should be"
                    .into(),
                "pass a CSV file (UTF-16 files need their BOM; Parquet files end in .parquet)",
            ));
        }
        if let Some(damage) = header.damage {
            let problem =
                RecordProblem::Damaged(damage).malformed_reason(options.split.max_record_bytes);
            return Err(file_error(
                format!("the header line is broken: {problem}"),
                "the first line must be a header naming the columns, one of them 'Code'",
            ));
        }
        let encoding = opened.encoding;
        let mut names = Vec::with_capacity(header.fields.len());
        for (i, field) in header.fields.iter().enumerate() {
            let name = std::str::from_utf8(field).map_err(|_| {
                file_error(
                    format!(
                        "header column {} is not valid {} text",
                        i + 1,
                        encoding.name()
                    ),
                    "pass --encoding with the file's encoding (e.g. --encoding windows-1252 for Excel's CSV), or save it as UTF-8",
                )
            })?;
            names.push(name.trim().to_owned());
        }
        let delimiter = splitter.delimiter();
        let mut notes = Vec::new();
        if let (Some(given), 1) = (options.split.delimiter, names.len()) {
            let mut lines = vec![splitter.raw().to_vec()];
            lines.extend(splitter.peek_lines(9).into_iter().map(<[u8]>::to_vec));
            if let Some(other) = split::consistent_delimiter(&lines, given, options.split.quote) {
                notes.push(format!(
                    "{}: --delimiter {} gives one column, while '{}' gives the same number of fields on each of the first {} lines: is that the delimiter?",
                    path.display(),
                    split::delimiter_name(given),
                    split::delimiter_name(other),
                    lines.len()
                ));
            }
        }
        splitter.expect_fields(names.len());
        let blank_lines = splitter.take_empty_lines();
        Ok(OpenInput {
            index,
            path,
            header: names,
            compression,
            encoding,
            delimiter,
            notes,
            lines_skipped: splitter.lines_skipped(),
            splitter,
            hash: opened.hash,
            blank_lines,
            defer_utf8_check: options.defer_utf8_check,
            text_file_bytes: None,
        })
    }

    /// Reads every record, handing chunks of [`CHUNK_ROWS`] to `emit`, and returns the file's
    /// digest. Stops early, without error, when `emit` returns false (the consumer has gone).
    pub fn read_records(
        mut self,
        mut emit: impl FnMut(Chunk) -> bool,
    ) -> Result<Option<FileDigest>, ReadError> {
        let expected = self.header.len();
        let mut rows: u64 = 0;
        let mut chunk = Chunk::new(self.index);
        let mut chunk_bytes: usize = 0;
        chunk.blank_lines = self.blank_lines;
        // Bytes of the first chunk's records, for the estimate of the file's rows.
        let mut first_chunk_bytes: Option<u64> = self.text_file_bytes.map(|_| 0);
        while let Some(split) = self
            .splitter
            .next_record()
            .map_err(|e| stream_error(&self.path, self.compression, e))?
        {
            chunk.blank_lines += self.splitter.take_empty_lines();
            let fields = split.fields;
            if split.damage.is_none()
                && fields.len() == 1
                && expected > 1
                && fields[0].iter().all(u8::is_ascii_whitespace)
            {
                chunk.blank_lines += 1;
                continue;
            }
            rows += 1;
            let problem = match split.damage {
                Some(damage) => Some(RecordProblem::Damaged(damage)),
                None if fields.len() != expected => Some(RecordProblem::FieldCount {
                    expected,
                    found: fields.len(),
                }),
                None if repeats_header(&fields, &self.header) => {
                    Some(RecordProblem::RepeatedHeader)
                }
                None if self.defer_utf8_check => None,
                None => match record_text(&fields) {
                    RecordText::Valid(_) => None,
                    RecordText::Invalid { columns, .. } => {
                        Some(RecordProblem::InvalidEncoding { columns })
                    }
                },
            };
            let raw = problem
                .as_ref()
                .filter(|p| p.is_malformed())
                .map(|_| self.splitter.raw().to_vec());
            let record_bytes = self.splitter.raw().len() + 1;
            chunk_bytes += record_bytes + raw.as_ref().map_or(0, Vec::len);
            if let Some(bytes) = &mut first_chunk_bytes {
                *bytes += record_bytes as u64;
            }
            chunk.records.push(Record {
                row: rows,
                line: split.line,
                fields,
                problem,
                raw,
            });
            if chunk.records.len() == CHUNK_ROWS || chunk_bytes >= CHUNK_BYTES {
                if let (Some(bytes), Some(file_bytes)) =
                    (first_chunk_bytes.take(), self.text_file_bytes)
                {
                    chunk.estimated_file_rows =
                        Some(file_bytes.saturating_mul(chunk.records.len() as u64) / bytes.max(1));
                }
                chunk_bytes = 0;
                chunk.stored_bytes_read = self.hash.bytes_read();
                let full = std::mem::replace(&mut chunk, Chunk::new(self.index));
                if !emit(full) {
                    return Ok(None);
                }
            }
        }
        chunk.blank_lines += self.splitter.take_empty_lines();
        chunk.stored_bytes_read = self.hash.bytes_read();
        if (!chunk.records.is_empty() || chunk.blank_lines > 0) && !emit(chunk) {
            return Ok(None);
        }
        // Drain what the splitter left unread so the digest covers the whole file.
        let mut rest = self.splitter.into_source();
        io::copy(&mut rest, &mut io::sink())
            .map_err(|e| stream_error(&self.path, self.compression, e))?;
        let (sha256, bytes) = self.hash.finish();
        Ok(Some(FileDigest {
            file: self.index,
            sha256,
            bytes,
            rows,
        }))
    }
}

/// Whether a record's cells are the header's names, trimmed and ignoring letter case. The
/// first cell is compared first: for nearly every record that settles it.
fn repeats_header(fields: &ByteRecord, header: &[String]) -> bool {
    let same = |field: &[u8], name: &String| {
        let field = field.trim_ascii();
        field.eq_ignore_ascii_case(name.as_bytes())
            || (!(field.is_ascii() && name.is_ascii())
                && std::str::from_utf8(field)
                    .is_ok_and(|f| f.to_lowercase() == name.to_lowercase()))
    };
    match (fields.get(0), header.first()) {
        (Some(first), Some(name)) if same(first, name) => fields
            .iter()
            .zip(header)
            .all(|(field, name)| same(field, name)),
        _ => false,
    }
}

/// A record's fields as text.
#[derive(Debug)]
pub enum RecordText<'a> {
    /// Every field is UTF-8: the fields, concatenated (see [`RecordText::field`]).
    Valid(&'a str),
    /// These columns are not UTF-8; every field decoded, bytes that are not UTF-8 shown as
    /// U+FFFD.
    Invalid {
        columns: Vec<usize>,
        decoded: Vec<std::borrow::Cow<'a, str>>,
    },
}

/// Checks a record's UTF-8 with one pass over it (nearly every record is valid): the
/// concatenation of its fields must be UTF-8 and every field must start on a character
/// boundary of it. Only an invalid record is looked at field by field.
#[inline]
pub fn record_text(fields: &ByteRecord) -> RecordText<'_> {
    if let Ok(text) = std::str::from_utf8(fields.as_slice()) {
        let boundaries = (0..fields.len()).all(|i| {
            fields
                .range(i)
                .is_some_and(|range| text.is_char_boundary(range.start))
        });
        if boundaries {
            return RecordText::Valid(text);
        }
    }
    let columns = fields
        .iter()
        .enumerate()
        .filter(|(_, f)| std::str::from_utf8(f).is_err())
        .map(|(i, _)| i)
        .collect();
    RecordText::Invalid {
        columns,
        decoded: fields.iter().map(String::from_utf8_lossy).collect(),
    }
}

impl<'a> RecordText<'a> {
    /// Field `i` of `fields` (the record this text was made from).
    #[inline]
    pub fn field(&self, fields: &'a ByteRecord, i: usize) -> std::borrow::Cow<'_, str> {
        use std::borrow::Cow;
        match self {
            RecordText::Valid(text) => Cow::Borrowed(
                fields
                    .range(i)
                    .and_then(|range| text.get(range))
                    .unwrap_or_default(),
            ),
            RecordText::Invalid { decoded, .. } => {
                Cow::Borrowed(decoded.get(i).map_or("", |d| d.as_ref()))
            }
        }
    }
}

fn io_error(path: &std::path::Path, source: io::Error) -> ReadError {
    if let Some(mismatch) = source
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<source::NotCompressed>())
    {
        return ReadError::File {
            path: path.to_owned(),
            message: mismatch.to_string(),
            fix: format!(
                "if it is plain text, rename it without {} (or pass it on stdin); else re-create the file",
                mismatch.ending
            ),
        };
    }
    ReadError::Io {
        path: path.to_owned(),
        source,
    }
}

/// An error while reading the stream: for compressed input, the stream itself is broken.
fn stream_error(path: &std::path::Path, compression: Compression, e: io::Error) -> ReadError {
    match compression {
        Compression::None => io_error(path, e),
        c => ReadError::File {
            path: path.to_owned(),
            message: format!("the {} stream is broken or truncated: {e}", c.name()),
            fix: "re-create or re-download the file; nothing of it was imported".to_owned(),
        },
    }
}

/// Lowercase hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The sha256 of a byte slice, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The read options a fuzz input's first byte chooses: delimiter (sniffed, `;`, TAB, `|`, `,`),
/// encoding (UTF-8, windows-1252, UTF-16LE), quote (`"` or `'`), and a tiny or the default
/// record bound. Shared by the fuzz target and the regression tests that replay its finds.
pub fn options_from_byte(choice: u8) -> ReadOptions {
    let delimiter = match choice & 0b111 {
        0 => None,
        1 => Some(b';'),
        2 => Some(b'\t'),
        3 => Some(b'|'),
        _ => Some(b','),
    };
    let encoding = match (choice >> 3) & 0b11 {
        1 => TextEncoding::for_label("windows-1252"),
        2 => TextEncoding::for_label("utf-16le"),
        _ => None,
    };
    ReadOptions {
        split: SplitOptions {
            delimiter,
            quote: if choice & 0b0100_0000 != 0 {
                b'\''
            } else {
                b'"'
            },
            max_record_bytes: if choice & 0b1000_0000 != 0 {
                64
            } else {
                1 << 20
            },
            ..SplitOptions::default()
        },
        encoding,
        defer_utf8_check: false,
    }
}

/// What the fuzzer and the property tests check for any input: reading never panics, and every
/// record is either clean or carries a problem. Returns (records, with a problem) or the
/// file-level error message.
/// Fuzz bytes made into an input of large records (the fuzzer's own inputs are small): a
/// header, then every line of `data` repeated into one record of about `record_bytes`.
#[doc(hidden)]
pub fn large_records(data: &[u8], record_bytes: usize) -> Vec<u8> {
    let mut out = b"Code,note\n".to_vec();
    for line in data.split(|&b| b == b'\n') {
        if line.is_empty() {
            continue;
        }
        let times = record_bytes / line.len() + 1;
        for _ in 0..times {
            out.extend_from_slice(line);
        }
        out.push(b'\n');
    }
    out
}

pub fn account(bytes: &[u8], options: &ReadOptions) -> Result<(u64, u64), String> {
    let input = OpenInput::from_reader(
        0,
        "fuzz.csv",
        Box::new(io::Cursor::new(bytes.to_vec())),
        options,
    )
    .map_err(|e| e.to_string())?;
    let (mut records, mut problems) = (0u64, 0u64);
    let max_record = options.split.max_record_bytes;
    let digest = input
        .read_records(|chunk| {
            // The byte budget: a chunk is cut once it holds CHUNK_BYTES, so it never holds
            // more than that and one more record (its fields and, when malformed, its raw text).
            let held: usize = chunk
                .records
                .iter()
                .map(|r| r.fields.as_slice().len() + r.raw.as_ref().map_or(0, Vec::len))
                .sum();
            assert!(
                held <= CHUNK_BYTES + 2 * (max_record + 1),
                "a chunk of {} records holds {held} bytes",
                chunk.records.len()
            );
            for r in &chunk.records {
                records += 1;
                if let Some(p) = &r.problem {
                    problems += 1;
                    assert!(
                        !p.is_malformed() || r.raw.is_some(),
                        "a malformed record keeps its raw text"
                    );
                }
            }
            true
        })
        .map_err(|e| e.to_string())?
        .expect("the consumer never stops");
    assert_eq!(digest.rows, records, "rows counted = records emitted");
    Ok((records, problems))
}

#[cfg(test)]
mod tests {

    #[test]
    fn chunks_of_large_records_stay_within_the_byte_budget() {
        // 300 records of about 100 KB: a count-only chunk would hold all of them (30 MB).
        let mut data = Vec::new();
        for i in 0..300 {
            data.extend_from_slice(format!("LR-{i},quoted \"text\" {i}\n").as_bytes());
        }
        let input = large_records(&data, 100_000);
        for choice in [0u8, 0b0100_0000, 0b1000_0000] {
            let (records, _) = account(&input, &options_from_byte(choice)).unwrap();
            assert_eq!(records, 300);
        }
    }

    #[test]
    fn a_large_record_chunk_is_cut_by_bytes() {
        let input = large_records(
            b"A,xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"
                .repeat(100)
                .as_slice(),
            200_000,
        );
        let opened = OpenInput::from_reader(
            0,
            "large.csv",
            Box::new(io::Cursor::new(input)),
            &options_from_byte(0),
        )
        .unwrap();
        let mut sizes = Vec::new();
        opened
            .read_records(|chunk| {
                sizes.push(chunk.records.len());
                true
            })
            .unwrap();
        assert!(sizes.len() > 1, "{sizes:?}");
        assert!(
            sizes.iter().all(|&n| n <= CHUNK_BYTES / 200_000 + 1),
            "{sizes:?}"
        );
    }
    use super::*;

    fn read_all(text: &[u8]) -> (Vec<String>, Vec<Record>, u64, FileDigest) {
        let input = OpenInput::from_reader(
            0,
            "t.csv",
            Box::new(io::Cursor::new(text.to_vec())),
            &ReadOptions::default(),
        )
        .unwrap();
        let header = input.header.clone();
        let mut records = Vec::new();
        let mut blanks = 0;
        let digest = input
            .read_records(|c| {
                blanks += c.blank_lines;
                records.extend(c.records);
                true
            })
            .unwrap()
            .unwrap();
        (header, records, blanks, digest)
    }

    #[test]
    fn rows_and_lines_are_counted_per_record() {
        let (header, records, _, digest) =
            read_all(b"\xEF\xBB\xBFCode,Note\r\nA,\"two\nlines\"\r\nB,x\r\n");
        assert_eq!(header, ["Code", "Note"]);
        assert_eq!(records.len(), 2);
        assert_eq!((records[0].row, records[0].line), (1, 2));
        assert_eq!((records[1].row, records[1].line), (2, 4));
        assert_eq!(&records[0].fields[1], b"two\nlines");
        assert_eq!(digest.rows, 2);
        assert_eq!(digest.bytes, 34);
    }

    #[test]
    fn broken_records_are_flagged_not_fatal() {
        let (_, records, _, _) = read_all(b"Code,Note\nA\nB,caf\xe9\nC,ok,extra\nD,o\"k\nE,ok\n");
        let problems: Vec<_> = records.iter().map(|r| r.problem.clone()).collect();
        assert_eq!(
            problems,
            vec![
                Some(RecordProblem::FieldCount {
                    expected: 2,
                    found: 1
                }),
                Some(RecordProblem::InvalidEncoding { columns: vec![1] }),
                Some(RecordProblem::FieldCount {
                    expected: 2,
                    found: 3
                }),
                Some(RecordProblem::Damaged(Damage::StrayQuote)),
                None,
            ]
        );
        assert_eq!(records[0].raw.as_deref(), Some(&b"A"[..]));
        assert_eq!(records[3].raw.as_deref(), Some(&b"D,o\"k"[..]));
        assert_eq!(records[1].raw, None);
    }

    #[test]
    fn a_character_split_by_a_delimiter_is_invalid_in_both_fields() {
        // The fields' concatenation "\xC3\xA9" is UTF-8 ("é"); neither field is.
        let (_, records, _, _) = read_all(b"Code,A,B\nX,\xC3,\xA9\nY,\xC3\xA9,ok\n");
        assert_eq!(
            records[0].problem,
            Some(RecordProblem::InvalidEncoding {
                columns: vec![1, 2]
            })
        );
        assert_eq!(records[1].problem, None);
    }

    #[test]
    fn the_first_chunk_of_a_plain_file_estimates_its_rows() {
        let rows = CHUNK_ROWS * 3 + 100;
        let mut text = String::from("Code,Note\n");
        for i in 0..rows {
            text.push_str(&format!("CODE{i:08},note {}\n", i % 7));
        }
        let path = std::env::temp_dir().join(format!("estimate-{}.csv", std::process::id()));
        std::fs::write(&path, &text).unwrap();
        let input =
            OpenInput::open(0, &InputPath::File(path.clone()), &ReadOptions::default()).unwrap();
        let mut estimates = Vec::new();
        input
            .read_records(|chunk| {
                estimates.push(chunk.estimated_file_rows);
                true
            })
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        let first = estimates[0].expect("a plain UTF-8 file is estimated");
        assert!(
            first.abs_diff(rows as u64) * 100 <= rows as u64,
            "estimate {first} for {rows} rows"
        );
        assert!(estimates[1..].iter().all(Option::is_none), "{estimates:?}");

        // A stream of unknown size is not estimated.
        let (_, records, _, _) = read_all(text.as_bytes());
        assert_eq!(records.len(), rows);
    }

    #[test]
    fn blank_and_whitespace_lines_are_skipped_and_counted() {
        let (_, records, blanks, _) = read_all(b"Code,Note\n\nA,1\n   \nB,2\n\n");
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].row, 2);
        assert_eq!(records[1].line, 5);
        assert_eq!(blanks, 3, "two empty lines and one of spaces");
    }

    #[test]
    fn file_level_problems_are_errors() {
        let cases: [(&[u8], &str); 5] = [
            (b"", "e.csv: the file is empty"),
            (b"\xEF\xBB\xBF", "e.csv: the file is empty"),
            (b"\n\n", "e.csv: the file is empty"),
            (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "the file is not text"),
            (
                b"Code,R\xe9f\nA,1\n",
                "header column 2 is not valid UTF-8 text",
            ),
        ];
        for (text, expected) in cases {
            let err = OpenInput::from_reader(
                0,
                "e.csv",
                Box::new(io::Cursor::new(text.to_vec())),
                &ReadOptions::default(),
            )
            .unwrap_err()
            .to_string();
            assert!(err.contains(expected), "{text:?}: {err}");
        }
    }

    #[test]
    fn semicolons_and_windows_1252_read_like_excel_wrote_them() {
        let options = ReadOptions {
            encoding: TextEncoding::for_label("windows-1252"),
            ..ReadOptions::default()
        };
        let input = OpenInput::from_reader(
            0,
            "excel.csv",
            Box::new(io::Cursor::new(
                b"Code;R\xe9gion\r\nA;Z\xfcrich\r\n".to_vec(),
            )),
            &options,
        )
        .unwrap();
        assert_eq!(input.header, ["Code", "Région"]);
        assert_eq!(input.delimiter, b';');
        let mut records = Vec::new();
        input
            .read_records(|c| {
                records.extend(c.records);
                true
            })
            .unwrap();
        assert_eq!(&records[0].fields[1], "Zürich".as_bytes());
    }

    /// Replays `fixtures/fuzz/`: inputs the fuzzer found or that are worth keeping, each with
    /// the options its first byte chooses. Reading must finish and account for every record.
    #[test]
    fn fuzz_regressions_replay_cleanly() {
        // The package folder `cargo test` runs in (a test binary built in another checkout
        // that shares the target folder would carry that checkout's compile-time path).
        let package = std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned());
        let dir = std::path::Path::new(&package).join("../../fixtures/fuzz");
        let mut replayed = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            let Some((&choice, input)) = bytes.split_first() else {
                continue;
            };
            if let Ok((records, problems)) = account(input, &options_from_byte(choice)) {
                assert!(problems <= records);
            }
            replayed += 1;
        }
        assert!(replayed >= 3, "fixtures/fuzz holds the regression inputs");
    }

    #[test]
    fn accounting_holds_for_odd_inputs() {
        for bytes in [
            &b"Code\n\"\n"[..],
            b"Code,a\n\"x\"y,\n\0,\n",
            b"Code\r\r\r\n,\n",
            b"a,b\n1,2,3\n\"\"\"\n",
        ] {
            let (records, problems) = account(bytes, &ReadOptions::default()).unwrap();
            assert!(problems <= records);
        }
    }
}

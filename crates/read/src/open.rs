//! A CSV input opened: its source decoded, its header read, then its records split and
//! handed out in chunks, each checked for the problems that travel with it.

use std::io::{self, Read};
use std::path::PathBuf;

use csv::ByteRecord;

use crate::split::Splitter;
use crate::*;

/// A CSV input whose header has been read and whose records are still to come.
pub struct OpenInput {
    /// The input's position among the run's inputs.
    pub index: InputId,
    /// The file as named (`-` for stdin).
    pub path: PathBuf,
    /// The header fields, trimmed.
    pub header: Vec<String>,
    /// The compression the file's bytes are in.
    pub compression: Compression,
    /// The encoding its text is in.
    pub encoding: TextEncoding,
    /// The field delimiter, given or sniffed.
    pub delimiter: u8,
    /// What reading the header noticed (a given delimiter that looks wrong), for the summary.
    pub notes: Vec<String>,
    /// Lines skipped before the header (`--skip-lines`).
    pub lines_skipped: u64,
    splitter: Splitter<Box<dyn Read + Send>>,
    hash: source::HashHandle,
    trailing_zeros: source::TrailingZeros,
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
            index: InputId::new(index),
            path,
            header: names,
            compression,
            encoding,
            delimiter,
            notes,
            lines_skipped: splitter.lines_skipped(),
            splitter,
            hash: opened.hash,
            trailing_zeros: opened.trailing_zeros,
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
        let multi_line = self.splitter.multi_line();
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
            multi_line,
            gzip_trailing_zeros: self.trailing_zeros.count(),
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

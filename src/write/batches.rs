//! Import batches: `import/part-00001.csv`, ... in the exact form Voucherify's campaign import
//! takes (UTF-8 without BOM, comma-separated, CRLF, quoted only when needed), each within
//! `--max-file-bytes` and `--batch-rows`, never splitting a record, rows in input order.

use std::fs::{self, File};
use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;

use datafusion::arrow::array::{Array, StringArray};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::read::hex;
use crate::write::rejected::looks_like_formula;

/// One written batch, as the summary lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchInfo {
    /// Relative to the output folder: `import/part-00001.csv`.
    pub path: String,
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
}

struct OpenBatch {
    info: BatchInfo,
    /// Records not yet handed to the writer thread: sha256 runs several times faster on large
    /// pieces than record by record, and so do writes.
    pending: Vec<u8>,
}

/// How many bytes a batch gathers before it hands them to the writer thread.
const PENDING_BYTES: usize = 1 << 20;

/// What the writer thread is asked to do, in order.
enum Piece {
    /// Start a batch: create the file (None: measure only) and a new hash.
    Start { file: Option<PathBuf>, name: String },
    /// Append these bytes to the open batch.
    Bytes(Vec<u8>),
    /// Write the batch to disk (fsync) and give its hash.
    Close,
}

/// The writer thread: hashes and writes the pieces, and returns each batch's sha256 in order.
fn write_pieces(pieces: mpsc::Receiver<Piece>) -> Result<Vec<String>> {
    let mut hashes = Vec::new();
    let mut open: Option<(Option<File>, Sha256, String)> = None;
    for piece in pieces {
        match piece {
            Piece::Start { file, name } => {
                let file = match file {
                    Some(path) => Some(File::create(&path).map_err(|e| Error::io(&path, e))?),
                    None => None,
                };
                open = Some((file, Sha256::new(), name));
            }
            Piece::Bytes(bytes) => {
                let (file, hasher, name) = open.as_mut().ok_or_else(|| {
                    Error::Invariant("batch bytes written before the batch started".into())
                })?;
                if let Some(file) = file {
                    file.write_all(&bytes).map_err(|e| Error::io(&*name, e))?;
                }
                hasher.update(&bytes);
            }
            Piece::Close => {
                let (file, hasher, name) = open
                    .take()
                    .ok_or_else(|| Error::Invariant("a batch closed before it started".into()))?;
                if let Some(file) = file {
                    file.sync_all().map_err(|e| Error::io(&name, e))?;
                }
                hashes.push(hex(&hasher.finalize()));
            }
        }
    }
    Ok(hashes)
}

/// Serializes import rows and cuts them into batches. With no folder (the `check` command) it
/// measures the batches it would write without writing them.
///
/// The finisher only encodes and counts: a writer thread of its own hashes the bytes and writes
/// them, so that neither sha256 nor the copy into the page cache holds up the in-order stage.
pub struct BatchWriter {
    folder: Option<PathBuf>,
    header: Vec<u8>,
    max_bytes: u64,
    max_rows: u64,
    open: Option<OpenBatch>,
    done: Vec<BatchInfo>,
    pieces: Option<mpsc::SyncSender<Piece>>,
    writer: Option<JoinHandle<Result<Vec<String>>>>,
    origins: Vec<OriginRun>,
}

/// Consecutive rows of one batch that come from consecutive data rows of one input file:
/// batch rows `batch_row .. batch_row + count` are the file's rows `row .. row + count` (both
/// counted from 1 after the header, as Voucherify and rejected.csv count). `origins.csv`
/// lists them, so that `upload` can map Voucherify's verdict on a batch row back to the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OriginRun {
    /// The batch's number: 1 for `part-00001.csv`.
    pub batch: u32,
    pub batch_row: u64,
    pub count: u64,
    /// The input file's index.
    pub file: u32,
    pub row: u64,
}

/// Appends one CSV record to `out`: fields joined by commas, a field quoted (inner quotes
/// doubled) only when it holds a comma, a quote, CR or LF, or when a lone field is empty (so
/// the line is not blank); CRLF at the end.
///
/// ```
/// let mut out = Vec::new();
/// voucher_import::write::batches::encode_record(&mut out, ["000123", "a, \"b\"", "Zürich"]);
/// assert_eq!(out, "000123,\"a, \"\"b\"\"\",Zürich\r\n".as_bytes());
/// ```
pub fn encode_record<'a>(out: &mut Vec<u8>, fields: impl IntoIterator<Item = &'a str>) {
    let start = out.len();
    let mut count = 0;
    for (i, field) in fields.into_iter().enumerate() {
        count += 1;
        if i > 0 {
            out.push(b',');
        }
        push_field(out, field);
    }
    if count == 1 && out.len() == start {
        out.extend_from_slice(b"\"\"");
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends one field, quoted (inner quotes doubled) when it holds a comma, a quote, CR or LF.
fn push_field(out: &mut Vec<u8>, field: &str) {
    if field
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
    {
        out.push(b'"');
        for b in field.bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(field.as_bytes());
    }
}

/// Every row of a chunk encoded as an import record. Built by the worker threads, so that the
/// in-order finisher only copies the bytes of the rows it accepts.
#[derive(Debug, Default)]
pub struct EncodedRows {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    /// Per row, the empty boolean cells written as `null`.
    nulls: Vec<u32>,
    /// Per row, the values a spreadsheet would read as formulas (left as they are: they are
    /// data; the summary counts them).
    formulas: Vec<u32>,
}

impl EncodedRows {
    /// Encodes every row of `columns` (the batch columns, in order). An empty cell of a
    /// position in `boolean_columns` is written `null`: Voucherify drops a row whose boolean
    /// metadata cell is empty.
    pub fn encode(columns: &[&StringArray], boolean_columns: &[usize]) -> Self {
        let rows = columns.first().map_or(0, |c| c.len());
        let value_bytes: usize = columns.iter().map(|c| c.values().len()).sum();
        let mut encoded = EncodedRows {
            bytes: Vec::with_capacity(value_bytes + rows * (columns.len() + 2)),
            ends: Vec::with_capacity(rows),
            nulls: Vec::with_capacity(rows),
            formulas: Vec::with_capacity(rows),
        };
        // A column none of whose values holds a byte that needs quoting (most columns: codes,
        // amounts, dates) is found with one SIMD scan of its value buffer; its fields are then
        // copied without being looked at one by one.
        let plain: Vec<bool> = columns
            .iter()
            .map(|a| {
                let values = a.values().as_slice();
                memchr::memchr3(b',', b'"', b'\n', values).is_none()
                    && memchr::memchr(b'\r', values).is_none()
            })
            .collect();
        let boolean: Vec<bool> = (0..columns.len())
            .map(|c| boolean_columns.contains(&c))
            .collect();
        let lone_field = columns.len() == 1;
        for i in 0..rows {
            let mut nulls = 0;
            let mut formulas = 0;
            let out = &mut encoded.bytes;
            for (c, a) in columns.iter().enumerate() {
                if c > 0 {
                    out.push(b',');
                }
                if a.is_valid(i) {
                    let value = a.value(i);
                    formulas += u32::from(looks_like_formula(value));
                    if plain[c] {
                        out.extend_from_slice(value.as_bytes());
                    } else {
                        push_field(out, value);
                    }
                } else if boolean[c] {
                    nulls += 1;
                    out.extend_from_slice(b"null");
                } else if lone_field {
                    out.extend_from_slice(b"\"\"");
                }
            }
            out.extend_from_slice(b"\r\n");
            encoded.ends.push(out.len());
            encoded.nulls.push(nulls);
            encoded.formulas.push(formulas);
        }
        encoded
    }

    /// Row `i` as it goes into a batch, CRLF included.
    pub fn row(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }

    /// How many empty boolean cells of row `i` were written `null`.
    pub fn nulls(&self, i: usize) -> u32 {
        self.nulls[i]
    }

    /// How many values of row `i` start like a spreadsheet formula.
    pub fn formulas(&self, i: usize) -> u32 {
        self.formulas[i]
    }
}

impl BatchWriter {
    pub fn new(
        folder: Option<PathBuf>,
        columns: &[String],
        max_bytes: u64,
        max_rows: Option<u64>,
    ) -> Result<Self> {
        if let Some(folder) = &folder {
            fs::create_dir_all(folder).map_err(|e| Error::io(folder, e))?;
        }
        let (pieces, received) = mpsc::sync_channel(8);
        let writer = std::thread::Builder::new()
            .name("batch-writer".into())
            .spawn(move || write_pieces(received))
            .map_err(|e| Error::Engine(format!("cannot start the batch writer thread: {e}")))?;
        let mut writer = BatchWriter {
            folder,
            header: Vec::new(),
            max_bytes,
            max_rows: max_rows.unwrap_or(u64::MAX),
            open: None,
            done: Vec::new(),
            pieces: Some(pieces),
            writer: Some(writer),
            origins: Vec::new(),
        };
        encode_record(&mut writer.header, columns.iter().map(String::as_str));
        Ok(writer)
    }

    /// Whether a record of this size fits in a batch at all (with the header).
    pub fn fits_alone(&self, record: &[u8]) -> bool {
        (self.header.len() + record.len()) as u64 <= self.max_bytes
    }

    /// The byte limit, for messages.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Appends an encoded record, starting a new batch when the current one is full.
    /// `file` and `row` are where the record comes from (see [`OriginRun`]).
    pub fn write(&mut self, record: &[u8], file: u32, row: u64) -> Result<()> {
        let full = self.open.as_ref().is_some_and(|b| {
            b.info.bytes + record.len() as u64 > self.max_bytes || b.info.rows >= self.max_rows
        });
        if full {
            self.close()?;
        }
        if self.open.is_none() {
            self.start()?;
        }
        let batch = self.open.as_mut().expect("started above");
        if batch.pending.len() + record.len() > PENDING_BYTES {
            let full = std::mem::replace(&mut batch.pending, Vec::with_capacity(PENDING_BYTES));
            self.send(Piece::Bytes(full))?;
        }
        let batch = self.open.as_mut().expect("started above");
        batch.pending.extend_from_slice(record);
        batch.info.bytes += record.len() as u64;
        batch.info.rows += 1;
        let (number, batch_row) = (self.done.len() as u32 + 1, batch.info.rows);
        match self.origins.last_mut() {
            Some(run)
                if run.batch == number
                    && run.file == file
                    && run.batch_row + run.count == batch_row
                    && run.row + run.count == row =>
            {
                run.count += 1;
            }
            _ => self.origins.push(OriginRun {
                batch: number,
                batch_row,
                count: 1,
                file,
                row,
            }),
        }
        Ok(())
    }

    /// Hands a piece to the writer thread; when it has stopped, its error is the answer.
    fn send(&mut self, piece: Piece) -> Result<()> {
        let sent = self.pieces.as_ref().is_some_and(|p| p.send(piece).is_ok());
        if sent {
            return Ok(());
        }
        self.join()?;
        Err(Error::Invariant(
            "the batch writer thread stopped without an error".into(),
        ))
    }

    /// Waits for the writer thread (after the sender is dropped) and gives the batch hashes.
    fn join(&mut self) -> Result<Vec<String>> {
        self.pieces = None;
        match self.writer.take() {
            Some(writer) => writer.join().unwrap_or_else(|_| {
                Err(Error::Invariant("the batch writer thread panicked".into()))
            }),
            None => Err(Error::Invariant("the batch writer thread is gone".into())),
        }
    }

    fn start(&mut self) -> Result<()> {
        let name = format!("part-{:05}.csv", self.done.len() + 1);
        let path = format!("import/{name}");
        let file = self.folder.as_ref().map(|folder| folder.join(&name));
        let display = file
            .as_ref()
            .map_or_else(|| path.clone(), |f| f.display().to_string());
        self.send(Piece::Start {
            file,
            name: display,
        })?;
        let mut pending = Vec::with_capacity(PENDING_BYTES);
        pending.extend_from_slice(&self.header);
        self.open = Some(OpenBatch {
            info: BatchInfo {
                path,
                rows: 0,
                bytes: self.header.len() as u64,
                sha256: String::new(),
            },
            pending,
        });
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        if let Some(batch) = self.open.take() {
            self.send(Piece::Bytes(batch.pending))?;
            self.send(Piece::Close)?;
            self.done.push(batch.info);
        }
        Ok(())
    }

    /// Closes the last batch, waits for every byte to be on disk, and lists the batches and
    /// where their rows come from.
    pub fn finish(mut self) -> Result<(Vec<BatchInfo>, Vec<OriginRun>)> {
        self.close()?;
        let hashes = self.join()?;
        if hashes.len() != self.done.len() {
            return Err(Error::Invariant(format!(
                "{} batches written but {} hashed",
                self.done.len(),
                hashes.len()
            )));
        }
        let mut done = std::mem::take(&mut self.done);
        for (batch, sha256) in done.iter_mut().zip(hashes) {
            batch.sha256 = sha256;
        }
        Ok((done, std::mem::take(&mut self.origins)))
    }
}

impl Drop for BatchWriter {
    /// A run that stops early still waits for the writer thread, so that no batch file is
    /// written after the staging folder is removed.
    fn drop(&mut self) {
        self.pieces = None;
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode<'a>(fields: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
        let mut out = Vec::new();
        encode_record(&mut out, fields);
        out
    }

    #[test]
    fn records_are_quoted_only_when_needed_with_crlf() {
        assert_eq!(encode(["A", "plain"]), b"A,plain\r\n");
        assert_eq!(
            encode(["000123", "has, comma \"q\"\nline"]),
            b"000123,\"has, comma \"\"q\"\"\nline\"\r\n"
        );
        assert_eq!(
            encode([""]),
            b"\"\"\r\n",
            "a lone empty field is not a blank line"
        );
        assert_eq!(encode(["", "Zürich"]), ",Zürich\r\n".as_bytes());
    }

    proptest::proptest! {
        /// What we encode, the csv crate reads back field for field.
        #[test]
        fn encoded_records_read_back(fields in proptest::collection::vec("\\PC*|[,\"\r\n a]*", 1..6)) {
            let mut out = Vec::new();
            encode_record(&mut out, fields.iter().map(String::as_str));
            let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(&out[..]);
            let record = reader.records().next().unwrap().unwrap();
            let read: Vec<&str> = record.iter().collect();
            proptest::prop_assert_eq!(read, fields.iter().map(String::as_str).collect::<Vec<_>>());
        }
    }

    proptest::proptest! {
        /// Encoding a chunk's columns at once gives, row by row, what `encode_record` gives
        /// (empty boolean cells as `null`).
        #[test]
        fn encoded_rows_match_encode_record(
            rows in proptest::collection::vec(
                proptest::collection::vec(proptest::option::of("[a-c,\"\r\n ]{0,4}"), 3),
                0..20,
            ),
            boolean in 0usize..4,
        ) {
            let columns: Vec<StringArray> = (0..3)
                .map(|c| rows.iter().map(|r| r[c].clone()).collect())
                .collect();
            let refs: Vec<&StringArray> = columns.iter().collect();
            let encoded = EncodedRows::encode(&refs, &[boolean]);
            for (i, row) in rows.iter().enumerate() {
                let fields = row.iter().enumerate().map(|(c, v)| match v {
                    Some(v) => v.as_str(),
                    None if c == boolean => "null",
                    None => "",
                });
                proptest::prop_assert_eq!(encoded.row(i), &encode(fields)[..]);
                let nulls = u32::from(boolean < 3 && row[boolean].is_none());
                proptest::prop_assert_eq!(encoded.nulls(i), nulls);
            }
        }
    }

    #[test]
    fn batches_never_pass_the_byte_or_row_limit() {
        let header_len = "Code\r\n".len() as u64;
        let mut w = BatchWriter::new(None, &["Code".into()], header_len + 12, Some(2)).unwrap();
        for (row, code) in ["AAAA", "BBBB", "CCCC", "DDDDDDDDDD"]
            .into_iter()
            .enumerate()
        {
            let record = encode([code]);
            assert!(w.fits_alone(&record));
            // Input row 3 was rejected: rows 1, 2, 4, 5 go in.
            let input_row = [1, 2, 4, 5][row];
            w.write(&record, 0, input_row).unwrap();
        }
        let (batches, origins) = w.finish().unwrap();
        let run = |batch, batch_row, count, row| OriginRun {
            batch,
            batch_row,
            count,
            file: 0,
            row,
        };
        assert_eq!(origins, [run(1, 1, 2, 1), run(2, 1, 1, 4), run(3, 1, 1, 5)]);
        let rows: Vec<u64> = batches.iter().map(|b| b.rows).collect();
        assert_eq!(rows, [2, 1, 1]);
        assert!(batches.iter().all(|b| b.bytes <= header_len + 12));
        assert_eq!(batches[2].path, "import/part-00003.csv");
    }
}

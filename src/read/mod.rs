//! Reading: CSV files into chunks of raw records, every field kept as bytes, every record with
//! its data-row number and starting line. Broken records are flagged here (wrong field count,
//! bytes that are not UTF-8) and travel on as rows to be rejected; nothing is inferred or dropped.

pub mod split;

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use csv::ByteRecord;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use split::Splitter;

/// Records per chunk: the unit of parallel rule evaluation and of memory.
pub const CHUNK_ROWS: usize = 8192;

/// Why a record cannot be imported as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordProblem {
    /// The record has a different number of fields than the header.
    Malformed { expected: usize, found: usize },
    /// These columns (0-based positions in the file) hold bytes that are not UTF-8.
    InvalidEncoding { columns: Vec<usize> },
}

/// One record as read.
#[derive(Debug, Clone)]
pub struct Record {
    /// Data-row number in its file: 1 is the first record after the header.
    pub row: u64,
    /// Physical line (1-based) where the record starts.
    pub line: u64,
    pub fields: ByteRecord,
    pub problem: Option<RecordProblem>,
    /// The record's bytes as written, kept only when its fields cannot be placed in columns.
    pub raw: Option<Vec<u8>>,
}

/// Consecutive records of one file.
#[derive(Debug)]
pub struct Chunk {
    pub file: usize,
    pub records: Vec<Record>,
    /// Whitespace-only lines met while reading this chunk (skipped, not records).
    pub blank_lines: u64,
}

/// What reading one whole file found, known once its last byte has been read.
#[derive(Debug, Clone)]
pub struct FileDigest {
    pub file: usize,
    pub sha256: String,
    pub bytes: u64,
    pub rows: u64,
}

/// A reader that hashes and counts every byte that passes through it.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

type Source = Hashing<Box<dyn Read + Send>>;

/// An input file whose header has been read and whose records are still to come.
pub struct OpenInput {
    pub index: usize,
    pub path: PathBuf,
    /// The header fields, trimmed.
    pub header: Vec<String>,
    splitter: Splitter<Source>,
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
    /// Opens a CSV file and reads its header.
    pub fn open(index: usize, path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        Self::from_reader(index, path, Box::new(file))
    }

    /// Reads a header from any byte source; `path` names it in messages.
    pub fn from_reader(index: usize, path: &Path, source: Box<dyn Read + Send>) -> Result<Self> {
        let mut splitter = Splitter::new(Hashing {
            inner: source,
            hasher: Sha256::new(),
            bytes: 0,
        });
        let header = splitter.next_record().map_err(|e| Error::io(path, e))?;
        let header = match header {
            Some(h)
                if !h
                    .fields
                    .iter()
                    .all(|f| f.iter().all(u8::is_ascii_whitespace)) =>
            {
                h.fields
            }
            _ => {
                return Err(Error::input(
                    path,
                    "the file is empty: there is no header line",
                    "the first line must be a header naming the columns, one of them 'Code'",
                ));
            }
        };
        let mut names = Vec::with_capacity(header.len());
        for (i, field) in header.iter().enumerate() {
            let name = std::str::from_utf8(field).map_err(|_| {
                Error::input(
                    path,
                    format!("header column {} is not valid UTF-8", i + 1),
                    "save the file as UTF-8",
                )
            })?;
            names.push(name.trim().to_owned());
        }
        Ok(OpenInput {
            index,
            path: path.to_owned(),
            header: names,
            splitter,
        })
    }

    /// Reads every record, handing chunks of [`CHUNK_ROWS`] to `emit`, and returns the file's
    /// digest. Stops early, without error, when `emit` returns false (the consumer has gone).
    pub fn read_records(
        mut self,
        mut emit: impl FnMut(Chunk) -> bool,
    ) -> Result<Option<FileDigest>> {
        let expected = self.header.len();
        let mut rows: u64 = 0;
        let mut chunk = Chunk {
            file: self.index,
            records: Vec::with_capacity(CHUNK_ROWS),
            blank_lines: 0,
        };
        while let Some(split) = self
            .splitter
            .next_record()
            .map_err(|e| Error::io(&self.path, e))?
        {
            let (line, fields) = (split.line, split.fields);
            if fields.len() == 1 && expected > 1 && fields[0].iter().all(u8::is_ascii_whitespace) {
                chunk.blank_lines += 1;
                continue;
            }
            rows += 1;
            let problem = if fields.len() != expected {
                Some(RecordProblem::Malformed {
                    expected,
                    found: fields.len(),
                })
            } else {
                let columns: Vec<usize> = fields
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| std::str::from_utf8(f).is_err())
                    .map(|(i, _)| i)
                    .collect();
                (!columns.is_empty()).then_some(RecordProblem::InvalidEncoding { columns })
            };
            let raw = matches!(problem, Some(RecordProblem::Malformed { .. }))
                .then(|| self.splitter.raw().to_vec());
            chunk.records.push(Record {
                row: rows,
                line,
                fields,
                problem,
                raw,
            });
            if chunk.records.len() == CHUNK_ROWS {
                let full = std::mem::replace(
                    &mut chunk,
                    Chunk {
                        file: self.index,
                        records: Vec::with_capacity(CHUNK_ROWS),
                        blank_lines: 0,
                    },
                );
                if !emit(full) {
                    return Ok(None);
                }
            }
        }
        if (!chunk.records.is_empty() || chunk.blank_lines > 0) && !emit(chunk) {
            return Ok(None);
        }
        // Drain what the splitter left unread so the digest covers the whole file.
        let mut hashing = self.splitter.into_source();
        io::copy(&mut hashing, &mut io::sink()).map_err(|e| Error::io(&self.path, e))?;
        Ok(Some(FileDigest {
            file: self.index,
            sha256: hex(&hashing.hasher.finalize()),
            bytes: hashing.bytes,
            rows,
        }))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &[u8]) -> (Vec<String>, Vec<Record>, u64, FileDigest) {
        let input = OpenInput::from_reader(
            0,
            Path::new("t.csv"),
            Box::new(io::Cursor::new(text.to_vec())),
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
        let (_, records, _, _) = read_all(b"Code,Note\nA\nB,caf\xe9\nC,ok,extra\nD,ok\n");
        let problems: Vec<_> = records.iter().map(|r| r.problem.clone()).collect();
        assert_eq!(
            problems,
            vec![
                Some(RecordProblem::Malformed {
                    expected: 2,
                    found: 1
                }),
                Some(RecordProblem::InvalidEncoding { columns: vec![1] }),
                Some(RecordProblem::Malformed {
                    expected: 2,
                    found: 3
                }),
                None,
            ]
        );
    }

    #[test]
    fn blank_and_whitespace_lines_are_skipped_and_counted() {
        let (_, records, blanks, _) = read_all(b"Code,Note\n\nA,1\n   \nB,2\n\n");
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].row, 2);
        assert_eq!(records[1].line, 5);
        assert_eq!(
            blanks, 1,
            "empty lines are no records; whitespace-only lines are skipped and counted"
        );
    }

    #[test]
    fn empty_file_is_a_file_level_error() {
        for text in [&b""[..], b"\xEF\xBB\xBF", b"\n\n"] {
            let err = OpenInput::from_reader(
                0,
                Path::new("e.csv"),
                Box::new(io::Cursor::new(text.to_vec())),
            )
            .unwrap_err()
            .to_string();
            assert!(err.contains("e.csv: the file is empty"), "{err}");
        }
    }
}

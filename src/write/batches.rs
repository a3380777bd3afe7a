//! Import batches: `import/part-00001.csv`, ... in the exact form Voucherify's campaign import
//! takes (UTF-8 without BOM, comma-separated, CRLF, quoted only when needed), each within
//! `--max-file-bytes` and `--batch-rows`, never splitting a record. Rows of inputs with
//! different column sets go to different batches (one open batch per column group); within a
//! group, rows keep their input order.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
pub use crate::folder::origins::OriginRun;
use crate::read::hex;
pub use crate::write::record::encode_record;

/// One written batch, as the summary lists it (and `upload` reads it back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct BatchInfo {
    /// Relative to the output folder: `import/part-00001.csv`.
    pub path: String,
    /// Data rows.
    pub rows: u64,
    /// Bytes, header included.
    pub bytes: u64,
    /// The file's sha256, in hex.
    pub sha256: String,
    /// The column group (see `BatchWriter::new`) whose rows it holds.
    #[serde(skip)]
    pub group: usize,
}

struct OpenBatch {
    /// 1 for `part-00001.csv`: batches are numbered in the order they are started.
    number: u32,
    info: BatchInfo,
    /// Records not yet handed to the writer thread: sha256 runs several times faster on large
    /// pieces than record by record, and so do writes.
    pending: Vec<u8>,
}

/// How many bytes the batches gather before they hand them to the writer thread, shared among
/// the column groups' open batches (at least [`MIN_PENDING_BYTES`] each).
const PENDING_BYTES: usize = 1 << 20;
const MIN_PENDING_BYTES: usize = 64 << 10;

/// What the writer thread is asked to do, in order.
enum Piece {
    /// Start a batch: create the file (None: measure only) and a new hash.
    Start {
        number: u32,
        file: Option<PathBuf>,
        name: String,
    },
    /// Append these bytes to that open batch.
    Bytes { number: u32, bytes: Vec<u8> },
    /// Write the batch to disk (fsync) and give its hash.
    Close { number: u32 },
}

/// The writer thread: hashes and writes the pieces, and returns each batch's sha256 by number.
fn write_pieces(pieces: mpsc::Receiver<Piece>) -> Result<HashMap<u32, String>> {
    let mut hashes = HashMap::new();
    let mut open: HashMap<u32, (Option<File>, Sha256, String)> = HashMap::new();
    for piece in pieces {
        match piece {
            Piece::Start { number, file, name } => {
                let file = match file {
                    Some(path) => Some(File::create(&path).map_err(|e| Error::io(&path, e))?),
                    None => None,
                };
                open.insert(number, (file, Sha256::new(), name));
            }
            Piece::Bytes { number, bytes } => {
                let (file, hasher, name) = open.get_mut(&number).ok_or_else(|| {
                    Error::Invariant(format!("bytes written to batch {number} before it started"))
                })?;
                if let Some(file) = file {
                    file.write_all(&bytes).map_err(|e| Error::io(&*name, e))?;
                }
                hasher.update(&bytes);
            }
            Piece::Close { number } => {
                let (file, hasher, name) = open.remove(&number).ok_or_else(|| {
                    Error::Invariant(format!("batch {number} closed before it started"))
                })?;
                if let Some(file) = file {
                    file.sync_all().map_err(|e| Error::io(&name, e))?;
                }
                hashes.insert(number, hex(&hasher.finalize()));
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
    /// Per column group, its header record and its open batch.
    groups: Vec<Group>,
    max_bytes: u64,
    max_rows: u64,
    /// Rows of batch 1, when it is a canary (`--canary-rows`).
    first_batch_rows: Option<u64>,
    pending_bytes: usize,
    started: u32,
    /// Closed batches with their numbers.
    done: Vec<(u32, BatchInfo)>,
    pieces: Option<mpsc::SyncSender<Piece>>,
    writer: Option<JoinHandle<Result<HashMap<u32, String>>>>,
    origins: Vec<OriginRun>,
}

struct Group {
    header: Vec<u8>,
    open: Option<OpenBatch>,
}

impl BatchWriter {
    /// `groups` holds each column group's batch header (one group when every input has the
    /// same columns). `first_batch_rows` makes batch 1 a canary of at most that many rows.
    pub fn new(
        folder: Option<PathBuf>,
        groups: &[Vec<String>],
        max_bytes: u64,
        max_rows: Option<u64>,
        first_batch_rows: Option<u64>,
    ) -> Result<Self> {
        if let Some(folder) = &folder {
            fs::create_dir_all(folder).map_err(|e| Error::io(folder, e))?;
        }
        let (pieces, received) = mpsc::sync_channel(8);
        let writer = std::thread::Builder::new()
            .name("batch-writer".into())
            .spawn(move || write_pieces(received))
            .map_err(Error::thread("batch writer thread"))?;
        Ok(BatchWriter {
            folder,
            groups: groups
                .iter()
                .map(|columns| {
                    let mut header = Vec::new();
                    encode_record(&mut header, columns.iter().map(String::as_str));
                    Group { header, open: None }
                })
                .collect(),
            max_bytes,
            max_rows: max_rows.unwrap_or(u64::MAX),
            first_batch_rows,
            pending_bytes: (PENDING_BYTES / groups.len().max(1)).max(MIN_PENDING_BYTES),
            started: 0,
            done: Vec::new(),
            pieces: Some(pieces),
            writer: Some(writer),
            origins: Vec::new(),
        })
    }

    /// Each column group's batch header, in bytes: a record fits no batch when it does not
    /// fit with its header.
    pub fn header_bytes(&self) -> Vec<usize> {
        self.groups.iter().map(|g| g.header.len()).collect()
    }

    /// The byte limit, for messages.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Appends an encoded record to the group's open batch, starting a new batch when that
    /// one is full. `file` and `row` are where the record comes from (see [`OriginRun`]).
    /// Gives where it went: the batch's number and the record's row in it.
    pub fn write(
        &mut self,
        group: usize,
        record: &[u8],
        file: u32,
        row: u64,
    ) -> Result<(u32, u64)> {
        let full = self.groups[group].open.as_ref().is_some_and(|b| {
            let max_rows = match self.first_batch_rows {
                Some(canary) if b.number == 1 => canary.min(self.max_rows),
                _ => self.max_rows,
            };
            b.info.bytes + record.len() as u64 > self.max_bytes || b.info.rows >= max_rows
        });
        if full {
            self.close(group)?;
        }
        if self.groups[group].open.is_none() {
            self.start(group)?;
        }
        let pending_bytes = self.pending_bytes;
        let batch = self.groups[group].open.as_mut().expect("started above");
        if !batch.pending.is_empty() && batch.pending.len() + record.len() > pending_bytes {
            let number = batch.number;
            let bytes = std::mem::replace(&mut batch.pending, Vec::with_capacity(pending_bytes));
            self.send(Piece::Bytes { number, bytes })?;
        }
        let batch = self.groups[group].open.as_mut().expect("started above");
        batch.pending.extend_from_slice(record);
        batch.info.bytes += record.len() as u64;
        batch.info.rows += 1;
        let (number, batch_row) = (batch.number, batch.info.rows);
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
        Ok((number, batch_row))
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
    fn join(&mut self) -> Result<HashMap<u32, String>> {
        self.pieces = None;
        match self.writer.take() {
            Some(writer) => writer.join().unwrap_or_else(|_| {
                Err(Error::Invariant("the batch writer thread panicked".into()))
            }),
            None => Err(Error::Invariant("the batch writer thread is gone".into())),
        }
    }

    fn start(&mut self, group: usize) -> Result<()> {
        self.started += 1;
        let number = self.started;
        let name = format!("part-{number:05}.csv");
        let path = format!("import/{name}");
        let file = self.folder.as_ref().map(|folder| folder.join(&name));
        let display = file
            .as_ref()
            .map_or_else(|| path.clone(), |f| f.display().to_string());
        self.send(Piece::Start {
            number,
            file,
            name: display,
        })?;
        let header = &self.groups[group].header;
        let mut pending = Vec::with_capacity(self.pending_bytes);
        pending.extend_from_slice(header);
        self.groups[group].open = Some(OpenBatch {
            number,
            info: BatchInfo {
                path,
                rows: 0,
                bytes: header.len() as u64,
                sha256: String::new(),
                group,
            },
            pending,
        });
        Ok(())
    }

    fn close(&mut self, group: usize) -> Result<()> {
        if let Some(batch) = self.groups[group].open.take() {
            let number = batch.number;
            self.send(Piece::Bytes {
                number,
                bytes: batch.pending,
            })?;
            self.send(Piece::Close { number })?;
            self.done.push((number, batch.info));
        }
        Ok(())
    }

    /// Closes the open batches, waits for every byte to be on disk, and lists the batches (by
    /// number) and where their rows come from (by batch and row).
    pub fn finish(mut self) -> Result<(Vec<BatchInfo>, Vec<OriginRun>)> {
        for group in 0..self.groups.len() {
            self.close(group)?;
        }
        let mut hashes = self.join()?;
        let mut done = std::mem::take(&mut self.done);
        done.sort_by_key(|(number, _)| *number);
        if hashes.len() != done.len() {
            return Err(Error::Invariant(format!(
                "{} batches written but {} hashed",
                done.len(),
                hashes.len()
            )));
        }
        let done = done
            .into_iter()
            .map(|(number, mut batch)| {
                batch.sha256 = hashes.remove(&number).ok_or_else(|| {
                    Error::Invariant(format!("batch {number} was written but not hashed"))
                })?;
                Ok(batch)
            })
            .collect::<Result<Vec<_>>>()?;
        let mut origins = std::mem::take(&mut self.origins);
        origins.sort_by_key(|run| (run.batch, run.batch_row));
        Ok((done, origins))
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

    fn encode(field: &str) -> Vec<u8> {
        let mut out = Vec::new();
        encode_record(&mut out, [field]);
        out
    }

    #[test]
    fn batches_never_pass_the_byte_or_row_limit() {
        let header_len = "Code\r\n".len() as u64;
        let mut w =
            BatchWriter::new(None, &[vec!["Code".into()]], header_len + 12, Some(2), None).unwrap();
        for (row, code) in ["AAAA", "BBBB", "CCCC", "DDDDDDDDDD"]
            .into_iter()
            .enumerate()
        {
            let record = encode(code);
            assert!((w.header_bytes()[0] + record.len()) as u64 <= w.max_bytes());
            // Input row 3 was rejected: rows 1, 2, 4, 5 go in.
            let input_row = [1, 2, 4, 5][row];
            w.write(0, &record, 0, input_row).unwrap();
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

    #[test]
    fn column_groups_never_share_a_batch_and_keep_input_order_within_each() {
        let groups = [
            vec!["Code".to_owned(), "Active".to_owned()],
            vec!["Code".to_owned()],
        ];
        let dir = tempfile::tempdir().unwrap();
        let mut w =
            BatchWriter::new(Some(dir.path().to_owned()), &groups, 1000, Some(2), None).unwrap();
        // Files 0 and 2 have Active, file 1 does not; the rows come file after file.
        w.write(0, b"A-1,true\r\n", 0, 1).unwrap();
        w.write(1, b"B-1\r\n", 1, 1).unwrap();
        w.write(1, b"B-2\r\n", 1, 2).unwrap();
        w.write(1, b"B-3\r\n", 1, 3).unwrap();
        w.write(0, b"C-1,false\r\n", 2, 1).unwrap();
        let (batches, origins) = w.finish().unwrap();
        let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert_eq!(
            read("part-00001.csv"),
            "Code,Active\r\nA-1,true\r\nC-1,false\r\n"
        );
        assert_eq!(read("part-00002.csv"), "Code\r\nB-1\r\nB-2\r\n");
        assert_eq!(read("part-00003.csv"), "Code\r\nB-3\r\n");
        let groups: Vec<usize> = batches.iter().map(|b| b.group).collect();
        assert_eq!(groups, [0, 1, 1]);
        for batch in &batches {
            let bytes = std::fs::read(dir.path().join(&batch.path["import/".len()..])).unwrap();
            assert_eq!(batch.sha256, hex(&Sha256::digest(&bytes)));
        }
        let run = |batch, batch_row, count, file, row| OriginRun {
            batch,
            batch_row,
            count,
            file,
            row,
        };
        assert_eq!(
            origins,
            [
                run(1, 1, 1, 0, 1),
                run(1, 2, 1, 2, 1),
                run(2, 1, 2, 1, 1),
                run(3, 1, 1, 1, 3)
            ]
        );
    }
}

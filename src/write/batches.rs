//! Import batches: `import/part-00001.csv`, ... in the exact form Voucherify's campaign import
//! takes (UTF-8 without BOM, comma-separated, CRLF, quoted only when needed), each within
//! `--max-file-bytes` and `--batch-rows`, never splitting a record. Rows of inputs with
//! different column sets go to different batches (one open batch per column group); within a
//! group, rows keep their input order.

use std::collections::HashMap;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
pub use crate::folder::origins::OriginRun;
use crate::folder::summary::BatchInfo;
use crate::read::hex;
pub use crate::write::record::encode_record;

struct OpenBatch {
    /// 1 for `part-00001.csv`: batches are numbered in the order they are started.
    number: u32,
    info: BatchInfo,
    /// Records not yet released as a piece: sha256 runs several times faster on large pieces
    /// than record by record, and so do writes.
    pending: Vec<u8>,
}

/// How many bytes the batches gather before they release them as a piece, shared among the
/// column groups' open batches (at least [`MIN_PENDING_BYTES`] each).
const PENDING_BYTES: usize = 1 << 20;
const MIN_PENDING_BYTES: usize = 64 << 10;

/// A step in the making of the batch files, in order: what a sink that writes them
/// ([`crate::FolderSink`]) does with the batches' bytes.
#[derive(Debug, Clone)]
pub enum BatchPiece {
    /// A batch begins: `path` relative to the prepared folder (`import/part-00001.csv`).
    Start {
        /// 1 for `part-00001.csv`.
        number: u32,
        /// Relative to the prepared folder.
        path: String,
    },
    /// These bytes follow in that batch (the first piece begins with the header record).
    Bytes {
        /// The batch's number.
        number: u32,
        /// Whole records, shared with the run's hashing.
        bytes: Arc<Vec<u8>>,
    },
    /// The batch is complete.
    Close {
        /// The batch's number.
        number: u32,
    },
}

/// The hashing thread: hashes the pieces, and returns each batch's sha256 by number.
fn hash_pieces(pieces: mpsc::Receiver<BatchPiece>) -> Result<HashMap<u32, String>> {
    let mut hashes = HashMap::new();
    let mut open: HashMap<u32, Sha256> = HashMap::new();
    for piece in pieces {
        match piece {
            BatchPiece::Start { number, .. } => {
                open.insert(number, Sha256::new());
            }
            BatchPiece::Bytes { number, bytes } => {
                let hasher = open.get_mut(&number).ok_or_else(|| {
                    Error::Invariant(format!("bytes of batch {number} before it started"))
                })?;
                hasher.update(bytes.as_slice());
            }
            BatchPiece::Close { number } => {
                let hasher = open.remove(&number).ok_or_else(|| {
                    Error::Invariant(format!("batch {number} closed before it started"))
                })?;
                hashes.insert(number, hex(&hasher.finalize()));
            }
        }
    }
    Ok(hashes)
}

/// The batch plan: serialized import rows cut into batches (within the byte and row limits,
/// one open batch per column group), measured and hashed, and where each batch row comes
/// from. It writes no file: the pieces it releases ([`BatchPlan::release`]) are what a sink
/// writes, and a hashing thread of its own hashes them, so that sha256 does not hold up the
/// in-order stage.
pub struct BatchPlan {
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
    /// Pieces made since the last release.
    released: Vec<BatchPiece>,
    hashing: Option<mpsc::SyncSender<BatchPiece>>,
    hasher: Option<JoinHandle<Result<HashMap<u32, String>>>>,
    /// Where batch rows come from, in the order they were written; the last run may still
    /// grow.
    origins: Vec<OriginRun>,
    /// Every batch closed ([`BatchPlan::close_all`]): the last origin run is complete too.
    closed: bool,
}

struct Group {
    header: Vec<u8>,
    open: Option<OpenBatch>,
}

impl BatchPlan {
    /// `groups` holds each column group's batch header (one group when every input has the
    /// same columns). `first_batch_rows` makes batch 1 a canary of at most that many rows.
    pub fn new(
        groups: &[Vec<String>],
        max_bytes: u64,
        max_rows: Option<u64>,
        first_batch_rows: Option<u64>,
    ) -> Result<Self> {
        let (hashing, received) = mpsc::sync_channel(8);
        let hasher = std::thread::Builder::new()
            .name("batch-hasher".into())
            .spawn(move || hash_pieces(received))
            .map_err(Error::thread("batch hashing thread"))?;
        Ok(BatchPlan {
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
            released: Vec::new(),
            hashing: Some(hashing),
            hasher: Some(hasher),
            origins: Vec::new(),
            closed: false,
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
    /// one is full. `file` and `row` are where the record comes from, `kept` its kept
    /// columns (see [`OriginRun`]). Gives where it went: the batch's number and the record's
    /// row in it.
    pub fn write(
        &mut self,
        group: usize,
        record: &[u8],
        file: u32,
        row: u64,
        kept: Vec<String>,
    ) -> (u32, u64) {
        let full = self.groups[group].open.as_ref().is_some_and(|b| {
            let max_rows = match self.first_batch_rows {
                Some(canary) if b.number == 1 => canary.min(self.max_rows),
                _ => self.max_rows,
            };
            b.info.bytes + record.len() as u64 > self.max_bytes || b.info.rows >= max_rows
        });
        if full {
            self.close(group);
        }
        if self.groups[group].open.is_none() {
            self.start(group);
        }
        let pending_bytes = self.pending_bytes;
        let batch = self.groups[group].open.as_mut().expect("started above");
        if !batch.pending.is_empty() && batch.pending.len() + record.len() > pending_bytes {
            let bytes = std::mem::replace(&mut batch.pending, Vec::with_capacity(pending_bytes));
            self.released.push(BatchPiece::Bytes {
                number: batch.number,
                bytes: Arc::new(bytes),
            });
        }
        batch.pending.extend_from_slice(record);
        batch.info.bytes += record.len() as u64;
        batch.info.rows += 1;
        let (number, batch_row) = (batch.number, batch.info.rows);
        match self.origins.last_mut() {
            Some(run)
                if kept.is_empty()
                    && run.batch == number
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
                kept,
            }),
        }
        (number, batch_row)
    }

    /// The pieces made since the last release, and the origin runs that are complete (the
    /// last one may still grow; [`BatchPlan::close_all`] completes it).
    pub fn release(&mut self) -> (Vec<BatchPiece>, Vec<OriginRun>) {
        let complete = match self.closed {
            true => self.origins.len(),
            false => self.origins.len().saturating_sub(1),
        };
        let origins: Vec<OriginRun> = self.origins.drain(..complete).collect();
        (std::mem::take(&mut self.released), origins)
    }

    /// Closes every open batch: the last pieces and origin runs follow with the next
    /// [`BatchPlan::release`], which then gives every origin run left.
    pub fn close_all(&mut self) {
        for group in 0..self.groups.len() {
            self.close(group);
        }
        self.closed = true;
    }

    /// Hands released pieces to the hashing thread; when it has stopped, its error is the
    /// answer.
    pub fn hash(&mut self, pieces: Vec<BatchPiece>) -> Result<()> {
        for piece in pieces {
            let sent = self.hashing.as_ref().is_some_and(|h| h.send(piece).is_ok());
            if !sent {
                self.join()?;
                return Err(Error::Invariant(
                    "the batch hashing thread stopped without an error".into(),
                ));
            }
        }
        Ok(())
    }

    /// Waits for the hashing thread (after the sender is dropped) and gives the batch hashes.
    fn join(&mut self) -> Result<HashMap<u32, String>> {
        self.hashing = None;
        match self.hasher.take() {
            Some(hasher) => hasher.join().unwrap_or_else(|_| {
                Err(Error::Invariant("the batch hashing thread panicked".into()))
            }),
            None => Err(Error::Invariant("the batch hashing thread is gone".into())),
        }
    }

    fn start(&mut self, group: usize) {
        self.started += 1;
        let number = self.started;
        let path = format!("{}/part-{number:05}.csv", crate::folder::IMPORT_DIR);
        self.released.push(BatchPiece::Start {
            number,
            path: path.clone(),
        });
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
    }

    fn close(&mut self, group: usize) {
        if let Some(batch) = self.groups[group].open.take() {
            let number = batch.number;
            self.released.push(BatchPiece::Bytes {
                number,
                bytes: Arc::new(batch.pending),
            });
            self.released.push(BatchPiece::Close { number });
            self.done.push((number, batch.info));
        }
    }

    /// After [`BatchPlan::close_all`] and the last release has been hashed: waits for the
    /// hashes and lists the batches by number.
    pub fn finish(mut self) -> Result<Vec<BatchInfo>> {
        if self.groups.iter().any(|g| g.open.is_some()) || !self.released.is_empty() {
            return Err(Error::Invariant(
                "the batch plan finished with batches not closed and hashed".into(),
            ));
        }
        let mut hashes = self.join()?;
        let mut done = std::mem::take(&mut self.done);
        done.sort_by_key(|(number, _)| *number);
        if hashes.len() != done.len() {
            return Err(Error::Invariant(format!(
                "{} batches cut but {} hashed",
                done.len(),
                hashes.len()
            )));
        }
        done.into_iter()
            .map(|(number, mut batch)| {
                batch.sha256 = hashes.remove(&number).ok_or_else(|| {
                    Error::Invariant(format!("batch {number} was cut but not hashed"))
                })?;
                Ok(batch)
            })
            .collect()
    }
}

impl Drop for BatchPlan {
    /// A run that stops early still waits for the hashing thread.
    fn drop(&mut self) {
        self.hashing = None;
        if let Some(hasher) = self.hasher.take() {
            let _ = hasher.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn encode(field: &str) -> Vec<u8> {
        let mut out = Vec::new();
        encode_record(&mut out, [field]);
        out
    }

    /// Closes the plan, writes its pieces below `folder` (when given), and gives the batches
    /// and every origin run.
    fn finish(mut plan: BatchPlan, folder: Option<&Path>) -> (Vec<BatchInfo>, Vec<OriginRun>) {
        let (mut pieces, mut origins) = plan.release();
        plan.close_all();
        let (last_pieces, last_origins) = plan.release();
        pieces.extend(last_pieces);
        origins.extend(last_origins);
        if let Some(folder) = folder {
            let mut files = crate::write::batch_files::BatchFiles::new(folder).unwrap();
            files.write(&pieces).unwrap();
            files.finish().unwrap();
        }
        plan.hash(pieces).unwrap();
        origins.sort_by_key(|run| (run.batch, run.batch_row));
        (plan.finish().unwrap(), origins)
    }

    #[test]
    fn batches_never_pass_the_byte_or_row_limit() {
        let header_len = "Code\r\n".len() as u64;
        let mut w = BatchPlan::new(&[vec!["Code".into()]], header_len + 12, Some(2), None).unwrap();
        for (row, code) in ["AAAA", "BBBB", "CCCC", "DDDDDDDDDD"]
            .into_iter()
            .enumerate()
        {
            let record = encode(code);
            assert!((w.header_bytes()[0] + record.len()) as u64 <= w.max_bytes());
            // Input row 3 was rejected: rows 1, 2, 4, 5 go in.
            let input_row = [1, 2, 4, 5][row];
            w.write(0, &record, 0, input_row, Vec::new());
        }
        let (batches, origins) = finish(w, None);
        let run = |batch, batch_row, count, row| OriginRun {
            batch,
            batch_row,
            count,
            file: 0,
            row,
            kept: Vec::new(),
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
        let mut w = BatchPlan::new(&groups, 1000, Some(2), None).unwrap();
        // Files 0 and 2 have Active, file 1 does not; the rows come file after file.
        w.write(0, b"A-1,true\r\n", 0, 1, Vec::new());
        w.write(1, b"B-1\r\n", 1, 1, Vec::new());
        w.write(1, b"B-2\r\n", 1, 2, Vec::new());
        w.write(1, b"B-3\r\n", 1, 3, Vec::new());
        w.write(0, b"C-1,false\r\n", 2, 1, Vec::new());
        let (batches, origins) = finish(w, Some(dir.path()));
        let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert_eq!(
            read("import/part-00001.csv"),
            "Code,Active\r\nA-1,true\r\nC-1,false\r\n"
        );
        assert_eq!(read("import/part-00002.csv"), "Code\r\nB-1\r\nB-2\r\n");
        assert_eq!(read("import/part-00003.csv"), "Code\r\nB-3\r\n");
        let groups: Vec<usize> = batches.iter().map(|b| b.group).collect();
        assert_eq!(groups, [0, 1, 1]);
        for batch in &batches {
            let bytes = std::fs::read(dir.path().join(&batch.path)).unwrap();
            assert_eq!(batch.sha256, hex(&Sha256::digest(&bytes)));
        }
        let run = |batch, batch_row, count, file, row| OriginRun {
            batch,
            batch_row,
            count,
            file,
            row,
            kept: Vec::new(),
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

    #[test]
    fn an_origin_run_released_early_is_never_cut_in_two() {
        let mut w = BatchPlan::new(&[vec!["Code".into()]], 1000, None, None).unwrap();
        w.write(0, b"A\r\n", 0, 1, Vec::new());
        let (started, first) = w.release();
        w.hash(started).unwrap();
        w.write(0, b"B\r\n", 0, 2, Vec::new());
        let (pieces, _) = w.release();
        assert!(first.is_empty(), "the open run is kept until it ends");
        assert!(
            pieces.is_empty(),
            "no bytes are released before 1 MB gathers"
        );
        let (_, origins) = finish(w, None);
        assert_eq!(origins.len(), 1);
        assert_eq!(origins[0].count, 2);
    }

    #[test]
    fn rows_with_kept_columns_are_origin_runs_of_their_own() {
        let mut w = BatchPlan::new(&[vec!["Code".into()]], 1000, None, None).unwrap();
        w.write(0, b"A\r\n", 0, 1, vec!["order-1".into()]);
        w.write(0, b"B\r\n", 0, 2, vec!["order-2".into()]);
        let (_, origins) = finish(w, None);
        let kept: Vec<(u64, u64, &str)> = origins
            .iter()
            .map(|r| (r.batch_row, r.count, r.kept[0].as_str()))
            .collect();
        assert_eq!(kept, [(1, 1, "order-1"), (2, 1, "order-2")]);
    }
}

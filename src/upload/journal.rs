//! `upload.journal`: each change of a batch appended as one line, so a step writes one
//! batch's state, not the whole of `upload.json`. `upload.json` is the checkpoint: written
//! whole at the start and end of a run, when something other than one batch changes, and when
//! the journal has grown past the size of the state (so replaying it stays bounded). Every
//! line carries a sequence number; `upload.json` records the last one it includes, so lines a
//! checkpoint already holds are skipped when the state is read back, and a line cut short by a
//! kill (the last, without its newline) is dropped: its step is done again.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::redact::Redactor;
use super::state::{BatchState, UploadState};
use crate::error::{Error, Result};

/// The journal beside `upload.json`.
pub(crate) const JOURNAL_FILE: &str = crate::folder::JOURNAL_FILE;

/// The journal never grows past this before a checkpoint, however small the state.
const MIN_COMPACT_BYTES: u64 = 1 << 20;

/// One line: a batch's whole state after a change.
#[derive(Serialize)]
struct Entry<'a> {
    seq: u64,
    batch: usize,
    state: &'a BatchState,
}

#[derive(Deserialize)]
struct ReadEntry {
    seq: u64,
    batch: usize,
    state: BatchState,
}

/// The journal of a running upload.
pub(crate) struct Journal {
    state_path: PathBuf,
    file: File,
    seq: u64,
    written: u64,
    compact_at: u64,
}

impl Journal {
    /// Writes the state whole (a checkpoint) and starts an empty journal after it.
    pub(crate) fn start(state: &mut UploadState, state_path: &Path) -> Result<Self> {
        let path = journal_path(state_path);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        let mut journal = Journal {
            state_path: state_path.to_owned(),
            file,
            seq: state.journal_seq,
            written: 0,
            compact_at: MIN_COMPACT_BYTES,
        };
        journal.checkpoint(state)?;
        Ok(journal)
    }

    /// Appends batch `index`'s state, durably; checkpoints when the journal has grown past
    /// the state's size.
    pub(crate) fn record(&mut self, state: &mut UploadState, index: usize) -> Result<()> {
        self.seq += 1;
        let mut line = serde_json::to_vec(&Entry {
            seq: self.seq,
            batch: index,
            state: &state.batches[index],
        })
        .map_err(|e| Error::Invariant(format!("upload journal: {e}")))?;
        line.push(b'\n');
        let path = journal_path(&self.state_path);
        self.file
            .write_all(&line)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| Error::io(&path, e))?;
        self.written += line.len() as u64;
        if self.written > self.compact_at {
            self.checkpoint(state)?;
        }
        Ok(())
    }

    /// Writes `upload.json` whole, holding every line so far, and empties the journal.
    pub(crate) fn checkpoint(&mut self, state: &mut UploadState) -> Result<()> {
        state.journal_seq = self.seq;
        let size = state.save(&self.state_path)?;
        let path = journal_path(&self.state_path);
        self.file
            .set_len(0)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| Error::io(&path, e))?;
        self.written = 0;
        self.compact_at = MIN_COMPACT_BYTES.max(size);
        Ok(())
    }
}

fn journal_path(state_path: &Path) -> PathBuf {
    state_path.with_file_name(JOURNAL_FILE)
}

/// Applies the journal beside `state_path` to the state read from it: every line newer than
/// the checkpoint, in order. A last line without its newline was cut short by a kill and is
/// dropped; any other line that does not read is an error.
pub(crate) fn replay(
    state: &mut UploadState,
    state_path: &Path,
    redactor: &Redactor,
) -> Result<()> {
    let path = journal_path(state_path);
    if !path.exists() {
        return Ok(());
    }
    // At most the compaction threshold plus one line, unless a checkpoint failed: bounded
    // like upload.json itself.
    let text = crate::text_file::read_bounded_text(&path, JOURNAL_FILE, 256 << 20)?;
    let text = redactor.text(&text);
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => "",
    };
    for (number, line) in complete.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let entry: ReadEntry = serde_json::from_str(line).map_err(|e| {
            Error::input(
                &path,
                format!("line {} cannot be read: {e}", number + 1),
                "restore the file; else remove it to resume from upload.json alone (the steps it recorded are taken again)",
            )
        })?;
        if entry.seq <= state.journal_seq {
            continue;
        }
        let Some(batch) = state.batches.get_mut(entry.batch) else {
            return Err(Error::input(
                &path,
                format!(
                    "line {} names batch {} of {}",
                    number + 1,
                    entry.batch + 1,
                    state.batches.len()
                ),
                "restore the file, or remove it to resume from upload.json alone",
            ));
        };
        *batch = entry.state;
        state.journal_seq = entry.seq;
    }
    Ok(())
}

/// Removes the journal once its lines are all in `upload.json` (the end of a run).
pub(crate) fn remove(state_path: &Path) -> Result<()> {
    let path = journal_path(state_path);
    match fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(&path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upload::state::BatchStatus;

    fn state_of(batches: usize) -> UploadState {
        UploadState::new(
            "c",
            "https://x",
            (1..=batches)
                .map(|i| {
                    BatchState::new(format!("import/part-{i:05}.csv"), "ab".repeat(32), 10_000)
                })
                .collect(),
        )
    }

    fn read_back(path: &Path) -> UploadState {
        UploadState::read(path, &Redactor::default())
            .unwrap()
            .unwrap()
    }

    #[test]
    fn a_step_appends_one_batch_and_leaves_upload_json_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("upload.json");
        let mut state = state_of(1000);
        let mut journal = Journal::start(&mut state, &path).unwrap();
        let whole = fs::read(&path).unwrap();
        state.batches[500].status = BatchStatus::Done;
        state.batches[500].async_action_id = Some("aa_500".into());
        journal.record(&mut state, 500).unwrap();
        assert_eq!(fs::read(&path).unwrap(), whole, "upload.json was rewritten");
        let appended = fs::metadata(dir.path().join(JOURNAL_FILE)).unwrap().len();
        assert!(appended < 2_000, "{appended} bytes for one batch's step");
        // A run killed here resumes with the step.
        let read = read_back(&path);
        assert_eq!(read.batches[500].status, BatchStatus::Done);
        assert_eq!(read.batches[500].async_action_id.as_deref(), Some("aa_500"));
        assert_eq!(read.journal_seq, 1);
    }

    #[test]
    fn the_journal_is_folded_into_upload_json_once_it_outgrows_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("upload.json");
        let mut state = state_of(2);
        let mut journal = Journal::start(&mut state, &path).unwrap();
        for step in 0..6_000u64 {
            state.batches[(step % 2) as usize].done_count = Some(step);
            journal.record(&mut state, (step % 2) as usize).unwrap();
        }
        let left = fs::metadata(dir.path().join(JOURNAL_FILE)).unwrap().len();
        assert!(left <= MIN_COMPACT_BYTES + 1_000, "journal of {left} bytes");
        let read = read_back(&path);
        assert_eq!(read.batches[0].done_count, Some(5_998));
        assert_eq!(read.batches[1].done_count, Some(5_999));
    }

    #[test]
    fn a_line_cut_short_by_a_kill_is_dropped_and_lines_in_the_checkpoint_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("upload.json");
        let mut state = state_of(2);
        let mut journal = Journal::start(&mut state, &path).unwrap();
        state.batches[0].status = BatchStatus::Done;
        journal.record(&mut state, 0).unwrap();
        drop(journal);
        // A checkpoint holding seq 1 whose journal still had the line (killed before the
        // truncation), then a line with batch 0 Posting that is older than the checkpoint.
        let mut checkpoint = state.clone();
        checkpoint.journal_seq = 2;
        checkpoint.batches[0].status = BatchStatus::Done;
        checkpoint.save(&path).unwrap();
        let mut stale = state.batches[0].clone();
        stale.status = BatchStatus::Failed;
        let mut text = fs::read_to_string(dir.path().join(JOURNAL_FILE)).unwrap();
        text.push_str(
            &serde_json::to_string(&Entry {
                seq: 2,
                batch: 0,
                state: &stale,
            })
            .unwrap(),
        );
        text.push('\n');
        text.push_str(r#"{"seq":3,"batch":1,"state":{"path":"#);
        fs::write(dir.path().join(JOURNAL_FILE), text).unwrap();
        let read = read_back(&path);
        assert_eq!(read.batches[0].status, BatchStatus::Done);
        assert_eq!(read.batches[1].status, BatchStatus::Pending);
        assert_eq!(read.journal_seq, 2);
    }

    #[test]
    fn a_damaged_line_before_the_last_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("upload.json");
        let mut state = state_of(1);
        Journal::start(&mut state, &path).unwrap();
        fs::write(dir.path().join(JOURNAL_FILE), "garbage\n{}\n").unwrap();
        let err = UploadState::read(&path, &Redactor::default()).unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
    }
}

//! The failed rows of each batch in a file of their own, `DIR/upload-failed-rows/part-00001.json`,
//! written once when the batch's job ends (atomically), so that `upload.json`, which every step
//! rewrites and every resumed run reads, holds only their count however many rows failed
//! (700,000 failed rows used to make it over 300 MB, past what a resumed run reads).

use std::fs;
use std::path::{Path, PathBuf};

use super::state::{write_atomically, BatchState, FailedRowState, UploadState};
use crate::error::{Error, Result};
use crate::folder::FAILED_ROWS_DIR;

/// The file of a batch's failed rows.
fn file_of(dir: &Path, batch: &BatchState) -> PathBuf {
    let stem = batch
        .file_name()
        .strip_suffix(".csv")
        .unwrap_or(batch.file_name());
    dir.join(FAILED_ROWS_DIR).join(format!("{stem}.json"))
}

/// Writes the batch's failed rows to their file when they are not there yet.
pub(crate) fn save(dir: &Path, batch: &mut BatchState) -> Result<()> {
    if !batch.failed_unsaved {
        return Ok(());
    }
    let folder = dir.join(FAILED_ROWS_DIR);
    fs::create_dir_all(&folder).map_err(|e| Error::io(&folder, e))?;
    let bytes = serde_json::to_vec(&batch.failed)
        .map_err(|e| Error::Invariant(format!("failed rows: {e}")))?;
    write_atomically(&file_of(dir, batch), &bytes)?;
    batch.failed_unsaved = false;
    Ok(())
}

/// Writes every batch's failed rows not in their file yet (an older `upload.json` held them).
pub(crate) fn save_all(dir: &Path, state: &mut UploadState) -> Result<()> {
    for batch in &mut state.batches {
        save(dir, batch)?;
    }
    Ok(())
}

/// The batch's failed rows: those this run holds, else those of its file.
pub(crate) fn load(dir: &Path, batch: &BatchState) -> Result<Vec<FailedRowState>> {
    if !batch.failed.is_empty() || batch.failed_rows == 0 {
        return Ok(batch.failed.clone());
    }
    let path = file_of(dir, batch);
    let text = crate::text_file::read_bounded_text(&path, "the failed rows", 1 << 30)?;
    serde_json::from_str(&text).map_err(|e| {
        Error::input(
            &path,
            format!("cannot read the failed rows of {}: {e}", batch.path),
            "restore the file (upload-failed.csv lists the same rows), or move upload.json away to upload again from the start",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upload::redact::Redactor;
    use crate::upload::state::RowSource;

    #[test]
    fn failed_rows_an_older_upload_json_held_move_to_their_own_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(crate::folder::STATE_FILE);
        // As versions before wrote it: the failed rows inside upload.json.
        let old = serde_json::json!({
            "schema_version": 1, "campaign": "c", "api_url": "https://x",
            "batches": [{"path": "import/part-00001.csv", "sha256": "ab", "rows": 2,
                "async_action_id": "aa_1", "status": "DONE", "progress": 100.0,
                "done_count": 1, "failed_count": 1, "message": null,
                "failed": [{"code": "A", "row": 1, "reason": "bad", "row_source": "voucherify"}]}]
        });
        fs::write(&path, old.to_string()).unwrap();
        let mut state = UploadState::read(&path, &Redactor::default())
            .unwrap()
            .unwrap();
        assert_eq!(state.batches[0].failed_rows, 1);
        save_all(dir.path(), &mut state).unwrap();
        state.save(&path).unwrap();
        let written = fs::read_to_string(&path).unwrap();
        assert!(!written.contains("\"failed\":"), "{written}");
        let again = UploadState::read(&path, &Redactor::default())
            .unwrap()
            .unwrap();
        assert!(again.batches[0].failed.is_empty());
        let rows = load(dir.path(), &again.batches[0]).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].code.as_deref(), Some("A"));
        assert_eq!(rows[0].row_source, RowSource::Voucherify);
    }
}

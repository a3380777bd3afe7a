//! `DIR/upload.json`: what `upload` knows of the folder's upload, written whole at the start
//! and end of a run and between them as the journal (`journal.rs`) says; each batch's part is
//! in `state/batch.rs` (the lock that keeps a second `upload` off the folder is in `lock.rs`).
//!
//! The state is written through a temporary file of a name no other process uses, fsynced,
//! renamed over the old one, and the folder fsynced: a reader, a resumed run or a crash sees
//! the old state or the new one, never half of one.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use super::budget::{ApiCalls, RateLimit};
use super::gate::{Acceptance, MismatchStop};

use super::redact::Redactor;
use crate::error::{Error, Result};

/// The version of the shape of `upload.json` and `upload --json`: raised when a field changes
/// meaning or goes away (a field added is not a new version).
pub const SCHEMA_VERSION: u32 = 1;

/// `upload.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct UploadState {
    /// The version of this document's shape ([`SCHEMA_VERSION`]); 0 for an upload.json
    /// written before versions were recorded.
    #[serde(default)]
    pub schema_version: u32,
    /// The campaign the folder goes to (one folder, one campaign).
    pub campaign: String,
    /// The API the jobs were started on.
    pub api_url: String,
    /// Every batch of the folder, in order.
    pub batches: Vec<BatchState>,
    /// The canary's verdict, once `upload --canary` has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<CanaryState>,
    /// A read-back showed rows stored otherwise than sent, and the posting stopped: no batch
    /// is posted until the folder is prepared again or `--accept-mismatches` is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<MismatchStop>,
    /// Every `--accept-mismatches`, with its time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accepted_mismatches: Vec<Acceptance>,
    /// API calls made on this folder over every run, by kind.
    #[serde(default)]
    pub api_calls: ApiCalls,
    /// Voucherify's rate limit as its last answer with the headers told it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// The last line of `upload.journal` this file includes (see `journal`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub journal_seq: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl UploadState {
    /// The state of a folder no upload has touched yet.
    pub(crate) fn new(campaign: &str, api_url: &str, batches: Vec<BatchState>) -> Self {
        UploadState {
            schema_version: SCHEMA_VERSION,
            campaign: campaign.to_owned(),
            api_url: api_url.to_owned(),
            batches,
            canary: None,
            stopped: None,
            accepted_mismatches: Vec::new(),
            api_calls: ApiCalls::default(),
            rate_limit: None,
            journal_seq: 0,
        }
    }
    /// Reads `upload.json` (redacting it, in case an older version wrote a secret into it), or
    /// gives None when there is none.
    pub(crate) fn read(path: &Path, redactor: &Redactor) -> Result<Option<UploadState>> {
        if !path.exists() {
            return Ok(None);
        }
        let text = crate::text_file::read_bounded_text(path, "upload.json", 256 << 20)?;
        let text = redactor.text(&text);
        let mut state: UploadState = serde_json::from_str(&text).map_err(|e| {
            Error::input(
                path,
                format!("cannot read the upload state: {e}"),
                "restore the file, or move it away to upload again from the start (batches already imported would then be imported twice)",
            )
        })?;
        super::journal::replay(&mut state, path, redactor)?;
        for batch in &mut state.batches {
            // An older upload.json held the failed rows: they move to their own file.
            if !batch.failed.is_empty() {
                batch.failed_rows = batch.failed.len() as u64;
                batch.failed_unsaved = true;
            }
            // The run that wrote it died with the POST in flight.
            if batch.status == BatchStatus::Posting {
                batch.status = BatchStatus::Unconfirmed;
                batch.reason = Some(
                    "the run that posted it stopped before Voucherify's answer arrived".into(),
                );
            }
        }
        Ok(Some(state))
    }

    /// Writes the state atomically and durably; gives the size written.
    pub(crate) fn save(&self, path: &Path) -> Result<u64> {
        let text = serde_json::to_vec_pretty(self)
            .map_err(|e| Error::Invariant(format!("upload state: {e}")))?;
        write_atomically(path, &text)?;
        Ok(text.len() as u64)
    }
}

/// Writes `bytes` to `path` through a temporary file no other process or thread uses, fsyncs
/// it, renames it over `path` and fsyncs the folder.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let folder = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = folder.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&temporary);
        return Err(Error::io(&temporary, e));
    }
    if let Err(e) = fs::rename(&temporary, path) {
        let _ = fs::remove_file(&temporary);
        return Err(Error::io(path, e));
    }
    // The rename itself is durable once the folder is.
    if let Ok(dir) = fs::File::open(folder) {
        let _ = dir.sync_all();
    }
    Ok(())
}

mod batch;
#[cfg(test)]
mod tests;

pub use batch::{
    BatchState, BatchStatus, CanaryState, Candidate, Counts, FailedRowState, GiftEvidence,
    RowSource, Verification,
};

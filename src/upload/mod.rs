//! Upload: the last stage. Pushes a prepared folder's batches to Voucherify's campaign import
//! one by one (or `parallel` at a time), follows each async action to `DONE` or `FAILED`, and
//! brings Voucherify's verdict on each row back to the input row it came from.
//!
//! What it promises, and where each promise is kept:
//! - **Nothing twice** (`batch.rs`): a POST is repeated only when it provably never reached
//!   Voucherify; a batch whose POST may have arrived unanswered is `unconfirmed` until the user
//!   adopts its job or reposts it (`resume.rs`). One run per folder at a time (`state.rs`), and
//!   `DIR/upload.json` records every step atomically, so a run that stops resumes.
//! - **No leaked credential** (`redact.rs`, `transport.rs`, `client.rs`): no redirect is followed, plain http is
//!   refused off this machine, and every text from the server is redacted before it is used.
//! - **Every answer survived** (`verdict.rs`): any shape of async action and result is recorded
//!   and marked, counts that do not fit are reported, not believed.
//! - **Confined files** (`prepared.rs`, `failed.rs`): only files of `DIR/import/` are sent, and
//!   `upload-failed.csv` is safe to open in a spreadsheet.

mod batch;
mod client;
mod compare;
mod failed;
mod prepared;
mod redact;
mod resume;
mod state;
mod transport;
mod verdict;
mod verified;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Result};
use client::Client;
pub use client::{check_api_url, ApiSettings, ApiTransport, IMPORT_ACTION_TYPE};
pub use compare::{Mismatch, MismatchKind, VerifyCount};
pub use failed::FAILED_FILE;
use redact::Redactor;
use resume::{adopt, forget_taken_candidates, holdings, resumed};
pub use state::{
    BatchState, BatchStatus, CanaryState, Candidate, Counts, FailedRowState, RowSource,
    UploadState, Verification, LOCK_FILE, SCHEMA_VERSION, STATE_FILE,
};
pub use verified::{Pattern, VERIFY_FILE};

/// What `upload` is asked to do.
#[derive(Debug, Clone)]
pub struct UploadOptions {
    /// Asks the upload to stop (checked between requests and while waiting).
    pub cancel: crate::interrupt::Cancel,
    /// The folder `prepare` wrote.
    pub dir: PathBuf,
    /// The campaign's id or name.
    pub campaign: String,
    /// Where the API is and the credentials.
    pub api: ApiSettings,
    /// Plain `http://` to a host that is not this machine is refused unless this is set.
    pub allow_insecure_http: bool,
    /// Check the folder and say what would be sent; send nothing.
    pub dry_run: bool,
    /// Batches in flight at once (Voucherify queues bulk jobs per project: 1 is the safe
    /// default).
    pub parallel: usize,
    /// The first wait between two polls of an async action; it grows by half up to
    /// `poll_max`.
    pub poll_first: Duration,
    /// Longest wait between two polls of an async action.
    pub poll_max: Duration,
    /// How long one run polls one job before leaving it `timed_out` (the next run polls on).
    pub job_timeout: Duration,
    /// Post again the batches whose POST may have arrived without an answer (`unconfirmed`).
    pub repost_unconfirmed: bool,
    /// (batch, async action id): take this job as the unconfirmed batch's. The batch is named
    /// by its file name, its path in `summary.json`, or its number (1 = the first).
    pub adopt: Vec<(String, String)>,
    /// How many codes of each DONE batch are read back and compared with what it sent.
    pub verify: VerifyCount,
    /// Post batch 1 first, read back every code of it, and post the rest only when it went in
    /// whole and as sent.
    pub canary: bool,
    /// Post nothing: read back the batches already DONE again.
    pub verify_only: bool,
}

/// Receives what happens, for a display.
pub trait UploadProgress: Sync {
    /// A batch's state changed.
    fn batch(&self, state: &BatchState);
    /// Something the user should know before anything is sent.
    fn warning(&self, text: &str);
}

/// What an upload did (or, in a dry run, would do).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct UploadOutcome {
    /// The version of this document's shape ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// The campaign the batches went to.
    pub campaign: String,
    /// Nothing was sent (`--dry-run`).
    pub dry_run: bool,
    /// Every batch's state, as upload.json records it.
    pub batches: Vec<BatchState>,
    /// Batches Voucherify finished (`DONE`).
    pub batches_done: u64,
    /// Batches whose job Voucherify failed (`FAILED`).
    pub batches_failed: u64,
    /// Batches whose POST may have arrived without an answer: see `candidates` and resolve
    /// with `--adopt` or `--repost-unconfirmed`.
    pub batches_unconfirmed: u64,
    /// Batches Voucherify refused outright (nothing queued).
    pub batches_refused: u64,
    /// Batches whose job did not finish within `--timeout`.
    pub batches_timed_out: u64,
    /// Batches not posted (a stop before them, or a dry run).
    pub batches_pending: u64,
    /// Codes Voucherify imported.
    pub codes_imported: u64,
    /// Codes Voucherify listed as failed.
    pub codes_failed: u64,
    /// Rows sent that Voucherify neither imported nor listed as failed.
    pub rows_without_verdict: u64,
    /// Batches whose counts did not fit the rows sent.
    pub batches_inconsistent: u64,
    /// Where the failed rows are listed (when there are any).
    pub failed_file: Option<String>,
    /// Codes read back (`--verify`) and how many of them differ from what was sent.
    pub codes_verified: u64,
    /// Codes read back that were stored otherwise than sent.
    pub codes_mismatched: u64,
    /// Codes read back that existed before the import (compared on Active and Category).
    pub codes_verified_as_updates: u64,
    /// Every column of every code that differs.
    pub mismatches: u64,
    /// Patterns the mismatches follow, each with what it means and the fix.
    pub patterns: Vec<Pattern>,
    /// Where the mismatches are listed (when there are any).
    pub verify_file: Option<String>,
    /// The canary's verdict (`--canary`).
    pub canary: Option<CanaryState>,
}

impl UploadOutcome {
    fn new(
        campaign: &str,
        dry_run: bool,
        state: UploadState,
        failed_file: Option<String>,
        verify_file: Option<String>,
    ) -> Self {
        let UploadState {
            batches, canary, ..
        } = state;
        let mut outcome = UploadOutcome {
            schema_version: state::SCHEMA_VERSION,
            codes_verified: 0,
            codes_mismatched: 0,
            codes_verified_as_updates: 0,
            mismatches: 0,
            patterns: verified::patterns(
                batches
                    .iter()
                    .filter_map(|b| b.verification.as_ref())
                    .flat_map(|v| &v.mismatches),
            ),
            verify_file,
            canary,
            campaign: campaign.to_owned(),
            dry_run,
            batches_done: 0,
            batches_failed: 0,
            batches_unconfirmed: 0,
            batches_refused: 0,
            batches_timed_out: 0,
            batches_pending: 0,
            codes_imported: 0,
            codes_failed: 0,
            rows_without_verdict: 0,
            batches_inconsistent: 0,
            failed_file,
            batches,
        };
        for batch in &outcome.batches {
            match batch.status {
                BatchStatus::Done => outcome.batches_done += 1,
                BatchStatus::Failed => outcome.batches_failed += 1,
                BatchStatus::Unconfirmed | BatchStatus::Posting => outcome.batches_unconfirmed += 1,
                BatchStatus::Refused => outcome.batches_refused += 1,
                BatchStatus::TimedOut => outcome.batches_timed_out += 1,
                _ => outcome.batches_pending += 1,
            }
            if let Some(v) = &batch.verification {
                outcome.codes_verified += v.checked;
                outcome.codes_mismatched += v.codes_mismatched();
                outcome.codes_verified_as_updates += v.updates;
                outcome.mismatches += v.mismatches.len() as u64;
            }
            if batch.status.finished() {
                outcome.codes_imported += batch.done_count.unwrap_or(0);
                outcome.codes_failed += batch.failed_count.unwrap_or(0);
                outcome.rows_without_verdict += batch.rows_without_verdict;
                if batch.counts == Some(Counts::Inconsistent) {
                    outcome.batches_inconsistent += 1;
                }
            }
        }
        outcome
    }

    /// 0 every code of every batch imported (and read back as sent); 1 anything else (rows or
    /// batches failed at Voucherify, rows without a verdict, counts that do not fit, batches
    /// unconfirmed, refused, timed out or not posted, a read-back mismatch, a canary that did
    /// not pass). A dry run is 0.
    pub fn exit_code(&self) -> i32 {
        let all_in = self.batches.iter().all(|b| b.status == BatchStatus::Done)
            && self.codes_failed == 0
            && self.rows_without_verdict == 0
            && self.batches_inconsistent == 0
            && self.mismatches == 0
            && self.canary.as_ref().is_none_or(|c| c.passed);
        if self.dry_run || all_in {
            0
        } else {
            1
        }
    }
}

/// Runs an upload.
pub fn run(options: &UploadOptions, progress: &dyn UploadProgress) -> Result<UploadOutcome> {
    let redactor = Redactor::new(&[&options.api.app_id, &options.api.app_token]);
    if check_api_url(&options.api.base_url, options.allow_insecure_http)? == ApiTransport::Insecure
    {
        progress.warning(&format!(
            "--allow-insecure-http: {} is plain http, so the app token crosses the network unencrypted",
            options.api.base_url
        ));
    }
    let dir = &options.dir;
    let prepared = prepared::batches(dir, &options.cancel)?;
    let _lock = if options.dry_run {
        None
    } else {
        Some(state::lock(dir)?)
    };
    let state_path = dir.join(STATE_FILE);
    let mut state = match UploadState::read(&state_path, &redactor)? {
        Some(recorded) => UploadState {
            // Written again by this version, in this version's shape.
            schema_version: state::SCHEMA_VERSION,
            ..resumed(recorded, options, &prepared, progress)?
        },
        None => UploadState {
            schema_version: state::SCHEMA_VERSION,
            campaign: options.campaign.clone(),
            api_url: options.api.base_url.clone(),
            batches: prepared
                .iter()
                .map(|b| BatchState::new(b.path.clone(), b.sha256.clone(), b.rows))
                .collect(),
            canary: None,
        },
    };
    adopt(&mut state, &options.adopt)?;
    if options.dry_run {
        return Ok(UploadOutcome::new(
            &options.campaign,
            true,
            state,
            None,
            None,
        ));
    }
    if options.api.app_id.is_empty() || options.api.app_token.is_empty() {
        return Err(Error::usage(
            "VOUCHERIFY_APP_ID and VOUCHERIFY_APP_TOKEN must both be set",
            "export the project's application keys (Project settings > Application keys) in the environment",
        ));
    }
    state.save(&state_path)?;

    let client = Client::new(options.api.clone(), redactor, options.cancel.clone());
    let shared = Mutex::new(state);
    let stopping = AtomicBool::new(false);
    let run = batch::Run {
        options,
        client: &client,
        prepared: &prepared,
        state: &shared,
        state_path: &state_path,
        progress,
        stopping: &stopping,
    };
    // The canary goes alone, first, and is read back whole; the rest only when it passed.
    let mut first = 0;
    let mut failure: Option<Error> = None;
    if options.canary && !options.verify_only && !prepared.is_empty() {
        first = 1;
        match run.process(0, VerifyCount::All) {
            Ok(()) => {
                let verdict = {
                    let mut state = shared.lock().expect("state lock");
                    let verdict = canary_verdict(&state.batches[0]);
                    state.canary = Some(verdict.clone());
                    state.save(&state_path)?;
                    verdict
                };
                if !verdict.passed {
                    first = prepared.len();
                }
            }
            Err(e) => {
                failure = Some(e);
                first = prepared.len();
            }
        }
    }
    let queue: Mutex<Vec<usize>> = Mutex::new((first..prepared.len()).rev().collect());
    let failure: Mutex<Option<Error>> = Mutex::new(failure);
    std::thread::scope(|scope| {
        for _ in 0..options.parallel.max(1) {
            scope.spawn(|| loop {
                if failure.lock().expect("failure lock").is_some() {
                    return;
                }
                let Some(index) = queue.lock().expect("queue lock").pop() else {
                    return;
                };
                if let Err(e) = run.process(index, options.verify) {
                    stopping.store(true, Ordering::SeqCst);
                    failure.lock().expect("failure lock").get_or_insert(e);
                    return;
                }
            });
        }
    });
    let mut state = shared.into_inner().expect("state lock");
    forget_taken_candidates(&mut state, &state_path)?;
    // The rows already known to have failed, and the mismatches found, are listed even when
    // the run stops.
    let failed_file = failed::write(dir, &state);
    let verify_file = verified::write(dir, &state);
    if let Some(e) = failure.into_inner().expect("failure lock") {
        return Err(match e {
            Error::Interrupted => Error::UploadInterrupted {
                state: state_path,
                holds: holdings(&state),
            },
            other => other,
        });
    }
    Ok(UploadOutcome::new(
        &options.campaign,
        false,
        state,
        failed_file?,
        verify_file?,
    ))
}

/// Whether the canary batch went in whole and as sent: DONE, no failed row, no row without a
/// verdict, counts that fit, every code read back and none different.
fn canary_verdict(batch: &BatchState) -> CanaryState {
    let reason = if batch.status != BatchStatus::Done {
        Some(format!(
            "the canary batch is {}{}",
            batch.status.as_str(),
            batch
                .reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        ))
    } else if batch.failed_count.unwrap_or(0) > 0 || !batch.failed.is_empty() {
        Some(format!(
            "{} row(s) of the canary batch failed at Voucherify (see upload-failed.csv)",
            batch.failed_count.unwrap_or(batch.failed.len() as u64)
        ))
    } else if batch.rows_without_verdict > 0 || batch.counts == Some(Counts::Inconsistent) {
        Some("Voucherify's counts for the canary batch do not fit the rows sent".to_owned())
    } else {
        match &batch.verification {
            Some(v) if v.complete && v.mismatches.is_empty() => None,
            Some(v) if v.complete => Some(format!(
                "{} code(s) of the canary batch are stored otherwise than sent (see upload-verify.csv)",
                v.codes_mismatched()
            )),
            _ => Some("the canary batch's codes were not all read back".to_owned()),
        }
    };
    CanaryState {
        batch: batch.path.clone(),
        passed: reason.is_none(),
        reason: reason.map(|r| {
            format!("{r}: the other batches are not posted; fix the cause, then run upload again")
        }),
    }
}

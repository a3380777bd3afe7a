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
//! - **Stop on evidence** (`gate.rs`): the canary (batch 1, read back whole) goes first and
//!   alone; every batch's read-back gates the next POST, and a mismatch stops the posting until
//!   the folder is prepared again or the user accepts it.
//! - **Within the API budget** (`budget.rs`): the calls a run will make are said before the
//!   first one, a read-back over the budget is refused, and the read-back stops when
//!   Voucherify's remainder falls under the reserve.
//! - **Confined files** (`prepared.rs`, `failed.rs`): only files of `DIR/import/` are sent, and
//!   `upload-failed.csv` is safe to open in a spreadsheet.

mod batch;
mod budget;
mod candidates;
mod client;
mod compare;
mod failed;
mod failed_rows;
mod gate;
mod journal;
mod lock;
mod outcome;
mod prepared;
mod project;
mod redact;
mod refresh;
mod resume;
mod state;
mod transport;
mod verdict;
mod verified;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::folder::STATE_FILE;
pub use budget::{ApiCalls, CallPlan, RateLimit, DEFAULT_API_BUDGET, VERIFY_ALL_LIMIT};
use client::Client;
pub use client::{check_api_url, ApiSettings, ApiTransport, Secret, IMPORT_ACTION_TYPE};
pub use compare::{Mismatch, MismatchKind, VerifyCount};
pub use gate::{Acceptance, CanaryMode, MismatchSignature, MismatchStop, OnMismatch};
pub use outcome::UploadOutcome;
pub use project::{ManagementKeys, ProjectSnapshot, ProjectSource};
pub use redact::{Redactor, REDACTED};
use resume::{adopt, forget_taken_candidates, holdings, resumed};
pub use state::{
    BatchState, BatchStatus, CanaryState, Candidate, Counts, FailedRowState, GiftEvidence,
    RowSource, UploadState, Verification, SCHEMA_VERSION,
};
pub use verified::Pattern;

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
    /// Whether batch 1 is posted alone first and read back whole, the rest posted only when
    /// it went in whole and as sent.
    pub canary: CanaryMode,
    /// What a batch's read-back mismatch does to the batches after it.
    pub on_mismatch: OnMismatch,
    /// Take the mismatches that stopped an earlier run as they are, and post on.
    pub accept_mismatches: bool,
    /// The most read-back GETs a run may plan (`--api-budget`); None: [`DEFAULT_API_BUDGET`],
    /// and `--verify all` over [`VERIFY_ALL_LIMIT`] codes refused.
    pub api_budget: Option<u64>,
    /// Calls to leave the project (`--api-reserve`): under it, the read-back stops and no new
    /// batch is posted. None: 20% of the limit Voucherify's answers show, at least 50.
    pub api_reserve: Option<u64>,
    /// Post nothing: read back the batches already DONE again.
    pub verify_only: bool,
    /// For a folder prepared from the project whose campaign gained codes since: export the
    /// project's codes again and check the batches' codes against them before posting.
    pub refresh_existing: bool,
}

/// Receives what happens, for a display.
pub trait UploadProgress: Sync {
    /// A batch's state changed.
    fn batch(&self, state: &BatchState);
    /// Something the user should know before anything is sent.
    fn warning(&self, text: &str);
    /// The calls the run expects to make, before the first one.
    fn plan(&self, _plan: &CallPlan) {}
}

/// Runs an upload.
pub fn run(options: &UploadOptions, progress: &dyn UploadProgress) -> Result<UploadOutcome> {
    let redactor = options.api.redactor();
    if check_api_url(&options.api.base_url, options.allow_insecure_http)? == ApiTransport::Insecure
    {
        progress.warning(&format!(
            "--allow-insecure-http: {} is plain http, so the app token crosses the network unencrypted",
            options.api.base_url
        ));
    }
    let dir = &options.dir;
    let folder = prepared::read_folder(dir, &options.cancel)?;
    let prepared = folder.batches.as_slice();
    let _lock = if options.dry_run {
        None
    } else {
        Some(lock::lock(dir)?)
    };
    let state_path = dir.join(STATE_FILE);
    let mut state = match UploadState::read(&state_path, &redactor)? {
        Some(recorded) => UploadState {
            // Written again by this version, in this version's shape.
            schema_version: state::SCHEMA_VERSION,
            ..resumed(recorded, options, prepared, progress)?
        },
        None => UploadState::new(
            &options.campaign,
            &options.api.base_url,
            prepared
                .iter()
                .map(|b| BatchState::new(b.path.clone(), b.sha256.clone(), b.rows))
                .collect(),
        ),
    };
    adopt(&mut state, &options.adopt)?;

    let canary = !options.verify_only
        && !prepared.is_empty()
        && match options.canary {
            CanaryMode::Off => false,
            CanaryMode::On => true,
            CanaryMode::Auto => folder.has_canary(),
        };
    if options.canary == CanaryMode::Off && !options.verify_only {
        progress.warning(
            "--no-canary: batch 1 is not tried alone first; a wrong reading of amounts, dates or metadata shows only in the read-back of whole batches",
        );
    }
    if options.on_mismatch == OnMismatch::Continue && !options.verify_only {
        progress.warning(
            "--on-mismatch continue: a batch stored otherwise than sent does not stop the batches after it",
        );
    }
    let halt = gate::recorded_stop(&mut state, options.accept_mismatches);
    let plan = budget::plan(&state, options, canary, halt.is_some());
    progress.plan(&plan);
    plan.check(
        options.verify == VerifyCount::All,
        options.api_budget.is_some(),
    )?;
    if options.dry_run {
        return Ok(UploadOutcome::new(
            &options.campaign,
            true,
            state,
            outcome::RunRecord {
                plan,
                halted: halt,
                ..outcome::RunRecord::default()
            },
        ));
    }
    if options.api.app_id.is_empty() || options.api.app_token.is_empty() {
        return Err(Error::usage(
            "VOUCHERIFY_APP_ID and VOUCHERIFY_APP_TOKEN must both be set",
            "export the project's application keys (Project settings > Application keys) in the environment",
        ));
    }
    failed_rows::save_all(dir, &mut state)?;
    options.api.check_credentials_carry()?;
    let journal = Mutex::new(journal::Journal::start(&mut state, &state_path)?);

    let client = Client::new(
        options.api.clone(),
        redactor,
        options.cancel.clone(),
        budget::Meter::new(options.api_reserve),
        options.parallel.max(1),
    );
    // Before the first POST of a folder prepared from the project: has the campaign gained
    // codes since it was read?
    let nothing_posted = state
        .batches
        .iter()
        .all(|b| matches!(b.status, BatchStatus::Pending | BatchStatus::Refused));
    if nothing_posted && !options.verify_only {
        refresh::check_project_unchanged(
            dir,
            &options.campaign,
            prepared,
            options.refresh_existing,
            &client,
            progress,
        )?;
    }
    let shared = Mutex::new(state);
    let stopping = AtomicBool::new(false);
    let halt = Mutex::new(halt);
    let run = batch::Run {
        options,
        client: &client,
        prepared,
        state: &shared,
        journal: &journal,
        progress,
        stopping: &stopping,
        halt: &halt,
        reading: &folder.reading,
    };
    // The canary goes alone, first, and is read back whole; the rest only when it passed.
    let mut failure: Option<Error> = None;
    if canary {
        match run.process(0, VerifyCount::All) {
            Ok(()) => gate::judge_canary(&run)?,
            Err(e) => failure = Some(e),
        }
    }
    let first = usize::from(canary);
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
                let processed = run
                    .process(index, options.verify)
                    .and_then(|()| gate::judge_batch(&run, index));
                if let Err(e) = processed {
                    stopping.store(true, Ordering::SeqCst);
                    failure.lock().expect("failure lock").get_or_insert(e);
                    return;
                }
            });
        }
    });
    let mut state = shared.into_inner().expect("state lock");
    let calls = client.meter().calls();
    state.api_calls.add(&calls);
    if let Some(seen) = client.meter().rate_limit() {
        state.rate_limit = Some(seen);
    }
    journal
        .into_inner()
        .expect("journal lock")
        .checkpoint(&mut state)?;
    journal::remove(&state_path)?;
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
        outcome::RunRecord {
            plan,
            calls,
            halted: halt.into_inner().expect("halt lock"),
            failed_file: failed_file?,
            verify_file: verify_file?,
        },
    ))
}

//! What `upload.json` records of one batch: where it stands, Voucherify's counts and failed
//! rows, the jobs that may be its, and what reading its codes back found.

use serde::{Deserialize, Serialize};

use crate::upload::compare::Mismatch;

/// Where a batch stands.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub enum BatchStatus {
    /// Not posted yet, or every earlier try provably never reached Voucherify.
    #[serde(rename = "pending")]
    Pending,
    /// A POST is in flight. Read back from a file, the run that wrote it died before the
    /// answer: the batch is then [`BatchStatus::Unconfirmed`].
    #[serde(rename = "posting")]
    Posting,
    /// The POST may have reached Voucherify but no async action id came back: it may be
    /// queued. Never posted again without `--repost-unconfirmed`; `--adopt` names its job.
    #[serde(rename = "unconfirmed")]
    Unconfirmed,
    /// Voucherify refused the POST (400, 401, 403, 404, 413, 422): nothing was queued, and the
    /// next run posts it again.
    #[serde(rename = "refused")]
    Refused,
    /// Voucherify's statuses of the job.
    #[serde(rename = "ENQUEUED")]
    Enqueued,
    #[serde(rename = "IN_PROGRESS")]
    /// Voucherify is running the job.
    InProgress,
    /// The job has a status `upload` does not know (kept in `voucherify_status`): polled on.
    #[serde(rename = "polling")]
    Polling,
    /// The job did not finish within `--job-timeout`: the next run polls it again.
    #[serde(rename = "timed_out")]
    TimedOut,
    #[serde(rename = "DONE")]
    /// The job finished: its counts and failed rows are recorded.
    Done,
    #[serde(rename = "FAILED")]
    /// The job failed as a whole.
    Failed,
}

impl BatchStatus {
    /// The job ended (`DONE` or `FAILED`): nothing more to do for this batch.
    pub fn finished(self) -> bool {
        matches!(self, BatchStatus::Done | BatchStatus::Failed)
    }

    /// The batch has a job to poll.
    pub fn has_job(self) -> bool {
        matches!(
            self,
            BatchStatus::Enqueued
                | BatchStatus::InProgress
                | BatchStatus::Polling
                | BatchStatus::TimedOut
        )
    }

    /// As `upload.json` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            BatchStatus::Pending => "pending",
            BatchStatus::Posting => "posting",
            BatchStatus::Unconfirmed => "unconfirmed",
            BatchStatus::Refused => "refused",
            BatchStatus::Enqueued => "ENQUEUED",
            BatchStatus::InProgress => "IN_PROGRESS",
            BatchStatus::Polling => "polling",
            BatchStatus::TimedOut => "timed_out",
            BatchStatus::Done => "DONE",
            BatchStatus::Failed => "FAILED",
        }
    }
}

/// Where a batch's `done_count` and `failed_count` come from.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Counts {
    /// Voucherify gave both.
    Reported,
    /// One or both were missing and were inferred from `failed[]`, the result's message and
    /// the rows sent.
    Inferred,
    /// Voucherify's counts do not fit the rows sent, or its `failed[]` names codes the batch
    /// never sent: not believed (kept in `reported_*` and `failed_not_in_batch`).
    Inconsistent,
    /// The result says nothing of how many went in (no counts, no `failed[]`, no message with
    /// a number): every row is without a verdict.
    Missing,
}

/// Where a failed row's `row` comes from.
#[derive(
    Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RowSource {
    /// Voucherify's `row`.
    #[default]
    Voucherify,
    /// Voucherify's `row` was missing or did not fit; the code's position in the batch.
    Code,
    /// Neither: the row is unknown.
    Unknown,
    /// The entry names a code the batch never sent: an inconsistent answer, not a row of the
    /// batch.
    NotInBatch,
}

/// A row Voucherify did not import, as recorded (texts redacted).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct FailedRowState {
    /// The failed row's code, as Voucherify gave it.
    pub code: Option<String>,
    /// The batch's data row (1 = the first after the header), when known.
    pub row: Option<u64>,
    /// Voucherify's reason.
    pub reason: Option<String>,
    #[serde(default)]
    /// How `row` was found: Voucherify's row, or the code's place in the batch.
    pub row_source: RowSource,
    /// Voucherify's `row` when it was not taken as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_row: Option<String>,
}

/// An import job Voucherify lists that may be an unconfirmed batch's.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct Candidate {
    /// The job's id.
    pub id: String,
    /// The job's status, as Voucherify lists it.
    pub status: Option<String>,
    /// When Voucherify created the job.
    pub created_at: Option<String>,
}

/// What `upload.json` records of one batch.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct BatchState {
    /// The batch, relative to the folder (`import/part-00001.csv`).
    pub path: String,
    /// The batch's sha256 as prepare wrote it; checked before every POST.
    pub sha256: String,
    /// Data rows in the batch.
    pub rows: u64,
    /// The id of the async action the POST started, once known.
    pub async_action_id: Option<String>,
    /// Where the batch stands.
    pub status: BatchStatus,
    /// Voucherify's status of the job as it spelled it, when it is not one `upload` knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voucherify_status: Option<String>,
    /// Voucherify's progress of the job, 0-100.
    pub progress: Option<f64>,
    /// The ended job's `operation_status` when it is not `SUCCESS` (`FAILED` makes the batch
    /// failed; `UNKNOWN` is reported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_status: Option<String>,
    /// Codes Voucherify imported.
    pub done_count: Option<u64>,
    /// Codes Voucherify failed.
    pub failed_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// How far the counts are to be believed, when not as reported.
    pub counts: Option<Counts>,
    /// Voucherify's counts when they were not believed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_done_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Voucherify's failed count when it was not believed.
    pub reported_failed_count: Option<u64>,
    /// Rows sent that Voucherify neither imported nor listed as failed.
    #[serde(default)]
    pub rows_without_verdict: u64,
    /// The job's result message (or its result, when that was not an object).
    pub message: Option<String>,
    /// Why the batch is `unconfirmed`, `refused`, `pending` after tries or `timed_out`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The HTTP status of a refusal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// When the last POST began (UTC, by this machine's clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posted_at: Option<String>,
    /// When Voucherify created the batch's job (its `created_at`, by Voucherify's clock): a
    /// code it created earlier existed before the import (read back as an update).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_created_at: Option<String>,
    /// POST attempts of this batch so far, over all runs (those that could not connect too).
    #[serde(default)]
    pub posts: u32,
    /// Import jobs created since an unconfirmed POST began, any of which may be this batch's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<Candidate>,
    /// Why the candidates could not be listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidates_error: Option<String>,
    /// The job listing was read only in part (its page limit was reached, or its pages stopped
    /// moving back in time): older jobs may be this batch's too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidates_incomplete: Option<String>,
    /// Jobs once taken as this batch's that turned out not to be (404, or of another type):
    /// never candidates again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_its_jobs: Vec<String>,
    /// The job was named by `--adopt`, not by Voucherify's answer to the POST.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub adopted: bool,
    /// The rows Voucherify did not import, while this run holds them: recorded in
    /// `DIR/upload-failed-rows/part-00001.json`, not in `upload.json` (read from an older
    /// `upload.json` that held them, they move there).
    #[serde(default, skip_serializing)]
    #[schemars(skip)]
    pub failed: Vec<FailedRowState>,
    /// How many rows Voucherify did not import, as recorded (see `failed`).
    #[serde(default)]
    pub failed_rows: u64,
    /// `failed` holds rows not written to their file yet.
    #[serde(skip)]
    pub(crate) failed_unsaved: bool,
    /// `failed[]` entries naming codes the batch never sent (an inconsistent answer).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_not_in_batch: Vec<FailedRowState>,
    /// The read-back of the batch's codes once it is DONE (`--verify`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
}

/// What reading a batch's codes back found (`upload --verify`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default, schemars::JsonSchema)]
pub struct Verification {
    /// Codes to read back.
    pub planned: u64,
    /// Codes read back.
    pub checked: u64,
    /// Codes read back that existed before the import (created before its POST): compared on
    /// `Active` and `Category` only, which is all an import updates.
    pub updates: u64,
    /// Every value stored otherwise than sent.
    pub mismatches: Vec<Mismatch>,
    /// Differences that are what Voucherify documents, not mismatches (a boolean of a property
    /// the project does not define, stored as text).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Mismatch>,
    /// Codes whose `Gift Amount` was read back under each of the two documented readings.
    #[serde(default, skip_serializing_if = "GiftEvidence::is_empty")]
    pub gift: GiftEvidence,
    /// Every planned code was read back.
    pub complete: bool,
    /// Why the read-back stopped before every planned code was read (the API budget's
    /// reserve, a stop): `upload --verify-only` finishes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
}

/// What the read-back of gift cards tells of how the project reads `Gift Amount`: only codes
/// with a redeemed amount tell (else `gift.amount` and `gift.balance` are equal).
#[derive(
    Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
pub struct GiftEvidence {
    /// Codes whose `gift.amount` is the `Gift Amount` sent and whose balance is less: the
    /// initial (lifetime income) reading.
    pub initial: u64,
    /// Codes whose `gift.balance` is the `Gift Amount` sent and whose amount is more: the
    /// current balance reading.
    pub balance: u64,
}

impl GiftEvidence {
    fn is_empty(&self) -> bool {
        self.initial == 0 && self.balance == 0
    }

    /// Adds another batch's evidence.
    pub fn add(&mut self, other: GiftEvidence) {
        self.initial += other.initial;
        self.balance += other.balance;
    }
}

impl Verification {
    /// Codes with at least one mismatch.
    pub fn codes_mismatched(&self) -> u64 {
        let mut rows: Vec<u64> = self.mismatches.iter().map(|m| m.row).collect();
        rows.dedup();
        rows.len() as u64
    }
}

/// The canary batch's verdict (`upload --canary`): the rest is posted only when it passed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct CanaryState {
    /// The canary batch.
    pub batch: String,
    /// It went in whole and exactly as sent.
    pub passed: bool,
    /// Why it did not pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl BatchState {
    pub(crate) fn new(path: String, sha256: String, rows: u64) -> Self {
        BatchState {
            path,
            sha256,
            rows,
            async_action_id: None,
            status: BatchStatus::Pending,
            voucherify_status: None,
            progress: None,
            operation_status: None,
            done_count: None,
            failed_count: None,
            counts: None,
            reported_done_count: None,
            reported_failed_count: None,
            rows_without_verdict: 0,
            message: None,
            reason: None,
            http_status: None,
            posted_at: None,
            job_created_at: None,
            posts: 0,
            candidates: Vec::new(),
            candidates_error: None,
            candidates_incomplete: None,
            not_its_jobs: Vec::new(),
            adopted: false,
            failed: Vec::new(),
            failed_rows: 0,
            failed_unsaved: false,
            failed_not_in_batch: Vec::new(),
            verification: None,
        }
    }

    /// The batch file's name (`part-00001.csv`).
    pub fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    /// Forgets a job's outcome before the batch is posted again.
    pub(crate) fn clear_job(&mut self) {
        self.async_action_id = None;
        self.job_created_at = None;
        self.voucherify_status = None;
        self.progress = None;
        self.operation_status = None;
        self.done_count = None;
        self.failed_count = None;
        self.counts = None;
        self.reported_done_count = None;
        self.reported_failed_count = None;
        self.rows_without_verdict = 0;
        self.message = None;
        self.reason = None;
        self.http_status = None;
        self.candidates.clear();
        self.candidates_error = None;
        self.candidates_incomplete = None;
        self.adopted = false;
        self.failed.clear();
        self.failed_rows = 0;
        self.failed_unsaved = false;
        self.failed_not_in_batch.clear();
        self.verification = None;
    }
}

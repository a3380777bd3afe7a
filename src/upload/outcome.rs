//! What an upload did (or, in a dry run, would do): every batch's state, the counts people and
//! pipelines read, the calls it made, why it stopped posting, and the exit code it earns.

use serde::Serialize;

use super::budget::{ApiCalls, CallPlan, RateLimit};
use super::gate::MismatchStop;
use super::state::{self, BatchState, BatchStatus, CanaryState, Counts, GiftEvidence, UploadState};
use super::verified::{self, Pattern};

/// What one run adds to the recorded state.
#[derive(Debug, Default)]
pub(crate) struct RunRecord {
    pub plan: CallPlan,
    pub calls: ApiCalls,
    pub halted: Option<String>,
    pub failed_file: Option<String>,
    pub verify_file: Option<String>,
}

/// What an upload did (or, in a dry run, would do).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct UploadOutcome {
    /// The version of this document's shape ([`state::SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// The campaign the batches went to.
    pub campaign: String,
    /// Nothing was sent (`--dry-run`).
    pub dry_run: bool,
    /// Every batch's state, as upload.json records it.
    pub batches: Vec<BatchState>,
    /// Batches Voucherify finished (`DONE`).
    pub batches_done: u64,
    /// Batches whose job Voucherify failed (`FAILED`, or `DONE` with `operation_status`
    /// `FAILED`).
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
    /// Batches whose counts did not fit the rows sent (or whose `failed[]` named codes the
    /// batch never sent).
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
    /// Batches whose read-back stopped before every planned code was read (`--verify-only`
    /// finishes it).
    pub verifications_incomplete: u64,
    /// What the read-back found that is not a mismatch but worth knowing (metadata stored as
    /// text because the project does not define it, which reading of `Gift Amount` the
    /// project follows, an `operation_status` of `UNKNOWN`).
    pub notes: Vec<String>,
    /// Codes whose read-back told the reading of `Gift Amount`, per reading.
    pub gift_evidence: GiftEvidence,
    /// Where the mismatches are listed (when there are any).
    pub verify_file: Option<String>,
    /// The canary's verdict.
    pub canary: Option<CanaryState>,
    /// Why this run posted no further batch (a mismatch, a canary that did not pass, an
    /// earlier stop, the API budget's reserve).
    pub halted: Option<String>,
    /// The stop recorded for later runs, when a read-back mismatch stopped the posting.
    pub stopped: Option<MismatchStop>,
    /// The calls this run expected to make, said before the first one.
    pub plan: CallPlan,
    /// The calls this run made, by kind.
    pub api_calls: ApiCalls,
    /// The calls made on this folder over every run, by kind (as upload.json records them).
    pub api_calls_total: ApiCalls,
    /// Voucherify's rate limit as its last answer told it.
    pub rate_limit: Option<RateLimit>,
}

impl UploadOutcome {
    pub(crate) fn new(campaign: &str, dry_run: bool, state: UploadState, run: RunRecord) -> Self {
        let UploadState {
            batches,
            canary,
            stopped,
            api_calls,
            rate_limit,
            ..
        } = state;
        let mut outcome = UploadOutcome {
            schema_version: state::SCHEMA_VERSION,
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
            failed_file: run.failed_file,
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
            verifications_incomplete: 0,
            notes: Vec::new(),
            gift_evidence: GiftEvidence::default(),
            verify_file: run.verify_file,
            canary,
            halted: run.halted,
            stopped,
            plan: run.plan,
            api_calls: run.calls,
            api_calls_total: api_calls,
            rate_limit,
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
                outcome.verifications_incomplete += u64::from(!v.complete);
                outcome.gift_evidence.add(v.gift);
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
        outcome.notes = verified::notes(&outcome.batches, outcome.gift_evidence);
        outcome
    }

    /// 0 every code of every batch imported (and read back as sent); 1 anything else (rows or
    /// batches failed at Voucherify, rows without a verdict, counts that do not fit, batches
    /// unconfirmed, refused, timed out or not posted, a read-back mismatch or one left
    /// incomplete, a canary that did not pass, a posting stopped). A dry run is 0.
    pub fn exit_code(&self) -> i32 {
        let all_in = self.batches.iter().all(|b| b.status == BatchStatus::Done)
            && self.codes_failed == 0
            && self.rows_without_verdict == 0
            && self.batches_inconsistent == 0
            && self.mismatches == 0
            && self.verifications_incomplete == 0
            && self.halted.is_none()
            && self.canary.as_ref().is_none_or(|c| c.passed);
        if self.dry_run || all_in {
            0
        } else {
            1
        }
    }
}

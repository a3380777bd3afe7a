//! Stop on evidence: what lets the next batch go. The canary (batch 1, read back whole) must go
//! in whole and as sent before any other batch is posted; after it, every batch's read-back
//! gates the next POST: a mismatch stops the posting (`--on-mismatch stop`, the default), the
//! stop is recorded in `upload.json`, and a later run posts nothing until the folder is
//! prepared again or the user accepts the mismatches (`--accept-mismatches`, recorded with its
//! time).

use serde::{Deserialize, Serialize};

use super::batch::{now_rfc3339, Run};
use super::compare::MismatchKind;
use super::state::{BatchState, BatchStatus, CanaryState, Counts, UploadState};
use crate::error::Result;

/// What a batch's read-back mismatch does to the batches after it (`--on-mismatch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnMismatch {
    /// No further batch is posted (with `--parallel`, no new one is started).
    #[default]
    Stop,
    /// The other batches are posted all the same (the behaviour before the gate).
    Continue,
}

/// Whether batch 1 goes first, alone, read back whole (`--canary`, `--no-canary`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CanaryMode {
    /// When `prepare` made batch 1 a canary (`--canary-rows`, by default whenever the batches
    /// carry a column whose reading Voucherify leaves unconfirmed).
    #[default]
    Auto,
    /// Batch 1 as it is, whatever its size (within the API budget).
    On,
    /// No canary: batch 1 is gated like the others.
    Off,
}

/// A column and the kind of mismatch found in it: what an acceptance covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MismatchSignature {
    /// The batch column.
    pub column: String,
    /// How it differed.
    pub kind: MismatchKind,
}

/// Why the posting stopped: a read-back showed Voucherify stores the rows otherwise than sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MismatchStop {
    /// The batch whose read-back stopped the posting.
    pub batch: String,
    /// What was found, and the fix.
    pub reason: String,
    /// The mismatches' columns and kinds.
    pub found: Vec<MismatchSignature>,
    /// When (UTC).
    pub at: String,
    /// The folder's digest (the sha256 of its batches' sha256s): a folder prepared again is a
    /// new folder.
    pub folder_sha256: String,
}

/// `--accept-mismatches`: the user took the mismatches found as they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Acceptance {
    /// When (UTC).
    pub at: String,
    /// The stop it lifted.
    pub batch: String,
    /// The columns and kinds of mismatch accepted: the same mismatch in a later batch does not
    /// stop the posting again.
    pub accepted: Vec<MismatchSignature>,
}

/// The columns and kinds of a batch's mismatches not accepted already.
pub(crate) fn unaccepted(batch: &BatchState, accepted: &[Acceptance]) -> Vec<MismatchSignature> {
    let mut found: Vec<MismatchSignature> = Vec::new();
    let Some(verification) = &batch.verification else {
        return found;
    };
    for m in &verification.mismatches {
        let signature = MismatchSignature {
            column: m.column.clone(),
            kind: m.kind,
        };
        let taken = accepted.iter().any(|a| a.accepted.contains(&signature));
        if !taken && !found.contains(&signature) {
            found.push(signature);
        }
    }
    found
}

/// A stop an earlier run recorded: lifted when the folder was prepared again (its digest
/// changed) or the user accepts its mismatches (recorded with the time); else why nothing is
/// to be posted.
pub(crate) fn recorded_stop(state: &mut UploadState, accept: bool) -> Option<String> {
    let stop = state.stopped.clone()?;
    if stop.folder_sha256 != folder_digest(&state.batches) {
        state.stopped = None;
        return None;
    }
    if accept {
        state.accepted_mismatches.push(Acceptance {
            at: now_rfc3339(),
            batch: stop.batch,
            accepted: stop.found,
        });
        state.stopped = None;
        return None;
    }
    Some(format!(
        "an earlier run stopped the posting ({} at {}); nothing more is posted until the folder is prepared again or upload runs with --accept-mismatches",
        stop.batch, stop.at
    ))
}

/// After the canary: records its verdict, and when it did not pass, no other batch is posted
/// (and mismatches are recorded as a stop for later runs).
pub(crate) fn judge_canary(run: &Run) -> Result<()> {
    let mut state = run.state.lock().expect("state lock");
    let verdict = canary_verdict(&state.batches[0], &state.accepted_mismatches);
    state.canary = Some(verdict.clone());
    if let Some(reason) = verdict.reason {
        record_stop(&mut state, 0);
        run.halt.lock().expect("halt lock").get_or_insert(reason);
    }
    run.journal
        .lock()
        .expect("journal lock")
        .checkpoint(&mut state)
}

/// After a batch: when its read-back found mismatches not accepted already, no further batch
/// is posted (`--on-mismatch stop`) and the stop is recorded for later runs.
pub(crate) fn judge_batch(run: &Run, index: usize) -> Result<()> {
    if run.options.on_mismatch == OnMismatch::Continue || run.options.verify_only {
        return Ok(());
    }
    let mut state = run.state.lock().expect("state lock");
    let Some(reason) = record_stop(&mut state, index) else {
        return Ok(());
    };
    run.halt.lock().expect("halt lock").get_or_insert(reason);
    run.journal
        .lock()
        .expect("journal lock")
        .checkpoint(&mut state)
}

/// Records a stop for the batch's unaccepted mismatches, if it has any; gives its reason.
fn record_stop(state: &mut UploadState, index: usize) -> Option<String> {
    let batch = &state.batches[index];
    let found = unaccepted(batch, &state.accepted_mismatches);
    if found.is_empty() {
        return None;
    }
    let verification = batch.verification.as_ref()?;
    let patterns = super::verified::patterns(&verification.mismatches);
    let what = match patterns.first() {
        Some(pattern) => pattern.advice.clone(),
        None => format!(
            "{} code(s) stored otherwise than sent (see upload-verify.csv)",
            verification.codes_mismatched()
        ),
    };
    let reason = format!(
        "the read-back of {} shows a wrong reading: {what}. No further batch is posted: prepare again with the fix, or run upload again with --accept-mismatches to post on as it is",
        batch.path
    );
    state.stopped = Some(MismatchStop {
        batch: batch.path.clone(),
        reason: reason.clone(),
        found,
        at: now_rfc3339(),
        folder_sha256: folder_digest(&state.batches),
    });
    Some(reason)
}

/// Whether the canary batch went in whole and as sent: DONE, no failed row, no row without a
/// verdict, counts that fit, every code read back and none different (but as accepted).
pub(crate) fn canary_verdict(batch: &BatchState, accepted: &[Acceptance]) -> CanaryState {
    let reason = if batch.status != BatchStatus::Done {
        Some(format!(
            "the canary batch is {}{}",
            batch.status.as_str(),
            batch
                .reason
                .as_deref()
                .or(batch.message.as_deref())
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        ))
    } else if batch.failed_count.unwrap_or(0) > 0 || batch.failed_rows > 0 {
        Some(format!(
            "{} row(s) of the canary batch failed at Voucherify (see upload-failed.csv)",
            batch.failed_count.unwrap_or(batch.failed_rows)
        ))
    } else if batch.rows_without_verdict > 0
        || matches!(batch.counts, Some(Counts::Inconsistent | Counts::Missing))
    {
        Some("Voucherify's answer for the canary batch does not say every row went in".to_owned())
    } else {
        match &batch.verification {
            Some(v) if v.complete && unaccepted(batch, accepted).is_empty() => None,
            Some(v) if v.complete => Some(format!(
                "{} code(s) of the canary batch are stored otherwise than sent (see upload-verify.csv)",
                v.codes_mismatched()
            )),
            Some(v) => Some(format!(
                "the canary batch's codes were not all read back{}",
                v.incomplete
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            )),
            None => Some("the canary batch's codes were not read back".to_owned()),
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

/// The folder's digest: the sha256 of its batches' sha256s, in order.
pub(crate) fn folder_digest(batches: &[BatchState]) -> String {
    let joined: String = batches.iter().map(|b| b.sha256.as_str()).collect();
    crate::read::sha256_hex(joined.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upload::compare::Mismatch;
    use crate::upload::state::Verification;

    fn verified(kinds: &[(&str, MismatchKind)]) -> BatchState {
        let mut batch = BatchState::new("import/part-00002.csv".into(), "ab".repeat(32), 3);
        batch.status = BatchStatus::Done;
        batch.verification = Some(Verification {
            planned: 3,
            checked: 3,
            complete: true,
            mismatches: kinds
                .iter()
                .map(|(column, kind)| Mismatch {
                    row: 1,
                    code: "GC-1".into(),
                    column: (*column).into(),
                    sent: "1".into(),
                    stored: "100".into(),
                    kind: *kind,
                })
                .collect(),
            ..Verification::default()
        });
        batch
    }

    #[test]
    fn an_accepted_mismatch_does_not_stop_again_and_a_new_one_does() {
        let batch = verified(&[
            ("Gift Amount", MismatchKind::Times100),
            ("Gift Amount", MismatchKind::Times100),
            ("tier", MismatchKind::Different),
        ]);
        assert_eq!(unaccepted(&batch, &[]).len(), 2);
        let accepted = [Acceptance {
            at: "2026-12-07T00:00:00Z".into(),
            batch: "import/part-00001.csv".into(),
            accepted: vec![MismatchSignature {
                column: "Gift Amount".into(),
                kind: MismatchKind::Times100,
            }],
        }];
        let left = unaccepted(&batch, &accepted);
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].column, "tier");
    }

    #[test]
    fn a_canary_passes_only_whole_and_as_sent() {
        let mut batch = verified(&[]);
        batch.done_count = Some(3);
        batch.failed_count = Some(0);
        batch.counts = Some(Counts::Reported);
        assert!(canary_verdict(&batch, &[]).passed);
        batch.counts = Some(Counts::Missing);
        assert!(!canary_verdict(&batch, &[]).passed);
        let mut shifted = verified(&[("Start Date", MismatchKind::DateShifted)]);
        shifted.counts = Some(Counts::Reported);
        let verdict = canary_verdict(&shifted, &[]);
        assert!(!verdict.passed);
        assert!(verdict
            .reason
            .unwrap()
            .contains("stored otherwise than sent"));
    }
}

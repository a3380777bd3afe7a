//! One batch's way through Voucherify: post it (unless its job is known), follow its job to the
//! end, and, when a POST may have arrived without its answer, list the jobs that may be its.
//!
//! Nothing twice: a POST is repeated only when it provably never reached Voucherify (the
//! connection could not be opened, or a 429), at most `--retries` + 1 times. Any other failure
//! after the request started leaves the batch `unconfirmed`: the run goes on with the others,
//! and the user settles it with `--adopt` or `--repost-unconfirmed`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use super::client::{encode_segment, import_path, Answer, Client, Exchange, IMPORT_ACTION_TYPE};
use super::compare::{self, pick_rows, Reading, VerifyCount};
use super::prepared::{self, PreparedBatch};
use super::state::{BatchState, BatchStatus, UploadState, Verification};
use super::verdict::{self, JobStatus};
use super::{UploadOptions, UploadProgress};
use crate::error::{Error, Result};

/// What the batches share in one run.
pub(crate) struct Run<'a> {
    pub options: &'a UploadOptions,
    pub client: &'a Client,
    pub prepared: &'a [PreparedBatch],
    pub state: &'a Mutex<UploadState>,
    /// Where each change is written (taken after `state`, never before).
    pub journal: &'a Mutex<super::journal::Journal>,
    pub progress: &'a dyn UploadProgress,
    /// Set when another batch met an error that stops the run: the others stop at their next
    /// wait, leaving their state to be resumed.
    pub stopping: &'a AtomicBool,
    /// Why no new batch may be posted (a read-back mismatch, a canary that did not pass, the
    /// API budget's reserve): batches with a job are still followed and read back.
    pub halt: &'a Mutex<Option<String>>,
    /// How the folder's rows are read back.
    pub reading: &'a Reading,
}

impl Run<'_> {
    pub(super) fn snapshot(&self, index: usize) -> BatchState {
        self.state.lock().expect("state lock").batches[index].clone()
    }

    /// Changes a batch, saves the state and shows the batch.
    pub(super) fn update(
        &self,
        index: usize,
        change: impl FnOnce(&mut BatchState),
    ) -> Result<BatchState> {
        let batch = {
            let mut state = self.state.lock().expect("state lock");
            change(&mut state.batches[index]);
            super::failed_rows::save(&self.options.dir, &mut state.batches[index])?;
            self.journal
                .lock()
                .expect("journal lock")
                .record(&mut state, index)?;
            state.batches[index].clone()
        };
        self.progress.batch(&batch);
        Ok(batch)
    }

    /// Takes a batch as far as this run can: posted, followed to its end, and, once DONE, its
    /// codes read back (`verify`). Errors are the ones that stop the run.
    pub fn process(&self, index: usize, verify: VerifyCount) -> Result<()> {
        if self.options.verify_only {
            // Only the read-back, again, of what is already imported.
            if self.snapshot(index).status == BatchStatus::Done {
                self.verify(index, verify)?;
            }
            return Ok(());
        }
        let status = self.snapshot(index).status;
        match status {
            s if s.finished() => return self.verify_unless_done(index, verify),
            BatchStatus::Unconfirmed | BatchStatus::Posting if !self.options.repost_unconfirmed => {
                return self.find_candidates(index);
            }
            BatchStatus::Unconfirmed
            | BatchStatus::Posting
            | BatchStatus::Pending
            | BatchStatus::Refused => {
                if let Some(why) = self.halted() {
                    if matches!(status, BatchStatus::Pending | BatchStatus::Refused) {
                        self.update(index, |b| b.reason = Some(format!("not posted: {why}")))?;
                    }
                    return Ok(());
                }
                self.post(index)?
            }
            _ => {}
        }
        if self.snapshot(index).status.has_job() {
            self.poll(index)?;
        }
        self.verify_unless_done(index, verify)
    }

    /// Why no new batch may be posted now, if anything says so: set by the run, or Voucherify's
    /// remainder under the reserve (which then holds for the rest of the run).
    fn halted(&self) -> Option<String> {
        let mut halt = self.halt.lock().expect("halt lock");
        if halt.is_none() {
            *halt = self.client.meter().short();
        }
        halt.clone()
    }

    /// Reads the batch's codes back when it is DONE and its read-back is not complete yet (a
    /// run that stopped in the middle of one does it again: reads are safe to repeat).
    fn verify_unless_done(&self, index: usize, verify: VerifyCount) -> Result<()> {
        let batch = self.snapshot(index);
        let verified = batch.verification.as_ref().is_some_and(|v| v.complete);
        if batch.status == BatchStatus::Done && !verified && verify != VerifyCount::Off {
            self.verify(index, verify)?;
        }
        Ok(())
    }

    /// Reads back `count` of the batch's imported codes with `GET /v1/vouchers/{code}` and
    /// records what differs from what the batch sent. Only GETs: nothing is written to
    /// Voucherify.
    fn verify(&self, index: usize, count: VerifyCount) -> Result<()> {
        let batch = self.snapshot(index);
        let file = &self.prepared[index].file;
        let (header, records) = prepared::batch_records(file)?;
        let code_column = header.iter().position(|h| h == "Code").ok_or_else(|| {
            Error::input(file, "the batch has no Code column", "run prepare again")
        })?;
        let failed: Vec<u64> = super::failed_rows::load(&self.options.dir, &batch)?
            .iter()
            .filter_map(|f| {
                f.row.or_else(|| {
                    let code = f.code.as_deref()?;
                    let at = records
                        .iter()
                        .position(|r| r.get(code_column).map(String::as_str) == Some(code))?;
                    Some(at as u64 + 1)
                })
            })
            .collect();
        let rows = pick_rows(records.len() as u64, &failed, count);
        let updates: std::collections::HashSet<u64> =
            crate::folder::updates::rows_of_batch(&self.options.dir, index + 1)?
                .into_iter()
                .collect();
        // Voucherify's own clock: when it created the job (the local clock may be off).
        let job_created = batch
            .job_created_at
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
        let mut found = Verification {
            planned: rows.len() as u64,
            ..Verification::default()
        };
        for row in rows {
            if self.stopping.load(Ordering::SeqCst) {
                return Ok(());
            }
            if let Some(why) = self.client.meter().short() {
                self.halt
                    .lock()
                    .expect("halt lock")
                    .get_or_insert(why.clone());
                found.incomplete = Some(why);
                self.update(index, |b| b.verification = Some(found))?;
                return Ok(());
            }
            let fields = &records[row as usize - 1];
            let code = &fields[code_column];
            let path = format!("/v1/vouchers/{}", encode_segment(code));
            match self.client.get_or_missing(&path)? {
                None => found.mismatches.push(compare::not_found(row, code)),
                Some(answer) => {
                    let stored = answer.json.unwrap_or_default();
                    // A code Voucherify created before it created this batch's job existed
                    // already: the import updated it, which takes Active and Category only.
                    // Both times are Voucherify's; without the job's, only updates.csv says.
                    let created = stored
                        .get("created_at")
                        .and_then(|v| v.as_str())
                        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
                    let update = updates.contains(&row)
                        || matches!((created, job_created), (Some(c), Some(j)) if c < j);
                    found.updates += u64::from(update);
                    let compared =
                        compare::compare(row, &header, fields, &stored, update, self.reading);
                    found.mismatches.extend(compared.mismatches);
                    found.notes.extend(compared.notes);
                    found.gift.add(compared.gift);
                }
            }
            found.checked += 1;
        }
        found.complete = true;
        self.update(index, |b| b.verification = Some(found))?;
        Ok(())
    }

    /// Posts the batch, repeating only what provably never arrived.
    fn post(&self, index: usize) -> Result<()> {
        let prepared = &self.prepared[index];
        let bytes = std::fs::read(&prepared.file).map_err(|e| Error::io(&prepared.file, e))?;
        // The file may have changed since the run began.
        prepared::check_unchanged(&prepared.path, &prepared.sha256, &bytes)?;
        let name = self.snapshot(index).file_name().to_owned();
        let mut tries: u32 = 0;
        loop {
            tries += 1;
            self.update(index, |b| {
                b.clear_job();
                b.status = BatchStatus::Posting;
                b.posted_at = Some(now_rfc3339());
                b.posts += 1;
            })?;
            let exchange = match self
                .client
                .post_import(&self.options.campaign, &name, &bytes)
            {
                Ok(exchange) => exchange,
                Err(e) => {
                    // Stopped with the POST in flight: it may have arrived.
                    self.update(index, |b| {
                        b.status = BatchStatus::Unconfirmed;
                        b.reason =
                            Some("the run was interrupted while the POST was in flight".into());
                    })?;
                    return Err(e);
                }
            };
            let request = format!("POST {}", import_path(&self.options.campaign));
            let (why, retry_after) = match exchange {
                Exchange::Answer(answer) if (200..300).contains(&answer.status) => {
                    let id = verdict::queued_id(answer.json.as_ref());
                    // A job another batch holds already is not this POST's own.
                    let held_by = id.as_deref().and_then(|id| self.holder_of(index, id));
                    if let (Some(id), Some(other)) = (&id, held_by) {
                        return self.unconfirmed(
                            index,
                            format!(
                                "Voucherify answered {} with the job {id}, which is {other}'s: not believed as this batch's",
                                answer.status
                            ),
                        );
                    }
                    return match id {
                        Some(id) => {
                            self.update(index, |b| {
                                b.async_action_id = Some(id);
                                b.status = BatchStatus::Enqueued;
                            })?;
                            Ok(())
                        }
                        None => self.unconfirmed(
                            index,
                            format!(
                                "Voucherify answered {} without an async action id: {}",
                                answer.status,
                                answer.short_text()
                            ),
                        ),
                    };
                }
                Exchange::Answer(answer) if answer.status == 429 => (
                    format!("Voucherify's rate limit (429): {}", answer.short_text()),
                    Some(answer.retry_after),
                ),
                Exchange::Answer(answer)
                    if matches!(answer.status, 400 | 401 | 403 | 404 | 413 | 422) =>
                {
                    return self.refused(index, &request, &answer);
                }
                Exchange::Answer(answer) if (300..400).contains(&answer.status) => {
                    let error = self.client.refusal(&request, &answer);
                    self.unconfirmed(index, error.to_string())?;
                    return Err(error);
                }
                Exchange::Answer(answer) => {
                    return self.unconfirmed(
                        index,
                        format!(
                            "Voucherify answered {} after the request went out: {}",
                            answer.status,
                            answer.short_text()
                        ),
                    );
                }
                Exchange::Lost(why) => {
                    return self.unconfirmed(
                        index,
                        format!("no answer after the request went out: {why}"),
                    );
                }
                Exchange::NotSent(why) => (format!("could not connect: {why}"), None),
            };
            // Provably not queued: the batch is pending again.
            self.update(index, |b| {
                b.status = BatchStatus::Pending;
                b.reason = Some(why.clone());
            })?;
            if tries > self.client.settings().max_retries {
                let base = &self.client.settings().base_url;
                return Err(Error::Upload(match retry_after {
                    Some(_) => format!(
                        "{request}: Voucherify answered 429 (rate limit) to {tries} tries; run upload again later (it resumes)"
                    ),
                    None => format!(
                        "{request}: cannot reach {base} ({why}) after {tries} tries; check the network and --api-url, then run upload again (it resumes)"
                    ),
                }));
            }
            if self.stopping.load(Ordering::SeqCst) {
                return Ok(());
            }
            let wait = self.client.retry_wait(tries, retry_after)?;
            super::client::sleep_unless_interrupted(self.client.cancel(), wait)?;
        }
    }

    /// The other batch whose job `id` is, if any.
    fn holder_of(&self, index: usize, id: &str) -> Option<String> {
        let state = self.state.lock().expect("state lock");
        state
            .batches
            .iter()
            .enumerate()
            .find(|(i, b)| *i != index && b.async_action_id.as_deref() == Some(id))
            .map(|(_, b)| b.path.clone())
    }

    /// A definitive refusal: nothing was queued. Credentials and a missing campaign stop the
    /// run (every batch would meet them); other refusals are the batch's own.
    fn refused(&self, index: usize, request: &str, answer: &Answer) -> Result<()> {
        let error = match answer.status {
            404 => Error::Upload(format!(
                "campaign '{}' was not found ({}): pass the campaign's id (camp_...) or its exact name, in the project the credentials belong to",
                self.options.campaign,
                answer.short_text()
            )),
            _ => self.client.refusal(request, answer),
        };
        self.update(index, |b| {
            b.status = BatchStatus::Refused;
            b.http_status = Some(answer.status);
            b.reason = Some(error.to_string());
        })?;
        match answer.status {
            401 | 403 | 404 => Err(error),
            _ => Ok(()),
        }
    }

    /// Follows the batch's job until it ends or `--job-timeout` passes.
    fn poll(&self, index: usize) -> Result<()> {
        let id = self
            .snapshot(index)
            .async_action_id
            .ok_or_else(|| Error::Invariant("a batch to poll has no job".into()))?;
        let path = format!("/v1/async-actions/{}", encode_segment(&id));
        let deadline = Instant::now() + self.options.job_timeout;
        let mut wait = self.options.poll_first;
        let mut garbled: u32 = 0;
        loop {
            let Some(answer) = self.client.get_or_missing(&path)? else {
                let named = if self.snapshot(index).adopted {
                    "--adopt named"
                } else {
                    "Voucherify's answer to the POST named"
                };
                return self.not_this_job(
                    index,
                    &id,
                    format!("{named} the job {id}, which Voucherify does not know (404)"),
                );
            };
            match verdict::parse_action(answer.json.as_ref(), &answer.text) {
                Ok(action) => {
                    garbled = 0;
                    if let Some(kind) = action
                        .kind
                        .as_deref()
                        .filter(|k| !k.eq_ignore_ascii_case(IMPORT_ACTION_TYPE))
                    {
                        return self.not_this_job(
                            index,
                            &id,
                            format!("the job {id} is a {kind} job, not a campaign CSV import"),
                        );
                    }
                    let file = self.prepared[index].file.clone();
                    let batch = self.update(index, |b| {
                        verdict::record(b, &action, &mut || prepared::batch_codes(&file))
                    })?;
                    if batch.status.finished() {
                        return Ok(());
                    }
                    debug_assert!(!matches!(
                        action.status,
                        JobStatus::Done | JobStatus::Failed
                    ));
                }
                Err(why) => {
                    garbled += 1;
                    if garbled > self.client.settings().max_retries {
                        return Err(Error::Upload(format!(
                            "GET {path}: {why} ({garbled} times in a row); run upload again later (it resumes)"
                        )));
                    }
                }
            }
            if self.stopping.load(Ordering::SeqCst) {
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let limit = humanize(self.options.job_timeout);
                self.update(index, |b| {
                    b.status = BatchStatus::TimedOut;
                    b.reason = Some(format!(
                        "the job {id} did not finish within {limit} (--job-timeout); run upload again to poll it on"
                    ));
                })?;
                return Ok(());
            }
            super::client::sleep_unless_interrupted(self.client.cancel(), wait.min(left))?;
            wait = wait.mul_f64(1.5).min(self.options.poll_max);
        }
    }

    /// A job that is not this batch's (unknown to Voucherify, or of another type): the batch
    /// is unconfirmed again, the job is never taken for it again, and its candidates are
    /// looked for anew.
    fn not_this_job(&self, index: usize, id: &str, why: String) -> Result<()> {
        self.update(index, |b| {
            b.clear_job();
            b.status = BatchStatus::Unconfirmed;
            b.reason = Some(format!("{why}: it is not this batch's job"));
            if !b.not_its_jobs.iter().any(|j| j == id) {
                b.not_its_jobs.push(id.to_owned());
            }
        })?;
        self.find_candidates(index)
    }
}

/// Now, as RFC 3339 in UTC.
pub(crate) fn now_rfc3339() -> String {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    chrono::DateTime::from_timestamp(now.as_secs() as i64, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// A duration as people write it: `2h`, `90s`, `30m`, `1h30m`.
pub(crate) fn humanize(duration: Duration) -> String {
    let total = duration.as_secs();
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

//! Reading Voucherify's answers about import jobs, whatever their shape: an async action (any
//! letter case of its status, a `result` that is an object, text or missing), its `failed[]`
//! entries with or without `code`, `row` and `reason`, and its counts, present, missing or not
//! fitting the rows sent. What the documentation leaves open is tolerated and marked, never
//! believed blindly (see `docs/voucherify-facts.md`).

use std::collections::HashMap;

use serde_json::Value;

use super::client::{shorten, IMPORT_ACTION_TYPE};
use super::state::{BatchState, BatchStatus, Candidate, Counts, FailedRowState, RowSource};

/// An async action's status.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum JobStatus {
    Enqueued,
    InProgress,
    Done,
    Failed,
    /// A status `upload` does not know, as Voucherify spelled it.
    Other(String),
}

impl JobStatus {
    fn parse(text: &str) -> Self {
        match text.trim().to_ascii_uppercase().as_str() {
            "ENQUEUED" => JobStatus::Enqueued,
            "IN_PROGRESS" => JobStatus::InProgress,
            "DONE" => JobStatus::Done,
            "FAILED" => JobStatus::Failed,
            _ => JobStatus::Other(text.to_owned()),
        }
    }
}

/// An async action's `operation_status` (documented since 2024-06): whether the operation
/// failed, succeeded, or Voucherify does not know.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum OperationStatus {
    Success,
    Failed,
    Unknown,
    /// A value `upload` does not know, as Voucherify spelled it.
    Other(String),
}

impl OperationStatus {
    fn parse(text: &str) -> Self {
        match text.trim().to_ascii_uppercase().as_str() {
            "SUCCESS" => OperationStatus::Success,
            "FAILED" => OperationStatus::Failed,
            "UNKNOWN" => OperationStatus::Unknown,
            _ => OperationStatus::Other(text.to_owned()),
        }
    }
}

/// An async action as `GET /v1/async-actions/{id}` gives it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Action {
    pub kind: Option<String>,
    pub status: JobStatus,
    /// `operation_status`, when the answer has one.
    pub operation: Option<OperationStatus>,
    /// `created_at`: when Voucherify created the job, by its own clock.
    pub created_at: Option<String>,
    pub progress: Option<f64>,
    /// `result`, when there is one.
    pub result: Option<Value>,
}

/// The async action in an answer, or why the answer is not one.
pub(crate) fn parse_action(json: Option<&Value>, text: &str) -> Result<Action, String> {
    let not_one = || format!("the answer is not an async action: {}", shorten(text));
    let object = json.and_then(Value::as_object).ok_or_else(not_one)?;
    let status = object
        .get("status")
        .and_then(Value::as_str)
        .ok_or_else(not_one)?;
    Ok(Action {
        kind: object
            .get("type")
            .and_then(Value::as_str)
            .map(str::to_owned),
        status: JobStatus::parse(status),
        operation: object
            .get("operation_status")
            .and_then(Value::as_str)
            .map(OperationStatus::parse),
        created_at: object
            .get("created_at")
            .and_then(Value::as_str)
            .filter(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok())
            .map(str::to_owned),
        progress: object.get("progress").and_then(Value::as_f64),
        result: object.get("result").filter(|r| !r.is_null()).cloned(),
    })
}

/// The async action id in the answer to a POST.
pub(crate) fn queued_id(json: Option<&Value>) -> Option<String> {
    json?
        .get("async_action_id")?
        .as_str()
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
}

/// Records an action's status and progress on the batch; when it ended, its verdict too.
/// `codes` gives the batch's codes in row order (read only when a failed row needs it).
pub(crate) fn record(
    batch: &mut BatchState,
    action: &Action,
    codes: &mut dyn FnMut() -> Vec<String>,
) {
    batch.progress = action.progress;
    batch.voucherify_status = None;
    batch.operation_status = None;
    if action.created_at.is_some() {
        batch.job_created_at = action.created_at.clone();
    }
    batch.status = match &action.status {
        JobStatus::Enqueued => BatchStatus::Enqueued,
        JobStatus::InProgress => BatchStatus::InProgress,
        JobStatus::Done => BatchStatus::Done,
        JobStatus::Failed => BatchStatus::Failed,
        JobStatus::Other(text) => {
            batch.voucherify_status = Some(shorten(text));
            BatchStatus::Polling
        }
    };
    if !batch.status.finished() {
        return;
    }
    batch.reason = None;
    match &action.operation {
        // A job that ended and says its operation failed failed, whatever its status.
        Some(OperationStatus::Failed) => {
            batch.status = BatchStatus::Failed;
            batch.operation_status = Some("FAILED".into());
        }
        Some(OperationStatus::Unknown) => batch.operation_status = Some("UNKNOWN".into()),
        Some(OperationStatus::Other(text)) => batch.operation_status = Some(shorten(text)),
        Some(OperationStatus::Success) | None => {}
    }
    record_result(batch, action.result.as_ref(), codes);
}

/// The verdict of an ended job: message, failed rows, counts.
fn record_result(
    batch: &mut BatchState,
    result: Option<&Value>,
    codes: &mut dyn FnMut() -> Vec<String>,
) {
    let object = result.and_then(Value::as_object);
    batch.message = match (object, result) {
        (Some(o), _) => o.get("message").map(text_of),
        (None, Some(other)) => Some(shorten(&text_of(other))),
        (None, None) => None,
    };
    let entries: &[Value] = object
        .and_then(|o| o.get("failed"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let mut batch_codes = LazyCodes {
        load: codes,
        codes: None,
    };
    let (own, foreign): (Vec<FailedRowState>, Vec<FailedRowState>) = entries
        .iter()
        .map(|entry| failed_row(entry, batch.rows, &mut batch_codes))
        .partition(|f| f.row_source != RowSource::NotInBatch);
    batch.failed_rows = own.len() as u64;
    batch.failed_unsaved = !own.is_empty();
    batch.failed = own;
    batch.failed_not_in_batch = foreign;
    let count = |name: &str| object.and_then(|o| o.get(name)).and_then(count_of);
    let reported = (count("done_count"), count("failed_count"));
    let listed = batch.failed.len() as u64;
    let from_message = batch.message.as_deref().and_then(imported_in_message);
    // A result that says nothing of how many went in: no count, no `failed` list, no message
    // with a number. Its rows have no verdict (never "all imported").
    let silent = reported == (None, None)
        && from_message.is_none()
        && object
            .and_then(|o| o.get("failed"))
            .is_none_or(|f| !f.is_array());
    let done_job = batch.status == BatchStatus::Done;
    let rows = batch.rows;
    let (done, failed, counts) = match reported {
        (Some(d), Some(f)) => (d, f.max(listed), Counts::Reported),
        (Some(d), None) => (d, listed, Counts::Inferred),
        (None, Some(f)) => (
            from_message.unwrap_or(if done_job { rows.saturating_sub(f) } else { 0 }),
            f.max(listed),
            Counts::Inferred,
        ),
        (None, None) if silent => (0, 0, Counts::Missing),
        (None, None) => (
            from_message.unwrap_or(if done_job {
                rows.saturating_sub(listed)
            } else {
                0
            }),
            listed,
            Counts::Inferred,
        ),
    };
    batch.reported_done_count = None;
    batch.reported_failed_count = None;
    batch.rows_without_verdict = 0;
    // Entries naming codes the batch never sent: the answer is not this batch's alone.
    if done.saturating_add(failed) > rows || !batch.failed_not_in_batch.is_empty() {
        batch.counts = Some(Counts::Inconsistent);
        batch.reported_done_count = reported.0.or(from_message);
        batch.reported_failed_count = reported.1;
        batch.done_count = None;
        batch.failed_count = Some(listed);
        return;
    }
    batch.counts = Some(counts);
    batch.done_count = Some(done);
    batch.failed_count = Some(failed);
    if done_job {
        batch.rows_without_verdict = rows - done - failed;
    }
}

/// The batch's codes, read the first time a failed row needs them.
struct LazyCodes<'a> {
    load: &'a mut dyn FnMut() -> Vec<String>,
    codes: Option<(Vec<String>, HashMap<String, u64>)>,
}

impl LazyCodes<'_> {
    fn get(&mut self) -> &(Vec<String>, HashMap<String, u64>) {
        let load = &mut self.load;
        self.codes.get_or_insert_with(|| {
            let codes = load();
            let mut rows = HashMap::with_capacity(codes.len());
            for (i, code) in codes.iter().enumerate() {
                rows.entry(code.clone()).or_insert(i as u64 + 1);
            }
            (codes, rows)
        })
    }

    /// The code on a batch row (1-based).
    fn at(&mut self, row: u64) -> Option<&str> {
        self.get().0.get(row as usize - 1).map(String::as_str)
    }

    /// The batch row (1-based) holding a code.
    fn row_of(&mut self, code: &str) -> Option<u64> {
        self.get().1.get(code).copied()
    }
}

/// A `failed[]` entry, its row checked against the batch: a row that is missing, not a whole
/// number, out of the batch's range or holding another code is replaced by the code's position
/// in the batch when the code is there.
fn failed_row(entry: &Value, rows: u64, codes: &mut LazyCodes) -> FailedRowState {
    let field = |name: &str| entry.get(name).filter(|v| !v.is_null());
    let code = field("code").map(text_of).filter(|c| !c.is_empty());
    let reason = match entry {
        Value::Object(_) => field("reason").map(text_of),
        // An entry that is not an object is its own reason.
        other => Some(shorten(&text_of(other))),
    };
    let raw_row = field("row");
    let row = raw_row
        .and_then(count_of)
        .filter(|r| (1..=rows).contains(r));
    if let Some(c) = code.as_deref() {
        if codes.row_of(c).is_none() {
            return FailedRowState {
                code,
                row: None,
                reason,
                row_source: RowSource::NotInBatch,
                reported_row: raw_row.map(|r| shorten(&text_of(r))),
            };
        }
    }
    let (row, row_source) = match (row, code.as_deref()) {
        (Some(r), None) => (Some(r), RowSource::Voucherify),
        // Voucherify's row holds the code it names.
        (Some(r), Some(c)) if codes.at(r) == Some(c) => (Some(r), RowSource::Voucherify),
        (Some(_), Some(c)) | (None, Some(c)) => (codes.row_of(c), RowSource::Code),
        (None, None) => (None, RowSource::Unknown),
    };
    let reported_row = match (raw_row, row_source) {
        (Some(raw), RowSource::Code | RowSource::Unknown) => Some(shorten(&text_of(raw))),
        _ => None,
    };
    FailedRowState {
        code,
        row,
        reason,
        row_source,
        reported_row,
    }
}

/// A JSON value as text: a string as it is, anything else as JSON.
fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A count or row number: a non-negative whole number, or a string holding one.
fn count_of(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                .map(|f| f as u64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The count in a message like Voucherify's "2 voucher(s) imported successfully".
fn imported_in_message(message: &str) -> Option<u64> {
    let lower = message.to_ascii_lowercase();
    let at = lower.find(" voucher")?;
    if !lower[at..].contains("imported") {
        return None;
    }
    let digits: String = lower[..at]
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits.parse().ok()
}

/// One page of `GET /v1/async-actions`, read for the jobs an unconfirmed batch may have
/// created.
#[derive(Debug, Default)]
pub(crate) struct JobsPage {
    /// The campaign CSV import jobs created at or after `since` (and those without a time).
    pub found: Vec<Candidate>,
    /// Actions listed on the page, of any type.
    pub listed: usize,
    /// The oldest creation time on the page, in milliseconds since the epoch.
    pub oldest_ms: Option<i64>,
    /// `has_more`, when the answer has it (the documented example does not).
    pub has_more: Option<bool>,
}

/// The CSV import jobs in an answer of `GET /v1/async-actions` created at or after `since_ms`
/// (milliseconds since the epoch), with what the next page needs.
pub(crate) fn import_jobs_since(json: Option<&Value>, since_ms: i64) -> JobsPage {
    let Some(object) = json.and_then(Value::as_object) else {
        return JobsPage::default();
    };
    let list_key = object
        .get("data_ref")
        .and_then(Value::as_str)
        .unwrap_or("async_actions");
    let actions = object
        .get(list_key)
        .or_else(|| object.get("async_actions"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let mut page = JobsPage {
        listed: actions.len(),
        has_more: object.get("has_more").and_then(Value::as_bool),
        ..JobsPage::default()
    };
    for action in actions {
        let created_at = action.get("created_at").and_then(Value::as_str);
        let created = created_at
            .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
            .map(|at| at.timestamp_millis());
        if let Some(at) = created {
            page.oldest_ms = Some(page.oldest_ms.map_or(at, |o| o.min(at)));
        }
        let is_import = action
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case(IMPORT_ACTION_TYPE));
        // A job without a creation time cannot be ruled out.
        let recent = created.is_none_or(|at| at >= since_ms);
        let Some(id) = action.get("id").and_then(Value::as_str) else {
            continue;
        };
        if is_import && recent {
            page.found.push(Candidate {
                id: id.to_owned(),
                status: action.get("status").and_then(Value::as_str).map(shorten),
                created_at: created_at.map(str::to_owned),
            });
        }
    }
    page
}

#[cfg(test)]
mod tests;

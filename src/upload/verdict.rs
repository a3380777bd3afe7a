//! Reading Voucherify's answers about import jobs, whatever their shape: an async action (any
//! letter case of its status, a `result` that is an object, text or missing), its `failed[]`
//! entries with or without `code`, `row` and `reason`, and its counts, present, missing or not
//! fitting the rows sent. What the documentation leaves open is tolerated and marked, never
//! believed blindly (see `../shared/reference/voucherify-import.md`).

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

/// An async action as `GET /v1/async-actions/{id}` gives it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Action {
    pub kind: Option<String>,
    pub status: JobStatus,
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
    if batch.status.finished() {
        batch.reason = None;
        record_result(batch, action.result.as_ref(), codes);
    }
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
    batch.failed = entries
        .iter()
        .map(|entry| failed_row(entry, batch.rows, &mut batch_codes))
        .collect();
    let count = |name: &str| object.and_then(|o| o.get(name)).and_then(count_of);
    let reported = (count("done_count"), count("failed_count"));
    let listed = batch.failed.len() as u64;
    let from_message = batch.message.as_deref().and_then(imported_in_message);
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
    if done.saturating_add(failed) > rows {
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
    let (row, row_source) = match (row, code.as_deref()) {
        (Some(r), None) => (Some(r), RowSource::Voucherify),
        // Voucherify's row holds the code it names.
        (Some(r), Some(c)) if codes.at(r) == Some(c) => (Some(r), RowSource::Voucherify),
        (Some(r), Some(c)) => match codes.row_of(c) {
            Some(found) => (Some(found), RowSource::Code),
            None => (Some(r), RowSource::Voucherify),
        },
        (None, Some(c)) => match codes.row_of(c) {
            Some(found) => (Some(found), RowSource::Code),
            None => (None, RowSource::Unknown),
        },
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

/// The CSV import jobs in an answer of `GET /v1/async-actions` created at or after `since`
/// (seconds since the epoch), and the oldest creation time on the page (for the next page),
/// and whether there are more.
pub(crate) fn import_jobs_since(
    json: Option<&Value>,
    since: i64,
) -> (Vec<Candidate>, Option<String>, bool) {
    let Some(object) = json.and_then(Value::as_object) else {
        return (Vec::new(), None, false);
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
    let mut found = Vec::new();
    let mut oldest: Option<(i64, String)> = None;
    for action in actions {
        let created_at = action.get("created_at").and_then(Value::as_str);
        let created = created_at.and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok());
        if let (Some(text), Some(at)) = (created_at, created) {
            if oldest.as_ref().is_none_or(|(t, _)| at.timestamp() < *t) {
                oldest = Some((at.timestamp(), text.to_owned()));
            }
        }
        let is_import = action
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case(IMPORT_ACTION_TYPE));
        // A job without a creation time cannot be ruled out.
        let recent = created.is_none_or(|at| at.timestamp() >= since);
        let Some(id) = action.get("id").and_then(Value::as_str) else {
            continue;
        };
        if is_import && recent {
            found.push(Candidate {
                id: id.to_owned(),
                status: action.get("status").and_then(Value::as_str).map(shorten),
                created_at: created_at.map(str::to_owned),
            });
        }
    }
    let more = object
        .get("has_more")
        .and_then(Value::as_bool)
        .unwrap_or(false)
        && oldest.as_ref().is_some_and(|(t, _)| *t >= since);
    (found, oldest.map(|(_, text)| text), more)
}

#[cfg(test)]
mod tests;

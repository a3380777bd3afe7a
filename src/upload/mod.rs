//! Upload: the last stage. Pushes a prepared folder's batches to Voucherify's campaign import
//! one by one (or `parallel` at a time), follows each async action to `DONE` or `FAILED`, and
//! brings Voucherify's verdict on each row back to the input row it came from.
//!
//! Nothing lost, nothing twice: `DIR/upload.json` records every step (atomically, after each
//! one), so a run that stops is resumed by running `upload` again: a batch whose async action
//! is known is polled, never posted again, and a batch whose file changed is refused.

pub mod client;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::pipeline::ORIGINS_FILE;
pub use client::{ApiSettings, AsyncAction, Client, FailedRow};

/// The state file in the prepared folder.
pub const STATE_FILE: &str = "upload.json";
/// Rows Voucherify did not import, mapped back to the input.
pub const FAILED_FILE: &str = "upload-failed.csv";

/// What `upload` is asked to do.
#[derive(Debug, Clone)]
pub struct UploadOptions {
    /// The folder `prepare` wrote.
    pub dir: PathBuf,
    /// The campaign's id or name.
    pub campaign: String,
    pub api: ApiSettings,
    /// Check the folder and say what would be sent; send nothing.
    pub dry_run: bool,
    /// Batches in flight at once (Voucherify queues bulk jobs per project: 1 is the safe
    /// default).
    pub parallel: usize,
    /// The first wait between two polls of an async action; it grows by half up to
    /// `poll_max`.
    pub poll_first: Duration,
    pub poll_max: Duration,
    /// Post again a batch whose earlier POST got no recorded answer (the run stopped while
    /// waiting for it): Voucherify may or may not have queued it.
    pub repost_unconfirmed: bool,
}

/// What `upload.json` records of one batch.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BatchState {
    pub path: String,
    pub sha256: String,
    pub rows: u64,
    pub async_action_id: Option<String>,
    /// `pending` (not posted yet), `posting` (posted, the answer not recorded yet), then the
    /// action's status: `ENQUEUED`, `IN_PROGRESS`, `DONE`, `FAILED`.
    pub status: String,
    pub progress: Option<f64>,
    pub done_count: Option<u64>,
    pub failed_count: Option<u64>,
    pub message: Option<String>,
    #[serde(default)]
    pub failed: Vec<FailedRowState>,
}

/// A row Voucherify did not import, as recorded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FailedRowState {
    pub code: Option<String>,
    pub row: u64,
    pub reason: Option<String>,
}

impl BatchState {
    fn finished(&self) -> bool {
        self.status == "DONE" || self.status == "FAILED"
    }
}

/// `upload.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UploadState {
    pub campaign: String,
    pub api_url: String,
    pub batches: Vec<BatchState>,
}

/// What an upload did.
#[derive(Debug, Clone, Serialize)]
pub struct UploadOutcome {
    pub campaign: String,
    pub dry_run: bool,
    pub batches: Vec<BatchState>,
    pub batches_done: u64,
    pub batches_failed: u64,
    pub codes_imported: u64,
    pub codes_failed: u64,
    /// Where the failed rows are listed (when there are any).
    pub failed_file: Option<String>,
}

impl UploadOutcome {
    /// 0 every code imported, 1 some rows or batches failed at Voucherify.
    pub fn exit_code(&self) -> i32 {
        if self.batches_failed == 0 && self.codes_failed == 0 {
            0
        } else {
            1
        }
    }
}

/// Receives each batch's steps, for a display.
pub trait UploadProgress: Sync {
    fn batch(&self, state: &BatchState);
}

/// No display.
pub struct Quiet;

impl UploadProgress for Quiet {
    fn batch(&self, _: &BatchState) {}
}

#[derive(Deserialize)]
struct PreparedBatch {
    path: String,
    rows: u64,
    sha256: String,
}

#[derive(Deserialize)]
struct PreparedSummary {
    batches: Vec<PreparedBatch>,
}

/// Runs an upload.
pub fn run(options: &UploadOptions, progress: &dyn UploadProgress) -> Result<UploadOutcome> {
    let dir = &options.dir;
    let summary_path = dir.join("summary.json");
    let summary: PreparedSummary =
        serde_json::from_slice(&fs::read(&summary_path).map_err(|e| Error::io(&summary_path, e))?)
            .map_err(|e| {
                Error::input(
                    &summary_path,
                    format!("not a summary.json written by voucher-import prepare: {e}"),
                    "give upload the folder `voucher-import prepare --out DIR` wrote",
                )
            })?;

    // Every batch must be byte for byte what prepare wrote.
    for batch in &summary.batches {
        let path = dir.join(&batch.path);
        let bytes = fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let sha256 = crate::read::sha256_hex(&bytes);
        if sha256 != batch.sha256 {
            return Err(Error::Upload(format!(
                "{} changed since prepare wrote it (sha256 {} instead of {}): it is not uploaded; run prepare again for a new folder",
                path.display(),
                &sha256[..12],
                &batch.sha256[..12]
            )));
        }
    }

    let state_path = dir.join(STATE_FILE);
    let mut state = match fs::read(&state_path) {
        Ok(bytes) => {
            let state: UploadState = serde_json::from_slice(&bytes).map_err(|e| {
                Error::input(
                    &state_path,
                    format!("cannot read the upload state: {e}"),
                    "restore the file, or move it away to upload again from the start (batches already imported would then be imported twice)",
                )
            })?;
            if state.campaign != options.campaign {
                return Err(Error::Upload(format!(
                    "{} records an upload to campaign '{}', not '{}': one folder goes to one campaign",
                    state_path.display(),
                    state.campaign,
                    options.campaign
                )));
            }
            for (recorded, batch) in state.batches.iter().zip(&summary.batches) {
                if recorded.path != batch.path || recorded.sha256 != batch.sha256 {
                    return Err(Error::Upload(format!(
                        "{} changed since it was uploaded (upload.json records sha256 {}, the file has {}): it is not uploaded again",
                        batch.path,
                        &recorded.sha256[..recorded.sha256.len().min(12)],
                        &batch.sha256[..12]
                    )));
                }
            }
            state
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => UploadState {
            campaign: options.campaign.clone(),
            api_url: options.api.base_url.clone(),
            batches: summary
                .batches
                .iter()
                .map(|b| BatchState {
                    path: b.path.clone(),
                    sha256: b.sha256.clone(),
                    rows: b.rows,
                    async_action_id: None,
                    status: "pending".into(),
                    progress: None,
                    done_count: None,
                    failed_count: None,
                    message: None,
                    failed: Vec::new(),
                })
                .collect(),
        },
        Err(e) => return Err(Error::io(&state_path, e)),
    };

    // A POST whose answer was never recorded may have queued an import: posting the batch
    // again could import its codes twice, so that takes the user's word.
    let unconfirmed: Vec<&str> = state
        .batches
        .iter()
        .filter(|b| b.status == "posting" && b.async_action_id.is_none())
        .map(|b| b.path.as_str())
        .collect();
    if !unconfirmed.is_empty() && !options.repost_unconfirmed && !options.dry_run {
        return Err(Error::Upload(format!(
            "{} was posted by a run that stopped before Voucherify's answer arrived, so it may be queued already: check the campaign's import jobs in the dashboard, then run upload again with --repost-unconfirmed to post it again",
            unconfirmed.join(", ")
        )));
    }

    if !options.dry_run {
        if options.api.app_id.is_empty() || options.api.app_token.is_empty() {
            return Err(Error::usage(
                "VOUCHERIFY_APP_ID and VOUCHERIFY_APP_TOKEN must both be set",
                "export the project's application keys (Project settings > Application keys) in the environment",
            ));
        }
        save_state(&state_path, &state)?;
        let client = Client::new(options.api.clone());
        let shared = Mutex::new(&mut state);
        let queue: Mutex<Vec<usize>> = Mutex::new({
            let state = shared.lock().expect("state lock");
            (0..state.batches.len())
                .rev()
                .filter(|&i| !state.batches[i].finished())
                .collect()
        });
        let failure: Mutex<Option<Error>> = Mutex::new(None);
        std::thread::scope(|scope| {
            for _ in 0..options.parallel.max(1) {
                scope.spawn(|| loop {
                    if failure.lock().expect("failure lock").is_some() {
                        return;
                    }
                    let Some(index) = queue.lock().expect("queue lock").pop() else {
                        return;
                    };
                    if let Err(e) =
                        upload_batch(options, &client, &shared, &state_path, index, progress)
                    {
                        failure.lock().expect("failure lock").get_or_insert(e);
                        return;
                    }
                });
            }
        });
        if let Some(e) = failure.into_inner().expect("failure lock") {
            return Err(e);
        }
    }

    let failed_file = if options.dry_run {
        None
    } else {
        write_failed_rows(dir, &state)?
    };
    let mut outcome = UploadOutcome {
        campaign: options.campaign.clone(),
        dry_run: options.dry_run,
        batches_done: 0,
        batches_failed: 0,
        codes_imported: 0,
        codes_failed: 0,
        failed_file,
        batches: state.batches,
    };
    for batch in &outcome.batches {
        match batch.status.as_str() {
            "DONE" => outcome.batches_done += 1,
            "FAILED" => outcome.batches_failed += 1,
            _ => {}
        }
        outcome.codes_imported += batch.done_count.unwrap_or(0);
        outcome.codes_failed += batch.failed_count.unwrap_or(0);
    }
    Ok(outcome)
}

/// Posts one batch (unless its action is known) and follows its action to the end.
fn upload_batch(
    options: &UploadOptions,
    client: &Client,
    shared: &Mutex<&mut UploadState>,
    state_path: &Path,
    index: usize,
    progress: &dyn UploadProgress,
) -> Result<()> {
    let (path, known) = {
        let state = shared.lock().expect("state lock");
        let batch = &state.batches[index];
        (batch.path.clone(), batch.async_action_id.clone())
    };
    let update = |change: &dyn Fn(&mut BatchState)| -> Result<BatchState> {
        let mut state = shared.lock().expect("state lock");
        change(&mut state.batches[index]);
        save_state(state_path, &state)?;
        Ok(state.batches[index].clone())
    };
    let id = match known {
        Some(id) => id,
        None => {
            let file = options.dir.join(&path);
            let bytes = fs::read(&file).map_err(|e| Error::io(&file, e))?;
            let name = Path::new(&path)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.clone());
            update(&|b| b.status = "posting".into())?;
            let id = client.import_csv(&options.campaign, &name, &bytes)?;
            let batch = update(&|b| {
                b.async_action_id = Some(id.clone());
                b.status = "ENQUEUED".into();
            })?;
            progress.batch(&batch);
            id
        }
    };
    let mut wait = options.poll_first;
    loop {
        let action = client.async_action(&id)?;
        let result = action.result.clone().unwrap_or_default();
        let batch = update(&|b| {
            b.status = action.status.clone();
            b.progress = action.progress;
            b.message = result.message.clone();
            if action.status == "DONE" || action.status == "FAILED" {
                b.done_count = result.done_count;
                b.failed_count = result.failed_count.or(Some(result.failed.len() as u64));
                b.failed = result
                    .failed
                    .iter()
                    .map(|f| FailedRowState {
                        code: f.code.clone(),
                        row: f.row,
                        reason: f.reason.clone(),
                    })
                    .collect();
                if action.status == "DONE" && b.done_count.is_none() {
                    b.done_count = Some(b.rows.saturating_sub(result.failed.len() as u64));
                }
            }
        })?;
        progress.batch(&batch);
        if batch.finished() {
            return Ok(());
        }
        client::sleep_unless_interrupted(wait)?;
        wait = (wait.mul_f64(1.5)).min(options.poll_max);
    }
}

/// Writes `upload.json` atomically: a reader (or a resumed run) sees the old or the new state,
/// never half of one.
fn save_state(path: &Path, state: &UploadState) -> Result<()> {
    let text = serde_json::to_vec_pretty(state)
        .map_err(|e| Error::Invariant(format!("upload state: {e}")))?;
    write_atomically(path, &text)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    {
        use std::io::Write;
        let mut file = fs::File::create(&temporary).map_err(|e| Error::io(&temporary, e))?;
        file.write_all(bytes)
            .and_then(|_| file.sync_all())
            .map_err(|e| Error::io(&temporary, e))?;
    }
    fs::rename(&temporary, path).map_err(|e| Error::io(path, e))
}

/// A run of batch rows from one input file, as `origins.csv` lists it.
#[derive(Debug, Deserialize)]
struct Origin {
    batch: u32,
    batch_row: u64,
    count: u64,
    file: String,
    row: u64,
}

/// Writes `upload-failed.csv` from the recorded failed rows: `file`, `row` (the input file and
/// its data-row number), `code`, `reason` (Voucherify's), then the row's fields as the batch
/// holds them. Gives its name, or None (and removes an old one) when no row failed.
fn write_failed_rows(dir: &Path, state: &UploadState) -> Result<Option<String>> {
    let target = dir.join(FAILED_FILE);
    if state.batches.iter().all(|b| b.failed.is_empty()) {
        if target.exists() {
            fs::remove_file(&target).map_err(|e| Error::io(&target, e))?;
        }
        return Ok(None);
    }
    let origins_path = dir.join(ORIGINS_FILE);
    let mut origins: BTreeMap<u32, Vec<Origin>> = BTreeMap::new();
    let mut reader = csv::Reader::from_path(&origins_path).map_err(|e| {
        Error::input(
            &origins_path,
            format!("cannot read where the batch rows come from: {e}"),
            "run prepare again: it writes origins.csv",
        )
    })?;
    for run in reader.deserialize::<Origin>() {
        let run = run.map_err(|e| {
            Error::input(
                &origins_path,
                format!("a broken line: {e}"),
                "run prepare again",
            )
        })?;
        origins.entry(run.batch).or_default().push(run);
    }
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .flexible(true)
        .from_writer(Vec::new());
    let mut header_written = false;
    for (number, batch) in state.batches.iter().enumerate() {
        if batch.failed.is_empty() {
            continue;
        }
        let path = dir.join(&batch.path);
        let mut rows = csv::Reader::from_path(&path).map_err(|e| {
            Error::input(
                &path,
                format!("cannot read the batch: {e}"),
                "run prepare again",
            )
        })?;
        let header: Vec<String> = rows
            .headers()
            .map_err(|e| Error::input(&path, e.to_string(), "run prepare again"))?
            .iter()
            .map(|h| crate::write::rejected::formula_safe(h.to_owned()))
            .collect();
        if !header_written {
            let mut names = vec!["file", "row", "code", "reason"];
            names.extend(header.iter().map(String::as_str));
            out.write_record(&names)
                .map_err(|e| Error::Invariant(e.to_string()))?;
            header_written = true;
        }
        let records: Vec<csv::StringRecord> = rows
            .records()
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| Error::input(&path, e.to_string(), "run prepare again"))?;
        let runs = origins
            .get(&(number as u32 + 1))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        for failed in &batch.failed {
            let origin = runs
                .iter()
                .find(|r| r.batch_row <= failed.row && failed.row < r.batch_row + r.count);
            let (file, row) = match origin {
                Some(run) => (
                    run.file.clone(),
                    (run.row + (failed.row - run.batch_row)).to_string(),
                ),
                None => (
                    format!("{} (batch row)", batch.path),
                    failed.row.to_string(),
                ),
            };
            let mut record = vec![
                file,
                row,
                failed.code.clone().unwrap_or_default(),
                failed.reason.clone().unwrap_or_default(),
            ];
            if let Some(fields) = failed
                .row
                .checked_sub(1)
                .and_then(|i| records.get(i as usize))
            {
                record.extend(
                    fields
                        .iter()
                        .map(|f| crate::write::rejected::formula_safe(f.to_owned())),
                );
            }
            out.write_record(&record)
                .map_err(|e| Error::Invariant(e.to_string()))?;
        }
    }
    let bytes = out
        .into_inner()
        .map_err(|e| Error::Invariant(e.to_string()))?;
    write_atomically(&target, &bytes)?;
    Ok(Some(target.display().to_string()))
}

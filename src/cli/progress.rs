//! The progress bar on stderr (the binary's, not the library's): bytes read of the total, rows
//! per second, rows rejected so far and the time left. Shown only when stderr is a terminal,
//! the input is larger than a few MB, and `--quiet` is off; plain when `NO_COLOR` is set.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use crate::cli::printer::TerminalSafe;
use crate::upload::{BatchState, BatchStatus, UploadProgress};
use crate::{NoProgress, Progress, ProgressUpdate};
use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Inputs smaller than this finish before a bar would tell anything.
const MIN_BYTES: u64 = 8 << 20;

struct Bar(ProgressBar);

impl Progress for Bar {
    fn update(&self, update: ProgressUpdate) {
        self.0.set_position(update.bytes_read);
        let per_second = update.rows as f64 / self.0.elapsed().as_secs_f64().max(0.001);
        self.0.set_message(format!(
            "{} rows/s, {} rows, {} rejected",
            HumanCount(per_second as u64),
            HumanCount(update.rows),
            HumanCount(update.rejected)
        ));
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        // The summary follows on stderr: the bar goes away.
        self.0.finish_and_clear();
    }
}

/// The progress display for a run over `total` stored bytes.
pub fn for_stderr(total: Option<u64>, quiet: bool) -> Box<dyn Progress> {
    let shown =
        !quiet && std::io::stderr().is_terminal() && total.is_some_and(|bytes| bytes >= MIN_BYTES);
    let Some(total) = total.filter(|_| shown) else {
        return Box::new(NoProgress);
    };
    let template = if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        "{bar:20} {bytes}/{total_bytes} ETA {eta}  {wide_msg}"
    } else {
        "{bar:20.cyan/blue} {bytes}/{total_bytes} ETA {eta}  {wide_msg}"
    };
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(10));
    bar.set_style(
        ProgressStyle::with_template(template)
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    Box::new(Bar(bar))
}

/// Upload progress: a line on stderr whenever a batch's status or progress changes.
#[derive(Default)]
pub struct UploadLines {
    last: Mutex<HashMap<String, Shown>>,
}

/// What a batch's last line showed: its status, progress, number of candidates and codes read
/// back.
type Shown = (BatchStatus, Option<u64>, usize, Option<u64>);

impl UploadProgress for UploadLines {
    fn batch(&self, batch: &BatchState) {
        let percent = batch.progress.map(|p| p.round() as u64);
        let mut last = self.last.lock().expect("progress lock");
        let checked = batch.verification.as_ref().map(|v| v.checked);
        let now = (batch.status, percent, batch.candidates.len(), checked);
        if last.get(&batch.path) == Some(&now) {
            return;
        }
        let verified_now = checked.is_some()
            && last
                .get(&batch.path)
                .is_some_and(|shown| shown.0 == batch.status && shown.3 != checked);
        last.insert(batch.path.clone(), now);
        if let (true, Some(v)) = (verified_now, &batch.verification) {
            let _ = writeln!(
                TerminalSafe::new(std::io::stderr()),
                "{}  verified    {} codes read back, {} stored otherwise than sent",
                batch.path,
                v.checked,
                v.codes_mismatched()
            );
            return;
        }
        let detail = match batch.status {
            BatchStatus::Done | BatchStatus::Failed => format!(
                "{} imported, {} failed{}",
                batch.done_count.unwrap_or(0),
                batch.failed_count.unwrap_or(0),
                batch
                    .message
                    .as_deref()
                    .map(|m| format!(" ({m})"))
                    .unwrap_or_default()
            ),
            BatchStatus::Unconfirmed => format!(
                "{}; {} import job(s) since the POST",
                batch.reason.as_deref().unwrap_or("no answer"),
                batch.candidates.len()
            ),
            BatchStatus::Refused | BatchStatus::TimedOut | BatchStatus::Pending => {
                batch.reason.clone().unwrap_or_default()
            }
            BatchStatus::Polling => format!(
                "Voucherify says '{}'{}",
                batch.voucherify_status.as_deref().unwrap_or("?"),
                percent.map(|p| format!(" {p}%")).unwrap_or_default()
            ),
            _ => match (percent, &batch.async_action_id) {
                (Some(p), _) => format!("{p}%"),
                (None, Some(id)) => id.clone(),
                (None, None) => String::new(),
            },
        };
        let _ = writeln!(
            TerminalSafe::new(std::io::stderr()),
            "{}  {:<11} {detail}",
            batch.path,
            batch.status.as_str()
        );
    }

    fn warning(&self, text: &str) {
        let _ = writeln!(TerminalSafe::new(std::io::stderr()), "warning: {text}");
    }

    fn plan(&self, plan: &crate::upload::CallPlan) {
        let _ = crate::cli::printer::upload::write_plan(
            &mut TerminalSafe::new(std::io::stderr()),
            plan,
        );
    }
}

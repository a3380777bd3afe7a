//! Before anything of a folder prepared from the project is posted: the campaign's
//! `vouchers_count` read again. Codes added since the project was read may be codes of the
//! batches (a silent update at Voucherify, which then takes only Active and Category): the
//! upload stops and says so, or, with `--refresh-existing`, exports the project's codes again
//! and checks the batches' codes against the new list before anything is posted.

use std::collections::HashSet;
use std::path::Path;

use super::client::{encode_segment, Client};
use super::prepared::PreparedBatch;
use super::project::{ProjectExport, ProjectSnapshot};
use super::UploadProgress;
use crate::error::{Error, Result};

/// Checks a folder prepared from the project (it keeps `project/`) against the campaign as it
/// is now; a folder prepared from files is not checked. Call it before the first POST.
pub(crate) fn check_project_unchanged(
    dir: &Path,
    campaign: &str,
    batches: &[PreparedBatch],
    refresh: bool,
    client: &Client,
    progress: &dyn UploadProgress,
) -> Result<()> {
    if !dir.join(crate::folder::PROJECT_DIR).is_dir() {
        return Ok(());
    }
    let snapshot = ProjectSnapshot::from_folder(dir)?;
    let then = count_of(&snapshot.campaign_json);
    let path = format!("/v1/campaigns/{}", encode_segment(campaign));
    let now_answer = client.get(&path)?;
    let now = now_answer
        .json
        .as_ref()
        .and_then(|c| c.get("vouchers_count"))
        .and_then(|n| n.as_u64())
        .unwrap_or(0);
    if now <= then {
        return Ok(());
    }
    let added = now - then;
    let read_at = &snapshot.read.read_at;
    if !refresh {
        return Err(Error::Upload(format!(
            "campaign '{campaign}' holds {now} codes, {added} more than when the project was read ({then}, at {read_at}): codes that went in since may be codes of the batches, which Voucherify would take as updates; nothing was posted. Run upload again with --refresh-existing (the project's codes are exported again and the batches' codes checked against them before anything is posted), or prepare again"
        )));
    }
    let ours: HashSet<String> = batch_codes(batches)?;
    let mut clashes: Vec<String> = Vec::new();
    let mut found = 0u64;
    let export = ProjectExport {
        api: client.settings().clone(),
        keep: false,
    };
    let (read, note) = export.read(client.cancel(), None, |id, body| {
        let name = format!("the project's export {id}");
        crate::dedup::existing::read_codes_from(body, Path::new(&name), usize::MAX, |code| {
            if ours.contains(code) {
                found += 1;
                if clashes.len() < 5 {
                    clashes.push(code.to_owned());
                }
            }
        })
    })?;
    if let Some(note) = note {
        progress.warning(&note);
    }
    if found > 0 {
        return Err(Error::Upload(format!(
            "{found} code(s) of the batches are in the project now ({}), added since it was read at {read_at}: posting them would update those codes; nothing was posted. Prepare again (--project-campaign reads the new list)",
            clashes.join(", ")
        )));
    }
    progress.warning(&format!(
        "campaign '{campaign}' holds {added} more code(s) than when the project was read; the project's {} codes, exported again ({}), hold none of the batches' codes",
        read.codes, read.export_id
    ));
    Ok(())
}

/// `vouchers_count` of a campaign object (0 when absent).
fn count_of(campaign_json: &str) -> u64 {
    serde_json::from_str::<serde_json::Value>(campaign_json)
        .ok()
        .and_then(|c| c.get("vouchers_count").and_then(|n| n.as_u64()))
        .unwrap_or(0)
}

/// Every code of the batches (their `Code` column).
fn batch_codes(batches: &[PreparedBatch]) -> Result<HashSet<String>> {
    let mut codes = HashSet::new();
    for batch in batches {
        let unreadable = |e: csv::Error| {
            Error::input(
                &batch.file,
                format!("cannot read the batch: {e}"),
                "prepare again",
            )
        };
        let mut reader = csv::Reader::from_path(&batch.file).map_err(unreadable)?;
        for record in reader.records() {
            let record = record.map_err(unreadable)?;
            if let Some(code) = record.get(0) {
                codes.insert(code.to_owned());
            }
        }
    }
    Ok(codes)
}

//! `DIR/upload-failed.csv`: the rows Voucherify did not import, mapped back through
//! `origins.csv` to the input file and row they came from, with Voucherify's reason and the
//! row's fields as the batch holds them. Every cell is made safe to open in a spreadsheet.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde::Deserialize;

use super::state::{write_atomically, UploadState};
use crate::error::{Error, Result};
use crate::pipeline::ORIGINS_FILE;
use crate::write::rejected::formula_safe;

/// Rows Voucherify did not import, mapped back to the input.
pub const FAILED_FILE: &str = "upload-failed.csv";

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
/// its data-row number; the batch file and an empty row when Voucherify named no row that can
/// be placed), `code`, `reason` (Voucherify's), then the row's fields. Gives its path, or None
/// (and removes an old one) when no row failed.
pub(crate) fn write(dir: &Path, state: &UploadState) -> Result<Option<String>> {
    let target = dir.join(FAILED_FILE);
    if state.batches.iter().all(|b| b.failed.is_empty()) {
        if target.exists() {
            fs::remove_file(&target).map_err(|e| Error::io(&target, e))?;
        }
        return Ok(None);
    }
    let origins = read_origins(dir)?;
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
            .map(|h| formula_safe(h.to_owned()))
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
            let origin = failed.row.and_then(|row| {
                runs.iter()
                    .find(|r| r.batch_row <= row && row < r.batch_row + r.count)
                    .map(|run| {
                        (
                            run.file.clone(),
                            (run.row + (row - run.batch_row)).to_string(),
                        )
                    })
            });
            let (file, row) = match (origin, failed.row) {
                (Some(origin), _) => origin,
                (None, Some(row)) => (format!("{} (batch row)", batch.path), row.to_string()),
                (None, None) => (batch.path.clone(), String::new()),
            };
            let mut record = vec![
                formula_safe(file),
                row,
                formula_safe(failed.code.clone().unwrap_or_default()),
                formula_safe(failed.reason.clone().unwrap_or_default()),
            ];
            if let Some(fields) = failed
                .row
                .and_then(|row| row.checked_sub(1))
                .and_then(|i| records.get(i as usize))
            {
                record.extend(fields.iter().map(|f| formula_safe(f.to_owned())));
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

/// `origins.csv`, by batch number.
fn read_origins(dir: &Path) -> Result<BTreeMap<u32, Vec<Origin>>> {
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
    Ok(origins)
}

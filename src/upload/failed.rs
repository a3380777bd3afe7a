//! `DIR/upload-failed.csv`: the rows Voucherify did not import, mapped back through
//! `origins.csv` to the input file and row they came from, with Voucherify's reason and the
//! row's fields as the batch holds them. Every cell is made safe to open in a spreadsheet.

use std::fs;
use std::path::Path;

use super::state::{write_atomically, UploadState};
use crate::error::{Error, Result};
use crate::folder::formula_safe;
use crate::folder::origins::Origins;

/// Rows Voucherify did not import, mapped back to the input.
use crate::folder::FAILED_FILE;

/// Writes `upload-failed.csv` from the recorded failed rows: `file`, `row` (the input file and
/// its data-row number; the batch file and an empty row when Voucherify named no row that can
/// be placed), `code`, `reason` (Voucherify's), then the row's fields, then its kept columns
/// (`--keep`, from `origins.csv`). Gives its path, or None
/// (and removes an old one) when no row failed.
pub(crate) fn write(dir: &Path, state: &UploadState) -> Result<Option<String>> {
    let target = dir.join(FAILED_FILE);
    if state.batches.iter().all(|b| b.failed_rows == 0) {
        if target.exists() {
            fs::remove_file(&target).map_err(|e| Error::io(&target, e))?;
        }
        return Ok(None);
    }
    let origins = Origins::read(dir)?;
    // Batches of inputs with different columns have different headers: the fields go under
    // the union of the failed batches' headers, each under its own name.
    let mut batches = Vec::new();
    let mut columns: Vec<String> = Vec::new();
    for (number, batch) in state.batches.iter().enumerate() {
        if batch.failed_rows == 0 {
            continue;
        }
        let failed = super::failed_rows::load(dir, batch)?;
        let (header, records) = super::prepared::batch_records(&dir.join(&batch.path))?;
        for name in &header {
            if !columns.contains(name) {
                columns.push(name.clone());
            }
        }
        batches.push((number, batch, failed, header, records));
    }
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let mut names: Vec<String> = crate::folder::FAILED_REPORT_COLUMNS
        .iter()
        .map(|c| (*c).to_owned())
        .collect();
    names.extend(columns.iter().map(|c| formula_safe(c.clone())));
    // The kept columns (`--keep`) last: the caller's key of each row.
    let kept_columns = origins.kept_columns().len();
    names.extend(
        origins
            .kept_columns()
            .iter()
            .map(|c| formula_safe(c.clone())),
    );
    out.write_record(&names)
        .map_err(|e| Error::Invariant(e.to_string()))?;
    for (number, batch, failed_rows, header, records) in batches {
        let positions: Vec<Option<usize>> = columns
            .iter()
            .map(|c| header.iter().position(|h| h == c))
            .collect();
        for failed in &failed_rows {
            let origin = failed
                .row
                .and_then(|row| origins.locate(number as u32 + 1, row));
            let kept = origin.as_ref().map(|o| o.kept.clone()).unwrap_or_default();
            let (file, row) = match (origin, failed.row) {
                (Some(origin), _) => (origin.file, origin.row.to_string()),
                (None, Some(row)) => (format!("{} (batch row)", batch.path), row.to_string()),
                (None, None) => (batch.path.clone(), String::new()),
            };
            let mut record = vec![
                formula_safe(file),
                row,
                formula_safe(failed.code.clone().unwrap_or_default()),
                formula_safe(failed.reason.clone().unwrap_or_default()),
            ];
            let fields = failed
                .row
                .and_then(|row| row.checked_sub(1))
                .and_then(|i| records.get(i as usize));
            record.extend(positions.iter().map(|at| {
                at.and_then(|at| fields.and_then(|f| f.get(at)))
                    .map(|f| formula_safe(f.clone()))
                    .unwrap_or_default()
            }));
            record.extend(
                (0..kept_columns).map(|at| formula_safe(kept.get(at).cloned().unwrap_or_default())),
            );
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

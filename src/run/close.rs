//! Closing a run that writes a folder: summary.json, origins.csv, updates.csv and report.html
//! beside the batches and rejected.csv, then the staged folder put in place at once.

use crate::error::{Error, Result};
use crate::folder;
use crate::report::Summary;
use crate::rules::RuleSet;
use crate::write::rejected::RuleExample;
use crate::write::StagedOutput;

/// What the folder's files record besides the summary.
pub(super) struct FolderRecords<'a> {
    /// Where each batch row comes from.
    pub(super) origins: &'a [crate::folder::origins::OriginRun],
    pub(super) file_names: &'a [String],
    /// The rows that update codes in the project: (batch, batch row, code).
    pub(super) update_rows: &'a [(u32, u64, String)],
    pub(super) rules: &'a RuleSet,
    /// Rejected rows kept as examples, by rule.
    pub(super) examples: &'a [(String, Vec<RuleExample>)],
    /// report.html's field columns.
    pub(super) report_columns: &'a [String],
}

/// Writes the folder's remaining files into `staged` and commits it.
pub(super) fn write_folder(
    staged: StagedOutput,
    summary: &Summary,
    records: FolderRecords,
) -> Result<()> {
    let path = staged.path().join(folder::SUMMARY_FILE);
    let mut text = Vec::new();
    crate::report::write_json(&mut text, summary).map_err(|e| Error::io(&path, e))?;
    std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
    let path = staged.path().join(folder::ORIGINS_FILE);
    folder::origins::write(&path, records.origins, records.file_names)?;
    if !records.update_rows.is_empty() {
        folder::updates::write(staged.path(), records.update_rows)?;
    }
    let path = staged.path().join(folder::REPORT_FILE);
    let mut page = Vec::new();
    crate::report::html::write_html(
        &mut page,
        &crate::report::html::HtmlReport {
            summary,
            rules: records.rules,
            examples: records.examples,
            columns: records.report_columns,
        },
    )
    .map_err(|e| Error::io(&path, e))?;
    std::fs::write(&path, page).map_err(|e| Error::io(&path, e))?;
    staged.commit()
}

//! The reports of an earlier run that can be given back as input (rejected.csv,
//! upload-failed.csv): told apart by their own columns, which are skipped.

/// A report of an earlier run given back as input (fixed in a spreadsheet): its own columns
/// say what that run found and are skipped; the others are the rows to import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    /// `rejected.csv`: `file, row, line, rules, reason` first, `raw` last.
    Rejected,
    /// `upload-failed.csv`: `file, row, code, reason` (Voucherify's) first, then the batch's
    /// columns.
    UploadFailed,
}

impl ReportKind {
    /// The report a header is, if it is one.
    pub fn of(names: &[String]) -> Option<ReportKind> {
        let starts_with = |columns: &[&str]| {
            names.len() > columns.len()
                && names.iter().zip(columns).all(|(name, c)| name.trim() == *c)
        };
        let rejected = crate::folder::REPORT_COLUMNS;
        if starts_with(&rejected)
            && names.len() > rejected.len() + 1
            && names
                .last()
                .is_some_and(|n| n.trim() == crate::folder::RAW_COLUMN)
        {
            return Some(ReportKind::Rejected);
        }
        starts_with(&crate::folder::FAILED_REPORT_COLUMNS).then_some(ReportKind::UploadFailed)
    }

    /// Whether the column at `position` of a header of `len` columns is the report's own.
    pub(super) fn is_report_column(self, position: usize, len: usize) -> bool {
        match self {
            ReportKind::Rejected => {
                position < crate::folder::REPORT_COLUMNS.len() || position + 1 == len
            }
            ReportKind::UploadFailed => position < crate::folder::FAILED_REPORT_COLUMNS.len(),
        }
    }

    /// The note a run gives about input `display` being this report.
    pub fn note(self, display: &str) -> String {
        match self {
            ReportKind::Rejected => format!(
                "{display} is a rejected.csv: its columns file, row, line, rules, reason and raw (what the earlier run said) are skipped, and a ' put in front of a formula-like value is taken off"
            ),
            ReportKind::UploadFailed => format!(
                "{display} is an upload-failed.csv: its columns file, row, code and reason (what Voucherify said) are skipped, the batch's columns are read as the rows to import, and a ' put in front of a formula-like value is taken off"
            ),
        }
    }
}

//! The prepared folder, the contract between `prepare` and `upload` (and a library caller): the
//! name of every file `prepare` writes into it and `upload` adds to it, what every CSV in it
//! written for people shares (the report columns of rejected.csv, spreadsheet
//! neutralisation), and every document read back as plain serde data that depends only on
//! leaf modules: `summary.json` and the `check` report (`summary`, re-exported at the crate's
//! root), the settings it records (`options`), `origins.csv` ([`origins`]) and `updates.csv`
//! ([`updates`]). The stages convert what they counted into these types.

pub(crate) mod options;
pub mod origins;
pub(crate) mod project;
pub(crate) mod summary;
pub mod updates;

/// The batches, `import/part-00001.csv`, ...
pub const IMPORT_DIR: &str = "import";
/// The rows that could not go in, with why.
pub const REJECTED_FILE: &str = "rejected.csv";
/// Accepted rows that a `warn` rule flagged.
pub const WARNINGS_FILE: &str = "warnings.csv";
/// The run's summary (counts, rules, batches with their sha256).
pub const SUMMARY_FILE: &str = "summary.json";
/// The run as a page for people.
pub const REPORT_FILE: &str = "report.html";
/// Where each batch row comes from: runs of batch rows -> input file rows.
pub const ORIGINS_FILE: &str = "origins.csv";
/// The batch rows that update a code already in the project (`--existing-codes update`).
pub const UPDATES_FILE: &str = "updates.csv";
/// `upload`'s state: every batch's way through Voucherify.
pub const STATE_FILE: &str = "upload.json";
/// `upload`'s changes since `upload.json` was last written whole, one line each.
pub const JOURNAL_FILE: &str = "upload.journal";
/// Locked while an `upload` runs on the folder.
pub const LOCK_FILE: &str = "upload.lock";
/// The rows Voucherify did not import, mapped back to the input.
pub const FAILED_FILE: &str = "upload-failed.csv";
/// What the read-back found stored otherwise than sent.
pub const VERIFY_FILE: &str = "upload-verify.csv";
/// What a connected run read from the project (`project/campaign.json`, ...).
pub const PROJECT_DIR: &str = "project";
/// The rows Voucherify did not import, one JSON file per batch (`part-00001.json`): kept out
/// of `upload.json`, so that the state a resumed run reads stays small however many rows
/// failed.
pub const FAILED_ROWS_DIR: &str = "upload-failed-rows";

/// Every name a prepared folder holds (and `upload.json.tmp`, which versions before the
/// atomic writes left behind).
pub const ENTRIES: [&str; 15] = [
    IMPORT_DIR,
    REJECTED_FILE,
    WARNINGS_FILE,
    SUMMARY_FILE,
    REPORT_FILE,
    ORIGINS_FILE,
    UPDATES_FILE,
    STATE_FILE,
    JOURNAL_FILE,
    VERIFY_FILE,
    LOCK_FILE,
    FAILED_FILE,
    FAILED_ROWS_DIR,
    PROJECT_DIR,
    "upload.json.tmp",
];

/// The files `upload` writes through a temporary `.NAME.*.tmp` (whose leftovers a killed run
/// leaves).
pub const WRITTEN_BY_UPLOAD: [&str; 3] = [STATE_FILE, FAILED_FILE, VERIFY_FILE];

/// The columns rejected.csv (and warnings.csv) put before the original fields.
pub const REPORT_COLUMNS: [&str; 5] = ["file", "row", "line", "rules", "reason"];
/// The column rejected.csv (and warnings.csv) puts after the original fields: the text of a
/// record whose fields could not be placed in columns.
pub const RAW_COLUMN: &str = "raw";
/// The columns upload-failed.csv puts before the batch's fields: the input file and row,
/// the code and Voucherify's reason.
pub const FAILED_REPORT_COLUMNS: [&str; 4] = ["file", "row", "code", "reason"];

/// Whether a spreadsheet (Excel, LibreOffice, Google Sheets) reads a cell starting like this as
/// a formula: `=`, `+`, `-`, `@`, TAB or CR first.
pub fn looks_like_formula(value: &str) -> bool {
    matches!(
        value.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    )
}

/// A value made safe to open in a spreadsheet: one that would run as a formula gets a `'` in
/// front, which spreadsheets read as "this is text", and so does one that already starts with
/// `'` (so that the `'` a spreadsheet hides is not the value's own). Every cell of every CSV
/// written for people goes through here; reading a rejected.csv back as input removes exactly
/// one `'` ([`formula_unsafe`]), so the round trip gives back every value as it was.
pub fn formula_safe(value: String) -> String {
    if looks_like_formula(&value) || value.starts_with('\'') {
        format!("'{value}")
    } else {
        value
    }
}

/// The inverse of [`formula_safe`]: the value as it was before the `'` was put in front.
pub fn formula_unsafe(value: &str) -> &str {
    value.strip_prefix('\'').unwrap_or(value)
}

//! The reasons the built-in rules that the judge applies give a row (the SQL rules' reasons are
//! in their files, `sql/*.sql`; the reader's, for records it cannot split, in the reader
//! crate): one place, beside the rule registry, so that every text a user reads about a
//! built-in rule is found here or in its file.

/// `record_too_large`: the record alone, with the header, exceeds `--max-file-bytes`.
pub(crate) fn record_too_large(bytes: usize, max_file_bytes: u64) -> String {
    format!(
        "the record takes {bytes} bytes, more than a batch of --max-file-bytes {max_file_bytes} can hold with its header"
    )
}

/// `invalid_encoding`: these columns hold bytes that are not UTF-8.
pub(crate) fn invalid_encoding<'a>(columns: impl Iterator<Item = &'a str>) -> String {
    format!(
        "{} holds bytes that are not UTF-8 (shown as U+FFFD)",
        columns.collect::<Vec<_>>().join(", ")
    )
}

/// `unreadable_value`: these columns (with why) hold values that cannot be written as text.
pub(crate) fn unreadable_value<'a>(columns: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let named: Vec<String> = columns
        .map(|(name, why)| format!("{name} ({why})"))
        .collect();
    format!(
        "a value cannot be written as text in the form Voucherify takes: {}",
        named.join("; ")
    )
}

/// `update_ignores_fields`: the columns holding values Voucherify ignores when it updates an
/// existing code.
pub(crate) fn update_ignores_fields(code: &str, ignored: &[&str]) -> String {
    format!(
        "{code} is in the project: Voucherify updates only Active and Category, and ignores {}",
        ignored.join(", ")
    )
}

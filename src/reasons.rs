//! The reasons the built-in rules give a row, where the tool writes them in Rust (the SQL
//! rules' reasons are in their files, `sql/*.sql`; the reader's, for records it cannot split,
//! in the reader crate; the metadata rules' are composed from the schema's words in
//! `rules/metadata.rs`): one place beside the rule registry (`rules::names`), a leaf every
//! stage can use, so that every text a user reads about a built-in rule is found here or in
//! its file.

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

/// Where an existing code comes from, as a reason says it: `listed in codes.csv`, or `among the
/// existing codes given` for codes a library caller gives as values (`given`).
pub(crate) fn existing_source(name: &str, given: bool) -> String {
    if given {
        "among the existing codes given".to_owned()
    } else {
        format!("listed in {name}")
    }
}

/// `existing_code`: the code is in the project already (`whence`: [`existing_source`]).
pub(crate) fn existing_code(code: &str, whence: &str) -> String {
    format!("Code '{code}' is already in the project ({whence})")
}

/// `excel_mangled_code`: an all-digit code that is an existing code once leading zeros are
/// put back (`whence`: [`existing_source`]).
pub(crate) fn lost_zeros_of_existing(code: &str, padded: &str, whence: &str) -> String {
    format!(
        "Code '{code}' looks like a number a spreadsheet stripped of its leading zeros: with them it is '{padded}', already in the project ({whence}): export the code column as text and give the original codes"
    )
}

/// `excel_mangled_code`: an all-digit code shorter than the zero-padded codes of its column.
pub(crate) fn lost_zeros_among_padded(code: &str, width: usize, example: &str) -> String {
    format!(
        "Code '{code}' looks like a number a spreadsheet stripped of its leading zeros: the column's codes are zero-padded to {width} digits (e.g. '{example}'): export the code column as text and give the original codes"
    )
}

/// `duplicate_code`: the code repeats an accepted row.
pub(crate) fn duplicate_code(code: &str, row: u64, file: &str) -> String {
    format!("Code '{code}' repeats row {row} of {file}")
}

/// Where the earlier code a case variant differs from is: in the project, or an accepted row.
pub(crate) enum EarlierCode<'a> {
    /// In the project (`whence`: [`existing_source`]).
    Existing(&'a str),
    /// An accepted row of an input.
    Accepted { row: u64, file: &'a str },
}

/// `case_variant_code`: the code differs from an earlier one only in letter case.
pub(crate) fn case_variant_code(code: &str, other: &str, earlier: EarlierCode) -> String {
    let whence = match earlier {
        EarlierCode::Existing(whence) => format!("in the project, {whence}"),
        EarlierCode::Accepted { row, file } => format!("row {row} of {file}"),
    };
    format!(
        "Code '{code}' differs only in letter case from '{other}' ({whence}): in a project created with case-insensitive codes this row fails; pass --case-insensitive-codes if yours is"
    )
}

/// `over_campaign_limit`: the campaign is full.
pub(crate) fn over_campaign_limit(limit: u64, in_campaign: u64, accepted_before: u64) -> String {
    format!(
        "the campaign limit of {limit} codes is reached ({in_campaign} already in the campaign, {accepted_before} accepted before this row)"
    )
}

/// `wrong_voucher_type`: an export row's voucher type is not the campaign's.
pub(crate) fn wrong_voucher_type(found: &str, wanted: &str) -> String {
    format!("voucher_type {found} does not fit this campaign, which holds {wanted} codes")
}

/// `empty_in_boolean_column`: an empty cell in a metadata column whose values are all
/// true or false.
pub(crate) fn empty_in_boolean_column(name: &str) -> String {
    format!(
        "{name} is empty, and its column's values are all true or false: if {name} is a boolean property, Voucherify drops this row silently; pass --metadata-schema (the cell is then written null) or write null"
    )
}

/// `metadata_nested`: an export's JSON metadata holds an object under `key`.
pub(crate) fn metadata_nested(key: &str) -> String {
    format!("metadata.{key} is a nested object, which a CSV import cannot carry")
}

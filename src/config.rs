//! The validated run configuration: what the command line asked for, resolved once (campaign
//! read, rules loaded, limits checked) before any input is read.

use std::path::PathBuf;

use crate::campaign::Campaign;
use crate::folder::options::{ExistingCodes, GiftAmountReading, ImportOptions};
use crate::normalize::headers::HeaderOptions;
use crate::read::{Format, InputPath, ReadOptions};
use crate::rules::metadata::MetadataSchema;
use crate::rules::RuleSet;

/// Voucherify's limit on one import file, 10 MB; whether it counts the multipart envelope
/// around the file is unconfirmed, so the whole request body is kept within it.
pub const IMPORT_REQUEST_BYTES: u64 = 10_000_000;
/// Room left in [`IMPORT_REQUEST_BYTES`] for the multipart envelope `upload` puts around a
/// batch (boundary lines and part headers: about 210 bytes).
pub const MULTIPART_ENVELOPE_BYTES: u64 = 512;
/// The default largest batch file: the whole request body stays within 10,000,000 bytes.
pub const DEFAULT_MAX_FILE_BYTES: u64 = IMPORT_REQUEST_BYTES - MULTIPART_ENVELOPE_BYTES;
/// Voucherify's limit on the codes of one import file.
pub const DEFAULT_BATCH_ROWS: u64 = 100_000;
/// Voucherify's default number of codes a campaign holds.
pub const DEFAULT_CAMPAIGN_LIMIT: u64 = 100_000;

/// The rules in force for these options: `update_ignores_fields` only when existing codes
/// become updates, `empty_in_boolean_column` only without a metadata schema (which says
/// which columns are boolean), `case_variant_code` only when codes are compared exactly,
/// `redeemed_over_balance` only when `Gift Amount` is the initial amount (a balance is
/// what is left after the redeemed amount).
pub(crate) fn rules_in_force(options: &ImportOptions, mut rules: RuleSet, schema: bool) -> RuleSet {
    use crate::rules::names;
    if options.existing_codes == ExistingCodes::Reject {
        rules.leave_out(names::UPDATE_IGNORES_FIELDS);
    }
    if schema {
        rules.leave_out(names::EMPTY_IN_BOOLEAN_COLUMN);
    }
    if options.case_insensitive_codes {
        rules.leave_out(names::CASE_VARIANT_CODE);
    }
    if options.gift_amount == GiftAmountReading::Balance {
        rules.leave_out(names::REDEEMED_OVER_BALANCE);
    }
    rules
}

/// Everything a run needs, validated: made only by [`crate::import::Import::resolve`].
#[derive(Debug, Clone)]
pub(crate) struct RunConfig {
    /// Asks the run to stop (checked between chunks): a clone of it is the caller's.
    pub cancel: crate::interrupt::Cancel,
    /// The inputs as named and expanded: files, and `-` for stdin.
    pub inputs: Vec<InputPath>,
    /// How CSV inputs are split and decoded.
    pub read: ReadOptions,
    /// The input format when given; else by file name (`.parquet`), CSV otherwise.
    pub format: Option<Format>,
    /// Files of codes already in the project (`--existing`).
    pub existing: Vec<PathBuf>,
    /// Codes already in the project given as values (by a library caller), besides the
    /// `existing` files; the summary lists them as one source, `(codes given)`.
    pub existing_codes: Vec<String>,
    /// The campaign the codes go into.
    pub campaign: Campaign,
    /// The settings the summary records.
    pub options: ImportOptions,
    /// Header renames, drops and declared metadata columns.
    pub headers: HeaderOptions,
    /// The rules in force, in the order their findings are listed.
    pub rules: RuleSet,
    /// Treat every input as a Voucherify voucher export (else detected by its columns).
    pub from_export: bool,
    /// The voucher metadata schema to check metadata columns against.
    pub metadata_schema: Option<MetadataSchema>,
    /// Worker threads for rule evaluation.
    pub threads: usize,
    /// Every file and folder the run reads (inputs as named and as found, --existing, --rules,
    /// --metadata-schema, --campaign): an output folder may not be or hold any of them.
    pub reads: Vec<PathBuf>,
    /// What resolving the arguments noticed (an input named twice, the campaign read from the
    /// project), for the summary.
    pub notes: Vec<String>,
    /// What was read from the user's project, when the campaign came from it.
    pub project: Option<crate::upload::ProjectSnapshot>,
}

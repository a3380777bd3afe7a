//! The settings of an import as `summary.json` records them (and as a run is given them): the
//! campaign limit, the amount units, what becomes of existing codes, the batch limits, the
//! canary.

use serde::{Deserialize, Serialize};

use crate::formats::AmountUnit;

/// What a row whose code is already in the project (`--existing`) becomes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ExistingCodes {
    /// Rejected as `existing_code`.
    #[default]
    Reject,
    /// Imported: Voucherify updates the code's Active and Category and ignores the rest
    /// (`update_ignores_fields` warns which values).
    Update,
}

/// How `Gift Amount` is meant (`--gift-amount`). Voucherify's import text calls it both "the
/// initial gift card balance" and "the current card balance"; its voucher object has
/// `gift.amount` (the income over the card's lifetime) and `gift.balance` (`amount -
/// subtracted_amount - redeemed_amount`). Which one a CSV import sets is unconfirmed: the
/// read-back of `upload` tells.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum GiftAmountReading {
    /// The card's initial amount (`gift.amount`); `Redeemed Amount` is taken from it.
    #[default]
    Initial,
    /// The card's current balance (`gift.balance`); `Redeemed Amount` was already spent
    /// before it, so it may exceed it.
    Balance,
}

impl GiftAmountReading {
    /// The default reading.
    pub fn is_initial(&self) -> bool {
        *self == GiftAmountReading::Initial
    }
}

/// The settings of an import that the summary records.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ImportOptions {
    /// Most codes the campaign may hold (`--campaign-limit`).
    pub campaign_limit: u64,
    /// Codes the campaign holds already; they count against the limit.
    pub codes_in_campaign: u64,
    /// The unit of `Gift Amount` and `Redeemed Amount` in the input (`--amount-unit`).
    pub amount_unit: AmountUnit,
    /// `--amount-unit` was given: an export's amounts are then read in it, not decided per file.
    #[serde(skip)]
    pub amount_unit_given: bool,
    #[serde(default)]
    /// Codes are compared ignoring letter case (a project created so).
    pub case_insensitive_codes: bool,
    #[serde(default)]
    /// What a row whose code is already in the project becomes.
    pub existing_codes: ExistingCodes,
    /// Largest batch file in bytes, header included (`--max-file-bytes`).
    pub max_file_bytes: u64,
    /// Most rows per batch (`--batch-rows`).
    pub batch_rows: u64,
    /// The unit amounts are written in: whole minor units (the default, see the README), or
    /// major units with two decimals, for a project whose import reads major units (what
    /// `upload --verify` finds out).
    #[serde(default)]
    pub batch_amount_unit: AmountUnit,
    /// Rows of the first batch (`--canary-rows`): a small batch that `upload` posts alone
    /// first and reads back whole. In the summary, present only when batch 1 is a canary.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(default)]
    pub canary_rows: Option<u64>,
    /// How `Gift Amount` is meant (`--gift-amount`).
    #[serde(default, skip_serializing_if = "GiftAmountReading::is_initial")]
    pub gift_amount: GiftAmountReading,
    /// The time zone dates without one are in (`--dates-in`: an IANA name or an offset): they
    /// are written in UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dates_in: Option<String>,
    /// The order of day and month in Start Date and Expiration Date values written with
    /// slashes, dots or dashes (`--date-order`): such values are written in the ISO form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_order: Option<crate::formats::DateOrder>,
}

impl ImportOptions {
    /// Refuses settings that cannot be used: a `--dates-in` that names no time zone.
    pub fn check(&self) -> crate::error::Result<()> {
        if let Some(zone) = &self.dates_in {
            crate::formats::parse_zone(zone).map_err(|message| {
                crate::error::Error::usage(
                    format!("--dates-in {message}"),
                    "give the project's time zone: --dates-in Europe/Warsaw, or --dates-in +02:00",
                )
            })?;
        }
        Ok(())
    }
}

/// Rows of the canary batch when `--canary-rows` is not given.
pub const DEFAULT_CANARY_ROWS: u64 = 20;

/// The batch columns whose reading Voucherify confirms: a batch of only these needs no
/// canary.
const CONFIRMED_COLUMNS: [&str; 3] = ["Code", "Category", "Active"];

impl ImportOptions {
    /// Rows of batch 1 when it is a canary, for batches with these column groups: the rows
    /// asked for (`Some(0)`: none), else [`DEFAULT_CANARY_ROWS`] whenever a batch carries a
    /// column whose reading Voucherify leaves unconfirmed (amounts, dates, metadata,
    /// `Redeemed Quantity`).
    pub fn canary_for(&self, groups: &[Vec<String>]) -> Option<u64> {
        match self.canary_rows {
            Some(0) => None,
            Some(rows) => Some(rows),
            None => groups
                .iter()
                .flatten()
                .any(|c| !CONFIRMED_COLUMNS.contains(&c.as_str()))
                .then_some(DEFAULT_CANARY_ROWS),
        }
    }
}

//! `summary.json`: what a run did, written by the run and read back whole by `upload` and by
//! a library caller ([`read_summary`]); and the `check` report. Plain data: the run converts
//! what its stages counted into it.

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use std::io::{self, Write};

use super::options::ImportOptions;
use crate::campaign::Campaign;

/// The version of the shape of `summary.json`, `prepare --json` and `check --json`: raised when
/// a field changes meaning or goes away (a field added is not a new version).
pub const SCHEMA_VERSION: u32 = 1;

/// One input as read.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct InputInfo {
    /// The file as named, or an Arrow source's name.
    pub path: String,
    /// The hash of the stored bytes; empty for an Arrow source, which has none.
    pub sha256: String,
    /// Stored bytes; 0 for an Arrow source.
    pub bytes: u64,
    /// Data rows read.
    pub rows: u64,
    /// Rows read whole over several lines (a quoted value with line breaks).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub multi_line_records: u64,
    /// Lines read as parts of those rows, beyond their first: lines that are no row of their
    /// own (`rows` + these + blank and header lines = the file's lines).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub lines_in_multi_line_records: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One `--existing` file as read.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExistingInfo {
    /// The file as named, or `(codes given)` for codes given as values.
    pub path: String,
    /// Codes read from it.
    pub codes: u64,
}

/// Rule name -> rows that failed it, in the order the rules run; serialized as a JSON object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleCounts(pub Vec<(String, u64)>);

impl RuleCounts {
    /// The count of rule `rule`, if it is listed.
    pub fn get(&self, rule: &str) -> Option<u64> {
        self.0
            .iter()
            .find(|(name, _)| name == rule)
            .map(|(_, n)| *n)
    }
}

impl Serialize for RuleCounts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl schemars::JsonSchema for RuleCounts {
    fn schema_name() -> String {
        "RuleCounts".to_owned()
    }

    fn json_schema(generator: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        <std::collections::BTreeMap<String, u64>>::json_schema(generator)
    }
}

impl<'de> Deserialize<'de> for RuleCounts {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_map(InOrder(std::marker::PhantomData))
            .map(RuleCounts)
    }
}

/// Reads a JSON object into (key, value) pairs in the order written: the rules' order.
struct InOrder<V>(std::marker::PhantomData<V>);

impl<'de, V: Deserialize<'de>> Visitor<'de> for InOrder<V> {
    type Value = Vec<(String, V)>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object keyed by rule name")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(pair) = map.next_entry()? {
            pairs.push(pair);
        }
        Ok(pairs)
    }
}

/// Rule name -> the first row that failed it, in the order the rules run; serialized as a JSON
/// object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleExamples(pub Vec<(String, RuleExample)>);

impl RuleExamples {
    /// The first row rule `rule` rejected, if it rejected any.
    pub fn get(&self, rule: &str) -> Option<&RuleExample> {
        self.0.iter().find(|(name, _)| name == rule).map(|(_, e)| e)
    }
}

impl Serialize for RuleExamples {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl schemars::JsonSchema for RuleExamples {
    fn schema_name() -> String {
        "RuleExamples".to_owned()
    }

    fn json_schema(generator: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        <std::collections::BTreeMap<String, RuleExample>>::json_schema(generator)
    }
}

impl<'de> Deserialize<'de> for RuleExamples {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_map(InOrder(std::marker::PhantomData))
            .map(RuleExamples)
    }
}

/// What a run did, as summary.json records it; [`read_summary`] reads it back whole. Fields
/// added after the first version read as empty from an older summary.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Summary {
    /// The version of this document's shape ([`SCHEMA_VERSION`]); 0 for a summary written
    /// before versions were recorded.
    #[serde(default)]
    pub schema_version: u32,
    /// `voucher-import`.
    pub tool: String,
    /// The version that wrote the summary.
    pub version: String,
    /// The campaign the batches are for.
    pub campaign: Campaign,
    /// The settings of the run.
    pub options: ImportOptions,
    /// Every input as read, in order.
    pub inputs: Vec<InputInfo>,
    #[serde(default)]
    /// Every source of codes already in the project.
    pub existing: Vec<ExistingInfo>,
    /// Data rows read from all inputs.
    pub input_rows: u64,
    /// Rows in batches.
    pub accepted: u64,
    /// Rows in the rejected report; `accepted + rejected = input_rows`.
    pub rejected: u64,
    /// Every rule in force with the number of rows that failed it (a row may fail several).
    pub rejected_by_rule: RuleCounts,
    /// For every rule that rejected rows, the first of them.
    #[serde(default)]
    pub first_rejected_by_rule: RuleExamples,
    /// Rules that could not be evaluated on some rows (a cast of 'abc', a division by zero),
    /// with the number of such rows: they were rejected (or warned) under the rule with the
    /// error as their reason. Only rules with errors are listed.
    #[serde(default)]
    pub rule_errors: RuleCounts,
    /// Values in the batches that start with `=`, `+`, `-`, `@`, TAB or CR, which a
    /// spreadsheet opening the batch would run as formulas. They are data and go in as they
    /// are; rejected.csv and report.html show such values with a `'` in front.
    #[serde(default)]
    pub formula_like_values: u64,
    /// Accepted rows that update a code already in the project (`--existing-codes update`).
    #[serde(default)]
    pub updates: u64,
    /// Accepted rows that a `warn` rule flagged (listed in warnings.csv).
    #[serde(default)]
    pub warnings: u64,
    /// Every `warn` rule in force with the number of accepted rows it flagged.
    #[serde(default)]
    pub warnings_by_rule: RuleCounts,
    /// Rules skipped and why (a column they read is not in the input).
    #[serde(default)]
    pub notes: Vec<String>,
    /// Columns left out by `--drop`.
    #[serde(default)]
    pub dropped_columns: Vec<String>,
    /// Columns carried with their rows by `--keep` (never imported): the last columns of
    /// origins.csv, upload-failed.csv and upload-verify.csv, and of the accepted rows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept_columns: Vec<String>,
    #[serde(default)]
    /// Every change made to values and headers, counted.
    pub normalizations: Normalizations,
    /// The batches, in order, relative to the folder (`import/part-00001.csv`), with rows, bytes and sha256.
    pub batches: Vec<BatchInfo>,
    /// The metadata properties the schema given to prepare defines, with their types: what
    /// `upload` compares its read-back by (Voucherify stores a property it has no definition
    /// for as text). Absent without a schema.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub metadata_types: std::collections::BTreeMap<String, String>,
    /// The inputs grouped by column set: rows of inputs with different columns never share a
    /// batch. One group when every input has the same columns.
    #[serde(default)]
    pub column_groups: Vec<ColumnGroup>,
    #[serde(default)]
    /// How long the run took.
    pub elapsed_ms: u64,
    /// Where and when the campaign and metadata schema were read from the user's project
    /// (kept in `project/`); absent when they came from files or options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<super::project::ProjectRead>,
}

/// Inputs with the same columns, and the batches that hold their accepted rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ColumnGroup {
    /// The batch header of the group.
    pub columns: Vec<String>,
    /// The inputs of the group, by name.
    pub inputs: Vec<String>,
    /// Relative to the output folder, as in `batches`.
    pub batches: Vec<String>,
    /// Accepted rows in the group's batches.
    pub rows: u64,
}

/// Reads `DIR/summary.json` back whole (at most 256 MiB), as a run wrote it.
pub fn read_summary(dir: &std::path::Path) -> crate::Result<Summary> {
    let path = dir.join(super::SUMMARY_FILE);
    let text = crate::text_file::read_bounded_text(&path, "summary.json", 256 << 20)?;
    serde_json::from_str(&text).map_err(|e| {
        crate::Error::input(
            &path,
            format!("not a summary.json written by voucher-import prepare: {e}"),
            "give the folder `voucher-import prepare --out DIR` wrote",
        )
    })
}

/// What `check` reports: the summary and every rejected row.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CheckReport {
    /// The version of this document's shape ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// What the run did.
    pub summary: Summary,
    /// Every rejected row, in input order.
    pub rejected_rows: Vec<RejectedEntry>,
}

/// Any report as pretty JSON with a final newline.
pub fn write_json(w: &mut impl Write, value: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, value)?;
    writeln!(w)
}

/// One written batch, as the summary lists it (and `upload` reads it back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BatchInfo {
    /// Relative to the output folder: `import/part-00001.csv`.
    pub path: String,
    /// Data rows.
    pub rows: u64,
    /// Bytes, header included.
    pub bytes: u64,
    /// The file's sha256, in hex.
    pub sha256: String,
    /// The column group whose rows it holds (not recorded).
    #[serde(skip)]
    pub group: usize,
}

/// A rejected row kept as an example of a rule: where it is, why, and its fields as
/// rejected.csv shows them (the original columns, then the raw text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RuleExample {
    /// The input's name.
    pub file: String,
    /// The data row (1 = the first after the header).
    pub row: u64,
    /// The line the record starts on (0 where the format has none).
    pub line: u64,
    /// Why the row was rejected.
    pub reason: String,
    #[serde(skip)]
    /// The fields as rejected.csv shows them.
    pub fields: Vec<String>,
}

/// One rejected row, without its fields: what `check` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct RejectedEntry {
    /// The input's name.
    pub file: String,
    /// The data row (1 = the first after the header).
    pub row: u64,
    /// The line the record starts on (0 where the format has none).
    pub line: u64,
    /// The rules it failed, in order.
    pub rules: Vec<String>,
    /// Every rule's reason, joined by `; `.
    pub reason: String,
}

/// Counts of every change normalization made to the data, reported in the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct Normalizations {
    /// Cells that had whitespace around the value removed.
    pub trimmed_whitespace: u64,
    /// `Active` cells written in lowercase (`TRUE` -> `true`).
    pub active_lowercased: u64,
    /// Header names written in their canonical spelling (`gift_amount` -> `Gift Amount`).
    pub headers_respelled: u64,
    /// Lines holding nothing but whitespace, which are not records and were skipped.
    pub blank_lines_skipped: u64,
    /// Files whose lines end with a delimiter: their unnamed last column was left out.
    pub trailing_delimiter_columns: u64,
    /// Lines skipped above the headers (`--skip-lines`, `--header-line`).
    pub preamble_lines_skipped: u64,
    /// Empty boolean metadata cells written as `null` (Voucherify drops the row otherwise).
    pub boolean_nulls_written: u64,
    /// Export amounts with decimals (major units) written in minor units.
    pub export_amounts_converted: u64,
    /// Amounts given in major units (`--amount-unit major`) written in minor units.
    pub amounts_converted: u64,
    /// Metadata values written in their schema property's canonical spelling (booleans and
    /// `null` lowercase, array items without spaces around the commas).
    pub metadata_values_respelled: u64,
    /// `Start Date` and `Expiration Date` values written day or month first (`31/12/2026`)
    /// written in the ISO form (`2026-12-31`), as `--date-order` says.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dates_reordered: u64,
    /// `Start Date` and `Expiration Date` values written in UTC (`...Z`): given with an offset
    /// (`+02:00`), or without a zone and read in `--dates-in`.
    #[serde(skip_serializing_if = "is_zero")]
    pub dates_to_utc: u64,
    /// `Start Date` and `Expiration Date` values written as given, without a time zone:
    /// Voucherify may read them in the project's time zone, not UTC (`--dates-in` names it).
    #[serde(skip_serializing_if = "is_zero")]
    pub dates_without_zone: u64,
}

impl Normalizations {
    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &Normalizations) {
        self.trimmed_whitespace += other.trimmed_whitespace;
        self.active_lowercased += other.active_lowercased;
        self.headers_respelled += other.headers_respelled;
        self.blank_lines_skipped += other.blank_lines_skipped;
        self.trailing_delimiter_columns += other.trailing_delimiter_columns;
        self.preamble_lines_skipped += other.preamble_lines_skipped;
        self.boolean_nulls_written += other.boolean_nulls_written;
        self.export_amounts_converted += other.export_amounts_converted;
        self.amounts_converted += other.amounts_converted;
        self.metadata_values_respelled += other.metadata_values_respelled;
        self.dates_to_utc += other.dates_to_utc;
        self.dates_reordered += other.dates_reordered;
        self.dates_without_zone += other.dates_without_zone;
    }
}

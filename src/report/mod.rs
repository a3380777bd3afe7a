//! The run's account of itself: `summary.json`, the short summary on stderr, and the `check`
//! report (a table for people, JSON for pipelines). Rendering writes to any `io::Write`; the
//! library never prints.

pub mod html;
mod terminal;

use std::io::{self, Write};

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::campaign::Campaign;
use crate::config::ImportOptions;
use crate::normalize::{ColumnGroups, Normalizations};
use crate::rules::format::Severity;
use crate::rules::RuleSet;
use crate::write::batches::BatchInfo;
use crate::write::rejected::{RejectedEntry, RuleExample};
pub use terminal::TerminalSafe;

/// One input as read.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InputInfo {
    /// The file as named, or an Arrow source's name.
    pub path: String,
    /// The hash of the stored bytes; empty for an Arrow source, which has none.
    pub sha256: String,
    /// Stored bytes; 0 for an Arrow source.
    pub bytes: u64,
    /// Data rows read.
    pub rows: u64,
}

/// One `--existing` file as read.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// Every rule in force with its count (`counts` in the rules' order).
    pub fn of(rules: &RuleSet, counts: &[u64]) -> Self {
        RuleCounts(
            rules
                .rules
                .iter()
                .zip(counts)
                .map(|(r, n)| (r.text.name.clone(), *n))
                .collect(),
        )
    }

    /// The rules with a count above zero.
    pub fn nonzero(rules: &RuleSet, counts: &[u64]) -> Self {
        let mut all = RuleCounts::of(rules, counts);
        all.0.retain(|(_, n)| *n > 0);
        all
    }

    /// Every `warn` rule in force with its count.
    pub fn of_warnings(rules: &RuleSet, counts: &[u64]) -> Self {
        RuleCounts(
            rules
                .rules
                .iter()
                .zip(counts)
                .filter(|(r, _)| r.text.severity == Severity::Warn)
                .map(|(r, n)| (r.text.name.clone(), *n))
                .collect(),
        )
    }
}

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
    /// For every rule that rejected rows, in the rules' order, the first of them.
    pub fn first_of(rules: &RuleSet, examples: &[(String, Vec<RuleExample>)]) -> Self {
        RuleExamples(
            rules
                .rules
                .iter()
                .filter_map(|rule| {
                    let name = &rule.text.name;
                    examples
                        .iter()
                        .find(|(r, _)| r == name)
                        .and_then(|(_, examples)| examples.first())
                        .map(|example| (name.clone(), example.clone()))
                })
                .collect(),
        )
    }
}

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

impl<'de> Deserialize<'de> for RuleExamples {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_map(InOrder(std::marker::PhantomData))
            .map(RuleExamples)
    }
}

/// What a run did, as summary.json records it; [`read_summary`] reads it back whole. Fields
/// added after the first version read as empty from an older summary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
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
    #[serde(default)]
    /// Every change made to values and headers, counted.
    pub normalizations: Normalizations,
    /// The batches, in order, relative to the folder (`import/part-00001.csv`), with rows, bytes and sha256.
    pub batches: Vec<BatchInfo>,
    /// The inputs grouped by column set: rows of inputs with different columns never share a
    /// batch. One group when every input has the same columns.
    #[serde(default)]
    pub column_groups: Vec<ColumnGroup>,
    #[serde(default)]
    /// How long the run took.
    pub elapsed_ms: u64,
}

/// Inputs with the same columns, and the batches that hold their accepted rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

impl ColumnGroup {
    /// The groups of a run: each group's batch header, the inputs in it (`file_names` by
    /// index) and the batches that hold its rows.
    pub fn list(
        groups: &ColumnGroups,
        headers: &[Vec<String>],
        file_names: &[String],
        batches: &[BatchInfo],
    ) -> Vec<ColumnGroup> {
        (0..groups.columns.len())
            .map(|group| {
                let of_group = || batches.iter().filter(move |b| b.group == group);
                ColumnGroup {
                    columns: headers[group].clone(),
                    inputs: file_names
                        .iter()
                        .zip(&groups.of_file)
                        .filter(|(_, g)| **g == group)
                        .map(|(name, _)| name.clone())
                        .collect(),
                    batches: of_group().map(|b| b.path.clone()).collect(),
                    rows: of_group().map(|b| b.rows).sum(),
                }
            })
            .collect()
    }
}

/// Reads `DIR/summary.json` back whole (at most 256 MiB), as a run wrote it.
pub fn read_summary(dir: &std::path::Path) -> crate::Result<Summary> {
    let path = dir.join(crate::folder::SUMMARY_FILE);
    let text = crate::read::read_bounded_text(&path, "summary.json", 256 << 20)?;
    serde_json::from_str(&text).map_err(|e| {
        crate::Error::input(
            &path,
            format!("not a summary.json written by voucher-import prepare: {e}"),
            "give the folder `voucher-import prepare --out DIR` wrote",
        )
    })
}

impl Summary {
    /// The exit code the run ends with: 0 when every row was accepted, 1 when some were rejected.
    pub fn exit_code(&self) -> i32 {
        if self.rejected == 0 {
            0
        } else {
            1
        }
    }
}

/// What `check` reports: the summary and every rejected row.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// What the run did.
    pub summary: Summary,
    /// Every rejected row, in input order.
    pub rejected_rows: Vec<RejectedEntry>,
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The short human summary `prepare` prints on stderr. `out_dir` is where the files went.
pub fn write_summary(w: &mut impl Write, s: &Summary, out_dir: Option<&str>) -> io::Result<()> {
    let files = plural(s.inputs.len() as u64, "file", "files");
    writeln!(w, "read      {:>10}  rows from {files}", s.input_rows)?;
    let place = |name: &str| {
        out_dir
            .map(|d| format!(" -> {d}/{name}"))
            .unwrap_or_default()
    };
    writeln!(
        w,
        "accepted  {:>10}  in {}{}",
        s.accepted,
        plural(s.batches.len() as u64, "batch", "batches"),
        place("import/")
    )?;
    writeln!(
        w,
        "rejected  {:>10}{}",
        s.rejected,
        place(crate::folder::REJECTED_FILE)
    )?;
    let rule_width = s
        .rejected_by_rule
        .0
        .iter()
        .filter(|(_, c)| *c > 0)
        .map(|(rule, _)| rule.len())
        .max()
        .unwrap_or(0)
        .max(22);
    for (rule, count) in s.rejected_by_rule.0.iter().filter(|(_, c)| *c > 0) {
        match s.first_rejected_by_rule.get(rule) {
            Some(example) => {
                let file = if s.inputs.len() > 1 {
                    format!("{} ", example.file)
                } else {
                    String::new()
                };
                writeln!(
                    w,
                    "  {rule:<rule_width$}{count:>8}  {file}row {}: {}",
                    example.row,
                    shorten(&example.reason, 100)
                )?
            }
            None => writeln!(w, "  {rule:<rule_width$}{count:>8}")?,
        }
    }
    for (rule, count) in &s.rule_errors.0 {
        writeln!(
            w,
            "warning: rule {rule} could not be evaluated on {}: they are listed under it with the error",
            plural(*count, "row", "rows")
        )?;
    }
    if s.warnings > 0 {
        writeln!(
            w,
            "warnings  {:>10}{}",
            s.warnings,
            place(crate::folder::WARNINGS_FILE)
        )?;
        for (rule, count) in s.warnings_by_rule.0.iter().filter(|(_, c)| *c > 0) {
            writeln!(w, "  {rule:<22}{count:>8}")?;
        }
    }
    for note in &s.notes {
        writeln!(w, "note: {note}")?;
    }
    let n = &s.normalizations;
    let amounts_written = match s.options.batch_amount_unit {
        crate::formats::AmountUnit::Minor => (
            "amount written in minor units",
            "amounts written in minor units",
        ),
        crate::formats::AmountUnit::Major => (
            "amount written in major units",
            "amounts written in major units",
        ),
    };
    // (count, said of one, said of several), in the order they are printed.
    let counted = [
        (n.trimmed_whitespace, ("value trimmed", "values trimmed")),
        (n.amounts_converted, amounts_written),
        (
            n.metadata_values_respelled,
            ("metadata value respelled", "metadata values respelled"),
        ),
        (
            n.active_lowercased,
            ("Active lowercased", "Active lowercased"),
        ),
        (
            n.headers_respelled,
            ("header respelled", "headers respelled"),
        ),
        (
            n.preamble_lines_skipped,
            (
                "line skipped above the header",
                "lines skipped above the header",
            ),
        ),
        (
            n.trailing_delimiter_columns,
            (
                "trailing delimiter column left out",
                "trailing delimiter columns left out",
            ),
        ),
        (
            n.blank_lines_skipped,
            ("blank line skipped", "blank lines skipped"),
        ),
    ];
    let changes: Vec<String> = counted
        .iter()
        .filter(|(count, _)| *count > 0)
        .map(|&(count, (one, many))| plural(count, one, many))
        .collect();
    if !changes.is_empty() {
        writeln!(w, "normalized: {}", changes.join(", "))?;
    }
    if s.formula_like_values > 0 {
        writeln!(
            w,
            "warning: {} in the batches start with = + - @ TAB or CR, which a spreadsheet runs as a formula; they go in as they are (rejected.csv shows such values with a ' in front)",
            plural(s.formula_like_values, "value", "values")
        )?;
    }
    if out_dir.is_some() && !s.batches.is_empty() {
        writeln!(w, "batches")?;
        for batch in s.batches.iter().take(SUMMARY_BATCHES) {
            writeln!(
                w,
                "  {}  {:>8} rows  {:>10} bytes  sha256 {}",
                batch.path,
                batch.rows,
                batch.bytes,
                &batch.sha256[..batch.sha256.len().min(12)]
            )?;
        }
        if s.batches.len() > SUMMARY_BATCHES {
            writeln!(
                w,
                "  ... and {} more (all in summary.json)",
                s.batches.len() - SUMMARY_BATCHES
            )?;
        }
    }
    if s.column_groups.len() > 1 {
        writeln!(
            w,
            "column groups: the inputs have {} different column sets, and rows of different sets never share a batch",
            s.column_groups.len()
        )?;
        for (number, group) in (1..).zip(&s.column_groups) {
            let batches = match group.batches.as_slice() {
                [] => "no batch".to_owned(),
                [one] => one.clone(),
                [first, .., last] => format!("{first} .. {last} ({} batches)", group.batches.len()),
            };
            writeln!(
                w,
                "  {number}: {}  <- {}  -> {} in {batches}",
                group.columns.join(","),
                shorten(&group.inputs.join(", "), 120),
                plural(group.rows, "row", "rows"),
            )?;
        }
    }
    Ok(())
}

/// Batches the stderr summary lists by name; summary.json lists them all.
const SUMMARY_BATCHES: usize = 5;

/// A one-line form of a text (a reason, an answer body), at most `max` characters.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    let line = text.replace(['\n', '\r'], " ");
    if line.chars().count() <= max {
        line
    } else {
        let cut: String = line.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

/// Rejected rows the `check` table shows at most; `--json` lists them all.
pub const TABLE_ROWS: usize = 100;

/// The `check` report as a table: the summary, then the first [`TABLE_ROWS`] rejected rows.
pub fn write_check_table(w: &mut impl Write, report: &CheckReport) -> io::Result<()> {
    write_summary(w, &report.summary, None)?;
    if report.rejected_rows.is_empty() {
        return Ok(());
    }
    writeln!(w)?;
    let file_width = report
        .rejected_rows
        .iter()
        .map(|r| r.file.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    writeln!(
        w,
        "{:<file_width$}  {:>8}  {:>8}  {:<30}  reason",
        "file", "row", "line", "rules"
    )?;
    for r in report.rejected_rows.iter().take(TABLE_ROWS) {
        writeln!(
            w,
            "{:<file_width$}  {:>8}  {:>8}  {:<30}  {}",
            r.file,
            r.row,
            r.line,
            r.rules.join("|"),
            r.reason.replace(['\n', '\r'], " ")
        )?;
    }
    let hidden = report.rejected_rows.len().saturating_sub(TABLE_ROWS);
    if hidden > 0 {
        writeln!(
            w,
            "... and {hidden} more rejected rows: `prepare` writes them all to rejected.csv, `check --json` lists them all"
        )?;
    }
    Ok(())
}

/// Any report as pretty JSON with a final newline.
pub fn write_json(w: &mut impl Write, value: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, value)?;
    writeln!(w)
}

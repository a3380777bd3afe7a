//! The stages' counts converted into the summary's plain data ([`crate::folder::summary`]):
//! the conservation check, counts per rule by name, the first rejected row of each rule, the
//! column groups with their batches, and the notes in the order the summary lists them.

use std::time::Instant;

use super::finish::Tally;
use crate::campaign::CampaignType;
use crate::config::RunConfig;
use crate::error::{Error, Result};
use crate::folder::options::ImportOptions;
use crate::folder::project::{ExportRead, ProjectRead};
use crate::folder::summary::{
    BatchInfo, ColumnGroup, ExistingInfo, InputInfo, RuleCounts, RuleExample, RuleExamples,
    Summary, SCHEMA_VERSION,
};
use crate::normalize::headers::KnownColumn;
use crate::normalize::ColumnGroups;
use crate::read::PerInput;
use crate::rules::format::Severity;
use crate::rules::RuleSet;

/// What a run counted and noted, for its summary.
pub(super) struct Counted<'a> {
    pub(super) config: &'a RunConfig,
    pub(super) file_names: &'a PerInput<String>,
    /// The batches cut, hashed, in order.
    pub(super) batches: Vec<BatchInfo>,
    /// Rejected rows kept as examples, by rule.
    pub(super) examples: Vec<(String, Vec<RuleExample>)>,
    pub(super) tally: Tally,
    pub(super) existing: Vec<ExistingInfo>,
    /// The export of the project's codes that was downloaded, if any.
    pub(super) existing_export: Option<ExportRead>,
    pub(super) column_groups: &'a ColumnGroups,
    /// Each column group's batch header.
    pub(super) group_headers: &'a [Vec<String>],
    pub(super) notes: Notes<'a>,
    pub(super) dropped_columns: Vec<String>,
    pub(super) kept_columns: Vec<String>,
    pub(super) started: Instant,
}

/// The notes of the phases, listed in this order (then the ones the counts make).
pub(super) struct Notes<'a> {
    pub(super) plan: Vec<String>,
    pub(super) schema: &'a [String],
    pub(super) engine: &'a [String],
    pub(super) sink: Vec<String>,
}

/// The summary of a run, after checking that every input row is in exactly one place.
pub(super) fn summary(counted: Counted<'_>) -> Result<Summary> {
    let Counted {
        config,
        file_names,
        batches,
        examples,
        tally:
            Tally {
                warned_rows,
                warnings_by_rule,
                failures_by_rule,
                errors_by_rule,
                updates,
                dropped_cells,
                accepted,
                rejected_rows,
                formula_like_values,
                normalizations,
                digests,
            },
        existing,
        existing_export,
        column_groups,
        group_headers,
        notes,
        dropped_columns,
        kept_columns,
        started,
    } = counted;
    let input_rows: u64 = digests.iter().map(|d| d.rows).sum();
    let batch_rows: u64 = batches.iter().map(|b| b.rows).sum();
    if accepted + rejected_rows != input_rows || batch_rows != accepted {
        return Err(Error::Invariant(format!(
            "{input_rows} rows read but {accepted} accepted + {rejected_rows} rejected ({batch_rows} in batches)"
        )));
    }
    Ok(Summary {
        schema_version: SCHEMA_VERSION,
        tool: env!("CARGO_PKG_NAME").to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        campaign: config.campaign.clone(),
        options: ImportOptions {
            canary_rows: config.options.canary_for(group_headers),
            ..config.options.clone()
        },
        metadata_types: config
            .metadata_schema
            .as_ref()
            .map(|s| s.types())
            .unwrap_or_default(),
        inputs: digests
            .iter()
            .map(|d| InputInfo {
                path: file_names[d.file].clone(),
                sha256: d.sha256.clone(),
                bytes: d.bytes,
                rows: d.rows,
                multi_line_records: d.multi_line.records,
                lines_in_multi_line_records: d.multi_line.lines,
            })
            .collect(),
        existing,
        input_rows,
        accepted,
        rejected: rejected_rows,
        first_rejected_by_rule: first_examples(&config.rules, &examples),
        formula_like_values,
        rejected_by_rule: rule_counts(&config.rules, failures_by_rule.as_slice()),
        rule_errors: nonzero_rule_counts(&config.rules, errors_by_rule.as_slice()),
        updates,
        warnings: warned_rows,
        warnings_by_rule: warning_counts(&config.rules, warnings_by_rule.as_slice()),
        notes: notes
            .plan
            .into_iter()
            .chain(dropped_cells.iter().map(|(name, count)| {
                let loyalty_skips = config.campaign.campaign_type == CampaignType::LoyaltyProgram
                    && KnownColumn::from_header(name) == Some(KnownColumn::RedeemedQuantity);
                format!(
                    "column '{name}' is left out of the import{}, and {} held a value: Voucherify gets none of them",
                    if loyalty_skips { " (Voucherify's loyalty card import does not import Redeemed Quantity)" } else { "" },
                    if *count == 1 { "1 of its cells".to_owned() } else { format!("{count} of its cells") }
                )
            }))
            .chain(notes.schema.iter().cloned())
            .chain(notes.engine.iter().cloned())
            .chain(digests.iter().filter(|d| d.multi_line.row_like > 0).map(|d| {
                format!(
                    "{}: {} row(s) hold a value over several lines whose later lines read as rows of the file (the header's fields): a stray quote may have joined rows into one value; check those rows (summary.json: multi_line_records)",
                    file_names[d.file], d.multi_line.row_like
                )
            }))
            .chain(digests.iter().filter(|d| d.gzip_trailing_zeros > 0).map(|d| {
                format!(
                    "{}: {} zero byte(s) after the end of the gzip data were skipped as padding (as gzip -d skips them); every member before them was read",
                    file_names[d.file], d.gzip_trailing_zeros
                )
            }))
            .chain((normalizations.dates_without_zone > 0).then(|| {
                format!(
                    "{} Start Date / Expiration Date value(s) are written without a time zone: Voucherify may read them in the project's time zone rather than UTC (unconfirmed); give --dates-in ZONE (the project's time zone) to write them in UTC",
                    normalizations.dates_without_zone
                )
            }))
            .chain(notes.sink)
            .collect(),
        dropped_columns,
        kept_columns,
        normalizations,
        column_groups: column_groups_of(
            column_groups,
            group_headers,
            file_names.as_slice(),
            &batches,
        ),
        batches,
        elapsed_ms: started.elapsed().as_millis() as u64,
        // An offline run keeps the snapshot's record of its export (a note says its codes
        // were not read again).
        project: config.project.as_ref().map(|p| ProjectRead {
            existing: existing_export.or_else(|| p.read.existing.clone().filter(|_| p.read.offline)),
            ..p.read.clone()
        }),
    })
}

/// Every rule in force with its count (`counts` in the rules' order).
fn rule_counts(rules: &RuleSet, counts: &[u64]) -> RuleCounts {
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
fn nonzero_rule_counts(rules: &RuleSet, counts: &[u64]) -> RuleCounts {
    let mut all = rule_counts(rules, counts);
    all.0.retain(|(_, n)| *n > 0);
    all
}

/// Every `warn` rule in force with its count.
fn warning_counts(rules: &RuleSet, counts: &[u64]) -> RuleCounts {
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

/// For every rule that rejected rows, in the rules' order, the first of them.
fn first_examples(rules: &RuleSet, examples: &[(String, Vec<RuleExample>)]) -> RuleExamples {
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

/// The groups of a run: each group's batch header, the inputs in it (`file_names` by index)
/// and the batches that hold its rows.
fn column_groups_of(
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

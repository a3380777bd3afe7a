//! The stages' counts converted into the summary's plain data ([`crate::folder::summary`]):
//! counts per rule by name, the first rejected row of each rule, the column groups with their
//! batches.

use crate::folder::summary::{BatchInfo, ColumnGroup, RuleCounts, RuleExample, RuleExamples};
use crate::normalize::ColumnGroups;
use crate::rules::format::Severity;
use crate::rules::RuleSet;

/// Every rule in force with its count (`counts` in the rules' order).
pub(super) fn rule_counts(rules: &RuleSet, counts: &[u64]) -> RuleCounts {
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
pub(super) fn nonzero_rule_counts(rules: &RuleSet, counts: &[u64]) -> RuleCounts {
    let mut all = rule_counts(rules, counts);
    all.0.retain(|(_, n)| *n > 0);
    all
}

/// Every `warn` rule in force with its count.
pub(super) fn warning_counts(rules: &RuleSet, counts: &[u64]) -> RuleCounts {
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
pub(super) fn first_examples(
    rules: &RuleSet,
    examples: &[(String, Vec<RuleExample>)],
) -> RuleExamples {
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
pub(super) fn column_groups(
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

//! The built-in rules the run's own stages report (reader, dedup, the in-order verdict), looked
//! up once per run, and the findings of the record's own problems under them.

use super::*;

/// Positions of the rules that engine stages report; None for a rule switched off.
pub(super) struct EngineRules {
    pub(super) malformed_record: RuleId,
    pub(super) invalid_encoding: RuleId,
    pub(super) unreadable_value: RuleId,
    pub(super) repeated_header: RuleId,
    pub(super) record_too_large: RuleId,
    pub(super) duplicate_code: Option<RuleId>,
    pub(super) existing_code: Option<RuleId>,
    /// The warning a code that differs from an earlier one only by case gets.
    pub(super) case_variant_code: Option<RuleId>,
    /// The warning an update's ignored values get (loaded with `--existing-codes update` only).
    pub(super) update_ignores_fields: Option<RuleId>,
    pub(super) over_campaign_limit: Option<RuleId>,
}

impl EngineRules {
    /// The first five cannot be disabled ([`RuleSet::load`] refuses it).
    pub(super) fn resolve(rules: &RuleSet) -> Result<Self> {
        Ok(EngineRules {
            malformed_record: rules.position(names::MALFORMED_RECORD)?,
            invalid_encoding: rules.position(names::INVALID_ENCODING)?,
            unreadable_value: rules.position(names::UNREADABLE_VALUE)?,
            repeated_header: rules.position(names::REPEATED_HEADER)?,
            record_too_large: rules.position(names::RECORD_TOO_LARGE)?,
            duplicate_code: rules.find(names::DUPLICATE_CODE),
            existing_code: rules.find(names::EXISTING_CODE),
            case_variant_code: rules.find(names::CASE_VARIANT_CODE),
            update_ignores_fields: rules.find(names::UPDATE_IGNORES_FIELDS),
            over_campaign_limit: rules.find(names::OVER_CAMPAIGN_LIMIT),
        })
    }
}

impl Finisher<'_> {
    /// What the reader or normalization found wrong with the record itself: a malformed or
    /// repeated-header record fails for that alone (its fields are unreliable); bytes that are
    /// not UTF-8 and values that cannot be written as text join the row's other findings.
    pub(super) fn record_findings(
        &self,
        file: InputId,
        record: &crate::read::Record,
        found: &mut Vec<Finding>,
    ) {
        let rules = &self.engine_rules;
        match &record.problem {
            Some(problem @ RecordProblem::RepeatedHeader) => {
                *found = vec![Finding {
                    error: false,
                    rule: rules.repeated_header,
                    reason: problem.malformed_reason(self.max_record_bytes),
                }];
            }
            Some(problem) if problem.is_malformed() => {
                *found = vec![Finding {
                    error: false,
                    rule: rules.malformed_record,
                    reason: problem.malformed_reason(self.max_record_bytes),
                }];
            }
            Some(RecordProblem::InvalidEncoding { columns }) => {
                let named: Vec<String> = columns
                    .iter()
                    .map(|&c| self.file_headers[file].0[c].clone())
                    .collect();
                found.push(Finding {
                    error: false,
                    rule: rules.invalid_encoding,
                    reason: format!(
                        "{} holds bytes that are not UTF-8 (shown as U+FFFD)",
                        named.join(", ")
                    ),
                });
            }
            Some(RecordProblem::UnreadableValue { columns }) => {
                let named: Vec<String> = columns
                    .iter()
                    .map(|(c, why)| format!("{} ({why})", self.file_headers[file].0[*c]))
                    .collect();
                found.push(Finding {
                    error: false,
                    rule: rules.unreadable_value,
                    reason: format!(
                        "a value cannot be written as text in the form Voucherify takes: {}",
                        named.join("; ")
                    ),
                });
            }
            _ => {}
        }
    }
}

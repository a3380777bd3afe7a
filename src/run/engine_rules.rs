//! The built-in rules the run's own stages report (reader, dedup, the in-order verdict), looked
//! up once per run.

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

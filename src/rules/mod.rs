//! Rules: what makes a row fail. Each rule is a file in the rule format ([`format`]); the
//! built-in ones are the files in `sql/`, compiled into the binary. SQL rules run in DataFusion
//! ([`engine`]); the few a row-by-row query cannot express are checked by the stage named in
//! their `checked-by` header.

pub mod engine;
pub mod format;
pub mod functions;

use crate::error::{Error, Result};
use format::RuleText;

/// The built-in rule files, in the order their findings are listed.
const BUILTIN: &[(&str, &str)] = &[
    (
        "sql/malformed_record.sql",
        include_str!("../../sql/malformed_record.sql"),
    ),
    (
        "sql/invalid_encoding.sql",
        include_str!("../../sql/invalid_encoding.sql"),
    ),
    (
        "sql/code_required.sql",
        include_str!("../../sql/code_required.sql"),
    ),
    (
        "sql/active_boolean.sql",
        include_str!("../../sql/active_boolean.sql"),
    ),
    (
        "sql/invalid_number.sql",
        include_str!("../../sql/invalid_number.sql"),
    ),
    (
        "sql/redeemed_over_balance.sql",
        include_str!("../../sql/redeemed_over_balance.sql"),
    ),
    (
        "sql/invalid_date.sql",
        include_str!("../../sql/invalid_date.sql"),
    ),
    (
        "sql/duplicate_code.sql",
        include_str!("../../sql/duplicate_code.sql"),
    ),
    (
        "sql/existing_code.sql",
        include_str!("../../sql/existing_code.sql"),
    ),
    (
        "sql/record_too_large.sql",
        include_str!("../../sql/record_too_large.sql"),
    ),
    (
        "sql/over_campaign_limit.sql",
        include_str!("../../sql/over_campaign_limit.sql"),
    ),
];

/// Names of the rules the engine stages report by name.
pub mod names {
    pub const MALFORMED_RECORD: &str = "malformed_record";
    pub const INVALID_ENCODING: &str = "invalid_encoding";
    pub const DUPLICATE_CODE: &str = "duplicate_code";
    pub const EXISTING_CODE: &str = "existing_code";
    pub const RECORD_TOO_LARGE: &str = "record_too_large";
    pub const OVER_CAMPAIGN_LIMIT: &str = "over_campaign_limit";
}

/// One rule in force, with where it came from.
#[derive(Debug, Clone)]
pub struct Rule {
    /// `sql/code_required.sql` for a built-in (compiled into the binary), else the file path.
    pub origin: String,
    pub builtin: bool,
    pub text: RuleText,
    /// The file as written, for `voucher-import rules`.
    pub source: String,
}

/// The rules of a run, in the order their findings are listed.
#[derive(Debug, Clone)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
}

impl RuleSet {
    /// The built-in rules.
    pub fn builtin() -> Result<Self> {
        let rules = BUILTIN
            .iter()
            .map(|(origin, text)| {
                Ok(Rule {
                    origin: (*origin).to_owned(),
                    builtin: true,
                    text: format::parse(origin, text)?,
                    source: (*text).to_owned(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(RuleSet { rules })
    }

    /// Position of a rule by name.
    pub fn position(&self, name: &str) -> Result<usize> {
        self.rules
            .iter()
            .position(|r| r.text.name == name)
            .ok_or_else(|| Error::Invariant(format!("rule '{name}' is not loaded")))
    }

    pub fn name(&self, index: usize) -> &str {
        &self.rules[index].text.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_in_sql_is_a_builtin_and_parses() {
        let set = RuleSet::builtin().unwrap();
        let mut on_disk: Vec<String> =
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/sql"))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".sql"))
                .map(|n| format!("sql/{n}"))
                .collect();
        on_disk.sort();
        let mut listed: Vec<String> = set.rules.iter().map(|r| r.origin.clone()).collect();
        listed.sort();
        assert_eq!(on_disk, listed, "every sql/ file must be listed in BUILTIN");
        for rule in &set.rules {
            assert_eq!(
                format!("sql/{}.sql", rule.text.name),
                rule.origin,
                "file named after its rule"
            );
        }
    }
}

//! Rules: what makes a row fail. Each rule is a file in the rule format ([`format`](mod@format)); the
//! built-in ones are the files in `sql/`, compiled into the binary. SQL rules run in DataFusion
//! ([`engine`]); the few a row-by-row query cannot express are checked by the stage named in
//! their `checked-by` header.

pub mod engine;
pub mod format;
pub mod functions;
pub mod metadata;
mod planning;
pub mod schema_checks;

use std::path::PathBuf;

use crate::error::{Error, Result};
use format::{RuleBody, RuleText};

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
        "sql/unreadable_value.sql",
        include_str!("../../sql/unreadable_value.sql"),
    ),
    (
        "sql/repeated_header.sql",
        include_str!("../../sql/repeated_header.sql"),
    ),
    (
        "sql/code_required.sql",
        include_str!("../../sql/code_required.sql"),
    ),
    (
        "sql/excel_mangled_code.sql",
        include_str!("../../sql/excel_mangled_code.sql"),
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
        "sql/metadata_type.sql",
        include_str!("../../sql/metadata_type.sql"),
    ),
    (
        "sql/metadata_required.sql",
        include_str!("../../sql/metadata_required.sql"),
    ),
    (
        "sql/metadata_constraint.sql",
        include_str!("../../sql/metadata_constraint.sql"),
    ),
    (
        "sql/empty_in_boolean_column.sql",
        include_str!("../../sql/empty_in_boolean_column.sql"),
    ),
    (
        "sql/wrong_voucher_type.sql",
        include_str!("../../sql/wrong_voucher_type.sql"),
    ),
    (
        "sql/metadata_nested.sql",
        include_str!("../../sql/metadata_nested.sql"),
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
        "sql/case_variant_code.sql",
        include_str!("../../sql/case_variant_code.sql"),
    ),
    (
        "sql/update_ignores_fields.sql",
        include_str!("../../sql/update_ignores_fields.sql"),
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
    /// `malformed_record` (`sql/malformed_record.sql`).
    pub const MALFORMED_RECORD: &str = "malformed_record";
    /// `invalid_encoding` (`sql/invalid_encoding.sql`).
    pub const INVALID_ENCODING: &str = "invalid_encoding";
    /// `unreadable_value` (`sql/unreadable_value.sql`).
    pub const UNREADABLE_VALUE: &str = "unreadable_value";
    /// `repeated_header` (`sql/repeated_header.sql`).
    pub const REPEATED_HEADER: &str = "repeated_header";
    /// `duplicate_code` (`sql/duplicate_code.sql`).
    pub const DUPLICATE_CODE: &str = "duplicate_code";
    /// `existing_code` (`sql/existing_code.sql`).
    pub const EXISTING_CODE: &str = "existing_code";
    /// `excel_mangled_code` (`sql/excel_mangled_code.sql`).
    pub const EXCEL_MANGLED_CODE: &str = "excel_mangled_code";
    /// `case_variant_code` (`sql/case_variant_code.sql`).
    pub const CASE_VARIANT_CODE: &str = "case_variant_code";
    /// `update_ignores_fields` (`sql/update_ignores_fields.sql`).
    pub const UPDATE_IGNORES_FIELDS: &str = "update_ignores_fields";
    /// `wrong_voucher_type` (`sql/wrong_voucher_type.sql`).
    pub const WRONG_VOUCHER_TYPE: &str = "wrong_voucher_type";
    /// `empty_in_boolean_column` (`sql/empty_in_boolean_column.sql`).
    pub const EMPTY_IN_BOOLEAN_COLUMN: &str = "empty_in_boolean_column";
    /// `record_too_large` (`sql/record_too_large.sql`).
    pub const RECORD_TOO_LARGE: &str = "record_too_large";
    /// `over_campaign_limit` (`sql/over_campaign_limit.sql`).
    pub const OVER_CAMPAIGN_LIMIT: &str = "over_campaign_limit";
    /// `metadata_type` (`sql/metadata_type.sql`).
    pub const METADATA_TYPE: &str = "metadata_type";
    /// `redeemed_over_balance` (`sql/redeemed_over_balance.sql`).
    pub const REDEEMED_OVER_BALANCE: &str = "redeemed_over_balance";
    /// `metadata_required` (`sql/metadata_required.sql`).
    pub const METADATA_REQUIRED: &str = "metadata_required";
    /// `metadata_constraint` (`sql/metadata_constraint.sql`).
    pub const METADATA_CONSTRAINT: &str = "metadata_constraint";
    /// `metadata_nested` (`sql/metadata_nested.sql`).
    pub const METADATA_NESTED: &str = "metadata_nested";
}

/// Rules that keep the promise that nothing broken is imported: they cannot be disabled.
const UNDISABLEABLE: [&str; 5] = [
    names::MALFORMED_RECORD,
    names::INVALID_ENCODING,
    names::UNREADABLE_VALUE,
    names::REPEATED_HEADER,
    names::RECORD_TOO_LARGE,
];

/// One rule in force, with where it came from.
#[derive(Debug, Clone)]
pub struct Rule {
    /// `sql/code_required.sql` for a built-in (compiled into the binary), else the file path.
    pub origin: String,
    /// A rule of the tool (`sql/`), not a user's file.
    pub builtin: bool,
    /// The rule as parsed.
    pub text: RuleText,
    /// The file as written, for `voucher-import rules`.
    pub source: String,
}

/// The rules of a run, in the order their findings are listed.
#[derive(Debug, Clone)]
pub struct RuleSet {
    /// The rules, in the order their findings are listed.
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

    /// The built-in rules, then the user's rule files, less the disabled rules.
    pub fn load(user_files: &[PathBuf], disabled: &[String]) -> Result<Self> {
        Self::load_with_texts(user_files, &[], disabled)
    }

    /// The built-in rules, then the user's rule files, then rules given as text (`texts`:
    /// each named `rule text N` in messages, N from 1), less the disabled rules.
    pub fn load_with_texts(
        user_files: &[PathBuf],
        texts: &[String],
        disabled: &[String],
    ) -> Result<Self> {
        let mut set = Self::builtin()?;
        let mut sources = Vec::with_capacity(user_files.len() + texts.len());
        for path in user_files {
            let origin = path.display().to_string();
            let source = crate::text_file::read_settings_file(path, "--rules")?;
            sources.push((origin, source));
        }
        for (at, text) in texts.iter().enumerate() {
            sources.push((format!("rule text {}", at + 1), text.clone()));
        }
        for (origin, source) in sources {
            let text = format::parse(&origin, &source)?;
            if let RuleBody::Engine(_) = text.body {
                return Err(Error::RuleFile {
                    path: origin,
                    line: 1,
                    message: "'checked-by' is for the built-in rules; write the rule as SQL".into(),
                });
            }
            if let Some(taken) = set.rules.iter().find(|r| r.text.name == text.name) {
                return Err(Error::RuleFile {
                    path: origin,
                    line: 1,
                    message: format!(
                        "rule name '{}' is taken by {}; give the rule another name",
                        text.name, taken.origin
                    ),
                });
            }
            set.rules.push(Rule {
                origin,
                builtin: false,
                text,
                source,
            });
        }
        for name in disabled {
            let Some(index) = set.rules.iter().position(|r| &r.text.name == name) else {
                let mut message = format!("--disable-rule {name}: there is no rule '{name}'");
                if let Some(near) =
                    crate::suggest::closest(name, set.rules.iter().map(|r| r.text.name.as_str()))
                {
                    message.push_str(&format!(": did you mean '{near}'?"));
                }
                return Err(Error::usage(
                    message,
                    "`voucher-import rules --names` lists the rules in force",
                ));
            };
            if UNDISABLEABLE.contains(&name.as_str()) {
                return Err(Error::usage(
                    format!("--disable-rule {name}: this rule cannot be switched off"),
                    match name.as_str() {
                        names::RECORD_TOO_LARGE => "no import file can hold such a record; raise --max-file-bytes instead",
                        _ => "a record the reader cannot split or decode has no trustworthy fields to import",
                    },
                ));
            }
            set.rules.remove(index);
        }
        Ok(set)
    }

    /// A rule by name, which must be in force.
    pub fn position(&self, name: &str) -> Result<RuleId> {
        self.find(name)
            .ok_or_else(|| Error::Invariant(format!("rule '{name}' is not loaded")))
    }

    /// The rule `id` names.
    pub fn rule(&self, id: RuleId) -> &Rule {
        &self.rules[id.0]
    }

    /// The rule `id` names, to change.
    pub fn rule_mut(&mut self, id: RuleId) -> &mut Rule {
        &mut self.rules[id.0]
    }

    /// Every rule's id, in the order findings are listed.
    pub fn ids(&self) -> impl Iterator<Item = RuleId> {
        (0..self.rules.len()).map(RuleId)
    }

    /// Leaves out a rule that is not in force for this run (`update_ignores_fields` without
    /// `--existing-codes update`).
    pub fn leave_out(&mut self, name: &str) {
        self.rules.retain(|r| r.text.name != name);
    }

    /// A rule by name, if it is in force.
    pub fn find(&self, name: &str) -> Option<RuleId> {
        self.rules
            .iter()
            .position(|r| r.text.name == name)
            .map(RuleId)
    }
}

/// A rule of a run's [`RuleSet`], by its position there: the order findings are listed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleId(usize);

/// One value per rule of a [`RuleSet`], indexed by [`RuleId`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PerRule<T>(Vec<T>);

impl<T: Clone> PerRule<T> {
    /// `value` for every rule of `rules`.
    pub fn new(rules: &RuleSet, value: T) -> Self {
        PerRule(vec![value; rules.rules.len()])
    }
}

impl<T> PerRule<T> {
    /// The values in the rules' order.
    pub fn as_slice(&self) -> &[T] {
        &self.0
    }
}

impl<T> std::ops::Index<RuleId> for PerRule<T> {
    type Output = T;
    fn index(&self, id: RuleId) -> &T {
        &self.0[id.0]
    }
}

impl<T> std::ops::IndexMut<RuleId> for PerRule<T> {
    fn index_mut(&mut self, id: RuleId) -> &mut T {
        &mut self.0[id.0]
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

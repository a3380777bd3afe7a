//! The judge: what the run knows of one row, turned into its verdict, a value
//! ([`RowVerdict`]). It takes what the reader found wrong with the record, what the rules and
//! the set rules found, and owns the rest of the decision: the row's code against the codes
//! already seen and the project's (dedup), the campaign limit, and whether the row fits a batch
//! at all. The finisher writes what it decides; nothing here writes or counts.

use std::collections::HashMap;

use datafusion::arrow::array::{Array, RecordBatch, StringArray};

use crate::dedup::leading_zeros::{could_have_lost_zeros, ZeroPadding};
use crate::dedup::{CodeClash, Dedup, FileNames};
use crate::error::Result;
use crate::normalize::headers::{ColumnRole, KnownColumn};
use crate::normalize::TableLayout;
use crate::read::{InputId, PerInput, Record, RecordProblem};
use crate::reasons;
use crate::rules::engine::Finding;
use crate::rules::format::Severity;
use crate::rules::{names, RuleId, RuleSet};

/// A row's verdict.
#[derive(Debug)]
pub(crate) enum RowVerdict {
    /// The row goes into a batch.
    Accepted {
        /// It updates a code already in the project (`--existing-codes update`).
        update: bool,
        /// What `warn` rules found (listed in warnings.csv).
        warnings: Vec<Finding>,
    },
    /// The row goes to rejected.csv.
    Rejected {
        /// Every finding (those of `warn` rules too: they are counted when they could not be
        /// evaluated, and left out of the listing).
        findings: Vec<Finding>,
    },
}

/// The positions of the built-in rules the judge applies itself.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BuiltInRules {
    malformed_record: RuleId,
    invalid_encoding: RuleId,
    unreadable_value: RuleId,
    repeated_header: RuleId,
    record_too_large: RuleId,
    duplicate_code: Option<RuleId>,
    existing_code: Option<RuleId>,
    /// The warning a code that differs from an earlier one only by case gets.
    case_variant_code: Option<RuleId>,
    /// The warning an all-digit code that lost its leading zeros gets (the rule's SQL finds
    /// scientific notation; the judge finds the zeros).
    excel_mangled_code: Option<RuleId>,
    /// The warning an update's ignored values get (loaded with `--existing-codes update` only).
    update_ignores_fields: Option<RuleId>,
    over_campaign_limit: Option<RuleId>,
}

impl BuiltInRules {
    /// The first five cannot be disabled ([`RuleSet::load`] refuses it).
    pub(crate) fn resolve(rules: &RuleSet) -> Result<Self> {
        Ok(BuiltInRules {
            malformed_record: rules.position(names::MALFORMED_RECORD)?,
            invalid_encoding: rules.position(names::INVALID_ENCODING)?,
            unreadable_value: rules.position(names::UNREADABLE_VALUE)?,
            repeated_header: rules.position(names::REPEATED_HEADER)?,
            record_too_large: rules.position(names::RECORD_TOO_LARGE)?,
            duplicate_code: rules.find(names::DUPLICATE_CODE),
            existing_code: rules.find(names::EXISTING_CODE),
            case_variant_code: rules.find(names::CASE_VARIANT_CODE),
            excel_mangled_code: rules.find(names::EXCEL_MANGLED_CODE),
            update_ignores_fields: rules.find(names::UPDATE_IGNORES_FIELDS),
            over_campaign_limit: rules.find(names::OVER_CAMPAIGN_LIMIT),
        })
    }
}

/// What a judge is made of: every setting it needs, given at once.
pub(crate) struct JudgeParts<'a> {
    pub(crate) rules: &'a RuleSet,
    pub(crate) layout: &'a TableLayout,
    /// The inputs' names, for reasons ("repeats row 1 of cards.csv").
    pub(crate) file_names: &'a PerInput<String>,
    /// Each input's header names (and roles), for reasons naming columns.
    pub(crate) file_headers: &'a PerInput<(Vec<String>, Vec<ColumnRole>)>,
    /// The codes seen so far and the project's.
    pub(crate) dedup: Dedup,
    /// The `--existing` sources, for reasons.
    pub(crate) existing_names: Vec<String>,
    /// What the set rules found, by input and row.
    pub(crate) set_findings: HashMap<(InputId, i64), Vec<Finding>>,
    /// `--max-record-bytes`, for the reason of a record cut short.
    pub(crate) max_record_bytes: usize,
    /// `--existing-codes update`: a code in the project is an update, not a rejection.
    pub(crate) updates_existing: bool,
    /// Each column group's batch header, encoded, and `--max-file-bytes`: a record that does
    /// not fit with the header fits no batch.
    pub(crate) batch_headers: Vec<usize>,
    pub(crate) max_file_bytes: u64,
}

/// Decides each row, in input order (see the module doc).
pub(crate) struct Judge<'a> {
    rules: &'a RuleSet,
    built_in: BuiltInRules,
    file_names: &'a PerInput<String>,
    file_headers: &'a PerInput<(Vec<String>, Vec<ColumnRole>)>,
    dedup: Dedup,
    existing_names: Vec<String>,
    set_findings: HashMap<(InputId, i64), Vec<Finding>>,
    max_record_bytes: usize,
    updates_existing: bool,
    /// The batch columns an update's value is ignored in (all but Code, Active, Category).
    update_ignored_columns: Vec<(usize, String)>,
    batch_headers: Vec<usize>,
    max_file_bytes: u64,
    /// The zero-padded codes of the input so far (for `excel_mangled_code`).
    zero_padding: ZeroPadding,
}

/// One row, as the judge sees it.
pub(crate) struct Row<'r> {
    pub(crate) file: InputId,
    pub(crate) record: &'r Record,
    /// The code and its hash, when the row has one.
    pub(crate) code: Option<(&'r str, u64)>,
    /// The row's batch columns (row `index` of `batch`).
    pub(crate) batch: &'r RecordBatch,
    pub(crate) index: usize,
    /// The column group it goes into, and its encoded batch record.
    pub(crate) group: usize,
    pub(crate) encoded: &'r [u8],
}

impl<'a> Judge<'a> {
    pub(crate) fn new(parts: JudgeParts<'a>) -> Result<Self> {
        let layout = parts.layout;
        Ok(Judge {
            rules: parts.rules,
            built_in: BuiltInRules::resolve(parts.rules)?,
            file_names: parts.file_names,
            file_headers: parts.file_headers,
            dedup: parts.dedup,
            existing_names: parts.existing_names,
            set_findings: parts.set_findings,
            max_record_bytes: parts.max_record_bytes,
            updates_existing: parts.updates_existing,
            update_ignored_columns: (0..layout.value_columns())
                .filter(|&c| {
                    ![
                        KnownColumn::Code,
                        KnownColumn::Active,
                        KnownColumn::Category,
                    ]
                    .iter()
                    .any(|k| k.index() == c)
                })
                .map(|c| (c, layout.schema.field(c).name().clone()))
                .collect(),
            batch_headers: parts.batch_headers,
            max_file_bytes: parts.max_file_bytes,
            zero_padding: ZeroPadding::default(),
        })
    }

    /// The codes seen, for the finisher's table sizing and prefetching.
    pub(crate) fn dedup(&mut self) -> &mut Dedup {
        &mut self.dedup
    }

    /// The row's verdict, given what the rules found on it (`found`). A row is rejected when a
    /// `reject` rule found something, when its code clashes, when it does not fit a batch, or
    /// when the campaign is full; else it is accepted (and its code counted as seen).
    pub(crate) fn verdict(&mut self, row: Row<'_>, mut found: Vec<Finding>) -> RowVerdict {
        self.record_findings(row.file, row.record, &mut found);
        // Only a set rule that found something costs a lookup per row.
        if !self.set_findings.is_empty() {
            if let Some(set) = self.set_findings.remove(&(row.file, row.record.row as i64)) {
                found.extend(set);
            }
        }
        let mut update = false;
        if let Some((code, hash)) = row.code {
            let (clash, is_update) = self.code_verdict(code, hash, row.batch, row.index);
            update = is_update;
            found.extend(clash);
        }
        let rejects = found
            .iter()
            .any(|f| self.rules.rule(f.rule).text.severity == Severity::Reject);
        if rejects {
            return RowVerdict::Rejected { findings: found };
        }
        let header = self.batch_headers[row.group];
        if (header + row.encoded.len()) as u64 > self.max_file_bytes {
            found.push(Finding {
                error: false,
                rule: self.built_in.record_too_large,
                reason: reasons::record_too_large(row.encoded.len(), self.max_file_bytes),
            });
            return RowVerdict::Rejected { findings: found };
        }
        let file = row.file.number();
        match self.built_in.over_campaign_limit {
            Some(limit_rule) => {
                if let Err(reason) = self.dedup.admit_hashed(row.code, file, row.record.row) {
                    found.push(Finding {
                        error: false,
                        rule: limit_rule,
                        reason,
                    });
                    return RowVerdict::Rejected { findings: found };
                }
            }
            None => self.dedup.admit_unlimited(row.code, file, row.record.row),
        }
        RowVerdict::Accepted {
            update,
            warnings: found,
        }
    }

    /// What the reader or normalization found wrong with the record itself: a malformed or
    /// repeated-header record fails for that alone (its fields are unreliable); bytes that are
    /// not UTF-8 and values that cannot be written as text join the row's other findings.
    pub(crate) fn record_findings(&self, file: InputId, record: &Record, found: &mut Vec<Finding>) {
        let rules = &self.built_in;
        let column = |c: usize| self.file_headers[file].0[c].as_str();
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
            Some(RecordProblem::InvalidEncoding { columns }) => found.push(Finding {
                error: false,
                rule: rules.invalid_encoding,
                reason: reasons::invalid_encoding(columns.iter().map(|&c| column(c))),
            }),
            Some(RecordProblem::UnreadableValue { columns }) => found.push(Finding {
                error: false,
                rule: rules.unreadable_value,
                reason: reasons::unreadable_value(
                    columns.iter().map(|(c, why)| (column(*c), why.as_str())),
                ),
            }),
            _ => {}
        }
    }

    /// Takes in the codes of a chunk before its rows are judged: a code stripped of its
    /// leading zeros is found against every padded code up to the end of its chunk.
    pub(crate) fn look_ahead(&mut self, codes: &StringArray) {
        if self.built_in.excel_mangled_code.is_none() {
            return;
        }
        for code in codes.iter().flatten() {
            self.zero_padding.note(code);
        }
    }

    /// Why an all-digit code looks stripped of its leading zeros, if it does: with them it is
    /// an existing code, or the column's codes are zero-padded to a fixed width it lacks.
    fn lost_zeros(&self, code: &str, names: FileNames) -> Option<String> {
        if !could_have_lost_zeros(code) {
            return None;
        }
        if let Some((padded, file)) = self.dedup.existing_with_zeros(code) {
            return Some(reasons::lost_zeros_of_existing(
                code,
                &padded,
                &names.whence(file),
            ));
        }
        let (width, example) = self.zero_padding.wider_than(code)?;
        Some(reasons::lost_zeros_among_padded(code, width, example))
    }

    /// Dedup's verdict on a row's code: a duplicate, an existing code (or, with
    /// `--existing-codes update`, an update, warned of the values it ignores), or a
    /// letter-case variant of an earlier code. Gives the finding, if any, and whether the row
    /// updates an existing code.
    fn code_verdict(
        &mut self,
        code: &str,
        hash: u64,
        batch: &RecordBatch,
        row: usize,
    ) -> (Option<Finding>, bool) {
        let rules = &self.built_in;
        let names = FileNames {
            inputs: self.file_names.as_slice(),
            existing: &self.existing_names,
        };
        let mut is_update = false;
        let clash = match self.dedup.clash_hashed(code, hash) {
            Some(CodeClash::Existing { .. }) if self.updates_existing => {
                is_update = true;
                rules.update_ignores_fields.and_then(|rule| {
                    let ignored: Vec<&str> = self
                        .update_ignored_columns
                        .iter()
                        .filter(|(c, _)| batch.column(*c).is_valid(row))
                        .map(|(_, name)| name.as_str())
                        .collect();
                    (!ignored.is_empty())
                        .then(|| (rule, reasons::update_ignores_fields(code, &ignored)))
                })
            }
            Some(clash @ CodeClash::Existing { .. }) => rules
                .existing_code
                .map(|rule| (rule, clash.reason(code, names))),
            Some(clash @ CodeClash::Duplicate { .. }) => rules
                .duplicate_code
                .map(|rule| (rule, clash.reason(code, names))),
            None => rules
                .case_variant_code
                .and_then(|rule| {
                    let variant = self.dedup.case_variant(code)?;
                    Some((rule, variant.reason(code, names)))
                })
                .or_else(|| {
                    let rule = rules.excel_mangled_code?;
                    Some((rule, self.lost_zeros(code, names)?))
                }),
        };
        let finding = clash.map(|(rule, reason)| Finding {
            error: false,
            rule,
            reason,
        });
        (finding, is_update)
    }
}

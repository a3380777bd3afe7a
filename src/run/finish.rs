//! The in-order finisher: each row's verdict (rejected, accepted, warned), dedup and the
//! campaign limit, and the writing of batches, rejected.csv and warnings.csv.

use super::*;

/// What normalization and encoding counted on one row, added to the tally when it goes in.
struct RowCounts {
    /// Empty boolean cells written `null`.
    boolean_nulls: u32,
    /// Values that start like a spreadsheet formula.
    formulas: u32,
    /// Amounts written in minor units from major ones.
    amounts_converted: u32,
    /// Schema metadata values written in their canonical spelling.
    metadata_respelled: u32,
    /// Dates written in UTC.
    dates_to_utc: u32,
    /// Dates left without a time zone.
    dates_without_zone: u32,
}

/// Which report a row is listed in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Listed {
    Rejected,
    Warned,
}

/// How many rows ahead the finisher prefetches dedup table slots.
pub(super) const PREFETCH_ROWS: usize = 8;

/// What the finisher counted, for the summary.
#[derive(Debug, Default)]
pub(super) struct Tally {
    pub(super) accepted: u64,
    pub(super) rejected_rows: u64,
    pub(super) warned_rows: u64,
    /// Per rule (by position): rows it rejected.
    pub(super) failures_by_rule: PerRule<u64>,
    /// Per rule: accepted rows it warned of.
    pub(super) warnings_by_rule: PerRule<u64>,
    /// Per rule: rows on which it could not be evaluated (rejected or warned under it).
    pub(super) errors_by_rule: PerRule<u64>,
    /// Accepted rows that update a code already in the project.
    pub(super) updates: u64,
    /// Where each update went: (batch, batch row, code), for `upload --verify`.
    pub(super) update_rows: Vec<(u32, u64, String)>,
    /// Dropped columns (by name, in the order met) with the cells that held a value.
    pub(super) dropped_cells: Vec<(String, u64)>,
    /// Accepted values that start like a spreadsheet formula.
    pub(super) formula_like_values: u64,
    pub(super) normalizations: Normalizations,
    /// The inputs read to the end, in the order they ended.
    pub(super) digests: Vec<FileDigest>,
}

/// The sequential end of the pipeline: dedup, limits and writing, in input order.
pub(super) struct Finisher<'a> {
    pub(super) rules: &'a RuleSet,
    pub(super) progress: &'a dyn Progress,
    /// Stored bytes of the files read to the end.
    pub(super) bytes_of_done_files: u64,
    /// Set-rule findings by (input index, row), taken as the rows go by.
    pub(super) set_findings: HashMap<(InputId, i64), Vec<Finding>>,
    pub(super) engine_rules: EngineRules,
    pub(super) layout: &'a TableLayout,
    pub(super) groups: &'a ColumnGroups,
    pub(super) file_names: &'a PerInput<String>,
    pub(super) existing_names: Vec<String>,
    /// Each input's own header names, to name a column as its file spells it.
    pub(super) file_headers: &'a FileHeaders,
    pub(super) max_record_bytes: usize,
    pub(super) dedup: Dedup,
    pub(super) batches: BatchWriter,
    pub(super) rejected: RejectedWriter,
    pub(super) warnings: RejectedWriter,
    pub(super) rows_out: Option<RowsOut<'a>>,
    /// `--existing-codes update`: a code in --existing is imported as an update.
    pub(super) updates_existing: bool,
    /// The batch columns (position, name) whose values an update ignores: all but Code,
    /// Active, Category and the position columns.
    pub(super) update_ignored_columns: Vec<(usize, String)>,
    pub(super) tally: Tally,
}

impl<'a> Finisher<'a> {
    /// A finisher of rows laid out as `layout`, judged by `rules`, with `dedup` holding the
    /// existing codes (named `existing_names`); each input's header names (`file_headers`)
    /// name columns in reasons.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        rules: &'a RuleSet,
        layout: &'a TableLayout,
        groups: &'a ColumnGroups,
        file_names: &'a PerInput<String>,
        file_headers: &'a FileHeaders,
        dedup: Dedup,
        existing_names: Vec<String>,
        outlets: Outlets<'a>,
    ) -> Result<Self> {
        Ok(Finisher {
            rules,
            progress: &NoProgress,
            bytes_of_done_files: 0,
            set_findings: HashMap::new(),
            engine_rules: EngineRules::resolve(rules)?,
            layout,
            groups,
            file_names,
            existing_names,
            file_headers,
            max_record_bytes: crate::read::SplitOptions::default().max_record_bytes,
            dedup,
            batches: outlets.batches,
            rejected: outlets.rejected,
            warnings: outlets.warnings,
            rows_out: outlets.rows_out,
            updates_existing: false,
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
            tally: Tally {
                failures_by_rule: PerRule::new(rules, 0),
                warnings_by_rule: PerRule::new(rules, 0),
                errors_by_rule: PerRule::new(rules, 0),
                ..Tally::default()
            },
        })
    }

    /// A file read to its end.
    pub(super) fn file_done(&mut self, digest: FileDigest) {
        self.bytes_of_done_files += digest.bytes;
        self.tally.digests.push(digest);
    }

    pub(super) fn finish_chunk(&mut self, evaluated: Evaluated) -> Result<()> {
        let Evaluated {
            chunk,
            batch,
            mut findings,
            normalizations,
            encoded: rows_encoded,
            amounts_converted,
            metadata_respelled,
            dates_to_utc,
            dates_without_zone,
            dropped_cells,
            code_hashes,
            import_rows,
        } = evaluated;
        for (count, (_, name)) in dropped_cells
            .iter()
            .zip(&self.layout.files[chunk.file].dropped)
        {
            if *count > 0 {
                match self.tally.dropped_cells.iter_mut().find(|(n, _)| n == name) {
                    Some((_, total)) => *total += count,
                    None => self.tally.dropped_cells.push((name.clone(), *count)),
                }
            }
        }
        self.tally.normalizations.add(&normalizations);
        let stored_bytes_read = chunk.stored_bytes_read;
        let codes = batch.column(KnownColumn::Code.index()).as_string::<i32>();
        if let Some(rows) = chunk.estimated_file_rows {
            // Sized once per file: the table does not grow (re-hash, copy) while rows go by.
            let bytes_per_code = codes.values().len() / codes.len().max(1) + 1;
            let more = rows.saturating_sub(chunk.records.len() as u64) as usize;
            self.dedup.reserve(more, bytes_per_code);
        }
        let file_no = chunk.file.number();
        for (i, record) in chunk.records.iter().enumerate() {
            // The table probe of a row a few ahead is fetched while this one is finished.
            if let Some(&hash) = code_hashes.get(i + PREFETCH_ROWS) {
                self.dedup.prefetch(hash);
            }
            let mut found = std::mem::take(&mut findings[i]);
            let code = codes.is_valid(i).then(|| codes.value(i));
            self.record_findings(chunk.file, record, &mut found);
            // Only a set rule that found something costs a lookup per row.
            if !self.set_findings.is_empty() {
                if let Some(set) = self.set_findings.remove(&(chunk.file, record.row as i64)) {
                    found.extend(set);
                }
            }
            let mut is_update = false;
            if let Some(code) = code {
                let (clash, update) = self.code_verdict(code, code_hashes[i], &batch, i);
                is_update = update;
                found.extend(clash);
            }
            let rules = &self.engine_rules;
            // A rule that could not be evaluated on the row is counted whatever becomes of the
            // row (a warning on a rejected row is not listed, its error still is counted).
            let mut last_error_rule = None;
            for finding in found.iter().filter(|f| f.error) {
                if last_error_rule != Some(finding.rule) {
                    self.tally.errors_by_rule[finding.rule] += 1;
                    last_error_rule = Some(finding.rule);
                }
            }
            let rejects = |found: &[Finding], all: &RuleSet| {
                found
                    .iter()
                    .any(|f| all.rule(f.rule).text.severity == Severity::Reject)
            };
            if !rejects(&found, self.rules) {
                let encoded = rows_encoded.row(i);
                let group = self.groups.of_file[chunk.file];
                if !self.batches.fits_alone(group, encoded) {
                    found.push(Finding {
                        error: false,
                        rule: rules.record_too_large,
                        reason: format!(
                            "the record takes {} bytes, more than a batch of --max-file-bytes {} can hold with its header",
                            encoded.len(),
                            self.batches.max_bytes()
                        ),
                    });
                } else {
                    let hashed = code.map(|c| (c, code_hashes[i]));
                    let admitted = if rules.over_campaign_limit.is_some() {
                        self.dedup.admit_hashed(hashed, file_no, record.row)
                    } else {
                        self.dedup.admit_unlimited(hashed, file_no, record.row);
                        Ok(())
                    };
                    match admitted {
                        Ok(()) => {
                            let counts = RowCounts {
                                boolean_nulls: rows_encoded.nulls(i),
                                formulas: rows_encoded.formulas(i),
                                amounts_converted: amounts_converted[i],
                                metadata_respelled: metadata_respelled[i],
                                dates_to_utc: dates_to_utc[i],
                                dates_without_zone: dates_without_zone[i],
                            };
                            let update = code.filter(|_| is_update);
                            self.accept(
                                chunk.file, i, record, group, encoded, update, counts, found,
                            )?;
                            continue;
                        }
                        Err(reason) => found.push(Finding {
                            error: false,
                            rule: rules.over_campaign_limit.expect("checked above"),
                            reason,
                        }),
                    }
                }
            }
            self.reject(chunk.file, record, found)?;
        }
        if let Some(out) = &mut self.rows_out {
            out.flush(import_rows.as_ref())?;
        }
        self.progress.update(ProgressUpdate {
            bytes_read: self.bytes_of_done_files + stored_bytes_read,
            rows: self.tally.accepted + self.tally.rejected_rows,
            rejected: self.tally.rejected_rows,
        });
        Ok(())
    }

    /// An accepted row: into its group's batch (row `position` of the chunk), counted, handed
    /// to the sink, and listed in warnings.csv when `warnings` holds findings. `update` is the
    /// code when the row updates a code in the project.
    #[allow(clippy::too_many_arguments)]
    fn accept(
        &mut self,
        file: InputId,
        position: usize,
        record: &crate::read::Record,
        group: usize,
        encoded: &[u8],
        update: Option<&str>,
        counts: RowCounts,
        warnings: Vec<Finding>,
    ) -> Result<()> {
        let (batch_no, batch_row) =
            self.batches
                .write(group, encoded, file.number(), record.row)?;
        if let Some(code) = update {
            self.tally
                .update_rows
                .push((batch_no, batch_row, code.to_owned()));
            self.tally.updates += 1;
        }
        let tally = &mut self.tally;
        tally.normalizations.boolean_nulls_written += u64::from(counts.boolean_nulls);
        tally.normalizations.amounts_converted += u64::from(counts.amounts_converted);
        tally.normalizations.metadata_values_respelled += u64::from(counts.metadata_respelled);
        tally.normalizations.dates_to_utc += u64::from(counts.dates_to_utc);
        tally.normalizations.dates_without_zone += u64::from(counts.dates_without_zone);
        tally.formula_like_values += u64::from(counts.formulas);
        tally.accepted += 1;
        if let Some(out) = &mut self.rows_out {
            out.accepted.push(position as u32);
        }
        if warnings.is_empty() {
            return Ok(());
        }
        self.list(Listed::Warned, file, record, warnings)?;
        self.tally.warned_rows += 1;
        Ok(())
    }

    /// A rejected row: into rejected.csv and to the sink, under the rules that reject it only
    /// (warnings are moot for a row that does not go in).
    fn reject(
        &mut self,
        file: InputId,
        record: &crate::read::Record,
        mut found: Vec<Finding>,
    ) -> Result<()> {
        found.retain(|f| self.rules.rule(f.rule).text.severity == Severity::Reject);
        self.list(Listed::Rejected, file, record, found)?;
        self.tally.rejected_rows += 1;
        Ok(())
    }

    /// Lists a row with its findings in rejected.csv or warnings.csv, and for the sink.
    fn list(
        &mut self,
        how: Listed,
        file: InputId,
        record: &crate::read::Record,
        found: Vec<Finding>,
    ) -> Result<()> {
        let (names, layout) = (self.file_names, self.layout);
        let (file_name, file_layout) = (&names[file], &layout.files[file]);
        let (rules, reasons) = self.describe(found, &mut (how == Listed::Warned));
        let (report, rows) = match how {
            Listed::Rejected => (
                &mut self.rejected,
                self.rows_out.as_mut().map(|o| &mut o.rejected),
            ),
            Listed::Warned => (
                &mut self.warnings,
                self.rows_out.as_mut().map(|o| &mut o.warnings),
            ),
        };
        if let Some(rows) = rows {
            rows.push(
                file_name,
                record,
                &file_layout.original_columns,
                &rules,
                &reasons,
            );
        }
        report.write(
            file_name,
            record,
            &file_layout.original_columns,
            file_layout.undo_formula_quotes,
            rules,
            reasons,
        )
    }

    /// Dedup's verdict on a row's code that every rule let through so far: a duplicate, an
    /// existing code (or, with `--existing-codes update`, an update, warned of the values it
    /// ignores), or a letter-case variant of an earlier code. Gives the finding, if any, and
    /// whether the row updates an existing code.
    fn code_verdict(
        &mut self,
        code: &str,
        hash: u64,
        batch: &RecordBatch,
        row: usize,
    ) -> (Option<Finding>, bool) {
        let rules = &self.engine_rules;
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
                    (!ignored.is_empty()).then(|| (rule, dedup::update_reason(code, &ignored)))
                })
            }
            Some(clash @ CodeClash::Existing { .. }) => rules
                .existing_code
                .map(|rule| (rule, clash.reason(code, names))),
            Some(clash @ CodeClash::Duplicate { .. }) => rules
                .duplicate_code
                .map(|rule| (rule, clash.reason(code, names))),
            None => rules.case_variant_code.and_then(|rule| {
                let variant = self.dedup.case_variant(code)?;
                Some((rule, variant.reason(code, names)))
            }),
        };
        let finding = clash.map(|(rule, reason)| Finding {
            error: false,
            rule,
            reason,
        });
        (finding, is_update)
    }

    /// Sorts findings into rule order, counts them (as warnings when `warning`), and gives the
    /// rule names and the joined reasons.
    pub(super) fn describe(
        &mut self,
        mut found: Vec<Finding>,
        warning: &mut bool,
    ) -> (Vec<String>, String) {
        // Stable: a rule that failed on several columns keeps their order.
        found.sort_by_key(|f| f.rule);
        let mut names: Vec<String> = Vec::with_capacity(found.len());
        let mut reasons = Vec::with_capacity(found.len());
        let mut last_rule = None;
        for finding in found {
            let rule = self.rules.rule(finding.rule);
            // A rule is listed and counted once per row, with every reason it gave.
            if last_rule != Some(finding.rule) {
                if *warning {
                    self.tally.warnings_by_rule[finding.rule] += 1;
                } else {
                    self.tally.failures_by_rule[finding.rule] += 1;
                }
                names.push(rule.text.name.clone());
                last_rule = Some(finding.rule);
            }
            reasons.push(if finding.reason.is_empty() {
                rule.text.description.clone()
            } else {
                finding.reason
            });
        }
        (names, reasons.join("; "))
    }
}

#[cfg(test)]
#[path = "finish_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "finish_props.rs"]
mod props;

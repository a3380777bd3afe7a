//! The in-order finisher: each row's verdict asked of the judge, the accepted rows placed in
//! the batch plan, every row counted, and the chunk handed to the sink as judged rows.

use datafusion::arrow::array::{Array, AsArray, RecordBatch};

use super::evaluate::Evaluated;
use super::{Progress, ProgressUpdate};
use crate::error::Result;
use crate::folder::summary::Normalizations;
use crate::folder::updates::UpdateRow;
use crate::judge::{Judge, Row, RowVerdict};
use crate::normalize::headers::KnownColumn;
use crate::normalize::{ColumnGroups, TableLayout};
use crate::read::{FileDigest, InputId, PerInput, Record};
use crate::rules::engine::Finding;
use crate::rules::format::Severity;
use crate::rules::{PerRule, RuleSet};
use crate::sink::{ArrowRowsBuilder, JudgedChunk, ListedRow, Sink};
use crate::write::batches::BatchPlan;
use crate::write::rejected::RejectedWriter;

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
    /// Dropped columns (by name, in the order met) with the cells that held a value.
    pub(super) dropped_cells: Vec<(String, u64)>,
    /// Accepted values that start like a spreadsheet formula.
    pub(super) formula_like_values: u64,
    pub(super) normalizations: Normalizations,
    /// The inputs read to the end, in the order they ended.
    pub(super) digests: Vec<FileDigest>,
}

/// The sequential end of the pipeline, in input order: each row judged ([`Judge`]), then
/// written where its verdict says and counted.
pub(super) struct Finisher<'a> {
    pub(super) rules: &'a RuleSet,
    pub(super) progress: &'a dyn Progress,
    /// Stored bytes of the inputs read to their end, for progress.
    pub(super) bytes_of_done_files: u64,
    pub(super) layout: &'a TableLayout,
    pub(super) groups: &'a ColumnGroups,
    pub(super) file_names: &'a PerInput<String>,
    pub(super) judge: Judge<'a>,
    /// Where the accepted rows go: batches measured, hashed and cut.
    pub(super) plan: BatchPlan,
    /// Rejected rows kept as examples of their rules, for the summary.
    pub(super) examples: RejectedWriter,
    pub(super) sink: &'a mut dyn Sink,
    /// The rows in Arrow form, for a sink that wants them.
    pub(super) arrow: Option<ArrowRowsBuilder>,
    pub(super) tally: Tally,
}

/// What one chunk gives the sink besides its Arrow rows.
struct ChunkLists<'c> {
    rejected: Vec<ListedRow<'c>>,
    warned: Vec<ListedRow<'c>>,
    updates: Vec<UpdateRow>,
    /// Positions in the chunk of the accepted rows, for the Arrow form.
    accepted: Vec<u32>,
    /// The accepted rows' kept columns (`--keep`), for the Arrow form.
    accepted_kept: Vec<Vec<String>>,
}

impl ChunkLists<'_> {
    fn new() -> Self {
        ChunkLists {
            rejected: Vec::new(),
            warned: Vec::new(),
            updates: Vec::new(),
            accepted: Vec::new(),
            accepted_kept: Vec::new(),
        }
    }
}

impl<'a> Finisher<'a> {
    /// A finisher of rows laid out as `layout`, judged by `judge` under `rules`, placed in
    /// `plan` and handed to `sink` (in Arrow form too, when `arrow` is given);
    /// `normalizations` are what the first passes counted already.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        rules: &'a RuleSet,
        layout: &'a TableLayout,
        groups: &'a ColumnGroups,
        file_names: &'a PerInput<String>,
        judge: Judge<'a>,
        plan: BatchPlan,
        sink: &'a mut dyn Sink,
        arrow: Option<ArrowRowsBuilder>,
        progress: &'a dyn Progress,
        normalizations: Normalizations,
    ) -> Result<Self> {
        Ok(Finisher {
            rules,
            progress,
            bytes_of_done_files: 0,
            layout,
            groups,
            file_names,
            judge,
            plan,
            examples: RejectedWriter::new(None, &layout.original_headers)?,
            sink,
            arrow,
            tally: Tally {
                failures_by_rule: PerRule::new(rules, 0),
                warnings_by_rule: PerRule::new(rules, 0),
                errors_by_rule: PerRule::new(rules, 0),
                normalizations,
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
            self.judge.dedup().reserve(more, bytes_per_code);
        }
        self.judge.look_ahead(codes);
        let mut lists = ChunkLists::new();
        for (i, record) in chunk.records.iter().enumerate() {
            // The table probe of a row a few ahead is fetched while this one is judged.
            if let Some(&hash) = code_hashes.get(i + PREFETCH_ROWS) {
                self.judge.dedup().prefetch(hash);
            }
            let code = codes.is_valid(i).then(|| (codes.value(i), code_hashes[i]));
            let group = self.groups.of_file[chunk.file];
            let encoded = rows_encoded.row(i);
            let row = Row {
                file: chunk.file,
                record,
                code,
                batch: &batch,
                index: i,
                group,
                encoded,
            };
            let verdict = self.judge.verdict(row, std::mem::take(&mut findings[i]));
            // A rule that could not be evaluated on the row is counted whatever becomes of the
            // row (a warning on a rejected row is not listed, its error still is counted).
            let (RowVerdict::Accepted {
                warnings: found, ..
            }
            | RowVerdict::Rejected { findings: found }) = &verdict;
            let mut last_error_rule = None;
            for finding in found.iter().filter(|f| f.error) {
                if last_error_rule != Some(finding.rule) {
                    self.tally.errors_by_rule[finding.rule] += 1;
                    last_error_rule = Some(finding.rule);
                }
            }
            match verdict {
                RowVerdict::Accepted { update, warnings } => {
                    let counts = RowCounts {
                        boolean_nulls: rows_encoded.nulls(i),
                        formulas: rows_encoded.formulas(i),
                        amounts_converted: amounts_converted[i],
                        metadata_respelled: metadata_respelled[i],
                        dates_to_utc: dates_to_utc[i],
                        dates_without_zone: dates_without_zone[i],
                    };
                    let update = code.map(|(c, _)| c).filter(|_| update);
                    self.accept(
                        &mut lists, chunk.file, i, record, group, encoded, update, counts, warnings,
                    );
                }
                RowVerdict::Rejected { findings } => {
                    self.reject(&mut lists, chunk.file, record, findings)?
                }
            }
        }
        self.hand_over(lists, import_rows.as_ref())?;
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
    fn accept<'c>(
        &mut self,
        lists: &mut ChunkLists<'c>,
        file: InputId,
        position: usize,
        record: &'c Record,
        group: usize,
        encoded: &[u8],
        update: Option<&str>,
        counts: RowCounts,
        warnings: Vec<Finding>,
    ) where
        'a: 'c,
    {
        let kept = self.kept_values(file, record);
        if self.arrow.is_some() && !kept.is_empty() {
            lists.accepted_kept.push(kept.clone());
        }
        let (batch, batch_row) = self
            .plan
            .write(group, encoded, file.number(), record.row, kept);
        if let Some(code) = update {
            lists.updates.push(UpdateRow {
                batch,
                batch_row,
                code: code.to_owned(),
            });
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
        if self.arrow.is_some() {
            lists.accepted.push(position as u32);
        }
        if warnings.is_empty() {
            return;
        }
        let row = self.list(Listed::Warned, file, record, warnings);
        lists.warned.push(row);
        self.tally.warned_rows += 1;
    }

    /// The row's kept columns (`--keep`), as read (a report given back as input loses the `'`
    /// it put in front of a formula-like value); empty when the run keeps none.
    fn kept_values(&self, file: InputId, record: &Record) -> Vec<String> {
        let layout = &self.layout.files[file];
        layout
            .kept_columns
            .iter()
            .map(|at| {
                let value = at
                    .and_then(|at| record.fields.get(at))
                    .map(crate::normalize::values::decode)
                    .unwrap_or_default();
                match layout.undo_formula_quotes {
                    true => crate::folder::formula_unsafe(&value).to_owned(),
                    false => value.into_owned(),
                }
            })
            .collect()
    }

    /// A rejected row: into rejected.csv and to the sink, under the rules that reject it only
    /// (warnings are moot for a row that does not go in).
    fn reject<'c>(
        &mut self,
        lists: &mut ChunkLists<'c>,
        file: InputId,
        record: &'c Record,
        mut found: Vec<Finding>,
    ) -> Result<()>
    where
        'a: 'c,
    {
        found.retain(|f| self.rules.rule(f.rule).text.severity == Severity::Reject);
        let row = self.list(Listed::Rejected, file, record, found);
        row.write_into(&mut self.examples)?;
        lists.rejected.push(row);
        self.tally.rejected_rows += 1;
        Ok(())
    }

    /// A row listed with its findings (counted under their rules), as the reports show it.
    fn list<'c>(
        &mut self,
        how: Listed,
        file: InputId,
        record: &'c Record,
        found: Vec<Finding>,
    ) -> ListedRow<'c>
    where
        'a: 'c,
    {
        let (names, layout) = (self.file_names, self.layout);
        let (file_name, file_layout) = (&names[file], &layout.files[file]);
        let (rules, reason) = self.describe(found, &mut (how == Listed::Warned));
        ListedRow {
            file_name,
            record,
            original_columns: &file_layout.original_columns,
            from_report: file_layout.undo_formula_quotes,
            rules,
            reason,
        }
    }

    /// Hands the chunk's judged rows to the sink (the accepted ones in Arrow form taken from
    /// `import_rows`), with the batch pieces and origins the plan completed, and the pieces
    /// to the plan's hashing.
    fn hand_over(
        &mut self,
        lists: ChunkLists<'_>,
        import_rows: Option<&RecordBatch>,
    ) -> Result<()> {
        let arrow = match &mut self.arrow {
            Some(builder) => Some(builder.rows(
                import_rows,
                lists.accepted,
                lists.accepted_kept,
                &lists.rejected,
                &lists.warned,
            )?),
            None => None,
        };
        let (pieces, origins) = self.plan.release();
        self.sink.chunk(&JudgedChunk {
            report_columns: &self.layout.original_headers,
            rejected: &lists.rejected,
            warned: &lists.warned,
            batch_pieces: &pieces,
            origins: &origins,
            updates: &lists.updates,
            arrow: arrow.as_ref(),
        })?;
        self.plan.hash(pieces)
    }

    /// After the last chunk: the open batches closed, and what that completes handed to the
    /// sink as a chunk without rows.
    pub(super) fn close_batches(&mut self) -> Result<()> {
        self.plan.close_all();
        self.hand_over(ChunkLists::new(), None)
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
#[path = "finish_verdict_tests.rs"]
mod verdict_tests;

#[cfg(test)]
#[path = "finish_props.rs"]
mod props;

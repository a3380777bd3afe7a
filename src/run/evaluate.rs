//! One chunk on a worker: normalized into the rule table, every row rule evaluated, the
//! values rewritten in the form batches carry, and every row encoded for its batch.

use datafusion::arrow::array::{Array, AsArray, StringArray};
use datafusion::arrow::record_batch::RecordBatch;

use crate::config::RunConfig;
use crate::dedup::CodeHasher;
use crate::error::Result;
use crate::folder::summary::Normalizations;
use crate::formats::{AmountUnit, Rewrite};
use crate::normalize::headers::KnownColumn;
use crate::normalize::{values, ColumnGroups, TableLayout};
use crate::read::{Chunk, RecordProblem};
use crate::rules::engine::{Finding, RuleEngine};
use crate::rules::schema_checks::SchemaChecks;
use crate::rules::{names, RuleId};
use crate::write::record::EncodedRows;

/// A chunk after normalization and the SQL rules.
pub(super) struct Evaluated {
    pub(super) chunk: Chunk,
    pub(super) batch: RecordBatch,
    pub(super) findings: Vec<Vec<Finding>>,
    pub(super) normalizations: Normalizations,
    /// Every row encoded for a batch, whether or not it will be accepted.
    pub(super) encoded: EncodedRows,
    /// Per row, the amounts written in minor units from major ones (`--amount-unit major`).
    pub(super) amounts_converted: Vec<u32>,
    /// Per row, the schema metadata values written in their canonical spelling.
    pub(super) metadata_respelled: Vec<u32>,
    /// Per row, the dates written in UTC (from an offset, or `--dates-in`).
    pub(super) dates_to_utc: Vec<u32>,
    /// Per row, the dates left without a time zone.
    pub(super) dates_without_zone: Vec<u32>,
    /// For each of the file's dropped columns ([`FileLayout::dropped`]), the cells that held
    /// a value.
    pub(super) dropped_cells: Vec<u64>,
    /// Per row, the hash of its code for the dedup tables (0 without a code).
    pub(super) code_hashes: Vec<u64>,
    /// Every row in the import layout, when a sink takes the rows.
    pub(super) import_rows: Option<RecordBatch>,
}

/// What the workers need to make a row ready for the finisher.
pub(super) struct RowOutput {
    /// Rule-table columns written to batches, in batch column order.
    pub(super) columns: Vec<usize>,
    /// Batch columns (positions) that are boolean metadata: an empty cell is written `null`.
    pub(super) boolean_columns: Vec<usize>,
    /// Batch columns (positions) whose values are written in another form than read.
    pub(super) rewrites: Vec<(usize, Rewrite)>,
    /// The rule an export row of another voucher type than the campaign's fails.
    pub(super) wrong_voucher_type: Option<RuleId>,
    pub(super) code_hasher: CodeHasher,
    /// The batch column groups: a row is encoded with its file's group's columns only.
    pub(super) groups: ColumnGroups,
    /// The `empty_in_boolean_column` rule and the boolean-looking metadata columns (rule-table
    /// column, name) whose empty cells it warns of.
    pub(super) empty_in_boolean: Option<(RuleId, Vec<(usize, String)>)>,
    /// Per column group, the Arrow schema of accepted rows, when a sink takes the rows.
    pub(super) import_schemas: Option<Vec<datafusion::arrow::datatypes::SchemaRef>>,
}

impl RowOutput {
    /// What the workers need, for the batch columns `output_columns` (name, rule-table
    /// column) of the layout grouped as `column_groups`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        config: &RunConfig,
        output_columns: &[(String, usize)],
        schema_checks: &SchemaChecks,
        column_groups: ColumnGroups,
        group_headers: &[Vec<String>],
        code_hasher: CodeHasher,
        empty_in_boolean: Option<(RuleId, Vec<(usize, String)>)>,
        sink_takes_rows: bool,
    ) -> Self {
        // Validated when the configuration was made.
        let dates_in = config
            .options
            .dates_in
            .as_deref()
            .and_then(|zone| crate::formats::parse_zone(zone).ok());
        RowOutput {
            columns: output_columns.iter().map(|(_, c)| *c).collect(),
            boolean_columns: output_columns
                .iter()
                .enumerate()
                .filter(|(_, (name, _))| schema_checks.is_boolean(name))
                .map(|(position, _)| position)
                .collect(),
            rewrites: output_columns
                .iter()
                .enumerate()
                .filter_map(|(position, (name, c))| {
                    let date = [KnownColumn::StartDate, KnownColumn::ExpirationDate]
                        .iter()
                        .any(|k| k.index() == *c);
                    if date {
                        return Some((position, Rewrite::Date { zone: dates_in }));
                    }
                    let amount = [KnownColumn::GiftAmount, KnownColumn::RedeemedAmount]
                        .iter()
                        .any(|k| k.index() == *c);
                    let (from, to) = (config.options.amount_unit, config.options.batch_amount_unit);
                    if amount && (from, to) != (AmountUnit::Minor, AmountUnit::Minor) {
                        return Some((position, Rewrite::Amount { from, to }));
                    }
                    schema_checks.rewrite(name).map(|how| (position, how))
                })
                .collect(),
            wrong_voucher_type: config.rules.find(names::WRONG_VOUCHER_TYPE),
            code_hasher,
            groups: column_groups,
            empty_in_boolean,
            import_schemas: sink_takes_rows.then(|| {
                group_headers
                    .iter()
                    .map(|columns| crate::write::arrow::import_schema(columns))
                    .collect()
            }),
        }
    }
}

pub(super) fn evaluate(
    mut chunk: Chunk,
    layout: &TableLayout,
    engine: &RuleEngine,
    schema: &SchemaChecks,
    output: &RowOutput,
) -> Result<Evaluated> {
    let mut normalizations = Normalizations {
        blank_lines_skipped: chunk.blank_lines,
        ..Normalizations::default()
    };
    let (batch, row_findings) =
        values::to_batch_with_problems(&chunk, layout, &mut normalizations)?;
    // The reader leaves the UTF-8 check to this stage (it decodes every field anyway).
    for (row, columns) in row_findings.invalid_utf8 {
        let record = &mut chunk.records[row];
        if record.problem.is_none() {
            record.problem = Some(RecordProblem::InvalidEncoding { columns });
        }
    }
    let skip: Vec<bool> = chunk
        .records
        .iter()
        .map(crate::read::Record::is_malformed)
        .collect();
    let mut findings = engine.evaluate(&batch, &skip)?;
    schema.evaluate(&batch, &skip, &mut findings);
    if let Some(rule) = output.wrong_voucher_type {
        push_findings(&mut findings, rule, row_findings.voucher_type_problems);
    }
    if let Some((rule, columns)) = &output.empty_in_boolean {
        let filled = &layout.files[chunk.file].filled;
        for (column, name) in columns
            .iter()
            .filter(|(c, _)| filled.binary_search(c).is_ok())
        {
            let values = batch.column(*column);
            for (i, found) in findings.iter_mut().enumerate() {
                if values.is_null(i) && !skip[i] {
                    found.push(Finding {
                        error: false,
                        rule: *rule,
                        reason: crate::reasons::empty_in_boolean_column(name),
                    });
                }
            }
        }
    }
    if let Some(rule) = schema.nested_rule {
        push_findings(&mut findings, rule, row_findings.json_problems);
    }
    // Values written in the form Voucherify takes: amounts given in major units in whole minor
    // units (100.50 -> 10050; a value that does not convert fails invalid_number and is not
    // written), schema metadata in its canonical spelling (booleans and null lowercase, array
    // items without spaces around the commas).
    let mut amounts_converted = vec![0u32; batch.num_rows()];
    let mut metadata_respelled = vec![0u32; batch.num_rows()];
    let mut dates_to_utc = vec![0u32; batch.num_rows()];
    let mut dates_without_zone = vec![0u32; batch.num_rows()];
    let converted: Vec<(usize, StringArray)> = output
        .rewrites
        .iter()
        .map(|&(position, how)| {
            let column = batch.column(output.columns[position]).as_string::<i32>();
            let counts = match how {
                Rewrite::Amount { .. } => &mut amounts_converted,
                Rewrite::Date { .. } => &mut dates_to_utc,
                _ => &mut metadata_respelled,
            };
            let written: StringArray = (0..column.len())
                .map(|i| {
                    column.is_valid(i).then(|| {
                        let value = column.value(i);
                        let (written, zoneless) = how.apply_noting(value);
                        dates_without_zone[i] += u32::from(zoneless);
                        match written {
                            Some(new) => {
                                counts[i] += 1;
                                new
                            }
                            None => value.to_owned(),
                        }
                    })
                })
                .collect();
            (position, written)
        })
        .collect();
    let columns: Vec<&StringArray> = output
        .columns
        .iter()
        .enumerate()
        .map(
            |(position, &c)| match converted.iter().find(|(p, _)| *p == position) {
                Some((_, minor)) => minor,
                None => batch.column(c).as_string::<i32>(),
            },
        )
        .collect();
    // Only the columns of the file's group: a column the file does not have is not written
    // as empty cells (see TableLayout::column_groups).
    let group = &output.groups.columns[output.groups.of_file[chunk.file]];
    let group_columns: Vec<&StringArray> = group.iter().map(|&p| columns[p]).collect();
    let group_booleans: Vec<usize> = group
        .iter()
        .enumerate()
        .filter(|(_, p)| output.boolean_columns.contains(p))
        .map(|(at, _)| at)
        .collect();
    let encoded = EncodedRows::encode(&group_columns, &group_booleans);
    let import_rows = match &output.import_schemas {
        Some(schemas) => Some(crate::write::arrow::import_rows(
            &schemas[output.groups.of_file[chunk.file]],
            &group_columns,
            &group_booleans,
        )?),
        None => None,
    };
    let codes = batch.column(KnownColumn::Code.index()).as_string::<i32>();
    let code_hashes = (0..codes.len())
        .map(|i| {
            if codes.is_valid(i) {
                output.code_hasher.hash(codes.value(i))
            } else {
                0
            }
        })
        .collect();
    let dropped = &layout.files[chunk.file].dropped;
    let mut dropped_cells = vec![0u64; dropped.len()];
    for record in &chunk.records {
        if record.is_malformed() {
            continue;
        }
        for (count, (c, _)) in dropped_cells.iter_mut().zip(dropped) {
            let held = record
                .fields
                .get(*c)
                .is_some_and(|cell| !cell.iter().all(u8::is_ascii_whitespace));
            *count += u64::from(held);
        }
    }
    Ok(Evaluated {
        chunk,
        batch,
        findings,
        normalizations,
        encoded,
        amounts_converted,
        metadata_respelled,
        dates_to_utc,
        dates_without_zone,
        dropped_cells,
        code_hashes,
        import_rows,
    })
}

/// Adds a finding of `rule` to each row that has a problem (one reason per row, in row order).
fn push_findings(findings: &mut [Vec<Finding>], rule: RuleId, problems: Vec<Option<String>>) {
    for (found, problem) in findings.iter_mut().zip(problems) {
        if let Some(reason) = problem {
            found.push(Finding {
                error: false,
                rule,
                reason,
            });
        }
    }
}

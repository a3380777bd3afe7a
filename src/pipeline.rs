//! The pipeline of one run: read headers and build the layout, load existing codes, compile
//! rules, then stream every file through read -> normalize -> rules (in parallel, chunk by
//! chunk) -> dedup -> write (in input order), and close with the conservation check.
//!
//! ```text
//!  reader thread ──chunks──▶ rayon pool: normalize + SQL rules ──in order──▶ dedup ─▶ batches
//!                                                                               └──▶ rejected.csv
//! ```

use std::collections::HashMap;
use std::path::Path;
use std::sync::mpsc;
use std::time::Instant;

use datafusion::arrow::array::{Array, AsArray, BooleanArray, StringArray};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::record_batch::RecordBatch;
use rayon::prelude::*;

use crate::config::{ExistingCodes, Output, RunConfig};
use crate::dedup::{existing, CaseVariant, CodeClash, CodeHasher, Dedup};
use crate::error::{Error, Result};
use crate::folder;
use crate::normalize::boolean_like::BooleanLikeScan;
use crate::normalize::headers::{self, ColumnRole, KnownColumn};
use crate::normalize::{export, json_metadata, values, ColumnGroups, Normalizations, TableLayout};
use crate::read::{Chunk, FileDigest, Input, InputPath, Pending, RecordProblem};
use crate::report::{CheckReport, ExistingInfo, InputInfo, RuleCounts, RuleExamples, Summary};
use crate::rules::engine::{Finding, RuleEngine};
use crate::rules::format::Severity;
use crate::rules::functions::{parse_amount, AmountUnit};
use crate::rules::metadata::{MetadataSchema, Property, PropertyType, Violation};
use crate::rules::{names, RuleSet};
use crate::write::batches::{BatchWriter, OriginRun};
use crate::write::record::EncodedRows;
use crate::write::rejected::{RejectedEntry, RejectedWriter, RuleExample};
use crate::write::StagedOutput;

/// What a run produced: its summary, and for `check` the rejected rows.
#[derive(Debug)]
pub struct RunOutcome {
    pub summary: Summary,
    pub rejected_rows: Vec<RejectedEntry>,
    /// Up to [`crate::write::rejected::EXAMPLES_PER_RULE`] rejected rows per rule, for the
    /// HTML report.
    pub examples: Vec<(String, Vec<RuleExample>)>,
}

impl RunOutcome {
    pub fn into_check_report(self) -> CheckReport {
        CheckReport {
            summary: self.summary,
            rejected_rows: self.rejected_rows,
        }
    }
}

enum ReadEvent {
    Chunk(Chunk),
    FileDone(FileDigest),
}

enum Prepared {
    Chunk(Box<Evaluated>),
    FileDone(FileDigest),
}

/// A chunk after normalization and the SQL rules.
struct Evaluated {
    chunk: Chunk,
    batch: RecordBatch,
    findings: Vec<Vec<Finding>>,
    normalizations: Normalizations,
    /// Every row encoded for a batch, whether or not it will be accepted.
    encoded: EncodedRows,
    /// Per row, the amounts written in minor units from major ones (`--amount-unit major`).
    amounts_converted: Vec<u32>,
    /// Per row, the schema metadata values written in their canonical spelling.
    metadata_respelled: Vec<u32>,
    /// For each of the file's dropped columns ([`FileLayout::dropped`]), the cells that held
    /// a value.
    dropped_cells: Vec<u64>,
    /// Per row, the hash of its code for the dedup tables (0 without a code).
    code_hashes: Vec<u64>,
}

/// What the workers need to make a row ready for the finisher.
struct RowOutput {
    /// Rule-table columns written to batches, in batch column order.
    columns: Vec<usize>,
    /// Batch columns (positions) that are boolean metadata: an empty cell is written `null`.
    boolean_columns: Vec<usize>,
    /// Batch columns (positions) whose values are written in another form than read.
    rewrites: Vec<(usize, Rewrite)>,
    /// The rule an export row of another voucher type than the campaign's fails.
    wrong_voucher_type: Option<usize>,
    code_hasher: CodeHasher,
    /// The batch column groups: a row is encoded with its file's group's columns only.
    groups: ColumnGroups,
    /// The `empty_in_boolean_column` rule and the boolean-looking metadata columns (rule-table
    /// column, name) whose empty cells it warns of.
    empty_in_boolean: Option<(usize, Vec<(usize, String)>)>,
}

/// Positions of the rules that engine stages report; None for a rule switched off.
struct EngineRules {
    malformed_record: usize,
    invalid_encoding: usize,
    unreadable_value: usize,
    repeated_header: usize,
    record_too_large: usize,
    duplicate_code: Option<usize>,
    existing_code: Option<usize>,
    /// The warning a code that differs from an earlier one only by case gets.
    case_variant_code: Option<usize>,
    /// The warning an update's ignored values get (loaded with `--existing-codes update` only).
    update_ignores_fields: Option<usize>,
    over_campaign_limit: Option<usize>,
}

impl EngineRules {
    /// The first five cannot be disabled ([`RuleSet::load`] refuses it).
    fn resolve(rules: &RuleSet) -> Result<Self> {
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

/// Runs the whole import described by `config`.
pub fn run(config: &RunConfig) -> Result<RunOutcome> {
    run_with_progress(config, &NoProgress)
}

/// Where a run is, for a progress display.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProgressUpdate {
    /// Stored bytes of the inputs read so far (compressed bytes for compressed files; 0 for
    /// Parquet, whose rows are counted instead).
    pub bytes_read: u64,
    /// Rows finished (accepted or rejected).
    pub rows: u64,
    pub rejected: u64,
}

/// Receives [`ProgressUpdate`]s while a run streams, after every chunk of rows. The library
/// never draws anything itself.
pub trait Progress: Sync {
    fn update(&self, update: ProgressUpdate);
}

/// No progress display.
pub struct NoProgress;

impl Progress for NoProgress {
    fn update(&self, _: ProgressUpdate) {}
}

/// The stored size of all inputs, when every input is a file whose size is known.
pub fn input_bytes(config: &RunConfig) -> Option<u64> {
    config
        .inputs
        .iter()
        .map(|input| match input {
            InputPath::File(path) => std::fs::metadata(path).ok().map(|m| m.len()),
            InputPath::Stdin => None,
        })
        .sum()
}

/// [`run`], telling `progress` where the run is after every chunk.
pub fn run_with_progress(config: &RunConfig, progress: &dyn Progress) -> Result<RunOutcome> {
    let started = Instant::now();
    // Before anything is read: an output folder that would destroy an input is refused.
    if let Output::Folder { path, force } = &config.output {
        crate::write::check_output_folder(path, *force, &config.reads)?;
    }

    // Headers first: every file-level problem is found before anything is written.
    let Opened {
        mut inputs,
        headers: file_headers,
        notes: reading_notes,
        lines_skipped,
    } = open_all(config)?;
    let trailing_delimiter_files: Vec<usize> = file_headers
        .iter()
        .enumerate()
        .filter(|(_, (names, roles))| {
            names.len() > 1
                && names.last().is_some_and(|n| n.trim().is_empty())
                && matches!(roles.last(), Some(ColumnRole::Dropped(_)))
        })
        .map(|(index, _)| index)
        .collect();
    let normalizations = Normalizations {
        trailing_delimiter_columns: trailing_delimiter_files.len() as u64,
        preamble_lines_skipped: lines_skipped,
        headers_respelled: file_headers
            .iter()
            .flat_map(|(names, roles)| names.iter().zip(roles))
            .filter(|(name, role)| matches!(role, ColumnRole::Known(k) if k.canonical() != name.as_str()))
            .count() as u64,
        ..Normalizations::default()
    };
    // Every respelling is said, not only counted: `category` or `start_date` may have been
    // meant as metadata.
    // (Not for a name the user renamed, nor for an export, whose conversion is its own.)
    let mut respellings: Vec<String> = Vec::new();
    for (name, role) in file_headers
        .iter()
        .filter(|(names, _)| !(config.from_export || export::is_export(names)))
        .flat_map(|(names, roles)| names.iter().zip(roles))
        .filter(|(name, _)| config.headers.renamed(name.as_str()) == name.as_str())
    {
        if let ColumnRole::Known(k) = role {
            let note = format!(
                "header '{name}' is read as the import column '{}' (to keep it as metadata instead, pass --metadata '{name}' or --rename it)",
                k.canonical()
            );
            if k.canonical() != name.as_str() && !respellings.contains(&note) {
                respellings.push(note);
            }
        }
    }
    let dropped_columns: Vec<String> = file_headers
        .iter()
        .flat_map(|(_, roles)| roles)
        .filter_map(|r| match r {
            ColumnRole::Dropped(name) => Some(name.clone()),
            _ => None,
        })
        .fold(Vec::new(), |mut seen, name| {
            if !seen.contains(&name) {
                seen.push(name);
            }
            seen
        });
    // An export's JSON metadata becomes one column per key, and an export's amounts are in one
    // unit per file (unless --amount-unit says which): both are found on a first pass over
    // those columns, and the inputs are opened again.
    let has_json = file_headers.iter().any(|(_, roles)| {
        roles
            .iter()
            .any(|r| matches!(r, ColumnRole::MetadataJson(_)))
    });
    let amount_column = |names: &[String], roles: &[ColumnRole]| {
        let export = config.from_export || export::is_export(names);
        (export && !config.options.amount_unit_given)
            .then(|| {
                roles
                    .iter()
                    .position(|r| matches!(r, ColumnRole::Known(KnownColumn::GiftAmount)))
            })
            .flatten()
    };
    let has_export_amounts = file_headers
        .iter()
        .any(|(names, roles)| amount_column(names, roles).is_some());
    // Per file: the first amount with a decimal point, when there is one.
    let mut decimal_amounts: Vec<Option<String>> = vec![None; file_headers.len()];
    let json_keys = if has_json || has_export_amounts {
        if let Some(once) = readable_once(config) {
            return Err(Error::usage(
                format!("an export's JSON metadata keys and amount unit are found on a first pass, and {once} can be read once"),
                format!("save {once} to a file first and name the file"),
            ));
        }
        let mut keys = Vec::new();
        for (index, (input, (names, roles))) in inputs.into_iter().zip(&file_headers).enumerate() {
            let json = roles
                .iter()
                .position(|r| matches!(r, ColumnRole::MetadataJson(_)));
            let amount = amount_column(names, roles);
            if json.is_none() && amount.is_none() {
                continue;
            }
            let first_decimal = &mut decimal_amounts[index];
            input.open()?.read_records(|chunk| {
                for record in &chunk.records {
                    if let Some(cell) = json.and_then(|c| record.fields.get(c)) {
                        json_metadata::collect_keys(&values::decode(cell), &mut keys);
                    }
                    if first_decimal.is_none() {
                        if let Some(cell) = amount.and_then(|c| record.fields.get(c)) {
                            if cell.contains(&b'.') {
                                *first_decimal = Some(values::decode(cell).trim().to_owned());
                            }
                        }
                    }
                }
                true
            })?;
        }
        inputs = open_all(config)?.inputs;
        // A key becomes a column name: it must be one Voucherify takes, and no other column's.
        for key in &keys {
            let reserved = headers::POSITION_COLUMNS.contains(&key.as_str());
            if key.chars().any(char::is_whitespace) || key.is_empty() || reserved {
                let first = config
                    .inputs
                    .first()
                    .map(InputPath::path)
                    .unwrap_or_default();
                return Err(Error::input(
                    first,
                    format!("the JSON metadata has the key '{key}', which cannot be a metadata column name (empty, whitespace, or reserved: file, row, line)"),
                    "rename the key in the export's metadata before the import",
                ));
            }
        }
        keys
    } else {
        Vec::new()
    };
    let mut layout = TableLayout::with_json_keys(&file_headers, &json_keys);
    // Without a schema, a metadata column that looks boolean warns of its empty cells: a first
    // pass over the metadata columns finds such columns.
    let mut scan_notes = Vec::new();
    let empty_in_boolean = match config.rules.find(names::EMPTY_IN_BOOLEAN_COLUMN) {
        Some(rule) if config.metadata_schema.is_none() && !layout.metadata.is_empty() => {
            let boolean_like = match readable_once(config) {
                Some(once) => {
                    scan_notes.push(format!(
                        "rule empty_in_boolean_column is not checked: it needs a first pass over the metadata columns, and {once} can be read once"
                    ));
                    Vec::new()
                }
                None => {
                    let found = scan_boolean_like(inputs, &file_headers)?;
                    inputs = open_all(config)?.inputs;
                    found
                }
            };
            let columns: Vec<(usize, String)> = boolean_like
                .into_iter()
                .filter_map(|name| {
                    let at = layout.metadata.iter().position(|m| *m == name)?;
                    Some((KnownColumn::ALL.len() + at, name))
                })
                .collect();
            (!columns.is_empty()).then_some((rule, columns))
        }
        _ => None,
    };
    // An export's amount column is in one unit, decided for the whole file.
    let mut unit_notes = Vec::new();
    for (index, (((names, roles), file), decimal)) in file_headers
        .iter()
        .zip(layout.files.iter_mut())
        .zip(&decimal_amounts)
        .enumerate()
    {
        let Some(column) = amount_column(names, roles) else {
            continue;
        };
        let name = &names[column];
        file.export_amounts_to_minor = decimal.is_some();
        let file_name = config.inputs[index].display();
        unit_notes.push(match decimal {
            Some(example) => format!(
                "{file_name}: '{name}' is read in major units, because a value has a decimal point ('{example}'): every value is written in minor units (--amount-unit says otherwise)"
            ),
            None => format!(
                "{file_name}: '{name}' is read in minor units, because no value has a decimal point (--amount-unit says otherwise)"
            ),
        });
    }
    for ((names, _), file) in file_headers.iter().zip(layout.files.iter_mut()) {
        let is_export = config.from_export || export::is_export(names);
        if is_export {
            // An export's ids and timestamps are expected to go: only data left out is said.
            file.dropped
                .retain(|(_, name)| !export::is_bookkeeping(name));
        }
        if is_export && config.rules.find(names::WRONG_VOUCHER_TYPE).is_some() {
            file.voucher_type = export::voucher_type_column(names)
                .zip(export::voucher_type_of(config.campaign.campaign_type));
        }
    }
    let schema_checks = match &config.metadata_schema {
        Some(schema) => SchemaChecks::new(schema, &layout, &config.rules, &config.inputs)?,
        None => SchemaChecks {
            nested_rule: config.rules.find(names::METADATA_NESTED),
            ..SchemaChecks::default()
        },
    };
    let file_names: Vec<String> = config.inputs.iter().map(InputPath::display).collect();

    let options = &config.options;
    let mut dedup = Dedup::new(
        options.case_insensitive_codes,
        options.campaign_limit,
        options.codes_in_campaign,
    );
    let engine = RuleEngine::compile(
        &config.rules,
        layout.schema.clone(),
        &layout.present_columns(),
        options.amount_unit,
    )?;
    let engine_rules = EngineRules::resolve(&config.rules)?;

    let mut existing_info = Vec::with_capacity(config.existing.len());
    let mut existing_codes = Vec::new();
    for (index, path) in config.existing.iter().enumerate() {
        let codes = existing::read_codes(path, config.read.split.max_record_bytes, |code| {
            dedup.add_existing(code, index as u32);
            if engine.has_set_rules() {
                existing_codes.push(code.to_owned());
            }
        })?;
        existing_info.push(ExistingInfo {
            path: display(path),
            codes,
        });
    }

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.threads)
        .thread_name(|i| format!("worker-{i}"))
        .build()
        .map_err(|e| Error::Engine(format!("cannot start {} threads: {e}", config.threads)))?;

    // Set rules see every row at once: a first pass keeps the columns they read, they run,
    // and the inputs are opened again for the pass that writes.
    let set_findings = if engine.has_set_rules() {
        if let Some(once) = readable_once(config) {
            return Err(Error::usage(
                format!("set rules read the input twice: they need to read {once} twice, and it can be read once"),
                format!("save {once} to a file first and name the file, or --disable-rule the set rules"),
            ));
        }
        let columns = engine.set_columns(&layout.schema);
        let collected = std::sync::Mutex::new(Vec::new());
        stream(inputs, config.threads, |events| {
            pool.install(|| {
                events.into_par_iter().try_for_each(|event| {
                    if let ReadEvent::Chunk(chunk) = event {
                        let mut ignored = Normalizations::default();
                        let batch = values::to_batch(
                            &chunk,
                            &layout,
                            &file_names[chunk.file],
                            &mut ignored,
                        )?;
                        let skip: Vec<usize> = (0..chunk.records.len())
                            .filter(|&i| {
                                chunk.records[i]
                                    .problem
                                    .as_ref()
                                    .is_some_and(RecordProblem::is_malformed)
                            })
                            .collect();
                        let batch = batch.project(&columns)?;
                        let batch = if skip.is_empty() {
                            batch
                        } else {
                            let keep: BooleanArray = (0..batch.num_rows())
                                .map(|i| Some(!skip.contains(&i)))
                                .collect();
                            filter_record_batch(&batch, &keep)?
                        };
                        collected.lock().expect("collector lock").push((
                            chunk.file,
                            chunk.records[0].row,
                            batch,
                        ));
                    }
                    Ok::<(), Error>(())
                })
            })
        })?;
        let mut collected = collected.into_inner().expect("collector lock");
        collected.sort_by_key(|(file, first_row, _)| (*file, *first_row));
        let batches = collected.into_iter().map(|(_, _, b)| b).collect();
        let by_name =
            engine.run_set_rules(batches, std::mem::take(&mut existing_codes), &config.rules)?;
        inputs = open_all(config)?.inputs;
        // By input, not by name: the rule table's `file` names the input of each row.
        let mut findings: HashMap<(usize, i64), Vec<Finding>> = HashMap::new();
        for ((name, row), found) in by_name {
            for (index, _) in file_names.iter().enumerate().filter(|(_, n)| **n == name) {
                findings
                    .entry((index, row))
                    .or_default()
                    .extend(found.iter().cloned());
            }
        }
        findings
    } else {
        HashMap::new()
    };

    let staged = match &config.output {
        Output::Folder { path, force } => Some(StagedOutput::create(path, *force, &config.reads)?),
        Output::Report => None,
    };
    let output_columns = layout.output_columns();
    let column_groups = layout.column_groups();
    let group_headers: Vec<Vec<String>> = column_groups
        .columns
        .iter()
        .map(|group| {
            group
                .iter()
                .map(|&position| output_columns[position].0.clone())
                .collect()
        })
        .collect();
    let batches = BatchWriter::new(
        staged.as_ref().map(|s| s.path().join(folder::IMPORT_DIR)),
        &group_headers,
        options.max_file_bytes,
        Some(options.batch_rows),
        options.canary_rows,
    )?;
    let rejected = RejectedWriter::new(
        staged
            .as_ref()
            .map(|s| s.path().join(folder::REJECTED_FILE))
            .as_deref(),
        &layout.original_headers,
        staged.is_none(),
    )?;
    let any_warn_rule = config
        .rules
        .rules
        .iter()
        .any(|r| r.text.severity == Severity::Warn);
    let warnings = RejectedWriter::new(
        staged
            .as_ref()
            .filter(|_| any_warn_rule)
            .map(|s| s.path().join(folder::WARNINGS_FILE))
            .as_deref(),
        &layout.original_headers,
        false,
    )?;
    let row_output = RowOutput {
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
        code_hasher: dedup.hasher(),
        groups: column_groups.clone(),
        empty_in_boolean,
    };
    let mut finisher = Finisher {
        rules: &config.rules,
        progress,
        bytes_of_done_files: 0,
        set_findings,
        warnings,
        warned_rows: 0,
        warnings_by_rule: vec![0; config.rules.rules.len()],
        engine_rules,
        layout: &layout,
        groups: &column_groups,
        file_names: &file_names,
        existing_names: existing_info.iter().map(|e| e.path.clone()).collect(),
        max_record_bytes: config.read.split.max_record_bytes,
        file_headers: file_headers
            .iter()
            .map(|(names, _)| names.clone())
            .collect(),
        dedup,
        batches,
        rejected,
        failures_by_rule: vec![0; config.rules.rules.len()],
        errors_by_rule: vec![0; config.rules.rules.len()],
        updates_existing: config.options.existing_codes == ExistingCodes::Update,
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
        updates: 0,
        update_rows: Vec::new(),
        dropped_cells: Vec::new(),
        accepted: 0,
        rejected_rows: 0,
        formula_like_values: 0,
        normalizations,
        digests: Vec::new(),
    };

    // The finisher runs on a thread of its own, so that dedup and writing of one window overlap
    // normalization and rules of the next.
    let finisher = std::thread::scope(|scope| -> Result<Finisher> {
        let (done_tx, done_rx) = mpsc::sync_channel::<Prepared>(config.threads.max(1) * 2);
        let finishing = std::thread::Builder::new()
            .name("finisher".into())
            .spawn_scoped(scope, move || -> Result<Finisher> {
                for item in done_rx {
                    match item {
                        Prepared::Chunk(evaluated) => finisher.finish_chunk(*evaluated)?,
                        Prepared::FileDone(digest) => {
                            finisher.bytes_of_done_files += digest.bytes;
                            finisher.digests.push(digest);
                        }
                    }
                }
                Ok(finisher)
            })
            .map_err(|e| Error::Engine(format!("cannot start the finisher thread: {e}")))?;
        let streamed = stream(inputs, config.threads, |events| {
            let prepared: Vec<Result<Prepared>> = pool.install(|| {
                events
                    .into_par_iter()
                    .map(|event| match event {
                        ReadEvent::Chunk(chunk) => evaluate(
                            chunk,
                            &layout,
                            &engine,
                            &schema_checks,
                            &file_names,
                            &row_output,
                        )
                        .map(|evaluated| Prepared::Chunk(Box::new(evaluated))),
                        ReadEvent::FileDone(digest) => Ok(Prepared::FileDone(digest)),
                    })
                    .collect()
            });
            for item in prepared {
                if done_tx.send(item?).is_err() {
                    // The finisher stopped on an error, which is the one reported.
                    return Err(Error::Invariant("the finisher stopped".into()));
                }
            }
            Ok(())
        });
        drop(done_tx);
        let finished = finishing
            .join()
            .unwrap_or_else(|_| Err(Error::Invariant("the finisher thread panicked".into())));
        let finisher = finished?;
        streamed?;
        Ok(finisher)
    })?;

    let Finisher {
        batches,
        rejected,
        warnings,
        warned_rows,
        warnings_by_rule,
        failures_by_rule,
        errors_by_rule,
        updates,
        update_rows,
        dropped_cells,
        accepted,
        rejected_rows,
        formula_like_values,
        normalizations,
        digests,
        ..
    } = finisher;
    let (batches, origins) = batches.finish()?;
    let rejected_rows_kept = rejected.finish()?;
    warnings.finish()?;

    let input_rows: u64 = digests.iter().map(|d| d.rows).sum();
    let batch_rows: u64 = batches.iter().map(|b| b.rows).sum();
    if accepted + rejected_rows != input_rows || batch_rows != accepted {
        return Err(Error::Invariant(format!(
            "{input_rows} rows read but {accepted} accepted + {rejected_rows} rejected ({batch_rows} in batches)"
        )));
    }
    let summary = Summary {
        tool: env!("CARGO_PKG_NAME"),
        version: env!("CARGO_PKG_VERSION"),
        campaign: config.campaign.clone(),
        options: config.options.clone(),
        inputs: digests
            .iter()
            .map(|d| InputInfo {
                path: file_names[d.file].clone(),
                sha256: d.sha256.clone(),
                bytes: d.bytes,
                rows: d.rows,
            })
            .collect(),
        existing: existing_info,
        input_rows,
        accepted,
        rejected: rejected_rows,
        first_rejected_by_rule: RuleExamples(
            config
                .rules
                .rules
                .iter()
                .filter_map(|rule| {
                    let name = &rule.text.name;
                    rejected_rows_kept
                        .examples
                        .iter()
                        .find(|(r, _)| r == name)
                        .and_then(|(_, examples)| examples.first())
                        .map(|example| (name.clone(), example.clone()))
                })
                .collect(),
        ),
        formula_like_values,
        rejected_by_rule: RuleCounts(
            config
                .rules
                .rules
                .iter()
                .zip(&failures_by_rule)
                .map(|(r, n)| (r.text.name.clone(), *n))
                .collect(),
        ),
        rule_errors: RuleCounts(
            config
                .rules
                .rules
                .iter()
                .zip(&errors_by_rule)
                .filter(|(_, n)| **n > 0)
                .map(|(r, n)| (r.text.name.clone(), *n))
                .collect(),
        ),
        updates,
        warnings: warned_rows,
        warnings_by_rule: RuleCounts(
            config
                .rules
                .rules
                .iter()
                .zip(&warnings_by_rule)
                .filter(|(r, _)| r.text.severity == Severity::Warn)
                .map(|(r, n)| (r.text.name.clone(), *n))
                .collect(),
        ),
        notes: file_headers
            .iter()
            .zip(&file_names)
            .filter(|((_, roles), _)| roles.iter().any(|r| matches!(r, ColumnRole::Report(_))))
            .map(|(_, name)| {
                format!(
                    "{name} is a rejected.csv: its columns file, row, line, rules, reason and raw (what the earlier run said) are skipped, and a ' put in front of a formula-like value is taken off"
                )
            })
            .chain(config.notes.iter().cloned())
            .chain(respellings.iter().cloned())
            .chain(unit_notes.iter().cloned())
            .chain(scan_notes.iter().cloned())
            .chain(reading_notes.iter().cloned())
            .chain(trailing_delimiter_files.iter().map(|&index| {
                format!(
                    "{}: the header ends with a delimiter: its last, unnamed column is left out (trailing_delimiter_columns)",
                    config.inputs[index].display()
                )
            }))
            .chain(dropped_cells.iter().map(|(name, count)| {
                format!(
                    "column '{name}' is left out of the import, and {} held a value: Voucherify gets none of them",
                    if *count == 1 { "1 of its cells".to_owned() } else { format!("{count} of its cells") }
                )
            }))
            .chain(schema_checks.notes.iter().cloned())
            .chain(engine.notes.iter().cloned())
            .chain(
                staged
                    .iter()
                    .flat_map(|s| s.removed_leftovers().iter().cloned()),
            )
            .collect(),
        dropped_columns,
        normalizations,
        column_groups: column_groups
            .columns
            .iter()
            .enumerate()
            .map(|(group, _)| crate::report::ColumnGroup {
                columns: group_headers[group].clone(),
                inputs: file_names
                    .iter()
                    .zip(&column_groups.of_file)
                    .filter(|(_, g)| **g == group)
                    .map(|(name, _)| name.clone())
                    .collect(),
                batches: batches
                    .iter()
                    .filter(|b| b.group == group)
                    .map(|b| b.path.clone())
                    .collect(),
                rows: batches
                    .iter()
                    .filter(|b| b.group == group)
                    .map(|b| b.rows)
                    .sum(),
            })
            .collect(),
        batches,
        elapsed_ms: started.elapsed().as_millis() as u64,
    };
    crate::interrupt::check()?;
    if let Some(staged) = staged {
        let path = staged.path().join(folder::SUMMARY_FILE);
        let mut text = Vec::new();
        crate::report::write_json(&mut text, &summary).map_err(|e| Error::io(&path, e))?;
        std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
        let path = staged.path().join(folder::ORIGINS_FILE);
        write_origins(&path, &origins, &file_names)?;
        if !update_rows.is_empty() {
            write_updates(&staged.path().join(folder::UPDATES_FILE), &update_rows)?;
        }
        let path = staged.path().join(folder::REPORT_FILE);
        let mut page = Vec::new();
        let mut columns = layout.original_headers.clone();
        columns.push("raw".to_owned());
        crate::report::html::write_html(
            &mut page,
            &crate::report::html::HtmlReport {
                summary: &summary,
                rules: &config.rules,
                examples: &rejected_rows_kept.examples,
                columns: &columns,
            },
        )
        .map_err(|e| Error::io(&path, e))?;
        std::fs::write(&path, page).map_err(|e| Error::io(&path, e))?;
        staged.commit()?;
    }
    Ok(RunOutcome {
        summary,
        rejected_rows: rejected_rows_kept.entries,
        examples: rejected_rows_kept.examples,
    })
}

/// The first pass for `empty_in_boolean_column`: the metadata columns whose values are all
/// true/false with some empty cells. Each file is read until every metadata column it has
/// shows another value (for most files: the first chunk).
fn scan_boolean_like(inputs: Vec<Pending>, file_headers: &FileHeaders) -> Result<Vec<String>> {
    let mut scan = BooleanLikeScan::default();
    for (input, (_, roles)) in inputs.into_iter().zip(file_headers) {
        let columns = scan.columns_of(roles);
        if columns.is_empty() {
            continue;
        }
        input.open()?.read_records(|chunk| {
            for record in &chunk.records {
                if record
                    .problem
                    .as_ref()
                    .is_some_and(RecordProblem::is_malformed)
                {
                    continue;
                }
                for &(column, tally) in &columns {
                    if let Some(cell) = record.fields.get(column) {
                        scan.add(tally, cell);
                    }
                }
            }
            !scan.settled(&columns)
        })?;
    }
    Ok(scan.boolean_like())
}

/// The first input that can be read only once: stdin, or a file that is not a regular file (a
/// FIFO, a device, a socket), whose second opening would wait for a writer or read other bytes.
fn readable_once(config: &RunConfig) -> Option<String> {
    config
        .inputs
        .iter()
        .find(|input| !crate::read::reopenable(input))
        .map(InputPath::display)
}

/// Reads the inputs on a thread of its own and hands `handle` the events in input order, a
/// window at a time (as many as are ready, up to twice the worker count), so that rules run in
/// parallel while memory stays bounded by the channel and the window.
fn stream(
    inputs: Vec<Pending>,
    threads: usize,
    mut handle: impl FnMut(Vec<ReadEvent>) -> Result<()>,
) -> Result<()> {
    let window = threads.max(1) * 2;
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel::<ReadEvent>(window);
        let reader = std::thread::Builder::new()
            .name("reader".into())
            .spawn_scoped(scope, move || -> Result<()> {
                for input in inputs {
                    // One input open at a time.
                    let input = input.open()?;
                    // An interrupted run stops reading; the consumer reports it.
                    let digest = input.read_records(|chunk| {
                        !crate::interrupt::requested() && tx.send(ReadEvent::Chunk(chunk)).is_ok()
                    })?;
                    let delivered = match digest {
                        Some(digest) => tx.send(ReadEvent::FileDone(digest)).is_ok(),
                        None => false,
                    };
                    if !delivered {
                        return Ok(()); // the consumer stopped: its error is reported
                    }
                }
                Ok(())
            })
            .map_err(|e| Error::Engine(format!("cannot start the reader thread: {e}")))?;
        let consumed = (|| -> Result<()> {
            while let Ok(first) = rx.recv() {
                crate::interrupt::check()?;
                let mut events = vec![first];
                while events.len() < window {
                    match rx.try_recv() {
                        Ok(event) => events.push(event),
                        Err(_) => break,
                    }
                }
                handle(events)?;
            }
            // The reader also stops when interrupted: the run must not look complete.
            crate::interrupt::check()
        })();
        drop(rx);
        let read = reader
            .join()
            .unwrap_or_else(|_| Err(Error::Invariant("the reader thread panicked".into())));
        read.and(consumed)
    })
}

fn evaluate(
    mut chunk: Chunk,
    layout: &TableLayout,
    engine: &RuleEngine,
    schema: &SchemaChecks,
    file_names: &[String],
    output: &RowOutput,
) -> Result<Evaluated> {
    let mut normalizations = Normalizations {
        blank_lines_skipped: chunk.blank_lines,
        ..Normalizations::default()
    };
    let (batch, row_findings) = values::to_batch_with_problems(
        &chunk,
        layout,
        &file_names[chunk.file],
        &mut normalizations,
    )?;
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
        .map(|r| r.problem.as_ref().is_some_and(RecordProblem::is_malformed))
        .collect();
    let mut findings = engine.evaluate(&batch, &skip)?;
    schema.evaluate(&batch, &skip, &mut findings);
    if let Some(rule) = output.wrong_voucher_type {
        for (found, problem) in findings.iter_mut().zip(row_findings.voucher_type_problems) {
            if let Some(reason) = problem {
                found.push(Finding {
                    error: false,
                    rule,
                    reason,
                });
            }
        }
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
                        reason: format!(
                            "{name} is empty, and its column's values are all true or false: if {name} is a boolean property, Voucherify drops this row silently; pass --metadata-schema (the cell is then written null) or write null"
                        ),
                    });
                }
            }
        }
    }
    if let Some(rule) = schema.nested_rule {
        for (found, problem) in findings.iter_mut().zip(row_findings.json_problems) {
            if let Some(reason) = problem {
                found.push(Finding {
                    error: false,
                    rule,
                    reason,
                });
            }
        }
    }
    // Values written in the form Voucherify takes: amounts given in major units in whole minor
    // units (100.50 -> 10050; a value that does not convert fails invalid_number and is not
    // written), schema metadata in its canonical spelling (booleans and null lowercase, array
    // items without spaces around the commas).
    let mut amounts_converted = vec![0u32; batch.num_rows()];
    let mut metadata_respelled = vec![0u32; batch.num_rows()];
    let converted: Vec<(usize, StringArray)> = output
        .rewrites
        .iter()
        .map(|&(position, how)| {
            let column = batch.column(output.columns[position]).as_string::<i32>();
            let counts = match how {
                Rewrite::Amount { .. } => &mut amounts_converted,
                _ => &mut metadata_respelled,
            };
            let written: StringArray = (0..column.len())
                .map(|i| {
                    column.is_valid(i).then(|| {
                        let value = column.value(i);
                        match how.apply(value) {
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
        if record
            .problem
            .as_ref()
            .is_some_and(RecordProblem::is_malformed)
        {
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
        dropped_cells,
        code_hashes,
    })
}

/// A value written in another form than read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rewrite {
    /// An amount read in `from` units, written in `to` units: whole minor units (the
    /// default), or major units with two decimals (`--batch-amount-unit major`).
    Amount { from: AmountUnit, to: AmountUnit },
    /// A typed metadata value: `null` (any case) written lowercase, and for a boolean property
    /// `true`/`false` too.
    Lowercase { boolean: bool },
    /// An array metadata value: its items without spaces around the commas (each item as
    /// [`Rewrite::Lowercase`] for a boolean array).
    ArrayItems { boolean: bool },
}

impl Rewrite {
    /// The value as written, when it differs from `value`.
    fn apply(self, value: &str) -> Option<String> {
        let canonical = |item: &str, boolean: bool| -> String {
            let keyword = item.eq_ignore_ascii_case("null")
                || (boolean
                    && (item.eq_ignore_ascii_case("true") || item.eq_ignore_ascii_case("false")));
            if keyword {
                item.to_ascii_lowercase()
            } else {
                item.to_owned()
            }
        };
        let written = match self {
            Rewrite::Amount { from, to } => {
                let minor = parse_amount(value, from)?;
                match to {
                    AmountUnit::Minor => minor.to_string(),
                    AmountUnit::Major => format!(
                        "{}{}.{:02}",
                        if minor < 0 { "-" } else { "" },
                        minor.unsigned_abs() / 100,
                        minor.unsigned_abs() % 100
                    ),
                }
            }
            Rewrite::Lowercase { boolean } => canonical(value, boolean),
            Rewrite::ArrayItems { boolean } => value
                .split(',')
                .map(|item| canonical(item.trim(), boolean))
                .collect::<Vec<_>>()
                .join(","),
        };
        (written != value).then_some(written)
    }
}

/// Writes `updates.csv`: `batch,batch_row,code` per update.
fn write_updates(path: &Path, updates: &[(u32, u64, String)]) -> Result<()> {
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut out = csv::Writer::from_writer(std::io::BufWriter::new(file));
    let io = |e: csv::Error| Error::Invariant(format!("writing {}: {e}", path.display()));
    out.write_record(["batch", "batch_row", "code"])
        .map_err(io)?;
    for (batch, row, code) in updates {
        out.write_record([batch.to_string(), row.to_string(), code.clone()])
            .map_err(io)?;
    }
    out.flush().map_err(|e| Error::io(path, e))?;
    Ok(())
}

/// Writes `origins.csv`: `batch,batch_row,count,file,row` per run of consecutive rows.
fn write_origins(path: &Path, origins: &[OriginRun], file_names: &[String]) -> Result<()> {
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut out = csv::Writer::from_writer(std::io::BufWriter::new(file));
    let io = |e: csv::Error| Error::Invariant(format!("writing {}: {e}", path.display()));
    out.write_record(["batch", "batch_row", "count", "file", "row"])
        .map_err(io)?;
    for run in origins {
        out.write_record([
            run.batch.to_string().as_str(),
            &run.batch_row.to_string(),
            &run.count.to_string(),
            &file_names[run.file as usize],
            &run.row.to_string(),
        ])
        .map_err(io)?;
    }
    out.flush().map_err(|e| Error::io(path, e))
}

/// How many rows ahead the finisher prefetches dedup table slots.
const PREFETCH_ROWS: usize = 8;

/// The sequential end of the pipeline: dedup, limits and writing, in input order.
struct Finisher<'a> {
    rules: &'a RuleSet,
    progress: &'a dyn Progress,
    /// Stored bytes of the files read to the end.
    bytes_of_done_files: u64,
    /// Findings of the set rules, by (file name, row), taken as the rows go by.
    /// Set-rule findings by (input index, row).
    set_findings: HashMap<(usize, i64), Vec<Finding>>,
    warnings: RejectedWriter,
    warned_rows: u64,
    warnings_by_rule: Vec<u64>,
    engine_rules: EngineRules,
    layout: &'a TableLayout,
    groups: &'a ColumnGroups,
    file_names: &'a [String],
    existing_names: Vec<String>,
    /// Each input's own header names, to name a column as its file spells it.
    file_headers: Vec<Vec<String>>,
    max_record_bytes: usize,
    dedup: Dedup,
    batches: BatchWriter,
    rejected: RejectedWriter,
    failures_by_rule: Vec<u64>,
    /// Rows on which each rule could not be evaluated (rejected or warned under it).
    errors_by_rule: Vec<u64>,
    /// `--existing-codes update`: a code in --existing is imported as an update.
    updates_existing: bool,
    /// The batch columns (position, name) whose values an update ignores: all but Code,
    /// Active, Category and the position columns.
    update_ignored_columns: Vec<(usize, String)>,
    /// Accepted rows that update a code already in the project.
    updates: u64,
    /// Where each update went: (batch, batch row, code), for `upload --verify`.
    update_rows: Vec<(u32, u64, String)>,
    /// Dropped columns (by name, in the order met) with the cells that held a value.
    dropped_cells: Vec<(String, u64)>,
    accepted: u64,
    rejected_rows: u64,
    /// Accepted values that start like a spreadsheet formula.
    formula_like_values: u64,
    normalizations: Normalizations,
    digests: Vec<FileDigest>,
}

impl Finisher<'_> {
    fn finish_chunk(&mut self, evaluated: Evaluated) -> Result<()> {
        let Evaluated {
            chunk,
            batch,
            mut findings,
            normalizations,
            encoded: rows_encoded,
            amounts_converted,
            metadata_respelled,
            dropped_cells,
            code_hashes,
        } = evaluated;
        for (count, (_, name)) in dropped_cells
            .iter()
            .zip(&self.layout.files[chunk.file].dropped)
        {
            if *count > 0 {
                match self.dropped_cells.iter_mut().find(|(n, _)| n == name) {
                    Some((_, total)) => *total += count,
                    None => self.dropped_cells.push((name.clone(), *count)),
                }
            }
        }
        self.normalizations.add(&normalizations);
        let stored_bytes_read = chunk.stored_bytes_read;
        let file_layout = &self.layout.files[chunk.file];
        let codes = batch.column(KnownColumn::Code.index()).as_string::<i32>();
        if let Some(rows) = chunk.estimated_file_rows {
            // Sized once per file: the table does not grow (re-hash, copy) while rows go by.
            let bytes_per_code = codes.values().len() / codes.len().max(1) + 1;
            let more = rows.saturating_sub(chunk.records.len() as u64) as usize;
            self.dedup.reserve(more, bytes_per_code);
        }
        let file_no = chunk.file as u32;
        let file_name = &self.file_names[chunk.file];
        for (i, record) in chunk.records.iter().enumerate() {
            // The table probe of a row a few ahead is fetched while this one is finished.
            if let Some(&hash) = code_hashes.get(i + PREFETCH_ROWS) {
                self.dedup.prefetch(hash);
            }
            let mut found = std::mem::take(&mut findings[i]);
            let code = codes.is_valid(i).then(|| codes.value(i));
            let rules = &self.engine_rules;
            match &record.problem {
                Some(problem @ RecordProblem::RepeatedHeader) => {
                    found = vec![Finding {
                        error: false,
                        rule: rules.repeated_header,
                        reason: problem.malformed_reason(self.max_record_bytes),
                    }];
                }
                Some(problem) if problem.is_malformed() => {
                    found = vec![Finding {
                        error: false,
                        rule: rules.malformed_record,
                        reason: problem.malformed_reason(self.max_record_bytes),
                    }];
                }
                Some(RecordProblem::InvalidEncoding { columns }) => {
                    let named: Vec<String> = columns
                        .iter()
                        .map(|&c| self.file_headers[chunk.file][c].clone())
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
                        .map(|(c, why)| format!("{} ({why})", self.file_headers[chunk.file][*c]))
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
            // Only a set rule that found something costs a lookup per row.
            if !self.set_findings.is_empty() {
                if let Some(set) = self.set_findings.remove(&(chunk.file, record.row as i64)) {
                    found.extend(set);
                }
            }
            let mut is_update = false;
            if let Some(code) = code {
                let clash = match self.dedup.clash_hashed(code, code_hashes[i]) {
                    Some(CodeClash::Existing { .. }) if self.updates_existing => {
                        is_update = true;
                        rules.update_ignores_fields.and_then(|rule| {
                            let ignored: Vec<&str> = self
                                .update_ignored_columns
                                .iter()
                                .filter(|(c, _)| batch.column(*c).is_valid(i))
                                .map(|(_, name)| name.as_str())
                                .collect();
                            (!ignored.is_empty()).then(|| {
                                (
                                    rule,
                                    format!(
                                        "{code} is in the project: Voucherify updates only Active and Category, and ignores {}",
                                        ignored.join(", ")
                                    ),
                                )
                            })
                        })
                    }
                    Some(CodeClash::Existing { file }) => rules.existing_code.map(|rule| {
                        let listed = &self.existing_names[file as usize];
                        (
                            rule,
                            format!("Code '{code}' is already in the project (listed in {listed})"),
                        )
                    }),
                    Some(CodeClash::Duplicate { file, row }) => rules.duplicate_code.map(|rule| {
                        let name = &self.file_names[file as usize];
                        (rule, format!("Code '{code}' repeats row {row} of {name}"))
                    }),
                    None => rules.case_variant_code.and_then(|rule| {
                        let variant = self.dedup.case_variant(code)?;
                        let (other, whence) = match variant {
                            CaseVariant::Existing { code, file } => (
                                code,
                                format!("in the project, listed in {}", self.existing_names[file as usize]),
                            ),
                            CaseVariant::Accepted { code, file, row } => (
                                code,
                                format!("row {row} of {}", self.file_names[file as usize]),
                            ),
                        };
                        Some((
                            rule,
                            format!(
                                "Code '{code}' differs only in letter case from '{other}' ({whence}): in a project created with case-insensitive codes this row fails; pass --case-insensitive-codes if yours is"
                            ),
                        ))
                    }),
                };
                if let Some((rule, reason)) = clash {
                    found.push(Finding {
                        error: false,
                        rule,
                        reason,
                    });
                }
            }
            // A rule that could not be evaluated on the row is counted whatever becomes of the
            // row (a warning on a rejected row is not listed, its error still is counted).
            let mut last_error_rule = None;
            for finding in found.iter().filter(|f| f.error) {
                if last_error_rule != Some(finding.rule) {
                    self.errors_by_rule[finding.rule] += 1;
                    last_error_rule = Some(finding.rule);
                }
            }
            let rejects = |found: &[Finding], all: &RuleSet| {
                found
                    .iter()
                    .any(|f| all.rules[f.rule].text.severity == Severity::Reject)
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
                            let (batch_no, batch_row) =
                                self.batches.write(group, encoded, file_no, record.row)?;
                            if is_update {
                                self.update_rows.push((
                                    batch_no,
                                    batch_row,
                                    code.unwrap_or_default().to_owned(),
                                ));
                            }
                            self.normalizations.boolean_nulls_written +=
                                u64::from(rows_encoded.nulls(i));
                            self.normalizations.amounts_converted +=
                                u64::from(amounts_converted[i]);
                            self.updates += u64::from(is_update);
                            self.normalizations.metadata_values_respelled +=
                                u64::from(metadata_respelled[i]);
                            self.formula_like_values += u64::from(rows_encoded.formulas(i));
                            self.accepted += 1;
                            if !found.is_empty() {
                                let (names, reasons) = self.describe(found, &mut true);
                                self.warnings.write(
                                    file_name,
                                    record,
                                    &file_layout.original_columns,
                                    file_layout.undo_formula_quotes,
                                    names,
                                    reasons,
                                )?;
                                self.warned_rows += 1;
                            }
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
            // Rejected: only the rules that reject are listed (warnings are moot for a row that
            // does not go in).
            found.retain(|f| self.rules.rules[f.rule].text.severity == Severity::Reject);
            let (names, reasons) = self.describe(found, &mut false);
            self.rejected.write(
                file_name,
                record,
                &file_layout.original_columns,
                file_layout.undo_formula_quotes,
                names,
                reasons,
            )?;
            self.rejected_rows += 1;
        }
        self.progress.update(ProgressUpdate {
            bytes_read: self.bytes_of_done_files + stored_bytes_read,
            rows: self.accepted + self.rejected_rows,
            rejected: self.rejected_rows,
        });
        Ok(())
    }

    /// Sorts findings into rule order, counts them (as warnings when `warning`), and gives the
    /// rule names and the joined reasons.
    fn describe(&mut self, mut found: Vec<Finding>, warning: &mut bool) -> (Vec<String>, String) {
        // Stable: a rule that failed on several columns keeps their order.
        found.sort_by_key(|f| f.rule);
        let mut names: Vec<String> = Vec::with_capacity(found.len());
        let mut reasons = Vec::with_capacity(found.len());
        let mut last_rule = None;
        for finding in found {
            let rule = &self.rules.rules[finding.rule];
            // A rule is listed and counted once per row, with every reason it gave.
            if last_rule != Some(finding.rule) {
                if *warning {
                    self.warnings_by_rule[finding.rule] += 1;
                } else {
                    self.failures_by_rule[finding.rule] += 1;
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

/// A `--rename` or `--drop` that names no column of any input is a typo: say so.
fn check_renames_and_drops(config: &RunConfig, headers: &[Vec<String>]) -> Result<()> {
    let names: Vec<&str> = headers
        .iter()
        .flat_map(|names| names.iter().map(String::as_str))
        .collect();
    let renamed: Vec<&str> = names.iter().map(|n| config.headers.renamed(n)).collect();
    let unknown = |wanted: &str, pool: &[&str], option: &str| -> Result<()> {
        if pool.contains(&wanted) {
            return Ok(());
        }
        let mut message = format!("{option} {wanted}: no input has a column '{wanted}'");
        if let Some(near) = crate::suggest::closest(wanted, pool.iter().copied()) {
            message.push_str(&format!(": did you mean '{near}'?"));
        }
        Err(Error::usage(
            message,
            format!("the columns are: {}", names.join(", ")),
        ))
    };
    // `#N` names a column by its position in each input.
    let widest = headers.iter().map(Vec::len).max().unwrap_or(0);
    let position = |reference: &str, option: &str| -> Option<Result<()>> {
        let n = headers::position_ref(reference)?;
        Some(if (1..=widest).contains(&n) {
            Ok(())
        } else {
            Err(Error::usage(
                format!(
                    "{option} {reference}: no input has a column {n} (the widest has {widest})"
                ),
                "name a column by its name, or by its position from #1",
            ))
        })
    };
    for (old, _) in &config.headers.renames {
        match position(old, "--rename") {
            Some(checked) => checked?,
            None => unknown(old.trim(), &names, "--rename")?,
        }
    }
    let both: Vec<&str> = names.iter().chain(&renamed).copied().collect();
    for drop in &config.headers.drops {
        match position(drop, "--drop") {
            Some(checked) => checked?,
            None => unknown(drop.trim(), &both, "--drop")?,
        }
    }
    Ok(())
}

/// Each input's header names with the role of every column.
type FileHeaders = Vec<(Vec<String>, Vec<ColumnRole>)>;

/// The inputs opened for their headers.
struct Opened {
    inputs: Vec<Pending>,
    headers: FileHeaders,
    /// What opening them noticed.
    notes: Vec<String>,
    /// Lines skipped before the headers (`--skip-lines`).
    lines_skipped: u64,
}

/// Opens every input and classifies its header (after checking `--rename` and `--drop`
/// against all the headers).
fn open_all(config: &RunConfig) -> Result<Opened> {
    // Each input is opened for its header and, unless it can be opened only once, closed
    // again until its turn: thousands of files never hold thousands of descriptors.
    let mut inputs = Vec::with_capacity(config.inputs.len());
    let mut names: Vec<Vec<String>> = Vec::with_capacity(config.inputs.len());
    let mut file_notes: Vec<Vec<String>> = Vec::with_capacity(config.inputs.len());
    let mut lines_skipped = 0;
    for (index, source) in config.inputs.iter().enumerate() {
        let input = Input::open(index, source, &config.read, config.format)?;
        names.push(input.header().to_vec());
        file_notes.push(input.notes().to_vec());
        lines_skipped += input.lines_skipped();
        inputs.push(Pending::after_header(
            input,
            source,
            &config.read,
            config.format,
        ));
    }
    check_renames_and_drops(config, &names)?;
    // Every problem of every header is said at once, each with its fix.
    let mut problems: Vec<(std::path::PathBuf, headers::HeaderProblem)> = Vec::new();
    let mut file_headers = Vec::with_capacity(inputs.len());
    for ((source, names), notes) in config.inputs.iter().zip(names).zip(&file_notes) {
        let campaign_type = config.campaign.campaign_type;
        // As the user's --rename and --drop leave it: dropping Voucher Type or mapping Value
        // makes it a campaign import.
        let as_imported: Vec<String> = names
            .iter()
            .enumerate()
            .filter(|(position, n)| {
                let renamed = config.headers.renamed_at(*position, n.trim());
                !config.headers.dropped_at(*position, n.trim(), renamed)
            })
            .map(|(position, n)| config.headers.renamed_at(position, n.trim()).to_owned())
            .collect();
        if !config.from_export && export::is_standalone_template(&as_imported) {
            problems.push((
                source.path(),
                headers::HeaderProblem {
                    message: "the header is Voucherify's standalone import template (Voucher Type, Value): a file for POST /v1/vouchers/importCSV, not a campaign import".into(),
                    fix: "import it with Voucherify's standalone import, or, to import its codes into a campaign, --drop 'Voucher Type' and map Value with --rename (e.g. --rename 'Value=Gift Amount')".into(),
                    option: None,
                },
            ));
            continue;
        }
        let mut options = if config.from_export || export::is_export(&names) {
            export::header_options(&names, &config.headers, campaign_type)
        } else {
            config.headers.clone()
        };
        if ends_with_delimiter(&names, &options) {
            // A delimiter at the end of every line makes an unnamed last column: left out.
            options.drops.push(format!("#{}", names.len()));
        }
        match headers::classify_all(&names, campaign_type, &options) {
            Ok(roles) => file_headers.push((names, roles)),
            Err(found) => {
                // Split on the wrong delimiter, or below a title line, the "header"'s problems
                // are moot.
                let delimiter_hint = notes.first().map(|note| headers::HeaderProblem {
                    message: note
                        .strip_prefix(&format!("{}: ", source.display()))
                        .unwrap_or(note)
                        .to_owned(),
                    fix: "pass the delimiter the lines use (--delimiter), or leave it out to have it sniffed".into(),
                    option: None,
                });
                match delimiter_hint.or_else(|| preamble_hint(config, source, &names, &found)) {
                    Some(hint) => problems.push((source.path(), hint)),
                    None => problems.extend(found.into_iter().map(|p| (source.path(), p))),
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(Error::header_problems(problems));
    }
    Ok(Opened {
        inputs,
        headers: file_headers,
        notes: file_notes.concat(),
        lines_skipped,
    })
}

/// Whether a header's last name is empty (a delimiter at the end of the line) and no option
/// names that column: it is then left out (`trailing_delimiter_columns`), not refused.
fn ends_with_delimiter(names: &[String], options: &headers::HeaderOptions) -> bool {
    let last = names.len();
    last > 1
        && names[last - 1].trim().is_empty()
        && !options
            .renames
            .iter()
            .any(|(old, _)| headers::position_ref(old) == Some(last))
}

/// When a header has no Code column, a later line may be the real header (a title or a
/// preamble above it): the first of the next lines (up to 10) that has a Code column is
/// named, with the `--skip-lines` that reads it.
fn preamble_hint(
    config: &RunConfig,
    source: &InputPath,
    names: &[String],
    found: &[headers::HeaderProblem],
) -> Option<headers::HeaderProblem> {
    let has_code = |names: &[String]| {
        names
            .iter()
            .any(|n| KnownColumn::from_header(n.trim()) == Some(KnownColumn::Code))
    };
    if has_code(names)
        || !found
            .iter()
            .any(|p| p.message.contains("no Code column") || names.len() == 1)
    {
        return None;
    }
    if !matches!(source, InputPath::File(_)) || config.format == Some(crate::read::Format::Parquet)
    {
        return None;
    }
    let skipped = config.read.split.skip_lines;
    for more in 1..=10u64 {
        let mut read = config.read;
        read.split.skip_lines = skipped + more;
        let Ok(input) = Input::open(0, source, &read, config.format) else {
            continue;
        };
        if has_code(input.header()) {
            let skip = skipped + more;
            return Some(headers::HeaderProblem {
                message: format!(
                    "the header seems to be line {} ({}), below {}",
                    skip + 1,
                    input.header().join(","),
                    if skip == 1 {
                        "a title line".to_owned()
                    } else {
                        format!("{skip} lines of preamble")
                    }
                ),
                fix: format!("skip the lines above it: --skip-lines {skip}"),
                option: Some(format!("--skip-lines {skip}")),
            });
        }
    }
    None
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

/// The metadata schema's checks for this run's columns.
#[derive(Default)]
struct SchemaChecks {
    /// (rule-table column, property) for every metadata column the schema defines.
    columns: Vec<(usize, Property)>,
    type_rule: Option<usize>,
    required_rule: Option<usize>,
    constraint_rule: Option<usize>,
    /// The rule an export's unusable JSON metadata fails (set with or without a schema).
    nested_rule: Option<usize>,
    /// What matching the schema to the columns found (a required property without a column).
    notes: Vec<String>,
}

impl SchemaChecks {
    /// Matches the schema to the layout; the file-level problems stop the run here.
    fn new(
        schema: &MetadataSchema,
        layout: &TableLayout,
        rules: &RuleSet,
        inputs: &[InputPath],
    ) -> Result<Self> {
        let first_input = inputs.first().map(InputPath::path).unwrap_or_default();
        let mut notes = Vec::new();
        for property in &schema.properties {
            let present = layout.metadata.contains(&property.name);
            if present && matches!(property.kind, PropertyType::Object | PropertyType::Geopoint) {
                return Err(Error::input(
                    &first_input,
                    format!(
                        "metadata column '{}' is of type {:?} in the metadata schema, which a CSV import cannot carry",
                        property.name, property.kind
                    ),
                    format!("--drop {} and set it through the API", property.name),
                ));
            }
            if !present && !property.optional {
                // Codes imported without the column inherit the campaign's metadata, which
                // may hold it: whether Voucherify then fails the row is unconfirmed.
                notes.push(format!(
                    "the metadata schema requires '{}', and no input has that column: the codes inherit the campaign's value of it, if the campaign has one (if not, Voucherify may fail every row)",
                    property.name
                ));
            }
        }
        if schema.allow_defined_only {
            let undefined: Vec<&str> = layout
                .metadata
                .iter()
                .filter(|m| schema.property(m).is_none())
                .map(String::as_str)
                .collect();
            if !undefined.is_empty() {
                return Err(Error::input(
                    &first_input,
                    format!(
                        "the metadata schema allows defined properties only, and these columns are not defined: {}",
                        undefined.join(", ")
                    ),
                    format!(
                        "leave them out with {}",
                        undefined.iter().map(|u| format!("--drop {u}")).collect::<Vec<_>>().join(" ")
                    ),
                ));
            }
        }
        let columns = layout
            .metadata
            .iter()
            .enumerate()
            .filter_map(|(i, name)| {
                schema
                    .property(name)
                    .map(|p| (KnownColumn::ALL.len() + i, p.clone()))
            })
            .collect();
        Ok(SchemaChecks {
            columns,
            type_rule: rules.find(names::METADATA_TYPE),
            required_rule: rules.find(names::METADATA_REQUIRED),
            constraint_rule: rules.find(names::METADATA_CONSTRAINT),
            nested_rule: rules.find(names::METADATA_NESTED),
            notes,
        })
    }

    /// How a metadata column's values are written: in the schema's canonical spelling.
    fn rewrite(&self, column_name: &str) -> Option<Rewrite> {
        let (_, property) = self.columns.iter().find(|(_, p)| p.name == column_name)?;
        let boolean = property.kind == PropertyType::Boolean;
        match (property.array, property.kind) {
            (true, _) => Some(Rewrite::ArrayItems { boolean }),
            (false, PropertyType::String) => None,
            (false, _) => Some(Rewrite::Lowercase { boolean }),
        }
    }

    fn is_boolean(&self, column_name: &str) -> bool {
        self.columns
            .iter()
            .any(|(_, p)| p.name == column_name && p.kind == PropertyType::Boolean && !p.array)
    }

    /// Adds the schema findings of every row of a batch.
    fn evaluate(&self, batch: &RecordBatch, skip: &[bool], findings: &mut [Vec<Finding>]) {
        for (column, property) in &self.columns {
            let values = batch.column(*column).as_string::<i32>();
            for (row, found) in findings.iter_mut().enumerate() {
                if skip[row] {
                    continue;
                }
                let value = values.is_valid(row).then(|| values.value(row));
                let (rule, reason) = match property.check(value) {
                    None => continue,
                    Some(Violation::Type(r)) => (self.type_rule, r),
                    Some(Violation::Required(r)) => (self.required_rule, r),
                    Some(Violation::Constraint(r)) => (self.constraint_rule, r),
                };
                if let Some(rule) = rule {
                    found.push(Finding {
                        error: false,
                        rule,
                        reason,
                    });
                }
            }
        }
    }
}

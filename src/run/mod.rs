//! One run, its phases one file each: open the inputs for their headers and build the layout
//! (`open`), load existing codes, compile the rules and match the metadata schema,
//! then stream every file (`stream`) through read -> normalize -> rules (`evaluate`, in
//! parallel, chunk by chunk) -> dedup -> write (`finish`, in input order), and close with the
//! conservation check and the folder's files (written through `crate::folder`).
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
use crate::dedup::{self, existing, CodeClash, CodeHasher, Dedup, FileNames};
use crate::error::{Error, Result};
use crate::folder;
use crate::formats::AmountUnit;
use crate::formats::Rewrite;
use crate::normalize::boolean_like::BooleanLikeScan;
use crate::normalize::headers::{self, ColumnRole, KnownColumn};
use crate::normalize::{export, json_metadata, values, ColumnGroups, Normalizations, TableLayout};
use crate::read::{Chunk, FileDigest, Input, InputPath, Pending, RecordProblem};
use crate::report::{CheckReport, ExistingInfo, InputInfo, RuleCounts, RuleExamples, Summary};
use crate::rules::engine::{Finding, RuleEngine};
use crate::rules::format::Severity;
use crate::rules::schema_checks::SchemaChecks;
use crate::rules::{names, RuleSet};
use crate::sink::Sink;
use crate::write::batches::BatchWriter;
use crate::write::record::EncodedRows;
use crate::write::rejected::{RejectedEntry, RejectedWriter};
use crate::write::StagedOutput;

mod evaluate;
mod finish;
mod open;
mod sources;
mod stream;

use evaluate::*;
use finish::*;
use open::*;
pub(crate) use sources::Sources;
use stream::*;

/// What a run produced: its summary, and for `check` the rejected rows.
#[derive(Debug)]
pub struct RunOutcome {
    pub summary: Summary,
    pub rejected_rows: Vec<RejectedEntry>,
}

impl RunOutcome {
    pub fn into_check_report(self) -> CheckReport {
        CheckReport {
            summary: self.summary,
            rejected_rows: self.rejected_rows,
        }
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
    run_sources(config, Sources::Paths(&config.inputs), progress, None)
}

/// A run over `sources` (the configuration's inputs are not read).
pub(crate) fn run_sources(
    config: &RunConfig,
    sources: Sources,
    progress: &dyn Progress,
    mut sink: Option<&mut dyn Sink>,
) -> Result<RunOutcome> {
    let sink_takes_rows = sink.as_ref().is_some_and(|s| s.takes_rows());
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
    } = open_all(config, sources)?;
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
        if let Some(once) = sources.readable_once() {
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
        inputs = open_all(config, sources)?.inputs;
        // A key becomes a column name: it must be one Voucherify takes, and no other column's.
        for key in &keys {
            let reserved = headers::POSITION_COLUMNS.contains(&key.as_str());
            if key.chars().any(char::is_whitespace) || key.is_empty() || reserved {
                return Err(Error::input(
                    sources.path(0),
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
            let boolean_like = match sources.readable_once() {
                Some(once) => {
                    scan_notes.push(format!(
                        "rule empty_in_boolean_column is not checked: it needs a first pass over the metadata columns, and {once} can be read once"
                    ));
                    Vec::new()
                }
                None => {
                    let found = scan_boolean_like(inputs, &file_headers)?;
                    inputs = open_all(config, sources)?.inputs;
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
        let file_name = sources.display(index);
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
        Some(schema) => SchemaChecks::new(schema, &layout, &config.rules, &sources.path(0))?,
        None => SchemaChecks {
            nested_rule: config.rules.find(names::METADATA_NESTED),
            ..SchemaChecks::default()
        },
    };
    let file_names: Vec<String> = sources.names();

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

    let (existing_info, mut existing_codes) =
        load_existing(config, &mut dedup, engine.has_set_rules())?;

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.threads)
        .thread_name(|i| format!("worker-{i}"))
        .build()
        .map_err(|e| Error::Thread {
            what: format!("{} worker threads", config.threads),
            source: std::io::Error::other(e),
        })?;

    // Set rules see every row at once: a first pass keeps the columns they read, they run,
    // and the inputs are opened again for the pass that writes.
    let set_findings = if engine.has_set_rules() {
        if let Some(once) = sources.readable_once() {
            return Err(Error::usage(
                format!("set rules read the input twice: they need to read {once} twice, and it can be read once"),
                format!("save {once} to a file first and name the file, or --disable-rule the set rules"),
            ));
        }
        let columns = engine.set_columns(&layout.schema);
        let collected = std::sync::Mutex::new(Vec::new());
        stream(inputs, config.threads, &config.cancel, |events| {
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
                            .filter(|&i| chunk.records[i].is_malformed())
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
        inputs = open_all(config, sources)?.inputs;
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
        staged.is_none() && sink.is_none(),
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
        import_schemas: sink_takes_rows.then(|| {
            group_headers
                .iter()
                .map(|columns| crate::write::arrow::import_schema(columns))
                .collect()
        }),
    };
    let mut finisher = Finisher::new(
        &config.rules,
        &layout,
        &column_groups,
        &file_names,
        file_headers
            .iter()
            .map(|(names, _)| names.clone())
            .collect(),
        dedup,
        existing_info.iter().map(|e| e.path.clone()).collect(),
        Outlets {
            batches,
            rejected,
            warnings,
            rows_out: sink
                .take()
                .filter(|s| s.takes_rows())
                .map(|sink| RowsOut::new(sink, &layout.original_headers)),
        },
    )?;
    finisher.progress = progress;
    finisher.set_findings = set_findings;
    finisher.max_record_bytes = config.read.split.max_record_bytes;
    finisher.updates_existing = config.options.existing_codes == ExistingCodes::Update;
    finisher.tally.normalizations = normalizations;

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
                        Prepared::FileDone(digest) => finisher.file_done(digest),
                    }
                }
                Ok(finisher)
            })
            .map_err(Error::thread("finisher thread"))?;
        let streamed = stream(inputs, config.threads, &config.cancel, |events| {
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
        tally:
            Tally {
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
            },
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
        first_rejected_by_rule: RuleExamples::first_of(&config.rules, &rejected_rows_kept.examples),
        formula_like_values,
        rejected_by_rule: RuleCounts::of(&config.rules, &failures_by_rule),
        rule_errors: RuleCounts::nonzero(&config.rules, &errors_by_rule),
        updates,
        warnings: warned_rows,
        warnings_by_rule: RuleCounts::of_warnings(&config.rules, &warnings_by_rule),
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
                    sources.display(index)
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
        column_groups: crate::report::ColumnGroup::list(
            &column_groups,
            &group_headers,
            &file_names,
            &batches,
        ),
        batches,
        elapsed_ms: started.elapsed().as_millis() as u64,
    };
    config.cancel.check()?;
    if let Some(staged) = staged {
        let path = staged.path().join(folder::SUMMARY_FILE);
        let mut text = Vec::new();
        crate::report::write_json(&mut text, &summary).map_err(|e| Error::io(&path, e))?;
        std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
        let path = staged.path().join(folder::ORIGINS_FILE);
        folder::origins::write(&path, &origins, &file_names)?;
        if !update_rows.is_empty() {
            folder::updates::write(staged.path(), &update_rows)?;
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
    })
}

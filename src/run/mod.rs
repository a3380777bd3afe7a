//! One run, its phases one file each, wired here in order:
//! - `sources`: where rows come from (named files and stdin, or Arrow sources);
//! - `plan` (with `open`): the inputs opened for their headers, the first passes over whole
//!   columns, the rule-table layout and the metadata schema matched to it;
//! - the existing codes loaded (`open::load_existing`) and the rules compiled;
//! - `set_pass`: the set rules over every row, when there are any;
//! - `stream`: every input read in order, each chunk normalized and judged by the row rules
//!   in parallel (`evaluate`), and each row's verdict given in input order (`finish`: dedup,
//!   limits, severities), the accepted rows placed in the batch plan, and each chunk of judged
//!   rows handed to the sink;
//! - the conservation check, the summary, and the sink's finish (a folder sink writes the
//!   folder's remaining files and puts it in place).
//!
//! ```text
//!  reader thread ──chunks──▶ rayon pool: normalize + SQL rules ──in order──▶ judge ─▶ batch plan
//!                                                                               └──▶ sink
//! ```

use std::collections::HashMap;
use std::time::Instant;

use crate::config::RunConfig;
use crate::dedup::Dedup;
use crate::error::{Error, Result};
use crate::folder::options::ExistingCodes;
use crate::folder::summary::Summary;
use crate::judge::{Judge, JudgeParts};
use crate::read::InputPath;
use crate::rules::engine::RuleEngine;
use crate::sink::{ArrowRowsBuilder, RunStart, Sink};
use crate::write::batches::BatchPlan;

mod evaluate;
mod finish;
mod open;
mod plan;
mod pre_read;
mod set_pass;
mod sources;
mod stream;
mod summarize;

use evaluate::{evaluate, RowOutput};
use finish::Finisher;
use open::{load_existing, open_all, Existing};
use plan::{plan, Plan};
use set_pass::{set_rule_pass, SetPass};
pub(crate) use sources::Sources;
use stream::judge_all;
use summarize::{Counted, Notes};

/// Where a run is, for a progress display.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProgressUpdate {
    /// Stored bytes of the inputs read so far (compressed bytes for compressed files; 0 for
    /// Parquet, whose rows are counted instead).
    pub bytes_read: u64,
    /// Rows finished (accepted or rejected).
    pub rows: u64,
    /// Rows rejected so far.
    pub rejected: u64,
}

/// Receives [`ProgressUpdate`]s while a run streams, after every chunk of rows. The library
/// never draws anything itself.
pub trait Progress: Sync {
    /// Called after every chunk of rows, from the run's in-order thread.
    fn update(&self, update: ProgressUpdate);
}

/// No progress display.
pub struct NoProgress;

impl Progress for NoProgress {
    fn update(&self, _: ProgressUpdate) {}
}

/// The stored size of all inputs, when every input is a file whose size is known.
pub(crate) fn input_bytes(config: &RunConfig) -> Option<u64> {
    config
        .inputs
        .iter()
        .map(|input| match input {
            InputPath::File(path) => std::fs::metadata(path).ok().map(|m| m.len()),
            InputPath::Stdin => None,
        })
        .sum()
}

/// A run over `sources` (the configuration's inputs are not read), telling `progress` where it
/// is and handing the judged rows to `sink`.
pub(crate) fn run_sources(
    config: &RunConfig,
    sources: Sources,
    progress: &dyn Progress,
    sink: &mut dyn Sink,
) -> Result<Summary> {
    let wants = sink.wants();
    let started = Instant::now();
    let file_names = sources.names();
    // Before anything is read: the sink refuses what it cannot do (a folder that would
    // destroy an input).
    let sink_notes = sink.begin(&RunStart {
        reads: &config.reads,
        reads_stdin: matches!(sources, Sources::Paths(paths) if paths.contains(&InputPath::Stdin)),
        file_names: file_names.as_slice(),
        rules: &config.rules,
        project: config.project.as_ref(),
    })?;

    // Headers first: every file-level problem is found before anything is written.
    let Plan {
        mut inputs,
        file_headers,
        layout,
        schema_checks,
        empty_in_boolean,
        normalizations,
        dropped_columns,
        notes: plan_notes,
    } = plan(config, sources)?;
    let column_groups = layout.column_groups();
    log::info!(
        "planned: {} inputs, {} metadata columns, {} column groups ({:.2?})",
        sources.len(),
        layout.metadata.len(),
        column_groups.columns.len(),
        started.elapsed()
    );

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

    log::info!(
        "compiled {} rules: {} row rules, {} set rules ({:.2?})",
        config.rules.rules.len(),
        engine.row_rules(),
        engine.set_rules(),
        started.elapsed()
    );
    let Existing {
        info: existing_info,
        kept: mut existing_codes,
        export: existing_export,
        notes: existing_notes,
    } = load_existing(config, &mut dedup, engine.has_set_rules(), sink)?;
    if !existing_info.is_empty() {
        log::info!(
            "loaded {} existing codes ({:.2?})",
            existing_info.iter().map(|e| e.codes).sum::<u64>(),
            started.elapsed()
        );
    }

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
        let found = set_rule_pass(
            config,
            sources,
            inputs,
            SetPass {
                layout: &layout,
                engine: &engine,
                file_names: &file_names,
                pool: &pool,
            },
            std::mem::take(&mut existing_codes),
        )?;
        inputs = open_all(config, sources)?.inputs;
        log::info!(
            "set rules found {} rows ({:.2?})",
            found.len(),
            started.elapsed()
        );
        found
    } else {
        HashMap::new()
    };

    let output_columns = layout.output_columns();
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
    let row_output = RowOutput::new(
        config,
        &output_columns,
        &schema_checks,
        column_groups.clone(),
        &group_headers,
        dedup.hasher(),
        empty_in_boolean,
        wants.arrow,
    );
    let plan = BatchPlan::new(
        &group_headers,
        options.max_file_bytes,
        Some(options.batch_rows),
        options.canary_for(&group_headers),
    )?;
    let judge = Judge::new(JudgeParts {
        rules: &config.rules,
        layout: &layout,
        file_names: &file_names,
        file_headers: &file_headers,
        dedup,
        existing_names: existing_info.iter().map(|e| e.path.clone()).collect(),
        set_findings,
        max_record_bytes: config.read.split.max_record_bytes,
        updates_existing: config.options.existing_codes == ExistingCodes::Update,
        batch_headers: plan.header_bytes(),
        max_file_bytes: plan.max_bytes(),
    })?;
    let finisher = Finisher::new(
        &config.rules,
        &layout,
        &column_groups,
        &file_names,
        judge,
        plan,
        sink,
        wants.arrow.then(|| {
            ArrowRowsBuilder::new(&layout.original_headers, sources.row_place(), &layout.kept)
        }),
        progress,
        normalizations,
    )?;

    // The finisher runs on a thread of its own, so that dedup and writing of one window overlap
    // normalization and rules of the next.
    let mut finisher = judge_all(inputs, finisher, config, &pool, |chunk| {
        evaluate(chunk, &layout, &engine, &schema_checks, &row_output)
    })?;
    finisher.close_batches()?;

    log::info!(
        "judged {} rows: {} accepted, {} rejected ({:.2?})",
        finisher.tally.accepted + finisher.tally.rejected_rows,
        finisher.tally.accepted,
        finisher.tally.rejected_rows,
        started.elapsed()
    );
    let Finisher {
        plan,
        examples,
        sink,
        tally,
        ..
    } = finisher;
    let summary = summarize::summary(Counted {
        config,
        file_names: &file_names,
        batches: plan.finish()?,
        examples: examples.finish()?,
        tally,
        existing: existing_info,
        column_groups: &column_groups,
        group_headers: &group_headers,
        existing_export,
        notes: Notes {
            plan: plan_notes.into_iter().chain(existing_notes).collect(),
            schema: &schema_checks.notes,
            engine: &engine.notes,
            sink: sink_notes,
        },
        dropped_columns,
        kept_columns: layout.kept.clone(),
        started,
    })?;
    config.cancel.check()?;
    sink.finish(&summary)?;
    log::info!("the sink finished ({:.2?})", started.elapsed());
    Ok(summary)
}

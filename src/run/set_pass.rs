//! The set rules' pass: the columns they read are kept from every row, the rules run over
//! all of them at once, and their findings are handed back by (input, row) for the pass that
//! judges and writes the rows.

use std::collections::HashMap;

use datafusion::arrow::array::BooleanArray;
use datafusion::arrow::compute::filter_record_batch;
use rayon::prelude::*;

use super::stream::{stream, ReadEvent};
use super::Sources;
use crate::config::RunConfig;
use crate::error::{Error, Result};
use crate::folder::summary::Normalizations;
use crate::normalize::{values, TableLayout};
use crate::read::{InputId, Pending, PerInput};
use crate::rules::engine::{Finding, RuleEngine, SetRowInput};

/// What the set-rule pass reads with.
pub(super) struct SetPass<'a> {
    pub(super) layout: &'a TableLayout,
    pub(super) engine: &'a RuleEngine,
    pub(super) file_names: &'a PerInput<String>,
    pub(super) pool: &'a rayon::ThreadPool,
}

/// Reads `inputs` through, runs the set rules (which see `existing_codes` too) and gives their
/// findings by (input index, row). The inputs must be readable again for the second pass.
pub(super) fn set_rule_pass(
    config: &RunConfig,
    sources: Sources,
    inputs: Vec<Pending>,
    pass: SetPass,
    existing_codes: Vec<String>,
) -> Result<HashMap<(InputId, i64), Vec<Finding>>> {
    if let Some(once) = sources.readable_once() {
        return Err(Error::usage(
            format!("set rules read the input twice: they need to read {once} twice, and it can be read once"),
            format!("save {once} to a file first and name the file, or --disable-rule the set rules"),
        ));
    }
    let columns = pass.engine.set_columns(&pass.layout.schema);
    let collected = std::sync::Mutex::new(Vec::new());
    stream(inputs, config.threads, &config.cancel, |events| {
        pass.pool.install(|| {
            events.into_par_iter().try_for_each(|event| {
                if let ReadEvent::Chunk(chunk) = event {
                    let mut ignored = Normalizations::default();
                    let batch = values::to_batch(&chunk, pass.layout, &mut ignored)?;
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
    let found = pass
        .engine
        .run_set_rules(batches, existing_codes, &config.rules)?;
    // By input: the rule table's `file` carries each row's input as its key; a query that
    // gave it back as text (not as the column itself) names the input instead.
    let mut findings: HashMap<(InputId, i64), Vec<Finding>> = HashMap::new();
    for ((file, row), found) in found {
        let inputs: Vec<InputId> = match file {
            SetRowInput::Input(number) => vec![InputId::new(number as usize)],
            SetRowInput::Named(name) => pass
                .file_names
                .enumerate()
                .filter(|(_, n)| **n == name)
                .map(|(index, _)| index)
                .collect(),
        };
        for input in inputs {
            findings
                .entry((input, row))
                .or_default()
                .extend(found.iter().cloned());
        }
    }
    Ok(findings)
}

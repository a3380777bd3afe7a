//! `prepare()`: the command line's `prepare` options, parsed by its own definitions, run on
//! paths or Arrow sources into a memory sink (and a folder with `out`).

use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyCapsule, PyTuple};
use voucher_import::ArrowSource;
use voucher_import::Cancel;
use voucher_import::ExitPolicy;
use voucher_import::FolderSink;
use voucher_import::Import;
use voucher_import::MemorySink;
use voucher_import::NoProgress;

use crate::c_stream::{self, ArrowStream};
use crate::cli::cmd::inputs::ImportArgs;
use crate::cli::cmd::policy::PolicyArgs;
use crate::{errors, interruptible};

/// `prepare`'s options as `prepare()` takes them: the inputs are not required (Arrow sources
/// may stand for them), nor is a campaign type (a campaign may be given as a dict), and the
/// folder is optional.
#[derive(Debug, Parser)]
#[command(name = "prepare", no_binary_name = true)]
struct PrepareCall {
    #[command(flatten)]
    import: ImportArgs,

    #[command(flatten)]
    policy: PolicyArgs,

    /// The folder to write into, as `prepare --out`.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,

    /// Replace the output folder if it holds files.
    #[arg(long)]
    force: bool,
}

fn command() -> clap::Command {
    PrepareCall::command()
        .mut_arg("inputs", |arg| arg.required(false))
        // Not required: a campaign dict may stand for it (clap cannot unset
        // required_unless_present, so the option is made again without it).
        .mut_arg("campaign_type", |arg| {
            clap::Arg::new(arg.get_id().clone())
                .long("campaign-type")
                .value_name("TYPE")
                .value_parser(arg.get_value_parser().clone())
                .conflicts_with("campaign")
        })
}

/// The options `prepare()` takes as keyword arguments: (keyword, long option, takes a value,
/// repeatable, value names), for the Python side to turn keywords into options and to name
/// the keywords in messages.
#[pyfunction]
pub fn prepare_options() -> Vec<(String, String, bool, bool, Vec<String>)> {
    options_of(&command())
}

/// The long options of `command` as keyword arguments (see [`prepare_options`]).
pub fn options_of(command: &clap::Command) -> Vec<(String, String, bool, bool, Vec<String>)> {
    command
        .get_arguments()
        .filter_map(|arg| {
            let long = arg.get_long()?;
            if matches!(long, "help" | "version") {
                return None;
            }
            let keyword = match long {
                "from" => "from_".to_owned(),
                other => other.replace('-', "_"),
            };
            let takes_value = arg.get_action().takes_values();
            let repeatable = matches!(arg.get_action(), clap::ArgAction::Append);
            let value_names = arg
                .get_value_names()
                .map(|names| names.iter().map(|n| n.to_string()).collect())
                .unwrap_or_default();
            Some((
                keyword,
                long.to_owned(),
                takes_value,
                repeatable,
                value_names,
            ))
        })
        .collect()
}

/// A clap refusal as a usage error that names keywords, not options: `--amount-unit <UNIT>`
/// reads `amount_unit`.
pub fn usage_from_clap(command: &clap::Command, error: &clap::Error) -> PyErr {
    let text = error.to_string();
    let mut message = text
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with("For more information"))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("; ")
        .trim_start_matches("error: ")
        .to_owned();
    for (keyword, long, _, _, value_names) in options_of(command) {
        for name in &value_names {
            message = message.replace(&format!("--{long} <{name}>"), &keyword);
        }
        message = message.replace(&format!("--{long}"), &keyword);
    }
    errors::usage(
        message,
        "see help(voucher_import.prepare) for the keyword arguments and their values",
    )
}

/// One Arrow source from Python: an Arrow C stream capsule (`__arrow_c_stream__`), and whether
/// it is read once (a `RecordBatchReader`: its batches are read as the run asks for them)
/// rather than held in memory (a table: every batch taken over at once, without a copy).
#[derive(FromPyObject)]
pub struct SourceData<'py>(Bound<'py, PyCapsule>, bool);

fn arrow_source(py: Python<'_>, name: String, data: SourceData<'_>) -> PyResult<ArrowSource> {
    let bad = |e: PyErr| {
        errors::usage(
            format!("the table '{name}' could not be read as Arrow data: {e}"),
            "pass a pyarrow Table, a RecordBatchReader, a pandas or Polars DataFrame",
        )
    };
    let SourceData(capsule, streamed) = data;
    let reader = c_stream::import(&capsule).map_err(bad)?;
    Ok(match streamed {
        true => ArrowSource::from_reader(name, reader),
        false => {
            let (schema, batches) = c_stream::read_all(py, reader).map_err(bad)?;
            ArrowSource::from_batches(name, schema, batches)
        }
    })
}

/// What `prepare` gives back to the Python side.
struct Prepared {
    summary_json: Vec<u8>,
    exit_code: i32,
    policy_failure: Option<String>,
    accepted: Vec<ArrowStream>,
    rejected: ArrowStream,
    warnings: ArrowStream,
}

/// Runs `prepare` with `options` (command-line options, no inputs) on `paths` or on
/// `sources` ((name, data) pairs); `existing_codes`, `rule_texts`, `campaign_json` and
/// `metadata_schema_json` are what Python gives as values. Gives (summary JSON, exit code
/// under the options' exit policy, why the policy failed when one was given, accepted rows as
/// one IPC stream per column group, rejected rows, warned rows).
#[pyfunction]
#[pyo3(signature = (options, paths, sources, existing_codes, rule_texts, campaign_json, metadata_schema_json))]
#[allow(clippy::too_many_arguments)]
pub fn prepare<'py>(
    py: Python<'py>,
    options: Vec<String>,
    paths: Vec<PathBuf>,
    sources: Vec<(String, SourceData<'py>)>,
    existing_codes: Vec<String>,
    rule_texts: Vec<String>,
    campaign_json: Option<String>,
    metadata_schema_json: Option<String>,
) -> PyResult<Bound<'py, PyTuple>> {
    if paths.is_empty() && sources.is_empty() {
        return Err(errors::usage(
            "prepare() was given no source",
            "pass a path, a list of paths, or a table (pyarrow, pandas, Polars)",
        ));
    }
    if !paths.is_empty() && !sources.is_empty() {
        return Err(errors::usage(
            "prepare() was given both paths and tables",
            "prepare the files and the tables in separate calls, or read the files into tables",
        ));
    }
    crate::logging::follow_python(py)?;
    let command = command();
    let mut argv = options;
    argv.push("--".to_owned());
    argv.extend(paths.iter().map(|p| p.to_string_lossy().into_owned()));
    let matches = command
        .clone()
        .try_get_matches_from(argv)
        .map_err(|e| usage_from_clap(&command, &e))?;
    let mut call =
        PrepareCall::from_arg_matches(&matches).map_err(|e| usage_from_clap(&command, &e))?;
    let mut import = call.import.into_import().existing_codes(existing_codes);
    for text in rule_texts {
        import = import.rule_text(text);
    }
    if let Some(json) = campaign_json {
        import = import.campaign_json(json);
    }
    if let Some(json) = metadata_schema_json {
        import = import.metadata_schema_json(json);
    }
    let arrow = sources
        .into_iter()
        .map(|(name, data)| arrow_source(py, name, data))
        .collect::<PyResult<Vec<_>>>()?;
    let cancel = Cancel::new();
    let policy = call.policy.policy();
    let folder = call
        .out
        .take()
        .map(|path| FolderSink::new(path).force(call.force));
    let import = import.cancel(cancel.clone());
    let prepared = interruptible::run(py, &cancel, move || run(&import, folder, &arrow, policy))?
        .map_err(|e| errors::from_engine(&e))?;
    let accepted = prepared
        .accepted
        .into_iter()
        .map(|stream| Bound::new(py, stream))
        .collect::<PyResult<Vec<_>>>()?;
    PyTuple::new(
        py,
        [
            PyBytes::new(py, &prepared.summary_json).into_any(),
            prepared.exit_code.into_pyobject(py)?.into_any(),
            prepared.policy_failure.into_pyobject(py)?.into_any(),
            pyo3::types::PyList::new(py, accepted)?.into_any(),
            Bound::new(py, prepared.rejected)?.into_any(),
            Bound::new(py, prepared.warnings)?.into_any(),
        ],
    )
}

/// The run itself, on the run's thread.
fn run(
    import: &Import,
    folder: Option<FolderSink>,
    arrow: &[ArrowSource],
    policy: ExitPolicy,
) -> voucher_import::Result<Prepared> {
    let resolved = import.resolve()?;
    // The tables are kept in memory; with `out`, the prepared folder is written besides.
    let (summary, mut sink) = match folder {
        Some(folder) => {
            let mut both = (folder, MemorySink::new());
            let summary = resolved.run_arrow(arrow, &NoProgress, &mut both)?;
            (summary, both.1)
        }
        None => {
            let mut sink = MemorySink::new();
            (resolved.run_arrow(arrow, &NoProgress, &mut sink)?, sink)
        }
    };
    let mut summary_json = Vec::new();
    voucher_import::write_json(&mut summary_json, &summary)
        .map_err(|e| voucher_import::Error::Invariant(format!("summary as JSON: {e}")))?;
    // Every run that hands rows to a sink gives it the report layout first.
    let report_schema = sink.report_schema.clone().ok_or_else(|| {
        voucher_import::Error::Invariant("the run gave the sink no report layout".to_owned())
    })?;
    let accepted = ArrowStream::per_schema(std::mem::take(&mut sink.accepted));
    let given = policy != ExitPolicy::default();
    Ok(Prepared {
        exit_code: policy.exit_code(&summary),
        policy_failure: policy.failure(&summary).filter(|_| given),
        summary_json,
        accepted,
        rejected: ArrowStream::new(report_schema.clone(), std::mem::take(&mut sink.rejected)),
        warnings: ArrowStream::new(report_schema, std::mem::take(&mut sink.warnings)),
    })
}

//! `upload()`: the command line's `upload`, options and environment variables (the
//! credentials, `VOUCHER_IMPORT_*`) parsed by its own definitions, run with the GIL released.

use std::sync::Mutex;

use clap::FromArgMatches;
use pyo3::prelude::*;
use voucher_import::upload::{BatchState, UploadProgress};
use voucher_import::Cancel;

use crate::cli::cmd::upload::UploadArgs;
use crate::prepare::{options_of, usage_from_clap};
use crate::{cli, errors, interruptible};

/// `upload` as the command line defines it, environment variables included.
fn command() -> clap::Command {
    cli::command()
        .find_subcommand("upload")
        .cloned()
        .expect("the command line has upload")
        .no_binary_name(true)
}

/// The options `upload()` takes as keyword arguments (see `prepare_options`).
#[pyfunction]
pub fn upload_options() -> Vec<(String, String, bool, bool, Vec<String>)> {
    options_of(&command())
}

/// Keeps the warnings for Python (`warnings.warn`); batch states are in the outcome.
#[derive(Default)]
struct Warnings(Mutex<Vec<String>>);

impl UploadProgress for Warnings {
    fn batch(&self, _: &BatchState) {}

    fn warning(&self, text: &str) {
        if let Ok(mut warnings) = self.0.lock() {
            warnings.push(text.to_owned());
        }
    }
}

/// Runs `upload` with `arguments` (the folder, then options): gives the outcome as
/// `upload --json` prints it, and the warnings said before anything was sent.
#[pyfunction]
pub fn upload(py: Python<'_>, arguments: Vec<String>) -> PyResult<(String, Vec<String>)> {
    crate::logging::follow_python(py)?;
    let command = command();
    let matches = command
        .clone()
        .try_get_matches_from(arguments)
        .map_err(|e| usage_from_clap(&command, &e))?;
    let args = UploadArgs::from_arg_matches(&matches).map_err(|e| usage_from_clap(&command, &e))?;
    let cancel = Cancel::new();
    let run_cancel = cancel.clone();
    let (outcome, warnings) = interruptible::run(py, &cancel, move || {
        let warnings = Warnings::default();
        let outcome = cli::cmd::upload::run(args, run_cancel, &warnings);
        (outcome, warnings.0.into_inner().unwrap_or_default())
    })?;
    let outcome = outcome.map_err(|e| errors::from_engine(&e))?;
    let mut json = Vec::new();
    voucher_import::write_json(&mut json, &outcome)
        .map_err(|e| errors::internal(format!("the upload outcome as JSON: {e}")))?;
    Ok((String::from_utf8_lossy(&json).into_owned(), warnings))
}

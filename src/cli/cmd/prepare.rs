//! `voucher-import prepare`: turn voucher files into import-ready batches, a rejected-rows
//! report and a summary, in a folder that appears only when complete.

use std::path::PathBuf;

use clap::Args;

use super::inputs::ImportArgs;
use super::policy::PolicyArgs;
use crate::Cancel;
use crate::FolderSink;
use crate::Result;
use crate::{Progress, Summary};

/// Turn voucher CSV files into Voucherify import batches and a report of rejected rows.
#[derive(Debug, Clone, Args)]
#[command(after_help = "Examples:
  voucher-import prepare cards.csv --campaign-type gift --existing codes.csv --out out
  voucher-import prepare a.csv b.csv --campaign campaign.json --max-file-bytes 5000000 --out out

Writes OUT/import/part-00001.csv ..., OUT/rejected.csv, OUT/summary.json and OUT/report.html
(a page to read in a browser). OUT/rejected.csv, and the OUT/upload-failed.csv that upload
writes, can be fixed in a spreadsheet and given back as input: their report columns are
recognized and left out.
Exit codes: 0 every row accepted (or no more rejected than --max-rejected), 1 some rows
rejected (or warned of, with --fail-on-warnings), 2 error (nothing written), 130 interrupted.")]
pub struct PrepareArgs {
    #[command(flatten)]
    pub import: ImportArgs,

    #[command(flatten)]
    pub policy: PolicyArgs,

    /// The folder to write into; it must not exist or be empty (see --force).
    #[arg(long, short = 'o', value_name = "DIR", help_heading = "Output")]
    pub out: PathBuf,

    /// Replace the output folder if it holds files.
    #[arg(long, help_heading = "Output")]
    pub force: bool,

    /// Print the summary as JSON on stdout (the content of summary.json), for pipelines.
    #[arg(long, help_heading = "Output")]
    pub json: bool,

    /// No progress bar and no summary on stderr (errors are still printed).
    #[arg(long, short = 'q', help_heading = "Output")]
    pub quiet: bool,
}

/// Runs `prepare`; `progress` makes the progress display from the inputs' total size (None
/// when unknown: stdin).
pub fn run_with_progress(
    args: PrepareArgs,
    cancel: Cancel,
    progress: impl FnOnce(Option<u64>) -> Box<dyn Progress>,
) -> Result<Summary> {
    let resolved = args.import.into_import().cancel(cancel).resolve()?;
    let progress = progress(resolved.input_bytes());
    let mut sink = FolderSink::new(args.out).force(args.force);
    resolved.run(progress.as_ref(), &mut sink)
}

//! `voucher-import check`: the same import as `prepare`, writing nothing; reports every row
//! that would be rejected.

use clap::Args;

use super::inputs::ImportArgs;
use super::policy::PolicyArgs;
use crate::CheckReport;
use crate::CheckSink;
use crate::Result;

/// Check voucher CSV files without writing anything: the summary and every row that would be
/// rejected.
#[derive(Debug, Clone, Args)]
#[command(after_help = "Examples:
  voucher-import check cards.csv --campaign-type gift --existing codes.csv
  voucher-import check cards.csv --campaign campaign.json --json | jq .summary.rejected

Exit codes: 0 every row would be accepted (or no more rejected than --max-rejected), 1 some
rows would be rejected (or warned of, with --fail-on-warnings), 2 error, 130 interrupted.")]
pub struct CheckArgs {
    #[command(flatten)]
    pub import: ImportArgs,

    #[command(flatten)]
    pub policy: PolicyArgs,

    /// Print the report as JSON on stdout instead of a table.
    #[arg(long, help_heading = "Output")]
    pub json: bool,
}

/// Runs `check`.
pub fn run(args: CheckArgs, cancel: crate::Cancel) -> Result<CheckReport> {
    let resolved = args.import.into_import().cancel(cancel).resolve()?;
    let mut sink = CheckSink::new();
    let summary = resolved.run(&crate::NoProgress, &mut sink)?;
    Ok(sink.into_report(summary))
}

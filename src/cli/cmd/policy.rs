//! The exit-code options `prepare` and `check` share: which outcome fails the run for the
//! pipeline around it.

use clap::Args;

use crate::{ExitPolicy, RejectedLimit};

/// `--max-rejected` and `--fail-on-warnings`.
#[derive(Debug, Clone, Args)]
pub struct PolicyArgs {
    /// Exit 0 while at most this many rows are rejected: N rows, or P% of the input rows
    /// (e.g. 10, 0.5%). Without it, any rejected row makes the exit code 1.
    #[arg(
        long,
        value_name = "N|P%",
        allow_negative_numbers = true,
        help_heading = "Exit code"
    )]
    pub max_rejected: Option<RejectedLimit>,

    /// Exit 1 when a warn rule flagged any row, even if every row was accepted.
    #[arg(long, help_heading = "Exit code")]
    pub fail_on_warnings: bool,
}

impl PolicyArgs {
    /// The policy the options say.
    pub fn policy(&self) -> ExitPolicy {
        ExitPolicy {
            max_rejected: self.max_rejected,
            fail_on_warnings: self.fail_on_warnings,
        }
    }
}

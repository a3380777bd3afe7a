//! The exit policy: which outcome of a run counts as a failure for the pipeline around it.
//! By default any rejected row does (exit 1); a nightly job that tolerates a few bad rows
//! gives a limit (`--max-rejected 10` or `--max-rejected 0.5%`), and one that treats warnings
//! as failures says so (`--fail-on-warnings`). Errors (exit 2) and interruptions (130) are not
//! the policy's to decide.

use std::fmt;
use std::str::FromStr;

use crate::folder::summary::Summary;

/// How many rejected rows a run may have and still succeed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RejectedLimit {
    /// At most this many rows.
    Rows(u64),
    /// At most this percentage of the input rows (0-100).
    Percent(f64),
}

impl RejectedLimit {
    /// Whether `rejected` of `input_rows` is within the limit.
    pub fn allows(self, rejected: u64, input_rows: u64) -> bool {
        match self {
            RejectedLimit::Rows(max) => rejected <= max,
            // Compared in whole numbers where possible: 1% of 300 rows allows 3.
            RejectedLimit::Percent(percent) => {
                rejected as f64 * 100.0 <= percent * input_rows as f64
            }
        }
    }
}

impl FromStr for RejectedLimit {
    type Err = String;

    /// `N` (rows) or `P%` (a percentage of the input rows, 0 to 100, decimals allowed).
    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Some(percent) = text.strip_suffix('%') {
            let value: f64 = percent.trim().parse().map_err(|_| {
                format!("'{text}' is not a percentage: give P% with P from 0 to 100 (e.g. 0.5%)")
            })?;
            if !(0.0..=100.0).contains(&value) || !value.is_finite() {
                return Err(format!("'{text}' is not between 0% and 100%"));
            }
            return Ok(RejectedLimit::Percent(value));
        }
        text.parse::<u64>().map(RejectedLimit::Rows).map_err(|_| {
            format!("'{text}' is neither a number of rows (e.g. 10) nor a percentage (e.g. 0.5%)")
        })
    }
}

impl fmt::Display for RejectedLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RejectedLimit::Rows(rows) => write!(f, "{rows}"),
            RejectedLimit::Percent(percent) => write!(f, "{percent}%"),
        }
    }
}

/// Which outcomes of a run fail it (exit 1) and which pass it (exit 0).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ExitPolicy {
    /// The rejected rows a run may have; None: none at all (the default).
    pub max_rejected: Option<RejectedLimit>,
    /// Any row a `warn` rule flagged fails the run.
    pub fail_on_warnings: bool,
}

impl ExitPolicy {
    /// 0 when the run passes the policy, 1 when it does not.
    ///
    /// ```
    /// use voucher_import::{ExitPolicy, RejectedLimit};
    /// let policy = ExitPolicy { max_rejected: Some(RejectedLimit::Percent(1.0)), ..ExitPolicy::default() };
    /// assert!(policy.passes(3, 300, 0));
    /// assert!(!policy.passes(4, 300, 0));
    /// ```
    pub fn exit_code(&self, summary: &Summary) -> i32 {
        i32::from(!self.passes(summary.rejected, summary.input_rows, summary.warnings))
    }

    /// Whether a run with these counts passes.
    pub fn passes(&self, rejected: u64, input_rows: u64, warnings: u64) -> bool {
        self.rejected_within(rejected, input_rows) && !(self.fail_on_warnings && warnings > 0)
    }

    /// Whether `rejected` of `input_rows` is within `max_rejected` (none at all without it).
    fn rejected_within(&self, rejected: u64, input_rows: u64) -> bool {
        self.max_rejected
            .map_or(rejected == 0, |limit| limit.allows(rejected, input_rows))
    }

    /// Why a run that does not pass fails, for the line the binary prints.
    pub fn failure(&self, summary: &Summary) -> Option<String> {
        if self.passes(summary.rejected, summary.input_rows, summary.warnings) {
            return None;
        }
        if self.rejected_within(summary.rejected, summary.input_rows) {
            // The rejected rows are within the limit: the warnings failed it.
            return Some(format!(
                "{} rows were warned of, and --fail-on-warnings fails the run",
                summary.warnings
            ));
        }
        Some(match self.max_rejected {
            Some(limit) => format!(
                "{} of {} rows were rejected, more than --max-rejected {limit}",
                summary.rejected, summary.input_rows
            ),
            None => format!("{} rows were rejected", summary.rejected),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_as_rows_or_percentages() {
        assert_eq!("10".parse(), Ok(RejectedLimit::Rows(10)));
        assert_eq!(" 0.5% ".parse(), Ok(RejectedLimit::Percent(0.5)));
        assert_eq!("0%".parse(), Ok(RejectedLimit::Percent(0.0)));
        for bad in ["", "-1", "ten", "101%", "-0.5%", "NaN%", "1.5"] {
            assert!(bad.parse::<RejectedLimit>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_default_fails_on_any_rejected_row_and_ignores_warnings() {
        let policy = ExitPolicy::default();
        assert!(policy.passes(0, 100, 5));
        assert!(!policy.passes(1, 100, 0));
    }

    #[test]
    fn a_limit_is_inclusive_and_a_percentage_is_of_the_input_rows() {
        let rows = ExitPolicy {
            max_rejected: Some(RejectedLimit::Rows(3)),
            ..ExitPolicy::default()
        };
        assert!(rows.passes(3, 1_000_000, 0));
        assert!(!rows.passes(4, 1_000_000, 0));
        let share = ExitPolicy {
            max_rejected: Some(RejectedLimit::Percent(1.0)),
            ..ExitPolicy::default()
        };
        assert!(share.passes(10_000, 1_000_000, 0));
        assert!(!share.passes(10_001, 1_000_000, 0));
        assert!(share.passes(0, 0, 0), "an empty input rejects nothing");
    }

    #[test]
    fn warnings_fail_the_run_only_when_asked() {
        let strict = ExitPolicy {
            fail_on_warnings: true,
            ..ExitPolicy::default()
        };
        assert!(!strict.passes(0, 10, 1));
        assert!(strict.passes(0, 10, 0));
    }
}

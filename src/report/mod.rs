//! The run's account of itself: `summary.json` and the `check` report, as data and as JSON
//! (what is printed for people is the command line's). The library never prints.

pub mod html;
mod summary;

use std::io::{self, Write};

use serde::Serialize;

use crate::write::rejected::RejectedEntry;
pub use summary::{
    read_summary, ColumnGroup, ExistingInfo, InputInfo, RuleCounts, RuleExamples, Summary,
    SCHEMA_VERSION,
};

/// What `check` reports: the summary and every rejected row.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CheckReport {
    /// The version of this document's shape ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// What the run did.
    pub summary: Summary,
    /// Every rejected row, in input order.
    pub rejected_rows: Vec<RejectedEntry>,
}

/// Any report as pretty JSON with a final newline.
pub fn write_json(w: &mut impl Write, value: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, value)?;
    writeln!(w)
}

//! [`CheckSink`]: nothing written, every rejected row kept, as `check` reports it.

use super::{JudgedChunk, RunStart, Sink};
use crate::error::Result;
use crate::folder::summary::{CheckReport, RejectedEntry, Summary, SCHEMA_VERSION};

/// Writes nothing and keeps every rejected row (where it is, its rules and reason, not its
/// fields): what `check` prints.
#[derive(Debug, Default)]
pub struct CheckSink {
    /// The rejected rows, in input order.
    pub rejected: Vec<RejectedEntry>,
}

impl CheckSink {
    /// An empty sink.
    pub fn new() -> Self {
        CheckSink::default()
    }

    /// The run as `check` reports it: its summary and the rows kept.
    pub fn into_report(self, summary: Summary) -> CheckReport {
        CheckReport {
            schema_version: SCHEMA_VERSION,
            summary,
            rejected_rows: self.rejected,
        }
    }
}

impl Sink for CheckSink {
    /// Starts empty: a sink used for a second run keeps only that run's rows.
    fn begin(&mut self, _: &RunStart<'_>) -> Result<Vec<String>> {
        self.rejected.clear();
        Ok(Vec::new())
    }

    fn chunk(&mut self, chunk: &JudgedChunk<'_>) -> Result<()> {
        self.rejected
            .extend(chunk.rejected().iter().map(|row| row.entry()));
        Ok(())
    }

    fn finish(&mut self, _: &Summary) -> Result<()> {
        Ok(())
    }
}

//! [`MemorySink`]: a run's rows kept as Arrow record batches.
//!
//! The layouts ([`crate::write::arrow`]):
//! - accepted: the batch columns of the rows' column group (`Code`, `Gift Amount`, …, metadata),
//!   every one `Utf8`, values exactly as the CSV batches carry them, null for an empty cell.
//!   Inputs with different columns make different groups (see `Summary::column_groups`), so
//!   accepted batches of one run can have different schemas. The kept columns (`--keep`,
//!   `Summary::kept_columns`) come last, `Utf8` as read, null for an empty cell.
//! - rejected and warnings: `source`, `row` (1-based position within its source), `rules`
//!   (`|`-joined), `reason`, then every input column as read (for a run on files: `file`,
//!   `row`, `line`, `rules`, `reason`, the input columns, `raw`, as in rejected.csv).

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::SchemaRef;

use super::{JudgedChunk, RunStart, Sink, Wants};
use crate::error::Result;
use crate::folder::summary::Summary;

/// Keeps every row it receives as Arrow record batches.
#[derive(Debug, Default)]
pub struct MemorySink {
    /// Accepted rows, one batch per chunk that had any, in input order.
    pub accepted: Vec<RecordBatch>,
    /// Rejected rows, one batch per chunk that had any.
    pub rejected: Vec<RecordBatch>,
    /// Warned rows, one batch per chunk that had any.
    pub warnings: Vec<RecordBatch>,
    /// The schema of the rejected and warned rows, once the run has given a chunk.
    pub report_schema: Option<SchemaRef>,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> Self {
        MemorySink::default()
    }

    /// The accepted rows as one batch per column group (in the order the groups were first
    /// met): one batch when every input has the same columns.
    pub fn accepted_by_group(&self) -> Result<Vec<RecordBatch>> {
        let mut schemas: Vec<SchemaRef> = Vec::new();
        for batch in &self.accepted {
            if !schemas.iter().any(|s| *s == batch.schema()) {
                schemas.push(batch.schema());
            }
        }
        schemas
            .iter()
            .map(|schema| {
                let rows = self.accepted.iter().filter(|b| b.schema() == *schema);
                Ok(concat_batches(schema, rows)?)
            })
            .collect()
    }

    /// Rows in a list of batches.
    pub fn rows(batches: &[RecordBatch]) -> usize {
        batches.iter().map(RecordBatch::num_rows).sum()
    }
}

impl Sink for MemorySink {
    fn wants(&self) -> Wants {
        Wants { arrow: true }
    }

    /// Starts empty: a sink used for a second run keeps only that run's rows.
    fn begin(&mut self, _: &RunStart<'_>) -> Result<Vec<String>> {
        *self = MemorySink::default();
        Ok(Vec::new())
    }

    fn chunk(&mut self, chunk: &JudgedChunk<'_>) -> Result<()> {
        let Some(rows) = chunk.arrow() else {
            return Ok(());
        };
        if self.report_schema.is_none() {
            self.report_schema = Some(rows.report_schema.clone());
        }
        self.accepted.extend(rows.accepted.iter().cloned());
        self.rejected.extend(rows.rejected.iter().cloned());
        self.warnings.extend(rows.warned.iter().cloned());
        Ok(())
    }

    fn finish(&mut self, _: &Summary) -> Result<()> {
        Ok(())
    }
}

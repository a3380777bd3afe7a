//! Where an Arrow run's rows go ([`crate::import::Import::run_arrow`]): a [`Sink`] receives the
//! accepted rows in the import layout, the rejected rows and the warned rows as Arrow record
//! batches, chunk by chunk and in input order. Two sinks are ready: [`MemorySink`] keeps
//! everything, [`FolderSink`] has the run write a prepared folder as `prepare` does.
//!
//! The layouts ([`crate::write::arrow`]):
//! - accepted: the batch columns of the rows' column group (`Code`, `Gift Amount`, …, metadata),
//!   every one `Utf8`, values exactly as the CSV batches carry them, null for an empty cell.
//!   Inputs with different columns make different groups (see `Summary::column_groups`), so
//!   accepted batches of one run can have different schemas.
//! - rejected and warnings: `source`, `row` (1-based position within its source), `rules`
//!   (`|`-joined), `reason`, then every input column as read.

use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::SchemaRef;

use crate::error::Result;

/// Receives a run's rows. Called from the run's in-order thread: a slow sink slows the run,
/// and an error from it stops the run (and is the run's error).
pub trait Sink: Send {
    /// Accepted rows, in the import layout of their column group.
    fn accepted(&mut self, rows: RecordBatch) -> Result<()>;
    /// Rejected rows, in the report layout.
    fn rejected(&mut self, rows: RecordBatch) -> Result<()>;
    /// Accepted rows that a `warn` rule flagged, in the report layout.
    fn warnings(&mut self, rows: RecordBatch) -> Result<()>;
    /// Where the run writes a prepared folder besides (batches, rejected.csv, summary.json,
    /// report.html, origins.csv; the folder must be new or empty). None by default.
    fn folder(&self) -> Option<&Path> {
        None
    }
    /// Whether the sink takes the rows; one that only has the folder written does not, and
    /// the run then builds no record batches for it.
    fn takes_rows(&self) -> bool {
        true
    }
    /// The schema of this run's rejected and warned rows (the report layout), given once
    /// before any row to a sink that takes rows: a run without rejected rows can still show
    /// an empty table with the right columns. Ignored by default.
    fn report_schema(&mut self, schema: SchemaRef) -> Result<()> {
        let _ = schema;
        Ok(())
    }
}

/// Keeps every batch it receives.
#[derive(Debug, Default)]
pub struct MemorySink {
    /// Accepted rows, one batch per chunk, in input order.
    pub accepted: Vec<RecordBatch>,
    /// Rejected rows, one batch per chunk that had any.
    pub rejected: Vec<RecordBatch>,
    /// Warned rows, one batch per chunk that had any.
    pub warnings: Vec<RecordBatch>,
    /// The schema of the rejected and warned rows, once the run has started.
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
    fn accepted(&mut self, rows: RecordBatch) -> Result<()> {
        self.accepted.push(rows);
        Ok(())
    }

    fn rejected(&mut self, rows: RecordBatch) -> Result<()> {
        self.rejected.push(rows);
        Ok(())
    }

    fn warnings(&mut self, rows: RecordBatch) -> Result<()> {
        self.warnings.push(rows);
        Ok(())
    }

    fn report_schema(&mut self, schema: SchemaRef) -> Result<()> {
        self.report_schema = Some(schema);
        Ok(())
    }
}

/// Has the run write a prepared folder (what `prepare` writes, ready for `upload`) and takes no
/// rows itself.
#[derive(Debug, Clone)]
pub struct FolderSink {
    folder: PathBuf,
}

impl FolderSink {
    /// A sink writing `folder`, which must be new or empty.
    pub fn new(folder: impl Into<PathBuf>) -> Self {
        FolderSink {
            folder: folder.into(),
        }
    }
}

impl Sink for FolderSink {
    fn accepted(&mut self, _: RecordBatch) -> Result<()> {
        Ok(())
    }

    fn rejected(&mut self, _: RecordBatch) -> Result<()> {
        Ok(())
    }

    fn warnings(&mut self, _: RecordBatch) -> Result<()> {
        Ok(())
    }

    fn folder(&self) -> Option<&Path> {
        Some(&self.folder)
    }

    fn takes_rows(&self) -> bool {
        false
    }
}

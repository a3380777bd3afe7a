//! Where the finisher puts rows: the batches (measured always, written when the run has a
//! folder), rejected.csv and warnings.csv, and, for a sink that takes them, the same rows as
//! Arrow batches chunk by chunk.

use datafusion::arrow::array::UInt32Array;
use datafusion::arrow::record_batch::RecordBatch;

use crate::config::RunConfig;
use crate::error::Result;
use crate::folder;
use crate::normalize::TableLayout;
use crate::rules::format::Severity;
use crate::sink::Sink;
use crate::write::arrow::{ReportRows, RowPlace};
use crate::write::batches::BatchWriter;
use crate::write::rejected::RejectedWriter;
use crate::write::StagedOutput;

/// Where the finisher puts rows: the batches (measured, and written when they have a folder),
/// the rejected rows and the warned rows.
pub(super) struct Outlets<'a> {
    pub(super) batches: BatchWriter,
    pub(super) rejected: RejectedWriter,
    pub(super) warnings: RejectedWriter,
    /// The rows in Arrow form, for a sink that takes them.
    pub(super) rows_out: Option<RowsOut<'a>>,
}

impl<'a> Outlets<'a> {
    /// The outlets of a run: into `staged` when it writes a folder, else only measured (and
    /// every rejected entry kept when `keep_rejected`, for `check`).
    pub(super) fn open(
        config: &RunConfig,
        layout: &TableLayout,
        group_headers: &[Vec<String>],
        staged: Option<&StagedOutput>,
        keep_rejected: bool,
        sink: Option<&'a mut dyn Sink>,
        place: RowPlace,
    ) -> Result<Self> {
        let options = &config.options;
        let batches = BatchWriter::new(
            staged.map(|s| s.path().join(folder::IMPORT_DIR)),
            group_headers,
            options.max_file_bytes,
            Some(options.batch_rows),
            options.canary_for(group_headers),
        )?;
        let rejected = RejectedWriter::new(
            staged
                .map(|s| s.path().join(folder::REJECTED_FILE))
                .as_deref(),
            &layout.original_headers,
            keep_rejected,
        )?;
        let any_warn_rule = config
            .rules
            .rules
            .iter()
            .any(|r| r.text.severity == Severity::Warn);
        let warnings = RejectedWriter::new(
            staged
                .filter(|_| any_warn_rule)
                .map(|s| s.path().join(folder::WARNINGS_FILE))
                .as_deref(),
            &layout.original_headers,
            false,
        )?;
        Ok(Outlets {
            batches,
            rejected,
            warnings,
            rows_out: match sink.filter(|s| s.takes_rows()) {
                Some(sink) => {
                    let rows_out = RowsOut::new(sink, &layout.original_headers, place);
                    rows_out.sink.report_schema(rows_out.rejected.schema())?;
                    Some(rows_out)
                }
                None => None,
            },
        })
    }
}

/// The rows of each chunk in Arrow form, for a sink that takes them.
pub(super) struct RowsOut<'a> {
    sink: &'a mut dyn Sink,
    /// The chunk's accepted rows, by position.
    pub(super) accepted: Vec<u32>,
    pub(super) rejected: ReportRows,
    pub(super) warnings: ReportRows,
}

impl<'a> RowsOut<'a> {
    pub(super) fn new(
        sink: &'a mut dyn Sink,
        original_headers: &[String],
        place: RowPlace,
    ) -> Self {
        RowsOut {
            sink,
            accepted: Vec::new(),
            rejected: ReportRows::new(original_headers, place),
            warnings: ReportRows::new(original_headers, place),
        }
    }

    /// Hands the chunk's rows to the sink: the accepted ones taken from `import_rows`.
    pub(super) fn flush(&mut self, import_rows: Option<&RecordBatch>) -> Result<()> {
        if let (Some(rows), false) = (import_rows, self.accepted.is_empty()) {
            let positions = UInt32Array::from(std::mem::take(&mut self.accepted));
            let columns = rows
                .columns()
                .iter()
                .map(|c| datafusion::arrow::compute::take(c, &positions, None))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            self.sink
                .accepted(RecordBatch::try_new(rows.schema(), columns)?)?;
        }
        if let Some(rows) = self.rejected.take()? {
            self.sink.rejected(rows)?;
        }
        if let Some(rows) = self.warnings.take()? {
            self.sink.warnings(rows)?;
        }
        Ok(())
    }
}

//! The Arrow form of a chunk's judged rows ([`ArrowRows`]), built by the run for a sink that
//! wants it.

use datafusion::arrow::array::{RecordBatch, UInt32Array};
use datafusion::arrow::compute::take;

use super::{ArrowRows, ListedRow};
use crate::error::Result;
use crate::write::arrow::{ReportRows, RowPlace};

/// Builds each chunk's [`ArrowRows`]: the accepted rows taken from the chunk's import rows,
/// the listed ones in the report layout.
pub(crate) struct ArrowRowsBuilder {
    rejected: ReportRows,
    warned: ReportRows,
}

impl ArrowRowsBuilder {
    /// Rows whose fields go under `original_headers`, placed as `place` says.
    pub(crate) fn new(original_headers: &[String], place: RowPlace) -> Self {
        ArrowRowsBuilder {
            rejected: ReportRows::new(original_headers, place),
            warned: ReportRows::new(original_headers, place),
        }
    }

    /// The chunk's rows: `accepted` are positions in `import_rows`.
    pub(crate) fn rows(
        &mut self,
        import_rows: Option<&RecordBatch>,
        accepted: Vec<u32>,
        rejected: &[ListedRow<'_>],
        warned: &[ListedRow<'_>],
    ) -> Result<ArrowRows> {
        let accepted = match import_rows {
            Some(rows) if !accepted.is_empty() => {
                let positions = UInt32Array::from(accepted);
                let columns = rows
                    .columns()
                    .iter()
                    .map(|column| take(column, &positions, None))
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                Some(RecordBatch::try_new(rows.schema(), columns)?)
            }
            _ => None,
        };
        for (report, rows) in [(&mut self.rejected, rejected), (&mut self.warned, warned)] {
            for row in rows {
                report.push(
                    row.file_name,
                    row.record,
                    row.original_columns,
                    &row.rules,
                    &row.reason,
                );
            }
        }
        Ok(ArrowRows {
            accepted,
            rejected: self.rejected.take()?,
            warned: self.warned.take()?,
            report_schema: self.rejected.schema(),
        })
    }
}

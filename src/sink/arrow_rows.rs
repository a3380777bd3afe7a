//! The Arrow form of a chunk's judged rows ([`ArrowRows`]), built by the run for a sink that
//! wants it.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray, UInt32Array};
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::{DataType, Field, Schema};

use super::{ArrowRows, ListedRow};
use crate::error::Result;
use crate::write::arrow::{ReportRows, RowPlace};

/// Builds each chunk's [`ArrowRows`]: the accepted rows taken from the chunk's import rows,
/// the listed ones in the report layout.
pub(crate) struct ArrowRowsBuilder {
    rejected: ReportRows,
    warned: ReportRows,
    /// The kept columns (`--keep`), the accepted rows' last columns.
    kept_columns: Vec<String>,
}

impl ArrowRowsBuilder {
    /// Rows whose fields go under `original_headers`, placed as `place` says; the accepted
    /// rows end with `kept_columns`.
    pub(crate) fn new(
        original_headers: &[String],
        place: RowPlace,
        kept_columns: &[String],
    ) -> Self {
        ArrowRowsBuilder {
            rejected: ReportRows::new(original_headers, place),
            warned: ReportRows::new(original_headers, place),
            kept_columns: kept_columns.to_vec(),
        }
    }

    /// The chunk's rows: `accepted` are positions in `import_rows`, `accepted_kept` their
    /// kept values (one list per accepted row, or none when no column is kept).
    pub(crate) fn rows(
        &mut self,
        import_rows: Option<&RecordBatch>,
        accepted: Vec<u32>,
        accepted_kept: Vec<Vec<String>>,
        rejected: &[ListedRow<'_>],
        warned: &[ListedRow<'_>],
    ) -> Result<ArrowRows> {
        let accepted = match import_rows {
            Some(rows) if !accepted.is_empty() => {
                let positions = UInt32Array::from(accepted);
                let mut columns = rows
                    .columns()
                    .iter()
                    .map(|column| take(column, &positions, None))
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                let mut fields: Vec<Arc<Field>> = rows.schema().fields().iter().cloned().collect();
                for (at, name) in self.kept_columns.iter().enumerate() {
                    // Empty as null, as the batch columns show an empty cell.
                    let values: StringArray = accepted_kept
                        .iter()
                        .map(|kept| kept.get(at).map(String::as_str).filter(|v| !v.is_empty()))
                        .collect();
                    columns.push(Arc::new(values) as ArrayRef);
                    fields.push(Arc::new(Field::new(name, DataType::Utf8, true)));
                }
                Some(RecordBatch::try_new(
                    Arc::new(Schema::new(fields)),
                    columns,
                )?)
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

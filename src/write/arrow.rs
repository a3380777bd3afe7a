//! The Arrow forms of a run's rows, for a [`crate::sink::Sink`]: accepted rows in the import
//! layout (one `Utf8` column per batch column, as the CSV batches carry them) and rejected or
//! warned rows in the report layout (`source`, `row`, `rules`, `reason`, then the input's own
//! columns; for a run on files `file`, `row`, `line`, `rules`, `reason`, as in rejected.csv).

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayBuilder, ArrayRef, RecordBatch, StringArray, StringBuilder, UInt64Builder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use crate::error::Result;
use crate::folder::{RAW_COLUMN, REPORT_COLUMNS};
use crate::normalize::values::decode;
use crate::read::Record;

/// The leading columns of a rejected or warned row of Arrow sources in Arrow form. Rows of
/// files have rejected.csv's columns instead ([`crate::write::rejected::REPORT_COLUMNS`], then
/// the input's columns, then `raw`; `line` is null for a format without lines, Parquet).
pub const REPORT_ROW_COLUMNS: [&str; 4] = ["source", "row", "rules", "reason"];

/// Where a reported row is said to come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowPlace {
    /// `source` and `row`: rows of Arrow sources, which have no lines.
    Source,
    /// `file`, `row` and `line`: rows of files, as rejected.csv has them.
    FileLine,
}

/// The schema of accepted rows with these batch columns: every column `Utf8`, null where the
/// batch has an empty cell.
pub fn import_schema(columns: &[String]) -> SchemaRef {
    Arc::new(Schema::new(
        columns
            .iter()
            .map(|name| Field::new(name, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ))
}

/// Accepted rows in the import layout: `columns` as the batch carries them, where an empty
/// cell of a position in `boolean_columns` is the text `null` (as written to the CSV batch).
pub fn import_rows(
    schema: &SchemaRef,
    columns: &[&StringArray],
    boolean_columns: &[usize],
) -> Result<RecordBatch> {
    let arrays: Vec<ArrayRef> = columns
        .iter()
        .enumerate()
        .map(|(position, column)| -> ArrayRef {
            if boolean_columns.contains(&position) && column.null_count() > 0 {
                Arc::new(
                    column
                        .iter()
                        .map(|v| Some(v.unwrap_or("null")))
                        .collect::<StringArray>(),
                )
            } else {
                Arc::new((*column).clone())
            }
        })
        .collect();
    Ok(RecordBatch::try_new(schema.clone(), arrays)?)
}

/// Rejected (or warned) rows gathered one by one and handed out as a record batch: `source`,
/// `row` (1-based within its source), for files `file`, `row` and `line` (see [`RowPlace`]),
/// `rules` (`|`-joined, as in rejected.csv), `reason`, then
/// every input column (the union of the inputs' headers; null where the row's input has no
/// such column or the cell is empty). Values are shown as read, not made spreadsheet-safe.
pub struct ReportRows {
    schema: SchemaRef,
    source: StringBuilder,
    row: UInt64Builder,
    /// The physical line, for rows of files.
    line: Option<UInt64Builder>,
    rules: StringBuilder,
    reason: StringBuilder,
    fields: Vec<StringBuilder>,
    /// The text of a record that could not be split into fields, for rows of files.
    raw: Option<StringBuilder>,
    cells: Vec<Option<String>>,
}

impl ReportRows {
    /// Rows whose fields go under `original_headers`, placed as `place` says.
    pub fn new(original_headers: &[String], place: RowPlace) -> Self {
        let lines = place == RowPlace::FileLine;
        let leading: &[&str] = if lines {
            &REPORT_COLUMNS
        } else {
            &REPORT_ROW_COLUMNS
        };
        let fields: Vec<Field> = leading
            .iter()
            .map(|&name| match name {
                "row" => Field::new(name, DataType::UInt64, false),
                "line" => Field::new(name, DataType::UInt64, true),
                _ => Field::new(name, DataType::Utf8, false),
            })
            .chain(
                original_headers
                    .iter()
                    .map(|name| Field::new(name, DataType::Utf8, true)),
            )
            .chain(lines.then(|| Field::new(RAW_COLUMN, DataType::Utf8, true)))
            .collect();
        ReportRows {
            schema: Arc::new(Schema::new(fields)),
            source: StringBuilder::new(),
            row: UInt64Builder::new(),
            line: lines.then(UInt64Builder::new),
            rules: StringBuilder::new(),
            reason: StringBuilder::new(),
            fields: original_headers
                .iter()
                .map(|_| StringBuilder::new())
                .collect(),
            raw: lines.then(StringBuilder::new),
            cells: vec![None; original_headers.len()],
        }
    }

    /// The schema of the batches [`ReportRows::take`] gives.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Adds one row. `original_columns[i]` is where the record's field `i` goes (None:
    /// nowhere).
    pub fn push(
        &mut self,
        source: &str,
        record: &Record,
        original_columns: &[Option<usize>],
        rules: &[String],
        reason: &str,
    ) {
        self.source.append_value(source);
        self.row.append_value(record.row);
        if let Some(line) = &mut self.line {
            line.append_option(Some(record.line).filter(|&line| line > 0));
        }
        self.rules.append_value(rules.join("|"));
        self.reason.append_value(reason);
        self.cells.iter_mut().for_each(|cell| *cell = None);
        if let Some(builder) = &mut self.raw {
            builder.append_option(record.raw.as_deref().map(decode));
        }
        // As rejected.csv shows a record that could not be split: its text alone.
        let placed = record.raw.is_none() || self.raw.is_none();
        for (field, column) in record
            .fields
            .iter()
            .zip(original_columns)
            .filter(|_| placed)
        {
            if let Some(column) = column {
                if !field.is_empty() {
                    self.cells[*column] = Some(decode(field).into_owned());
                }
            }
        }
        for (builder, cell) in self.fields.iter_mut().zip(&self.cells) {
            builder.append_option(cell.as_deref());
        }
    }

    /// The rows gathered since the last take, or None when there are none.
    pub fn take(&mut self) -> Result<Option<RecordBatch>> {
        if self.row.len() == 0 {
            return Ok(None);
        }
        let place: Vec<ArrayRef> = [
            Some(Arc::new(self.source.finish()) as ArrayRef),
            Some(Arc::new(self.row.finish())),
            self.line
                .as_mut()
                .map(|line| Arc::new(line.finish()) as ArrayRef),
        ]
        .into_iter()
        .flatten()
        .collect();
        let columns: Vec<ArrayRef> = place
            .into_iter()
            .chain([
                Arc::new(self.rules.finish()) as ArrayRef,
                Arc::new(self.reason.finish()),
            ])
            .chain(
                self.fields
                    .iter_mut()
                    .map(|b| Arc::new(b.finish()) as ArrayRef),
            )
            .chain(
                self.raw
                    .as_mut()
                    .map(|raw| Arc::new(raw.finish()) as ArrayRef),
            )
            .collect();
        Ok(Some(RecordBatch::try_new(self.schema.clone(), columns)?))
    }
}

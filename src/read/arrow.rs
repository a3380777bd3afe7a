//! Arrow input: record batches of any column types that can be written as text (Parquet's and a
//! library caller's [`ArrowSource`]s) become chunks of records like CSV's. Values are written
//! faithfully: integers as written, decimals with their scale, booleans `true`/`false`, dates and
//! timestamps in ISO 8601; a null is an empty cell. A nested column cannot be a CSV column:
//! file-level error naming it.

use std::path::Path;
use std::sync::{Arc, Mutex};

use csv::ByteRecord;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, RecordBatchReader};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::error::ArrowError;

use super::{Chunk, FileDigest, InputId, Record, RecordProblem, CHUNK_BYTES, CHUNK_ROWS};
use crate::error::{Error, Result};

/// A named stream of Arrow record batches, one input of [`crate::import::Import::run_arrow`].
/// Its rows are numbered from 1 in the order they come; the name stands for a file name in
/// messages, in the rejected rows' `source` and in the summary.
///
/// Batches held in memory ([`ArrowSource::from_batches`]) can be read more than once, as the
/// set rules and the first passes over whole columns need; a reader
/// ([`ArrowSource::from_reader`]) is read once, and a run that needs two passes says so.
pub struct ArrowSource {
    name: String,
    schema: SchemaRef,
    data: ArrowData,
}

enum ArrowData {
    Batches(Vec<RecordBatch>),
    /// Taken by the first opening.
    Reader(Mutex<Option<Box<dyn RecordBatchReader + Send>>>),
}

impl std::fmt::Debug for ArrowSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArrowSource")
            .field("name", &self.name)
            .field("schema", &self.schema)
            .field("readable_again", &self.readable_again())
            .finish()
    }
}

impl ArrowSource {
    /// Batches held in memory, all with `schema`.
    pub fn from_batches(
        name: impl Into<String>,
        schema: SchemaRef,
        batches: impl IntoIterator<Item = RecordBatch>,
    ) -> Self {
        ArrowSource {
            name: name.into(),
            schema,
            data: ArrowData::Batches(batches.into_iter().collect()),
        }
    }

    /// One batch held in memory.
    pub fn from_batch(name: impl Into<String>, batch: RecordBatch) -> Self {
        let schema = batch.schema();
        ArrowSource::from_batches(name, schema, [batch])
    }

    /// A stream of batches (an Arrow C stream, a Parquet or IPC reader, a query's result),
    /// read once.
    pub fn from_reader(
        name: impl Into<String>,
        reader: impl RecordBatchReader + Send + 'static,
    ) -> Self {
        ArrowSource {
            name: name.into(),
            schema: reader.schema(),
            data: ArrowData::Reader(Mutex::new(Some(Box::new(reader)))),
        }
    }

    /// The source's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the source can be read from its start again (batches held in memory).
    pub fn readable_again(&self) -> bool {
        matches!(self.data, ArrowData::Batches(_))
    }

    /// Opens the source for reading as input `index`: its header now, its rows on
    /// [`ArrowInput::read_records`]. A reader opened before is refused.
    pub(crate) fn open(&self, index: usize) -> Result<ArrowInput> {
        let path = Path::new(&self.name);
        check_flat(&self.schema, path)?;
        let batches: Box<dyn Iterator<Item = std::result::Result<RecordBatch, ArrowError>> + Send> =
            match &self.data {
                ArrowData::Batches(batches) => Box::new(batches.clone().into_iter().map(Ok)),
                ArrowData::Reader(reader) => {
                    let taken = reader.lock().map(|mut r| r.take()).unwrap_or(None);
                    match taken {
                        Some(reader) => Box::new(reader),
                        None => {
                            return Err(Error::usage(
                                format!("the Arrow source '{}' is a stream, and it was read already", self.name),
                                "give its batches in memory (ArrowSource::from_batches), or leave out what reads the input twice",
                            ))
                        }
                    }
                }
            };
        Ok(ArrowInput {
            index: InputId::new(index),
            header: self
                .schema
                .fields()
                .iter()
                .map(|f| f.name().trim().to_owned())
                .collect(),
            name: self.name.clone(),
            schema: self.schema.clone(),
            batches,
        })
    }
}

/// An opened [`ArrowSource`] whose rows are still to come.
pub(crate) struct ArrowInput {
    pub(crate) index: InputId,
    pub(crate) header: Vec<String>,
    name: String,
    schema: SchemaRef,
    batches: Box<dyn Iterator<Item = std::result::Result<RecordBatch, ArrowError>> + Send>,
}

impl ArrowInput {
    /// Reads every row as a record, in chunks of at most [`CHUNK_ROWS`] rows and about
    /// [`CHUNK_BYTES`]; see `OpenInput::read_records`. The digest has no hash or bytes: the
    /// rows were never stored bytes.
    pub fn read_records(self, mut emit: impl FnMut(Chunk) -> bool) -> Result<Option<FileDigest>> {
        let path = Path::new(&self.name);
        let mut rows: u64 = 0;
        for batch in self.batches {
            let batch = batch.map_err(|e| {
                Error::input(
                    path,
                    format!("the Arrow stream failed: {e}"),
                    "check the source that produces the batches",
                )
            })?;
            let same = batch.schema().fields().len() == self.schema.fields().len()
                && batch
                    .schema()
                    .fields()
                    .iter()
                    .zip(self.schema.fields())
                    .all(|(a, b)| a.name() == b.name());
            if !same {
                return Err(Error::input(
                    path,
                    format!(
                        "a batch has the columns {:?}, the source's schema {:?}",
                        column_names(&batch.schema()),
                        column_names(&self.schema)
                    ),
                    "give every batch of a source the same columns",
                ));
            }
            check_flat(&batch.schema(), path)?;
            let step = rows_per_chunk(&batch);
            let mut at = 0;
            while at < batch.num_rows() {
                let len = step.min(batch.num_rows() - at);
                let chunk = chunk_of(&batch.slice(at, len), self.index, &mut rows)?;
                at += len;
                if !emit(chunk) {
                    return Ok(None);
                }
            }
        }
        Ok(Some(FileDigest {
            file: self.index,
            sha256: String::new(),
            bytes: 0,
            rows,
            multi_line: Default::default(),
            gzip_trailing_zeros: 0,
        }))
    }
}

fn column_names(schema: &SchemaRef) -> Vec<&str> {
    schema.fields().iter().map(|f| f.name().as_str()).collect()
}

/// Refuses a schema with a nested column: an import column holds one value.
pub(crate) fn check_flat(schema: &SchemaRef, path: &Path) -> Result<()> {
    match schema.fields().iter().find(|f| f.data_type().is_nested()) {
        Some(field) => Err(Error::input(
            path,
            format!(
                "column '{}' is nested ({}), and an import column holds one value",
                field.name(),
                field.data_type()
            ),
            "select or flatten the column before the import",
        )),
        None => Ok(()),
    }
}

/// Rows of `batch` per chunk: [`CHUNK_ROWS`], fewer when its rows are large.
fn rows_per_chunk(batch: &RecordBatch) -> usize {
    let row_bytes = batch.get_array_memory_size() / batch.num_rows().max(1);
    (CHUNK_BYTES / row_bytes.max(1)).clamp(1, CHUNK_ROWS)
}

/// Whether `value` holds U+FFFD (`EF BF BD`), the replacement character.
fn holds_replacement_character(value: &[u8]) -> bool {
    let mut rest = value;
    while let Some(at) = rest.iter().position(|&b| b == 0xEF) {
        if rest[at..].starts_with(b"\xEF\xBF\xBD") {
            return true;
        }
        rest = &rest[at + 1..];
    }
    false
}

/// The rows of `batch` as records of input `index`, numbered on from `rows`.
pub(crate) fn chunk_of(batch: &RecordBatch, index: InputId, rows: &mut u64) -> Result<Chunk> {
    let mut unreadable: Vec<Vec<(usize, String)>> = vec![Vec::new(); batch.num_rows()];
    let columns: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .enumerate()
        .map(|(c, column)| as_text(column, c, &mut unreadable))
        .collect::<Result<_>>()?;
    let mut chunk = Chunk::new(index);
    for (i, unreadable) in unreadable.iter_mut().enumerate() {
        *rows += 1;
        let mut fields = ByteRecord::with_capacity(64, columns.len());
        let mut bad = Vec::new();
        for (c, column) in columns.iter().enumerate() {
            let value: &[u8] = if column.is_null(i) {
                b""
            } else if let Some(text) = column.as_string_opt::<i32>() {
                text.value(i).as_bytes()
            } else {
                column.as_binary::<i32>().value(i)
            };
            // U+FFFD is what a lossy decoding (`encoding_errors="replace"`) leaves where the
            // source's bytes were not UTF-8: the value is damaged as a file's would be.
            if std::str::from_utf8(value).is_err() || holds_replacement_character(value) {
                bad.push(c);
            }
            fields.push_field(value);
        }
        let problem = if !unreadable.is_empty() {
            Some(RecordProblem::UnreadableValue {
                columns: std::mem::take(unreadable),
            })
        } else {
            (!bad.is_empty()).then_some(RecordProblem::InvalidEncoding { columns: bad })
        };
        chunk.records.push(Record {
            row: *rows,
            line: 0,
            fields,
            problem,
            raw: None,
        });
    }
    Ok(chunk)
}

/// A timestamp column with a time zone (Parquet's `isAdjustedToUTC`, pandas' and Polars'
/// zoned datetimes) as the instants it holds, in Voucherify's UTC form: `2026-01-01T09:00:00Z`,
/// with `.SSS` when there are milliseconds, and every digit of a finer fraction (which no
/// Voucherify form takes: `invalid_date` says so, rather than a silent rounding). Rendered in
/// its own zone instead (`+01:00`), every value failed the date rules.
fn zoned_as_utc(
    column: &ArrayRef,
    unit: datafusion::arrow::datatypes::TimeUnit,
    c: usize,
    unreadable: &mut [Vec<(usize, String)>],
) -> Result<ArrayRef> {
    use datafusion::arrow::array::Int64Array;
    use datafusion::arrow::datatypes::TimeUnit;
    // The values are instants since the epoch in UTC, whatever the zone says.
    let raw = cast(column, &DataType::Int64)?;
    let raw = raw
        .as_any()
        .downcast_ref::<Int64Array>()
        .ok_or_else(|| crate::error::Error::Invariant("a timestamp cast to Int64".into()))?;
    let per_second: i64 = match unit {
        TimeUnit::Second => 1,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    };
    let digits = per_second.ilog10() as usize;
    let texts: Vec<Option<String>> = (0..raw.len())
        .map(|row| {
            if raw.is_null(row) {
                return None;
            }
            let value = raw.value(row);
            let (seconds, fraction) = (value.div_euclid(per_second), value.rem_euclid(per_second));
            let Some(at) = chrono::DateTime::from_timestamp(seconds, 0) else {
                if let Some(slot) = unreadable.get_mut(row) {
                    slot.push((c, format!("the timestamp {value} is out of range")));
                }
                return None;
            };
            let whole = at.format("%Y-%m-%dT%H:%M:%S");
            Some(match fraction {
                0 => format!("{whole}Z"),
                f => {
                    let text = format!("{f:0digits$}");
                    let text = text.trim_end_matches('0');
                    // At least the milliseconds, Voucherify's own form.
                    format!("{whole}.{text:0<3}Z")
                }
            })
        })
        .collect();
    Ok(Arc::new(datafusion::arrow::array::StringArray::from(texts)))
}

/// A column as text: strings as they are, binary as bytes, everything else cast by Arrow. A
/// value Arrow cannot cast (a timestamp out of range) becomes empty, and `unreadable[row]`
/// records column `c` with why: one value rejects its row, never the run.
fn as_text(
    column: &ArrayRef,
    c: usize,
    unreadable: &mut [Vec<(usize, String)>],
) -> Result<ArrayRef> {
    let target = match column.data_type() {
        DataType::Utf8 | DataType::Binary => return Ok(column.clone()),
        DataType::Timestamp(unit, Some(_)) => return zoned_as_utc(column, *unit, c, unreadable),
        DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => {
            DataType::Binary
        }
        _ => DataType::Utf8,
    };
    match cast(column, &target) {
        Ok(cast) => Ok(cast),
        Err(_) if target == DataType::Utf8 => {
            // Value by value: the ones that cast keep their text.
            let mut texts: Vec<Option<String>> = Vec::with_capacity(column.len());
            for (row, slot) in unreadable.iter_mut().enumerate().take(column.len()) {
                match cast(&column.slice(row, 1), &DataType::Utf8) {
                    Ok(one) => texts.push(
                        one.as_string_opt::<i32>()
                            .filter(|t| t.is_valid(0))
                            .map(|t| t.value(0).to_owned()),
                    ),
                    Err(e) => {
                        slot.push((c, e.to_string()));
                        texts.push(None);
                    }
                }
            }
            Ok(Arc::new(datafusion::arrow::array::StringArray::from(texts)))
        }
        Err(e) => Err(e.into()),
    }
}

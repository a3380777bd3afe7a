//! Arrow input: record batches of any column types that can be written as text (Parquet's and a
//! library caller's [`ArrowSource`]s) become chunks of records like CSV's. Values are written
//! faithfully: integers as written, decimals with their scale, booleans `true`/`false`, dates and
//! timestamps in ISO 8601; a null is an empty cell. A nested column cannot be a CSV column:
//! file-level error naming it.

mod text;

use std::path::Path;
use std::sync::Mutex;

use csv::ByteRecord;
use datafusion::arrow::array::{ArrayRef, RecordBatch, RecordBatchReader};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;

use super::{Chunk, FileDigest, InputId, Record, RecordProblem, CHUNK_BYTES, CHUNK_ROWS};
use crate::error::{Error, Result};
use text::{as_text, damaged, TextColumn};

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
        let mut known_rows = None;
        let batches: Box<dyn Iterator<Item = std::result::Result<RecordBatch, ArrowError>> + Send> =
            match &self.data {
                ArrowData::Batches(batches) => {
                    known_rows = Some(batches.iter().map(|b| b.num_rows() as u64).sum());
                    Box::new(batches.clone().into_iter().map(Ok))
                }
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
            known_rows,
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
    /// The rows of batches held in memory (the run sizes its tables with it); unknown for a
    /// stream.
    known_rows: Option<u64>,
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
                let first = rows == 0;
                let mut chunk = chunk_of(&batch.slice(at, len), self.index, &mut rows)?;
                if first {
                    chunk.estimated_file_rows = self.known_rows;
                }
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

/// The rows of `batch` as records of input `index`, numbered on from `rows`.
pub(crate) fn chunk_of(batch: &RecordBatch, index: InputId, rows: &mut u64) -> Result<Chunk> {
    let mut unreadable: Vec<Vec<(usize, String)>> = vec![Vec::new(); batch.num_rows()];
    let columns: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .enumerate()
        .map(|(c, column)| as_text(column, c, &mut unreadable))
        .collect::<Result<_>>()?;
    let columns: Vec<TextColumn<'_>> = columns
        .iter()
        .map(|column| {
            TextColumn::of(column).ok_or_else(|| {
                Error::Invariant(format!("a {} column read as text", column.data_type()))
            })
        })
        .collect::<Result<_>>()?;
    // A column whose values are all whole UTF-8 without U+FFFD (nearly all are) is checked
    // once, not value by value.
    let clean: Vec<bool> = columns.iter().map(TextColumn::clean).collect();
    // Each record sized once for an average row (and a little more), not grown value by value.
    let row_bytes =
        columns.iter().map(TextColumn::value_bytes).sum::<usize>() / batch.num_rows().max(1);
    let record_bytes = row_bytes + row_bytes / 4 + 16;
    let mut chunk = Chunk::new(index);
    for (i, unreadable) in unreadable.iter_mut().enumerate() {
        *rows += 1;
        let mut fields = ByteRecord::with_capacity(record_bytes, columns.len());
        let mut bad = Vec::new();
        for (c, column) in columns.iter().enumerate() {
            let value = column.value(i).unwrap_or_default();
            if !clean[c] && damaged(value) {
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

//! Parquet input: any column types turned into text faithfully (integers as written, decimals
//! with their scale, booleans `true`/`false`, dates and timestamps in ISO 8601), row groups
//! streamed in chunks like CSV records. A nested column cannot be a CSV column: file-level
//! error naming it.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use csv::ByteRecord;
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use sha2::{Digest, Sha256};

use super::{hex, Chunk, FileDigest, Record, RecordProblem, CHUNK_BYTES, CHUNK_ROWS};
use crate::error::{Error, Result};

/// A Parquet file whose schema has been read and whose rows are still to come.
pub struct ParquetInput {
    pub index: usize,
    pub header: Vec<String>,
    path: std::path::PathBuf,
    reader: ParquetRecordBatchReader,
    rows: u64,
}

impl ParquetInput {
    pub fn open(index: usize, path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| {
            Error::input(
                path,
                format!("not a readable Parquet file: {e}"),
                "check that the file is complete (a Parquet file ends with its footer), or pass a CSV file",
            )
        })?;
        let schema = builder.schema().clone();
        let rows = u64::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
        for field in schema.fields() {
            if field.data_type().is_nested() {
                return Err(Error::input(
                    path,
                    format!(
                        "column '{}' is nested ({}), and an import column holds one value",
                        field.name(),
                        field.data_type()
                    ),
                    "select or flatten the column before the import",
                ));
            }
        }
        // Chunks bounded in bytes as well as rows, from the row groups' uncompressed size.
        let uncompressed: i64 = builder
            .metadata()
            .row_groups()
            .iter()
            .map(|g| g.total_byte_size())
            .sum();
        let row_bytes = (uncompressed.max(0) as u64 / rows.max(1)).max(1);
        let batch_rows = ((CHUNK_BYTES as u64 / row_bytes) as usize).clamp(1, CHUNK_ROWS);
        let reader = builder.with_batch_size(batch_rows).build().map_err(|e| {
            Error::input(
                path,
                format!("cannot read the Parquet file: {e}"),
                "check the file",
            )
        })?;
        Ok(ParquetInput {
            index,
            header: schema
                .fields()
                .iter()
                .map(|f| f.name().trim().to_owned())
                .collect(),
            path: path.to_owned(),
            reader,
            rows,
        })
    }

    /// Reads every row as a record, in chunks; see `OpenInput::read_records`.
    pub fn read_records(self, mut emit: impl FnMut(Chunk) -> bool) -> Result<Option<FileDigest>> {
        let mut rows: u64 = 0;
        for batch in self.reader {
            let batch = batch.map_err(|e| {
                Error::input(
                    &self.path,
                    format!("the Parquet data is broken: {e}"),
                    "re-create the file",
                )
            })?;
            let mut unreadable: Vec<Vec<(usize, String)>> = vec![Vec::new(); batch.num_rows()];
            let columns: Vec<ArrayRef> = batch
                .columns()
                .iter()
                .enumerate()
                .map(|(c, column)| as_text(column, c, &mut unreadable))
                .collect::<Result<_>>()?;
            let mut chunk = Chunk::new(self.index);
            if rows == 0 {
                chunk.estimated_file_rows = Some(self.rows);
            }
            for (i, unreadable) in unreadable.iter_mut().enumerate() {
                rows += 1;
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
                    if std::str::from_utf8(value).is_err() {
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
                    row: rows,
                    line: 0,
                    fields,
                    problem,
                    raw: None,
                });
            }
            if !chunk.records.is_empty() && !emit(chunk) {
                return Ok(None);
            }
        }
        // Hashed once read (not when opened for the header: an input is opened twice).
        let (sha256, bytes) = hash_file(&self.path)?;
        Ok(Some(FileDigest {
            file: self.index,
            sha256,
            bytes,
            rows,
        }))
    }
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
            Ok(std::sync::Arc::new(
                datafusion::arrow::array::StringArray::from(texts),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

fn hash_file(path: &Path) -> Result<(String, u64)> {
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok((hex(&hasher.finalize()), bytes))
}

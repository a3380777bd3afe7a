//! Parquet input: row groups streamed in chunks like CSV records, every column written as text
//! as [`super::arrow`] writes it.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use sha2::{Digest, Sha256};

use super::arrow::{check_flat, chunk_of};
use super::{hex, Chunk, FileDigest, InputId, CHUNK_BYTES, CHUNK_ROWS};
use crate::error::{Error, Result};

/// A Parquet file whose schema has been read and whose rows are still to come.
pub struct ParquetInput {
    pub index: InputId,
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
        check_flat(&schema, path)?;
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
            index: InputId::new(index),
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
            let first = rows == 0;
            let mut chunk = chunk_of(&batch, self.index, &mut rows)?;
            if first {
                chunk.estimated_file_rows = Some(self.rows);
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
            multi_line: Default::default(),
            gzip_trailing_zeros: 0,
        }))
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

//! Arrow data across the boundary as Arrow IPC streams (pyarrow writes and reads them; the
//! C data interface would need arrow's `ffi` feature, which rebuilds DataFusion): tables in,
//! Python record batch readers streamed in batch by batch, the run's rows out.

use std::io::Cursor;

use datafusion::arrow::array::{RecordBatch, RecordBatchReader};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// The schema and batches of one IPC stream.
pub fn read_stream(bytes: &[u8]) -> Result<(SchemaRef, Vec<RecordBatch>), ArrowError> {
    let reader = StreamReader::try_new(Cursor::new(bytes), None)?;
    let schema = reader.schema();
    let batches = reader.collect::<Result<Vec<_>, _>>()?;
    Ok((schema, batches))
}

/// `batches` (all of `schema`) as one IPC stream.
pub fn write_stream(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<Vec<u8>, ArrowError> {
    let mut writer = StreamWriter::try_new(Vec::new(), schema)?;
    for batch in batches {
        writer.write(batch)?;
    }
    writer.finish()?;
    writer.into_inner()
}

/// `batches` as one IPC stream per schema (column group), in the order the schemas first
/// come; each batch is written as it is (no concatenated copy) and freed once written.
pub fn write_groups(batches: Vec<RecordBatch>) -> Result<Vec<Vec<u8>>, ArrowError> {
    let mut groups: Vec<(SchemaRef, StreamWriter<Vec<u8>>)> = Vec::new();
    for batch in batches {
        let schema = batch.schema();
        let at = match groups.iter().position(|(s, _)| *s == schema) {
            Some(at) => at,
            None => {
                groups.push((schema.clone(), StreamWriter::try_new(Vec::new(), &schema)?));
                groups.len() - 1
            }
        };
        groups[at].1.write(&batch)?;
    }
    groups
        .into_iter()
        .map(|(_, mut writer)| {
            writer.finish()?;
            writer.into_inner()
        })
        .collect()
}

/// A Python iterator of IPC streams (one record batch each) read as the run asks for batches:
/// a `pyarrow.RecordBatchReader` is never held in memory whole. The GIL is taken for each
/// batch.
pub struct PythonBatches {
    schema: SchemaRef,
    iterator: Py<PyAny>,
}

impl PythonBatches {
    /// Batches of `schema` from `iterator`.
    pub fn new(schema: SchemaRef, iterator: Py<PyAny>) -> Self {
        PythonBatches { schema, iterator }
    }

    fn next_batch(&self) -> Option<Result<RecordBatch, ArrowError>> {
        Python::with_gil(|py| {
            let iterator = self.iterator.bind(py);
            let item = match iterator.call_method0("__next__") {
                Ok(item) => item,
                Err(e) if e.is_instance_of::<pyo3::exceptions::PyStopIteration>(py) => return None,
                Err(e) => return Some(Err(ArrowError::ExternalError(Box::new(e)))),
            };
            let bytes = match item.downcast::<PyBytes>() {
                Ok(bytes) => bytes.as_bytes().to_vec(),
                Err(e) => return Some(Err(ArrowError::ExternalError(Box::new(PyErr::from(e))))),
            };
            // Decoded without the GIL: other Python threads go on meanwhile.
            Some(py.allow_threads(move || {
                let (_, batches) = read_stream(&bytes)?;
                let schema = batches.first().map(RecordBatch::schema);
                match (batches.len(), schema) {
                    (1, Some(_)) => Ok(batches.into_iter().next().expect("one batch")),
                    (n, _) => Err(ArrowError::IpcError(format!(
                        "a batch of the Python stream came as {n} batches"
                    ))),
                }
            }))
        })
    }
}

impl Iterator for PythonBatches {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch()
    }
}

impl RecordBatchReader for PythonBatches {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

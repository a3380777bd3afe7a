//! Arrow data across the boundary through the Arrow C stream interface (the PyCapsule
//! protocol, `__arrow_c_stream__`): no serialization and no copy either way. A table's
//! batches come in as the buffers pyarrow, Polars or pandas hold (released to them when the
//! engine drops them); the run's rows go out as the buffers the engine built, which pyarrow
//! takes over.

use std::ffi::{CStr, CString};
use std::sync::Mutex;

use datafusion::arrow::array::{RecordBatch, RecordBatchIterator, RecordBatchReader};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::ffi_stream::{ArrowArrayStreamReader, FFI_ArrowArrayStream};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

/// The name the PyCapsule protocol gives a capsule holding an `ArrowArrayStream`.
const STREAM_CAPSULE: &CStr = c"arrow_array_stream";

/// Takes over the stream a `__arrow_c_stream__` capsule holds (the capsule is left released,
/// as the protocol asks of a consumer).
pub fn import(capsule: &Bound<'_, PyCapsule>) -> PyResult<ArrowArrayStreamReader> {
    if capsule.name()? != Some(STREAM_CAPSULE) {
        return Err(pyo3::exceptions::PyValueError::new_err(
            "the capsule is not an Arrow C stream ('arrow_array_stream')",
        ));
    }
    // SAFETY: a capsule named `arrow_array_stream` holds an `ArrowArrayStream` (the PyCapsule
    // protocol); `from_raw` moves it out and marks the capsule's copy released.
    let stream = unsafe { FFI_ArrowArrayStream::from_raw(capsule.pointer().cast()) };
    ArrowArrayStreamReader::try_new(stream).map_err(to_py)
}

/// Every batch of an imported stream, read without the GIL (a table's stream is C++ on the
/// producer's side; a Python-implemented one takes the GIL itself).
pub fn read_all(
    py: Python<'_>,
    reader: ArrowArrayStreamReader,
) -> PyResult<(SchemaRef, Vec<RecordBatch>)> {
    let schema = reader.schema();
    let batches = py
        .allow_threads(|| reader.collect::<Result<Vec<_>, ArrowError>>())
        .map_err(to_py)?;
    Ok((schema, batches))
}

fn to_py(e: ArrowError) -> PyErr {
    pyo3::exceptions::PyValueError::new_err(e.to_string())
}

/// Record batches handed to Python once, through `__arrow_c_stream__`
/// (`pyarrow.RecordBatchReader.from_stream(stream).read_all()` takes them without a copy).
#[pyclass(module = "voucher_import._native", frozen)]
pub struct ArrowStream {
    reader: Mutex<Option<Box<dyn RecordBatchReader + Send>>>,
}

impl ArrowStream {
    /// `batches` (all of `schema`), each handed over as it is: no concatenated copy.
    pub fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> Self {
        let reader = RecordBatchIterator::new(batches.into_iter().map(Ok), schema);
        ArrowStream {
            reader: Mutex::new(Some(Box::new(reader))),
        }
    }

    /// One stream per schema (column group), in the order the schemas first come.
    pub fn per_schema(batches: Vec<RecordBatch>) -> Vec<ArrowStream> {
        let mut groups: Vec<(SchemaRef, Vec<RecordBatch>)> = Vec::new();
        for batch in batches {
            let schema = batch.schema();
            match groups.iter_mut().find(|(s, _)| *s == schema) {
                Some((_, group)) => group.push(batch),
                None => groups.push((schema, vec![batch])),
            }
        }
        groups
            .into_iter()
            .map(|(schema, batches)| ArrowStream::new(schema, batches))
            .collect()
    }
}

#[pymethods]
impl ArrowStream {
    /// The batches as an Arrow C stream capsule; a stream is handed over once.
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        // The batches are given in their own schema; a consumer casts if it wants another.
        let _ = requested_schema;
        let reader = self
            .reader
            .lock()
            .map_err(|_| {
                pyo3::exceptions::PyRuntimeError::new_err("the stream's lock was poisoned")
            })?
            .take()
            .ok_or_else(|| {
                pyo3::exceptions::PyRuntimeError::new_err("the stream was handed over already")
            })?;
        // The capsule owns the stream: dropped unreleased (nobody took it), it releases it.
        PyCapsule::new(
            py,
            FFI_ArrowArrayStream::new(reader),
            Some(CString::from(STREAM_CAPSULE)),
        )
    }
}

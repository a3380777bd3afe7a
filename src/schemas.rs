//! The JSON Schemas of the documents the tool writes, generated from the Rust types that write
//! them: `summary.json` (also `prepare --json`), `check --json`, `upload.json`,
//! `upload --json`, and the `--json` error object. `schemas/` in the repository holds them as
//! files (a test keeps them equal to these).

use schemars::schema::RootSchema;
use schemars::{schema_for, JsonSchema};

use crate::error::ErrorReport;
use crate::folder::summary::{CheckReport, Summary};
use crate::upload::{UploadOutcome, UploadState};

/// What `--json` prints on stdout when the run stops with an error.
#[derive(Debug, Clone, serde::Serialize, JsonSchema)]
pub struct ErrorOutput {
    /// The error.
    pub error: ErrorReport,
}

/// Every document's schema, by the name of its file in `schemas/`.
pub fn json_schemas() -> Vec<(&'static str, RootSchema)> {
    vec![
        ("summary.schema.json", schema_for!(Summary)),
        ("check.schema.json", schema_for!(CheckReport)),
        ("upload-state.schema.json", schema_for!(UploadState)),
        ("upload-outcome.schema.json", schema_for!(UploadOutcome)),
        ("error.schema.json", schema_for!(ErrorOutput)),
    ]
}

//! `voucher-import` turns voucher files into CSV batches that Voucherify's "import vouchers to
//! an existing campaign" endpoint accepts without a failed row, and a report of every row that
//! cannot go in and why.
//!
//! Where to start:
//! - [`Import`]: a run described in code (the command line and the Python package build one
//!   too), on files or on Arrow record batches ([`Import::run_arrow`]); [`Import::resolve`] is
//!   the one place a run's configuration is made;
//! - [`Sink`]: where the judged rows go: [`FolderSink`] (the prepared folder `prepare`
//!   writes), [`CheckSink`] (what `check` reports), [`MemorySink`] (Arrow record batches);
//! - [`Summary`]: what a run did, as `summary.json` holds it; [`folder`]: the names of the
//!   files a prepared folder holds;
//! - [`upload`]: pushing a prepared folder to Voucherify;
//! - [`register_functions`]: Voucherify's value forms in a pipeline's own queries;
//! - [`Cancel`]: the handle that stops a run.
//!
//! Inside, one module per stage (crate-private): read -> normalize -> rules -> dedup -> write
//! -> report, driven by run.

#![warn(missing_docs)]

// The stages and their helpers: crate-private; what a caller needs is re-exported below, each
// item by one path.
mod campaign;
/// The `voucher-import` command line, behind the `cli` feature (default).
#[cfg(feature = "cli")]
pub mod cli;
mod config;
mod datafusion;
mod dedup;
mod error;
pub mod folder;
mod formats;
mod import;
mod interrupt;
mod judge;
mod normalize;
mod policy;
mod read;
mod reasons;
mod report;
mod rules;
mod run;
mod schemas;
mod sink;
mod suggest;
mod text;
mod text_file;
pub mod upload;
mod write;

pub use campaign::{Campaign, CampaignType};
pub use config::{DEFAULT_BATCH_ROWS, DEFAULT_CAMPAIGN_LIMIT, DEFAULT_MAX_FILE_BYTES};
pub use datafusion::register_functions;
pub use error::{Error, ErrorKind, ErrorReport, Result};
pub use folder::options::{ExistingCodes, GiftAmountReading, ImportOptions, DEFAULT_CANARY_ROWS};
pub use folder::origins::OriginRun;
pub use folder::project::ProjectRead;
pub use folder::summary::{
    read_summary, write_json, BatchInfo, CheckReport, ColumnGroup, ExistingInfo, InputInfo,
    Normalizations, RejectedEntry, RuleCounts, RuleExample, RuleExamples, Summary, SCHEMA_VERSION,
};
pub use folder::updates::UpdateRow;
pub use formats::{AmountUnit, DateOrder};
pub use import::{Import, ResolvedImport};
pub use interrupt::Cancel;
pub use normalize::headers::HeaderOptions;
pub use policy::{ExitPolicy, RejectedLimit};
pub use read::{ArrowSource, Format, ReadOptions, SplitOptions, TextEncoding};
pub use rules::format::{RuleBody, Severity};
pub use rules::metadata::MetadataSchema;
pub use rules::{Rule, RuleSet};
pub use run::{NoProgress, Progress, ProgressUpdate};
pub use schemas::{json_schemas, ErrorOutput};
pub use sink::{
    ArrowRows, CheckSink, FolderSink, JudgedChunk, KeptDocument, ListedRow, MemorySink, RunStart,
    Sink, Wants,
};
pub use suggest::closest;
pub use text::shorten;
pub use write::batches::BatchPiece;

/// What the stage benchmark (`benches/stages.rs`) times one by one; not an API.
#[doc(hidden)]
pub mod stages {
    pub use crate::dedup::Dedup;
    pub use crate::normalize::headers;
    pub use crate::normalize::values;
    pub use crate::normalize::TableLayout;
    pub use crate::read::{Chunk, OpenInput};
    pub use crate::rules::engine::RuleEngine;
    pub use crate::write::record::EncodedRows;
}

//! `voucher-import` turns voucher files into CSV batches that Voucherify's "import vouchers to
//! an existing campaign" endpoint accepts without a failed row, and a report of every row that
//! cannot go in and why.
//!
//! Where to start:
//! - [`import::Import`]: a run built in code, on files into a prepared folder
//!   ([`Import::run_files`](import::Import::run_files)), or on Arrow record batches into a
//!   [`sink::Sink`] ([`Import::run_arrow`](import::Import::run_arrow));
//! - [`datafusion::register_functions`]: Voucherify's value forms in a pipeline's own queries;
//! - [`interrupt::Cancel`]: the handle that stops a run.
//!
//! The pipeline, one module per stage:
//! [`read`] -> [`normalize`] -> [`rules`] -> [`dedup`] -> [`write`](mod@write) -> [`report`],
//! and [`upload`] of the written batches, driven by [`run`] from the configuration that
//! [`Import::resolve`](import::Import::resolve) makes (the command line builds an `Import` from
//! its arguments too).

#![warn(missing_docs)]

pub mod campaign;
pub mod config;
pub mod datafusion;
pub mod dedup;
pub mod error;
pub mod folder;
pub mod formats;
pub mod import;
pub mod interrupt;
pub mod normalize;
pub mod policy;
pub mod read;
pub mod report;
pub mod rules;
pub mod run;
pub mod schemas;
pub mod sink;
pub mod suggest;
pub mod upload;
pub mod write;

pub use error::{Error, Result};

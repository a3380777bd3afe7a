//! Integration tests: they drive the built `voucher-import` binary on the files in `fixtures/`.
//!
//! Golden outputs live in `tests/golden/<case>/`; regenerate them after an intended change with
//! `UPDATE_GOLDEN=1 cargo test --test tests` and review the diff.

mod util;

mod architecture;
mod arrow_api;
mod built_in_rules;
mod cli;
mod errors;
mod fidelity;
mod fidelity_golden;
mod forms;
mod golden;
mod interrupt;
mod json_errors;
mod library;
mod parquet;
mod pipelines;
mod progress;
mod promises;
mod real_world;
mod regression;
mod report;
mod rules;
mod schemas;
mod upload;

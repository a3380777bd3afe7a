//! Integration tests: they drive the built `voucher-import` binary on the files in `fixtures/`.
//!
//! Whole outputs are cases, one folder each in `tests/cases/<case>/` (`args`, `about`, `rows`,
//! `expected/`), run by `cases.rs`; regenerate the expected files after an intended change with
//! `UPDATE_GOLDEN=1 cargo test --test tests` and review the diff.

mod util;

mod architecture;
mod arrow_api;
mod built_in_rules;
mod cases;
mod cli;
mod damaged_and_irregular_csv;
mod errors;
mod every_row_accounted_for;
mod input_forms;
mod interrupt;
mod json_errors;
mod library;
mod parquet;
mod pipelines;
mod progress;
mod regression;
mod report;
mod rules;
mod schemas;
mod upload;
mod values_in_the_fidelity_cases;
mod values_voucherify_reads;
mod whole_outputs;

//! What the cases of `check` show beyond their expected outputs (`tests/cases/check_*`),
//! and the typos of --rename and --drop.

use crate::util::{run, run_case};

/// Data rows in the sample (one holds a quoted newline).
const SAMPLE_ROWS: usize = 22;

#[test]
fn check_prints_the_report_as_a_table() {
    let r = run_case("check_table");
    r.expect_code(1);
    assert!(!r.out().exists(), "check writes nothing");
}

#[test]
fn check_prints_json_for_pipelines() {
    let r = run_case("check_json");
    r.expect_code(1);
    let report: serde_json::Value = serde_json::from_str(&r.stdout()).expect("stdout is JSON");
    assert_eq!(report["summary"]["input_rows"], SAMPLE_ROWS as u64);
    assert_eq!(
        report["rejected_rows"].as_array().unwrap().len() as u64,
        report["summary"]["rejected"]
    );
}

#[test]
fn a_rename_or_drop_of_no_column_is_a_typo() {
    let r = run(&[
        "check",
        "fixtures/exports/other_platform.csv",
        "--campaign-type",
        "gift",
        "--rename",
        "voucher_cod=Code",
    ]);
    r.expect_code(2);
    assert!(r.stderr().contains("--rename voucher_cod: no input has a column 'voucher_cod': did you mean 'voucher_code'?"), "{}", r.describe());
    let r = run(&[
        "check",
        "fixtures/exports/other_platform.csv",
        "--campaign-type",
        "gift",
        "--rename",
        "voucher_code=Code",
        "--drop",
        "internal_ids",
    ]);
    r.expect_code(2);
    assert!(
        r.stderr()
            .contains("--drop internal_ids: no input has a column 'internal_ids'"),
        "{}",
        r.describe()
    );
}

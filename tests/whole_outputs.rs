//! Whole outputs of real runs, compared with `tests/golden/`.

use crate::util::{assert_golden, run, run_golden};

const SAMPLE: &str = "fixtures/sample/gift_cards.csv";
const EXISTING: &str = "fixtures/sample/existing_codes.csv";
/// Data rows in the sample (one holds a quoted newline).
const SAMPLE_ROWS: usize = 22;

#[test]
fn sample_gift_cards() {
    run_golden(
        "sample_gift_cards",
        &[
            "prepare",
            SAMPLE,
            "--campaign-type",
            "gift",
            "--existing",
            EXISTING,
            "--out",
            "{out}",
        ],
        1,
        SAMPLE_ROWS,
    );
}

#[test]
fn check_prints_the_report_as_a_table() {
    let r = run(&[
        "check",
        SAMPLE,
        "--campaign-type",
        "GIFT_VOUCHERS",
        "--existing",
        EXISTING,
    ]);
    r.expect_code(1);
    assert!(!r.out().exists(), "check writes nothing");
    assert_golden("check_table", &r);
}

#[test]
fn check_prints_json_for_pipelines() {
    let r = run(&[
        "check",
        SAMPLE,
        "--campaign-type",
        "gift",
        "--existing",
        EXISTING,
        "--json",
    ]);
    r.expect_code(1);
    let report: serde_json::Value = serde_json::from_str(&r.stdout()).expect("stdout is JSON");
    assert_eq!(report["summary"]["input_rows"], SAMPLE_ROWS as u64);
    assert_eq!(
        report["rejected_rows"].as_array().unwrap().len() as u64,
        report["summary"]["rejected"]
    );
    assert_golden("check_json", &r);
}

#[test]
fn small_files_split_into_batches_and_a_record_too_large_is_rejected() {
    // 190 bytes hold the header and one or two rows; the row with the two-line note does not fit.
    run_golden(
        "small_batches",
        &[
            "prepare",
            SAMPLE,
            "--campaign-type",
            "gift",
            "--max-file-bytes",
            "190",
            "--out",
            "{out}",
        ],
        1,
        SAMPLE_ROWS,
    );
}

#[test]
fn batch_rows_caps_the_rows_per_file() {
    run_golden(
        "batch_rows",
        &[
            "prepare",
            SAMPLE,
            "--campaign-type",
            "gift",
            "--batch-rows",
            "3",
            "--out",
            "{out}",
        ],
        1,
        SAMPLE_ROWS,
    );
}

#[test]
fn campaign_object_brings_type_and_codes_already_in_it() {
    // vouchers_count 99995 of 100000: five more codes fit, the rest is over the limit.
    run_golden(
        "campaign_limit",
        &[
            "prepare",
            SAMPLE,
            "--campaign",
            "fixtures/sample/campaign.json",
            "--out",
            "{out}",
        ],
        1,
        SAMPLE_ROWS,
    );
}

#[test]
fn case_insensitive_codes_catch_duplicates_across_case() {
    run_golden(
        "case_insensitive",
        &[
            "prepare",
            SAMPLE,
            "--campaign-type",
            "gift",
            "--case-insensitive-codes",
            "--out",
            "{out}",
        ],
        1,
        SAMPLE_ROWS,
    );
}

#[test]
fn several_files_are_one_import() {
    run_golden(
        "multi_file",
        &[
            "prepare",
            "fixtures/multi/part_a.csv",
            "fixtures/multi/part_b.csv",
            "--campaign-type",
            "discount",
            "--out",
            "{out}",
        ],
        1,
        5,
    );
}

#[test]
fn major_amount_unit_takes_two_decimals() {
    run_golden(
        "amounts_major",
        &[
            "prepare",
            "fixtures/sample/amounts_major.csv",
            "--campaign-type",
            "gift",
            "--amount-unit",
            "major",
            "--out",
            "{out}",
        ],
        1,
        4,
    );
}

#[test]
fn minor_amount_unit_refuses_decimals() {
    run_golden(
        "amounts_minor",
        &[
            "prepare",
            "fixtures/sample/amounts_major.csv",
            "--campaign-type",
            "gift",
            "--out",
            "{out}",
        ],
        1,
        4,
    );
}

#[test]
fn a_header_without_rows_is_an_empty_import() {
    run_golden(
        "header_only",
        &[
            "prepare",
            "fixtures/sample/header_only.csv",
            "--campaign-type",
            "discount",
            "--out",
            "{out}",
        ],
        0,
        0,
    );
}

#[test]
fn rules_lists_every_rule_with_its_sql() {
    let r = run(&["rules"]);
    r.expect_code(0);
    assert_golden("rules", &r);
}

#[test]
fn rename_and_drop_convert_another_platforms_export() {
    run_golden(
        "rename_and_drop",
        &[
            "prepare",
            "fixtures/exports/other_platform.csv",
            "--campaign-type",
            "gift",
            "--rename",
            "voucher_code=Code",
            "--rename",
            "state=Active",
            "--rename",
            "Region Name=region",
            "--rename",
            "balance_cents=Gift Amount",
            "--drop",
            "internal id",
            "--out",
            "{out}",
        ],
        1,
        3,
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

#[test]
fn metadata_schema_checks_types_requirements_and_constraints() {
    run_golden(
        "metadata_schema",
        &[
            "prepare",
            "fixtures/schema/cards_with_metadata.csv",
            "--campaign-type",
            "discount",
            "--metadata-schema",
            "fixtures/schema/metadata_schemas.json",
            "--out",
            "{out}",
        ],
        1,
        8,
    );
}

#[test]
fn a_voucherify_export_converts_into_a_campaign_import() {
    run_golden(
        "voucherify_export",
        &[
            "prepare",
            "fixtures/exports/voucherify_gift_export.csv",
            "--campaign-type",
            "gift",
            "--out",
            "{out}",
        ],
        1,
        5,
    );
}

#[test]
fn a_title_case_loyalty_export_converts_too() {
    run_golden(
        "voucherify_export_loyalty",
        &[
            "prepare",
            "fixtures/exports/voucherify_loyalty_export_title_case.csv",
            "--campaign-type",
            "loyalty",
            "--out",
            "{out}",
        ],
        1,
        3,
    );
}

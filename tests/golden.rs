//! Whole outputs of real runs, compared with `tests/golden/`.

use crate::util::{assert_conserved, assert_golden, run};

const SAMPLE: &str = "fixtures/sample/gift_cards.csv";
const EXISTING: &str = "fixtures/sample/existing_codes.csv";
/// Data rows in the sample (one holds a quoted newline).
const SAMPLE_ROWS: usize = 22;

#[test]
fn sample_gift_cards() {
    let r = run(&[
        "prepare",
        SAMPLE,
        "--campaign-type",
        "gift",
        "--existing",
        EXISTING,
        "--out",
        "{out}",
    ]);
    r.expect_code(1);
    assert_conserved(&r.out(), SAMPLE_ROWS);
    assert_golden("sample_gift_cards", &r);
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
    let r = run(&[
        "prepare",
        SAMPLE,
        "--campaign-type",
        "gift",
        "--max-file-bytes",
        "190",
        "--out",
        "{out}",
    ]);
    r.expect_code(1);
    assert_conserved(&r.out(), SAMPLE_ROWS);
    assert_golden("small_batches", &r);
}

#[test]
fn batch_rows_caps_the_rows_per_file() {
    let r = run(&[
        "prepare",
        SAMPLE,
        "--campaign-type",
        "gift",
        "--batch-rows",
        "3",
        "--out",
        "{out}",
    ]);
    r.expect_code(1);
    assert_conserved(&r.out(), SAMPLE_ROWS);
    assert_golden("batch_rows", &r);
}

#[test]
fn campaign_object_brings_type_and_codes_already_in_it() {
    // vouchers_count 99995 of 100000: five more codes fit, the rest is over the limit.
    let r = run(&[
        "prepare",
        SAMPLE,
        "--campaign",
        "fixtures/sample/campaign.json",
        "--out",
        "{out}",
    ]);
    r.expect_code(1);
    assert_conserved(&r.out(), SAMPLE_ROWS);
    assert_golden("campaign_limit", &r);
}

#[test]
fn case_insensitive_codes_catch_duplicates_across_case() {
    let r = run(&[
        "prepare",
        SAMPLE,
        "--campaign-type",
        "gift",
        "--case-insensitive-codes",
        "--out",
        "{out}",
    ]);
    r.expect_code(1);
    assert_conserved(&r.out(), SAMPLE_ROWS);
    assert_golden("case_insensitive", &r);
}

#[test]
fn several_files_are_one_import() {
    let r = run(&[
        "prepare",
        "fixtures/multi/part_a.csv",
        "fixtures/multi/part_b.csv",
        "--campaign-type",
        "discount",
        "--out",
        "{out}",
    ]);
    r.expect_code(1);
    assert_conserved(&r.out(), 5);
    assert_golden("multi_file", &r);
}

#[test]
fn major_amount_unit_takes_two_decimals() {
    let r = run(&[
        "prepare",
        "fixtures/sample/amounts_major.csv",
        "--campaign-type",
        "gift",
        "--amount-unit",
        "major",
        "--out",
        "{out}",
    ]);
    r.expect_code(1);
    assert_conserved(&r.out(), 4);
    assert_golden("amounts_major", &r);
}

#[test]
fn minor_amount_unit_refuses_decimals() {
    let r = run(&[
        "prepare",
        "fixtures/sample/amounts_major.csv",
        "--campaign-type",
        "gift",
        "--out",
        "{out}",
    ]);
    r.expect_code(1);
    assert_conserved(&r.out(), 4);
    assert_golden("amounts_minor", &r);
}

#[test]
fn a_header_without_rows_is_an_empty_import() {
    let r = run(&[
        "prepare",
        "fixtures/sample/header_only.csv",
        "--campaign-type",
        "promotion",
        "--out",
        "{out}",
    ]);
    r.expect_code(0);
    assert_conserved(&r.out(), 0);
    assert_golden("header_only", &r);
}

#[test]
fn rules_lists_every_rule_with_its_sql() {
    let r = run(&["rules"]);
    r.expect_code(0);
    assert_golden("rules", &r);
}

#[test]
fn rename_and_drop_convert_another_platforms_export() {
    let r = run(&[
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
    ]);
    r.expect_code(1);
    assert_conserved(&r.out(), 3);
    assert_golden("rename_and_drop", &r);
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
    let r = run(&[
        "prepare",
        "fixtures/schema/cards_with_metadata.csv",
        "--campaign-type",
        "discount",
        "--metadata-schema",
        "fixtures/schema/metadata_schemas.json",
        "--out",
        "{out}",
    ]);
    r.expect_code(1);
    assert_conserved(&r.out(), 8);
    assert_golden("metadata_schema", &r);
}

#[test]
fn a_voucherify_export_converts_into_a_campaign_import() {
    let r = run(&[
        "prepare",
        "fixtures/exports/voucherify_gift_export.csv",
        "--campaign-type",
        "gift",
        "--out",
        "{out}",
    ]);
    r.expect_code(1);
    assert_conserved(&r.out(), 5);
    assert_golden("voucherify_export", &r);
}

#[test]
fn a_title_case_loyalty_export_converts_too() {
    let r = run(&[
        "prepare",
        "fixtures/exports/voucherify_loyalty_export_title_case.csv",
        "--campaign-type",
        "loyalty",
        "--out",
        "{out}",
    ]);
    r.expect_code(1);
    assert_conserved(&r.out(), 3);
    assert_golden("voucherify_export_loyalty", &r);
}

//! What `prepare` states about the readings only the project knows: dates with an offset
//! written in UTC exactly, dates without a zone counted and named (`--dates-in` converts them),
//! `Gift Amount` as the initial amount or the balance, `Redeemed Quantity` that a loyalty
//! import skips, a schema's property spelled like a known column, the default canary.

use std::fs;

use crate::util::{assert_conserved, csv_records, run, Run};

/// `prepare INPUT --campaign-type TYPE EXTRA... --out {out}`.
fn prepare(input: &str, campaign_type: &str, extra: &[&str]) -> Run {
    let mut args = vec!["prepare", input, "--campaign-type", campaign_type];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--out", "{out}"]);
    run(&args)
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn a_date_with_an_offset_is_written_in_utc_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        &dir,
        "dates.csv",
        "Code,Start Date,Expiration Date\n\
         D-1,2026-01-01T10:00:00+02:00,2026-12-31T23:59:59.500-05:30\n\
         D-2,2026-01-01T10:00:00Z,2026-12-31\n",
    );
    let r = prepare(&input, "discount", &[]);
    r.expect_code(0);
    let batch = csv_records(&fs::read(r.out().join("import/part-00001.csv")).unwrap());
    assert_eq!(
        batch[0],
        ["D-1", "2026-01-01T08:00:00Z", "2027-01-01T05:29:59.500Z"]
    );
    assert_eq!(batch[1], ["D-2", "2026-01-01T10:00:00Z", "2026-12-31"]);
    let summary: serde_json::Value =
        serde_json::from_slice(&fs::read(r.out().join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["normalizations"]["dates_to_utc"], 2, "{summary}");
    assert_eq!(
        summary["normalizations"]["dates_without_zone"], 1,
        "{summary}"
    );
    assert!(
        r.stderr().contains("written without a time zone") && r.stderr().contains("--dates-in"),
        "{}",
        r.describe()
    );
    assert_conserved(&r.out(), 2);
}

#[test]
fn dates_in_a_zone_are_written_in_utc_and_a_zone_that_is_none_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        &dir,
        "dates.csv",
        "Code,Start Date\nW-1,2026-01-15T10:00\nW-2,2026-07-15\n",
    );
    let r = prepare(&input, "discount", &["--dates-in", "Europe/Warsaw"]);
    r.expect_code(0);
    let batch = csv_records(&fs::read(r.out().join("import/part-00001.csv")).unwrap());
    assert_eq!(batch[0], ["W-1", "2026-01-15T09:00:00Z"]);
    assert_eq!(batch[1], ["W-2", "2026-07-14T22:00:00Z"]);
    let summary = fs::read_to_string(r.out().join("summary.json")).unwrap();
    assert!(
        summary.contains("\"dates_in\": \"Europe/Warsaw\""),
        "{summary}"
    );

    let r = prepare(&input, "discount", &["--dates-in", "Mars/Olympus"]);
    r.expect_code(2);
    assert!(
        r.stderr().contains("'Mars/Olympus' is not a time zone"),
        "{}",
        r.describe()
    );
    assert!(!r.out().exists(), "nothing written");
}

#[test]
fn redeemed_over_balance_applies_to_the_initial_amount_only() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        &dir,
        "cards.csv",
        "Code,Gift Amount,Redeemed Amount\nB-1,1000,5000\nB-2,1000,0\n",
    );
    let initial = prepare(&input, "gift", &[]);
    initial.expect_code(1);
    assert!(
        fs::read_to_string(initial.out().join("rejected.csv"))
            .unwrap()
            .contains("redeemed_over_balance"),
        "{}",
        initial.describe()
    );
    let balance = prepare(&input, "gift", &["--gift-amount", "balance"]);
    balance.expect_code(0);
    assert_conserved(&balance.out(), 2);
    let summary = fs::read_to_string(balance.out().join("summary.json")).unwrap();
    assert!(
        summary.contains("\"gift_amount\": \"balance\""),
        "{summary}"
    );
    assert!(!summary.contains("\"redeemed_over_balance\""), "{summary}");
}

#[test]
fn redeemed_quantity_is_left_out_of_loyalty_batches_with_its_values_counted() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        &dir,
        "cards.csv",
        "Code,Loyalty Points,Redeemed Quantity\nL-1,100,2\nL-2,50,\nL-3,70,1\n",
    );
    let r = prepare(&input, "loyalty", &[]);
    r.expect_code(0);
    let batch = csv_records(&fs::read(r.out().join("import/part-00001.csv")).unwrap());
    assert_eq!(batch[0], ["L-1", "100"]);
    assert!(
        r.stderr().contains("column 'Redeemed Quantity' is left out of the import (Voucherify's loyalty card import does not import Redeemed Quantity), and 2 of its cells held a value"),
        "{}",
        r.describe()
    );
    assert_conserved(&r.out(), 3);
}

#[test]
fn a_schema_property_spelled_like_a_known_column_is_metadata_and_an_ambiguous_header_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let schema = write(
        &dir,
        "schema.json",
        r#"{"related_object": "voucher", "properties": {"CATEGORY": {"type": "string", "optional": true}}}"#,
    );
    let input = write(
        &dir,
        "codes.csv",
        "Code,Category,CATEGORY\nS-1,summer,gold\n",
    );
    let r = prepare(&input, "discount", &["--metadata-schema", &schema]);
    r.expect_code(0);
    let batch = fs::read_to_string(r.out().join("import/part-00001.csv")).unwrap();
    assert!(batch.starts_with("Code,Category,CATEGORY\r\n"), "{batch}");

    let ambiguous = write(&dir, "ambiguous.csv", "Code,category\nS-1,gold\n");
    let r = prepare(&ambiguous, "discount", &["--metadata-schema", &schema]);
    r.expect_code(2);
    assert!(
        r.stderr()
            .contains("could be the import column 'Category' or the metadata property 'CATEGORY'")
            && r.stderr().contains("--rename 'category=CATEGORY'"),
        "{}",
        r.describe()
    );
}

#[test]
fn a_title_case_default_export_refused_as_the_template_names_from_voucherify_export() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        &dir,
        "export.csv",
        "Code,Voucher Type,Value,Discount Type\nE-1,GIFT_VOUCHER,2000.00,\n",
    );
    let r = prepare(&input, "gift", &[]);
    r.expect_code(2);
    assert!(
        r.stderr().contains("--from voucherify-export"),
        "{}",
        r.describe()
    );
    let converted = prepare(&input, "gift", &["--from", "voucherify-export"]);
    converted.expect_code(0);
}

#[test]
fn batch_one_is_a_canary_only_when_a_column_needs_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut plain = String::from("Code,Category,Active\n");
    let mut amounts = String::from("Code,Gift Amount\n");
    for i in 0..30 {
        plain.push_str(&format!("P-{i},summer,true\n"));
        amounts.push_str(&format!("A-{i},1000\n"));
    }
    let plain = write(&dir, "plain.csv", &plain);
    let amounts = write(&dir, "amounts.csv", &amounts);
    let r = prepare(&plain, "gift", &[]);
    r.expect_code(0);
    let summary = fs::read_to_string(r.out().join("summary.json")).unwrap();
    assert!(!summary.contains("canary_rows"), "{summary}");
    let r = prepare(&amounts, "gift", &[]);
    r.expect_code(0);
    let first = csv_records(&fs::read(r.out().join("import/part-00001.csv")).unwrap());
    let second = csv_records(&fs::read(r.out().join("import/part-00002.csv")).unwrap());
    assert_eq!((first.len(), second.len()), (20, 10));
    assert_conserved(&r.out(), 30);
    let r = prepare(&amounts, "gift", &["--canary-rows", "0"]);
    r.expect_code(0);
    assert!(!r.out().join("import/part-00002.csv").exists());
}

//! The built-in rules, one test each, named after the rule: each builds the input its
//! `-- example:` line in `sql/<rule>.sql` describes, runs `prepare` on it, and checks that the
//! row is rejected (or warned of) by that rule with exactly the reason the example states. So
//! the examples `explain` prints stay true, and no built-in rule goes untested
//! (`every_built_in_rule_has_its_test`).

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::util::{BIN, ROOT};

/// A rule's `-- example:` line: what is given, and the reason the rule gives.
struct Example {
    given: String,
    reason: String,
}

fn example(rule: &str) -> Example {
    let path = Path::new(ROOT).join("sql").join(format!("{rule}.sql"));
    let text = fs::read_to_string(&path).unwrap();
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("-- example: "))
        .unwrap_or_else(|| panic!("{} has no example line", path.display()));
    let (given, reason) = line
        .split_once("  ->  ")
        .unwrap_or_else(|| panic!("'{line}' is not GIVEN  ->  REASON"));
    Example {
        given: given.to_owned(),
        reason: reason.to_owned(),
    }
}

/// A row of rejected.csv or warnings.csv.
#[derive(Debug)]
struct Finding {
    file: String,
    row: u64,
    rules: Vec<String>,
    reason: String,
}

/// Which report a rule's findings go to.
#[derive(Clone, Copy)]
enum Report {
    Rejected,
    Warnings,
}

/// Runs `prepare` in a folder holding `files` (by name), with `args` after the inputs, and
/// gives the findings of `report`.
fn prepare(
    files: &[(&str, &[u8])],
    inputs: &[&str],
    args: &[&str],
    report: Report,
) -> Vec<Finding> {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in files {
        fs::write(dir.path().join(name), bytes).unwrap();
    }
    let output = Command::new(BIN)
        .arg("prepare")
        .args(inputs)
        .args(args)
        .args(["--out", "out", "--quiet"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "prepare {inputs:?} {args:?}: {stderr}"
    );
    let name = match report {
        Report::Rejected => "rejected.csv",
        Report::Warnings => "warnings.csv",
    };
    let path = dir.path().join("out").join(name);
    let Ok(bytes) = fs::read(&path) else {
        return Vec::new();
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(&bytes[..]);
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            Finding {
                file: r[0].to_owned(),
                row: r[1].parse().unwrap(),
                rules: r[3].split('|').map(str::to_owned).collect(),
                reason: r[4].to_owned(),
            }
        })
        .collect()
}

/// The rule's example holds: the row at `row` is found by `rule` with the example's reason.
fn assert_example(rule: &str, findings: &[Finding], row: u64) {
    let example = example(rule);
    let found = findings
        .iter()
        .find(|f| f.row == row && f.rules.iter().any(|r| r == rule))
        .unwrap_or_else(|| {
            panic!(
                "{rule}: row {row} ({}) is not among the findings {findings:#?}",
                example.given
            )
        });
    assert_eq!(
        found.reason, example.reason,
        "{rule}: the reason differs from the example ({}) in {}",
        example.given, found.file
    );
}

const GIFT: [&str; 2] = ["--campaign-type", "gift"];

#[test]
fn every_built_in_rule_has_its_test() {
    let tests = fs::read_to_string(Path::new(ROOT).join("tests/built_in_rules.rs")).unwrap();
    for entry in fs::read_dir(Path::new(ROOT).join("sql")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "sql") {
            let rule = path.file_stem().unwrap().to_string_lossy();
            assert!(
                tests.contains(&format!("fn {rule}()")),
                "the built-in rule {rule} has no test named after it"
            );
            example(&rule);
        }
    }
}

#[test]
fn active_boolean() {
    let csv = b"Code,Active\nGC-0001,true\nGC-0009,yes\n";
    let findings = prepare(
        &[("cards.csv", csv)],
        &["cards.csv"],
        &GIFT,
        Report::Rejected,
    );
    assert_example("active_boolean", &findings, 2);
}

#[test]
fn case_variant_code() {
    let mut csv = String::from("Code,Active\nGC-0001,true\n");
    for i in 2..=8 {
        csv.push_str(&format!("GC-01{i:02},true\n"));
    }
    csv.push_str("gc-0001,true\n");
    let findings = prepare(
        &[("cards.csv", csv.as_bytes())],
        &["cards.csv"],
        &GIFT,
        Report::Warnings,
    );
    assert_example("case_variant_code", &findings, 9);
}

#[test]
fn excel_mangled_code() {
    // Long all-digit codes a spreadsheet kept, and text that only looks alike, are left alone.
    let csv = b"Code,Active\n123456789012,true\n1.23457E+12,true\n1e+5x,true\nE+12,true\n";
    let findings = prepare(
        &[("cards.csv", csv)],
        &["cards.csv"],
        &GIFT,
        Report::Warnings,
    );
    assert_example("excel_mangled_code", &findings, 2);
    assert_eq!(findings.len(), 1, "{findings:#?}");
}

#[test]
fn excel_mangled_code_finds_a_code_stripped_of_the_zeros_an_existing_code_has() {
    // `123` is `000123` of the project stripped; `124` and `0124` match nothing.
    let csv = b"Code,Active
124,true
123,true
0124,true
";
    let codes = b"code
000123
OLD-1
";
    let findings = prepare(
        &[("cards.csv", csv), ("codes.csv", codes)],
        &["cards.csv"],
        &["--campaign-type", "gift", "--existing", "codes.csv"],
        Report::Warnings,
    );
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(
        (findings[0].row, findings[0].rules.as_slice()),
        (2, &["excel_mangled_code".to_owned()][..])
    );
    assert_eq!(
        findings[0].reason,
        "Code '123' looks like a number a spreadsheet stripped of its leading zeros: with them it is '000123', already in the project (listed in codes.csv): export the code column as text and give the original codes"
    );
}

#[test]
fn excel_mangled_code_finds_a_code_shorter_than_its_zero_padded_siblings() {
    // The padded siblings come after the stripped code: the whole chunk is looked at first.
    let csv = b"Code,Active
4567,true
000123,true
001999,true
123456,true
A-12,true
";
    let findings = prepare(
        &[("cards.csv", csv)],
        &["cards.csv"],
        &GIFT,
        Report::Warnings,
    );
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].row, 1);
    assert_eq!(
        findings[0].reason,
        "Code '4567' looks like a number a spreadsheet stripped of its leading zeros: the column's codes are zero-padded to 6 digits (e.g. '000123'): export the code column as text and give the original codes"
    );
}

#[test]
fn excel_mangled_code_leaves_plain_numbers_alone() {
    // Numbers of any width with no padded sibling, and one padded code alone, are no pattern.
    let csv = b"Code,Active
1,true
22,true
333333,true
0444,true
";
    let findings = prepare(
        &[("cards.csv", csv)],
        &["cards.csv"],
        &GIFT,
        Report::Warnings,
    );
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn code_required() {
    let csv = b"Code,Active\nGC-0001,true\n,true\n";
    let findings = prepare(
        &[("cards.csv", csv)],
        &["cards.csv"],
        &GIFT,
        Report::Rejected,
    );
    assert_example("code_required", &findings, 2);
}

#[test]
fn duplicate_code() {
    let mut csv = String::from("Code,Active\n");
    for i in 1..=14 {
        csv.push_str(&format!("GC-{i:04},true\n"));
    }
    csv.push_str("GC-0001,true\n");
    let findings = prepare(
        &[("cards.csv", csv.as_bytes())],
        &["cards.csv"],
        &GIFT,
        Report::Rejected,
    );
    assert_example("duplicate_code", &findings, 15);
}

#[test]
fn empty_in_boolean_column() {
    let csv = b"Code,newsletter\nGC-0001,true\nGC-0002,true\nGC-0003,\n";
    let findings = prepare(
        &[("cards.csv", csv)],
        &["cards.csv"],
        &GIFT,
        Report::Warnings,
    );
    assert_example("empty_in_boolean_column", &findings, 3);
}

#[test]
fn existing_code() {
    let csv = b"Code,Active\nOLD-0001X,true\nOLD-0002,true\n";
    let codes = b"code\nOLD-0001\nOLD-0002\n";
    let findings = prepare(
        &[("cards.csv", csv), ("codes.csv", codes)],
        &["cards.csv"],
        &["--campaign-type", "gift", "--existing", "codes.csv"],
        Report::Rejected,
    );
    assert_example("existing_code", &findings, 2);
}

#[test]
fn invalid_date() {
    let csv = b"Code,Start Date\nGC-0001,2026-12-31\nGC-0002,31/12/2026\n";
    let findings = prepare(
        &[("cards.csv", csv)],
        &["cards.csv"],
        &GIFT,
        Report::Rejected,
    );
    assert_example("invalid_date", &findings, 2);
}

#[test]
fn invalid_encoding() {
    let csv = b"Code,Category\nGC-0001,cafe\nGC-0002,caf\xE9\n";
    let findings = prepare(
        &[("cards.csv", csv)],
        &["cards.csv"],
        &GIFT,
        Report::Rejected,
    );
    assert_example("invalid_encoding", &findings, 2);
}

#[test]
fn invalid_number() {
    let csv = b"Code,Gift Amount\nGC-0001,1250\nGC-0002,\"12,50\"\n";
    let findings = prepare(
        &[("cards.csv", csv)],
        &["cards.csv"],
        &GIFT,
        Report::Rejected,
    );
    assert_example("invalid_number", &findings, 2);
}

#[test]
fn malformed_record() {
    let header = "Code,Active,Category,Gift Amount,Redeemed Amount,Start Date,Expiration Date,region,tier,note";
    let csv = format!("{header}\nGC-0001,true,summer,100,0,,,EU,gold,x\nGC-0017,true,summer\n");
    let findings = prepare(
        &[("cards.csv", csv.as_bytes())],
        &["cards.csv"],
        &GIFT,
        Report::Rejected,
    );
    assert_example("malformed_record", &findings, 2);
}

/// A voucher metadata schema with the properties the metadata rules' examples name.
const SCHEMA: &str = r#"{"id": "ms_voucher", "related_object": "voucher", "allow_defined_only": false,
  "properties": {
    "tier": {"type": "string", "array": false, "optional": true, "eq": ["gold", "silver"]},
    "region": {"type": "string", "array": false, "optional": false},
    "priority": {"type": "number", "array": false, "optional": true}
  }}"#;

fn with_schema(csv: &[u8], rule_row: u64, rule: &str) {
    let findings = prepare(
        &[("cards.csv", csv), ("schema.json", SCHEMA.as_bytes())],
        &["cards.csv"],
        &[
            "--campaign-type",
            "gift",
            "--metadata-schema",
            "schema.json",
        ],
        Report::Rejected,
    );
    assert_example(rule, &findings, rule_row);
}

#[test]
fn metadata_constraint() {
    with_schema(
        b"Code,tier,region\nGC-0001,gold,EU\nGC-0002,platinum,EU\n",
        2,
        "metadata_constraint",
    );
}

#[test]
fn metadata_required() {
    with_schema(
        b"Code,tier,region\nGC-0001,gold,EU\nGC-0002,gold,\n",
        2,
        "metadata_required",
    );
}

#[test]
fn metadata_type() {
    with_schema(
        b"Code,priority,region\nGC-0001,3,EU\nGC-0002,n/a,EU\n",
        2,
        "metadata_type",
    );
}

/// The columns of a Voucherify voucher export (`POST /v1/exports`), as the fixture has them.
const EXPORT_HEADER: &str = "code,voucher_type,value,discount_type,campaign,category,start_date,expiration_date,gift_balance,loyalty_balance,redemption_quantity,redemption_count,active,qr_code,bar_code,metadata,id,is_referral_code,created_at,updated_at";

#[test]
fn metadata_nested() {
    let csv = format!(
        "{EXPORT_HEADER}\n\
         GIFT-0001,GIFT_VOUCHER,5000,,Gift cards,,,,5000,,,0,true,,,\"{{\"\"region\"\": \"\"EU\"\"}}\",v_1,false,,\n\
         GIFT-0002,GIFT_VOUCHER,5000,,Gift cards,,,,5000,,,0,true,,,\"{{\"\"a\"\": {{\"\"b\"\": 1}}}}\",v_2,false,,\n"
    );
    let findings = prepare(
        &[("export.csv", csv.as_bytes())],
        &["export.csv"],
        &GIFT,
        Report::Rejected,
    );
    assert_example("metadata_nested", &findings, 2);
}

#[test]
fn over_campaign_limit() {
    // The campaign holds 99,999 codes: the second row is its 100,001st.
    let csv = b"Code,Active\nGC-0001,true\nGC-0002,true\n";
    let findings = prepare(
        &[("cards.csv", csv)],
        &["cards.csv"],
        &[
            "--campaign-type",
            "gift",
            "--campaign-limit",
            "100000",
            "--codes-in-campaign",
            "99999",
        ],
        Report::Rejected,
    );
    assert_example("over_campaign_limit", &findings, 2);
}

#[test]
fn record_too_large() {
    // A note of this length makes the batch row exactly the example's 6,000,123 bytes.
    let note = "x".repeat(6_000_123 - "GC-0002,\r\n".len());
    let csv = format!("Code,note\nGC-0001,short\nGC-0002,{note}\n");
    let findings = prepare(
        &[("cards.csv", csv.as_bytes())],
        &["cards.csv"],
        &[
            "--campaign-type",
            "gift",
            "--max-file-bytes",
            "5000000",
            "--max-record-bytes",
            "7000000",
        ],
        Report::Rejected,
    );
    assert_example("record_too_large", &findings, 2);
}

#[test]
fn redeemed_over_balance() {
    let csv = b"Code,Gift Amount,Redeemed Amount\nGC-0001,5000,1000\nGC-0002,5000,6000\n";
    let findings = prepare(
        &[("cards.csv", csv)],
        &["cards.csv"],
        &GIFT,
        Report::Rejected,
    );
    assert_example("redeemed_over_balance", &findings, 2);
}

#[test]
fn repeated_header() {
    let mut csv = String::from("code,active,gift amount\n");
    // Lines 2 to 39 are rows 1 to 38; line 40 repeats the header, as row 39.
    for i in 1..=38 {
        csv.push_str(&format!("GC-{i:04},true,100\n"));
    }
    csv.push_str("Code,Active,Gift Amount\n");
    let findings = prepare(
        &[("cards.csv", csv.as_bytes())],
        &["cards.csv"],
        &GIFT,
        Report::Rejected,
    );
    assert_example("repeated_header", &findings, 39);
}

#[test]
fn unreadable_value() {
    use std::sync::Arc;

    use datafusion::arrow::array::{RecordBatch, StringArray, TimestampSecondArray};

    let cards = RecordBatch::try_from_iter([
        (
            "Code",
            Arc::new(StringArray::from(vec!["GC-0001", "GC-0002"])) as _,
        ),
        (
            "Expiry",
            Arc::new(TimestampSecondArray::from(vec![
                0,
                4_611_686_018_427_387_904,
            ])) as _,
        ),
    ])
    .unwrap();
    let mut bytes = Vec::new();
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(&mut bytes, cards.schema(), None).unwrap();
    writer.write(&cards).unwrap();
    writer.close().unwrap();
    let findings = prepare(
        &[("cards.parquet", &bytes)],
        &["cards.parquet"],
        &GIFT,
        Report::Rejected,
    );
    assert_example("unreadable_value", &findings, 2);
}

#[test]
fn update_ignores_fields() {
    let csv = b"Code,Gift Amount\nNEW-1,5000\nOLD-1,5000\n";
    let codes = b"code\nOLD-1\n";
    let findings = prepare(
        &[("cards.csv", csv), ("codes.csv", codes)],
        &["cards.csv"],
        &[
            "--campaign-type",
            "gift",
            "--existing",
            "codes.csv",
            "--existing-codes",
            "update",
        ],
        Report::Warnings,
    );
    assert_example("update_ignores_fields", &findings, 2);
}

#[test]
fn wrong_voucher_type() {
    let csv = format!(
        "{EXPORT_HEADER}\n\
         GIFT-0001,GIFT_VOUCHER,5000,,Gift cards,,,,5000,,,0,true,,,,v_1,false,,\n\
         LOY-0001,LOYALTY_CARD,,,Gift cards,,,,,100,,0,true,,,,v_2,false,,\n"
    );
    let findings = prepare(
        &[("export.csv", csv.as_bytes())],
        &["export.csv"],
        &GIFT,
        Report::Rejected,
    );
    assert_example("wrong_voucher_type", &findings, 2);
}

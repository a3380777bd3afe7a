//! User rules: rule files added with --rules (row rules and set rules, reject and warn),
//! --disable-rule, `requires`, rules skipped for a missing column, and rule files refused.

use std::fs;

use crate::util::{assert_conserved, csv_records, expect_error, prepare_csv, run, run_with_stdin};

const SAMPLE: &str = "fixtures/sample/gift_cards.csv";

#[test]
fn a_warn_rule_imports_the_row_and_lists_it_in_warnings_csv() {
    let r = prepare_csv(
        "expiry.csv",
        "Code,Expiration Date\nW-1,2001-01-01\nW-2,2999-12-31\nW-3,\n",
        &[
            "--campaign-type",
            "gift",
            "--rules",
            "fixtures/rules/expiration_in_future.sql",
        ],
    );
    r.expect_code(0);
    assert_conserved(&r.out(), 3);
    let warnings = csv_records(&fs::read(r.out().join("warnings.csv")).unwrap());
    assert_eq!(warnings.len(), 1);
    assert_eq!(
        &warnings[0][1..5],
        [
            "1",
            "2",
            "expiration_in_future",
            "Expiration Date 2001-01-01 is in the past"
        ]
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&fs::read(r.out().join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["warnings"], 1);
    assert_eq!(summary["warnings_by_rule"]["expiration_in_future"], 1);
    assert!(
        r.stderr().contains("warnings           1 -> "),
        "{}",
        r.describe()
    );
}

#[test]
fn a_required_column_that_is_missing_stops_the_run() {
    expect_error(
        &[
            "prepare",
            "fixtures/multi/part_a.csv",
            "--campaign-type",
            "discount",
            "--rules",
            "fixtures/rules/region_required.sql",
            "--out",
            "{out}",
        ],
        &["fixtures/rules/region_required.sql:3: the rule requires column 'region', which the input lacks"],
    );
    let ok = run(&[
        "check",
        SAMPLE,
        "--campaign-type",
        "gift",
        "--rules",
        "fixtures/rules/region_required.sql",
    ]);
    ok.expect_code(1);
}

#[test]
fn a_rule_reading_a_missing_column_is_skipped_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("tier.sql");
    fs::write(&rule, "-- rule: gold_only\n-- description: Only gold cards.\nSELECT 'not gold' AS reason FROM vouchers WHERE tier <> 'gold'\n").unwrap();
    let rule = rule.display().to_string();
    let r = run(&[
        "prepare",
        SAMPLE,
        "--campaign-type",
        "gift",
        "--rules",
        &rule,
        "--out",
        "{out}",
    ]);
    r.expect_code(1);
    let note = format!("rule gold_only ({rule}) skipped: the input has no column 'tier'");
    assert!(
        r.stderr().contains(&format!("note: {note}")),
        "{}",
        r.describe()
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&fs::read(r.out().join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["notes"][0], note.as_str());
}

#[test]
fn rule_files_that_write_are_refused_before_the_run() {
    expect_error(
        &[
            "prepare",
            SAMPLE,
            "--campaign-type",
            "gift",
            "--rules",
            "fixtures/rules/writes.sql",
            "--out",
            "{out}",
        ],
        &["fixtures/rules/writes.sql:3: a rule may only read: 'DELETE FROM vouchers' is not a query"],
    );
    for statement in [
        "CREATE TABLE t AS SELECT 1",
        "INSERT INTO vouchers VALUES (1)",
        "COPY vouchers TO 'x.csv'",
        "SET datafusion.execution.batch_size = 1",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("w.sql");
        fs::write(
            &file,
            format!("-- rule: w\n-- description: d\n{statement}\n"),
        )
        .unwrap();
        let file = file.display().to_string();
        let r = run(&["check", SAMPLE, "--campaign-type", "gift", "--rules", &file]);
        r.expect_code(2);
        assert!(
            r.stderr()
                .contains(&format!("{file}:3: a rule may only read")),
            "{statement}: {}",
            r.describe()
        );
    }
}

#[test]
fn a_sql_error_names_the_rule_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.sql");
    fs::write(&file, "-- rule: bad\n-- description: d\nSELECT 'x' AS reason\nFROM vouchers\nWHERE no_such_function(\"Code\")\n").unwrap();
    let file = file.display().to_string();
    let r = run(&["check", SAMPLE, "--campaign-type", "gift", "--rules", &file]);
    r.expect_code(2);
    assert!(r.stderr().contains(&format!("{file}:")), "{}", r.describe());
    assert!(r.stderr().contains("no_such_function"), "{}", r.describe());
}

#[test]
fn disable_rule_switches_a_rule_off() {
    let r = run(&[
        "check",
        SAMPLE,
        "--campaign-type",
        "gift",
        "--disable-rule",
        "duplicate_code",
        "--json",
    ]);
    r.expect_code(1);
    let report: serde_json::Value = serde_json::from_str(&r.stdout()).unwrap();
    assert!(report["summary"]["rejected_by_rule"]
        .get("duplicate_code")
        .is_none());
    assert!(
        report["rejected_rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["row"] != 15),
        "row 15 goes in"
    );

    let r = run(&[
        "check",
        SAMPLE,
        "--campaign-type",
        "gift",
        "--disable-rule",
        "malformed_record",
    ]);
    r.expect_code(2);
    assert!(
        r.stderr()
            .contains("--disable-rule malformed_record: this rule cannot be switched off"),
        "{}",
        r.describe()
    );
    let r = run(&[
        "check",
        SAMPLE,
        "--campaign-type",
        "gift",
        "--disable-rule",
        "duplicate_codes",
    ]);
    r.expect_code(2);
    assert!(
        r.stderr()
            .contains("there is no rule 'duplicate_codes': did you mean 'duplicate_code'?"),
        "{}",
        r.describe()
    );
}

#[test]
fn rules_lists_user_rules_with_their_origin() {
    let r = run(&[
        "rules",
        "--rules",
        "fixtures/rules/expiration_in_future.sql",
        "--disable-rule",
        "over_campaign_limit",
    ]);
    r.expect_code(0);
    let out = r.stdout();
    assert!(
        out.contains("expiration_in_future  (user, fixtures/rules/expiration_in_future.sql, warn)"),
        "{out}"
    );
    assert!(!out.contains("over_campaign_limit"), "{out}");
}

#[test]
fn set_rules_need_a_file_not_stdin() {
    let sample = fs::read(format!("{}/{SAMPLE}", crate::util::ROOT)).unwrap();
    let r = run_with_stdin(
        &[
            "check",
            "-",
            "--campaign-type",
            "gift",
            "--rules",
            "fixtures/rules/category_cap.sql",
        ],
        Some(&sample),
    );
    r.expect_code(2);
    assert!(
        r.stderr().contains("set rules read the input twice"),
        "{}",
        r.describe()
    );
}

/// The rule table's `file` is each row's input (as the dictionary key) with the input's name
/// as its value: a set rule reads names, and its findings land on the rows of the input they
/// name, whether it gives `file` back as the column or as text.
#[test]
fn a_set_rule_reads_file_names_and_its_findings_land_on_the_right_input() {
    let by_column = "-- rule: second_file_codes\n-- description: d\nSELECT file, row, 'from b' AS reason FROM vouchers WHERE file LIKE '%b.csv'\n";
    let by_text = "-- rule: first_file_rows\n-- description: d\nSELECT file || '' AS file, row, 'row ' || row || ' of a' AS reason FROM vouchers WHERE file LIKE '%a.csv' AND row = 2\n";
    let r = crate::util::run_with_files(
        &[
            ("a.csv", b"Code\nA-1\nA-2\nA-3\n"),
            ("b.csv", b"Code\nB-1\nB-2\n"),
            ("by_column.sql", by_column.as_bytes()),
            ("by_text.sql", by_text.as_bytes()),
        ],
        &[
            "prepare",
            "{tmp}/a.csv",
            "{tmp}/b.csv",
            "--campaign-type",
            "discount",
            "--rules",
            "{tmp}/by_column.sql",
            "--rules",
            "{tmp}/by_text.sql",
            "--out",
            "{out}",
        ],
    );
    r.expect_code(1);
    assert_conserved(&r.out(), 5);
    let rejected = csv_records(&fs::read(r.out().join("rejected.csv")).unwrap());
    let listed: Vec<(String, String, String)> = rejected
        .iter()
        .map(|row| {
            let file = row[0].rsplit('/').next().unwrap().to_owned();
            (file, row[1].clone(), row[3].clone())
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("a.csv".into(), "2".into(), "first_file_rows".into()),
            ("b.csv".into(), "1".into(), "second_file_codes".into()),
            ("b.csv".into(), "2".into(), "second_file_codes".into()),
        ],
        "{}",
        r.describe()
    );
}

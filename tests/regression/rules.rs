//! User rules that misbehave: one that fails on one row's data rejects that row, a set rule
//! that fails stops the run naming its file, `SELECT ... INTO` is refused.

use std::fs;

use super::*;
use crate::util::run;

#[test]
fn select_into_is_refused_with_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("into.sql");
    fs::write(
        &file,
        "-- rule: into\n-- description: d\nSELECT 'x' AS reason\nINTO copied\nFROM vouchers WHERE 1 = 1\n",
    )
    .unwrap();
    let file = file.display().to_string();
    let r = run(&[
        "check",
        "fixtures/sample/gift_cards.csv",
        "--campaign-type",
        "gift",
        "--rules",
        &file,
    ]);
    r.expect_code(2);
    assert!(
        r.stderr().contains(&format!(
            "{file}:4: a rule may only read: SELECT ... INTO creates a table"
        )),
        "{}",
        r.describe()
    );
}

#[test]
fn a_user_rule_that_fails_on_one_rows_data_rejects_that_row_not_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("cards.csv");
    fs::write(
        &input,
        "Code,amount_text,divisor,pattern\n\
         A-1,3,5,^A\n\
         A-2,abc,0,(\n\
         A-3,9,1,^Z\n",
    )
    .unwrap();
    let cast = rule_file(
        dir.path(),
        "cast_rule",
        "reject",
        "SELECT 'too much' AS reason FROM vouchers WHERE CAST(amount_text AS INT) > 5",
    );
    let division = rule_file(
        dir.path(),
        "division_rule",
        "reject",
        "SELECT 'ratio' AS reason FROM vouchers WHERE 10 / CAST(divisor AS INT) > 3",
    );
    let regex = rule_file(
        dir.path(),
        "regex_rule",
        "warn",
        "SELECT 'no match' AS reason FROM vouchers WHERE NOT regexp_like(\"Code\", pattern)",
    );
    let input = input.display().to_string();
    for command in ["prepare", "check"] {
        let mut args = vec![command, &input, "--campaign-type", "gift"];
        for rule in [&cast, &division, &regex] {
            args.extend(["--rules", rule.as_str()]);
        }
        if command == "prepare" {
            args.extend(["--out", "{out}"]);
        }
        let r = run(&args);
        r.expect_code(1);
        if command == "check" {
            continue;
        }
        crate::util::assert_conserved(&r.out(), 3);
        let summary: serde_json::Value =
            serde_json::from_slice(&fs::read(r.out().join("summary.json")).unwrap()).unwrap();
        assert_eq!(summary["rule_errors"]["cast_rule"], 1, "{summary}");
        assert_eq!(summary["rule_errors"]["division_rule"], 1, "{summary}");
        assert_eq!(summary["rule_errors"]["regex_rule"], 1, "{summary}");
        // A-1 passes all; A-2 errs on the two reject rules; A-3 fails both on its data.
        assert_eq!(summary["accepted"], 1, "{summary}");
        let rejected = fs::read_to_string(r.out().join("rejected.csv")).unwrap();
        assert!(
            rejected.contains("the rule could not be evaluated on this row"),
            "{rejected}"
        );
        let a2 = rejected.lines().find(|l| l.contains(",A-2,")).unwrap();
        assert!(a2.contains("cast_rule|division_rule"), "{a2}");
        assert!(
            r.stderr().contains("could not be evaluated on 1 row"),
            "{}",
            r.describe()
        );
    }
}

#[test]
fn a_set_rule_that_fails_at_run_time_stops_the_run_naming_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("cards.csv");
    fs::write(&input, "Code,amount_text\nA-1,3\nA-2,abc\n").unwrap();
    let set = rule_file(
        dir.path(),
        "set_cast",
        "reject",
        "SELECT file, row, 'x' AS reason FROM vouchers WHERE CAST(amount_text AS INT) > 5",
    );
    let r = run(&[
        "prepare",
        &input.display().to_string(),
        "--campaign-type",
        "gift",
        "--rules",
        &set,
        "--out",
        "{out}",
    ]);
    r.expect_code(2);
    assert!(r.stderr().contains(&set), "{}", r.describe());
    assert!(r.stderr().contains("fix:"), "{}", r.describe());
}

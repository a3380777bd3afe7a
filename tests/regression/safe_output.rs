//! Spreadsheet and terminal safety: what is written for people cannot run as a formula or
//! drive a terminal, and the rejected.csv round trip gives back every value.

use std::fs;

use super::*;
use crate::util::{csv_records, run};

#[test]
fn formula_like_header_file_name_and_reason_are_neutralised_in_rejected_and_warnings_csv() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("=1+1.csv");
    fs::write(
        &input,
        "Code,Active,=HYPERLINK(1),Expiration Date\n\
         A-1,yes,x,2999-01-01\n\
         A-2,true,y,2001-01-01\n",
    )
    .unwrap();
    let rule = dir.path().join("data_reason.sql");
    fs::write(
        &rule,
        "-- rule: data_reason\n-- description: a reason built from data\n-- severity: warn\n\
         SELECT '=cmd|' || \"Code\" AS reason FROM vouchers WHERE \"Code\" = 'A-2'\n",
    )
    .unwrap();
    let r = run(&[
        "prepare",
        &input.display().to_string(),
        "--campaign-type",
        "gift",
        "--rules",
        &rule.display().to_string(),
        "--out",
        "{out}",
    ]);
    r.expect_code(1);
    for file in ["rejected.csv", "warnings.csv"] {
        let text = fs::read(r.out().join(file)).unwrap();
        let records = all_records(&text);
        assert!(
            records.len() >= 2,
            "{file}: {}",
            String::from_utf8_lossy(&text)
        );
        for record in &records {
            for cell in record {
                assert!(
                    !live_formula(cell),
                    "{file}: a live formula {cell:?}\n{}",
                    String::from_utf8_lossy(&text)
                );
            }
        }
    }
    let rejected = fs::read_to_string(r.out().join("rejected.csv")).unwrap();
    assert!(rejected.contains("'=HYPERLINK"), "{rejected}");
    assert!(rejected.contains("'="), "{rejected}");
}

#[test]
fn a_code_that_really_is_quote_minus_17_survives_the_rejected_csv_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("codes.csv");
    fs::write(&input, "Code,Active\n'-17,yes\n-18,maybe\nOK-1,true\n").unwrap();
    let first = run(&[
        "prepare",
        &input.display().to_string(),
        "--campaign-type",
        "gift",
        "--out",
        "{out}",
    ]);
    first.expect_code(1);
    // The user fixes Active in the rejected rows, as in a spreadsheet, and gives them back.
    let rejected = fs::read(first.out().join("rejected.csv")).unwrap();
    let records = all_records(&rejected);
    let mut fixed = csv::WriterBuilder::new().from_writer(Vec::new());
    for (i, record) in records.iter().enumerate() {
        let mut record = record.clone();
        if i > 0 {
            record[6] = "true".into();
        }
        fixed.write_record(&record).unwrap();
    }
    let fixed_path = dir.path().join("fixed.csv");
    fs::write(&fixed_path, fixed.into_inner().unwrap()).unwrap();
    let second = run(&[
        "prepare",
        &fixed_path.display().to_string(),
        "--campaign-type",
        "gift",
        "--out",
        "{out}",
    ]);
    second.expect_code(0);
    let batch = fs::read(second.out().join("import/part-00001.csv")).unwrap();
    let codes: Vec<String> = csv_records(&batch).iter().map(|r| r[0].clone()).collect();
    assert_eq!(codes, ["'-17", "-18"], "exactly the codes of the input");
}

#[test]
fn escape_sequences_in_values_reach_the_terminal_escaped_and_files_keep_them() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("escapes.csv");
    fs::write(
        &input,
        "Code,Active\nE-1,yes\x1b]0;title\x07\nE-2,no\x1b[2J\u{9b}31m\nE-3,true\n",
    )
    .unwrap();
    let input = input.display().to_string();
    let prepared = run(&[
        "prepare",
        &input,
        "--campaign-type",
        "gift",
        "--out",
        "{out}",
    ]);
    prepared.expect_code(1);
    let check = run(&["check", &input, "--campaign-type", "gift"]);
    check.expect_code(1);
    for (what, text) in [
        ("prepare's summary", prepared.stderr()),
        ("check's table", check.stdout()),
    ] {
        assert!(
            !text.contains('\x1b') && !text.contains('\x07') && !text.contains('\u{9b}'),
            "{what}: {text:?}"
        );
        assert!(text.contains("\\x1b"), "{what}: {text}");
    }
    assert!(check.stdout().contains("\\u{9b}"), "{}", check.stdout());
    let rejected = fs::read_to_string(prepared.out().join("rejected.csv")).unwrap();
    assert!(rejected.contains("yes\x1b]0;title\x07"), "{rejected:?}");
}

#[test]
fn completions_into_a_full_device_is_an_error_not_a_panic() {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full");
    let Ok(full) = full else {
        return; // no /dev/full on this system
    };
    let output = std::process::Command::new(crate::util::BIN)
        .args(["completions", "bash"])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

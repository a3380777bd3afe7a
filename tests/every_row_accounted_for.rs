//! The promises every run keeps, checked on generated inputs larger than one chunk: every row
//! ends in exactly one place, the output does not depend on the thread count, traps pass
//! through unchanged, and positions in rejected.csv point at the right rows.

use std::fmt::Write as _;
use std::fs;

use crate::util::{assert_conserved, csv_records, files_below, run};

/// A deterministic gift-card file of `rows` records with a defect in about one row in twelve.
fn generated(rows: usize) -> Vec<u8> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = String::from("Code,Active,Gift Amount,Redeemed Amount,region,note\n");
    for row in 1..=rows {
        let r = next();
        let code = match r % 97 {
            0 => String::new(),
            1 if row > 10 => format!("GEN-{:07}", row - 7), // a duplicate of an earlier row
            2 => format!("{:012}", row),                    // leading zeros
            _ => format!("GEN-{row:07}"),
        };
        let active = match r % 89 {
            0 => "yes",
            1 => "TRUE",
            _ => "true",
        };
        let amount = if r % 83 == 0 {
            "12,50".to_string()
        } else {
            (1000 + r % 9000).to_string()
        };
        let note = match r % 7 {
            0 => "\"comma, inside\"",
            1 => "\"two\nlines\"",
            2 => "ünïcödé",
            _ => "",
        };
        if r % 101 == 0 {
            writeln!(out, "{code},{active},{amount}").unwrap(); // ragged
        } else {
            writeln!(out, "{code},{active},{amount},0,EU,{note}").unwrap();
        }
    }
    out.into_bytes()
}

#[test]
fn output_is_byte_identical_whatever_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("gen.csv");
    fs::write(&input, generated(30_000)).unwrap();
    let input = input.display().to_string();
    let one = run(&[
        "prepare",
        &input,
        "--campaign-type",
        "gift",
        "--threads",
        "1",
        "--max-file-bytes",
        "400000",
        "--out",
        "{out}",
    ]);
    one.expect_code(1);
    let default = run(&[
        "prepare",
        &input,
        "--campaign-type",
        "gift",
        "--max-file-bytes",
        "400000",
        "--out",
        "{out}",
    ]);
    default.expect_code(1);
    let four = run(&[
        "prepare",
        &input,
        "--campaign-type",
        "gift",
        "--threads",
        "4",
        "--max-file-bytes",
        "400000",
        "--out",
        "{out}",
    ]);
    four.expect_code(1);
    let outputs = |r: &crate::util::Run| {
        let mut files = files_below(&r.out());
        files.remove("summary.json"); // holds the elapsed time
        files
    };
    let expected = outputs(&one);
    assert!(expected.len() > 3, "several batches: {:?}", expected.keys());
    assert_eq!(expected, outputs(&default), "default threads");
    assert_eq!(expected, outputs(&four), "4 threads");
    assert_conserved(&one.out(), 30_000);
    assert_conserved(&four.out(), 30_000);
}

#[test]
fn every_row_lands_once_and_positions_point_at_it() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = generated(20_000);
    let input = dir.path().join("gen.csv");
    fs::write(&input, &bytes).unwrap();
    let input = input.display().to_string();
    let r = run(&[
        "prepare",
        &input,
        "--campaign-type",
        "gift",
        "--out",
        "{out}",
    ]);
    r.expect_code(1);
    assert_conserved(&r.out(), 20_000);

    // The line each data row starts on, from the generated text.
    let text = String::from_utf8(bytes).unwrap();
    // A line starts a record unless it continues a quoted field (an odd count of quotes so far).
    let mut starts = vec![0usize]; // row 0 unused
    let mut inside_quotes = false;
    for (index, line) in text.split_inclusive('\n').enumerate().skip(1) {
        if !inside_quotes {
            starts.push(index + 1);
        }
        inside_quotes ^= line.matches('"').count() % 2 == 1;
    }
    let rejected = csv_records(&fs::read(r.out().join("rejected.csv")).unwrap());
    assert!(rejected.len() > 500, "the generator makes defects");
    for fields in &rejected {
        let row: usize = fields[1].parse().unwrap();
        let line: usize = fields[2].parse().unwrap();
        assert_eq!(
            starts[row], line,
            "row {row} starts on line {}",
            starts[row]
        );
    }
    // Accepted rows are exactly the rows not rejected, in input order, with their codes.
    let rejected_rows: std::collections::HashSet<usize> =
        rejected.iter().map(|f| f[1].parse().unwrap()).collect();
    let input_codes: Vec<String> = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap()[0].trim().to_string())
        .collect();
    let expected: Vec<&str> = input_codes
        .iter()
        .enumerate()
        .filter(|(i, _)| !rejected_rows.contains(&(i + 1)))
        .map(|(_, c)| c.as_str())
        .collect();
    let mut accepted: Vec<String> = Vec::new();
    for (path, bytes) in files_below(&r.out()) {
        if path.starts_with("import/") {
            accepted.extend(csv_records(&bytes).into_iter().map(|f| f[0].clone()));
        }
    }
    assert!(
        accepted == expected,
        "accepted codes differ from the unrejected input rows in order"
    );
}

#[test]
fn traps_come_through_unchanged() {
    let r = run(&[
        "prepare",
        "fixtures/sample/gift_cards.csv",
        "--campaign-type",
        "gift",
        "--out",
        "{out}",
    ]);
    r.expect_code(1);
    let batch = fs::read_to_string(r.out().join("import/part-00001.csv")).unwrap();
    for trap in [
        "\r\n000123,",
        "\r\n1E5,",
        "\"has, comma and \"\"quotes\"\"\nand a second line\"",
        "Été 2026",
        "Zürich,ünïcödé ✓",
        "\r\nGC-0007,summer,true,5000,", // trimmed, Active lowercased
    ] {
        assert!(batch.contains(trap), "batch lacks {trap:?}:\n{batch}");
    }
    assert!(!batch.starts_with('\u{feff}'), "no BOM");
    assert!(batch.lines().all(|l| !l.is_empty()));
}

#[test]
fn a_rejected_row_lists_every_rule_it_fails() {
    let r = run(&[
        "check",
        "fixtures/sample/gift_cards.csv",
        "--campaign-type",
        "gift",
        "--json",
    ]);
    r.expect_code(1);
    let report: serde_json::Value = serde_json::from_str(&r.stdout()).unwrap();
    let row19 = report["rejected_rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["row"] == 19)
        .expect("row 19 is rejected");
    assert_eq!(
        row19["rules"],
        serde_json::json!(["active_boolean", "invalid_number"])
    );
    assert_eq!(
        row19["reason"],
        "Active 'enabled' is not true/false; Gift Amount 'abc' is not an amount"
    );
}

#[test]
fn the_check_table_shows_the_first_rejected_rows_and_says_how_many_more() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("gen.csv");
    fs::write(&input, generated(5_000)).unwrap();
    let input = input.display().to_string();
    let table = run(&["check", &input, "--campaign-type", "gift"]);
    table.expect_code(1);
    let json = run(&["check", &input, "--campaign-type", "gift", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&json.stdout()).unwrap();
    let rejected = report["rejected_rows"].as_array().unwrap().len();
    assert!(rejected > 100, "{rejected}");
    let stdout = table.stdout();
    let shown = stdout.lines().filter(|l| l.starts_with(&input)).count();
    assert_eq!(shown, 100);
    assert!(
        stdout.contains(&format!("... and {} more rejected rows", rejected - 100)),
        "{stdout}"
    );
}

#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("gen.csv");
    fs::write(&input, generated(20_000)).unwrap();
    // Like `voucher-import check ... --json | head -1`: stdout closes before the report is out.
    let mut child = Command::new(crate::util::BIN)
        .args(["check", "--campaign-type", "gift", "--json"])
        .arg(&input)
        .current_dir(crate::util::ROOT)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "the run's own exit code, no panic: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

//! Real-world CSV (issue "Real-world CSV"): damage that stays on its line, header lines among
//! the data, titles above the header, every header problem at once with the options that fix
//! them all, trailing delimiters, escape characters, and `, ` separators. Files in
//! `fixtures/real_world/`, whole outputs in `tests/cases/real_world_*`.

use std::fs;

use crate::util::{prepare_csv, run, run_case};

fn fixture(name: &str) -> String {
    format!("fixtures/real_world/{name}")
}

fn prepare(file: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "prepare",
        &fixture(file),
        "--campaign-type",
        "gift",
        "--out",
        "{out}",
    ]
    .map(String::from)
    .to_vec();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// The options of the error's "every fix at once" line, unquoted.
fn every_fix(stderr: &str) -> Vec<String> {
    let line = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("fix: every fix at once: "))
        .unwrap_or_else(|| panic!("no fix line: {stderr}"));
    let mut args = Vec::new();
    let mut rest = line;
    while !rest.is_empty() {
        rest = rest.trim_start();
        if let Some(quoted) = rest.strip_prefix('\'') {
            let end = quoted.find('\'').unwrap();
            args.push(quoted[..end].to_owned());
            rest = &quoted[end + 1..];
        } else {
            let end = rest.find(' ').unwrap_or(rest.len());
            args.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
    }
    args
}

#[test]
fn a_stray_quote_closed_lines_later_costs_only_its_own_line() {
    let r = run_case("real_world_stray_quote_closed_later");
    let rejected = fs::read_to_string(r.out().join("rejected.csv")).unwrap();
    assert_eq!(rejected.lines().count(), 2, "only line 3: {rejected}");
    assert!(
        rejected.contains("stray_quote_closed_later.csv,2,3,malformed_record"),
        "{rejected}"
    );
    let batch = fs::read_to_string(r.out().join("import/part-00001.csv")).unwrap();
    assert!(
        batch.contains("S3,") && batch.contains("S4,") && batch.contains("\"two\nlines\""),
        "{batch}"
    );
}

#[test]
fn a_quote_never_closed_costs_only_its_own_line() {
    let r = run_case("real_world_stray_quote_never_closed");
    let batch = fs::read_to_string(r.out().join("import/part-00001.csv")).unwrap();
    assert!(batch.contains("\"a real\nmulti-line note\""), "{batch}");
}

#[test]
fn header_lines_among_the_data_are_rejected_not_imported() {
    let r = run_case("real_world_repeated_header");
    let summary = fs::read_to_string(r.out().join("summary.json")).unwrap();
    assert!(summary.contains("\"repeated_header\": 2"), "{summary}");
}

#[test]
fn a_preamble_is_named_with_the_skip_lines_that_reads_past_it() {
    let r = run_case("real_world_preamble_refused");
    r.expect_code(2);
    assert!(
        r.stderr()
            .contains("fix: skip the lines above it: --skip-lines 2"),
        "{}",
        r.describe()
    );
    run_case("real_world_preamble_skipped");
    let by_line = run(&strs(&prepare("preamble.csv", &["--header-line", "3"])));
    by_line.expect_code(0);
}

#[test]
fn forty_whitespace_names_are_all_reported_and_fixed_in_one_run() {
    let r = run_case("real_world_whitespace_names");
    r.expect_code(2);
    let stderr = r.stderr();
    assert!(stderr.contains("40 header problems in 1 file"), "{stderr}");
    let fixed = run(&strs(&prepare(
        "whitespace_names.csv",
        &strs(&every_fix(&stderr)),
    )));
    fixed.expect_code(0);
}

#[test]
fn identical_and_empty_names_are_fixed_by_position() {
    let r = run_case("real_world_identical_names");
    r.expect_code(2);
    let fixes = every_fix(&r.stderr());
    assert_eq!(fixes, ["--rename", "#3=x_3", "--rename", "#4=x_4"]);
    run_case("real_world_identical_names_fixed");
    let empty = run(&strs(&prepare("empty_first_name.csv", &[])));
    empty.expect_code(2);
    assert!(
        empty.stderr().contains("column 1 has an empty header"),
        "{}",
        empty.describe()
    );
    let dropped = run(&strs(&prepare("empty_first_name.csv", &["--drop", "#1"])));
    dropped.expect_code(0);
    let renamed = run(&strs(&prepare(
        "empty_first_name.csv",
        &["--rename", "#1=line_no"],
    )));
    renamed.expect_code(0);
    let batch = fs::read_to_string(renamed.out().join("import/part-00001.csv")).unwrap();
    assert_eq!(
        batch,
        "Code,Gift Amount,line_no\r\nE-1,100,1\r\nE-2,200,2\r\n"
    );
}

#[test]
fn an_escape_character_gives_the_quote_and_keeps_everything_else() {
    let r = run_case("real_world_escape");
    let batch = fs::read_to_string(r.out().join("import/part-00001.csv")).unwrap();
    assert_eq!(
        batch,
        "Code,Note\r\nQ-1,\"48' screen, wide\"\r\nQ-2,back\\slash and \\n kept\r\nQ-3,plain\r\n"
    );
}

#[test]
fn comma_and_space_as_separator_is_named_as_the_cause() {
    let r = run_case("real_world_comma_space");
    let rejected = fs::read_to_string(r.out().join("rejected.csv")).unwrap();
    assert!(
        rejected.contains("separated by a delimiter and a space"),
        "{rejected}"
    );
    let given = run(&strs(&prepare("comma_space.csv", &["--delimiter", ", "])));
    given.expect_code(2);
    assert!(
        given.stderr().contains("fields are separated by ', ': pass --delimiter ',' and values will be trimmed, or fix the file"),
        "{}",
        given.describe()
    );
}

#[test]
fn a_header_of_only_delimiters_is_named_so() {
    let r = prepare_csv("delims.csv", ",,,\nA,1,2,3\n", &["--campaign-type", "gift"]);
    r.expect_code(2);
    assert!(
        r.stderr().contains("the header line has no column names"),
        "{}",
        r.describe()
    );
}

#[test]
fn a_position_past_the_widest_input_is_a_typo() {
    let r = run(&strs(&prepare(
        "identical_names.csv",
        &["--rename", "#99=x"],
    )));
    r.expect_code(2);
    assert!(
        r.stderr()
            .contains("--rename #99: no input has a column 99 (the widest has 4)"),
        "{}",
        r.describe()
    );
}

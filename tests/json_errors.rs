//! With `--json`, an error is data on stdout: `{"error": {"kind", "message", "path", "line",
//! "column", "fix"}}`, exit 2, and the text on stderr as before. `kind` is stable.

use crate::util::run;

fn json_error(args: &[&str]) -> serde_json::Value {
    let r = run(args);
    r.expect_code(2);
    assert!(
        r.stderr().contains("error:"),
        "stderr keeps the text: {}",
        r.describe()
    );
    let value: serde_json::Value = serde_json::from_str(&r.stdout())
        .unwrap_or_else(|e| panic!("stdout is JSON ({e}): {}", r.describe()));
    crate::schemas::assert_valid("error.schema.json", &value);
    let error = value["error"].clone();
    for key in ["kind", "message", "path", "line", "column", "fix"] {
        assert!(error.get(key).is_some(), "error.{key} is there: {error}");
    }
    error
}

#[test]
fn each_kind_of_error_is_named_in_json() {
    let error = json_error(&[
        "check",
        "fixtures/sample/missing.csv",
        "--campaign-type",
        "gift",
        "--json",
    ]);
    assert_eq!(error["kind"], "io");
    assert_eq!(error["path"], "fixtures/sample/missing.csv");

    let error = json_error(&[
        "check",
        "fixtures/errors/empty.csv",
        "--campaign-type",
        "gift",
        "--json",
    ]);
    assert_eq!(error["kind"], "input");
    assert!(error["fix"].as_str().is_some_and(|f| !f.is_empty()));

    let error = json_error(&[
        "prepare",
        "fixtures/sample/gift_cards.csv",
        "--campaign-type",
        "promotion",
        "--out",
        "{out}",
        "--json",
    ]);
    assert_eq!(error["kind"], "usage");

    let error = json_error(&[
        "check",
        "fixtures/sample/gift_cards.csv",
        "--campaign-type",
        "gift",
        "--max-rejected",
        "ten",
        "--json",
    ]);
    assert_eq!(
        error["kind"], "usage",
        "an option clap refuses is a usage error too"
    );
}

#[test]
fn a_rule_file_error_has_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("broken.sql");
    std::fs::write(
        &rule,
        "-- rule: broken\n-- description: d\nSELECT FROM WHERE\n",
    )
    .unwrap();
    let rule = rule.display().to_string();
    let error = json_error(&[
        "check",
        "fixtures/sample/gift_cards.csv",
        "--campaign-type",
        "gift",
        "--rules",
        &rule,
        "--json",
    ]);
    assert_eq!(error["kind"], "rule");
    assert_eq!(error["path"], rule.as_str());
    assert!(error["line"].as_u64().is_some_and(|l| l >= 1), "{error}");
}

#[test]
fn header_problems_are_listed_one_by_one_with_the_fix_for_all() {
    let error = json_error(&[
        "check",
        "fixtures/real_world/identical_names.csv",
        "--campaign-type",
        "gift",
        "--json",
    ]);
    assert_eq!(error["kind"], "header");
    let problems = error["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 2, "{error}");
    for problem in problems {
        assert_eq!(problem["path"], "fixtures/real_world/identical_names.csv");
        assert!(
            problem["fix"].as_str().is_some_and(|f| !f.is_empty()),
            "{problem}"
        );
    }
    assert!(
        error["fix"]
            .as_str()
            .unwrap()
            .starts_with("every fix at once: --rename"),
        "{error}"
    );
}

#[test]
fn an_output_folder_that_is_a_file_is_an_output_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("taken");
    std::fs::write(&file, "mine").unwrap();
    let out = file.display().to_string();
    let error = json_error(&[
        "prepare",
        "fixtures/sample/gift_cards.csv",
        "--campaign-type",
        "gift",
        "--out",
        &out,
        "--json",
    ]);
    assert_eq!(error["kind"], "output");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "mine",
        "left as it was"
    );
}

#[test]
fn without_json_stdout_stays_empty_on_an_error() {
    let r = run(&[
        "check",
        "fixtures/errors/empty.csv",
        "--campaign-type",
        "gift",
    ]);
    r.expect_code(2);
    assert!(r.stdout().is_empty());
}

//! What pipelines rely on: the exit policy (`--max-rejected N|P%` and `--fail-on-warnings`
//! decide between 0 and 1; errors stay 2) and options from `VOUCHER_IMPORT_<OPTION>`
//! environment variables.

use crate::util::run;

const SAMPLE: &str = "fixtures/sample/gift_cards.csv";

fn prepare(extra: &[&str]) -> crate::util::Run {
    let mut args = vec![
        "prepare",
        SAMPLE,
        "--campaign-type",
        "gift",
        "--out",
        "{out}",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

fn counts(r: &crate::util::Run) -> (u64, u64, u64) {
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(r.out().join("summary.json")).unwrap()).unwrap();
    (
        summary["rejected"].as_u64().unwrap(),
        summary["input_rows"].as_u64().unwrap(),
        summary["warnings"].as_u64().unwrap(),
    )
}

#[test]
fn any_rejected_row_exits_1_by_default() {
    let r = prepare(&[]);
    r.expect_code(1);
    let (rejected, _, _) = counts(&r);
    assert!(rejected > 1);
    assert!(
        !r.stderr().contains("exit 1:"),
        "the default says nothing more"
    );
}

#[test]
fn max_rejected_in_rows_is_inclusive() {
    let (rejected, rows, _) = counts(prepare(&[]).expect_code(1));
    let at = rejected.to_string();
    prepare(&["--max-rejected", &at]).expect_code(0);
    let below = (rejected - 1).to_string();
    let r = prepare(&["--max-rejected", &below]);
    r.expect_code(1);
    assert!(
        r.stderr().contains(&format!(
            "exit 1: {rejected} of {rows} rows were rejected, more than --max-rejected {below}"
        )),
        "{}",
        r.describe()
    );
    assert!(
        r.out().join("summary.json").exists(),
        "the folder is written either way"
    );
}

#[test]
fn max_rejected_as_a_percentage_of_the_input_rows() {
    let (rejected, rows, _) = counts(prepare(&[]).expect_code(1));
    let share = rejected as f64 * 100.0 / rows as f64;
    prepare(&["--max-rejected", &format!("{}%", share.ceil())]).expect_code(0);
    prepare(&["--max-rejected", &format!("{}%", (share - 1.0).floor())]).expect_code(1);
}

#[test]
fn fail_on_warnings_fails_a_run_the_limit_lets_through() {
    let r = prepare(&["--max-rejected", "100%"]);
    r.expect_code(0);
    let (_, _, warnings) = counts(&r);
    assert!(warnings > 0, "the sample has a case variant, a warning");
    let r = prepare(&["--max-rejected", "100%", "--fail-on-warnings"]);
    r.expect_code(1);
    assert!(
        r.stderr().contains("--fail-on-warnings fails the run"),
        "{}",
        r.describe()
    );
}

#[test]
fn check_follows_the_same_policy() {
    run(&["check", SAMPLE, "--campaign-type", "gift"]).expect_code(1);
    run(&[
        "check",
        SAMPLE,
        "--campaign-type",
        "gift",
        "--max-rejected",
        "100%",
    ])
    .expect_code(0);
}

#[test]
fn a_limit_that_is_not_one_is_a_usage_error() {
    for bad in ["ten", "-1", "150%", "1.5"] {
        let r = prepare(&["--max-rejected", bad]);
        r.expect_code(2);
        assert!(r.stderr().contains("--max-rejected"), "{}", r.describe());
        assert!(!r.out().exists(), "nothing written for {bad}");
    }
}

/// Runs the binary with `env` set (and no other `VOUCHER_IMPORT_` variable).
fn run_with_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = std::process::Command::new(crate::util::BIN);
    command.current_dir(crate::util::ROOT).args(args);
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("VOUCHER_IMPORT_")) {
        command.env_remove(key);
    }
    command.envs(env.iter().copied());
    let output = command.output().unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn every_option_can_come_from_the_environment_and_a_flag_wins() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out").display().to_string();
    let env = [
        ("VOUCHER_IMPORT_CAMPAIGN_TYPE", "gift"),
        ("VOUCHER_IMPORT_MAX_REJECTED", "100%"),
        ("VOUCHER_IMPORT_OUT", out.as_str()),
        ("VOUCHER_IMPORT_QUIET", "true"),
    ];
    let (code, _, stderr) = run_with_env(&["prepare", SAMPLE], &env);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.is_empty(), "--quiet from the environment: {stderr}");
    assert!(dir.path().join("out/summary.json").exists());
    let (code, _, _) = run_with_env(&["prepare", SAMPLE, "--max-rejected", "0", "--force"], &env);
    assert_eq!(code, 1, "the flag wins over VOUCHER_IMPORT_MAX_REJECTED");
}

#[test]
fn help_lists_each_variable_without_its_value() {
    let (code, stdout, _) = run_with_env(
        &["prepare", "--help"],
        &[("VOUCHER_IMPORT_OUT", "/secret/place")],
    );
    assert_eq!(code, 0);
    assert!(
        stdout.contains("[env: VOUCHER_IMPORT_MAX_FILE_BYTES]"),
        "{stdout}"
    );
    assert!(stdout.contains("[env: VOUCHER_IMPORT_OUT]"), "{stdout}");
    assert!(!stdout.contains("/secret/place"), "values stay hidden");
}

#[test]
fn verbose_logs_the_phases_with_timings_and_quiet_by_default() {
    let (_, _, plain) = run_with_env(&["check", SAMPLE, "--campaign-type", "gift"], &[]);
    assert!(!plain.contains("INFO"), "{plain}");
    let (code, _, stderr) = run_with_env(&["check", SAMPLE, "--campaign-type", "gift", "-v"], &[]);
    assert_eq!(code, 1);
    for phase in ["planned: 1 inputs", "compiled 21 rules", "judged 22 rows"] {
        assert!(stderr.contains(phase), "{phase}: {stderr}");
    }
    assert!(!stderr.contains("DEBUG"), "-v is info: {stderr}");
    let (_, _, debug) = run_with_env(
        &["check", SAMPLE, "--campaign-type", "gift"],
        &[("RUST_LOG", "debug")],
    );
    assert!(
        debug.contains("opened fixtures/sample/gift_cards.csv: 10 columns"),
        "{debug}"
    );
    assert!(
        debug.contains("rule code_required compiled: a row rule"),
        "{debug}"
    );
}

#[test]
fn man_pages_are_made_from_the_arguments() {
    let r = run(&["man"]);
    r.expect_code(0);
    assert!(
        r.stdout().contains(".TH voucher-import 1"),
        "{}",
        r.describe()
    );
    let r = run(&["man", "prepare"]);
    r.expect_code(0);
    assert!(r.stdout().contains("max\\-rejected"), "{}", r.describe());
    assert!(
        r.stdout().contains("VOUCHER_IMPORT_MAX_REJECTED"),
        "the variables are listed"
    );
    let r = run(&["man", "--out", "{tmp}/man1"]);
    r.expect_code(0);
    for page in [
        "voucher-import.1",
        "voucher-import-prepare.1",
        "voucher-import-upload.1",
    ] {
        assert!(r.dir.path().join("man1").join(page).exists(), "{page}");
    }
    run(&["man", "nope"]).expect_code(2);
}

#[test]
fn an_option_that_means_another_thing_in_upload_has_a_variable_of_its_own() {
    let (_, upload, _) = run_with_env(&["upload", "--help"], &[]);
    assert!(
        upload.contains("[env: VOUCHER_IMPORT_UPLOAD_CAMPAIGN]"),
        "{upload}"
    );
    let (_, prepare, _) = run_with_env(&["prepare", "--help"], &[]);
    assert!(
        prepare.contains("[env: VOUCHER_IMPORT_CAMPAIGN]"),
        "{prepare}"
    );
    // A campaign id meant for upload does not reach prepare's --campaign FILE.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out").display().to_string();
    let (code, _, stderr) = run_with_env(
        &[
            "prepare",
            SAMPLE,
            "--campaign-type",
            "gift",
            "--out",
            &out,
            "-q",
        ],
        &[("VOUCHER_IMPORT_UPLOAD_CAMPAIGN", "camp_123")],
    );
    assert_eq!(code, 1, "{stderr}");
}

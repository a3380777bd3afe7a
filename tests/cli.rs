//! Help, `explain` and `completions`: the command line explains itself.

use crate::util::run;

#[test]
fn explain_gives_description_example_and_sql() {
    let r = run(&["explain", "active_boolean"]);
    r.expect_code(0);
    let text = r.stdout();
    for part in [
        "active_boolean  (built-in rule, sql/active_boolean.sql; rejects the row)",
        "Active, when set, is true or false in any letter case",
        "Example of a failing row:\n  Code=GC-0009, Active=yes  ->  Active 'yes' is not true/false",
        "WHERE lower(\"Active\") NOT IN ('true', 'false')",
    ] {
        assert!(text.contains(part), "{part:?} in\n{text}");
    }
    // A rule the engine checks says which stage does.
    let dedup = run(&["explain", "duplicate_code"]);
    assert!(
        dedup.stdout().contains("Checked by the dedup stage"),
        "{}",
        dedup.stdout()
    );
    // A user's rule file.
    let user = run(&[
        "explain",
        "code_prefix",
        "--rules",
        "fixtures/rules/code_prefix.sql",
    ]);
    user.expect_code(0);
    assert!(user
        .stdout()
        .contains("(user rule, fixtures/rules/code_prefix.sql"));
}

#[test]
fn explain_of_an_unknown_rule_suggests_the_nearest() {
    crate::util::expect_error(
        &["explain", "activ_boolean"],
        &[
            "error: there is no rule 'activ_boolean'",
            "fix: did you mean 'active_boolean'?",
        ],
    );
}

#[test]
fn completions_for_bash_zsh_and_fish() {
    for (shell, marker) in [
        ("bash", "complete -F _voucher__import"),
        ("zsh", "#compdef voucher-import"),
        ("fish", "complete -c voucher-import"),
    ] {
        let r = run(&["completions", shell]);
        r.expect_code(0);
        let script = r.stdout();
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(
            script.contains("prepare") && script.contains("campaign-type"),
            "{shell}"
        );
    }
}

#[test]
fn every_subcommand_has_grouped_help_with_examples() {
    for command in [
        "prepare",
        "check",
        "rules",
        "upload",
        "explain",
        "completions",
    ] {
        let r = run(&[command, "--help"]);
        r.expect_code(0);
        let help = r.stdout();
        assert!(help.contains("Examples:"), "{command}: {help}");
        assert!(
            help.matches(&format!("voucher-import {command}")).count() >= 2,
            "{command}: {help}"
        );
    }
    let prepare = run(&["prepare", "--help"]).stdout();
    for group in ["Input:", "Campaign:", "Rules:", "Output:"] {
        assert!(prepare.contains(group), "{group} in\n{prepare}");
    }
    assert!(
        prepare.contains("[default: 9999488]"),
        "defaults are shown: {prepare}"
    );
}

#[test]
fn a_typo_in_an_option_value_gets_did_you_mean() {
    let r = run(&[
        "prepare",
        "x.csv",
        "--campaign-type",
        "gif",
        "--out",
        "{out}",
    ]);
    r.expect_code(2);
    assert!(
        r.stderr().contains("did you mean 'gift'?"),
        "{}",
        r.stderr()
    );
}

//! The progress bar: drawn on a terminal (a pseudo-terminal from `script`), never when stderr
//! is a pipe or a file, never with --quiet.

use std::fmt::Write as _;
use std::fs;
use std::process::Command;

use crate::util::{run, BIN, ROOT};

/// About 12 MB: above the size under which no bar is drawn.
fn input(dir: &std::path::Path) -> String {
    let mut text = String::from("Code,Active,Gift Amount,region,note\n");
    for row in 0..240_000 {
        let _ = writeln!(
            text,
            "CODE-{row:09},true,{},EU,{}",
            1000 + row % 5000,
            "x".repeat(20)
        );
    }
    let path = dir.join("input.csv");
    fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn no_progress_bar_when_stderr_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let input = input(dir.path());
    let r = run(&[
        "prepare",
        &input,
        "--campaign-type",
        "gift",
        "--campaign-limit",
        "1000000",
        "--out",
        "{out}",
    ]);
    r.expect_code(0);
    let stderr = r.stderr();
    assert!(
        !stderr.contains("rows/s") && !stderr.contains('\r'),
        "{stderr}"
    );
    assert!(stderr.starts_with("read "), "only the summary: {stderr}");
}

/// Runs the binary on a pseudo-terminal and gives what the terminal showed.
fn on_a_terminal(args: &str) -> String {
    let shown = Command::new("script")
        .args(["-qec", &format!("{BIN} {args}"), "/dev/null"])
        .current_dir(ROOT)
        .output()
        .expect("script(1) from util-linux runs");
    assert!(shown.status.success(), "{shown:?}");
    String::from_utf8_lossy(&shown.stdout).into_owned()
}

#[test]
fn a_progress_bar_on_a_terminal_unless_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let input = input(dir.path());
    let out = dir.path().join("out").display().to_string();
    let shown = on_a_terminal(&format!(
        "prepare {input} --campaign-type gift --campaign-limit 1000000 --out {out}"
    ));
    assert!(shown.contains("rows/s") && shown.contains("ETA"), "{shown}");
    assert!(shown.contains("accepted"), "the summary follows: {shown}");
    let quiet = on_a_terminal(&format!(
        "prepare {input} --campaign-type gift --campaign-limit 1000000 --out {out} --force --quiet"
    ));
    assert!(!quiet.contains("rows/s"), "{quiet}");
}

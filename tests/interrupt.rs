//! Ctrl-C: a run stopped by SIGINT exits 130 and leaves neither the output folder nor its
//! staging folder behind.

use std::fmt::Write as _;
use std::fs;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{BIN, ROOT};

/// A file large enough that the run is still going when the signal comes.
fn large_input(rows: usize) -> String {
    let mut text = String::from("Code,Active,Gift Amount,Redeemed Amount,region,note\n");
    for row in 0..rows {
        let _ = writeln!(
            text,
            "CODE-{row:09},true,{},0,EU,\"a note, quoted\"",
            1000 + row % 5000
        );
    }
    text
}

#[test]
fn ctrl_c_stops_cleanly_with_exit_130_and_writes_nothing() {
    stops_cleanly_on("-INT");
}

#[test]
fn sighup_and_sigquit_stop_like_sigterm_and_write_nothing() {
    stops_cleanly_on("-HUP");
    stops_cleanly_on("-QUIT");
}

/// A large `prepare` sent `signal` once it is writing: exit 130, nothing left but the input.
fn stops_cleanly_on(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("large.csv");
    fs::write(&input, large_input(1_500_000)).unwrap();
    let out = dir.path().join("out");
    let child = Command::new(BIN)
        .args([
            "prepare",
            &input.display().to_string(),
            "--campaign-type",
            "gift",
        ])
        .args([
            "--campaign-limit",
            "10000000",
            "--out",
            &out.display().to_string(),
        ])
        .current_dir(ROOT)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the run is writing (its staging folder exists), then interrupt it.
    let started = Instant::now();
    let staging = || {
        fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .any(|e| e.file_name().to_string_lossy().contains(".voucher-import-"))
    };
    while !staging() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the run never started writing"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let killed = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{signal}: {stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    let left: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["large.csv"], "only the input is left");
}

//! Regression tests, one per problem found by trying the tool as a careless user and a hostile
//! file would (issue "Safe on any machine"), each named after the problem it pins; helpers
//! here.

mod output_folder;
mod reading;
mod readings;
mod rules;
mod safe_output;

use std::fs;

use crate::util::run;

/// Whether a spreadsheet would run this cell as a formula.
pub fn live_formula(cell: &str) -> bool {
    matches!(
        cell.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    )
}

/// Every record of a CSV, the header too.
pub fn all_records(bytes: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes)
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

/// `prepare INPUT --campaign-type gift --force --out OUT` plus `extra`, from the repository.
pub fn prepare_into(
    input: &std::path::Path,
    out: &std::path::Path,
    extra: &[&str],
) -> crate::util::Run {
    let mut args = vec![
        "prepare".to_owned(),
        input.display().to_string(),
        "--campaign-type".into(),
        "gift".into(),
        "--force".into(),
        "--out".into(),
        out.display().to_string(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&args)
}

/// Runs the binary with `args`, killing it after `seconds`: gives its exit code (None when it
/// had to be killed) and stderr.
pub fn run_within(args: &[&str], seconds: u64) -> (Option<i32>, String) {
    use std::io::Read;
    let mut child = std::process::Command::new(crate::util::BIN)
        .args(args)
        .current_dir(crate::util::ROOT)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if started.elapsed() > std::time::Duration::from_secs(seconds) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (code, stderr)
}

/// A user rule file in `dir`.
pub fn rule_file(dir: &std::path::Path, name: &str, severity: &str, sql: &str) -> String {
    let path = dir.join(format!("{name}.sql"));
    fs::write(
        &path,
        format!("-- rule: {name}\n-- description: {name}\n-- severity: {severity}\n{sql}\n"),
    )
    .unwrap();
    path.display().to_string()
}

/// Runs `command` (through `sh -c`, so it may set limits and `exec` the binary) and gives its
/// exit code, its peak resident memory in MB (VmHWM, read from /proc while it runs) and stderr.
pub fn peak_memory(command: &str) -> (Option<i32>, u64, String) {
    use std::io::Read;
    let mut child = std::process::Command::new("sh")
        .args(["-c", command])
        .current_dir(crate::util::ROOT)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0u64;
    let code = loop {
        if let Ok(status) = fs::read_to_string(&status_path) {
            if let Some(kb) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak_kb = peak_kb.max(kb);
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (code, peak_kb / 1024, stderr)
}

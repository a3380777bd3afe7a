//! The test harness: a temporary folder per test, a command builder for the real binary, and
//! golden-file comparison of whole output folders.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_voucher-import");
/// The repository's root (the tests run the binary from here).
pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A finished run of the binary.
pub struct Run {
    pub args: Vec<String>,
    pub output: Output,
    /// The temporary folder the run could write into.
    pub dir: tempfile::TempDir,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.output.status.code().expect("exited, not killed")
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    /// The run's `out` folder, inside its temporary folder.
    pub fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }
    /// Panics with the command and its output unless the exit code is `code`.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code(), code, "{}", self.describe());
        self
    }
    pub fn describe(&self) -> String {
        format!(
            "voucher-import {}\n--- exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.args.join(" "),
            self.output.status.code(),
            self.stdout(),
            self.stderr()
        )
    }
}

/// Runs the binary from the repository root with `args`; `{out}` in an argument becomes the
/// run's output folder and `{tmp}` its temporary folder.
pub fn run(args: &[&str]) -> Run {
    run_with_stdin(args, None)
}

/// Like [`run`], writing `stdin` to the program's standard input (else it gets none).
pub fn run_with_stdin(args: &[&str], stdin: Option<&[u8]>) -> Run {
    run_in(tempfile::tempdir().unwrap(), args, stdin)
}

/// Writes `files` (name, contents) into a new temporary folder, then runs `args` there
/// (`{tmp}/NAME` names a file written).
pub fn run_with_files(files: &[(&str, &[u8])], args: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in files {
        fs::write(dir.path().join(name), bytes).unwrap();
    }
    run_in(dir, args, None)
}

/// `prepare` on one CSV given as text (written as `{tmp}/NAME`), with `args` after it, into
/// `{out}`: the run most targeted tests make.
pub fn prepare_csv(name: &str, csv: &str, args: &[&str]) -> Run {
    let input = format!("{{tmp}}/{name}");
    let mut argv = vec!["prepare", input.as_str()];
    argv.extend_from_slice(args);
    argv.extend(["--out", "{out}"]);
    run_with_files(&[(name, csv.as_bytes())], &argv)
}

fn run_in(dir: tempfile::TempDir, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let tmp = dir.path().display().to_string();
    let out = dir.path().join("out").display().to_string();
    let args: Vec<String> = args
        .iter()
        .map(|a| a.replace("{out}", &out).replace("{tmp}", &tmp))
        .collect();
    let mut command = Command::new(BIN);
    // The options a test gives are all the run gets: none from the tester's environment.
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("VOUCHER_IMPORT_")) {
        command.env_remove(key);
    }
    let mut child = command
        .args(&args)
        .current_dir(ROOT)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut input = child.stdin.take().expect("piped");
    if let Some(bytes) = stdin {
        // The program may stop reading early (a file-level error): that is its answer.
        let _ = input.write_all(bytes);
    }
    drop(input);
    let output = child.wait_with_output().expect("the binary runs");
    Run { args, output, dir }
}

/// Runs a command that must fail as a whole: exit code 2, every `expected` part in stderr, and
/// nothing written.
pub fn expect_error(args: &[&str], expected: &[&str]) -> Run {
    let r = run(args);
    r.expect_code(2);
    let stderr = r.stderr();
    for part in expected {
        assert!(
            stderr.contains(part),
            "stderr lacks {part:?}\n{}",
            r.describe()
        );
    }
    assert!(
        files_below(r.dir.path()).is_empty(),
        "nothing written\n{}",
        r.describe()
    );
    r
}

/// Every file below `dir`, by path relative to it.
pub fn files_below(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    paths_below(dir)
        .into_iter()
        .map(|path| {
            let rel = path
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let bytes = fs::read(&path).unwrap();
            (rel, bytes)
        })
        .collect()
}

/// The path of every file below `dir` (none when it does not exist), sorted.
pub fn paths_below(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    if !dir.exists() {
        return files;
    }
    let mut stack = vec![dir.to_owned()];
    while let Some(folder) = stack.pop() {
        for entry in fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Replaces what changes from run to run (temporary paths, timings, the version).
pub fn scrub(text: &str, run: &Run) -> String {
    let mut text = text.replace(&run.dir.path().display().to_string(), "{tmp}");
    let version = format!("\"version\": \"{}\"", env!("CARGO_PKG_VERSION"));
    text = text.replace(&version, "\"version\": \"{version}\"");
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        match line.find("\"elapsed_ms\": ") {
            Some(at) => {
                let end = if line.trim_end().ends_with(',') {
                    ",\n"
                } else {
                    "\n"
                };
                out.push_str(&line[..at]);
                out.push_str("\"elapsed_ms\": \"{elapsed}\"");
                out.push_str(end);
            }
            None => out.push_str(line),
        }
    }
    out
}

/// The folder of the cases: `tests/cases/<case>/` holds `args` (the command line, one
/// argument per line; `{out}` is the run's output folder), `about` (what the case shows), `rows`
/// (the input rows, counted apart, when the run writes a folder), optionally `stdin`, and
/// `expected/` (the exit code, stdout, stderr and every file of the output folder but
/// report.html). The Rust harness (`tests/cases.rs`) and the Python suite read the same folders.
pub fn cases_dir() -> PathBuf {
    Path::new(ROOT).join("tests/cases")
}

/// Every case, by name, sorted.
pub fn case_names() -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(cases_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| cases_dir().join(name).join("args").is_file())
        .collect();
    names.sort();
    names
}

/// Runs case `case` as its `args` (and `stdin`) say, without comparing anything.
pub fn run_case(case: &str) -> Run {
    let dir = cases_dir().join(case);
    let args = fs::read_to_string(dir.join("args"))
        .unwrap_or_else(|e| panic!("case '{case}' has no args: {e}"));
    let args: Vec<&str> = args.lines().collect();
    let stdin = fs::read(dir.join("stdin")).ok();
    run_with_stdin(&args, stdin.as_deref())
}

/// Compares a run of case `case` with `tests/cases/<case>/expected/`: the exit code, stdout,
/// stderr and every file of the output folder, byte for byte (summary.json and the streams
/// scrubbed); and that every input row is in exactly one place. With `UPDATE_GOLDEN=1` in
/// the environment it writes the expected files instead. Gives what differs.
pub fn compare_case(case: &str, run: &Run) -> std::result::Result<(), String> {
    let mut actual: BTreeMap<String, Vec<u8>> = files_below(&run.out())
        .into_iter()
        // report.html has its own test (tests/report.rs) that reads it as HTML.
        .filter(|(path, _)| path != "report.html")
        .map(|(path, bytes)| {
            let bytes = if path.ends_with(".json") {
                scrub(&String::from_utf8(bytes).unwrap(), run).into_bytes()
            } else {
                bytes
            };
            (format!("out/{path}"), bytes)
        })
        .collect();
    actual.insert("exit_code".into(), format!("{}\n", run.code()).into_bytes());
    actual.insert("stdout".into(), scrub(&run.stdout(), run).into_bytes());
    actual.insert("stderr".into(), scrub(&run.stderr(), run).into_bytes());
    let expected_dir = cases_dir().join(case).join("expected");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let _ = fs::remove_dir_all(&expected_dir);
        for (path, bytes) in &actual {
            let path = expected_dir.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, bytes).unwrap();
        }
        return Ok(());
    }
    let expected = files_below(&expected_dir);
    if expected.is_empty() {
        return Err(format!(
            "no expected files for '{case}': run UPDATE_GOLDEN=1 cargo test --test tests"
        ));
    }
    let names = |m: &BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    if names(&actual) != names(&expected) {
        return Err(format!(
            "{case}: files {:?}, expected {:?}\n{}",
            names(&actual),
            names(&expected),
            run.describe()
        ));
    }
    for (path, bytes) in &expected {
        let got = &actual[path];
        if got != bytes {
            return Err(format!(
                "{case}/{path} differs from the expected file (UPDATE_GOLDEN=1 to accept)\n--- expected\n{}\n--- actual\n{}\n{}",
                String::from_utf8_lossy(bytes),
                String::from_utf8_lossy(got),
                run.describe()
            ));
        }
    }
    if run.out().join("summary.json").exists() {
        let rows = fs::read_to_string(cases_dir().join(case).join("rows"))
            .map_err(|e| format!("{case}: the run wrote a folder but the case has no rows: {e}"))?;
        let rows: usize = rows
            .trim()
            .parse()
            .map_err(|e| format!("{case}/rows: {e}"))?;
        std::panic::catch_unwind(|| assert_conserved(&run.out(), rows))
            .map_err(|_| format!("{case}: accepted + rejected is not the input rows"))?;
    }
    Ok(())
}

/// Records of a CSV file (header excluded), read with the csv crate.
pub fn csv_records(bytes: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .from_reader(bytes)
        .byte_records()
        .map(|r| {
            r.unwrap()
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect()
        })
        .collect()
}

/// Checks that every input row is in exactly one place: rows in batches plus rows in
/// rejected.csv equal `input_rows`, and summary.json says the same.
pub fn assert_conserved(out: &Path, input_rows: usize) {
    let files = files_below(out);
    let in_batches: usize = files
        .iter()
        .filter(|(p, _)| p.starts_with("import/"))
        .map(|(_, b)| csv_records(b).len())
        .sum();
    let rejected = files
        .get("rejected.csv")
        .map_or(0, |b| csv_records(b).len());
    assert_eq!(
        in_batches + rejected,
        input_rows,
        "accepted + rejected = input rows"
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&files["summary.json"]).expect("summary.json is JSON");
    assert_eq!(summary["input_rows"], input_rows as u64);
    assert_eq!(summary["accepted"], in_batches as u64);
    assert_eq!(summary["rejected"], rejected as u64);
}

/// The sha256 of `bytes` in lowercase hex, as summary.json and upload.json record it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

//! Regression tests, one per problem found by trying the tool as a careless user and a hostile
//! file would (issue "Safe on any machine"), each named after the problem it pins.

use std::fs;

use crate::util::{csv_records, run};

/// Whether a spreadsheet would run this cell as a formula.
fn live_formula(cell: &str) -> bool {
    matches!(
        cell.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    )
}

/// Every record of a CSV, the header too.
fn all_records(bytes: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes)
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

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

/// `prepare INPUT --campaign-type gift --force --out OUT` plus `extra`, from the repository.
fn prepare_into(
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

#[test]
fn force_never_deletes_an_input_the_existing_file_or_a_folder_holding_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    fs::create_dir(&data).unwrap();
    let cards = data.join("cards.csv");
    fs::write(&cards, "Code,Active\nA-1,true\nA-2,yes\n").unwrap();
    fs::write(data.join("notes.txt"), "mine").unwrap();
    let existing_dir = dir.path().join("known");
    fs::create_dir(&existing_dir).unwrap();
    let existing = existing_dir.join("codes.csv");
    fs::write(&existing, "Code\nOLD-1\n").unwrap();
    let existing_arg = existing.display().to_string();
    for out in [&data, dir.path(), &existing_dir] {
        let r = prepare_into(&cards, out, &["--existing", &existing_arg]);
        r.expect_code(2);
        assert!(
            r.stderr().contains("which this run reads"),
            "{}",
            r.describe()
        );
        assert!(cards.exists() && existing.exists() && data.join("notes.txt").exists());
    }
    // An output folder beside or below the inputs' folder is fine.
    let r = prepare_into(&cards, &data.join("out"), &["--existing", &existing_arg]);
    r.expect_code(1);
    assert!(cards.exists() && data.join("out/summary.json").exists());
}

#[test]
fn force_replaces_only_a_folder_voucher_import_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("cards.csv");
    fs::write(&input, "Code\nA-1\n").unwrap();
    let stranger = dir.path().join("photos");
    fs::create_dir(&stranger).unwrap();
    fs::write(stranger.join("holiday.jpg"), "jpg").unwrap();
    let r = prepare_into(&input, &stranger, &[]);
    r.expect_code(2);
    assert!(r.stderr().contains("holiday.jpg"), "{}", r.describe());
    assert!(stranger.join("holiday.jpg").exists());
    // An earlier output is replaced.
    let out = dir.path().join("out");
    prepare_into(&input, &out, &[]).expect_code(0);
    prepare_into(&input, &out, &[]).expect_code(0);
    // Unless its batches were uploaded.
    fs::write(out.join("upload.json"), "{}").unwrap();
    let r = prepare_into(&input, &out, &[]);
    r.expect_code(2);
    assert!(r.stderr().contains("upload.json"), "{}", r.describe());
}

#[test]
fn a_staging_folder_left_by_a_killed_run_is_removed_by_the_next_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("cards.csv");
    fs::write(&input, "Code\nA-1\n").unwrap();
    // As a SIGKILLed run leaves it: no process has a PID this high.
    let left = dir.path().join(".out.voucher-import-4000000000.tmp");
    fs::create_dir_all(left.join("import")).unwrap();
    fs::write(left.join("import/part-00001.csv"), "Code\r\nA-1").unwrap();
    let r = prepare_into(&input, &dir.path().join("out"), &[]);
    r.expect_code(0);
    assert!(!left.exists());
    assert!(
        r.stderr()
            .contains("left by an earlier run (process 4000000000)"),
        "{}",
        r.describe()
    );
}

#[test]
fn concurrent_force_runs_into_one_folder_end_complete_or_refused_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("cards.csv");
    let mut text = String::from("Code,Active\n");
    for i in 0..20_000 {
        text.push_str(&format!("C-{i:06},true\n"));
    }
    fs::write(&input, text).unwrap();
    let out = dir.path().join("out");
    let runs: Vec<std::process::Child> = (0..4)
        .map(|_| {
            std::process::Command::new(crate::util::BIN)
                .args([
                    "prepare",
                    &input.display().to_string(),
                    "--campaign-type",
                    "gift",
                ])
                .args(["--campaign-limit", "100000", "--force", "--quiet", "--out"])
                .arg(&out)
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in runs {
        let output = child.wait_with_output().unwrap();
        assert!(
            matches!(output.status.code(), Some(0 | 2)),
            "{:?}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    crate::util::assert_conserved(&out, 20_000);
    let left: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "cards.csv" && n != "out")
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// Runs the binary with `args`, killing it after `seconds`: gives its exit code (None when it
/// had to be killed) and stderr.
fn run_within(args: &[&str], seconds: u64) -> (Option<i32>, String) {
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

#[test]
fn dev_zero_as_the_input_or_any_settings_file_ends_within_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out").display().to_string();
    let link = dir.path().join("zero.csv");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    let link = link.display().to_string();
    let sample = "fixtures/sample/gift_cards.csv";
    let cases: Vec<Vec<&str>> = vec![
        vec![
            "prepare",
            "/dev/zero",
            "--campaign-type",
            "gift",
            "--out",
            &out,
        ],
        vec!["prepare", &link, "--campaign-type", "gift", "--out", &out],
        vec![
            "prepare",
            sample,
            "--campaign-type",
            "gift",
            "--existing",
            "/dev/zero",
            "--out",
            &out,
        ],
        vec!["prepare", sample, "--campaign", "/dev/zero", "--out", &out],
        vec![
            "prepare",
            sample,
            "--campaign-type",
            "gift",
            "--rules",
            "/dev/zero",
            "--out",
            &out,
        ],
        vec![
            "prepare",
            sample,
            "--campaign-type",
            "gift",
            "--metadata-schema",
            "/dev/zero",
            "--out",
            &out,
        ],
    ];
    for args in cases {
        let (code, stderr) = run_within(&args, 10);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("fix:"), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!dir.path().join("out").exists());
    }
}

#[test]
fn a_header_longer_than_max_record_bytes_is_named_not_called_empty() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("wide.csv");
    let mut text = String::from("Code");
    for i in 0..200 {
        text.push_str(&format!(",column_{i:04}"));
    }
    text.push_str("\nA-1\n");
    fs::write(&input, text).unwrap();
    let r = run(&[
        "prepare",
        &input.display().to_string(),
        "--campaign-type",
        "gift",
        "--max-record-bytes",
        "1000",
        "--out",
        "{out}",
    ]);
    r.expect_code(2);
    assert!(
        r.stderr()
            .contains("the header line is longer than 1000 bytes"),
        "{}",
        r.describe()
    );
    assert!(
        r.stderr().contains("raise --max-record-bytes"),
        "{}",
        r.describe()
    );
}

#[test]
fn a_fifo_with_a_set_rule_is_refused_instead_of_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("cards.csv");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            // Blocks until the reader opens it; a second open would wait for ever.
            let _ = fs::write(&fifo, fs::read("fixtures/sample/gift_cards.csv").unwrap());
        })
    };
    let (code, stderr) = run_within(
        &[
            "check",
            &fifo.display().to_string(),
            "--campaign-type",
            "gift",
            "--rules",
            "fixtures/rules/category_cap.sql",
        ],
        10,
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("save") && stderr.contains("to a file first"),
        "{stderr}"
    );
    let _ = writer.join();
}

#[test]
fn select_into_is_refused_with_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("into.sql");
    fs::write(
        &file,
        "-- rule: into\n-- description: d\nSELECT 'x' AS reason\nINTO copied\nFROM vouchers WHERE 1 = 1\n",
    )
    .unwrap();
    let file = file.display().to_string();
    let r = run(&[
        "check",
        "fixtures/sample/gift_cards.csv",
        "--campaign-type",
        "gift",
        "--rules",
        &file,
    ]);
    r.expect_code(2);
    assert!(
        r.stderr().contains(&format!(
            "{file}:4: a rule may only read: SELECT ... INTO creates a table"
        )),
        "{}",
        r.describe()
    );
}

#[test]
fn a_header_of_100000_columns_is_read_in_linear_time() {
    // Quadratic work per column took 71 s in release; linear work takes well under a second
    // there. The bound is loose for debug builds and busy machines: it catches the quadratic,
    // the figure is in BENCHMARKS.md.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("wide.csv");
    let columns = 100_000;
    let mut text = String::from("Code");
    for i in 0..columns {
        text.push_str(&format!(",m{i}"));
    }
    text.push_str("\nA-1");
    text.push_str(&",x".repeat(columns));
    text.push('\n');
    fs::write(&input, text).unwrap();
    let input = input.display().to_string();
    let (code, stderr) = run_within(&["check", &input, "--campaign-type", "gift"], 90);
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn an_os_error_is_printed_once_with_a_fix_and_a_plain_csv_named_gz_gets_one() {
    let r = run(&["check", "no/such/file.csv", "--campaign-type", "gift"]);
    r.expect_code(2);
    let stderr = r.stderr();
    assert_eq!(
        stderr.matches("No such file or directory").count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("fix:"), "{stderr}");
    let dir = tempfile::tempdir().unwrap();
    let named = dir.path().join("cards.csv.gz");
    fs::write(&named, "Code\nA-1\n").unwrap();
    let r = run(&[
        "check",
        &named.display().to_string(),
        "--campaign-type",
        "gift",
    ]);
    r.expect_code(2);
    assert!(
        r.stderr()
            .contains("is named .gz but is not gzip-compressed"),
        "{}",
        r.describe()
    );
    assert!(r.stderr().contains("fix:"), "{}", r.describe());
}

#[test]
fn the_same_file_named_twice_is_one_input_and_set_rule_findings_hold() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    fs::create_dir(&data).unwrap();
    let mut text = String::from("Code,Category\n");
    for i in 0..5 {
        text.push_str(&format!("S-{i},summer\n"));
    }
    fs::write(data.join("a.csv"), text).unwrap();
    let r = run(&[
        "prepare",
        &data.display().to_string(),
        &data.join("a.csv").display().to_string(),
        "--campaign-type",
        "gift",
        "--rules",
        "fixtures/rules/category_cap.sql",
        "--out",
        "{out}",
    ]);
    r.expect_code(1);
    crate::util::assert_conserved(&r.out(), 5);
    let summary: serde_json::Value =
        serde_json::from_slice(&fs::read(r.out().join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["accepted"], 3, "{summary}");
    assert_eq!(summary["rejected_by_rule"]["category_cap"], 2, "{summary}");
    assert!(
        r.stderr().contains("is the same file as"),
        "{}",
        r.describe()
    );
}

#[test]
fn a_parquet_timestamp_out_of_range_rejects_its_row_not_the_run() {
    use datafusion::arrow::array::{ArrayRef, StringArray, TimestampSecondArray};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("far.parquet");
    let batch = datafusion::arrow::record_batch::RecordBatch::try_from_iter(vec![
        (
            "Code",
            Arc::new(StringArray::from(vec!["T-1", "T-2", "T-3"])) as ArrayRef,
        ),
        (
            "Expiry",
            Arc::new(TimestampSecondArray::from(vec![
                Some(1_767_139_200),
                Some(4_611_686_018_427_387_904),
                None,
            ])) as ArrayRef,
        ),
    ])
    .unwrap();
    let mut writer = parquet::arrow::ArrowWriter::try_new(
        fs::File::create(&path).unwrap(),
        batch.schema(),
        None,
    )
    .unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    let r = run(&[
        "prepare",
        &path.display().to_string(),
        "--campaign-type",
        "gift",
        "--out",
        "{out}",
    ]);
    r.expect_code(1);
    crate::util::assert_conserved(&r.out(), 3);
    let rejected = all_records(&fs::read(r.out().join("rejected.csv")).unwrap());
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    assert_eq!(
        &rejected[1][1..4],
        ["2", "", "unreadable_value"],
        "{rejected:?}"
    );
    assert!(rejected[1][4].contains("Expiry"), "{rejected:?}");
    assert!(
        rejected[1][4].contains("4611686018427387904"),
        "{rejected:?}"
    );
}

/// A user rule file in `dir`.
fn rule_file(dir: &std::path::Path, name: &str, severity: &str, sql: &str) -> String {
    let path = dir.join(format!("{name}.sql"));
    fs::write(
        &path,
        format!("-- rule: {name}\n-- description: {name}\n-- severity: {severity}\n{sql}\n"),
    )
    .unwrap();
    path.display().to_string()
}

#[test]
fn a_user_rule_that_fails_on_one_rows_data_rejects_that_row_not_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("cards.csv");
    fs::write(
        &input,
        "Code,amount_text,divisor,pattern\n\
         A-1,3,5,^A\n\
         A-2,abc,0,(\n\
         A-3,9,1,^Z\n",
    )
    .unwrap();
    let cast = rule_file(
        dir.path(),
        "cast_rule",
        "reject",
        "SELECT 'too much' AS reason FROM vouchers WHERE CAST(amount_text AS INT) > 5",
    );
    let division = rule_file(
        dir.path(),
        "division_rule",
        "reject",
        "SELECT 'ratio' AS reason FROM vouchers WHERE 10 / CAST(divisor AS INT) > 3",
    );
    let regex = rule_file(
        dir.path(),
        "regex_rule",
        "warn",
        "SELECT 'no match' AS reason FROM vouchers WHERE NOT regexp_like(\"Code\", pattern)",
    );
    let input = input.display().to_string();
    for command in ["prepare", "check"] {
        let mut args = vec![command, &input, "--campaign-type", "gift"];
        for rule in [&cast, &division, &regex] {
            args.extend(["--rules", rule.as_str()]);
        }
        if command == "prepare" {
            args.extend(["--out", "{out}"]);
        }
        let r = run(&args);
        r.expect_code(1);
        if command == "check" {
            continue;
        }
        crate::util::assert_conserved(&r.out(), 3);
        let summary: serde_json::Value =
            serde_json::from_slice(&fs::read(r.out().join("summary.json")).unwrap()).unwrap();
        assert_eq!(summary["rule_errors"]["cast_rule"], 1, "{summary}");
        assert_eq!(summary["rule_errors"]["division_rule"], 1, "{summary}");
        assert_eq!(summary["rule_errors"]["regex_rule"], 1, "{summary}");
        // A-1 passes all; A-2 errs on the two reject rules; A-3 fails both on its data.
        assert_eq!(summary["accepted"], 1, "{summary}");
        let rejected = fs::read_to_string(r.out().join("rejected.csv")).unwrap();
        assert!(
            rejected.contains("the rule could not be evaluated on this row"),
            "{rejected}"
        );
        let a2 = rejected.lines().find(|l| l.contains(",A-2,")).unwrap();
        assert!(a2.contains("cast_rule|division_rule"), "{a2}");
        assert!(
            r.stderr().contains("could not be evaluated on 1 row"),
            "{}",
            r.describe()
        );
    }
}

#[test]
fn a_set_rule_that_fails_at_run_time_stops_the_run_naming_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("cards.csv");
    fs::write(&input, "Code,amount_text\nA-1,3\nA-2,abc\n").unwrap();
    let set = rule_file(
        dir.path(),
        "set_cast",
        "reject",
        "SELECT file, row, 'x' AS reason FROM vouchers WHERE CAST(amount_text AS INT) > 5",
    );
    let r = run(&[
        "prepare",
        &input.display().to_string(),
        "--campaign-type",
        "gift",
        "--rules",
        &set,
        "--out",
        "{out}",
    ]);
    r.expect_code(2);
    assert!(r.stderr().contains(&set), "{}", r.describe());
    assert!(r.stderr().contains("fix:"), "{}", r.describe());
}

/// Runs `command` (through `sh -c`, so it may set limits and `exec` the binary) and gives its
/// exit code, its peak resident memory in MB (VmHWM, read from /proc while it runs) and stderr.
fn peak_memory(command: &str) -> (Option<i32>, u64, String) {
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

#[test]
fn memory_follows_bytes_not_record_size_for_a_gzip_of_100_kb_rows() {
    // 5,000 rows of 100 KB (0.5 GB of text, 0.5 MB gzipped): counted in records, one chunk
    // would hold all of them, several times over; BENCHMARKS.md has the 20,000-row figure.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wide_rows.csv.gz");
    let mut gzip = std::process::Command::new("gzip")
        .arg("-1")
        .stdin(std::process::Stdio::piped())
        .stdout(fs::File::create(&path).unwrap())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut gz = std::io::BufWriter::new(gzip.stdin.take().unwrap());
        gz.write_all(b"Code,note\n").unwrap();
        let pad = "x".repeat(100_000);
        for i in 0..5_000 {
            writeln!(gz, "W-{i:06},{pad}").unwrap();
        }
    }
    assert!(gzip.wait().unwrap().success());
    let out = dir.path().join("out");
    let (code, peak_mb, stderr) = peak_memory(&format!(
        "exec {} prepare {} --campaign-type gift --quiet --out {}",
        crate::util::BIN,
        path.display(),
        out.display()
    ));
    assert_eq!(code, Some(0), "{stderr}");
    crate::util::assert_conserved(&out, 5_000);
    assert!(peak_mb < 600, "peak RSS {peak_mb} MB");
}

#[test]
fn five_thousand_small_files_run_under_ulimit_n_64() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("inputs");
    fs::create_dir(&inputs).unwrap();
    for i in 0..5_000 {
        fs::write(
            inputs.join(format!("part-{i:05}.csv")),
            format!("Code,Active\nF-{i}-A,true\nF-{i}-B,true\n"),
        )
        .unwrap();
    }
    let out = dir.path().join("out");
    let (code, peak_mb, stderr) = peak_memory(&format!(
        "ulimit -n 64 && exec {} prepare {} --campaign-type gift --quiet --out {}",
        crate::util::BIN,
        inputs.display(),
        out.display()
    ));
    assert_eq!(code, Some(0), "{stderr}");
    crate::util::assert_conserved(&out, 10_000);
    assert!(peak_mb < 200, "peak RSS {peak_mb} MB");
}

//! Reading safely on any machine: endless and read-once sources, wide headers, files named
//! twice, typed values that cannot be text, records of any size, thousands of files.

use std::fs;

use super::*;
use crate::util::run;

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
            let _ = fs::write(
                &fifo,
                fs::read(format!(
                    "{}/fixtures/sample/gift_cards.csv",
                    crate::util::ROOT
                ))
                .unwrap(),
            );
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

#[test]
fn an_existing_codes_file_delimited_by_semicolons_is_read_by_its_code_column() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("cards.csv");
    fs::write(&input, "Code,Active\nKNOWN-1,true\nNEW-1,true\n").unwrap();
    let existing = dir.path().join("existing.csv");
    // Before, this was read as a one-column list: the header line became a code, and
    // KNOWN-1 was not found (the guard silently off).
    fs::write(&existing, "id;code;campaign\n7;KNOWN-1;summer\n").unwrap();
    let r = crate::util::run(&[
        "prepare",
        &input.display().to_string(),
        "--campaign-type",
        "discount",
        "--existing",
        &existing.display().to_string(),
        "--out",
        "{out}",
    ]);
    r.expect_code(1);
    let rejected = fs::read_to_string(r.out().join("rejected.csv")).unwrap();
    assert!(
        rejected.contains("existing_code") && rejected.contains("KNOWN-1"),
        "{rejected}"
    );
    crate::util::assert_conserved(&r.out(), 2);
}

#[test]
fn a_stray_quote_and_an_inch_mark_hide_no_rows_in_a_value() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("cards.csv");
    fs::write(
        &input,
        "Code,Gift Amount,note\nG1,100,\"Happy holidays\nG2,100,plain\nG3,100,plain\nG4,100,Monitor 27\"\nG5,100,plain\n",
    )
    .unwrap();
    let r = run(&[
        "prepare",
        &input.display().to_string(),
        "--campaign-type",
        "gift",
        "--out",
        "{out}",
    ]);
    r.expect_code(1);
    // Before: "read 2 rows", G2-G4 imported as G1's note.
    crate::util::assert_conserved(&r.out(), 5);
    let batches: String = fs::read_dir(r.out().join("import"))
        .unwrap()
        .map(|e| fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    for code in ["G2", "G3", "G5"] {
        assert!(batches.contains(&format!("{code},")), "{code}: {batches}");
    }
    assert!(!batches.contains("Happy holidays"), "{batches}");
    let rejected = fs::read_to_string(r.out().join("rejected.csv")).unwrap();
    assert!(
        rejected.contains("G1") && rejected.contains("G4"),
        "{rejected}"
    );
}

#[test]
fn a_multi_line_value_holding_lines_that_look_like_rows_is_counted_and_warned() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("cards.csv");
    // Kept whole (the value closes on a line that is no row), but its second line reads
    // alone as a row of the file.
    fs::write(
        &input,
        "Code,Gift Amount,note\nG1,100,\"Happy\nG2,100,plain\nthe end\"\nG5,100,plain\nG6,100,\"two\nlines\"\n",
    )
    .unwrap();
    let r = run(&[
        "prepare",
        &input.display().to_string(),
        "--campaign-type",
        "gift",
        "--out",
        "{out}",
    ]);
    r.expect_code(0);
    let summary: serde_json::Value =
        serde_json::from_slice(&fs::read(r.out().join("summary.json")).unwrap()).unwrap();
    let info = &summary["inputs"][0];
    assert_eq!(info["rows"], 3, "{summary}");
    assert_eq!(info["multi_line_records"], 2, "{summary}");
    assert_eq!(info["lines_in_multi_line_records"], 3, "{summary}");
    assert!(
        r.stderr().contains(
            "1 row(s) hold a value over several lines whose later lines read as rows of the file"
        ),
        "{}",
        r.describe()
    );
    crate::util::assert_conserved(&r.out(), 3);
}

#[test]
fn a_folder_entry_that_cannot_be_read_as_a_file_stops_the_run_or_is_skipped_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("in");
    fs::create_dir(&folder).unwrap();
    fs::write(folder.join("a.csv"), "Code\nA-1\n").unwrap();
    // Before: silently skipped, the import one file short.
    std::os::unix::fs::symlink(folder.join("gone.csv"), folder.join("b.csv")).unwrap();
    let folder_arg = folder.display().to_string();
    let r = run(&[
        "prepare",
        &folder_arg,
        "--campaign-type",
        "discount",
        "--out",
        "{out}",
    ]);
    r.expect_code(2);
    assert!(
        r.stderr().contains("b.csv") && r.stderr().contains("--skip-unreadable"),
        "{}",
        r.describe()
    );
    assert!(!r.out().exists());
    let r = run(&[
        "prepare",
        &folder_arg,
        "--campaign-type",
        "discount",
        "--skip-unreadable",
        "--out",
        "{out}",
    ]);
    r.expect_code(0);
    assert!(
        r.stderr()
            .contains("b.csv is a link that leads nowhere readable"),
        "{}",
        r.describe()
    );
    // A glob meets it too.
    let pattern = format!("{}/*.csv", folder.display());
    let r = run(&[
        "prepare",
        &pattern,
        "--campaign-type",
        "discount",
        "--out",
        "{out}",
    ]);
    r.expect_code(2);
    assert!(r.stderr().contains("b.csv"), "{}", r.describe());
}

#[test]
fn gzip_with_trailing_zero_padding_is_read_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("padded.csv.gz");
    let mut gzip = std::process::Command::new("gzip")
        .arg("-c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = gzip.stdin.take().unwrap();
        stdin
            .write_all(b"Code,Active\nP-1,true\nP-2,true\n")
            .unwrap();
    }
    let mut bytes = gzip.wait_with_output().unwrap().stdout;
    // A tape or block device rounds the file up to its block with zeros.
    bytes.resize(bytes.len().div_ceil(512) * 512 + 512, 0);
    fs::write(&path, &bytes).unwrap();
    let r = run(&[
        "prepare",
        &path.display().to_string(),
        "--campaign-type",
        "gift",
        "--out",
        "{out}",
    ]);
    r.expect_code(0);
    crate::util::assert_conserved(&r.out(), 2);
    let summary: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(r.out().join("summary.json")).unwrap()).unwrap();
    let notes = summary["notes"].to_string();
    assert!(
        notes.contains("zero byte(s) after the end of the gzip data were skipped"),
        "{notes}"
    );
    assert_eq!(summary["inputs"][0]["bytes"], bytes.len());
}

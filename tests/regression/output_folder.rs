//! The output folder: `--force` never touches what the run reads or what voucher-import did
//! not write; killed runs' leftovers are removed; concurrent runs end complete or refused.

use std::fs;

use super::*;

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

#[test]
fn threads_preparing_into_one_folder_never_share_a_staging_folder() {
    use voucher_import::CampaignType;
    use voucher_import::Import;
    for attempt in 0..8 {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let inputs: Vec<std::path::PathBuf> = (0..3)
            .map(|t| {
                let path = dir.path().join(format!("cards-{t}.csv"));
                let mut text = String::from("Code,Active\n");
                for i in 0..3000 {
                    text.push_str(&format!("T{t}-{i:05},true\n"));
                }
                fs::write(&path, text).unwrap();
                path
            })
            .collect();
        let results: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = inputs
                .iter()
                .map(|input| {
                    let out = out.clone();
                    scope.spawn(move || {
                        Import::new(CampaignType::DiscountCoupons)
                            .batch_rows(500)
                            .run_files(std::slice::from_ref(input), out)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let done: Vec<usize> = (0..3).filter(|&t| results[t].is_ok()).collect();
        assert_eq!(
            done.len(),
            1,
            "attempt {attempt}: one run writes the folder"
        );
        for result in &results {
            if let Err(e) = result {
                let text = e.to_string();
                assert!(
                    text.contains("was filled while the run went on")
                        || text.contains("exists and is not empty"),
                    "attempt {attempt}: a clear refusal: {text}"
                );
            }
        }
        // The folder is one run's whole: its summary lists exactly its batches, every batch's
        // sha256 holds, and every code is the winner's.
        let summary: serde_json::Value =
            serde_json::from_slice(&fs::read(out.join("summary.json")).unwrap()).unwrap();
        let winner = format!("T{}-", done[0]);
        let mut rows = 0;
        for batch in summary["batches"].as_array().unwrap() {
            let bytes = fs::read(out.join(batch["path"].as_str().unwrap())).unwrap();
            assert_eq!(
                crate::util::sha256_hex(&bytes),
                batch["sha256"].as_str().unwrap(),
                "attempt {attempt}"
            );
            let text = String::from_utf8(bytes).unwrap();
            for line in text.lines().skip(1) {
                assert!(line.starts_with(&winner), "attempt {attempt}: {line}");
                rows += 1;
            }
        }
        assert_eq!(rows, 3000, "attempt {attempt}");
        crate::util::assert_conserved(&out, 3000);
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(leftovers.is_empty(), "attempt {attempt}: {leftovers:?}");
    }
}

#[test]
fn force_never_deletes_files_nested_in_an_earlier_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("cards.csv");
    fs::write(&input, "Code\nA-1\n").unwrap();
    let out = dir.path().join("out");
    prepare_into(&input, &out, &[]).expect_code(0);
    // Someone keeps notes inside the earlier output's import/ and a folder of their own.
    fs::write(out.join("import/notes.txt"), "mine").unwrap();
    fs::create_dir(out.join("import/archive")).unwrap();
    fs::write(out.join("import/archive/part-00001.csv"), "old").unwrap();
    let r = prepare_into(&input, &out, &[]);
    r.expect_code(2);
    assert!(
        r.stderr().contains("import/notes.txt") && r.stderr().contains("import/archive"),
        "{}",
        r.describe()
    );
    assert_eq!(
        fs::read_to_string(out.join("import/notes.txt")).unwrap(),
        "mine"
    );
    assert!(out.join("import/archive/part-00001.csv").exists());
    // A folder where the tool writes a file is not its own either.
    fs::remove_file(out.join("import/notes.txt")).unwrap();
    fs::remove_dir_all(out.join("import/archive")).unwrap();
    fs::remove_file(out.join("report.html")).unwrap();
    fs::create_dir(out.join("report.html")).unwrap();
    fs::write(out.join("report.html/keep.txt"), "mine").unwrap();
    let r = prepare_into(&input, &out, &[]);
    r.expect_code(2);
    assert!(out.join("report.html/keep.txt").exists());
    // What the tool wrote, and only that, is replaced.
    fs::remove_dir_all(out.join("report.html")).unwrap();
    prepare_into(&input, &out, &[]).expect_code(0);
}

#[test]
fn stdin_read_from_the_output_folder_is_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("cards.csv");
    fs::write(&input, "Code,Active\nA-1,true\nA-2,maybe\n").unwrap();
    let out = dir.path().join("out");
    prepare_into(&input, &out, &[]).expect_code(1);
    let rejected = out.join("rejected.csv");
    let before = fs::read(&rejected).unwrap();
    // `prepare - --out out --force < out/rejected.csv`: the guard used to check named paths
    // only, and the run replaced its own input.
    let output = std::process::Command::new(crate::util::BIN)
        .args([
            "prepare",
            "-",
            "--campaign-type",
            "gift",
            "--force",
            "--out",
        ])
        .arg(&out)
        .stdin(fs::File::open(&rejected).unwrap())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("standard input"), "{stderr}");
    assert_eq!(fs::read(&rejected).unwrap(), before);
}

//! Every answer survived, every file confined: failed rows without row or code, results without
//! counts or with counts that do not fit, a status in lower case, formulas in Voucherify's
//! reasons, a summary.json whose batch path leads out of the folder.

use super::*;

#[test]
fn failed_rows_without_row_or_code_are_recorded_and_survive_every_rerun() {
    let dir = prepared();
    let fake = Fake::start();
    let batch = fs::read_to_string(out(&dir).join("import/part-00001.csv")).unwrap();
    let codes: Vec<&str> = batch
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    fake.behaviour().results.insert(
        "part-00001.csv".into(),
        json!({"failed": [
            {"code": codes[1], "reason": "no row"},
            {"reason": "neither row nor code"},
            {"code": codes[0], "row": -1, "reason": "negative row"},
            {"row": 999, "reason": "past the batch"},
            {"code": null, "row": null, "reason": null}
        ]}),
    );
    for run in 0..2 {
        let output = upload(&dir, &fake);
        assert_eq!(
            output.status.code(),
            Some(1),
            "run {run}: {}",
            text(&output)
        );
        let failed = fs::read_to_string(out(&dir).join("upload-failed.csv")).unwrap();
        let lines: Vec<&str> = failed.lines().collect();
        assert_eq!(lines.len(), 6, "{failed}");
        assert!(
            lines[1].starts_with(&format!(
                "fixtures/sample/gift_cards.csv,2,{},no row,",
                codes[1]
            )),
            "{failed}"
        );
        assert!(
            lines[2].starts_with("import/part-00001.csv,,,neither row nor code"),
            "{failed}"
        );
        assert!(
            lines[3].starts_with(&format!(
                "fixtures/sample/gift_cards.csv,1,{},negative row,",
                codes[0]
            )),
            "{failed}"
        );
        assert!(
            lines[4].starts_with("import/part-00001.csv,,,past the batch"),
            "{failed}"
        );
        assert!(lines[5].starts_with("import/part-00001.csv,,,"), "{failed}");
        // The failed rows are recorded in a file of their own; upload.json holds their count.
        let recorded = state(&dir);
        assert_eq!(recorded["batches"][0]["failed_rows"], 5, "{recorded}");
        assert!(recorded["batches"][0].get("failed").is_none(), "{recorded}");
        let rows: Value = serde_json::from_slice(
            &fs::read(out(&dir).join("upload-failed-rows/part-00001.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(rows[0]["row_source"], "code", "{rows}");
        assert_eq!(rows[2]["reported_row"], "-1", "{rows}");
    }
    assert_eq!(
        fake.posts().len(),
        batch_names(&dir).len(),
        "the rerun posted nothing"
    );
}

#[test]
fn a_result_without_counts_is_inferred_and_marked() {
    let dir = prepared();
    let fake = Fake::start();
    let rows = fs::read_to_string(out(&dir).join("import/part-00001.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    fake.behaviour().results.insert(
        "part-00001.csv".into(),
        json!({"message": format!("{rows} voucher(s) imported successfully"), "failed": []}),
    );
    let output = upload(&dir, &fake);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let recorded = state(&dir);
    assert_eq!(recorded["batches"][0]["counts"], "inferred", "{recorded}");
    assert_eq!(recorded["batches"][0]["done_count"], rows, "{recorded}");
    assert!(
        stderr(&output).contains("imported          10  codes"),
        "{}",
        text(&output)
    );
    assert!(stderr(&output).contains("inferred"), "{}", text(&output));
}

#[test]
fn counts_short_of_the_rows_sent_are_reported_with_exit_1() {
    let dir = prepared();
    let fake = Fake::start();
    let rows = fs::read_to_string(out(&dir).join("import/part-00003.csv"))
        .unwrap()
        .lines()
        .count() as u64
        - 1;
    fake.behaviour().results.insert(
        "part-00003.csv".into(),
        json!({"message": "imported", "failed": [], "done_count": rows - 2, "failed_count": 0}),
    );
    let output = upload(&dir, &fake);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(
        stderr(&output).contains("2 rows of part-00003.csv got no verdict from Voucherify"),
        "{}",
        text(&output)
    );
    assert_eq!(state(&dir)["batches"][2]["rows_without_verdict"], 2);
}

#[test]
fn counts_larger_than_the_batch_are_reported_as_inconsistent_not_believed() {
    let dir = prepared();
    let fake = Fake::start();
    fake.behaviour().results.insert(
        "part-00001.csv".into(),
        json!({"failed": [], "done_count": 500, "failed_count": 0}),
    );
    let output = upload_command(&dir, &fake, TOKEN)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(
        stderr(&output).contains("inconsistent part-00001.csv"),
        "{}",
        text(&output)
    );
    let outcome: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(outcome["batches_inconsistent"], 1);
    assert!(
        outcome["codes_imported"].as_u64().unwrap() < 500,
        "{outcome}"
    );
    assert_eq!(state(&dir)["batches"][0]["counts"], "inconsistent");
    assert_eq!(state(&dir)["batches"][0]["reported_done_count"], 500);
}

#[test]
fn a_status_in_lower_case_ends_the_job() {
    let dir = prepared();
    let fake = Fake::start();
    fake.behaviour().done_status = "done".into();
    let output = upload(&dir, &fake);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
}

#[test]
fn upload_failed_csv_neutralises_formulas_in_every_column() {
    let dir = prepared();
    let fake = Fake::start();
    fake.behaviour().failed_rows.insert(
        "part-00001.csv".into(),
        vec![
            json!({"row": 1, "reason": "=HYPERLINK(\"http://evil\",\"click\")"}),
            json!({"code": "=1+2", "row": 2, "reason": "@SUM(A1)"}),
        ],
    );
    let output = upload(&dir, &fake);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    // "=1+2" is no code of the batch: an inconsistent answer, reported, not a row of it.
    assert!(
        stderr(&output).contains("listed 1 failed code(s) the batch never sent"),
        "{}",
        text(&output)
    );
    let failed = fs::read_to_string(out(&dir).join("upload-failed.csv")).unwrap();
    assert!(!failed.contains("1+2"), "{failed}");
    let mut reader = csv::Reader::from_reader(failed.as_bytes());
    for record in reader.records() {
        for cell in record.unwrap().iter() {
            assert!(
                !matches!(cell.as_bytes().first(), Some(b'=' | b'+' | b'-' | b'@')),
                "a live formula: {cell}\n{failed}"
            );
        }
    }
    assert!(failed.contains("'=HYPERLINK"), "{failed}");
}

#[test]
fn a_batch_path_leading_out_of_the_folder_is_refused_before_anything_is_sent() {
    let dir = prepared();
    let fake = Fake::start();
    let summary_path = out(&dir).join("summary.json");
    let summary = fs::read_to_string(&summary_path).unwrap();
    let hostname_sha = {
        let bytes = fs::read("/etc/hostname").unwrap_or_default();
        crate::util::sha256_hex(&bytes)
    };
    let mut tampered: Value = serde_json::from_str(&summary).unwrap();
    tampered["batches"][0]["path"] = json!("../../etc/hostname");
    tampered["batches"][0]["sha256"] = json!(hostname_sha);
    fs::write(&summary_path, tampered.to_string()).unwrap();
    let output = upload(&dir, &fake);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        stderr(&output).contains("../../etc/hostname"),
        "{}",
        text(&output)
    );
    assert!(fake.log().is_empty(), "nothing sent: {:?}", fake.log());

    // A symlink inside import/ that leads out.
    let mut tampered: Value = serde_json::from_str(&summary).unwrap();
    let outside = dir.path().join("outside.csv");
    fs::copy(out(&dir).join("import/part-00001.csv"), &outside).unwrap();
    fs::remove_file(out(&dir).join("import/part-00001.csv")).unwrap();
    std::os::unix::fs::symlink(&outside, out(&dir).join("import/part-00001.csv")).unwrap();
    tampered["batches"][0]["path"] = json!("import/part-00001.csv");
    fs::write(&summary_path, tampered.to_string()).unwrap();
    let output = upload(&dir, &fake);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(stderr(&output).contains("outside"), "{}", text(&output));
    assert!(fake.log().is_empty());
}

#[test]
fn an_endless_summary_json_is_refused_not_read_for_ever() {
    let dir = prepared();
    let fake = Fake::start();
    let summary = out(&dir).join("summary.json");
    fs::remove_file(&summary).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &summary).unwrap();
    let started = Instant::now();
    let output = upload(&dir, &fake);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(stderr(&output).contains("larger than"), "{}", text(&output));
    assert!(fake.log().is_empty());
}

#[test]
fn a_post_answer_naming_another_batchs_job_leaves_the_batch_unconfirmed() {
    let dir = prepared();
    let fake = Fake::start();
    // Batch 1 goes in as aa_1; the answer to batch 2's POST names aa_1 again.
    fake.behaviour().posts.push_back(Reply::Normal);
    fake.behaviour()
        .posts
        .push_back(Reply::status(202, r#"{"async_action_id": "aa_1"}"#));
    let output = upload_command(&dir, &fake, TOKEN)
        .args(["--verify", "0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let recorded = state(&dir);
    let second = &recorded["batches"][1];
    assert_eq!(second["status"], "unconfirmed", "{recorded}");
    assert!(second["async_action_id"].is_null(), "{recorded}");
    assert!(
        second["reason"]
            .as_str()
            .unwrap()
            .contains("the job aa_1, which is import/part-00001.csv's"),
        "{recorded}"
    );
    assert_eq!(recorded["batches"][0]["status"], "DONE");
}

#[test]
fn upload_json_stays_small_however_many_rows_failed_and_the_upload_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("cards.csv");
    let mut cards = String::from("Code,Gift Amount\n");
    for i in 0..20_000 {
        cards.push_str(&format!("F-{i:06},1000\n"));
    }
    fs::write(&input, cards).unwrap();
    let prepared = Command::new(BIN)
        .args([
            "prepare",
            &input.display().to_string(),
            "--campaign-type",
            "gift",
        ])
        .args(["--batch-rows", "10000", "--canary-rows", "0"])
        .args(["--out", &out(&dir).display().to_string()])
        .output()
        .unwrap();
    assert_eq!(prepared.status.code(), Some(0), "{prepared:?}");
    let fake = Fake::start();
    // Every row of batch 1 fails, with a long reason; batch 2's job never ends this run.
    let reason = "unit: must be a number, property is required (actual value is 'EUR') ".repeat(4);
    let failed: Vec<Value> = (0..10_000)
        .map(|i| json!({"code": format!("F-{i:06}"), "row": i + 1, "reason": reason}))
        .collect();
    fake.behaviour()
        .failed_rows
        .insert("part-00001.csv".into(), failed);
    fake.behaviour().hanging.insert("part-00002.csv".into());
    let output = upload_command(&dir, &fake, TOKEN)
        .args(["--verify", "0", "--job-timeout", "1"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let state_bytes = fs::metadata(out(&dir).join("upload.json")).unwrap().len();
    assert!(state_bytes < 16_384, "upload.json is {state_bytes} bytes");
    let failed_csv = fs::read_to_string(out(&dir).join("upload-failed.csv")).unwrap();
    assert_eq!(failed_csv.lines().count(), 10_001);
    // The next run resumes from the small state: polls batch 2 on, posts nothing again, and
    // still lists batch 1's failed rows.
    fake.behaviour().hanging.clear();
    let output = upload_command(&dir, &fake, TOKEN)
        .args(["--verify", "0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert_eq!(fake.posts().len(), 2, "nothing posted twice");
    assert_eq!(state(&dir)["batches"][1]["status"], "DONE");
    let again = fs::read_to_string(out(&dir).join("upload-failed.csv")).unwrap();
    assert_eq!(again, failed_csv);
}

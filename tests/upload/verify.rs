//! Reading back what Voucherify stored (`--verify`, `--canary`, `--verify-only`) against a fake
//! that stores what the imports sent faithfully, or the ways a project may read a CSV otherwise
//! than the tool assumes.

use super::*;
use fake::Storing;

/// `upload-verify.csv`'s records (header included), as text.
fn verify_csv(dir: &tempfile::TempDir) -> Vec<Vec<String>> {
    let text = fs::read(out(dir).join("upload-verify.csv")).unwrap();
    let mut records = vec![];
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&text[..]);
    for record in reader.records() {
        records.push(record.unwrap().iter().map(str::to_owned).collect());
    }
    records
}

/// Uploads with `args` added; gives the output.
fn upload_with(dir: &tempfile::TempDir, fake: &Fake, args: &[&str]) -> Output {
    upload_command(dir, fake, TOKEN)
        .args(args)
        .output()
        .unwrap()
}

fn voucher_gets(fake: &Fake) -> Vec<fake::Logged> {
    fake.log()
        .into_iter()
        .filter(|l| l.path.starts_with("/v1/vouchers/"))
        .collect()
}

#[test]
fn a_faithful_project_is_verified_without_a_mismatch() {
    let dir = prepared();
    let fake = Fake::start();
    let output = upload_with(&dir, &fake, &["--verify", "all"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(
        stderr(&output).contains("verified          10  codes read back: all stored as sent"),
        "{}",
        text(&output)
    );
    assert!(!out(&dir).join("upload-verify.csv").exists());
    assert_eq!(
        voucher_gets(&fake).len(),
        10,
        "every accepted code read back once"
    );
    let state = state(&dir);
    for batch in state["batches"].as_array().unwrap() {
        assert_eq!(batch["verification"]["complete"], true, "{state}");
        assert_eq!(batch["verification"]["mismatches"], json!([]), "{state}");
    }
}

#[test]
fn amounts_stored_at_a_hundredth_are_mismatches_with_their_pattern_named() {
    let dir = prepared();
    let fake = Fake::start();
    fake.behaviour().storing = Storing::AmountsHundredth;
    // Every batch posted and read back: the gate is tested in `gate`.
    let output = upload_with(
        &dir,
        &fake,
        &["--verify", "all", "--on-mismatch", "continue"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let records = verify_csv(&dir);
    assert_eq!(
        records[0],
        ["batch", "file", "row", "code", "column", "sent", "stored", "kind"]
    );
    let gift: Vec<&Vec<String>> = records.iter().filter(|r| r[4] == "Gift Amount").collect();
    assert_eq!(gift.len(), 10, "{records:?}");
    // Mapped back to the input row: GC-0001 is row 1 of the sample.
    let first = records.iter().find(|r| r[3] == "GC-0001").unwrap();
    assert_eq!(
        first[..8],
        [
            "import/part-00001.csv",
            "fixtures/sample/gift_cards.csv",
            "1",
            "GC-0001",
            "Gift Amount",
            "5000",
            "50",
            "hundredth"
        ]
    );
    let stderr = stderr(&output);
    assert!(
        stderr.contains(
            "pattern   Voucherify holds every Gift Amount at 1/100 of what the batch sent"
        ),
        "{stderr}"
    );
    let json = upload_with(&dir, &fake, &["--verify-only", "--json"]);
    let outcome: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(outcome["patterns"][0]["column"], "Gift Amount", "{outcome}");
    assert_eq!(outcome["patterns"][0]["kind"], "hundredth", "{outcome}");
    assert_eq!(
        outcome["schema_version"],
        voucher_import::upload::SCHEMA_VERSION
    );
    crate::schemas::assert_valid("upload-outcome.schema.json", &outcome);
}

#[test]
fn amounts_read_in_major_units_name_the_fix() {
    let dir = prepared();
    let fake = Fake::start();
    fake.behaviour().storing = Storing::AmountsTimes100;
    let output = upload(&dir, &fake);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let stderr = stderr(&output);
    assert!(
        stderr.contains("it reads CSV amounts in major units")
            && stderr.contains("--batch-amount-unit major"),
        "{stderr}"
    );
}

#[test]
fn dates_dropped_a_metadata_key_dropped_and_booleans_as_text_are_each_named() {
    let dir = prepared();
    let fake = Fake::start();
    fake.behaviour().storing = Storing::DatesDropped;
    let output = upload_with(&dir, &fake, &["--verify", "all"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(
        stderr(&output).contains("this campaign import did not map Start Date"),
        "{}",
        text(&output)
    );
    assert!(verify_csv(&dir)
        .iter()
        .skip(1)
        .all(|r| (r[4] == "Start Date" || r[4] == "Expiration Date")
            && r[6] == "(none)"
            && r[7] == "missing"));

    let dir = prepared();
    let fake = Fake::start();
    fake.behaviour().storing = Storing::MetadataKeyDropped("region".into());
    let output = upload_with(&dir, &fake, &["--verify", "all"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(
        stderr(&output).contains("Voucherify did not store 'region' for the codes that sent it"),
        "{}",
        text(&output)
    );

    // Boolean metadata: a file of its own.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("flags.csv");
    fs::write(&input, "Code,vip\nF-1,true\nF-2,FALSE\nF-3,\n").unwrap();
    let prepared = Command::new(BIN)
        .args([
            "prepare",
            &input.display().to_string(),
            "--campaign-type",
            "gift",
        ])
        .args(["--out", &out(&dir).display().to_string()])
        .output()
        .unwrap();
    assert_eq!(prepared.status.code(), Some(0), "{prepared:?}");
    let fake = Fake::start();
    fake.behaviour().storing = Storing::BooleansAsText;
    let output = upload(&dir, &fake);
    // No schema says vip is a boolean: Voucherify documents that a property it has no
    // definition for is stored as text. A note naming the fix, not a mismatch.
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(
        stderr(&output).contains("metadata 'vip' is stored as text on 2 code(s)")
            && stderr(&output).contains("define 'vip' as a boolean property"),
        "{}",
        text(&output)
    );
    assert!(!out(&dir).join("upload-verify.csv").exists());

    // A schema defining vip as a boolean: text is then a mismatch.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("flags.csv");
    fs::write(&input, "Code,vip\nF-1,true\nF-2,FALSE\n").unwrap();
    let schema = dir.path().join("schema.json");
    fs::write(
        &schema,
        r#"{"related_object": "voucher", "properties": {"vip": {"type": "boolean", "optional": true}}}"#,
    )
    .unwrap();
    let prepared = Command::new(BIN)
        .args(["prepare", &input.display().to_string()])
        .args(["--campaign-type", "gift"])
        .args(["--metadata-schema", &schema.display().to_string()])
        .args(["--out", &out(&dir).display().to_string()])
        .output()
        .unwrap();
    assert_eq!(prepared.status.code(), Some(0), "{prepared:?}");
    let fake = Fake::start();
    fake.behaviour().storing = Storing::BooleansAsText;
    let output = upload(&dir, &fake);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(
        stderr(&output).contains("stored metadata 'vip' as text ('true'), not as a boolean"),
        "{}",
        text(&output)
    );
    let records = verify_csv(&dir);
    assert_eq!(records.len(), 3, "{records:?}");
    assert_eq!(records[2][5..8], ["false", "\"false\"", "boolean_as_text"]);
}

#[test]
fn a_code_reported_imported_but_not_found_is_a_mismatch_of_its_own() {
    let dir = prepared();
    let fake = Fake::start();
    fake.behaviour().storing = Storing::CodeMissing("000123".into());
    let output = upload_with(&dir, &fake, &["--verify", "all"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let records = verify_csv(&dir);
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(
        records[1][3..8],
        ["000123", "Code", "000123", "(404: not found)", "not_found"]
    );
    assert!(
        stderr(&output).contains("not found by GET /v1/vouchers/{code} (first: 000123)"),
        "{}",
        text(&output)
    );
}

#[test]
fn a_code_that_existed_is_compared_on_active_and_category_only() {
    let dir = prepared();
    let fake = Fake::start();
    // GC-0001 exists since long before, with another balance: the import only updates it.
    fake.store_voucher(
        "GC-0001",
        json!({"code": "GC-0001", "active": false, "category": "old", "gift": {"amount": 1},
               "created_at": "2020-01-01T00:00:00.000Z", "metadata": {}}),
    );
    let output = upload_with(&dir, &fake, &["--verify", "all"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(
        stderr(&output).contains("(1 code as updates: Active and Category only)"),
        "{}",
        text(&output)
    );
}

#[test]
fn the_sample_is_spread_over_each_batch_and_the_read_back_sends_only_gets() {
    let dir = prepared();
    let fake = Fake::start();
    let output = upload_with(&dir, &fake, &["--verify", "2"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let state = state(&dir);
    for batch in state["batches"].as_array().unwrap() {
        let rows = batch["rows"].as_u64().unwrap();
        assert_eq!(batch["verification"]["checked"], rows.min(2), "{state}");
    }
    // Again, read-back only: nothing but GETs of vouchers, and no import.
    let before = fake.log().len();
    let output = upload_with(&dir, &fake, &["--verify-only", "--verify", "all"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let after = &fake.log()[before..];
    assert!(!after.is_empty());
    for request in after {
        assert_eq!(request.method, "GET", "{request:?}");
        assert!(request.path.starts_with("/v1/vouchers/"), "{request:?}");
    }
    assert_eq!(after.len(), 10);
    assert!(fake.posts_per_file().values().all(|&n| n == 1));
}

#[test]
fn a_canary_that_is_stored_otherwise_stops_the_bulk() {
    let dir = prepared();
    let fake = Fake::start();
    fake.behaviour().storing = Storing::DatesDropped;
    let output = upload_with(&dir, &fake, &["--canary"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let posted: Vec<String> = fake
        .posts()
        .iter()
        .map(|p| p.file.clone().unwrap())
        .collect();
    assert_eq!(posted, ["part-00001.csv"], "only the canary is posted");
    let state = state(&dir);
    assert_eq!(state["canary"]["passed"], false, "{state}");
    assert!(
        state["canary"]["reason"]
            .as_str()
            .unwrap()
            .contains("stored otherwise than sent"),
        "{state}"
    );
    for batch in &state["batches"].as_array().unwrap()[1..] {
        assert_eq!(batch["status"], "pending", "{state}");
    }
    assert!(
        stderr(&output).contains("canary    import/part-00001.csv:"),
        "{}",
        text(&output)
    );
    // A rerun with the canary still stopped posts nothing more.
    let again = upload_with(&dir, &fake, &["--canary"]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert_eq!(
        fake.posts().len(),
        1,
        "nothing posted twice, nothing more posted"
    );
}

#[test]
fn a_faithful_canary_lets_the_rest_through() {
    let dir = tempfile::tempdir().unwrap();
    let prepared = Command::new(BIN)
        .args([
            "prepare",
            "fixtures/sample/gift_cards.csv",
            "--campaign-type",
            "gift",
        ])
        .args([
            "--canary-rows",
            "2",
            "--out",
            &out(&dir).display().to_string(),
        ])
        .current_dir(ROOT)
        .output()
        .unwrap();
    assert_eq!(prepared.status.code(), Some(1), "{prepared:?}");
    let fake = Fake::start();
    let output = upload_with(&dir, &fake, &["--canary"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let posted: Vec<String> = fake
        .posts()
        .iter()
        .map(|p| p.file.clone().unwrap())
        .collect();
    assert_eq!(posted, ["part-00001.csv", "part-00002.csv"]);
    let state = state(&dir);
    assert_eq!(state["batches"][0]["rows"], 2, "{state}");
    assert_eq!(state["canary"]["passed"], true, "{state}");
    assert_eq!(state["batches"][0]["verification"]["checked"], 2, "{state}");
    // The canary's codes were all read back before batch 2 was posted.
    let log = fake.log();
    let second_post = log
        .iter()
        .position(|l| l.method == "POST" && l.file.as_deref() == Some("part-00002.csv"))
        .unwrap();
    let canary_reads = log[..second_post]
        .iter()
        .filter(|l| l.path.starts_with("/v1/vouchers/"))
        .count();
    assert_eq!(canary_reads, 2);
}

#[test]
fn the_read_back_retries_a_429_and_redacts_what_the_server_echoes() {
    let dir = prepared();
    let fake = Fake::start();
    // The first read that is not a poll (a voucher's read-back) is rate limited.
    fake.behaviour().lists.push_back(Reply::with_header(
        429,
        "Retry-After",
        "0",
        "{\"code\":429}",
    ));
    let output = upload_with(&dir, &fake, &["--verify", "all"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(
        fake.log().iter().filter(|l| l.status == Some(429)).count(),
        1,
        "the 429 was met and retried"
    );
    // Then the project changes GC-0001, and its category echoes the token.
    fake.store_voucher(
        "GC-0001",
        json!({"code": "GC-0001", "active": true, "category": format!("leak {TOKEN}"),
               "created_at": "2020-01-01T00:00:00.000Z"}),
    );
    let output = upload_with(&dir, &fake, &["--verify-only", "--verify", "all"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let csv = fs::read_to_string(out(&dir).join("upload-verify.csv")).unwrap();
    let upload_json = fs::read_to_string(out(&dir).join("upload.json")).unwrap();
    assert!(
        !csv.contains(TOKEN) && !upload_json.contains(TOKEN),
        "{csv}"
    );
    assert!(!text(&output).contains(TOKEN));
    assert!(csv.contains("[redacted]"), "{csv}");
}

#[test]
fn a_rerun_neither_posts_nor_reads_back_again_what_is_done() {
    let dir = prepared();
    let fake = Fake::start();
    let output = upload(&dir, &fake);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let before = fake.log().len();
    let again = upload(&dir, &fake);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert_eq!(
        fake.log().len(),
        before,
        "nothing sent: every batch is DONE and verified"
    );
}

#[test]
fn rows_prepared_as_updates_are_compared_on_active_and_category_only() {
    let dir = tempfile::tempdir().unwrap();
    let prepared = Command::new(BIN)
        .args([
            "prepare",
            "fixtures/fidelity/update_codes.csv",
            "--campaign-type",
            "gift",
        ])
        .args([
            "--existing",
            "fixtures/fidelity/existing_codes.csv",
            "--existing-codes",
            "update",
        ])
        .args(["--out", &out(&dir).display().to_string()])
        .current_dir(ROOT)
        .output()
        .unwrap();
    assert_eq!(prepared.status.code(), Some(0), "{prepared:?}");
    let updates = fs::read_to_string(out(&dir).join("updates.csv")).unwrap();
    assert_eq!(
        updates,
        "batch,batch_row,code\n1,1,OLD-0001\n1,2,OLD-0002\n"
    );
    let fake = Fake::start();
    // The codes exist, created moments ago (so their age tells nothing), with other balances.
    let now = chrono::Utc::now().to_rfc3339();
    for code in ["OLD-0001", "OLD-0002"] {
        fake.store_voucher(
            code,
            json!({"code": code, "active": true, "gift": {"amount": 1}, "created_at": now}),
        );
    }
    let output = upload_with(&dir, &fake, &["--verify", "all"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(
        stderr(&output).contains("(2 codes as updates: Active and Category only)"),
        "{}",
        text(&output)
    );
}

#[test]
fn a_redirect_on_a_read_back_is_not_followed_and_leaks_nothing() {
    let dir = prepared();
    let fake = Fake::start();
    let output = upload(&dir, &fake);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    fake.behaviour().lists.push_back(Reply::with_header(
        302,
        "Location",
        &format!("https://elsewhere.example/v1/vouchers/x?token={TOKEN}"),
        "",
    ));
    let before = fake.log().len();
    let again = upload_with(&dir, &fake, &["--verify-only"]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(
        stderr(&again).contains("redirects are never followed"),
        "{}",
        text(&again)
    );
    assert!(!text(&again).contains(TOKEN), "{}", text(&again));
    let after = &fake.log()[before..];
    assert_eq!(after.len(), 1, "nothing after the redirect: {after:?}");
    assert!(after.iter().all(|l| l.method == "GET"));
}

#[test]
fn a_read_back_mismatch_carries_the_kept_columns_of_its_row() {
    let dir = prepared_with(&["--canary-rows", "0", "--keep", "note"]);
    let fake = Fake::start();
    fake.behaviour().storing = Storing::CodeMissing("000123".into());
    let output = upload_with(&dir, &fake, &["--verify", "all"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let records = verify_csv(&dir);
    assert_eq!(
        records[0].last().map(String::as_str),
        Some("note"),
        "{records:?}"
    );
    // Row 3 of the sample: `000123,...,EU,leading zeros stay`.
    assert_eq!(records[1][2..4], ["3", "000123"], "{records:?}");
    assert_eq!(
        records[1].last().map(String::as_str),
        Some("leading zeros stay")
    );
}

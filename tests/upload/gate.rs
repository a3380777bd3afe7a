//! Stop on evidence: the default canary, the read-back gating every later POST, the stop that
//! holds across runs until the folder is prepared again or the mismatches are accepted; the API
//! budget; Voucherify's documented answers read as documented. Each test asserts what the
//! fake's log shows was posted.

use std::fs;
use std::process::{Command, Output};

use serde_json::{json, Value};

use super::fake::{Fake, GiftReading, Reply, Storing, TOKEN};
use super::{out, state, stderr, text, upload_command};
use crate::util::BIN;

/// A gift-card file of `rows` codes with amounts (and a redeemed amount on every third).
fn gift_cards(dir: &tempfile::TempDir, rows: usize, dates: bool) -> String {
    let mut text = String::from(if dates {
        "Code,Gift Amount,Redeemed Amount,Start Date\n"
    } else {
        "Code,Gift Amount,Redeemed Amount\n"
    });
    for i in 0..rows {
        let redeemed = if i % 3 == 0 { "2500" } else { "" };
        text.push_str(&format!("GATE-{i:05},10000,{redeemed}"));
        if dates {
            text.push_str(",2026-03-01T10:00");
        }
        text.push('\n');
    }
    let input = dir.path().join("cards.csv");
    fs::write(&input, text).unwrap();
    input.display().to_string()
}

/// `prepare` of `input` into the test folder's `out`, with `extra` arguments.
fn prepare(dir: &tempfile::TempDir, input: &str, extra: &[&str]) -> Value {
    let output = Command::new(BIN)
        .args(["prepare", input, "--campaign-type", "gift", "--force"])
        .args(["--out", &out(dir).display().to_string()])
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    serde_json::from_slice(&fs::read(out(dir).join("summary.json")).unwrap()).unwrap()
}

fn upload(dir: &tempfile::TempDir, fake: &Fake, args: &[&str]) -> Output {
    upload_command(dir, fake, TOKEN)
        .args(args)
        .output()
        .unwrap()
}

/// The codes of the batches the fake was sent, in order.
fn posted_files(fake: &Fake) -> Vec<String> {
    fake.posts().iter().filter_map(|p| p.file.clone()).collect()
}

#[test]
fn by_default_a_wrong_amount_reading_costs_the_twenty_codes_of_the_canary_and_nothing_more() {
    let dir = tempfile::tempdir().unwrap();
    let input = gift_cards(&dir, 200, false);
    let summary = prepare(&dir, &input, &["--batch-rows", "60"]);
    assert_eq!(summary["options"]["canary_rows"], 20, "{summary}");
    assert_eq!(summary["batches"][0]["rows"], 20, "{summary}");
    let batches = summary["batches"].as_array().unwrap().len();
    assert_eq!(batches, 4, "20 + 60 + 60 + 60: {summary}");

    // A project that reads CSV amounts in major units.
    let fake = Fake::start();
    fake.behaviour().storing = Storing::AmountsTimes100;
    let output = upload(&dir, &fake, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert_eq!(posted_files(&fake), ["part-00001.csv"], "{}", text(&output));
    let err = stderr(&output);
    assert!(err.contains("plan "), "the plan is said first: {err}");
    assert!(
        err.contains("at 100 times what the batch sent")
            && err.contains("--batch-amount-unit major"),
        "{err}"
    );
    let recorded = state(&dir);
    assert_eq!(recorded["canary"]["passed"], false, "{recorded}");
    assert_eq!(recorded["stopped"]["batch"], "import/part-00001.csv");
    assert_eq!(recorded["stopped"]["found"][0]["kind"], "times100");
    for batch in &recorded["batches"].as_array().unwrap()[1..] {
        assert_eq!(batch["status"], "pending", "{recorded}");
    }

    // A rerun posts nothing until the mismatches are accepted (or the folder prepared again).
    let again = upload(&dir, &fake, &[]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert_eq!(fake.posts().len(), 1, "{}", text(&again));
    assert!(
        stderr(&again).contains("--accept-mismatches"),
        "{}",
        text(&again)
    );
    let accepted = upload(&dir, &fake, &["--accept-mismatches"]);
    assert_eq!(posted_files(&fake).len(), batches, "{}", text(&accepted));
    let recorded = state(&dir);
    let acceptance = &recorded["accepted_mismatches"][0];
    assert_eq!(acceptance["batch"], "import/part-00001.csv", "{recorded}");
    assert!(
        acceptance["at"].as_str().unwrap().ends_with('Z'),
        "{recorded}"
    );
    assert!(recorded.get("stopped").is_none(), "{recorded}");

    // A faithful project takes everything.
    let faithful = tempfile::tempdir().unwrap();
    let input = gift_cards(&faithful, 200, false);
    prepare(&faithful, &input, &["--batch-rows", "60"]);
    let fake = Fake::start();
    let output = upload(&faithful, &fake, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(posted_files(&fake).len(), batches);
    assert_eq!(state(&faithful)["canary"]["passed"], true);
}

#[test]
fn a_mismatch_in_a_batch_stops_the_posts_after_it_unless_told_to_continue() {
    let dir = tempfile::tempdir().unwrap();
    let input = gift_cards(&dir, 90, false);
    prepare(&dir, &input, &["--batch-rows", "30", "--canary-rows", "0"]);
    let fake = Fake::start();
    fake.behaviour().storing = Storing::AmountsHundredth;
    let output = upload(&dir, &fake, &["--verify", "3"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert_eq!(posted_files(&fake), ["part-00001.csv"], "{}", text(&output));
    assert!(
        stderr(&output).contains("at 1/100 of what the batch sent"),
        "{}",
        text(&output)
    );
    assert!(
        stderr(&output).contains("No further batch is posted"),
        "{}",
        text(&output)
    );

    let dir = tempfile::tempdir().unwrap();
    let input = gift_cards(&dir, 90, false);
    prepare(&dir, &input, &["--batch-rows", "30", "--canary-rows", "0"]);
    let fake = Fake::start();
    fake.behaviour().storing = Storing::AmountsHundredth;
    let output = upload(&dir, &fake, &["--verify", "3", "--on-mismatch", "continue"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert_eq!(posted_files(&fake).len(), 3, "{}", text(&output));
    assert!(stderr(&output).contains("--on-mismatch continue"));
}

#[test]
fn no_canary_says_so_on_every_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = gift_cards(&dir, 30, false);
    prepare(&dir, &input, &[]);
    let fake = Fake::start();
    for _ in 0..2 {
        let output = upload(&dir, &fake, &["--no-canary"]);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output));
        assert!(
            stderr(&output).contains("--no-canary: batch 1 is not tried alone first"),
            "{}",
            text(&output)
        );
    }
}

#[test]
fn a_read_back_over_the_budget_is_refused_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let input = gift_cards(&dir, 1200, false);
    prepare(&dir, &input, &["--canary-rows", "0"]);
    let fake = Fake::start();
    let output = upload(&dir, &fake, &["--verify", "all"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(fake.log().is_empty(), "nothing was sent");
    let err = stderr(&output);
    assert!(
        err.contains("--verify all would read back 1200 codes")
            && err.contains("--api-budget 1200"),
        "{err}"
    );
    // A sample over the budget too.
    let output = upload(&dir, &fake, &["--verify", "3000", "--api-budget", "500"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        stderr(&output).contains("over the budget of 500 (--api-budget)"),
        "{}",
        text(&output)
    );
    assert!(fake.log().is_empty(), "nothing was sent");
    // Allowed explicitly: posted and read back whole.
    let output = upload(&dir, &fake, &["--verify", "all", "--api-budget", "1200"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let calls = &state(&dir)["api_calls"];
    assert_eq!(calls["post"], 1, "{calls}");
    assert_eq!(calls["verify"], 1200, "{calls}");
}

#[test]
fn the_read_back_stops_at_the_reserve_and_verify_only_finishes_it_later() {
    let dir = tempfile::tempdir().unwrap();
    let input = gift_cards(&dir, 90, false);
    prepare(&dir, &input, &["--batch-rows", "30", "--canary-rows", "0"]);
    let fake = Fake::start();
    // 80 calls left; the reserve is 50: POST, polls, then 30 GETs at most.
    fake.behaviour().rate_limit_remaining = Some(80);
    let output = upload(&dir, &fake, &["--verify", "all", "--api-reserve", "50"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert_eq!(posted_files(&fake), ["part-00001.csv"], "{}", text(&output));
    let recorded = state(&dir);
    let verification = &recorded["batches"][0]["verification"];
    assert_eq!(verification["complete"], false, "{recorded}");
    assert!(
        verification["incomplete"]
            .as_str()
            .unwrap()
            .contains("under the reserve of 50"),
        "{recorded}"
    );
    let checked = verification["checked"].as_u64().unwrap();
    assert!(checked > 0 && checked < 30, "{recorded}");
    let gets = fake
        .log()
        .iter()
        .filter(|l| l.path.starts_with("/v1/vouchers/"))
        .count() as u64;
    assert_eq!(gets, checked, "no GET past the reserve");
    assert_eq!(recorded["rate_limit"]["kind"], "api_calls", "{recorded}");
    assert_eq!(recorded["api_calls"]["verify"], checked, "{recorded}");
    assert!(
        stderr(&output).contains("X-Rate-Limit-Remaining"),
        "{}",
        text(&output)
    );

    // Later, with calls to spare: the read-back of batch 1 is finished, nothing posted.
    fake.behaviour().rate_limit_remaining = Some(10_000);
    let output = upload(&dir, &fake, &["--verify-only", "--verify", "all"]);
    assert_eq!(fake.posts().len(), 1, "{}", text(&output));
    let recorded = state(&dir);
    assert_eq!(recorded["batches"][0]["verification"]["checked"], 30);
    assert_eq!(recorded["batches"][0]["verification"]["complete"], true);
}

#[test]
fn operation_status_failed_fails_a_done_job_and_unknown_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let input = gift_cards(&dir, 10, false);
    prepare(&dir, &input, &["--canary-rows", "0"]);
    let fake = Fake::start();
    fake.behaviour().operation_status = Some("FAILED".into());
    let output = upload(&dir, &fake, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let recorded = state(&dir);
    assert_eq!(recorded["batches"][0]["status"], "FAILED", "{recorded}");
    assert_eq!(recorded["batches"][0]["operation_status"], "FAILED");
    assert!(
        stderr(&output).contains("the import job failed (operation_status FAILED)"),
        "{}",
        text(&output)
    );

    let dir = tempfile::tempdir().unwrap();
    let input = gift_cards(&dir, 10, false);
    prepare(&dir, &input, &["--canary-rows", "0"]);
    let fake = Fake::start();
    fake.behaviour().operation_status = Some("UNKNOWN".into());
    let output = upload(&dir, &fake, &[]);
    assert_eq!(state(&dir)["batches"][0]["operation_status"], "UNKNOWN");
    assert!(
        stderr(&output).contains("operation_status is UNKNOWN"),
        "{}",
        text(&output)
    );
}

#[test]
fn a_result_without_counts_failed_rows_or_a_number_is_rows_without_a_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let input = gift_cards(&dir, 10, false);
    prepare(&dir, &input, &["--canary-rows", "0"]);
    let fake = Fake::start();
    fake.behaviour().results.insert(
        "part-00001.csv".into(),
        json!({"message": "Import finished"}),
    );
    let output = upload(&dir, &fake, &["--json"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let outcome: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(outcome["rows_without_verdict"], 10, "{outcome}");
    assert_eq!(outcome["codes_imported"], 0, "{outcome}");
    assert_eq!(outcome["batches"][0]["counts"], "missing", "{outcome}");
}

#[test]
fn a_job_that_answers_404_or_is_of_another_type_sends_the_batch_back_to_unconfirmed() {
    let dir = tempfile::tempdir().unwrap();
    let input = gift_cards(&dir, 10, false);
    prepare(&dir, &input, &["--canary-rows", "0"]);
    let fake = Fake::start();
    fake.behaviour().polls.push_back(Reply::status(
        404,
        r#"{"code": 404, "key": "not_found", "message": "Resource not found"}"#,
    ));
    let output = upload(&dir, &fake, &[]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "never an error: {}",
        text(&output)
    );
    let recorded = state(&dir);
    let batch = &recorded["batches"][0];
    assert_eq!(batch["status"], "unconfirmed", "{recorded}");
    assert_eq!(batch["not_its_jobs"], json!(["aa_1"]), "{recorded}");
    assert!(batch["reason"].as_str().unwrap().contains("(404)"));
    // The job is never its candidate again; a rerun is no error either.
    assert!(
        batch["candidates"].as_array().is_none_or(|c| c.is_empty()),
        "{recorded}"
    );
    let again = upload(&dir, &fake, &[]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert_eq!(fake.posts().len(), 1, "never posted twice");

    let dir = tempfile::tempdir().unwrap();
    let input = gift_cards(&dir, 10, false);
    prepare(&dir, &input, &["--canary-rows", "0"]);
    let fake = Fake::start();
    fake.behaviour().polls.push_back(Reply::status(
        200,
        r#"{"id": "aa_1", "type": "CUSTOMERS.IMPORT_CSV", "status": "DONE", "result": {"done_count": 10}}"#,
    ));
    let output = upload(&dir, &fake, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let recorded = state(&dir);
    assert_eq!(
        recorded["batches"][0]["status"], "unconfirmed",
        "{recorded}"
    );
    assert!(recorded["batches"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("a CUSTOMERS.IMPORT_CSV job"));
}

#[test]
fn candidates_are_found_past_250_jobs_created_in_one_second_without_has_more() {
    let dir = tempfile::tempdir().unwrap();
    let input = gift_cards(&dir, 10, false);
    prepare(&dir, &input, &["--canary-rows", "0"]);
    let fake = Fake::start();
    fake.behaviour().list_has_more = false;
    fake.behaviour().posts.push_back(Reply::ActThenDrop);
    // 250 jobs listed before the batch's own, all within one second.
    fake.add_jobs(250, "CAMPAIGN.VOUCHERS_IMPORT_CSV");
    let output = upload(&dir, &fake, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let recorded = state(&dir);
    let batch = &recorded["batches"][0];
    let candidates: Vec<&str> = batch["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    // The batch's own job is the oldest, on the third page.
    assert_eq!(candidates.len(), 251, "{recorded}");
    assert!(
        candidates.iter().any(|id| !id.starts_with("aa_other")),
        "{recorded}"
    );
    assert!(batch.get("candidates_incomplete").is_none(), "{recorded}");
    let lists = fake
        .log()
        .iter()
        .filter(|l| l.path.starts_with("/v1/async-actions?"))
        .count();
    assert!(lists >= 3, "251 jobs take three pages of 100: {lists}");
}

#[test]
fn dates_read_in_the_project_zone_are_named_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let input = gift_cards(&dir, 30, true);
    let summary = prepare(&dir, &input, &[]);
    assert!(
        summary["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("without a time zone")),
        "{summary}"
    );
    let fake = Fake::start();
    fake.behaviour().storing = Storing::DatesInZone(120);
    let output = upload(&dir, &fake, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert_eq!(posted_files(&fake), ["part-00001.csv"]);
    assert!(
        stderr(&output).contains("dates read 2 hours from UTC (as UTC+02:00)")
            && stderr(&output).contains("--dates-in +02:00"),
        "{}",
        text(&output)
    );
    // Prepared again (into a new folder: prepare never replaces one an upload used) in the
    // project's zone: the batches carry UTC and go in as sent.
    let again = tempfile::tempdir().unwrap();
    let summary = prepare(&again, &input, &["--dates-in", "+02:00"]);
    assert_eq!(summary["normalizations"]["dates_to_utc"], 30, "{summary}");
    let batch = fs::read_to_string(out(&again).join("import/part-00001.csv")).unwrap();
    assert!(batch.contains("2026-03-01T08:00:00Z"), "{batch}");
    let fake = Fake::start();
    fake.behaviour().storing = Storing::DatesInZone(120);
    let output = upload(&again, &fake, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
}

#[test]
fn the_gift_amount_reading_is_named_and_prepare_states_it() {
    let dir = tempfile::tempdir().unwrap();
    let input = gift_cards(&dir, 30, false);
    prepare(&dir, &input, &[]);
    let fake = Fake::start();
    fake.behaviour().gift_reading = GiftReading::Balance;
    let output = upload(&dir, &fake, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert_eq!(posted_files(&fake), ["part-00001.csv"]);
    assert!(
        stderr(&output).contains("the project reads Gift Amount as the balance")
            && stderr(&output).contains("--gift-amount balance"),
        "{}",
        text(&output)
    );

    let again = tempfile::tempdir().unwrap();
    let summary = prepare(&again, &input, &["--gift-amount", "balance"]);
    assert_eq!(summary["options"]["gift_amount"], "balance", "{summary}");
    let fake = Fake::start();
    fake.behaviour().gift_reading = GiftReading::Balance;
    let output = upload(&again, &fake, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(
        stderr(&output).contains("the project reads it as the card's current balance"),
        "{}",
        text(&output)
    );
    let voucher = fake.voucher("GATE-00000").unwrap();
    assert_eq!(voucher["gift"], json!({"amount": 12500, "balance": 10000}));
}

#[test]
fn a_job_listing_past_its_page_limit_is_recorded_incomplete_never_truncated_silently() {
    let dir = tempfile::tempdir().unwrap();
    let input = gift_cards(&dir, 5, false);
    prepare(&dir, &input, &["--canary-rows", "0"]);
    let fake = Fake::start();
    fake.behaviour().list_has_more = false;
    fake.behaviour().posts.push_back(Reply::ActThenDrop);
    // 2,100 jobs after the POST: more than 20 pages of 100.
    fake.add_jobs(2_100, "CAMPAIGN.VOUCHERS_IMPORT_CSV");
    let output = upload(&dir, &fake, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let recorded = state(&dir);
    let batch = &recorded["batches"][0];
    assert!(
        batch["candidates_incomplete"]
            .as_str()
            .is_some_and(|why| why.contains("20 pages")),
        "{}",
        batch["candidates_incomplete"]
    );
    assert!(
        stderr(&output).contains("the job listing is incomplete"),
        "{}",
        text(&output)
    );
}

#[test]
fn a_voucherify_clock_three_minutes_behind_does_not_turn_the_read_back_off() {
    let dir = tempfile::tempdir().unwrap();
    let input = gift_cards(&dir, 30, false);
    prepare(&dir, &input, &[]);
    let fake = Fake::start();
    fake.behaviour().clock_offset = chrono::Duration::minutes(-3);
    fake.behaviour().storing = Storing::AmountsTimes100;
    let output = upload(&dir, &fake, &["--verify", "all"]);
    // By the local clock every code looks created before the POST; by Voucherify's, after
    // its job: they are new codes, compared whole.
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(
        stderr(&output).contains("at 100 times what the batch sent"),
        "{}",
        text(&output)
    );
    let recorded = state(&dir);
    assert_eq!(
        recorded["batches"][0]["verification"]["updates"], 0,
        "{recorded}"
    );
    assert_eq!(posted_files(&fake), ["part-00001.csv"]);
}

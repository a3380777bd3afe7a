//! `upload` against a fake Voucherify that each test starts on 127.0.0.1 ([`fake`]): the
//! documented behaviour here; the hostile world (a misbehaving server, a careless command) in
//! [`twice`], [`secrets`] and [`answers`]. No test reaches the network.

mod answers;
mod fake;
mod gate;
mod project;
mod retry_loop;
mod secrets;
mod twice;
mod verify;

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::util::{BIN, ROOT};
use fake::{wait_for, Fake, Reply, APP_ID, CAMPAIGN, TOKEN};

/// A prepared folder of the sample with small batches and no canary (`--canary-rows 0`):
/// batch 1 is gated like the others. The default canary has tests of its own (`gate`).
fn prepared() -> tempfile::TempDir {
    prepared_with(&["--canary-rows", "0"])
}

/// A prepared folder of the sample with small batches and `extra` prepare arguments.
fn prepared_with(extra: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let prepared = Command::new(BIN)
        .args([
            "prepare",
            "fixtures/sample/gift_cards.csv",
            "--campaign-type",
            "gift",
        ])
        .args(["--existing", "fixtures/sample/existing_codes.csv"])
        .args([
            "--max-file-bytes",
            "300",
            "--out",
            &out.display().to_string(),
        ])
        .args(extra)
        .current_dir(ROOT)
        .output()
        .unwrap();
    assert_eq!(prepared.status.code(), Some(1), "{prepared:?}");
    dir
}

/// `upload` of the prepared folder to `url` with the fake's app id and `token`.
fn base_command(dir: &tempfile::TempDir, url: &str, token: &str) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(["upload", &out(dir).display().to_string()])
        .args(["--campaign", CAMPAIGN, "--api-url", url])
        .env("VOUCHERIFY_APP_ID", APP_ID)
        .env("VOUCHERIFY_APP_TOKEN", token)
        .current_dir(ROOT)
        .stdin(Stdio::null());
    command
}

/// `upload` to the fake, polling and retrying fast.
fn upload_command(dir: &tempfile::TempDir, fake: &Fake, token: &str) -> Command {
    let mut command = base_command(dir, &fake.url, token);
    command.args(["--poll-ms", "5", "--poll-max-ms", "20", "--retry-ms", "10"]);
    command
}

/// The binary with `args`, the fake's keys in the environment, run from the repository's root
/// with no input.
fn with_fake_keys(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env("VOUCHERIFY_APP_ID", APP_ID)
        .env("VOUCHERIFY_APP_TOKEN", TOKEN)
        .current_dir(ROOT)
        .stdin(Stdio::null());
    command
}

/// The binary with `args` against the fake (its keys, fast polls and retries), then `extra`.
fn against_fake(fake: &Fake, args: &[&str], extra: &[&str]) -> Output {
    with_fake_keys(args)
        .args(["--api-url", &fake.url, "--poll-ms", "5", "--retry-ms", "10"])
        .args(extra)
        .output()
        .unwrap()
}

/// Makes the fake refuse the first row of the prepared folder's second batch ("Duplicate
/// code"); gives that row's code and the batch's text.
fn refuse_first_row_of_the_second_batch(dir: &tempfile::TempDir, fake: &Fake) -> (String, String) {
    let batch = fs::read_to_string(dir.path().join("out/import/part-00002.csv")).unwrap();
    let code = batch
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_owned();
    fake.behaviour().failed_rows.insert(
        "part-00002.csv".into(),
        vec![json!({"code": code, "row": 1, "reason": "Duplicate code"})],
    );
    (code, batch)
}

fn out(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("out")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn upload(dir: &tempfile::TempDir, fake: &Fake) -> Output {
    upload_command(dir, fake, TOKEN).output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn batch_names(dir: &tempfile::TempDir) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir.path().join("out/import"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The upload's state as a reader outside the tool sees it: `upload.json`, then the lines of
/// `upload.journal` it does not hold yet (a run killed mid-way leaves its newest steps there).
fn state(dir: &tempfile::TempDir) -> Value {
    let mut state: Value =
        serde_json::from_slice(&fs::read(dir.path().join("out/upload.json")).unwrap()).unwrap();
    let journal = fs::read_to_string(dir.path().join("out/upload.journal")).unwrap_or_default();
    let complete = journal.rfind('\n').map_or("", |end| &journal[..end]);
    for line in complete.lines() {
        let entry: Value = serde_json::from_str(line).unwrap();
        if entry["seq"].as_u64() > state["journal_seq"].as_u64().or(Some(0)) {
            let batch = entry["batch"].as_u64().unwrap() as usize;
            state["batches"][batch] = entry["state"].clone();
            state["journal_seq"] = entry["seq"].clone();
        }
    }
    state
}

#[test]
fn every_batch_is_posted_once_in_order_and_followed_to_done() {
    let dir = prepared();
    let fake = Fake::start();
    let output = upload(&dir, &fake);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let batches = batch_names(&dir);
    assert!(batches.len() >= 3, "{batches:?}");
    let posted: Vec<String> = fake
        .posts()
        .iter()
        .map(|p| p.file.clone().unwrap())
        .collect();
    assert_eq!(posted, batches, "one POST per batch, in order");
    let state = state(&dir);
    for batch in state["batches"].as_array().unwrap() {
        assert_eq!(batch["status"], "DONE", "{state}");
    }
    assert_eq!(
        state["schema_version"],
        voucher_import::upload::SCHEMA_VERSION,
        "upload.json says its shape's version"
    );
    crate::schemas::assert_valid("upload-state.schema.json", &state);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("imported          10  codes"), "{stderr}");
    assert!(
        stderr.contains("IN_PROGRESS 40%"),
        "progress per batch: {stderr}"
    );
    // The credentials went as headers, to the API host only.
    for request in fake.log() {
        assert_eq!(request.header("X-App-Token"), Some(TOKEN), "{request:?}");
        assert_eq!(request.header("X-App-Id"), Some(APP_ID), "{request:?}");
        assert!(!request.path.contains(TOKEN), "{request:?}");
    }
    // The token never shows.
    let upload_json = fs::read_to_string(dir.path().join("out/upload.json")).unwrap();
    assert!(!text(&output).contains(TOKEN) && !upload_json.contains(TOKEN));
    assert!(!dir.path().join("out/upload-failed.csv").exists());
}

#[test]
fn rows_failed_at_voucherify_are_mapped_back_to_their_input_rows() {
    let dir = prepared();
    let fake = Fake::start();
    let (code, _) = refuse_first_row_of_the_second_batch(&dir, &fake);
    let output = upload(&dir, &fake);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    // Where that code is in the input, counted as rejected.csv counts rows.
    let input = fs::read(format!(
        "{}/fixtures/sample/gift_cards.csv",
        crate::util::ROOT
    ))
    .unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(&input[..]);
    let input_row = reader
        .byte_records()
        .position(|r| {
            r.map(|r| r.get(0) == Some(code.as_bytes()))
                .unwrap_or(false)
        })
        .unwrap()
        + 1;
    let failed = fs::read_to_string(dir.path().join("out/upload-failed.csv")).unwrap();
    let mut lines = failed.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("file,row,code,reason,Code,"),
        "{failed}"
    );
    let line = lines.next().unwrap();
    assert!(
        line.starts_with(&format!(
            "fixtures/sample/gift_cards.csv,{input_row},{code},Duplicate code,{code},"
        )),
        "{failed}"
    );
    assert_eq!(lines.next(), None);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("failed             1  codes at Voucherify ->"),
        "{stderr}"
    );
}

#[test]
fn a_failed_action_fails_its_batch() {
    let dir = prepared();
    let fake = Fake::start();
    fake.behaviour().failing.insert("part-00001.csv".into());
    let output = upload(&dir, &fake);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert_eq!(state(&dir)["batches"][0]["status"], "FAILED");
    assert!(String::from_utf8_lossy(&output.stderr).contains("1 failed (of"));
}

#[test]
fn a_429_waits_for_retry_after_and_a_500_is_retried() {
    let dir = prepared();
    let fake = Fake::start();
    {
        let mut b = fake.behaviour();
        b.posts
            .push_back(Reply::with_header(429, "Retry-After", "1", "{}"));
        b.polls.push_back(Reply::status(500, "{}"));
    }
    let started = Instant::now();
    let output = upload(&dir, &fake);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was honoured"
    );
    let posts = fake.posts();
    assert_eq!(posts[0].status, Some(429));
    assert_eq!(posts[1].status, Some(202));
    assert!(
        fake.jobs_per_file().values().all(|&n| n == 1),
        "{:?}",
        fake.jobs_per_file()
    );
}

#[test]
fn bad_credentials_stop_with_a_message_and_no_token() {
    let dir = prepared();
    let fake = Fake::start();
    let output = upload_command(&dir, &fake, "wrong-token-9a2")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let all = text(&output);
    assert!(all.contains("refused the credentials"), "{all}");
    assert!(all.contains("VOUCHERIFY_APP_TOKEN"), "{all}");
    assert!(
        !all.contains("wrong-token-9a2"),
        "the token never shows: {all}"
    );
}

#[test]
fn an_unknown_campaign_is_reported_as_not_found() {
    let dir = prepared();
    let fake = Fake::start();
    fake.behaviour().campaigns.clear();
    let output = upload(&dir, &fake);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("campaign 'camp_test' was not found"));
}

#[test]
fn a_killed_run_resumes_without_posting_a_batch_twice() {
    let dir = prepared();
    let fake = Fake::start();
    fake.behaviour().hanging.insert("part-00002.csv".into());
    let mut child = upload_command(&dir, &fake, TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Killed while the second batch is being imported.
    wait_for("the second batch polled three times", || {
        fake.log()
            .iter()
            .filter(|l| l.path == "/v1/async-actions/aa_2")
            .count()
            >= 3
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let recorded = state(&dir);
    assert_eq!(recorded["batches"][0]["status"], "DONE", "{recorded}");
    assert_eq!(
        recorded["batches"][1]["async_action_id"], "aa_2",
        "{recorded}"
    );

    fake.behaviour().hanging.clear();
    let output = upload(&dir, &fake);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let imports = fake.jobs_per_file();
    assert_eq!(imports.len(), batch_names(&dir).len(), "{imports:?}");
    assert!(
        imports.values().all(|&n| n == 1),
        "no batch posted twice: {imports:?}"
    );
}

#[test]
fn a_batch_that_changed_is_refused() {
    let dir = prepared();
    let fake = Fake::start();
    let second = dir.path().join("out/import/part-00002.csv");
    let mut batch = fs::read_to_string(&second).unwrap();
    batch.push_str("EXTRA-1,summer,true,100,0,0,,,EU,\r\n");
    fs::write(&second, batch).unwrap();
    let output = upload(&dir, &fake);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("changed since prepare wrote it"),
        "{}",
        text(&output)
    );
    assert!(fake.posts().is_empty(), "nothing is posted");
}

#[test]
fn a_dry_run_sends_nothing() {
    let dir = prepared();
    let fake = Fake::start();
    let output = upload_command(&dir, &fake, TOKEN)
        .arg("--dry-run")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(fake.log().is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("would be posted"));
}

#[test]
fn parallel_batches_are_each_posted_once() {
    let dir = prepared();
    let fake = Fake::start();
    let output = upload_command(&dir, &fake, TOKEN)
        .args(["--parallel", "3"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let imports = fake.jobs_per_file();
    assert_eq!(imports.len(), batch_names(&dir).len(), "{imports:?}");
    assert!(imports.values().all(|&n| n == 1), "{imports:?}");
    assert!(state(&dir)["batches"]
        .as_array()
        .unwrap()
        .iter()
        .all(|b| b["status"] == "DONE"));
}

#[test]
fn an_unreachable_host_is_retried_then_reported() {
    let dir = prepared();
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let output = base_command(&dir, &format!("http://127.0.0.1:{port}"), TOKEN)
        .args(["--retries", "2", "--retry-ms", "10"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let all = text(&output);
    assert!(
        all.contains("cannot reach") && all.contains("after 3 tries"),
        "{all}"
    );
    assert!(all.contains("run upload again"), "{all}");
}

#[test]
fn missing_credentials_are_a_usage_error() {
    let dir = prepared();
    let output = Command::new(BIN)
        .args(["upload", &dir.path().join("out").display().to_string()])
        .args(["--campaign", CAMPAIGN, "--api-url", "http://127.0.0.1:9"])
        .env_remove("VOUCHERIFY_APP_ID")
        .env_remove("VOUCHERIFY_APP_TOKEN")
        .current_dir(ROOT)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("VOUCHERIFY_APP_ID and VOUCHERIFY_APP_TOKEN must both be set"));
}

#[test]
fn a_run_killed_with_the_post_in_flight_leaves_the_batch_unconfirmed_until_settled() {
    let dir = prepared();
    let fake = Fake::start();
    assert_eq!(upload(&dir, &fake).status.code(), Some(0));
    // As a run killed between its POST of the third batch and Voucherify's answer leaves it.
    let path = dir.path().join("out/upload.json");
    let mut recorded = state(&dir);
    recorded["batches"][2]["status"] = json!("posting");
    recorded["batches"][2]["async_action_id"] = Value::Null;
    fs::write(&path, serde_json::to_vec_pretty(&recorded).unwrap()).unwrap();

    let unsettled = upload(&dir, &fake);
    assert_eq!(unsettled.status.code(), Some(1), "{}", text(&unsettled));
    assert!(
        text(&unsettled).contains("--repost-unconfirmed"),
        "{}",
        text(&unsettled)
    );
    assert!(
        text(&unsettled).contains("--adopt part-00003.csv="),
        "{}",
        text(&unsettled)
    );
    assert_eq!(state(&dir)["batches"][2]["status"], "unconfirmed");
    assert!(fake.jobs_per_file().values().all(|&n| n == 1));

    let reposted = upload_command(&dir, &fake, TOKEN)
        .arg("--repost-unconfirmed")
        .output()
        .unwrap();
    assert_eq!(reposted.status.code(), Some(0), "{}", text(&reposted));
    assert_eq!(
        fake.jobs_per_file()["part-00003.csv"],
        2,
        "posted again, as asked"
    );
    assert_eq!(fake.jobs_per_file()["part-00001.csv"], 1);
}

//! `upload` against a fake of Voucherify's two endpoints that each test starts on 127.0.0.1
//! (tiny_http, in-process): `POST /v1/campaigns/{id}/importCSV` and
//! `GET /v1/async-actions/{id}`, with the documented shapes. No test reaches the network.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fs;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::util::{BIN, ROOT};

const TOKEN: &str = "secret-token-6f1d";
const CAMPAIGN: &str = "camp_test";

/// One request the fake received.
#[derive(Debug, Clone)]
struct Logged {
    method: String,
    path: String,
    /// The uploaded file's name, for an import.
    file: Option<String>,
    status: u16,
}

/// How the fake behaves; tests change it between runs.
#[derive(Default)]
struct Behaviour {
    /// Answers to give to the next POSTs before importing normally: (status, Retry-After).
    post_answers: VecDeque<(u16, Option<u64>)>,
    /// Answers to give to the next GETs before answering normally.
    get_answers: VecDeque<u16>,
    /// Batch file name -> rows Voucherify refuses: (batch row, code, reason).
    failed_rows: HashMap<String, Vec<(u64, String, String)>>,
    /// Batches whose action ends FAILED.
    failing: HashSet<String>,
    /// Batches whose action never finishes.
    hanging: HashSet<String>,
    /// Campaigns that exist.
    campaigns: Vec<String>,
}

struct Action {
    file: String,
    rows: u64,
    polls: u32,
}

struct Fake {
    url: String,
    log: Arc<Mutex<Vec<Logged>>>,
    behaviour: Arc<Mutex<Behaviour>>,
    server: Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Fake {
    fn start() -> Fake {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let port = server.server_addr().to_ip().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let behaviour = Arc::new(Mutex::new(Behaviour {
            campaigns: vec![CAMPAIGN.to_owned()],
            ..Behaviour::default()
        }));
        let thread = {
            let (server, log, behaviour) = (server.clone(), log.clone(), behaviour.clone());
            std::thread::spawn(move || {
                let mut actions: HashMap<String, Action> = HashMap::new();
                for mut request in server.incoming_requests() {
                    let method = request.method().to_string();
                    let path = request.url().to_owned();
                    let header = |name: &str| {
                        request
                            .headers()
                            .iter()
                            .find(|h| h.field.to_string().eq_ignore_ascii_case(name))
                            .map(|h| h.value.as_str().to_owned())
                    };
                    let authorized = header("X-App-Id").as_deref() == Some("app-id")
                        && header("X-App-Token").as_deref() == Some(TOKEN);
                    let content_type = header("Content-Type").unwrap_or_default();
                    let mut body = Vec::new();
                    request.as_reader().read_to_end(&mut body).unwrap();
                    let mut b = behaviour.lock().unwrap();
                    let (status, retry_after, answer, file) = answer(
                        &method,
                        &path,
                        &content_type,
                        &body,
                        authorized,
                        &mut b,
                        &mut actions,
                    );
                    log.lock().unwrap().push(Logged {
                        method,
                        path,
                        file,
                        status,
                    });
                    drop(b);
                    let mut response = tiny_http::Response::from_string(answer.to_string())
                        .with_status_code(status);
                    response.add_header(
                        tiny_http::Header::from_bytes("Content-Type", "application/json").unwrap(),
                    );
                    if let Some(seconds) = retry_after {
                        response.add_header(
                            tiny_http::Header::from_bytes("Retry-After", seconds.to_string())
                                .unwrap(),
                        );
                    }
                    let _ = request.respond(response);
                }
            })
        };
        Fake {
            url: format!("http://127.0.0.1:{port}"),
            log,
            behaviour,
            server,
            thread: Some(thread),
        }
    }

    fn posts(&self) -> Vec<Logged> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.method == "POST")
            .cloned()
            .collect()
    }

    /// Successful imports per batch file.
    fn imports(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for post in self.posts().iter().filter(|p| p.status == 200) {
            *counts.entry(post.file.clone().unwrap()).or_insert(0) += 1;
        }
        counts
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The fake's answer: (status, Retry-After, JSON body, uploaded file name).
fn answer(
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
    authorized: bool,
    b: &mut Behaviour,
    actions: &mut HashMap<String, Action>,
) -> (u16, Option<u64>, Value, Option<String>) {
    if !authorized {
        return (401, None, json!({"code": 401, "key": "unauthorized"}), None);
    }
    if method == "POST" {
        let Some(campaign) = path
            .strip_prefix("/v1/campaigns/")
            .and_then(|p| p.strip_suffix("/importCSV"))
        else {
            return (404, None, json!({"key": "not_found"}), None);
        };
        let (file, csv) = multipart_file(content_type, body);
        if let Some((status, retry_after)) = b.post_answers.pop_front() {
            return (status, retry_after, json!({"code": status}), Some(file));
        }
        if !b.campaigns.iter().any(|c| c == campaign) {
            return (
                404,
                None,
                json!({"code": 404, "key": "not_found", "message": "Resource not found"}),
                Some(file),
            );
        }
        let rows = csv::Reader::from_reader(csv.as_bytes()).records().count() as u64;
        let id = format!("aa_{}", actions.len() + 1);
        actions.insert(
            id.clone(),
            Action {
                file: file.clone(),
                rows,
                polls: 0,
            },
        );
        return (200, None, json!({"async_action_id": id}), Some(file));
    }
    let Some(id) = path.strip_prefix("/v1/async-actions/") else {
        return (404, None, json!({"key": "not_found"}), None);
    };
    if let Some(status) = b.get_answers.pop_front() {
        return (status, None, json!({"code": status}), None);
    }
    let Some(action) = actions.get_mut(id) else {
        return (404, None, json!({"key": "not_found"}), None);
    };
    action.polls += 1;
    if action.polls == 1 || b.hanging.contains(&action.file) {
        return (
            200,
            None,
            json!({"id": id, "type": "CAMPAIGN.VOUCHERS_IMPORT_CSV", "status": "IN_PROGRESS", "progress": 40}),
            None,
        );
    }
    if b.failing.contains(&action.file) {
        return (
            200,
            None,
            json!({"id": id, "status": "FAILED", "progress": 100, "result": {"message": "The file could not be processed"}}),
            None,
        );
    }
    let failed: Vec<Value> = b
        .failed_rows
        .get(&action.file)
        .map(|rows| {
            rows.iter()
                .map(|(row, code, reason)| json!({"code": code, "row": row, "reason": reason}))
                .collect()
        })
        .unwrap_or_default();
    let failed_count = failed.len() as u64;
    (
        200,
        None,
        json!({"id": id, "status": "DONE", "progress": 100, "result": {
            "message": format!("{} vouchers imported", action.rows - failed_count),
            "failed": failed, "done_count": action.rows - failed_count, "failed_count": failed_count}}),
        None,
    )
}

/// The `file` part of a multipart body: its file name and text.
fn multipart_file(content_type: &str, body: &[u8]) -> (String, String) {
    let boundary = content_type
        .split("boundary=")
        .nth(1)
        .expect("a multipart boundary");
    let text = String::from_utf8_lossy(body);
    let start = text
        .find(&format!("--{boundary}\r\n"))
        .expect("the first part");
    let part = &text[start..];
    assert!(
        part.contains("Content-Disposition: form-data; name=\"file\""),
        "{part}"
    );
    let name = part
        .split("filename=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a file name")
        .to_owned();
    let content_start = part.find("\r\n\r\n").unwrap() + 4;
    let content_end = part
        .find(&format!("\r\n--{boundary}--"))
        .expect("the closing boundary");
    (name, part[content_start..content_end].to_owned())
}

/// A prepared folder of the sample with four small batches.
fn prepared() -> tempfile::TempDir {
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
        .current_dir(ROOT)
        .output()
        .unwrap();
    assert_eq!(prepared.status.code(), Some(1), "{prepared:?}");
    dir
}

fn upload_command(dir: &tempfile::TempDir, fake: &Fake, token: &str) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(["upload", &dir.path().join("out").display().to_string()])
        .args(["--campaign", CAMPAIGN, "--api-url", &fake.url])
        .args(["--poll-ms", "5", "--poll-max-ms", "20", "--retry-ms", "10"])
        .env("VOUCHERIFY_APP_ID", "app-id")
        .env("VOUCHERIFY_APP_TOKEN", token)
        .current_dir(ROOT)
        .stdin(Stdio::null());
    command
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

fn state(dir: &tempfile::TempDir) -> Value {
    serde_json::from_slice(&fs::read(dir.path().join("out/upload.json")).unwrap()).unwrap()
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
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("imported          10  codes"), "{stderr}");
    assert!(
        stderr.contains("IN_PROGRESS 40%"),
        "progress per batch: {stderr}"
    );
    // The token never shows.
    let upload_json = fs::read_to_string(dir.path().join("out/upload.json")).unwrap();
    assert!(!text(&output).contains(TOKEN) && !upload_json.contains(TOKEN));
    assert!(!dir.path().join("out/upload-failed.csv").exists());
}

#[test]
fn rows_failed_at_voucherify_are_mapped_back_to_their_input_rows() {
    let dir = prepared();
    let fake = Fake::start();
    // Voucherify refuses the first row of the second batch.
    let second = dir.path().join("out/import/part-00002.csv");
    let batch = fs::read_to_string(&second).unwrap();
    let code = batch
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_owned();
    fake.behaviour.lock().unwrap().failed_rows.insert(
        "part-00002.csv".into(),
        vec![(1, code.clone(), "Duplicate code".into())],
    );
    let output = upload(&dir, &fake);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    // Where that code is in the input, counted as rejected.csv counts rows.
    let input = fs::read("fixtures/sample/gift_cards.csv").unwrap();
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
    fake.behaviour
        .lock()
        .unwrap()
        .failing
        .insert("part-00001.csv".into());
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
        let mut b = fake.behaviour.lock().unwrap();
        b.post_answers.push_back((429, Some(1)));
        b.get_answers.push_back(500);
    }
    let started = Instant::now();
    let output = upload(&dir, &fake);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was honoured"
    );
    let posts = fake.posts();
    assert_eq!(posts[0].status, 429);
    assert_eq!(posts[1].status, 200);
    assert!(
        fake.imports().values().all(|&n| n == 1),
        "{:?}",
        fake.imports()
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
    fake.behaviour.lock().unwrap().campaigns.clear();
    let output = upload(&dir, &fake);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("campaign 'camp_test' was not found"));
}

#[test]
fn a_killed_run_resumes_without_posting_a_batch_twice() {
    let dir = prepared();
    let fake = Fake::start();
    fake.behaviour
        .lock()
        .unwrap()
        .hanging
        .insert("part-00002.csv".into());
    let mut child = upload_command(&dir, &fake, TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Killed while the second batch is being imported.
    let started = Instant::now();
    while fake.posts().len() < 2
        || fake
            .log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.path == "/v1/async-actions/aa_2")
            .count()
            < 3
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{:?}",
            fake.log.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let recorded = state(&dir);
    assert_eq!(recorded["batches"][0]["status"], "DONE", "{recorded}");
    assert_eq!(
        recorded["batches"][1]["async_action_id"], "aa_2",
        "{recorded}"
    );

    fake.behaviour.lock().unwrap().hanging.clear();
    let output = upload(&dir, &fake);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let imports = fake.imports();
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
    assert!(fake.log.lock().unwrap().is_empty());
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
    let imports = fake.imports();
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
    let output = Command::new(BIN)
        .args(["upload", &dir.path().join("out").display().to_string()])
        .args([
            "--campaign",
            CAMPAIGN,
            "--api-url",
            &format!("http://127.0.0.1:{port}"),
        ])
        .args(["--retries", "2", "--retry-ms", "10"])
        .env("VOUCHERIFY_APP_ID", "app-id")
        .env("VOUCHERIFY_APP_TOKEN", TOKEN)
        .current_dir(ROOT)
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
fn a_post_without_a_recorded_answer_is_not_repeated_unless_asked() {
    let dir = prepared();
    let fake = Fake::start();
    assert_eq!(upload(&dir, &fake).status.code(), Some(0));
    // As a run killed between its POST of the third batch and Voucherify's answer leaves it.
    let path = dir.path().join("out/upload.json");
    let mut recorded = state(&dir);
    recorded["batches"][2]["status"] = json!("posting");
    recorded["batches"][2]["async_action_id"] = Value::Null;
    fs::write(&path, serde_json::to_vec_pretty(&recorded).unwrap()).unwrap();

    let refused = upload(&dir, &fake);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(
        text(&refused).contains("--repost-unconfirmed"),
        "{}",
        text(&refused)
    );
    assert!(fake.imports().values().all(|&n| n == 1));

    let reposted = upload_command(&dir, &fake, TOKEN)
        .arg("--repost-unconfirmed")
        .output()
        .unwrap();
    assert_eq!(reposted.status.code(), Some(0), "{}", text(&reposted));
    assert_eq!(
        fake.imports()["part-00003.csv"],
        2,
        "posted again, as asked"
    );
    assert_eq!(fake.imports()["part-00001.csv"], 1);
}

//! `upload` left unattended in a hostile world: a server that drops connections, answers 502
//! after acting, redirects, echoes the credentials, answers in every shape the documentation
//! allows; a user who points it at plain http, tampers with the folder, runs it twice, or
//! presses Ctrl-C mid-request. Each test asserts on the fake's request log, the outputs and
//! the files.

use super::*;

/// Every text `upload` produced: stdout, stderr, and every file of the folder.
fn everything(dir: &tempfile::TempDir, output: &Output) -> String {
    let mut all = text(output);
    for entry in fs::read_dir(dir.path().join("out")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            all.push_str(&format!("\n--- {}\n", path.display()));
            all.push_str(&String::from_utf8_lossy(&fs::read(&path).unwrap()));
        }
    }
    all
}

fn assert_no_secret(dir: &tempfile::TempDir, output: &Output, scenario: &str) {
    let all = everything(dir, output).to_ascii_lowercase();
    for secret in [TOKEN, APP_ID] {
        assert!(
            !all.contains(&secret.to_ascii_lowercase()),
            "{scenario}: {secret} leaked:\n{}",
            everything(dir, output)
        );
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn out(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("out")
}

#[test]
fn a_post_answered_by_a_closed_connection_is_never_posted_again_and_its_job_is_offered() {
    let dir = prepared();
    let fake = Fake::start();
    fake.behaviour().posts.push_back(Reply::ActThenDrop);
    let first = upload(&dir, &fake);
    assert_eq!(first.status.code(), Some(1), "{}", text(&first));
    let posts = fake.posts_per_file();
    assert_eq!(posts["part-00001.csv"], 1, "never posted twice: {posts:?}");
    assert_eq!(
        posts.len(),
        batch_names(&dir).len(),
        "the others went on: {posts:?}"
    );
    let recorded = state(&dir);
    let batch = &recorded["batches"][0];
    assert_eq!(batch["status"], "unconfirmed", "{recorded}");
    assert_eq!(batch["candidates"][0]["id"], "aa_1", "{recorded}");
    assert_eq!(
        batch["candidates"].as_array().unwrap().len(),
        1,
        "the other batches' jobs are not candidates: {recorded}"
    );
    let err = stderr(&first);
    assert!(err.contains("unconfirmed  part-00001.csv"), "{err}");
    assert!(err.contains("--adopt part-00001.csv=aa_1"), "{err}");

    // A second run without a decision posts nothing.
    let again = upload(&dir, &fake);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert_eq!(fake.posts().len(), batch_names(&dir).len());

    let adopted = upload_command(&dir, &fake, TOKEN)
        .args(["--adopt", "part-00001.csv=aa_1"])
        .output()
        .unwrap();
    assert_eq!(adopted.status.code(), Some(0), "{}", text(&adopted));
    assert_eq!(
        fake.posts().len(),
        batch_names(&dir).len(),
        "adopting posts nothing"
    );
    assert!(
        fake.jobs_per_file().values().all(|&n| n == 1),
        "{:?}",
        fake.jobs_per_file()
    );
    assert_eq!(state(&dir)["batches"][0]["status"], "DONE");
    assert_eq!(state(&dir)["batches"][0]["adopted"], true);
}

#[test]
fn a_502_after_the_post_leaves_the_batch_unconfirmed_and_is_not_retried() {
    let dir = prepared();
    let fake = Fake::start();
    fake.behaviour()
        .posts
        .push_back(Reply::ActThenAnswer(502, "<html>Bad gateway</html>".into()));
    let output = upload(&dir, &fake);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let batches = batch_names(&dir).len();
    assert_eq!(
        fake.posts().len(),
        batches,
        "one POST per batch: {:?}",
        fake.posts_per_file()
    );
    assert_eq!(state(&dir)["batches"][0]["status"], "unconfirmed");
    assert!(stderr(&output).contains("502"), "{}", text(&output));

    let reposted = upload_command(&dir, &fake, TOKEN)
        .arg("--repost-unconfirmed")
        .output()
        .unwrap();
    assert_eq!(reposted.status.code(), Some(0), "{}", text(&reposted));
    assert_eq!(
        fake.posts_per_file()["part-00001.csv"],
        2,
        "posted again, as asked"
    );
    assert_eq!(fake.posts().len(), batches + 1);
}

#[test]
fn a_redirect_is_never_followed_and_the_token_stays_home() {
    let other = Fake::start();
    for (scenario, on_post) in [("POST", true), ("poll", false)] {
        let dir = prepared();
        let fake = Fake::start();
        let location = format!("{}/v1/elsewhere?key=query-secret-1", other.url);
        let reply = Reply::with_header(302, "Location", &location, "");
        if on_post {
            fake.behaviour().posts.push_back(reply);
        } else {
            fake.behaviour().polls.push_back(reply);
        }
        let output = upload(&dir, &fake);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{scenario}: {}",
            text(&output)
        );
        let err = stderr(&output);
        assert!(
            err.contains(&format!("{}/v1/elsewhere", other.url)),
            "{scenario}: {err}"
        );
        assert!(
            !err.contains("query-secret-1"),
            "{scenario}: the query is not shown: {err}"
        );
        assert!(
            err.contains("redirects are never followed"),
            "{scenario}: {err}"
        );
        assert!(other.log().is_empty(), "{scenario}: {:?}", other.log());
        if on_post {
            assert_eq!(state(&dir)["batches"][0]["status"], "unconfirmed");
        }
        assert_no_secret(&dir, &output, scenario);
    }
}

/// Sets a fake up for one scenario.
type Setup<'a> = Box<dyn Fn(&Fake) + 'a>;

#[test]
fn the_credentials_echoed_in_any_answer_reach_no_output() {
    let echo = format!(
        " (token {TOKEN}, app {APP_ID}, upper {})",
        TOKEN.to_uppercase()
    );
    let body = json!({"code": 0, "message": format!("echo{echo}"), "details": echo}).to_string();
    let scenarios: Vec<(&str, Setup)> = vec![
        (
            "401",
            Box::new(|f: &Fake| {
                f.behaviour()
                    .posts
                    .push_back(Reply::status(401, body.clone()))
            }),
        ),
        (
            "403",
            Box::new(|f: &Fake| {
                f.behaviour()
                    .posts
                    .push_back(Reply::status(403, body.clone()))
            }),
        ),
        (
            "404",
            Box::new(|f: &Fake| {
                f.behaviour()
                    .posts
                    .push_back(Reply::status(404, body.clone()))
            }),
        ),
        (
            "400",
            Box::new(|f: &Fake| {
                f.behaviour()
                    .posts
                    .push_back(Reply::status(400, body.clone()))
            }),
        ),
        (
            "500",
            Box::new(|f: &Fake| {
                f.behaviour()
                    .posts
                    .push_back(Reply::status(500, body.clone()))
            }),
        ),
        (
            "garbled 200",
            Box::new(|f: &Fake| {
                f.behaviour()
                    .posts
                    .push_back(Reply::status(200, format!("not json{echo}")))
            }),
        ),
        (
            "id echoed",
            Box::new(|f: &Fake| {
                f.behaviour().posts.push_back(Reply::status(
                    202,
                    json!({"async_action_id": TOKEN}).to_string(),
                ))
            }),
        ),
        (
            "poll 500s",
            Box::new(|f: &Fake| {
                for _ in 0..10 {
                    f.behaviour()
                        .polls
                        .push_back(Reply::status(500, body.clone()));
                }
            }),
        ),
        (
            "status echoed",
            Box::new(|f: &Fake| {
                f.behaviour().polls.push_back(Reply::status(
                    200,
                    json!({"status": TOKEN, "progress": 1}).to_string(),
                ))
            }),
        ),
        (
            "message, reasons, codes and listed jobs",
            Box::new(|f: &Fake| {
                let mut b = f.behaviour();
                b.echo = Some(echo.clone());
                b.failed_rows.insert(
                "part-00001.csv".into(),
                vec![
                    json!({"code": "GC-0001", "row": 1, "reason": format!("bad{echo}")}),
                    json!({"code": TOKEN, "reason": format!("=HYPERLINK(\"http://x/?{TOKEN}\")")}),
                ],
            );
                b.failing.insert("part-00002.csv".into());
                b.posts.push_back(Reply::Normal);
                b.posts.push_back(Reply::Normal);
                b.posts.push_back(Reply::ActThenDrop);
            }),
        ),
        (
            "failed result as text",
            Box::new(|f: &Fake| {
                let mut b = f.behaviour();
                b.failing.insert("part-00001.csv".into());
                b.results
                    .insert("part-00001.csv".into(), json!(format!("broken{echo}")));
            }),
        ),
    ];
    for (scenario, setup) in scenarios {
        let dir = prepared();
        let fake = Fake::start();
        setup(&fake);
        let output = upload_command(&dir, &fake, TOKEN)
            .args(["--json", "--retries", "1"])
            .output()
            .unwrap();
        assert_no_secret(&dir, &output, scenario);
        assert!(
            everything(&dir, &output).contains("[redacted]"),
            "{scenario}: the echo was seen and redacted:\n{}",
            everything(&dir, &output)
        );
    }
}

#[test]
fn plain_http_to_another_machine_is_refused_unless_allowed_with_a_warning() {
    let dir = prepared();
    let output = Command::new(BIN)
        .args(["upload", &out(&dir).display().to_string()])
        .args([
            "--campaign",
            CAMPAIGN,
            "--api-url",
            "http://api.voucherify.io",
        ])
        .env("VOUCHERIFY_APP_ID", APP_ID)
        .env("VOUCHERIFY_APP_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(stderr(&output).contains("unencrypted"), "{}", text(&output));
    assert!(
        stderr(&output).contains("--allow-insecure-http"),
        "{}",
        text(&output)
    );
    assert!(!out(&dir).join("upload.json").exists(), "nothing was done");

    let allowed = Command::new(BIN)
        .args(["upload", &out(&dir).display().to_string()])
        .args([
            "--campaign",
            CAMPAIGN,
            "--api-url",
            "http://api.voucherify.io",
        ])
        .args(["--allow-insecure-http", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(allowed.status.code(), Some(0), "{}", text(&allowed));
    assert!(
        stderr(&allowed).starts_with("warning: --allow-insecure-http"),
        "{}",
        text(&allowed)
    );
}

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
        let recorded = state(&dir);
        assert_eq!(
            recorded["batches"][0]["failed"][0]["row_source"], "code",
            "{recorded}"
        );
        assert_eq!(
            recorded["batches"][0]["failed"][2]["reported_row"], "-1",
            "{recorded}"
        );
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
fn a_job_that_never_finishes_times_out_and_the_next_run_polls_it_on() {
    let dir = prepared();
    let fake = Fake::start();
    fake.behaviour().hanging.insert("part-00001.csv".into());
    let started = Instant::now();
    let output = upload_command(&dir, &fake, TOKEN)
        .args(["--job-timeout", "1s"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(started.elapsed() < Duration::from_secs(10));
    let recorded = state(&dir);
    assert_eq!(recorded["batches"][0]["status"], "timed_out", "{recorded}");
    assert_eq!(
        recorded["batches"][0]["async_action_id"], "aa_1",
        "{recorded}"
    );
    assert!(stderr(&output).contains("timed out"), "{}", text(&output));

    fake.behaviour().hanging.clear();
    let resumed = upload(&dir, &fake);
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed));
    assert!(
        fake.posts_per_file().values().all(|&n| n == 1),
        "{:?}",
        fake.posts_per_file()
    );
}

#[test]
fn a_429_counts_against_retries_with_or_without_retry_after() {
    let dir = prepared();
    let fake = Fake::start();
    for _ in 0..20 {
        fake.behaviour().posts.push_back(Reply::status(429, "{}"));
    }
    let output = upload_command(&dir, &fake, TOKEN)
        .args(["--retries", "2"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert_eq!(fake.posts().len(), 3, "--retries 2: three POSTs at most");
    assert!(stderr(&output).contains("rate limit"), "{}", text(&output));
    // A 429 proves nothing was queued: the batch is pending, the next run posts it normally.
    assert_eq!(state(&dir)["batches"][0]["status"], "pending");
    fake.behaviour().posts.clear();
    assert_eq!(upload(&dir, &fake).status.code(), Some(0));
}

#[test]
fn a_429_waits_for_an_http_date_and_retry_after_0_waits_retry_ms() {
    let dir = prepared();
    let fake = Fake::start();
    let in_two_seconds = (chrono::Utc::now() + chrono::Duration::seconds(2))
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    {
        let mut b = fake.behaviour();
        b.posts.push_back(Reply::with_header(
            429,
            "Retry-After",
            &in_two_seconds,
            "{}",
        ));
        b.posts
            .push_back(Reply::with_header(429, "Retry-After", "0", "{}"));
    }
    let started = Instant::now();
    let output = Command::new(BIN)
        .args(["upload", &out(&dir).display().to_string()])
        .args(["--campaign", CAMPAIGN, "--api-url", &fake.url])
        .args(["--poll-ms", "5", "--poll-max-ms", "20", "--retry-ms", "400"])
        .env("VOUCHERIFY_APP_ID", APP_ID)
        .env("VOUCHERIFY_APP_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let posts = fake.posts();
    let gap = |a: usize, b: usize| posts_gap(&fake, a, b);
    assert!(
        gap(0, 1) >= Duration::from_millis(900),
        "the HTTP-date was waited for: {:?}",
        gap(0, 1)
    );
    assert!(
        gap(1, 2) >= Duration::from_millis(380),
        "Retry-After: 0 waited --retry-ms: {:?}",
        gap(1, 2)
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(posts[2].status, Some(202));
}

/// The time between two POSTs the fake received.
fn posts_gap(fake: &Fake, a: usize, b: usize) -> Duration {
    let times = fake.post_times();
    times[b].duration_since(times[a])
}

#[test]
fn a_definitive_refusal_marks_the_batch_refused_and_the_next_run_posts_it() {
    let dir = prepared();
    let fake = Fake::start();
    fake.behaviour().posts.push_back(Reply::status(
        422,
        json!({"code": 422, "message": "Invalid CSV"}).to_string(),
    ));
    let output = upload(&dir, &fake);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let recorded = state(&dir);
    assert_eq!(recorded["batches"][0]["status"], "refused", "{recorded}");
    assert_eq!(recorded["batches"][0]["http_status"], 422, "{recorded}");
    assert!(recorded["batches"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("Invalid CSV"));
    assert_eq!(
        recorded["batches"][1]["status"], "DONE",
        "the others went on"
    );
    let again = upload(&dir, &fake);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert_eq!(fake.posts_per_file()["part-00001.csv"], 2);

    // Bad credentials stop the run, and leave nothing to confirm.
    let dir = prepared();
    let fake = Fake::start();
    let refused = upload_command(&dir, &fake, "wrong-token-9a2")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert_eq!(state(&dir)["batches"][0]["status"], "refused");
    assert_eq!(
        fake.posts().len(),
        1,
        "the run stopped at the first refusal"
    );
    let fixed = upload(&dir, &fake);
    assert_eq!(
        fixed.status.code(),
        Some(0),
        "no --repost-unconfirmed needed: {}",
        text(&fixed)
    );
}

#[test]
fn a_batch_path_leading_out_of_the_folder_is_refused_before_anything_is_sent() {
    let dir = prepared();
    let fake = Fake::start();
    let summary_path = out(&dir).join("summary.json");
    let summary = fs::read_to_string(&summary_path).unwrap();
    let hostname_sha = {
        let bytes = fs::read("/etc/hostname").unwrap_or_default();
        voucher_import::read::sha256_hex(&bytes)
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
fn a_second_upload_on_the_same_folder_is_refused_by_the_lock() {
    let dir = prepared();
    let fake = Fake::start();
    fake.behaviour().hanging.insert("part-00001.csv".into());
    let mut first = upload_command(&dir, &fake, TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the first run polls", || {
        fake.log()
            .iter()
            .any(|l| l.path.starts_with("/v1/async-actions/aa_1"))
    });
    let second = upload(&dir, &fake);
    first.kill().unwrap();
    first.wait().unwrap();
    assert_eq!(second.status.code(), Some(2), "{}", text(&second));
    assert!(
        stderr(&second).contains("upload.lock is locked"),
        "{}",
        text(&second)
    );
    assert_eq!(fake.posts().len(), 1, "the second run posted nothing");
    // The lock died with its process.
    fake.behaviour().hanging.clear();
    let after = upload(&dir, &fake);
    assert_eq!(after.status.code(), Some(0), "{}", text(&after));
    let leftovers: Vec<String> = fs::read_dir(out(&dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn ctrl_c_during_a_slow_request_stops_within_a_second_and_says_what_is_recorded() {
    let dir = prepared();
    let fake = Fake::start();
    fake.behaviour().posts.push_back(Reply::Slow(
        Duration::from_secs(60),
        Box::new(Reply::Normal),
    ));
    let child = upload_command(&dir, &fake, TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("the POST arrives", || !fake.posts().is_empty());
    let interrupted = Instant::now();
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    assert!(
        interrupted.elapsed() < Duration::from_secs(1),
        "{:?}",
        interrupted.elapsed()
    );
    assert_eq!(output.status.code(), Some(130), "{}", text(&output));
    let err = stderr(&output);
    assert!(err.contains("upload.json holds"), "{err}");
    assert!(err.contains("1 unconfirmed"), "{err}");
    assert!(err.contains("run upload again to resume"), "{err}");
    assert!(!err.contains("wrote nothing"), "{err}");
    assert_eq!(state(&dir)["batches"][0]["status"], "unconfirmed");
}

#[test]
fn a_silent_server_is_bounded_by_the_http_timeout() {
    let dir = prepared();
    let fake = Fake::start();
    fake.behaviour().posts.push_back(Reply::Slow(
        Duration::from_secs(30),
        Box::new(Reply::Normal),
    ));
    let started = Instant::now();
    let output = upload_command(&dir, &fake, TOKEN)
        .args(["--http-timeout", "1s"])
        .output()
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    // The POST may have arrived: unconfirmed, not repeated; the others went on.
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert_eq!(state(&dir)["batches"][0]["status"], "unconfirmed");
    assert_eq!(fake.posts_per_file()["part-00001.csv"], 1);
    assert!(stderr(&output).contains("timed out"), "{}", text(&output));
}

#[test]
fn a_server_that_speaks_no_tls_is_a_connection_that_never_opened() {
    let dir = prepared();
    let fake = Fake::start();
    let https = fake.url.replace("http://", "https://");
    let output = Command::new(BIN)
        .args(["upload", &out(&dir).display().to_string()])
        .args(["--campaign", CAMPAIGN, "--api-url", &https])
        .args(["--retries", "2", "--retry-ms", "10"])
        .env("VOUCHERIFY_APP_ID", APP_ID)
        .env("VOUCHERIFY_APP_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        stderr(&output).contains("after 3 tries"),
        "{}",
        text(&output)
    );
    // The handshake failed: nothing can have been queued.
    assert_eq!(state(&dir)["batches"][0]["status"], "pending");
    assert!(fake.log().is_empty(), "{:?}", fake.log());
}

#[test]
fn upload_failed_csv_neutralises_formulas_in_every_column() {
    let dir = prepared();
    let fake = Fake::start();
    fake.behaviour().failed_rows.insert(
        "part-00001.csv".into(),
        vec![json!({"code": "=1+2", "row": 1, "reason": "=HYPERLINK(\"http://evil\",\"click\")"})],
    );
    let output = upload(&dir, &fake);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let failed = fs::read_to_string(out(&dir).join("upload-failed.csv")).unwrap();
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
fn adopting_a_job_of_another_kind_or_for_a_settled_batch_is_refused() {
    let dir = prepared();
    let fake = Fake::start();
    fake.behaviour().posts.push_back(Reply::ActThenDrop);
    assert_eq!(upload(&dir, &fake).status.code(), Some(1));
    // A settled batch cannot adopt.
    let settled = upload_command(&dir, &fake, TOKEN)
        .args(["--adopt", "part-00002.csv=aa_9"])
        .output()
        .unwrap();
    assert_eq!(settled.status.code(), Some(2), "{}", text(&settled));
    assert!(
        stderr(&settled).contains("not unconfirmed"),
        "{}",
        text(&settled)
    );
    // Another batch's job cannot be adopted.
    let taken = upload_command(&dir, &fake, TOKEN)
        .args(["--adopt", "1=aa_2"])
        .output()
        .unwrap();
    assert_eq!(taken.status.code(), Some(2), "{}", text(&taken));
    assert!(
        stderr(&taken).contains("already the job of"),
        "{}",
        text(&taken)
    );
    // A job that is not a CSV import leaves the batch unconfirmed.
    fake.behaviour().polls.push_back(Reply::status(
        200,
        json!({"id": "aa_1", "type": "VOUCHERS.DELETE", "status": "DONE"}).to_string(),
    ));
    let wrong = upload_command(&dir, &fake, TOKEN)
        .args(["--adopt", "part-00001.csv=aa_1"])
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(1), "{}", text(&wrong));
    assert!(
        stderr(&wrong).contains("VOUCHERS.DELETE"),
        "{}",
        text(&wrong)
    );
    assert_eq!(state(&dir)["batches"][0]["status"], "unconfirmed");
}

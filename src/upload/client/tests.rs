//! Unit tests of `client`.

use std::time::SystemTime;

use super::answer::{message_text, parse_retry_after};
use super::*;

fn client(max_retry_after: u64) -> Client {
    Client::new(
        ApiSettings {
            base_url: "https://api.voucherify.io".into(),
            app_id: "id".into(),
            app_token: "token".into(),
            max_retries: 3,
            retry_base: Duration::from_millis(100),
            max_retry_after: Duration::from_secs(max_retry_after),
            http_timeout: Duration::from_secs(5),
        },
        Redactor::default(),
        crate::interrupt::Cancel::new(),
        Meter::default(),
        1,
    )
}

#[test]
fn a_default_sized_batch_makes_a_request_body_within_10_mb() {
    let batch = vec![b'x'; crate::config::DEFAULT_MAX_FILE_BYTES as usize];
    let (body, _) = multipart_body("part-99999.csv", &batch);
    assert!(
        body.len() as u64 <= crate::config::IMPORT_REQUEST_BYTES,
        "{}",
        body.len()
    );
    assert!(body.len() - batch.len() < crate::config::MULTIPART_ENVELOPE_BYTES as usize / 2);
}

#[test]
fn campaign_names_are_percent_encoded() {
    assert_eq!(encode_segment("camp_1A"), "camp_1A");
    assert_eq!(encode_segment("Summer Gift/2026"), "Summer%20Gift%2F2026");
}

#[test]
fn retry_after_takes_seconds_and_http_dates() {
    assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
    assert_eq!(
        parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
        Some(Duration::ZERO),
        "a date in the past is no wait"
    );
    let future = chrono::DateTime::from_timestamp(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
            + 30,
        0,
    )
    .unwrap();
    let imf = future.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let wait = parse_retry_after(&imf).unwrap();
    assert!(
        wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
        "{imf}: {wait:?}"
    );
    let rfc850 = future.format("%A, %d-%b-%y %H:%M:%S GMT").to_string();
    assert!(
        parse_retry_after(&rfc850).unwrap() > Duration::from_secs(25),
        "{rfc850}"
    );
    let asctime = future.format("%a %b %e %H:%M:%S %Y").to_string();
    assert!(
        parse_retry_after(&asctime).unwrap() > Duration::from_secs(25),
        "{asctime}"
    );
    assert_eq!(parse_retry_after("soon"), None);
}

#[test]
fn a_429_waits_its_retry_after_or_at_least_retry_base_or_doubles() {
    let c = client(600);
    assert_eq!(
        c.retry_wait(1, Some(Some(Duration::from_secs(2)))).unwrap(),
        Duration::from_secs(2)
    );
    assert_eq!(
        c.retry_wait(1, Some(Some(Duration::ZERO))).unwrap(),
        Duration::from_millis(100)
    );
    assert_eq!(
        c.retry_wait(3, Some(None)).unwrap(),
        Duration::from_millis(400)
    );
    assert_eq!(c.retry_wait(1, None).unwrap(), Duration::from_millis(100));
    assert!(client(1)
        .retry_wait(1, Some(Some(Duration::from_secs(5))))
        .is_err());
}

#[test]
fn plain_http_is_taken_only_for_this_machine_or_when_allowed() {
    let check = |url: &str, allow: bool| check_api_url(url, allow).ok();
    assert_eq!(
        check("https://api.voucherify.io", false),
        Some(ApiTransport::Encrypted)
    );
    for local in [
        "http://127.0.0.1:8080",
        "http://127.3.4.5",
        "http://[::1]:9",
        "http://localhost:1",
    ] {
        assert_eq!(check(local, false), Some(ApiTransport::Loopback), "{local}");
    }
    assert_eq!(check("http://api.voucherify.io", false), None);
    assert_eq!(check("http://10.0.0.1", false), None);
    assert_eq!(check("http://127.0.0.1.example.com", false), None);
    assert_eq!(
        check("http://api.voucherify.io", true),
        Some(ApiTransport::Insecure)
    );
    assert_eq!(check("ftp://api.voucherify.io", true), None);
    assert_eq!(check("api.voucherify.io", false), None);
    assert_eq!(check("https://user:pw@api.voucherify.io", false), None);
}

#[test]
fn a_code_of_dots_is_sent_as_a_segment_no_proxy_can_normalize() {
    assert_eq!(encode_segment("."), "%2E");
    assert_eq!(encode_segment(".."), "%2E%2E");
    assert_eq!(encode_segment("a.b"), "a.b");
    assert_eq!(encode_segment("../x"), "..%2Fx");
}

#[test]
fn only_a_redacted_beginning_of_an_answer_is_kept_as_text() {
    let redactor = Redactor::new(&["secret-token-6f1d"]);
    let mut body = "x".repeat(2000);
    body.push_str("secret-token-6f1d");
    body.push_str(&"y".repeat(10 << 20));
    let text = message_text(body.as_bytes(), &redactor);
    assert!(text.len() <= 4 << 10, "{}", text.len());
    assert!(text.contains("[redacted]") && !text.contains("secret-token"));
    // A secret cut at the 64 KiB the redaction reads never reaches the text.
    let mut edge = "z".repeat((64 << 10) - 5);
    edge.push_str("secret-token-6f1d");
    let text = message_text(edge.as_bytes(), &redactor);
    assert!(
        !text.contains("secr"),
        "{}",
        &text[text.len().saturating_sub(40)..]
    );
    assert_eq!(message_text(b"short", &redactor), "short");
}

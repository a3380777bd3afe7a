//! An HTTP answer as `upload` holds it: read within the answers' shared memory
//! (`answer_memory`), classified by what the exchange proves, every text redacted.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use super::answer_memory::{AnswerMemory, ReadAnswerError};
use super::Sent;
use crate::upload::redact::{redact_json, Redactor};

/// One HTTP exchange, classified by what it proves. Every text in it is redacted.
#[derive(Debug, Clone)]
pub(crate) enum Exchange {
    /// The server answered.
    Answer(Answer),
    /// The connection could not be opened (DNS, refused, TLS handshake): the request never
    /// reached the server.
    NotSent(String),
    /// The request went out (or started to) and no whole answer came back (timeout, reset,
    /// a broken answer): the server may have acted on it.
    Lost(String),
}

/// An HTTP answer.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub status: u16,
    /// `Retry-After`, in seconds or as an HTTP-date, as a wait from now.
    pub retry_after: Option<Duration>,
    /// A redirect's target, without its query string.
    pub location: Option<String>,
    /// `X-Rate-Limit-Remaining`: calls the project has left.
    pub rate_limit_remaining: Option<u64>,
    /// `X-Rate-Limit-Type`: which limit the remainder is of.
    pub rate_limit_type: Option<String>,
    /// `X-Rate-Limit-Limit`, when a server sends it (not documented by Voucherify).
    pub rate_limit_limit: Option<u64>,
    /// The body as text, for messages.
    pub text: String,
    /// The body as JSON, when it is JSON.
    pub json: Option<serde_json::Value>,
}

impl Answer {
    /// The body for a message: one line, at most 200 characters.
    pub fn short_text(&self) -> String {
        shorten(&self.text)
    }
}

/// The memory the answers in flight take together, whatever `--parallel` is (a result listing
/// 100,000 failed rows is about 15 MB; one answer may take up to about half of this and more
/// with fewer batches in flight: see `AnswerMemory`).
pub(super) const ANSWERS_LIMIT: u64 = 256 * 1024 * 1024;

/// Classifies what ureq gave, redacting every text.
pub(super) fn classify(
    sent: Sent,
    connected: &AtomicBool,
    redactor: &Redactor,
    answers: &AnswerMemory,
) -> Exchange {
    match sent {
        Err(e) => {
            let why = redactor.owned(describe(&e));
            if connected.load(Ordering::SeqCst) {
                Exchange::Lost(why)
            } else {
                Exchange::NotSent(why)
            }
        }
        Ok(mut response) => {
            let status = response.status().as_u16();
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let retry_after = header("retry-after").and_then(|v| parse_retry_after(&v));
            let count = |name: &str| header(name).and_then(|v| v.trim().parse::<u64>().ok());
            let rate_limit_remaining = count("x-rate-limit-remaining");
            let rate_limit_limit = count("x-rate-limit-limit");
            let rate_limit_type = header("x-rate-limit-type").map(|t| redactor.owned(shorten(&t)));
            let location = header("location").map(|l| {
                let without_query = l.split(['?', '#']).next().unwrap_or_default();
                redactor.owned(without_query.to_owned())
            });
            let body = response
                .body_mut()
                .with_config()
                .limit(answers.largest_answer().saturating_add(1))
                .reader();
            let answer = match answers.read(body) {
                Ok(answer) => answer,
                Err(ReadAnswerError::TooLarge { limit }) => {
                    return Exchange::Lost(format!(
                        "the answer ({status}) is longer than the {} MiB read of one answer",
                        limit >> 20
                    ))
                }
                Err(ReadAnswerError::Io(e)) => {
                    let why = match e
                        .get_ref()
                        .and_then(|inner| inner.downcast_ref::<ureq::Error>())
                    {
                        Some(inner) => describe(inner),
                        None => e.to_string(),
                    };
                    return Exchange::Lost(
                        redactor.owned(format!("the answer ({status}) broke off: {why}")),
                    );
                }
            };
            // The body is held once: parsed from its bytes, and only a redacted beginning kept
            // as text (for messages), so an answer near the body limit does not take three
            // times the limit in memory.
            let bytes = &answer.bytes;
            let json = serde_json::from_slice::<serde_json::Value>(bytes)
                .ok()
                .or_else(|| {
                    // Bytes that are not UTF-8 inside strings: read as before, lossily (a
                    // copy, for such answers only).
                    std::str::from_utf8(bytes)
                        .is_err()
                        .then(|| serde_json::from_str(&String::from_utf8_lossy(bytes)).ok())?
                })
                .map(|mut value| {
                    redact_json(redactor, &mut value);
                    value
                });
            let text = message_text(bytes, redactor);
            drop(answer);
            Exchange::Answer(Answer {
                status,
                retry_after,
                location,
                rate_limit_remaining,
                rate_limit_type,
                rate_limit_limit,
                text,
                json,
            })
        }
    }
}

/// The beginning of an answer's body, redacted, for messages (which show 200 characters of
/// it): the first 64 KiB are redacted and at most 4 KiB kept; when the body is longer, the last
/// KiB of what was redacted is dropped too, so that no spelling of a secret cut at 64 KiB can
/// reach a message.
pub(super) fn message_text(bytes: &[u8], redactor: &Redactor) -> String {
    const READ: usize = 64 << 10;
    const KEPT: usize = 4 << 10;
    const LONGEST_SPELLING: usize = 1 << 10;
    let cut = bytes.len() > READ;
    let raw = String::from_utf8_lossy(&bytes[..bytes.len().min(READ)]);
    let clean = redactor.text(&raw);
    let mut end = if cut {
        clean.len().saturating_sub(LONGEST_SPELLING).min(KEPT)
    } else {
        clean.len().min(KEPT)
    };
    while !clean.is_char_boundary(end) {
        end -= 1;
    }
    clean[..end].to_owned()
}

/// A ureq error in a few words.
pub(super) fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
            std::io::ErrorKind::ConnectionReset => "the connection was reset".into(),
            std::io::ErrorKind::ConnectionAborted => "the connection was aborted".into(),
            std::io::ErrorKind::UnexpectedEof => {
                "the server closed the connection without a whole answer".into()
            }
            std::io::ErrorKind::BrokenPipe => "the server closed the connection".into(),
            _ => io.to_string(),
        },
        ureq::Error::Timeout(what) => format!("timed out ({what})"),
        ureq::Error::HostNotFound => "the host name does not resolve".into(),
        other => other.to_string(),
    }
}

/// `Retry-After` as a wait from now: seconds, or an HTTP-date (IMF-fixdate, RFC 850 or
/// asctime); a date in the past is no wait.
pub(super) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value)
        .map(|d| d.timestamp())
        .ok()
        .or_else(|| {
            ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
                .iter()
                .find_map(|format| chrono::NaiveDateTime::parse_from_str(value, format).ok())
                .map(|d| d.and_utc().timestamp())
        })?;
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()?
        .as_secs() as i64;
    Some(Duration::from_secs(at.saturating_sub(now).max(0) as u64))
}

/// A text for a message: one line, at most 200 characters.
pub(crate) fn shorten(body: &str) -> String {
    match body.trim() {
        "" => "no body".to_owned(),
        text => crate::text::shorten(text, 200),
    }
}

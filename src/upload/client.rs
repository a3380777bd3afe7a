//! The HTTP side of `upload`: one exchange with Voucherify at a time, classified by what it
//! proves about the request, and the retry policy for reads.
//!
//! - Every exchange runs on a helper thread while the caller checks for Ctrl-C every 50 ms, so
//!   a slow server never holds a stop for longer than that; connect and read timeouts
//!   (`http_timeout`) bound every request.
//! - A POST opens a fresh connection (no pooling) through a connector that notes when the
//!   connection is established (TCP and TLS): a failure before that point provably never
//!   reached Voucherify ([`Exchange::NotSent`]); any failure after it may have
//!   ([`Exchange::Lost`]). Only the orchestrator decides what to repeat.
//! - Redirects are never followed: a 3xx is an answer like any other, and its `Location` is
//!   reported without the query string.
//! - Every text that came from the server is redacted ([`Redactor`]) before it leaves this
//!   module; the credentials are only ever sent as the `X-App-Id` and `X-App-Token` headers.

use std::sync::atomic::AtomicBool;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use super::budget::{CallKind, Meter};
use super::redact::Redactor;
use super::transport::agent;
pub use super::transport::{check_api_url, ApiSettings, ApiTransport, Secret};
use crate::error::{Error, Result};
use answer::{classify, ANSWERS_LIMIT};
pub(crate) use answer::{shorten, Answer, Exchange};
use answer_memory::AnswerMemory;

/// The async action type of a campaign CSV import.
pub const IMPORT_ACTION_TYPE: &str = "CAMPAIGN.VOUCHERS_IMPORT_CSV";

/// A client of the import endpoints.
pub struct Client {
    settings: ApiSettings,
    redactor: Redactor,
    /// The agent of reads (pooled: polls reuse their connection).
    reader: ureq::Agent,
    /// Checked while a request is in flight and while waiting.
    cancel: crate::interrupt::Cancel,
    /// Every call counted, and Voucherify's remainder followed.
    meter: Meter,
    /// The memory all answers in flight share.
    answers: Arc<AnswerMemory>,
}

/// The responses a thread hands back.
type Sent = std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>;

impl Client {
    pub fn new(
        settings: ApiSettings,
        redactor: Redactor,
        cancel: crate::interrupt::Cancel,
        meter: Meter,
        in_flight: usize,
    ) -> Self {
        let reader = agent(&settings, true, Arc::new(AtomicBool::new(false)));
        Client {
            settings,
            redactor,
            reader,
            cancel,
            meter,
            answers: Arc::new(AnswerMemory::new(ANSWERS_LIMIT, in_flight)),
        }
    }

    /// The run's calls and Voucherify's remainder.
    pub(crate) fn meter(&self) -> &Meter {
        &self.meter
    }

    /// The run's cancellation handle.
    pub fn cancel(&self) -> &crate::interrupt::Cancel {
        &self.cancel
    }

    pub fn settings(&self) -> &ApiSettings {
        &self.settings
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.settings.base_url.trim_end_matches('/'))
    }

    /// One `POST /v1/campaigns/{campaign}/importCSV` with `csv` as the multipart field `file`,
    /// on a connection of its own. Fails only when the run is interrupted while it is in flight.
    pub(crate) fn post_import(
        &self,
        campaign: &str,
        file_name: &str,
        csv: &[u8],
    ) -> Result<Exchange> {
        let (body, content_type) = multipart_body(file_name, csv);
        let url = self.url(&import_path(campaign));
        let connected = Arc::new(AtomicBool::new(false));
        let poster = agent(&self.settings, false, Arc::clone(&connected));
        let (id, token) = (
            self.settings.app_id.expose().to_owned(),
            self.settings.app_token.expose().to_owned(),
        );
        self.exchange(CallKind::Post, connected, move || {
            poster
                .post(&url)
                .header("X-App-Id", &id)
                .header("X-App-Token", &token)
                .header("Accept", "application/json")
                .header("Content-Type", &content_type)
                .send(&body[..])
        })
    }

    /// One `GET` of `path` (which starts with `/v1/`, or `/management/v1/` for a client
    /// holding Management API keys: they go as `X-Management-Id` and `X-Management-Token`).
    /// Fails only when interrupted.
    pub(crate) fn get_once(&self, path: &str) -> Result<Exchange> {
        let url = self.url(path);
        let reader = self.reader.clone();
        let (id, token) = (
            self.settings.app_id.expose().to_owned(),
            self.settings.app_token.expose().to_owned(),
        );
        let (id_header, token_header) = match path.starts_with("/management/") {
            true => ("X-Management-Id", "X-Management-Token"),
            false => ("X-App-Id", "X-App-Token"),
        };
        // Reads are always safe to repeat: whether they reached the server does not matter.
        self.exchange(
            CallKind::of_get(path),
            Arc::new(AtomicBool::new(true)),
            move || {
                reader
                    .get(&url)
                    .header(id_header, &id)
                    .header(token_header, &token)
                    .header("Accept", "application/json")
                    .call()
            },
        )
    }

    /// One `POST` of `path` with a JSON body (a request that creates nothing a repeat could
    /// harm, such as an export). Fails only when interrupted.
    pub(crate) fn post_json_once(&self, path: &str, body: &serde_json::Value) -> Result<Exchange> {
        let url = self.url(path);
        let reader = self.reader.clone();
        let body = body.to_string();
        let (id, token) = (
            self.settings.app_id.expose().to_owned(),
            self.settings.app_token.expose().to_owned(),
        );
        self.exchange(CallKind::List, Arc::new(AtomicBool::new(true)), move || {
            reader
                .post(&url)
                .header("X-App-Id", &id)
                .header("X-App-Token", &token)
                .header("Accept", "application/json")
                .header("Content-Type", "application/json")
                .send(body.as_bytes())
        })
    }

    /// One `DELETE` of `path`. Fails only when interrupted.
    pub(crate) fn delete_once(&self, path: &str) -> Result<Exchange> {
        let url = self.url(path);
        let reader = self.reader.clone();
        let (id, token) = (
            self.settings.app_id.expose().to_owned(),
            self.settings.app_token.expose().to_owned(),
        );
        self.exchange(CallKind::List, Arc::new(AtomicBool::new(true)), move || {
            reader
                .delete(&url)
                .header("X-App-Id", &id)
                .header("X-App-Token", &token)
                .header("Accept", "application/json")
                .call()
        })
    }

    /// A `GET` of `url` (a whole URL: a download on its own host, checked by the caller) with
    /// the credentials as headers, its body streamed to `consume` as it comes (never held
    /// whole), checking for Ctrl-C between reads. No redirect is followed; an answer that is
    /// not 2xx is an error with its redacted text.
    pub(crate) fn download<T>(
        &self,
        url: &str,
        consume: impl FnOnce(&mut dyn std::io::Read) -> Result<T>,
    ) -> Result<T> {
        self.cancel.check()?;
        let agent = agent(&self.settings, false, Arc::new(AtomicBool::new(false)));
        let shown = url.split(['?', '#']).next().unwrap_or_default().to_owned();
        let sent = agent
            .get(url)
            .header("X-App-Id", self.settings.app_id.expose())
            .header("X-App-Token", self.settings.app_token.expose())
            .header("Accept", "text/csv, text/plain, */*")
            .config()
            .http_status_as_error(false)
            // A large export takes longer than one phase's timeout; each read is still bounded.
            .timeout_recv_body(None)
            .build()
            .call();
        self.meter.record(CallKind::List, None);
        let mut response = sent.map_err(|e| {
            Error::Upload(self.redactor.owned(format!(
                "GET {shown}: the download failed: {}",
                answer::describe(&e)
            )))
        })?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let mut body = String::new();
            let _ = std::io::Read::read_to_string(
                &mut response.body_mut().with_config().limit(64 << 10).reader(),
                &mut body,
            );
            return Err(Error::Upload(self.redactor.owned(format!(
                "GET {shown}: the download answered {status}: {}",
                shorten(&body)
            ))));
        }
        let mut reader = CancellableRead {
            inner: response.body_mut().with_config().limit(u64::MAX).reader(),
            cancel: &self.cancel,
        };
        let consumed = consume(&mut reader);
        self.cancel.check()?;
        consumed
    }

    /// A `GET` under the read policy: connection failures, timeouts, 429 and 5xx are retried up
    /// to `max_retries` times (429 after its `Retry-After`); any other answer that is not 2xx is
    /// an error saying what to do. Gives the answer.
    pub(crate) fn get(&self, path: &str) -> Result<Answer> {
        self.read(path, false)?
            .ok_or_else(|| Error::Invariant(format!("GET {path}: a 404 taken as an answer")))
    }

    /// [`Client::get`] of a resource that may not exist: None when Voucherify answers 404.
    pub(crate) fn get_or_missing(&self, path: &str) -> Result<Option<Answer>> {
        self.read(path, true)
    }

    fn read(&self, path: &str, missing_ok: bool) -> Result<Option<Answer>> {
        let mut tries: u32 = 0;
        loop {
            tries += 1;
            let (why, retry_after) = match self.get_once(path)? {
                Exchange::Answer(answer) if (200..300).contains(&answer.status) => {
                    return Ok(Some(answer))
                }
                Exchange::Answer(answer) if answer.status == 404 && missing_ok => return Ok(None),
                Exchange::Answer(answer) if answer.status == 429 => (
                    format!("429 {}", answer.short_text()),
                    Some(answer.retry_after),
                ),
                Exchange::Answer(answer) if answer.status >= 500 => {
                    (format!("{} {}", answer.status, answer.short_text()), None)
                }
                Exchange::Answer(answer) => {
                    return Err(self.refusal(&format!("GET {path}"), &answer))
                }
                Exchange::NotSent(why) | Exchange::Lost(why) => (why, None),
            };
            if tries > self.settings.max_retries {
                return Err(Error::Upload(format!(
                    "GET {path}: no answer after {tries} tries (last: {why}); check the network and the API host, then run upload again (it resumes)"
                )));
            }
            let wait = self.retry_wait(tries, retry_after)?;
            sleep_unless_interrupted(&self.cancel, wait)?;
        }
    }

    /// The error for an answer that settles a request as refused (3xx, 4xx other than 429).
    pub(crate) fn refusal(&self, request: &str, answer: &Answer) -> Error {
        match answer.status {
            300..=399 => Error::Upload(format!(
                "{request}: the server answered {} and redirects to {}; redirects are never followed (the credentials would go with them): give --api-url the API host itself (or --cluster)",
                answer.status,
                answer.location.as_deref().unwrap_or("nowhere (no Location)")
            )),
            401 | 403 => Error::Upload(format!(
                "{request}: Voucherify refused the credentials ({} {}): check VOUCHERIFY_APP_ID and VOUCHERIFY_APP_TOKEN (the project's application keys, with access to this project) and the API host (--cluster or --api-url)",
                answer.status,
                answer.short_text()
            )),
            status => Error::Upload(format!(
                "{request}: Voucherify answered {status}: {}",
                answer.short_text()
            )),
        }
    }

    /// The wait before try `tries + 1` of a request: a 429's `Retry-After` when it has one
    /// (`Retry-After: 0` and dates in the past still wait `retry_base`), else the doubling
    /// backoff. `retry_after` is `Some` for a 429. A `Retry-After` over `max_retry_after` gives
    /// up.
    pub(crate) fn retry_wait(
        &self,
        tries: u32,
        retry_after: Option<Option<Duration>>,
    ) -> Result<Duration> {
        let backoff = self.settings.retry_base * 2u32.pow(tries.saturating_sub(1).min(10));
        match retry_after {
            Some(Some(asked)) if asked > self.settings.max_retry_after => {
                Err(Error::Upload(format!(
                    "Voucherify's rate limit asks to wait {} s, longer than the {} s allowed (--max-retry-after); run upload again later (it resumes)",
                    asked.as_secs(),
                    self.settings.max_retry_after.as_secs()
                )))
            }
            Some(Some(asked)) if !asked.is_zero() => Ok(asked),
            Some(Some(_)) => Ok(self.settings.retry_base),
            Some(None) | None => Ok(backoff),
        }
    }

    /// Runs `send` on a helper thread and classifies what it gives, checking for Ctrl-C while
    /// it waits. `connected` tells whether the connection was established before a failure.
    fn exchange(
        &self,
        kind: CallKind,
        connected: Arc<AtomicBool>,
        send: impl FnOnce() -> Sent + Send + 'static,
    ) -> Result<Exchange> {
        let (tx, rx) = mpsc::channel();
        let redactor = self.redactor.clone();
        let answers = self.answers.clone();
        std::thread::Builder::new()
            .name("http".into())
            .spawn(move || {
                let exchange = classify(send(), &connected, &redactor, &answers);
                let _ = tx.send(exchange);
            })
            .map_err(|e| Error::Upload(format!("cannot start a thread for HTTP: {e}")))?;
        loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(exchange) => {
                    match &exchange {
                        Exchange::Answer(answer) => self.meter.record(kind, Some(answer)),
                        Exchange::Lost(_) => self.meter.record(kind, None),
                        Exchange::NotSent(_) => {}
                    }
                    return Ok(exchange);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => self.cancel.check()?,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Ok(Exchange::Lost(
                        "the HTTP thread ended without an answer".into(),
                    ))
                }
            }
        }
    }
}

/// The request body of an import: `csv` as the multipart field `file` named `file_name`, and
/// its content type. The boundary comes from the file's sha256, so it never occurs in it.
pub(crate) fn multipart_body(file_name: &str, csv: &[u8]) -> (Vec<u8>, String) {
    let boundary = format!("voucher-import-{}", &crate::read::sha256_hex(csv)[..32]);
    let file_name: String = file_name
        .chars()
        .map(|c| if c == '"' || c.is_control() { '_' } else { c })
        .collect();
    let mut body = Vec::with_capacity(csv.len() + 256);
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(csv);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (body, format!("multipart/form-data; boundary={boundary}"))
}

/// Sleeps, waking early (with an error) when the run is cancelled.
pub fn sleep_unless_interrupted(cancel: &crate::interrupt::Cancel, wait: Duration) -> Result<()> {
    let step = Duration::from_millis(50);
    let mut left = wait;
    while !left.is_zero() {
        cancel.check()?;
        let nap = left.min(step);
        std::thread::sleep(nap);
        left -= nap;
    }
    cancel.check()
}

/// The import path for a campaign id or name.
pub(crate) fn import_path(campaign: &str) -> String {
    format!("/v1/campaigns/{}/importCSV", encode_segment(campaign))
}

/// A path segment or query value with everything but unreserved characters percent-encoded (a
/// campaign name may hold spaces). A segment of dots only (`.`, `..`), which a proxy or a server
/// would normalize away as "this folder" or "the folder above", has its dots encoded too.
pub(crate) fn encode_segment(text: &str) -> String {
    if !text.is_empty() && text.bytes().all(|b| b == b'.') {
        return "%2E".repeat(text.len());
    }
    super::redact::percent_encoded(text)
}

mod answer;
mod answer_memory;
#[cfg(test)]
mod tests;

/// A body reader that stops with an error once the run is cancelled.
struct CancellableRead<'a, R> {
    inner: R,
    cancel: &'a crate::interrupt::Cancel,
}

impl<R: std::io::Read> std::io::Read for CancellableRead<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.cancel.check().is_err() {
            // Not ErrorKind::Interrupted, which readers retry.
            return Err(std::io::Error::other("the run was interrupted"));
        }
        self.inner.read(buf)
    }
}

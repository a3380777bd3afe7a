//! The two Voucherify endpoints `upload` uses, over HTTPS (ureq with rustls), with the retry
//! policy: 429 waits for `Retry-After`; 5xx and connection errors retry with exponential backoff
//! up to a limit; 401/403 stop with a message about the credentials; 404 says the campaign was
//! not found. The app token is sent in a header and never appears in a message.

use std::time::Duration;

use serde::Deserialize;

use crate::error::{Error, Result};

/// Where and how to reach the API.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// `https://api.voucherify.io`, a regional host, or a test server.
    pub base_url: String,
    pub app_id: String,
    pub app_token: String,
    /// Retries of a request that failed with 5xx or a connection error.
    pub max_retries: u32,
    /// The first retry's wait; it doubles each time.
    pub retry_base: Duration,
    /// The longest `Retry-After` honoured before giving up on a 429.
    pub max_retry_after: Duration,
}

/// An async action as `GET /v1/async-actions/{id}` returns it (the fields `upload` uses).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct AsyncAction {
    pub id: Option<String>,
    pub status: String,
    #[serde(default)]
    pub progress: Option<f64>,
    #[serde(default)]
    pub result: Option<ImportResult>,
}

/// The result of a CSV import action.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct ImportResult {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub failed: Vec<FailedRow>,
    #[serde(default)]
    pub done_count: Option<u64>,
    #[serde(default)]
    pub failed_count: Option<u64>,
}

/// A row Voucherify did not import: `row` counts the batch's data rows from 1.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct FailedRow {
    #[serde(default)]
    pub code: Option<String>,
    pub row: u64,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Deserialize)]
struct Queued {
    async_action_id: String,
}

/// A client of the import endpoints.
pub struct Client {
    agent: ureq::Agent,
    settings: ApiSettings,
}

/// One HTTP exchange's outcome, before the retry policy.
enum Reply {
    Ok(String),
    Status {
        status: u16,
        retry_after: Option<Duration>,
        body: String,
    },
    Unreachable(String),
}

impl Client {
    pub fn new(settings: ApiSettings) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(300)))
            .user_agent(concat!("voucher-import/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Client { agent, settings }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.settings.base_url.trim_end_matches('/'))
    }

    /// `POST /v1/campaigns/{campaign}/importCSV` with `csv` as the multipart field `file`;
    /// gives the async action id.
    pub fn import_csv(&self, campaign: &str, file_name: &str, csv: &[u8]) -> Result<String> {
        let boundary = format!("voucher-import-{}", &crate::read::sha256_hex(csv)[..32]);
        let mut body = Vec::with_capacity(csv.len() + 256);
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(csv);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let path = format!("/v1/campaigns/{}/importCSV", encode_segment(campaign));
        let url = self.url(&path);
        let content_type = format!("multipart/form-data; boundary={boundary}");
        let text = self.with_retries(&path, campaign, || {
            self.exchange(
                self.agent
                    .post(&url)
                    .header("X-App-Id", &self.settings.app_id)
                    .header("X-App-Token", &self.settings.app_token)
                    .header("Content-Type", &content_type)
                    .send(&body[..]),
            )
        })?;
        let queued: Queued = serde_json::from_str(&text).map_err(|e| {
            Error::Upload(format!(
                "POST {path}: the answer is not an async action ({e}): {}",
                shorten(&text)
            ))
        })?;
        Ok(queued.async_action_id)
    }

    /// `GET /v1/async-actions/{id}`.
    pub fn async_action(&self, id: &str) -> Result<AsyncAction> {
        let path = format!("/v1/async-actions/{}", encode_segment(id));
        let url = self.url(&path);
        let text = self.with_retries(&path, "", || {
            self.exchange(
                self.agent
                    .get(&url)
                    .header("X-App-Id", &self.settings.app_id)
                    .header("X-App-Token", &self.settings.app_token)
                    .call(),
            )
        })?;
        serde_json::from_str(&text).map_err(|e| {
            Error::Upload(format!(
                "GET {path}: the answer is not an async action ({e}): {}",
                shorten(&text)
            ))
        })
    }

    fn exchange(
        &self,
        sent: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Reply {
        match sent {
            Err(e) => Reply::Unreachable(e.to_string()),
            Ok(mut response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                let body = response.body_mut().read_to_string().unwrap_or_default();
                if (200..300).contains(&status) {
                    Reply::Ok(body)
                } else {
                    Reply::Status {
                        status,
                        retry_after,
                        body,
                    }
                }
            }
        }
    }

    /// Runs `exchange` under the retry policy; `path` and `campaign` name the request in
    /// messages.
    fn with_retries(
        &self,
        path: &str,
        campaign: &str,
        mut exchange: impl FnMut() -> Reply,
    ) -> Result<String> {
        let mut failures = 0;
        loop {
            crate::interrupt::check()?;
            let wait = match exchange() {
                Reply::Ok(body) => return Ok(body),
                Reply::Status {
                    status: 401 | 403,
                    body,
                    ..
                } => {
                    return Err(Error::Upload(format!(
                        "{path}: Voucherify refused the credentials ({}): check VOUCHERIFY_APP_ID and VOUCHERIFY_APP_TOKEN (the project's application keys, with access to this project) and the API host (--cluster or --api-url)",
                        shorten(&body)
                    )))
                }
                Reply::Status { status: 404, body, .. } if !campaign.is_empty() => {
                    return Err(Error::Upload(format!(
                        "campaign '{campaign}' was not found ({}): pass the campaign's id (camp_...) or its exact name, in the project the credentials belong to",
                        shorten(&body)
                    )))
                }
                Reply::Status {
                    status: 429,
                    retry_after,
                    ..
                } => {
                    let wait = retry_after.unwrap_or(self.settings.retry_base * 2u32.pow(failures.min(10)));
                    if wait > self.settings.max_retry_after {
                        return Err(Error::Upload(format!(
                            "{path}: Voucherify's rate limit asks to wait {} s, longer than the {} s allowed; run upload again later (it resumes)",
                            wait.as_secs(),
                            self.settings.max_retry_after.as_secs()
                        )));
                    }
                    // A 429 is Voucherify pacing us, not a failure: it does not use up retries.
                    wait
                }
                Reply::Status { status, body, .. } if status >= 500 => {
                    failures += 1;
                    if failures > self.settings.max_retries {
                        return Err(Error::Upload(format!(
                            "{path}: Voucherify answered {status} {} times in a row ({}); run upload again later (it resumes)",
                            failures,
                            shorten(&body)
                        )));
                    }
                    self.settings.retry_base * 2u32.pow(failures - 1)
                }
                Reply::Status { status, body, .. } => {
                    return Err(Error::Upload(format!(
                        "{path}: Voucherify answered {status}: {}",
                        shorten(&body)
                    )))
                }
                Reply::Unreachable(why) => {
                    failures += 1;
                    if failures > self.settings.max_retries {
                        return Err(Error::Upload(format!(
                            "{path}: cannot reach {} ({why}) after {} tries; check the network and --api-url, then run upload again (it resumes)",
                            self.settings.base_url, failures
                        )));
                    }
                    self.settings.retry_base * 2u32.pow(failures - 1)
                }
            };
            sleep_unless_interrupted(wait)?;
        }
    }
}

/// Sleeps, waking early (with an error) when the run is interrupted.
pub fn sleep_unless_interrupted(wait: Duration) -> Result<()> {
    let step = Duration::from_millis(50);
    let mut left = wait;
    while !left.is_zero() {
        crate::interrupt::check()?;
        let nap = left.min(step);
        std::thread::sleep(nap);
        left -= nap;
    }
    crate::interrupt::check()
}

/// A path segment with everything but unreserved characters percent-encoded (a campaign name
/// may hold spaces).
fn encode_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A response body for a message: one line, at most 200 characters.
fn shorten(body: &str) -> String {
    match body.trim() {
        "" => "no body".to_owned(),
        text => crate::report::shorten(text, 200),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn campaign_names_are_percent_encoded() {
        assert_eq!(encode_segment("camp_1A"), "camp_1A");
        assert_eq!(encode_segment("Summer Gift/2026"), "Summer%20Gift%2F2026");
    }

    #[test]
    fn an_action_with_failed_rows_parses() {
        let action: AsyncAction = serde_json::from_str(
            r#"{"id":"aa_1","status":"DONE","progress":100,"result":{"message":"2 done, 1 failed","failed":[{"code":"A","row":2,"reason":"duplicate"}],"done_count":2,"failed_count":1}}"#,
        )
        .unwrap();
        let result = action.result.unwrap();
        assert_eq!(result.failed[0].row, 2);
        assert_eq!(result.failed_count, Some(1));
    }
}

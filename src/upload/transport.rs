//! How `upload` reaches the API: the API URL checked for how it carries the credentials, and
//! the HTTP agent (no redirects, every phase bounded, a connector that notes when a connection
//! is up so that a failure before it provably sent nothing).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::{ConnectionDetails, Connector, DefaultConnector, Transport};

use crate::error::{Error, Result};
use std::time::Duration;

/// A credential: its text goes only into the request headers. `Debug` and `Display` show
/// `[redacted]`, so no log, panic message or `{:?}` of an options type can print it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The credential's text, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// No credential was given.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(text: String) -> Self {
        Secret(text)
    }
}

impl From<&str> for Secret {
    fn from(text: &str) -> Self {
        Secret(text.to_owned())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() {
            "Secret(empty)"
        } else {
            "Secret([redacted])"
        })
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Where and how to reach the API.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// `https://api.voucherify.io`, a regional host, or a test server on a loopback address.
    pub base_url: String,
    /// The `X-App-Id` credential.
    pub app_id: Secret,
    /// The `X-App-Token` credential (redacted from everything the server says).
    pub app_token: Secret,
    /// Repeats of one request: connection failures that provably never reached Voucherify and
    /// 429 answers (and, for reads, also timeouts and 5xx answers). One request is sent at most
    /// `max_retries + 1` times.
    pub max_retries: u32,
    /// The first retry's wait; it doubles each time. Also the least wait after a 429.
    pub retry_base: Duration,
    /// The longest `Retry-After` honoured before giving up on a 429.
    pub max_retry_after: Duration,
    /// The longest wait for a connection, and for each read, write and phase of a request.
    pub http_timeout: Duration,
}

impl ApiSettings {
    /// Refuses credentials that no request header can carry (a line break or another control
    /// character: a trailing newline from a file), naming the variable they come from.
    pub(crate) fn check_credentials_carry(&self) -> Result<()> {
        for (name, secret) in [
            ("VOUCHERIFY_APP_ID", &self.app_id),
            ("VOUCHERIFY_APP_TOKEN", &self.app_token),
        ] {
            if secret.expose().chars().any(char::is_control) {
                return Err(Error::usage(
                    format!("{name} holds a line break or another control character, which no request header can carry (a trailing newline from a file?)"),
                    format!("export {name} without it, e.g. {name}=\"$(tr -d '\\r\\n' < file)\""),
                ));
            }
        }
        Ok(())
    }

    /// A redactor of these settings' credentials, for every text the server sends back.
    pub(crate) fn redactor(&self) -> super::redact::Redactor {
        super::redact::Redactor::new(&[self.app_id.expose(), self.app_token.expose()])
    }

    /// The API at `base_url` with these credentials and `upload`'s defaults: 6 retries from
    /// 1 s, a `Retry-After` of up to 10 minutes honoured, 60 s per request phase.
    pub fn new(base_url: impl Into<String>, app_id: Secret, app_token: Secret) -> Self {
        ApiSettings {
            base_url: base_url.into(),
            app_id,
            app_token,
            max_retries: 6,
            retry_base: Duration::from_millis(1000),
            max_retry_after: Duration::from_secs(600),
            http_timeout: Duration::from_secs(60),
        }
    }
}

/// How an API URL carries the credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiTransport {
    /// `https://`.
    Encrypted,
    /// Plain `http://` to this machine (localhost, 127.0.0.0/8, ::1): a test server.
    Loopback,
    /// Plain `http://` to another machine, allowed by `allow_insecure_http`: worth a warning
    /// on every run.
    Insecure,
}

/// How an API URL carries the credentials, or why it cannot be used.
pub fn check_api_url(url: &str, allow_insecure_http: bool) -> Result<ApiTransport> {
    let fix = "give --api-url as https://HOST (or use --cluster)";
    let uri: ureq::http::Uri = url
        .parse()
        .map_err(|e| Error::usage(format!("--api-url '{url}' is not a URL: {e}"), fix))?;
    let host = uri
        .host()
        .ok_or_else(|| Error::usage(format!("--api-url '{url}' names no host"), fix))?;
    if uri.query().is_some() || url.contains('@') {
        return Err(Error::usage(
            format!("--api-url '{url}' carries a query or user information"),
            fix,
        ));
    }
    match uri.scheme_str() {
        Some("https") => Ok(ApiTransport::Encrypted),
        Some("http") if is_loopback(host) => Ok(ApiTransport::Loopback),
        Some("http") if allow_insecure_http => Ok(ApiTransport::Insecure),
        Some("http") => Err(Error::usage(
            format!("--api-url '{url}' is plain http: the app token would cross the network unencrypted"),
            "use https:// (plain http is only taken for this machine: localhost, 127.0.0.0/8, ::1), or pass --allow-insecure-http if you really mean it",
        )),
        _ => Err(Error::usage(
            format!("--api-url '{url}' is not an http(s) URL"),
            fix,
        )),
    }
}

/// localhost, 127.0.0.0/8 or ::1.
pub(crate) fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

/// An agent that never follows redirects and bounds every phase by `http_timeout`. `pooled`
/// keeps connections for reuse; `connected` is set once a connection is established.
pub(super) fn agent(
    settings: &ApiSettings,
    pooled: bool,
    connected: Arc<AtomicBool>,
) -> ureq::Agent {
    let limit = Some(settings.http_timeout);
    let mut config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_resolve(limit)
        .timeout_connect(limit)
        .timeout_send_request(limit)
        .timeout_per_write(limit)
        .timeout_recv_response(limit)
        .timeout_per_read(limit)
        .timeout_recv_body(limit)
        .user_agent(concat!("voucher-import/", env!("CARGO_PKG_VERSION")));
    if !pooled {
        config = config.max_idle_connections(0);
    }
    ureq::Agent::with_parts(
        config.build(),
        DefaultConnector::new().chain(MarkConnected(connected)),
        DefaultResolver::default(),
    )
}

/// The last link of the connector chain: the connection (TCP, and TLS for https) is up.
#[derive(Debug)]
struct MarkConnected(Arc<AtomicBool>);

impl<In: Transport> Connector<In> for MarkConnected {
    type Out = In;

    fn connect(
        &self,
        _: &ConnectionDetails,
        chained: Option<In>,
    ) -> std::result::Result<Option<In>, ureq::Error> {
        if chained.is_some() {
            self.0.store(true, Ordering::SeqCst);
        }
        Ok(chained)
    }
}

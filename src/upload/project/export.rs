//! The export of the codes already in the project: asked for (`POST /v1/exports`), followed
//! until done (`GET /v1/exports/{id}`), its file downloaded only from the download host of
//! the API's region and streamed to the caller as it comes, then deleted.

use sha2::{Digest, Sha256};

use super::now_utc;
use crate::error::{Error, Result};
use crate::folder::project::ExportRead;
use crate::interrupt::Cancel;
use crate::upload::budget::Meter;
use crate::upload::client::{
    encode_segment, sleep_unless_interrupted, ApiSettings, Client, Exchange, Secret,
};

/// The export of the project's codes a connected run makes when it loads the codes already in
/// the project (not before: a run stopped by a bad input asks for none).
#[derive(Debug, Clone)]
pub(crate) struct ProjectExport {
    pub(crate) api: ApiSettings,
    /// Keep the downloaded file (`--keep-existing`).
    pub(crate) keep: bool,
}

/// An export of the project's codes that Voucherify finished, with the address of its file.
struct ReadyExport {
    id: String,
    /// `result.url`: it carries the download's token, so it is never shown whole.
    url: Secret,
}

/// The longest wait for an export to finish.
const EXPORT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// Asks Voucherify for an export of every code in the project (`POST /v1/exports`, fields
/// `code`) and follows it (`GET /v1/exports/{id}`) until it is `DONE`; its file's address
/// must be on the download host of the API's region.
fn request_export(client: &Client, api: &ApiSettings) -> Result<ReadyExport> {
    let body = serde_json::json!({
        "exported_object": "voucher",
        "parameters": {"fields": ["code"]},
    });
    let mut tries = 0;
    let created = loop {
        tries += 1;
        let why = match client.post_json_once("/v1/exports", &body)? {
            Exchange::Answer(answer) if (200..300).contains(&answer.status) => break answer,
            Exchange::Answer(answer) if answer.status == 429 || answer.status >= 500 => {
                format!("{} {}", answer.status, answer.short_text())
            }
            Exchange::Answer(answer) => {
                return Err(client.refusal("POST /v1/exports", &answer));
            }
            // A repeat at worst leaves a second export object, which nothing reads.
            Exchange::NotSent(why) | Exchange::Lost(why) => why,
        };
        if tries > api.max_retries {
            return Err(Error::Upload(format!(
                "POST /v1/exports: no export after {tries} tries (last: {why}); check the network and the API host"
            )));
        }
        let wait = client.retry_wait(tries, None)?;
        sleep_unless_interrupted(client.cancel(), wait)?;
    };
    let id = created
        .json
        .as_ref()
        .and_then(|e| e.get("id"))
        .and_then(|id| id.as_str())
        .map(str::to_owned)
        .ok_or_else(|| {
            Error::Upload(format!(
                "POST /v1/exports: the answer names no export id: {}",
                created.short_text()
            ))
        })?;
    let path = format!("/v1/exports/{}", encode_segment(&id));
    let started = std::time::Instant::now();
    let mut wait = std::time::Duration::from_millis(200);
    loop {
        let export = client.get(&path)?;
        let json = export.json.clone().unwrap_or_default();
        match json.get("status").and_then(|s| s.as_str()) {
            Some("DONE") => {
                let url = json
                    .get("result")
                    .and_then(|r| r.get("url"))
                    .and_then(|u| u.as_str())
                    .ok_or_else(|| {
                        Error::Upload(format!(
                            "GET {path}: the export is DONE but names no file (result.url)"
                        ))
                    })?;
                check_download_url(&api.base_url, url)?;
                return Ok(ReadyExport {
                    id,
                    url: Secret::from(url),
                });
            }
            Some("ERROR") => {
                return Err(Error::Upload(format!(
                    "GET {path}: Voucherify could not make the export of the project's codes (status ERROR): {}",
                    export.short_text()
                )))
            }
            _ if started.elapsed() > EXPORT_TIMEOUT => {
                return Err(Error::Upload(format!(
                    "GET {path}: the export of the project's codes did not finish within {} minutes",
                    EXPORT_TIMEOUT.as_secs() / 60
                )))
            }
            _ => {
                sleep_unless_interrupted(client.cancel(), wait)?;
                wait = (wait * 3 / 2).min(std::time::Duration::from_secs(5));
            }
        }
    }
}

/// Whether an export's file may be downloaded with the credentials: its address must be on the
/// documented download host of the API host's region (`api.voucherify.io` ->
/// `download.voucherify.io`, `us1.api...` -> `us1.download...`), over https; for a test
/// server on this machine, on the same loopback host over http. Any other address is refused,
/// naming its host, before anything is sent to it.
pub(crate) fn check_download_url(api_url: &str, url: &str) -> Result<()> {
    let api: ureq::http::Uri = api_url.parse().map_err(|e| {
        Error::usage(
            format!("--api-url '{api_url}' is not a URL: {e}"),
            "give --api-url as https://HOST",
        )
    })?;
    let refuse = |why: String| {
        Error::Upload(format!(
            "the export's file is at {why}: the credentials go only to the download host of the API's region, so nothing was sent to it"
        ))
    };
    let Ok(file) = url.parse::<ureq::http::Uri>() else {
        return Err(refuse("an address that is not a URL".into()));
    };
    let (Some(api_host), Some(file_host)) = (api.host(), file.host()) else {
        return Err(refuse("an address without a host".into()));
    };
    let api_host = api_host.to_ascii_lowercase();
    let file_host = file_host.to_ascii_lowercase();
    if crate::upload::transport::is_loopback(&api_host) {
        if file_host == api_host && matches!(file.scheme_str(), Some("http" | "https")) {
            return Ok(());
        }
        return Err(refuse(format!(
            "host '{file_host}', not this machine's '{api_host}'"
        )));
    }
    let expected = match api_host.strip_suffix("api.voucherify.io") {
        Some(region) => format!("{region}download.voucherify.io"),
        None => {
            return Err(refuse(format!(
                "host '{file_host}', and the API host '{api_host}' has no documented download host"
            )))
        }
    };
    if file_host != expected {
        return Err(refuse(format!("host '{file_host}', not '{expected}'")));
    }
    if file.scheme_str() != Some("https") {
        return Err(refuse(format!("'{file_host}' over plain http")));
    }
    Ok(())
}

impl ProjectExport {
    /// Asks for the export, follows it until done, streams its file to `read_codes` (given the
    /// export's id, for messages; it gives the codes it found) hashing it as it goes, then
    /// deletes the export object (`DELETE /v1/exports/{id}`; a failure there is a note, not an
    /// error).
    pub(crate) fn read(
        &self,
        cancel: &Cancel,
        mut keep_in: Option<&mut dyn std::io::Write>,
        read_codes: impl FnOnce(&str, &mut dyn std::io::Read) -> Result<u64>,
    ) -> Result<(ExportRead, Option<String>)> {
        let client = Client::new(
            self.api.clone(),
            self.api.redactor(),
            cancel.clone(),
            Meter::new(None),
            1,
        );
        let ready = request_export(&client, &self.api)?;
        let mut hasher = Sha256::new();
        let mut bytes = 0u64;
        let codes = client.download(ready.url.expose(), |body| {
            let mut hashing = HashingRead {
                inner: body,
                hasher: &mut hasher,
                bytes: &mut bytes,
                copy: keep_in.as_deref_mut(),
            };
            read_codes(&ready.id, &mut hashing)
        })?;
        if let Some(kept) = keep_in {
            kept.flush().map_err(|e| {
                Error::Upload(format!("keeping the export's codes (--keep-existing): {e}"))
            })?;
        }
        let path = format!("/v1/exports/{}", encode_segment(&ready.id));
        let failed = match client.delete_once(&path)? {
            Exchange::Answer(answer) if (200..300).contains(&answer.status) => None,
            Exchange::Answer(answer) => Some(format!("{} {}", answer.status, answer.short_text())),
            Exchange::NotSent(why) | Exchange::Lost(why) => Some(why),
        };
        let note = failed.map(|why| {
            format!(
                "the export {} of the project's codes could not be deleted ({why}): it stays in the project's exports",
                ready.id
            )
        });
        Ok((
            ExportRead {
                export_id: ready.id.clone(),
                downloaded_at: now_utc(),
                codes,
                bytes,
                sha256: crate::read::hex(&hasher.finalize()),
            },
            note,
        ))
    }
}

/// A reader that hashes and counts what passes through it.
struct HashingRead<'r, 'h, 'c, 'w> {
    inner: &'r mut dyn std::io::Read,
    hasher: &'h mut Sha256,
    bytes: &'h mut u64,
    /// Where the bytes are kept too.
    copy: Option<&'c mut (dyn std::io::Write + 'w)>,
}

impl std::io::Read for HashingRead<'_, '_, '_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        *self.bytes += n as u64;
        if let Some(copy) = &mut self.copy {
            copy.write_all(&buf[..n])?;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::check_download_url;

    #[test]
    fn an_exports_file_is_downloaded_only_from_its_regions_download_host() {
        let ok = |api: &str, url: &str| check_download_url(api, url).is_ok();
        assert!(ok(
            "https://api.voucherify.io",
            "https://download.voucherify.io/v1/exports/exp_1?token=t"
        ));
        assert!(ok(
            "https://us1.api.voucherify.io",
            "https://us1.download.voucherify.io/v1/exports/e"
        ));
        assert!(ok(
            "https://as1.api.voucherify.io",
            "https://as1.download.voucherify.io/v1/exports/e"
        ));
        // Another region's host, plain http, another host, a look-alike.
        assert!(!ok(
            "https://api.voucherify.io",
            "https://us1.download.voucherify.io/x"
        ));
        assert!(!ok(
            "https://us1.api.voucherify.io",
            "https://download.voucherify.io/x"
        ));
        assert!(!ok(
            "https://api.voucherify.io",
            "http://download.voucherify.io/x"
        ));
        assert!(!ok("https://api.voucherify.io", "https://evil.example/x"));
        assert!(!ok(
            "https://api.voucherify.io",
            "https://download.voucherify.io.evil.example/x"
        ));
        assert!(!ok("https://api.voucherify.io", "not a url"));
        // A proxy in front of the API has no documented download host.
        assert!(!ok(
            "https://voucherify.example.com",
            "https://download.voucherify.io/x"
        ));
        // A test server on this machine: the same loopback host, any port.
        assert!(ok(
            "http://127.0.0.1:8080",
            "http://127.0.0.1:9090/v1/exports/e?token=t"
        ));
        assert!(!ok("http://127.0.0.1:8080", "http://localhost:9090/x"));
        assert!(!ok(
            "http://127.0.0.1:8080",
            "https://download.voucherify.io/x"
        ));
        let err = check_download_url(
            "https://api.voucherify.io",
            "https://evil.example/x?token=secret",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("evil.example") && !err.contains("secret"),
            "{err}"
        );
    }
}

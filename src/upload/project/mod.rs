//! Reading the user's Voucherify project instead of files assembled by hand: the campaign (by
//! its id or its name, `GET /v1/campaigns/{campaignId}`) and the voucher metadata schema
//! (`GET /v1/metadata-schemas`, the one whose `related_object` is `voucher`). What was read is
//! kept as Voucherify answered it (every server text redacted, as everywhere in `upload`), so
//! that a prepared folder holds a snapshot (`project/`) from which a run can be repeated
//! offline.
//!
//! The same connection rules as `upload`: https only (plain http for this machine alone, or
//! with `allow_insecure_http`), no redirects, reads retried on connection failures, timeouts,
//! 429 and 5xx.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

mod export;

use super::budget::Meter;
use super::client::{check_api_url, encode_segment, ApiSettings, ApiTransport, Client, Secret};
use super::redact::Redactor;
use crate::error::{Error, Result};
use crate::folder::project::{
    ProjectRead, ProjectSettings, CAMPAIGN_FILE, EXISTING_CODES_FILE, READ_FILE, SCHEMAS_FILE,
};
use crate::interrupt::Cancel;
pub(crate) use export::ProjectExport;

/// Where to read the project from: the campaign to import into and the connection.
#[derive(Debug, Clone)]
pub struct ProjectSource {
    /// The campaign's id (`camp_...`) or its name.
    pub campaign: String,
    /// Read the codes already in the project, through an export (on by default).
    pub existing_codes: bool,
    /// Keep the export's codes in the snapshot (`project/existing-codes.csv`), so that a run
    /// from it checks them offline.
    pub keep_existing: bool,
    /// The API host and the credentials (`VOUCHERIFY_APP_ID`, `VOUCHERIFY_APP_TOKEN`).
    pub api: ApiSettings,
    /// Take a plain http:// API URL to another machine.
    pub allow_insecure_http: bool,
    /// Management API keys and the project's id, to read the project's time zone and whether
    /// its codes are case-sensitive (`GET /management/v1/projects/{projectId}`).
    pub management: Option<ManagementKeys>,
}

/// The Management API keys (`VOUCHERIFY_MANAGEMENT_APP_ID`, `..._TOKEN`) and the project.
#[derive(Debug, Clone)]
pub struct ManagementKeys {
    /// The `X-Management-Id` credential.
    pub id: Secret,
    /// The `X-Management-Token` credential.
    pub token: Secret,
    /// The project's id (`proj_...`).
    pub project: String,
}

impl ProjectSource {
    /// The campaign `campaign` (id or name) of the project `api`'s credentials open.
    pub fn new(campaign: impl Into<String>, api: ApiSettings) -> Self {
        ProjectSource {
            campaign: campaign.into(),
            existing_codes: true,
            keep_existing: false,
            api,
            allow_insecure_http: false,
            management: None,
        }
    }
}

/// What was read from the project: the answers as text, and where and when.
#[derive(Debug, Clone)]
pub struct ProjectSnapshot {
    /// The campaign object.
    pub campaign_json: String,
    /// The metadata schemas (the list `GET /v1/metadata-schemas` answers).
    pub schemas_json: String,
    /// Where and when.
    pub read: ProjectRead,
    /// The export of the codes already in the project that the run makes (a connected run
    /// that reads them).
    pub(crate) export: Option<ProjectExport>,
    /// The export's codes a snapshot kept (`--keep-existing`), checked against its sha256.
    pub(crate) kept_codes: Option<PathBuf>,
}

impl ProjectSnapshot {
    /// Reads the campaign and the metadata schemas from Voucherify. Two API calls.
    pub fn read(source: &ProjectSource, cancel: &Cancel) -> Result<Self> {
        let api = &source.api;
        if api.app_id.is_empty() || api.app_token.is_empty() {
            return Err(Error::usage(
                "VOUCHERIFY_APP_ID and VOUCHERIFY_APP_TOKEN must both be set to read the campaign from the project",
                "export the project's application keys, or give the campaign as a file (--campaign campaign.json) or a type (--campaign-type)",
            ));
        }
        api.check_credentials_carry()?;
        if check_api_url(&api.base_url, source.allow_insecure_http)? == ApiTransport::Insecure {
            log::warn!(
                "--allow-insecure-http: {} is plain http, so the app token crosses the network unencrypted",
                api.base_url
            );
        }
        let client = Client::new(
            api.clone(),
            api.redactor(),
            cancel.clone(),
            Meter::new(None),
            1,
        );
        let campaign_path = format!("/v1/campaigns/{}", encode_segment(&source.campaign));
        let campaign = client.get_or_missing(&campaign_path)?.ok_or_else(|| {
            Error::usage(
                format!(
                    "the project has no campaign '{}' (GET {campaign_path} answered 404)",
                    source.campaign
                ),
                "give the campaign's id (camp_...) or its exact name, and check that the keys are the project's",
            )
        })?;
        let schemas = client.get("/v1/metadata-schemas")?;
        // The answers as the redacted JSON they parse to (the answer's text is only the
        // beginning kept for messages).
        let as_text = |what: &str, answer: &super::client::Answer| {
            let json = answer.json.as_ref().ok_or_else(|| {
                Error::Upload(format!(
                    "{what}: the answer is not JSON: {}",
                    answer.short_text()
                ))
            })?;
            let mut text = serde_json::to_string_pretty(json)
                .map_err(|e| Error::Invariant(format!("{what} as JSON: {e}")))?;
            text.push('\n');
            Ok::<String, Error>(text)
        };
        let campaign_json = as_text(&format!("GET {campaign_path}"), &campaign)?;
        let schemas_json = as_text("GET /v1/metadata-schemas", &schemas)?;
        let campaign_id = campaign
            .json
            .as_ref()
            .and_then(|c| c.get("id"))
            .and_then(|id| id.as_str())
            .map(str::to_owned);
        let settings = match &source.management {
            Some(keys) => Some(read_settings(source, keys, cancel)?),
            None => None,
        };
        let export = match source.existing_codes {
            true => Some(ProjectExport {
                api: api.clone(),
                keep: source.keep_existing,
            }),
            false => None,
        };
        Ok(ProjectSnapshot {
            export,
            kept_codes: None,
            read: ProjectRead {
                api_url: api.base_url.clone(),
                campaign: source.campaign.clone(),
                campaign_id,
                read_at: now_utc(),
                campaign_sha256: sha256_hex(campaign_json.as_bytes()),
                metadata_schemas_sha256: sha256_hex(schemas_json.as_bytes()),
                existing: None,
                settings,
                offline: false,
            },
            campaign_json,
            schemas_json,
        })
    }

    /// Reads a snapshot a prepared folder keeps (`DIR/project/`, or that folder itself): the
    /// files must be the ones `read.json` hashed.
    pub fn from_folder(dir: &Path) -> Result<Self> {
        let dir: PathBuf = match dir.join(crate::folder::PROJECT_DIR).is_dir() {
            true => dir.join(crate::folder::PROJECT_DIR),
            false => dir.to_owned(),
        };
        let text =
            |name: &str| crate::text_file::read_bounded_text(&dir.join(name), name, 64 << 20);
        let read_path = dir.join(READ_FILE);
        let mut read: ProjectRead = serde_json::from_str(&text(READ_FILE)?).map_err(|e| {
            Error::input(
                &read_path,
                format!("not the read.json of a project snapshot: {e}"),
                "give --project-snapshot the folder prepare wrote (it holds project/)",
            )
        })?;
        let campaign_json = text(CAMPAIGN_FILE)?;
        let schemas_json = text(SCHEMAS_FILE)?;
        for (name, body, recorded) in [
            (CAMPAIGN_FILE, &campaign_json, &read.campaign_sha256),
            (SCHEMAS_FILE, &schemas_json, &read.metadata_schemas_sha256),
        ] {
            if sha256_hex(body.as_bytes()) != *recorded {
                return Err(Error::input(
                    dir.join(name),
                    format!("{name} is not the file the snapshot read (its sha256 differs from read.json's)"),
                    "use the snapshot as prepare wrote it, or read the project again (--project-campaign)",
                ));
            }
        }
        let kept = dir.join(EXISTING_CODES_FILE);
        let kept_codes = match (&read.existing, kept.is_file()) {
            (Some(export), true) => {
                let bytes = std::fs::read(&kept).map_err(|e| Error::io(&kept, e))?;
                if sha256_hex(&bytes) != export.sha256 {
                    return Err(Error::input(
                        &kept,
                        format!("{EXISTING_CODES_FILE} is not the file the export gave (its sha256 differs from read.json's)"),
                        "use the snapshot as prepare wrote it, or read the project again (--project-campaign)",
                    ));
                }
                Some(kept)
            }
            _ => None,
        };
        read.offline = true;
        Ok(ProjectSnapshot {
            export: None,
            kept_codes,
            campaign_json,
            schemas_json,
            read,
        })
    }

    /// Writes the snapshot into `dir` (`campaign.json`, `metadata-schemas.json`, and `read`
    /// as `read.json`: the run's record, with the export it downloaded).
    pub fn write(&self, dir: &Path, read: &ProjectRead) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let read = ProjectRead {
            offline: false,
            ..read.clone()
        };
        let mut read_json = serde_json::to_string_pretty(&read)
            .map_err(|e| Error::Invariant(format!("read.json: {e}")))?;
        read_json.push('\n');
        for (name, body) in [
            (CAMPAIGN_FILE, self.campaign_json.as_str()),
            (SCHEMAS_FILE, self.schemas_json.as_str()),
            (READ_FILE, read_json.as_str()),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, body).map_err(|e| Error::io(&path, e))?;
        }
        Ok(())
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    crate::read::hex(&Sha256::digest(bytes))
}

/// Now, in UTC, to the second (RFC 3339).
fn now_utc() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// The project's time zone and code case sensitivity, through the Management API.
fn read_settings(
    source: &ProjectSource,
    keys: &ManagementKeys,
    cancel: &Cancel,
) -> Result<ProjectSettings> {
    if keys.id.is_empty() || keys.token.is_empty() {
        return Err(Error::usage(
            "VOUCHERIFY_MANAGEMENT_APP_ID and VOUCHERIFY_MANAGEMENT_APP_TOKEN must both be set to read the project's settings (--project-id)",
            "export the Management API keys, or leave out --project-id (then --dates-in and --case-insensitive-codes say what the project's settings would)",
        ));
    }
    let api = ApiSettings {
        app_id: keys.id.clone(),
        app_token: keys.token.clone(),
        ..source.api.clone()
    };
    let redactor = Redactor::new(&[
        keys.id.expose(),
        keys.token.expose(),
        source.api.app_id.expose(),
        source.api.app_token.expose(),
    ]);
    let client = Client::new(api, redactor, cancel.clone(), Meter::new(None), 1);
    let path = format!("/management/v1/projects/{}", encode_segment(&keys.project));
    let project = client.get_or_missing(&path)?.ok_or_else(|| {
        Error::usage(
            format!(
                "the Management API has no project '{}' (GET {path} answered 404)",
                keys.project
            ),
            "give --project-id the project's id (proj_...), as Project settings shows it",
        )
    })?;
    let json = project.json.unwrap_or_default();
    Ok(ProjectSettings {
        project_id: keys.project.clone(),
        timezone: json
            .get("timezone")
            .and_then(|t| t.as_str())
            .map(str::to_owned),
        case_sensitive_codes: json.get("case_sensitive_codes").and_then(|c| c.as_bool()),
    })
}

//! `project/`: the snapshot of the user's Voucherify project a connected run read (the
//! campaign object, the metadata schemas, and where and when: `read.json`), from which a run
//! can be repeated offline (`prepare --project-snapshot DIR`).

use serde::{Deserialize, Serialize};

/// The snapshot's campaign object, as `GET /v1/campaigns/{id}` answered.
pub const CAMPAIGN_FILE: &str = "campaign.json";
/// The snapshot's metadata schemas, as `GET /v1/metadata-schemas` answered.
pub const SCHEMAS_FILE: &str = "metadata-schemas.json";
/// What the snapshot is: where and when it was read ([`ProjectRead`]).
pub const READ_FILE: &str = "read.json";

/// The codes of the export, as downloaded (only with `--keep-existing`).
pub const EXISTING_CODES_FILE: &str = "existing-codes.csv";

/// Every file a snapshot holds.
pub const FILES: [&str; 4] = [CAMPAIGN_FILE, SCHEMAS_FILE, READ_FILE, EXISTING_CODES_FILE];

/// Where and when a snapshot was read, as `project/read.json` and `summary.json` record it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProjectRead {
    /// The API host it was read from.
    pub api_url: String,
    /// The campaign as it was asked for (an id or a name).
    pub campaign: String,
    /// The campaign's id, as Voucherify answered.
    #[serde(default)]
    pub campaign_id: Option<String>,
    /// When it was read, in UTC (RFC 3339).
    pub read_at: String,
    /// The sha256 of `project/campaign.json`.
    pub campaign_sha256: String,
    /// The sha256 of `project/metadata-schemas.json`.
    pub metadata_schemas_sha256: String,
    /// The codes already in the project, as the export downloaded them (a connected run that
    /// read them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing: Option<ExportRead>,
    /// The project's settings, read with Management API keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<ProjectSettings>,
    /// The run read the snapshot from a folder (`--project-snapshot`), not from Voucherify.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub offline: bool,
}

/// The export of the project's codes a connected run downloaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExportRead {
    /// The export object's id (`exp_...`), deleted after the download.
    pub export_id: String,
    /// When the file was downloaded, in UTC (RFC 3339).
    pub downloaded_at: String,
    /// Codes it held.
    pub codes: u64,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its sha256.
    pub sha256: String,
}

/// What the Management API says of the project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProjectSettings {
    /// The project's id.
    pub project_id: String,
    /// The project's time zone, "used for dates and expiration rules".
    pub timezone: Option<String>,
    /// Whether the project tells codes apart by letter case.
    pub case_sensitive_codes: Option<bool>,
}

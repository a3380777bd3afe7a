//! `voucher-import upload`: push a prepared folder's batches to Voucherify and bring its
//! verdicts back to the input rows (see [`crate::upload`]).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::error::Result;
use crate::upload::{self, ApiSettings, UploadOptions, UploadOutcome, UploadProgress};

/// Voucherify's regional API hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Cluster {
    /// Europe: https://api.voucherify.io
    Eu1,
    /// United States: https://us1.api.voucherify.io
    Us1,
    /// Asia: https://as1.api.voucherify.io
    As1,
}

impl Cluster {
    pub fn base_url(self) -> &'static str {
        match self {
            Cluster::Eu1 => "https://api.voucherify.io",
            Cluster::Us1 => "https://us1.api.voucherify.io",
            Cluster::As1 => "https://as1.api.voucherify.io",
        }
    }
}

/// Upload a prepared folder's batches to a Voucherify campaign and map failed rows back.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Credentials come from the environment: VOUCHERIFY_APP_ID and VOUCHERIFY_APP_TOKEN.

Examples:
  voucher-import upload out --campaign camp_f7fBbQxUuTN7dI7tGOo5XMDA
  voucher-import upload out --campaign \"Gift cards 2026\" --cluster us1 --dry-run

Writes DIR/upload.json after every step (running upload again resumes: no batch is posted
twice) and DIR/upload-failed.csv with the rows Voucherify did not import, by input file and row.
Exit codes: 0 every code imported, 1 some rows or batches failed at Voucherify, 2 error."
)]
pub struct UploadArgs {
    /// The folder `voucher-import prepare --out DIR` wrote.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,

    /// The campaign to import into: its id (camp_...) or its name.
    #[arg(long, value_name = "ID_OR_NAME", help_heading = "Campaign")]
    pub campaign: String,

    /// The API host.
    #[arg(
        long,
        value_name = "URL",
        default_value = "https://api.voucherify.io",
        conflicts_with = "cluster",
        help_heading = "Connection"
    )]
    pub api_url: String,

    /// The project's region, instead of --api-url.
    #[arg(long, value_enum, value_name = "CLUSTER", help_heading = "Connection")]
    pub cluster: Option<Cluster>,

    /// Check the folder and say what would be uploaded; send nothing.
    #[arg(long, help_heading = "Upload")]
    pub dry_run: bool,

    /// Batches in flight at once (Voucherify queues bulk jobs per project).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=16), help_heading = "Upload")]
    pub parallel: u16,

    /// The first wait between two polls of an import job, in milliseconds; it grows by half up
    /// to --poll-max-ms.
    #[arg(
        long,
        value_name = "MS",
        default_value_t = 1000,
        help_heading = "Upload"
    )]
    pub poll_ms: u64,

    /// The longest wait between two polls, in milliseconds.
    #[arg(
        long,
        value_name = "MS",
        default_value_t = 30_000,
        help_heading = "Upload"
    )]
    pub poll_max_ms: u64,

    /// Retries of a request that failed with a 5xx answer or a connection error.
    #[arg(long, value_name = "N", default_value_t = 6, help_heading = "Upload")]
    pub retries: u32,

    /// The first retry's wait in milliseconds; it doubles each time.
    #[arg(
        long,
        value_name = "MS",
        default_value_t = 1000,
        help_heading = "Upload"
    )]
    pub retry_ms: u64,

    /// The longest Retry-After (seconds) of a 429 answer to wait for.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 600,
        help_heading = "Upload"
    )]
    pub max_retry_after: u64,

    /// Post again a batch a stopped run posted without recording Voucherify's answer (check
    /// the campaign's import jobs first: it may be queued already).
    #[arg(long, help_heading = "Upload")]
    pub repost_unconfirmed: bool,

    /// Print the outcome as JSON on stdout.
    #[arg(long, help_heading = "Output")]
    pub json: bool,
}

impl UploadArgs {
    /// The options, with the credentials from the environment.
    pub fn into_options(self) -> UploadOptions {
        let base_url = match self.cluster {
            Some(cluster) => cluster.base_url().to_owned(),
            None => self.api_url,
        };
        UploadOptions {
            dir: self.dir,
            campaign: self.campaign,
            api: ApiSettings {
                base_url,
                app_id: std::env::var("VOUCHERIFY_APP_ID").unwrap_or_default(),
                app_token: std::env::var("VOUCHERIFY_APP_TOKEN").unwrap_or_default(),
                max_retries: self.retries,
                retry_base: Duration::from_millis(self.retry_ms),
                max_retry_after: Duration::from_secs(self.max_retry_after),
            },
            dry_run: self.dry_run,
            parallel: usize::from(self.parallel),
            poll_first: Duration::from_millis(self.poll_ms),
            poll_max: Duration::from_millis(self.poll_max_ms.max(self.poll_ms)),
            repost_unconfirmed: self.repost_unconfirmed,
        }
    }
}

/// Runs `upload`.
pub fn run(args: UploadArgs, progress: &dyn UploadProgress) -> Result<UploadOutcome> {
    upload::run(&args.into_options(), progress)
}

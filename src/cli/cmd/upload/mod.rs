//! `voucher-import upload`: push a prepared folder's batches to Voucherify and bring its
//! verdicts back to the input rows (see [`crate::upload`]); the summary it prints is
//! by the printer (`printer::upload`).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::connection::{credential, ConnectionArgs};

use crate::upload::{
    self, ApiSettings, CanaryMode, OnMismatch, UploadOptions, UploadOutcome, UploadProgress,
    VerifyCount,
};
use crate::Result;

/// What a read-back mismatch does to the batches after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnMismatchArg {
    /// No further batch is posted.
    Stop,
    /// The other batches are posted all the same.
    Continue,
}

/// Upload a prepared folder's batches to a Voucherify campaign and map failed rows back.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Credentials come from the environment: VOUCHERIFY_APP_ID and VOUCHERIFY_APP_TOKEN.

Examples:
  voucher-import upload out --campaign camp_f7fBbQxUuTN7dI7tGOo5XMDA
  voucher-import upload out --campaign \"Gift cards 2026\" --cluster us1 --dry-run
  voucher-import upload out --campaign camp_f7fB --adopt part-00003.csv=aa_0a1b2c3d

Writes DIR/upload.json after every step (running upload again resumes: no batch is posted
twice) and DIR/upload-failed.csv with the rows Voucherify did not import, by input file and row.
A POST is repeated only when it provably never reached Voucherify (no connection, or a 429);
a batch whose POST may have arrived unanswered is left 'unconfirmed' with the import jobs that
may be its own: settle it with --adopt BATCH=ACTION_ID, or check the campaign and pass
--repost-unconfirmed.
Stop on evidence: when prepare made batch 1 a canary (it does whenever amounts, dates or
metadata go in), it is posted alone and read back whole first; every later batch's read-back
gates the next POST. A mismatch stops the posting until the folder is prepared again or
--accept-mismatches is given. The calls a run will make are printed before the first one.
Exit codes: 0 every code imported, 1 anything less (rows or batches failed, unconfirmed,
refused or timed out, a mismatch, a stop), 2 error, 130 interrupted."
)]
pub struct UploadArgs {
    /// The folder `voucher-import prepare --out DIR` wrote.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,

    /// The campaign to import into: its id (camp_...) or its name.
    #[arg(long, value_name = "ID_OR_NAME", help_heading = "Campaign")]
    pub campaign: String,

    #[command(flatten)]
    pub connection: ConnectionArgs,

    #[command(flatten)]
    pub run: UploadRunArgs,

    /// Print the outcome as JSON on stdout.
    #[arg(long, help_heading = "Output")]
    pub json: bool,
}

/// How an upload goes: what `upload` and `import` share beside the folder, the campaign and
/// the connection.
#[derive(Debug, Clone, Args)]
pub struct UploadRunArgs {
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

    /// How long to poll one import job before leaving it timed_out (the next run polls it
    /// on): 90s, 30m, 2h, a bare number is seconds.
    #[arg(long, value_name = "DURATION", default_value = "2h", value_parser = parse_duration, help_heading = "Upload")]
    pub job_timeout: Duration,

    /// Repeats of one request: a POST only when it provably never reached Voucherify (no
    /// connection) or got a 429; a read also after a timeout or a 5xx answer.
    #[arg(long, value_name = "N", default_value_t = 6, help_heading = "Upload")]
    pub retries: u32,

    /// The first retry's wait in milliseconds; it doubles each time (also the least wait
    /// after a 429).
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

    /// Take import job ACTION_ID as the unconfirmed batch's (BATCH: its file name, e.g.
    /// part-00003.csv, or its number): it is polled, not posted again. Repeatable.
    #[arg(long, value_name = "BATCH=ACTION_ID", value_parser = parse_adoption, help_heading = "Unconfirmed batches")]
    pub adopt: Vec<(String, String)>,

    /// Post again the batches whose POST may have reached Voucherify without an answer
    /// (check the campaign's import jobs first: they may be queued already).
    #[arg(long, help_heading = "Unconfirmed batches")]
    pub repost_unconfirmed: bool,

    /// Codes of each imported batch to read back with GET /v1/vouchers/{code} and compare
    /// with what the batch sent: a number (spread over the batch, first and last row always),
    /// 0 for none, or all.
    #[arg(long, value_name = "N|all", default_value = "20", value_parser = parse_verify, help_heading = "Checking what Voucherify stored")]
    pub verify: VerifyCount,

    /// Post batch 1 alone first, read back every code of it, and post the rest only when it
    /// went in whole and as sent, even when prepare did not make batch 1 a canary (by default
    /// this happens whenever it did: prepare --canary-rows).
    #[arg(
        long,
        conflicts_with_all = ["verify_only", "no_canary"],
        help_heading = "Checking what Voucherify stored"
    )]
    pub canary: bool,

    /// Do not try batch 1 alone first (a warning says so on every run).
    #[arg(long, help_heading = "Checking what Voucherify stored")]
    pub no_canary: bool,

    /// What a batch whose read-back shows values stored otherwise than sent does to the
    /// batches after it: stop (no further batch is posted; exit 1 naming the pattern and the
    /// fix) or continue.
    #[arg(long, value_enum, value_name = "WHAT", default_value_t = OnMismatchArg::Stop, help_heading = "Checking what Voucherify stored")]
    pub on_mismatch: OnMismatchArg,

    /// Post on after a run that stopped on a mismatch, taking the mismatches found as they are
    /// (recorded in upload.json with the time; the same mismatch in a later batch does not
    /// stop again).
    #[arg(long, help_heading = "Checking what Voucherify stored")]
    pub accept_mismatches: bool,

    /// The most read-back GETs one run may plan (one per code read back); --verify all over
    /// 1000 codes needs it given. Voucherify blocks a project that exceeds its plan's calls.
    #[arg(long, value_name = "N", help_heading = "API budget")]
    pub api_budget: Option<u64>,

    /// Calls to leave the project: when Voucherify's X-Rate-Limit-Remaining falls under it,
    /// the read-back stops and no new batch is posted (jobs running are followed to the end).
    /// Default: 20% of the limit seen, at least 50.
    #[arg(long, value_name = "N", help_heading = "API budget")]
    pub api_reserve: Option<u64>,

    /// Post nothing: read back the batches already imported (DONE) again.
    #[arg(long, help_heading = "Checking what Voucherify stored")]
    pub verify_only: bool,

    /// For a folder prepared with --project-campaign whose campaign holds more codes now than
    /// when it was read: export the project's codes again and check the batches' codes
    /// against them before anything is posted (without it, such an upload stops).
    #[arg(long, help_heading = "Upload")]
    pub refresh_existing: bool,
}

/// `20`, `0` or `all`.
fn parse_verify(text: &str) -> std::result::Result<VerifyCount, String> {
    VerifyCount::parse(text).ok_or_else(|| format!("'{text}' is not a number of codes or 'all'"))
}

/// The longest duration an option takes: a week (a longer wait is no wait but a mistake, and
/// a deadline that far overflows the clock).
const LONGEST_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);

/// `90s`, `30m`, `2h`, `1h30m`, `250ms`, or a bare number of seconds; at most a week.
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let text = text.trim();
    let bad = || format!("'{text}' is not a duration: write 90s, 30m, 2h or a number of seconds");
    let too_long = || format!("'{text}' is longer than a week, the longest this option takes");
    let total = if let Ok(seconds) = text.parse::<u64>() {
        Duration::from_secs(seconds)
    } else {
        let mut total = Duration::ZERO;
        let mut rest = text;
        while !rest.is_empty() {
            let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
            let number: u64 = rest[..digits].parse().map_err(|_| too_long())?;
            rest = &rest[digits..];
            let unit = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let seconds_per = match &rest[..unit] {
                "ms" => None,
                "s" => Some(1),
                "m" => Some(60),
                "h" => Some(3600),
                _ => return Err(bad()),
            };
            let part = match seconds_per {
                None => Duration::from_millis(number),
                Some(per) => Duration::from_secs(number.checked_mul(per).ok_or_else(too_long)?),
            };
            total = total.checked_add(part).ok_or_else(too_long)?;
            rest = &rest[unit..];
        }
        total
    };
    if total.is_zero() {
        return Err(format!("'{text}' is no time at all"));
    }
    if total > LONGEST_DURATION {
        return Err(too_long());
    }
    Ok(total)
}

/// `BATCH=ACTION_ID`.
fn parse_adoption(text: &str) -> std::result::Result<(String, String), String> {
    match text.split_once('=') {
        Some((batch, id)) if !batch.trim().is_empty() && !id.trim().is_empty() => {
            Ok((batch.trim().to_owned(), id.trim().to_owned()))
        }
        _ => Err(format!(
            "'{text}' is not BATCH=ACTION_ID (e.g. part-00003.csv=aa_0a1b2c3d)"
        )),
    }
}

impl UploadArgs {
    /// The options, with the credentials from the environment.
    pub fn into_options(self, cancel: crate::Cancel) -> UploadOptions {
        self.run
            .into_options(self.dir, self.campaign, &self.connection, cancel)
    }
}

impl UploadRunArgs {
    /// The options of an upload of `dir` into `campaign`, with the credentials from the
    /// environment.
    pub fn into_options(
        self,
        dir: PathBuf,
        campaign: String,
        connection: &ConnectionArgs,
        cancel: crate::Cancel,
    ) -> UploadOptions {
        UploadOptions {
            cancel,
            dir,
            campaign,
            api: ApiSettings {
                base_url: connection.base_url(),
                app_id: credential("VOUCHERIFY_APP_ID"),
                app_token: credential("VOUCHERIFY_APP_TOKEN"),
                max_retries: self.retries,
                retry_base: Duration::from_millis(self.retry_ms),
                max_retry_after: Duration::from_secs(self.max_retry_after),
                http_timeout: connection.http_timeout,
            },
            allow_insecure_http: connection.allow_insecure_http,
            dry_run: self.dry_run,
            parallel: usize::from(self.parallel),
            poll_first: Duration::from_millis(self.poll_ms),
            poll_max: Duration::from_millis(self.poll_max_ms.max(self.poll_ms)),
            job_timeout: self.job_timeout,
            repost_unconfirmed: self.repost_unconfirmed,
            adopt: self.adopt,
            verify: if self.verify_only && self.verify == VerifyCount::Off {
                VerifyCount::Sample(20)
            } else {
                self.verify
            },
            canary: match (self.canary, self.no_canary) {
                (true, _) => CanaryMode::On,
                (_, true) => CanaryMode::Off,
                _ => CanaryMode::Auto,
            },
            on_mismatch: match self.on_mismatch {
                OnMismatchArg::Stop => OnMismatch::Stop,
                OnMismatchArg::Continue => OnMismatch::Continue,
            },
            accept_mismatches: self.accept_mismatches,
            api_budget: self.api_budget,
            api_reserve: self.api_reserve,
            verify_only: self.verify_only,
            refresh_existing: self.refresh_existing,
        }
    }
}

/// Runs `upload`.
pub fn run(
    args: UploadArgs,
    cancel: crate::Cancel,
    progress: &dyn UploadProgress,
) -> Result<UploadOutcome> {
    upload::run(&args.into_options(cancel), progress)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_units_and_bare_seconds() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        for bad in ["", "0", "2d", "h", "1.5h", "0s", "-1"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        // Out of range: refused, never a panic later.
        for huge in [
            "18446744073709551615",
            "18446744073709551615h",
            "99999999999999999999s",
            "169h",
            "5124095576030431h5124095576030431h",
        ] {
            let e = parse_duration(huge).unwrap_err();
            assert!(e.contains("longer than a week"), "{huge}: {e}");
        }
        assert_eq!(
            parse_duration("168h").unwrap(),
            Duration::from_secs(604_800)
        );
    }

    #[test]
    fn an_adoption_is_batch_equals_id() {
        assert_eq!(
            parse_adoption("part-00003.csv=aa_1").unwrap(),
            ("part-00003.csv".to_owned(), "aa_1".to_owned())
        );
        assert!(parse_adoption("part-00003.csv").is_err());
        assert!(parse_adoption("=aa_1").is_err());
    }
}

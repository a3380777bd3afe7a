//! The engine as a library: an [`Import`] says into which campaign, which codes the project
//! holds already, which rules and options; it then runs on files or Arrow record batches, with
//! a cancellation handle the caller keeps, handing the judged rows to a sink: a prepared folder
//! (what `prepare` does), a check report (what `check` does), tables in memory, or one's own.
//!
//! ```no_run
//! use voucher_import::{CampaignType, FolderSink, Import, NoProgress};
//!
//! let import = Import::new(CampaignType::GiftVouchers)
//!     .existing_codes(["OLD-0001", "OLD-0002"])
//!     .batch_rows(50_000)
//!     .input("cards.csv");
//! let summary = import.resolve()?.run(&NoProgress, &mut FolderSink::new("out"))?;
//! println!("{} accepted, {} rejected", summary.accepted, summary.rejected);
//! # Ok::<(), voucher_import::Error>(())
//! ```

use std::path::PathBuf;

use crate::campaign::{Campaign, CampaignType};
use crate::config::{DEFAULT_BATCH_ROWS, DEFAULT_CAMPAIGN_LIMIT, DEFAULT_MAX_FILE_BYTES};
use crate::folder::options::{ExistingCodes, GiftAmountReading, ImportOptions};
use crate::formats::AmountUnit;
use crate::interrupt::Cancel;
use crate::normalize::headers::HeaderOptions;
use crate::read::{Format, ReadOptions};
use crate::rules::metadata::MetadataSchema;
use crate::upload::ProjectSource;

mod run;

pub use run::ResolvedImport;

/// An import into one campaign, built step by step; every setting has the command line's
/// default.
#[derive(Debug, Clone)]
pub struct Import {
    inputs: Vec<PathBuf>,
    campaign: Option<CampaignSource>,
    codes_in_campaign: Option<u64>,
    existing_files: Vec<PathBuf>,
    existing_codes: Vec<String>,
    rule_files: Vec<PathBuf>,
    rule_texts: Vec<String>,
    disabled_rules: Vec<String>,
    metadata_schema: Option<SchemaSource>,
    format: Option<Format>,
    options: ImportOptions,
    headers: HeaderOptions,
    read: ReadOptions,
    from_export: bool,
    threads: usize,
    cancel: Cancel,
    skip_unreadable: bool,
}

/// Where the campaign comes from; read when the run is resolved.
#[derive(Debug, Clone)]
enum CampaignSource {
    Given(Campaign),
    File(PathBuf),
    Json(String),
    /// Read from the user's project, with its metadata schema.
    Project(Box<ProjectSource>),
    /// Read from a snapshot of the project a prepared folder keeps.
    Snapshot(PathBuf),
}

/// Where the metadata schema comes from; read when the run is resolved.
#[derive(Debug, Clone)]
enum SchemaSource {
    Given(MetadataSchema),
    File(PathBuf),
    Json(String),
}

impl Default for Import {
    /// An import with every setting at the command line's default and no campaign yet: one of
    /// the campaign setters ([`Import::campaign_type`], [`Import::campaign`],
    /// [`Import::campaign_file`], [`Import::campaign_json`]) must give it before a run.
    fn default() -> Self {
        Import {
            inputs: Vec::new(),
            campaign: None,
            codes_in_campaign: None,
            existing_files: Vec::new(),
            existing_codes: Vec::new(),
            rule_files: Vec::new(),
            rule_texts: Vec::new(),
            disabled_rules: Vec::new(),
            metadata_schema: None,
            format: None,
            options: ImportOptions {
                campaign_limit: DEFAULT_CAMPAIGN_LIMIT,
                codes_in_campaign: 0,
                amount_unit: AmountUnit::Minor,
                amount_unit_given: false,
                case_insensitive_codes: false,
                existing_codes: ExistingCodes::Reject,
                max_file_bytes: DEFAULT_MAX_FILE_BYTES,
                batch_rows: DEFAULT_BATCH_ROWS,
                batch_amount_unit: AmountUnit::Minor,
                canary_rows: None,
                gift_amount: GiftAmountReading::Initial,
                dates_in: None,
                date_order: None,
            },
            headers: HeaderOptions::default(),
            read: ReadOptions {
                defer_utf8_check: true,
                ..ReadOptions::default()
            },
            from_export: false,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cancel: Cancel::new(),
            skip_unreadable: false,
        }
    }
}

impl Import {
    /// An import into a campaign of this type.
    pub fn new(campaign_type: CampaignType) -> Self {
        Import::default().campaign_type(campaign_type)
    }

    /// An import into this campaign (its type, and the codes it holds already).
    pub fn into_campaign(campaign: Campaign) -> Self {
        Import::default().campaign(campaign)
    }

    /// The campaign is one of this type (`--campaign-type`); replaces any campaign given
    /// before.
    pub fn campaign_type(self, campaign_type: CampaignType) -> Self {
        self.campaign(Campaign::of_type(campaign_type))
    }

    /// The campaign (its type, and the codes it holds already); replaces any campaign given
    /// before.
    pub fn campaign(mut self, campaign: Campaign) -> Self {
        self.campaign = Some(CampaignSource::Given(campaign));
        self
    }

    /// The campaign object in a file, as `GET /v1/campaigns/{id}` returns it (`--campaign`),
    /// read when the run starts; replaces any campaign given before.
    pub fn campaign_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.campaign = Some(CampaignSource::File(path.into()));
        self
    }

    /// The campaign object as JSON text, as `GET /v1/campaigns/{id}` returns it, read when
    /// the run starts; replaces any campaign given before.
    pub fn campaign_json(mut self, json: impl Into<String>) -> Self {
        self.campaign = Some(CampaignSource::Json(json.into()));
        self
    }

    /// The campaign read from the user's Voucherify project when the run is resolved (`GET
    /// /v1/campaigns/{id}`, by id or name), with the project's voucher metadata schema (`GET
    /// /v1/metadata-schemas`; a schema given with [`Import::metadata_schema_file`] and the like
    /// wins); a prepared folder keeps what was read (`project/`). Replaces any campaign given
    /// before.
    pub fn project(mut self, source: ProjectSource) -> Self {
        self.campaign = Some(CampaignSource::Project(Box::new(source)));
        self
    }

    /// The campaign and metadata schema from a snapshot a prepared folder keeps (`DIR` or
    /// `DIR/project/`), as [`Import::project`] read them: the run repeated offline. Replaces
    /// any campaign given before.
    pub fn project_snapshot(mut self, dir: impl Into<PathBuf>) -> Self {
        self.campaign = Some(CampaignSource::Snapshot(dir.into()));
        self
    }

    /// The codes the campaign holds already (default: the campaign object's `vouchers_count`,
    /// else 0).
    pub fn codes_in_campaign(mut self, codes: u64) -> Self {
        self.codes_in_campaign = Some(codes);
        self
    }

    /// An input: a file, a folder or a glob (every `.csv`, `.csv.gz`, `.csv.zst`, `.tsv`,
    /// `.parquet` in it, in name order), or `-` for standard input. Inputs together form one
    /// import, in the order given.
    pub fn input(mut self, path: impl Into<PathBuf>) -> Self {
        self.inputs.push(path.into());
        self
    }

    /// Inputs, as [`Import::input`] each.
    pub fn inputs(mut self, paths: impl IntoIterator<Item = impl Into<PathBuf>>) -> Self {
        self.inputs.extend(paths.into_iter().map(Into::into));
        self
    }

    /// A file of codes already in the project (a `code` column, or one column).
    pub fn existing_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.existing_files.push(path.into());
        self
    }

    /// Codes already in the project, as values.
    pub fn existing_codes(mut self, codes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.existing_codes
            .extend(codes.into_iter().map(Into::into));
        self
    }

    /// What a row whose code is in the project becomes (rejected, the default, or an update).
    pub fn existing_codes_become(mut self, mode: ExistingCodes) -> Self {
        self.options.existing_codes = mode;
        self
    }

    /// A rule file to apply besides the built-in rules.
    pub fn rule_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.rule_files.push(path.into());
        self
    }

    /// A rule given as text in the rule format (`-- rule: NAME`, `-- description: ...`, then
    /// the SQL), as a rule file holds it; named `rule text N` in messages.
    ///
    /// ```
    /// use voucher_import::CampaignType;
    /// use voucher_import::Import;
    ///
    /// let import = Import::new(CampaignType::GiftVouchers).rule_text(
    ///     "-- rule: code_prefix\n-- description: Codes start with GC-.\n\
    ///      SELECT 'Code ' || \"Code\" || ' lacks GC-' AS reason FROM vouchers\n\
    ///      WHERE NOT starts_with(\"Code\", 'GC-')\n",
    /// );
    /// # let _ = import;
    /// ```
    pub fn rule_text(mut self, text: impl Into<String>) -> Self {
        self.rule_texts.push(text.into());
        self
    }

    /// Switches a rule off (not the ones that keep broken rows out).
    pub fn disable_rule(mut self, name: impl Into<String>) -> Self {
        self.disabled_rules.push(name.into());
        self
    }

    /// The voucher metadata schema to check metadata columns against.
    pub fn metadata_schema(mut self, schema: MetadataSchema) -> Self {
        self.metadata_schema = Some(SchemaSource::Given(schema));
        self
    }

    /// The metadata schema in a file: the response of `GET /v1/metadata-schemas`, or one
    /// schema object (`--metadata-schema`), read when the run starts.
    pub fn metadata_schema_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.metadata_schema = Some(SchemaSource::File(path.into()));
        self
    }

    /// The metadata schema as JSON text (the response of `GET /v1/metadata-schemas`, or one
    /// schema object), read when the run starts.
    pub fn metadata_schema_json(mut self, json: impl Into<String>) -> Self {
        self.metadata_schema = Some(SchemaSource::Json(json.into()));
        self
    }

    /// The inputs' format (`--format`); by default Parquet for names ending in `.parquet`,
    /// CSV otherwise.
    pub fn format(mut self, format: Format) -> Self {
        self.format = Some(format);
        self
    }

    /// The order of day and month in `Start Date` and `Expiration Date` values written like
    /// `31/12/2026` (day first) or `12/31/2026` (month first): such values are written in the
    /// ISO form (`2026-12-31`) and counted. Without it they are rejected as `invalid_date`;
    /// an order is never guessed.
    pub fn date_order(mut self, order: crate::formats::DateOrder) -> Self {
        self.options.date_order = Some(order);
        self
    }

    /// The unit of `Gift Amount` and `Redeemed Amount` in the input.
    pub fn amount_unit(mut self, unit: AmountUnit) -> Self {
        self.options.amount_unit = unit;
        self.options.amount_unit_given = true;
        self
    }

    /// The unit batches carry amounts in (minor units by default).
    pub fn batch_amount_unit(mut self, unit: AmountUnit) -> Self {
        self.options.batch_amount_unit = unit;
        self
    }

    /// Compare codes ignoring letter case (a project created so).
    pub fn case_insensitive_codes(mut self, yes: bool) -> Self {
        self.options.case_insensitive_codes = yes;
        self
    }

    /// The codes the campaign can hold, counting those already in it (`--campaign-limit`).
    pub fn campaign_limit(mut self, limit: u64) -> Self {
        self.options.campaign_limit = limit;
        self
    }

    /// Most rows per batch.
    pub fn batch_rows(mut self, rows: u64) -> Self {
        self.options.batch_rows = rows.max(1);
        self
    }

    /// Largest batch file in bytes, header included.
    pub fn max_file_bytes(mut self, bytes: u64) -> Self {
        self.options.max_file_bytes = bytes.max(1);
        self
    }

    /// Batch 1 holds only the first `rows` accepted rows: a canary that `upload` posts alone
    /// and reads back whole before the rest. `0` turns it off. By default batch 1 is a canary
    /// of 20 rows whenever the batches carry a column whose reading Voucherify leaves
    /// unconfirmed ([`ImportOptions::canary_for`]).
    pub fn canary_rows(mut self, rows: u64) -> Self {
        self.options.canary_rows = Some(rows);
        self
    }

    /// The time zone dates without one are in (`--dates-in`: an IANA name such as
    /// `Europe/Warsaw`, or an offset such as `+02:00`): they are written in UTC. Checked when
    /// the run starts.
    pub fn dates_in(mut self, zone: impl Into<String>) -> Self {
        self.options.dates_in = Some(zone.into());
        self
    }

    /// How `Gift Amount` is meant: the card's initial amount (the default) or its current
    /// balance (`--gift-amount`).
    pub fn gift_amount(mut self, reading: GiftAmountReading) -> Self {
        self.options.gift_amount = reading;
        self
    }

    /// An entry of an input folder or glob that cannot be read as a file (a dangling link, a
    /// FIFO) is left out with a note, instead of stopping the run (`--skip-unreadable`).
    pub fn skip_unreadable(mut self, yes: bool) -> Self {
        self.skip_unreadable = yes;
        self
    }

    /// Header renames, drops and declared metadata (`--rename`, `--drop`, `--metadata`).
    pub fn headers(mut self, headers: HeaderOptions) -> Self {
        self.headers = headers;
        self
    }

    /// How CSV inputs are split and decoded.
    pub fn read_options(mut self, read: ReadOptions) -> Self {
        self.read = ReadOptions {
            defer_utf8_check: true,
            ..read
        };
        self
    }

    /// Treat every input as a Voucherify voucher export.
    pub fn from_export(mut self, yes: bool) -> Self {
        self.from_export = yes;
        self
    }

    /// Worker threads for the rules (the output does not depend on it).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The handle that stops the run when cancelled (keep a clone of it).
    pub fn cancel(mut self, cancel: Cancel) -> Self {
        self.cancel = cancel;
        self
    }
}

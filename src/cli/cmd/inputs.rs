//! The arguments `prepare` and `check` share: the input files, the campaign and the rules of
//! the import, and how they become an [`Import`].

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::upload::{ApiSettings, ManagementKeys, ProjectSource};
use crate::AmountUnit;
use crate::CampaignType;

use super::connection::{credential, ConnectionArgs};
use crate::HeaderOptions;
use crate::Import;
use crate::{
    ExistingCodes, GiftAmountReading, DEFAULT_BATCH_ROWS, DEFAULT_CAMPAIGN_LIMIT,
    DEFAULT_MAX_FILE_BYTES,
};
use crate::{Format, ReadOptions, SplitOptions, TextEncoding};

/// Known sources of input files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FromSource {
    /// A voucher export of Voucherify (`POST /v1/exports`).
    VoucherifyExport,
}

/// The format of the inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Csv,
    Parquet,
}

/// The order of day and month in dates written like 31/12/2026.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DateOrderArg {
    /// Day first: 31/12/2026.
    Dmy,
    /// Month first: 12/31/2026.
    Mdy,
}

/// How amounts are written in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AmountUnitArg {
    /// Whole minor units (cents), as Voucherify's JSON API: 10000 is 100.00.
    Minor,
    /// Major units with up to two decimals: 100.50.
    Major,
}

/// How Gift Amount is meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GiftAmountArg {
    /// The card's initial amount (gift.amount).
    Initial,
    /// The card's current balance (gift.balance).
    Balance,
}

/// What to import and into which campaign.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// Voucher CSV files (headers in the first line); together they form one import. `-` reads
    /// stdin; a folder or a glob reads every .csv/.csv.gz/.csv.zst/.tsv file in it, in name order.
    /// gzip and zstd are recognized by their bytes.
    #[arg(required = true, value_name = "INPUT.csv", help_heading = "Input")]
    pub inputs: Vec<PathBuf>,

    /// Leave out, with a note, an entry of an input folder or glob that cannot be read as a
    /// file (a dangling link, a FIFO): by default such an entry stops the run (exit 2).
    #[arg(long, help_heading = "Input")]
    pub skip_unreadable: bool,

    /// Where the input comes from: `voucherify-export` converts a Voucherify voucher export
    /// (found by its columns anyway).
    #[arg(long, value_enum, value_name = "SOURCE", help_heading = "Input")]
    pub from: Option<FromSource>,

    /// The input format (default: Parquet for names ending in .parquet, CSV otherwise).
    #[arg(long, value_enum, value_name = "FORMAT", help_heading = "Input")]
    pub format: Option<FormatArg>,

    /// Rename a column before anything else reads it: `--rename voucher_code=Code`. For other
    /// platforms' exports. Repeatable.
    #[arg(long = "rename", value_name = "OLD=NEW", value_parser = parse_rename, help_heading = "Input")]
    pub renames: Vec<(String, String)>,

    /// Leave a column out of the import (by its name before or after --rename); it is not
    /// checked, and still shown in rejected.csv. Repeatable.
    #[arg(long = "drop", value_name = "COLUMN", help_heading = "Input")]
    pub drops: Vec<String>,

    /// Carry a column with its row, never importing it: your key (an order id, a row id) in
    /// the accepted and rejected rows, origins.csv, upload-failed.csv and upload-verify.csv,
    /// so that every verdict joins back to your rows. By name (before or after --rename) or
    /// #N. Repeatable.
    #[arg(long = "keep", value_name = "COLUMN", help_heading = "Input")]
    pub keeps: Vec<String>,

    /// The text encoding of files without a BOM (any WHATWG label: windows-1252, latin1,
    /// iso-8859-2, shift_jis, ...). UTF-8 and UTF-16 with a BOM are recognized by themselves.
    #[arg(long, value_name = "LABEL", value_parser = parse_encoding, help_heading = "Input")]
    pub encoding: Option<TextEncoding>,

    /// The field delimiter: `,` `;` `|` `tab` or any one ASCII character (default: sniffed
    /// from the header line among , ; TAB |).
    #[arg(long, value_name = "CHAR", value_parser = parse_delimiter, help_heading = "Input")]
    pub delimiter: Option<u8>,

    /// The quote character.
    #[arg(long, value_name = "CHAR", default_value = "\"", value_parser = parse_quote, help_heading = "Input")]
    pub quote: u8,

    /// Inside a quoted field, CHAR before the quote gives the quote and before itself gives
    /// itself (e.g. '\\' for \" escapes); anything else after it is kept as written.
    #[arg(long, value_name = "CHAR", value_parser = parse_escape, help_heading = "Input")]
    pub escape: Option<u8>,

    /// Skip N physical lines before the header (a title or a preamble above it); they are
    /// counted in the summary, not as rows.
    #[arg(
        long,
        value_name = "N",
        conflicts_with = "header_line",
        help_heading = "Input"
    )]
    pub skip_lines: Option<u64>,

    /// The header is on line N (the same as --skip-lines N-1).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..), help_heading = "Input")]
    pub header_line: Option<u64>,

    /// A record larger than this (an unclosed quote running on) is rejected as malformed_record
    /// and reading resumes at the line after its start.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20, value_parser = clap::value_parser!(u64).range(64..), help_heading = "Input")]
    pub max_record_bytes: u64,

    /// Import a column as a metadata property although its name looks like a misspelled
    /// import column (e.g. --metadata Categroy). Repeatable.
    #[arg(long = "metadata", value_name = "COLUMN", help_heading = "Input")]
    pub metadata: Vec<String>,

    /// The campaign type: discount, gift, loyalty, referral, promotion (or the API names,
    /// DISCOUNT_COUPONS, GIFT_VOUCHERS, ...).
    #[arg(long, value_name = "TYPE", required_unless_present_any = ["campaign", "project_campaign", "project_snapshot"], conflicts_with = "campaign", value_parser = parse_campaign_type, help_heading = "Campaign")]
    pub campaign_type: Option<CampaignType>,

    /// The campaign object as `GET /v1/campaigns/{id}` returns it (JSON): gives the type and
    /// the codes it already holds.
    #[arg(long, value_name = "campaign.json", help_heading = "Campaign")]
    pub campaign: Option<PathBuf>,

    /// Read the campaign (its id or its name) and the voucher metadata schema from the
    /// Voucherify project the credentials open (VOUCHERIFY_APP_ID, VOUCHERIFY_APP_TOKEN; the
    /// host by --api-url or --cluster), instead of --campaign and --metadata-schema files; the
    /// prepared folder keeps what was read (project/).
    #[arg(long, value_name = "ID_OR_NAME", conflicts_with_all = ["campaign", "campaign_type", "project_snapshot"], help_heading = "Campaign")]
    pub project_campaign: Option<String>,

    /// Run offline from what a connected run read: DIR is the folder it prepared (or its
    /// project/ folder).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["campaign", "campaign_type"], help_heading = "Campaign")]
    pub project_snapshot: Option<PathBuf>,

    /// With --project-campaign: do not read the codes already in the project (an export of
    /// them: a few API calls and a download); --existing files still count.
    #[arg(long, requires = "project_campaign", help_heading = "Campaign")]
    pub no_project_codes: bool,

    /// With --project-campaign: keep the codes of the project's export in the prepared folder
    /// (project/existing-codes.csv), so that a run from its snapshot checks them offline.
    #[arg(
        long,
        requires = "project_campaign",
        conflicts_with = "no_project_codes",
        help_heading = "Campaign"
    )]
    pub keep_existing: bool,

    /// With --project-campaign: the project's id (proj_...), to read its time zone and
    /// whether it tells codes apart by case with Management API keys
    /// (VOUCHERIFY_MANAGEMENT_APP_ID, VOUCHERIFY_MANAGEMENT_APP_TOKEN).
    #[arg(long, value_name = "PROJECT_ID", help_heading = "Campaign")]
    pub project_id: Option<String>,

    #[command(flatten)]
    pub connection: ConnectionArgs,

    /// Codes the campaign can hold, counting those already in it.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CAMPAIGN_LIMIT, help_heading = "Campaign")]
    pub campaign_limit: u64,

    /// Codes already in the campaign (default: vouchers_count from --campaign, else 0).
    #[arg(long, value_name = "N", help_heading = "Campaign")]
    pub codes_in_campaign: Option<u64>,

    /// A rule file to apply besides the built-in rules (same format as sql/*.sql; see
    /// sql/README.md). Repeatable.
    #[arg(long = "rules", value_name = "FILE.sql", help_heading = "Rules")]
    pub rule_files: Vec<PathBuf>,

    /// Switch a rule off, built-in or user (not malformed_record, invalid_encoding,
    /// unreadable_value, repeated_header, record_too_large). Repeatable.
    #[arg(long = "disable-rule", value_name = "NAME", help_heading = "Rules")]
    pub disabled_rules: Vec<String>,

    /// Codes already in the project: a CSV with a `code` column, or a one-column list.
    /// Repeatable.
    #[arg(long, value_name = "CODES.csv", help_heading = "Rules")]
    pub existing: Vec<PathBuf>,

    /// Voucherify's voucher metadata schema (the response of GET /v1/metadata-schemas, or one
    /// schema object): metadata columns are checked against it.
    #[arg(long, value_name = "SCHEMA.json", help_heading = "Rules")]
    pub metadata_schema: Option<PathBuf>,

    /// Compare codes ignoring letter case (for projects with case-insensitive codes).
    #[arg(long, help_heading = "Rules")]
    pub case_insensitive_codes: bool,

    /// The unit of Gift Amount and Redeemed Amount in the input [default: minor; for an
    /// export, decided per file: major if a value has a decimal point].
    #[arg(long, value_enum, value_name = "UNIT", help_heading = "Rules")]
    pub amount_unit: Option<AmountUnitArg>,

    /// What a row whose code is in --existing becomes: rejected (existing_code), or imported
    /// as an update (Voucherify then takes only Active and Category; a warning lists what it
    /// ignores).
    #[arg(long, value_enum, value_name = "MODE", default_value_t = ExistingCodesArg::Reject, help_heading = "Rules")]
    pub existing_codes: ExistingCodesArg,

    /// Largest import file in bytes, header included (Voucherify's limit is 10 MB; the default
    /// leaves room for the multipart envelope, so the whole request stays within 10,000,000).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_FILE_BYTES, value_parser = clap::value_parser!(u64).range(1..), help_heading = "Output")]
    pub max_file_bytes: u64,

    /// Most rows per import file (Voucherify takes at most 100,000 codes per file).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_BATCH_ROWS, value_parser = clap::value_parser!(u64).range(1..), help_heading = "Output")]
    pub batch_rows: u64,

    /// The first batch holds only the first N accepted rows: a canary that `upload` imports
    /// alone and reads back whole before posting the rest. Default: 20 whenever the batches
    /// carry a column whose reading Voucherify leaves unconfirmed (amounts, dates, metadata,
    /// Redeemed Quantity); 0 turns it off.
    #[arg(long, value_name = "N", help_heading = "Output")]
    pub canary_rows: Option<u64>,

    /// The time zone Start Date and Expiration Date values without one are in: an IANA name
    /// (Europe/Warsaw) or an offset (+02:00). They are written in UTC (...Z); without it they
    /// go as given, and Voucherify may read them in the project's time zone. Dates with an
    /// offset are always written in UTC.
    #[arg(long, value_name = "ZONE", help_heading = "Campaign")]
    pub dates_in: Option<String>,

    /// The order of day and month in Start Date and Expiration Date values written with
    /// slashes, dots or dashes (31/12/2026, 12/31/2026, 31.12.2026 23:59): dmy or mdy. Such
    /// values are written in the ISO form Voucherify takes (2026-12-31) and counted; one that
    /// does not fit the order is rejected (invalid_date). Without it they are all rejected:
    /// 01/02/2026 is either order, and the order is never guessed.
    #[arg(long, value_enum, value_name = "ORDER", help_heading = "Campaign")]
    pub date_order: Option<DateOrderArg>,

    /// How Gift Amount is meant: the card's initial amount (Voucherify's gift.amount, the
    /// default) or its current balance (gift.balance; Redeemed Amount was spent before it, so
    /// redeemed_over_balance does not apply). upload's read-back tells which one the project
    /// follows.
    #[arg(long, value_enum, value_name = "READING", default_value_t = GiftAmountArg::Initial, help_heading = "Campaign")]
    pub gift_amount: GiftAmountArg,

    /// The unit batches carry Gift Amount and Redeemed Amount in: whole minor units (10050),
    /// or major units with two decimals (100.50) for a project whose CSV import reads major
    /// units (upload --verify tells).
    #[arg(long, value_enum, value_name = "UNIT", default_value_t = AmountUnitArg::Minor, help_heading = "Output")]
    pub batch_amount_unit: AmountUnitArg,

    /// Worker threads for the rules (default: the number of cores). The output does not
    /// depend on it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..), help_heading = "Output")]
    pub threads: Option<u16>,
}

fn parse_campaign_type(text: &str) -> std::result::Result<CampaignType, String> {
    text.parse()
}

/// `--existing-codes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExistingCodesArg {
    /// Reject the row as existing_code.
    Reject,
    /// Import the row as an update of the code.
    Update,
}

fn parse_encoding(text: &str) -> std::result::Result<TextEncoding, String> {
    TextEncoding::for_label(text).ok_or_else(|| {
        let known = [
            "utf-8",
            "utf-16le",
            "utf-16be",
            "windows-1252",
            "iso-8859-1",
            "iso-8859-2",
            "iso-8859-15",
            "windows-1250",
            "shift_jis",
            "gb18030",
        ];
        let mut message = format!("unknown encoding '{text}'");
        if let Some(near) = crate::closest(text, known) {
            message.push_str(&format!(": did you mean '{near}'?"));
        }
        format!("{message} (a WHATWG label such as windows-1252, iso-8859-2, utf-16le)")
    })
}

fn parse_rename(text: &str) -> std::result::Result<(String, String), String> {
    match text.split_once('=') {
        Some((old, new)) if !old.trim().is_empty() && !new.trim().is_empty() => {
            Ok((old.trim().to_owned(), new.trim().to_owned()))
        }
        _ => Err(format!(
            "'{text}' is not OLD=NEW (e.g. --rename voucher_code=Code)"
        )),
    }
}

fn parse_delimiter(text: &str) -> std::result::Result<u8, String> {
    match text {
        "tab" | "TAB" | "\\t" | "\t" => Ok(b'\t'),
        // `, ` or `; `: the delimiter is the first, the spaces are trimmed from values.
        _ if text.len() > 1 && text.trim_end().len() == 1 => Err(format!(
            "fields are separated by '{text}': pass --delimiter '{}' and values will be trimmed, or fix the file",
            text.trim_end()
        )),
        _ => one_ascii_char(text, "delimiter"),
    }
}

fn parse_escape(text: &str) -> std::result::Result<u8, String> {
    one_ascii_char(text, "escape")
}

fn parse_quote(text: &str) -> std::result::Result<u8, String> {
    one_ascii_char(text, "quote")
}

fn one_ascii_char(text: &str, what: &str) -> std::result::Result<u8, String> {
    match text.as_bytes() {
        [b] if b.is_ascii() && !matches!(b, b'\r' | b'\n') => Ok(*b),
        _ => Err(format!(
            "the {what} must be one ASCII character (or 'tab'), not '{text}'"
        )),
    }
}

impl ImportArgs {
    /// The import these arguments describe; its files are read when it is resolved
    /// ([`Import::resolve`]), with the run's output.
    pub fn into_import(self) -> Import {
        let mut import = Import::default()
            .inputs(self.inputs)
            .skip_unreadable(self.skip_unreadable)
            .from_export(self.from == Some(FromSource::VoucherifyExport))
            .headers(HeaderOptions {
                declared_metadata: self.metadata,
                renames: self.renames,
                drops: self.drops,
                keeps: self.keeps,
                json_metadata: false,
                schema_properties: Vec::new(),
            })
            .read_options(ReadOptions {
                split: SplitOptions {
                    delimiter: self.delimiter,
                    quote: self.quote,
                    max_record_bytes: usize::try_from(self.max_record_bytes).unwrap_or(usize::MAX),
                    skip_lines: self
                        .skip_lines
                        .or(self.header_line.map(|line| line - 1))
                        .unwrap_or(0),
                    escape: self.escape,
                },
                encoding: self.encoding,
                defer_utf8_check: true,
            })
            .campaign_limit(self.campaign_limit)
            .case_insensitive_codes(self.case_insensitive_codes)
            .existing_codes_become(match self.existing_codes {
                ExistingCodesArg::Reject => ExistingCodes::Reject,
                ExistingCodesArg::Update => ExistingCodes::Update,
            })
            .max_file_bytes(self.max_file_bytes)
            .batch_rows(self.batch_rows)
            .batch_amount_unit(self.batch_amount_unit.into())
            .gift_amount(match self.gift_amount {
                GiftAmountArg::Initial => GiftAmountReading::Initial,
                GiftAmountArg::Balance => GiftAmountReading::Balance,
            });
        let project = self.project_campaign.map(|campaign| ProjectSource {
            allow_insecure_http: self.connection.allow_insecure_http,
            existing_codes: !self.no_project_codes,
            keep_existing: self.keep_existing,
            management: self.project_id.clone().map(|project| ManagementKeys {
                id: credential("VOUCHERIFY_MANAGEMENT_APP_ID"),
                token: credential("VOUCHERIFY_MANAGEMENT_APP_TOKEN"),
                project,
            }),
            ..ProjectSource::new(
                campaign,
                ApiSettings {
                    http_timeout: self.connection.http_timeout,
                    ..ApiSettings::new(
                        self.connection.base_url(),
                        credential("VOUCHERIFY_APP_ID"),
                        credential("VOUCHERIFY_APP_TOKEN"),
                    )
                },
            )
        });
        import = match (
            self.campaign,
            self.campaign_type,
            project,
            self.project_snapshot,
        ) {
            (_, _, Some(project), _) => import.project(project),
            (_, _, _, Some(dir)) => import.project_snapshot(dir),
            (Some(path), ..) => import.campaign_file(path),
            (None, Some(campaign_type), ..) => import.campaign_type(campaign_type),
            (None, None, None, None) => import,
        };
        if let Some(codes) = self.codes_in_campaign {
            import = import.codes_in_campaign(codes);
        }
        if let Some(format) = self.format {
            import = import.format(match format {
                FormatArg::Csv => Format::Csv,
                FormatArg::Parquet => Format::Parquet,
            });
        }
        if let Some(threads) = self.threads {
            import = import.threads(usize::from(threads));
        }
        if let Some(unit) = self.amount_unit {
            import = import.amount_unit(unit.into());
        }
        if let Some(rows) = self.canary_rows {
            import = import.canary_rows(rows);
        }
        if let Some(order) = self.date_order {
            import = import.date_order(match order {
                DateOrderArg::Dmy => crate::DateOrder::Dmy,
                DateOrderArg::Mdy => crate::DateOrder::Mdy,
            });
        }
        if let Some(zone) = self.dates_in {
            import = import.dates_in(zone);
        }
        if let Some(path) = self.metadata_schema {
            import = import.metadata_schema_file(path);
        }
        for path in self.existing {
            import = import.existing_file(path);
        }
        for path in self.rule_files {
            import = import.rule_file(path);
        }
        for name in self.disabled_rules {
            import = import.disable_rule(name);
        }
        import
    }
}

impl From<AmountUnitArg> for AmountUnit {
    fn from(unit: AmountUnitArg) -> Self {
        match unit {
            AmountUnitArg::Minor => AmountUnit::Minor,
            AmountUnitArg::Major => AmountUnit::Major,
        }
    }
}

//! Running an [`Import`]: [`Import::resolve`], the one place a run's configuration is made
//! (the campaign, schema and rule files read, every setting checked), the [`ResolvedImport`]
//! it gives, and the shortcuts that resolve and run at once.

use std::path::PathBuf;

use super::{CampaignSource, Import, SchemaSource};
use crate::campaign::Campaign;
use crate::config::RunConfig;
use crate::error::{Error, Result};
use crate::folder::options::ImportOptions;
use crate::folder::summary::{CheckReport, Summary};
use crate::read::{resolve_inputs, ArrowSource};
use crate::rules::metadata::MetadataSchema;
use crate::rules::RuleSet;
use crate::run::{NoProgress, Progress, Sources};
use crate::sink::{CheckSink, FolderSink, Sink};
use crate::upload::ProjectSnapshot;

impl Import {
    /// Prepares `inputs` (files, folders or globs, after those given by [`Import::input`])
    /// into `folder`, which must be new or empty: batches, rejected.csv, summary.json,
    /// report.html, origins.csv ([`FolderSink`]).
    pub fn run_files(&self, inputs: &[PathBuf], folder: impl Into<PathBuf>) -> Result<Summary> {
        self.run_files_into(inputs, &mut FolderSink::new(folder))
    }

    /// Runs on `inputs` (files, folders or globs) handing the judged rows to `sink` (for a
    /// [`MemorySink`](crate::MemorySink), rejected and warned rows with rejected.csv's
    /// columns: `file`, `row`, `line`, ..., `raw`).
    pub fn run_files_into(&self, inputs: &[PathBuf], sink: &mut dyn Sink) -> Result<Summary> {
        self.resolve_with(inputs)?.run(&NoProgress, sink)
    }

    /// Checks `inputs` without writing anything: the summary and every rejected row
    /// ([`CheckSink`]).
    pub fn check_files(&self, inputs: &[PathBuf]) -> Result<CheckReport> {
        let mut sink = CheckSink::new();
        let summary = self.run_files_into(inputs, &mut sink)?;
        Ok(sink.into_report(summary))
    }

    /// Runs the import on Arrow `sources` (named streams of record batches, any column types
    /// that can be written as text), handing the judged rows to `sink` (for a
    /// [`MemorySink`](crate::MemorySink), the accepted, rejected and warned rows as record
    /// batches); gives the same summary as a folder run. Rows are numbered from 1 within each
    /// source. The summary lists the batches a folder run writes, whether or not the sink has
    /// them written ([`FolderSink`]).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
    /// use voucher_import::CampaignType;
    /// use voucher_import::Import;
    /// use voucher_import::ArrowSource;
    /// use voucher_import::MemorySink;
    ///
    /// let cards = RecordBatch::try_from_iter([
    ///     ("code", Arc::new(StringArray::from(vec!["GC-1", "GC-2", "GC-1"])) as _),
    ///     ("gift_amount", Arc::new(Int64Array::from(vec![1000, 2500, 1000])) as _),
    /// ])?;
    /// let mut sink = MemorySink::new();
    /// let summary = Import::new(CampaignType::GiftVouchers)
    ///     .run_arrow(vec![ArrowSource::from_batch("cards", cards)], &mut sink)?;
    /// assert_eq!((summary.accepted, summary.rejected), (2, 1));
    /// assert_eq!(MemorySink::rows(&sink.rejected), 1); // the second GC-1: duplicate_code
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run_arrow(&self, sources: Vec<ArrowSource>, sink: &mut dyn Sink) -> Result<Summary> {
        if sources.is_empty() {
            return Err(Error::usage(
                "run_arrow was given no source",
                "give at least one ArrowSource",
            ));
        }
        self.resolve()?.run_arrow(&sources, &NoProgress, sink)
    }

    /// The run on its inputs, with every setting checked and every file it names read (the
    /// campaign, the metadata schema, the rules): the one place a run's configuration is
    /// made. Nothing is read from the inputs yet.
    pub fn resolve(&self) -> Result<ResolvedImport> {
        self.resolve_with(&[])
    }

    /// [`Import::resolve`] with `more` inputs after the ones the import holds.
    fn resolve_with(&self, more: &[PathBuf]) -> Result<ResolvedImport> {
        let inputs: Vec<PathBuf> = self.inputs.iter().chain(more).cloned().collect();
        let project = match &self.campaign {
            Some(CampaignSource::Project(source)) => {
                Some(ProjectSnapshot::read(source, &self.cancel)?)
            }
            Some(CampaignSource::Snapshot(dir)) => Some(ProjectSnapshot::from_folder(dir)?),
            _ => None,
        };
        let mut notes = Vec::new();
        let campaign = match &self.campaign {
            Some(CampaignSource::Given(campaign)) => campaign.clone(),
            Some(CampaignSource::File(path)) => Campaign::from_json_file(path)?,
            Some(CampaignSource::Json(json)) => Campaign::from_json(json).map_err(|message| {
                Error::usage(
                    format!("the campaign given is not a campaign object: {message}"),
                    "pass the object GET /v1/campaigns/{id} returns, or a campaign type",
                )
            })?,
            Some(CampaignSource::Project(_) | CampaignSource::Snapshot(_)) => {
                let snapshot = project.as_ref().expect("read above");
                project_campaign(snapshot, &mut notes)?
            }
            None => {
                return Err(Error::usage(
                    "no campaign given",
                    "pass --campaign-type TYPE or --campaign campaign.json",
                ))
            }
        };
        campaign.check_holds_codes()?;
        let resolved = resolve_inputs(&inputs, self.skip_unreadable)?;
        let mut options = ImportOptions {
            codes_in_campaign: self.codes_in_campaign.unwrap_or(campaign.vouchers_count),
            ..self.options.clone()
        };
        if let Some(snapshot) = &project {
            apply_project_settings(snapshot, &mut options, &mut notes);
        }
        options.check()?;
        let metadata_schema = match &self.metadata_schema {
            None => match &project {
                Some(snapshot) => project_schema(snapshot, &mut notes)?,
                None => None,
            },
            Some(given) => {
                if let Some(snapshot) = &project {
                    notes.push(format!(
                        "the metadata schema given is used, not the project's (read from {})",
                        snapshot.read.api_url
                    ));
                }
                Some(match given {
                    SchemaSource::Given(schema) => schema.clone(),
                    SchemaSource::File(path) => MetadataSchema::from_file(path)?,
                    SchemaSource::Json(json) => {
                        MetadataSchema::from_json(json).map_err(|message| {
                            Error::usage(
                            format!("the metadata schema given is not one: {message}"),
                            "pass the response of GET /v1/metadata-schemas, or one schema object",
                        )
                        })?
                    }
                })
            }
        };
        // The export's codes a snapshot kept are read as an --existing file.
        let existing_files: Vec<PathBuf> = self
            .existing_files
            .iter()
            .cloned()
            .chain(project.as_ref().and_then(|p| p.kept_codes.clone()))
            .collect();
        let file_of = |source: &Option<SchemaSource>| match source {
            Some(SchemaSource::File(path)) => Some(path.clone()),
            _ => None,
        };
        let campaign_file = match &self.campaign {
            Some(CampaignSource::File(path)) => Some(path.clone()),
            _ => None,
        };
        let reads: Vec<PathBuf> = resolved
            .reads
            .into_iter()
            .chain(existing_files.iter().cloned())
            .chain(self.rule_files.iter().cloned())
            .chain(file_of(&self.metadata_schema))
            .chain(campaign_file)
            .collect();
        let rules = crate::config::rules_in_force(
            &options,
            RuleSet::load_with_texts(&self.rule_files, &self.rule_texts, &self.disabled_rules)?,
            metadata_schema.is_some(),
        );
        Ok(ResolvedImport {
            config: RunConfig {
                cancel: self.cancel.clone(),
                inputs: resolved.inputs,
                read: self.read,
                format: self.format,
                existing: existing_files,
                existing_codes: self.existing_codes.clone(),
                campaign,
                options,
                headers: self.headers.clone(),
                rules,
                from_export: self.from_export,
                metadata_schema,
                threads: self.threads,
                reads,
                notes: resolved.notes.into_iter().chain(notes).collect(),
                project,
            },
        })
    }
}

/// A run made ready by [`Import::resolve`]: its settings checked, the files they name read.
#[derive(Debug, Clone)]
pub struct ResolvedImport {
    config: RunConfig,
}

impl ResolvedImport {
    /// The stored size of all inputs, when every input is a file whose size is known (for a
    /// progress display).
    pub fn input_bytes(&self) -> Option<u64> {
        crate::run::input_bytes(&self.config)
    }

    /// Runs on the inputs, handing the judged rows to `sink` and telling `progress` where the
    /// run is after every chunk of rows.
    pub fn run(&self, progress: &dyn Progress, sink: &mut dyn Sink) -> Result<Summary> {
        crate::run::run_sources(
            &self.config,
            Sources::Paths(&self.config.inputs),
            progress,
            sink,
        )
    }

    /// Runs on Arrow `sources` (or on the inputs when there are none), handing the judged rows
    /// to `sink`.
    pub fn run_arrow(
        &self,
        sources: &[ArrowSource],
        progress: &dyn Progress,
        sink: &mut dyn Sink,
    ) -> Result<Summary> {
        let sources = if sources.is_empty() {
            Sources::Paths(&self.config.inputs)
        } else {
            if !self.config.inputs.is_empty() {
                return Err(Error::usage(
                    "the run was given both input files and Arrow sources",
                    "run the files and the tables in separate runs, or read the files into tables",
                ));
            }
            check_arrow_names(sources)?;
            Sources::Arrow(sources)
        };
        crate::run::run_sources(&self.config, sources, progress, sink)
    }
}

/// Arrow sources are told apart by their names: none empty, none twice.
fn check_arrow_names(sources: &[ArrowSource]) -> Result<()> {
    for (at, source) in sources.iter().enumerate() {
        if source.name().trim().is_empty() {
            return Err(Error::usage(
                format!("Arrow source {} has an empty name", at + 1),
                "name every source: the name stands for a file name in the report",
            ));
        }
        if sources[..at].iter().any(|s| s.name() == source.name()) {
            return Err(Error::usage(
                format!("two Arrow sources are named '{}'", source.name()),
                "give every source its own name: rejected rows are told apart by it",
            ));
        }
    }
    Ok(())
}

/// The campaign a project snapshot holds, with what a run should know of its state: an
/// inactive or expired campaign takes the codes all the same (a note says so).
fn project_campaign(snapshot: &ProjectSnapshot, notes: &mut Vec<String>) -> Result<Campaign> {
    let campaign = Campaign::from_json(&snapshot.campaign_json).map_err(|message| {
        Error::Upload(format!(
            "GET /v1/campaigns/{}: the answer is not a campaign object: {message}",
            snapshot.read.campaign
        ))
    })?;
    let object: serde_json::Value =
        serde_json::from_str(&snapshot.campaign_json).unwrap_or_default();
    let name = campaign
        .name
        .clone()
        .unwrap_or_else(|| snapshot.read.campaign.clone());
    notes.push(format!(
        "campaign '{name}' ({}, {} codes in it) {} {} at {}",
        campaign.campaign_type,
        campaign.vouchers_count,
        if snapshot.read.offline {
            "from the snapshot read from"
        } else {
            "read from"
        },
        snapshot.read.api_url,
        snapshot.read.read_at
    ));
    if let (true, Some(export)) = (snapshot.read.offline, &snapshot.read.existing) {
        notes.push(match snapshot.kept_codes {
            Some(_) => format!(
                "the codes already in the project are the {} the snapshot kept from the export {} ({})",
                export.codes, export.export_id, export.downloaded_at
            ),
            None => format!(
                "the snapshot records the export {} of the {} codes the project held at {}, not the codes themselves (prepare --keep-existing keeps them): this run checks against the codes given with --existing only",
                export.export_id, export.codes, export.downloaded_at
            ),
        });
    }
    if object.get("active").and_then(|a| a.as_bool()) == Some(false) {
        notes.push(format!(
            "campaign '{name}' is not active: the codes go in, but cannot be redeemed until the campaign is activated"
        ));
    }
    if let Some(expiry) = object.get("expiration_date").and_then(|e| e.as_str()) {
        let expired = chrono::DateTime::parse_from_rfc3339(expiry)
            .ok()
            .zip(chrono::DateTime::parse_from_rfc3339(&snapshot.read.read_at).ok())
            .is_some_and(|(expiry, read_at)| expiry < read_at);
        if expired {
            notes.push(format!(
                "campaign '{name}' expired at {expiry}: the codes go in, but cannot be redeemed unless the campaign's expiration date is moved"
            ));
        }
    }
    if object
        .get("use_voucher_metadata_schema")
        .and_then(|u| u.as_bool())
        == Some(false)
    {
        notes.push(format!(
            "campaign '{name}' does not enforce the voucher metadata schema (use_voucher_metadata_schema is false): metadata is checked against it all the same, since Voucherify types metadata by its definitions"
        ));
    }
    Ok(campaign)
}

/// The voucher metadata schema a project snapshot holds, if the project has one.
fn project_schema(
    snapshot: &ProjectSnapshot,
    notes: &mut Vec<String>,
) -> Result<Option<MetadataSchema>> {
    let list: serde_json::Value = serde_json::from_str(&snapshot.schemas_json).map_err(|e| {
        Error::Upload(format!(
            "GET /v1/metadata-schemas: the answer is not JSON: {e}"
        ))
    })?;
    let has_voucher_schema =
        list.get("schemas")
            .and_then(|s| s.as_array())
            .is_some_and(|schemas| {
                schemas
                    .iter()
                    .any(|s| s.get("related_object").and_then(|r| r.as_str()) == Some("voucher"))
            });
    if !has_voucher_schema {
        notes.push(
            "the project has no voucher metadata schema: metadata columns are taken as text, as Voucherify stores metadata it has no definition for".to_owned(),
        );
        return Ok(None);
    }
    MetadataSchema::from_json(&snapshot.schemas_json)
        .map(Some)
        .map_err(|message| {
            Error::Upload(format!(
                "GET /v1/metadata-schemas: the voucher schema cannot be read: {message}"
            ))
        })
}

/// The project's time zone and code case sensitivity (read with Management API keys) for
/// what the options leave open; without them, a note says what is assumed.
fn apply_project_settings(
    snapshot: &ProjectSnapshot,
    options: &mut ImportOptions,
    notes: &mut Vec<String>,
) {
    let Some(settings) = &snapshot.read.settings else {
        if !snapshot.read.offline {
            notes.push(format!(
                "the project's time zone and whether it tells codes apart by case were not read (they need Management API keys: VOUCHERIFY_MANAGEMENT_APP_ID, VOUCHERIFY_MANAGEMENT_APP_TOKEN and --project-id): {}, and codes are compared {}",
                match &options.dates_in {
                    Some(zone) => format!("dates without a zone are read in {zone} (--dates-in)"),
                    None => "dates without a zone are written as given".to_owned(),
                },
                if options.case_insensitive_codes { "ignoring case (--case-insensitive-codes)" } else { "exactly" }
            ));
        }
        return;
    };
    match (&options.dates_in, &settings.timezone) {
        (None, Some(zone)) => match crate::formats::parse_zone(zone) {
            Ok(_) => {
                notes.push(format!(
                    "dates without a zone are read in the project's time zone, {zone} (as --dates-in would)"
                ));
                options.dates_in = Some(zone.clone());
            }
            Err(why) => notes.push(format!(
                "the project's time zone '{zone}' is not one this tool reads ({why}): dates without a zone are written as given; give --dates-in"
            )),
        },
        (Some(given), Some(zone)) if given != zone => notes.push(format!(
            "--dates-in {given} is used; the project's time zone is {zone}"
        )),
        _ => {}
    }
    match (
        settings.case_sensitive_codes,
        options.case_insensitive_codes,
    ) {
        (Some(false), false) => {
            notes.push(
                "the project does not tell codes apart by case: codes are compared ignoring case (as --case-insensitive-codes would)".to_owned(),
            );
            options.case_insensitive_codes = true;
        }
        (Some(true), true) => notes.push(
            "--case-insensitive-codes is used, though the project tells codes apart by case"
                .to_owned(),
        ),
        _ => {}
    }
}

//! Opening the inputs for their headers: every header problem of every input at once, each
//! input's kind decided once, and what can be read only once; and the codes already in the
//! project loaded.

use std::path::Path;

use super::Sources;
use crate::config::RunConfig;
use crate::dedup::{existing, Dedup};
use crate::error::{Error, Result};
use crate::folder::project::ExportRead;
use crate::folder::summary::ExistingInfo;
use crate::normalize::headers::{ColumnRole, KnownColumn};
use crate::normalize::{export, headers};
use crate::read::{Input, InputPath, Pending, PerInput};
use crate::sink::{KeptDocument, Sink};

/// What an input is, decided once from its header: the phases ask this, not the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum InputKind {
    /// A Voucherify voucher export (by its columns, or `--from voucherify-export`): converted
    /// into a campaign import.
    Export,
    /// A campaign import file (a rejected.csv given back included: its report columns have
    /// their own role).
    Import,
}

impl InputKind {
    pub(super) fn is_export(self) -> bool {
        self == InputKind::Export
    }
}

/// Each input's header names with the role of every column.
pub(super) type FileHeaders = PerInput<(Vec<String>, Vec<ColumnRole>)>;

/// The inputs opened for their headers.
pub(super) struct Opened {
    pub(super) inputs: Vec<Pending>,
    pub(super) headers: FileHeaders,
    /// What each input is.
    pub(super) kinds: PerInput<InputKind>,
    /// What opening them noticed.
    pub(super) notes: Vec<String>,
    /// Lines skipped before the headers (`--skip-lines`).
    pub(super) lines_skipped: u64,
}

/// Opens every input and classifies its header (after checking `--rename` and `--drop`
/// against all the headers).
pub(super) fn open_all(config: &RunConfig, sources: Sources) -> Result<Opened> {
    // Each input is opened for its header and, unless it can be opened only once, closed
    // again until its turn: thousands of files never hold thousands of descriptors.
    let mut inputs = Vec::with_capacity(sources.len());
    let mut names: Vec<Vec<String>> = Vec::with_capacity(sources.len());
    let mut file_notes: Vec<Vec<String>> = Vec::with_capacity(sources.len());
    let mut lines_skipped = 0;
    for index in 0..sources.len() {
        let input = sources.open(index, config)?;
        log::debug!(
            "opened {}: {} columns",
            sources.display(index),
            input.header().len()
        );
        names.push(input.header().to_vec());
        file_notes.push(input.notes().to_vec());
        lines_skipped += input.lines_skipped();
        inputs.push(sources.pending(input, config));
    }
    config.headers.check_names(&names)?;
    // Every problem of every header is said at once, each with its fix.
    let mut problems: Vec<(std::path::PathBuf, headers::HeaderProblem)> = Vec::new();
    let mut file_headers = Vec::with_capacity(inputs.len());
    let mut kinds = Vec::with_capacity(inputs.len());
    for ((index, names), notes) in names.into_iter().enumerate().zip(&file_notes) {
        let campaign_type = config.campaign.campaign_type;
        // As the user's --rename and --drop leave it: dropping Voucher Type or mapping Value
        // makes it a campaign import.
        let as_imported: Vec<String> = names
            .iter()
            .enumerate()
            .filter(|(position, n)| {
                let renamed = config.headers.renamed_at(*position, n.trim());
                !config.headers.dropped_at(*position, n.trim(), renamed)
            })
            .map(|(position, n)| config.headers.renamed_at(position, n.trim()).to_owned())
            .collect();
        if !config.from_export && export::is_standalone_template(&as_imported) {
            // A default voucher export (`code, voucher_type, value, discount_type`, downloaded
            // in Title Case) has the same columns as the template's first ones.
            let default_export = export::is_default_export(&as_imported);
            let mut fix = String::new();
            if default_export {
                fix.push_str("if it is a Voucherify voucher export (its default fields: Code, Voucher Type, Value, Discount Type), convert it with --from voucherify-export; ");
            }
            fix.push_str("import it with Voucherify's standalone import, or, to import its codes into a campaign, --drop 'Voucher Type' and map Value with --rename (e.g. --rename 'Value=Gift Amount')");
            problems.push((
                sources.path(index),
                headers::HeaderProblem {
                    message: "the header is Voucherify's standalone import template (Voucher Type, Value): a file for POST /v1/vouchers/importCSV, not a campaign import".into(),
                    fix,
                    option: default_export.then(|| "--from voucherify-export".to_owned()),
                },
            ));
            continue;
        }
        let is_export = config.from_export || export::is_export(&names);
        let mut options = if is_export {
            export::header_options(&names, &config.headers, campaign_type)
        } else {
            config.headers.clone()
        };
        if let Some(schema) = &config.metadata_schema {
            options.schema_properties = schema.properties.iter().map(|p| p.name.clone()).collect();
        }
        if ends_with_delimiter(&names, &options) {
            // A delimiter at the end of every line makes an unnamed last column: left out.
            options.drops.push(format!("#{}", names.len()));
        }
        match headers::classify_all(&names, campaign_type, &options) {
            Ok(roles) => {
                kinds.push(match is_export {
                    true => InputKind::Export,
                    false => InputKind::Import,
                });
                file_headers.push((names, roles));
            }
            Err(found) => {
                // Split on the wrong delimiter, or below a title line, the "header"'s problems
                // are moot.
                let delimiter_hint = notes.first().map(|note| headers::HeaderProblem {
                    message: note
                        .strip_prefix(&format!("{}: ", sources.display(index)))
                        .unwrap_or(note)
                        .to_owned(),
                    fix: "pass the delimiter the lines use (--delimiter), or leave it out to have it sniffed".into(),
                    option: None,
                });
                let preamble = || {
                    let path = sources.input_path(index)?;
                    preamble_hint(config, path, &names, &found)
                };
                match delimiter_hint.or_else(preamble) {
                    Some(hint) => problems.push((sources.path(index), hint)),
                    None => problems.extend(found.into_iter().map(|p| (sources.path(index), p))),
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(Error::header_problems(problems));
    }
    Ok(Opened {
        inputs,
        headers: PerInput::from_vec(file_headers),
        kinds: PerInput::from_vec(kinds),
        notes: file_notes.concat(),
        lines_skipped,
    })
}

/// Whether a header's last name is empty (a delimiter at the end of the line) and no option
/// names that column: it is then left out (`trailing_delimiter_columns`), not refused.
pub(super) fn ends_with_delimiter(names: &[String], options: &headers::HeaderOptions) -> bool {
    let last = names.len();
    last > 1
        && names[last - 1].trim().is_empty()
        && !options
            .renames
            .iter()
            .any(|(old, _)| headers::position_ref(old) == Some(last))
}

/// When a header has no Code column, a later line may be the real header (a title or a
/// preamble above it): the first of the next lines (up to 10) that has a Code column is
/// named, with the `--skip-lines` that reads it.
pub(super) fn preamble_hint(
    config: &RunConfig,
    source: &InputPath,
    names: &[String],
    found: &[headers::HeaderProblem],
) -> Option<headers::HeaderProblem> {
    let has_code = |names: &[String]| {
        names
            .iter()
            .any(|n| KnownColumn::from_header(n.trim()) == Some(KnownColumn::Code))
    };
    if has_code(names)
        || !found
            .iter()
            .any(|p| p.message.contains("no Code column") || names.len() == 1)
    {
        return None;
    }
    if !matches!(source, InputPath::File(_)) || config.format == Some(crate::read::Format::Parquet)
    {
        return None;
    }
    let skipped = config.read.split.skip_lines;
    for more in 1..=10u64 {
        let mut read = config.read;
        read.split.skip_lines = skipped + more;
        let Ok(input) = Input::open(0, source, &read, config.format) else {
            continue;
        };
        if has_code(input.header()) {
            let skip = skipped + more;
            return Some(headers::HeaderProblem {
                message: format!(
                    "the header seems to be line {} ({}), below {}",
                    skip + 1,
                    input.header().join(","),
                    if skip == 1 {
                        "a title line".to_owned()
                    } else {
                        format!("{skip} lines of preamble")
                    }
                ),
                fix: format!("skip the lines above it: --skip-lines {skip}"),
                option: Some(format!("--skip-lines {skip}")),
            });
        }
    }
    None
}

pub(super) fn display(path: &Path) -> String {
    path.display().to_string()
}

/// Loads the codes already in the project (the `--existing` files, then the codes given as
/// values) into the dedup tables; gives what the summary says of each source and, when set
/// rules will read them (`keep`), the codes themselves.
/// Loads the codes already in the project into `dedup` (and keeps them as text when `keep`:
/// set rules read them); the export's file, when it is to be kept, goes to `sink`.
pub(super) fn load_existing(
    config: &RunConfig,
    dedup: &mut Dedup,
    keep: bool,
    sink: &mut dyn Sink,
) -> Result<Existing> {
    let mut info = Vec::with_capacity(config.existing.len() + 2);
    let mut kept = Vec::new();
    for (index, path) in config.existing.iter().enumerate() {
        let codes = existing::read_codes(path, config.read.split.max_record_bytes, |code| {
            dedup.add_existing(code, index as u32);
            if keep {
                kept.push(code.to_owned());
            }
        })?;
        info.push(ExistingInfo {
            path: display(path),
            codes,
        });
    }
    if !config.existing_codes.is_empty() {
        let index = info.len() as u32;
        for code in config.existing_codes.iter().map(|c| c.trim()) {
            if code.is_empty() {
                continue;
            }
            dedup.add_existing(code, index);
            if keep {
                kept.push(code.to_owned());
            }
        }
        info.push(ExistingInfo {
            path: crate::dedup::CODES_GIVEN.to_owned(),
            codes: config.existing_codes.len() as u64,
        });
    }
    let mut export = None;
    let mut notes = Vec::new();
    if let Some(project_export) = config.project.as_ref().and_then(|p| p.export.as_ref()) {
        // Streamed from the download into the set: the file is never held.
        let index = info.len() as u32;
        let name = |id: &str| format!("the project's export {id}");
        let mut kept_file = match project_export.keep {
            true => sink.keep(KeptDocument::ExistingCodes)?,
            false => None,
        };
        let keep_in = kept_file
            .as_deref_mut()
            .map(|w| w as &mut dyn std::io::Write);
        let (read, note) = project_export.read(&config.cancel, keep_in, |id, body| {
            existing::read_codes_from(
                body,
                Path::new(&name(id)),
                config.read.split.max_record_bytes,
                |code| {
                    dedup.add_existing(code, index);
                    if keep {
                        kept.push(code.to_owned());
                    }
                },
            )
        })?;
        info.push(ExistingInfo {
            path: name(&read.export_id),
            codes: read.codes,
        });
        notes.extend(note);
        export = Some(read);
    }
    Ok(Existing {
        info,
        kept,
        export,
        notes,
    })
}

/// The codes already in the project, loaded.
pub(super) struct Existing {
    /// Every source, in order.
    pub(super) info: Vec<ExistingInfo>,
    /// The codes themselves, when set rules read them.
    pub(super) kept: Vec<String>,
    /// The export of the project's codes that was downloaded, if any.
    pub(super) export: Option<ExportRead>,
    /// What loading them noticed.
    pub(super) notes: Vec<String>,
}

//! Planning a run before any row is judged: the inputs opened for their headers, the one first
//! pass over the inputs whose whole columns are needed (`pre_read`), the rule-table layout, and
//! the metadata schema matched to it.

use super::open::{open_all, FileHeaders, Opened};
use super::pre_read::{pre_read, Answers, Questions};
use super::Sources;
use crate::config::RunConfig;
use crate::error::{Error, Result};
use crate::folder::summary::Normalizations;
use crate::normalize::headers::{ColumnRole, KnownColumn, ReportKind};
use crate::normalize::{export, headers, TableLayout};
use crate::read::{Pending, PerInput};
use crate::rules::schema_checks::SchemaChecks;
use crate::rules::{names, RuleId};

/// What is known before the rows stream.
pub(super) struct Plan {
    /// The inputs, ready for the pass that judges their rows.
    pub(super) inputs: Vec<Pending>,
    pub(super) file_headers: FileHeaders,
    pub(super) layout: TableLayout,
    pub(super) schema_checks: SchemaChecks,
    /// The `empty_in_boolean_column` rule and the boolean-looking metadata columns.
    pub(super) empty_in_boolean: Option<(RuleId, Vec<(usize, String)>)>,
    /// What the headers and first passes normalized.
    pub(super) normalizations: Normalizations,
    /// Columns left out (`--drop`, trailing delimiters), each named once.
    pub(super) dropped_columns: Vec<String>,
    /// The summary's notes so far, in the order it lists them.
    pub(super) notes: Vec<String>,
}

/// Opens the inputs and plans the run; every file-level problem stops it here.
pub(super) fn plan(config: &RunConfig, sources: Sources) -> Result<Plan> {
    let Opened {
        inputs,
        headers: file_headers,
        kinds,
        notes: reading_notes,
        lines_skipped,
    } = open_all(config, sources)?;
    let trailing_delimiter_files: Vec<usize> = file_headers
        .iter()
        .enumerate()
        .filter(|(_, (names, roles))| {
            names.len() > 1
                && names.last().is_some_and(|n| n.trim().is_empty())
                && matches!(roles.last(), Some(ColumnRole::Dropped(_)))
        })
        .map(|(index, _)| index)
        .collect();
    let normalizations = Normalizations {
        trailing_delimiter_columns: trailing_delimiter_files.len() as u64,
        preamble_lines_skipped: lines_skipped,
        headers_respelled: file_headers
            .iter()
            .flat_map(|(names, roles)| names.iter().zip(roles))
            .filter(|(name, role)| matches!(role, ColumnRole::Known(k) if k.canonical() != name.as_str()))
            .count() as u64,
        ..Normalizations::default()
    };
    // Every respelling is said, not only counted: `category` or `start_date` may have been
    // meant as metadata.
    // (Not for a name the user renamed, nor for an export, whose conversion is its own.)
    let mut respellings: Vec<String> = Vec::new();
    for (name, role) in file_headers
        .iter()
        .zip(kinds.iter())
        .filter(|(_, kind)| !kind.is_export())
        .flat_map(|((names, roles), _)| names.iter().zip(roles))
        .filter(|(name, _)| config.headers.renamed(name.as_str()) == name.as_str())
    {
        if let ColumnRole::Known(k) = role {
            let note = format!(
                "header '{name}' is read as the import column '{}' (to keep it as metadata instead, pass --metadata '{name}' or --rename it)",
                k.canonical()
            );
            if k.canonical() != name.as_str() && !respellings.contains(&note) {
                respellings.push(note);
            }
        }
    }
    let dropped_columns: Vec<String> = file_headers
        .iter()
        .flat_map(|(_, roles)| roles)
        .filter_map(|r| match r {
            ColumnRole::Dropped(name) => Some(name.clone()),
            _ => None,
        })
        .fold(Vec::new(), |mut seen, name| {
            if !seen.contains(&name) {
                seen.push(name);
            }
            seen
        });
    // An export's JSON metadata becomes one column per key, an export's amounts are in one
    // unit per file (unless --amount-unit says which), and without a schema a metadata column
    // that looks boolean warns of its empty cells: all three are found on one first pass.
    let amount_columns: PerInput<Option<usize>> = file_headers
        .iter()
        .zip(kinds.iter())
        .map(|((_, roles), kind)| {
            (kind.is_export() && !config.options.amount_unit_given)
                .then(|| {
                    roles
                        .iter()
                        .position(|r| matches!(r, ColumnRole::Known(KnownColumn::GiftAmount)))
                })
                .flatten()
        })
        .collect();
    let has_json = file_headers.iter().any(|(_, roles)| {
        roles
            .iter()
            .any(|r| matches!(r, ColumnRole::MetadataJson(_)))
    });
    if has_json || amount_columns.iter().any(Option::is_some) {
        if let Some(once) = sources.readable_once() {
            return Err(Error::usage(
                format!("an export's JSON metadata keys and amount unit are found on a first pass, and {once} can be read once"),
                format!("save {once} to a file first and name the file"),
            ));
        }
    }
    let empty_in_boolean_rule = config
        .rules
        .find(names::EMPTY_IN_BOOLEAN_COLUMN)
        .filter(|_| config.metadata_schema.is_none());
    let has_metadata = file_headers
        .iter()
        .any(|(_, roles)| roles.iter().any(|r| matches!(r, ColumnRole::Metadata(_))));
    let mut scan_notes = Vec::new();
    let scan_booleans = match (empty_in_boolean_rule, sources.readable_once()) {
        (Some(_), Some(once)) if has_metadata => {
            scan_notes.push(format!(
                "rule empty_in_boolean_column is not checked: it needs a first pass over the metadata columns, and {once} can be read once"
            ));
            false
        }
        (Some(_), None) => has_metadata,
        _ => false,
    };
    let (inputs, answers) = pre_read(
        config,
        sources,
        inputs,
        &file_headers,
        &Questions {
            amount_columns: amount_columns.clone(),
            boolean_like: scan_booleans,
        },
    )?;
    let Answers {
        json_keys,
        first_decimals: decimal_amounts,
        boolean_like,
    } = answers;
    // A key becomes a column name: it must be one Voucherify takes, and no other column's.
    for key in &json_keys {
        let reserved = headers::POSITION_COLUMNS.contains(&key.as_str());
        if key.chars().any(char::is_whitespace) || key.is_empty() || reserved {
            return Err(Error::input(
                sources.path(0),
                format!("the JSON metadata has the key '{key}', which cannot be a metadata column name (empty, whitespace, or reserved: file, row, line)"),
                "rename the key in the export's metadata before the import",
            ));
        }
    }
    let mut layout = TableLayout::with_json_keys(file_headers.as_slice(), &json_keys);
    layout.date_order = config.options.date_order;
    layout.name_inputs(sources.names().as_slice());
    let empty_in_boolean = empty_in_boolean_rule.and_then(|rule| {
        let columns: Vec<(usize, String)> = boolean_like
            .into_iter()
            .filter_map(|name| {
                let at = layout.metadata.iter().position(|m| *m == name)?;
                Some((KnownColumn::ALL.len() + at, name))
            })
            .collect();
        (!columns.is_empty()).then_some((rule, columns))
    });
    // An export's amount column is in one unit, decided for the whole file.
    let mut unit_notes = Vec::new();
    for (index, ((((names, _), file), decimal), column)) in file_headers
        .iter()
        .zip(layout.files.iter_mut())
        .zip(&decimal_amounts)
        .zip(amount_columns.iter())
        .enumerate()
    {
        let Some(column) = *column else {
            continue;
        };
        let name = &names[column];
        file.export_amounts_to_minor = decimal.is_some();
        let file_name = sources.display(index);
        unit_notes.push(match decimal {
            Some(example) => format!(
                "{file_name}: '{name}' is read in major units, because a value has a decimal point ('{example}'): every value is written in minor units (--amount-unit says otherwise)"
            ),
            None => format!(
                "{file_name}: '{name}' is read in minor units, because no value has a decimal point (--amount-unit says otherwise)"
            ),
        });
    }
    for (((names, _), file), kind) in file_headers
        .iter()
        .zip(layout.files.iter_mut())
        .zip(kinds.iter())
    {
        let is_export = kind.is_export();
        if is_export {
            // An export's ids and timestamps are expected to go: only data left out is said.
            file.dropped
                .retain(|(_, name)| !export::is_bookkeeping(name));
        }
        if is_export && config.rules.find(names::WRONG_VOUCHER_TYPE).is_some() {
            file.voucher_type = export::voucher_type_column(names)
                .zip(export::voucher_type_of(config.campaign.campaign_type));
        }
    }
    let schema_checks = match &config.metadata_schema {
        Some(schema) => SchemaChecks::new(schema, &layout, &config.rules, &sources.path(0))?,
        None => SchemaChecks {
            nested_rule: config.rules.find(names::METADATA_NESTED),
            ..SchemaChecks::default()
        },
    };
    let notes = file_headers
        .iter()
        .enumerate()
        .filter(|(_, (_, roles))| roles.iter().any(|r| matches!(r, ColumnRole::Report(_))))
        .filter_map(|(index, (names, _))| {
            ReportKind::of(names).map(|kind| kind.note(&sources.display(index)))
        })
        .chain(config.notes.iter().cloned())
        .chain(respellings)
        .chain(unit_notes)
        .chain(scan_notes)
        .chain(reading_notes)
        .chain(trailing_delimiter_files.iter().map(|&index| {
            format!(
                "{}: the header ends with a delimiter: its last, unnamed column is left out (trailing_delimiter_columns)",
                sources.display(index)
            )
        }))
        .collect();
    Ok(Plan {
        inputs,
        file_headers,
        layout,
        schema_checks,
        empty_in_boolean,
        normalizations,
        dropped_columns,
        notes,
    })
}

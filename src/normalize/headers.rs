//! Header normalization: which input column is which known import column, which are metadata,
//! and the file-level errors a header can carry.

use std::path::Path;

use crate::campaign::CampaignType;
use crate::error::{Error, Result};
use crate::suggest;

/// The columns Voucherify's campaign import knows, in the order batches write them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KnownColumn {
    /// `Code`: the voucher code, the one column every import needs.
    Code,
    /// `Category`.
    Category,
    /// `Active`: true or false.
    Active,
    /// `Gift Amount`: a gift card's balance, in minor units.
    GiftAmount,
    /// `Redeemed Amount`: what was spent of a gift card's balance.
    RedeemedAmount,
    /// `Redeemed Quantity`: how often the code was redeemed.
    RedeemedQuantity,
    /// `Loyalty Points`: a loyalty card's points.
    LoyaltyPoints,
    /// `Start Date`.
    StartDate,
    /// `Expiration Date`.
    ExpirationDate,
}

impl KnownColumn {
    /// Every known column, in the rule table's order.
    pub const ALL: [KnownColumn; 9] = [
        KnownColumn::Code,
        KnownColumn::Category,
        KnownColumn::Active,
        KnownColumn::GiftAmount,
        KnownColumn::RedeemedAmount,
        KnownColumn::RedeemedQuantity,
        KnownColumn::LoyaltyPoints,
        KnownColumn::StartDate,
        KnownColumn::ExpirationDate,
    ];

    /// The exact spelling Voucherify's import expects.
    pub fn canonical(self) -> &'static str {
        match self {
            KnownColumn::Code => "Code",
            KnownColumn::Category => "Category",
            KnownColumn::Active => "Active",
            KnownColumn::GiftAmount => "Gift Amount",
            KnownColumn::RedeemedAmount => "Redeemed Amount",
            KnownColumn::RedeemedQuantity => "Redeemed Quantity",
            KnownColumn::LoyaltyPoints => "Loyalty Points",
            KnownColumn::StartDate => "Start Date",
            KnownColumn::ExpirationDate => "Expiration Date",
        }
    }

    /// Position in [`KnownColumn::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The single campaign type a column is limited to, if it is limited.
    pub fn only_for(self) -> Option<CampaignType> {
        match self {
            KnownColumn::GiftAmount | KnownColumn::RedeemedAmount => {
                Some(CampaignType::GiftVouchers)
            }
            KnownColumn::LoyaltyPoints => Some(CampaignType::LoyaltyProgram),
            _ => None,
        }
    }

    /// Matches a header ignoring letter case, surrounding whitespace and `_`/`-`/space.
    pub fn from_header(name: &str) -> Option<KnownColumn> {
        let folded = suggest::fold(name);
        KnownColumn::ALL
            .into_iter()
            .find(|k| suggest::fold(k.canonical()) == folded)
    }
}

/// What one input column is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnRole {
    /// One of Voucherify's import columns.
    Known(KnownColumn),
    /// A metadata property, under its header trimmed of surrounding whitespace.
    Metadata(String),
    /// Left out of the import by `--drop` (still shown in rejected.csv).
    Dropped(String),
    /// Carried with its row by `--keep` (the caller's key: an order id, a row id): never in a
    /// batch and never metadata, but in the accepted, rejected and warned rows, origins.csv,
    /// upload-failed.csv and upload-verify.csv, under its header trimmed.
    Kept(String),
    /// An export's JSON `metadata` column: one metadata column per key.
    MetadataJson(String),
    /// A column of a report given back as input ([`ReportKind`]: rejected.csv's `file`,
    /// `row`, `line`, `rules`, `reason`, `raw`; upload-failed.csv's `file`, `row`, `code`,
    /// `reason`): what the earlier run said, skipped.
    Report(String),
}

impl ColumnRole {
    /// The name the column is written under in batches and seen under by rules.
    pub fn output_name(&self) -> &str {
        match self {
            ColumnRole::Known(k) => k.canonical(),
            ColumnRole::Metadata(name)
            | ColumnRole::Report(name)
            | ColumnRole::Dropped(name)
            | ColumnRole::Kept(name)
            | ColumnRole::MetadataJson(name) => name,
        }
    }
}

mod report;
pub use report::ReportKind;

/// Names the rule table uses for a row's position; a metadata column may not take them.
pub const POSITION_COLUMNS: [&str; 3] = ["file", "row", "line"];

mod options;
pub use options::{position_ref, HeaderOptions};

pub use crate::error::HeaderProblem;

/// A column as an option names it: its name when that is unique in the header (`counts`: how
/// many columns bear each trimmed name) and not empty, else `#N` (1-based).
fn column_ref(
    names: &[String],
    counts: &std::collections::HashMap<&str, usize>,
    position: usize,
) -> String {
    let name = names[position].trim();
    if !name.is_empty() && counts.get(name) == Some(&1) {
        name.to_owned()
    } else {
        format!("#{}", position + 1)
    }
}

/// A text in single quotes for a shell.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Classifies every column of a header, or says why the file cannot be imported (one
/// [`Error::InputFile`] for one problem, [`Error::HeaderProblems`] for several).
pub fn classify(
    path: &Path,
    names: &[String],
    campaign_type: CampaignType,
    options: &HeaderOptions,
) -> Result<Vec<ColumnRole>> {
    classify_all(names, campaign_type, options).map_err(|problems| {
        Error::header_problems(problems.into_iter().map(|p| (path.to_owned(), p)).collect())
    })
}

/// Classifies every column of a header, or gives every problem it has.
pub fn classify_all(
    names: &[String],
    campaign_type: CampaignType,
    options: &HeaderOptions,
) -> std::result::Result<Vec<ColumnRole>, Vec<HeaderProblem>> {
    let mut roles: Vec<ColumnRole> = Vec::with_capacity(names.len());
    let mut problems: Vec<HeaderProblem> = Vec::new();
    // The column each output name was first met in (a HashMap: headers can be very wide).
    let mut seen: std::collections::HashMap<String, usize> =
        std::collections::HashMap::with_capacity(names.len());
    let report = ReportKind::of(names);
    // The column each kept name was first met in.
    let mut kept_seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut counts: std::collections::HashMap<&str, usize> =
        std::collections::HashMap::with_capacity(names.len());
    for name in names {
        *counts.entry(name.trim()).or_insert(0) += 1;
    }
    for (position, raw) in names.iter().enumerate() {
        // A report writes its header names spreadsheet-safe, as its cells.
        let original = if report.is_some() {
            crate::folder::formula_unsafe(raw.trim())
        } else {
            raw.trim()
        };
        if report.is_some_and(|kind| kind.is_report_column(position, names.len())) {
            roles.push(ColumnRole::Report(original.to_owned()));
            continue;
        }
        let name = options.renamed_at(position, original);
        let column_no = position + 1;
        let column = column_ref(names, &counts, position);
        if options.kept_at(position, original, name) {
            if let Some(known) = KnownColumn::from_header(name) {
                problems.push(HeaderProblem {
                    message: format!(
                        "--keep {column}: column '{name}' is the import column '{}', which goes into the batches and the accepted rows already",
                        known.canonical()
                    ),
                    fix: format!(
                        "leave out --keep {}: --keep carries a column that is not imported (an order id, a row id), and the import columns are in the accepted rows and upload-failed.csv already",
                        shell_quote(&column)
                    ),
                    option: None,
                });
                roles.push(ColumnRole::Dropped(original.to_owned()));
                continue;
            }
            if name.is_empty() {
                let named = format!("column_{column_no}");
                problems.push(HeaderProblem {
                    message: format!("--keep #{column_no}: column {column_no} has an empty header"),
                    fix: format!("give the column a name to carry it under (--rename '#{column_no}={named}')"),
                    option: Some(format!("--rename '#{column_no}={named}'")),
                });
                roles.push(ColumnRole::Dropped(String::new()));
                continue;
            }
            if let Some(earlier) = kept_seen.insert(name.to_owned(), position) {
                problems.push(HeaderProblem {
                    message: format!(
                        "columns {} ('{}') and {column_no} ('{original}') are both kept as '{name}'",
                        earlier + 1,
                        names[earlier].trim()
                    ),
                    fix: format!(
                        "rename one (--rename '#{column_no}={}_{column_no}')",
                        name.replace(' ', "_")
                    ),
                    option: Some(format!(
                        "--rename '#{column_no}={}_{column_no}'",
                        name.replace(' ', "_")
                    )),
                });
                roles.push(ColumnRole::Dropped(original.to_owned()));
                continue;
            }
            roles.push(ColumnRole::Kept(name.to_owned()));
            continue;
        }
        // After --keep: a kept column an export's conversion would leave out (its `id`) is kept.
        if options.dropped_at(position, original, name) {
            roles.push(ColumnRole::Dropped(original.to_owned()));
            continue;
        }
        if options.json_metadata && suggest::fold(name) == "metadata" {
            roles.push(ColumnRole::MetadataJson(original.to_owned()));
            continue;
        }
        let mut problem = |message: String, fix: String, option: Option<String>| {
            problems.push(HeaderProblem {
                message,
                fix,
                option,
            })
        };
        if name.is_empty() {
            let named = format!("column_{column_no}");
            problem(
                format!("column {column_no} has an empty header"),
                format!("give the column a name (--rename '#{column_no}={named}'), or leave it out (--drop '#{column_no}')"),
                Some(format!("--rename '#{column_no}={named}'")),
            );
            roles.push(ColumnRole::Dropped(String::new()));
            continue;
        }
        let declared = options.declared_metadata.iter().any(|d| d.trim() == name)
            || options.schema_properties.iter().any(|p| p == name);
        let role = match KnownColumn::from_header(name) {
            Some(known) if !declared => {
                // Folded, it is a known column; the schema defines a property that folds the
                // same under another spelling: only the user knows which is meant.
                let property = options
                    .schema_properties
                    .iter()
                    .find(|p| KnownColumn::from_header(p) == Some(known) && p.as_str() != name);
                if let Some(property) = property.filter(|_| name != known.canonical()) {
                    let as_known = shell_quote(&format!("{column}={}", known.canonical()));
                    let as_metadata = shell_quote(&format!("{column}={property}"));
                    problem(
                        format!(
                            "column '{name}' could be the import column '{}' or the metadata property '{property}' the metadata schema defines",
                            known.canonical()
                        ),
                        format!(
                            "say which: --rename {as_known} for the import column, or --rename {as_metadata} for the metadata property (a header spelled exactly like a property of the schema is metadata; --metadata NAME declares any other)"
                        ),
                        Some(format!("--rename {as_known}")),
                    );
                    roles.push(ColumnRole::Dropped(original.to_owned()));
                    continue;
                }
                // Voucherify's loyalty import skips it ("fields other than the ones listed
                // will not be imported"): left out, its values counted in the summary.
                if known == KnownColumn::RedeemedQuantity
                    && campaign_type == CampaignType::LoyaltyProgram
                {
                    roles.push(ColumnRole::Dropped(original.to_owned()));
                    continue;
                }
                if let Some(only) = known.only_for() {
                    if only != campaign_type {
                        problem(
                            format!(
                                "column '{name}' ({}) applies only to {only} campaigns, and this is a {campaign_type} campaign",
                                known.canonical()
                            ),
                            format!(
                                "leave the column out (--drop {}), or import into a {only} campaign (--campaign-type {})",
                                shell_quote(&column),
                                only.short_name()
                            ),
                            Some(format!("--drop {}", shell_quote(&column))),
                        );
                        roles.push(ColumnRole::Dropped(original.to_owned()));
                        continue;
                    }
                }
                ColumnRole::Known(known)
            }
            _ => {
                if !declared {
                    if let Some(near) =
                        suggest::misspelled(name, KnownColumn::ALL.iter().map(|k| k.canonical()))
                    {
                        problem(
                            format!("column '{name}' is not a known import column: did you mean '{near}'?"),
                            format!(
                                "rename the header to '{near}' (--rename {}), or pass --metadata '{name}' to import it as a metadata property",
                                shell_quote(&format!("{column}={near}"))
                            ),
                            Some(format!("--rename {}", shell_quote(&format!("{column}={near}")))),
                        );
                        roles.push(ColumnRole::Dropped(original.to_owned()));
                        continue;
                    }
                }
                if name.chars().any(char::is_whitespace) {
                    let snake = name.split_whitespace().collect::<Vec<_>>().join("_");
                    problem(
                        format!("metadata column '{name}' contains whitespace, which Voucherify refuses in metadata names"),
                        format!("rename the header, e.g. to '{snake}' (--rename {})", shell_quote(&format!("{column}={snake}"))),
                        Some(format!("--rename {}", shell_quote(&format!("{column}={snake}")))),
                    );
                    roles.push(ColumnRole::Dropped(original.to_owned()));
                    continue;
                }
                if POSITION_COLUMNS.contains(&name) {
                    let other = format!("{name}_value");
                    problem(
                        format!("metadata column '{name}' has a name that rules reserve for a row's position"),
                        format!(
                            "rename the header (reserved: {}), e.g. --rename {}",
                            POSITION_COLUMNS.join(", "),
                            shell_quote(&format!("{column}={other}"))
                        ),
                        Some(format!("--rename {}", shell_quote(&format!("{column}={other}")))),
                    );
                    roles.push(ColumnRole::Dropped(original.to_owned()));
                    continue;
                }
                ColumnRole::Metadata(name.to_owned())
            }
        };
        let counted = !matches!(role, ColumnRole::Dropped(_) | ColumnRole::Report(_));
        if let Some(&earlier) = counted.then(|| seen.get(role.output_name())).flatten() {
            let other = format!("{}_{column_no}", role.output_name().replace(' ', "_"));
            problem(
                format!(
                    "columns {} ('{}') and {column_no} ('{name}') both mean '{}'",
                    earlier + 1,
                    names[earlier].trim(),
                    role.output_name()
                ),
                format!(
                    "leave one out (--drop '#{column_no}') or rename it (--rename '#{column_no}={other}')"
                ),
                Some(format!("--rename '#{column_no}={other}'")),
            );
            roles.push(ColumnRole::Dropped(original.to_owned()));
            continue;
        }
        if counted {
            seen.insert(role.output_name().to_owned(), position);
        }
        roles.push(role);
    }
    if !roles.contains(&ColumnRole::Known(KnownColumn::Code)) && problems.is_empty() {
        let mut message = "there is no Code column".to_owned();
        if let Some(near) = names
            .iter()
            .map(|n| n.trim())
            .find(|n| suggest::distance(n, "Code") == 1)
        {
            message.push_str(&format!(": did you mean '{near}'?"));
        }
        problems.push(HeaderProblem {
            message,
            fix: "the first line must be a header naming the columns, one of them 'Code' (any letter case)".into(),
            option: None,
        });
    }
    if problems.is_empty() {
        Ok(roles)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests;

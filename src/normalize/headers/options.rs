//! The user's header options (`--rename`, `--drop`, `--keep`, `--metadata`): which column
//! each names, and the names that name no column.

use crate::error::{Error, Result};

/// Settings that change how headers are read.
#[derive(Debug, Clone, Default)]
pub struct HeaderOptions {
    /// Columns the user declared to be metadata although they look like a misspelled known column.
    pub declared_metadata: Vec<String>,
    /// `--rename OLD=NEW`: header names replaced before anything else looks at them.
    pub renames: Vec<(String, String)>,
    /// `--drop COLUMN`: columns left out of the import (by their name before or after renaming).
    pub drops: Vec<String>,
    /// `--keep COLUMN`: columns carried with their rows into the reports and the accepted
    /// rows, never imported (by their name before or after renaming, or `#N`).
    pub keeps: Vec<String>,
    /// A column named `metadata` holds a JSON object to spread into metadata columns (exports).
    pub json_metadata: bool,
    /// The properties the metadata schema defines: a header spelled exactly like one is that
    /// metadata property, even when it folds to a known column (`CATEGORY`, `start_date`).
    pub schema_properties: Vec<String>,
}

impl HeaderOptions {
    /// The name a header goes by after `--rename` (by name only).
    pub fn renamed<'a>(&'a self, name: &'a str) -> &'a str {
        self.renames
            .iter()
            .find(|(old, _)| old.trim() == name)
            .map_or(name, |(_, new)| new.trim())
    }

    /// The name the header at `position` (0-based) goes by after `--rename`, which names a
    /// column by its name or as `#N` (1-based).
    pub fn renamed_at<'a>(&'a self, position: usize, name: &'a str) -> &'a str {
        self.renames
            .iter()
            .find(|(old, _)| old.trim() == name || is_position(old, position))
            .map_or(name, |(_, new)| new.trim())
    }

    /// A `--rename` or `--drop` that names no column of any input (by name or `#N`) is a
    /// typo: say so, with the nearest name.
    pub fn check_names(&self, headers: &[Vec<String>]) -> Result<()> {
        let names: Vec<&str> = headers
            .iter()
            .flat_map(|names| names.iter().map(String::as_str))
            .collect();
        let renamed: Vec<&str> = names.iter().map(|n| self.renamed(n)).collect();
        let unknown = |wanted: &str, pool: &[&str], option: &str| -> Result<()> {
            if pool.contains(&wanted) {
                return Ok(());
            }
            let mut message = format!("{option} {wanted}: no input has a column '{wanted}'");
            if let Some(near) = crate::suggest::closest(wanted, pool.iter().copied()) {
                message.push_str(&format!(": did you mean '{near}'?"));
            }
            Err(Error::usage(
                message,
                format!("the columns are: {}", names.join(", ")),
            ))
        };
        // `#N` names a column by its position in each input.
        let widest = headers.iter().map(Vec::len).max().unwrap_or(0);
        let position = |reference: &str, option: &str| -> Option<Result<()>> {
            let n = position_ref(reference)?;
            Some(if (1..=widest).contains(&n) {
                Ok(())
            } else {
                Err(Error::usage(
                    format!(
                        "{option} {reference}: no input has a column {n} (the widest has {widest})"
                    ),
                    "name a column by its name, or by its position from #1",
                ))
            })
        };
        for (old, _) in &self.renames {
            match position(old, "--rename") {
                Some(checked) => checked?,
                None => unknown(old.trim(), &names, "--rename")?,
            }
        }
        let both: Vec<&str> = names.iter().chain(&renamed).copied().collect();
        for drop in &self.drops {
            match position(drop, "--drop") {
                Some(checked) => checked?,
                None => unknown(drop.trim(), &both, "--drop")?,
            }
        }
        for keep in &self.keeps {
            match position(keep, "--keep") {
                Some(checked) => checked?,
                None => unknown(keep.trim(), &both, "--keep")?,
            }
            if let Some(drop) = self.drops.iter().find(|d| d.trim() == keep.trim()) {
                return Err(Error::usage(
                    format!("--keep {keep} and --drop {drop} name the same column"),
                    "a kept column is never imported already: give --keep alone to carry it with its rows, --drop alone to leave it out",
                ));
            }
        }
        Ok(())
    }

    /// Whether `--keep` carries the column at `position` (named by its name, its new name or
    /// `#N`).
    pub fn kept_at(&self, position: usize, original: &str, renamed: &str) -> bool {
        self.keeps
            .iter()
            .any(|k| k.trim() == original || k.trim() == renamed || is_position(k, position))
    }

    /// Whether `--drop` leaves out the column at `position` (named by its name, its new name
    /// or `#N`).
    pub fn dropped_at(&self, position: usize, original: &str, renamed: &str) -> bool {
        self.drops
            .iter()
            .any(|d| d.trim() == original || d.trim() == renamed || is_position(d, position))
    }
}

/// Whether an option's column `#N` is the column at `position` (0-based).
fn is_position(reference: &str, position: usize) -> bool {
    reference
        .trim()
        .strip_prefix('#')
        .and_then(|n| n.parse::<usize>().ok())
        .is_some_and(|n| n == position + 1)
}

/// The 1-based column an option names as `#N`.
pub fn position_ref(reference: &str) -> Option<usize> {
    reference.trim().strip_prefix('#')?.parse().ok()
}

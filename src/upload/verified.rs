//! What the read-back found, for people: `DIR/upload-verify.csv` (every mismatch, mapped back
//! to the input row through `origins.csv`, safe to open in a spreadsheet) and the patterns the
//! mismatches of a column follow, each with what it means and the fix.

use std::fs;
use std::path::Path;

use serde::Serialize;

use super::compare::{Mismatch, MismatchKind};
use super::state::{write_atomically, UploadState};
use crate::error::{Error, Result};
use crate::folder::formula_safe;
use crate::folder::origins::Origins;

/// Mismatches between what the batches sent and what Voucherify stored.
pub use crate::folder::VERIFY_FILE;

/// A pattern the mismatches of one column follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Pattern {
    /// The column.
    pub column: String,
    /// The kind of mismatch every one of the column's mismatches is.
    pub kind: MismatchKind,
    /// Codes it was seen on.
    pub codes: u64,
    /// What it means and what to do.
    pub advice: String,
}

/// Writes `upload-verify.csv`: `batch`, `file`, `row` (the input file and its data row),
/// `code`, `column`, `sent`, `stored`, `kind`. Gives its path, or None (and removes an old
/// one) when nothing differs.
pub(crate) fn write(dir: &Path, state: &UploadState) -> Result<Option<String>> {
    let target = dir.join(VERIFY_FILE);
    let any = state.batches.iter().any(|b| {
        b.verification
            .as_ref()
            .is_some_and(|v| !v.mismatches.is_empty())
    });
    if !any {
        if target.exists() {
            fs::remove_file(&target).map_err(|e| Error::io(&target, e))?;
        }
        return Ok(None);
    }
    let origins = Origins::read(dir)?;
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let broken = |e: csv::Error| Error::Invariant(e.to_string());
    out.write_record([
        "batch", "file", "row", "code", "column", "sent", "stored", "kind",
    ])
    .map_err(broken)?;
    for (number, batch) in state.batches.iter().enumerate() {
        let Some(verification) = &batch.verification else {
            continue;
        };
        for m in &verification.mismatches {
            let (file, row) = match origins.locate(number as u32 + 1, m.row) {
                Some((file, row)) => (file, row.to_string()),
                None => (format!("{} (batch row)", batch.path), m.row.to_string()),
            };
            out.write_record([
                formula_safe(batch.path.clone()),
                formula_safe(file),
                row,
                formula_safe(m.code.clone()),
                formula_safe(m.column.clone()),
                formula_safe(m.sent.clone()),
                formula_safe(m.stored.clone()),
                kind_name(m.kind).to_owned(),
            ])
            .map_err(broken)?;
        }
    }
    let bytes = out
        .into_inner()
        .map_err(|e| Error::Invariant(e.to_string()))?;
    write_atomically(&target, &bytes)?;
    Ok(Some(target.display().to_string()))
}

fn kind_name(kind: MismatchKind) -> &'static str {
    match kind {
        MismatchKind::Different => "different",
        MismatchKind::Missing => "missing",
        MismatchKind::Times100 => "times_100",
        MismatchKind::Hundredth => "hundredth",
        MismatchKind::BooleanAsText => "boolean_as_text",
        MismatchKind::NotFound => "not_found",
    }
}

/// The patterns in the mismatches: a column whose every mismatch is of one telling kind (an
/// amount 100x or 1/100x, a value sent and not stored, a boolean stored as text), and codes
/// reported imported that are not found.
pub fn patterns<'a>(mismatches: impl IntoIterator<Item = &'a Mismatch>) -> Vec<Pattern> {
    let mut by_column: Vec<(String, Vec<&Mismatch>)> = Vec::new();
    for m in mismatches {
        match by_column.iter_mut().find(|(c, _)| *c == m.column) {
            Some((_, list)) => list.push(m),
            None => by_column.push((m.column.clone(), vec![m])),
        }
    }
    let mut found = Vec::new();
    for (column, list) in by_column {
        let kind = list[0].kind;
        if kind == MismatchKind::Different || list.iter().any(|m| m.kind != kind) {
            continue;
        }
        let example = list[0];
        let codes = list.len() as u64;
        let advice = match kind {
            MismatchKind::Times100 => format!(
                "Voucherify holds every {column} at 100 times what the batch sent (sent {}, stored {}): it reads CSV amounts in major units. Upload nothing more; prepare again with --batch-amount-unit major",
                example.sent, example.stored
            ),
            MismatchKind::Hundredth => format!(
                "Voucherify holds every {column} at 1/100 of what the batch sent (sent {}, stored {}): it reads the batches' amounts in another unit than the whole minor units they carry. Upload nothing more; check the input's unit (--amount-unit) and the campaign's currency",
                example.sent, example.stored
            ),
            MismatchKind::Missing if column == "Start Date" || column == "Expiration Date" => format!(
                "Voucherify holds no {column} for the codes that sent one: this campaign import did not map {column}. Set it on the campaign, or per code with the API, instead"
            ),
            MismatchKind::Missing => format!(
                "Voucherify did not store '{column}' for the codes that sent it: if it is metadata, the project's schema may take defined properties only (allow_defined_only) or spell the key otherwise"
            ),
            MismatchKind::BooleanAsText => format!(
                "Voucherify stored metadata '{column}' as text ('{}'), not as a boolean: the project does not define {column} as a boolean property. Define it in the metadata schema before importing more",
                example.sent
            ),
            MismatchKind::NotFound => format!(
                "{codes} code(s) Voucherify reported imported are not found by GET /v1/vouchers/{{code}} (first: {}): the job's counts are not to be believed",
                example.code
            ),
            MismatchKind::Different => unreachable!("left out above"),
        };
        found.push(Pattern {
            column,
            kind,
            codes,
            advice,
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mismatch(column: &str, kind: MismatchKind) -> Mismatch {
        Mismatch {
            row: 1,
            code: "GC-1".into(),
            column: column.into(),
            sent: "10000".into(),
            stored: "100".into(),
            kind,
        }
    }

    #[test]
    fn a_column_of_one_telling_kind_is_a_pattern_and_a_mixed_one_is_not() {
        let list = [
            mismatch("Gift Amount", MismatchKind::Hundredth),
            mismatch("Gift Amount", MismatchKind::Hundredth),
            mismatch("Start Date", MismatchKind::Missing),
            mismatch("tier", MismatchKind::Different),
            mismatch("vip", MismatchKind::BooleanAsText),
            mismatch("vip", MismatchKind::Different),
        ];
        let found = patterns(&list);
        let named: Vec<(&str, u64)> = found.iter().map(|p| (p.column.as_str(), p.codes)).collect();
        assert_eq!(named, [("Gift Amount", 2), ("Start Date", 1)]);
        assert!(found[0].advice.contains("1/100"), "{}", found[0].advice);
        assert!(
            found[1].advice.contains("did not map Start Date"),
            "{}",
            found[1].advice
        );
    }
}

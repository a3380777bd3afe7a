//! What the read-back found, for people: `DIR/upload-verify.csv` (every mismatch, mapped back
//! to the input row through `origins.csv`, safe to open in a spreadsheet) and the patterns the
//! mismatches of a column follow, each with what it means and the fix.

use std::fs;
use std::path::Path;

use serde::Serialize;

use super::compare::{Mismatch, MismatchKind};
use super::state::{write_atomically, BatchState, GiftEvidence, UploadState};
use crate::error::{Error, Result};
use crate::folder::formula_safe;
use crate::folder::origins::Origins;

/// Mismatches between what the batches sent and what Voucherify stored.
use crate::folder::VERIFY_FILE;

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
/// `code`, `column`, `sent`, `stored`, `kind`, then the row's kept columns (`--keep`). Gives
/// its path, or None (and removes an old
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
    let kept_columns = origins.kept_columns().len();
    out.write_record(
        [
            "batch", "file", "row", "code", "column", "sent", "stored", "kind",
        ]
        .into_iter()
        .map(str::to_owned)
        .chain(
            origins
                .kept_columns()
                .iter()
                .map(|c| formula_safe(c.clone())),
        ),
    )
    .map_err(broken)?;
    for (number, batch) in state.batches.iter().enumerate() {
        let Some(verification) = &batch.verification else {
            continue;
        };
        for m in &verification.mismatches {
            let (file, row, kept) = match origins.locate(number as u32 + 1, m.row) {
                Some(origin) => (origin.file, origin.row.to_string(), origin.kept),
                None => (
                    format!("{} (batch row)", batch.path),
                    m.row.to_string(),
                    Vec::new(),
                ),
            };
            let fixed = [
                formula_safe(batch.path.clone()),
                formula_safe(file),
                row,
                formula_safe(m.code.clone()),
                formula_safe(m.column.clone()),
                formula_safe(m.sent.clone()),
                formula_safe(m.stored.clone()),
                kind_name(m.kind).to_owned(),
            ];
            let kept =
                (0..kept_columns).map(|at| formula_safe(kept.get(at).cloned().unwrap_or_default()));
            out.write_record(fixed.into_iter().chain(kept))
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
        MismatchKind::DateShifted => "date_shifted",
        MismatchKind::GiftAmountAsBalance => "gift_amount_as_balance",
        MismatchKind::GiftAmountAsInitial => "gift_amount_as_initial",
    }
}

/// What the read-back found that is not a mismatch: metadata Voucherify stored as text
/// because the project has no definition for it (what it documents), the reading of
/// `Gift Amount` the cards tell, an `operation_status` of `UNKNOWN`.
pub(crate) fn notes(batches: &[BatchState], gift: GiftEvidence) -> Vec<String> {
    let mut notes = Vec::new();
    let mut as_text: Vec<(&str, u64)> = Vec::new();
    for note in batches
        .iter()
        .filter_map(|b| b.verification.as_ref())
        .flat_map(|v| &v.notes)
    {
        match as_text.iter_mut().find(|(c, _)| *c == note.column) {
            Some((_, n)) => *n += 1,
            None => as_text.push((&note.column, 1)),
        }
    }
    for (column, codes) in as_text {
        notes.push(format!(
            "metadata '{column}' is stored as text on {codes} code(s) read back ('true' as \"true\"): Voucherify stores a property it has no definition for as text. To have booleans, define '{column}' as a boolean property of the voucher metadata schema (and give prepare --metadata-schema)"
        ));
    }
    match (gift.initial, gift.balance) {
        (0, 0) => {}
        (initial, 0) => notes.push(format!(
            "Gift Amount: the project reads it as the card's initial amount (gift.amount = the amount sent, gift.balance = amount - redeemed; {initial} code(s) with a redeemed amount tell)"
        )),
        (0, balance) => notes.push(format!(
            "Gift Amount: the project reads it as the card's current balance (gift.balance = the amount sent, gift.amount larger; {balance} code(s) with a redeemed amount tell): prepare with --gift-amount balance"
        )),
        (initial, balance) => notes.push(format!(
            "Gift Amount: the read-back tells both readings ({initial} code(s) as the initial amount, {balance} as the balance): check the cards in the dashboard"
        )),
    }
    for batch in batches {
        if batch.operation_status.as_deref() == Some("UNKNOWN") {
            notes.push(format!(
                "{}: Voucherify's operation_status is UNKNOWN (it does not know whether the import succeeded): check the campaign's codes",
                batch.path
            ));
        }
    }
    notes
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
        let shift = match kind {
            MismatchKind::DateShifted => {
                let shifts: Vec<Option<i64>> = list
                    .iter()
                    .map(|m| super::compare::shift_ms(&m.sent, &m.stored))
                    .collect();
                if shifts.iter().any(|s| *s != shifts[0]) {
                    continue;
                }
                shifts[0].unwrap_or(0)
            }
            _ => 0,
        };
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
            MismatchKind::DateShifted => format!(
                "dates read {} from UTC (as UTC{zone}): the project's time zone (sent {}, stored {}). Upload nothing more; prepare again with --dates-in {zone} (or the project's zone name)",
                describe_shift(shift),
                example.sent,
                example.stored,
                zone = zone_of_shift(shift)
            ),
            MismatchKind::GiftAmountAsBalance => format!(
                "Voucherify holds every {column} as the card's current balance (gift.balance = the amount sent, gift.amount larger): the project reads Gift Amount as the balance. Upload nothing more; prepare again with --gift-amount balance"
            ),
            MismatchKind::GiftAmountAsInitial => format!(
                "Voucherify holds every {column} as the card's initial amount (gift.amount = the amount sent, gift.balance smaller): the project reads Gift Amount as the initial amount. Upload nothing more; prepare again with --gift-amount initial"
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

/// A shift as people say it: `2 hours`, `5 hours 30 minutes`.
fn describe_shift(ms: i64) -> String {
    let minutes = ms.abs() / 60_000;
    let (h, m) = (minutes / 60, minutes % 60);
    let mut text = match h {
        0 => String::new(),
        1 => "1 hour".to_owned(),
        h => format!("{h} hours"),
    };
    if m > 0 {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&format!("{m} minutes"));
    }
    text
}

/// The UTC offset that reads a time so (stored = sent - offset): a time stored earlier than
/// sent was read in a zone ahead of UTC.
fn zone_of_shift(ms: i64) -> String {
    let minutes = -ms / 60_000;
    let sign = if minutes < 0 { '-' } else { '+' };
    format!("{sign}{:02}:{:02}", minutes.abs() / 60, minutes.abs() % 60)
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

    #[test]
    fn dates_shifted_alike_name_the_project_zone() {
        let shifted = |sent: &str, stored: &str| Mismatch {
            row: 1,
            code: "GC-1".into(),
            column: "Start Date".into(),
            sent: sent.into(),
            stored: format!("\"{stored}\""),
            kind: MismatchKind::DateShifted,
        };
        let list = [
            shifted("2026-01-01T10:00", "2026-01-01T08:00:00.000Z"),
            shifted("2026-03-01", "2026-02-28T22:00:00.000Z"),
        ];
        let found = patterns(&list);
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .advice
                .contains("dates read 2 hours from UTC (as UTC+02:00)")
                && found[0].advice.contains("--dates-in +02:00"),
            "{}",
            found[0].advice
        );
        let mixed = [
            shifted("2026-01-01T10:00", "2026-01-01T08:00:00.000Z"),
            shifted("2026-03-01", "2026-03-01T05:30:00.000Z"),
        ];
        assert!(patterns(&mixed).is_empty(), "two shifts are no one zone");
        assert_eq!(
            describe_shift(-(5 * 60 + 30) * 60_000),
            "5 hours 30 minutes"
        );
        assert_eq!(zone_of_shift((5 * 60 + 30) * 60_000), "-05:30");
    }
}

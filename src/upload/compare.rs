//! Read-back comparison: what a batch row sent against what `GET /v1/vouchers/{code}` says
//! Voucherify stored, column by column, by value rather than by spelling; and which rows of a
//! batch are read back.

use chrono::DateTime;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::state::GiftEvidence;

/// How many codes of each batch `upload --verify` reads back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyCount {
    /// No read-back (`--verify 0`).
    Off,
    /// At most this many per batch, spread over it (the first and last accepted row always).
    Sample(u64),
    /// Every imported code of each batch.
    All,
}

impl VerifyCount {
    /// `20`, `0` (off) or `all`.
    pub fn parse(text: &str) -> Option<VerifyCount> {
        match text.trim() {
            t if t.eq_ignore_ascii_case("all") => Some(VerifyCount::All),
            t => match t.parse::<u64>().ok()? {
                0 => Some(VerifyCount::Off),
                n => Some(VerifyCount::Sample(n)),
            },
        }
    }
}

/// What kind of difference a mismatch is: the kinds a pattern is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MismatchKind {
    /// Voucherify holds another value.
    Different,
    /// A value was sent and Voucherify holds none.
    Missing,
    /// An amount stored at 100 times the value sent.
    Times100,
    /// An amount stored at 1/100 of the value sent.
    Hundredth,
    /// A `true`/`false` metadata value stored as text, not as a boolean.
    BooleanAsText,
    /// Voucherify reported the code imported, and `GET` answers 404.
    NotFound,
    /// A date stored at a whole number of quarter hours from the one sent: read in another
    /// time zone than UTC.
    DateShifted,
    /// `Gift Amount` stored as `gift.balance` (the current balance), with `gift.amount`
    /// larger: the project reads it as the balance, not the initial amount.
    GiftAmountAsBalance,
    /// `Gift Amount` stored as `gift.amount` (the lifetime income), with `gift.balance`
    /// smaller: the project reads it as the initial amount, not the balance.
    GiftAmountAsInitial,
}

/// One column of one code whose stored value is not what the batch sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Mismatch {
    /// The batch's data row (1 = the first after the header).
    pub row: u64,
    /// The code read back.
    pub code: String,
    /// The column (as the batch names it) whose value differs.
    pub column: String,
    /// The value sent.
    pub sent: String,
    /// What Voucherify holds, as JSON text (`(none)` when it holds nothing).
    pub stored: String,
    /// How it differs.
    pub kind: MismatchKind,
}

/// The batch rows to read back: `count` of the accepted rows (all rows but `failed`), spread
/// evenly, always with the first and the last; every accepted row for `All` or when there are
/// no more than `count`.
pub fn pick_rows(rows: u64, failed: &[u64], count: VerifyCount) -> Vec<u64> {
    let accepted: Vec<u64> = (1..=rows).filter(|r| !failed.contains(r)).collect();
    let wanted = match count {
        VerifyCount::Off => return Vec::new(),
        VerifyCount::All => return accepted,
        VerifyCount::Sample(n) if n as usize >= accepted.len() => return accepted,
        VerifyCount::Sample(n) => n as usize,
    };
    if wanted == 1 {
        return accepted.into_iter().take(1).collect();
    }
    let last = accepted.len() - 1;
    let mut picked: Vec<u64> = (0..wanted)
        .map(|i| accepted[i * last / (wanted - 1)])
        .collect();
    picked.dedup();
    picked
}

/// The import columns that are not metadata, as batches spell them.
const KNOWN: [&str; 9] = [
    "Code",
    "Category",
    "Active",
    "Gift Amount",
    "Redeemed Amount",
    "Redeemed Quantity",
    "Loyalty Points",
    "Start Date",
    "Expiration Date",
];

use crate::folder::options::GiftAmountReading;

/// What the prepared folder says of how its rows are to be read back.
#[derive(Debug, Clone, Default)]
pub(crate) struct Reading {
    /// How `Gift Amount` is meant (`prepare --gift-amount`).
    pub gift_amount: GiftAmountReading,
    /// The metadata properties the schema given to `prepare` defines, with their types
    /// (`boolean`, `date`, ...); empty without a schema. Voucherify stores a property it has
    /// no definition for as text.
    pub metadata_types: std::collections::BTreeMap<String, String>,
}

/// One row read back: what differs, what differs only as Voucherify documents (notes), and
/// what it tells of the gift amount's reading.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct RowComparison {
    pub mismatches: Vec<Mismatch>,
    pub notes: Vec<Mismatch>,
    pub gift: GiftEvidence,
}

/// Compares one batch row (`header`, `fields`) with the voucher Voucherify holds. `update`:
/// the code existed before the import, and an import updates only `Active` and `Category`.
/// An empty cell is not compared (the campaign's default applies), nor is `Code`.
pub(crate) fn compare(
    row: u64,
    header: &[String],
    fields: &[String],
    stored: &Value,
    update: bool,
    reading: &Reading,
) -> RowComparison {
    let code = header
        .iter()
        .position(|h| h == "Code")
        .and_then(|c| fields.get(c))
        .cloned()
        .unwrap_or_default();
    let mut found = RowComparison::default();
    // The voucher answered must be the one asked for.
    if let Some(held) = stored.get("code").filter(|c| !c.is_null()) {
        if held.as_str() != Some(code.as_str()) {
            found.mismatches.push(Mismatch {
                row,
                code: code.clone(),
                column: "Code".to_owned(),
                sent: code.clone(),
                stored: held.to_string(),
                kind: MismatchKind::Different,
            });
        }
    }
    for (column, sent) in header.iter().zip(fields) {
        let sent = sent.trim();
        if sent.is_empty() || column == "Code" {
            continue;
        }
        if update && column != "Active" && column != "Category" {
            continue;
        }
        let (held, kind) = match column.as_str() {
            "Active" => (
                stored.get("active"),
                compare_boolean(sent, stored.get("active")),
            ),
            "Category" if sent.starts_with("cat_") => {
                let held = stored.get("category_id");
                (held, compare_text(sent, held))
            }
            "Category" => {
                let held = stored.get("category");
                (held, compare_text(sent, held))
            }
            "Gift Amount" => gift_amount(sent, stored, reading.gift_amount, &mut found.gift),
            "Redeemed Amount" => amount(sent, pointer(stored, "/redemption/redeemed_amount")),
            "Loyalty Points" => {
                let held = pointer(stored, "/loyalty_card/points");
                (held, compare_number(sent, held))
            }
            "Redeemed Quantity" => {
                let held = pointer(stored, "/redemption/redeemed_quantity");
                (held, compare_number(sent, held))
            }
            "Start Date" => {
                let held = stored.get("start_date");
                (held, compare_instant(sent, held))
            }
            "Expiration Date" => {
                let held = stored.get("expiration_date");
                (held, compare_instant(sent, held))
            }
            key if !KNOWN.contains(&key) => {
                let held = stored.get("metadata").and_then(|m| m.get(key));
                let defined = reading.metadata_types.get(key).map(String::as_str);
                (held, compare_metadata(sent, held, defined))
            }
            _ => continue,
        };
        let Some(kind) = kind else { continue };
        let mismatch = Mismatch {
            row,
            code: code.clone(),
            column: column.clone(),
            sent: sent.to_owned(),
            stored: held
                .filter(|v| !v.is_null())
                .map_or_else(|| "(none)".to_owned(), Value::to_string),
            kind,
        };
        // Voucherify documents that a property it has no definition for is stored as text.
        let undefined = !KNOWN.contains(&column.as_str())
            && reading.metadata_types.get(column).map(String::as_str) != Some("boolean");
        if kind == MismatchKind::BooleanAsText && undefined {
            found.notes.push(mismatch);
        } else {
            found.mismatches.push(mismatch);
        }
    }
    found
}

/// `Gift Amount` against `gift.amount` (the initial reading) or `gift.balance` (the balance
/// reading), noting which reading the stored voucher follows when the two differ.
fn gift_amount<'a>(
    sent: &str,
    stored: &'a Value,
    reading: GiftAmountReading,
    evidence: &mut GiftEvidence,
) -> (Option<&'a Value>, Verdict) {
    let initial = pointer(stored, "/gift/amount");
    let balance = pointer(stored, "/gift/balance");
    let value = parse_number(sent);
    let (a, b) = (held_number(initial), held_number(balance));
    let is_sent = |held: Option<f64>| value.is_some() && held == value;
    // Only a card whose amount and balance differ tells the readings apart.
    let tells = a.is_some() && b.is_some() && a != b;
    if tells && is_sent(a) {
        evidence.initial += 1;
    }
    if tells && is_sent(b) {
        evidence.balance += 1;
    }
    match reading {
        GiftAmountReading::Initial if tells && is_sent(b) => {
            (initial, Some(MismatchKind::GiftAmountAsBalance))
        }
        GiftAmountReading::Balance if tells && is_sent(a) => {
            (balance, Some(MismatchKind::GiftAmountAsInitial))
        }
        GiftAmountReading::Initial => amount(sent, initial),
        // A voucher without `gift.balance` is compared on its amount.
        GiftAmountReading::Balance => amount(sent, balance.or(initial)),
    }
}

/// The mismatch of a code `GET` does not find.
pub fn not_found(row: u64, code: &str) -> Mismatch {
    Mismatch {
        row,
        code: code.to_owned(),
        column: "Code".to_owned(),
        sent: code.to_owned(),
        stored: "(404: not found)".to_owned(),
        kind: MismatchKind::NotFound,
    }
}

fn pointer<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    value.pointer(path)
}

/// None when they agree; else the kind of difference.
type Verdict = Option<MismatchKind>;

fn missing(held: Option<&Value>) -> bool {
    held.is_none_or(Value::is_null)
}

fn compare_boolean(sent: &str, held: Option<&Value>) -> Verdict {
    if missing(held) {
        return Some(MismatchKind::Missing);
    }
    let wanted = parse_boolean(sent);
    match held {
        Some(Value::Bool(b)) if wanted == Some(*b) => None,
        _ => Some(MismatchKind::Different),
    }
}

fn parse_boolean(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn compare_text(sent: &str, held: Option<&Value>) -> Verdict {
    match held {
        _ if missing(held) => Some(MismatchKind::Missing),
        Some(Value::String(s)) if s == sent => None,
        _ => Some(MismatchKind::Different),
    }
}

/// A decimal number in the plain forms batches carry (`-12`, `1.50`).
fn parse_number(text: &str) -> Option<f64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    let plain = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if plain(whole) && plain(fraction) {
        text.parse().ok()
    } else {
        None
    }
}

fn held_number(held: Option<&Value>) -> Option<f64> {
    match held? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => parse_number(s.trim()),
        _ => None,
    }
}

fn compare_number(sent: &str, held: Option<&Value>) -> Verdict {
    if missing(held) {
        return Some(MismatchKind::Missing);
    }
    match (parse_number(sent), held_number(held)) {
        (Some(a), Some(b)) if a == b => None,
        _ => Some(MismatchKind::Different),
    }
}

fn amount<'a>(sent: &str, held: Option<&'a Value>) -> (Option<&'a Value>, Verdict) {
    if missing(held) {
        return (held, Some(MismatchKind::Missing));
    }
    let verdict = match (parse_number(sent), held_number(held)) {
        (Some(a), Some(b)) if a == b => None,
        (Some(a), Some(b)) if a != 0.0 && b == a * 100.0 => Some(MismatchKind::Times100),
        // A hundredth of a whole number of minor units may have been rounded either way.
        (Some(a), Some(b))
            if a != 0.0 && (b == (a / 100.0).trunc() || b == (a / 100.0).round()) =>
        {
            Some(MismatchKind::Hundredth)
        }
        _ => Some(MismatchKind::Different),
    };
    (held, verdict)
}

/// A date or datetime as milliseconds since the epoch: RFC 3339 (what Voucherify answers), or
/// one of the forms batches carry ([`crate::formats::parse_voucherify_datetime`]; without a
/// zone, UTC).
fn parse_instant(text: &str) -> Option<i64> {
    match DateTime::parse_from_rfc3339(text) {
        Ok(at) => Some(at.timestamp_millis()),
        Err(_) => crate::formats::parse_voucherify_datetime(text),
    }
}

/// A quarter of an hour, in milliseconds: every time zone's offset is a multiple of it.
const QUARTER_HOUR_MS: i64 = 15 * 60 * 1000;

fn compare_instant(sent: &str, held: Option<&Value>) -> Verdict {
    if missing(held) {
        return Some(MismatchKind::Missing);
    }
    let stored = held.and_then(Value::as_str).and_then(parse_instant);
    match (parse_instant(sent), stored) {
        (Some(a), Some(b)) if a == b => None,
        (Some(a), Some(b)) if is_zone_offset(b - a) => Some(MismatchKind::DateShifted),
        _ => Some(MismatchKind::Different),
    }
}

/// Whether a difference of `ms` is what reading a time in a zone other than UTC makes: whole
/// quarter hours, at most 14 hours.
fn is_zone_offset(ms: i64) -> bool {
    ms != 0 && ms % QUARTER_HOUR_MS == 0 && ms.abs() <= 14 * 3600 * 1000
}

/// How far a stored date is from the one sent, in milliseconds, when both read as instants.
pub(crate) fn shift_ms(sent: &str, stored: &str) -> Option<i64> {
    let stored = stored.trim_matches('"');
    Some(parse_instant(stored)? - parse_instant(sent)?)
}

/// A metadata value: a boolean word must be held as a boolean, a number as the same number
/// (or text that spells it: Voucherify stores properties it has no definition for as text),
/// a `date` or `datetime` property of the schema as the same instant, an array item by item,
/// anything else as the same text; `null` as nothing. `defined`: the property's type in the
/// schema given to prepare.
fn compare_metadata(sent: &str, held: Option<&Value>, defined: Option<&str>) -> Verdict {
    if sent.eq_ignore_ascii_case("null") {
        return (!missing(held)).then_some(MismatchKind::Different);
    }
    if matches!(defined, Some("date" | "datetime")) {
        if let Some(Value::String(text)) = held {
            return match (parse_instant(sent), parse_instant(text)) {
                (Some(a), Some(b)) if a == b => None,
                _ if text == sent => None,
                _ => Some(MismatchKind::Different),
            };
        }
    }
    match held {
        None | Some(Value::Null) => Some(MismatchKind::Missing),
        Some(Value::Array(items)) => {
            let sent: Vec<&str> = sent.split(',').map(str::trim).collect();
            let same = sent.len() == items.len()
                && sent
                    .iter()
                    .zip(items)
                    .all(|(s, item)| metadata_scalar(s, item).is_none());
            (!same).then_some(MismatchKind::Different)
        }
        Some(item) => metadata_scalar(sent, item),
    }
}

fn metadata_scalar(sent: &str, held: &Value) -> Verdict {
    let boolean = parse_boolean(sent);
    match held {
        Value::Bool(b) if boolean == Some(*b) => None,
        Value::String(_) if boolean.is_some() => Some(MismatchKind::BooleanAsText),
        Value::String(s) if s == sent => None,
        Value::Number(n) => same_number(sent, &n.to_string())
            .is_none_or(|same| !same)
            .then_some(MismatchKind::Different),
        _ => Some(MismatchKind::Different),
    }
}

/// Whether two spellings of a decimal number are the same number, exactly: the same digits
/// once trailing zeros of the fraction are dropped (`1.50` = `1.5`, `7` = `7.0`), and nothing
/// else (`00501` is not `501`: the leading zeros were lost; `12345678901234567` is not
/// `12345678901234568`: a 17-digit id rounded to a double). None when either is no plain
/// decimal (`1e5`, `1.2345678901234568e16`).
pub(crate) fn same_number(a: &str, b: &str) -> Option<bool> {
    Some(canonical_number(a)? == canonical_number(b)?)
}

/// A plain decimal (`-12`, `1.50`) without the trailing zeros of its fraction, or None.
fn canonical_number(text: &str) -> Option<&str> {
    parse_number(text)?;
    Some(match text.split_once('.') {
        Some(_) => text.trim_end_matches('0').trim_end_matches('.'),
        None => text,
    })
}

#[cfg(test)]
mod tests;

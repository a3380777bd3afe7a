//! Read-back comparison: what a batch row sent against what `GET /v1/vouchers/{code}` says
//! Voucherify stored, column by column, by value rather than by spelling; and which rows of a
//! batch are read back.

use chrono::DateTime;
use serde::{Deserialize, Serialize};
use serde_json::Value;

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

/// Compares one batch row (`header`, `fields`) with the voucher Voucherify holds. `update`:
/// the code existed before the import, and an import updates only `Active` and `Category`.
/// An empty cell is not compared (the campaign's default applies), nor is `Code`.
pub fn compare(
    row: u64,
    header: &[String],
    fields: &[String],
    stored: &Value,
    update: bool,
) -> Vec<Mismatch> {
    let code = header
        .iter()
        .position(|h| h == "Code")
        .and_then(|c| fields.get(c))
        .cloned()
        .unwrap_or_default();
    let mut found = Vec::new();
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
            "Gift Amount" => amount(sent, pointer(stored, "/gift/amount")),
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
                (held, compare_metadata(sent, held))
            }
            _ => continue,
        };
        if let Some(kind) = kind {
            found.push(Mismatch {
                row,
                code: code.clone(),
                column: column.clone(),
                sent: sent.to_owned(),
                stored: held
                    .filter(|v| !v.is_null())
                    .map_or_else(|| "(none)".to_owned(), Value::to_string),
                kind,
            });
        }
    }
    found
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

fn compare_instant(sent: &str, held: Option<&Value>) -> Verdict {
    if missing(held) {
        return Some(MismatchKind::Missing);
    }
    let stored = held.and_then(Value::as_str).and_then(parse_instant);
    match (parse_instant(sent), stored) {
        (Some(a), Some(b)) if a == b => None,
        _ => Some(MismatchKind::Different),
    }
}

/// A metadata value: a boolean word must be held as a boolean, a number as the same number
/// (or text that spells it: Voucherify stores properties it has no definition for as text),
/// an array item by item, anything else as the same text; `null` as nothing.
fn compare_metadata(sent: &str, held: Option<&Value>) -> Verdict {
    if sent.eq_ignore_ascii_case("null") {
        return (!missing(held)).then_some(MismatchKind::Different);
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
        Value::Number(n) => (parse_number(sent) != n.as_f64()).then_some(MismatchKind::Different),
        _ => Some(MismatchKind::Different),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn header(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_sample_is_spread_and_holds_the_first_and_last_accepted_rows() {
        assert_eq!(pick_rows(10, &[], VerifyCount::Sample(3)), [1, 5, 10]);
        assert_eq!(pick_rows(10, &[1, 10], VerifyCount::Sample(2)), [2, 9]);
        assert_eq!(pick_rows(4, &[2], VerifyCount::Sample(20)), [1, 3, 4]);
        assert_eq!(pick_rows(4, &[], VerifyCount::All), [1, 2, 3, 4]);
        assert!(pick_rows(4, &[], VerifyCount::Off).is_empty());
        let picked = pick_rows(100_000, &[], VerifyCount::Sample(20));
        assert_eq!(picked.len(), 20);
        assert_eq!((picked[0], picked[19]), (1, 100_000));
    }

    #[test]
    fn a_faithful_voucher_has_no_mismatch() {
        let header = header(&[
            "Code",
            "Active",
            "Category",
            "Gift Amount",
            "Start Date",
            "vip",
            "rank",
            "tags",
            "note",
        ]);
        let fields: Vec<String> = [
            "GC-1",
            "true",
            "summer",
            "10050",
            "2026-01-01",
            "TRUE",
            "1.50",
            "a,b",
            "",
        ]
        .map(String::from)
        .to_vec();
        let stored = json!({"code": "GC-1", "active": true, "category": "summer",
            "gift": {"amount": 10050, "balance": 10050},
            "start_date": "2026-01-01T00:00:00.000Z",
            "metadata": {"vip": true, "rank": 1.5, "tags": ["a", "b"]}});
        assert_eq!(compare(1, &header, &fields, &stored, false), []);
    }

    #[test]
    fn each_kind_of_difference_is_named() {
        let header = header(&["Code", "Gift Amount", "Start Date", "vip", "region", "tier"]);
        let fields: Vec<String> = ["GC-1", "10000", "2026-01-01T10:00", "true", "EU", "gold"]
            .map(String::from)
            .to_vec();
        let stored =
            json!({"gift": {"amount": 100}, "metadata": {"vip": "true", "tier": "silver"}});
        let kinds: Vec<(String, MismatchKind)> = compare(7, &header, &fields, &stored, false)
            .into_iter()
            .map(|m| (m.column, m.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                ("Gift Amount".to_owned(), MismatchKind::Hundredth),
                ("Start Date".to_owned(), MismatchKind::Missing),
                ("vip".to_owned(), MismatchKind::BooleanAsText),
                ("region".to_owned(), MismatchKind::Missing),
                ("tier".to_owned(), MismatchKind::Different),
            ]
        );
        let stored = json!({"gift": {"amount": 1_000_000}});
        let m = compare(1, &header[..2], &fields[..2], &stored, false);
        assert_eq!(m[0].kind, MismatchKind::Times100);
        assert_eq!(
            (m[0].sent.as_str(), m[0].stored.as_str()),
            ("10000", "1000000")
        );
    }

    #[test]
    fn an_update_is_compared_on_active_and_category_only() {
        let header = header(&["Code", "Active", "Gift Amount"]);
        let fields: Vec<String> = ["OLD-1", "false", "5000"].map(String::from).to_vec();
        let stored = json!({"active": false, "gift": {"amount": 100}});
        assert_eq!(compare(1, &header, &fields, &stored, true), []);
        assert_eq!(compare(1, &header, &fields, &stored, false).len(), 1);
    }

    #[test]
    fn dates_are_compared_as_instants() {
        let at = |text: &str| parse_instant(text).unwrap();
        assert_eq!(at("2026-01-01"), at("2026-01-01T00:00:00.000Z"));
        assert_eq!(at("2026-01-01T10"), at("2026-01-01T10:00:00Z"));
        assert_eq!(at("2026-01-01T10:30"), at("2026-01-01T11:30:00+01:00"));
        assert_eq!(
            at("2026-01-01T10:30:05.250Z"),
            at("2026-01-01T10:30:05.25Z")
        );
        assert!(parse_instant("31/12/2026").is_none());
    }
}

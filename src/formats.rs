//! Voucherify's value formats, in one leaf module: the date and datetime forms it takes,
//! amounts in minor or major units, whole numbers. The SQL functions rules call, the
//! normalization of values and the metadata checks all read values through these.

use chrono::NaiveDate;

/// How amounts (`Gift Amount`, `Redeemed Amount`) are written in the input.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum AmountUnit {
    /// Whole numbers of minor units (cents), as the JSON API takes them: `10000` is 100.00.
    #[default]
    Minor,
    /// Major units with at most two decimals: `100.5`, `100.50`, `100`.
    Major,
}

/// Parses one of Voucherify's ISO 8601 forms into milliseconds since the epoch (UTC):
/// `YYYY-MM-DD`, `YYYY-MM-DDTHH`, `YYYY-MM-DDTHH:mm`, `YYYY-MM-DDTHH:mm:ss`,
/// `YYYY-MM-DDTHH:mm:ssZ`, `YYYY-MM-DDTHH:mm:ss.SSSZ`. The date must exist in the calendar.
///
/// ```
/// use voucher_import::formats::parse_voucherify_datetime;
/// assert_eq!(parse_voucherify_datetime("1970-01-02"), Some(86_400_000));
/// assert_eq!(parse_voucherify_datetime("1970-01-01T00:00:01.500Z"), Some(1_500));
/// assert_eq!(parse_voucherify_datetime("2026-02-30"), None);
/// assert_eq!(parse_voucherify_datetime("01/02/2026"), None);
/// ```
pub fn parse_voucherify_datetime(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = b.get(range)?;
        digits.iter().try_fold(0u32, |acc, d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    if !matches!(b.len(), 10 | 13 | 16 | 19 | 20 | 24) || !at(4, b'-') || !at(7, b'-') {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let (mut hour, mut minute, mut second, mut millis) = (0, 0, 0, 0);
    if b.len() >= 13 {
        if !at(10, b'T') {
            return None;
        }
        hour = num(11..13)?;
    }
    if b.len() >= 16 {
        if !at(13, b':') {
            return None;
        }
        minute = num(14..16)?;
    }
    if b.len() >= 19 {
        if !at(16, b':') {
            return None;
        }
        second = num(17..19)?;
    }
    match b.len() {
        20 if !at(19, b'Z') => return None,
        24 => {
            if !at(19, b'.') || !at(23, b'Z') {
                return None;
            }
            millis = num(20..23)?;
        }
        _ => {}
    }
    let time = date.and_hms_milli_opt(hour, minute, second, millis)?;
    Some(time.and_utc().timestamp_millis())
}

/// A non-negative whole number that fits in 64 bits, digits only.
pub fn parse_whole_number(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<i64>().ok()
}

/// An amount in the given unit, as minor units: `Major` takes up to two decimals.
///
/// ```
/// use voucher_import::formats::{parse_amount, AmountUnit};
/// assert_eq!(parse_amount("10000", AmountUnit::Minor), Some(10000));
/// assert_eq!(parse_amount("100.5", AmountUnit::Major), Some(10050));
/// assert_eq!(parse_amount("100.5", AmountUnit::Minor), None);
/// ```
pub fn parse_amount(text: &str, unit: AmountUnit) -> Option<i64> {
    match unit {
        AmountUnit::Minor => parse_whole_number(text),
        AmountUnit::Major => {
            let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
            if text.ends_with('.') || fraction.len() > 2 {
                return None;
            }
            let whole = parse_whole_number(whole)?;
            let cents = if fraction.is_empty() {
                0
            } else {
                parse_whole_number(fraction)? * if fraction.len() == 1 { 10 } else { 1 }
            };
            whole.checked_mul(100)?.checked_add(cents)
        }
    }
}

/// A value written in another form than read: in the form Voucherify takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rewrite {
    /// An amount read in `from` units, written in `to` units: whole minor units (the
    /// default), or major units with two decimals (`--batch-amount-unit major`).
    Amount {
        /// The unit the input gives amounts in.
        from: AmountUnit,
        /// The unit the batches carry.
        to: AmountUnit,
    },
    /// A typed metadata value: `null` (any case) written lowercase, and for a boolean property
    /// `true`/`false` too.
    Lowercase {
        /// The property is a boolean.
        boolean: bool,
    },
    /// An array metadata value: its items without spaces around the commas (each item as
    /// [`Rewrite::Lowercase`] for a boolean array).
    ArrayItems {
        /// The items are booleans.
        boolean: bool,
    },
}

impl Rewrite {
    /// The value as written, when it differs from `value`.
    pub fn apply(self, value: &str) -> Option<String> {
        let canonical = |item: &str, boolean: bool| -> String {
            let keyword = item.eq_ignore_ascii_case("null")
                || (boolean
                    && (item.eq_ignore_ascii_case("true") || item.eq_ignore_ascii_case("false")));
            if keyword {
                item.to_ascii_lowercase()
            } else {
                item.to_owned()
            }
        };
        let written = match self {
            Rewrite::Amount { from, to } => {
                let minor = parse_amount(value, from)?;
                match to {
                    AmountUnit::Minor => minor.to_string(),
                    AmountUnit::Major => format!(
                        "{}{}.{:02}",
                        if minor < 0 { "-" } else { "" },
                        minor.unsigned_abs() / 100,
                        minor.unsigned_abs() % 100
                    ),
                }
            }
            Rewrite::Lowercase { boolean } => canonical(value, boolean),
            Rewrite::ArrayItems { boolean } => value
                .split(',')
                .map(|item| canonical(item.trim(), boolean))
                .collect::<Vec<_>>()
                .join(","),
        };
        (written != value).then_some(written)
    }
}

//! Voucherify's value formats, in one leaf module: the date and datetime forms it takes,
//! amounts in minor or major units, whole numbers. The SQL functions rules call, the
//! normalization of values and the metadata checks all read values through these.

use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use datafusion::arrow::array::timezone::Tz;

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

/// The order of day and month in dates written with slashes, dots or dashes (`31/12/2026`,
/// `12/31/2026`, `31.12.2026`): what `--date-order` says the input uses. Never guessed:
/// `01/02/2026` is either.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum DateOrder {
    /// Day, month, year: `31/12/2026`.
    Dmy,
    /// Month, day, year: `12/31/2026`.
    Mdy,
}

/// A date written with its day and month first (`31/12/2026`, `31.12.2026`, `31-12-2026`,
/// optionally followed by ` 23:59` or ` 23:59:30`), read in `order`, in the ISO form
/// Voucherify takes (`2026-12-31`, `2026-12-31T23:59`, `2026-12-31T23:59:30`). None for
/// text of any other form (a two-digit year, an ISO date) and for a date or time the
/// calendar lacks (`12/31/2026` read day first).
pub fn reorder_date(text: &str, order: DateOrder) -> Option<String> {
    let (date, time) = match text.find([' ', 'T']) {
        Some(at) => (&text[..at], Some(text[at + 1..].trim_start())),
        None => (text, None),
    };
    let separator = date.chars().find(|c| matches!(c, '/' | '.' | '-'))?;
    let parts: Vec<&str> = date.split(separator).collect();
    let number = |part: &str, widths: std::ops::RangeInclusive<usize>| -> Option<u32> {
        (widths.contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse().ok())
            .flatten()
    };
    let [first, second, year] = parts.as_slice() else {
        return None;
    };
    let (first, second, year) = (
        number(first, 1..=2)?,
        number(second, 1..=2)?,
        number(year, 4..=4)?,
    );
    let (day, month) = match order {
        DateOrder::Dmy => (first, second),
        DateOrder::Mdy => (second, first),
    };
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
    let Some(time) = time else {
        return Some(date.format("%Y-%m-%d").to_string());
    };
    let fields: Vec<&str> = time.split(':').collect();
    let (hour, minute, second) = match fields.as_slice() {
        [h, m] => (number(h, 1..=2)?, number(m, 2..=2)?, None),
        [h, m, s] => (
            number(h, 1..=2)?,
            number(m, 2..=2)?,
            Some(number(s, 2..=2)?),
        ),
        _ => return None,
    };
    if hour > 23 || minute > 59 || second.is_some_and(|s| s > 59) {
        return None;
    }
    let day = date.format("%Y-%m-%d");
    Some(match second {
        Some(second) => format!("{day}T{hour:02}:{minute:02}:{second:02}"),
        None => format!("{day}T{hour:02}:{minute:02}"),
    })
}

/// Whether `text` is a number in the scientific notation spreadsheets write a long number in
/// (`1.23457E+12`, `1E+15`): a digit, optionally a dot and digits, `E` or `e`, `+`, digits.
pub fn is_scientific_notation(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    if !b.first().is_some_and(u8::is_ascii_digit) {
        return false;
    }
    let mut at = 1;
    if b.get(at) == Some(&b'.') {
        let fraction = digits(at + 1);
        if fraction == 0 {
            return false;
        }
        at += 1 + fraction;
    }
    if !matches!(b.get(at), Some(b'E' | b'e')) || b.get(at + 1) != Some(&b'+') {
        return false;
    }
    let exponent = digits(at + 2);
    exponent > 0 && at + 2 + exponent == b.len()
}

/// How a date or datetime of the input names its time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateZone {
    /// `...Z`: UTC, Voucherify's documented form.
    Utc,
    /// `...+02:00`: an offset east of UTC, in seconds. Whether Voucherify takes offsets is
    /// unconfirmed, so batches carry such a date converted to UTC.
    Offset(i32),
    /// No zone: Voucherify may read it in the project's time zone (unconfirmed).
    Unnamed,
}

/// A date or datetime of the input: the local date and time as written, and its zone.
/// Voucherify's forms (`YYYY-MM-DD`, `YYYY-MM-DDTHH`, `YYYY-MM-DDTHH:mm`,
/// `YYYY-MM-DDTHH:mm:ss`, `YYYY-MM-DDTHH:mm:ssZ`, `YYYY-MM-DDTHH:mm:ss.SSSZ`), and the
/// forms with minutes and an offset (`YYYY-MM-DDTHH:mm+02:00`, `...:ss+02:00`,
/// `...:ss.SSS-05:30`). The date must exist in the calendar.
pub fn parse_input_datetime(text: &str) -> Option<(NaiveDateTime, DateZone)> {
    let b = text.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = b.get(range)?;
        digits.iter().try_fold(0u32, |acc, d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    // The offset, when the text ends with one after the minutes.
    let (body, zone) = match b.len() {
        22 | 25 | 29 if matches!(b[b.len() - 6], b'+' | b'-') && at(b.len() - 3, b':') => {
            let sign = if b[b.len() - 6] == b'-' { -1 } else { 1 };
            let (hours, minutes) = (num(b.len() - 5..b.len() - 3)?, num(b.len() - 2..b.len())?);
            if hours > 14 || minutes > 59 {
                return None;
            }
            let seconds = sign * (hours * 3600 + minutes * 60) as i32;
            (b.len() - 6, DateZone::Offset(seconds))
        }
        20 | 24 if b[b.len() - 1] == b'Z' => (b.len() - 1, DateZone::Utc),
        10 | 13 | 16 | 19 => (b.len(), DateZone::Unnamed),
        _ => return None,
    };
    if !at(4, b'-') || !at(7, b'-') {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let (mut hour, mut minute, mut second, mut millis) = (0, 0, 0, 0);
    if body >= 13 {
        if !at(10, b'T') {
            return None;
        }
        hour = num(11..13)?;
    }
    if body >= 16 {
        if !at(13, b':') {
            return None;
        }
        minute = num(14..16)?;
    }
    if body >= 19 {
        if !at(16, b':') {
            return None;
        }
        second = num(17..19)?;
    }
    match body {
        10 | 13 | 16 | 19 => {}
        23 if at(19, b'.') => millis = num(20..23)?,
        _ => return None,
    }
    // Offsets come after minutes at least; `Z` after seconds.
    if (matches!(zone, DateZone::Offset(_)) && body < 16) || (zone == DateZone::Utc && body < 19) {
        return None;
    }
    Some((date.and_hms_milli_opt(hour, minute, second, millis)?, zone))
}

/// Parses a date or datetime of the input ([`parse_input_datetime`]) into milliseconds since
/// the epoch (UTC); a date without a zone is read in UTC.
pub fn parse_voucherify_datetime(text: &str) -> Option<i64> {
    let (local, zone) = parse_input_datetime(text)?;
    let utc = local.and_utc().timestamp_millis();
    Some(match zone {
        DateZone::Offset(seconds) => utc - i64::from(seconds) * 1000,
        DateZone::Utc | DateZone::Unnamed => utc,
    })
}

/// A time zone for dates written without one (`--dates-in`): an IANA name (`Europe/Warsaw`)
/// or an offset (`+02:00`), or why it is neither.
pub fn parse_zone(text: &str) -> Result<Tz, String> {
    text.trim().parse::<Tz>().map_err(|e| {
        format!("'{text}' is not a time zone: give an IANA name (Europe/Warsaw) or an offset (+02:00) ({e})")
    })
}

/// Milliseconds since the epoch as Voucherify's UTC form: `2026-01-01T08:00:00Z`, with
/// `.SSS` when there are milliseconds.
fn utc_text(millis: i64) -> Option<String> {
    let at = chrono::DateTime::from_timestamp_millis(millis)?;
    let format = if millis.rem_euclid(1000) == 0 {
        "%Y-%m-%dT%H:%M:%SZ"
    } else {
        "%Y-%m-%dT%H:%M:%S%.3fZ"
    };
    Some(at.format(format).to_string())
}

/// A non-negative whole number that fits in 64 bits, digits only.
pub fn parse_whole_number(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<i64>().ok()
}

/// An amount in the given unit, as minor units: `Major` takes up to two decimals.
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
#[derive(Debug, Clone, Copy)]
pub enum Rewrite {
    /// A `Start Date` or `Expiration Date`: one with an offset converted exactly to UTC
    /// (`...Z`), and one without a zone read in `zone` (`--dates-in`) when given.
    Date {
        /// The zone dates without one are in.
        zone: Option<Tz>,
    },
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
    #[cfg(test)]
    pub fn apply(self, value: &str) -> Option<String> {
        self.apply_noting(value).0
    }

    /// The value as written, when it differs from `value`; and whether it is a date left
    /// without a time zone (read once for both).
    pub fn apply_noting(self, value: &str) -> (Option<String>, bool) {
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
            Rewrite::Date { zone } => {
                let Some((local, named)) = parse_input_datetime(value) else {
                    return (None, false);
                };
                let millis = match (named, zone) {
                    (DateZone::Offset(seconds), _) => {
                        Some(local.and_utc().timestamp_millis() - i64::from(seconds) * 1000)
                    }
                    (DateZone::Unnamed, Some(zone)) => zone
                        .from_local_datetime(&local)
                        .earliest()
                        .map(|at| at.timestamp_millis()),
                    (DateZone::Unnamed, None) => return (None, true),
                    (DateZone::Utc, _) => return (None, false),
                };
                // A local time a zone skips (a DST gap) stays as written, without a zone.
                match millis.and_then(utc_text) {
                    Some(text) => text,
                    None => return (None, true),
                }
            }
            Rewrite::Amount { from, to } => {
                let Some(minor) = parse_amount(value, from) else {
                    return (None, false);
                };
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
        ((written != value).then_some(written), false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voucherify_datetimes_are_read_as_milliseconds_since_the_epoch() {
        assert_eq!(parse_voucherify_datetime("1970-01-02"), Some(86_400_000));
        assert_eq!(
            parse_voucherify_datetime("1970-01-01T00:00:01.500Z"),
            Some(1_500)
        );
        assert_eq!(
            parse_voucherify_datetime("1970-01-01T02:00:00+02:00"),
            Some(0)
        );
        assert_eq!(parse_voucherify_datetime("2026-02-30"), None);
        assert_eq!(parse_voucherify_datetime("01/02/2026"), None);
    }

    #[test]
    fn amounts_are_read_in_their_unit() {
        assert_eq!(parse_amount("10000", AmountUnit::Minor), Some(10000));
        assert_eq!(parse_amount("100.5", AmountUnit::Major), Some(10050));
        assert_eq!(parse_amount("100.5", AmountUnit::Minor), None);
    }

    #[test]
    fn dates_with_an_offset_are_written_in_utc_exactly() {
        let to_utc = Rewrite::Date { zone: None };
        assert_eq!(
            to_utc.apply("2026-01-01T10:00:00+02:00").as_deref(),
            Some("2026-01-01T08:00:00Z")
        );
        assert_eq!(
            to_utc.apply("2026-01-01T00:30:15.250-05:30").as_deref(),
            Some("2026-01-01T06:00:15.250Z")
        );
        assert_eq!(
            to_utc.apply("2026-01-01T10:00+02:00").as_deref(),
            Some("2026-01-01T08:00:00Z")
        );
        assert_eq!(to_utc.apply("2026-01-01T10:00:00Z"), None);
        assert_eq!(to_utc.apply_noting("2026-01-01T10:00"), (None, true));
        assert_eq!(to_utc.apply_noting("2026-01-01T10:00:00Z"), (None, false));
        assert_eq!(to_utc.apply_noting("31/12/2026"), (None, false));
        for bad in [
            "2026-01-01+02:00",
            "2026-01-01T10:00:00+15:00",
            "2026-01-01T10+02:00",
        ] {
            assert_eq!(parse_input_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn dates_without_a_zone_are_read_in_the_zone_given() {
        let warsaw = Rewrite::Date {
            zone: Some(parse_zone("Europe/Warsaw").unwrap()),
        };
        // Winter (UTC+1) and summer (UTC+2).
        assert_eq!(
            warsaw.apply("2026-01-15T10:00").as_deref(),
            Some("2026-01-15T09:00:00Z")
        );
        assert_eq!(
            warsaw.apply("2026-07-15").as_deref(),
            Some("2026-07-14T22:00:00Z")
        );
        let fixed = Rewrite::Date {
            zone: Some(parse_zone("+02:00").unwrap()),
        };
        assert_eq!(
            fixed.apply("2026-03-01T10:00").as_deref(),
            Some("2026-03-01T08:00:00Z")
        );
        assert!(!fixed.apply_noting("2026-03-01T10:00").1);
        assert!(parse_zone("Mars/Olympus").is_err());
    }

    #[test]
    fn dates_day_or_month_first_are_written_in_iso_only_as_the_order_says() {
        use super::{reorder_date, DateOrder::*};
        assert_eq!(
            reorder_date("31/12/2026", Dmy).as_deref(),
            Some("2026-12-31")
        );
        assert_eq!(
            reorder_date("12/31/2026", Mdy).as_deref(),
            Some("2026-12-31")
        );
        assert_eq!(reorder_date("1.2.2026", Dmy).as_deref(), Some("2026-02-01"));
        assert_eq!(reorder_date("1.2.2026", Mdy).as_deref(), Some("2026-01-02"));
        assert_eq!(
            reorder_date("31-12-2026 23:59", Dmy).as_deref(),
            Some("2026-12-31T23:59")
        );
        assert_eq!(
            reorder_date("31/12/2026 7:05:09", Dmy).as_deref(),
            Some("2026-12-31T07:05:09")
        );
        // Not the order given, not in the calendar, not this form: left for invalid_date.
        assert_eq!(reorder_date("12/31/2026", Dmy), None);
        assert_eq!(reorder_date("29/02/2027", Dmy), None);
        assert_eq!(reorder_date("2026-12-31", Dmy), None);
        assert_eq!(reorder_date("31/12/26", Dmy), None);
        assert_eq!(reorder_date("31/12-2026", Dmy), None);
        assert_eq!(reorder_date("31/12/2026 24:00", Dmy), None);
        assert_eq!(reorder_date("31/12/2026 23:5", Dmy), None);
        assert_eq!(reorder_date("+1/12/2026", Dmy), None);
    }

    #[test]
    fn scientific_notation_is_what_a_spreadsheet_writes_for_a_long_number() {
        use super::is_scientific_notation as sci;
        for yes in ["1.23457E+12", "1E+15", "9.9e+3", "4.5E+100"] {
            assert!(sci(yes), "{yes}");
        }
        for no in [
            "123456789012",
            "1.23457E12",
            "1.E+12",
            "E+12",
            "1.2E+",
            "1.2E+3x",
            "x1E+3",
            "12E+3",
            "1.2E-3",
            "",
        ] {
            assert!(!sci(no), "{no}");
        }
    }
}

//! SQL functions that rules may call, for the checks plain SQL says badly: Voucherify's date
//! forms, amounts in the configured unit, whole numbers. Registered in every rule session and
//! documented in `sql/README.md`.

use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Int64Array, StringArray, TimestampMillisecondArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::Result as DfResult;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// How amounts (`Gift Amount`, `Redeemed Amount`) are written in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
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
/// use voucher_import::rules::functions::parse_voucherify_datetime;
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
/// use voucher_import::rules::functions::{parse_amount, AmountUnit};
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

/// The single text argument of a function call, as a `StringArray`.
fn text_argument(args: &ScalarFunctionArgs) -> DfResult<StringArray> {
    let array: ArrayRef = args.args[0].clone().into_array(args.number_rows)?;
    let array = cast(&array, &DataType::Utf8)?;
    Ok(array
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("cast to Utf8 gives a StringArray")
        .clone())
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct VoucherifyDatetime {
    signature: Signature,
}

impl ScalarUDFImpl for VoucherifyDatetime {
    fn name(&self) -> &str {
        "voucherify_datetime"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Timestamp(
            TimeUnit::Millisecond,
            Some("UTC".into()),
        ))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let text = text_argument(&args)?;
        let out: TimestampMillisecondArray = text
            .iter()
            .map(|v| v.and_then(parse_voucherify_datetime))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out.with_timezone("UTC"))))
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct AmountMinorUnits {
    signature: Signature,
    unit: AmountUnit,
}

impl ScalarUDFImpl for AmountMinorUnits {
    fn name(&self) -> &str {
        "amount_minor_units"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Int64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let text = text_argument(&args)?;
        let out: Int64Array = text
            .iter()
            .map(|v| v.and_then(|v| parse_amount(v, self.unit)))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct IsWholeNumber {
    signature: Signature,
}

impl ScalarUDFImpl for IsWholeNumber {
    fn name(&self) -> &str {
        "is_whole_number"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Boolean)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let text = text_argument(&args)?;
        let out: BooleanArray = text
            .iter()
            .map(|v| v.map(|v| parse_whole_number(v).is_some()))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

/// Every function rules can call, configured for this run.
pub fn all(unit: AmountUnit) -> Vec<ScalarUDF> {
    let text = || Signature::string(1, Volatility::Immutable);
    vec![
        ScalarUDF::from(VoucherifyDatetime { signature: text() }),
        ScalarUDF::from(AmountMinorUnits {
            signature: text(),
            unit,
        }),
        ScalarUDF::from(IsWholeNumber { signature: text() }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_voucherify_date_form_parses() {
        let base = parse_voucherify_datetime("2026-03-01").unwrap();
        assert_eq!(
            parse_voucherify_datetime("2026-03-01T10"),
            Some(base + 10 * 3_600_000)
        );
        assert_eq!(
            parse_voucherify_datetime("2026-03-01T10:30"),
            Some(base + 37_800_000)
        );
        assert_eq!(
            parse_voucherify_datetime("2026-03-01T10:30:15"),
            Some(base + 37_815_000)
        );
        assert_eq!(
            parse_voucherify_datetime("2026-03-01T10:30:15Z"),
            Some(base + 37_815_000)
        );
        assert_eq!(
            parse_voucherify_datetime("2026-03-01T10:30:15.250Z"),
            Some(base + 37_815_250)
        );
    }

    #[test]
    fn other_date_forms_and_impossible_dates_fail() {
        for bad in [
            "31/02/2026",
            "2026-02-30",
            "2026-13-01",
            "2026-1-01",
            "2026-03-01 10:30",
            "2026-03-01T24",
            "2026-03-01T10:60",
            "2026-03-01T10:30:15+01:00",
            "2026-03-01T10:30:15.25Z",
            "2026-03-01T10:30:15.250",
            "",
            "2026-03-01Z",
        ] {
            assert_eq!(parse_voucherify_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn amounts_follow_the_unit() {
        assert_eq!(parse_amount("10000", AmountUnit::Minor), Some(10000));
        assert_eq!(parse_amount("100.5", AmountUnit::Minor), None);
        assert_eq!(parse_amount("100.5", AmountUnit::Major), Some(10050));
        assert_eq!(parse_amount("100.05", AmountUnit::Major), Some(10005));
        assert_eq!(parse_amount("100", AmountUnit::Major), Some(10000));
        for bad in ["100.", ".5", "1.234", "-5", "1E5", "12,50", "+3", " 1"] {
            assert_eq!(parse_amount(bad, AmountUnit::Major), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn whole_numbers_round_trip(n in 0i64..i64::MAX) {
            prop_assert_eq!(parse_whole_number(&n.to_string()), Some(n));
        }

        #[test]
        fn major_amounts_round_trip(cents in 0i64..1_000_000_000_000) {
            let text = format!("{}.{:02}", cents / 100, cents % 100);
            prop_assert_eq!(parse_amount(&text, AmountUnit::Major), Some(cents));
        }
    }
}

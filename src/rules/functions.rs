//! SQL functions that rules may call, for the checks plain SQL says badly: Voucherify's date
//! forms, amounts in the configured unit, whole numbers, a spreadsheet's scientific notation. Registered in every rule session and
//! documented in `sql/README.md`.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Int64Array, StringArray, TimestampMillisecondArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::Result as DfResult;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

pub use crate::formats::{parse_amount, parse_voucherify_datetime, parse_whole_number, AmountUnit};

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

/// A yes/no question about a text value: `is_whole_number`, `is_scientific_notation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum TextTest {
    WholeNumber,
    ScientificNotation,
}

impl TextTest {
    fn holds(self, text: &str) -> bool {
        match self {
            TextTest::WholeNumber => parse_whole_number(text).is_some(),
            TextTest::ScientificNotation => crate::formats::is_scientific_notation(text),
        }
    }
}

/// A function answering a [`TextTest`] for each value: true or false, NULL for NULL.
#[derive(Debug, PartialEq, Eq, Hash)]
struct TextPredicate {
    signature: Signature,
    test: TextTest,
}

impl ScalarUDFImpl for TextPredicate {
    fn name(&self) -> &str {
        match self.test {
            TextTest::WholeNumber => "is_whole_number",
            TextTest::ScientificNotation => "is_scientific_notation",
        }
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Boolean)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let text = text_argument(&args)?;
        let out: BooleanArray = text.iter().map(|v| v.map(|v| self.test.holds(v))).collect();
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
        ScalarUDF::from(TextPredicate {
            signature: text(),
            test: TextTest::WholeNumber,
        }),
        ScalarUDF::from(TextPredicate {
            signature: text(),
            test: TextTest::ScientificNotation,
        }),
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
            "2026-03-01T10:30:15+1:00",
            "2026-03-01T10:30:15+01",
            "2026-03-01+01:00",
            "2026-03-01T10:30:15.25Z",
            "2026-03-01T10:30:15.250",
            "",
            "2026-03-01Z",
        ] {
            assert_eq!(parse_voucherify_datetime(bad), None, "{bad}");
        }
        // An offset after the minutes is read (and written in UTC by prepare).
        assert_eq!(
            parse_voucherify_datetime("2026-03-01T10:30:15+01:00"),
            parse_voucherify_datetime("2026-03-01T09:30:15Z")
        );
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

//! A column as text: the string and bytes layouts read where they lie ([`TextColumn`]),
//! other types cast by Arrow, zoned timestamps in Voucherify's UTC form; and the values a
//! table cannot hold as a file could (bytes that are not UTF-8, U+FFFD) told apart.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, BinaryViewArray, LargeBinaryArray, LargeStringArray,
    StringArray, StringViewArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;

use crate::error::Result;

/// U+FFFD, the replacement character, in UTF-8.
const REPLACEMENT_CHARACTER: &[u8] = "\u{FFFD}".as_bytes();

/// Whether `value` is not UTF-8 or holds U+FFFD, what a lossy decoding
/// (`encoding_errors="replace"`) leaves where the source's bytes were not UTF-8: the value is
/// damaged as a file's would be.
pub(super) fn damaged(value: &[u8]) -> bool {
    !value.is_ascii()
        && (std::str::from_utf8(value).is_err()
            || memchr::memmem::find(value, REPLACEMENT_CHARACTER).is_some())
}

/// Whether every value of a view column is ASCII, told at once: every data buffer is ASCII
/// (a long value's bytes are there, its prefix a copy of them) and so is every value held
/// inline in its view (up to 12 bytes after the length, zero-padded).
fn views_ascii(views: &[u128], buffers: &[datafusion::arrow::buffer::Buffer]) -> bool {
    const INLINE_HIGH_BITS: u128 = 0x8080_8080_8080_8080_8080_8080 << 32;
    buffers.iter().all(|b| b.as_slice().is_ascii())
        && views
            .iter()
            .all(|&view| view as u32 > 12 || view & INLINE_HIGH_BITS == 0)
}

/// A column of text or bytes read where it lies: each string and binary layout as it comes
/// (offsets, large offsets, views), a dictionary of them through its keys. Nothing is cast or
/// copied before a value goes into its record.
pub(super) enum TextColumn<'a> {
    Utf8(&'a StringArray),
    LargeUtf8(&'a LargeStringArray),
    Utf8View(&'a StringViewArray),
    Binary(&'a BinaryArray),
    LargeBinary(&'a LargeBinaryArray),
    BinaryView(&'a BinaryViewArray),
    /// The dictionary (for its key nulls), each row's value index, and the values.
    Dictionary(&'a dyn Array, Vec<usize>, Box<TextColumn<'a>>),
}

impl<'a> TextColumn<'a> {
    /// Whether a column of `data_type` is read in place.
    fn reads(data_type: &DataType) -> bool {
        match data_type {
            DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView => true,
            DataType::Dictionary(_, values) => TextColumn::reads(values),
            _ => false,
        }
    }

    /// `column` read in place, when it has a text or bytes layout.
    pub(super) fn of(column: &'a ArrayRef) -> Option<Self> {
        Some(match column.data_type() {
            DataType::Utf8 => TextColumn::Utf8(column.as_string::<i32>()),
            DataType::LargeUtf8 => TextColumn::LargeUtf8(column.as_string::<i64>()),
            DataType::Utf8View => TextColumn::Utf8View(column.as_string_view()),
            DataType::Binary => TextColumn::Binary(column.as_binary::<i32>()),
            DataType::LargeBinary => TextColumn::LargeBinary(column.as_binary::<i64>()),
            DataType::BinaryView => TextColumn::BinaryView(column.as_binary_view()),
            DataType::Dictionary(_, _) => {
                let dictionary = column.as_any_dictionary_opt()?;
                let values = TextColumn::of(dictionary.values())?;
                // A dictionary without values has only null keys.
                let keys = match dictionary.values().is_empty() {
                    true => Vec::new(),
                    false => dictionary.normalized_keys(),
                };
                TextColumn::Dictionary(column.as_ref(), keys, Box::new(values))
            }
            _ => return None,
        })
    }

    /// Whether every value is UTF-8 without U+FFFD, told from the column's value bytes at once
    /// (each value starting on a character boundary of them); `false` when that cannot be told
    /// so (views: their values are checked one by one).
    pub(super) fn clean(&self) -> bool {
        fn whole<O: Into<i64> + Copy>(offsets: &[O], data: &[u8]) -> bool {
            let at = |o: O| usize::try_from(o.into()).unwrap_or(usize::MAX);
            let (Some(&first), Some(&last)) = (offsets.first(), offsets.last()) else {
                return true;
            };
            let Some(bytes) = data.get(at(first)..at(last)) else {
                return false;
            };
            if bytes.is_ascii() {
                return true;
            }
            match std::str::from_utf8(bytes) {
                Ok(text) => {
                    memchr::memmem::find(bytes, REPLACEMENT_CHARACTER).is_none()
                        && offsets
                            .iter()
                            .all(|&o| text.is_char_boundary(at(o) - at(first)))
                }
                Err(_) => false,
            }
        }
        match self {
            TextColumn::Utf8(a) => whole(a.value_offsets(), a.value_data()),
            TextColumn::LargeUtf8(a) => whole(a.value_offsets(), a.value_data()),
            TextColumn::Binary(a) => whole(a.value_offsets(), a.value_data()),
            TextColumn::LargeBinary(a) => whole(a.value_offsets(), a.value_data()),
            TextColumn::Utf8View(a) => views_ascii(a.views(), a.data_buffers()),
            TextColumn::BinaryView(a) => views_ascii(a.views(), a.data_buffers()),
            TextColumn::Dictionary(_, _, values) => values.clean(),
        }
    }

    /// About how many value bytes the column's rows hold in all (records are sized with it).
    pub(super) fn value_bytes(&self) -> usize {
        fn span<O: Into<i64> + Copy>(offsets: &[O]) -> usize {
            match (offsets.first(), offsets.last()) {
                (Some(&first), Some(&last)) => (last.into() - first.into()).max(0) as usize,
                _ => 0,
            }
        }
        let views = |views: &[u128]| views.iter().map(|&v| v as u32 as usize).sum();
        match self {
            TextColumn::Utf8(a) => span(a.value_offsets()),
            TextColumn::LargeUtf8(a) => span(a.value_offsets()),
            TextColumn::Binary(a) => span(a.value_offsets()),
            TextColumn::LargeBinary(a) => span(a.value_offsets()),
            TextColumn::Utf8View(a) => views(a.views()),
            TextColumn::BinaryView(a) => views(a.views()),
            TextColumn::Dictionary(_, keys, values) => {
                let distinct = values.rows().max(1);
                values.value_bytes() / distinct * keys.len()
            }
        }
    }

    /// The column's rows.
    fn rows(&self) -> usize {
        match self {
            TextColumn::Utf8(a) => a.len(),
            TextColumn::LargeUtf8(a) => a.len(),
            TextColumn::Binary(a) => a.len(),
            TextColumn::LargeBinary(a) => a.len(),
            TextColumn::Utf8View(a) => a.len(),
            TextColumn::BinaryView(a) => a.len(),
            TextColumn::Dictionary(dictionary, _, _) => dictionary.len(),
        }
    }

    /// The bytes of row `i`; `None` for a null.
    pub(super) fn value(&self, i: usize) -> Option<&'a [u8]> {
        match self {
            TextColumn::Utf8(a) => a.is_valid(i).then(|| a.value(i).as_bytes()),
            TextColumn::LargeUtf8(a) => a.is_valid(i).then(|| a.value(i).as_bytes()),
            TextColumn::Utf8View(a) => a.is_valid(i).then(|| a.value(i).as_bytes()),
            TextColumn::Binary(a) => a.is_valid(i).then(|| a.value(i)),
            TextColumn::LargeBinary(a) => a.is_valid(i).then(|| a.value(i)),
            TextColumn::BinaryView(a) => a.is_valid(i).then(|| a.value(i)),
            TextColumn::Dictionary(dictionary, keys, values) => match dictionary.is_valid(i) {
                true => values.value(*keys.get(i)?),
                false => None,
            },
        }
    }
}

/// A timestamp column with a time zone (Parquet's `isAdjustedToUTC`, pandas' and Polars'
/// zoned datetimes) as the instants it holds, in Voucherify's UTC form: `2026-01-01T09:00:00Z`,
/// with `.SSS` when there are milliseconds, and every digit of a finer fraction (which no
/// Voucherify form takes: `invalid_date` says so, rather than a silent rounding). Rendered in
/// its own zone instead (`+01:00`), every value failed the date rules.
fn zoned_as_utc(
    column: &ArrayRef,
    unit: datafusion::arrow::datatypes::TimeUnit,
    c: usize,
    unreadable: &mut [Vec<(usize, String)>],
) -> Result<ArrayRef> {
    use datafusion::arrow::array::Int64Array;
    use datafusion::arrow::datatypes::TimeUnit;
    // The values are instants since the epoch in UTC, whatever the zone says.
    let raw = cast(column, &DataType::Int64)?;
    let raw = raw
        .as_any()
        .downcast_ref::<Int64Array>()
        .ok_or_else(|| crate::error::Error::Invariant("a timestamp cast to Int64".into()))?;
    let per_second: i64 = match unit {
        TimeUnit::Second => 1,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    };
    let digits = per_second.ilog10() as usize;
    let texts: Vec<Option<String>> = (0..raw.len())
        .map(|row| {
            if raw.is_null(row) {
                return None;
            }
            let value = raw.value(row);
            let (seconds, fraction) = (value.div_euclid(per_second), value.rem_euclid(per_second));
            let Some(at) = chrono::DateTime::from_timestamp(seconds, 0) else {
                if let Some(slot) = unreadable.get_mut(row) {
                    slot.push((c, format!("the timestamp {value} is out of range")));
                }
                return None;
            };
            let whole = at.format("%Y-%m-%dT%H:%M:%S");
            Some(match fraction {
                0 => format!("{whole}Z"),
                f => {
                    let text = format!("{f:0digits$}");
                    let text = text.trim_end_matches('0');
                    // At least the milliseconds, Voucherify's own form.
                    format!("{whole}.{text:0<3}Z")
                }
            })
        })
        .collect();
    Ok(Arc::new(datafusion::arrow::array::StringArray::from(texts)))
}

/// A column as text: strings and bytes as they are (in any of their layouts, or a dictionary
/// of them; see [`TextColumn`]), everything else cast by Arrow. A value Arrow cannot cast (a
/// timestamp out of range) becomes empty, and `unreadable[row]` records column `c` with why:
/// one value rejects its row, never the run.
pub(super) fn as_text(
    column: &ArrayRef,
    c: usize,
    unreadable: &mut [Vec<(usize, String)>],
) -> Result<ArrayRef> {
    if TextColumn::reads(column.data_type()) {
        return Ok(column.clone());
    }
    let target = match column.data_type() {
        DataType::Timestamp(unit, Some(_)) => return zoned_as_utc(column, *unit, c, unreadable),
        DataType::FixedSizeBinary(_) => DataType::Binary,
        _ => DataType::Utf8,
    };
    match cast(column, &target) {
        Ok(cast) => Ok(cast),
        Err(_) if target == DataType::Utf8 => {
            // Value by value: the ones that cast keep their text.
            let mut texts: Vec<Option<String>> = Vec::with_capacity(column.len());
            for (row, slot) in unreadable.iter_mut().enumerate().take(column.len()) {
                match cast(&column.slice(row, 1), &DataType::Utf8) {
                    Ok(one) => texts.push(
                        one.as_string_opt::<i32>()
                            .filter(|t| t.is_valid(0))
                            .map(|t| t.value(0).to_owned()),
                    ),
                    Err(e) => {
                        slot.push((c, e.to_string()));
                        texts.push(None);
                    }
                }
            }
            Ok(Arc::new(datafusion::arrow::array::StringArray::from(texts)))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{
        ArrayRef, BinaryViewArray, DictionaryArray, Int32Array, RecordBatch, StringViewArray,
    };
    use datafusion::arrow::datatypes::DataType;
    use proptest::prelude::*;

    use super::super::chunk_of;
    use super::*;
    use crate::read::{InputId, RecordProblem};

    /// (fields, columns flagged as damaged) of each row of a one-column batch of `column`.
    fn rows_of(column: ArrayRef) -> Vec<(Vec<u8>, Vec<usize>)> {
        let batch = RecordBatch::try_from_iter([("Code", column)]).expect("a batch");
        let chunk = chunk_of(&batch, InputId::new(0), &mut 0).expect("a chunk");
        chunk
            .records
            .iter()
            .map(|record| {
                let damaged = match &record.problem {
                    Some(RecordProblem::InvalidEncoding { columns }) => columns.clone(),
                    None => Vec::new(),
                    Some(other) => panic!("unexpected problem {other:?}"),
                };
                (record.fields.as_slice().to_vec(), damaged)
            })
            .collect()
    }

    /// What each value should give, told value by value.
    fn expected(values: &[Option<Vec<u8>>]) -> Vec<(Vec<u8>, Vec<usize>)> {
        values
            .iter()
            .map(|value| {
                let bytes = value.clone().unwrap_or_default();
                let bad = std::str::from_utf8(&bytes).is_err()
                    || String::from_utf8_lossy(&bytes).contains('\u{FFFD}');
                (bytes, if bad { vec![0] } else { Vec::new() })
            })
            .collect()
    }

    /// Every bytes layout (and a dictionary of them) of `values`.
    fn byte_layouts(values: &[Option<Vec<u8>>]) -> Vec<ArrayRef> {
        let refs: Vec<Option<&[u8]>> = values.iter().map(|v| v.as_deref()).collect();
        let binary: ArrayRef = Arc::new(BinaryArray::from_opt_vec(refs.clone()));
        let keys = Int32Array::from_iter_values(0..values.len() as i32);
        vec![
            binary.clone(),
            Arc::new(LargeBinaryArray::from_opt_vec(refs.clone())),
            Arc::new(BinaryViewArray::from(refs.clone())),
            Arc::new(DictionaryArray::new(keys, binary)),
        ]
    }

    /// Every string layout of `values` (all UTF-8), and a dictionary of them.
    fn string_layouts(values: &[Option<String>]) -> Vec<ArrayRef> {
        let refs: Vec<Option<&str>> = values.iter().map(|v| v.as_deref()).collect();
        let utf8: ArrayRef = Arc::new(StringArray::from(refs.clone()));
        // Every value twice in the dictionary's keys: values are shared, not copied.
        let keys = Int32Array::from_iter_values((0..values.len() as i32).map(|k| k / 2 * 2));
        let doubled: Vec<Option<&str>> = (0..values.len()).map(|i| refs[i / 2 * 2]).collect();
        vec![
            utf8.clone(),
            Arc::new(LargeStringArray::from(refs.clone())),
            Arc::new(StringViewArray::from(refs.clone())),
            Arc::new(DictionaryArray::new(keys, utf8)),
            Arc::new(StringArray::from(doubled)),
        ]
    }

    #[test]
    fn every_string_layout_reads_as_the_same_values() {
        let values: Vec<Option<String>> =
            ["GC-0001", "", "a value longer than twelve bytes", "größe"]
                .into_iter()
                .map(|v| Some(v.to_owned()))
                .chain([None])
                .collect();
        let as_bytes: Vec<Option<Vec<u8>>> = values
            .iter()
            .map(|v| v.clone().map(String::into_bytes))
            .collect();
        let layouts = string_layouts(&values);
        for column in layouts.iter().take(3) {
            assert_eq!(rows_of(column.clone()), expected(&as_bytes));
        }
        // A dictionary reads as the values its keys point at.
        assert_eq!(rows_of(layouts[3].clone()), rows_of(layouts[4].clone()));
    }

    #[test]
    fn a_replacement_character_or_bytes_that_are_not_utf8_damage_their_value_in_every_layout() {
        let values: Vec<Option<Vec<u8>>> = vec![
            Some(b"GC-0001".to_vec()),
            Some("caf\u{FFFD}".as_bytes().to_vec()),
            Some(b"caf\xe9".to_vec()),
            None,
            // Inline in a view (12 bytes or fewer) and not.
            Some("\u{FFFD}".as_bytes().to_vec()),
            Some("a long value with \u{FFFD} in it".as_bytes().to_vec()),
            Some("größe".as_bytes().to_vec()),
        ];
        for column in byte_layouts(&values) {
            let layout = column.data_type().clone();
            assert_eq!(rows_of(column), expected(&values), "{layout}");
        }
    }

    #[test]
    fn a_value_that_starts_inside_a_character_is_damaged_though_the_whole_buffer_is_utf8() {
        // "é" is C3 A9: two values cut between its bytes; together they are valid UTF-8.
        let column: ArrayRef = Arc::new(BinaryArray::from_vec(vec![b"caf\xc3", b"\xa9"]));
        assert_eq!(
            rows_of(column),
            vec![(b"caf\xc3".to_vec(), vec![0]), (b"\xa9".to_vec(), vec![0])]
        );
    }

    #[test]
    fn a_dictionary_with_null_keys_and_null_values_reads_them_as_empty() {
        let values: ArrayRef = Arc::new(StringArray::from(vec![Some("A"), None]));
        let keys = Int32Array::from(vec![Some(0), None, Some(1), Some(0)]);
        let column: ArrayRef = Arc::new(DictionaryArray::new(keys, values));
        let fields: Vec<Vec<u8>> = rows_of(column).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, vec![b"A".to_vec(), vec![], vec![], b"A".to_vec()]);
        // A dictionary without values: every key is null.
        let empty: ArrayRef = Arc::new(DictionaryArray::new(
            Int32Array::from(vec![None, None]),
            Arc::new(StringArray::from(Vec::<&str>::new())) as ArrayRef,
        ));
        assert_eq!(rows_of(empty), vec![(vec![], vec![]), (vec![], vec![])]);
    }

    #[test]
    fn a_dictionary_of_numbers_is_cast_to_text() {
        let values: ArrayRef = Arc::new(Int32Array::from(vec![7, 42]));
        let column: ArrayRef = Arc::new(DictionaryArray::new(
            Int32Array::from(vec![1, 0, 1]),
            values,
        ));
        assert!(!TextColumn::reads(column.data_type()));
        assert!(TextColumn::reads(&DataType::Dictionary(
            Box::new(DataType::Int8),
            Box::new(DataType::Utf8View)
        )));
        let fields: Vec<Vec<u8>> = rows_of(column).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, vec![b"42".to_vec(), b"7".to_vec(), b"42".to_vec()]);
    }

    fn value() -> impl Strategy<Value = Option<Vec<u8>>> {
        prop_oneof![
            4 => "[A-Za-z0-9 -]{0,20}".prop_map(|s| Some(s.into_bytes())),
            1 => "[a-zé€\u{FFFD}]{0,16}".prop_map(|s| Some(s.into_bytes())),
            1 => proptest::collection::vec(any::<u8>(), 0..16).prop_map(Some),
            1 => Just(None),
        ]
    }

    proptest! {
        // Whatever the layout and the bytes, each value is read as it is and damaged exactly
        // when it is not UTF-8 or holds U+FFFD (what the per-value check said).
        #[test]
        fn every_layout_reads_and_judges_values_as_they_are(
            values in proptest::collection::vec(value(), 0..40)
        ) {
            let want = expected(&values);
            for column in byte_layouts(&values) {
                prop_assert_eq!(&rows_of(column), &want);
            }
            if values.iter().all(|v| v.as_deref().is_none_or(|b| std::str::from_utf8(b).is_ok())) {
                let strings: Vec<Option<String>> = values
                    .iter()
                    .map(|v| v.clone().map(|b| String::from_utf8(b).expect("UTF-8")))
                    .collect();
                for column in string_layouts(&strings).into_iter().take(3) {
                    prop_assert_eq!(&rows_of(column), &want);
                }
            }
        }
    }
}

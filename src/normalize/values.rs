//! Value normalization: a chunk of raw records becomes an Arrow batch of the rule table, every
//! value trimmed of surrounding whitespace, empty cells as NULL, `Active` in lowercase.
//! Malformed records become all-NULL rows (their fields cannot be placed in columns).

use std::borrow::Cow;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, DictionaryArray, Int64Array, StringBuilder, UInt32Array};
use datafusion::arrow::datatypes::UInt32Type;
use datafusion::arrow::record_batch::RecordBatch;

use super::headers::KnownColumn;
use super::{json_metadata, TableLayout};
use crate::error::Result;
use crate::folder::formula_unsafe;
use crate::folder::summary::Normalizations;
use crate::formats::{parse_amount, AmountUnit};
use crate::read::{record_text, Chunk, RecordText};

/// A field decoded as UTF-8, with bytes that are not UTF-8 shown as U+FFFD.
pub fn decode(bytes: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

/// Normalizes one cell: the value to check and import (None when empty) and what changed.
/// It never allocates: the value is a slice of `raw`, or a constant.
pub fn normalize_cell<'a>(
    column: usize,
    raw: &'a str,
    counts: &mut Normalizations,
) -> Option<&'a str> {
    // Most cells start and end with a visible ASCII character: nothing to trim, and no need
    // to look for Unicode whitespace.
    let visible = |b: Option<&u8>| b.is_some_and(|b| (0x21..0x7F).contains(b));
    let bytes = raw.as_bytes();
    let trimmed = if visible(bytes.first()) && visible(bytes.last()) {
        raw
    } else {
        raw.trim()
    };
    if trimmed.len() != raw.len() {
        counts.trimmed_whitespace += 1;
    }
    if trimmed.is_empty() {
        return None;
    }
    if column == KnownColumn::Active.index() {
        for word in ["true", "false"] {
            if trimmed.eq_ignore_ascii_case(word) && trimmed != word {
                counts.active_lowercased += 1;
                return Some(word);
            }
        }
    }
    Some(trimmed)
}

/// An amount of an export whose amounts are in major units (one of its values has a decimal
/// point): written in minor units when it converts exactly (`2000.00` -> `200000`, `7` ->
/// `700`); otherwise left as it is, for `invalid_number` to reject.
fn export_amount_to_minor<'a>(value: &'a str, counts: &mut Normalizations) -> Cow<'a, str> {
    match parse_amount(value, AmountUnit::Major) {
        Some(minor) => {
            counts.export_amounts_converted += 1;
            Cow::Owned(minor.to_string())
        }
        None => Cow::Borrowed(value),
    }
}

/// Builds the rule-table batch for a chunk.
pub fn to_batch(
    chunk: &Chunk,
    layout: &TableLayout,
    counts: &mut Normalizations,
) -> Result<RecordBatch> {
    to_batch_with_problems(chunk, layout, counts).map(|(batch, _)| batch)
}

/// What building a batch found about its rows, besides the values.
#[derive(Debug, Default)]
pub struct RowFindings {
    /// For each row, why its JSON `metadata` cell could not be spread into columns (None when
    /// it could, or there is none).
    pub json_problems: Vec<Option<String>>,
    /// Per row, why its export `voucher_type` does not fit the campaign.
    pub voucher_type_problems: Vec<Option<String>>,
    /// (row, columns) of the rows with fields that are not UTF-8, for a reader that left the
    /// check to this stage ([`crate::read::ReadOptions::defer_utf8_check`]).
    pub invalid_utf8: Vec<(usize, Vec<usize>)>,
}

/// Builds the rule-table batch for a chunk, and what it found about the rows.
pub fn to_batch_with_problems(
    chunk: &Chunk,
    layout: &TableLayout,
    counts: &mut Normalizations,
) -> Result<(RecordBatch, RowFindings)> {
    let value_columns = layout.value_columns();
    let file_layout = &layout.files[chunk.file];
    // For each value column of the table, the file column that fills it.
    let mut source: Vec<Option<usize>> = vec![None; value_columns];
    for (file_column, table_column) in file_layout.table_columns.iter().enumerate() {
        if let Some(table_column) = table_column {
            source[*table_column] = Some(file_column);
        }
    }
    let rows = chunk.records.len();
    let mut builders: Vec<StringBuilder> = (0..value_columns)
        .map(|_| StringBuilder::with_capacity(rows, rows * 8))
        .collect();
    let first_metadata = KnownColumn::ALL.len();
    // The columns whose day- or month-first dates are written in the ISO form.
    let reordered = |column: usize| {
        layout.date_order.filter(|_| {
            column == KnownColumn::StartDate.index()
                || column == KnownColumn::ExpirationDate.index()
        })
    };
    let mut problems = vec![None; rows];
    let mut type_problems = vec![None; rows];
    let mut invalid_utf8 = Vec::new();
    for (row, record) in chunk.records.iter().enumerate() {
        let placeable = !record.is_malformed();
        if let (Some((column, wanted)), true) = (file_layout.voucher_type, placeable) {
            if let Some(cell) = record.fields.get(column) {
                let found = String::from_utf8_lossy(cell);
                let found = found.trim();
                if !found.is_empty() && !found.eq_ignore_ascii_case(wanted) {
                    type_problems[row] = Some(crate::reasons::wrong_voucher_type(found, wanted));
                }
            }
        }
        let text = record_text(&record.fields);
        if let RecordText::Invalid { columns, .. } = &text {
            if placeable {
                invalid_utf8.push((row, columns.clone()));
            }
        } else if file_layout.undo_formula_quotes && placeable {
            // In a rejected.csv given back, U+FFFD stands for bytes that were not UTF-8 in the
            // first input: still to be fixed.
            let columns: Vec<usize> = (0..record.fields.len())
                .filter(|&c| text.field(&record.fields, c).contains('\u{FFFD}'))
                .collect();
            if !columns.is_empty() {
                invalid_utf8.push((row, columns));
            }
        }
        let json_values = match file_layout.json_column {
            Some(c) if placeable => {
                match json_metadata::spread(&text.field(&record.fields, c), &layout.metadata) {
                    Ok(values) => values,
                    Err(problem) => {
                        problems[row] = Some(problem);
                        Vec::new()
                    }
                }
            }
            _ => Vec::new(),
        };
        for (column, builder) in builders.iter_mut().enumerate() {
            match source[column] {
                Some(file_column) if placeable => {
                    let field = text.field(&record.fields, file_column);
                    let field = if file_layout.undo_formula_quotes {
                        formula_unsafe(&field)
                    } else {
                        &field
                    };
                    match normalize_cell(column, field, counts) {
                        Some(value)
                            if file_layout.export_amounts_to_minor
                                && column == KnownColumn::GiftAmount.index() =>
                        {
                            builder.append_value(export_amount_to_minor(value, counts))
                        }
                        Some(value) => match reordered(column)
                            .and_then(|order| crate::formats::reorder_date(value, order))
                        {
                            Some(iso) => {
                                counts.dates_reordered += 1;
                                builder.append_value(iso)
                            }
                            None => builder.append_value(value),
                        },
                        None => builder.append_null(),
                    }
                }
                None if column >= first_metadata => {
                    let value = json_values
                        .get(column - first_metadata)
                        .and_then(|v| v.as_deref().and_then(|v| normalize_cell(column, v, counts)));
                    builder.append_option(value)
                }
                _ => builder.append_null(),
            }
        }
    }
    let mut arrays: Vec<ArrayRef> = builders
        .into_iter()
        .map(|mut b| Arc::new(b.finish()) as ArrayRef)
        .collect();
    // The row's input as the key, the inputs' names as the (shared) values.
    let inputs = UInt32Array::from(vec![chunk.file.number(); rows]);
    arrays.push(Arc::new(DictionaryArray::<UInt32Type>::try_new(
        inputs,
        Arc::clone(&layout.input_names),
    )?));
    arrays.push(Arc::new(Int64Array::from_iter_values(
        chunk.records.iter().map(|r| r.row as i64),
    )));
    arrays.push(Arc::new(Int64Array::from_iter_values(
        chunk.records.iter().map(|r| r.line as i64),
    )));
    Ok((
        RecordBatch::try_new(Arc::clone(&layout.schema), arrays)?,
        RowFindings {
            json_problems: problems,
            voucher_type_problems: type_problems,
            invalid_utf8,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cells_are_trimmed_and_counted() {
        let mut counts = Normalizations::default();
        assert_eq!(normalize_cell(0, "  A1 ", &mut counts), Some("A1"));
        assert_eq!(normalize_cell(0, "   ", &mut counts), None);
        assert_eq!(normalize_cell(0, "000123", &mut counts), Some("000123"));
        assert_eq!(counts.trimmed_whitespace, 2);
    }

    #[test]
    fn active_is_lowercased_only_when_it_is_a_boolean() {
        let active = KnownColumn::Active.index();
        let mut counts = Normalizations::default();
        assert_eq!(normalize_cell(active, "TRUE", &mut counts), Some("true"));
        assert_eq!(normalize_cell(active, "False", &mut counts), Some("false"));
        assert_eq!(normalize_cell(active, "true", &mut counts), Some("true"));
        assert_eq!(normalize_cell(active, "YES", &mut counts), Some("YES"));
        assert_eq!(counts.active_lowercased, 2);
        assert_eq!(normalize_cell(1, "TRUE", &mut counts), Some("TRUE"));
    }

    proptest! {
        #[test]
        fn normalization_is_idempotent(column in 0usize..12, raw in "\\PC*") {
            let mut counts = Normalizations::default();
            let once = normalize_cell(column, &raw, &mut counts);
            let twice = once.and_then(|v| normalize_cell(column, v, &mut counts));
            prop_assert_eq!(once, twice);
        }

        #[test]
        fn normalization_only_trims_or_lowercases(column in 0usize..12, raw in "\\PC*") {
            let mut counts = Normalizations::default();
            match normalize_cell(column, &raw, &mut counts) {
                None => prop_assert!(raw.trim().is_empty()),
                Some(v) => prop_assert!(v == raw.trim() || v == raw.trim().to_ascii_lowercase()),
            }
        }
    }
}

//! The one first pass over an input before its rows are judged, for what only a whole column
//! tells: the keys of an export's JSON metadata (they become columns), an export's amount
//! unit (major when any amount has a decimal point, decided per file), and, without a metadata
//! schema, the metadata columns that look boolean (for `empty_in_boolean_column`). Each input
//! is read at most once for all three, only as far as its questions need, and an input that
//! was read is made ready again for the pass that judges it.

use super::open::FileHeaders;
use super::Sources;
use crate::config::RunConfig;
use crate::error::Result;
use crate::normalize::boolean_like::BooleanLikeScan;
use crate::normalize::headers::ColumnRole;
use crate::normalize::{json_metadata, values};
use crate::read::{InputId, Pending, PerInput};

/// What the first pass is asked, per input.
pub(super) struct Questions {
    /// Per input: its export amount column, when its unit is to be decided from the values.
    pub(super) amount_columns: PerInput<Option<usize>>,
    /// Whether the metadata columns are scanned for boolean-looking ones.
    pub(super) boolean_like: bool,
}

/// What the first pass found.
#[derive(Debug, Default)]
pub(super) struct Answers {
    /// The keys of the JSON metadata cells, in the order first met.
    pub(super) json_keys: Vec<String>,
    /// Per input: its first amount with a decimal point, when it has one.
    pub(super) first_decimals: Vec<Option<String>>,
    /// The metadata columns whose values are all true/false with some empty cells.
    pub(super) boolean_like: Vec<String>,
}

/// Reads each input that a question needs, once, and gives the inputs back ready for the
/// pass that judges them, with the answers.
pub(super) fn pre_read(
    config: &RunConfig,
    sources: Sources,
    inputs: Vec<Pending>,
    headers: &FileHeaders,
    questions: &Questions,
) -> Result<(Vec<Pending>, Answers)> {
    let mut answers = Answers {
        first_decimals: vec![None; headers.len()],
        ..Answers::default()
    };
    let mut scan = BooleanLikeScan::default();
    let mut ready = Vec::with_capacity(inputs.len());
    for (index, input) in inputs.into_iter().enumerate() {
        let id = InputId::new(index);
        let roles = &headers[id].1;
        let json = roles
            .iter()
            .position(|r| matches!(r, ColumnRole::MetadataJson(_)));
        let amount = questions.amount_columns[id];
        let booleans = match questions.boolean_like {
            true => scan.columns_of(roles),
            false => Vec::new(),
        };
        if json.is_none() && amount.is_none() && booleans.is_empty() {
            ready.push(input);
            continue;
        }
        let first_decimal = &mut answers.first_decimals[index];
        let keys = &mut answers.json_keys;
        input.open()?.read_records(|chunk| {
            for record in &chunk.records {
                if let Some(cell) = json.and_then(|c| record.fields.get(c)) {
                    json_metadata::collect_keys(&values::decode(cell), keys);
                }
                if first_decimal.is_none() {
                    if let Some(cell) = amount.and_then(|c| record.fields.get(c)) {
                        if cell.contains(&b'.') {
                            *first_decimal = Some(values::decode(cell).trim().to_owned());
                        }
                    }
                }
                if !record.is_malformed() {
                    for &(column, tally) in &booleans {
                        if let Some(cell) = record.fields.get(column) {
                            scan.add(tally, cell);
                        }
                    }
                }
            }
            // Keys take every row; the unit, the first decimal; the scan, a settled answer.
            json.is_some()
                || (amount.is_some() && first_decimal.is_none())
                || (!booleans.is_empty() && !scan.settled(&booleans))
        })?;
        ready.push(sources.pending(sources.open(index, config)?, config));
    }
    answers.boolean_like = scan.boolean_like();
    Ok((ready, answers))
}

//! Normalization: one table layout for all input files (known columns under their canonical
//! names, metadata columns in first-seen order), and each chunk of records turned into an Arrow
//! batch of that layout with values trimmed and `Active` lowercased.

pub mod boolean_like;
pub mod export;
pub mod headers;
pub mod json_metadata;
pub mod values;

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};

/// The type of the rule table's `file` column: the input as the dictionary key, its name as
/// the value.
pub fn file_column_type() -> DataType {
    DataType::Dictionary(Box::new(DataType::UInt32), Box::new(DataType::Utf8))
}

use crate::read::PerInput;
use headers::{ColumnRole, KnownColumn};

/// How one input file's columns land in the shared layout.
#[derive(Debug, Clone)]
pub struct FileLayout {
    /// For each column of the file, its column in the rule table (None: dropped, or JSON).
    pub table_columns: Vec<Option<usize>>,
    /// The file's JSON `metadata` column, spread into metadata columns.
    pub json_column: Option<usize>,
    /// A Voucherify export whose `Gift Amount` with decimals is in major units, to be written
    /// in minor units.
    pub export_amounts_to_minor: bool,
    /// For each column of the file, its column among [`TableLayout::original_headers`] (None:
    /// a report column of a rejected.csv given back as input, not shown again).
    pub original_columns: Vec<Option<usize>>,
    /// A rejected.csv given back as input: values it shows with a `'` in front (formula
    /// safety) are read without it.
    pub undo_formula_quotes: bool,
    /// The file's dropped columns (by `--drop`, or by an export's conversion): position and
    /// name. Their cells that hold values are counted, so that what is left out is said.
    pub dropped: Vec<(usize, String)>,
    /// An export's `voucher_type` column and the type the campaign holds: a row of another
    /// type is `wrong_voucher_type`.
    pub voucher_type: Option<(usize, &'static str)>,
    /// Per kept column of the layout ([`TableLayout::kept`]), the file's column that holds it.
    pub kept_columns: Vec<Option<usize>>,
    /// The rule-table value columns this file fills (its known and metadata columns, and the
    /// keys of its JSON `metadata`), ascending: its column set, by which batches are grouped.
    pub filled: Vec<usize>,
}

/// Batch column sets and the files of each (see [`TableLayout::column_groups`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnGroups {
    /// Per group, its batch columns as positions among [`TableLayout::output_columns`].
    pub columns: Vec<Vec<usize>>,
    /// Per input file, its group.
    pub of_file: PerInput<usize>,
}

/// The one layout every file of an import is brought into.
#[derive(Debug, Clone)]
pub struct TableLayout {
    /// Metadata column names, in the order they were first seen across the files.
    pub metadata: Vec<String>,
    /// Kept column names (`--keep`), in the order they were first seen across the files:
    /// carried with each row into the accepted rows and the reports, never into the rule
    /// table or a batch.
    pub kept: Vec<String>,
    /// Known columns that at least one file has, in canonical order.
    pub known_present: Vec<KnownColumn>,
    /// rejected.csv's field columns: one per distinct column meaning (a known column or a
    /// metadata name) in first-seen order, under the first spelling met in the input.
    pub original_headers: Vec<String>,
    /// Each input's place in the layout, by input position.
    pub files: PerInput<FileLayout>,
    /// The rule table: the nine known columns, the metadata columns, then `file`, `row`, `line`.
    /// `file` is dictionary-encoded: its key is the row's input (the [`crate::read::InputId`]),
    /// its value the input's name, which is what a rule reads.
    pub schema: SchemaRef,
    /// The inputs' names, by input: the values of every chunk's `file` column.
    pub input_names: ArrayRef,
    /// How `Start Date` and `Expiration Date` values written day or month first are read
    /// (`--date-order`); None leaves them as written.
    pub date_order: Option<crate::formats::DateOrder>,
}

impl TableLayout {
    /// Builds the layout from each file's trimmed header names and their roles.
    pub fn new(files: &[(Vec<String>, Vec<ColumnRole>)]) -> Self {
        Self::with_json_keys(files, &[])
    }

    /// Like [`TableLayout::new`], with the keys found in JSON `metadata` columns becoming
    /// metadata columns where that column stands.
    pub fn with_json_keys(files: &[(Vec<String>, Vec<ColumnRole>)], json_keys: &[String]) -> Self {
        // Lists in order, with maps from name to position beside them: headers can be very
        // wide, and a search of the list per column would be quadratic.
        let mut metadata: Vec<String> = Vec::new();
        let mut metadata_at: HashMap<String, usize> = HashMap::new();
        let mut original_headers: Vec<String> = Vec::new();
        let mut original_at: HashMap<String, usize> = HashMap::new();
        let mut present = [false; KnownColumn::ALL.len()];
        let mut kept: Vec<String> = Vec::new();
        for (_, roles) in files {
            for role in roles {
                match role {
                    ColumnRole::Known(k) => present[k.index()] = true,
                    ColumnRole::Kept(name) => {
                        if !kept.contains(name) {
                            kept.push(name.clone());
                        }
                    }
                    ColumnRole::Dropped(_) | ColumnRole::Report(_) => {}
                    ColumnRole::Metadata(name) => {
                        if !metadata_at.contains_key(name) {
                            metadata_at.insert(name.clone(), metadata.len());
                            metadata.push(name.clone());
                        }
                    }
                    ColumnRole::MetadataJson(_) => {
                        for key in json_keys {
                            if !metadata_at.contains_key(key) {
                                metadata_at.insert(key.clone(), metadata.len());
                                metadata.push(key.clone());
                            }
                        }
                    }
                }
            }
        }
        let file_layouts: Vec<FileLayout> = files
            .iter()
            .map(|(names, roles)| {
                // A rejected.csv given back writes its header names spreadsheet-safe.
                let report = roles.iter().any(|r| matches!(r, ColumnRole::Report(_)));
                // Dropped columns are told apart by their name and their rank among the file's
                // dropped columns of that name: two columns named alike (or both unnamed) keep
                // a rejected.csv column each.
                let mut dropped_seen: HashMap<&str, usize> = HashMap::new();
                let original_columns = names
                    .iter()
                    .zip(roles)
                    .map(|(name, role)| {
                        let key = match role {
                            ColumnRole::Report(_) => return None,
                            ColumnRole::Dropped(name) => {
                                let rank = dropped_seen.entry(name.as_str()).or_insert(0);
                                *rank += 1;
                                format!("dropped:{name}:{rank}")
                            }
                            ColumnRole::Kept(name) => format!("kept:{name}"),
                            other => other.output_name().to_owned(),
                        };
                        Some(match original_at.get(&key) {
                            Some(&i) => i,
                            None => {
                                original_at.insert(key, original_headers.len());
                                original_headers.push(if report {
                                    crate::folder::formula_unsafe(name).to_owned()
                                } else {
                                    name.clone()
                                });
                                original_headers.len() - 1
                            }
                        })
                    })
                    .collect();
                let table_columns: Vec<Option<usize>> = roles
                    .iter()
                    .map(|role| match role {
                        ColumnRole::Known(k) => Some(k.index()),
                        ColumnRole::Dropped(_)
                        | ColumnRole::Kept(_)
                        | ColumnRole::MetadataJson(_)
                        | ColumnRole::Report(_) => None,
                        ColumnRole::Metadata(name) => {
                            Some(KnownColumn::ALL.len() + metadata_at[name])
                        }
                    })
                    .collect();
                let mut filled: Vec<usize> = table_columns.iter().flatten().copied().collect();
                if roles
                    .iter()
                    .any(|r| matches!(r, ColumnRole::MetadataJson(_)))
                {
                    filled.extend(
                        json_keys
                            .iter()
                            .map(|k| KnownColumn::ALL.len() + metadata_at[k]),
                    );
                }
                filled.sort_unstable();
                filled.dedup();
                let kept_columns = kept
                    .iter()
                    .map(|name| {
                        roles
                            .iter()
                            .position(|r| matches!(r, ColumnRole::Kept(n) if n == name))
                    })
                    .collect();
                FileLayout {
                    filled,
                    kept_columns,
                    voucher_type: None,
                    dropped: roles
                        .iter()
                        .enumerate()
                        .filter_map(|(c, r)| match r {
                            ColumnRole::Dropped(name) if name.is_empty() => {
                                Some((c, format!("#{}", c + 1)))
                            }
                            ColumnRole::Dropped(name) => Some((c, name.clone())),
                            _ => None,
                        })
                        .collect(),
                    export_amounts_to_minor: false,
                    undo_formula_quotes: roles.iter().any(|r| matches!(r, ColumnRole::Report(_))),
                    json_column: roles
                        .iter()
                        .position(|r| matches!(r, ColumnRole::MetadataJson(_))),
                    table_columns,
                    original_columns,
                }
            })
            .collect();
        let mut fields: Vec<Field> = KnownColumn::ALL
            .iter()
            .map(|k| Field::new(k.canonical(), DataType::Utf8, true))
            .collect();
        fields.extend(metadata.iter().map(|m| Field::new(m, DataType::Utf8, true)));
        fields.push(Field::new("file", file_column_type(), false));
        fields.push(Field::new("row", DataType::Int64, false));
        fields.push(Field::new("line", DataType::Int64, false));
        TableLayout {
            known_present: KnownColumn::ALL
                .into_iter()
                .filter(|k| present[k.index()])
                .collect(),
            metadata,
            kept,
            original_headers,
            input_names: Arc::new(StringArray::from(
                (1..=file_layouts.len())
                    .map(|n| format!("input {n}"))
                    .collect::<Vec<_>>(),
            )),
            files: PerInput::from_vec(file_layouts),
            schema: Arc::new(Schema::new(fields)),
            date_order: None,
        }
    }

    /// Names the inputs (by input) as the rule table's `file` column shows them.
    pub fn name_inputs(&mut self, names: &[String]) {
        self.input_names = Arc::new(StringArray::from(names.to_vec()));
    }

    /// Names of the rule-table columns the input really has: the known columns present, the
    /// metadata columns, and the position columns.
    pub fn present_columns(&self) -> Vec<String> {
        self.known_present
            .iter()
            .map(|k| k.canonical().to_owned())
            .chain(self.metadata.iter().cloned())
            .chain(headers::POSITION_COLUMNS.iter().map(|c| c.to_string()))
            .collect()
    }

    /// Number of value columns (known + metadata) before the position columns.
    pub fn value_columns(&self) -> usize {
        KnownColumn::ALL.len() + self.metadata.len()
    }

    /// The files grouped by column set, so that rows of inputs with different columns never
    /// share a batch (an empty cell the input never had is not neutral at Voucherify: an empty
    /// `Active` or amount may be read as false or 0, an empty metadata cell overrides the
    /// campaign's). Groups are in the order their first file comes; each lists its positions
    /// among [`TableLayout::output_columns`].
    pub fn column_groups(&self) -> ColumnGroups {
        let output: Vec<usize> = self.output_columns().iter().map(|(_, c)| *c).collect();
        let mut groups = ColumnGroups::default();
        let mut of_file = Vec::with_capacity(self.files.len());
        for file in &self.files {
            let positions: Vec<usize> = output
                .iter()
                .enumerate()
                .filter(|(_, c)| file.filled.binary_search(c).is_ok())
                .map(|(position, _)| position)
                .collect();
            let group = match groups.columns.iter().position(|g| *g == positions) {
                Some(group) => group,
                None => {
                    groups.columns.push(positions);
                    groups.columns.len() - 1
                }
            };
            of_file.push(group);
        }
        groups.of_file = PerInput::from_vec(of_file);
        groups
    }

    /// The columns an import batch holds, as (header, rule-table column): known columns present
    /// in the input in canonical order, then metadata columns in input order.
    pub fn output_columns(&self) -> Vec<(String, usize)> {
        self.known_present
            .iter()
            .map(|k| (k.canonical().to_owned(), k.index()))
            .chain(
                self.metadata
                    .iter()
                    .enumerate()
                    .map(|(i, m)| (m.clone(), KnownColumn::ALL.len() + i)),
            )
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::InputId;

    #[test]
    fn layout_unions_files_in_first_seen_order() {
        let a = (
            vec!["code".to_string(), "tier".to_string()],
            vec![
                ColumnRole::Known(KnownColumn::Code),
                ColumnRole::Metadata("tier".into()),
            ],
        );
        let b = (
            vec![
                "region".to_string(),
                "Active".to_string(),
                "Code".to_string(),
            ],
            vec![
                ColumnRole::Metadata("region".into()),
                ColumnRole::Known(KnownColumn::Active),
                ColumnRole::Known(KnownColumn::Code),
            ],
        );
        let layout = TableLayout::new(&[a, b]);
        let headers: Vec<String> = layout
            .output_columns()
            .into_iter()
            .map(|(h, _)| h)
            .collect();
        assert_eq!(headers, ["Code", "Active", "tier", "region"]);
        assert_eq!(
            layout.original_headers,
            ["code", "tier", "region", "Active"]
        );
        assert_eq!(
            layout.files[InputId::new(1)].original_columns,
            [Some(2), Some(3), Some(0)]
        );
        assert_eq!(
            layout.files[InputId::new(1)].table_columns,
            [Some(10), Some(2), Some(0)]
        );
        assert_eq!(layout.schema.fields().len(), 9 + 2 + 3);
    }
}

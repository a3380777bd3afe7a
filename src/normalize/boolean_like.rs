//! Metadata columns that look boolean when no schema says which are: every non-empty value is
//! `true` or `false` (any case; `null` is neither), at least two of them, and some cells are
//! empty. Voucherify silently drops a row whose boolean metadata cell is empty, so such a
//! column's empty cells are worth a warning (`empty_in_boolean_column`). Deciding it takes the
//! whole column: a first pass tallies the cells, and stops as soon as every column it scans
//! holds some other value.

use std::collections::HashMap;

use crate::normalize::headers::ColumnRole;

/// What the values of one metadata column (by name, across every input) were so far.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    booleans: u64,
    empties: u64,
    /// A value that is neither true, false, null nor empty: not a boolean column.
    other: bool,
}

/// The tallies of a first pass over the metadata columns.
#[derive(Debug, Default)]
pub struct BooleanLikeScan {
    names: Vec<String>,
    at: HashMap<String, usize>,
    tallies: Vec<Tally>,
}

/// A value of a boolean-looking column, as the scan tells them apart.
fn kind(cell: &[u8]) -> CellKind {
    let value = cell.trim_ascii();
    if value.is_empty() {
        CellKind::Empty
    } else if value.eq_ignore_ascii_case(b"true") || value.eq_ignore_ascii_case(b"false") {
        CellKind::Boolean
    } else if value.eq_ignore_ascii_case(b"null") {
        CellKind::Null
    } else {
        CellKind::Other
    }
}

enum CellKind {
    Empty,
    Boolean,
    Null,
    Other,
}

impl BooleanLikeScan {
    /// A file's metadata columns still worth scanning, as (file column, tally) pairs: none
    /// once a column has shown another value in an earlier file.
    pub fn columns_of(&mut self, roles: &[ColumnRole]) -> Vec<(usize, usize)> {
        roles
            .iter()
            .enumerate()
            .filter_map(|(column, role)| match role {
                ColumnRole::Metadata(name) => {
                    let tally = match self.at.get(name) {
                        Some(&tally) => tally,
                        None => {
                            self.at.insert(name.clone(), self.names.len());
                            self.names.push(name.clone());
                            self.tallies.push(Tally::default());
                            self.names.len() - 1
                        }
                    };
                    (!self.tallies[tally].other).then_some((column, tally))
                }
                _ => None,
            })
            .collect()
    }

    /// Counts one cell (None: the record has no such field, which is not a cell).
    pub fn add(&mut self, tally: usize, cell: &[u8]) {
        let tally = &mut self.tallies[tally];
        match kind(cell) {
            CellKind::Empty => tally.empties += 1,
            CellKind::Boolean => tally.booleans += 1,
            CellKind::Null => {}
            CellKind::Other => tally.other = true,
        }
    }

    /// Whether every one of these columns has shown another value: scanning on is useless.
    pub fn settled(&self, columns: &[(usize, usize)]) -> bool {
        columns.iter().all(|&(_, tally)| self.tallies[tally].other)
    }

    /// The columns whose empty cells are warned about, by name.
    pub fn boolean_like(&self) -> Vec<String> {
        self.names
            .iter()
            .zip(&self.tallies)
            .filter(|(_, t)| !t.other && t.booleans >= 2 && t.empties > 0)
            .map(|(name, _)| name.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(files: &[(&[&str], &[&[&str]])]) -> Vec<String> {
        let mut scan = BooleanLikeScan::default();
        for (names, rows) in files {
            let roles: Vec<ColumnRole> = names
                .iter()
                .map(|n| ColumnRole::Metadata(n.to_string()))
                .collect();
            let columns = scan.columns_of(&roles);
            for row in *rows {
                for &(column, tally) in &columns {
                    scan.add(tally, row[column].as_bytes());
                }
            }
        }
        scan.boolean_like()
    }

    #[test]
    fn a_column_of_true_false_and_empty_cells_is_boolean_like() {
        let rows: &[&[&str]] = &[
            &["TRUE", "gold", "true"],
            &["false", "silver", "False"],
            &[" ", "", "null"],
        ];
        assert_eq!(
            scan(&[(&["subscribed", "tier", "vip"], rows)]),
            ["subscribed"]
        );
    }

    #[test]
    fn one_boolean_or_another_value_in_any_file_is_not_enough() {
        let one: &[&[&str]] = &[&["true"], &[""]];
        assert!(scan(&[(&["a"], one)]).is_empty());
        let first: &[&[&str]] = &[&["true"], &["false"], &[""]];
        let second: &[&[&str]] = &[&["yes"]];
        assert!(scan(&[(&["a"], first), (&["a"], second)]).is_empty());
    }
}

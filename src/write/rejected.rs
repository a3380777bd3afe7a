//! The rejected report, `rejected.csv`: one line per rejected row with where it came from
//! (`file`, `row`, `line`), which rules it failed and why, then its original fields under the
//! input's own headers, and the raw text of a record that could not be split into fields.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::normalize::values::decode;
use crate::read::Record;

use crate::folder::summary::RuleExample;
pub use crate::folder::{formula_safe, formula_unsafe, REPORT_COLUMNS};

/// Rows per rule kept as examples for the reports.
pub const EXAMPLES_PER_RULE: usize = 20;

/// Writes rejected.csv (or warnings.csv) when given a path, and keeps examples of each rule.
#[derive(Debug)]
pub struct RejectedWriter {
    path: PathBuf,
    out: Option<csv::Writer<BufWriter<File>>>,
    original_columns: usize,
    fields: Vec<String>,
    /// Up to [`EXAMPLES_PER_RULE`] rows per rule name, rules in the order they were first met.
    examples: Vec<(String, Vec<RuleExample>)>,
}

impl RejectedWriter {
    /// A report written to `path` (none: examples kept only) with `original_headers` as its
    /// field columns.
    pub fn new(path: Option<&Path>, original_headers: &[String]) -> Result<Self> {
        let out = match path {
            Some(path) => {
                let file = File::create(path).map_err(|e| Error::io(path, e))?;
                let mut out = csv::WriterBuilder::new()
                    .terminator(csv::Terminator::CRLF)
                    .from_writer(BufWriter::with_capacity(1 << 20, file));
                let header = REPORT_COLUMNS
                    .iter()
                    .map(|&c| c.to_owned())
                    .chain(original_headers.iter().map(|h| formula_safe(h.clone())))
                    .chain([crate::folder::RAW_COLUMN.to_owned()]);
                out.write_record(header).map_err(|e| csv_write(path, e))?;
                Some(out)
            }
            None => None,
        };
        Ok(RejectedWriter {
            path: path.map(Path::to_owned).unwrap_or_default(),
            out,
            original_columns: original_headers.len(),
            fields: Vec::new(),
            examples: Vec::new(),
        })
    }

    /// Writes one rejected row. `original_columns[i]` is where the record's field `i` goes
    /// (None: nowhere). `from_report`: the record comes from a rejected.csv given back, whose
    /// cells are spreadsheet-safe already (they are shown as they were first).
    pub fn write(
        &mut self,
        file_name: &str,
        record: &Record,
        original_columns: &[Option<usize>],
        from_report: bool,
        rules: &[String],
        reason: &str,
    ) -> Result<()> {
        let wants_example = rules.iter().any(|rule| {
            self.examples
                .iter()
                .find(|(name, _)| name == rule)
                .is_none_or(|(_, kept)| kept.len() < EXAMPLES_PER_RULE)
        });
        if self.out.is_some() || wants_example {
            self.fields.clear();
            self.fields.resize(self.original_columns + 1, String::new());
            if let Some(raw) = &record.raw {
                self.fields[self.original_columns] = shown(raw, false);
            } else {
                for (field, column) in record.fields.iter().zip(original_columns) {
                    if let Some(column) = column {
                        self.fields[*column] = shown(field, from_report);
                    }
                }
            }
        }
        if wants_example {
            for rule in rules {
                let at = match self.examples.iter().position(|(name, _)| name == rule) {
                    Some(at) => at,
                    None => {
                        self.examples.push((rule.clone(), Vec::new()));
                        self.examples.len() - 1
                    }
                };
                let kept = &mut self.examples[at].1;
                if kept.len() < EXAMPLES_PER_RULE {
                    kept.push(RuleExample {
                        file: file_name.to_owned(),
                        row: record.row,
                        line: record.line,
                        reason: reason.to_owned(),
                        fields: self.fields.clone(),
                    });
                }
            }
        }
        if let Some(out) = &mut self.out {
            let row = record.row.to_string();
            // Line 0: the format has no lines (Parquet).
            let line = if record.line == 0 {
                String::new()
            } else {
                record.line.to_string()
            };
            let head = [
                formula_safe(file_name.to_owned()),
                row,
                line,
                formula_safe(rules.join("|")),
                formula_safe(reason.to_owned()),
            ];
            out.write_record(
                head.iter()
                    .map(String::as_str)
                    .chain(self.fields.iter().map(String::as_str)),
            )
            .map_err(|e| csv_write(&self.path, e))?;
        }
        Ok(())
    }

    /// Flushes the file (synced) and gives the examples, by rule name.
    pub fn finish(self) -> Result<Vec<(String, Vec<RuleExample>)>> {
        if let Some(out) = self.out {
            let file = out
                .into_inner()
                .map_err(|e| Error::io(&self.path, e.into_error()))?
                .into_inner()
                .map_err(|e| Error::io(&self.path, e.into_error()))?;
            file.sync_all().map_err(|e| Error::io(&self.path, e))?;
        }
        Ok(self.examples)
    }
}

/// A field as rejected.csv shows it: bytes that are not UTF-8, and NUL bytes (which break
/// spreadsheets and text tools), as U+FFFD; a value a spreadsheet would run as a formula with a
/// `'` before it (see [`formula_safe`]). `from_report`: the bytes are a rejected.csv's cell,
/// spreadsheet-safe already.
fn shown(bytes: &[u8], from_report: bool) -> String {
    let text = decode(bytes);
    let text = if from_report {
        match formula_unsafe(&text) {
            unquoted if unquoted.len() < text.len() => std::borrow::Cow::Owned(unquoted.to_owned()),
            _ => text,
        }
    } else {
        text
    };
    let text = if text.contains('\0') {
        text.replace('\0', "\u{FFFD}")
    } else {
        text.into_owned()
    };
    formula_safe(text)
}

fn csv_write(path: &Path, e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(source) => Error::io(path, source),
        other => Error::Invariant(format!("writing {}: {other:?}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_spreadsheet_round_trip_gives_back_every_value(value in "\\PC{0,12}") {
            let safe = formula_safe(value.clone());
            prop_assert!(!crate::folder::looks_like_formula(&safe));
            prop_assert_eq!(formula_unsafe(&safe), value.as_str());
        }

        #[test]
        fn values_starting_with_a_quote_round_trip(rest in "[-=+@'a-z0-9]{0,6}") {
            let value = format!("'{rest}");
            let safe = formula_safe(value.clone());
            prop_assert_eq!(formula_unsafe(&safe), value.as_str());
        }
    }

    #[test]
    fn a_code_that_is_quote_minus_17_survives() {
        assert_eq!(formula_safe("'-17".into()), "''-17");
        assert_eq!(formula_unsafe("''-17"), "'-17");
        assert_eq!(formula_safe("-17".into()), "'-17");
        assert_eq!(formula_unsafe("'-17"), "-17");
    }
}

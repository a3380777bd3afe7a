//! Loading `--existing` files: the codes already in the project, as a CSV with a `code` column
//! (any letter case) or as a one-column list with or without that header. The delimiter is
//! sniffed from the first line as for inputs (`,` `;` TAB `|`); a one-column list whose lines
//! hold a delimiter is refused (it is a table read wrong, and its codes would not be found).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use crate::error::{Error, Result};

/// Calls `add` with every code of an existing-codes file (trimmed, empty cells skipped) and
/// returns how many codes it held. A line longer than `max_line_bytes` stops the reading with an
/// error (an endless source such as `/dev/zero` ends at once).
pub fn read_codes(path: &Path, max_line_bytes: usize, add: impl FnMut(&str)) -> Result<u64> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    read_codes_from(file, path, max_line_bytes, add)
}

/// [`read_codes`] of any reader (a download streamed as it comes); `path` names it in errors.
pub fn read_codes_from(
    source: impl std::io::Read,
    path: &Path,
    max_line_bytes: usize,
    mut add: impl FnMut(&str),
) -> Result<u64> {
    let mut buffered = BufReader::new(BoundedLines {
        inner: source,
        limit: max_line_bytes,
        since_line_break: 0,
    });
    let starts_with_bom = buffered
        .fill_buf()
        .map_err(|e| Error::io(path, e))?
        .starts_with(b"\xEF\xBB\xBF");
    if starts_with_bom {
        buffered.consume(3);
    }
    let head = buffered.fill_buf().map_err(|e| Error::io(path, e))?;
    let delimiter = voucher_import_read::split::sniff_delimiter(head, b'"');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(buffered);
    let mut records = reader.records();
    let Some(first) = records.next() else {
        return Ok(0);
    };
    let first = first.map_err(|e| csv_problem(path, e))?;
    let code_column = first
        .iter()
        .position(|h| h.trim().eq_ignore_ascii_case("code"));
    let one_column = first.len() == 1;
    let (column, mut count) = match code_column {
        Some(column) => (column, 0),
        None if first.len() == 1 => {
            // A one-column list without a header: the first line is a code too.
            let code = first[0].trim();
            if !code.is_empty() {
                add(code);
            }
            (0, u64::from(!code.is_empty()))
        }
        None => {
            return Err(Error::input(
                path,
                format!(
                    "no 'code' column among the {} columns of the existing-codes file ({})",
                    first.len(),
                    first.iter().collect::<Vec<_>>().join(", ")
                ),
                "name the column that holds the codes 'code', or pass a one-column list of codes",
            ));
        }
    };
    for record in records {
        let record = record.map_err(|e| csv_problem(path, e))?;
        let line = record.position().map_or(0, |p| p.line());
        let Some(code) = record.get(column) else {
            return Err(Error::Csv {
                path: path.to_owned(),
                line,
                message: format!(
                    "the record has {} fields, so no code in column {}",
                    record.len(),
                    column + 1
                ),
            });
        };
        if one_column {
            if let Some(found) = code.bytes().find(|b| DELIMITERS.contains(b)) {
                return Err(Error::input(
                    path,
                    format!(
                        "line {line} holds '{}', and the first line has one column: this is no list of one code a line",
                        (found as char).escape_default()
                    ),
                    "give a CSV whose first line names its columns with the same delimiter (one of them 'code'), or a list of one code a line",
                ));
            }
        }
        let code = code.trim();
        if !code.is_empty() {
            add(code);
            count += 1;
        }
    }
    Ok(count)
}

/// The delimiters a file may use (what the sniffer picks from).
const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// A reader that fails once a line grows past `limit` bytes.
struct BoundedLines<R> {
    inner: R,
    limit: usize,
    since_line_break: usize,
}

/// The message of the error [`BoundedLines`] gives.
const LINE_TOO_LONG: &str = "a line longer than --max-record-bytes";

impl<R: std::io::Read> std::io::Read for BoundedLines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            if b == b'\n' || b == b'\r' {
                self.since_line_break = 0;
            } else {
                self.since_line_break += 1;
                if self.since_line_break > self.limit {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        LINE_TOO_LONG,
                    ));
                }
            }
        }
        Ok(n)
    }
}

fn csv_problem(path: &Path, e: csv::Error) -> Error {
    let line = e.position().map_or(0, |p| p.line());
    match e.into_kind() {
        csv::ErrorKind::Io(source) if source.to_string() == LINE_TOO_LONG => Error::input(
            path,
            "holds a line longer than --max-record-bytes: that is no list of codes",
            "check that --existing names the existing-codes file (raise --max-record-bytes if its lines really are that long)",
        ),
        csv::ErrorKind::Io(source) => Error::io(path, source),
        csv::ErrorKind::Utf8 { .. } => Error::input(
            path,
            format!("line {line} is not valid UTF-8"),
            "save the existing-codes file as UTF-8",
        ),
        other => Error::Csv {
            path: path.to_owned(),
            line,
            message: format!("{other:?}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn codes_of(text: &str) -> Result<Vec<String>> {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        let mut codes = Vec::new();
        let count = read_codes(file.path(), 1 << 20, |c| codes.push(c.to_owned()))?;
        assert_eq!(count as usize, codes.len());
        Ok(codes)
    }

    #[test]
    fn a_code_column_is_found_in_any_case_and_position() {
        assert_eq!(codes_of("id,CODE\n1, A \n2,B\n3,\n").unwrap(), ["A", "B"]);
        assert_eq!(codes_of("\u{feff}code\r\nA\r\n").unwrap(), ["A"]);
    }

    #[test]
    fn a_one_column_list_needs_no_header() {
        assert_eq!(codes_of("A\nB\n").unwrap(), ["A", "B"]);
        assert_eq!(codes_of("").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_file_delimited_by_semicolons_tabs_or_pipes_is_read_by_its_columns() {
        assert_eq!(codes_of("id;code\n1;A\n2;B\n").unwrap(), ["A", "B"]);
        assert_eq!(codes_of("code\tname\nA\tx\n").unwrap(), ["A"]);
        assert_eq!(codes_of("name|Code\nx|A\n").unwrap(), ["A"]);
    }

    #[test]
    fn a_one_column_list_whose_lines_hold_a_delimiter_is_refused() {
        let err = codes_of("code\nA;1\nB;2\n").unwrap_err().to_string();
        assert!(err.contains("line 2 holds ';'"), "{err}");
        let err = codes_of("A\nB|x\n").unwrap_err().to_string();
        assert!(err.contains("holds '|'"), "{err}");
    }

    #[test]
    fn several_columns_without_code_are_refused() {
        let err = codes_of("id,name\n1,x\n").unwrap_err().to_string();
        assert!(err.contains("no 'code' column"), "{err}");
    }
}

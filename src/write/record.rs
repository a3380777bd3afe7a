//! One import record's bytes: the CSV form Voucherify's campaign import takes (comma-separated,
//! quoted only when needed, CRLF), for one record or a whole chunk at once.

use datafusion::arrow::array::{Array, StringArray};

use crate::folder::looks_like_formula;

/// Appends one CSV record to `out`: fields joined by commas, a field quoted (inner quotes
/// doubled) only when it holds a comma, a quote, CR or LF, or when a lone field is empty (so
/// the line is not blank); CRLF at the end.
pub fn encode_record<'a>(out: &mut Vec<u8>, fields: impl IntoIterator<Item = &'a str>) {
    let start = out.len();
    let mut count = 0;
    for (i, field) in fields.into_iter().enumerate() {
        count += 1;
        if i > 0 {
            out.push(b',');
        }
        push_field(out, field);
    }
    if count == 1 && out.len() == start {
        out.extend_from_slice(b"\"\"");
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends one field, quoted (inner quotes doubled) when it holds a comma, a quote, CR or LF.
fn push_field(out: &mut Vec<u8>, field: &str) {
    if field
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
    {
        out.push(b'"');
        for b in field.bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(field.as_bytes());
    }
}

/// Every row of a chunk encoded as an import record. Built by the worker threads, so that the
/// in-order finisher only copies the bytes of the rows it accepts.
#[derive(Debug, Default)]
pub struct EncodedRows {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    /// Per row, the empty boolean cells written as `null`.
    nulls: Vec<u32>,
    /// Per row, the values a spreadsheet would read as formulas (left as they are: they are
    /// data; the summary counts them).
    formulas: Vec<u32>,
}

impl EncodedRows {
    /// Encodes every row of `columns` (the batch columns, in order). An empty cell of a
    /// position in `boolean_columns` is written `null`: Voucherify drops a row whose boolean
    /// metadata cell is empty.
    pub fn encode(columns: &[&StringArray], boolean_columns: &[usize]) -> Self {
        let rows = columns.first().map_or(0, |c| c.len());
        let value_bytes: usize = columns.iter().map(|c| c.values().len()).sum();
        let mut encoded = EncodedRows {
            bytes: Vec::with_capacity(value_bytes + rows * (columns.len() + 2)),
            ends: Vec::with_capacity(rows),
            nulls: Vec::with_capacity(rows),
            formulas: Vec::with_capacity(rows),
        };
        // A column none of whose values holds a byte that needs quoting (most columns: codes,
        // amounts, dates) is found with one SIMD scan of its value buffer; its fields are then
        // copied without being looked at one by one.
        let plain: Vec<bool> = columns
            .iter()
            .map(|a| {
                let values = a.values().as_slice();
                memchr::memchr3(b',', b'"', b'\n', values).is_none()
                    && memchr::memchr(b'\r', values).is_none()
            })
            .collect();
        let boolean: Vec<bool> = (0..columns.len())
            .map(|c| boolean_columns.contains(&c))
            .collect();
        let lone_field = columns.len() == 1;
        for i in 0..rows {
            let mut nulls = 0;
            let mut formulas = 0;
            let out = &mut encoded.bytes;
            for (c, a) in columns.iter().enumerate() {
                if c > 0 {
                    out.push(b',');
                }
                if a.is_valid(i) {
                    let value = a.value(i);
                    formulas += u32::from(looks_like_formula(value));
                    if plain[c] {
                        out.extend_from_slice(value.as_bytes());
                    } else {
                        push_field(out, value);
                    }
                } else if boolean[c] {
                    nulls += 1;
                    out.extend_from_slice(b"null");
                } else if lone_field {
                    out.extend_from_slice(b"\"\"");
                }
            }
            out.extend_from_slice(b"\r\n");
            encoded.ends.push(out.len());
            encoded.nulls.push(nulls);
            encoded.formulas.push(formulas);
        }
        encoded
    }

    /// Row `i` as it goes into a batch, CRLF included.
    pub fn row(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }

    /// How many empty boolean cells of row `i` were written `null`.
    pub fn nulls(&self, i: usize) -> u32 {
        self.nulls[i]
    }

    /// How many values of row `i` start like a spreadsheet formula.
    pub fn formulas(&self, i: usize) -> u32 {
        self.formulas[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_quoted_only_where_it_must_be() {
        let mut out = Vec::new();
        encode_record(&mut out, ["000123", "a, \"b\"", "Zürich"]);
        assert_eq!(out, "000123,\"a, \"\"b\"\"\",Zürich\r\n".as_bytes());
    }

    fn encode<'a>(fields: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
        let mut out = Vec::new();
        encode_record(&mut out, fields);
        out
    }

    #[test]
    fn records_are_quoted_only_when_needed_with_crlf() {
        assert_eq!(encode(["A", "plain"]), b"A,plain\r\n");
        assert_eq!(
            encode(["000123", "has, comma \"q\"\nline"]),
            b"000123,\"has, comma \"\"q\"\"\nline\"\r\n"
        );
        assert_eq!(
            encode([""]),
            b"\"\"\r\n",
            "a lone empty field is not a blank line"
        );
        assert_eq!(encode(["", "Zürich"]), ",Zürich\r\n".as_bytes());
    }

    proptest::proptest! {
        /// What we encode, the csv crate reads back field for field.
        #[test]
        fn encoded_records_read_back(fields in proptest::collection::vec("\\PC*|[,\"\r\n a]*", 1..6)) {
            let mut out = Vec::new();
            encode_record(&mut out, fields.iter().map(String::as_str));
            let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(&out[..]);
            let record = reader.records().next().unwrap().unwrap();
            let read: Vec<&str> = record.iter().collect();
            proptest::prop_assert_eq!(read, fields.iter().map(String::as_str).collect::<Vec<_>>());
        }
    }

    proptest::proptest! {
        /// Encoding a chunk's columns at once gives, row by row, what `encode_record` gives
        /// (empty boolean cells as `null`).
        #[test]
        fn encoded_rows_match_encode_record(
            rows in proptest::collection::vec(
                proptest::collection::vec(proptest::option::of("[a-c,\"\r\n ]{0,4}"), 3),
                0..20,
            ),
            boolean in 0usize..4,
        ) {
            let columns: Vec<StringArray> = (0..3)
                .map(|c| rows.iter().map(|r| r[c].clone()).collect())
                .collect();
            let refs: Vec<&StringArray> = columns.iter().collect();
            let encoded = EncodedRows::encode(&refs, &[boolean]);
            for (i, row) in rows.iter().enumerate() {
                let fields = row.iter().enumerate().map(|(c, v)| match v {
                    Some(v) => v.as_str(),
                    None if c == boolean => "null",
                    None => "",
                });
                proptest::prop_assert_eq!(encoded.row(i), &encode(fields)[..]);
                let nulls = u32::from(boolean < 3 && row[boolean].is_none());
                proptest::prop_assert_eq!(encoded.nulls(i), nulls);
            }
        }
    }
}

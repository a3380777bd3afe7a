//! What reading gives: records (fields as bytes, with their row, line and any problem), in
//! chunks, and each file's digest once read to its end; and a record's fields as text.

use csv::ByteRecord;

use crate::split::Damage;
use crate::CHUNK_ROWS;

/// Why a record cannot be imported as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordProblem {
    /// The record has a different number of fields than the header.
    FieldCount {
        /// The header's fields.
        expected: usize,
        /// The record's fields.
        found: usize,
    },
    /// The record's bytes are damaged in a way that makes its fields unreliable.
    Damaged(Damage),
    /// These columns (0-based positions in the file) hold bytes that are not UTF-8.
    InvalidEncoding {
        /// The columns, 0-based.
        columns: Vec<usize>,
    },
    /// These columns (0-based positions, with why) hold typed values that cannot be written
    /// as text (a Parquet timestamp out of range); their fields are empty.
    UnreadableValue {
        /// The columns, 0-based, each with why.
        columns: Vec<(usize, String)>,
    },
    /// The record repeats the file's header (files joined with `cat`, a second header line):
    /// its cells equal the header's, trimmed and ignoring letter case.
    RepeatedHeader,
}

impl RecordProblem {
    /// True when the record's fields cannot be placed in columns (`malformed_record`).
    pub fn is_malformed(&self) -> bool {
        !matches!(
            self,
            RecordProblem::InvalidEncoding { .. } | RecordProblem::UnreadableValue { .. }
        )
    }

    /// The message for a malformed record; `max_record_bytes` is the bound in force.
    pub fn malformed_reason(&self, max_record_bytes: usize) -> String {
        match self {
            RecordProblem::FieldCount { expected, found } => {
                format!("the record has {found} fields, the header has {expected}")
            }
            RecordProblem::Damaged(Damage::StrayQuote) => {
                "a quote inside an unquoted field, or text after a closing quote: quote the whole field and double the quotes inside it".to_owned()
            }
            RecordProblem::Damaged(Damage::NulByte) => "the record holds a NUL byte".to_owned(),
            RecordProblem::Damaged(Damage::Unterminated) => {
                "a quote opened in this record is never closed; reading resumed at the next line".to_owned()
            }
            RecordProblem::Damaged(Damage::SpaceBeforeQuote) => {
                "a quote after a delimiter and a space: the fields seem separated by a delimiter and a space (', '); a quoted field must start right after the delimiter: remove the spaces before the quotes (values are trimmed anyway)".to_owned()
            }
            RecordProblem::RepeatedHeader => {
                "the line repeats the header (files joined one after the other, or a second header line): it is no voucher".to_owned()
            }
            RecordProblem::Damaged(Damage::RunsOn) => {
                "a quote opened on this line runs on over the next lines into a broken record (most likely a stray quote: quote the whole field and double the quotes inside it); this line alone is rejected, and the next lines were read as rows of their own".to_owned()
            }
            RecordProblem::Damaged(Damage::TooLong) => format!(
                "the record runs past --max-record-bytes ({max_record_bytes} bytes), most likely from a quote that is never closed; reading resumed at the next line"
            ),
            RecordProblem::InvalidEncoding { .. } | RecordProblem::UnreadableValue { .. } => {
                String::new()
            }
        }
    }
}

/// One record as read.
#[derive(Debug, Clone)]
pub struct Record {
    /// Data-row number in its file: 1 is the first record after the header.
    pub row: u64,
    /// Physical line (1-based) where the record starts; 0 where a format has no lines.
    pub line: u64,
    /// The fields, as bytes (empty for a record that could not be split).
    pub fields: ByteRecord,
    /// Why the record cannot be imported as read, if it cannot.
    pub problem: Option<RecordProblem>,
    /// The record's text as written, kept only when its fields cannot be placed in columns.
    pub raw: Option<Vec<u8>>,
}

impl Record {
    /// Whether the record's fields cannot be placed in columns (see
    /// [`RecordProblem::is_malformed`]).
    pub fn is_malformed(&self) -> bool {
        self.problem
            .as_ref()
            .is_some_and(RecordProblem::is_malformed)
    }
}

/// Consecutive records of one file.
#[derive(Debug)]
pub struct Chunk {
    /// The input's position among the run's inputs.
    pub file: InputId,
    /// The records, in file order.
    pub records: Vec<Record>,
    /// Empty or whitespace-only lines met while reading this chunk (skipped, not records).
    pub blank_lines: u64,
    /// On a file's first chunk, about how many records the whole file holds, when that can be
    /// told (an uncompressed UTF-8 file: its size over the first chunk's bytes per record).
    /// Consumers size their tables with it; nothing depends on it being right.
    pub estimated_file_rows: Option<u64>,
    /// Stored bytes of the file read when the chunk was handed out (for progress).
    pub stored_bytes_read: u64,
}

impl Chunk {
    /// An empty chunk of input `file`.
    pub fn new(file: InputId) -> Self {
        Chunk {
            file,
            records: Vec::with_capacity(CHUNK_ROWS),
            blank_lines: 0,
            estimated_file_rows: None,
            stored_bytes_read: 0,
        }
    }
}

/// What reading one whole file found, known once its last byte has been read.
#[derive(Debug, Clone)]
pub struct FileDigest {
    /// The input's position among the run's inputs.
    pub file: InputId,
    /// The sha256 of the stored bytes, in hex.
    pub sha256: String,
    /// Stored bytes (compressed bytes for a compressed file).
    pub bytes: u64,
    /// Data rows read.
    pub rows: u64,
    /// The records read whole over several lines (a CSV's quoted values with line breaks).
    pub multi_line: crate::split::MultiLine,
    /// Zero bytes after the end of a gzip file's data, skipped (as `gzip -d` skips them).
    pub gzip_trailing_zeros: u64,
}

/// A record's fields as text.
#[derive(Debug)]
pub enum RecordText<'a> {
    /// Every field is UTF-8: the fields, concatenated (see [`RecordText::field`]).
    Valid(&'a str),
    /// These columns are not UTF-8; every field decoded, bytes that are not UTF-8 shown as
    /// U+FFFD.
    Invalid {
        /// The columns (0-based) that are not UTF-8.
        columns: Vec<usize>,
        /// Every field, decoded.
        decoded: Vec<std::borrow::Cow<'a, str>>,
    },
}

/// Checks a record's UTF-8 with one pass over it (nearly every record is valid): the
/// concatenation of its fields must be UTF-8 and every field must start on a character
/// boundary of it. Only an invalid record is looked at field by field.
#[inline]
pub fn record_text(fields: &ByteRecord) -> RecordText<'_> {
    if let Ok(text) = std::str::from_utf8(fields.as_slice()) {
        let boundaries = (0..fields.len()).all(|i| {
            fields
                .range(i)
                .is_some_and(|range| text.is_char_boundary(range.start))
        });
        if boundaries {
            return RecordText::Valid(text);
        }
    }
    let columns = fields
        .iter()
        .enumerate()
        .filter(|(_, f)| std::str::from_utf8(f).is_err())
        .map(|(i, _)| i)
        .collect();
    RecordText::Invalid {
        columns,
        decoded: fields.iter().map(String::from_utf8_lossy).collect(),
    }
}

impl<'a> RecordText<'a> {
    /// Field `i` of `fields` (the record this text was made from).
    #[inline]
    pub fn field(&self, fields: &'a ByteRecord, i: usize) -> std::borrow::Cow<'_, str> {
        use std::borrow::Cow;
        match self {
            RecordText::Valid(text) => Cow::Borrowed(
                fields
                    .range(i)
                    .and_then(|range| text.get(range))
                    .unwrap_or_default(),
            ),
            RecordText::Invalid { decoded, .. } => {
                Cow::Borrowed(decoded.get(i).map_or("", |d| d.as_ref()))
            }
        }
    }
}

/// An input of a run, by its position among the run's inputs (0 is the first named).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct InputId(u32);

impl InputId {
    /// The input at `position` (at most `u32::MAX` inputs; a run of more is refused before).
    pub fn new(position: usize) -> Self {
        InputId(u32::try_from(position).expect("fewer than 2^32 inputs"))
    }

    /// The input's position.
    pub fn index(self) -> usize {
        self.0 as usize
    }

    /// The position as the compact number dedup and origins.csv keep.
    pub fn number(self) -> u32 {
        self.0
    }
}

/// One value per input of a run, indexed by [`InputId`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PerInput<T>(Vec<T>);

impl<T> PerInput<T> {
    /// The values, the first input's first.
    pub fn from_vec(values: Vec<T>) -> Self {
        PerInput(values)
    }

    /// Inputs.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The values in input order.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.0.iter()
    }

    /// The values in input order, to change.
    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, T> {
        self.0.iter_mut()
    }

    /// Each input with its value.
    pub fn enumerate(&self) -> impl Iterator<Item = (InputId, &T)> {
        self.0.iter().enumerate().map(|(i, v)| (InputId::new(i), v))
    }

    /// The values, as a slice in input order.
    pub fn as_slice(&self) -> &[T] {
        &self.0
    }
}

impl<T> std::ops::Index<InputId> for PerInput<T> {
    type Output = T;
    fn index(&self, id: InputId) -> &T {
        &self.0[id.index()]
    }
}

impl<T> std::ops::IndexMut<InputId> for PerInput<T> {
    fn index_mut(&mut self, id: InputId) -> &mut T {
        &mut self.0[id.index()]
    }
}

impl<T> FromIterator<T> for PerInput<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        PerInput(iter.into_iter().collect())
    }
}

impl<'a, T> IntoIterator for &'a PerInput<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

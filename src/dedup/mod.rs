//! Dedup: the checks that need every earlier row, made in input order across all files. A code
//! already in the project (`existing_code`), a code an earlier accepted row holds
//! (`duplicate_code`), and the campaign's room (`over_campaign_limit`). Its memory is the set
//! of distinct codes, never the rows.

mod code_set;
pub mod existing;
pub(crate) mod leading_zeros;

use crate::reasons::{self, EarlierCode};
use std::borrow::Cow;
use std::hash::BuildHasher;

use code_set::{fold, CodeSet};

/// How a code is hashed for the dedup tables. It is cloned and shared with the worker threads,
/// so that codes are hashed in parallel and the in-order finisher only probes.
///
/// foldhash: several times faster than SipHash on short keys, and still seeded per process.
#[derive(Debug, Clone)]
pub struct CodeHasher {
    case_insensitive: bool,
    state: foldhash::fast::RandomState,
}

impl CodeHasher {
    /// The key a code is compared by: itself, or folded to lowercase.
    pub fn key<'a>(&self, code: &'a str) -> Cow<'a, str> {
        if self.case_insensitive
            && !code
                .bytes()
                .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
        {
            Cow::Owned(code.to_lowercase())
        } else {
            Cow::Borrowed(code)
        }
    }

    /// The hash of a code's key.
    pub fn hash(&self, code: &str) -> u64 {
        self.state.hash_one(self.key(code).as_bytes())
    }
}

/// The dedup state of one run.
#[derive(Debug)]
pub struct Dedup {
    hasher: CodeHasher,
    /// Codes already in the project, with the index of the `--existing` file that listed them.
    existing: CodeSet,
    /// Codes of rows accepted so far, with their (input file index, data-row number).
    accepted: CodeSet,
    /// Rows the campaign can still take.
    room: u64,
    limit: u64,
    in_campaign: u64,
    /// Which letter cases the codes recorded so far hold. Two codes that differ only by case
    /// need an upper-case and a lower-case letter between them, so the sets' case-folded
    /// indexes are built only when both have been seen: a file of upper-case codes (the
    /// common case) pays nothing for [`Dedup::case_variant`].
    cases_seen: LetterCases,
    folded_indexes: bool,
    fold_buffer: Vec<u8>,
    /// The widest zero-padded existing code (`000123`): an all-digit code shorter than it may
    /// be one of them stripped of its zeros. 0 when there is none.
    widest_padded_existing: usize,
}

impl CaseVariant {
    /// The warning a row with `code` gets (`case_variant_code`).
    pub(crate) fn reason(&self, code: &str, names: FileNames) -> String {
        match self {
            CaseVariant::Existing { code: other, file } => {
                let whence = names.whence(*file);
                reasons::case_variant_code(code, other, EarlierCode::Existing(&whence))
            }
            CaseVariant::Accepted {
                code: other,
                file,
                row,
            } => reasons::case_variant_code(
                code,
                other,
                EarlierCode::Accepted {
                    row: *row,
                    file: &names.inputs[*file as usize],
                },
            ),
        }
    }
}

/// The letter cases a code holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct LetterCases {
    upper: bool,
    lower: bool,
}

impl LetterCases {
    /// An ASCII code is scanned; any other counts as holding both cases (a cautious answer
    /// that only costs building the folded indexes early).
    fn of(code: &str) -> Self {
        if !code.is_ascii() {
            return LetterCases {
                upper: true,
                lower: true,
            };
        }
        let bytes = code.as_bytes();
        LetterCases {
            upper: bytes.iter().any(u8::is_ascii_uppercase),
            lower: bytes.iter().any(u8::is_ascii_lowercase),
        }
    }

    fn add(&mut self, other: LetterCases) {
        self.upper |= other.upper;
        self.lower |= other.lower;
    }

    fn both(self) -> bool {
        self.upper && self.lower
    }
}

/// The names a verdict's reason gives files by: the inputs and the `--existing` files, by
/// index.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FileNames<'a> {
    pub(crate) inputs: &'a [String],
    pub(crate) existing: &'a [String],
}

/// How the summary names the existing codes a library caller gives as values.
pub const CODES_GIVEN: &str = "(codes given)";

impl FileNames<'_> {
    /// Where existing source `file` came from, as a reason says it.
    pub(crate) fn whence(&self, file: u32) -> String {
        let name = self.existing[file as usize].as_str();
        reasons::existing_source(name, name == CODES_GIVEN)
    }
}

impl CodeClash {
    /// Why a row with `code` cannot go in (`existing_code`, `duplicate_code`).
    pub(crate) fn reason(&self, code: &str, names: FileNames) -> String {
        match *self {
            CodeClash::Existing { file } => reasons::existing_code(code, &names.whence(file)),
            CodeClash::Duplicate { file, row } => {
                reasons::duplicate_code(code, row, &names.inputs[file as usize])
            }
        }
    }
}

/// An earlier code that differs from a row's only by letter case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseVariant {
    /// Listed in the `--existing` file with this index, spelled `code`.
    Existing {
        /// The existing code, as listed.
        code: String,
        /// The existing source that lists it.
        file: u32,
    },
    /// Held by an accepted row.
    Accepted {
        /// The accepted code, as written.
        code: String,
        /// The input of the accepted row.
        file: u32,
        /// The accepted row.
        row: u64,
    },
}

/// Why a code cannot go in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeClash {
    /// Listed in the `--existing` file with this index.
    Existing {
        /// The existing source that lists the code.
        file: u32,
    },
    /// An earlier accepted row holds it.
    Duplicate {
        /// The input of the row that has the code.
        file: u32,
        /// The row that has the code.
        row: u64,
    },
}

impl Dedup {
    /// `limit` is the campaign's code limit and `in_campaign` the codes it already holds.
    pub fn new(case_insensitive: bool, limit: u64, in_campaign: u64) -> Self {
        Dedup {
            hasher: CodeHasher {
                case_insensitive,
                state: foldhash::fast::RandomState::default(),
            },
            existing: CodeSet::default(),
            accepted: CodeSet::default(),
            room: limit.saturating_sub(in_campaign),
            limit,
            in_campaign,
            cases_seen: LetterCases::default(),
            folded_indexes: false,
            fold_buffer: Vec::new(),
            widest_padded_existing: 0,
        }
    }

    /// The hasher to compute [`Dedup::clash_hashed`]'s hashes with, on any thread.
    pub fn hasher(&self) -> CodeHasher {
        self.hasher.clone()
    }

    /// Makes room for this many more accepted codes of about this many bytes each up front,
    /// so the table does not grow (re-hash, copy) while rows stream through.
    pub fn reserve(&mut self, codes: usize, bytes_per_code: usize) {
        // A record: the key, its length, the file and the row as varints (about 6 bytes).
        self.accepted.reserve(
            codes,
            codes.saturating_mul(bytes_per_code + 6),
            &self.hasher,
        );
    }

    /// Fetches ahead what [`Dedup::clash_hashed`] will read for this hash.
    pub fn prefetch(&self, hash: u64) {
        self.accepted.prefetch(hash);
    }

    /// Records a code already in the project.
    pub fn add_existing(&mut self, code: &str, file: u32) {
        self.note_cases(code);
        if leading_zeros::is_zero_padded(code) {
            self.widest_padded_existing = self.widest_padded_existing.max(code.len());
        }
        let key = self.hasher.key(code);
        let hash = self.hasher.state.hash_one(key.as_bytes());
        if self.existing.get(key.as_bytes(), hash).is_none() {
            self.existing
                .insert_new(key.as_bytes(), hash, file, 0, &self.hasher);
        }
    }

    /// Whether a code clashes with the project or an earlier accepted row.
    pub fn clash(&self, code: &str) -> Option<CodeClash> {
        self.clash_hashed(code, self.hasher.hash(code))
    }

    /// [`Dedup::clash`] with the code's hash from [`CodeHasher::hash`].
    pub fn clash_hashed(&self, code: &str, hash: u64) -> Option<CodeClash> {
        let key = self.hasher.key(code);
        if let Some(entry) = self.existing.get(key.as_bytes(), hash) {
            return Some(CodeClash::Existing { file: entry.file });
        }
        self.accepted
            .get(key.as_bytes(), hash)
            .map(|entry| CodeClash::Duplicate {
                file: entry.file,
                row: entry.row,
            })
    }

    /// The existing code that `code` (digits only, see
    /// [`leading_zeros::could_have_lost_zeros`]) is once leading zeros are put back, with the
    /// existing source that lists it: a code a spreadsheet stripped (`123` for `000123`).
    pub(crate) fn existing_with_zeros(&self, code: &str) -> Option<(String, u32)> {
        let mut padded = String::with_capacity(self.widest_padded_existing);
        for width in code.len() + 1..=self.widest_padded_existing {
            padded.clear();
            padded.extend(std::iter::repeat_n('0', width - code.len()));
            padded.push_str(code);
            let hash = self.hasher.hash(&padded);
            if let Some(entry) = self.existing.get(padded.as_bytes(), hash) {
                return Some((padded, entry.file));
            }
        }
        None
    }

    /// Takes a row that passed every other rule into the campaign, or says the campaign is
    /// full (the message is the reason). `code` is None only when no rule demands a code.
    pub fn admit(&mut self, code: Option<&str>, file: u32, row: u64) -> Result<(), String> {
        let hashed = code.map(|c| (c, self.hasher.hash(c)));
        self.admit_hashed(hashed, file, row)
    }

    /// [`Dedup::admit`] with the code's hash. The code must not clash (see
    /// [`Dedup::clash_hashed`]); a code that does is not recorded twice.
    pub fn admit_hashed(
        &mut self,
        code: Option<(&str, u64)>,
        file: u32,
        row: u64,
    ) -> Result<(), String> {
        if self.room == 0 {
            return Err(reasons::over_campaign_limit(
                self.limit,
                self.in_campaign,
                self.accepted_rows(),
            ));
        }
        self.room -= 1;
        self.record(code, file, row);
        Ok(())
    }

    /// Takes a row in without counting it against the campaign limit (the limit rule is off).
    pub fn admit_unlimited(&mut self, code: Option<(&str, u64)>, file: u32, row: u64) {
        self.record(code, file, row);
    }

    fn record(&mut self, code: Option<(&str, u64)>, file: u32, row: u64) {
        if let Some((code, hash)) = code {
            self.note_cases(code);
            let key = self.hasher.key(code);
            if self.accepted.get(key.as_bytes(), hash).is_none() {
                self.accepted
                    .insert_new(key.as_bytes(), hash, file, row, &self.hasher);
            }
        }
    }

    /// An earlier code (in the project, then among accepted rows) that differs from `code`
    /// only by letter case; None with `--case-insensitive-codes`, where such codes clash.
    /// Call it for a code with no exact clash.
    pub fn case_variant(&mut self, code: &str) -> Option<CaseVariant> {
        if self.hasher.case_insensitive {
            return None;
        }
        self.note_cases(code);
        if !self.folded_indexes {
            return None;
        }
        let folded = fold(code.as_bytes(), &mut self.fold_buffer);
        let folded_hash = self.hasher.state.hash_one(folded);
        if let Some((code, entry)) =
            self.existing
                .case_variant(code.as_bytes(), folded, folded_hash)
        {
            return Some(CaseVariant::Existing {
                code,
                file: entry.file,
            });
        }
        self.accepted
            .case_variant(code.as_bytes(), folded, folded_hash)
            .map(|(code, entry)| CaseVariant::Accepted {
                code,
                file: entry.file,
                row: entry.row,
            })
    }

    /// Adds a code's letter cases to those seen, and builds the folded indexes when both
    /// cases are there.
    fn note_cases(&mut self, code: &str) {
        if self.folded_indexes || self.hasher.case_insensitive {
            return;
        }
        self.cases_seen.add(LetterCases::of(code));
        if self.cases_seen.both() {
            self.existing.index_folded(&self.hasher);
            self.accepted.index_folded(&self.hasher);
            self.folded_indexes = true;
        }
    }

    fn accepted_rows(&self) -> u64 {
        self.limit.saturating_sub(self.in_campaign) - self.room
    }
}

#[cfg(test)]
mod tests;

//! Dedup: the checks that need every earlier row, made in input order across all files. A code
//! already in the project (`existing_code`), a code an earlier accepted row holds
//! (`duplicate_code`), and the campaign's room (`over_campaign_limit`). Its memory is the set
//! of distinct codes, never the rows.

pub mod existing;

use std::borrow::Cow;
use std::hash::BuildHasher;

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

/// Where a code came from: the `--existing` file index, or the input file index and data-row
/// number of the accepted row (0 for an existing code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    file: u32,
    row: u64,
}

/// A set of codes, built for the finisher's access pattern (one probe per row, in input
/// order, hashes computed ahead by the workers) and for little memory, since every page of it
/// is touched (and zeroed by the kernel) once:
/// - each code is one record in an arena: its key's length, the key, the file index and the
///   row, the numbers as LEB128 varints (about 16 bytes for a 10-character code);
/// - an open-addressing table of 8-byte slots, `tag << 48 | record offset + 1` (0 is empty),
///   probed linearly, at most 3/4 full. A miss costs one cache line, which
///   [`CodeSet::prefetch`] fetches a few rows ahead; the arena is read only when the 16-bit
///   tag matches.
///
/// A `HashMap<String, _>` costs a heap allocation and about 110 bytes per code.
#[derive(Debug)]
struct CodeSet {
    arena: Vec<u8>,
    slots: Vec<u64>,
    len: usize,
}

const EMPTY: u64 = 0;
const INDEX_BITS: u32 = 48;
const INDEX_MASK: u64 = (1 << INDEX_BITS) - 1;

impl Default for CodeSet {
    fn default() -> Self {
        CodeSet {
            arena: Vec::new(),
            slots: vec![EMPTY; 16],
            len: 0,
        }
    }
}

fn push_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Reads a varint at `at`; gives the value and the position after it.
fn read_varint(bytes: &[u8], mut at: usize) -> (u64, usize) {
    let mut value = 0u64;
    let mut shift = 0;
    loop {
        let byte = bytes[at];
        at += 1;
        value |= u64::from(byte & 0x7F) << shift;
        if byte < 0x80 {
            return (value, at);
        }
        shift += 7;
    }
}

impl CodeSet {
    fn tag(hash: u64) -> u64 {
        hash >> INDEX_BITS
    }

    /// The key of the record at `offset`, and the position after it.
    fn key_at(&self, offset: usize) -> (&[u8], usize) {
        let (len, start) = read_varint(&self.arena, offset);
        let end = start + len as usize;
        (&self.arena[start..end], end)
    }

    fn entry_at(&self, offset: usize) -> Entry {
        let (_, after_key) = self.key_at(offset);
        let (file, after_file) = read_varint(&self.arena, after_key);
        let (row, _) = read_varint(&self.arena, after_file);
        Entry {
            file: file as u32,
            row,
        }
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// The slot holding `key` with its record's offset, or the empty slot where it would go.
    fn probe(&self, key: &[u8], hash: u64) -> (usize, Option<usize>) {
        let mask = self.mask();
        let tag = Self::tag(hash);
        let mut i = hash as usize & mask;
        loop {
            let slot = self.slots[i];
            if slot == EMPTY {
                return (i, None);
            }
            if slot >> INDEX_BITS == tag {
                let offset = (slot & INDEX_MASK) as usize - 1;
                if self.key_at(offset).0 == key {
                    return (i, Some(offset));
                }
            }
            i = (i + 1) & mask;
        }
    }

    fn get(&self, key: &[u8], hash: u64) -> Option<Entry> {
        self.probe(key, hash).1.map(|offset| self.entry_at(offset))
    }

    /// Asks the CPU to fetch the cache line a probe for `hash` starts at.
    fn prefetch(&self, hash: u64) {
        let slot = self
            .slots
            .as_ptr()
            .wrapping_add(hash as usize & self.mask());
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            // SAFETY: a prefetch is a hint: it never faults or changes memory, whatever the
            // address (and this one is inside the slot table).
            unsafe { _mm_prefetch::<_MM_HINT_T0>(slot.cast::<i8>()) };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = slot;
    }

    /// Adds a key not in the set yet (the caller has looked).
    fn insert_new(&mut self, key: &[u8], hash: u64, file: u32, row: u64, hasher: &CodeHasher) {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow(self.len + 1, hasher);
        }
        let (i, found) = self.probe(key, hash);
        debug_assert!(found.is_none(), "insert_new of a key already in the set");
        let offset = self.arena.len() as u64;
        push_varint(&mut self.arena, key.len() as u64);
        self.arena.extend_from_slice(key);
        push_varint(&mut self.arena, u64::from(file));
        push_varint(&mut self.arena, row);
        self.slots[i] = Self::tag(hash) << INDEX_BITS | (offset + 1);
        self.len += 1;
    }

    /// Makes the table big enough for `codes` keys (at most 3/4 full), placing the keys it
    /// holds again by their hashes, computed from the arena (the keys are already folded).
    fn grow(&mut self, codes: usize, hasher: &CodeHasher) {
        let wanted = (codes.saturating_mul(4) / 3 + 1)
            .next_power_of_two()
            .max(16);
        if wanted <= self.slots.len() {
            return;
        }
        let mut slots = vec![EMPTY; wanted];
        let mask = wanted - 1;
        let mut offset = 0;
        while offset < self.arena.len() {
            let (key, after_key) = self.key_at(offset);
            let hash = hasher.state.hash_one(key);
            let mut i = hash as usize & mask;
            while slots[i] != EMPTY {
                i = (i + 1) & mask;
            }
            slots[i] = Self::tag(hash) << INDEX_BITS | (offset as u64 + 1);
            let (_, after_file) = read_varint(&self.arena, after_key);
            let (_, next) = read_varint(&self.arena, after_file);
            offset = next;
        }
        self.slots = slots;
    }

    fn reserve(&mut self, more: usize, more_bytes: usize, hasher: &CodeHasher) {
        self.arena.reserve(more_bytes);
        self.grow(self.len + more, hasher);
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
}

/// Why a code cannot go in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeClash {
    /// Listed in the `--existing` file with this index.
    Existing { file: u32 },
    /// An earlier accepted row holds it.
    Duplicate { file: u32, row: u64 },
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
            return Err(format!(
                "the campaign limit of {} codes is reached ({} already in the campaign, {} accepted before this row)",
                self.limit,
                self.in_campaign,
                self.accepted_rows()
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
            let key = self.hasher.key(code);
            if self.accepted.get(key.as_bytes(), hash).is_none() {
                self.accepted
                    .insert_new(key.as_bytes(), hash, file, row, &self.hasher);
            }
        }
    }

    fn accepted_rows(&self) -> u64 {
        self.limit.saturating_sub(self.in_campaign) - self.room
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn first_accepted_occurrence_wins() {
        let mut d = Dedup::new(false, 100, 0);
        assert_eq!(d.clash("A"), None);
        d.admit(Some("A"), 0, 1).unwrap();
        assert_eq!(d.clash("A"), Some(CodeClash::Duplicate { file: 0, row: 1 }));
        assert_eq!(d.clash("a"), None, "codes are case-sensitive by default");
    }

    #[test]
    fn case_insensitive_codes_compare_folded() {
        let mut d = Dedup::new(true, 100, 0);
        d.add_existing("OLD-1", 0);
        d.admit(Some("Abc"), 0, 1).unwrap();
        assert_eq!(
            d.clash("aBC"),
            Some(CodeClash::Duplicate { file: 0, row: 1 })
        );
        assert_eq!(d.clash("old-1"), Some(CodeClash::Existing { file: 0 }));
    }

    #[test]
    fn the_limit_counts_codes_already_in_the_campaign() {
        let mut d = Dedup::new(false, 3, 1);
        d.admit(Some("A"), 0, 1).unwrap();
        d.admit(Some("B"), 0, 2).unwrap();
        let err = d.admit(Some("C"), 0, 3).unwrap_err();
        assert!(
            err.contains("limit of 3 codes is reached (1 already in the campaign, 2 accepted"),
            "{err}"
        );
        assert_eq!(d.clash("C"), None, "a row past the limit is not accepted");
    }

    #[test]
    fn the_table_grows_and_reserves_without_losing_codes() {
        let mut d = Dedup::new(false, u64::MAX, 0);
        for i in 0..500 {
            d.add_existing(&format!("OLD-{i}"), 0);
        }
        d.reserve(3000, 8);
        for row in 0..20_000u64 {
            let code = format!("C{}", row % 9_000);
            match d.clash(&code) {
                None => d.admit(Some(&code), 1, row + 1).unwrap(),
                Some(clash) => assert_eq!(
                    clash,
                    CodeClash::Duplicate {
                        file: 1,
                        row: row % 9_000 + 1
                    }
                ),
            }
        }
        assert_eq!(d.accepted.len, 9_000);
        assert_eq!(d.existing.len, 500);
        assert_eq!(d.clash("OLD-499"), Some(CodeClash::Existing { file: 0 }));
        assert_eq!(d.clash("C9000"), None);
    }

    proptest! {
        #[test]
        fn varints_read_back(values in proptest::collection::vec(any::<u64>(), 0..20)) {
            let mut bytes = Vec::new();
            for &v in &values {
                push_varint(&mut bytes, v);
            }
            let mut at = 0;
            for &v in &values {
                let (read, next) = read_varint(&bytes, at);
                prop_assert_eq!(read, v);
                at = next;
            }
            prop_assert_eq!(at, bytes.len());
        }
    }

    proptest! {
        /// Whatever the codes, the admitted ones are distinct and never more than the room.
        #[test]
        fn admitted_codes_are_distinct_and_within_the_limit(
            codes in proptest::collection::vec("[a-cA-C]{1,2}", 0..60),
            limit in 0u64..40,
            in_campaign in 0u64..10,
            case_insensitive: bool,
        ) {
            let mut d = Dedup::new(case_insensitive, limit, in_campaign);
            let mut admitted: Vec<String> = Vec::new();
            for (row, code) in codes.iter().enumerate() {
                if d.clash(code).is_none() && d.admit(Some(code), 0, row as u64).is_ok() {
                    admitted.push(if case_insensitive { code.to_lowercase() } else { code.clone() });
                }
            }
            let mut distinct = admitted.clone();
            distinct.sort();
            distinct.dedup();
            prop_assert_eq!(distinct.len(), admitted.len());
            prop_assert!(admitted.len() as u64 <= limit.saturating_sub(in_campaign));
        }
    }
}

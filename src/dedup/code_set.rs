//! The set of codes the dedup stage keeps: a compact arena of records and an open-addressing
//! table over it, and on demand a second table by case-folded key that finds case variants.

use std::hash::BuildHasher;

use super::CodeHasher;

/// Where a code came from: the `--existing` file index, or the input file index and data-row
/// number of the accepted row (0 for an existing code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) file: u32,
    pub(super) row: u64,
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
pub(super) struct CodeSet {
    arena: Vec<u8>,
    slots: Vec<u64>,
    pub(super) len: usize,
    /// The same records by the hash of their case-folded key, in slots of the same form, once
    /// [`CodeSet::index_folded`] has built it: the index a case variant is found by.
    folded: Option<Vec<u64>>,
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
            folded: None,
        }
    }
}

pub(super) fn push_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Reads a varint at `at`; gives the value and the position after it.
pub(super) fn read_varint(bytes: &[u8], mut at: usize) -> (u64, usize) {
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

    pub(super) fn get(&self, key: &[u8], hash: u64) -> Option<Entry> {
        self.probe(key, hash).1.map(|offset| self.entry_at(offset))
    }

    /// Asks the CPU to fetch the cache line a probe for `hash` starts at.
    pub(super) fn prefetch(&self, hash: u64) {
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
    pub(super) fn insert_new(
        &mut self,
        key: &[u8],
        hash: u64,
        file: u32,
        row: u64,
        hasher: &CodeHasher,
    ) {
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
        if let Some(folded) = &mut self.folded {
            let mut buffer = Vec::new();
            let folded_hash = hasher.state.hash_one(fold(key, &mut buffer));
            place(folded, folded_hash, offset as usize);
        }
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
        for (offset, key) in self.records() {
            place(&mut slots, hasher.state.hash_one(key), offset);
        }
        self.slots = slots;
        if self.folded.is_some() {
            self.index_folded(hasher);
        }
    }

    /// Every record: its offset and key.
    fn records(&self) -> impl Iterator<Item = (usize, &[u8])> {
        let mut offset = 0;
        std::iter::from_fn(move || {
            if offset >= self.arena.len() {
                return None;
            }
            let at = offset;
            let (key, after_key) = self.key_at(offset);
            let (_, after_file) = read_varint(&self.arena, after_key);
            let (_, next) = read_varint(&self.arena, after_file);
            offset = next;
            Some((at, key))
        })
    }

    /// Builds (or rebuilds, at the size of the main table) the index by case-folded key; from
    /// then on every insert keeps it.
    pub(super) fn index_folded(&mut self, hasher: &CodeHasher) {
        let mut folded = vec![EMPTY; self.slots.len()];
        let mut buffer = Vec::new();
        for (offset, key) in self.records() {
            place(
                &mut folded,
                hasher.state.hash_one(fold(key, &mut buffer)),
                offset,
            );
        }
        self.folded = Some(folded);
    }

    /// A record whose key folds to `folded` but is not `key` itself: the key and where it
    /// came from. None when there is none, or the folded index is not built.
    pub(super) fn case_variant(
        &self,
        key: &[u8],
        folded: &[u8],
        folded_hash: u64,
    ) -> Option<(String, Entry)> {
        let slots = self.folded.as_ref()?;
        let mask = slots.len() - 1;
        let tag = Self::tag(folded_hash);
        let mut buffer = Vec::new();
        let mut i = folded_hash as usize & mask;
        loop {
            let slot = slots[i];
            if slot == EMPTY {
                return None;
            }
            if slot >> INDEX_BITS == tag {
                let offset = (slot & INDEX_MASK) as usize - 1;
                let (other, _) = self.key_at(offset);
                if other != key && fold(other, &mut buffer) == folded {
                    let spelling = String::from_utf8_lossy(other).into_owned();
                    return Some((spelling, self.entry_at(offset)));
                }
            }
            i = (i + 1) & mask;
        }
    }

    pub(super) fn reserve(&mut self, more: usize, more_bytes: usize, hasher: &CodeHasher) {
        self.arena.reserve(more_bytes);
        self.grow(self.len + more, hasher);
    }
}

/// Puts a record's offset into the first empty slot from its hash's place.
fn place(slots: &mut [u64], hash: u64, offset: usize) {
    let mask = slots.len() - 1;
    let mut i = hash as usize & mask;
    while slots[i] != EMPTY {
        i = (i + 1) & mask;
    }
    slots[i] = CodeSet::tag(hash) << INDEX_BITS | (offset as u64 + 1);
}

/// A key folded to lowercase (Unicode's full lowercase mapping for a key that is not ASCII),
/// in `buffer`.
pub(super) fn fold<'a>(key: &[u8], buffer: &'a mut Vec<u8>) -> &'a [u8] {
    buffer.clear();
    if key.is_ascii() {
        buffer.extend(key.iter().map(u8::to_ascii_lowercase));
    } else {
        buffer.extend_from_slice(String::from_utf8_lossy(key).to_lowercase().as_bytes());
    }
    buffer
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
}

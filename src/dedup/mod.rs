//! Dedup: the checks that need every earlier row, made in input order across all files. A code
//! already in the project (`existing_code`), a code an earlier accepted row holds
//! (`duplicate_code`), and the campaign's room (`over_campaign_limit`). Its memory is the set
//! of distinct codes, never the rows.

pub mod existing;

use std::borrow::Cow;
use std::collections::HashMap;

/// Codes are hashed with foldhash: several times faster than the default SipHash on short
/// keys, and still seeded per process.
type CodeMap<V> = HashMap<String, V, foldhash::fast::RandomState>;

/// Where a code was first accepted: (input file index, data-row number).
type Origin = (u32, u64);

/// The dedup state of one run.
#[derive(Debug)]
pub struct Dedup {
    case_insensitive: bool,
    /// Codes already in the project, with the index of the `--existing` file that listed them.
    existing: CodeMap<u32>,
    /// Codes of rows accepted so far.
    accepted: CodeMap<Origin>,
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
            case_insensitive,
            existing: CodeMap::default(),
            accepted: CodeMap::default(),
            room: limit.saturating_sub(in_campaign),
            limit,
            in_campaign,
        }
    }

    fn key<'a>(&self, code: &'a str) -> Cow<'a, str> {
        if self.case_insensitive {
            Cow::Owned(code.to_lowercase())
        } else {
            Cow::Borrowed(code)
        }
    }

    /// Records a code already in the project.
    pub fn add_existing(&mut self, code: &str, file: u32) {
        let key = self.key(code).into_owned();
        self.existing.entry(key).or_insert(file);
    }

    /// Whether a code clashes with the project or an earlier accepted row.
    pub fn clash(&self, code: &str) -> Option<CodeClash> {
        let key = self.key(code);
        if let Some(&file) = self.existing.get(key.as_ref()) {
            return Some(CodeClash::Existing { file });
        }
        self.accepted
            .get(key.as_ref())
            .map(|&(file, row)| CodeClash::Duplicate { file, row })
    }

    /// Takes a row that passed every other rule into the campaign, or says the campaign is
    /// full (the message is the reason). `code` is None only when no rule demands a code.
    pub fn admit(&mut self, code: Option<&str>, file: u32, row: u64) -> Result<(), String> {
        if self.room == 0 {
            return Err(format!(
                "the campaign limit of {} codes is reached ({} already in the campaign, {} accepted before this row)",
                self.limit,
                self.in_campaign,
                self.accepted_rows()
            ));
        }
        self.room -= 1;
        if let Some(code) = code {
            let key = self.key(code).into_owned();
            self.accepted.insert(key, (file, row));
        }
        Ok(())
    }

    /// Takes a row in without counting it against the campaign limit (the limit rule is off).
    pub fn admit_unlimited(&mut self, code: Option<&str>, file: u32, row: u64) {
        if let Some(code) = code {
            let key = self.key(code).into_owned();
            self.accepted.insert(key, (file, row));
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

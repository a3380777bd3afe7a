//! Codes a spreadsheet stripped of their leading zeros (`00123` saved as `123`): an all-digit
//! code that is an existing code once zeros are put back, or that is shorter than the
//! zero-padded codes of its column. Both are `excel_mangled_code` warnings, found by the dedup
//! stage: the first needs the project's codes, the second the column's other codes.

use std::collections::BTreeMap;

/// Padded codes of one width needed before a shorter code is taken for a stripped one.
const MIN_PADDED_SIBLINGS: u64 = 2;

/// Whether a code is digits only and starts with a zero: zero-padded (`000123`; `0` alone is
/// not padding).
pub(crate) fn is_zero_padded(code: &str) -> bool {
    code.len() > 1 && code.starts_with('0') && code.bytes().all(|b| b.is_ascii_digit())
}

/// Whether a code could have lost leading zeros: digits only, not starting with a zero.
pub(crate) fn could_have_lost_zeros(code: &str) -> bool {
    !code.is_empty() && !code.starts_with('0') && code.bytes().all(|b| b.is_ascii_digit())
}

/// The zero-padded codes of the input's code column seen so far, by width.
#[derive(Debug, Default)]
pub(crate) struct ZeroPadding {
    /// Width -> how many padded codes have it, and the first of them (for the message).
    widths: BTreeMap<usize, (u64, String)>,
    padded: u64,
}

impl ZeroPadding {
    /// Takes in a code of the column (every row's, as the rows come: the whole chunk before its
    /// rows are judged).
    pub(crate) fn note(&mut self, code: &str) {
        // The first byte decides for almost every code: only a leading zero costs a scan.
        if code.as_bytes().first() != Some(&b'0') || !is_zero_padded(code) {
            return;
        }
        self.padded += 1;
        let entry = self
            .widths
            .entry(code.len())
            .or_insert_with(|| (0, code.to_owned()));
        entry.0 += 1;
    }

    /// The fixed width the column's codes are zero-padded to, when `code` (see
    /// [`could_have_lost_zeros`]) is shorter than it: the width and a padded example. A width
    /// is fixed when at least two padded codes have it and nine in ten padded codes do.
    pub(crate) fn wider_than(&self, code: &str) -> Option<(usize, &str)> {
        let (&width, (count, example)) = self.widths.iter().max_by_key(|(_, (n, _))| *n)?;
        let fixed = *count >= MIN_PADDED_SIBLINGS && *count * 10 >= self.padded * 9;
        (fixed && code.len() < width).then_some((width, example.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shorter_digit_code_among_codes_padded_to_one_width_is_found() {
        let mut padding = ZeroPadding::default();
        for code in ["000123", "004567", "123456", "A-0001", "0"] {
            padding.note(code);
        }
        assert_eq!(padding.wider_than("4568"), Some((6, "000123")));
        assert_eq!(padding.wider_than("123457"), None, "as wide: nothing lost");
    }

    #[test]
    fn one_padded_code_or_padding_of_many_widths_is_no_pattern() {
        let mut one = ZeroPadding::default();
        one.note("000123");
        assert_eq!(one.wider_than("45"), None);
        let mut mixed = ZeroPadding::default();
        for code in ["01", "002", "0003", "00004"] {
            mixed.note(code);
        }
        assert_eq!(mixed.wider_than("5"), None);
    }

    #[test]
    fn which_codes_count() {
        assert!(is_zero_padded("007") && !is_zero_padded("0") && !is_zero_padded("0A1"));
        assert!(could_have_lost_zeros("123") && !could_have_lost_zeros("0123"));
        assert!(!could_have_lost_zeros("12a") && !could_have_lost_zeros(""));
    }
}

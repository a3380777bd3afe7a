//! Unit tests of `dedup`.

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

#[test]
fn a_case_variant_names_the_earlier_code_once_both_cases_are_seen() {
    let mut d = Dedup::new(false, u64::MAX, 0);
    d.add_existing("OLD-1", 0);
    // Upper-case codes only: nothing is indexed, nothing can vary.
    for row in 1..=3000u64 {
        let code = format!("GC-{row}");
        assert_eq!(d.case_variant(&code), None);
        d.admit(Some(&code), 1, row).unwrap();
    }
    assert!(!d.folded_indexes);
    // The first lower-case code builds the indexes over every earlier code.
    assert_eq!(
        d.case_variant("gc-17"),
        Some(CaseVariant::Accepted {
            code: "GC-17".into(),
            file: 1,
            row: 17
        })
    );
    assert_eq!(
        d.case_variant("old-1"),
        Some(CaseVariant::Existing {
            code: "OLD-1".into(),
            file: 0
        })
    );
    assert_eq!(d.case_variant("gc-x"), None);
    // Codes admitted after that (and the table growing) are indexed as they come.
    for row in 3001..=9000u64 {
        d.admit(Some(&format!("n-{row}")), 2, row).unwrap();
    }
    assert_eq!(
        d.case_variant("N-8999"),
        Some(CaseVariant::Accepted {
            code: "n-8999".into(),
            file: 2,
            row: 8999
        })
    );
    assert_eq!(
        d.case_variant("GC-17"),
        None,
        "an exact match is not a variant"
    );
}

#[test]
fn case_insensitive_codes_have_no_variants() {
    let mut d = Dedup::new(true, u64::MAX, 0);
    d.admit(Some("Abc"), 0, 1).unwrap();
    assert_eq!(d.case_variant("aBC"), None);
}

#[test]
fn codes_that_are_not_ascii_fold_with_unicode_rules() {
    let mut d = Dedup::new(false, u64::MAX, 0);
    d.admit(Some("ÉTÉ-1"), 0, 1).unwrap();
    assert_eq!(
        d.case_variant("été-1"),
        Some(CaseVariant::Accepted {
            code: "ÉTÉ-1".into(),
            file: 0,
            row: 1
        })
    );
}

proptest! {
    /// A variant is reported exactly when an earlier admitted code folds to the same key
    /// and is not the same code.
    #[test]
    fn variants_are_found_exactly(codes in proptest::collection::vec("[a-cA-C]{1,3}", 0..80)) {
        let mut d = Dedup::new(false, u64::MAX, 0);
        let mut admitted: Vec<String> = Vec::new();
        for (row, code) in codes.iter().enumerate() {
            if d.clash(code).is_some() {
                continue;
            }
            let expected = admitted
                .iter()
                .any(|a| a != code && a.to_lowercase() == code.to_lowercase());
            let found = d.case_variant(code);
            prop_assert_eq!(found.is_some(), expected, "{} after {:?}", code, admitted);
            if let Some(CaseVariant::Accepted { code: other, .. }) = found {
                prop_assert!(admitted.contains(&other));
                prop_assert_eq!(other.to_lowercase(), code.to_lowercase());
            }
            d.admit(Some(code), 0, row as u64).unwrap();
            admitted.push(code.clone());
        }
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

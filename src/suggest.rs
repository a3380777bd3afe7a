//! "Did you mean ...": the closest of a set of names to what the user wrote.

/// How far apart two spellings are once letter case and `_`/`-`/space are ignored.
pub fn distance(a: &str, b: &str) -> usize {
    strsim::damerau_levenshtein(&fold(a), &fold(b))
}

/// Letter case, surrounding whitespace and `_`/`-`/space differences removed.
pub fn fold(name: &str) -> String {
    name.trim()
        .chars()
        .filter(|c| !matches!(c, '_' | '-') && !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The edit distance up to which a header counts as a misspelling of a known column `len`
/// long. Strict, because a near miss stops the run: short names need an exact match, so a
/// metadata column such as `node` is not taken for `Code`.
fn misspelling_tolerance(len: usize) -> usize {
    match len {
        0..=4 => 0,
        5..=7 => 1,
        _ => 2,
    }
}

/// The edit distance up to which a value is worth a "did you mean" in a message.
fn suggestion_tolerance(len: usize) -> usize {
    (len / 3).max(1)
}

fn nearest<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    tolerance: fn(usize) -> usize,
) -> Option<&'a str> {
    let folded = fold(wanted);
    let wanted_len = folded.chars().count();
    candidates
        .into_iter()
        .filter_map(|c| {
            let candidate = fold(c);
            let len = candidate.chars().count();
            let allowed = tolerance(len);
            // The distance is at least the difference in length: most names are ruled out
            // without computing it (headers can be 100,000 columns wide).
            if wanted_len.abs_diff(len) > allowed {
                return None;
            }
            let d = strsim::damerau_levenshtein(&folded, &candidate);
            (d > 0 && d <= allowed).then_some((d, c))
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// The known name a header misspells, if it is close enough to be taken for a typo.
pub fn misspelled<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    nearest(wanted, candidates, misspelling_tolerance)
}

/// The closest candidate worth suggesting for a mistyped value, if any.
pub fn closest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    nearest(wanted, candidates, suggestion_tolerance)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_removes_case_spaces_and_separators() {
        assert_eq!(fold(" Gift_amount "), "giftamount");
    }

    #[test]
    fn folding_ignores_case_and_separators() {
        assert_eq!(fold(" Gift_Amount "), "giftamount");
        assert_eq!(fold("redeemed-QUANTITY"), "redeemedquantity");
    }

    #[test]
    fn near_misses_are_found() {
        let known = ["Gift Amount", "Loyalty Points", "Code", "Active"];
        assert_eq!(misspelled("Gift Amuont", known), Some("Gift Amount"));
        assert_eq!(misspelled("Loyality Points", known), Some("Loyalty Points"));
        assert_eq!(misspelled("region", known), None);
        assert_eq!(misspelled("Activ", known), Some("Active"));
        assert_eq!(
            misspelled("node", known),
            None,
            "short names need an exact match"
        );
        assert_eq!(
            misspelled("Gift Amount", known),
            None,
            "an exact match is no near miss"
        );
        assert_eq!(
            closest("gfit", ["gift", "loyalty"]),
            Some("gift"),
            "suggestions are looser"
        );
    }
}

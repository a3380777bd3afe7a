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

/// The edit distance up to which `candidate` counts as a misspelling of a name `len` long.
pub fn tolerance(len: usize) -> usize {
    match len {
        0..=4 => 0,
        5..=7 => 1,
        _ => 2,
    }
}

/// The closest candidate within tolerance, if any.
pub fn closest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let folded = fold(wanted);
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(&folded, &fold(c)), c))
        .filter(|(d, c)| *d > 0 && *d <= tolerance(fold(c).chars().count()))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_and_separators() {
        assert_eq!(fold(" Gift_Amount "), "giftamount");
        assert_eq!(fold("redeemed-QUANTITY"), "redeemedquantity");
    }

    #[test]
    fn near_misses_are_found() {
        let known = ["Gift Amount", "Loyalty Points", "Code", "Active"];
        assert_eq!(closest("Gift Amuont", known), Some("Gift Amount"));
        assert_eq!(closest("Loyality Points", known), Some("Loyalty Points"));
        assert_eq!(closest("region", known), None);
        assert_eq!(closest("Activ", known), Some("Active"));
        assert_eq!(closest("node", known), None, "short names need an exact match");
        assert_eq!(closest("Gift Amount", known), None, "an exact match is no near miss");
    }
}

//! A property of the finisher: whatever the findings, every row ends in exactly one place.

use proptest::prelude::*;

use super::tests::{codes, dedup, finding, finish_batches, Kept, Table};
use super::*;
use crate::sink::MemorySink;

proptest! {
    /// Whatever the findings, each row ends in exactly one place: accepted (in a batch, and in
    /// the sink's accepted rows) or rejected; rejected exactly when a reject rule found
    /// something or its code was seen on an accepted row before.
    #[test]
    fn every_row_ends_in_exactly_one_place(
        rows in proptest::collection::vec((0u8..6, proptest::option::of(0usize..4)), 1..60)
    ) {
        let table = Table::new(&["Code"]).severity("active_boolean", Severity::Warn);
        let picks = [
            table.rule("code_required"),
            table.rule("invalid_number"),
            table.rule("active_boolean"),
            table.rule("invalid_date"),
        ];
        let mut sink = Kept::default();
        let dedup = dedup();
        let hasher = dedup.hasher();
        let mut finisher = table.finisher(&mut sink, dedup);
        let codes_text: Vec<String> = rows.iter().map(|(c, _)| format!("C{c}")).collect();
        let cells: Vec<[&str; 1]> = codes_text.iter().map(|c| [c.as_str()]).collect();
        let records: Vec<&[&str]> = cells.iter().map(|c| &c[..]).collect();
        let findings: Vec<Vec<Finding>> = rows
            .iter()
            .map(|(_, f)| f.map(|at| vec![finding(picks[at], "found")]).unwrap_or_default())
            .collect();
        let mut expected_accepted = Vec::new();
        for ((_, found), text) in rows.iter().zip(&codes_text) {
            let rejects = matches!(found, Some(at) if *at != 2);
            if !rejects && !expected_accepted.contains(text) {
                expected_accepted.push(text.clone());
            }
        }
        finisher.finish_chunk(table.chunk(&hasher, 1, &records, findings)).unwrap();
        let tally = &finisher.tally;
        prop_assert_eq!(tally.accepted + tally.rejected_rows, rows.len() as u64);
        let accepted = tally.accepted;
        let rejected_rows = tally.rejected_rows;
        let batches = finish_batches(finisher);
        prop_assert_eq!(batches.iter().map(|b| b.rows).sum::<u64>(), accepted);
        prop_assert_eq!(MemorySink::rows(&sink.rejected) as u64, rejected_rows);
        prop_assert_eq!(codes(&sink.accepted), expected_accepted);
    }
}

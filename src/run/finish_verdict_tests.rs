//! The verdicts the judge gives, seen through the finisher: dedup, updates of codes in the
//! project, the campaign limit, a row no batch can hold, and a malformed record.

use std::collections::HashMap;

use super::tests::{codes, dedup, finding, verdicts, Kept, Table};
use crate::dedup::Dedup;
use crate::folder::updates::UpdateRow;
use crate::read::{InputId, RecordProblem};

#[test]
fn dedup_admits_the_first_of_a_code_and_only_codes_that_go_in() {
    let table = Table::new(&["Code"]);
    let reject = table.rule("invalid_number");
    let mut sink = Kept::default();
    let mut dedup = dedup();
    dedup.add_existing("OLD", 0);
    let hasher = dedup.hasher();
    let mut finisher = table.finisher(&mut sink, dedup);
    let rows: &[&[&str]] = &[&["X"], &["A"], &["A"], &["X"], &["OLD"], &["a"]];
    let mut findings = vec![Vec::new(); rows.len()];
    findings[0] = vec![finding(reject, "no")];
    finisher
        .finish_chunk(table.chunk(&hasher, 1, rows, findings))
        .unwrap();
    assert_eq!(
        codes(&sink.accepted),
        ["A", "X", "a"],
        "a rejected X does not hold its code"
    );
    let rejected = verdicts(&sink.rejected);
    assert_eq!(rejected[1].0, 3);
    assert_eq!(rejected[1].1, "duplicate_code");
    assert!(
        rejected[1].2.contains("row 2 of in.csv"),
        "{:?}",
        rejected[1]
    );
    assert_eq!(rejected[2].0, 5);
    assert_eq!(rejected[2].1, "existing_code");
    assert!(
        rejected[2].2.contains("listed in existing.csv"),
        "{:?}",
        rejected[2]
    );
    let warned = verdicts(&sink.warnings);
    assert_eq!(warned.len(), 1);
    assert_eq!(
        (warned[0].0, warned[0].1.as_str()),
        (6, "case_variant_code")
    );
}

#[test]
fn an_existing_code_is_an_update_when_updates_are_asked_for() {
    let table = Table::new(&["Code", "Category", "Gift Amount"]);
    let mut sink = Kept::default();
    let mut dedup = dedup();
    dedup.add_existing("OLD", 0);
    let hasher = dedup.hasher();
    let mut finisher = table.finisher_judging(
        &mut sink,
        dedup,
        crate::config::DEFAULT_MAX_FILE_BYTES,
        true,
        HashMap::new(),
    );
    let rows: &[&[&str]] = &[&["OLD", "vip", ""], &["OLD2", "", ""]];
    finisher
        .finish_chunk(table.chunk(&hasher, 1, rows, vec![Vec::new(); 2]))
        .unwrap();
    assert_eq!(finisher.tally.updates, 1);
    assert_eq!(finisher.tally.accepted, 2);
    assert_eq!(
        finisher.tally.warned_rows, 0,
        "Category is what an update sets"
    );
    drop(finisher);
    let update = UpdateRow {
        batch: 1,
        batch_row: 1,
        code: "OLD".to_owned(),
    };
    assert_eq!(sink.updates, [update]);
    // An update that carries a value the update ignores is warned of.
    let rows: &[&[&str]] = &[&["OLD", "vip", "500"]];
    let mut again = Dedup::new(false, u64::MAX, 0);
    again.add_existing("OLD", 0);
    let hasher = again.hasher();
    let mut finisher = table.finisher_judging(
        &mut sink,
        again,
        crate::config::DEFAULT_MAX_FILE_BYTES,
        true,
        HashMap::new(),
    );
    finisher
        .finish_chunk(table.chunk(&hasher, 3, rows, vec![Vec::new()]))
        .unwrap();
    drop(finisher);
    let warned = verdicts(&sink.warnings);
    assert_eq!(warned.len(), 1);
    assert_eq!(warned[0].1, "update_ignores_fields");
    assert!(warned[0].2.contains("Gift Amount"), "{:?}", warned[0]);
}

#[test]
fn rows_past_the_campaign_limit_are_rejected_and_rejected_rows_take_no_room() {
    let table = Table::new(&["Code"]);
    let reject = table.rule("invalid_number");
    let mut sink = Kept::default();
    let dedup = Dedup::new(false, 3, 1);
    let hasher = dedup.hasher();
    let mut finisher = table.finisher(&mut sink, dedup);
    let rows: &[&[&str]] = &[&["A"], &["B"], &["C"], &["D"]];
    let findings = vec![
        vec![finding(reject, "no")],
        Vec::new(),
        Vec::new(),
        Vec::new(),
    ];
    finisher
        .finish_chunk(table.chunk(&hasher, 1, rows, findings))
        .unwrap();
    assert_eq!(
        codes(&sink.accepted),
        ["B", "C"],
        "3 codes at most, 1 there already"
    );
    let rejected = verdicts(&sink.rejected);
    assert_eq!(rejected.len(), 2);
    assert_eq!(
        (rejected[1].0, rejected[1].1.as_str()),
        (4, "over_campaign_limit")
    );
}

#[test]
fn a_row_no_batch_can_hold_is_rejected_as_too_large() {
    let table = Table::new(&["Code", "Category"]);
    let mut sink = Kept::default();
    let dedup = dedup();
    let hasher = dedup.hasher();
    let mut finisher = table.finisher_with(&mut sink, dedup, 40);
    let long = "x".repeat(40);
    let rows: &[&[&str]] = &[&["A", "short"], &["B", &long]];
    finisher
        .finish_chunk(table.chunk(&hasher, 1, rows, vec![Vec::new(); 2]))
        .unwrap();
    let rejected = verdicts(&sink.rejected);
    assert_eq!(rejected.len(), 1);
    assert_eq!(
        (rejected[0].0, rejected[0].1.as_str()),
        (2, "record_too_large")
    );
    assert_eq!(codes(&sink.accepted), ["A"]);
}

#[test]
fn a_malformed_record_is_rejected_for_that_alone_and_set_findings_join_the_row() {
    let table = Table::new(&["Code", "Category"]);
    let (reject, set_rule) = (table.rule("invalid_number"), table.rule("code_required"));
    let mut sink = Kept::default();
    let dedup = dedup();
    let hasher = dedup.hasher();
    let set_findings =
        HashMap::from([((InputId::new(0), 2), vec![finding(set_rule, "set says no")])]);
    let mut finisher = table.finisher_judging(
        &mut sink,
        dedup,
        crate::config::DEFAULT_MAX_FILE_BYTES,
        false,
        set_findings,
    );
    let rows: &[&[&str]] = &[&["A", "x"], &["B", "y"]];
    let mut evaluated = table.chunk(
        &hasher,
        1,
        rows,
        vec![vec![finding(reject, "no")], Vec::new()],
    );
    evaluated.chunk.records[0].problem = Some(RecordProblem::FieldCount {
        expected: 2,
        found: 3,
    });
    finisher.finish_chunk(evaluated).unwrap();
    drop(finisher);
    let rejected = verdicts(&sink.rejected);
    assert_eq!(rejected[0].0, 1);
    assert_eq!(rejected[0].1, "malformed_record");
    assert_eq!(
        rejected[1],
        (2, "code_required".into(), "set says no".into())
    );
}

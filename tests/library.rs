//! The engine as a library ([`voucher_import::Import`]): what `prepare` and `check` do,
//! driven from code, with existing codes given as values and a cancellation handle.

use std::path::PathBuf;

use voucher_import::CampaignType;
use voucher_import::Cancel;
use voucher_import::Import;

use crate::util::{assert_conserved, ROOT};

fn sample() -> Vec<PathBuf> {
    vec![PathBuf::from(ROOT).join("fixtures/sample/gift_cards.csv")]
}

#[test]
fn an_import_built_in_code_prepares_a_folder_like_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let summary = Import::new(CampaignType::GiftVouchers)
        .existing_codes(["OLD-0002"])
        .threads(2)
        .run_files(&sample(), &out)
        .unwrap();
    assert_conserved(&out, 22);
    assert_eq!(summary.input_rows, 22);
    assert_eq!(summary.accepted + summary.rejected, 22);
    let existing = summary
        .rejected_by_rule
        .0
        .iter()
        .find(|(rule, _)| rule == "existing_code")
        .map(|(_, n)| *n);
    assert_eq!(
        existing,
        Some(1),
        "OLD-0002, given as a value, is in the project"
    );
    assert_eq!(summary.existing[0].path, "(codes given)");
}

#[test]
fn check_files_writes_nothing_and_lists_every_rejected_row() {
    let report = Import::new(CampaignType::GiftVouchers)
        .check_files(&sample())
        .unwrap();
    assert_eq!(report.rejected_rows.len() as u64, report.summary.rejected);
}

#[test]
fn a_cancelled_run_stops_with_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let cancel = Cancel::new();
    cancel.cancel();
    let err = Import::new(CampaignType::GiftVouchers)
        .cancel(cancel)
        .run_files(&sample(), &out)
        .unwrap_err();
    assert!(err.is_interruption(), "{err}");
    assert!(!out.exists(), "nothing is left behind");
}

#[test]
fn summary_json_reads_back_whole_and_writes_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    Import::new(CampaignType::GiftVouchers)
        .existing_codes(["OLD-0002"])
        .canary_rows(2)
        .run_files(&sample(), &out)
        .unwrap();
    let written = std::fs::read(out.join("summary.json")).unwrap();
    let summary = voucher_import::read_summary(&out).unwrap();
    let mut again = Vec::new();
    voucher_import::write_json(&mut again, &summary).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&again),
        String::from_utf8_lossy(&written)
    );
    // The rules keep their order (a JSON object read into a map would sort them).
    assert_eq!(summary.rejected_by_rule.0[0].0, "malformed_record");
}

//! Unit tests of `verdict`.

use super::*;
use serde_json::json;

fn batch(rows: u64) -> BatchState {
    let mut b = BatchState::new("import/part-00001.csv".into(), String::new(), rows);
    b.status = BatchStatus::InProgress;
    b
}

fn codes() -> Vec<String> {
    ["A", "B", "C", "D"].map(String::from).to_vec()
}

fn ended(b: &mut BatchState, status: &str, result: Value) {
    let body = json!({"id": "aa_1", "status": status, "progress": 100, "result": result});
    let action = parse_action(Some(&body), "").unwrap();
    record(b, &action, &mut codes);
}

#[test]
fn statuses_match_in_any_case_and_unknown_ones_keep_polling() {
    let mut b = batch(4);
    ended(&mut b, "done", json!({"done_count": 4, "failed_count": 0}));
    assert_eq!(b.status, BatchStatus::Done);
    let mut b = batch(4);
    let body = json!({"status": "Paused"});
    record(&mut b, &parse_action(Some(&body), "").unwrap(), &mut codes);
    assert_eq!(b.status, BatchStatus::Polling);
    assert_eq!(b.voucherify_status.as_deref(), Some("Paused"));
}

#[test]
fn an_answer_without_a_status_is_not_an_action() {
    assert!(parse_action(Some(&json!({"id": "aa"})), "{\"id\":\"aa\"}").is_err());
    assert!(parse_action(None, "<html>").unwrap_err().contains("<html>"));
}

#[test]
fn failed_entries_without_row_or_code_are_kept_and_rows_recovered_from_codes() {
    let mut b = batch(4);
    ended(
        &mut b,
        "DONE",
        json!({"failed": [
            {"code": "C", "reason": "no row"},
            {"code": "B", "row": -3, "reason": "negative"},
            {"code": "D", "row": 99},
            {"row": 1, "reason": "no code"},
            {"reason": "nothing"},
            {"code": "A", "row": 3, "reason": "row of another code"},
            "plain text entry",
            {"code": "ZZ", "row": 2}
        ], "done_count": 0, "failed_count": 4}),
    );
    let rows: Vec<(Option<u64>, RowSource)> =
        b.failed.iter().map(|f| (f.row, f.row_source)).collect();
    assert_eq!(
        rows,
        vec![
            (Some(3), RowSource::Code),
            (Some(2), RowSource::Code),
            (Some(4), RowSource::Code),
            (Some(1), RowSource::Voucherify),
            (None, RowSource::Unknown),
            (Some(1), RowSource::Code),
            (None, RowSource::Unknown),
        ]
    );
    // ZZ is no code of the batch: an inconsistent answer, not one of its failed rows.
    assert_eq!(b.failed_not_in_batch.len(), 1);
    assert_eq!(b.failed_not_in_batch[0].code.as_deref(), Some("ZZ"));
    assert_eq!(b.failed_not_in_batch[0].row_source, RowSource::NotInBatch);
    assert_eq!(b.failed[1].reported_row.as_deref(), Some("-3"));
    assert_eq!(b.failed[6].reason.as_deref(), Some("plain text entry"));
    // 7 listed for a batch of 4, and a code not sent: the answer does not add up.
    assert_eq!(b.counts, Some(Counts::Inconsistent));
}

#[test]
fn missing_counts_are_inferred_and_marked() {
    let mut b = batch(4);
    ended(
        &mut b,
        "DONE",
        json!({"message": "3 voucher(s) imported successfully", "failed": [{"code": "B", "row": 2, "reason": "x"}]}),
    );
    assert_eq!((b.done_count, b.failed_count), (Some(3), Some(1)));
    assert_eq!(b.counts, Some(Counts::Inferred));
    assert_eq!(b.rows_without_verdict, 0);

    let mut b = batch(4);
    ended(&mut b, "DONE", json!({"failed": []}));
    assert_eq!((b.done_count, b.failed_count), (Some(4), Some(0)));
    assert_eq!(b.counts, Some(Counts::Inferred));
}

#[test]
fn counts_short_of_the_rows_sent_leave_rows_without_verdict() {
    let mut b = batch(4);
    ended(&mut b, "DONE", json!({"done_count": 2, "failed_count": 0}));
    assert_eq!(b.rows_without_verdict, 2);
    assert_eq!(b.counts, Some(Counts::Reported));
    // The message says fewer than were sent.
    let mut b = batch(4);
    ended(
        &mut b,
        "DONE",
        json!({"message": "1 voucher(s) imported successfully"}),
    );
    assert_eq!(b.rows_without_verdict, 3);
}

#[test]
fn counts_larger_than_the_batch_are_not_believed() {
    let mut b = batch(4);
    ended(
        &mut b,
        "DONE",
        json!({"done_count": 500, "failed_count": 0}),
    );
    assert_eq!(b.counts, Some(Counts::Inconsistent));
    assert_eq!(b.done_count, None);
    assert_eq!(b.reported_done_count, Some(500));
}

#[test]
fn a_failed_job_whose_result_is_text_keeps_the_text() {
    let mut b = batch(4);
    ended(
        &mut b,
        "FAILED",
        json!("Internal error while parsing the file"),
    );
    assert_eq!(b.status, BatchStatus::Failed);
    assert_eq!(
        b.message.as_deref(),
        Some("Internal error while parsing the file")
    );
    assert_eq!((b.done_count, b.failed_count), (Some(0), Some(0)));
    assert_eq!(b.rows_without_verdict, 0);
}

#[test]
fn import_jobs_since_a_time_are_candidates() {
    let page = json!({"object": "list", "data_ref": "async_actions", "async_actions": [
        {"id": "aa_3", "type": "CAMPAIGN.VOUCHERS_IMPORT_CSV", "status": "DONE", "created_at": "2026-11-26T10:05:00Z"},
        {"id": "aa_2", "type": "VOUCHERS.IMPORT", "status": "DONE", "created_at": "2026-11-26T10:04:00Z"},
        {"id": "aa_1", "type": "campaign.vouchers_import_csv", "status": "DONE", "created_at": "2026-11-26T09:00:00Z"}
    ], "has_more": true});
    let at = |t: &str| {
        chrono::DateTime::parse_from_rfc3339(t)
            .unwrap()
            .timestamp_millis()
    };
    let page = import_jobs_since(Some(&page), at("2026-11-26T10:00:00Z"));
    assert_eq!(
        page.found.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        vec!["aa_3"]
    );
    assert_eq!(page.oldest_ms, Some(at("2026-11-26T09:00:00Z")));
    assert_eq!((page.listed, page.has_more), (3, Some(true)));
}

#[test]
fn the_count_in_voucherifys_message_is_read() {
    assert_eq!(
        imported_in_message("2 voucher(s) imported successfully"),
        Some(2)
    );
    assert_eq!(
        imported_in_message("Imported 10 vouchers imported"),
        Some(10)
    );
    assert_eq!(imported_in_message("vouchers imported"), None);
    assert_eq!(imported_in_message("2 vouchers failed"), None);
}

#[test]
fn operation_status_failed_makes_a_done_job_failed_and_unknown_is_kept() {
    let mut b = batch(4);
    let body = json!({"id": "aa_1", "status": "DONE", "operation_status": "FAILED",
        "progress": 100, "result": {"message": "Import failed: file could not be parsed"}});
    record(&mut b, &parse_action(Some(&body), "").unwrap(), &mut codes);
    assert_eq!(b.status, BatchStatus::Failed);
    assert_eq!(b.operation_status.as_deref(), Some("FAILED"));
    assert_eq!(
        b.message.as_deref(),
        Some("Import failed: file could not be parsed")
    );

    let mut b = batch(4);
    let body = json!({"id": "aa_1", "status": "DONE", "operation_status": "UNKNOWN",
        "progress": 100, "result": {"done_count": 4, "failed_count": 0}});
    record(&mut b, &parse_action(Some(&body), "").unwrap(), &mut codes);
    assert_eq!(b.status, BatchStatus::Done);
    assert_eq!(b.operation_status.as_deref(), Some("UNKNOWN"));
}

#[test]
fn a_result_that_says_nothing_of_how_many_went_in_leaves_every_row_without_a_verdict() {
    for result in [
        json!({}),
        json!({"message": "Import finished"}),
        Value::Null,
    ] {
        let mut b = batch(4);
        ended(&mut b, "DONE", result.clone());
        assert_eq!(b.counts, Some(Counts::Missing), "{result}");
        assert_eq!(b.done_count, Some(0), "{result}");
        assert_eq!(b.rows_without_verdict, 4, "{result}");
    }
}

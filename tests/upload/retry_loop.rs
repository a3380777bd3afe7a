//! The fix-and-retry loop past Voucherify: the rows an upload could not import
//! (`upload-failed.csv`), fixed in a spreadsheet, go back into `prepare` as they are and then
//! into the campaign.

use super::*;

/// `prepare` of a report given back (`--campaign-type gift`, no canary) into `out`.
fn prepare_again(report: &std::path::Path, out: &std::path::Path, extra: &[&str]) -> Output {
    Command::new(BIN)
        .args(["prepare", &report.display().to_string()])
        .args(["--campaign-type", "gift", "--canary-rows", "0"])
        .args(["--out", &out.display().to_string()])
        .args(extra)
        .current_dir(ROOT)
        .output()
        .unwrap()
}

#[test]
fn upload_failed_csv_fixed_goes_back_through_prepare_and_upload() {
    let dir = prepared();
    let fake = Fake::start();
    let (refused, batch) = refuse_first_row_of_the_second_batch(&dir, &fake);
    let first = upload(&dir, &fake);
    assert_eq!(first.status.code(), Some(1), "{}", text(&first));

    // The colleague gives the refused voucher a new code and saves the file as it is.
    let failed_path = dir.path().join("out/upload-failed.csv");
    let mut reader = csv::Reader::from_path(&failed_path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        &header[..5],
        ["file", "row", "code", "reason", "Code"],
        "{header:?}"
    );
    let mut fixed = csv::Writer::from_writer(Vec::new());
    fixed.write_record(&header).unwrap();
    let renamed = format!("{refused}-B");
    for record in reader.records() {
        let mut record: Vec<String> = record.unwrap().iter().map(String::from).collect();
        assert_eq!(record[2], refused);
        record[4] = renamed.clone();
        fixed.write_record(&record).unwrap();
    }
    let fixed_path = dir.path().join("upload-failed-fixed.csv");
    fs::write(&fixed_path, fixed.into_inner().unwrap()).unwrap();

    let again = dir.path().join("again");
    let prepared_again = prepare_again(&fixed_path, &again, &[]);
    assert_eq!(
        prepared_again.status.code(),
        Some(0),
        "{}",
        text(&prepared_again)
    );
    assert!(
        stderr(&prepared_again).contains(
            "upload-failed-fixed.csv is an upload-failed.csv: its columns file, row, code and reason (what Voucherify said) are skipped"
        ),
        "{}",
        text(&prepared_again)
    );
    let summary: Value =
        serde_json::from_slice(&fs::read(again.join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        (summary["input_rows"].as_u64(), summary["accepted"].as_u64()),
        (Some(1), Some(1))
    );
    // The batch is the original batch's row under the new code: no report column, no metadata
    // made of Voucherify's reason.
    let new_batch = fs::read_to_string(again.join("import/part-00001.csv")).unwrap();
    let (new_header, new_row) = new_batch.split_once('\n').unwrap();
    assert_eq!(
        new_header.trim_end(),
        batch.lines().next().unwrap().trim_end()
    );
    let original_row = batch.lines().nth(1).unwrap();
    assert_eq!(
        new_row.trim_end(),
        original_row.replacen(&refused, &renamed, 1).trim_end(),
        "{new_batch}"
    );

    let again_path = again.display().to_string();
    let second = against_fake(&fake, &["upload", &again_path, "--campaign", CAMPAIGN], &[]);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    assert!(
        fake.voucher(&renamed).is_some(),
        "the fixed code is in the campaign"
    );
    assert!(!out(&dir).join("../again/upload-failed.csv").exists());
}

#[test]
fn kept_columns_join_upload_failed_rows_to_the_callers_rows_and_stay_out_of_the_batches() {
    // `note` is the caller's own column: kept, it goes with each row, never to Voucherify.
    let dir = prepared_with(&["--canary-rows", "0", "--keep", "note"]);
    let fake = Fake::start();
    let (refused, batch) = refuse_first_row_of_the_second_batch(&dir, &fake);
    assert!(
        !batch.lines().next().unwrap().contains("note"),
        "a kept column is never in a batch: {batch}"
    );
    let origins = fs::read_to_string(out(&dir).join("origins.csv")).unwrap();
    assert!(
        origins.starts_with("batch,batch_row,count,file,row,note\n"),
        "{origins}"
    );
    let first = upload(&dir, &fake);
    assert_eq!(first.status.code(), Some(1), "{}", text(&first));
    let stored = fake.voucher("GC-0001").expect("GC-0001 went in");
    assert!(
        stored["metadata"].get("note").is_none() && stored["metadata"].get("region").is_some(),
        "the kept column is no metadata at Voucherify: {stored}"
    );

    let failed_path = out(&dir).join("upload-failed.csv");
    let mut reader = csv::Reader::from_path(&failed_path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header.last().map(String::as_str),
        Some("note"),
        "{header:?}"
    );
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 1);
    // The kept value is the input row's own: the row upload-failed.csv names.
    let input_row: usize = records[0][1].parse().unwrap();
    let input = csv::Reader::from_path(format!("{ROOT}/fixtures/sample/gift_cards.csv"))
        .unwrap()
        .into_records()
        .nth(input_row - 1)
        .unwrap()
        .unwrap();
    assert_eq!(&input[0], refused);
    assert_eq!(&records[0][header.len() - 1], &input[9]);

    // Given back with the same --keep, the kept column is kept again: not metadata. The
    // refused code repeats nothing here, so it goes in.
    let again = dir.path().join("again");
    let prepared_again = prepare_again(&failed_path, &again, &["--keep", "note"]);
    assert_eq!(
        prepared_again.status.code(),
        Some(0),
        "{}",
        text(&prepared_again)
    );
    let new_batch = fs::read_to_string(again.join("import/part-00001.csv")).unwrap();
    assert!(
        !new_batch.lines().next().unwrap().contains("note"),
        "{new_batch}"
    );
    let new_origins = fs::read_to_string(again.join("origins.csv")).unwrap();
    assert!(
        new_origins.lines().nth(1).unwrap().ends_with(&input[9]),
        "{new_origins}"
    );
}

//! Fidelity to what Voucherify documents: values written so that Voucherify reads them as the
//! input meant them (issue "Fidelity II").

use std::fs;
use std::path::Path;

use crate::util::{prepare_csv, run};

/// The run's summary.json.
fn summary(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(out.join("summary.json")).unwrap()).unwrap()
}

/// The run's first batch, as text.
fn first_batch(out: &Path) -> String {
    fs::read_to_string(out.join("import/part-00001.csv")).unwrap()
}

#[test]
fn major_amounts_are_written_in_whole_minor_units_never_as_decimals() {
    let r = prepare_csv(
        "major.csv",
        "Code,Gift Amount,Redeemed Amount\nM-1,100.50,0\nM-2,7,0.5\nM-3,1.234,0\nM-4,12,\n",
        &["--campaign-type", "gift", "--amount-unit", "major"],
    );
    r.expect_code(1);
    crate::util::assert_conserved(&r.out(), 4);
    let batch = first_batch(&r.out());
    assert_eq!(
        batch, "Code,Gift Amount,Redeemed Amount\r\nM-1,10050,0\r\nM-2,700,50\r\nM-4,1200,\r\n",
        "{batch}"
    );
    let summary = summary(&r.out());
    assert_eq!(
        summary["normalizations"]["amounts_converted"], 4,
        "{summary}"
    );
    assert_eq!(
        summary["rejected_by_rule"]["invalid_number"], 1,
        "{summary}"
    );
}

#[test]
fn a_promotion_campaign_is_refused_as_holding_no_codes() {
    let dir = tempfile::tempdir().unwrap();
    let campaign = dir.path().join("campaign.json");
    fs::write(
        &campaign,
        r#"{"id": "camp_p", "campaign_type": "PROMOTION"}"#,
    )
    .unwrap();
    let campaign = campaign.display().to_string();
    for how in [
        vec!["--campaign-type", "promotion"],
        vec!["--campaign", campaign.as_str()],
    ] {
        let mut args = vec!["prepare", "fixtures/sample/gift_cards.csv"];
        args.extend(how);
        args.extend(["--out", "{out}"]);
        let r = run(&args);
        r.expect_code(2);
        assert!(
            r.stderr().contains("PROMOTION campaign holds no codes"),
            "{}",
            r.describe()
        );
        assert!(r.stderr().contains("fix:"), "{}", r.describe());
        assert!(!r.out().exists());
    }
}

#[test]
fn an_import_file_holds_at_most_100000_codes_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("many.csv");
    let mut text = String::from("Code\n");
    for i in 0..100_001 {
        text.push_str(&format!("R-{i:06}\n"));
    }
    fs::write(&input, text).unwrap();
    let r = run(&[
        "prepare",
        &input.display().to_string(),
        "--campaign-type",
        "gift",
        "--campaign-limit",
        "1000000",
        "--out",
        "{out}",
    ]);
    r.expect_code(0);
    let summary = summary(&r.out());
    let rows: Vec<u64> = summary["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["rows"].as_u64().unwrap())
        .collect();
    assert_eq!(rows, [100_000, 1], "{summary}");
    assert_eq!(summary["options"]["batch_rows"], 100_000);
    assert_eq!(summary["options"]["max_file_bytes"], 9_999_488);
}

#[test]
fn null_is_taken_in_typed_metadata_and_schema_values_are_written_canonically() {
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("schema.json");
    fs::write(
        &schema,
        r#"{"related_object":"voucher","properties":{
            "vip":{"type":"boolean"},
            "rank":{"type":"number"},
            "tags":{"type":"string","array":true},
            "note":{"type":"string"}}}"#,
    )
    .unwrap();
    let input = dir.path().join("cards.csv");
    fs::write(
        &input,
        "Code,vip,rank,tags,note\nN-1,TRUE,1.234,\"a, b ,c\",NULL\nN-2,NULL,null,x,y\nN-3,False,2,,z\n",
    )
    .unwrap();
    let r = run(&[
        "prepare",
        &input.display().to_string(),
        "--campaign-type",
        "gift",
        "--metadata-schema",
        &schema.display().to_string(),
        "--out",
        "{out}",
    ]);
    r.expect_code(0);
    let batch = first_batch(&r.out());
    assert_eq!(
        batch,
        "Code,vip,rank,tags,note\r\nN-1,true,1.234,\"a,b,c\",NULL\r\nN-2,null,null,x,y\r\nN-3,false,2,,z\r\n",
        "a string property keeps NULL as written"
    );
    let summary = summary(&r.out());
    assert_eq!(
        summary["normalizations"]["metadata_values_respelled"], 4,
        "{summary}"
    );
}

#[test]
fn existing_codes_update_imports_the_row_and_warns_what_voucherify_ignores() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("cards.csv");
    fs::write(
        &input,
        "Code,Active,Category,Gift Amount\nOLD-0001,false,summer,5000\nOLD-0002,true,,\nNEW-1,true,winter,100\n",
    )
    .unwrap();
    let existing = dir.path().join("existing.csv");
    fs::write(&existing, "code\nOLD-0001\nOLD-0002\n").unwrap();
    let input = input.display().to_string();
    let existing = existing.display().to_string();
    let base = [
        "prepare",
        input.as_str(),
        "--campaign-type",
        "gift",
        "--existing",
        existing.as_str(),
        "--out",
        "{out}",
    ];
    let rejected = run(&base);
    rejected.expect_code(1);
    let mut args = base.to_vec();
    args.extend(["--existing-codes", "update"]);
    let updated = run(&args);
    updated.expect_code(0);
    crate::util::assert_conserved(&updated.out(), 3);
    let summary = summary(&updated.out());
    assert_eq!(summary["accepted"], 3, "{summary}");
    assert_eq!(summary["updates"], 2, "{summary}");
    assert_eq!(
        summary["warnings_by_rule"]["update_ignores_fields"], 1,
        "{summary}"
    );
    let warnings = fs::read_to_string(updated.out().join("warnings.csv")).unwrap();
    assert!(
        warnings.contains("OLD-0001 is in the project: Voucherify updates only Active and Category, and ignores Gift Amount"),
        "{warnings}"
    );
    assert!(
        !warnings.contains("OLD-0002,"),
        "nothing ignored, nothing to warn: {warnings}"
    );
}

#[test]
fn the_standalone_import_template_is_refused_not_taken_for_an_export() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("standalone.csv");
    fs::write(
        &input,
        "Code,Voucher Type,Value,Discount Type,Category\nS-1,GIFT_VOUCHER,2000,,summer\n",
    )
    .unwrap();
    let input = input.display().to_string();
    let r = run(&[
        "prepare",
        &input,
        "--campaign-type",
        "gift",
        "--out",
        "{out}",
    ]);
    r.expect_code(2);
    assert!(
        r.stderr().contains("standalone import template"),
        "{}",
        r.describe()
    );
    assert!(
        r.stderr().contains("POST /v1/vouchers/importCSV"),
        "{}",
        r.describe()
    );
    assert!(!r.out().exists());
    // Mapped by the user, it is a campaign import.
    let mapped = run(&[
        "prepare",
        &input,
        "--campaign-type",
        "gift",
        "--drop",
        "Voucher Type",
        "--drop",
        "Discount Type",
        "--rename",
        "Value=Gift Amount",
        "--out",
        "{out}",
    ]);
    mapped.expect_code(0);
    let batch = first_batch(&mapped.out());
    assert_eq!(batch, "Code,Category,Gift Amount\r\nS-1,summer,2000\r\n");
}

#[test]
fn an_export_keeps_its_balances_and_refuses_rows_of_another_voucher_type() {
    let dir = tempfile::tempdir().unwrap();
    // An export without `fields`, into a gift card campaign.
    let default = dir.path().join("default_export.csv");
    fs::write(
        &default,
        "code,voucher_type,value,discount_type\nG-1,GIFT_VOUCHER,5000,\nL-1,LOYALTY_CARD,120,\nD-1,DISCOUNT_VOUCHER,10,PERCENT\n",
    )
    .unwrap();
    let r = run(&[
        "prepare",
        &default.display().to_string(),
        "--campaign-type",
        "gift",
        "--out",
        "{out}",
    ]);
    r.expect_code(1);
    crate::util::assert_conserved(&r.out(), 3);
    let batch = first_batch(&r.out());
    assert_eq!(batch, "Code,Gift Amount\r\nG-1,5000\r\n");
    let summary = summary(&r.out());
    assert_eq!(
        summary["rejected_by_rule"]["wrong_voucher_type"], 2,
        "{summary}"
    );

    // Voucherify's documented download example: Title Case, major units.
    let documented = dir.path().join("documented.csv");
    fs::write(
        &documented,
        "ID,Code,Voucher Type,Value\nv_1,GC-1,GIFT_VOUCHER,2000.00\n",
    )
    .unwrap();
    let r = run(&[
        "prepare",
        &documented.display().to_string(),
        "--campaign-type",
        "gift",
        "--out",
        "{out}",
    ]);
    r.expect_code(0);
    let batch = first_batch(&r.out());
    assert_eq!(batch, "Code,Gift Amount\r\nGC-1,200000\r\n");

    // A loyalty export's value is points.
    let loyalty = dir.path().join("loyalty.csv");
    fs::write(
        &loyalty,
        "code,voucher_type,value,discount_type\nLC-1,LOYALTY_CARD,1200,\n",
    )
    .unwrap();
    let r = run(&[
        "prepare",
        &loyalty.display().to_string(),
        "--campaign-type",
        "loyalty",
        "--out",
        "{out}",
    ]);
    r.expect_code(0);
    let batch = first_batch(&r.out());
    assert_eq!(batch, "Code,Loyalty Points\r\nLC-1,1200\r\n");
}

#[test]
fn an_exports_amount_unit_is_decided_per_file_not_per_value() {
    let dir = tempfile::tempdir().unwrap();
    let mixed = dir.path().join("mixed.csv");
    fs::write(
        &mixed,
        "code,voucher_type,value,discount_type\nA-1,GIFT_VOUCHER,100,\nA-2,GIFT_VOUCHER,1.00,\n",
    )
    .unwrap();
    let r = run(&[
        "prepare",
        &mixed.display().to_string(),
        "--campaign-type",
        "gift",
        "--out",
        "{out}",
    ]);
    r.expect_code(0);
    let batch = first_batch(&r.out());
    assert_eq!(
        batch, "Code,Gift Amount\r\nA-1,10000\r\nA-2,100\r\n",
        "one unit: major"
    );
    assert!(
        r.stderr()
            .contains("is read in major units, because a value has a decimal point ('1.00')"),
        "{}",
        r.describe()
    );

    let whole = dir.path().join("whole.csv");
    fs::write(
        &whole,
        "code,voucher_type,value,discount_type\nB-1,GIFT_VOUCHER,100,\n",
    )
    .unwrap();
    let r = run(&[
        "prepare",
        &whole.display().to_string(),
        "--campaign-type",
        "gift",
        "--out",
        "{out}",
    ]);
    r.expect_code(0);
    let batch = first_batch(&r.out());
    assert_eq!(batch, "Code,Gift Amount\r\nB-1,100\r\n");
    assert!(
        r.stderr()
            .contains("is read in minor units, because no value has a decimal point"),
        "{}",
        r.describe()
    );
}

#[test]
fn batch_amount_unit_major_writes_amounts_with_two_decimals() {
    let r = prepare_csv(
        "minor.csv",
        "Code,Gift Amount,Redeemed Amount\nB-1,10050,0\nB-2,7,\n",
        &["--campaign-type", "gift", "--batch-amount-unit", "major"],
    );
    r.expect_code(0);
    crate::util::assert_conserved(&r.out(), 2);
    assert_eq!(
        first_batch(&r.out()),
        "Code,Gift Amount,Redeemed Amount\r\nB-1,100.50,0.00\r\nB-2,0.07,\r\n"
    );
    let summary = summary(&r.out());
    assert_eq!(
        summary["options"]["batch_amount_unit"], "major",
        "{summary}"
    );
    assert!(
        r.stderr().contains("amounts written in major units"),
        "{}",
        r.describe()
    );
}

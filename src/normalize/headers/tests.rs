//! Unit tests of `headers`.

use super::*;

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn classify_gift(list: &[&str]) -> Result<Vec<ColumnRole>> {
    classify(
        Path::new("in.csv"),
        &names(list),
        CampaignType::GiftVouchers,
        &HeaderOptions::default(),
    )
}

#[test]
fn known_columns_match_in_any_spelling() {
    let roles = classify_gift(&[
        "code",
        " GIFT AMOUNT ",
        "redeemed_quantity",
        "Redeemed-Amount",
    ])
    .unwrap();
    assert_eq!(
        roles,
        vec![
            ColumnRole::Known(KnownColumn::Code),
            ColumnRole::Known(KnownColumn::GiftAmount),
            ColumnRole::Known(KnownColumn::RedeemedQuantity),
            ColumnRole::Known(KnownColumn::RedeemedAmount),
        ]
    );
}

#[test]
fn other_columns_are_metadata_under_their_own_name() {
    let roles = classify_gift(&["Code", " region "]).unwrap();
    assert_eq!(roles[1], ColumnRole::Metadata("region".into()));
}

#[test]
fn file_level_header_errors_name_the_problem() {
    let cases: &[(&[&str], &str)] = &[
        (&["Category"], "there is no Code column"),
        (&["Cdoe", "Category"], "did you mean 'Cdoe'?"),
        (
            &["Code", "gift_amount", "Gift Amount"],
            "columns 2 ('gift_amount') and 3 ('Gift Amount') both mean 'Gift Amount'",
        ),
        (&["Code", "favourite colour"], "contains whitespace"),
        (&["Code", "Gift Amuont"], "did you mean 'Gift Amount'?"),
        (&["Code", ""], "column 2 has an empty header"),
        (&["Code", "row"], "reserve"),
    ];
    for (header, expected) in cases {
        let err = classify_gift(header).unwrap_err().to_string();
        assert!(err.contains(expected), "{header:?}: {err}");
    }
}

#[test]
fn columns_of_another_campaign_type_are_refused() {
    let err = classify(
        Path::new("in.csv"),
        &names(&["Code", "Loyalty Points"]),
        CampaignType::GiftVouchers,
        &HeaderOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("applies only to LOYALTY_PROGRAM"), "{err}");
}

#[test]
fn renamed_and_dropped_columns() {
    let options = HeaderOptions {
        renames: vec![
            ("voucher_code".into(), "Code".into()),
            ("Region Name".into(), "region".into()),
        ],
        drops: vec!["internal id".into()],
        ..HeaderOptions::default()
    };
    let roles = classify(
        Path::new("in.csv"),
        &names(&["voucher_code", "Region Name", "internal id"]),
        CampaignType::DiscountCoupons,
        &options,
    )
    .unwrap();
    assert_eq!(
        roles,
        vec![
            ColumnRole::Known(KnownColumn::Code),
            ColumnRole::Metadata("region".into()),
            ColumnRole::Dropped("internal id".into()),
        ]
    );
}

#[test]
fn declared_metadata_overrides_the_near_miss_check() {
    let options = HeaderOptions {
        declared_metadata: vec!["Categroy".into()],
        ..HeaderOptions::default()
    };
    let roles = classify(
        Path::new("in.csv"),
        &names(&["Code", "Categroy"]),
        CampaignType::DiscountCoupons,
        &options,
    )
    .unwrap();
    assert_eq!(roles[1], ColumnRole::Metadata("Categroy".into()));
}

#[test]
fn a_header_the_schema_defines_exactly_is_metadata_even_when_it_folds_to_a_known_column() {
    let options = HeaderOptions {
        schema_properties: vec!["CATEGORY".into(), "start_date".into(), "Region".into()],
        ..HeaderOptions::default()
    };
    let roles = classify(
        Path::new("in.csv"),
        &names(&["Code", "CATEGORY", "start_date", "Category", "Region"]),
        CampaignType::DiscountCoupons,
        &options,
    )
    .unwrap();
    assert_eq!(
        roles,
        vec![
            ColumnRole::Known(KnownColumn::Code),
            ColumnRole::Metadata("CATEGORY".into()),
            ColumnRole::Metadata("start_date".into()),
            // The exact canonical spelling is the import column.
            ColumnRole::Known(KnownColumn::Category),
            ColumnRole::Metadata("Region".into()),
        ]
    );
}

#[test]
fn a_header_that_could_be_a_known_column_or_a_schema_property_is_an_error_naming_both() {
    let options = HeaderOptions {
        schema_properties: vec!["CATEGORY".into()],
        ..HeaderOptions::default()
    };
    let problems = classify_all(
        &names(&["Code", "category"]),
        CampaignType::DiscountCoupons,
        &options,
    )
    .unwrap_err();
    assert_eq!(problems.len(), 1);
    let problem = &problems[0];
    assert!(
        problem.message.contains("'Category'") && problem.message.contains("'CATEGORY'"),
        "{}",
        problem.message
    );
    assert!(
        problem.fix.contains("--rename 'category=Category'")
            && problem.fix.contains("--rename 'category=CATEGORY'"),
        "{}",
        problem.fix
    );
}

#[test]
fn redeemed_quantity_is_left_out_of_a_loyalty_import() {
    let roles = classify(
        Path::new("in.csv"),
        &names(&["Code", "Loyalty Points", "redeemed_quantity"]),
        CampaignType::LoyaltyProgram,
        &HeaderOptions::default(),
    )
    .unwrap();
    assert_eq!(roles[2], ColumnRole::Dropped("redeemed_quantity".into()));
}

#[test]
fn reports_given_back_are_told_apart_by_their_own_columns() {
    assert_eq!(
        ReportKind::of(&names(&[
            "file", "row", "line", "rules", "reason", "Code", "raw"
        ])),
        Some(ReportKind::Rejected)
    );
    assert_eq!(
        ReportKind::of(&names(&[
            "file",
            "row",
            "code",
            "reason",
            "Code",
            "Gift Amount"
        ])),
        Some(ReportKind::UploadFailed)
    );
    // Only the report's own columns: nothing to import, no report.
    assert_eq!(
        ReportKind::of(&names(&["file", "row", "code", "reason"])),
        None
    );
    assert_eq!(
        ReportKind::of(&names(&["Code", "file", "row", "code", "reason"])),
        None
    );
    let roles = classify_all(
        &names(&["file", "row", "code", "reason", "Code", "Gift Amount"]),
        CampaignType::GiftVouchers,
        &HeaderOptions::default(),
    )
    .unwrap();
    assert!(
        roles[..4]
            .iter()
            .all(|r| matches!(r, ColumnRole::Report(_))),
        "{roles:?}"
    );
    assert_eq!(roles[4], ColumnRole::Known(KnownColumn::Code));
}

#[test]
fn kept_columns_are_neither_metadata_nor_checked_as_headers() {
    // `order id` has whitespace (refused as metadata) and `Categroy` looks like a misspelling:
    // kept, neither is read as a metadata name.
    let options = HeaderOptions {
        keeps: vec!["order id".into(), "#3".into()],
        ..HeaderOptions::default()
    };
    let roles = classify(
        Path::new("in.csv"),
        &names(&["Code", "order id", "Categroy"]),
        CampaignType::DiscountCoupons,
        &options,
    )
    .unwrap();
    assert_eq!(
        roles,
        vec![
            ColumnRole::Known(KnownColumn::Code),
            ColumnRole::Kept("order id".into()),
            ColumnRole::Kept("Categroy".into()),
        ]
    );
}

#[test]
fn keeping_an_import_column_is_refused_naming_the_fix() {
    let options = HeaderOptions {
        keeps: vec!["code".into()],
        ..HeaderOptions::default()
    };
    let err = classify(
        Path::new("in.csv"),
        &names(&["code", "order_id"]),
        CampaignType::DiscountCoupons,
        &options,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("is the import column 'Code'"), "{err}");
}

#[test]
fn keep_and_drop_of_one_column_and_an_unknown_keep_are_usage_errors() {
    let headers = vec![names(&["Code", "order_id"])];
    let both = HeaderOptions {
        keeps: vec!["order_id".into()],
        drops: vec!["order_id".into()],
        ..HeaderOptions::default()
    };
    let err = both.check_names(&headers).unwrap_err().to_string();
    assert!(err.contains("name the same column"), "{err}");
    let typo = HeaderOptions {
        keeps: vec!["order_ids".into()],
        ..HeaderOptions::default()
    };
    let err = typo.check_names(&headers).unwrap_err().to_string();
    assert!(err.contains("did you mean 'order_id'"), "{err}");
}

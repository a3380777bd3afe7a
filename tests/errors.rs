//! Every file-level error: exit code 2, one message naming the file, the column and the fix,
//! and nothing written (no output folder, no staging folder left behind).

use crate::util::{expect_error, run};

fn prepare(file: &str, campaign_type: &str) -> Vec<String> {
    [
        "prepare",
        file,
        "--campaign-type",
        campaign_type,
        "--out",
        "{out}",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn no_code_column() {
    expect_error(
        &strs(&prepare("fixtures/errors/no_code.csv", "discount")),
        &[
            "error: fixtures/errors/no_code.csv: there is no Code column",
            "fix: the first line must be a header naming the columns, one of them 'Code'",
        ],
    );
}

#[test]
fn two_columns_with_the_same_meaning() {
    expect_error(
        &strs(&prepare("fixtures/errors/duplicate_columns.csv", "gift")),
        &[
            "fixtures/errors/duplicate_columns.csv: columns 2 ('gift_amount') and 3 ('Gift Amount') both mean 'Gift Amount'",
            "fix: leave one out (--drop '#3') or rename it (--rename '#3=Gift_Amount_3')",
        ],
    );
}

#[test]
fn metadata_name_with_whitespace() {
    expect_error(
        &strs(&prepare(
            "fixtures/errors/metadata_whitespace.csv",
            "discount",
        )),
        &[
            "metadata column 'favourite colour' contains whitespace",
            "fix: rename the header, e.g. to 'favourite_colour'",
        ],
    );
}

#[test]
fn gift_columns_outside_a_gift_campaign() {
    expect_error(
        &strs(&prepare("fixtures/sample/gift_cards.csv", "discount")),
        &[
            "fixtures/sample/gift_cards.csv: column 'Gift Amount' (Gift Amount) applies only to GIFT_VOUCHERS campaigns, and this is a DISCOUNT_COUPONS campaign",
            "fix: leave the column out (--drop 'Gift Amount'), or import into a GIFT_VOUCHERS campaign (--campaign-type gift)",
            "column 'Redeemed Amount' (Redeemed Amount) applies only to GIFT_VOUCHERS",
            "fix: every fix at once: --drop 'Gift Amount' --drop 'Redeemed Amount'",
        ],
    );
}

#[test]
fn loyalty_points_outside_a_loyalty_campaign() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("points.csv");
    std::fs::write(&file, "Code,loyalty_points\nA,10\n").unwrap();
    let file = file.display().to_string();
    expect_error(
        &strs(&prepare(&file, "gift")),
        &["column 'loyalty_points' (Loyalty Points) applies only to LOYALTY_PROGRAM campaigns"],
    );
}

#[test]
fn near_miss_of_a_known_column() {
    expect_error(
        &strs(&prepare("fixtures/errors/near_miss.csv", "gift")),
        &[
            "column 'Gift Amuont' is not a known import column: did you mean 'Gift Amount'?",
            "fix: rename the header to 'Gift Amount' (--rename 'Gift Amuont=Gift Amount'), or pass --metadata 'Gift Amuont'",
        ],
    );
    expect_error(
        &strs(&prepare("fixtures/errors/loyality.csv", "loyalty")),
        &["did you mean 'Loyalty Points'?"],
    );
}

#[test]
fn declared_metadata_imports_a_near_miss_as_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("categroy.csv");
    std::fs::write(&file, "Code,Categroy\nA,x\n").unwrap();
    let file = file.display().to_string();
    run(&[
        "prepare",
        &file,
        "--campaign-type",
        "gift",
        "--out",
        "{out}",
    ])
    .expect_code(2);
    let r = run(&[
        "prepare",
        &file,
        "--campaign-type",
        "gift",
        "--metadata",
        "Categroy",
        "--out",
        "{out}",
    ]);
    r.expect_code(0);
    let batch = std::fs::read_to_string(r.out().join("import/part-00001.csv")).unwrap();
    assert_eq!(batch, "Code,Categroy\r\nA,x\r\n");
}

#[test]
fn empty_file() {
    expect_error(
        &strs(&prepare("fixtures/errors/empty.csv", "gift")),
        &["fixtures/errors/empty.csv: the file is empty: there is no header line"],
    );
}

#[test]
fn empty_header_name() {
    expect_error(
        &strs(&prepare("fixtures/errors/empty_header.csv", "gift")),
        &[
            "column 2 has an empty header",
            "fix: give the column a name (--rename '#2=column_2'), or leave it out (--drop '#2')",
        ],
    );
}

#[test]
fn a_bad_file_among_good_ones_stops_the_run_before_any_output() {
    expect_error(
        &[
            "prepare",
            "fixtures/sample/gift_cards.csv",
            "fixtures/errors/no_code.csv",
            "--campaign-type",
            "gift",
            "--out",
            "{out}",
        ],
        &["fixtures/errors/no_code.csv: there is no Code column"],
    );
}

#[test]
fn missing_input_file() {
    expect_error(
        &[
            "prepare",
            "fixtures/nope.csv",
            "--campaign-type",
            "gift",
            "--out",
            "{out}",
        ],
        &["fixtures/nope.csv: No such file or directory"],
    );
}

#[test]
fn existing_codes_file_without_a_code_column() {
    expect_error(
        &["prepare", "fixtures/sample/gift_cards.csv", "--campaign-type", "gift", "--existing", "fixtures/errors/no_code.csv", "--out", "{out}"],
        &["fixtures/errors/no_code.csv: no 'code' column among the 2 columns of the existing-codes file (Voucher, Active)"],
    );
}

#[test]
fn unknown_campaign_type_suggests_one() {
    let r = expect_error(
        &[
            "prepare",
            "fixtures/sample/gift_cards.csv",
            "--campaign-type",
            "gfit",
            "--out",
            "{out}",
        ],
        &["unknown campaign type 'gfit': did you mean 'gift'?"],
    );
    assert!(r.stderr().contains("one of: discount (DISCOUNT_COUPONS)"));
}

#[test]
fn a_campaign_file_that_is_not_a_campaign() {
    expect_error(
        &[
            "prepare",
            "fixtures/sample/gift_cards.csv",
            "--campaign",
            "fixtures/sample/existing_codes.csv",
            "--out",
            "{out}",
        ],
        &[
            "fixtures/sample/existing_codes.csv: not a JSON campaign object",
            "fix: pass the JSON body that GET /v1/campaigns/{id} returns",
        ],
    );
}

#[test]
fn a_campaign_is_required() {
    expect_error(
        &[
            "prepare",
            "fixtures/sample/gift_cards.csv",
            "--out",
            "{out}",
        ],
        &["--campaign-type <TYPE>"],
    );
}

#[test]
fn a_non_empty_output_folder_is_refused_without_force() {
    let r = run(&[
        "prepare",
        "fixtures/multi/part_a.csv",
        "--campaign-type",
        "discount",
        "--out",
        "{out}",
    ]);
    r.expect_code(0);
    let out = r.out().display().to_string();
    let again = run(&[
        "prepare",
        "fixtures/multi/part_a.csv",
        "--campaign-type",
        "discount",
        "--out",
        &out,
    ]);
    again.expect_code(2);
    assert!(
        again
            .stderr()
            .contains("the output folder exists and is not empty"),
        "{}",
        again.describe()
    );
    assert!(again.stderr().contains("pass --force to replace it"));
    let forced = run(&[
        "prepare",
        "fixtures/multi/part_b.csv",
        "--campaign-type",
        "discount",
        "--force",
        "--out",
        &out,
    ]);
    forced.expect_code(0);
    let batch = std::fs::read_to_string(r.out().join("import/part-00001.csv")).unwrap();
    assert!(
        batch.starts_with("Code,Active,Region\r\n"),
        "replaced by the new run: {batch}"
    );
}

#[test]
fn metadata_schema_file_level_problems() {
    let dir = tempfile::tempdir().unwrap();
    let strict = dir.path().join("strict.json");
    std::fs::write(
        &strict,
        r#"{"related_object":"voucher","allow_defined_only":true,"properties":{"priority":{"type":"number"},"where":{"type":"geopoint"}}}"#,
    )
    .unwrap();
    let strict = strict.display().to_string();
    expect_error(
        &["check", "fixtures/schema/cards_with_metadata.csv", "--campaign-type", "discount", "--metadata-schema", &strict],
        &["the metadata schema allows defined properties only, and these columns are not defined: vip, tier, issued_on, tags, region", "fix: leave them out with --drop vip --drop tier"],
    );
    let dropped = run(&[
        "check",
        "fixtures/schema/cards_with_metadata.csv",
        "--campaign-type",
        "discount",
        "--metadata-schema",
        &strict,
        "--drop",
        "vip",
        "--drop",
        "tier",
        "--drop",
        "issued_on",
        "--drop",
        "tags",
        "--drop",
        "region",
    ]);
    dropped.expect_code(1);
    let required = dir.path().join("required.json");
    std::fs::write(
        &required,
        r#"{"related_object":"voucher","properties":{"store":{"type":"string","optional":false}}}"#,
    )
    .unwrap();
    let required = required.display().to_string();
    // Not a file-level error: the codes inherit the campaign's metadata.
    let inherited = run(&[
        "check",
        "fixtures/schema/cards_with_metadata.csv",
        "--campaign-type",
        "discount",
        "--metadata-schema",
        &required,
    ]);
    assert_ne!(inherited.code(), 2, "{}", inherited.describe());
    assert!(
        inherited
            .stdout()
            .contains("note: the metadata schema requires 'store', and no input has that column"),
        "{}",
        inherited.describe()
    );
    let geo = dir.path().join("geo.json");
    std::fs::write(
        &geo,
        r#"{"related_object":"voucher","properties":{"region":{"type":"geopoint"}}}"#,
    )
    .unwrap();
    let geo = geo.display().to_string();
    expect_error(
        &["check", "fixtures/schema/cards_with_metadata.csv", "--campaign-type", "discount", "--metadata-schema", &geo],
        &["metadata column 'region' is of type Geopoint in the metadata schema, which a CSV import cannot carry"],
    );
}

#[test]
fn a_json_metadata_key_that_cannot_be_a_column_name() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("keys.csv");
    std::fs::write(
        &file,
        "code,voucher_type,gift_balance,metadata\nK-1,GIFT_VOUCHER,100,\"{\"\"favourite colour\"\":\"\"blue\"\"}\"\n",
    )
    .unwrap();
    let file = file.display().to_string();
    expect_error(
        &["prepare", &file, "--campaign-type", "gift", "--out", "{out}"],
        &["the JSON metadata has the key 'favourite colour', which cannot be a metadata column name"],
    );
}

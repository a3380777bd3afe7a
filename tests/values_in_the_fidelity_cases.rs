//! The values the Fidelity II cases (`tests/cases/fidelity_*`, on the files in
//! `fixtures/fidelity/`) write, batch by batch and warning by warning: what their expected
//! outputs hold, said in words. `tests/values_voucherify_reads.rs` holds the targeted runs.

use std::fs;

use crate::util::run_case;

/// The rows of a batch of the run, as text.
fn batch(r: &crate::util::Run, number: u32) -> String {
    fs::read_to_string(r.out().join(format!("import/part-{number:05}.csv"))).unwrap()
}

#[test]
fn export_value_becomes_the_gift_amount_and_a_loyalty_card_is_the_wrong_type() {
    let r = run_case("fidelity_export_value_gift");
    assert_eq!(
        batch(&r, 1),
        "Code,Gift Amount\r\nGX-0001,5000\r\nGX-0002,1250\r\nGX-0003,\r\n"
    );
}

#[test]
fn export_value_becomes_loyalty_points_in_a_loyalty_campaign() {
    let r = run_case("fidelity_export_value_loyalty");
    assert_eq!(
        batch(&r, 1),
        "Code,Loyalty Points\r\nLX-0001,300\r\nLX-0002,1200\r\n"
    );
}

#[test]
fn the_documented_export_example_keeps_its_values_in_minor_units() {
    let r = run_case("fidelity_documented_export");
    assert_eq!(
        batch(&r, 1),
        "Code,Gift Amount\r\nDOC-GIFT-1,200000\r\nDOC-GIFT-2,1550\r\n"
    );
}

#[test]
fn the_standalone_import_template_is_refused() {
    let r = run_case("fidelity_standalone_template");
    r.expect_code(2);
    assert!(!r.out().exists(), "a refused file writes nothing");
    assert!(
        r.stderr().contains("POST /v1/vouchers/importCSV"),
        "{}",
        r.stderr()
    );
}

#[test]
fn a_promotion_campaign_object_is_refused() {
    let r = run_case("fidelity_promotion");
    r.expect_code(2);
    assert!(!r.out().exists(), "a refused run writes nothing");
}

#[test]
fn update_mode_imports_existing_codes_and_warns_what_is_ignored() {
    let r = run_case("fidelity_update_codes");
    let warnings = fs::read_to_string(r.out().join("warnings.csv")).unwrap();
    assert!(warnings.contains("update_ignores_fields"), "{warnings}");
}

#[test]
fn case_variants_are_warned_with_the_row_they_vary() {
    let r = run_case("fidelity_case_variants");
    let warnings = fs::read_to_string(r.out().join("warnings.csv")).unwrap();
    assert_eq!(
        warnings.matches("case_variant_code").count(),
        3,
        "{warnings}"
    );
}

#[test]
fn merged_files_with_different_columns_go_to_different_batches() {
    let r = run_case("fidelity_merged_groups");
    assert_eq!(
        batch(&r, 1),
        "Code,Active,Gift Amount\r\nM-1,true,100\r\nM-3,false,300\r\n"
    );
    assert_eq!(batch(&r, 2), "Code,Gift Amount\r\nM-2,200\r\nM-4,400\r\n");
}

#[test]
fn empty_boolean_cells_are_warned_without_a_schema() {
    let r = run_case("fidelity_booleans_without_schema");
    let warnings = fs::read_to_string(r.out().join("warnings.csv")).unwrap();
    // newsletter on rows 3 and 4; vip has no empty cell (null is not empty); tier is text.
    assert_eq!(
        warnings.matches("empty_in_boolean_column").count(),
        2,
        "{warnings}"
    );
    assert!(!warnings.contains("vip is empty"), "{warnings}");
}

#[test]
fn with_a_schema_empty_and_null_booleans_are_written_null_and_arrays_without_spaces() {
    let r = run_case("fidelity_booleans_with_schema");
    assert_eq!(
        batch(&r, 1),
        "Code,newsletter,tier,vip,tags\r\nB-1,true,gold,null,\"summer,promo\"\r\nB-2,false,,null,\r\nB-3,null,silver,true,winter\r\nB-4,null,gold,false,\"a,b\"\r\n"
    );
    assert!(
        !r.out().join("warnings.csv").exists() || {
            let w = fs::read_to_string(r.out().join("warnings.csv")).unwrap();
            !w.contains("empty_in_boolean_column")
        }
    );
}

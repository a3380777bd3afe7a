//! Fidelity to what Voucherify documents: values written so that Voucherify reads them as the
//! input meant them (issue "Fidelity II").

use std::fs;

use crate::util::run;

#[test]
fn major_amounts_are_written_in_whole_minor_units_never_as_decimals() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("major.csv");
    fs::write(
        &input,
        "Code,Gift Amount,Redeemed Amount\nM-1,100.50,0\nM-2,7,0.5\nM-3,1.234,0\nM-4,12,\n",
    )
    .unwrap();
    let r = run(&[
        "prepare",
        &input.display().to_string(),
        "--campaign-type",
        "gift",
        "--amount-unit",
        "major",
        "--out",
        "{out}",
    ]);
    r.expect_code(1);
    crate::util::assert_conserved(&r.out(), 4);
    let batch = fs::read_to_string(r.out().join("import/part-00001.csv")).unwrap();
    assert_eq!(
        batch, "Code,Gift Amount,Redeemed Amount\r\nM-1,10050,0\r\nM-2,700,50\r\nM-4,1200,\r\n",
        "{batch}"
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&fs::read(r.out().join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        summary["normalizations"]["amounts_converted"], 5,
        "{summary}"
    );
    assert_eq!(
        summary["rejected_by_rule"]["invalid_number"], 1,
        "{summary}"
    );
}

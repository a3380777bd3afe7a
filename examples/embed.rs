//! The engine as one step of a data pipeline: vouchers held as Arrow batches (here built in
//! memory; in a pipeline, a query's result or a DataFrame) go in, the rows Voucherify's import
//! takes and the rows it would refuse (with why) come out as Arrow batches, with no file
//! written.
//!
//! cargo run --example embed

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Date32Array, Decimal128Array, RecordBatch, StringArray};
use datafusion::arrow::util::pretty::pretty_format_batches;
use voucher_import::AmountUnit;
use voucher_import::ArrowSource;
use voucher_import::CampaignType;
use voucher_import::Import;
use voucher_import::MemorySink;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Gift cards as a warehouse holds them: amounts as decimals in euros, expiry as a date.
    let amounts = Decimal128Array::from(vec![Some(2500), Some(1000), Some(-500), Some(5000)])
        .with_precision_and_scale(10, 2)?;
    let cards = RecordBatch::try_from_iter([
        (
            "code",
            Arc::new(StringArray::from(vec![
                Some("XMAS-0001"),
                Some("XMAS-0002"),
                Some("XMAS-0003"),
                Some("XMAS-0001"),
            ])) as ArrayRef,
        ),
        ("gift_amount", Arc::new(amounts) as ArrayRef),
        (
            "expiration_date",
            // Days since 1970-01-01: 2026-12-31.
            Arc::new(Date32Array::from(vec![20818; 4])) as ArrayRef,
        ),
        (
            "store",
            Arc::new(StringArray::from(vec!["Berlin", "Paris", "Paris", "Rome"])) as ArrayRef,
        ),
    ])?;

    let mut sink = MemorySink::new();
    let summary = Import::new(CampaignType::GiftVouchers)
        // The codes the project holds already, from the pipeline's own lookup.
        .existing_codes(["XMAS-0002"])
        .amount_unit(AmountUnit::Major)
        .run_arrow(
            vec![ArrowSource::from_batch("warehouse.gift_cards", cards)],
            &mut sink,
        )?;

    println!("accepted, as the import batches carry them:");
    println!("{}", pretty_format_batches(&sink.accepted_by_group()?)?);
    println!("rejected, with the rule and the reason:");
    println!("{}", pretty_format_batches(&sink.rejected)?);
    println!(
        "{} rows: {} accepted, {} rejected",
        summary.input_rows, summary.accepted, summary.rejected
    );
    // What this example promises (CI runs it).
    assert_eq!((summary.accepted, summary.rejected), (1, 3));
    Ok(())
}

//! Voucherify's value forms in a pipeline's own DataFusion query: which dates Voucherify takes,
//! and amounts as minor units.
//!
//! cargo run --example datafusion_functions

use std::sync::Arc;

use datafusion::arrow::array::{Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::prelude::SessionContext;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ctx = SessionContext::new();
    voucher_import::register_functions(&ctx);
    let schema = Arc::new(Schema::new(vec![
        Field::new("code", DataType::Utf8, false),
        Field::new("expires", DataType::Utf8, true),
        Field::new("amount", DataType::Utf8, true),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec!["A-1", "A-2", "A-3"])),
            Arc::new(StringArray::from(vec![
                Some("2026-12-31"),
                Some("31/12/2026"),
                None,
            ])),
            Arc::new(StringArray::from(vec![
                Some("5000"),
                Some("12,50"),
                Some("07"),
            ])),
        ],
    )?;
    ctx.register_batch("cards", batch)?;
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    let batches = runtime.block_on(async {
        ctx.sql(
            "SELECT code, voucherify_datetime(expires) IS NOT NULL AS date_ok, \
                    amount_minor_units(amount) AS minor \
             FROM cards ORDER BY code",
        )
        .await?
        .collect()
        .await
    })?;
    println!("code  date_ok  minor");
    for batch in &batches {
        let codes = batch
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        let ok = batch.column(1);
        let minor = batch.column(2);
        for row in 0..batch.num_rows() {
            println!(
                "{:<5} {:<8} {}",
                codes.value(row),
                datafusion::arrow::util::display::array_value_to_string(ok, row)?,
                if minor.is_null(row) {
                    "NULL".to_owned()
                } else {
                    datafusion::arrow::util::display::array_value_to_string(minor, row)?
                }
            );
        }
    }
    Ok(())
}

//! Voucherify's value forms as DataFusion functions, for a pipeline's own queries: the same
//! functions the rules call.
//!
//! - `voucherify_datetime(text)`: milliseconds since the epoch (UTC) of a date or datetime in
//!   one of the forms Voucherify takes, NULL for any other text;
//! - `amount_minor_units(text)`: an amount as whole minor units, NULL when it is not one;
//! - `is_whole_number(text)`: whether the text is a non-negative whole number;
//! - `is_scientific_notation(text)`: whether the text is a number as a spreadsheet writes a long
//!   one (`1.23457E+12`).
//!
//! ```
//! use datafusion::execution::FunctionRegistry;
//! use datafusion::prelude::SessionContext;
//!
//! let ctx = SessionContext::new();
//! voucher_import::register_functions(&ctx);
//! assert!(ctx.udf("voucherify_datetime").is_ok());
//! assert!(ctx.udf("amount_minor_units").is_ok());
//! assert!(ctx.udf("is_whole_number").is_ok());
//! assert!(ctx.udf("is_scientific_notation").is_ok());
//! ```

use ::datafusion::prelude::SessionContext;

pub use crate::rules::functions::AmountUnit;

/// Registers the functions with amounts read in minor units (`10050` is 100.50).
pub fn register_functions(ctx: &SessionContext) {
    register_functions_for(ctx, AmountUnit::Minor);
}

/// Registers the functions with amounts read in `unit` (`AmountUnit::Major`: `100.50`).
pub fn register_functions_for(ctx: &SessionContext, unit: AmountUnit) {
    for function in crate::rules::functions::all(unit) {
        ctx.register_udf(function);
    }
}

//! Planning a rule query with DataFusion: its logical plan against the run's table, the
//! columns it reads, and its shape (a row rule's condition and reason, or a set rule), with a
//! plain message for a query that does not plan.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::SchemaError;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::optimizer::simplify_expressions::ExprSimplifier;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::prelude::SessionContext;

/// What a query is, by the shape of its plan.
pub(super) enum Shape {
    Row(Condition, Reason),
    Set,
}

pub(super) type Condition = Arc<dyn PhysicalExpr>;
pub(super) type Reason = Arc<dyn PhysicalExpr>;

/// The schema of the `existing_codes` table set rules can read.
pub(super) fn existing_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new("code", DataType::Utf8, false)]))
}

pub(super) fn plan(ctx: &SessionContext, sql: &str) -> Result<LogicalPlan, DataFusionError> {
    let state = ctx.state();
    let dialect = state.config().options().sql_parser.dialect;
    let statement = state.sql_to_statement(sql, &dialect)?;
    futures::executor::block_on(state.statement_to_plan(statement))
}

/// The `vouchers` columns a plan reads: those whose name any expression of the plan (or of its
/// subqueries) refers to, under any qualifier. Read off the plan as written, not optimized:
/// the optimizer's passes cost time quadratic in the table's width, and a header can have
/// 100,000 columns. A name shared with another table's column only adds a column to read.
pub(super) fn scanned_columns(
    plan: &LogicalPlan,
    vouchers: &Schema,
) -> Result<Vec<usize>, DataFusionError> {
    let mut names: HashSet<String> = HashSet::new();
    plan.apply_with_subqueries(|node| {
        node.apply_expressions(|expr| {
            names.extend(expr.column_refs().into_iter().map(|c| c.name.clone()));
            Ok(TreeNodeRecursion::Continue)
        })?;
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(vouchers
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| names.contains(f.name()))
        .map(|(i, _)| i)
        .collect())
}

/// A row rule is `SELECT <reason> FROM vouchers WHERE <condition>`; a set rule is any query
/// whose output has `file` and `row` columns.
pub(super) fn shape(ctx: &SessionContext, plan: &LogicalPlan) -> Result<Shape, DataFusionError> {
    let output = plan.schema();
    let has = |name: &str| output.fields().iter().any(|f| f.name() == name);
    if has("file") && has("row") {
        return Ok(Shape::Set);
    }
    let shape_error = || {
        DataFusionError::Plan(
            "a row rule has the form SELECT <message> AS reason FROM vouchers WHERE <condition>; \
             a set rule returns the file and row of each failing row (SELECT file, row, <message> AS reason FROM ...)"
                .to_owned(),
        )
    };
    let LogicalPlan::Projection(projection) = plan else {
        return Err(shape_error());
    };
    let LogicalPlan::Filter(filter) = projection.input.as_ref() else {
        return Err(shape_error());
    };
    let mut scan = filter.input.as_ref();
    while let LogicalPlan::SubqueryAlias(alias) = scan {
        scan = alias.input.as_ref();
    }
    if !matches!(scan, LogicalPlan::TableScan(_)) || projection.expr.len() != 1 {
        return Err(shape_error());
    }
    if projection.schema.field(0).name() != "reason" {
        return Err(DataFusionError::Plan(format!(
            "the query's one column must be named reason (write ... AS reason), not '{}'",
            projection.schema.field(0).name()
        )));
    }
    let state = ctx.state();
    let schema = filter.input.schema();
    // Simplify first: it folds constants and fixes now() to the run's start time.
    let simplifier = ExprSimplifier::new(
        SimplifyContext::builder()
            .with_schema(Arc::clone(schema))
            .with_config_options(Arc::clone(state.config_options()))
            .with_current_time()
            .build(),
    );
    let simplified = |expr: Expr| {
        simplifier
            .coerce(expr, schema)
            .and_then(|e| simplifier.simplify(e))
    };
    let condition = simplified(filter.predicate.clone())?;
    let reason = simplified(projection.expr[0].clone().unalias())?;
    let condition = state.create_physical_expr(condition, schema)?;
    let reason = state.create_physical_expr(reason, schema)?;
    Ok(Shape::Row(condition, reason))
}

/// The column a planning error says is missing, if that is the error.
pub(super) fn missing_column(error: &DataFusionError) -> Option<String> {
    match error.find_root() {
        DataFusionError::SchemaError(e, _) => match e.as_ref() {
            SchemaError::FieldNotFound { field, .. } => Some(field.name.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// The line (1-based, within the SQL) and message of a planning error.
pub(super) fn describe(error: &DataFusionError) -> (usize, String) {
    let line = error
        .diagnostic()
        .and_then(|d| d.span)
        .map_or(1, |span| span.start.line as usize);
    (line.max(1), error.find_root().strip_backtrace())
}

//! Everything that touches DataFusion: rule queries are planned once against the run's table
//! layout, and their `WHERE` condition and `reason` become physical expressions evaluated on
//! every chunk, in parallel, without materializing the input.

use std::sync::Arc;

use datafusion::arrow::array::{Array, BooleanArray, StringArray};
use datafusion::arrow::compute::{cast, filter_record_batch};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::MemTable;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::prelude::SessionContext;

use super::format::RuleBody;
use super::functions::{self, AmountUnit};
use super::{Rule, RuleSet};
use crate::error::{Error, Result};

/// A SQL row rule ready to run on batches.
#[derive(Debug)]
struct CompiledRule {
    /// Position of the rule in the [`RuleSet`].
    rule: usize,
    condition: Arc<dyn PhysicalExpr>,
    reason: Arc<dyn PhysicalExpr>,
}

/// A rule a row failed, with the message to show for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Position of the rule in the [`RuleSet`], which is also the order findings are listed in.
    pub rule: usize,
    pub reason: String,
}

/// The compiled SQL rules of one run.
#[derive(Debug)]
pub struct RuleEngine {
    rules: Vec<CompiledRule>,
}

impl RuleEngine {
    /// Plans every SQL rule of `rules` against the table `vouchers` with `schema`.
    pub fn compile(rules: &RuleSet, schema: SchemaRef, unit: AmountUnit) -> Result<Self> {
        let ctx = SessionContext::new();
        for function in functions::all(unit) {
            ctx.register_udf(function);
        }
        let table = MemTable::try_new(Arc::clone(&schema), vec![vec![]])?;
        ctx.register_table("vouchers", Arc::new(table))?;
        let mut compiled = Vec::new();
        for (index, rule) in rules.rules.iter().enumerate() {
            if let RuleBody::Sql { sql, first_line } = &rule.text.body {
                let (condition, reason) = compile_one(&ctx, sql).map_err(|e| {
                    let (line, message) = describe(&e);
                    Error::RuleFile {
                        path: rule.origin.clone(),
                        line: first_line + line.saturating_sub(1),
                        message,
                    }
                })?;
                compiled.push(CompiledRule {
                    rule: index,
                    condition,
                    reason,
                });
            }
        }
        Ok(RuleEngine { rules: compiled })
    }

    /// Evaluates every rule on a batch; returns, for each row, the rules it fails.
    /// `skip[i]` rows are not evaluated (their fields could not be placed in columns).
    pub fn evaluate(&self, batch: &RecordBatch, skip: &[bool]) -> Result<Vec<Vec<Finding>>> {
        let rows = batch.num_rows();
        let mut findings: Vec<Vec<Finding>> = vec![Vec::new(); rows];
        for rule in &self.rules {
            let verdict = rule.condition.evaluate(batch)?.into_array(rows)?;
            let verdict = verdict
                .as_any()
                .downcast_ref::<BooleanArray>()
                .ok_or_else(|| {
                    Error::Engine(format!(
                        "rule condition gives {} instead of a boolean",
                        verdict.data_type()
                    ))
                })?;
            // NULL means the condition could not be decided (a value is missing): not a failure.
            let failing: BooleanArray = (0..rows)
                .map(|i| Some(verdict.is_valid(i) && verdict.value(i) && !skip[i]))
                .collect();
            if failing.true_count() == 0 {
                continue;
            }
            let failed_rows = filter_record_batch(batch, &failing)?;
            let reasons = rule
                .reason
                .evaluate(&failed_rows)?
                .into_array(failed_rows.num_rows())?;
            let reasons = cast(&reasons, &DataType::Utf8)?;
            let reasons = reasons
                .as_any()
                .downcast_ref::<StringArray>()
                .expect("cast to Utf8 gives a StringArray");
            let mut next = 0;
            for (row, fails) in failing.values().iter().enumerate() {
                if fails {
                    let reason = if reasons.is_valid(next) {
                        reasons.value(next).to_owned()
                    } else {
                        String::new()
                    };
                    findings[row].push(Finding {
                        rule: rule.rule,
                        reason,
                    });
                    next += 1;
                }
            }
        }
        Ok(findings)
    }
}

type Condition = Arc<dyn PhysicalExpr>;
type Reason = Arc<dyn PhysicalExpr>;

fn compile_one(ctx: &SessionContext, sql: &str) -> Result<(Condition, Reason), DataFusionError> {
    let state = ctx.state();
    let dialect = state.config().options().sql_parser.dialect;
    let statement = state.sql_to_statement(sql, &dialect)?;
    let plan = futures::executor::block_on(state.statement_to_plan(statement))?;
    let shape_error = || {
        DataFusionError::Plan(
            "a row rule has the form SELECT <message> AS reason FROM vouchers WHERE <condition>"
                .to_owned(),
        )
    };
    let LogicalPlan::Projection(projection) = &plan else {
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
    let reason = projection.expr[0].clone().unalias();
    let condition = state.create_physical_expr(filter.predicate.clone(), filter.input.schema())?;
    let reason = state.create_physical_expr(reason, filter.input.schema())?;
    Ok((condition, reason))
}

/// The line (1-based, within the SQL) and message of a planning error.
fn describe(error: &DataFusionError) -> (usize, String) {
    let line = error
        .diagnostic()
        .and_then(|d| d.span)
        .map_or(1, |span| span.start.line as usize);
    (line.max(1), error.find_root().strip_backtrace())
}

impl Rule {
    /// True when the rule is a SQL row rule that the engine evaluates.
    pub fn is_sql(&self) -> bool {
        matches!(self.text.body, RuleBody::Sql { .. })
    }
}

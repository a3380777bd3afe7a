//! Everything that touches DataFusion: rule queries are planned once against the run's table
//! layout, and their `WHERE` condition and `reason` become physical expressions evaluated on
//! every chunk, in parallel, without materializing the input.

use std::sync::Arc;

use std::collections::HashMap;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, StringArray};
use datafusion::arrow::compute::{cast, filter_record_batch};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::MemTable;
use datafusion::error::DataFusionError;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::prelude::SessionContext;

use super::format::RuleBody;
use super::functions::{self, AmountUnit};
use super::planning::{
    describe, existing_schema, missing_column, plan, scanned_columns, shape, Shape,
};
use super::{RuleId, RuleSet};
use crate::error::{Error, Result};

/// A SQL row rule ready to run on batches.
#[derive(Debug)]
struct CompiledRule {
    /// Position of the rule in the [`RuleSet`].
    rule: RuleId,
    condition: Arc<dyn PhysicalExpr>,
    reason: Arc<dyn PhysicalExpr>,
}

/// A rule a row failed, with the message to show for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Position of the rule in the [`RuleSet`], which is also the order findings are listed in.
    pub rule: RuleId,
    /// The message for the row.
    pub reason: String,
    /// The rule could not be evaluated on the row (a cast of 'abc', a division by zero): the
    /// row is rejected (or warned) under the rule all the same, and counted in `rule_errors`.
    pub error: bool,
}

/// A set rule: a query over all rows that returns the `file` and `row` of the rows that fail.
#[derive(Debug)]
struct SetRule {
    rule: RuleId,
    sql: String,
    first_line: usize,
}

/// The compiled SQL rules of one run.
pub struct RuleEngine {
    rules: Vec<CompiledRule>,
    set_rules: Vec<SetRule>,
    /// Columns of the rule table that set rules read (the others are not kept in memory).
    set_columns: Vec<usize>,
    /// Rules skipped because the input lacks a column they read, with why.
    pub notes: Vec<String>,
    ctx: SessionContext,
}

impl std::fmt::Debug for RuleEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleEngine")
            .field("rules", &self.rules)
            .field("set_rules", &self.set_rules)
            .field("notes", &self.notes)
            .finish()
    }
}

impl RuleEngine {
    /// Plans every SQL rule of `rules` against the table `vouchers` with `schema`. `present`
    /// names the columns the input really has: a rule reading another one is skipped with a
    /// note (silently for built-ins), or stops the run if it `requires` the column.
    pub fn compile(
        rules: &RuleSet,
        schema: SchemaRef,
        present: &[String],
        unit: AmountUnit,
    ) -> Result<Self> {
        let ctx = SessionContext::new();
        for function in functions::all(unit) {
            ctx.register_udf(function);
        }
        let table = MemTable::try_new(Arc::clone(&schema), vec![vec![]])?;
        ctx.register_table("vouchers", Arc::new(table))?;
        let existing = MemTable::try_new(existing_schema(), vec![vec![]])?;
        ctx.register_table("existing_codes", Arc::new(existing))?;
        let mut engine = RuleEngine {
            rules: Vec::new(),
            set_rules: Vec::new(),
            set_columns: Vec::new(),
            notes: Vec::new(),
            ctx,
        };
        for (index, rule) in rules.ids().zip(&rules.rules) {
            let RuleBody::Sql { sql, first_line } = &rule.text.body else {
                continue;
            };
            let at = |line: usize, message: String| Error::RuleFile {
                path: rule.origin.clone(),
                line: first_line + line.saturating_sub(1),
                message,
            };
            for column in &rule.text.requires {
                if !present.iter().any(|p| p == column) {
                    return Err(Error::RuleFile {
                        path: rule.origin.clone(),
                        line: rule.text.requires_line,
                        message: format!(
                        "the rule requires column '{column}', which the input lacks (add the column, or --disable-rule {})",
                        rule.text.name
                        ),
                    });
                }
            }
            let planned = plan(&engine.ctx, sql);
            let plan = match planned {
                Ok(plan) => plan,
                Err(e) => {
                    if let (Some(missing), false) = (missing_column(&e), rule.builtin) {
                        engine.notes.push(format!(
                            "rule {} ({}) skipped: the input has no column '{missing}'",
                            rule.text.name, rule.origin
                        ));
                        continue;
                    }
                    let (line, message) = describe(&e);
                    return Err(at(line, message));
                }
            };
            let scanned = scanned_columns(&plan, &schema).map_err(|e| at(1, describe(&e).1))?;
            // Built-in rules are written for known columns that may be absent (NULL); a user's
            // rule that reads a column the input lacks is skipped with a note.
            let absent = scanned
                .iter()
                .map(|&c| schema.field(c).name())
                .find(|name| !present.contains(name));
            if let (Some(missing), false) = (absent, rule.builtin) {
                engine.notes.push(format!(
                    "rule {} ({}) skipped: the input has no column '{missing}'",
                    rule.text.name, rule.origin
                ));
                continue;
            }
            match shape(&engine.ctx, &plan).map_err(|e| {
                let (line, message) = describe(&e);
                at(line, message)
            })? {
                Shape::Row(condition, reason) => {
                    log::debug!("rule {} compiled: a row rule", rule.text.name);
                    engine.rules.push(CompiledRule {
                        rule: index,
                        condition,
                        reason,
                    })
                }
                Shape::Set => {
                    log::debug!("rule {} compiled: a set rule", rule.text.name);
                    for c in scanned {
                        if !engine.set_columns.contains(&c) {
                            engine.set_columns.push(c);
                        }
                    }
                    engine.set_rules.push(SetRule {
                        rule: index,
                        sql: sql.clone(),
                        first_line: *first_line,
                    });
                }
            }
        }
        engine.set_columns.sort_unstable();
        Ok(engine)
    }

    /// Row rules compiled.
    pub fn row_rules(&self) -> usize {
        self.rules.len()
    }

    /// Set rules compiled.
    pub fn set_rules(&self) -> usize {
        self.set_rules.len()
    }

    /// Whether a set rule is in force (the input must then be read twice).
    pub fn has_set_rules(&self) -> bool {
        !self.set_rules.is_empty()
    }

    /// The rule-table columns set rules read, plus `file` and `row`.
    pub fn set_columns(&self, schema: &SchemaRef) -> Vec<usize> {
        let file = schema.index_of("file").expect("the layout has file");
        let row = schema.index_of("row").expect("the layout has row");
        let mut columns = self.set_columns.clone();
        for c in [file, row] {
            if !columns.contains(&c) {
                columns.push(c);
            }
        }
        columns.sort_unstable();
        columns
    }

    /// Runs the set rules over the whole input (`batches`, projected to [`Self::set_columns`])
    /// and the existing codes; returns the findings by (input, row).
    pub fn run_set_rules(
        &self,
        batches: Vec<RecordBatch>,
        existing_codes: Vec<String>,
        rules: &RuleSet,
    ) -> Result<HashMap<(SetRowInput, i64), Vec<Finding>>> {
        let mut findings: HashMap<(SetRowInput, i64), Vec<Finding>> = HashMap::new();
        if self.set_rules.is_empty() {
            return Ok(findings);
        }
        let Some(first) = batches.first() else {
            return Ok(findings);
        };
        let ctx = self.ctx.clone();
        ctx.deregister_table("vouchers")?;
        ctx.register_table(
            "vouchers",
            Arc::new(MemTable::try_new(first.schema(), vec![batches])?),
        )?;
        let codes = RecordBatch::try_new(
            existing_schema(),
            vec![Arc::new(StringArray::from(existing_codes))],
        )?;
        ctx.deregister_table("existing_codes")?;
        ctx.register_table(
            "existing_codes",
            Arc::new(MemTable::try_new(existing_schema(), vec![vec![codes]])?),
        )?;
        // Executing a plan needs a Tokio runtime; one thread is enough for in-memory tables.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .map_err(Error::thread("query runtime"))?;
        for set in &self.set_rules {
            let rule = rules.rule(set.rule);
            let at = |e: DataFusionError| {
                let (line, message) = describe(&e);
                Error::RuleFile {
                    path: rule.origin.clone(),
                    line: set.first_line + line.saturating_sub(1),
                    message,
                }
            };
            let results = runtime
                .block_on(async { ctx.sql(&set.sql).await?.collect().await })
                .map_err(at)?;
            for batch in results {
                let file =
                    SetRowFiles::of(batch.column_by_name("file").expect("checked at planning"))?;
                let row = cast(
                    batch.column_by_name("row").expect("checked at planning"),
                    &DataType::Int64,
                )?;
                let reason = match batch.column_by_name("reason") {
                    Some(r) => Some(cast(r, &DataType::Utf8)?),
                    None => None,
                };
                let row = row.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
                for i in 0..batch.num_rows() {
                    if file.is_null(i) || row.is_null(i) {
                        continue;
                    }
                    let text = reason
                        .as_ref()
                        .map(|r| r.as_string::<i32>())
                        .filter(|r| r.is_valid(i))
                        .map(|r| r.value(i).to_owned())
                        .unwrap_or_default();
                    let entry = findings.entry((file.at(i), row.value(i))).or_default();
                    if !entry.iter().any(|f| f.rule == set.rule) {
                        entry.push(Finding {
                            error: false,
                            rule: set.rule,
                            reason: text,
                        });
                    }
                }
            }
        }
        Ok(findings)
    }

    /// Evaluates every rule on a batch; returns, for each row, the rules it fails.
    /// `skip[i]` rows are not evaluated (their fields could not be placed in columns).
    pub fn evaluate(&self, batch: &RecordBatch, skip: &[bool]) -> Result<Vec<Vec<Finding>>> {
        let rows = batch.num_rows();
        let mut findings: Vec<Vec<Finding>> = vec![Vec::new(); rows];
        for rule in &self.rules {
            if rule.evaluate(batch, skip, &mut findings).is_ok() {
                continue;
            }
            // The rule failed at run time on some row's data (a cast of 'abc', a division by
            // zero, a regex from a cell): evaluated again row by row, each row it fails on is
            // rejected under the rule with the error, and the others are judged as usual.
            for row in 0..rows {
                if skip[row] {
                    continue;
                }
                let mut one = vec![Vec::new()];
                match rule.evaluate(&batch.slice(row, 1), &[false], &mut one) {
                    Ok(()) => findings[row].append(&mut one[0]),
                    Err(e) => {
                        let why = match e {
                            Error::Engine(message) => message,
                            Error::DataFusion(e) => e.to_string(),
                            Error::Arrow(e) => e.to_string(),
                            other => other.to_string(),
                        };
                        let why = why.trim_start_matches("Arrow error: ");
                        findings[row].push(Finding {
                            rule: rule.rule,
                            reason: format!(
                                "the rule could not be evaluated on this row: {}",
                                crate::text::shorten(why, 300)
                            ),
                            error: true,
                        })
                    }
                }
            }
        }
        Ok(findings)
    }
}

impl CompiledRule {
    /// Evaluates the rule on a batch, adding a finding to `findings[row]` for each row that
    /// fails it. On error nothing is added.
    fn evaluate(
        &self,
        batch: &RecordBatch,
        skip: &[bool],
        findings: &mut [Vec<Finding>],
    ) -> Result<()> {
        let rows = batch.num_rows();
        let verdict = self.condition.evaluate(batch)?.into_array(rows)?;
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
            return Ok(());
        }
        let failed_rows = filter_record_batch(batch, &failing)?;
        let reasons = self
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
                    rule: self.rule,
                    reason,
                    error: false,
                });
                next += 1;
            }
        }
        Ok(())
    }
}

/// Which input a set rule's output row is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SetRowInput {
    /// The rule table's `file` column given back as it is: its key is the input.
    Input(u32),
    /// `file` given back as text (an expression of it): the input's name.
    Named(String),
}

/// A set rule's output column `file`, as the rule table's dictionary or as text.
enum SetRowFiles {
    Keys(datafusion::arrow::array::UInt32Array),
    Names(ArrayRef),
}

impl SetRowFiles {
    fn of(column: &ArrayRef) -> Result<Self> {
        if let DataType::Dictionary(key, _) = column.data_type() {
            if **key == DataType::UInt32 {
                let dictionary = column.as_dictionary::<datafusion::arrow::datatypes::UInt32Type>();
                return Ok(SetRowFiles::Keys(dictionary.keys().clone()));
            }
        }
        Ok(SetRowFiles::Names(cast(column, &DataType::Utf8)?))
    }

    fn is_null(&self, i: usize) -> bool {
        match self {
            SetRowFiles::Keys(keys) => keys.is_null(i),
            SetRowFiles::Names(names) => names.is_null(i),
        }
    }

    fn at(&self, i: usize) -> SetRowInput {
        match self {
            SetRowFiles::Keys(keys) => SetRowInput::Input(keys.value(i)),
            SetRowFiles::Names(names) => {
                SetRowInput::Named(names.as_string::<i32>().value(i).to_owned())
            }
        }
    }
}

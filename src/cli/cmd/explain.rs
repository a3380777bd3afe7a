//! `voucher-import explain RULE`: one rule in full, for the person who met it in a report: what
//! it checks, a failing row and the message it gets, and its SQL (or the stage that checks it).

use std::io::{self, Write};

use clap::Args;

use crate::{Error, Result};
use crate::{Rule, RuleSet};
use crate::{RuleBody, Severity};

/// Explain a rule: what it checks, an example of a failing row, and its SQL.
#[derive(Debug, Clone, Args)]
#[command(after_help = "Examples:
  voucher-import explain active_boolean
  voucher-import explain code_prefix --rules fixtures/rules/code_prefix.sql")]
pub struct ExplainArgs {
    /// The rule's name, as rejected.csv's `rules` column and `voucher-import rules --names`
    /// show it.
    #[arg(value_name = "RULE")]
    pub rule: String,

    /// A rule file to look in besides the built-in rules. Repeatable.
    #[arg(long = "rules", value_name = "FILE.sql")]
    pub rule_files: Vec<std::path::PathBuf>,
}

/// Finds the rule; an unknown name gets the closest known one.
pub fn run(args: &ExplainArgs) -> Result<Rule> {
    let rules = RuleSet::load(&args.rule_files, &[])?;
    let wanted = args.rule.trim();
    if let Some(rule) = rules.rules.iter().find(|r| r.text.name == wanted) {
        return Ok(rule.clone());
    }
    let names: Vec<&str> = rules.rules.iter().map(|r| r.text.name.as_str()).collect();
    let hint = match crate::closest(wanted, names.iter().copied()) {
        Some(near) => format!("did you mean '{near}'? "),
        None => String::new(),
    };
    Err(Error::usage(
        format!("there is no rule '{wanted}'"),
        format!(
            "{hint}the rules are: {} (add yours with --rules FILE.sql)",
            names.join(", ")
        ),
    ))
}

/// Writes the explanation.
pub fn write_explanation(w: &mut impl Write, rule: &Rule) -> io::Result<()> {
    let origin = if rule.builtin { "built-in" } else { "user" };
    let severity = match rule.text.severity {
        Severity::Reject => "rejects the row",
        Severity::Warn => "warns: the row goes in and is listed in warnings.csv",
    };
    writeln!(
        w,
        "{}  ({origin} rule, {}; {severity})",
        rule.text.name, rule.origin
    )?;
    writeln!(w)?;
    writeln!(w, "  {}", rule.text.description)?;
    if !rule.text.examples.is_empty() {
        writeln!(w)?;
        writeln!(w, "Example of a failing row:")?;
        for example in &rule.text.examples {
            writeln!(w, "  {example}")?;
        }
    }
    writeln!(w)?;
    match &rule.text.body {
        RuleBody::Sql { sql, .. } => {
            writeln!(
                w,
                "SQL (the rows it selects fail; `reason` is the message):"
            )?;
            for line in sql.trim_end().lines() {
                writeln!(w, "  {line}")?;
            }
        }
        RuleBody::Engine(stage) => {
            writeln!(
                w,
                "Checked by the {stage} stage while the rows stream through, not by SQL."
            )?;
        }
    }
    if !rule.text.requires.is_empty() {
        writeln!(w)?;
        writeln!(w, "Requires the columns: {}", rule.text.requires.join(", "))?;
    }
    Ok(())
}

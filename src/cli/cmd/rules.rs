//! `voucher-import rules`: the rules in force, with their descriptions and SQL.

use std::io::{self, Write};

use clap::Args;

use crate::Result;
use crate::RuleBody;
use crate::RuleSet;

/// List the rules in force: name, description, where it comes from, and its SQL.
#[derive(Debug, Clone, Args)]
#[command(after_help = "Examples:
  voucher-import rules
  voucher-import rules --rules fixtures/rules/code_prefix.sql --disable-rule over_campaign_limit")]
pub struct RulesArgs {
    /// Print only the rule names, one per line.
    #[arg(long)]
    pub names: bool,

    /// A rule file to list with the built-in rules. Repeatable.
    #[arg(long = "rules", value_name = "FILE.sql")]
    pub rule_files: Vec<std::path::PathBuf>,

    /// Leave a rule out of the listing, as `prepare --disable-rule` would. Repeatable.
    #[arg(long = "disable-rule", value_name = "NAME")]
    pub disabled_rules: Vec<String>,
}

/// Loads the rules in force.
pub fn run(args: &RulesArgs) -> Result<RuleSet> {
    RuleSet::load(&args.rule_files, &args.disabled_rules)
}

/// Writes the rule listing.
pub fn write_listing(w: &mut impl Write, rules: &RuleSet, names_only: bool) -> io::Result<()> {
    for (i, rule) in rules.rules.iter().enumerate() {
        if names_only {
            writeln!(w, "{}", rule.text.name)?;
            continue;
        }
        if i > 0 {
            writeln!(w)?;
        }
        let origin = if rule.builtin { "built-in" } else { "user" };
        let severity = match rule.text.severity {
            crate::Severity::Reject => "",
            crate::Severity::Warn => ", warn",
        };
        writeln!(
            w,
            "{}  ({origin}, {}{severity})",
            rule.text.name, rule.origin
        )?;
        writeln!(w, "  {}", rule.text.description)?;
        match &rule.text.body {
            RuleBody::Sql { sql, .. } => {
                for line in sql.trim_end().lines() {
                    writeln!(w, "    {line}")?;
                }
            }
            RuleBody::Engine(stage) => {
                writeln!(w, "    (checked by the {stage} stage, not by SQL)")?;
            }
        }
    }
    Ok(())
}

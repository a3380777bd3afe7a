//! `voucher-import rules`: the rules in force, with their descriptions and SQL.

use std::io::{self, Write};

use clap::Args;

use crate::error::Result;
use crate::rules::format::RuleBody;
use crate::rules::RuleSet;

/// List the rules in force: name, description, where it comes from, and its SQL.
#[derive(Debug, Clone, Args)]
#[command(after_help = "Examples:
  voucher-import rules
  voucher-import rules --names")]
pub struct RulesArgs {
    /// Print only the rule names, one per line.
    #[arg(long)]
    pub names: bool,
}

/// Loads the rules in force.
pub fn run(_args: &RulesArgs) -> Result<RuleSet> {
    RuleSet::builtin()
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
        writeln!(w, "{}  ({origin}, {})", rule.text.name, rule.origin)?;
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

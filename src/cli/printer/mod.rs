//! Everything the command line prints about an outcome, for people: `prepare`'s summary and
//! `check`'s table here, `upload`'s in [`upload`]; all of it through [`TerminalSafe`], which
//! keeps the input's control characters from driving the terminal.

pub mod import;
mod terminal;
pub mod upload;

use std::io::{self, Write};

use crate::{shorten, CheckReport, Summary};

pub use terminal::TerminalSafe;

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The short human summary `prepare` prints on stderr. `out_dir` is where the files went.
pub fn write_summary(w: &mut impl Write, s: &Summary, out_dir: Option<&str>) -> io::Result<()> {
    let files = plural(s.inputs.len() as u64, "file", "files");
    writeln!(w, "read      {:>10}  rows from {files}", s.input_rows)?;
    let place = |name: &str| {
        out_dir
            .map(|d| format!(" -> {d}/{name}"))
            .unwrap_or_default()
    };
    writeln!(
        w,
        "accepted  {:>10}  in {}{}",
        s.accepted,
        plural(s.batches.len() as u64, "batch", "batches"),
        place("import/")
    )?;
    writeln!(
        w,
        "rejected  {:>10}{}",
        s.rejected,
        place(crate::folder::REJECTED_FILE)
    )?;
    let rule_width = s
        .rejected_by_rule
        .0
        .iter()
        .filter(|(_, c)| *c > 0)
        .map(|(rule, _)| rule.len())
        .max()
        .unwrap_or(0)
        .max(22);
    for (rule, count) in s.rejected_by_rule.0.iter().filter(|(_, c)| *c > 0) {
        match s.first_rejected_by_rule.get(rule) {
            Some(example) => {
                let file = if s.inputs.len() > 1 {
                    format!("{} ", example.file)
                } else {
                    String::new()
                };
                writeln!(
                    w,
                    "  {rule:<rule_width$}{count:>8}  {file}row {}: {}",
                    example.row,
                    shorten(&example.reason, 100)
                )?
            }
            None => writeln!(w, "  {rule:<rule_width$}{count:>8}")?,
        }
    }
    for (rule, count) in &s.rule_errors.0 {
        writeln!(
            w,
            "warning: rule {rule} could not be evaluated on {}: they are listed under it with the error",
            plural(*count, "row", "rows")
        )?;
    }
    if s.warnings > 0 {
        writeln!(
            w,
            "warnings  {:>10}{}",
            s.warnings,
            place(crate::folder::WARNINGS_FILE)
        )?;
        for (rule, count) in s.warnings_by_rule.0.iter().filter(|(_, c)| *c > 0) {
            writeln!(w, "  {rule:<22}{count:>8}")?;
        }
    }
    for note in &s.notes {
        writeln!(w, "note: {note}")?;
    }
    let n = &s.normalizations;
    let amounts_written = match s.options.batch_amount_unit {
        crate::AmountUnit::Minor => (
            "amount written in minor units",
            "amounts written in minor units",
        ),
        crate::AmountUnit::Major => (
            "amount written in major units",
            "amounts written in major units",
        ),
    };
    // (count, said of one, said of several), in the order they are printed.
    let counted = [
        (n.trimmed_whitespace, ("value trimmed", "values trimmed")),
        (
            n.dates_reordered,
            (
                "date written in ISO form (--date-order)",
                "dates written in ISO form (--date-order)",
            ),
        ),
        (n.amounts_converted, amounts_written),
        (
            n.metadata_values_respelled,
            ("metadata value respelled", "metadata values respelled"),
        ),
        (
            n.active_lowercased,
            ("Active lowercased", "Active lowercased"),
        ),
        (
            n.headers_respelled,
            ("header respelled", "headers respelled"),
        ),
        (
            n.preamble_lines_skipped,
            (
                "line skipped above the header",
                "lines skipped above the header",
            ),
        ),
        (
            n.trailing_delimiter_columns,
            (
                "trailing delimiter column left out",
                "trailing delimiter columns left out",
            ),
        ),
        (
            n.blank_lines_skipped,
            ("blank line skipped", "blank lines skipped"),
        ),
    ];
    let changes: Vec<String> = counted
        .iter()
        .filter(|(count, _)| *count > 0)
        .map(|&(count, (one, many))| plural(count, one, many))
        .collect();
    if !changes.is_empty() {
        writeln!(w, "normalized: {}", changes.join(", "))?;
    }
    if s.formula_like_values > 0 {
        writeln!(
            w,
            "warning: {} in the batches start with = + - @ TAB or CR, which a spreadsheet runs as a formula; they go in as they are (rejected.csv shows such values with a ' in front)",
            plural(s.formula_like_values, "value", "values")
        )?;
    }
    if out_dir.is_some() && !s.batches.is_empty() {
        writeln!(w, "batches")?;
        for batch in s.batches.iter().take(SUMMARY_BATCHES) {
            writeln!(
                w,
                "  {}  {:>8} rows  {:>10} bytes  sha256 {}",
                batch.path,
                batch.rows,
                batch.bytes,
                &batch.sha256[..batch.sha256.len().min(12)]
            )?;
        }
        if s.batches.len() > SUMMARY_BATCHES {
            writeln!(
                w,
                "  ... and {} more (all in summary.json)",
                s.batches.len() - SUMMARY_BATCHES
            )?;
        }
        if let Some(rows) = s.options.canary_rows {
            writeln!(
                w,
                "canary: {} (at most {rows} rows) is posted alone and read back whole before the rest (--canary-rows N to size it, 0 for none)",
                s.batches[0].path
            )?;
        }
    }
    if s.column_groups.len() > 1 {
        writeln!(
            w,
            "column groups: the inputs have {} different column sets, and rows of different sets never share a batch",
            s.column_groups.len()
        )?;
        for (number, group) in (1..).zip(&s.column_groups) {
            let batches = match group.batches.as_slice() {
                [] => "no batch".to_owned(),
                [one] => one.clone(),
                [first, .., last] => format!("{first} .. {last} ({} batches)", group.batches.len()),
            };
            writeln!(
                w,
                "  {number}: {}  <- {}  -> {} in {batches}",
                group.columns.join(","),
                shorten(&group.inputs.join(", "), 120),
                plural(group.rows, "row", "rows"),
            )?;
        }
    }
    Ok(())
}

/// Batches the stderr summary lists by name; summary.json lists them all.
const SUMMARY_BATCHES: usize = 5;

/// Rejected rows the `check` table shows at most; `--json` lists them all.
pub const TABLE_ROWS: usize = 100;

/// The `check` report as a table: the summary, then the first [`TABLE_ROWS`] rejected rows.
pub fn write_check_table(w: &mut impl Write, report: &CheckReport) -> io::Result<()> {
    write_summary(w, &report.summary, None)?;
    if report.rejected_rows.is_empty() {
        return Ok(());
    }
    writeln!(w)?;
    let file_width = report
        .rejected_rows
        .iter()
        .map(|r| r.file.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    writeln!(
        w,
        "{:<file_width$}  {:>8}  {:>8}  {:<30}  reason",
        "file", "row", "line", "rules"
    )?;
    for r in report.rejected_rows.iter().take(TABLE_ROWS) {
        writeln!(
            w,
            "{:<file_width$}  {:>8}  {:>8}  {:<30}  {}",
            r.file,
            r.row,
            r.line,
            r.rules.join("|"),
            r.reason.replace(['\n', '\r'], " ")
        )?;
    }
    let hidden = report.rejected_rows.len().saturating_sub(TABLE_ROWS);
    if hidden > 0 {
        writeln!(
            w,
            "... and {hidden} more rejected rows: `prepare` writes them all to rejected.csv, `check --json` lists them all"
        )?;
    }
    Ok(())
}

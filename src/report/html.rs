//! `report.html`: one self-contained page (no scripts, no network, no external assets; it opens
//! from disk) for the colleague who fixes the rejected rows: the totals, a bar chart of
//! rejections per rule, each rule's description with example rows and the offending values
//! highlighted, the batches, and the campaign and options the run used.

use std::fmt::Write as _;
use std::io::{self, Write};

use crate::folder::summary::RuleExample;
use crate::folder::summary::Summary;
use crate::rules::RuleSet;

/// What the page is made of.
pub struct HtmlReport<'a> {
    /// What the run did.
    pub summary: &'a Summary,
    /// The rules in force (their descriptions are shown).
    pub rules: &'a RuleSet,
    /// Up to 20 example rows per rule name.
    pub examples: &'a [(String, Vec<RuleExample>)],
    /// The names of the example rows' fields (rejected.csv's original columns), then `raw`.
    pub columns: &'a [String],
}

const STYLE: &str = "
body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1d2430}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #d8dde6;padding-bottom:.3rem}
.muted{color:#5b6576}.totals{display:flex;gap:1rem;flex-wrap:wrap;margin:1.2rem 0}
.total{border:1px solid #d8dde6;border-radius:8px;padding:.7rem 1.1rem;min-width:8rem}
.total b{display:block;font-size:1.5rem}.accepted b{color:#16794a}.rejected b{color:#b42318}
.chart{display:grid;grid-template-columns:max-content 1fr max-content;gap:.35rem .8rem;align-items:center}
.bar{background:#e5484d;height:1.1rem;border-radius:3px;min-width:2px}
table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:13px;display:block;overflow-x:auto}
th,td{border:1px solid #d8dde6;padding:.25rem .45rem;text-align:left;vertical-align:top;white-space:pre-wrap}
th{background:#f3f5f8}td.num{text-align:right}mark{background:#ffe08a;padding:0 .1rem}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
pre{background:#f6f8fa;padding:.8rem;border-radius:6px;overflow-x:auto}
.warning{background:#fff4e5;border-left:4px solid #f79009;padding:.5rem .8rem}
";

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Whether an example's field is what its rule complained about: the reason names the column
/// (`Active 'yes' is not true/false`), or the field is the raw text of a record that could not
/// be split.
fn offending(reason: &str, column: &str, is_raw: bool) -> bool {
    if is_raw {
        return true;
    }
    !column.is_empty()
        && reason.match_indices(column).any(|(at, _)| {
            // The whole name, not part of another word.
            let before = reason[..at].chars().next_back();
            let after = reason[at + column.len()..].chars().next();
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
        })
}

/// Writes the page.
pub fn write_html(w: &mut impl Write, report: &HtmlReport<'_>) -> io::Result<()> {
    let s = report.summary;
    let mut page = String::with_capacity(64 * 1024);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>voucher-import report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
    );
    let inputs: Vec<String> = s.inputs.iter().map(|i| escape(&i.path)).collect();
    let _ = write!(
        page,
        "<h1>Voucher import report</h1>\n<p class=\"muted\">{} {} · campaign type {} · inputs: {}</p>\n",
        s.tool,
        s.version,
        escape(&s.campaign.campaign_type.to_string()),
        inputs.join(", ")
    );

    // Totals.
    page.push_str("<section id=\"totals\" class=\"totals\">\n");
    for (class, label, value) in [
        ("read", "rows read", s.input_rows),
        ("accepted", "accepted", s.accepted),
        ("rejected", "rejected", s.rejected),
        ("warned", "accepted with warnings", s.warnings),
    ] {
        let _ = writeln!(
            page,
            "<div class=\"total {class}\"><b data-total=\"{class}\">{value}</b>{label}</div>"
        );
    }
    page.push_str("</section>\n");
    if s.formula_like_values > 0 {
        let _ = writeln!(
            page,
            "<p class=\"warning\">{} values in the batches start with = + - @ TAB or CR. A \
             spreadsheet that opens a batch runs them as formulas; they go into Voucherify as \
             they are. Below and in rejected.csv such values are shown with a ' in front.</p>",
            s.formula_like_values
        );
    }

    // The chart.
    let fired: Vec<&(String, u64)> = s
        .rejected_by_rule
        .0
        .iter()
        .filter(|(_, n)| *n > 0)
        .collect();
    page.push_str("<h2>Rejections by rule</h2>\n");
    if fired.is_empty() {
        page.push_str("<p>No row was rejected.</p>\n");
    } else {
        let most = fired.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
        page.push_str("<div class=\"chart\" id=\"chart\">\n");
        for (rule, count) in &fired {
            let width = (*count as f64 / most as f64 * 100.0).max(0.5);
            let _ = writeln!(
                page,
                "<a href=\"#rule-{0}\"><code>{0}</code></a><div class=\"bar\" style=\"width:{width:.1}%\" \
                 title=\"{0}: {count}\"></div><span class=\"count\" data-rule=\"{0}\">{count}</span>",
                escape(rule)
            );
        }
        page.push_str("</div>\n");
    }

    // Each rule that fired, with examples.
    for (rule_name, count) in &fired {
        let description = report
            .rules
            .rules
            .iter()
            .find(|r| &r.text.name == rule_name)
            .map(|r| r.text.description.as_str())
            .unwrap_or("");
        let examples: &[RuleExample] = report
            .examples
            .iter()
            .find(|(name, _)| name == rule_name)
            .map_or(&[], |(_, e)| e.as_slice());
        let _ = write!(
            page,
            "<section class=\"rule\" id=\"rule-{0}\">\n<h2><code>{0}</code>: {1}</h2>\n<p>{2}</p>\n",
            escape(rule_name),
            if *count == 1 { "1 row".to_owned() } else { format!("{count} rows") },
            escape(description)
        );
        if examples.is_empty() {
            continue;
        }
        // The columns some example has a value in, or some reason names (an empty Code).
        let raw_column = report.columns.len().saturating_sub(1);
        let shown: Vec<usize> = (0..report.columns.len())
            .filter(|&c| {
                examples.iter().any(|e| {
                    e.fields.get(c).is_some_and(|v| !v.is_empty())
                        || (c != raw_column && offending(&e.reason, &report.columns[c], false))
                })
            })
            .collect();
        let lead = match (examples.len(), *count) {
            (1, 1) => "The row:".to_owned(),
            (n, total) if n as u64 == total => format!("All {n} of them:"),
            (n, _) => format!("The first {n} of them:"),
        };
        let _ = write!(
            page,
            "<p class=\"muted\">{lead}</p>\n<table class=\"examples\">\n<thead><tr><th>file</th><th>row</th><th>line</th><th>reason</th>"
        );
        for &c in &shown {
            let _ = write!(page, "<th>{}</th>", escape(&report.columns[c]));
        }
        page.push_str("</tr></thead>\n<tbody>\n");
        for example in examples {
            let line = if example.line == 0 {
                String::new()
            } else {
                example.line.to_string()
            };
            let _ = write!(
                page,
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td>",
                escape(&example.file),
                example.row,
                line,
                escape(&example.reason)
            );
            for &c in &shown {
                let value = example.fields.get(c).map_or("", String::as_str);
                let named = offending(&example.reason, &report.columns[c], c == raw_column);
                if named && value.is_empty() && c != raw_column {
                    page.push_str("<td><mark>(empty)</mark></td>");
                } else if named && !value.is_empty() {
                    let _ = write!(page, "<td><mark>{}</mark></td>", escape(value));
                } else {
                    let _ = write!(page, "<td>{}</td>", escape(value));
                }
            }
            page.push_str("</tr>\n");
        }
        page.push_str("</tbody>\n</table>\n</section>\n");
    }

    // Warnings of `warn` rules.
    let warned: Vec<&(String, u64)> = s
        .warnings_by_rule
        .0
        .iter()
        .filter(|(_, n)| *n > 0)
        .collect();
    if !warned.is_empty() {
        page.push_str("<h2>Accepted with warnings</h2>\n<ul>\n");
        for (rule, count) in warned {
            let _ = writeln!(
                page,
                "<li><code>{}</code>: {count} rows (listed in warnings.csv)</li>",
                escape(rule)
            );
        }
        page.push_str("</ul>\n");
    }

    // Batches.
    page.push_str("<h2>Batches</h2>\n");
    if s.batches.is_empty() {
        page.push_str("<p>No batch: no row was accepted.</p>\n");
    } else {
        file_table(
            &mut page,
            "batches",
            s.batches
                .iter()
                .map(|b| (b.path.as_str(), b.rows, b.bytes, b.sha256.as_str())),
        );
    }

    if s.column_groups.len() > 1 {
        page.push_str(
            "<h2>Column groups</h2>\n<p>The inputs have different column sets; rows of different \
             sets never share a batch.</p>\n<table id=\"column-groups\">\n<tr><th>columns</th>\
             <th>inputs</th><th>rows</th><th>batches</th></tr>\n",
        );
        for group in &s.column_groups {
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&group.columns.join(", ")),
                escape(&group.inputs.join(", ")),
                group.rows,
                escape(&group.batches.join(", "))
            );
        }
        page.push_str("</table>\n");
    }

    // Inputs, notes, campaign and options.
    page.push_str("<h2>Inputs</h2>\n");
    file_table(
        &mut page,
        "inputs",
        s.inputs
            .iter()
            .map(|i| (i.path.as_str(), i.rows, i.bytes, i.sha256.as_str())),
    );
    if !s.notes.is_empty() {
        page.push_str("<h2>Notes</h2>\n<ul>\n");
        for note in &s.notes {
            let _ = writeln!(page, "<li>{}</li>", escape(note));
        }
        page.push_str("</ul>\n");
    }
    let campaign = serde_json::to_string_pretty(&s.campaign).unwrap_or_default();
    let options = serde_json::to_string_pretty(&s.options).unwrap_or_default();
    let normalizations = serde_json::to_string_pretty(&s.normalizations).unwrap_or_default();
    let _ = write!(
        page,
        "<h2>Campaign and options</h2>\n<pre id=\"campaign\">{}</pre>\n<pre id=\"options\">{}</pre>\n\
         <h2>Normalizations</h2>\n<pre id=\"normalizations\">{}</pre>\n</body>\n</html>\n",
        escape(&campaign),
        escape(&options),
        escape(&normalizations)
    );
    w.write_all(page.as_bytes())
}

/// A table of files (batches or inputs): name, rows, bytes, sha256.
fn file_table<'a>(
    page: &mut String,
    id: &str,
    files: impl Iterator<Item = (&'a str, u64, u64, &'a str)>,
) {
    let _ = write!(
        page,
        "<table id=\"{id}\">\n<thead><tr><th>file</th><th>rows</th><th>bytes</th><th>sha256</th></tr></thead>\n<tbody>\n"
    );
    for (path, rows, bytes, sha256) in files {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td class=\"num\">{rows}</td><td class=\"num\">{bytes}</td><td><code>{}</code></td></tr>",
            escape(path),
            escape(sha256)
        );
    }
    page.push_str("</tbody>\n</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("<b a=\"1\">'x' & y</b>"),
            "&lt;b a=&quot;1&quot;&gt;&#39;x&#39; &amp; y&lt;/b&gt;"
        );
    }

    #[test]
    fn the_column_a_reason_names_is_the_offending_one() {
        let reason = "Active 'yes' is not true/false";
        assert!(offending(reason, "Active", false));
        assert!(!offending(reason, "Code", false));
        assert!(!offending("Inactive", "Active", false), "whole names only");
        assert!(offending("anything", "raw", true));
    }
}

//! The rule file format, shared by the built-in rules in `sql/` and the files users write.
//!
//! ```sql
//! -- rule: active_boolean
//! -- description: Active, when set, is true or false in any letter case.
//! SELECT 'Active ''' || "Active" || ''' is not true/false' AS reason
//! FROM vouchers
//! WHERE lower("Active") NOT IN ('true', 'false')
//! ```
//!
//! Header lines `-- key: value` come first: `rule` (the name, lowercase letters, digits and
//! `_`), `description` (one line), optionally `example` (a failing row and the message it gets,
//! shown by `voucher-import explain`; repeatable), `severity` (`reject` or `warn`), `requires` (the
//! columns without which the rule cannot run: comma-separated) and, for the few rules the
//! engine itself checks while reading or deduplicating, `checked-by` with no SQL after it.
//! Other `--` lines are comments. The SQL is one query over the table `vouchers`: the rows its
//! `WHERE` selects fail the rule, and its one output column `reason` is the message.

use datafusion::sql::sqlparser::ast::{Query, SetExpr, Statement};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;

use crate::error::{Error, Result};
use crate::suggest;

/// What a failing row's fate is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The row goes to the rejected report instead of a batch.
    Reject,
    /// The row is still imported; the finding goes to warnings.csv and the summary.
    Warn,
}

/// The stage of the engine that checks a rule which SQL cannot express row by row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckedBy {
    /// The reader, while it splits records into fields (or writes typed values as text).
    Reader,
    /// The dedup stage, which sees rows in input order with the codes accepted so far.
    Dedup,
    /// The in-order verdict (`run::finish`), which holds every accepted row's encoded size
    /// against the batch bound.
    Finish,
    /// The metadata schema check (`--metadata-schema`).
    Schema,
    /// Normalization, which decodes every field (UTF-8), spreads an export's JSON metadata
    /// into columns and reads its voucher type, and finds boolean-looking metadata columns.
    Normalize,
}

impl std::fmt::Display for CheckedBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CheckedBy::Reader => "reader",
            CheckedBy::Dedup => "dedup",
            CheckedBy::Finish => "finish",
            CheckedBy::Schema => "schema",
            CheckedBy::Normalize => "normalize",
        })
    }
}

/// What a rule file holds, before it is compiled against a run's columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleText {
    /// The rule's name (lowercase letters, digits, `_`).
    pub name: String,
    /// One line saying what the rule checks.
    pub description: String,
    /// A failing row and what the rule says of it (`-- example:` lines), for `explain`.
    pub examples: Vec<String>,
    /// What a failing row becomes.
    pub severity: Severity,
    /// Columns the rule needs; a missing one stops the run instead of skipping the rule.
    pub requires: Vec<String>,
    /// The line of the `requires` header, for messages.
    pub requires_line: usize,
    /// The SQL, or the stage that checks the rule.
    pub body: RuleBody,
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// What checks a rule.
pub enum RuleBody {
    /// A query over `vouchers`; `first_line` is the file line the SQL starts on.
    Sql {
        /// The query.
        sql: String,
        /// The line of the file the query starts on.
        first_line: usize,
    },
    /// Checked by the engine, not by SQL.
    Engine(CheckedBy),
}

const KEYS: [&str; 6] = [
    "rule",
    "description",
    "example",
    "severity",
    "checked-by",
    "requires",
];

/// Parses a rule file; `origin` names it in errors.
pub fn parse(origin: &str, text: &str) -> Result<RuleText> {
    let error = |line: usize, message: String| Error::RuleFile {
        path: origin.to_owned(),
        line,
        message,
    };
    let (mut name, mut description, mut severity, mut checked_by) = (None, None, None, None);
    let mut requires = Vec::new();
    let mut examples = Vec::new();
    let mut requires_line = 0;
    let mut sql_start = None;
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        let trimmed = line.trim();
        let Some(comment) = trimmed.strip_prefix("--") else {
            if !trimmed.is_empty() {
                sql_start = Some(index);
                break;
            }
            continue;
        };
        let Some((key, value)) = comment.split_once(':') else {
            continue;
        };
        let key = key.trim().to_ascii_lowercase();
        let value = value.trim().to_owned();
        if key.contains(char::is_whitespace) || key.is_empty() {
            continue; // a comment that happens to hold a colon
        }
        match key.as_str() {
            "rule" => name = Some((line_no, value)),
            "description" => description = Some(value),
            "example" => examples.push(value),
            "severity" => severity = Some((line_no, value)),
            "checked-by" => checked_by = Some((line_no, value)),
            "requires" => {
                requires_line = line_no;
                requires.extend(
                    value
                        .split(',')
                        .map(|c| c.trim().trim_matches('"').to_owned())
                        .filter(|c| !c.is_empty()),
                );
            }
            other => {
                if let Some(near) = suggest::closest(other, KEYS) {
                    return Err(error(
                        line_no,
                        format!("unknown header '{other}': did you mean '{near}'?"),
                    ));
                }
            }
        }
    }
    let Some((name_line, name)) = name else {
        return Err(error(
            1,
            "the rule has no '-- rule: NAME' header line".into(),
        ));
    };
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(error(
            name_line,
            format!("rule name '{name}' must be lowercase letters, digits and '_'"),
        ));
    }
    let description = match description {
        Some(d) if !d.is_empty() => d,
        _ => {
            return Err(error(
                name_line,
                "the rule has no '-- description: ...' header line".into(),
            ))
        }
    };
    let severity = match severity {
        None => Severity::Reject,
        Some((_, s)) if s.eq_ignore_ascii_case("reject") => Severity::Reject,
        Some((_, s)) if s.eq_ignore_ascii_case("warn") => Severity::Warn,
        Some((line, s)) => {
            return Err(error(
                line,
                format!("unknown severity '{s}' (known: reject, warn)"),
            ));
        }
    };
    let body = match (checked_by, sql_start) {
        (Some((line, _)), Some(_)) => {
            return Err(error(
                line,
                "a 'checked-by' rule has no SQL; remove one of them".into(),
            ));
        }
        (Some((line, stage)), None) => {
            RuleBody::Engine(match stage.as_str() {
                "reader" => CheckedBy::Reader,
                "dedup" => CheckedBy::Dedup,
                "finish" => CheckedBy::Finish,
                "schema" => CheckedBy::Schema,
                "normalize" => CheckedBy::Normalize,
                other => {
                    return Err(error(
                    line,
                    format!("unknown stage '{other}' (known: reader, dedup, writer, schema, normalize)"),
                ));
                }
            })
        }
        (None, None) => {
            return Err(error(
                text.lines().count().max(1),
                "the rule has no SQL: write SELECT <message> AS reason FROM vouchers WHERE <condition>".into(),
            ));
        }
        (None, Some(start)) => {
            let sql = text.lines().skip(start).collect::<Vec<_>>().join("\n");
            check_is_one_query(&sql).map_err(|(line, message)| error(start + line, message))?;
            RuleBody::Sql {
                sql,
                first_line: start + 1,
            }
        }
    };
    Ok(RuleText {
        name,
        description,
        examples,
        severity,
        requires,
        requires_line,
        body,
    })
}

/// Refuses anything but a single query (no DDL, DML, COPY, SET): rules may only read.
/// On error returns the line within `sql` (1-based) and the message.
fn check_is_one_query(sql: &str) -> Result<(), (usize, String)> {
    let statements = Parser::parse_sql(&GenericDialect {}, sql).map_err(|e| {
        let message = e.to_string();
        // Errors at the end of the input carry no position: point at the last line.
        let fallback = if message.contains("EOF") {
            sql.lines().count().max(1)
        } else {
            1
        };
        (
            line_in_parser_message(&message).unwrap_or(fallback),
            message,
        )
    })?;
    match statements.as_slice() {
        [Statement::Query(query)] if writes_a_table(query) => Err((
            line_of_word(sql, "into").unwrap_or(1),
            "a rule may only read: SELECT ... INTO creates a table".into(),
        )),
        [Statement::Query(_)] => Ok(()),
        [] => Err((1, "the rule has no SQL statement".into())),
        [other] => Err((
            1,
            format!(
                "a rule may only read: '{}' is not a query",
                other
                    .to_string()
                    .split_whitespace()
                    .take(3)
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        )),
        _ => Err((1, "a rule file holds exactly one query".into())),
    }
}

/// Whether a query, or any query inside it (set operations, parentheses, CTEs), is a
/// `SELECT ... INTO`, which creates a table.
fn writes_a_table(query: &Query) -> bool {
    fn body_writes(body: &SetExpr) -> bool {
        match body {
            SetExpr::Select(select) => select.into.is_some(),
            SetExpr::Query(query) => writes_a_table(query),
            SetExpr::SetOperation { left, right, .. } => body_writes(left) || body_writes(right),
            _ => false,
        }
    }
    body_writes(&query.body)
        || query
            .with
            .as_ref()
            .is_some_and(|with| with.cte_tables.iter().any(|cte| writes_a_table(&cte.query)))
}

/// The line (1-based) of the first line of `sql` holding `word` as a whole word, in any case.
fn line_of_word(sql: &str, word: &str) -> Option<usize> {
    sql.lines()
        .position(|line| {
            line.split(|c: char| !c.is_alphanumeric() && c != '_')
                .any(|w| w.eq_ignore_ascii_case(word))
        })
        .map(|i| i + 1)
}

/// sqlparser reports positions as "... at Line: 3, Column: 7".
fn line_in_parser_message(message: &str) -> Option<usize> {
    let rest = &message[message.find("Line: ")? + 6..];
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_rule_parses() {
        let text = "-- rule: code_required\n-- description: Every row needs a code.\n-- Plain comment: fine.\n\nSELECT 'Code is empty' AS reason\nFROM vouchers\nWHERE \"Code\" IS NULL;\n";
        let rule = parse("sql/code_required.sql", text).unwrap();
        assert_eq!(rule.name, "code_required");
        assert_eq!(rule.description, "Every row needs a code.");
        assert_eq!(rule.severity, Severity::Reject);
        match rule.body {
            RuleBody::Sql { sql, first_line } => {
                assert_eq!(first_line, 5);
                assert!(sql.starts_with("SELECT"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_engine_rule_parses() {
        let rule = parse(
            "x.sql",
            "-- rule: duplicate_code\n-- description: d\n-- checked-by: dedup\n",
        )
        .unwrap();
        assert_eq!(rule.body, RuleBody::Engine(CheckedBy::Dedup));
    }

    #[test]
    fn bad_rule_files_name_the_line() {
        let cases = [
            (
                "-- description: d\nSELECT 1 AS reason FROM vouchers WHERE true",
                "x.sql:1: the rule has no '-- rule: NAME'",
            ),
            (
                "-- rule: Bad-Name\n-- description: d\nSELECT 1",
                "x.sql:1: rule name 'Bad-Name'",
            ),
            (
                "-- rule: r\n-- descripton: d\nSELECT 1",
                "x.sql:2: unknown header 'descripton': did you mean 'description'?",
            ),
            ("-- rule: r\n-- description: d\n", "the rule has no SQL"),
            (
                "-- rule: r\n-- description: d\nDELETE FROM vouchers",
                "x.sql:3: a rule may only read: 'DELETE FROM vouchers' is not a query",
            ),
            (
                "-- rule: r\n-- description: d\n\nSELECT 1 AS reason\nFROM vouchers WHERE (",
                "x.sql:5: ",
            ),
            (
                "-- rule: r\n-- description: d\n-- severity: maybe\nSELECT 1",
                "x.sql:3: unknown severity 'maybe'",
            ),
        ];
        for (text, expected) in cases {
            let err = parse("x.sql", text).unwrap_err().to_string();
            assert!(
                err.starts_with(expected) || err.contains(expected),
                "{text:?}\n  got: {err}"
            );
        }
    }
}

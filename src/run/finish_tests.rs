//! The finisher alone, fed hand-made findings and a sink that keeps what it gets: which rows
//! go in, which are rejected or warned and under which rules, what dedup and the campaign limit
//! decide, what is counted, and that every row ends in exactly one place.

use std::collections::HashMap;

use datafusion::arrow::array::AsArray;

use datafusion::arrow::array::{RecordBatch, StringArray};

use super::*;
use crate::campaign::CampaignType;
use crate::dedup::{CodeHasher, Dedup};
use crate::folder::origins::OriginRun;
use crate::folder::summary::BatchInfo;
use crate::folder::updates::UpdateRow;
use crate::judge::{Judge, JudgeParts};
use crate::normalize::headers::HeaderOptions;
use crate::normalize::{headers, values};
use crate::read::Chunk;
use crate::rules::RuleId;
use crate::run::open::FileHeaders;
use crate::run::NoProgress;
use crate::sink::{ArrowRowsBuilder, JudgedChunk, MemorySink, RunStart, Sink, Wants};
use crate::write::arrow::{import_rows, import_schema};
use crate::write::batches::BatchPlan;
use crate::write::record::EncodedRows;

/// A sink that keeps the rows as [`MemorySink`] does, and the updates and origins besides.
#[derive(Debug, Default)]
pub(super) struct Kept {
    pub(super) memory: MemorySink,
    pub(super) updates: Vec<UpdateRow>,
    pub(super) origins: Vec<OriginRun>,
}

impl Sink for Kept {
    fn wants(&self) -> Wants {
        self.memory.wants()
    }

    fn begin(&mut self, run: &RunStart<'_>) -> Result<Vec<String>> {
        self.memory.begin(run)
    }

    fn chunk(&mut self, chunk: &JudgedChunk<'_>) -> Result<()> {
        self.updates.extend_from_slice(chunk.updates());
        self.origins.extend_from_slice(chunk.origins());
        self.memory.chunk(chunk)
    }

    fn finish(&mut self, summary: &crate::folder::summary::Summary) -> Result<()> {
        self.memory.finish(summary)
    }
}

impl std::ops::Deref for Kept {
    type Target = MemorySink;

    fn deref(&self) -> &MemorySink {
        &self.memory
    }
}

/// Closes the finisher's batches and gives them as the summary lists them.
pub(super) fn finish_batches(mut finisher: Finisher<'_>) -> Vec<BatchInfo> {
    finisher.close_batches().unwrap();
    finisher.plan.finish().unwrap()
}

/// One input with these columns, and the rules to judge it by.
pub(super) struct Table {
    rules: RuleSet,
    layout: TableLayout,
    groups: ColumnGroups,
    names: PerInput<String>,
    headers: FileHeaders,
}

impl Table {
    pub(super) fn new(header: &[&str]) -> Self {
        let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
        let roles = headers::classify_all(
            &header,
            CampaignType::GiftVouchers,
            &HeaderOptions::default(),
        )
        .expect("a valid header");
        let headers = PerInput::from_vec(vec![(header.clone(), roles)]);
        let layout = TableLayout::new(headers.as_slice());
        Table {
            rules: RuleSet::builtin().unwrap(),
            groups: layout.column_groups(),
            layout,
            names: PerInput::from_vec(vec!["in.csv".to_owned()]),
            headers,
        }
    }

    pub(super) fn rule(&self, name: &str) -> RuleId {
        self.rules.find(name).expect("a built-in rule")
    }

    /// Gives rule `name` this severity.
    pub(super) fn severity(mut self, name: &str, severity: Severity) -> Self {
        let at = self.rule(name);
        self.rules.rule_mut(at).text.severity = severity;
        self
    }

    pub(super) fn finisher<'a>(&'a self, sink: &'a mut Kept, dedup: Dedup) -> Finisher<'a> {
        self.finisher_with(sink, dedup, crate::config::DEFAULT_MAX_FILE_BYTES)
    }

    pub(super) fn finisher_with<'a>(
        &'a self,
        sink: &'a mut Kept,
        dedup: Dedup,
        max_file_bytes: u64,
    ) -> Finisher<'a> {
        self.finisher_judging(sink, dedup, max_file_bytes, false, HashMap::new())
    }

    /// A finisher whose judge takes codes in the project for updates (`updates_existing`) and
    /// has the set rules' findings `set_findings`.
    pub(super) fn finisher_judging<'a>(
        &'a self,
        sink: &'a mut Kept,
        dedup: Dedup,
        max_file_bytes: u64,
        updates_existing: bool,
        set_findings: HashMap<(InputId, i64), Vec<Finding>>,
    ) -> Finisher<'a> {
        let output = self.layout.output_columns();
        let group_headers: Vec<Vec<String>> = self
            .groups
            .columns
            .iter()
            .map(|g| g.iter().map(|&p| output[p].0.clone()).collect())
            .collect();
        let plan = BatchPlan::new(&group_headers, max_file_bytes, Some(3), None).unwrap();
        let judge = Judge::new(JudgeParts {
            rules: &self.rules,
            layout: &self.layout,
            file_names: &self.names,
            file_headers: &self.headers,
            dedup,
            existing_names: vec!["existing.csv".to_owned()],
            set_findings,
            max_record_bytes: crate::read::SplitOptions::default().max_record_bytes,
            updates_existing,
            batch_headers: plan.header_bytes(),
            max_file_bytes,
        })
        .unwrap();
        Finisher::new(
            &self.rules,
            &self.layout,
            &self.groups,
            &self.names,
            judge,
            plan,
            sink,
            Some(ArrowRowsBuilder::new(
                &self.layout.original_headers,
                crate::write::arrow::RowPlace::Source,
                &self.layout.kept,
            )),
            &NoProgress,
            Normalizations::default(),
        )
        .unwrap()
    }

    /// A chunk of `rows` (cells under the header), each with the findings given for it, as the
    /// workers would hand it over. Rows are numbered from `first_row`.
    pub(super) fn chunk(
        &self,
        hasher: &CodeHasher,
        first_row: u64,
        rows: &[&[&str]],
        findings: Vec<Vec<Finding>>,
    ) -> Evaluated {
        let mut chunk = Chunk::new(InputId::new(0));
        for (i, cells) in rows.iter().enumerate() {
            chunk.records.push(crate::read::Record {
                row: first_row + i as u64,
                line: first_row + i as u64 + 1,
                fields: csv::ByteRecord::from(cells.to_vec()),
                problem: None,
                raw: None,
            });
        }
        let mut normalizations = Normalizations::default();
        let batch = values::to_batch(&chunk, &self.layout, &mut normalizations).unwrap();
        let output = self.layout.output_columns();
        let group = &self.groups.columns[0];
        let columns: Vec<&StringArray> = group
            .iter()
            .map(|&p| batch.column(output[p].1).as_string::<i32>())
            .collect();
        let headers: Vec<String> = group.iter().map(|&p| output[p].0.clone()).collect();
        let codes = batch.column(KnownColumn::Code.index()).as_string::<i32>();
        let code_hashes = (0..codes.len())
            .map(|i| {
                if codes.is_valid(i) {
                    hasher.hash(codes.value(i))
                } else {
                    0
                }
            })
            .collect();
        let rows = chunk.records.len();
        Evaluated {
            encoded: EncodedRows::encode(&columns, &[]),
            import_rows: Some(import_rows(&import_schema(&headers), &columns, &[]).unwrap()),
            findings,
            normalizations,
            amounts_converted: vec![0; rows],
            dates_to_utc: vec![0; rows],
            dates_without_zone: vec![0; rows],
            metadata_respelled: vec![0; rows],
            dropped_cells: vec![0; self.layout.files[InputId::new(0)].dropped.len()],
            code_hashes,
            batch,
            chunk,
        }
    }
}

pub(super) fn finding(rule: RuleId, reason: &str) -> Finding {
    Finding {
        rule,
        reason: reason.to_owned(),
        error: false,
    }
}

pub(super) fn codes(batches: &[RecordBatch]) -> Vec<String> {
    batches
        .iter()
        .flat_map(|b| {
            let codes = b.column(0).as_string::<i32>();
            (0..codes.len())
                .map(|i| codes.value(i).to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// (row, rules, reason) of report rows.
pub(super) fn verdicts(batches: &[RecordBatch]) -> Vec<(u64, String, String)> {
    batches
        .iter()
        .flat_map(|b| {
            let rows = b
                .column(1)
                .as_primitive::<datafusion::arrow::datatypes::UInt64Type>();
            let rules = b.column(2).as_string::<i32>();
            let reasons = b.column(3).as_string::<i32>();
            (0..b.num_rows())
                .map(|i| {
                    (
                        rows.value(i),
                        rules.value(i).to_owned(),
                        reasons.value(i).to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

pub(super) fn dedup() -> Dedup {
    Dedup::new(false, u64::MAX, 0)
}

#[test]
fn rows_without_findings_go_into_batches_in_input_order() {
    let table = Table::new(&["Code", "Category"]);
    let mut sink = Kept::default();
    let dedup = dedup();
    let hasher = dedup.hasher();
    let mut finisher = table.finisher(&mut sink, dedup);
    let rows: &[&[&str]] = &[&["A", "x"], &["B", ""], &["C", "y"], &["D", "z"]];
    finisher
        .finish_chunk(table.chunk(&hasher, 1, rows, vec![Vec::new(); 4]))
        .unwrap();
    assert_eq!(
        (finisher.tally.accepted, finisher.tally.rejected_rows),
        (4, 0)
    );
    let batches = finish_batches(finisher);
    assert_eq!(
        batches.iter().map(|b| b.rows).collect::<Vec<_>>(),
        [3, 1],
        "batch_rows 3"
    );
    assert_eq!(sink.origins[0].row, 1);
    assert_eq!(codes(&sink.accepted), ["A", "B", "C", "D"]);
    assert!(sink.rejected.is_empty() && sink.warnings.is_empty());
}

#[test]
fn a_reject_finding_rejects_a_warn_finding_flags_and_both_reject_listing_only_the_reject() {
    let table = Table::new(&["Code", "Category"]).severity("active_boolean", Severity::Warn);
    let (reject, warn) = (table.rule("code_required"), table.rule("active_boolean"));
    let mut sink = Kept::default();
    let dedup = dedup();
    let hasher = dedup.hasher();
    let mut finisher = table.finisher(&mut sink, dedup);
    let rows: &[&[&str]] = &[&["A", ""], &["B", ""], &["C", ""]];
    let findings = vec![
        vec![finding(reject, "no")],
        vec![finding(warn, "hmm")],
        vec![finding(warn, "hmm"), finding(reject, "no")],
    ];
    finisher
        .finish_chunk(table.chunk(&hasher, 1, rows, findings))
        .unwrap();
    let tally = &finisher.tally;
    assert_eq!(
        (tally.accepted, tally.rejected_rows, tally.warned_rows),
        (1, 2, 1)
    );
    assert_eq!(tally.failures_by_rule[reject], 2);
    assert_eq!(
        tally.warnings_by_rule[warn], 1,
        "a warning on a rejected row is moot"
    );
    assert_eq!(
        verdicts(&sink.rejected),
        [
            (1, "code_required".into(), "no".into()),
            (3, "code_required".into(), "no".into())
        ]
    );
    assert_eq!(
        verdicts(&sink.warnings),
        [(2, "active_boolean".into(), "hmm".into())]
    );
    assert_eq!(codes(&sink.accepted), ["B"]);
}

#[test]
fn findings_are_listed_in_rule_order_once_per_rule_with_every_reason() {
    let table = Table::new(&["Code", "Gift Amount", "Redeemed Amount"]);
    let (first, second) = (table.rule("code_required"), table.rule("invalid_number"));
    assert!(first < second);
    let mut sink = Kept::default();
    let dedup = dedup();
    let hasher = dedup.hasher();
    let mut finisher = table.finisher(&mut sink, dedup);
    let findings = vec![vec![
        finding(second, "Gift Amount bad"),
        finding(first, ""),
        finding(second, "Redeemed Amount bad"),
    ]];
    finisher
        .finish_chunk(table.chunk(&hasher, 1, &[&["A", "x", "y"]], findings))
        .unwrap();
    assert_eq!(
        finisher.tally.failures_by_rule[second], 1,
        "counted once per row"
    );
    drop(finisher);
    let description = table.rules.rule(first).text.description.clone();
    assert_eq!(
        verdicts(&sink.rejected),
        [(
            1,
            "code_required|invalid_number".into(),
            format!("{description}; Gift Amount bad; Redeemed Amount bad")
        )],
        "an empty reason is the rule's description"
    );
}

#[test]
fn a_rule_that_could_not_be_evaluated_is_counted_once_per_row_whatever_the_verdict() {
    let table = Table::new(&["Code"]).severity("active_boolean", Severity::Warn);
    let (reject, warn) = (table.rule("invalid_number"), table.rule("active_boolean"));
    let mut sink = Kept::default();
    let dedup = dedup();
    let hasher = dedup.hasher();
    let mut finisher = table.finisher(&mut sink, dedup);
    let error = |rule: RuleId| Finding {
        rule,
        reason: "cast failed".into(),
        error: true,
    };
    let findings = vec![
        vec![error(reject), error(reject)],
        vec![error(warn)],
        vec![error(warn), finding(reject, "no")],
    ];
    finisher
        .finish_chunk(table.chunk(&hasher, 1, &[&["A"], &["B"], &["C"]], findings))
        .unwrap();
    let tally = &finisher.tally;
    assert_eq!(tally.errors_by_rule[reject], 1);
    assert_eq!(
        tally.errors_by_rule[warn], 2,
        "counted on the rejected row too"
    );
    assert_eq!((tally.accepted, tally.rejected_rows), (1, 2));
}

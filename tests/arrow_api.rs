//! The Arrow API ([`Import::run_arrow`]): Arrow batches in, accepted, rejected and warned rows
//! out as batches, with the same verdicts, values and summary as a folder run on the same data.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Int64Array, RecordBatch, RecordBatchIterator, StringArray,
    StructArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::error::ArrowError;
use voucher_import::ArrowSource;
use voucher_import::CampaignType;
use voucher_import::Cancel;
use voucher_import::Import;
use voucher_import::{BatchPiece, FolderSink, JudgedChunk, MemorySink, RunStart, Sink};

use crate::util::{csv_records, files_below, ROOT};

/// A CSV file as one batch of `Utf8` columns (an empty cell is null), as a DataFrame library
/// reading every column as text gives it.
fn csv_as_batch(path: &Path) -> RecordBatch {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let columns: Vec<(String, ArrayRef)> = header
        .iter()
        .enumerate()
        .map(|(c, name)| {
            let values: StringArray = records
                .iter()
                .map(|r| Some(&r[c]).filter(|v| !v.is_empty()))
                .collect();
            (name.clone(), Arc::new(values) as ArrayRef)
        })
        .collect();
    RecordBatch::try_from_iter(columns).unwrap()
}

/// The rows of batches as text (null as an empty cell), the schema's names first.
fn rows_of(batches: &[RecordBatch]) -> Vec<Vec<String>> {
    batches
        .iter()
        .flat_map(|b| {
            (0..b.num_rows()).map(move |i| {
                b.columns()
                    .iter()
                    .map(|c| {
                        let text = datafusion::arrow::compute::cast(c, &DataType::Utf8).unwrap();
                        let text = text.as_string::<i32>();
                        if text.is_null(i) {
                            String::new()
                        } else {
                            text.value(i).to_owned()
                        }
                    })
                    .collect()
            })
        })
        .collect()
}

/// The sample's rows that are whole records of valid UTF-8 (a DataFrame holds no others),
/// written as a CSV file of their own.
fn sample_as_clean_csv(dir: &Path) -> PathBuf {
    let bytes = std::fs::read(Path::new(ROOT).join("fixtures/sample/gift_cards.csv")).unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(bytes.as_slice());
    let header = reader.byte_headers().unwrap().clone();
    let path = dir.join("cards.csv");
    let mut out = csv::Writer::from_path(&path).unwrap();
    out.write_byte_record(&header).unwrap();
    for record in reader.byte_records().map(|r| r.unwrap()) {
        if record.len() == header.len() && std::str::from_utf8(record.as_slice()).is_ok() {
            out.write_byte_record(&record).unwrap();
        }
    }
    out.flush().unwrap();
    path
}

#[test]
fn arrow_rows_get_the_verdicts_values_and_summary_of_a_folder_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = sample_as_clean_csv(dir.path());
    let name = input.display().to_string();
    let import = Import::new(CampaignType::GiftVouchers).existing_codes(["OLD-0002"]);
    let folder = dir.path().join("out");
    let by_folder = import
        .run_files(std::slice::from_ref(&input), &folder)
        .unwrap();

    let mut sink = MemorySink::new();
    let batch = csv_as_batch(&input);
    let input_rows = batch.num_rows() as u64;
    let summary = import
        .run_arrow(vec![ArrowSource::from_batch(&name, batch)], &mut sink)
        .unwrap();

    assert_eq!(summary.input_rows, input_rows);
    assert_eq!(summary.accepted + summary.rejected, input_rows);
    assert_eq!(
        (summary.accepted, summary.rejected, summary.warnings),
        (by_folder.accepted, by_folder.rejected, by_folder.warnings)
    );
    assert_eq!(summary.rejected_by_rule, by_folder.rejected_by_rule);
    assert_eq!(summary.batches.len(), by_folder.batches.len());
    assert_eq!(MemorySink::rows(&sink.accepted) as u64, summary.accepted);
    assert_eq!(MemorySink::rows(&sink.rejected) as u64, summary.rejected);

    // Accepted: the batch file's header and values, cell for cell.
    let files = files_below(&folder);
    let batch_file = &files["import/part-00001.csv"];
    let header = csv::Reader::from_reader(batch_file.as_slice())
        .headers()
        .unwrap()
        .clone();
    let accepted = sink.accepted_by_group().unwrap();
    assert_eq!(accepted.len(), 1, "one input, one column group");
    let schema = accepted[0].schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, header.iter().collect::<Vec<_>>());
    assert_eq!(rows_of(&accepted), csv_records(batch_file));

    // Rejected: the same rows, rules and reasons as rejected.csv (whose columns are file,
    // row, line, rules, reason, the fields, raw).
    let from_file: Vec<Vec<String>> = csv_records(&files["rejected.csv"])
        .into_iter()
        .map(|r| vec![r[0].clone(), r[1].clone(), r[3].clone(), r[4].clone()])
        .collect();
    let from_sink: Vec<Vec<String>> = rows_of(&sink.rejected)
        .into_iter()
        .map(|r| r[..4].to_vec())
        .collect();
    assert_eq!(from_sink, from_file);
    let schema = sink.rejected[0].schema();
    let leading: Vec<&str> = schema
        .fields()
        .iter()
        .take(5)
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(leading, ["source", "row", "rules", "reason", "Code"]);
}

#[test]
fn typed_columns_are_written_as_the_parquet_path_writes_them() {
    let file = std::fs::File::open(Path::new(ROOT).join("fixtures/parquet/cards.parquet")).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut sink = MemorySink::new();
    let summary = Import::new(CampaignType::GiftVouchers)
        .run_arrow(vec![ArrowSource::from_reader("cards", reader)], &mut sink)
        .unwrap();
    assert_eq!((summary.accepted, summary.rejected), (2, 2));
    assert_eq!(
        rows_of(&sink.accepted),
        [
            [
                "PQ-1",
                "true",
                "5000",
                "12.50",
                "2024-10-04",
                "2023-11-14T22:13:20.123",
                "0.5"
            ],
            ["000123", "false", "0", "0.05", "1970-01-01", "", "0.001"],
        ]
    );
    let rejected = rows_of(&sink.rejected);
    assert_eq!(
        rejected[0][..4],
        ["cards", "3", "code_required", "Code is empty"]
    );
    assert_eq!(
        rejected[1][1], "4",
        "rows are 1-based positions in the source"
    );
    assert_eq!(
        rejected[1][6], "-5",
        "values are shown as read: no spreadsheet quote in Arrow"
    );
}

fn codes(name: &str, codes: &[&str]) -> ArrowSource {
    let batch = RecordBatch::try_from_iter([(
        "Code",
        Arc::new(StringArray::from(codes.to_vec())) as ArrayRef,
    )])
    .unwrap();
    ArrowSource::from_batch(name, batch)
}

#[test]
fn rows_are_numbered_within_each_source_and_duplicates_name_the_other_source() {
    let mut sink = MemorySink::new();
    let summary = Import::new(CampaignType::DiscountCoupons)
        .run_arrow(
            vec![codes("a", &["A1", "A2"]), codes("b", &["B1", "A2", "B3"])],
            &mut sink,
        )
        .unwrap();
    assert_eq!((summary.accepted, summary.rejected), (4, 1));
    let rejected = rows_of(&sink.rejected);
    assert_eq!(rejected[0][..3], ["b", "2", "duplicate_code"]);
    assert!(rejected[0][3].contains("row 2 of a"), "{}", rejected[0][3]);
    assert_eq!(summary.inputs[1].path, "b");
    assert_eq!(summary.inputs[1].rows, 3);
}

#[test]
fn sources_with_different_columns_give_one_accepted_layout_per_group() {
    let with_amount = RecordBatch::try_from_iter([
        ("Code", Arc::new(StringArray::from(vec!["G1"])) as ArrayRef),
        (
            "Gift Amount",
            Arc::new(Int64Array::from(vec![100])) as ArrayRef,
        ),
    ])
    .unwrap();
    let mut sink = MemorySink::new();
    let summary = Import::new(CampaignType::GiftVouchers)
        .run_arrow(
            vec![
                ArrowSource::from_batch("amounts", with_amount),
                codes("plain", &["G2"]),
            ],
            &mut sink,
        )
        .unwrap();
    assert_eq!(summary.column_groups.len(), 2);
    let groups = sink.accepted_by_group().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].schema().fields().len(), 2);
    assert_eq!(groups[1].schema().fields().len(), 1);
}

#[test]
fn a_folder_sink_writes_the_folder_a_file_run_writes() {
    let dir = tempfile::tempdir().unwrap();
    let input = sample_as_clean_csv(dir.path());
    let name = input.display().to_string();
    let import = Import::new(CampaignType::GiftVouchers);
    import
        .run_files(std::slice::from_ref(&input), dir.path().join("files"))
        .unwrap();
    let mut sink = FolderSink::new(dir.path().join("arrow"));
    import
        .run_arrow(
            vec![ArrowSource::from_batch(&name, csv_as_batch(&input))],
            &mut sink,
        )
        .unwrap();
    let files = files_below(&dir.path().join("files"));
    let arrow = files_below(&dir.path().join("arrow"));
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        arrow.keys().collect::<Vec<_>>()
    );
    for name in ["import/part-00001.csv", "origins.csv", "upload-plan.json"] {
        if let Some(from_files) = files.get(name) {
            assert_eq!(
                String::from_utf8_lossy(&arrow[name]),
                String::from_utf8_lossy(from_files),
                "{name}"
            );
        }
    }
    // rejected.csv: the same, but for the line column (an Arrow source has rows, no lines).
    let without_lines = |bytes: &[u8]| -> Vec<Vec<String>> {
        csv_records(bytes)
            .into_iter()
            .map(|mut r| {
                r[2].clear();
                r
            })
            .collect()
    };
    assert_eq!(
        without_lines(&arrow["rejected.csv"]),
        without_lines(&files["rejected.csv"])
    );
    let summary: serde_json::Value = serde_json::from_slice(&arrow["summary.json"]).unwrap();
    assert_eq!(summary["inputs"][0]["path"], name.as_str());
    let from_files: serde_json::Value = serde_json::from_slice(&files["summary.json"]).unwrap();
    for key in [
        "input_rows",
        "accepted",
        "rejected",
        "rejected_by_rule",
        "batches",
    ] {
        assert_eq!(summary[key], from_files[key], "{key}");
    }
}

#[test]
fn set_rules_read_batches_held_in_memory_twice_and_refuse_a_stream() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.sql");
    std::fs::write(
        &rules,
        "-- rule: one_code_per_prefix\n-- description: one code per two-letter prefix\n\
         SELECT file, row, 'prefix taken' AS reason FROM (\n\
           SELECT file, row, row_number() OVER (PARTITION BY substr(\"Code\", 1, 2) ORDER BY file, row) AS nth\n\
           FROM vouchers) AS numbered WHERE nth > 1\n",
    )
    .unwrap();
    let import = Import::new(CampaignType::DiscountCoupons).rule_file(&rules);
    let mut sink = MemorySink::new();
    let held = import.run_arrow(vec![codes("held", &["AA1", "AA2", "BB1"])], &mut sink);
    let summary = held.unwrap();
    assert_eq!(summary.rejected, 1);
    assert_eq!(
        rows_of(&sink.rejected)[0][..3],
        ["held", "2", "one_code_per_prefix"]
    );

    let batch = RecordBatch::try_from_iter([(
        "Code",
        Arc::new(StringArray::from(vec!["AA1"])) as ArrayRef,
    )])
    .unwrap();
    let schema = batch.schema();
    let stream = RecordBatchIterator::new([Ok::<_, ArrowError>(batch)], schema);
    let err = import
        .run_arrow(vec![ArrowSource::from_reader("live", stream)], &mut sink)
        .unwrap_err();
    assert!(err.to_string().contains("the Arrow stream 'live'"), "{err}");
}

#[test]
fn a_nested_column_and_sources_named_alike_are_refused() {
    let inner = StructArray::from(vec![(
        Arc::new(Field::new("x", DataType::Int64, true)),
        Arc::new(Int64Array::from(vec![1])) as ArrayRef,
    )]);
    let nested = RecordBatch::try_from_iter([
        ("Code", Arc::new(StringArray::from(vec!["N1"])) as ArrayRef),
        ("meta", Arc::new(inner) as ArrayRef),
    ])
    .unwrap();
    let import = Import::new(CampaignType::DiscountCoupons);
    let err = import
        .run_arrow(
            vec![ArrowSource::from_batch("nested", nested)],
            &mut MemorySink::new(),
        )
        .unwrap_err();
    assert!(err.to_string().contains("column 'meta' is nested"), "{err}");

    let err = import
        .run_arrow(
            vec![codes("x", &["A"]), codes("x", &["B"])],
            &mut MemorySink::new(),
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("two Arrow sources are named 'x'"),
        "{err}"
    );
}

#[test]
fn a_stream_that_fails_midway_is_an_input_error_naming_the_source() {
    let schema = Arc::new(Schema::new(vec![Field::new("Code", DataType::Utf8, true)]));
    let good = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(StringArray::from(vec!["A1"])) as ArrayRef],
    )
    .unwrap();
    let stream = RecordBatchIterator::new(
        [
            Ok(good),
            Err(ArrowError::IoError(
                "connection reset".into(),
                std::io::ErrorKind::ConnectionReset.into(),
            )),
        ],
        schema,
    );
    let err = Import::new(CampaignType::DiscountCoupons)
        .run_arrow(
            vec![ArrowSource::from_reader("remote", stream)],
            &mut MemorySink::new(),
        )
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("remote") && text.contains("connection reset"),
        "{text}"
    );
}

/// A sink that fails on its first rejected row.
struct FailingSink;

impl Sink for FailingSink {
    fn begin(&mut self, _: &RunStart<'_>) -> voucher_import::Result<Vec<String>> {
        Ok(Vec::new())
    }
    fn chunk(&mut self, chunk: &JudgedChunk<'_>) -> voucher_import::Result<()> {
        match chunk.rejected().is_empty() {
            true => Ok(()),
            false => Err(voucher_import::Error::usage(
                "the warehouse is full",
                "make room",
            )),
        }
    }
    fn finish(&mut self, _: &voucher_import::Summary) -> voucher_import::Result<()> {
        Ok(())
    }
}

/// A sink of our own: the batch files put together from the pieces, the rejected rows'
/// places, and the notes of begin and finish.
#[derive(Default)]
struct PiecesSink {
    files: std::collections::BTreeMap<String, Vec<u8>>,
    open: std::collections::HashMap<u32, String>,
    rejected: Vec<(String, u64, String)>,
    began: bool,
    finished_with: Option<u64>,
}

impl Sink for PiecesSink {
    fn begin(&mut self, run: &RunStart<'_>) -> voucher_import::Result<Vec<String>> {
        assert_eq!(run.file_names().len(), 1);
        self.began = true;
        Ok(vec!["the pieces sink was here".to_owned()])
    }
    fn chunk(&mut self, chunk: &JudgedChunk<'_>) -> voucher_import::Result<()> {
        assert!(self.began && self.finished_with.is_none());
        for piece in chunk.batch_pieces() {
            match piece {
                BatchPiece::Start { number, path } => {
                    self.open.insert(*number, path.clone());
                    self.files.insert(path.clone(), Vec::new());
                }
                BatchPiece::Bytes { number, bytes } => {
                    let path = &self.open[number];
                    self.files.get_mut(path).unwrap().extend_from_slice(bytes);
                }
                BatchPiece::Close { number } => {
                    self.open.remove(number).unwrap();
                }
            }
        }
        self.rejected.extend(
            chunk
                .rejected()
                .iter()
                .map(|r| (r.file().to_owned(), r.row(), r.rules().join("|"))),
        );
        Ok(())
    }
    fn finish(&mut self, summary: &voucher_import::Summary) -> voucher_import::Result<()> {
        self.finished_with = Some(summary.accepted);
        Ok(())
    }
}

#[test]
fn a_sink_of_ones_own_gets_the_batch_bytes_and_the_rejected_rows_of_a_folder_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = sample_as_clean_csv(dir.path());
    let import = Import::new(CampaignType::GiftVouchers).batch_rows(4);
    let folder = dir.path().join("out");
    let by_folder = import
        .run_files(std::slice::from_ref(&input), &folder)
        .unwrap();
    let mut sink = PiecesSink::default();
    let summary = import
        .run_files_into(std::slice::from_ref(&input), &mut sink)
        .unwrap();
    assert!(sink.open.is_empty(), "every batch is closed");
    assert_eq!(sink.finished_with, Some(summary.accepted));
    assert!(summary
        .notes
        .contains(&"the pieces sink was here".to_owned()));
    assert!(summary.batches.len() > 1);
    let files = files_below(&folder);
    for batch in &summary.batches {
        assert_eq!(
            sink.files[&batch.path], files[&batch.path],
            "{}",
            batch.path
        );
    }
    assert_eq!(sink.files.len(), summary.batches.len());
    assert_eq!(sink.rejected.len() as u64, by_folder.rejected);
    let rejected_csv = String::from_utf8(files["rejected.csv"].clone()).unwrap();
    for (_, row, rules) in &sink.rejected {
        assert!(
            rejected_csv.contains(&format!(",{row},")) && rejected_csv.contains(rules.as_str()),
            "row {row} ({rules}) is in rejected.csv"
        );
    }
}

#[test]
fn a_folder_and_memory_sink_pair_writes_the_folder_and_keeps_the_tables() {
    let dir = tempfile::tempdir().unwrap();
    let input = sample_as_clean_csv(dir.path());
    let import = Import::new(CampaignType::GiftVouchers);
    let by_folder = import
        .run_files(std::slice::from_ref(&input), dir.path().join("files"))
        .unwrap();
    let mut both = (FolderSink::new(dir.path().join("pair")), MemorySink::new());
    let summary = import
        .run_files_into(std::slice::from_ref(&input), &mut both)
        .unwrap();
    assert_eq!(MemorySink::rows(&both.1.accepted) as u64, summary.accepted);
    assert_eq!(MemorySink::rows(&both.1.rejected) as u64, summary.rejected);
    assert_eq!(summary.batches, by_folder.batches);
    let files = files_below(&dir.path().join("files"));
    let pair = files_below(&dir.path().join("pair"));
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        pair.keys().collect::<Vec<_>>()
    );
    for name in ["import/part-00001.csv", "rejected.csv", "origins.csv"] {
        assert_eq!(files[name], pair[name], "{name}");
    }
}

#[test]
fn a_folder_sink_whose_run_fails_leaves_nothing_once_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut both = (FolderSink::new(&out), FailingSink);
    let err = Import::new(CampaignType::DiscountCoupons)
        .run_arrow(vec![codes("a", &["A", "A"])], &mut both)
        .unwrap_err();
    assert!(err.to_string().contains("the warehouse is full"), "{err}");
    drop(both);
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "nothing is left behind: {left:?}");
}

#[test]
fn a_sink_error_stops_the_run_and_is_its_error() {
    let err = Import::new(CampaignType::DiscountCoupons)
        .run_arrow(vec![codes("a", &["A", "A"])], &mut FailingSink)
        .unwrap_err();
    assert!(err.to_string().contains("the warehouse is full"), "{err}");
}

#[test]
fn a_cancelled_arrow_run_stops_with_nothing_handed_out() {
    let cancel = Cancel::new();
    cancel.cancel();
    let mut sink = MemorySink::new();
    let err = Import::new(CampaignType::DiscountCoupons)
        .cancel(cancel)
        .run_arrow(vec![codes("a", &["A1"])], &mut sink)
        .unwrap_err();
    assert!(err.is_interruption(), "{err}");
    assert!(sink.accepted.is_empty());
}

#[test]
fn one_large_batch_reaches_the_sink_in_chunks_in_input_order() {
    let rows = 20_000;
    let codes: Vec<String> = (0..rows).map(|i| format!("C{i:06}")).collect();
    let batch = RecordBatch::try_from_iter([(
        "Code",
        Arc::new(StringArray::from(codes.clone())) as ArrayRef,
    )])
    .unwrap();
    let mut sink = MemorySink::new();
    let summary = Import::new(CampaignType::DiscountCoupons)
        .threads(2)
        .run_arrow(vec![ArrowSource::from_batch("big", batch)], &mut sink)
        .unwrap();
    assert_eq!(summary.accepted, rows as u64);
    assert!(
        sink.accepted.len() >= 3,
        "cut into chunks of at most 8,192 rows"
    );
    assert!(sink.accepted.iter().all(|b| b.num_rows() <= 8192));
    let got: Vec<String> = rows_of(&sink.accepted)
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(got, codes, "every row once, in input order");
}

#[test]
fn dictionary_large_and_view_strings_and_binary_are_read_as_text() {
    use datafusion::arrow::array::{
        BinaryArray, BooleanArray, DictionaryArray, LargeStringArray, StringViewArray,
    };
    use datafusion::arrow::datatypes::Int32Type;
    let category: DictionaryArray<Int32Type> = vec!["summer", "winter"].into_iter().collect();
    let batch = RecordBatch::try_from_iter([
        (
            "Code",
            Arc::new(StringViewArray::from(vec!["V-1", "V-2"])) as ArrayRef,
        ),
        ("Category", Arc::new(category) as ArrayRef),
        (
            "note",
            Arc::new(LargeStringArray::from(vec!["a, b", "line\nbreak"])) as ArrayRef,
        ),
        (
            "raw",
            Arc::new(BinaryArray::from(vec![&b"ok"[..], &b"\xff"[..]])) as ArrayRef,
        ),
        (
            "Active",
            Arc::new(BooleanArray::from(vec![true, false])) as ArrayRef,
        ),
    ])
    .unwrap();
    let mut sink = MemorySink::new();
    let summary = Import::new(CampaignType::DiscountCoupons)
        .run_arrow(vec![ArrowSource::from_batch("typed", batch)], &mut sink)
        .unwrap();
    assert_eq!((summary.accepted, summary.rejected), (1, 1));
    // Known columns in Voucherify's order (Code, Category, Active), metadata after.
    assert_eq!(
        rows_of(&sink.accepted),
        [["V-1", "summer", "true", "a, b", "ok"]]
    );
    let rejected = rows_of(&sink.rejected);
    assert_eq!(rejected[0][..3], ["typed", "2", "invalid_encoding"]);
    assert!(rejected[0][3].contains("raw"), "{:?}", rejected[0]);
}

#[test]
fn a_rule_given_as_text_judges_the_rows_and_a_broken_one_is_named_by_its_place() {
    let rule = "-- rule: code_prefix\n-- description: Codes start with GC-.\n\
                SELECT 'Code ' || \"Code\" || ' lacks GC-' AS reason FROM vouchers\n\
                WHERE NOT starts_with(\"Code\", 'GC-')\n";
    let mut sink = MemorySink::new();
    let summary = Import::new(CampaignType::DiscountCoupons)
        .rule_text(rule)
        .run_arrow(vec![codes("a", &["GC-1", "XX-2"])], &mut sink)
        .unwrap();
    assert_eq!((summary.accepted, summary.rejected), (1, 1));
    assert_eq!(
        rows_of(&sink.rejected)[0][2..4],
        ["code_prefix", "Code XX-2 lacks GC-"]
    );

    let err = Import::new(CampaignType::DiscountCoupons)
        .rule_text("-- rule: broken\n-- description: d\nSELECT nonsense FROM\n")
        .run_arrow(vec![codes("a", &["GC-1"])], &mut MemorySink::new())
        .unwrap_err();
    assert!(err.to_string().starts_with("rule text 1:"), "{err}");
}

#[test]
fn a_file_run_into_a_sink_gives_rejected_csv_columns_lines_and_raw_records() {
    let import = Import::new(CampaignType::GiftVouchers)
        .existing_file(Path::new(ROOT).join("fixtures/sample/existing_codes.csv"));
    let sample = Path::new(ROOT).join("fixtures/sample/gift_cards.csv");
    let mut sink = MemorySink::new();
    let summary = import
        .run_files_into(std::slice::from_ref(&sample), &mut sink)
        .unwrap();
    assert_eq!((summary.accepted, summary.rejected), (10, 12));
    assert_eq!(MemorySink::rows(&sink.accepted), 10);
    let schema = sink
        .report_schema
        .clone()
        .expect("the report layout comes first");
    let golden_file = std::fs::read(
        Path::new(ROOT).join("tests/cases/sample_gift_cards/expected/out/rejected.csv"),
    )
    .unwrap();
    let header = String::from_utf8_lossy(&golden_file)
        .lines()
        .next()
        .unwrap()
        .to_owned();
    let golden = csv_records(&golden_file);
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    assert_eq!(names.join(","), header, "rejected.csv's columns, raw last");
    // The same rows, lines and reasons; a record that could not be split has its text in raw
    // and no field, as in rejected.csv (whose paths are relative: compare from `row` on).
    let rows = rows_of(&sink.rejected);
    assert_eq!(rows.len(), golden.len());
    for (row, want) in rows.iter().zip(&golden) {
        assert_eq!(row[0], sample.display().to_string());
        for (got, want) in row[1..].iter().zip(&want[1..]) {
            let got = &got.replace(&format!("{ROOT}/"), "");
            assert!(
                got == want || format!("'{got}") == *want,
                "{got:?} != {want:?} in {row:?}"
            );
        }
    }
    let malformed = rows.iter().find(|r| r[3] == "malformed_record").unwrap();
    assert!(!malformed.last().unwrap().is_empty(), "{malformed:?}");

    // A run without a rejected row still tells the sink its report layout.
    let clean = tempfile::tempdir().unwrap();
    let path = clean.path().join("clean.csv");
    std::fs::write(&path, "Code,Gift Amount\nGC-1,100\n").unwrap();
    let mut sink = MemorySink::new();
    let summary = Import::new(CampaignType::GiftVouchers)
        .run_files_into(&[path], &mut sink)
        .unwrap();
    assert_eq!((summary.accepted, summary.rejected), (1, 0));
    let names: Vec<String> = sink
        .report_schema
        .unwrap()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        names,
        [
            "file",
            "row",
            "line",
            "rules",
            "reason",
            "Code",
            "Gift Amount",
            "raw"
        ]
    );
}

#[test]
fn zoned_timestamps_are_written_as_the_same_instants_in_utc() {
    use datafusion::arrow::array::TimestampMillisecondArray;
    let start = TimestampMillisecondArray::from(vec![
        Some(1_767_258_000_000), // 2026-01-01T09:00:00Z
        Some(1_767_258_000_250),
        None,
    ])
    .with_timezone("+01:00");
    let batch = RecordBatch::try_from_iter([
        (
            "Code",
            Arc::new(StringArray::from(vec!["Z-1", "Z-2", "Z-3"])) as ArrayRef,
        ),
        ("Start Date", Arc::new(start) as ArrayRef),
    ])
    .unwrap();
    let mut sink = MemorySink::new();
    let summary = Import::new(CampaignType::DiscountCoupons)
        .run_arrow(vec![ArrowSource::from_batch("zoned", batch)], &mut sink)
        .unwrap();
    // Rendered in their zone (`+01:00`) they used to be rejected as invalid dates.
    assert_eq!((summary.accepted, summary.rejected), (3, 0));
    let rows = rows_of(&sink.accepted);
    assert_eq!(rows[0], ["Z-1", "2026-01-01T09:00:00Z"]);
    assert_eq!(rows[1], ["Z-2", "2026-01-01T09:00:00.250Z"]);
    assert_eq!(rows[2], ["Z-3", ""]);
}

/// What a lossy reader (`encoding_errors="replace"`) makes of bytes that are not UTF-8: a
/// table run rejects the value as `invalid_encoding`, as a file run rejects the bytes.
#[test]
fn a_value_holding_the_replacement_character_is_rejected_as_invalid_encoding() {
    let mut sink = MemorySink::new();
    let summary = Import::new(CampaignType::DiscountCoupons)
        .run_arrow(
            vec![codes("lossy", &["GOOD-1", "BAD-\u{FFFD}", "GOOD-2"])],
            &mut sink,
        )
        .unwrap();
    assert_eq!((summary.accepted, summary.rejected), (2, 1));
    assert_eq!(summary.rejected_by_rule.get("invalid_encoding"), Some(1));
}

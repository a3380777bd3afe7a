//! Parquet input: typed columns come out as faithful text; nested columns and broken files are
//! file-level errors. The fixtures in `fixtures/parquet/` are written by these tests with the
//! `parquet` crate when they are missing (delete one to regenerate it).

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int64Array, ListArray,
    StringArray, TimestampMillisecondArray,
};
use datafusion::arrow::datatypes::Int32Type;
use datafusion::arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;

use crate::util::{assert_conserved, expect_error, run, ROOT};

type Columns = Vec<(&'static str, ArrayRef)>;

/// The fixture `fixtures/parquet/<name>`, written from `columns` if it does not exist yet.
fn fixture(name: &str, columns: impl FnOnce() -> Columns) -> String {
    let relative = format!("fixtures/parquet/{name}");
    let path = Path::new(ROOT).join(&relative);
    if !path.exists() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        write_parquet(&path, columns());
    }
    relative
}

fn write_parquet(path: &Path, columns: Columns) {
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let mut writer =
        ArrowWriter::try_new(File::create(path).unwrap(), batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

fn typed_columns() -> Columns {
    let price = Decimal128Array::from(vec![Some(1250), Some(5), None, Some(100)])
        .with_precision_and_scale(10, 2)
        .unwrap();
    vec![
        (
            "code",
            Arc::new(StringArray::from(vec![
                Some("PQ-1"),
                Some("000123"),
                None,
                Some("PQ-4"),
            ])),
        ),
        (
            "active",
            Arc::new(BooleanArray::from(vec![
                Some(true),
                Some(false),
                Some(true),
                None,
            ])),
        ),
        (
            "gift_amount",
            Arc::new(Int64Array::from(vec![
                Some(5000),
                Some(0),
                Some(100),
                Some(-5),
            ])),
        ),
        ("price", Arc::new(price)),
        (
            "issued_on",
            Arc::new(Date32Array::from(vec![
                Some(20_000),
                Some(0),
                None,
                Some(20_454),
            ])),
        ),
        (
            "issued_at",
            Arc::new(TimestampMillisecondArray::from(vec![
                Some(1_700_000_000_123),
                None,
                None,
                Some(0),
            ])),
        ),
        (
            "ratio",
            Arc::new(Float64Array::from(vec![
                Some(0.5),
                Some(1e-3),
                None,
                Some(2.0),
            ])),
        ),
    ]
}

#[test]
fn typed_columns_become_faithful_text() {
    let input = fixture("cards.parquet", typed_columns);
    let r = run(&[
        "prepare",
        &input,
        "--campaign-type",
        "gift",
        "--out",
        "{out}",
    ]);
    r.expect_code(1);
    assert_conserved(&r.out(), 4);
    let batch = std::fs::read_to_string(r.out().join("import/part-00001.csv")).unwrap();
    assert_eq!(
        batch,
        "Code,Active,Gift Amount,price,issued_on,issued_at,ratio\r\n\
         PQ-1,true,5000,12.50,2024-10-04,2023-11-14T22:13:20.123,0.5\r\n\
         000123,false,0,0.05,1970-01-01,,0.001\r\n"
    );
    let rejected = std::fs::read_to_string(r.out().join("rejected.csv")).unwrap();
    assert!(
        rejected.contains(",3,,code_required,Code is empty,"),
        "no line for Parquet rows: {rejected}"
    );
    assert!(
        // '-5: a value a spreadsheet would read as a formula is shown with a ' in front.
        rejected.contains(",4,,invalid_number,Gift Amount '-5' is not an amount,PQ-4,,'-5,1.00,2026-01-01,1970-01-01T00:00:00,2.0"),
        "{rejected}"
    );
}

#[test]
fn nested_columns_are_a_file_level_error() {
    let input = fixture("nested.parquet", || {
        let tags =
            ListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(vec![Some(1), Some(2)])]);
        vec![
            ("Code", Arc::new(StringArray::from(vec!["N-1"])) as ArrayRef),
            ("tags", Arc::new(tags)),
        ]
    });
    expect_error(
        &[
            "prepare",
            &input,
            "--campaign-type",
            "gift",
            "--out",
            "{out}",
        ],
        &[
            "column 'tags' is nested (List",
            "fix: select or flatten the column",
        ],
    );
}

#[test]
fn a_parquet_file_with_a_bad_footer_is_a_file_level_error() {
    let relative = "fixtures/parquet/bad_footer.parquet";
    let path = Path::new(ROOT).join(relative);
    if !path.exists() {
        let dir = tempfile::tempdir().unwrap();
        let whole = dir.path().join("whole.parquet");
        write_parquet(
            &whole,
            vec![(
                "Code",
                Arc::new(StringArray::from(vec!["C-1", "C-2"])) as ArrayRef,
            )],
        );
        let bytes = std::fs::read(&whole).unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
    }
    expect_error(
        &[
            "prepare",
            relative,
            "--campaign-type",
            "gift",
            "--out",
            "{out}",
        ],
        &["bad_footer.parquet: not a readable Parquet file"],
    );
}

#[test]
fn format_parquet_reads_a_file_of_any_name_and_stdin_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.bin");
    write_parquet(
        &path,
        vec![("Code", Arc::new(StringArray::from(vec!["F-1"])) as ArrayRef)],
    );
    let input = path.display().to_string();
    let r = run(&[
        "prepare",
        &input,
        "--format",
        "parquet",
        "--campaign-type",
        "gift",
        "--out",
        "{out}",
    ]);
    r.expect_code(0);
    let batch = std::fs::read_to_string(r.out().join("import/part-00001.csv")).unwrap();
    assert_eq!(batch, "Code\r\nF-1\r\n");
    let stdin = run(&[
        "check",
        "-",
        "--format",
        "parquet",
        "--campaign-type",
        "gift",
    ]);
    stdin.expect_code(2);
    assert!(
        stdin.stderr().contains("Parquet cannot be read from stdin"),
        "{}",
        stdin.describe()
    );
}

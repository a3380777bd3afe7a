//! The reader's unit tests: records, rows and lines, broken records, chunk budgets, encodings.

#[test]
fn chunks_of_large_records_stay_within_the_byte_budget() {
    // 300 records of about 100 KB: a count-only chunk would hold all of them (30 MB).
    let mut data = Vec::new();
    for i in 0..300 {
        data.extend_from_slice(format!("LR-{i},quoted \"text\" {i}\n").as_bytes());
    }
    let input = large_records(&data, 100_000);
    for choice in [0u8, 0b0100_0000, 0b1000_0000] {
        let (records, _) = account(&input, &options_from_byte(choice)).unwrap();
        assert_eq!(records, 300);
    }
}

#[test]
fn a_large_record_chunk_is_cut_by_bytes() {
    let input = large_records(
        b"A,xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"
            .repeat(100)
            .as_slice(),
        200_000,
    );
    let opened = OpenInput::from_reader(
        0,
        "large.csv",
        Box::new(io::Cursor::new(input)),
        &options_from_byte(0),
    )
    .unwrap();
    let mut sizes = Vec::new();
    opened
        .read_records(|chunk| {
            sizes.push(chunk.records.len());
            true
        })
        .unwrap();
    assert!(sizes.len() > 1, "{sizes:?}");
    assert!(
        sizes.iter().all(|&n| n <= CHUNK_BYTES / 200_000 + 1),
        "{sizes:?}"
    );
}
use super::*;

fn read_all(text: &[u8]) -> (Vec<String>, Vec<Record>, u64, FileDigest) {
    let input = OpenInput::from_reader(
        0,
        "t.csv",
        Box::new(io::Cursor::new(text.to_vec())),
        &ReadOptions::default(),
    )
    .unwrap();
    let header = input.header.clone();
    let mut records = Vec::new();
    let mut blanks = 0;
    let digest = input
        .read_records(|c| {
            blanks += c.blank_lines;
            records.extend(c.records);
            true
        })
        .unwrap()
        .unwrap();
    (header, records, blanks, digest)
}

#[test]
fn rows_and_lines_are_counted_per_record() {
    let (header, records, _, digest) =
        read_all(b"\xEF\xBB\xBFCode,Note\r\nA,\"two\nlines\"\r\nB,x\r\n");
    assert_eq!(header, ["Code", "Note"]);
    assert_eq!(records.len(), 2);
    assert_eq!((records[0].row, records[0].line), (1, 2));
    assert_eq!((records[1].row, records[1].line), (2, 4));
    assert_eq!(&records[0].fields[1], b"two\nlines");
    assert_eq!(digest.rows, 2);
    assert_eq!(digest.bytes, 34);
}

#[test]
fn broken_records_are_flagged_not_fatal() {
    let (_, records, _, _) = read_all(b"Code,Note\nA\nB,caf\xe9\nC,ok,extra\nD,o\"k\nE,ok\n");
    let problems: Vec<_> = records.iter().map(|r| r.problem.clone()).collect();
    assert_eq!(
        problems,
        vec![
            Some(RecordProblem::FieldCount {
                expected: 2,
                found: 1
            }),
            Some(RecordProblem::InvalidEncoding { columns: vec![1] }),
            Some(RecordProblem::FieldCount {
                expected: 2,
                found: 3
            }),
            Some(RecordProblem::Damaged(Damage::StrayQuote)),
            None,
        ]
    );
    assert_eq!(records[0].raw.as_deref(), Some(&b"A"[..]));
    assert_eq!(records[3].raw.as_deref(), Some(&b"D,o\"k"[..]));
    assert_eq!(records[1].raw, None);
}

#[test]
fn a_character_split_by_a_delimiter_is_invalid_in_both_fields() {
    // The fields' concatenation "\xC3\xA9" is UTF-8 ("é"); neither field is.
    let (_, records, _, _) = read_all(b"Code,A,B\nX,\xC3,\xA9\nY,\xC3\xA9,ok\n");
    assert_eq!(
        records[0].problem,
        Some(RecordProblem::InvalidEncoding {
            columns: vec![1, 2]
        })
    );
    assert_eq!(records[1].problem, None);
}

#[test]
fn the_first_chunk_of_a_plain_file_estimates_its_rows() {
    let rows = CHUNK_ROWS * 3 + 100;
    let mut text = String::from("Code,Note\n");
    for i in 0..rows {
        text.push_str(&format!("CODE{i:08},note {}\n", i % 7));
    }
    let path = std::env::temp_dir().join(format!("estimate-{}.csv", std::process::id()));
    std::fs::write(&path, &text).unwrap();
    let input =
        OpenInput::open(0, &InputPath::File(path.clone()), &ReadOptions::default()).unwrap();
    let mut estimates = Vec::new();
    input
        .read_records(|chunk| {
            estimates.push(chunk.estimated_file_rows);
            true
        })
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    let first = estimates[0].expect("a plain UTF-8 file is estimated");
    assert!(
        first.abs_diff(rows as u64) * 100 <= rows as u64,
        "estimate {first} for {rows} rows"
    );
    assert!(estimates[1..].iter().all(Option::is_none), "{estimates:?}");

    // A stream of unknown size is not estimated.
    let (_, records, _, _) = read_all(text.as_bytes());
    assert_eq!(records.len(), rows);
}

#[test]
fn blank_and_whitespace_lines_are_skipped_and_counted() {
    let (_, records, blanks, _) = read_all(b"Code,Note\n\nA,1\n   \nB,2\n\n");
    assert_eq!(records.len(), 2);
    assert_eq!(records[1].row, 2);
    assert_eq!(records[1].line, 5);
    assert_eq!(blanks, 3, "two empty lines and one of spaces");
}

#[test]
fn file_level_problems_are_errors() {
    let cases: [(&[u8], &str); 5] = [
        (b"", "e.csv: the file is empty"),
        (b"\xEF\xBB\xBF", "e.csv: the file is empty"),
        (b"\n\n", "e.csv: the file is empty"),
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "the file is not text"),
        (
            b"Code,R\xe9f\nA,1\n",
            "header column 2 is not valid UTF-8 text",
        ),
    ];
    for (text, expected) in cases {
        let err = OpenInput::from_reader(
            0,
            "e.csv",
            Box::new(io::Cursor::new(text.to_vec())),
            &ReadOptions::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains(expected), "{text:?}: {err}");
    }
}

#[test]
fn semicolons_and_windows_1252_read_like_excel_wrote_them() {
    let options = ReadOptions {
        encoding: TextEncoding::for_label("windows-1252"),
        ..ReadOptions::default()
    };
    let input = OpenInput::from_reader(
        0,
        "excel.csv",
        Box::new(io::Cursor::new(
            b"Code;R\xe9gion\r\nA;Z\xfcrich\r\n".to_vec(),
        )),
        &options,
    )
    .unwrap();
    assert_eq!(input.header, ["Code", "Région"]);
    assert_eq!(input.delimiter, b';');
    let mut records = Vec::new();
    input
        .read_records(|c| {
            records.extend(c.records);
            true
        })
        .unwrap();
    assert_eq!(&records[0].fields[1], "Zürich".as_bytes());
}

/// Replays `fixtures/fuzz/`: inputs the fuzzer found or that are worth keeping, each with
/// the options its first byte chooses. Reading must finish and account for every record.
#[test]
fn fuzz_regressions_replay_cleanly() {
    // The package folder `cargo test` runs in (a test binary built in another checkout
    // that shares the target folder would carry that checkout's compile-time path).
    let package = std::env::var("CARGO_MANIFEST_DIR")
        .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned());
    let dir = std::path::Path::new(&package).join("../../fixtures/fuzz");
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let Some((&choice, input)) = bytes.split_first() else {
            continue;
        };
        if let Ok((records, problems)) = account(input, &options_from_byte(choice)) {
            assert!(problems <= records);
        }
        replayed += 1;
    }
    assert!(replayed >= 3, "fixtures/fuzz holds the regression inputs");
}

#[test]
fn accounting_holds_for_odd_inputs() {
    for bytes in [
        &b"Code\n\"\n"[..],
        b"Code,a\n\"x\"y,\n\0,\n",
        b"Code\r\r\r\n,\n",
        b"a,b\n1,2,3\n\"\"\"\n",
    ] {
        let (records, problems) = account(bytes, &ReadOptions::default()).unwrap();
        assert!(problems <= records);
    }
}

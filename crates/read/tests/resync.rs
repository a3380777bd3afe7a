//! Damage stays on its line: a file of valid records with damaged lines put between them gives
//! back exactly the valid records, in order, on their true lines, and one rejected record per
//! damaged line.

use std::io;

use proptest::prelude::*;
use voucher_import_read::{OpenInput, ReadOptions};

/// A valid field: plain, or quoted with commas, doubled quotes and line breaks inside.
///
/// A quoted value holds at most one comma: a multi-line value whose later lines read alone as
/// whole rows of the file (the header's three fields) and that ends on its closing quote is
/// taken for a stray quote that swallowed those rows (the inch-mark rule, see
/// `an_inch_mark_does_not_close_a_stray_quote_over_the_rows_between`): which one it is, is a
/// matter of what the user meant, and the reader sides with the rows.
///
/// A quoted value never starts with the delimiter or a (doubled) quote: after a line whose
/// quote is never closed, `",` or `""",` starting a field of a later line closes that quote
/// into a sound record too, and which line is the damage is then a matter of reading on (both
/// readings are sound up to there). The reader keeps the record whole then (see the README,
/// "Damage stays on its line").
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9 ]{0,6}",
        "([A-Za-z0-9 \n][A-Za-z0-9 ,\"\n]{0,7})?"
            .prop_filter("at most one comma", |s| s.matches(',').count() < 2)
            .prop_map(|s| format!("\"{}\"", s.replace('"', "\"\""))),
    ]
}

/// A valid record of three fields (not all empty, so the line is not blank).
fn record() -> impl Strategy<Value = String> {
    (field(), field(), field())
        .prop_filter("not a blank line", |(a, b, c)| {
            !(a.is_empty() && b.is_empty() && c.is_empty())
        })
        .prop_map(|(a, b, c)| format!("{a},{b},{c}"))
}

/// A damaged line, on one physical line: a quote opened and never closed on it, a stray quote
/// inside an unquoted field, or the wrong number of fields.
fn damaged() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Z]{1,4}".prop_map(|s| format!("D{s},\"open {s}")),
        "[A-Z]{1,4}".prop_map(|s| format!("D{s},x\"y,z")),
        "[A-Z]{1,4}".prop_map(|s| format!("D{s},two")),
        "[A-Z]{1,4}".prop_map(|s| format!("D{s},\"12 inch,{s}")),
    ]
}

/// What reading gives: (line, fields) of the sound records and the lines of the rejected ones.
fn read(text: &str) -> (Vec<(u64, Vec<String>)>, Vec<u64>) {
    let input = OpenInput::from_reader(
        0,
        "p.csv",
        Box::new(io::Cursor::new(text.as_bytes().to_vec())),
        &ReadOptions::default(),
    )
    .unwrap();
    let (mut sound, mut rejected) = (Vec::new(), Vec::new());
    input
        .read_records(|chunk| {
            for r in chunk.records {
                match r.problem {
                    None => sound.push((
                        r.line,
                        r.fields
                            .iter()
                            .map(|f| String::from_utf8(f.to_vec()).unwrap())
                            .collect(),
                    )),
                    Some(_) => rejected.push(r.line),
                }
            }
            true
        })
        .unwrap();
    (sound, rejected)
}

/// The fields of a valid record as csv reads them.
fn fields_of(record: &str) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(record.as_bytes());
    reader
        .records()
        .next()
        .unwrap()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn valid_records_survive_damaged_lines_between_them(
        records in proptest::collection::vec(record(), 1..12),
        damage in proptest::collection::vec((any::<prop::sample::Index>(), damaged()), 0..4),
    ) {
        // The lines: the header, then the records with the damaged lines put among them.
        let mut lines: Vec<(bool, String)> = records.iter().map(|r| (true, r.clone())).collect();
        for (at, line) in &damage {
            let at = at.index(lines.len() + 1);
            lines.insert(at, (false, line.clone()));
        }
        let mut text = String::from("a,b,c\n");
        let mut expected = Vec::new();
        let mut damaged_lines = Vec::new();
        let mut line = 2u64;
        for (valid, record) in &lines {
            if *valid {
                expected.push((line, fields_of(record)));
            } else {
                damaged_lines.push(line);
            }
            text.push_str(record);
            text.push('\n');
            line += 1 + record.matches('\n').count() as u64;
        }
        let (sound, rejected) = read(&text);
        prop_assert_eq!(&sound, &expected, "{}", text);
        prop_assert_eq!(&rejected, &damaged_lines, "{}", text);
    }

    /// Without damage, a record over several lines is one record: a continuation line of a
    /// real multi-line field is never a row of its own.
    #[test]
    fn multi_line_fields_stay_whole(records in proptest::collection::vec(record(), 1..12)) {
        let text = format!("a,b,c\n{}\n", records.join("\n"));
        let (sound, rejected) = read(&text);
        prop_assert!(rejected.is_empty(), "{}", text);
        prop_assert_eq!(sound.len(), records.len());
    }
}

/// The file: one unbalanced opening quote, and later in the same column a field ending
/// in an inch mark. The rows between are rows, not G1's note.
#[test]
fn an_inch_mark_does_not_close_a_stray_quote_over_the_rows_between() {
    let text = "Code,Gift Amount,note\nG1,100,\"Happy holidays\nG2,100,plain\nG3,100,plain\nG4,100,Monitor 27\"\nG5,100,plain\n";
    let (sound, rejected) = read(text);
    let codes: Vec<&str> = sound.iter().map(|(_, f)| f[0].as_str()).collect();
    assert_eq!(codes, ["G2", "G3", "G5"], "{sound:?}");
    // G1's line alone, and G4 whose inch mark is a stray quote of its own line.
    assert_eq!(rejected, [2, 5]);
}

/// A lone `"` line every few lines: each one is its own rejected line, the rows between are
/// rows.
#[test]
fn lone_quote_lines_swallow_no_rows() {
    let mut text = String::from("a,b,c\n");
    let mut expected = Vec::new();
    let mut lone = Vec::new();
    for (line, i) in (2u64..).zip(0..30) {
        if i % 4 == 1 {
            text.push_str("\"\n");
            lone.push(line);
        } else {
            text.push_str(&format!("R{i},x,y\n"));
            expected.push(format!("R{i}"));
        }
    }
    let (sound, rejected) = read(&text);
    let codes: Vec<String> = sound.iter().map(|(_, f)| f[0].clone()).collect();
    assert_eq!(codes, expected, "{text}");
    assert_eq!(rejected, lone, "{text}");
}

//! Helpers shared by the fuzz targets and the tests that replay their finds.

use std::io;

use crate::*;

/// The read options a fuzz input's first byte chooses: delimiter (sniffed, `;`, TAB, `|`, `,`),
/// encoding (UTF-8, windows-1252, UTF-16LE), quote (`"` or `'`), and a tiny or the default
/// record bound. Shared by the fuzz target and the regression tests that replay its finds.
pub fn options_from_byte(choice: u8) -> ReadOptions {
    let delimiter = match choice & 0b111 {
        0 => None,
        1 => Some(b';'),
        2 => Some(b'\t'),
        3 => Some(b'|'),
        _ => Some(b','),
    };
    let encoding = match (choice >> 3) & 0b11 {
        1 => TextEncoding::for_label("windows-1252"),
        2 => TextEncoding::for_label("utf-16le"),
        _ => None,
    };
    ReadOptions {
        split: SplitOptions {
            delimiter,
            quote: if choice & 0b0100_0000 != 0 {
                b'\''
            } else {
                b'"'
            },
            max_record_bytes: if choice & 0b1000_0000 != 0 {
                64
            } else {
                1 << 20
            },
            ..SplitOptions::default()
        },
        encoding,
        defer_utf8_check: false,
    }
}

/// Fuzz bytes made into an input of large records (the fuzzer's own inputs are small): a
/// header, then every line of `data` repeated into one record of about `record_bytes`.
#[doc(hidden)]
pub fn large_records(data: &[u8], record_bytes: usize) -> Vec<u8> {
    let mut out = b"Code,note\n".to_vec();
    for line in data.split(|&b| b == b'\n') {
        if line.is_empty() {
            continue;
        }
        let times = record_bytes / line.len() + 1;
        for _ in 0..times {
            out.extend_from_slice(line);
        }
        out.push(b'\n');
    }
    out
}

/// What the fuzzer and the property tests check for any input: reading never panics, and every
/// record is either clean or carries a problem. Returns (records, with a problem) or the
/// file-level error message.
pub fn account(bytes: &[u8], options: &ReadOptions) -> Result<(u64, u64), String> {
    let input = OpenInput::from_reader(
        0,
        "fuzz.csv",
        Box::new(io::Cursor::new(bytes.to_vec())),
        options,
    )
    .map_err(|e| e.to_string())?;
    let (mut records, mut problems) = (0u64, 0u64);
    let max_record = options.split.max_record_bytes;
    let digest = input
        .read_records(|chunk| {
            // The byte budget: a chunk is cut once it holds CHUNK_BYTES, so it never holds
            // more than that and one more record (its fields and, when malformed, its raw text).
            let held: usize = chunk
                .records
                .iter()
                .map(|r| r.fields.as_slice().len() + r.raw.as_ref().map_or(0, Vec::len))
                .sum();
            assert!(
                held <= CHUNK_BYTES + 2 * (max_record + 1),
                "a chunk of {} records holds {held} bytes",
                chunk.records.len()
            );
            for r in &chunk.records {
                records += 1;
                if let Some(p) = &r.problem {
                    problems += 1;
                    assert!(
                        !p.is_malformed() || r.raw.is_some(),
                        "a malformed record keeps its raw text"
                    );
                }
            }
            true
        })
        .map_err(|e| e.to_string())?
        .expect("the consumer never stops");
    assert_eq!(digest.rows, records, "rows counted = records emitted");
    Ok((records, problems))
}

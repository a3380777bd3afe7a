//! Fuzz target for the reader: any bytes, with any read options, must split without a panic or
//! a hang, and every record must be accounted for (clean, or carrying a problem; a malformed
//! record keeps its raw text). `voucher_import_read::account` asserts those promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use voucher_import_read::{account, ReadOptions, SplitOptions, TextEncoding};

fuzz_target!(|data: &[u8]| {
    // The first byte chooses the options, the rest is the file.
    let Some((&choice, bytes)) = data.split_first() else {
        return;
    };
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
    let max_record_bytes = if choice & 0b1000_0000 != 0 { 64 } else { 1 << 20 };
    let options = ReadOptions {
        split: SplitOptions {
            delimiter,
            quote: if choice & 0b0100_0000 != 0 { b'\'' } else { b'"' },
            max_record_bytes,
        },
        encoding,
    };
    if let Ok((records, problems)) = account(bytes, &options) {
        assert!(problems <= records);
    }
});

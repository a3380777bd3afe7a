//! Fuzz target for the reader with large records: the fuzzer's bytes become records of about
//! 100 KB (each line repeated), read with any options, so that chunks are cut by their byte
//! budget; `voucher_import_read::account` asserts that no chunk holds more than
//! `CHUNK_BYTES` and one record, besides the promises of the `reader` target.
#![no_main]

use libfuzzer_sys::fuzz_target;
use voucher_import_read::{account, large_records, options_from_byte};

fuzz_target!(|data: &[u8]| {
    let Some((&choice, bytes)) = data.split_first() else {
        return;
    };
    let input = large_records(bytes, 100_000);
    if let Ok((records, problems)) = account(&input, &options_from_byte(choice)) {
        assert!(problems <= records);
    }
});

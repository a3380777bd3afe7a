//! Fuzz target for the reader: any bytes, with any read options, must split without a panic or
//! a hang, and every record must be accounted for (clean, or carrying a problem; a malformed
//! record keeps its raw text). `voucher_import_read::account` asserts those promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use voucher_import_read::{account, options_from_byte};

fuzz_target!(|data: &[u8]| {
    // The first byte chooses the options, the rest is the file.
    let Some((&choice, bytes)) = data.split_first() else {
        return;
    };
    if let Ok((records, problems)) = account(bytes, &options_from_byte(choice)) {
        assert!(problems <= records);
    }
});

//! The floor of `benches/compare.sh`: the least work any tool must do on the same file — read
//! every byte and split every record with the `csv` crate (flexible field counts, quoted fields
//! and newlines honoured) — and nothing else: no decoding, no checks, no output files.
//!
//! `cargo build --release -p csv-floor && target/release/csv-floor FILE`
//! prints `records fields bytes` so the pass cannot be optimized away.

use std::fs::File;
use std::io::BufReader;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: csv-floor FILE");
        return ExitCode::from(2);
    };
    let file = match File::open(&path) {
        Ok(file) => file,
        Err(err) => {
            eprintln!("csv-floor: {}: {err}", path.to_string_lossy());
            return ExitCode::from(2);
        }
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(BufReader::with_capacity(1 << 20, file));
    let mut record = csv::ByteRecord::new();
    let (mut records, mut fields) = (0u64, 0u64);
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {
                records += 1;
                fields += record.len() as u64;
            }
            Ok(false) => break,
            Err(err) => {
                eprintln!("csv-floor: {}: {err}", path.to_string_lossy());
                return ExitCode::from(2);
            }
        }
    }
    println!("{records} {fields} {}", reader.position().byte());
    ExitCode::SUCCESS
}

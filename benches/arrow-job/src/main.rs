//! The table way of `benches/table_compare.py` from Rust: an Arrow IPC file of text columns
//! is loaded into memory, then `Import::run_arrow` prepares it (gift cards, the existing codes
//! of a file, no campaign limit) into a `MemorySink`, as the Python package's `prepare(table)`
//! does. Prints one JSON line: the job's wall and CPU seconds, the counts, and the memory
//! beyond the table (the peak resident set during the job, reset after the load, minus the
//! resident set once the table was loaded).
//!
//! cargo run --release -p run-arrow-job -- TABLE.arrow EXISTING.csv

use std::fs::File;
use std::time::Instant;

use datafusion::arrow::ipc::reader::FileReader;
use voucher_import::{ArrowSource, CampaignType, Import, MemorySink};

/// mimalloc, as the command line and the Python package have it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(table), Some(existing)) = (args.next(), args.next()) else {
        return Err("usage: run_arrow_job TABLE.arrow EXISTING.csv".into());
    };
    let reader = FileReader::try_new(File::open(&table)?, None)?;
    let schema = reader.schema();
    let batches = reader.collect::<Result<Vec<_>, _>>()?;

    let loaded_kb = status_kb("VmRSS")?;
    // Resets the peak resident set (VmHWM) to the current one.
    std::fs::write("/proc/self/clear_refs", "5")?;
    let (started, cpu_started) = (Instant::now(), cpu_seconds()?);
    let mut sink = MemorySink::new();
    let summary = Import::new(CampaignType::GiftVouchers)
        .existing_file(existing)
        .campaign_limit(1_000_000_000)
        .run_arrow(
            vec![ArrowSource::from_batches("table", schema, batches)],
            &mut sink,
        )?;
    let (seconds, cpu) = (
        started.elapsed().as_secs_f64(),
        cpu_seconds()? - cpu_started,
    );
    let beyond_mb = (status_kb("VmHWM")? - loaded_kb) as f64 / 1024.0;
    println!(
        "{{\"seconds\": {seconds}, \"cpu\": {cpu}, \"accepted\": {}, \"rejected\": {}, \"beyond_mb\": {beyond_mb}, \"table_mb\": 0}}",
        MemorySink::rows(&sink.accepted),
        MemorySink::rows(&sink.rejected),
    );
    assert_eq!(
        summary.accepted + summary.rejected,
        summary.input_rows,
        "every row in one place"
    );
    Ok(())
}

/// A `kB` field of /proc/self/status.
fn status_kb(field: &str) -> Result<i64, Box<dyn std::error::Error>> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("no {field} in /proc/self/status").into())
}

/// User + system CPU seconds of the process so far (/proc/self/stat, in clock ticks of 1/100 s).
fn cpu_seconds() -> Result<f64, Box<dyn std::error::Error>> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // The fields after the command's name (which may hold spaces) end with ')'.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |at: usize| -> f64 { fields.get(at).and_then(|v| v.parse().ok()).unwrap_or(0.0) };
    // utime and stime are the 14th and 15th fields of the whole line: 12th and 13th here.
    Ok((ticks(11) + ticks(12)) / 100.0)
}

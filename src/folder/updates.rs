//! `updates.csv`: the batch rows that update a code already in the project
//! (`--existing-codes update`), `batch,batch_row,code`. `prepare` writes it; `upload --verify`
//! reads it to compare those rows on Active and Category only.

use std::path::Path;

use super::UPDATES_FILE;
use crate::error::{Error, Result};

/// An accepted row that updates a code already in the project (`--existing-codes update`):
/// one line of `updates.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateRow {
    /// The batch's number: 1 for `part-00001.csv`.
    pub batch: u32,
    /// The row within the batch (1 = the first after the header).
    pub batch_row: u64,
    /// The code.
    pub code: String,
}

/// Writes `DIR/updates.csv`, one line per update.
pub fn write(dir: &Path, updates: &[UpdateRow]) -> Result<()> {
    let path = dir.join(UPDATES_FILE);
    let file = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
    let mut out = csv::Writer::from_writer(std::io::BufWriter::new(file));
    let io = |e: csv::Error| Error::Invariant(format!("writing {}: {e}", path.display()));
    out.write_record(["batch", "batch_row", "code"])
        .map_err(io)?;
    for update in updates {
        let (batch, row) = (update.batch.to_string(), update.batch_row.to_string());
        out.write_record([batch.as_str(), row.as_str(), update.code.as_str()])
            .map_err(io)?;
    }
    out.flush().map_err(|e| Error::io(&path, e))
}

/// The rows of batch `number` (1 = the first) that `DIR/updates.csv` lists; none when the
/// folder has no such file.
pub fn rows_of_batch(dir: &Path, number: usize) -> Result<Vec<u64>> {
    let path = dir.join(UPDATES_FILE);
    if !path.exists() {
        return Ok(Vec::new());
    }
    let broken = |e: csv::Error| {
        Error::input(
            &path,
            format!("cannot read the updates: {e}"),
            "run prepare again",
        )
    };
    let mut reader = csv::Reader::from_path(&path).map_err(broken)?;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(broken)?;
        let field = |i: usize| record.get(i).and_then(|v| v.parse::<u64>().ok());
        if field(0) == Some(number as u64) {
            rows.extend(field(1));
        }
    }
    Ok(rows)
}

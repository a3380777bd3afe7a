//! The prepared folder's bookkeeping files that the run writes: `origins.csv` and
//! `updates.csv`.

use super::*;

/// Writes `updates.csv`: `batch,batch_row,code` per update.
pub(super) fn write_updates(path: &Path, updates: &[(u32, u64, String)]) -> Result<()> {
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut out = csv::Writer::from_writer(std::io::BufWriter::new(file));
    let io = |e: csv::Error| Error::Invariant(format!("writing {}: {e}", path.display()));
    out.write_record(["batch", "batch_row", "code"])
        .map_err(io)?;
    for (batch, row, code) in updates {
        out.write_record([batch.to_string(), row.to_string(), code.clone()])
            .map_err(io)?;
    }
    out.flush().map_err(|e| Error::io(path, e))?;
    Ok(())
}

//! `origins.csv`: where each batch row comes from, as runs of consecutive rows
//! (`batch,batch_row,count,file,row`). `prepare` writes it; `upload` reads it to map
//! Voucherify's verdict on a batch row back to the input row.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::ORIGINS_FILE;
use crate::error::{Error, Result};

/// Consecutive rows of one batch that come from consecutive data rows of one input file:
/// batch rows `batch_row .. batch_row + count` are the file's rows `row .. row + count` (both
/// counted from 1 after the header, as Voucherify and rejected.csv count). `F` is how the file
/// is named: its index while a run writes, its name when the file is read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OriginRun<F = u32> {
    /// The batch's number: 1 for `part-00001.csv`.
    pub batch: u32,
    /// The first batch row of the run (1 = the first after the header).
    pub batch_row: u64,
    /// Rows in the run.
    pub count: u64,
    /// The input the rows come from.
    pub file: F,
    /// The input row of the run's first batch row.
    pub row: u64,
}

/// Writes `origins.csv` from a run's origins, naming each file by `file_names[index]`.
pub fn write(path: &Path, origins: &[OriginRun], file_names: &[String]) -> Result<()> {
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut out = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(std::io::BufWriter::new(file));
    let io = |e: csv::Error| Error::Invariant(format!("writing {}: {e}", path.display()));
    // The header even when no row went in.
    out.write_record(["batch", "batch_row", "count", "file", "row"])
        .map_err(io)?;
    for run in origins {
        out.serialize(OriginRun {
            batch: run.batch,
            batch_row: run.batch_row,
            count: run.count,
            file: file_names[run.file as usize].as_str(),
            row: run.row,
        })
        .map_err(io)?;
    }
    out.flush().map_err(|e| Error::io(path, e))
}

/// A prepared folder's `origins.csv`, by batch number.
#[derive(Debug, Default)]
pub struct Origins {
    by_batch: BTreeMap<u32, Vec<OriginRun<String>>>,
}

impl Origins {
    /// Reads `DIR/origins.csv`.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(ORIGINS_FILE);
        let mut origins = Origins::default();
        let mut reader = csv::Reader::from_path(&path).map_err(|e| {
            Error::input(
                &path,
                format!("cannot read where the batch rows come from: {e}"),
                "run prepare again: it writes origins.csv",
            )
        })?;
        for run in reader.deserialize::<OriginRun<String>>() {
            let run = run.map_err(|e| {
                Error::input(&path, format!("a broken line: {e}"), "run prepare again")
            })?;
            origins.by_batch.entry(run.batch).or_default().push(run);
        }
        Ok(origins)
    }

    /// Where row `row` of batch `batch` (1 = the first) comes from: the input file and its
    /// data row.
    pub fn locate(&self, batch: u32, row: u64) -> Option<(String, u64)> {
        self.by_batch
            .get(&batch)?
            .iter()
            .find(|r| r.batch_row <= row && row < r.batch_row + r.count)
            .map(|run| (run.file.clone(), run.row + (row - run.batch_row)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_written_is_read_back_and_located() {
        let dir = tempfile::tempdir().unwrap();
        let runs = [
            OriginRun {
                batch: 1,
                batch_row: 1,
                count: 2,
                file: 0,
                row: 1,
            },
            OriginRun {
                batch: 1,
                batch_row: 3,
                count: 1,
                file: 1,
                row: 7,
            },
            OriginRun {
                batch: 2,
                batch_row: 1,
                count: 3,
                file: 0,
                row: 4,
            },
        ];
        let names = ["a.csv".to_owned(), "b, \"c\".csv".to_owned()];
        write(&dir.path().join(ORIGINS_FILE), &runs, &names).unwrap();
        let text = std::fs::read_to_string(dir.path().join(ORIGINS_FILE)).unwrap();
        assert!(
            text.starts_with("batch,batch_row,count,file,row\n"),
            "{text}"
        );
        let origins = Origins::read(dir.path()).unwrap();
        assert_eq!(origins.locate(1, 2), Some(("a.csv".into(), 2)));
        assert_eq!(origins.locate(1, 3), Some((names[1].clone(), 7)));
        assert_eq!(origins.locate(2, 3), Some(("a.csv".into(), 6)));
        assert_eq!(origins.locate(2, 4), None);
        assert_eq!(origins.locate(3, 1), None);
    }
}

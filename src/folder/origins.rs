//! `origins.csv`: where each batch row comes from, as runs of consecutive rows
//! (`batch,batch_row,count,file,row`), then the kept columns (`--keep`) of each row, when the
//! run kept any (a run is then one row). `prepare` writes it; `upload` reads it to map
//! Voucherify's verdict on a batch row back to the input row and the caller's key.

use std::collections::BTreeMap;
use std::path::Path;

use super::ORIGINS_FILE;
use crate::error::{Error, Result};

/// The columns every `origins.csv` starts with.
const COLUMNS: [&str; 5] = ["batch", "batch_row", "count", "file", "row"];

/// Consecutive rows of one batch that come from consecutive data rows of one input file:
/// batch rows `batch_row .. batch_row + count` are the file's rows `row .. row + count` (both
/// counted from 1 after the header, as Voucherify and rejected.csv count). `F` is how the file
/// is named: its index while a run writes, its name when the file is read back.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// The row's kept columns (`--keep`), in the order of the run's kept names; empty when the
    /// run kept none. A run with kept values is one row long.
    pub kept: Vec<String>,
}

/// Where one batch row comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The input's name.
    pub file: String,
    /// Its data row (1 = the first after the header).
    pub row: u64,
    /// The row's kept columns, under [`Origins::kept_columns`] (empty without `--keep`).
    pub kept: Vec<String>,
}

/// Writes `origins.csv` from a run's origins, naming each file by `file_names[index]` and the
/// kept values by `kept_columns`.
pub fn write(
    path: &Path,
    origins: &[OriginRun],
    file_names: &[String],
    kept_columns: &[String],
) -> Result<()> {
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut out = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(std::io::BufWriter::new(file));
    let io = |e: csv::Error| Error::Invariant(format!("writing {}: {e}", path.display()));
    // The header even when no row went in.
    out.write_record(
        COLUMNS
            .iter()
            .copied()
            .chain(kept_columns.iter().map(String::as_str)),
    )
    .map_err(io)?;
    let mut record = csv::StringRecord::new();
    for run in origins {
        record.clear();
        for number in [u64::from(run.batch), run.batch_row, run.count] {
            record.push_field(&number.to_string());
        }
        record.push_field(&file_names[run.file as usize]);
        record.push_field(&run.row.to_string());
        for at in 0..kept_columns.len() {
            record.push_field(run.kept.get(at).map_or("", String::as_str));
        }
        out.write_record(&record).map_err(io)?;
    }
    out.flush().map_err(|e| Error::io(path, e))
}

/// A prepared folder's `origins.csv`, by batch number.
#[derive(Debug, Default)]
pub struct Origins {
    by_batch: BTreeMap<u32, Vec<OriginRun<String>>>,
    kept_columns: Vec<String>,
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
        let broken = |what: String| {
            Error::input(&path, format!("a broken line: {what}"), "run prepare again")
        };
        let header = reader.headers().map_err(|e| broken(e.to_string()))?.clone();
        if header.len() < COLUMNS.len() || header.iter().zip(COLUMNS).any(|(h, c)| h != c) {
            return Err(broken(format!("the header is not {}", COLUMNS.join(","))));
        }
        origins.kept_columns = header
            .iter()
            .skip(COLUMNS.len())
            .map(str::to_owned)
            .collect();
        for record in reader.records() {
            let record = record.map_err(|e| broken(e.to_string()))?;
            let number = |at: usize| -> Result<u64> {
                record[at]
                    .parse()
                    .map_err(|_| broken(format!("'{}' is no {}", &record[at], COLUMNS[at])))
            };
            let run = OriginRun {
                batch: u32::try_from(number(0)?).map_err(|e| broken(e.to_string()))?,
                batch_row: number(1)?,
                count: number(2)?,
                file: record[3].to_owned(),
                row: number(4)?,
                kept: record
                    .iter()
                    .skip(COLUMNS.len())
                    .map(str::to_owned)
                    .collect(),
            };
            origins.by_batch.entry(run.batch).or_default().push(run);
        }
        Ok(origins)
    }

    /// The kept columns (`--keep`) each row carries, in order (none without `--keep`).
    pub fn kept_columns(&self) -> &[String] {
        &self.kept_columns
    }

    /// Where row `row` of batch `batch` (1 = the first) comes from: the input file, its data
    /// row and its kept values.
    pub fn locate(&self, batch: u32, row: u64) -> Option<Origin> {
        let runs = self.by_batch.get(&batch)?;
        // Runs are in batch-row order: the last that starts at or before the row.
        let at = runs
            .partition_point(|r| r.batch_row <= row)
            .checked_sub(1)?;
        let run = &runs[at];
        (row < run.batch_row + run.count).then(|| Origin {
            file: run.file.clone(),
            row: run.row + (row - run.batch_row),
            kept: run.kept.clone(),
        })
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
                kept: Vec::new(),
            },
            OriginRun {
                batch: 1,
                batch_row: 3,
                count: 1,
                file: 1,
                row: 7,
                kept: Vec::new(),
            },
            OriginRun {
                batch: 2,
                batch_row: 1,
                count: 3,
                file: 0,
                row: 4,
                kept: Vec::new(),
            },
        ];
        let names = ["a.csv".to_owned(), "b, \"c\".csv".to_owned()];
        write(&dir.path().join(ORIGINS_FILE), &runs, &names, &[]).unwrap();
        let text = std::fs::read_to_string(dir.path().join(ORIGINS_FILE)).unwrap();
        assert!(
            text.starts_with("batch,batch_row,count,file,row\n"),
            "{text}"
        );
        let origins = Origins::read(dir.path()).unwrap();
        let at = |batch, row| origins.locate(batch, row).map(|o| (o.file, o.row));
        assert_eq!(at(1, 2), Some(("a.csv".into(), 2)));
        assert_eq!(at(1, 3), Some((names[1].clone(), 7)));
        assert_eq!(at(2, 3), Some(("a.csv".into(), 6)));
        assert_eq!(at(2, 4), None);
        assert_eq!(at(3, 1), None);
        assert!(origins.kept_columns().is_empty());
    }

    #[test]
    fn kept_columns_are_written_per_row_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let run = |batch_row: u64, row: u64, key: &str| OriginRun {
            batch: 1,
            batch_row,
            count: 1,
            file: 0,
            row,
            kept: vec![key.to_owned(), format!("{key}, \"quoted\"")],
        };
        let runs = [run(1, 1, "A-7"), run(2, 3, "")];
        let kept = ["order_id".to_owned(), "note".to_owned()];
        write(
            &dir.path().join(ORIGINS_FILE),
            &runs,
            &["a.csv".to_owned()],
            &kept,
        )
        .unwrap();
        let text = std::fs::read_to_string(dir.path().join(ORIGINS_FILE)).unwrap();
        assert!(
            text.starts_with("batch,batch_row,count,file,row,order_id,note\n"),
            "{text}"
        );
        let origins = Origins::read(dir.path()).unwrap();
        assert_eq!(origins.kept_columns(), kept);
        let second = origins.locate(1, 2).unwrap();
        assert_eq!((second.file.as_str(), second.row), ("a.csv", 3));
        assert_eq!(second.kept, ["", ", \"quoted\""]);
        assert_eq!(origins.locate(1, 1).unwrap().kept[0], "A-7");
    }

    #[test]
    fn an_origins_file_with_another_header_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(ORIGINS_FILE), "file,row\na.csv,1\n").unwrap();
        let error = Origins::read(dir.path()).unwrap_err().to_string();
        assert!(error.contains("run prepare again"), "{error}");
    }
}

//! The prepared folder as `upload` takes it: the batches `summary.json` lists, each confined to
//! `DIR/import/` (no `..`, no absolute path, no symlink leading out, no batch listed twice) and
//! byte for byte what `prepare` wrote. A folder that fails any of this is refused before
//! anything is sent.

use std::collections::HashSet;
use std::fs;
use std::path::{Component, Path, PathBuf};

use super::compare::Reading;
use crate::error::{Error, Result};

/// The folder the batches must be in.
const IMPORT_FOLDER: &str = crate::folder::IMPORT_DIR;

/// A batch as `summary.json` lists it, its path checked.
#[derive(Debug, Clone)]
pub(crate) struct PreparedBatch {
    /// As `summary.json` spells it (`import/part-00001.csv`).
    pub path: String,
    /// Where the file is, resolved inside `DIR/import/`.
    pub file: PathBuf,
    pub rows: u64,
    pub sha256: String,
}

/// The folder `prepare` wrote, as `upload` takes it.
#[derive(Debug, Clone)]
pub(crate) struct PreparedFolder {
    /// The batches, each checked: confined and unchanged.
    pub batches: Vec<PreparedBatch>,
    /// Batch 1 is a canary of at most this many rows (`prepare --canary-rows`).
    pub canary_rows: Option<u64>,
    /// How the rows are to be read back.
    pub reading: Reading,
}

impl PreparedFolder {
    /// Whether batch 1 is a canary `prepare` made.
    pub fn has_canary(&self) -> bool {
        match (self.canary_rows, self.batches.first()) {
            (Some(rows), Some(first)) => first.rows <= rows,
            _ => false,
        }
    }
}

/// The folder `prepare` wrote: its batches, each checked (confined and unchanged), and what
/// its summary says of how they are read back.
pub(crate) fn read_folder(dir: &Path, cancel: &crate::interrupt::Cancel) -> Result<PreparedFolder> {
    let summary_path = dir.join(crate::folder::SUMMARY_FILE);
    let summary = crate::folder::summary::read_summary(dir)?;
    let canary_rows = summary.options.canary_rows;
    let reading = Reading {
        gift_amount: summary.options.gift_amount,
        metadata_types: summary.metadata_types.clone(),
    };
    let refuse = |message: String| {
        Error::input(
            &summary_path,
            message,
            "give upload a folder as `voucher-import prepare` wrote it (run prepare again for a new one); nothing was sent",
        )
    };
    let import = dir.join(IMPORT_FOLDER);
    let import_real = fs::canonicalize(&import).map_err(|e| Error::io(&import, e))?;
    let dir_real = fs::canonicalize(dir).map_err(|e| Error::io(dir, e))?;
    if import_real.parent() != Some(dir_real.as_path()) {
        return Err(refuse(format!(
            "{} leads to {}, outside the folder (a symlink?): nothing is sent from it",
            import.display(),
            import_real.display()
        )));
    }
    let mut seen = HashSet::new();
    let mut batches = Vec::with_capacity(summary.batches.len());
    for listed in summary.batches {
        cancel.check()?;
        let relative = Path::new(&listed.path);
        let mut components = relative.components();
        let inside = components.next() == Some(Component::Normal(IMPORT_FOLDER.as_ref()))
            && components.clone().count() == 1
            && components.all(|c| matches!(c, Component::Normal(_)));
        if !inside {
            return Err(refuse(format!(
                "lists the batch '{}', which is not a file of {}/: upload only sends files of the folder's import/",
                listed.path,
                import.display()
            )));
        }
        let file =
            fs::canonicalize(dir.join(relative)).map_err(|e| Error::io(dir.join(relative), e))?;
        if !file.starts_with(&import_real) || !file.is_file() {
            return Err(refuse(format!(
                "the batch '{}' leads to {}, outside {}/ (a symlink?): it is not sent",
                listed.path,
                file.display(),
                import.display()
            )));
        }
        if !seen.insert(file.clone()) {
            return Err(refuse(format!(
                "lists the batch '{}' twice: it would be posted twice",
                listed.path
            )));
        }
        if listed.sha256.len() != 64 || !listed.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(refuse(format!(
                "the batch '{}' has no sha256 to check it against",
                listed.path
            )));
        }
        let bytes = fs::read(&file).map_err(|e| Error::io(&file, e))?;
        check_unchanged(&listed.path, &listed.sha256, &bytes)?;
        batches.push(PreparedBatch {
            path: listed.path,
            file,
            rows: listed.rows,
            sha256: listed.sha256.to_ascii_lowercase(),
        });
    }
    Ok(PreparedFolder {
        batches,
        canary_rows,
        reading,
    })
}

/// Fails unless `bytes` hash to `sha256`.
pub(crate) fn check_unchanged(path: &str, sha256: &str, bytes: &[u8]) -> Result<()> {
    let actual = crate::read::sha256_hex(bytes);
    if actual.eq_ignore_ascii_case(sha256) {
        Ok(())
    } else {
        Err(Error::Upload(format!(
            "{path} changed since prepare wrote it (sha256 {} instead of {}): it is not uploaded; run prepare again for a new folder",
            &actual[..12],
            &sha256[..sha256.len().min(12)]
        )))
    }
}

/// A batch's header and records, as text.
pub(crate) fn batch_records(file: &Path) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    let broken = |e: csv::Error| {
        Error::input(
            file,
            format!("cannot read the batch: {e}"),
            "run prepare again",
        )
    };
    let mut reader = csv::Reader::from_path(file).map_err(broken)?;
    let header = reader
        .headers()
        .map_err(broken)?
        .iter()
        .map(str::to_owned)
        .collect();
    let records = reader
        .records()
        .map(|r| r.map(|r| r.iter().map(str::to_owned).collect()))
        .collect::<std::result::Result<Vec<Vec<String>>, _>>()
        .map_err(broken)?;
    Ok((header, records))
}

/// The codes of a batch, in row order (empty when the file cannot be read: rows are then not
/// recovered from codes).
pub(crate) fn batch_codes(file: &Path) -> Vec<String> {
    let Ok(mut reader) = csv::Reader::from_path(file) else {
        return Vec::new();
    };
    let Some(column) = reader
        .headers()
        .ok()
        .and_then(|h| h.iter().position(|name| name == "Code"))
    else {
        return Vec::new();
    };
    reader
        .records()
        .map(|r| {
            r.ok()
                .and_then(|r| r.get(column).map(str::to_owned))
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batches(dir: &Path, cancel: &crate::interrupt::Cancel) -> Result<Vec<PreparedBatch>> {
        read_folder(dir, cancel).map(|f| f.batches)
    }

    fn folder(batches: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("import")).unwrap();
        fs::write(dir.path().join("import/part-00001.csv"), "Code\r\nA").unwrap();
        // The fields every summary.json has; upload reads it whole.
        fs::write(
            dir.path().join("summary.json"),
            format!(
                r#"{{"tool": "voucher-import", "version": "0", "campaign": {{"campaign_type": "GIFT_VOUCHERS", "vouchers_count": 0}},
                "options": {{"campaign_limit": 1, "codes_in_campaign": 0, "amount_unit": "minor", "max_file_bytes": 1, "batch_rows": 1}},
                "inputs": [], "input_rows": 1, "accepted": 1, "rejected": 0, "rejected_by_rule": {{}}, "batches": {batches}}}"#
            ),
        )
        .unwrap();
        dir
    }

    fn listed(path: &str) -> String {
        format!(
            r#"[{{"path": "{path}", "rows": 1, "bytes": 7, "sha256": "{}"}}]"#,
            crate::read::sha256_hex(b"Code\r\nA")
        )
    }

    #[test]
    fn a_batch_inside_import_is_taken() {
        let dir = folder(&listed("import/part-00001.csv"));
        let batches = batches(dir.path(), &crate::interrupt::Cancel::new()).unwrap();
        assert_eq!(batches[0].path, "import/part-00001.csv");
        assert_eq!(batch_codes(&batches[0].file), vec!["A".to_owned()]);
    }

    #[test]
    fn a_batch_path_leaving_the_folder_is_refused() {
        for path in [
            "../../etc/hostname",
            "/etc/hostname",
            "import/../summary.json",
            "summary.json",
            "import/sub/part.csv",
        ] {
            let dir = folder(&listed(path));
            let e = batches(dir.path(), &crate::interrupt::Cancel::new())
                .unwrap_err()
                .to_string();
            assert!(e.contains("not a file of"), "{path}: {e}");
        }
    }

    #[test]
    fn a_symlink_out_of_the_folder_is_refused() {
        let dir = folder(&listed("import/link.csv"));
        let outside = dir.path().join("outside.csv");
        fs::write(&outside, "Code\r\nA").unwrap();
        std::os::unix::fs::symlink(&outside, dir.path().join("import/link.csv")).unwrap();
        let e = batches(dir.path(), &crate::interrupt::Cancel::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains("outside"), "{e}");
    }

    #[test]
    fn an_import_folder_that_is_a_symlink_out_of_the_folder_is_refused() {
        let elsewhere = tempfile::tempdir().unwrap();
        fs::write(elsewhere.path().join("part-00001.csv"), "Code\r\nA").unwrap();
        let dir = folder(&listed("import/part-00001.csv"));
        fs::remove_dir_all(dir.path().join("import")).unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), dir.path().join("import")).unwrap();
        let e = batches(dir.path(), &crate::interrupt::Cancel::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains("outside the folder"), "{e}");
    }

    #[test]
    fn a_batch_listed_twice_or_without_a_sha256_is_refused() {
        let one = listed("import/part-00001.csv");
        let twice = format!("[{},{}]", &one[1..one.len() - 1], &one[1..one.len() - 1]);
        let dir = folder(&twice);
        assert!(batches(dir.path(), &crate::interrupt::Cancel::new())
            .unwrap_err()
            .to_string()
            .contains("twice"));
        let dir =
            folder(r#"[{"path": "import/part-00001.csv", "rows": 1, "bytes": 7, "sha256": "ab"}]"#);
        assert!(batches(dir.path(), &crate::interrupt::Cancel::new())
            .unwrap_err()
            .to_string()
            .contains("no sha256"));
    }
}

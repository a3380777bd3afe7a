//! `DIR/upload.lock`, which keeps a second `upload` off the folder while one runs, and the
//! clean-up of the temporary files a killed run left (safe once the lock is held).

use std::fs;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::folder::LOCK_FILE;

/// The folder's upload lock, held while the value lives (the OS releases it when the process
/// ends, however it ends).
#[derive(Debug)]
pub struct FolderLock {
    _file: fs::File,
}

/// Takes `DIR/upload.lock`, or says who holds it.
pub(crate) fn lock(dir: &Path) -> Result<FolderLock> {
    let path: PathBuf = dir.join(LOCK_FILE);
    let mut file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    match file.try_lock() {
        Ok(()) => {
            let _ = file
                .set_len(0)
                .and_then(|_| file.rewind())
                .and_then(|_| write!(file, "{}", std::process::id()))
                .and_then(|_| file.flush());
            remove_leftovers(dir);
            Ok(FolderLock { _file: file })
        }
        Err(fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            Err(Error::Upload(format!(
                "{} is locked: another upload{} is running on this folder; wait for it to end (two runs at once could post a batch twice)",
                path.display(),
                if holder.is_empty() {
                    String::new()
                } else {
                    format!(" (process {holder})")
                }
            )))
        }
        Err(fs::TryLockError::Error(e)) => Err(Error::io(&path, e)),
    }
}

/// Removes the temporary files of a run that was killed while writing (the lock is held, so no
/// other run is writing them).
fn remove_leftovers(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let ours = crate::folder::WRITTEN_BY_UPLOAD;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let leftover = name.ends_with(".tmp")
            && ours
                .iter()
                .any(|file| name.starts_with(&format!(".{file}.")));
        if leftover {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_a_folder_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = lock(dir.path()).unwrap();
        let second = lock(dir.path()).unwrap_err().to_string();
        assert!(second.contains("upload.lock is locked"), "{second}");
        assert!(
            second.contains(&format!("process {}", std::process::id())),
            "{second}"
        );
        drop(first);
        lock(dir.path()).unwrap();
    }

    #[test]
    fn taking_the_lock_removes_a_killed_runs_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(".upload.json.123.0.tmp"), "half").unwrap();
        fs::write(dir.path().join(".upload-failed.csv.9.1.tmp"), "half").unwrap();
        fs::write(dir.path().join(".other.tmp"), "not ours").unwrap();
        let _lock = lock(dir.path()).unwrap();
        let mut names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, vec![".other.tmp", "upload.lock"]);
    }
}

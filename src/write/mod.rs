//! Writing: the import batches, the rejected report and the summary go into a staging folder
//! beside the output folder, which is renamed into place only when the run is complete and its
//! counts add up. A run that fails leaves nothing behind.

pub mod arrow;
pub mod batch_files;
pub mod batches;
mod guard;
pub mod record;
pub mod rejected;

pub use guard::{check_output_folder, check_stdin_outside};
use guard::{entry_names, replaceable};

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The names a prepared folder holds: what `prepare` writes and what `upload` adds.
const OUTPUT_ENTRIES: [&str; 15] = crate::folder::ENTRIES;

/// What marks a staging folder (and the old folder a commit moves aside) as voucher-import's:
/// `.NAME.voucher-import-RUN.tmp` and `.NAME.voucher-import-RUN.old-RUN`, where RUN is
/// `PID-N`: the process and the run's number within it, so that two runs of one process (two
/// threads, two `Import` runs) never share a staging folder. (Versions before wrote the PID
/// alone; their leftovers are recognized too.)
const STAGING_MARK: &str = ".voucher-import-";

/// Runs started in this process, for [`run_id`].
static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A name for one run, unique on this host while its process lives: `PID-N`.
fn run_id() -> String {
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}-{n}", std::process::id())
}

/// A staging folder that becomes the output folder on [`StagedOutput::commit`] and is removed
/// if dropped before.
#[derive(Debug)]
pub struct StagedOutput {
    target: PathBuf,
    /// This run's name within the host (`PID-N`).
    run: String,
    staging: PathBuf,
    force: bool,
    committed: bool,
    /// Leftovers of runs that are gone, removed before this one began.
    removed: Vec<String>,
}

impl StagedOutput {
    /// Checks that `target` may be written ([`check_output_folder`]), removes the staging and
    /// old folders that runs which are gone left beside it, and creates the staging folder.
    pub fn create(target: &Path, force: bool, reads: &[PathBuf]) -> Result<Self> {
        check_output_folder(target, force, reads)?;
        let name = target
            .file_name()
            .ok_or_else(|| Error::Output {
                path: target.to_owned(),
                message: "is not a folder name".into(),
                fix: "name the output folder, e.g. --out out".into(),
            })?
            .to_string_lossy()
            .into_owned();
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        if !parent.is_dir() {
            return Err(Error::Output {
                path: target.to_owned(),
                message: format!("the folder {} does not exist", parent.display()),
                fix: "create the parent folder first".into(),
            });
        }
        let removed = remove_leftovers(&parent, &name);
        let run = run_id();
        let staging = parent.join(format!(".{name}{STAGING_MARK}{run}.tmp"));
        // A folder of this name can only be a leftover of a process that had this PID.
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
        }
        fs::create_dir(&staging).map_err(|e| Error::io(&staging, e))?;
        Ok(StagedOutput {
            target: target.to_owned(),
            run,
            staging,
            force,
            committed: false,
            removed,
        })
    }

    /// The folder to write into.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// What was removed before the run began: leftovers of runs that are gone.
    pub fn removed_leftovers(&self) -> &[String] {
        &self.removed
    }

    /// Moves the finished staging folder to the target, replacing an earlier output under
    /// `force`. Commits into one folder are one at a time (the parent folder is locked while
    /// one moves folders), so concurrent runs end with a complete folder each in turn.
    pub fn commit(mut self) -> Result<()> {
        let parent = self.staging.parent().unwrap_or(Path::new(".")).to_owned();
        let parent_lock = fs::File::open(&parent).map_err(|e| Error::io(&parent, e))?;
        parent_lock.lock().map_err(|e| Error::io(&parent, e))?;
        if self.target.exists() {
            // Checked again: another run may have filled the folder meanwhile.
            let entries = entry_names(&self.target)?;
            if !entries.is_empty() {
                if !self.force {
                    return Err(Error::Output {
                        path: self.target.clone(),
                        message: "the output folder was filled while the run went on".into(),
                        fix: "choose a new --out folder, or pass --force to replace it".into(),
                    });
                }
                replaceable(&self.target, &entries)?;
            }
            let old = self.staging.with_extension(format!("old-{}", self.run));
            fs::rename(&self.target, &old).map_err(|e| Error::io(&self.target, e))?;
            if let Err(e) = fs::rename(&self.staging, &self.target) {
                let _ = fs::rename(&old, &self.target);
                return Err(Error::io(&self.target, e));
            }
            fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))?;
        } else {
            fs::rename(&self.staging, &self.target).map_err(|e| Error::io(&self.target, e))?;
        }
        self.committed = true;
        Ok(())
    }
}

impl Drop for StagedOutput {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

/// Removes `.NAME.voucher-import-RUN.tmp` and `.NAME.voucher-import-RUN.old-RUN` folders in
/// `parent` whose process (RUN is `PID-N`, or `PID`) is gone (looked up in /proc, on this host; where there is no /proc,
/// nothing is removed). Gives a line for each.
fn remove_leftovers(parent: &Path, name: &str) -> Vec<String> {
    let mut removed = Vec::new();
    if !Path::new("/proc/self").exists() {
        return removed;
    }
    let prefix = format!(".{name}{STAGING_MARK}");
    let Ok(entries) = fs::read_dir(parent) else {
        return removed;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file_name.strip_prefix(&prefix) else {
            continue;
        };
        let Some((run, kind)) = rest.split_once('.') else {
            continue;
        };
        let ours = kind == "tmp" || kind.strip_prefix("old-").is_some_and(|r| r == run);
        // `PID-N`, or `PID` as versions before wrote it.
        let pid = run.split_once('-').map_or(run, |(pid, _)| pid);
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        if !ours || pid == std::process::id() || Path::new("/proc").join(pid.to_string()).exists() {
            continue;
        }
        let path = entry.path();
        let size = folder_bytes(&path);
        if fs::remove_dir_all(&path).is_ok() {
            removed.push(format!(
                "removed {} ({} bytes), left by an earlier run (process {pid}) that did not finish",
                path.display(),
                size
            ));
        }
    }
    removed
}

/// The bytes of the files below a folder.
fn folder_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_owned()];
    while let Some(folder) = stack.pop() {
        for entry in fs::read_dir(&folder).into_iter().flatten().flatten() {
            match entry.metadata() {
                Ok(m) if m.is_dir() => stack.push(entry.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    const SUMMARY: &str = r#"{"tool": "voucher-import"}"#;

    #[test]
    fn an_output_folder_holding_a_file_the_run_reads_is_refused() {
        let dir = folder_with(&[("cards.csv", "Code\nA\n")]);
        let input = dir.path().join("cards.csv");
        for out in [
            dir.path().to_owned(),
            dir.path().parent().unwrap().to_owned(),
        ] {
            let e = check_output_folder(&out, true, std::slice::from_ref(&input)).unwrap_err();
            assert!(e.to_string().contains("which this run reads"), "{e}");
        }
        // Beside or below the inputs' folder is fine.
        check_output_folder(&dir.path().join("out"), false, &[input]).unwrap();
    }

    #[test]
    fn force_replaces_only_an_earlier_output() {
        let stranger = folder_with(&[("notes.txt", "mine")]);
        let e = check_output_folder(stranger.path(), true, &[]).unwrap_err();
        assert!(e.to_string().contains("notes.txt"), "{e}");
        let earlier = folder_with(&[("summary.json", SUMMARY), ("rejected.csv", "")]);
        check_output_folder(earlier.path(), true, &[]).unwrap();
        assert!(check_output_folder(earlier.path(), false, &[]).is_err());
        let mixed = folder_with(&[("summary.json", SUMMARY), ("notes.txt", "mine")]);
        let e = check_output_folder(mixed.path(), true, &[]).unwrap_err();
        assert!(e.to_string().contains("notes.txt"), "{e}");
        let uploaded = folder_with(&[("summary.json", SUMMARY), ("upload.json", "{}")]);
        let e = check_output_folder(uploaded.path(), true, &[]).unwrap_err();
        assert!(e.to_string().contains("upload.json"), "{e}");
        let other_tool = folder_with(&[("summary.json", r#"{"tool": "other"}"#)]);
        assert!(check_output_folder(other_tool.path(), true, &[]).is_err());
    }

    #[test]
    fn leftovers_of_gone_runs_are_removed_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        // No process has a PID this high.
        let gone = dir.path().join(".out.voucher-import-4000000000.tmp");
        let gone_old = dir
            .path()
            .join(".out.voucher-import-4000000000.old-4000000000");
        // As runs name them now: PID-N.
        let gone_run = dir.path().join(".out.voucher-import-4000000000-3.tmp");
        let gone_run_old = dir
            .path()
            .join(".out.voucher-import-4000000000-3.old-4000000000-3");
        let live = dir
            .path()
            .join(format!(".out.voucher-import-{}.tmp", std::process::id()));
        let other = dir.path().join(".other.voucher-import-4000000000.tmp");
        for folder in [&gone, &gone_old, &gone_run, &gone_run_old, &live, &other] {
            fs::create_dir(folder).unwrap();
            fs::write(folder.join("part.csv"), "x").unwrap();
        }
        let removed = remove_leftovers(dir.path(), "out");
        assert_eq!(removed.len(), 4, "{removed:?}");
        assert!(!gone.exists() && !gone_old.exists());
        assert!(!gone_run.exists() && !gone_run_old.exists());
        assert!(live.exists() && other.exists());
    }
}

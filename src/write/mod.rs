//! Writing: the import batches, the rejected report and the summary go into a staging folder
//! beside the output folder, which is renamed into place only when the run is complete and its
//! counts add up. A run that fails leaves nothing behind.

pub mod batches;
pub mod rejected;

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A staging folder that becomes the output folder on [`StagedOutput::commit`] and is removed
/// if dropped before.
#[derive(Debug)]
pub struct StagedOutput {
    target: PathBuf,
    staging: PathBuf,
    force: bool,
    committed: bool,
}

impl StagedOutput {
    /// Checks that `target` may be written (absent, empty, or `force`) and creates the staging
    /// folder beside it.
    pub fn create(target: &Path, force: bool) -> Result<Self> {
        if target.exists() {
            if !target.is_dir() {
                return Err(Error::Output {
                    path: target.to_owned(),
                    message: "exists and is not a folder".into(),
                    fix: "choose another --out folder".into(),
                });
            }
            let non_empty = fs::read_dir(target)
                .map_err(|e| Error::io(target, e))?
                .next()
                .is_some();
            if non_empty && !force {
                return Err(Error::Output {
                    path: target.to_owned(),
                    message: "the output folder exists and is not empty".into(),
                    fix: "choose a new --out folder, or pass --force to replace it".into(),
                });
            }
        }
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
        let staging = parent.join(format!(".{name}.voucher-import-{}.tmp", std::process::id()));
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
        }
        fs::create_dir(&staging).map_err(|e| Error::io(&staging, e))?;
        Ok(StagedOutput {
            target: target.to_owned(),
            staging,
            force,
            committed: false,
        })
    }

    /// The folder to write into.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// Moves the finished staging folder to the target, replacing an old one under `force`.
    pub fn commit(mut self) -> Result<()> {
        if self.target.exists() {
            let old = self
                .staging
                .with_extension(format!("old-{}", std::process::id()));
            let empty = fs::read_dir(&self.target)
                .map_err(|e| Error::io(&self.target, e))?
                .next()
                .is_none();
            if !empty && !self.force {
                return Err(Error::Output {
                    path: self.target.clone(),
                    message: "the output folder was filled while the run went on".into(),
                    fix: "choose a new --out folder, or pass --force to replace it".into(),
                });
            }
            fs::rename(&self.target, &old).map_err(|e| Error::io(&self.target, e))?;
            fs::rename(&self.staging, &self.target).map_err(|e| Error::io(&self.target, e))?;
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

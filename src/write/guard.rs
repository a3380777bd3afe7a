//! The output folder's guard, before anything is read: `--out` may not be or hold what the run
//! reads (inputs, --existing, --rules, ..., or the file standard input is), and `--force`
//! replaces only an earlier output of this tool, holding nothing else, never uploaded.

use std::fs;
use std::path::{Path, PathBuf};

use super::OUTPUT_ENTRIES;
use crate::error::{Error, Result};

/// Refuses an output folder that would destroy what the run reads, or what voucher-import did
/// not write: `target` must not be, nor contain, any of `reads` (inputs, --existing, --rules,
/// --metadata-schema, --campaign); when it holds anything, `force` must be given and it must be
/// a previous output (its summary.json names this tool, and it holds nothing else), never one
/// whose batches were uploaded (`upload.json`).
pub fn check_output_folder(target: &Path, force: bool, reads: &[PathBuf]) -> Result<()> {
    let target_real = resolved(target);
    for read in reads {
        let Ok(real) = fs::canonicalize(read) else {
            continue;
        };
        if real.starts_with(&target_real) {
            return Err(Error::Output {
                path: target.to_owned(),
                message: format!(
                    "is or holds {}, which this run reads: replacing the folder would delete it",
                    read.display()
                ),
                fix: "choose an --out folder that holds none of the files the run reads, e.g. a new folder beside them (--out data/out for data/cards.csv)".into(),
            });
        }
    }
    if !target.exists() {
        return Ok(());
    }
    if !target.is_dir() {
        return Err(Error::Output {
            path: target.to_owned(),
            message: "exists and is not a folder".into(),
            fix: "choose another --out folder".into(),
        });
    }
    let entries = entry_names(target)?;
    if entries.is_empty() {
        return Ok(());
    }
    if !force {
        return Err(Error::Output {
            path: target.to_owned(),
            message: "the output folder exists and is not empty".into(),
            fix: "choose a new --out folder, or pass --force to replace it (only an earlier output of voucher-import is replaced)".into(),
        });
    }
    replaceable(target, &entries)
}

/// Whether `--force` may replace a folder holding `entries`: an earlier output of this tool,
/// holding nothing else, whose batches were not uploaded.
pub(super) fn replaceable(target: &Path, entries: &[String]) -> Result<()> {
    let refuse = |message: String, fix: &str| Error::Output {
        path: target.to_owned(),
        message,
        fix: fix.into(),
    };
    if !written_by_this_tool(&target.join(crate::folder::SUMMARY_FILE)) {
        return Err(refuse(
            format!(
                "holds {} and no summary.json of voucher-import: --force only replaces a folder voucher-import wrote",
                listing(entries)
            ),
            "choose a new --out folder, or empty this one yourself if its files can go",
        ));
    }
    let mut foreign: Vec<String> = entries
        .iter()
        .filter(|e| !OUTPUT_ENTRIES.contains(&e.as_str()))
        .cloned()
        .collect();
    foreign.extend(foreign_below(target, entries));
    if !foreign.is_empty() {
        return Err(refuse(
            format!(
                "is an earlier output but also holds {}, which voucher-import did not write: --force would delete it",
                listing(&foreign)
            ),
            "move those files out of the folder, or choose a new --out folder",
        ));
    }
    if entries.iter().any(|e| e == crate::folder::STATE_FILE) {
        return Err(refuse(
            "holds upload.json: its batches were uploaded (or are being); replacing it would lose what was posted, and a new upload would post those codes again".into(),
            "choose a new --out folder (keep this one: `upload` resumes from it)",
        ));
    }
    Ok(())
}

/// What an earlier output holds below its top level that voucher-import did not write: in
/// `import/`, anything but batch files (`part-00001.csv`, ...), and any folder where the tool
/// writes a file. Named relative to the output folder.
fn foreign_below(target: &Path, entries: &[String]) -> Vec<String> {
    let mut foreign = Vec::new();
    for entry in entries {
        let path = target.join(entry);
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if entry == crate::folder::FAILED_ROWS_DIR && meta.is_dir() {
            // upload's record of failed rows: part-00001.json, ...
            for child in fs::read_dir(&path).into_iter().flatten().flatten() {
                let name = child.file_name().to_string_lossy().into_owned();
                let ours = child.file_type().is_ok_and(|t| t.is_file())
                    && name
                        .strip_suffix(".json")
                        .is_some_and(|stem| is_batch_name(&format!("{stem}.csv")));
                if !ours {
                    foreign.push(format!("{entry}/{name}"));
                }
            }
            continue;
        }
        if entry == crate::folder::PROJECT_DIR && meta.is_dir() {
            // The snapshot of the project a connected run read: its three files.
            for child in fs::read_dir(&path).into_iter().flatten().flatten() {
                let name = child.file_name().to_string_lossy().into_owned();
                let ours = child.file_type().is_ok_and(|t| t.is_file())
                    && crate::folder::project::FILES.contains(&name.as_str());
                if !ours {
                    foreign.push(format!("{entry}/{name}"));
                }
            }
            continue;
        }
        if entry != crate::folder::IMPORT_DIR {
            if meta.is_dir() {
                foreign.push(format!("{entry}/ (a folder)"));
            }
            continue;
        }
        if !meta.is_dir() {
            foreign.push(format!("{entry} (not a folder)"));
            continue;
        }
        let Ok(children) = fs::read_dir(&path) else {
            foreign.push(format!("{entry}/ (unreadable)"));
            continue;
        };
        for child in children.flatten() {
            let name = child.file_name().to_string_lossy().into_owned();
            let is_file = child.file_type().is_ok_and(|t| t.is_file());
            if !(is_file && is_batch_name(&name)) {
                foreign.push(format!("{entry}/{name}"));
            }
        }
    }
    foreign.sort();
    foreign
}

/// `part-00001.csv`: the name of a batch file (five digits or more).
fn is_batch_name(name: &str) -> bool {
    name.strip_prefix("part-")
        .and_then(|rest| rest.strip_suffix(".csv"))
        .is_some_and(|n| n.len() >= 5 && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Refuses an output folder that holds the file standard input is (`prepare - --out DIR
/// --force < DIR/rejected.csv`): the same device and inode, found in the folder or its
/// `import/`. Stdin that is no file (a pipe, a terminal) holds nothing the folder could.
pub fn check_stdin_outside(target: &Path) -> Result<()> {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let Ok(stdin) = std::io::stdin().as_fd().try_clone_to_owned() else {
        return Ok(());
    };
    let Ok(meta) = fs::File::from(stdin).metadata() else {
        return Ok(());
    };
    if !meta.is_file() {
        return Ok(());
    }
    let same = |path: &Path| {
        fs::metadata(path).is_ok_and(|m| m.dev() == meta.dev() && m.ino() == meta.ino())
    };
    for folder in [target.to_owned(), target.join(crate::folder::IMPORT_DIR)] {
        for entry in fs::read_dir(&folder).into_iter().flatten().flatten() {
            if same(&entry.path()) {
                return Err(Error::Output {
                    path: target.to_owned(),
                    message: format!(
                        "holds {}, which is this run's standard input: replacing the folder would delete it",
                        entry.path().display()
                    ),
                    fix: "copy the file out of the folder first, or choose another --out folder".into(),
                });
            }
        }
    }
    Ok(())
}

/// Whether `summary.json` names voucher-import as the tool that wrote it.
fn written_by_this_tool(summary: &Path) -> bool {
    const LARGEST_SUMMARY: u64 = 64 << 20;
    let small = fs::metadata(summary).is_ok_and(|m| m.is_file() && m.len() <= LARGEST_SUMMARY);
    small
        && fs::read(summary)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .is_some_and(|v| v.get("tool").and_then(|t| t.as_str()) == Some("voucher-import"))
}

/// The names in a folder.
pub(super) fn entry_names(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

/// A few names, for a message.
fn listing(names: &[String]) -> String {
    let shown: Vec<&str> = names.iter().take(5).map(String::as_str).collect();
    match names.len() {
        n if n > 5 => format!("{} and {} more", shown.join(", "), n - 5),
        _ => shown.join(", "),
    }
}

/// The real path of `path`, or of its parent joined with its name when it does not exist yet.
fn resolved(path: &Path) -> PathBuf {
    if let Ok(real) = fs::canonicalize(path) {
        return real;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => {
            let parent = if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            };
            resolved(parent).join(name)
        }
        _ => path.to_owned(),
    }
}

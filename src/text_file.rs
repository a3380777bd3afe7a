//! Small text documents read whole and bounded: settings files (`--campaign`, `--rules`,
//! `--metadata-schema`) and the documents of a prepared folder read back.

use std::path::Path;

use crate::error::{Error, Result};

/// The largest settings file read (`--campaign`, `--rules`, `--metadata-schema`).
pub const MAX_SETTINGS_FILE_BYTES: u64 = 16 << 20;

/// Reads a settings file (`what` names its option in messages) as UTF-8 text, refusing one over
/// [`MAX_SETTINGS_FILE_BYTES`] before more than that is read (so an endless source such as
/// `/dev/zero` ends at once).
pub fn read_settings_file(path: &Path, what: &str) -> Result<String> {
    read_bounded_text(path, what, MAX_SETTINGS_FILE_BYTES)
}

/// Reads a file of at most `max` bytes as UTF-8 text (`what` names it in messages); a larger
/// one (or an endless source) is refused once `max` bytes are read.
pub fn read_bounded_text(path: &Path, what: &str, max: u64) -> Result<String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > max {
        return Err(Error::input(
            path,
            format!(
                "the {what} file is larger than {} MiB: that is no {what} file",
                max >> 20
            ),
            format!("check that {what} names the right file"),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        Error::input(
            path,
            format!(
                "the {what} file is not UTF-8 text (byte {})",
                e.utf8_error().valid_up_to()
            ),
            "save it as UTF-8",
        )
    })
}

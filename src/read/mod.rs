//! Reading: the inputs named on the command line (files, `-` for stdin, folders, globs) become
//! chunks of raw records. CSV reading lives in the `voucher-import-read` crate (kept free of the
//! query engine so it can be fuzzed on its own); this module adds input expansion and Parquet.

pub mod arrow;
pub(crate) mod parquet;

pub use arrow::ArrowSource;
pub use voucher_import_read::*;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// File endings read when a folder or a glob names the inputs.
pub const INPUT_ENDINGS: [&str; 5] = [".csv", ".csv.gz", ".csv.zst", ".tsv", ".parquet"];

/// The format of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values (any delimiter), plain, gzip or zstd.
    Csv,
    /// Apache Parquet.
    Parquet,
}

/// An opened input: a CSV or Parquet file, or a library caller's Arrow source.
pub(crate) enum Input {
    Csv(Box<OpenInput>),
    Parquet(parquet::ParquetInput),
    Arrow(arrow::ArrowInput),
}

impl Input {
    /// Opens an input: Parquet when `format` says so or the name ends in `.parquet`, else CSV.
    pub fn open(
        index: usize,
        source: &InputPath,
        options: &ReadOptions,
        format: Option<Format>,
    ) -> Result<Self> {
        let by_name = match source {
            InputPath::File(p) if p.to_string_lossy().to_lowercase().ends_with(".parquet") => {
                Format::Parquet
            }
            _ => Format::Csv,
        };
        match (format.unwrap_or(by_name), source) {
            (Format::Csv, _) => Ok(Input::Csv(Box::new(OpenInput::open(
                index, source, options,
            )?))),
            (Format::Parquet, InputPath::File(path)) => {
                Ok(Input::Parquet(parquet::ParquetInput::open(index, path)?))
            }
            (Format::Parquet, InputPath::Stdin) => Err(Error::usage(
                "Parquet cannot be read from stdin (its footer is at the end of the file)",
                "write it to a file and name the file",
            )),
        }
    }

    /// The input's position among the run's inputs.
    pub fn index(&self) -> InputId {
        match self {
            Input::Csv(i) => i.index,
            Input::Parquet(i) => i.index,
            Input::Arrow(i) => i.index,
        }
    }

    /// The header names, trimmed.
    pub fn header(&self) -> &[String] {
        match self {
            Input::Csv(i) => &i.header,
            Input::Parquet(i) => &i.header,
            Input::Arrow(i) => &i.header,
        }
    }

    /// Lines skipped before the header (`--skip-lines`).
    pub fn lines_skipped(&self) -> u64 {
        match self {
            Input::Csv(i) => i.lines_skipped,
            Input::Parquet(_) | Input::Arrow(_) => 0,
        }
    }

    /// What opening the input noticed, for the summary's notes.
    pub fn notes(&self) -> &[String] {
        match self {
            Input::Csv(i) => &i.notes,
            Input::Parquet(_) | Input::Arrow(_) => &[],
        }
    }

    /// Reads every record in chunks; see [`OpenInput::read_records`].
    pub fn read_records(self, emit: impl FnMut(Chunk) -> bool) -> Result<Option<FileDigest>> {
        match self {
            Input::Csv(i) => Ok(i.read_records(emit)?),
            Input::Parquet(i) => i.read_records(emit),
            Input::Arrow(i) => i.read_records(emit),
        }
    }
}

/// The inputs a run names (files, folders, globs, `-`), expanded and made distinct.
#[derive(Debug)]
pub struct ResolvedInputs {
    /// The inputs, each once, in the order named (a folder's files in name order).
    pub inputs: Vec<InputPath>,
    /// What making them distinct left out (an input named twice).
    pub notes: Vec<String>,
    /// Every path the inputs read, as named and as found (an output folder may hold none).
    pub reads: Vec<PathBuf>,
}

/// Expands `args` ([`expand_inputs`]), keeps each file once ([`distinct_inputs`]) and lists
/// what they read. `skip_unreadable`: an entry of a folder or a glob that cannot be read as a
/// file is left out with a note, instead of stopping the run.
pub fn resolve_inputs(args: &[PathBuf], skip_unreadable: bool) -> Result<ResolvedInputs> {
    let (expanded, skipped) = expand_inputs(args, skip_unreadable)?;
    let (inputs, mut notes) = distinct_inputs(expanded);
    notes.extend(skipped);
    let reads = args
        .iter()
        .filter(|p| p.as_os_str() != "-")
        .cloned()
        .chain(inputs.iter().filter_map(|i| match i {
            InputPath::File(path) => Some(path.clone()),
            InputPath::Stdin => None,
        }))
        .collect();
    Ok(ResolvedInputs {
        inputs,
        notes,
        reads,
    })
}

/// Keeps the first of inputs that are the same file (the same device and inode, so a path
/// spelled two ways, a symlink and a hard link count too): one file is one input, read once.
/// Gives the inputs kept and a note for each one left out.
pub fn distinct_inputs(inputs: Vec<InputPath>) -> (Vec<InputPath>, Vec<String>) {
    use std::os::unix::fs::MetadataExt;
    let mut seen: Vec<((u64, u64), String)> = Vec::new();
    let mut kept = Vec::with_capacity(inputs.len());
    let mut notes = Vec::new();
    for input in inputs {
        if let InputPath::File(path) = &input {
            if let Ok(meta) = std::fs::metadata(path) {
                let id = (meta.dev(), meta.ino());
                if let Some((_, first)) = seen.iter().find(|(s, _)| *s == id) {
                    notes.push(format!(
                        "{} is the same file as {first}: it is read once",
                        path.display()
                    ));
                    continue;
                }
                seen.push((id, path.display().to_string()));
            }
        }
        kept.push(input);
    }
    (kept, notes)
}

/// Whether an input can be opened again and read from its start: a regular file can; stdin,
/// a FIFO, a device or a socket cannot (a second opening waits for a writer or reads other
/// bytes).
pub fn reopenable(source: &InputPath) -> bool {
    match source {
        InputPath::File(path) => std::fs::metadata(path).is_ok_and(|m| m.is_file()),
        InputPath::Stdin => false,
    }
}

/// An input waiting for its turn to be read: opened already when it can be opened only once
/// (stdin, a FIFO), else a path opened when its turn comes, so that a run over thousands of
/// files holds one open at a time (with its buffers).
pub(crate) enum Pending {
    Open(Input),
    Later {
        index: usize,
        source: InputPath,
        options: ReadOptions,
        format: Option<Format>,
        /// The header the first opening read: a file whose header changed since is refused.
        header: Vec<String>,
    },
}

impl Pending {
    /// An input whose header has been read: kept open if it can be opened only once, else
    /// closed until [`Pending::open`].
    pub fn after_header(
        input: Input,
        source: &InputPath,
        options: &ReadOptions,
        format: Option<Format>,
    ) -> Self {
        match source {
            InputPath::File(_) if reopenable(source) => Pending::Later {
                index: input.index().index(),
                header: input.header().to_vec(),
                source: source.clone(),
                options: *options,
                format,
            },
            _ => Pending::Open(input),
        }
    }

    /// The input, opened.
    pub fn open(self) -> Result<Input> {
        match self {
            Pending::Open(input) => Ok(input),
            Pending::Later {
                index,
                source,
                options,
                format,
                header,
            } => {
                let input = Input::open(index, &source, &options, format)?;
                if input.header() != header.as_slice() {
                    return Err(Error::input(
                        source.path(),
                        "the file changed while the run read it (its header is not the same)",
                        "run again once the file is complete",
                    ));
                }
                Ok(input)
            }
        }
    }
}

/// Expands the inputs as given: `-` is stdin; a folder or a glob pattern stands for every CSV
/// file in it, in name order; anything else is a file. A folder or glob matching nothing is an
/// error rather than an empty import. An entry of a folder (named like an input) or of a glob
/// that cannot be read as a file (a dangling or looping link, a FIFO, a socket) stops the run,
/// naming it, or with `skip_unreadable` is left out: the second value says which.
pub fn expand_inputs(
    args: &[PathBuf],
    skip_unreadable: bool,
) -> Result<(Vec<InputPath>, Vec<String>)> {
    let mut inputs = Vec::new();
    let mut skipped = Vec::new();
    for arg in args {
        let text = arg.to_string_lossy();
        let found = if text == "-" {
            inputs.push(InputPath::Stdin);
            continue;
        } else if arg.is_dir() {
            let named: Vec<PathBuf> = std::fs::read_dir(arg)
                .map_err(|e| Error::io(arg, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| is_input_name(p))
                .collect();
            let found = files_among(named, skip_unreadable, &mut skipped)?;
            if found.is_empty() {
                return Err(Error::input(
                    arg,
                    "the folder holds no input files",
                    format!(
                        "put files ending in {} in it, or name the files",
                        INPUT_ENDINGS.join(", ")
                    ),
                ));
            }
            found
        } else if !arg.exists() && text.contains(['*', '?', '[']) {
            let matched: Vec<PathBuf> = glob::glob(&text)
                .map_err(|e| {
                    Error::usage(
                        format!("'{text}' is not a valid glob pattern: {e}"),
                        "quote the pattern, or name the files",
                    )
                })?
                .filter_map(|p| p.ok())
                .collect();
            let found = files_among(matched, skip_unreadable, &mut skipped)?;
            if found.is_empty() {
                return Err(Error::input(
                    arg,
                    "the pattern matches no file",
                    "check the pattern and the folder",
                ));
            }
            found
        } else {
            inputs.push(InputPath::File(arg.clone()));
            continue;
        };
        inputs.extend(found.into_iter().map(InputPath::File));
    }
    let stdin_count = inputs.iter().filter(|i| **i == InputPath::Stdin).count();
    if stdin_count > 1 {
        return Err(Error::usage(
            "'-' (stdin) is named more than once",
            "name stdin once",
        ));
    }
    Ok((inputs, skipped))
}

/// The regular files among the entries a folder or a glob gave, in name order; folders are
/// not inputs (a folder is not read recursively). Any other entry cannot be read as a file:
/// an error naming it, or with `skip_unreadable` a note in `skipped`.
fn files_among(
    entries: Vec<PathBuf>,
    skip_unreadable: bool,
    skipped: &mut Vec<String>,
) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in entries {
        let why = match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() => {
                files.push(path);
                continue;
            }
            Ok(meta) if meta.is_dir() => continue,
            Ok(_) => "is no regular file (a FIFO, a socket or a device)".to_owned(),
            Err(e) => match std::fs::symlink_metadata(&path) {
                Ok(link) if link.file_type().is_symlink() => {
                    format!("is a link that leads nowhere readable ({e})")
                }
                _ => format!("cannot be read ({e})"),
            },
        };
        if !skip_unreadable {
            return Err(Error::input(
                &path,
                format!("{why}: it cannot be read as an input file"),
                "remove or fix it, name the files to read, or pass --skip-unreadable to leave such entries out",
            ));
        }
        skipped.push(format!(
            "{} {why}: left out (--skip-unreadable)",
            path.display()
        ));
    }
    files.sort();
    Ok(files)
}

fn is_input_name(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    INPUT_ENDINGS.iter().any(|e| name.ends_with(e))
}

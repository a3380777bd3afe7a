//! Where a run's rows come from: the configuration's named inputs (files, stdin) or a library
//! caller's Arrow sources. The phases ask this, never the configuration, for an input's name,
//! an opening, or whether it can be read twice.

use std::path::PathBuf;

use crate::config::RunConfig;
use crate::error::Result;
use crate::read::{ArrowSource, PerInput};
use crate::read::{Input, InputPath, Pending};
use crate::write::arrow::RowPlace;

/// The inputs of one run, by position.
#[derive(Clone, Copy)]
pub enum Sources<'a> {
    /// Files (and `-`, stdin), as [`crate::read::resolve_inputs`] expands them.
    Paths(&'a [InputPath]),
    /// A library caller's Arrow sources.
    Arrow(&'a [ArrowSource]),
}

impl Sources<'_> {
    pub(crate) fn len(&self) -> usize {
        match self {
            Sources::Paths(paths) => paths.len(),
            Sources::Arrow(sources) => sources.len(),
        }
    }

    /// How the rows of these sources are placed in the sink's report layout.
    pub(crate) fn row_place(&self) -> RowPlace {
        match self {
            Sources::Paths(_) => RowPlace::FileLine,
            Sources::Arrow(_) => RowPlace::Source,
        }
    }

    /// Input `index`'s name in messages, rejected rows and the summary.
    pub(crate) fn display(&self, index: usize) -> String {
        match self {
            Sources::Paths(paths) => paths[index].display(),
            Sources::Arrow(sources) => sources[index].name().to_owned(),
        }
    }

    /// Every input's name, by position.
    pub(crate) fn names(&self) -> PerInput<String> {
        (0..self.len()).map(|index| self.display(index)).collect()
    }

    /// Input `index` as the path an error names (empty when there is no such input).
    pub(crate) fn path(&self, index: usize) -> PathBuf {
        match self {
            Sources::Paths(paths) => paths.get(index).map(InputPath::path),
            Sources::Arrow(sources) => sources.get(index).map(|s| PathBuf::from(s.name())),
        }
        .unwrap_or_default()
    }

    /// The file behind input `index`, when it is one.
    pub(crate) fn input_path(&self, index: usize) -> Option<&InputPath> {
        match self {
            Sources::Paths(paths) => Some(&paths[index]),
            Sources::Arrow(_) => None,
        }
    }

    /// The first input that can be read only once: stdin, a file that is not a regular file
    /// (a FIFO, a device, a socket, whose second opening would wait for a writer or read
    /// other bytes), or an Arrow stream.
    pub(crate) fn readable_once(&self) -> Option<String> {
        match self {
            Sources::Paths(paths) => paths
                .iter()
                .find(|input| !crate::read::reopenable(input))
                .map(InputPath::display),
            Sources::Arrow(sources) => sources
                .iter()
                .find(|source| !source.readable_again())
                .map(|source| format!("the Arrow stream '{}'", source.name())),
        }
    }

    /// Opens input `index` for its header.
    pub(crate) fn open(&self, index: usize, config: &RunConfig) -> Result<Input> {
        match self {
            Sources::Paths(paths) => Input::open(index, &paths[index], &config.read, config.format),
            Sources::Arrow(sources) => Ok(Input::Arrow(sources[index].open(index)?)),
        }
    }

    /// An opened input waiting for its turn (see [`Pending`]).
    pub(crate) fn pending(&self, input: Input, config: &RunConfig) -> Pending {
        match self {
            Sources::Paths(paths) => {
                let index = input.index().index();
                Pending::after_header(input, &paths[index], &config.read, config.format)
            }
            // Held batches cost nothing to keep open; a stream can be opened once.
            Sources::Arrow(_) => Pending::Open(input),
        }
    }
}

//! Reading for `voucher-import`: the edge where untrusted bytes come in. A source (a file or
//! stdin, plain, gzip or zstd, UTF-8, UTF-16 or a legacy encoding) becomes chunks of raw
//! records, every field kept as bytes, every record with its data-row number and starting line.
//! Broken records are flagged here (wrong field count, stray quote, NUL byte, unclosed quote,
//! past the size bound, bytes that are not UTF-8) and travel on as rows to be rejected; nothing
//! is inferred, dropped or read twice. Kept free of the query engine so it can be fuzzed alone.

#![warn(missing_docs)]

pub mod decode;
mod fuzzing;
mod gzip;
mod open;
mod record;
pub mod source;
pub mod split;

use std::io;
use std::path::PathBuf;

use sha2::{Digest, Sha256};

pub use decode::TextEncoding;
pub use fuzzing::{account, large_records, options_from_byte};
pub use open::OpenInput;
pub use record::{
    record_text, Chunk, FileDigest, InputId, PerInput, Record, RecordProblem, RecordText,
};
pub use source::{Compression, InputPath};
pub use split::{Damage, SplitOptions};

/// Records per chunk at most: the unit of parallel rule evaluation and of memory.
pub const CHUNK_ROWS: usize = 8192;

/// Bytes of records per chunk: a chunk is cut when it holds this much even if it has fewer
/// than [`CHUNK_ROWS`] records, so that the chunks in flight (a few per worker) take memory in
/// proportion to bytes, not to the size of the largest records (8192 records of 100 KB would
/// be 800 MB a chunk). Ordinary voucher rows (under 500 bytes) never reach it.
pub const CHUNK_BYTES: usize = 2 << 20;

/// Why a file cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Reading the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        #[source]
        /// What the system said.
        source: io::Error,
    },
    /// The file as a whole is not a CSV we can read (empty, binary, broken compression).
    #[error("{path}: {message}\n  fix: {fix}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
        /// How to fix it.
        fix: String,
    },
}

/// How to read CSV input.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    /// How records are split into fields.
    pub split: SplitOptions,
    /// The encoding when the file has no BOM; None is UTF-8.
    pub encoding: Option<TextEncoding>,
    /// Leave the UTF-8 check of each record to the consumer (who decodes the fields anyway,
    /// perhaps on other threads): [`RecordProblem::InvalidEncoding`] is then never set. See
    /// [`record_text`].
    pub defer_utf8_check: bool,
}

/// Lowercase hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The sha256 of a byte slice, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests;

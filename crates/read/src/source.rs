//! Byte sources: a file or standard input, decompressed when it is gzip or zstd (by extension or
//! by magic bytes), decoded to UTF-8 when it is UTF-16 or in the encoding the user named, and
//! hashed (sha256 of the bytes as stored) on the way.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use crate::decode::{self, TextEncoding, Transcoder};
use crate::gzip::GzipMembers;
pub use crate::gzip::TrailingZeros;

/// Where an input comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputPath {
    /// Standard input (`-`).
    Stdin,
    /// A file.
    File(PathBuf),
}

impl InputPath {
    /// `-` is standard input, anything else a file.
    pub fn from_arg(arg: &Path) -> Self {
        if arg.as_os_str() == "-" {
            InputPath::Stdin
        } else {
            InputPath::File(arg.to_owned())
        }
    }

    /// How messages and reports name it.
    pub fn display(&self) -> String {
        match self {
            InputPath::Stdin => "<stdin>".to_owned(),
            InputPath::File(p) => p.display().to_string(),
        }
    }

    /// The path for messages (`<stdin>` for standard input).
    pub fn path(&self) -> PathBuf {
        match self {
            InputPath::Stdin => PathBuf::from("<stdin>"),
            InputPath::File(p) => p.clone(),
        }
    }
}

/// How the stored bytes are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain bytes.
    None,
    /// gzip (`.gz`).
    Gzip,
    /// Zstandard (`.zst`).
    Zstd,
}

impl Compression {
    /// The compression's name in messages (`gzip`, `zstd`).
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "plain",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// From the magic bytes at the start of the stream. A stream named `.gz` or `.zst` without
    /// them is refused ([`NotCompressed`]): its name and its bytes disagree.
    fn detect(head: &[u8], name: &str) -> io::Result<Self> {
        if head.starts_with(&[0x1F, 0x8B]) {
            Ok(Compression::Gzip)
        } else if head.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]) {
            Ok(Compression::Zstd)
        } else if let Some(claimed) = [(".gz", "gzip"), (".zst", "zstd")]
            .into_iter()
            .find(|(ending, _)| name.ends_with(ending))
        {
            Err(io::Error::new(
                io::ErrorKind::InvalidData,
                NotCompressed {
                    ending: claimed.0,
                    format: claimed.1,
                },
            ))
        } else {
            Ok(Compression::None)
        }
    }
}

/// A file named as compressed whose bytes are not.
#[derive(Debug)]
pub struct NotCompressed {
    /// The file name's ending (`.gz`).
    pub ending: &'static str,
    /// The format it names (`gzip`).
    pub format: &'static str,
}

impl std::fmt::Display for NotCompressed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the file is named {} but is not {}-compressed",
            self.ending, self.format
        )
    }
}

impl std::error::Error for NotCompressed {}

/// The running sha256 and byte count of what has been read from the stored bytes.
#[derive(Debug, Clone, Default)]
pub struct HashHandle(Arc<Mutex<(Sha256, u64)>>);

impl HashHandle {
    /// How many stored bytes have been read so far (a little ahead of the records handed
    /// out: reads are buffered).
    pub fn bytes_read(&self) -> u64 {
        self.0.lock().expect("hash lock").1
    }

    /// The hex sha256 and size of everything read so far.
    pub fn finish(&self) -> (String, u64) {
        let state = self.0.lock().expect("hash lock");
        (crate::hex(&state.0.clone().finalize()), state.1)
    }
}

struct Hashing<R> {
    inner: R,
    state: HashHandle,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut state = self.state.0.lock().expect("hash lock");
        state.0.update(&buf[..n]);
        state.1 += n as u64;
        Ok(n)
    }
}

/// An opened source: text bytes ready to split, and what was learned opening it.
pub struct OpenedSource {
    /// The text, decompressed and decoded to UTF-8.
    pub text: Box<dyn Read + Send>,
    /// The sha256 of the stored bytes, complete once the text is read to its end.
    pub hash: HashHandle,
    /// The compression found.
    pub compression: Compression,
    /// The encoding found (a byte-order mark) or given.
    pub encoding: TextEncoding,
    /// The zero bytes after the last gzip member, counted once the text is read to its end.
    pub trailing_zeros: TrailingZeros,
}

/// Opens a file or stdin as UTF-8 text (see the module doc).
pub fn open(path: &InputPath, label: Option<TextEncoding>) -> io::Result<OpenedSource> {
    let raw: Box<dyn Read + Send> = match path {
        InputPath::Stdin => Box::new(io::stdin()),
        InputPath::File(p) => Box::new(File::open(p)?),
    };
    open_reader(raw, &path.display(), label)
}

/// Opens any byte stream; `name` (a file name) helps detect compression.
pub fn open_reader(
    raw: Box<dyn Read + Send>,
    name: &str,
    label: Option<TextEncoding>,
) -> io::Result<OpenedSource> {
    let hash = HashHandle::default();
    let mut stored = BufReader::with_capacity(
        64 * 1024,
        Hashing {
            inner: raw,
            state: hash.clone(),
        },
    );
    let compression = Compression::detect(stored.fill_buf()?, name)?;
    let mut trailing_zeros = TrailingZeros::default();
    let decompressed: Box<dyn Read + Send> = match compression {
        Compression::None => Box::new(stored),
        Compression::Gzip => {
            let (members, zeros) = GzipMembers::new(stored);
            trailing_zeros = zeros;
            Box::new(members)
        }
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(stored)?),
    };
    let mut text = BufReader::with_capacity(64 * 1024, decompressed);
    let encoding = decode::sniff(&mut text, label)?;
    let text: Box<dyn Read + Send> = match encoding {
        TextEncoding::Utf8 => Box::new(text),
        TextEncoding::Other(e) => Box::new(Transcoder::new(text, e)),
    };
    Ok(OpenedSource {
        text,
        hash,
        compression,
        encoding,
        trailing_zeros,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn text_of(bytes: Vec<u8>, name: &str) -> (Vec<u8>, Compression) {
        let mut opened = open_reader(Box::new(io::Cursor::new(bytes)), name, None).unwrap();
        let mut out = Vec::new();
        opened.text.read_to_end(&mut out).unwrap();
        (out, opened.compression)
    }

    #[test]
    fn gzip_and_zstd_are_found_by_magic() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"Code\nA\n").unwrap();
        let (text, c) = text_of(gz.finish().unwrap(), "no-extension");
        assert_eq!((text.as_slice(), c), (&b"Code\nA\n"[..], Compression::Gzip));
        let zst = zstd::encode_all(&b"Code\nB\n"[..], 3).unwrap();
        let (text, c) = text_of(zst, "x.csv");
        assert_eq!((text.as_slice(), c), (&b"Code\nB\n"[..], Compression::Zstd));
    }

    #[test]
    fn a_truncated_gzip_stream_is_an_error() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&b"Code\nA\n".repeat(1000)).unwrap();
        let mut bytes = gz.finish().unwrap();
        bytes.truncate(bytes.len() / 2);
        let mut opened = open_reader(Box::new(io::Cursor::new(bytes)), "t.csv.gz", None).unwrap();
        let mut out = Vec::new();
        assert!(opened.text.read_to_end(&mut out).is_err());
    }

    #[test]
    fn the_hash_covers_the_stored_bytes() {
        let bytes = b"Code\nA\n".to_vec();
        let mut opened =
            open_reader(Box::new(io::Cursor::new(bytes.clone())), "x.csv", None).unwrap();
        io::copy(&mut opened.text, &mut io::sink()).unwrap();
        let (sha, size) = opened.hash.finish();
        assert_eq!(size, bytes.len() as u64);
        assert_eq!(sha, crate::sha256_hex(&bytes));
    }
}

//! gzip streams read member by member, as `gzip -d` reads them: members one after another are
//! one text, and zero bytes after the last member (the padding tape and block devices, and some
//! upload tools, leave) are counted and skipped, not taken for a broken stream. Anything else
//! after a member is an error.

use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use flate2::bufread::GzDecoder;

/// How many zero bytes followed the last gzip member, once the stream is read to its end.
#[derive(Debug, Clone, Default)]
pub struct TrailingZeros(Arc<AtomicU64>);

impl TrailingZeros {
    /// The zero bytes skipped after the last member.
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The text of every member of a gzip stream, in order.
pub(crate) struct GzipMembers<R: BufRead> {
    state: State<R>,
    trailing_zeros: TrailingZeros,
}

enum State<R: BufRead> {
    /// Inside a member.
    Member(Box<GzDecoder<R>>),
    /// Between members (or before the first): what comes next is still to be looked at.
    Between(R),
    /// The stream has ended.
    Done,
}

impl<R: BufRead> GzipMembers<R> {
    pub(crate) fn new(stored: R) -> (Self, TrailingZeros) {
        let trailing_zeros = TrailingZeros::default();
        let members = GzipMembers {
            state: State::Member(Box::new(GzDecoder::new(stored))),
            trailing_zeros: trailing_zeros.clone(),
        };
        (members, trailing_zeros)
    }
}

impl<R: BufRead> Read for GzipMembers<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match std::mem::replace(&mut self.state, State::Done) {
                State::Done => return Ok(0),
                State::Member(mut decoder) => {
                    let n = decoder.read(buf)?;
                    if n > 0 {
                        self.state = State::Member(decoder);
                        return Ok(n);
                    }
                    self.state = State::Between(decoder.into_inner());
                }
                State::Between(mut stored) => {
                    let next = stored.fill_buf()?;
                    if next.is_empty() {
                        return Ok(0);
                    }
                    if next.starts_with(&[0x1f]) {
                        self.state = State::Member(Box::new(GzDecoder::new(stored)));
                        continue;
                    }
                    if next[0] != 0 {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "bytes after the end of the gzip data are neither another gzip member nor zero padding",
                        ));
                    }
                    skip_zeros(stored, &self.trailing_zeros)?;
                    return Ok(0);
                }
            }
        }
    }
}

/// Reads zero bytes to the end of the stream, counting them; a byte other than zero is an
/// error (a member after padding is not something `gzip -d` reads either).
fn skip_zeros<R: BufRead>(mut stored: R, count: &TrailingZeros) -> io::Result<()> {
    loop {
        let next = stored.fill_buf()?;
        if next.is_empty() {
            return Ok(());
        }
        let zeros = next.iter().take_while(|b| **b == 0).count();
        let len = next.len();
        stored.consume(zeros);
        count.0.fetch_add(zeros as u64, Ordering::Relaxed);
        if zeros < len {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "zero padding after the gzip data is followed by other bytes",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(text: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(text).unwrap();
        encoder.finish().unwrap()
    }

    fn read_all(bytes: Vec<u8>) -> io::Result<(Vec<u8>, u64)> {
        let (mut members, zeros) = GzipMembers::new(io::BufReader::with_capacity(7, &bytes[..]));
        let mut out = Vec::new();
        members.read_to_end(&mut out)?;
        Ok((out, zeros.count()))
    }

    #[test]
    fn members_one_after_another_are_one_text() {
        let mut bytes = gz(b"Code\nA\n");
        bytes.extend(gz(b"B\n"));
        assert_eq!(read_all(bytes).unwrap(), (b"Code\nA\nB\n".to_vec(), 0));
    }

    #[test]
    fn gzip_with_trailing_zero_padding_is_read_and_the_zeros_counted() {
        let mut bytes = gz(&b"Code\nA\n".repeat(100));
        bytes.extend(std::iter::repeat_n(0u8, 1000));
        let (text, zeros) = read_all(bytes).unwrap();
        assert_eq!((text.len(), zeros), (700, 1000));
    }

    #[test]
    fn garbage_after_the_gzip_data_is_an_error() {
        let mut bytes = gz(b"Code\nA\n");
        bytes.extend(b"junk");
        assert!(read_all(bytes).is_err());
        let mut padded_then_junk = gz(b"Code\nA\n");
        padded_then_junk.extend([0, 0, 0, b'x']);
        assert!(read_all(padded_then_junk).is_err());
    }
}

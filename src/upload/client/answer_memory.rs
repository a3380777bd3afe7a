//! The memory the answers of one upload may take together, whatever `--parallel` is: each
//! worker reads an answer up to its share freely; an answer that outgrows the share goes on
//! only while it holds the one large-answer slot, which may take half of the whole. So all the
//! answers in memory at once stay within the limit (shares + the slot), and a single answer
//! may still take `share + limit / 2` (the whole limit when one batch is in flight).

use std::io::{self, Read};
use std::sync::Mutex;

/// The limit shared by every answer in flight on one client.
#[derive(Debug)]
pub(crate) struct AnswerMemory {
    /// What one answer may take without the large-answer slot.
    share: u64,
    /// What the large-answer slot adds.
    slot: u64,
    large_answer: Mutex<()>,
}

/// An answer's bytes, with the large-answer slot when it took it.
pub(crate) struct HeldAnswer<'a> {
    pub(crate) bytes: Vec<u8>,
    _slot: Option<std::sync::MutexGuard<'a, ()>>,
}

/// Why an answer was not read whole.
#[derive(Debug)]
pub(crate) enum ReadAnswerError {
    /// The answer is longer than one answer may be.
    TooLarge { limit: u64 },
    /// The connection failed while reading.
    Io(io::Error),
}

impl AnswerMemory {
    /// `limit` bytes for all answers together, `in_flight` requests at most at once.
    pub(crate) fn new(limit: u64, in_flight: usize) -> Self {
        let slot = limit / 2;
        AnswerMemory {
            // Less one byte: a reader holds one byte past its stage to know that more follow.
            share: ((limit - slot) / (in_flight.max(1) as u64)).saturating_sub(1),
            slot,
            large_answer: Mutex::new(()),
        }
    }

    /// The longest answer read.
    pub(crate) fn largest_answer(&self) -> u64 {
        self.share + self.slot
    }

    /// Reads a whole body within the shared limit (see the module doc). The buffer never
    /// grows past the stage it is in, so its allocation stays within it too. A large answer
    /// keeps the slot until it is dropped.
    pub(crate) fn read(&self, mut body: impl Read) -> Result<HeldAnswer<'_>, ReadAnswerError> {
        let mut bytes = Vec::new();
        if read_up_to(&mut body, &mut bytes, self.share)? {
            return Ok(HeldAnswer { bytes, _slot: None });
        }
        // Waiting for the slot is waiting for another large answer to be read (bounded by the
        // HTTP timeout): it never waits on anything this thread holds.
        let slot = self
            .large_answer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if read_up_to(&mut body, &mut bytes, self.share + self.slot)? {
            return Ok(HeldAnswer {
                bytes,
                _slot: Some(slot),
            });
        }
        Err(ReadAnswerError::TooLarge {
            limit: self.largest_answer(),
        })
    }
}

/// Reads into `bytes` until the body ends (true) or `bytes` holds `limit` bytes and more
/// follow (false).
fn read_up_to(
    body: &mut impl Read,
    bytes: &mut Vec<u8>,
    limit: u64,
) -> Result<bool, ReadAnswerError> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut chunk = [0u8; 64 * 1024];
    loop {
        let room = limit.saturating_sub(bytes.len());
        // One byte past the room tells a body that ends exactly at the limit from a longer one.
        let want = chunk.len().min(room + 1);
        let n = match body.read(&mut chunk[..want]) {
            Ok(0) => return Ok(true),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ReadAnswerError::Io(e)),
        };
        if bytes.capacity() - bytes.len() < n {
            // Doubling, but never past the stage's limit (plus the probing byte).
            let needed = bytes.len() + n;
            let grown = (bytes.capacity() * 2).clamp(needed, (limit + 1).max(needed));
            bytes.reserve_exact(grown - bytes.len());
        }
        bytes.extend_from_slice(&chunk[..n]);
        if n > room {
            // The byte past the room is kept: the caller goes on from here or drops it all.
            return Ok(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    #[test]
    fn one_batch_in_flight_reads_an_answer_up_to_the_whole_limit() {
        let memory = AnswerMemory::new(1000, 1);
        assert_eq!(memory.largest_answer(), 999);
        assert_eq!(memory.read(&[7u8; 999][..]).unwrap().bytes.len(), 999);
        assert!(matches!(
            memory.read(&[7u8; 1000][..]),
            Err(ReadAnswerError::TooLarge { limit: 999 })
        ));
        let eight = AnswerMemory::new(1000, 8);
        assert_eq!(eight.largest_answer(), 61 + 500);
    }

    /// A body that counts the bytes held by every reader at once: what each has handed out
    /// and not yet seen dropped.
    struct Counted {
        left: usize,
        held: Arc<AtomicU64>,
        peak: Arc<AtomicU64>,
    }

    impl Read for Counted {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.left).min(4096);
            self.left -= n;
            let now = self.held.fetch_add(n as u64, Ordering::SeqCst) + n as u64;
            self.peak.fetch_max(now, Ordering::SeqCst);
            std::thread::yield_now();
            Ok(n)
        }
    }

    #[test]
    fn parallel_answers_together_stay_within_the_limit() {
        let limit = 1 << 20;
        let memory = AnswerMemory::new(limit, 8);
        let held = Arc::new(AtomicU64::new(0));
        let peak = Arc::new(AtomicU64::new(0));
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    for _ in 0..5 {
                        let body = Counted {
                            // Each answer larger than its share, within the largest answer.
                            left: (memory.largest_answer() - 1) as usize,
                            held: held.clone(),
                            peak: peak.clone(),
                        };
                        let answer = memory.read(body).unwrap();
                        held.fetch_sub(answer.bytes.len() as u64, Ordering::SeqCst);
                        drop(answer);
                    }
                });
            }
        });
        let peak = peak.load(Ordering::SeqCst);
        assert!(peak <= limit, "{peak} bytes held at once, over {limit}");
        assert!(peak > limit / 2, "the answers did overlap ({peak})");
    }
}

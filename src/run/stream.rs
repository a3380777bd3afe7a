//! The reader thread and the worker pool: chunks are read in order, evaluated in parallel,
//! and handed to the finisher in input order.

use std::sync::mpsc;

use rayon::prelude::*;

use super::evaluate::Evaluated;
use super::finish::Finisher;
use crate::config::RunConfig;
use crate::error::{Error, Result};
use crate::read::{Chunk, FileDigest, Pending};

pub(super) enum ReadEvent {
    Chunk(Chunk),
    FileDone(FileDigest),
}

pub(super) enum Prepared {
    Chunk(Box<Evaluated>),
    FileDone(FileDigest),
}

/// Reads the inputs on a thread of its own and hands `handle` the events in input order, a
/// window at a time (as many as are ready, up to twice the worker count), so that rules run in
/// parallel while memory stays bounded by the channel and the window.
pub(super) fn stream(
    inputs: Vec<Pending>,
    threads: usize,
    cancel: &crate::interrupt::Cancel,
    mut handle: impl FnMut(Vec<ReadEvent>) -> Result<()>,
) -> Result<()> {
    let window = threads.max(1) * 2;
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel::<ReadEvent>(window);
        let reader = std::thread::Builder::new()
            .name("reader".into())
            .spawn_scoped(scope, move || -> Result<()> {
                for input in inputs {
                    // One input open at a time.
                    let input = input.open()?;
                    // An interrupted run stops reading; the consumer reports it.
                    let digest = input.read_records(|chunk| {
                        !cancel.requested() && tx.send(ReadEvent::Chunk(chunk)).is_ok()
                    })?;
                    let delivered = match digest {
                        Some(digest) => tx.send(ReadEvent::FileDone(digest)).is_ok(),
                        None => false,
                    };
                    if !delivered {
                        return Ok(()); // the consumer stopped: its error is reported
                    }
                }
                Ok(())
            })
            .map_err(Error::thread("reader thread"))?;
        let consumed = (|| -> Result<()> {
            while let Ok(first) = rx.recv() {
                cancel.check()?;
                let mut events = vec![first];
                while events.len() < window {
                    match rx.try_recv() {
                        Ok(event) => events.push(event),
                        Err(_) => break,
                    }
                }
                handle(events)?;
            }
            // The reader also stops when interrupted: the run must not look complete.
            cancel.check()
        })();
        drop(rx);
        let read = reader
            .join()
            .unwrap_or_else(|_| Err(Error::Invariant("the reader thread panicked".into())));
        read.and(consumed)
    })
}

/// Streams `inputs` through `evaluate` on `pool` (in parallel, a window at a time) into
/// `finisher`, which runs on a thread of its own so that dedup and writing of one window
/// overlap normalization and rules of the next. Gives the finisher back once every row is in.
pub(super) fn judge_all<'a>(
    inputs: Vec<Pending>,
    mut finisher: Finisher<'a>,
    config: &RunConfig,
    pool: &rayon::ThreadPool,
    evaluate: impl Fn(Chunk) -> Result<Evaluated> + Sync,
) -> Result<Finisher<'a>> {
    std::thread::scope(|scope| -> Result<Finisher> {
        let (done_tx, done_rx) = mpsc::sync_channel::<Prepared>(config.threads.max(1) * 2);
        let finishing = std::thread::Builder::new()
            .name("finisher".into())
            .spawn_scoped(scope, move || -> Result<Finisher> {
                for item in done_rx {
                    match item {
                        Prepared::Chunk(evaluated) => finisher.finish_chunk(*evaluated)?,
                        Prepared::FileDone(digest) => finisher.file_done(digest),
                    }
                }
                Ok(finisher)
            })
            .map_err(Error::thread("finisher thread"))?;
        let streamed = stream(inputs, config.threads, &config.cancel, |events| {
            let prepared: Vec<Result<Prepared>> = pool.install(|| {
                events
                    .into_par_iter()
                    .map(|event| match event {
                        ReadEvent::Chunk(chunk) => {
                            evaluate(chunk).map(|evaluated| Prepared::Chunk(Box::new(evaluated)))
                        }
                        ReadEvent::FileDone(digest) => Ok(Prepared::FileDone(digest)),
                    })
                    .collect()
            });
            for item in prepared {
                if done_tx.send(item?).is_err() {
                    // The finisher stopped on an error, which is the one reported.
                    return Err(Error::Invariant("the finisher stopped".into()));
                }
            }
            Ok(())
        });
        drop(done_tx);
        let finished = finishing
            .join()
            .unwrap_or_else(|_| Err(Error::Invariant("the finisher thread panicked".into())));
        let finisher = finished?;
        streamed?;
        Ok(finisher)
    })
}

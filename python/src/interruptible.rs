//! A run with the GIL released that Ctrl-C stops: the work runs on a thread of its own while
//! Python's thread waits, looking for signals every 50 ms; a KeyboardInterrupt cancels the
//! run (its cancellation handle), waits until it has stopped (its staging folder removed) and
//! is raised.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use pyo3::prelude::*;
use voucher_import::Cancel;

use crate::errors;

/// How often the waiting thread looks for a Ctrl-C.
const SIGNAL_CHECK: Duration = Duration::from_millis(50);

/// Runs `work` on its own thread; see the module.
pub fn run<T: Send + 'static>(
    py: Python<'_>,
    cancel: &Cancel,
    work: impl FnOnce() -> T + Send + 'static,
) -> PyResult<T> {
    let (sender, mut receiver) = mpsc::channel();
    let worker = std::thread::Builder::new()
        .name("voucher-import-run".to_owned())
        .spawn(move || {
            let _ = sender.send(work());
        })
        .map_err(|e| errors::internal(format!("the run's thread did not start: {e}")))?;
    loop {
        // The receiver is not Sync: it goes into the GIL-free wait and comes back.
        let (back, received) = py.allow_threads(move || {
            let received = receiver.recv_timeout(SIGNAL_CHECK);
            (receiver, received)
        });
        receiver = back;
        match received {
            Ok(value) => {
                let _ = py.allow_threads(|| worker.join());
                return Ok(value);
            }
            Err(RecvTimeoutError::Timeout) => {
                if let Err(interrupt) = py.check_signals() {
                    cancel.cancel();
                    let _ = py.allow_threads(|| worker.join());
                    return Err(interrupt);
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                let _ = py.allow_threads(|| worker.join());
                return Err(errors::internal(
                    "the run's thread stopped without a result (a panic)",
                ));
            }
        }
    }
}

//! Stopping a run from outside: a [`Cancel`] handle is part of a run's configuration (and of an
//! upload's options); whoever holds a clone of it (the binary's Ctrl-C handler, a pipeline's
//! own timeout) can ask the run to stop. The run looks at it between chunks and requests and
//! stops with [`crate::Error::Interrupted`], so the staging folder is removed and nothing
//! half-written is left. The library installs no signal handler and keeps no global state.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A run's cancellation handle: cheap to clone, every clone the same.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// A handle nobody has cancelled.
    pub fn new() -> Self {
        Cancel::default()
    }

    /// Asks the run to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// The flag itself, for a signal handler to set (`signal_hook::flag::register`).
    pub fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.0)
    }

    /// Whether the run has been asked to stop.
    pub fn requested(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Fails with [`crate::Error::Interrupted`] when the run has been asked to stop.
    pub fn check(&self) -> crate::Result<()> {
        if self.requested() {
            Err(crate::Error::Interrupted)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_clone_sees_the_cancel() {
        let cancel = Cancel::new();
        let held = cancel.clone();
        assert!(held.check().is_ok());
        cancel.cancel();
        assert!(held.requested());
        assert!(matches!(held.check(), Err(crate::Error::Interrupted)));
    }
}

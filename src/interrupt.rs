//! Stopping a run from outside (Ctrl-C): the binary's signal handler sets [`flag`]; the
//! pipeline looks at [`requested`] between chunks and stops with [`crate::Error::Interrupted`],
//! so the staging folder is removed and nothing half-written is left. The library installs no
//! handler itself.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};

static REQUESTED: LazyLock<Arc<AtomicBool>> = LazyLock::new(|| Arc::new(AtomicBool::new(false)));

/// The flag a signal handler sets to ask the run to stop.
pub fn flag() -> Arc<AtomicBool> {
    Arc::clone(&REQUESTED)
}

/// Whether the run has been asked to stop.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}

/// Fails with [`crate::Error::Interrupted`] when the run has been asked to stop.
pub fn check() -> crate::Result<()> {
    if requested() {
        Err(crate::Error::Interrupted)
    } else {
        Ok(())
    }
}

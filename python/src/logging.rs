//! The engine's log records (the `log` facade: phase timings, inputs opened, rules compiled) as
//! records of Python's `logging`, logger `voucher_import`: a pipeline sees them in its own logs
//! (an Airflow task's log) at the level it sets there. Installed on the first `prepare()` or
//! `upload()`, not at import, so that `python -m voucher_import -v` keeps the command line's
//! own stderr logger.

use std::sync::OnceLock;

use log::{Level, LevelFilter, Log, Metadata, Record};
use pyo3::prelude::*;

/// The Python logger the records go to.
const LOGGER: &str = "voucher_import";

struct PythonLogger {
    logger: Py<PyAny>,
}

impl Log for PythonLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.target().starts_with("voucher_import") && metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        // Python's numbers for the levels (TRACE below DEBUG).
        let level = match record.level() {
            Level::Error => 40,
            Level::Warn => 30,
            Level::Info => 20,
            Level::Debug => 10,
            Level::Trace => 5,
        };
        let message = format!("{} ({})", record.args(), record.target());
        Python::with_gil(|py| {
            // A handler that fails is Python's to report; the run goes on.
            if let Err(e) = self
                .logger
                .bind(py)
                .call_method1("log", (level, "%s", message))
            {
                e.print(py);
            }
        });
    }

    fn flush(&self) {}
}

/// Whether this process's `log` records go to Python (false when another logger was there
/// first: the command line's, after `python -m voucher_import`).
static INSTALLED: OnceLock<bool> = OnceLock::new();

/// Sends the engine's records to Python's `voucher_import` logger from now on, at the level
/// that logger has now (read again at every call: `logging.getLogger("voucher_import")
/// .setLevel(logging.DEBUG)` between calls takes effect).
pub fn follow_python(py: Python<'_>) -> PyResult<()> {
    let logger = py.import("logging")?.call_method1("getLogger", (LOGGER,))?;
    let level: u32 = logger.call_method0("getEffectiveLevel")?.extract()?;
    let installed = *INSTALLED.get_or_init(|| {
        // Once per process, for the process's life (`set_boxed_logger` needs log's `std`
        // feature, which would rebuild DataFusion).
        let ours: &'static PythonLogger = Box::leak(Box::new(PythonLogger {
            logger: logger.clone().unbind(),
        }));
        log::set_logger(ours).is_ok()
    });
    if installed {
        log::set_max_level(match level {
            0..=5 => LevelFilter::Trace,
            6..=10 => LevelFilter::Debug,
            11..=20 => LevelFilter::Info,
            21..=30 => LevelFilter::Warn,
            31..=40 => LevelFilter::Error,
            _ => LevelFilter::Off,
        });
    }
    Ok(())
}

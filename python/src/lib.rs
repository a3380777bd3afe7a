//! `voucher_import._native`: the engine for the Python package.
//!
//! The Python side (`voucher_import/__init__.py`) turns keyword arguments into command-line
//! options and DataFrames into Arrow C streams; this side parses the options with the
//! command line's own definitions (so that a value means in Python what it means on the
//! command line), runs the engine on a thread of its own with the GIL released, and hands back
//! the rows as Arrow C streams (no copy either way) and the summary as JSON. Errors come back as `NativeError`
//! carrying the error report as JSON, which the Python side raises as the class of its kind.

use pyo3::prelude::*;

/// The command line's crate: `python -m voucher_import` is the same command as the
/// `voucher-import` binary.
use voucher_import::cli;
mod c_stream;
mod errors;
mod interruptible;
mod logging;
mod prepare;
mod upload;

/// mimalloc, as in the binary: the engine allocates on one thread and frees on another. Only
/// the extension's Rust allocations use it; Python's objects keep Python's allocator. The
/// buffers of the rows handed back are the engine's, freed through it when pyarrow releases
/// them, on whichever thread.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Runs the command line `argv` (the program's name first) in this process and gives its exit
/// code; the GIL is released meanwhile. The command handles Ctrl-C itself (exit code 130).
#[pyfunction]
#[pyo3(name = "cli")]
fn run_cli(py: Python<'_>, argv: Vec<std::ffi::OsString>) -> u8 {
    py.allow_threads(|| cli::main(argv))
}

#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    module.add("NativeError", module.py().get_type::<errors::NativeError>())?;
    module.add_function(wrap_pyfunction!(run_cli, module)?)?;
    module.add_function(wrap_pyfunction!(prepare::prepare, module)?)?;
    module.add_function(wrap_pyfunction!(prepare::prepare_options, module)?)?;
    module.add_function(wrap_pyfunction!(upload::upload, module)?)?;
    module.add_function(wrap_pyfunction!(upload::upload_options, module)?)?;
    module.add_class::<c_stream::ArrowStream>()?;
    Ok(())
}

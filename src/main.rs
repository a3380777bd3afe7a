//! The `voucher-import` binary: the command line ([`voucher_import::cli`]) on the process's
//! arguments.

use std::process::ExitCode;

/// mimalloc: the pipeline allocates on one thread and frees on another (chunks travel from the
/// reader to the workers to the finisher), which glibc's allocator handles slowly.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    ExitCode::from(voucher_import::cli::main(std::env::args_os().collect()))
}

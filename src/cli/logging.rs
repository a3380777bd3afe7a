//! Logging to stderr for `-v`/`-vv` and `RUST_LOG`: the library logs through the `log` facade
//! (phase timings, inputs opened, rules compiled); this is the binary's logger. Only the
//! tool's own records are shown unless `RUST_LOG` names another target.
//!
//! No record shows a credential: every record, whatever its target, passes through the
//! redactor of `VOUCHERIFY_APP_ID` and `VOUCHERIFY_APP_TOKEN` before it is written, and the
//! HTTP libraries' trace records (hex dumps of the request head, where a secret is cut into
//! rows no redactor can join) are never shown: `ureq`, `ureq_proto` and `rustls` show at most
//! debug.

use std::io::Write;
use std::time::Instant;

use crate::upload::Redactor;
use log::{Level, LevelFilter, Log, Metadata, Record};

/// A target prefix and the most verbose level shown for it.
type Directive = (String, LevelFilter);

/// The HTTP libraries, whose trace records dump the request head (credentials included) as
/// hex rows: shown at most at debug, whatever `RUST_LOG` says.
const HTTP_TARGETS: [&str; 2] = ["ureq", "rustls"];

struct StderrLogger {
    directives: Vec<Directive>,
    started: Instant,
    /// The credentials of the environment, replaced in every record.
    redactor: Redactor,
}

impl StderrLogger {
    fn level_for(&self, target: &str) -> LevelFilter {
        // The longest matching prefix decides.
        let level = self
            .directives
            .iter()
            .filter(|(prefix, _)| target.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())
            .map_or(LevelFilter::Off, |(_, level)| *level);
        if HTTP_TARGETS.iter().any(|http| target.starts_with(http)) {
            level.min(LevelFilter::Debug)
        } else {
            level
        }
    }
}

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= self.level_for(metadata.target())
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let level = match record.level() {
            Level::Error => "ERROR",
            Level::Warn => "WARN ",
            Level::Info => "INFO ",
            Level::Debug => "DEBUG",
            Level::Trace => "TRACE",
        };
        let text = format!("{}", record.args());
        // Never eprintln!: it panics when stderr is closed.
        let _ = writeln!(
            std::io::stderr().lock(),
            "[{:>8.3}s {level} {}] {}",
            self.started.elapsed().as_secs_f64(),
            record.target(),
            self.redactor.text(&text)
        );
    }

    fn flush(&self) {}
}

/// `RUST_LOG` as directives: `debug`, or `voucher_import=debug,datafusion=info`. A bare level
/// applies to the tool's own targets.
fn parse(spec: &str) -> Vec<Directive> {
    spec.split(',')
        .filter_map(|part| {
            let part = part.trim();
            match part.split_once('=') {
                Some((target, level)) => {
                    Some((target.trim().to_owned(), level.trim().parse().ok()?))
                }
                None => Some(("voucher_import".to_owned(), part.parse().ok()?)),
            }
        })
        .collect()
}

/// Installs the logger: `verbose` 1 shows info (phases and their timings), 2 and more debug
/// (inputs opened, rules compiled); `RUST_LOG` adds to that. Nothing is installed when neither
/// asks for anything.
pub fn init(verbose: u8) {
    let mut directives: Vec<Directive> = match verbose {
        0 => Vec::new(),
        1 => vec![("voucher_import".to_owned(), LevelFilter::Info)],
        _ => vec![("voucher_import".to_owned(), LevelFilter::Debug)],
    };
    if let Ok(spec) = std::env::var("RUST_LOG") {
        directives.extend(parse(&spec));
    }
    if directives.is_empty() {
        return;
    }
    let max = directives
        .iter()
        .map(|(_, level)| *level)
        .max()
        .unwrap_or(LevelFilter::Off);
    let secrets: Vec<String> = ["VOUCHERIFY_APP_ID", "VOUCHERIFY_APP_TOKEN"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .collect();
    let logger = StderrLogger {
        directives,
        started: Instant::now(),
        redactor: Redactor::new(&secrets.iter().map(String::as_str).collect::<Vec<_>>()),
    };
    // The logger lives as long as the process (what `set_boxed_logger` does, without the
    // `std` feature of `log`, which would rebuild every crate that logs).
    if log::set_logger(Box::leak(Box::new(logger))).is_ok() {
        log::set_max_level(max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_log_takes_a_bare_level_or_targets() {
        assert_eq!(
            parse("debug"),
            [("voucher_import".to_owned(), LevelFilter::Debug)]
        );
        assert_eq!(
            parse("voucher_import::run=trace, datafusion=info,nonsense"),
            [
                ("voucher_import::run".to_owned(), LevelFilter::Trace),
                ("datafusion".to_owned(), LevelFilter::Info)
            ]
        );
    }

    #[test]
    fn the_longest_prefix_decides() {
        let logger = StderrLogger {
            directives: parse("info,voucher_import::run=debug,ureq=trace,=trace"),
            started: Instant::now(),
            redactor: Redactor::default(),
        };
        assert_eq!(
            logger.level_for("voucher_import::run::plan"),
            LevelFilter::Debug
        );
        assert_eq!(
            logger.level_for("voucher_import::upload"),
            LevelFilter::Info
        );
        assert_eq!(
            logger.level_for("datafusion::physical_plan"),
            LevelFilter::Trace
        );
        // The HTTP libraries' hex dumps are never shown.
        assert_eq!(logger.level_for("ureq_proto::util"), LevelFilter::Debug);
        assert_eq!(logger.level_for("rustls::client"), LevelFilter::Debug);
    }
}

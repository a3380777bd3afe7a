//! The command line: parses arguments into the library's [`Import`](crate::Import)
//! (and upload options), calls the library, prints, and maps the outcome to the exit code (0
//! all accepted, 1 rows rejected, 2 error). The `voucher-import` binary is
//! [`main`](crate::cli::main) on the process's arguments; the Python package's command uses it
//! too, so that
//! `python -m voucher_import` is the same command and its keyword arguments are parsed by the
//! same option table.
//!
//! Compiled with the `cli` feature only (on by default; a library caller turns it off with
//! `default-features = false`): it and the binary are the only code that parses arguments,
//! prints or reads the process's environment. The rest of the library does none of that.

// The doc comments of the arguments are the command's help text, where an address is written
// as it is typed, not as a link.
#![allow(rustdoc::bare_urls)]

use std::ffi::OsString;
use std::io::{self, Write};
use std::sync::Arc;

use crate::{ErrorKind, ErrorReport};
use clap::{CommandFactory, FromArgMatches};
use clap::{Parser, Subcommand};
use cmd::{check, completions, explain, import, man, prepare, rules, upload};
use printer::TerminalSafe;

// The subcommands' argument types: their doc comments are the command's help text (clap's
// derive), so a group clap flattens or a value it lists carries none of its own.
#[allow(missing_docs)]
pub mod cmd;
mod logging;
mod printer;
mod progress;

/// Turns voucher files into CSV batches that Voucherify's campaign import accepts, and reports
/// every row that cannot go in and why.
#[derive(Debug, Parser)]
#[command(name = "voucher-import", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,

    /// Log to stderr: -v the phases and their timings, -vv also the inputs opened and the
    /// rules compiled (RUST_LOG=debug does the same; RUST_LOG=datafusion=info adds other
    /// libraries).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
}

#[derive(Debug, Subcommand)]
enum Command {
    Prepare(prepare::PrepareArgs),
    Check(check::CheckArgs),
    Rules(rules::RulesArgs),
    Upload(upload::UploadArgs),
    /// Import voucher files into a Voucherify campaign in one command: read the project (the
    /// campaign, its metadata schema, the codes already there), prepare, upload with the
    /// canary and the read-back.
    Import(import::ImportRunArgs),
    Explain(explain::ExplainArgs),
    Completions(completions::CompletionsArgs),
    Man(man::ManArgs),
}

impl Command {
    /// Whether the command was asked for JSON on stdout (`--json`).
    fn json(&self) -> bool {
        match self {
            Command::Prepare(args) => args.json,
            Command::Check(args) => args.json,
            Command::Upload(args) => args.json,
            Command::Import(_) => false,
            Command::Rules(_) | Command::Explain(_) | Command::Completions(_) | Command::Man(_) => {
                false
            }
        }
    }
}

/// The command line, every option of every subcommand also read from an environment variable
/// `VOUCHER_IMPORT_<OPTION>` (`--max-file-bytes`: `VOUCHER_IMPORT_MAX_FILE_BYTES`); a flag given
/// wins over the variable, and `--help` lists each variable.
pub fn command() -> clap::Command {
    // Not for the commands that document the others (`man --out` is not `prepare --out`).
    Cli::command().mut_subcommands(|sub| match sub.get_name() {
        "man" | "completions" => sub,
        name => {
            let name = name.to_owned();
            sub.mut_args(move |arg| with_env(&name, arg))
        }
    })
}

/// Options of one name that mean different things in different subcommands: their variable
/// names the subcommand too (`upload --campaign` is an id, `prepare --campaign` a file).
const SUBCOMMAND_VARIABLES: [(&str, &str); 2] = [("upload", "campaign"), ("import", "campaign")];

/// `arg` of `subcommand` also read from `VOUCHER_IMPORT_<ITS LONG NAME>` (or
/// `VOUCHER_IMPORT_<SUBCOMMAND>_<NAME>`, see [`SUBCOMMAND_VARIABLES`]), unless it is positional,
/// `--help`, `--version` or `--verbose`. The values are not shown in `--help` (one may be a
/// path to keep private).
fn with_env(subcommand: &str, arg: clap::Arg) -> clap::Arg {
    match arg.get_long() {
        Some(long)
            if !matches!(long, "help" | "version" | "verbose") && arg.get_env().is_none() =>
        {
            let option = long.to_uppercase().replace('-', "_");
            let name = if SUBCOMMAND_VARIABLES.contains(&(subcommand, long)) {
                format!("VOUCHER_IMPORT_{}_{option}", subcommand.to_uppercase())
            } else {
                format!("VOUCHER_IMPORT_{option}")
            };
            arg.env(name).hide_env_values(true)
        }
        _ => arg,
    }
}

/// The exit code of a run stopped by Ctrl-C (128 + SIGINT), as shells report it.
const INTERRUPTED: u8 = 130;

/// Runs the command line `args` (the program's name first) and gives the exit code; what the
/// command prints goes to this process's stdout and stderr.
pub fn main(args: Vec<OsString>) -> u8 {
    let code = main_unflushed(args);
    // A caller that is not a Rust `main` (the Python package) does not flush stdout on exit.
    let _ = io::stdout().flush();
    code
}

fn main_unflushed(args: Vec<OsString>) -> u8 {
    // The first Ctrl-C (or SIGTERM, SIGHUP, SIGQUIT) asks the run to stop cleanly (the staging folder is
    // removed); a second one stops at once.
    let cancel = crate::Cancel::new();
    let stop = cancel.flag();
    // SIGHUP (the terminal closed) and SIGQUIT stop a run the same way: nothing half-written.
    for signal in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
        signal_hook::consts::SIGQUIT,
    ] {
        let _ = signal_hook::flag::register_conditional_shutdown(
            signal,
            i32::from(INTERRUPTED),
            Arc::clone(&stop),
        );
        let _ = signal_hook::flag::register(signal, Arc::clone(&stop));
    }
    let json_asked = args.iter().skip(1).any(|a| a == "--json");
    let cli = match command()
        .try_get_matches_from(args)
        .and_then(|matches| Cli::from_arg_matches(&matches))
    {
        Ok(cli) => cli,
        Err(e) => {
            // An option that does not parse is a usage error: with --json, as data too.
            if e.use_stderr() && json_asked {
                let text = e.to_string();
                let message = text.lines().next().unwrap_or_default();
                print_json_error(&ErrorReport {
                    fix: Some("see --help".to_owned()),
                    ..ErrorReport::new(ErrorKind::Usage, message.trim_start_matches("error: "))
                });
            }
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    logging::init(cli.verbose);
    let json = cli.command.json();
    match run(cli, cancel) {
        Ok(code) => code,
        Err(e) => {
            if json {
                // For pipelines: the error as data on stdout (stderr still has the text).
                let report = match e.downcast_ref::<crate::Error>() {
                    Some(ours) => ours.report(),
                    None => ErrorReport::new(ErrorKind::Io, format!("{e:#}")),
                };
                print_json_error(&report);
            }
            // Never eprintln!: it panics when stderr is closed.
            // Our errors say it all in their Display (with the cause and a fix line): the
            // alternate form would repeat the cause.
            let text = match e.downcast_ref::<crate::Error>() {
                Some(ours) => ours.to_string(),
                None => format!("{e:#}"),
            };
            let _ = writeln!(TerminalSafe::new(io::stderr()), "error: {text}");
            match e.downcast_ref::<crate::Error>() {
                Some(e) if e.is_interruption() => INTERRUPTED,
                _ => 2,
            }
        }
    }
}

/// `{"error": {...}}` on stdout, for a pipeline that asked for JSON.
fn print_json_error(report: &ErrorReport) {
    let output = crate::ErrorOutput {
        error: report.clone(),
    };
    let mut out = io::stdout().lock();
    let _ = crate::write_json(&mut out, &output).and_then(|_| out.flush());
}

/// A reader that stopped reading (`| head`) is not an error: the run's outcome stands, as in
/// ripgrep. Any other write error is.
fn unless_broken_pipe(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

fn run(cli: Cli, cancel: crate::Cancel) -> anyhow::Result<u8> {
    let stdout = io::stdout();
    let stderr = io::stderr();
    match cli.command {
        Command::Prepare(args) => {
            let out = args.out.display().to_string();
            let (json, quiet) = (args.json, args.quiet);
            let policy = args.policy.policy();
            let summary = prepare::run_with_progress(args, cancel, |total| {
                progress::for_stderr(total, quiet)
            })?;
            if json {
                let mut out = stdout.lock();
                unless_broken_pipe(
                    crate::write_json(&mut out, &summary).and_then(|_| out.flush()),
                )?;
            }
            if !quiet {
                unless_broken_pipe(printer::write_summary(
                    &mut TerminalSafe::new(stderr.lock()),
                    &summary,
                    Some(&out),
                ))?;
                // Said when an exit-code option is given: the default's reason is the summary.
                let given = policy != crate::ExitPolicy::default();
                if let Some(why) = policy.failure(&summary).filter(|_| given) {
                    let mut err = TerminalSafe::new(stderr.lock());
                    unless_broken_pipe(writeln!(err, "exit 1: {why}"))?;
                }
            }
            Ok(policy.exit_code(&summary) as u8)
        }
        Command::Check(args) => {
            let json = args.json;
            let policy = args.policy.policy();
            let report = check::run(args, cancel)?;
            let mut out = stdout.lock();
            unless_broken_pipe(if json {
                crate::write_json(&mut out, &report).and_then(|_| out.flush())
            } else {
                let mut out = TerminalSafe::new(out);
                printer::write_check_table(&mut out, &report).and_then(|_| out.flush())
            })?;
            Ok(policy.exit_code(&report.summary) as u8)
        }
        Command::Upload(args) => {
            let json = args.json;
            let dir = args.dir.display().to_string();
            let outcome = upload::run(args, cancel, &progress::UploadLines::default())?;
            if json {
                let mut out = stdout.lock();
                unless_broken_pipe(
                    crate::write_json(&mut out, &outcome).and_then(|_| out.flush()),
                )?;
            }
            unless_broken_pipe(printer::upload::write_summary(
                &mut TerminalSafe::new(stderr.lock()),
                &outcome,
                &dir,
            ))?;
            Ok(outcome.exit_code() as u8)
        }
        Command::Import(args) => {
            let dir = args.out.display().to_string();
            let imported = import::run(args, cancel, &progress::UploadLines::default())?;
            let mut err = TerminalSafe::new(stderr.lock());
            if let Some(summary) = &imported.prepared {
                unless_broken_pipe(printer::write_summary(&mut err, summary, Some(&dir)))?;
            }
            unless_broken_pipe(printer::upload::write_summary(
                &mut err,
                &imported.uploaded,
                &dir,
            ))?;
            unless_broken_pipe(printer::import::write_summary(
                &mut err,
                imported.prepared.as_ref(),
                &imported.uploaded,
                &dir,
            ))?;
            Ok(imported.uploaded.exit_code() as u8)
        }
        Command::Explain(args) => {
            let rule = explain::run(&args)?;
            let mut out = TerminalSafe::new(stdout.lock());
            unless_broken_pipe(
                explain::write_explanation(&mut out, &rule).and_then(|_| out.flush()),
            )?;
            Ok(0)
        }
        Command::Completions(args) => {
            // Made in memory first: clap_complete panics when its writer fails (a full disk, a
            // closed pipe); a write error here is an error like any other.
            let mut script = Vec::new();
            clap_complete::generate(
                clap_complete::Shell::from(args.shell),
                &mut command(),
                "voucher-import",
                &mut script,
            );
            let mut out = stdout.lock();
            unless_broken_pipe(out.write_all(&script).and_then(|_| out.flush()))?;
            Ok(0)
        }
        Command::Man(args) => {
            let mut out = stdout.lock();
            match man::run(&args, command(), &mut out) {
                Err(e)
                    if e.downcast_ref::<io::Error>()
                        .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe) =>
                {
                    Ok(0)
                }
                other => other.map(|()| 0),
            }
        }
        Command::Rules(args) => {
            let rules = rules::run(&args)?;
            let mut out = TerminalSafe::new(stdout.lock());
            unless_broken_pipe(
                rules::write_listing(&mut out, &rules, args.names).and_then(|_| out.flush()),
            )?;
            Ok(0)
        }
    }
}

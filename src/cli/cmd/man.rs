//! `voucher-import man`: the manual pages, made from the argument definitions (so they never
//! disagree with `--help`).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Args;

/// Print the manual page (roff) on stdout, or write every page into a folder.
#[derive(Debug, Clone, Args)]
#[command(after_help = "Examples:
  voucher-import man | man -l -
  voucher-import man prepare | man -l -
  voucher-import man --out /usr/local/share/man/man1")]
pub struct ManArgs {
    /// A subcommand's page (prepare, check, upload, ...) instead of the main one.
    pub subcommand: Option<String>,

    /// Write voucher-import.1 and voucher-import-SUBCOMMAND.1 for every subcommand into this
    /// folder (created if needed) instead of printing one page.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Prints or writes the pages of `command` (the whole command line).
pub fn run(args: &ManArgs, command: clap::Command, out: &mut impl Write) -> anyhow::Result<()> {
    let command = command.version(env!("CARGO_PKG_VERSION"));
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        write_page(&command, &dir.join("voucher-import.1"))?;
        for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
            let name = format!("voucher-import-{}", sub.get_name());
            let page = sub.clone().name(&name).version(env!("CARGO_PKG_VERSION"));
            write_page(&page, &dir.join(format!("{name}.1")))?;
        }
        return Ok(());
    }
    let page = match &args.subcommand {
        None => command,
        Some(name) => match command.find_subcommand(name) {
            Some(sub) => sub.clone().name(format!("voucher-import-{name}")),
            None => bail!(
                "there is no subcommand '{name}' (the subcommands: {})",
                command
                    .get_subcommands()
                    .map(|s| s.get_name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    };
    clap_mangen::Man::new(page).render(out)?;
    out.flush()?;
    Ok(())
}

fn write_page(command: &clap::Command, path: &std::path::Path) -> anyhow::Result<()> {
    let mut bytes = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut bytes)?;
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

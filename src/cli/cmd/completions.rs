//! `voucher-import completions SHELL`: the shell completion script, on stdout.

use clap::{Args, ValueEnum};

/// The shells completion scripts are made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

impl From<Shell> for clap_complete::Shell {
    fn from(shell: Shell) -> Self {
        match shell {
            Shell::Bash => clap_complete::Shell::Bash,
            Shell::Zsh => clap_complete::Shell::Zsh,
            Shell::Fish => clap_complete::Shell::Fish,
        }
    }
}

/// Print a shell completion script.
#[derive(Debug, Clone, Args)]
#[command(after_help = "Examples:
  voucher-import completions bash > ~/.local/share/bash-completion/completions/voucher-import
  voucher-import completions zsh > \"${fpath[1]}/_voucher-import\"
  voucher-import completions fish > ~/.config/fish/completions/voucher-import.fish")]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: Shell,
}

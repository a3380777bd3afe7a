//! How the commands that talk to Voucherify reach it (`upload`, and `prepare`/`check` when
//! they read the project): the API host, by URL or region, and the request timeout. The
//! credentials come from the environment (`VOUCHERIFY_APP_ID`, `VOUCHERIFY_APP_TOKEN`).

use std::time::Duration;

use clap::{Args, ValueEnum};

use super::upload::parse_duration;
use crate::upload::Secret;

/// Voucherify's regional API hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Cluster {
    /// Europe: https://api.voucherify.io
    Eu1,
    /// United States: https://us1.api.voucherify.io
    Us1,
    /// Asia: https://as1.api.voucherify.io
    As1,
}

impl Cluster {
    pub fn base_url(self) -> &'static str {
        match self {
            Cluster::Eu1 => "https://api.voucherify.io",
            Cluster::Us1 => "https://us1.api.voucherify.io",
            Cluster::As1 => "https://as1.api.voucherify.io",
        }
    }
}

/// Where the API is.
#[derive(Debug, Clone, Args)]
pub struct ConnectionArgs {
    /// The API host: https://, or plain http:// only for this machine (localhost, 127.0.0.0/8,
    /// ::1).
    #[arg(
        long,
        value_name = "URL",
        default_value = "https://api.voucherify.io",
        conflicts_with = "cluster",
        help_heading = "Connection"
    )]
    pub api_url: String,

    /// The project's region, instead of --api-url.
    #[arg(long, value_enum, value_name = "CLUSTER", help_heading = "Connection")]
    pub cluster: Option<Cluster>,

    /// Take a plain http:// --api-url to another machine (the token then crosses the network
    /// unencrypted; a warning is printed on every run).
    #[arg(long, help_heading = "Connection")]
    pub allow_insecure_http: bool,

    /// The longest wait for a connection and for each step of a request (90s, 2m, a bare
    /// number is seconds).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration, help_heading = "Connection")]
    pub http_timeout: Duration,
}

impl ConnectionArgs {
    /// The API host's URL.
    pub fn base_url(&self) -> String {
        match self.cluster {
            Some(cluster) => cluster.base_url().to_owned(),
            None => self.api_url.clone(),
        }
    }
}

/// A credential from the environment (empty when unset).
pub fn credential(name: &str) -> Secret {
    std::env::var(name).unwrap_or_default().into()
}

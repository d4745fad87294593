//! Connection flags shared by `plan`, `apply` and `export`.

use std::path::PathBuf;

use clap::Args;

use simfleet::ops::connect::ConnectOptions;
use simfleet::settings::Settings;

/// Where the API is. The token comes from WHEREVER_SIM_TOKEN or --token-file, never from an
/// argument.
#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    /// GraphQL endpoint [env: WHEREVER_SIM_ENDPOINT] [default: https://graphql.api.whereversim.de/graphql]
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Read the API token from this file (should not be world-readable) instead of WHEREVER_SIM_TOKEN.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Start the embedded sandbox (a demo fleet) on a free loopback port and use it; no token needed.
    #[arg(long, conflicts_with_all = ["endpoint", "token_file"])]
    pub sandbox: bool,
    /// Seed the embedded sandbox from this snapshot instead of the demo fleet (with --sandbox).
    #[arg(long, value_name = "FILE", requires = "sandbox")]
    pub sandbox_fleet: Option<PathBuf>,
    /// Ceiling on API requests per second [default: 25, or simfleet.yaml's requests_per_second].
    #[arg(long, value_name = "N")]
    pub rate_limit: Option<u32>,
}

impl ConnectArgs {
    /// The connection, with the request rate the settings merged (flag > simfleet.yaml).
    pub fn options(&self, settings: &Settings) -> ConnectOptions {
        ConnectOptions {
            endpoint: self.endpoint.clone(),
            token_file: self.token_file.clone(),
            sandbox: self.sandbox,
            sandbox_fleet: self.sandbox_fleet.clone(),
            requests_per_second: settings.requests_per_second,
            max_in_flight: None,
        }
    }
}

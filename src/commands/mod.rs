//! One file per subcommand: its clap arguments and a `run` that calls into `simfleet::ops`.

pub mod connect;
pub mod export;
pub mod fmt;
pub mod plan;
pub mod apply;
pub mod sandbox;
pub mod schema;
pub mod show;
pub mod validate;

/// The tokio runtime the network commands run on.
pub fn runtime() -> Result<tokio::runtime::Runtime, simfleet::Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| simfleet::Error::Usage(format!("cannot start the async runtime: {e}")))
}

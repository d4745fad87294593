//! One file per subcommand: its clap arguments and a `run` that calls into `simfleet::ops`.

pub mod schema;
pub mod validate;
pub mod sandbox;

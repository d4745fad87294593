//! `simfleet schema [--out-dir DIR]`: write the spec and config JSON Schemas.

use std::path::PathBuf;

use clap::Args;

/// Write the JSON Schemas of spec files and of simfleet.yaml.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Where to write simfleet.schema.json and simfleet-config.schema.json.
    #[arg(long, default_value = "schema")]
    pub out_dir: PathBuf,
}

pub fn run(
    args: SchemaArgs,
    out: &mut simfleet::output::Output,
) -> Result<simfleet::Outcome, simfleet::Error> {
    simfleet::ops::schema::schema(&args.out_dir, out)
}

//! `simfleet completions SHELL`: shell completion scripts generated from the same clap
//! definitions that parse the arguments, so they never fall behind a new flag.

use clap::Args;
use clap_complete::Shell;

/// Print a shell completion script (e.g. `simfleet completions bash > ~/.local/share/bash-completion/completions/simfleet`).
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(
    args: CompletionsArgs,
    mut cli: clap::Command,
    out: &mut simfleet::output::Output,
) -> Result<simfleet::Outcome, simfleet::Error> {
    let name = cli.get_name().to_string();
    // Generated into memory (clap_complete panics on a failed write), then written checked.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cli, name, &mut script);
    out.print(&String::from_utf8_lossy(&script))?;
    Ok(simfleet::Outcome::Success)
}

//! `simfleet man`: the manual pages, rendered by clap_mangen from the clap definitions — one page
//! on stdout, or `simfleet.1` plus one page per subcommand (`simfleet-plan.1`, …) into a
//! directory for release artifacts and packages.

use std::path::PathBuf;

use clap::Args;

/// Print the man page (roff), or write every page into a directory.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write simfleet.1 and one page per subcommand into this directory instead.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

pub fn run(
    args: ManArgs,
    cli: clap::Command,
    out: &mut simfleet::output::Output,
) -> Result<simfleet::Outcome, simfleet::Error> {
    match args.out_dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .and_then(|()| clap_mangen::generate_to(cli, &dir))
                .map_err(|source| simfleet::Error::WriteFile {
                    path: dir.display().to_string(),
                    source,
                })?;
            out.note(&format!("man pages written to {}", dir.display()))?;
        }
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(cli)
                .render(&mut page)
                .map_err(|source| simfleet::Error::Stream {
                    stream: "stdout",
                    source,
                })?;
            out.print(&String::from_utf8_lossy(&page))?;
        }
    }
    Ok(simfleet::Outcome::Success)
}

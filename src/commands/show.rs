//! `simfleet show PLANFILE [--format text|markdown|json]`: arguments and a thin `run`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use simfleet::ops::show::{self, Format, ShowOptions};
use simfleet::{Error, Outcome};

/// Output format of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Text,
    Markdown,
    Json,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Text => Format::Text,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Json => Format::Json,
        }
    }
}

/// Render a saved plan (`plan --out FILE`); its checksum is verified first.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The plan file written by `simfleet plan --out`.
    pub planfile: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
    /// List every SIM, not only a few per change.
    #[arg(long)]
    pub verbose: bool,
    /// Mask ICCIDs and IMEIs but their last 4 digits.
    #[arg(long)]
    pub mask: bool,
}

pub fn run(args: ShowArgs) -> Result<Outcome, Error> {
    let stdout = std::io::stdout();
    let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let (text, outcome) = show::show(
        &args.planfile,
        ShowOptions {
            format: args.format.into(),
            verbose: args.verbose,
            color,
            mask: args.mask,
        },
    )?;
    let mut lock = stdout.lock();
    lock.write_all(text.as_bytes())
        .and_then(|()| lock.flush())
        .map_err(|e| Error::Usage(format!("cannot write to stdout: {e}")))?;
    Ok(outcome)
}

//! `simfleet show PLANFILE`: render a saved plan in any format, so CI can post the markdown and
//! keep the JSON of one and the same plan.
//!
//! Loading verifies the plan's checksum: an edited file is refused rather than shown as if it
//! were the plan that was computed.

use std::path::Path;

use crate::plan::Plan;
use crate::render::{self, MarkdownOptions, TextOptions};
use crate::{Error, Outcome};

/// Which renderer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Text,
    Markdown,
    Json,
}

/// What `show` needs besides the file.
#[derive(Debug, Clone, Copy, Default)]
pub struct ShowOptions {
    pub format: Format,
    pub verbose: bool,
    pub color: bool,
    pub mask: bool,
}

/// Renders a plan in the chosen format.
pub fn render(plan: &Plan, opts: ShowOptions) -> String {
    match opts.format {
        Format::Text => render::text(
            plan,
            TextOptions {
                verbose: opts.verbose,
                color: opts.color,
                mask: opts.mask,
            },
        ),
        Format::Markdown => render::markdown(plan, MarkdownOptions { mask: opts.mask }),
        Format::Json => render::json(plan),
    }
}

/// Loads and verifies a plan file.
pub fn load(path: &Path) -> Result<Plan, Error> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| Error::ReadPlan {
        path: shown.clone(),
        source,
    })?;
    Plan::from_file_json(&text).map_err(|source| Error::PlanFile {
        path: shown,
        source,
    })
}

/// Loads `path` and returns its rendering. Showing a plan succeeds whatever the plan says.
pub fn show(path: &Path, opts: ShowOptions) -> Result<(String, Outcome), Error> {
    let plan = load(path)?;
    Ok((render(&plan, opts), Outcome::Success))
}

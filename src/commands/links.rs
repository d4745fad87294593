//! `--link-base URL`, shared by the commands that print markdown (`plan`, `show`, `diff`,
//! `explain`): where spec locations link to when neither GitHub's nor GitLab's variables say.

use clap::Args;

use simfleet::render::SourceLinks;

/// The link flag of a markdown-printing command.
#[derive(Debug, Clone, Default, Args)]
pub struct LinkArgs {
    /// In markdown, link every spec file:line to URL/PATH#LINE (PATH from the repository root).
    /// On GitHub Actions and GitLab CI the links are made from their variables without it.
    #[arg(long, value_name = "URL")]
    pub link_base: Option<String>,
}

impl LinkArgs {
    /// The command's source links: the flag, else the forge's variables (read once, in the
    /// settings), else none.
    pub fn source_links(&self) -> Option<SourceLinks> {
        simfleet::settings::source_links(
            self.link_base.as_deref(),
            &simfleet::settings::forge_vars(),
        )
    }
}

//! Sources as links: in markdown, a spec location (`fleet/eu.yaml:12:5`) becomes a link to that
//! line of the spec at the commit being planned, on GitHub, GitLab or any forge given a base URL.
//!
//! [`SourceLinks`] is built once by the settings (which read the forge's environment and find
//! the repository root); here it only joins strings, so every markdown renderer (plan, diff,
//! and any later one) links the same way by calling [`SourceLinks::location_html`] or
//! [`SourceLinks::origin_html`]. Without a `SourceLinks` the text stays plain.

use crate::plan::Origin;

use super::values;

/// How `file:line` becomes a URL: `{base}/{path from the repository root}#L{line}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLinks {
    /// Everything before the path, without a trailing `/`: for GitHub
    /// `https://github.com/acme/fleet/blob/<sha>`.
    base: String,
    /// The working directory relative to the repository root (`""` at the root, else
    /// `sub/dir/`), which relative spec paths are relative to.
    cwd_in_repo: String,
    /// The repository root as an absolute path ending in `/`, to strip from absolute spec
    /// paths; empty when unknown (absolute paths are then not linked).
    root: String,
}

/// The forge variables the links are made from (read once by the settings).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForgeVars {
    /// `GITHUB_SERVER_URL`, `GITHUB_REPOSITORY`, `GITHUB_SHA`.
    pub github_server_url: Option<String>,
    pub github_repository: Option<String>,
    pub github_sha: Option<String>,
    /// `CI_PROJECT_URL`, `CI_COMMIT_SHA`.
    pub ci_project_url: Option<String>,
    pub ci_commit_sha: Option<String>,
}

/// A variable that is set and not blank.
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.trim().is_empty())
}

impl ForgeVars {
    /// The base of the links: `--link-base` first, then GitHub's variables, then GitLab's.
    /// `None` when nothing says where the spec can be read.
    pub fn link_base(&self, flag: Option<&str>) -> Option<String> {
        if let Some(base) = flag.filter(|s| !s.trim().is_empty()) {
            return Some(base.trim_end_matches('/').to_string());
        }
        if let (Some(server), Some(repo), Some(sha)) = (
            given(&self.github_server_url),
            given(&self.github_repository),
            given(&self.github_sha),
        ) {
            let server = server.trim_end_matches('/');
            return Some(format!("{server}/{repo}/blob/{sha}"));
        }
        if let (Some(project), Some(sha)) =
            (given(&self.ci_project_url), given(&self.ci_commit_sha))
        {
            let project = project.trim_end_matches('/');
            return Some(format!("{project}/-/blob/{sha}"));
        }
        None
    }
}

impl SourceLinks {
    /// Links under `base`, for spec paths written relative to `cwd_in_repo` (the working
    /// directory relative to the repository root, `""` at the root) or absolute under `root`.
    pub fn new(base: &str, cwd_in_repo: &str, root: &str) -> SourceLinks {
        let dir = |s: &str| {
            let s = s.trim_matches('/');
            if s.is_empty() || s == "." {
                String::new()
            } else {
                format!("{s}/")
            }
        };
        let root = if root.is_empty() {
            String::new()
        } else {
            format!("{}/", root.trim_end_matches('/'))
        };
        SourceLinks {
            base: base.trim_end_matches('/').to_string(),
            cwd_in_repo: dir(cwd_in_repo),
            root,
        }
    }

    /// The URL of `line` of `file` (as a plan writes it), or `None` when the file is outside
    /// the repository.
    pub fn url(&self, file: &str, line: u32) -> Option<String> {
        let path = match file.strip_prefix('/') {
            Some(_) => file
                .strip_prefix(self.root.as_str())
                .filter(|_| !self.root.is_empty())?
                .to_string(),
            None => format!("{}{file}", self.cwd_in_repo),
        };
        let path = normalise(&path)?;
        Some(format!("{}/{}#L{line}", self.base, encode_path(&path)))
    }

    /// A `file:line[:col]` location as HTML: a link to the line, or the escaped text when it
    /// cannot be linked. With `mask`, identifiers in the text are masked (the URL keeps the
    /// path, which must resolve).
    pub fn location_html(&self, location: &str, mask: bool) -> String {
        let text = html(&values::text(location, mask));
        match split_location(location).and_then(|(file, line)| self.url(file, line)) {
            Some(url) => format!("<a href=\"{}\">{text}</a>", attr(&url)),
            None => text,
        }
    }

    /// An origin as markdown shows it: the location linked, then `(rule name)`.
    pub fn origin_html(&self, origin: &Origin, mask: bool) -> String {
        let plain = values::source(origin, mask);
        let location = origin.location();
        let shown = values::text(&location, mask);
        match (
            plain.strip_prefix(shown.as_str()),
            self.url(&origin.file, origin.line),
        ) {
            (Some(rest), Some(url)) => {
                format!(
                    "<a href=\"{}\">{}</a>{}",
                    attr(&url),
                    html(&shown),
                    html(rest)
                )
            }
            _ => html(&plain),
        }
    }
}

impl SourceLinks {
    /// A source already formatted as text (`fleet/eu.yaml:12:5 (rule eu)`, masked or not) as
    /// HTML, its leading location linked.
    pub fn source_text_html(&self, source: &str) -> String {
        let (location, rest) = match source.find(" (") {
            Some(at) => source.split_at(at),
            None => (source, ""),
        };
        match split_location(location).and_then(|(file, line)| self.url(file, line)) {
            Some(url) => format!(
                "<a href=\"{}\">{}</a>{}",
                attr(&url),
                html(location),
                html(rest)
            ),
            None => html(source),
        }
    }
}

/// A formatted source as markdown shows it: its location linked when there are links.
pub fn source_text_html(links: Option<&SourceLinks>, source: &str) -> String {
    match links {
        Some(links) => links.source_text_html(source),
        None => html(source),
    }
}

/// A source as markdown shows it: linked when there are links, else the escaped text.
pub fn origin_html(links: Option<&SourceLinks>, origin: &Origin, mask: bool) -> String {
    match links {
        Some(links) => links.origin_html(origin, mask),
        None => html(&values::source(origin, mask)),
    }
}

/// A `file:line:col` location as markdown shows it: linked when there are links.
pub fn location_html(links: Option<&SourceLinks>, location: &str, mask: bool) -> String {
    match links {
        Some(links) => links.location_html(location, mask),
        None => html(&values::text(location, mask)),
    }
}

/// `fleet/eu.yaml:12:5` or `fleet/eu.yaml:12` → (`fleet/eu.yaml`, 12).
fn split_location(location: &str) -> Option<(&str, u32)> {
    let (head, last) = location.rsplit_once(':')?;
    let last: u32 = last.parse().ok()?;
    match head.rsplit_once(':') {
        Some((file, line)) => match line.parse::<u32>() {
            Ok(line) if !file.is_empty() => Some((file, line)),
            _ => Some((head, last)),
        },
        None => Some((head, last)),
    }
    .filter(|(file, _)| !file.is_empty())
}

/// `a/./b/../c` → `a/c`; `None` when `..` leaves the repository.
fn normalise(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            _ => parts.push(part),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Percent-encodes what a URL path cannot hold as is (spaces, `#`, `?`, `%`, quotes, non-ASCII).
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~+,=@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Text escaped as the markdown renderers escape it.
fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A URL escaped for a double-quoted attribute.
fn attr(url: &str) -> String {
    html(url).replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::OriginKind;

    fn vars() -> ForgeVars {
        ForgeVars::default()
    }

    #[test]
    fn github_links_to_the_blob_at_the_commit() {
        let v = ForgeVars {
            github_server_url: Some("https://github.com/".into()),
            github_repository: Some("acme/fleet".into()),
            github_sha: Some("0123abcd".into()),
            ..vars()
        };
        let base = v.link_base(None).expect("github");
        let links = SourceLinks::new(&base, "", "/work/repo");
        assert_eq!(
            links.url("fleet/eu.yaml", 9).as_deref(),
            Some("https://github.com/acme/fleet/blob/0123abcd/fleet/eu.yaml#L9")
        );
    }

    #[test]
    fn gitlab_links_to_the_blob_at_the_commit() {
        let v = ForgeVars {
            ci_project_url: Some("https://gitlab.example/group/fleet".into()),
            ci_commit_sha: Some("feedbeef".into()),
            ..vars()
        };
        let base = v.link_base(None).expect("gitlab");
        let links = SourceLinks::new(&base, "ops", "/builds/group/fleet");
        assert_eq!(
            links.url("fleet/eu.yaml", 12).as_deref(),
            Some("https://gitlab.example/group/fleet/-/blob/feedbeef/ops/fleet/eu.yaml#L12")
        );
        assert_eq!(
            links
                .url("/builds/group/fleet/fleet/a b.yaml", 3)
                .as_deref(),
            Some("https://gitlab.example/group/fleet/-/blob/feedbeef/fleet/a%20b.yaml#L3"),
            "absolute paths are made relative to the root"
        );
    }

    #[test]
    fn a_link_base_beats_the_forge_and_nothing_means_no_links() {
        let v = ForgeVars {
            github_server_url: Some("https://github.com".into()),
            github_repository: Some("acme/fleet".into()),
            github_sha: Some("0123abcd".into()),
            ..vars()
        };
        assert_eq!(
            v.link_base(Some("https://git.example/fleet/src/commit/abc/"))
                .as_deref(),
            Some("https://git.example/fleet/src/commit/abc")
        );
        assert_eq!(vars().link_base(None), None);
        let partial = ForgeVars {
            github_repository: Some("acme/fleet".into()),
            ..vars()
        };
        assert_eq!(partial.link_base(None), None, "a partial set is no forge");
    }

    #[test]
    fn paths_outside_the_repository_are_not_linked() {
        let links = SourceLinks::new("https://x/blob/s", "sub", "/repo");
        assert_eq!(links.url("../../etc/eu.yaml", 1), None);
        assert_eq!(links.url("/elsewhere/eu.yaml", 1), None);
        assert_eq!(
            links.url("./../fleet/./eu.yaml", 1).as_deref(),
            Some("https://x/blob/s/fleet/eu.yaml#L1")
        );
        assert_eq!(links.location_html("fleet/eu.yaml", false), "fleet/eu.yaml");
    }

    #[test]
    fn locations_and_origins_become_anchors() {
        let links = SourceLinks::new("https://x/blob/s", "", "");
        assert_eq!(
            links.location_html("fleet/eu.yaml:12:5", false),
            "<a href=\"https://x/blob/s/fleet/eu.yaml#L12\">fleet/eu.yaml:12:5</a>"
        );
        let origin = Origin {
            file: "fleet/sims.yaml".into(),
            line: 4,
            col: 3,
            kind: OriginKind::SimEntry {
                iccid: "89490000000000012345".into(),
            },
        };
        assert_eq!(
            links.origin_html(&origin, true),
            "<a href=\"https://x/blob/s/fleet/sims.yaml#L4\">fleet/sims.yaml:4:3</a> (sims entry ****************2345)"
        );
        assert_eq!(
            super::origin_html(None, &origin, false),
            "fleet/sims.yaml:4:3 (sims entry 89490000000000012345)"
        );
    }
}

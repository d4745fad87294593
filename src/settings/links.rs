//! The settings of source links (see [`crate::render::SourceLinks`]): the forge's environment
//! (`GITHUB_SERVER_URL`/`GITHUB_REPOSITORY`/`GITHUB_SHA`, `CI_PROJECT_URL`/`CI_COMMIT_SHA`) read
//! once, `--link-base` over it, and the repository root found by walking up from the working
//! directory to the first `.git`, so spec paths become paths from the root. The renderers only
//! receive the finished value.

use std::path::{Path, PathBuf};

use crate::render::{ForgeVars, SourceLinks};

/// Reads the forge variables of the process environment.
pub fn forge_vars() -> ForgeVars {
    let var = |name: &str| std::env::var(name).ok();
    ForgeVars {
        github_server_url: var("GITHUB_SERVER_URL"),
        github_repository: var("GITHUB_REPOSITORY"),
        github_sha: var("GITHUB_SHA"),
        ci_project_url: var("CI_PROJECT_URL"),
        ci_commit_sha: var("CI_COMMIT_SHA"),
    }
}

/// The source links of a command: `--link-base` (`flag`), else the forge's variables; `None`
/// (plain text) when neither says where the spec can be read.
pub fn source_links(flag: Option<&str>, vars: &ForgeVars) -> Option<SourceLinks> {
    let base = vars.link_base(flag)?;
    let cwd = std::env::current_dir().ok();
    let cwd = cwd
        .as_deref()
        .map(|d| d.canonicalize().unwrap_or(d.to_path_buf()));
    let root = cwd.as_deref().and_then(repository_root);
    let (cwd_in_repo, root) = match (&cwd, &root) {
        (Some(cwd), Some(root)) => (
            cwd.strip_prefix(root)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default(),
            root.to_string_lossy().into_owned(),
        ),
        // No `.git` above: spec paths are taken as written, relative to the root.
        _ => (String::new(), String::new()),
    };
    Some(SourceLinks::new(&base, &cwd_in_repo, &root))
}

/// The first directory at or above `dir` that holds `.git` (a directory, or a file in a
/// worktree or submodule).
pub fn repository_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_is_the_first_directory_with_git() {
        let dir = tempfile::tempdir().expect("temp dir");
        let sub = dir.path().join("a/b");
        std::fs::create_dir_all(&sub).expect("dirs");
        assert_eq!(
            repository_root(&sub).filter(|r| r.starts_with(dir.path())),
            None
        );
        std::fs::write(dir.path().join("a/.git"), "gitdir: elsewhere\n").expect(".git file");
        assert_eq!(repository_root(&sub), Some(dir.path().join("a")));
    }
}

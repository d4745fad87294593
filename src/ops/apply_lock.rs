//! The local advisory lock that keeps two applies against one API endpoint on one machine from
//! running at once.
//!
//! The API offers no lock, and its running-job check (`listBatchJobs` before the first call)
//! misses a second apply started within the same instant: both read before either has started a
//! job. So `apply` takes an exclusive lock on `simfleet-apply-<hash of the endpoint>.lock` in
//! `$XDG_RUNTIME_DIR` (per user, cleared at logout) or else the system temp directory, and holds
//! it for the whole apply; a second apply fails at once, naming the file. The lock is the
//! kernel's (`flock` through std's `File::try_lock`), so it is released when the process ends,
//! however it ends, and a lock file left behind never blocks anyone. Applies from different
//! machines are not covered: they rely on the running-job check and CI concurrency groups.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::apply::ApplyError;

/// An exclusive lock held until dropped (or the process ends).
#[derive(Debug)]
pub struct ApplyLock {
    _file: File,
    path: PathBuf,
}

impl ApplyLock {
    /// Takes the lock for `endpoint`, or fails at once when another apply holds it.
    pub fn acquire(endpoint: &str) -> Result<ApplyLock, ApplyError> {
        ApplyLock::acquire_in(&lock_dir(), endpoint)
    }

    /// Takes the lock for `endpoint` in `dir`.
    pub fn acquire_in(dir: &Path, endpoint: &str) -> Result<ApplyLock, ApplyError> {
        let path = lock_path(dir, endpoint);
        let failed = |source: std::io::Error| ApplyError::LockFile {
            path: path.clone(),
            source,
        };
        let mut file = open(&path).map_err(failed)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(ApplyError::Locked {
                    holder: holder(&mut file),
                    path,
                })
            }
            Err(TryLockError::Error(source)) => return Err(failed(source)),
        }
        // Who holds it, for the message a second apply prints (best effort: a lock file another
        // user created may be read-only to us, and the lock holds without it).
        let _ = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| write!(file, "{}", std::process::id()));
        Ok(ApplyLock { _file: file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// `$XDG_RUNTIME_DIR` when set to an existing absolute directory, else the system temp dir.
pub fn lock_dir() -> PathBuf {
    std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute() && dir.is_dir())
        .unwrap_or_else(std::env::temp_dir)
}

/// `dir/simfleet-apply-<first 16 hex digits of SHA-256 of the endpoint>.lock`; a trailing `/`
/// does not make another endpoint.
pub fn lock_path(dir: &Path, endpoint: &str) -> PathBuf {
    let digest = Sha256::digest(endpoint.trim().trim_end_matches('/').as_bytes());
    let hash = hex::encode(&digest[..8]);
    dir.join(format!("simfleet-apply-{hash}.lock"))
}

/// Opens (creating) the lock file for writing, or only for reading when another user created
/// it: an exclusive `flock` needs no write access.
fn open(path: &Path) -> std::io::Result<File> {
    match OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
    {
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => File::open(path),
        other => other,
    }
}

/// " (process N)" from the lock file, when it names one.
fn holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    match text.trim().parse::<u32>() {
        Ok(pid) => format!(" (process {pid})"),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_one_endpoint_fails_at_once_and_others_do_not() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = ApplyLock::acquire_in(dir.path(), "https://api.example/graphql").expect("lock");
        let second = ApplyLock::acquire_in(dir.path(), "https://api.example/graphql/");
        match second {
            Err(ApplyError::Locked { path, holder }) => {
                assert_eq!(path, first.path());
                assert!(holder.contains(&std::process::id().to_string()), "{holder}");
            }
            other => panic!("not refused: {other:?}"),
        }
        let other = ApplyLock::acquire_in(dir.path(), "https://other.example/graphql");
        assert!(other.is_ok(), "{other:?}");
        drop(first);
        assert!(ApplyLock::acquire_in(dir.path(), "https://api.example/graphql").is_ok());
    }
}

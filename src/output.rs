//! The one path every byte simfleet writes goes through: stdout, stderr (notes, warnings, the
//! final error) and output files (`--out`, `export --snapshot`, `fmt`).
//!
//! Every write is checked and stdout is flushed before the command counts as done: a failed
//! write is an error naming the stream or path ([`Error::Stream`], [`Error::WriteFile`]), and a
//! reader that went away (`| head`) ends the command quietly ([`Error::BrokenPipe`], exit 141).
//! With `--mask`, identifiers in everything written to stdout and stderr keep only their last 4
//! digits here, so no message (error, conflict, warning, note, log line) can bypass the mask.
//! Files are not masked: a plan file must name its SIMs to be applied.
//!
//! Files are replaced only when they are regular files, through a temporary file in the same
//! directory renamed over them, so a crash never leaves half a file. A symlink to a regular
//! file has its target replaced (the link stays). Anything else at the path (a character
//! device such as `/dev/null`, a FIFO, `/dev/stdout`) is written through, never replaced.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::render::mask_text;
use crate::Error;

/// How the process's output is shaped: from the settings' environment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutputStyle {
    /// `--mask`: identifiers keep only their last 4 digits on stdout and stderr.
    pub mask: bool,
    /// `--quiet`: no notes or warnings (errors are always written).
    pub quiet: bool,
    /// `--log-format json`: each note or error line on stderr is one JSON event.
    pub json_lines: bool,
}

/// stdout and stderr of a command, checked.
pub struct Output {
    stdout: Box<dyn Write + Send>,
    stderr: Box<dyn Write + Send>,
    style: OutputStyle,
}

impl Output {
    /// Output to the given writers (tests pass buffers).
    pub fn new(
        stdout: Box<dyn Write + Send>,
        stderr: Box<dyn Write + Send>,
        style: OutputStyle,
    ) -> Output {
        Output {
            stdout,
            stderr,
            style,
        }
    }

    /// The process's stdout (buffered; flushed by [`Output::finish`]) and stderr. Its mask
    /// also governs [`side_line`].
    pub fn standard(style: OutputStyle) -> Output {
        PROCESS_MASK.store(style.mask, std::sync::atomic::Ordering::Relaxed);
        Output::new(
            Box::new(std::io::BufWriter::with_capacity(
                1 << 16,
                std::io::stdout(),
            )),
            Box::new(std::io::stderr()),
            style,
        )
    }

    /// The style this output was made with.
    pub fn style(&self) -> OutputStyle {
        self.style
    }

    /// Writes `text` on stdout (masked with `--mask`).
    pub fn print(&mut self, text: &str) -> Result<(), Error> {
        let text = self.masked(text);
        self.stdout
            .write_all(text.as_bytes())
            .map_err(|e| stream_error("stdout", e))
    }

    /// Writes a JSON document on stdout. With `--mask` its identifiers are masked structurally
    /// (every string, see [`crate::render::mask_json`]): masking it as text would also star
    /// numbers of 11 digits or more (a 10GB limit in bytes) and break the JSON.
    pub fn print_json(&mut self, text: &str) -> Result<(), Error> {
        if !self.style.mask {
            return self.print(text);
        }
        let Ok(mut value) = serde_json::from_str::<serde_json::Value>(text) else {
            return self.print(text);
        };
        crate::render::mask_json(&mut value);
        let mut masked = serde_json::to_string_pretty(&value).map_err(|source| Error::Json {
            what: "the masked output",
            source,
        })?;
        masked.push('\n');
        self.stdout
            .write_all(masked.as_bytes())
            .map_err(|e| stream_error("stdout", e))
    }

    /// Streams on stdout what `write` produces (a large plan's JSON need not exist in memory as
    /// one string). With `--mask` it is collected and masked first.
    pub fn print_with(
        &mut self,
        write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<(), Error> {
        if self.style.mask {
            let mut buffer = Vec::new();
            write(&mut buffer).map_err(|e| stream_error("stdout", e))?;
            return self.print(&String::from_utf8_lossy(&buffer));
        }
        write(&mut self.stdout).map_err(|e| stream_error("stdout", e))
    }

    /// A note or warning on stderr, one line or several; nothing with `--quiet`.
    pub fn note(&mut self, text: &str) -> Result<(), Error> {
        if self.style.quiet {
            return Ok(());
        }
        self.stderr_lines("INFO", text)
    }

    /// Text on stderr that is shown even with `--quiet` (the plan `apply` asks to confirm, the
    /// prompt). Unlike a note it is written as is, without a JSON wrapper.
    pub fn tell(&mut self, text: &str) -> Result<(), Error> {
        let text = self.masked(text);
        self.stderr
            .write_all(text.as_bytes())
            .and_then(|()| self.stderr.flush())
            .map_err(|e| stream_error("stderr", e))
    }

    /// Reports the error that ends the command on stderr: `error: …`, or as clap rendered a
    /// command-line error, or one JSON event. A closed stdout is not reported (the reader chose
    /// to stop). `all` lists every SIM of a long list (`-v`). Failing to write here leaves
    /// nothing to report to, so it is ignored.
    pub fn error(&mut self, error: &Error, all: bool) {
        let text = match error {
            Error::BrokenPipe { .. } => return,
            Error::CommandLine(rendered) if !self.style.json_lines => {
                let _ = self.stderr.write_all(self.masked(rendered).as_bytes());
                let _ = self.stderr.flush();
                return;
            }
            Error::CommandLine(rendered) => rendered.trim_end().to_string(),
            other => other.report(all),
        };
        if self.style.json_lines {
            let event = json_line("ERROR", &self.masked(&text));
            let _ = self.stderr.write_all(event.as_bytes());
        } else {
            let _ = writeln!(self.stderr, "error: {}", self.masked(&text));
        }
        let _ = self.stderr.flush();
    }

    /// Flushes stdout and stderr: the command is done only when its output is out.
    pub fn finish(&mut self) -> Result<(), Error> {
        self.stdout.flush().map_err(|e| stream_error("stdout", e))?;
        self.stderr.flush().map_err(|e| stream_error("stderr", e))
    }

    fn stderr_lines(&mut self, level: &str, text: &str) -> Result<(), Error> {
        let text = self.masked(text);
        let result = if self.style.json_lines {
            text.lines()
                .filter(|line| !line.trim().is_empty())
                .try_for_each(|line| self.stderr.write_all(json_line(level, line).as_bytes()))
        } else if text.ends_with('\n') {
            self.stderr.write_all(text.as_bytes())
        } else {
            writeln!(self.stderr, "{text}")
        };
        result.map_err(|e| stream_error("stderr", e))
    }

    fn masked<'t>(&self, text: &'t str) -> std::borrow::Cow<'t, str> {
        if self.style.mask {
            std::borrow::Cow::Owned(mask_text(text))
        } else {
            std::borrow::Cow::Borrowed(text)
        }
    }
}

/// `--mask` of the process's standard [`Output`], for lines written from work that cannot
/// hold it.
static PROCESS_MASK: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `text` masked as the process's standard output masks.
pub fn side_text(text: &str) -> std::borrow::Cow<'_, str> {
    if PROCESS_MASK.load(std::sync::atomic::Ordering::Relaxed) {
        std::borrow::Cow::Owned(mask_text(text))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// A line on stderr from work that cannot hold the command's [`Output`] (an apply's progress
/// lines, the signal notices), masked like it. Progress is best effort: a failed write is
/// ignored, never a panic.
pub fn side_line(text: &str) {
    let _ = writeln!(std::io::stderr(), "{}", side_text(text));
}

/// The error for a failed write to `stream`: a broken pipe ends quietly, anything else is
/// reported with the stream's name.
fn stream_error(stream: &'static str, source: std::io::Error) -> Error {
    if source.kind() == std::io::ErrorKind::BrokenPipe {
        Error::BrokenPipe { stream }
    } else {
        Error::Stream { stream, source }
    }
}

/// With `--log-format json`, stderr is JSON lines only: a note or an error becomes one object
/// shaped like the tracing subscriber's events (`timestamp`, `level`, `fields.message`,
/// `target`).
pub fn json_line(level: &str, message: &str) -> String {
    let event = serde_json::json!({
        "timestamp": humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string(),
        "level": level,
        "fields": { "message": message },
        "target": "simfleet",
    });
    format!("{event}\n")
}

/// The writer of log lines: stderr, masked with `--mask` (each event arrives in one write).
#[derive(Debug, Clone, Copy)]
pub struct LogWriter {
    pub mask: bool,
}

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.mask {
            let text = mask_text(&String::from_utf8_lossy(buf));
            std::io::stderr().write_all(text.as_bytes())?;
        } else {
            std::io::stderr().write_all(buf)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Writes `bytes` to `path` (see [`write_file_with`]).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_file_with(path, |w| w.write_all(bytes))
}

/// Refuses, before any work, an output path that [`write_file_with`] would refuse after it: a
/// directory, or a path whose directory does not exist (a plan of a million SIMs should not be
/// read only to find that `--out` names a missing directory). With `--mask` it also refuses
/// this process's stdout: files (plan files, snapshots) are never masked, so writing one where
/// the masked output goes would print every identifier `--mask` promised to hide.
pub fn check_target(path: &Path) -> Result<(), Error> {
    let fail = |message: String| Error::WriteFile {
        path: path.display().to_string(),
        source: std::io::Error::new(std::io::ErrorKind::NotFound, message),
    };
    if PROCESS_MASK.load(std::sync::atomic::Ordering::Relaxed) && is_stdout(path) {
        return Err(Error::Usage(format!(
            "{} is this command's stdout, and a file simfleet writes is never masked (a plan file must stay applyable): with --mask, write it to a file, or leave --mask out",
            path.display()
        )));
    }
    if path.is_dir() {
        return Err(fail("it is a directory".to_string()));
    }
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.is_dir() => Err(fail(format!(
            "the directory {} does not exist",
            dir.display()
        ))),
        _ => Ok(()),
    }
}

/// True when `path` is the file this process's stdout writes to (`/dev/stdout`, `/dev/fd/1`,
/// or the file stdout was redirected to).
fn is_stdout(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(path), std::fs::metadata("/dev/stdout")) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// Writes what `write` produces to `path`, the one way simfleet writes a file:
/// - nothing there: a new file, through a temporary file renamed into place;
/// - a regular file: replaced the same way, keeping its permissions;
/// - a symlink to a regular file: its target is replaced so (the link stays a link), but for
///   links to this process's descriptors (`/dev/stdout`, `/dev/fd/N`, `/proc/…`);
/// - anything else (a character device such as `/dev/null`, a FIFO, `/dev/stdout`): written
///   through, never replaced; a directory is refused.
pub fn write_file_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Error> {
    let fail = |source: std::io::Error| Error::WriteFile {
        path: path.display().to_string(),
        source,
    };
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => replace(path, path, None, write),
        Err(e) => Err(fail(e)),
        Ok(meta) if meta.file_type().is_symlink() => {
            // What the link finally names; a dangling link is refused rather than guessed at.
            let target_meta = std::fs::metadata(path).map_err(|e| {
                fail(std::io::Error::new(
                    e.kind(),
                    format!("a symlink whose target cannot be opened ({e})"),
                ))
            })?;
            if target_meta.is_file() && !names_a_descriptor(path) {
                let target = std::fs::canonicalize(path).map_err(fail)?;
                replace(path, &target, Some(target_meta.permissions()), write)
            } else {
                write_through(path, &target_meta, write)
            }
        }
        Ok(meta) if meta.is_file() => replace(path, path, Some(meta.permissions()), write),
        Ok(meta) => write_through(path, &meta, write),
    }
}

/// `/dev/stdout`, `/dev/fd/N`, `/proc/…`: links to an open descriptor of this process, which are
/// written through even when they lead to a regular file (replacing that file would leave the
/// descriptor writing into the old one).
fn names_a_descriptor(path: &Path) -> bool {
    ["/dev/stdout", "/dev/stderr", "/dev/fd/", "/proc/"]
        .iter()
        .any(|prefix| path.to_string_lossy().starts_with(prefix))
}

/// Writes into a temporary file beside `target` and renames it over `target`.
fn replace(
    shown: &Path,
    target: &Path,
    permissions: Option<std::fs::Permissions>,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Error> {
    let fail = |source: std::io::Error| Error::WriteFile {
        path: shown.display().to_string(),
        source,
    };
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(fail(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("directory {} does not exist", dir.display()),
        )));
    }
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(fail)?;
    write(tmp.as_file_mut()).map_err(fail)?;
    tmp.as_file_mut().flush().map_err(fail)?;
    if let Some(permissions) = permissions {
        tmp.as_file().set_permissions(permissions).map_err(fail)?;
    }
    tmp.persist(target).map_err(|e| fail(e.error))?;
    Ok(())
}

/// Writes into what is at `path` without replacing it (a device, a FIFO, a terminal).
fn write_through(
    path: &Path,
    meta: &std::fs::Metadata,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Error> {
    let fail = |source: std::io::Error| Error::WriteFile {
        path: path.display().to_string(),
        source,
    };
    if meta.is_dir() {
        return Err(fail(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "is a directory; give a file name",
        )));
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(fail)?;
    let mut buffered = std::io::BufWriter::new(&mut file);
    write(&mut buffered)
        .and_then(|()| buffered.flush())
        .map_err(|e| match e.kind() {
            // `--out /dev/stdout | head`: the reader chose to stop, as on stdout.
            std::io::ErrorKind::BrokenPipe => Error::BrokenPipe {
                stream: "the output file",
            },
            _ => fail(e),
        })
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().expect("lock").clone()).expect("utf-8")
        }
    }

    struct Failing(std::io::ErrorKind);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from(self.0))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Err(std::io::Error::from(self.0))
        }
    }

    #[test]
    fn masking_reaches_every_stream_and_the_error() {
        let (out, err) = (Shared::default(), Shared::default());
        let style = OutputStyle {
            mask: true,
            ..OutputStyle::default()
        };
        let mut output = Output::new(Box::new(out.clone()), Box::new(err.clone()), style);
        output.print("sim 89490000000000000015\n").expect("print");
        output.note("note 89490000000000000015").expect("note");
        output.error(&Error::Usage("bad 89490000000000000015".into()), false);
        output.finish().expect("finish");
        let all = out.text() + &err.text();
        assert!(!all.contains("8949000000"), "{all}");
        assert!(all.contains("0015"), "{all}");
    }

    #[test]
    fn json_notes_are_one_event_per_line_and_quiet_drops_them() {
        let err = Shared::default();
        let style = OutputStyle {
            json_lines: true,
            ..OutputStyle::default()
        };
        let mut output = Output::new(Box::new(std::io::sink()), Box::new(err.clone()), style);
        output.note("first\nsecond\n").expect("note");
        let lines: Vec<String> = err.text().lines().map(str::to_string).collect();
        assert_eq!(lines.len(), 2);
        let event: serde_json::Value = serde_json::from_str(&lines[1]).expect("JSON");
        assert_eq!(event["fields"]["message"], "second");
        let quiet = Shared::default();
        let style = OutputStyle {
            quiet: true,
            ..OutputStyle::default()
        };
        let mut output = Output::new(Box::new(std::io::sink()), Box::new(quiet.clone()), style);
        output.note("hidden").expect("note");
        assert_eq!(quiet.text(), "");
    }

    #[test]
    fn failed_writes_name_the_stream_and_broken_pipes_are_their_own() {
        let mut output = Output::new(
            Box::new(Failing(std::io::ErrorKind::StorageFull)),
            Box::new(std::io::sink()),
            OutputStyle::default(),
        );
        let e = output.print("x").expect_err("fails");
        assert!(
            matches!(
                e,
                Error::Stream {
                    stream: "stdout",
                    ..
                }
            ),
            "{e:?}"
        );
        let mut output = Output::new(
            Box::new(Failing(std::io::ErrorKind::BrokenPipe)),
            Box::new(std::io::sink()),
            OutputStyle::default(),
        );
        let e = output.print("x").expect_err("fails");
        assert!(matches!(e, Error::BrokenPipe { .. }), "{e:?}");
    }

    #[cfg(unix)]
    #[test]
    fn files_are_replaced_only_when_regular() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("dir");
        // A regular file: replaced, its permissions kept.
        let file = dir.path().join("plan.json");
        std::fs::write(&file, "old").expect("write");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        write_file(&file, b"new").expect("replace");
        assert_eq!(std::fs::read_to_string(&file).expect("read"), "new");
        let mode = std::fs::metadata(&file).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
        // A symlink to a regular file: the target is replaced, the link stays.
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&file, &link).expect("symlink");
        write_file(&link, b"through the link").expect("write");
        assert!(std::fs::symlink_metadata(&link)
            .expect("meta")
            .file_type()
            .is_symlink());
        assert_eq!(
            std::fs::read_to_string(&file).expect("read"),
            "through the link"
        );
        // A character device: written through, still a device.
        write_file(Path::new("/dev/null"), b"x").expect("/dev/null");
        assert!(!std::fs::metadata("/dev/null").expect("meta").is_file());
        // A missing directory: an error naming the path.
        let e = write_file(&dir.path().join("missing/plan.json"), b"x").expect_err("fails");
        assert!(e.to_string().contains("missing/plan.json"), "{e}");
        assert!(e.to_string().contains("does not exist"), "{e}");
        // A directory: refused.
        assert!(write_file(dir.path(), b"x").is_err());
    }
}

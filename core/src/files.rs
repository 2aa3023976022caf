//! The one writer of the files dwell hands out (exports, reports, config,
//! unit files, extension files): whole or not at all (a temporary file beside
//! the target, synced, then renamed over it), with the permissions asked for
//! (private files are 0600), and standard output written the same way by
//! every command ([`to_stdout`]). Used by both binaries.
//!
//! What "private" means differs by platform, and is said once here, in
//! `files/unix.rs` (modes 0600 and 0700, `O_NOFOLLOW`) and `files/windows.rs`
//! (the profile directory's access list, inherited; reparse points not
//! followed): the store and the commands call [`create_private_dir`],
//! [`with_mode`], [`set_mode`], [`no_follow`], [`link_count`] and
//! [`why_not_writable`] and hold no platform code of their own.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as os;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as os;

pub use os::{create_private_dir, link_count, no_follow, set_mode, why_not_writable, with_mode};

/// A file could not be written; the target is as it was.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {source}")]
pub struct WriteError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Writes `bytes` to `path`, readable by its owner only (0600), replacing it
/// whole or not at all.
pub fn write_private(path: &Path, bytes: impl AsRef<[u8]>) -> Result<(), WriteError> {
    write_atomic(path, bytes, 0o600)
}

/// Writes `bytes` to `path` with permissions `mode`, replacing it whole or not
/// at all. A symbolic link or hard link at `path` is replaced (a new file
/// takes the name), never written through.
pub fn write_atomic(path: &Path, bytes: impl AsRef<[u8]>, mode: u32) -> Result<(), WriteError> {
    let fail = |path: &Path, source| WriteError {
        path: path.to_owned(),
        source,
    };
    let Some(name) = path.file_name() else {
        return Err(fail(
            path,
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"),
        ));
    };
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let result = (|| {
        let mut f = with_mode(OpenOptions::new().write(true).create_new(true), mode)
            .open(&tmp)
            .map_err(|e| fail(&tmp, e))?;
        f.write_all(bytes.as_ref())
            .and_then(|()| f.sync_all())
            .map_err(|e| fail(&tmp, e))?;
        // The umask may have taken bits away.
        set_mode(&tmp, mode).map_err(|e| fail(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| fail(path, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Writes `bytes` to standard output; a reader that stops early (`| head`)
/// ends it quietly, as a filter should, rather than as an error.
pub fn to_stdout(bytes: impl AsRef<[u8]>) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes.as_ref()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    #[cfg(unix)]
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn a_private_file_is_written_whole_and_0600() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.json");
        write_private(&p, "{}\n").unwrap();
        write_private(&p, b"[]\n").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "[]\n");
        #[cfg(unix)]
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o600);
        // Nothing left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let e = write_private(&dir.path().join("no/such/dir/x"), "x").unwrap_err();
        assert!(e.to_string().starts_with("cannot write "), "{e}");
    }

    #[test]
    #[cfg(unix)]
    fn a_symlink_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("precious");
        std::fs::write(&target, "keep").unwrap();
        let link = dir.path().join("out.csv");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_private(&link, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        assert_eq!(std::fs::read_to_string(&link).unwrap(), "new");
        assert!(!std::fs::symlink_metadata(&link).unwrap().is_symlink());
    }

    #[test]
    fn a_hard_link_is_replaced_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let other = dir.path().join("precious");
        std::fs::write(&other, "keep").unwrap();
        let link = dir.path().join("out.csv");
        std::fs::hard_link(&other, &link).unwrap();
        write_private(&link, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&other).unwrap(), "keep");
        assert_eq!(std::fs::read_to_string(&link).unwrap(), "new");
        assert_eq!(link_count(&std::fs::metadata(&link).unwrap()), 1);
    }

    #[test]
    #[cfg(unix)]
    fn other_modes_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("unit.service");
        write_atomic(&p, "[Unit]\n", 0o644).unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o644);
    }
}

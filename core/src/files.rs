//! The one writer of the files dwell hands out (exports, reports, config,
//! unit files, extension files): whole or not at all (a temporary file beside
//! the target, synced, then renamed over it), with the permissions asked for
//! (private files are 0600), and standard output written the same way by
//! every command ([`to_stdout`]). Used by both binaries. And the files dwell
//! opens in place (the lock, the database) are its own: never reached through
//! a link, a hard link or a directory ([`not_own_file`], [`refuse_links`]).
//!
//! What "private" means differs by platform, and is said once, in
//! `files/unix.rs` (modes 0600 and 0700, `O_NOFOLLOW`) and `files/windows.rs`
//! (the profile directory's access list, inherited; reparse points not
//! followed): the store and the commands call [`create_private_dir`],
//! [`with_mode`], [`set_mode`], [`refuse_links`], [`link_count`] and
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

pub use os::{create_private_dir, link_count, refuse_links, set_mode, why_not_writable, with_mode};

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

/// `open(2)` flag that refuses to open a symbolic link (for
/// `OpenOptionsExt::custom_flags`): the lock file and the database are never
/// reached through a link planted in the data directory (the directory itself
/// may be a link: moving data to another disk is legitimate). Unix; see
/// [`refuse_links`] for both.
#[cfg(unix)]
pub fn no_follow() -> i32 {
    rustix::fs::OFlags::NOFOLLOW.bits() as i32
}

/// Turns the error a refused link gives (`ELOOP` from [`refuse_links`] on Unix) into a clear error.
pub fn explain_link(path: &Path, e: std::io::Error) -> std::io::Error {
    match not_own_file(path) {
        Some(why) => std::io::Error::new(std::io::ErrorKind::InvalidInput, why),
        None => e,
    }
}

/// Why `path` must not be opened as one of dwell's own files (`agent.lock`,
/// `dwell.db` and its `-wal` and `-shm`), in one line naming it and saying
/// what to do; `None` when it is a plain file with one name, or absent.
pub fn not_own_file(path: &Path) -> Option<String> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    not_own(path, &meta)
}

/// [`not_own_file`] for what `lstat` (or `fstat` of an open file) said of
/// `path`: a symbolic link (dwell would write where it points), a hard link
/// (a file with other names: dwell would write another file of yours), a
/// directory, or anything else but a plain file.
pub fn not_own(path: &Path, meta: &std::fs::Metadata) -> Option<String> {
    let p = path.display();
    let kind = meta.file_type();
    if kind.is_symlink() {
        Some(format!(
            "{p} is a symbolic link; dwell does not follow links inside its data directory: remove it"
        ))
    } else if kind.is_dir() {
        Some(format!(
            "{p} is a directory where dwell keeps a file: move it out of the data directory"
        ))
    } else if !kind.is_file() {
        Some(format!(
            "{p} is not a plain file (a device, socket or pipe): remove it"
        ))
    } else if link_count(meta) > 1 {
        Some(format!(
            "{p} is a hard link (the file has {} names): dwell would write another file of yours through it; remove this name (the others keep the file)",
            link_count(meta)
        ))
    } else {
        None
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

//! The store's errors: [`StoreError`], and what a SQLite or OS error on the
//! database means for the employee (damage, a read-only disk, no permission,
//! a full disk: each typed, with one line saying what to do).

use std::path::{Path, PathBuf};

/// Below this many free bytes, an I/O error on the disk means it is full.
pub(super) const NEARLY_FULL: u64 = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} was written by a newer dwell (schema {found}; this one knows up to {known}): update dwell")]
    NewerSchema {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("{path} is not a dwell database")]
    NotDwell { path: PathBuf },
    /// `PRAGMA quick_check` failed, or SQLite found the file malformed.
    #[error("{path} is damaged ({detail})")]
    Damaged { path: PathBuf, detail: String },
    /// The disk is mounted read-only (EROFS).
    #[error("{path} is on a read-only disk: dwell can show and export what it recorded but cannot record there; make the disk writable or choose another data directory (--data-dir), then start dwell again")]
    ReadOnly { path: PathBuf },
    /// The file or its directory cannot be written by this user (EACCES, EPERM).
    #[error("{path} cannot be written by you (permission denied): make it yours and writable again (chown, chmod u+rw), then start dwell again")]
    PermissionDenied { path: PathBuf },
    /// SQLITE_FULL, ENOSPC, EDQUOT.
    #[error("the disk holding {path} is full: free some space, then start dwell again")]
    DiskFull { path: PathBuf },
    /// The [`Cancel`](super::Cancel) token given to
    /// [`Store::open_checked_with`](super::Store::open_checked_with) was set
    /// before the work was done. Nothing was swapped: a damaged file is still
    /// in place, and the next start checks (and salvages) it again.
    #[error("{path}: stopped before the check or salvage of the database was done (dwell was asked to stop); nothing was changed, the next start does it again")]
    Cancelled { path: PathBuf },
    /// One of the database's files is a symbolic link, a hard link, a
    /// directory... ([`crate::files::not_own`]); `detail` names it and says
    /// what to do.
    #[error("{detail}")]
    NotOwnFile { path: PathBuf, detail: String },
}

impl StoreError {
    /// Whether trying again cannot help until the employee does something
    /// (what, the message says): a service manager should not restart the agent.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            StoreError::Damaged { .. }
                | StoreError::ReadOnly { .. }
                | StoreError::PermissionDenied { .. }
                | StoreError::DiskFull { .. }
                | StoreError::NewerSchema { .. }
                | StoreError::NotDwell { .. }
                | StoreError::NotOwnFile { .. }
        )
    }

    /// Whether another connection held the database for longer than the busy
    /// timeout (SQLITE_BUSY, SQLITE_LOCKED): trying again later helps.
    pub fn is_busy(&self) -> bool {
        matches!(
            self,
            StoreError::Sqlite { source, .. } if matches!(
                source.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            )
        )
    }

    /// An I/O error on `path`, typed when it is one the employee must fix
    /// (std sorts the OS's codes: `EROFS`, `EACCES`, `ENOSPC`… on Unix,
    /// `ERROR_WRITE_PROTECT`, `ERROR_ACCESS_DENIED`, `ERROR_DISK_FULL`… on Windows).
    pub fn from_io(path: &Path, source: std::io::Error) -> StoreError {
        use std::io::ErrorKind;
        let path = path.to_owned();
        match source.kind() {
            ErrorKind::ReadOnlyFilesystem => StoreError::ReadOnly { path },
            ErrorKind::PermissionDenied => StoreError::PermissionDenied { path },
            ErrorKind::StorageFull | ErrorKind::QuotaExceeded => StoreError::DiskFull { path },
            _ => StoreError::Io { path, source },
        }
    }
}

/// A SQLite error on the database at `path`, typed when the employee must act:
/// damage, a read-only disk, no permission, a full disk.
pub(super) fn sql(path: &Path, source: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode as C;
    let code = match &source {
        rusqlite::Error::SqliteFailure(f, _) => Some(f.code),
        _ => None,
    };
    match code {
        Some(C::DatabaseCorrupt | C::NotADatabase) => StoreError::Damaged {
            path: path.to_owned(),
            detail: source.to_string(),
        },
        Some(C::DiskFull) => StoreError::DiskFull {
            path: path.to_owned(),
        },
        Some(C::ReadOnly | C::CannotOpen | C::PermissionDenied | C::SystemIoFailure) => {
            why_not_writable(path).unwrap_or(StoreError::Sqlite {
                path: path.to_owned(),
                source,
            })
        }
        _ => StoreError::Sqlite {
            path: path.to_owned(),
            source,
        },
    }
}

/// After SQLite failed to open or write `path`, looks at its disk and
/// directory for a reason the employee can fix.
pub(super) fn why_not_writable(path: &Path) -> Option<StoreError> {
    crate::files::why_not_writable(path, NEARLY_FULL).map(|(p, e)| StoreError::from_io(&p, e))
}

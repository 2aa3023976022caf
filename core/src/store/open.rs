//! Opening a database: its files private (0600 in a 0700 directory), never
//! through a link, migrated; read-only for reports and merges; checked for
//! damage ([`Store::health_check`]) before the agent writes to it.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};

use super::error::sql;
use super::schema::SCHEMA_VERSION;
use super::{with_suffix, Cancel, Salvage, Store, StoreError, AGENT_STARTED_KEY};
use crate::store::DB_FILE;

/// Creates `dir` (and parents) if needed and makes it private (0700).
pub fn ensure_private_dir(dir: &Path) -> Result<(), StoreError> {
    crate::files::create_private_dir(dir).map_err(|source| StoreError::from_io(dir, source))
}

impl Store {
    /// Opens (creating if needed) the database in `data_dir`, private, migrated.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        Store::open_unmigrated(data_dir)?.finish_open()
    }

    /// The connection to `data_dir`'s database (created 0600 if missing),
    /// before any write.
    pub(super) fn open_unmigrated(data_dir: &Path) -> Result<Store, StoreError> {
        ensure_private_dir(data_dir)?;
        // The directory may be a link (data moved to another disk); the files
        // inside it may not, and SQLite's no-follow check covers the whole path.
        let data_dir = std::fs::canonicalize(data_dir)
            .map_err(|source| StoreError::from_io(data_dir, source))?;
        Store::open_file_unmigrated(data_dir.join(DB_FILE))
    }

    /// The connection to the database file `path` (created 0600 if missing),
    /// before any write.
    pub(super) fn open_file_unmigrated(path: PathBuf) -> Result<Store, StoreError> {
        own_files(&path, &["", "-wal", "-shm"])?;
        // Create the file ourselves so it is 0600 from its first byte.
        // Never through a symbolic link planted where the database should be.
        let mut options = OpenOptions::new();
        crate::files::with_mode(options.create(true).append(true), 0o600);
        crate::files::refuse_links(&mut options)
            .open(&path)
            .map_err(|e| StoreError::from_io(&path, crate::files::explain_link(&path, e)))?;
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_NOFOLLOW,
        )
        .map_err(|e| sql(&path, e))?;
        Store::with_conn(conn, path)
    }

    pub(super) fn finish_open(mut self) -> Result<Store, StoreError> {
        self.migrate()?;
        self.private_files()?;
        Ok(self)
    }

    /// Opens the database in `data_dir` for the agent: checked
    /// ([`Store::health_check`]) before anything is written to it, migrated,
    /// and written once (so that a full disk shows now, not later).
    ///
    /// A damaged database is never written to again: it is moved aside with
    /// its `-wal` and `-shm` to `dwell.db.damaged-<UTC time>`, what can still be
    /// read (settings and consent, sites, spans, reminders, notes) is copied row
    /// by row into a fresh database, skipping what errors, and a one-line note
    /// saying so is stored there ([`Store::database_note`]) and returned. The
    /// salvage ends whatever the damage, in time bounded by the file's size
    /// (see the `salvage` module).
    ///
    /// [`Store::open_checked_with`] without a way to stop it.
    pub fn open_checked(
        data_dir: &Path,
        now: DateTime<Utc>,
    ) -> Result<(Store, Option<Salvage>), StoreError> {
        Store::open_checked_with(data_dir, now, &Cancel::new())
    }

    /// [`Store::open_checked`], stopped with [`StoreError::Cancelled`] soon
    /// after `cancel` is set (within milliseconds: the token is seen between
    /// steps and, through a progress handler, inside each SQLite statement).
    /// Stopped before the swap of a salvage, nothing has moved: the damaged
    /// file stays in place, byte for byte, and the next start tries again.
    /// The returned store no longer watches `cancel`.
    pub fn open_checked_with(
        data_dir: &Path,
        now: DateTime<Utc>,
        cancel: &Cancel,
    ) -> Result<(Store, Option<Salvage>), StoreError> {
        cancel.check(data_dir)?;
        let opened = Store::open_unmigrated(data_dir).and_then(|mut store| {
            cancel.watch(&mut store.conn, None);
            let path = store.path.clone();
            let checked = cancel.or_cancelled(&path, store.health_check());
            checked?;
            cancel.check(&path)?;
            let mut store = cancel.or_cancelled(&path, store.finish_open())?;
            cancel.or_cancelled(&path, store.meta_set(AGENT_STARTED_KEY, &now.to_rfc3339()))?;
            store.unwatch();
            Ok(store)
        });
        let detail = match opened {
            Ok(store) => return Ok((store, None)),
            Err(StoreError::Damaged { detail, .. }) => detail,
            Err(e) => return Err(e),
        };
        let (store, salvage) = Store::salvage(data_dir, detail, now, cancel)?;
        Ok((store, Some(salvage)))
    }

    /// Opens the database in `data_dir` if there is one; never creates it.
    /// On a read-only or full disk, or when the files cannot be written, it is
    /// opened read-only ([`Store::open_read_only`]): reading works (`export`),
    /// and a write fails with the same error the read-write open gave.
    pub fn open_existing(data_dir: &Path) -> Result<Option<Store>, StoreError> {
        let db = data_dir.join(DB_FILE);
        if !db.exists() {
            return Ok(None);
        }
        match Store::open(data_dir) {
            Err(
                e @ (StoreError::ReadOnly { .. }
                | StoreError::PermissionDenied { .. }
                | StoreError::DiskFull { .. }),
            ) => Store::open_read_only(&db).map(Some).map_err(|_| e),
            r => r.map(Some),
        }
    }

    /// Opens any dwell database file read-only (status, reports, `--merge`).
    /// When SQLite cannot open it the usual way because nothing can be written
    /// beside it (a read-only or full disk, a directory that is not yours), it
    /// is opened as immutable: what a `-wal` file holds is then not seen.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        // The file may be a link (a merged copy); what SQLite writes beside it may not.
        own_files(path, &["-wal", "-shm"])?;
        if path.is_dir() {
            return Err(StoreError::NotOwnFile {
                path: path.to_owned(),
                detail: format!(
                    "{} is a directory, not a dwell database: move it away",
                    path.display()
                ),
            });
        }
        if !path.is_file() {
            return Err(StoreError::Io {
                path: path.to_owned(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            });
        }
        let companions = ["-wal", "-shm"].map(|suffix| with_suffix(path, suffix));
        let existed = companions
            .clone()
            .map(|p| std::fs::symlink_metadata(p).is_ok());
        let opened = match Store::open_read_only_as(path, false) {
            Err(e) if cannot_share(&e) => Store::open_read_only_as(path, true).map_err(|_| e),
            r => r,
        };
        // SQLite makes the `-wal` and `-shm` of a read with the mode of the
        // database: a 0400 file would leave 0400 ones the next writer cannot use.
        for (p, existed) in companions.iter().zip(existed) {
            let ours = std::fs::symlink_metadata(p)
                .is_ok_and(|m| m.is_file() && crate::files::link_count(&m) == 1);
            if !existed && ours {
                let _ = crate::files::set_mode(p, 0o600);
            }
        }
        opened
    }

    pub(super) fn open_read_only_as(path: &Path, immutable: bool) -> Result<Store, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = if immutable {
            Connection::open_with_flags(
                format!("file:{}?immutable=1", uri_path(path)),
                flags | OpenFlags::SQLITE_OPEN_URI,
            )
        } else {
            Connection::open_with_flags(path, flags)
        }
        .map_err(|e| sql(path, e))?;
        let store = Store::with_conn(conn, path.to_owned())?;
        let not_dwell = || StoreError::NotDwell {
            path: path.to_owned(),
        };
        let version = store.user_version_raw().map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::NotADatabase => {
                not_dwell()
            }
            e => store.err(e),
        })?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: path.to_owned(),
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        let has_spans: bool = store
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'spans'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)
            .map_err(|_| not_dwell())?;
        if version < 1 || !has_spans {
            return Err(not_dwell());
        }
        Ok(store)
    }

    pub(super) fn with_conn(conn: Connection, path: PathBuf) -> Result<Store, StoreError> {
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| sql(&path, e))?;
        Ok(Store {
            conn,
            path,
            site_ids: HashMap::new(),
            damaged: OnceCell::new(),
            rollup_zone: None,
            upkeep_stop: None,
        })
    }

    /// Makes the database and its WAL companions 0600.
    pub(super) fn private_files(&self) -> Result<(), StoreError> {
        for suffix in ["", "-wal", "-shm"] {
            let p = with_suffix(&self.path, suffix);
            if p.exists() {
                crate::files::set_mode(&p, 0o600)
                    .map_err(|source| StoreError::from_io(&p, source))?;
            }
        }
        Ok(())
    }

    /// `PRAGMA quick_check`: `Err(StoreError::Damaged)` when the file is
    /// damaged (or was found damaged before). From then on this connection
    /// never writes to it again. The agent runs it when it opens its database
    /// ([`Store::open_checked`]) and once a day after that.
    pub fn health_check(&self) -> Result<(), StoreError> {
        if let Some(detail) = self.damaged.get() {
            return Err(self.damage(detail));
        }
        let answers: Vec<String> = self
            .conn
            .prepare("PRAGMA quick_check")
            .and_then(|mut stmt| {
                stmt.query_map([], |r| r.get(0))?
                    .take(3)
                    .collect::<Result<_, _>>()
            })
            .map_err(self.s())?;
        if answers.len() == 1 && answers[0] == "ok" {
            return Ok(());
        }
        let mut detail = answers.join("; ").replace(['\n', '\r'], " ");
        if detail.is_empty() {
            detail = "quick_check gave no answer".to_owned();
        }
        if let Some((i, _)) = detail.char_indices().nth(160) {
            detail.truncate(i);
            detail.push('…');
        }
        self.mark_damaged(&detail);
        Err(self.damage(&detail))
    }

    pub(super) fn damage(&self, detail: &str) -> StoreError {
        StoreError::Damaged {
            path: self.path.clone(),
            detail: detail.to_owned(),
        }
    }

    /// Remembers that the file is damaged: nothing is written to it again, not
    /// even the checkpoint SQLite makes when the last connection closes.
    pub(super) fn mark_damaged(&self, detail: &str) {
        if self.damaged.set(detail.to_owned()).is_ok() {
            let _ = self
                .conn
                .set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true);
        }
    }
}

/// Refuses the files of database `db` (its name with each of `suffixes`)
/// that dwell must not open: links, directories ([`crate::files::not_own`]).
pub(super) fn own_files(db: &Path, suffixes: &[&str]) -> Result<(), StoreError> {
    for suffix in suffixes {
        let path = with_suffix(db, suffix);
        if let Some(detail) = crate::files::not_own_file(&path) {
            return Err(StoreError::NotOwnFile { path, detail });
        }
    }
    Ok(())
}

/// Whether a read-only open failed only because SQLite could not share the
/// file with writers (it cannot create or write the `-shm` beside it).
pub(super) fn cannot_share(e: &StoreError) -> bool {
    match e {
        StoreError::ReadOnly { .. }
        | StoreError::PermissionDenied { .. }
        | StoreError::DiskFull { .. } => true,
        StoreError::Sqlite {
            source: rusqlite::Error::SqliteFailure(f, _),
            ..
        } => matches!(
            f.code,
            rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::ReadOnly
        ),
        _ => false,
    }
}

/// `path` for a `file:` URI: every byte but unreserved ones and `/` escaped.
pub(super) fn uri_path(path: &Path) -> String {
    let mut out = String::new();
    for &b in path.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

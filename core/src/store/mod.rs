//! The private SQLite store: one file, `dwell.db`, in a 0700 data directory,
//! itself 0600, in WAL mode, with append-only versioned migrations
//! (`PRAGMA user_version`). This is the only module in `core` that does I/O.
//!
//! What is stored: consent and its time, spans (start, end, site label or
//! "other", source), reminders, weekly notes, and each database's random
//! identity (so that a report never counts a copy of a database twice). Never a
//! window title or URL.
//!
//! Health: the agent opens its database with [`Store::open_checked`], which runs
//! `PRAGMA quick_check` first. A damaged database is never written to again: it
//! is moved aside (`dwell.db.damaged-<UTC time>`, with its `-wal` and `-shm`),
//! what can still be read is copied row by row into a fresh one, and a one-line
//! note saying so is kept in the fresh one ([`Store::database_note`]); the
//! salvage (`store/salvage.rs`) ends, whatever the damage, in time bounded by
//! the file's size, and [`Store::open_checked_with`] stops all of this soon
//! after a [`Cancel`] token is set, never half-way through the swap. The
//! running agent calls [`Store::health_check`] once a day. Errors that only the
//! employee can fix (damage, a read-only disk, no permission, a full disk) are
//! typed ([`StoreError::is_permanent`]), each with one line saying what to do.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, TimeZone, Utc};
use rusqlite::config::DbConfig;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use crate::forget::{self, ForgetEntry, Forgotten};
use crate::ledger::{self, DayRollup};
use crate::model::{Activity, ReminderRecord, Source, Span};
use crate::paths::DB_FILE;
use crate::schedule::{local_date, local_day_bounds};

mod cancel;
mod salvage;
pub use cancel::Cancel;
pub use salvage::Salvage;

/// Longest a stored span can be: spans are split at local midnight, and a local
/// day lasts at most 25 hours. Used to bound range queries on `start`.
pub const MAX_SPAN_MS: i64 = 26 * 3_600_000;

/// Longest a span that makes sense can be: a local day (25 hours on the day
/// clocks go back). Longer ones in a merged or salvaged file are skipped.
pub const LONGEST_DAY_MS: i64 = 25 * 3_600_000;

/// The `meta` key of the database's identity: 16 random bytes in hex, made
/// when the database is created (or migrated to schema 3).
pub const DATABASE_ID_KEY: &str = "database_id";

/// The `meta` key of the one-line note saying what happened to a damaged
/// database ([`Store::database_note`]).
pub const DATABASE_NOTE_KEY: &str = "database_note";

/// The `meta` key of when the agent last opened the database (RFC 3339).
pub const AGENT_STARTED_KEY: &str = "agent_started_at";

/// The WAL is checkpointed once it holds this many pages (4 KiB each)...
const WAL_AUTOCHECKPOINT_PAGES: i64 = 128;
/// ...and cut back to this many bytes when it is reused, so it stays under 1 MB.
const WAL_SIZE_LIMIT: i64 = 1_000_000;

/// Below this many free bytes, an I/O error on the disk means it is full.
const NEARLY_FULL: u64 = 1 << 20;

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
    /// The [`Cancel`] token given to [`Store::open_checked_with`] was set
    /// before the work was done. Nothing was swapped: a damaged file is still
    /// in place, and the next start checks (and salvages) it again.
    #[error("{path}: stopped before the check or salvage of the database was done (dwell was asked to stop); nothing was changed, the next start does it again")]
    Cancelled { path: PathBuf },
    /// One of the database's files is a symbolic link, a hard link, a
    /// directory... ([`crate::paths::not_own`]); `detail` names it and says
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

/// Append-only: never edit a released migration, add a new one.
const MIGRATIONS: &[&str] = &[
    // 1: consent and settings, site labels, spans keyed by their start (ms).
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
     CREATE TABLE sites (id INTEGER PRIMARY KEY, label TEXT NOT NULL UNIQUE);
     CREATE TABLE spans (
         start  INTEGER PRIMARY KEY,          -- unix ms, UTC
         end    INTEGER NOT NULL,             -- unix ms, UTC, > start
         site   INTEGER REFERENCES sites(id), -- NULL: other (non-social) active time
         source INTEGER NOT NULL              -- 1 x11, 2 extension, 3 demo, 4 wayland
     );",
    // 2: what became of each reminder, and the employee's weekly reflection notes.
    "CREATE TABLE reminders (
         at          INTEGER PRIMARY KEY,     -- unix ms, UTC, when it was due
         kind        TEXT NOT NULL,           -- stage, over, streak, weekly
         outcome     TEXT NOT NULL,           -- shown, snoozed, done_for_today, dismissed, expired, held, undelivered
         left_social INTEGER,                 -- 1/0: left social sites within 2 min; NULL: not known yet
         message     TEXT                     -- catalogue id of the message shown, never a site or title
     );
     CREATE TABLE notes (
         week    TEXT PRIMARY KEY,            -- ISO week, 2026-W48
         text    TEXT NOT NULL,
         written INTEGER NOT NULL             -- unix ms, UTC
     ) WITHOUT ROWID;",
    // 3: the database's identity, 16 random bytes in hex (SQLite's randomness,
    // seeded from /dev/urandom), so that a report never merges a copy twice.
    "INSERT OR IGNORE INTO meta (key, value) VALUES ('database_id', lower(hex(randomblob(16))));",
    // 4: per local day rollups (see `Store::keep_rollups`): the ledger's figures
    // of each day, kept up to date with the spans. Complete only while
    // `meta.rollups` is set: a database with spans gets them on its next write
    // by a writer that knows the time zone.
    "CREATE TABLE IF NOT EXISTS day_rollups (
         day    INTEGER PRIMARY KEY,          -- local date, days since 0001-01-01 (day 1)
         start  INTEGER NOT NULL,             -- the local day's bounds, unix ms, UTC
         end    INTEGER NOT NULL,
         social INTEGER NOT NULL,             -- ms of social time
         other  INTEGER NOT NULL,             -- ms of other active time
         exact  INTEGER NOT NULL,             -- 0: spans overlap that day (read the spans)
         visits BLOB NOT NULL                 -- the day's visits in order: site id, start, length
     );
     INSERT OR IGNORE INTO meta (key, value) SELECT 'rollups', '1' WHERE NOT EXISTS (SELECT 1 FROM spans);",
];

/// The meta key saying the rollups are complete (value [`ROLLUPS_COMPLETE`]).
const ROLLUPS_KEY: &str = "rollups";
const ROLLUPS_COMPLETE: &str = "1";

/// Local days rolled up per query when every rollup is rebuilt.
const REBUILD_DAYS: i64 = 28;

/// The local time zone of the rollups, as [`Store::keep_rollups`] takes it.
trait RollupZone: Send {
    fn date(&self, at: DateTime<Utc>) -> NaiveDate;
    fn bounds(&self, date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>);
    fn rollups<'a>(&self, spans: &'a [Span]) -> Vec<DayRollup<'a>>;
}

impl<Tz: TimeZone + Send + 'static> RollupZone for Tz {
    fn date(&self, at: DateTime<Utc>) -> NaiveDate {
        local_date(at, self)
    }

    fn bounds(&self, date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
        local_day_bounds(date, self)
    }

    fn rollups<'a>(&self, spans: &'a [Span]) -> Vec<DayRollup<'a>> {
        ledger::day_rollups(spans, self)
    }
}

/// One local day as the rollups keep it ([`Store::rollups`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredDay {
    pub date: NaiveDate,
    /// The local day's bounds when it was rolled up.
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub social_ms: i64,
    pub other_ms: i64,
    /// False: spans overlap that day, its visits and streaks need the spans.
    pub exact: bool,
    /// In order (empty unless asked for).
    pub visits: Vec<StoredVisit>,
}

/// One visit of a [`StoredDay`]: the id of its site ([`Store::sites_by_id`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredVisit {
    pub site: i64,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

fn day_number(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce())
}

fn put_varint(out: &mut Vec<u8>, v: i64) {
    // Zigzag, then 7 bits a byte.
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

fn get_varint(bytes: &[u8], at: &mut usize) -> Option<i64> {
    let mut z: u64 = 0;
    let mut shift = 0;
    loop {
        let b = *bytes.get(*at)?;
        *at += 1;
        z |= u64::from(b & 0x7f).checked_shl(shift)?;
        if b < 0x80 {
            break;
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
    Some(((z >> 1) as i64) ^ -((z & 1) as i64))
}

/// A day's visits as a blob: site id, start (from the previous visit's end,
/// or the day's start), length; zigzag varints.
fn encode_visits(day_start: i64, visits: &[(i64, i64, i64)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(visits.len() * 5);
    let mut prev = day_start;
    for &(site, start, end) in visits {
        put_varint(&mut out, site);
        put_varint(&mut out, start - prev);
        put_varint(&mut out, end - start);
        prev = end;
    }
    out
}

fn decode_visits(day_start: i64, bytes: &[u8], out: &mut Vec<StoredVisit>) -> Option<()> {
    let (mut at, mut prev) = (0, day_start);
    while at < bytes.len() {
        let site = get_varint(bytes, &mut at)?;
        let start = prev.checked_add(get_varint(bytes, &mut at)?)?;
        let end = start.checked_add(get_varint(bytes, &mut at)?)?;
        out.push(StoredVisit {
            site,
            start: from_ms(start),
            end: from_ms(end),
        });
        prev = end;
    }
    Some(())
}

/// The meta key of the forget log (see [`crate::forget`]).
const FORGET_LOG_KEY: &str = "forget_log";

/// What a write of spans changes, for the rollups.
enum Touched {
    Nothing,
    /// The spans of `[from, to)`.
    Range(DateTime<Utc>, DateTime<Utc>),
    /// A span too long for the rollups' queries of a day.
    TooLong,
}

/// What became of a guarded write ([`Store::put_spans_guarded`]).
#[derive(Debug, PartialEq, Eq)]
pub enum Put {
    Written,
    /// Nothing was written: these forgets happened since the writer last
    /// looked. It must drop what they removed and write again.
    Forgotten(Vec<ForgetEntry>),
}

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// One owner of one connection.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    site_ids: HashMap<String, i64>,
    /// Set when damage is seen (with what was seen): from then on this
    /// connection writes nothing, not even a checkpoint when it closes.
    damaged: OnceCell<String>,
    /// The time zone the rollups are kept in, once a writer says
    /// ([`Store::keep_rollups`]); without it, a write marks them incomplete.
    rollup_zone: Option<Box<dyn RollupZone>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_ms(v: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(v)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// `path` with `suffix` appended to its file name (`dwell.db` → `dwell.db-wal`).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

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
    fn open_unmigrated(data_dir: &Path) -> Result<Store, StoreError> {
        ensure_private_dir(data_dir)?;
        // The directory may be a link (data moved to another disk); the files
        // inside it may not, and SQLite's no-follow check covers the whole path.
        let data_dir = std::fs::canonicalize(data_dir)
            .map_err(|source| StoreError::from_io(data_dir, source))?;
        Store::open_file_unmigrated(data_dir.join(DB_FILE))
    }

    /// The connection to the database file `path` (created 0600 if missing),
    /// before any write.
    fn open_file_unmigrated(path: PathBuf) -> Result<Store, StoreError> {
        own_files(&path, &["", "-wal", "-shm"])?;
        // Create the file ourselves so it is 0600 from its first byte.
        // Never through a symbolic link planted where the database should be.
        let mut options = OpenOptions::new();
        crate::files::with_mode(options.create(true).append(true), 0o600);
        crate::files::no_follow(&mut options)
            .open(&path)
            .map_err(|e| StoreError::from_io(&path, crate::paths::explain_link(&path, e)))?;
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

    fn finish_open(mut self) -> Result<Store, StoreError> {
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

    fn open_read_only_as(path: &Path, immutable: bool) -> Result<Store, StoreError> {
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

    fn with_conn(conn: Connection, path: PathBuf) -> Result<Store, StoreError> {
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| sql(&path, e))?;
        Ok(Store {
            conn,
            path,
            site_ids: HashMap::new(),
            damaged: OnceCell::new(),
            rollup_zone: None,
        })
    }

    fn user_version_raw(&self) -> rusqlite::Result<i64> {
        self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))
    }

    fn user_version(&self) -> Result<i64, StoreError> {
        self.user_version_raw().map_err(self.s())
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        self.writable()?;
        let path = self.path.clone();
        self.conn
            .query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
            .map_err(self.s())?;
        // Checkpoint often enough, and cut the WAL back, so it stays under 1 MB.
        self.conn
            .execute_batch(&format!(
                "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;
                 PRAGMA journal_size_limit = {WAL_SIZE_LIMIT};
                 PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES};"
            ))
            .map_err(self.s())?;
        let version = self.user_version()?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path,
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        let conn = &mut self.conn;
        let applied = (|| -> rusqlite::Result<()> {
            for (i, m) in MIGRATIONS.iter().enumerate().skip(version as usize) {
                let tx = conn.transaction()?;
                tx.execute_batch(m)?;
                tx.pragma_update(None, "user_version", (i + 1) as i64)?;
                tx.commit()?;
            }
            Ok(())
        })();
        applied.map_err(self.s())
    }

    /// Makes the database and its WAL companions 0600.
    fn private_files(&self) -> Result<(), StoreError> {
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

    fn damage(&self, detail: &str) -> StoreError {
        StoreError::Damaged {
            path: self.path.clone(),
            detail: detail.to_owned(),
        }
    }

    /// Remembers that the file is damaged: nothing is written to it again, not
    /// even the checkpoint SQLite makes when the last connection closes.
    fn mark_damaged(&self, detail: &str) {
        if self.damaged.set(detail.to_owned()).is_ok() {
            let _ = self
                .conn
                .set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true);
        }
    }

    /// `Err` when this connection must not write (the file is damaged).
    fn writable(&self) -> Result<(), StoreError> {
        match self.damaged.get() {
            Some(detail) => Err(self.damage(detail)),
            None => Ok(()),
        }
    }

    /// A SQLite error on this database, typed; damage is remembered.
    fn err(&self, e: rusqlite::Error) -> StoreError {
        let e = sql(&self.path, e);
        if let StoreError::Damaged { detail, .. } = &e {
            self.mark_damaged(detail);
        }
        e
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes on disk: the database plus its WAL.
    pub fn size_bytes(&self) -> u64 {
        ["", "-wal"]
            .iter()
            .filter_map(|suffix| {
                std::fs::metadata(with_suffix(&self.path, suffix))
                    .ok()
                    .map(|m| m.len())
            })
            .sum()
    }

    fn s(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        move |e| self.err(e)
    }

    /// The database's identity ([`DATABASE_ID_KEY`]); `None` in a database no
    /// dwell of schema 3 or later has opened for writing.
    pub fn database_id(&self) -> Result<Option<String>, StoreError> {
        self.meta_get(DATABASE_ID_KEY)
    }

    /// What happened to a damaged database this one replaced, in one line
    /// naming where the damaged file went; `None` when nothing happened.
    pub fn database_note(&self) -> Result<Option<String>, StoreError> {
        self.meta_get(DATABASE_NOTE_KEY)
    }

    pub fn meta_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(self.s())
    }

    pub fn meta_set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.writable()?;
        self.conn
            .execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, value],
            )
            .map(|_| ())
            .map_err(self.s())
    }

    pub fn meta_delete(&self, key: &str) -> Result<(), StoreError> {
        self.writable()?;
        self.conn
            .execute("DELETE FROM meta WHERE key = ?1", [key])
            .map(|_| ())
            .map_err(self.s())
    }

    /// When the employee opted in, if they have (and not withdrawn since).
    pub fn consent(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self
            .meta_get("consent_at")?
            .and_then(|v| DateTime::parse_from_rfc3339(&v).ok())
            .map(|d| d.with_timezone(&Utc)))
    }

    pub fn set_consent(&self, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.meta_set("consent_at", &at.to_rfc3339())
    }

    pub fn clear_consent(&self) -> Result<(), StoreError> {
        self.meta_delete("consent_at")
    }

    fn site_id(&mut self, label: &str) -> Result<i64, StoreError> {
        if let Some(id) = self.site_ids.get(label) {
            return Ok(*id);
        }
        self.writable()?;
        self.conn
            .execute("INSERT OR IGNORE INTO sites (label) VALUES (?1)", [label])
            .map_err(self.s())?;
        let id: i64 = self
            .conn
            .query_row("SELECT id FROM sites WHERE label = ?1", [label], |r| {
                r.get(0)
            })
            .map_err(self.s())?;
        self.site_ids.insert(label.to_owned(), id);
        Ok(id)
    }

    /// Runs `f` in an IMMEDIATE transaction: committed when it returns
    /// `Ok(true)`, rolled back otherwise.
    fn in_tx<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<(T, bool), StoreError>,
    ) -> Result<T, StoreError> {
        self.writable()?;
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(self.s())?;
        let result = f(self);
        let commit = matches!(result, Ok((_, true)));
        let end = self
            .conn
            .execute_batch(if commit { "COMMIT" } else { "ROLLBACK" })
            .map_err(self.s());
        if commit && end.is_err() {
            // A failed COMMIT leaves the transaction open.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        if result.is_err() || end.is_err() {
            // Labels inserted in a failed transaction are gone again.
            self.site_ids.clear();
        }
        match (result, end) {
            (Err(e), _) | (Ok(_), Err(e)) => Err(e),
            (Ok((value, _)), Ok(())) => Ok(value),
        }
    }

    /// Keeps the per-day rollups in `tz` (the local time zone of the figures)
    /// from now on: every write of this connection updates them in its own
    /// transaction. When they are incomplete, or were made in another time
    /// zone, they are rebuilt from the spans now, in one transaction. An error
    /// (a read-only disk, say) leaves them as they are: a report then counts
    /// from the spans, and the next write tries again.
    pub fn keep_rollups<Tz: TimeZone + Send + 'static>(
        &mut self,
        tz: Tz,
    ) -> Result<(), StoreError> {
        self.rollup_zone = Some(Box::new(tz));
        if self.rollups_complete()? && self.rollup_zone_matches()? {
            return Ok(());
        }
        self.in_tx(|store| Ok((store.rebuild_rollups()?, true)))
    }

    /// Whether the rollups cover every span (`meta.rollups`).
    fn rollups_complete(&self) -> Result<bool, StoreError> {
        if !self.has_rollup_table()? {
            return Ok(false);
        }
        Ok(self.meta_get(ROLLUPS_KEY)?.as_deref() == Some(ROLLUPS_COMPLETE))
    }

    fn has_rollup_table(&self) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'day_rollups'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)
            .map_err(self.s())
    }

    /// Whether every rolled-up day has the bounds it has in the kept zone.
    fn rollup_zone_matches(&self) -> Result<bool, StoreError> {
        let Some(zone) = &self.rollup_zone else {
            return Ok(false);
        };
        let mut stmt = self
            .conn
            .prepare("SELECT day, start, end FROM day_rollups")
            .map_err(self.s())?;
        let mut rows = stmt.query([]).map_err(self.s())?;
        while let Some(r) = rows.next().map_err(self.s())? {
            let day: i64 = r.get(0).map_err(self.s())?;
            let bounds: (i64, i64) = (r.get(1).map_err(self.s())?, r.get(2).map_err(self.s())?);
            let date = i32::try_from(day)
                .ok()
                .and_then(NaiveDate::from_num_days_from_ce_opt);
            match date {
                Some(d)
                    if {
                        let (a, b) = zone.bounds(d);
                        (ms(a), ms(b)) == bounds
                    } => {}
                _ => return Ok(false),
            }
        }
        Ok(true)
    }

    /// Marks the rollups incomplete: readers count from the spans until a
    /// writer that knows the time zone rebuilds them.
    fn invalidate_rollups(&self) -> Result<(), StoreError> {
        if self.meta_get(ROLLUPS_KEY)?.is_some() {
            self.meta_delete(ROLLUPS_KEY)?;
        }
        Ok(())
    }

    /// Rebuilds every rollup from the spans (inside a transaction).
    fn rebuild_rollups(&self) -> Result<(), StoreError> {
        let Some(zone) = &self.rollup_zone else {
            return self.invalidate_rollups();
        };
        if !self.has_rollup_table()? {
            return Ok(());
        }
        self.conn
            .execute("DELETE FROM day_rollups", [])
            .map_err(self.s())?;
        // Longer spans are not found by the queries of a day: spans only then.
        let (long, first, last): (bool, Option<i64>, Option<i64>) = self
            .conn
            .query_row(
                "SELECT coalesce(max(end - start), 0) > ?1, min(start), max(end) FROM spans WHERE end > start",
                [MAX_SPAN_MS],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(self.s())?;
        if long {
            return self.invalidate_rollups();
        }
        if let (Some(a), Some(b)) = (first, last) {
            let (mut day, last) = (zone.date(from_ms(a)), zone.date(from_ms(b - 1)));
            while day <= last {
                let to = (day + TimeDelta::days(REBUILD_DAYS - 1)).min(last);
                self.refresh_rollups(day, to)?;
                day = to + TimeDelta::days(1);
            }
        }
        self.meta_set(ROLLUPS_KEY, ROLLUPS_COMPLETE)
    }

    /// Rolls up local days `from..=to` again from the spans (inside a transaction).
    fn refresh_rollups(&self, from: NaiveDate, to: NaiveDate) -> Result<(), StoreError> {
        let Some(zone) = &self.rollup_zone else {
            return self.invalidate_rollups();
        };
        let (lo, hi) = (zone.bounds(from).0, zone.bounds(to).1);
        self.conn
            .prepare_cached("DELETE FROM day_rollups WHERE day >= ?1 AND day <= ?2")
            .and_then(|mut stmt| stmt.execute([day_number(from), day_number(to)]))
            .map_err(self.s())?;
        let spans = ledger::within(&self.spans(lo, hi)?, lo, hi);
        if spans.is_empty() {
            return Ok(());
        }
        let ids: HashMap<String, i64> = self
            .sites_by_id()?
            .into_iter()
            .map(|(id, label)| (label, id))
            .collect();
        let mut insert = self
            .conn
            .prepare_cached(
                "INSERT OR REPLACE INTO day_rollups (day, start, end, social, other, exact, visits)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .map_err(self.s())?;
        let mut visits = Vec::new();
        for r in zone.rollups(&spans) {
            if r.date < from || r.date > to {
                continue;
            }
            visits.clear();
            let mut exact = r.exact;
            for v in &r.visits {
                match ids.get(v.site) {
                    Some(&id) => visits.push((id, ms(v.start), ms(v.end))),
                    None => exact = false,
                }
            }
            insert
                .execute(params![
                    day_number(r.date),
                    ms(r.start),
                    ms(r.end),
                    r.social_ms,
                    r.other_ms,
                    exact,
                    encode_visits(ms(r.start), &visits)
                ])
                .map_err(self.s())?;
        }
        Ok(())
    }

    /// Keeps the rollups right after the spans of `[lo, hi)` changed, in the
    /// same transaction.
    fn rollups_changed(&self, lo: DateTime<Utc>, hi: DateTime<Utc>) -> Result<(), StoreError> {
        let Some(zone) = &self.rollup_zone else {
            return self.invalidate_rollups();
        };
        if !self.rollups_complete()? {
            return self.rebuild_rollups();
        }
        let last = hi - TimeDelta::milliseconds(1);
        let (from, to) = (zone.date(lo), zone.date(last.max(lo)));
        self.refresh_rollups(from, to)
    }

    /// Every site label by its id.
    pub fn sites_by_id(&self) -> Result<Vec<(i64, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, label FROM sites")
            .map_err(self.s())?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(self.s())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.s())
    }

    /// The rollups of local days `from..=to` (days with nothing recorded have
    /// none), with each day's visits when `visits`; `None` when the rollups
    /// are incomplete or this database has none (an older schema read
    /// read-only): then count from the spans. A day's bounds say which time
    /// zone it was rolled up in.
    pub fn rollups(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        visits: bool,
    ) -> Result<Option<Vec<StoredDay>>, StoreError> {
        if !self.rollups_complete()? {
            return Ok(None);
        }
        let sql = if visits {
            "SELECT day, start, end, social, other, exact, visits FROM day_rollups
             WHERE day >= ?1 AND day <= ?2 ORDER BY day"
        } else {
            "SELECT day, start, end, social, other, exact, NULL FROM day_rollups
             WHERE day >= ?1 AND day <= ?2 ORDER BY day"
        };
        let mut stmt = self.conn.prepare_cached(sql).map_err(self.s())?;
        let mut rows = stmt
            .query([day_number(from), day_number(to)])
            .map_err(self.s())?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(self.s())? {
            let day: i64 = r.get(0).map_err(self.s())?;
            let Some(date) = i32::try_from(day)
                .ok()
                .and_then(NaiveDate::from_num_days_from_ce_opt)
            else {
                return Ok(None);
            };
            let start: i64 = r.get(1).map_err(self.s())?;
            let mut d = StoredDay {
                date,
                start: from_ms(start),
                end: from_ms(r.get(2).map_err(self.s())?),
                social_ms: r.get(3).map_err(self.s())?,
                other_ms: r.get(4).map_err(self.s())?,
                exact: r.get(5).map_err(self.s())?,
                visits: Vec::new(),
            };
            if visits {
                let blob = r.get_ref(6).map_err(self.s())?;
                let Ok(bytes) = blob.as_blob() else {
                    return Ok(None);
                };
                if decode_visits(start, bytes, &mut d.visits).is_none() {
                    return Ok(None);
                }
            }
            out.push(d);
        }
        Ok(Some(out))
    }

    /// Inserts spans, replacing any stored span with the same start (that is how
    /// the open span is checkpointed: same start, later end). One transaction.
    /// If another process deleted a label this one had cached (`forget`), the
    /// write is retried once with a fresh cache.
    pub fn put_spans(&mut self, spans: &[Span]) -> Result<(), StoreError> {
        self.put_spans_retried(None, spans, None).map(|_| ())
    }

    /// Like [`Store::put_spans`], but writes nothing if a forget was logged
    /// after entry `seen`: those entries come back instead. The check and the
    /// write are one transaction, so no forget can slip in between.
    pub fn put_spans_guarded(&mut self, seen: u64, spans: &[Span]) -> Result<Put, StoreError> {
        self.put_spans_retried(Some(seen), spans, None)
    }

    /// [`Store::put_spans_guarded`], first deleting the rows that start in
    /// `retract` (`[from, to)`): what an earlier write of an open span put there
    /// (its pieces after midnight, say) before the span was cut back.
    pub fn put_spans_retracting(
        &mut self,
        seen: u64,
        spans: &[Span],
        retract: Option<(DateTime<Utc>, DateTime<Utc>)>,
    ) -> Result<Put, StoreError> {
        self.put_spans_retried(Some(seen), spans, retract)
    }

    fn put_spans_retried(
        &mut self,
        seen: Option<u64>,
        spans: &[Span],
        retract: Option<(DateTime<Utc>, DateTime<Utc>)>,
    ) -> Result<Put, StoreError> {
        match self.put_spans_once(seen, spans, retract) {
            Err(StoreError::Sqlite {
                source: rusqlite::Error::SqliteFailure(f, _),
                ..
            }) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                // The failed transaction already dropped the cache.
                self.put_spans_once(seen, spans, retract)
            }
            other => other,
        }
    }

    fn put_spans_once(
        &mut self,
        seen: Option<u64>,
        spans: &[Span],
        retract: Option<(DateTime<Utc>, DateTime<Utc>)>,
    ) -> Result<Put, StoreError> {
        if retract.is_none() && spans.iter().all(|s| s.end <= s.start) {
            return Ok(Put::Written);
        }
        self.in_tx(|store| {
            if let Some(seen) = seen {
                let newer = forget::since(&store.forget_log()?, seen);
                if !newer.is_empty() {
                    return Ok((Put::Forgotten(newer), false));
                }
            }
            let touched = store.touched_by(spans, retract)?;
            if let Some((from, to)) = retract {
                store
                    .conn
                    .prepare_cached("DELETE FROM spans WHERE start >= ?1 AND start < ?2")
                    .and_then(|mut stmt| stmt.execute(params![ms(from), ms(to)]))
                    .map_err(|e| sql(&store.path, e))?;
            }
            for span in spans.iter().filter(|s| s.end > s.start) {
                let site = match &span.activity {
                    Activity::Social(label) => Some(store.site_id(label)?),
                    Activity::Other => None,
                };
                store
                    .conn
                    .prepare_cached(
                        "INSERT OR REPLACE INTO spans (start, end, site, source) VALUES (?1, ?2, ?3, ?4)",
                    )
                    .and_then(|mut stmt| {
                        stmt.execute(params![
                            ms(span.start),
                            ms(span.end),
                            site,
                            span.source.code()
                        ])
                    })
                    .map_err(store.s())?;
            }
            match touched {
                Touched::Nothing => {}
                Touched::Range(lo, hi) => store.rollups_changed(lo, hi)?,
                Touched::TooLong => store.invalidate_rollups()?,
            }
            Ok((Put::Written, true))
        })
    }

    /// What a write of `spans` (and a retraction) changes: from the earliest
    /// start to the latest end, stored rows it replaces or deletes included.
    fn touched_by(
        &self,
        spans: &[Span],
        retract: Option<(DateTime<Utc>, DateTime<Utc>)>,
    ) -> Result<Touched, StoreError> {
        let written = || spans.iter().filter(|s| s.end > s.start);
        if written().any(|s| ms(s.end) - ms(s.start) > MAX_SPAN_MS) {
            return Ok(Touched::TooLong);
        }
        let starts = written()
            .map(|s| s.start)
            .chain(retract.into_iter().flat_map(|(a, b)| [a, b]));
        let (Some(lo), Some(last_start)) = (starts.clone().min(), starts.max()) else {
            return Ok(Touched::Nothing);
        };
        let old_end: Option<i64> = self
            .conn
            .prepare_cached("SELECT max(end) FROM spans WHERE start >= ?1 AND start <= ?2")
            .and_then(|mut stmt| stmt.query_row([ms(lo), ms(last_start)], |r| r.get(0)))
            .map_err(self.s())?;
        let hi = written()
            .map(|s| s.end)
            .chain(old_end.map(from_ms))
            .chain([last_start])
            .max()
            .unwrap_or(last_start);
        Ok(Touched::Range(lo, hi))
    }

    /// Forgets the label ids this connection has cached (after another
    /// process deleted some).
    pub fn clear_site_cache(&mut self) {
        self.site_ids.clear();
    }

    /// The id this connection knows for site `label`, if it wrote it.
    pub fn cached_site_id(&self, label: &str) -> Option<i64> {
        self.site_ids.get(label).copied()
    }

    fn forget_log(&self) -> Result<Vec<ForgetEntry>, StoreError> {
        Ok(self
            .meta_get(FORGET_LOG_KEY)?
            .map(|text| forget::decode(&text))
            .unwrap_or_default())
    }

    /// The number of the latest forget (0: none yet). A writer starts from
    /// here and passes it to [`Store::put_spans_guarded`].
    pub fn forget_seq(&self) -> Result<u64, StoreError> {
        Ok(self.forget_log()?.iter().map(|e| e.seq).max().unwrap_or(0))
    }

    fn log_forget(&self, what: Forgotten, at: DateTime<Utc>) -> Result<(), StoreError> {
        let log = forget::append(self.forget_log()?, what, at);
        self.meta_set(FORGET_LOG_KEY, &forget::encode(&log))
    }

    /// Spans that overlap `[from, to)`, in order, unclipped.
    pub fn spans(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Span>, StoreError> {
        self.spans_where(from, to, "1")
    }

    /// Like [`Store::spans`], but only the spans that make sense: they end
    /// after they start, last at most a day ([`LONGEST_DAY_MS`]), and their
    /// site is in the file. For databases from elsewhere (`--merge`).
    pub fn valid_spans(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Span>, StoreError> {
        self.spans_where(from, to, &valid_span())
    }

    /// How many spans do not make sense (see [`Store::valid_spans`]).
    pub fn invalid_spans(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row(
                &format!(
                    "SELECT count(*) FROM spans s LEFT JOIN sites t ON t.id = s.site
                     WHERE NOT coalesce({}, 0)",
                    valid_span()
                ),
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n.unsigned_abs())
            .map_err(self.s())
    }

    fn spans_where(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        condition: &str,
    ) -> Result<Vec<Span>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT s.start, s.end, t.label, s.source FROM spans s
                 LEFT JOIN sites t ON t.id = s.site
                 WHERE s.start >= ?1 AND s.start < ?2 AND s.end > ?3 AND ({condition})
                 ORDER BY s.start"
            ))
            .map_err(self.s())?;
        let rows = stmt
            .query_map(params![ms(from) - MAX_SPAN_MS, ms(to), ms(from)], |r| {
                let label: Option<String> = r.get(2)?;
                Ok(Span {
                    start: from_ms(r.get(0)?),
                    end: from_ms(r.get(1)?),
                    activity: label.map(Activity::Social).unwrap_or(Activity::Other),
                    source: Source::from_code(r.get(3)?).unwrap_or(Source::X11),
                })
            })
            .map_err(self.s())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.s())
    }

    /// Whether anything but demo data has been recorded.
    pub fn has_recorded_data(&self) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM spans WHERE source != ?1)",
                [Source::Demo.code()],
                |r| r.get(0),
            )
            .map_err(self.s())
    }

    /// Deletes spans that ended, and reminders due, before `before`; returns
    /// how many spans went.
    pub fn delete_before(&mut self, before: DateTime<Utc>) -> Result<usize, StoreError> {
        self.in_tx(|store| {
            store
                .conn
                .execute("DELETE FROM reminders WHERE at < ?1", [ms(before)])
                .map_err(store.s())?;
            let n = store
                .conn
                .execute("DELETE FROM spans WHERE end <= ?1", [ms(before)])
                .map_err(store.s())?;
            if n > 0 {
                // Days that end a longest span before `before` hold nothing now.
                let lo = from_ms(ms(before).saturating_sub(MAX_SPAN_MS));
                if store.has_rollup_table()? {
                    store
                        .conn
                        .execute("DELETE FROM day_rollups WHERE end <= ?1", [ms(lo)])
                        .map_err(store.s())?;
                }
                store.rollups_changed(lo, before)?;
            }
            Ok((n, true))
        })
    }

    /// Deletes every span, site label, reminder and note, keeps consent and
    /// settings, and compacts the file so the data is really gone from disk.
    pub fn erase_spans(&mut self, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.in_tx(|store| {
            store
                .conn
                .execute_batch(
                    "DELETE FROM spans; DELETE FROM sites; DELETE FROM reminders; DELETE FROM notes;",
                )
                .map_err(store.s())?;
            if store.has_rollup_table()? {
                // Nothing left: the (empty) rollups are complete in any zone.
                store
                    .conn
                    .execute("DELETE FROM day_rollups", [])
                    .map_err(store.s())?;
                store.meta_set(ROLLUPS_KEY, ROLLUPS_COMPLETE)?;
            }
            store.log_forget(Forgotten::All, at)?;
            Ok(((), true))
        })?;
        self.site_ids.clear();
        self.compact()
    }

    /// Rewrites the file without free pages and truncates the WAL.
    pub fn compact(&mut self) -> Result<(), StoreError> {
        self.writable()?;
        self.conn
            .execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(self.s())
    }

    /// Every site label in the database, sorted.
    pub fn site_labels(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT label FROM sites ORDER BY label")
            .map_err(self.s())?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(self.s())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.s())
    }

    /// Deletes site labels no span refers to any more; returns how many went.
    pub fn delete_unused_sites(&mut self) -> Result<usize, StoreError> {
        self.writable()?;
        let n = self
            .conn
            .execute(
                "DELETE FROM sites WHERE id NOT IN (SELECT site FROM spans WHERE site IS NOT NULL)",
                [],
            )
            .map_err(self.s())?;
        if n > 0 {
            self.site_ids.clear();
        }
        Ok(n)
    }

    /// Deletes for good the spans that start in `[from, to)` and the reminders
    /// due then, drops labels left unused, and compacts. Returns the spans deleted.
    pub fn forget_range(
        &mut self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let n = self.in_tx(|store| {
            let n = store
                .conn
                .execute(
                    "DELETE FROM spans WHERE start >= ?1 AND start < ?2",
                    [ms(from), ms(to)],
                )
                .map_err(store.s())?;
            if n > 0 {
                let hi = from_ms(ms(to).saturating_add(MAX_SPAN_MS));
                store.rollups_changed(from, hi)?;
            }
            store
                .conn
                .execute(
                    "DELETE FROM reminders WHERE at >= ?1 AND at < ?2",
                    [ms(from), ms(to)],
                )
                .map_err(store.s())?;
            store.delete_unused_sites()?;
            store.log_forget(Forgotten::Range { from, to }, at)?;
            Ok((n, true))
        })?;
        self.compact()?;
        Ok(n)
    }

    /// Deletes for good every span of site `label` and the label itself, and
    /// compacts. `None` when there is no such label.
    pub fn forget_site(
        &mut self,
        label: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<usize>, StoreError> {
        let n = self.in_tx(|store| {
            let id: Option<i64> = store
                .conn
                .query_row("SELECT id FROM sites WHERE label = ?1", [label], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(store.s())?;
            let Some(id) = id else {
                return Ok((None, false));
            };
            let n = store
                .conn
                .execute("DELETE FROM spans WHERE site = ?1", [id])
                .map_err(store.s())?;
            if n > 0 {
                store.rebuild_rollups()?;
            }
            store
                .conn
                .execute("DELETE FROM sites WHERE id = ?1", [id])
                .map_err(store.s())?;
            store.log_forget(Forgotten::Site { id }, at)?;
            Ok((Some(n), true))
        })?;
        self.site_ids.clear();
        if n.is_some() {
            self.compact()?;
        }
        Ok(n)
    }

    /// Records a reminder (replacing one due at the same instant).
    pub fn put_reminder(&mut self, r: &ReminderRecord) -> Result<(), StoreError> {
        self.writable()?;
        self.conn
            .execute(
                "INSERT OR REPLACE INTO reminders (at, kind, outcome, left_social, message)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![ms(r.at), r.kind, r.outcome, r.left_social, r.message],
            )
            .map(|_| ())
            .map_err(self.s())
    }

    /// Changes the outcome of the reminder due at `at`; false when there is none.
    pub fn set_reminder_outcome(
        &mut self,
        at: DateTime<Utc>,
        outcome: &str,
    ) -> Result<bool, StoreError> {
        self.writable()?;
        self.conn
            .execute(
                "UPDATE reminders SET outcome = ?2 WHERE at = ?1",
                params![ms(at), outcome],
            )
            .map(|n| n > 0)
            .map_err(self.s())
    }

    /// Records whether the employee left social sites within 2 minutes of the reminder.
    pub fn set_reminder_left(&mut self, at: DateTime<Utc>, left: bool) -> Result<bool, StoreError> {
        self.writable()?;
        self.conn
            .execute(
                "UPDATE reminders SET left_social = ?2 WHERE at = ?1",
                params![ms(at), left],
            )
            .map(|n| n > 0)
            .map_err(self.s())
    }

    /// Reminders due in `[from, to)`, in order.
    pub fn reminders(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ReminderRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT at, kind, outcome, left_social, message FROM reminders
                 WHERE at >= ?1 AND at < ?2 ORDER BY at",
            )
            .map_err(self.s())?;
        let rows = stmt
            .query_map(params![ms(from), ms(to)], |r| {
                Ok(ReminderRecord {
                    at: from_ms(r.get(0)?),
                    kind: r.get(1)?,
                    outcome: r.get(2)?,
                    left_social: r.get(3)?,
                    message: r.get(4)?,
                })
            })
            .map_err(self.s())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.s())
    }

    /// Stores (or replaces) the reflection note of an ISO week (`2026-W48`).
    pub fn put_note(
        &mut self,
        week: &str,
        text: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.writable()?;
        self.conn
            .execute(
                "INSERT OR REPLACE INTO notes (week, text, written) VALUES (?1, ?2, ?3)",
                params![week, text, ms(at)],
            )
            .map(|_| ())
            .map_err(self.s())
    }

    /// The reflection note of an ISO week, if one was written.
    pub fn note(&self, week: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT text FROM notes WHERE week = ?1", [week], |r| {
                r.get(0)
            })
            .optional()
            .map_err(self.s())
    }

    /// `PRAGMA integrity_check`: `Ok(())` when the answer is "ok" (slow on a
    /// big file; [`Store::health_check`] is the quick one).
    pub fn integrity_check(&self) -> Result<Result<(), String>, StoreError> {
        let answer: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(self.s())?;
        Ok(if answer == "ok" { Ok(()) } else { Err(answer) })
    }

    /// The underlying connection, for read queries that live with their callers
    /// (the report's aggregation). Writes go through the methods above.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }
}

/// A SQLite error on the database at `path`, typed when the employee must act:
/// damage, a read-only disk, no permission, a full disk.
fn sql(path: &Path, source: rusqlite::Error) -> StoreError {
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

/// Refuses the files of database `db` (its name with each of `suffixes`)
/// that dwell must not open: links, directories ([`crate::paths::not_own`]).
fn own_files(db: &Path, suffixes: &[&str]) -> Result<(), StoreError> {
    for suffix in suffixes {
        let path = with_suffix(db, suffix);
        if let Some(detail) = crate::paths::not_own_file(&path) {
            return Err(StoreError::NotOwnFile { path, detail });
        }
    }
    Ok(())
}

/// After SQLite failed to open or write `path`, looks at its disk and
/// directory for a reason the employee can fix.
fn why_not_writable(path: &Path) -> Option<StoreError> {
    crate::files::why_not_writable(path, NEARLY_FULL).map(|(p, e)| StoreError::from_io(&p, e))
}

/// Whether a read-only open failed only because SQLite could not share the
/// file with writers (it cannot create or write the `-shm` beside it).
fn cannot_share(e: &StoreError) -> bool {
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
fn uri_path(path: &Path) -> String {
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

/// The SQL condition a span row (`s`, joined with its site `t`) must meet to
/// make sense.
fn valid_span() -> String {
    format!(
        "typeof(s.end) = 'integer' AND s.end > s.start AND s.end - s.start <= {LONGEST_DAY_MS}
         AND typeof(s.source) = 'integer' AND (s.site IS NULL OR typeof(t.label) = 'text')"
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::testing::{span, t};
    #[cfg(unix)]
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    #[test]
    // Modes, symbolic and hard links, errno values: Unix (files/unix.rs).
    #[cfg(unix)]
    fn a_symlinked_database_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("d");
        std::fs::create_dir(&data).unwrap();
        let target = dir.path().join("elsewhere");
        std::fs::write(&target, "").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::os::unix::fs::symlink(&target, data.join(DB_FILE)).unwrap();
        let e = Store::open(&data).err().unwrap().to_string();
        assert!(e.contains("symbolic link"), "{e}");
        assert_eq!(std::fs::metadata(&target).unwrap().len(), 0);
        assert_eq!(std::fs::metadata(&target).unwrap().mode() & 0o777, 0o644);
        // The data directory itself may be a link.
        let real = dir.path().join("real");
        std::os::unix::fs::symlink(&real, dir.path().join("link")).unwrap();
        std::fs::create_dir(&real).unwrap();
        Store::open(&dir.path().join("link")).unwrap();
    }

    /// `status` reads a database it cannot write (0400): the `-wal` and
    /// `-shm` SQLite makes for that read are left 0600, so the next `run`
    /// can use them once the file is writable again.
    #[test]
    // Modes, symbolic and hard links, errno values: Unix (files/unix.rs).
    #[cfg(unix)]
    fn a_read_only_open_leaves_the_files_it_made_private() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store.put_spans(&[span(0, 60, Some("a.example"))]).unwrap();
        drop(store);
        let db = dir.path().join(DB_FILE);
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o400)).unwrap();
        let store = Store::open_read_only(&db).unwrap();
        assert_eq!(store.spans(t(0), t(60)).unwrap().len(), 1);
        drop(store);
        for suffix in ["-wal", "-shm"] {
            let p = with_suffix(&db, suffix);
            if let Ok(m) = std::fs::symlink_metadata(&p) {
                assert_eq!(m.mode() & 0o777, 0o600, "{suffix}");
            }
        }
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600)).unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store.put_spans(&[span(60, 120, None)]).unwrap();
    }

    #[test]
    // Modes, symbolic and hard links, errno values: Unix (files/unix.rs).
    #[cfg(unix)]
    fn hard_links_and_directories_among_the_files_are_refused() {
        for name in ["dwell.db", "dwell.db-wal", "dwell.db-shm"] {
            let dir = tempfile::tempdir().unwrap();
            let data = dir.path().join("d");
            Store::open(&data).unwrap();
            let other = dir.path().join("precious");
            std::fs::write(&other, "keep").unwrap();
            std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o644)).unwrap();
            let at = data.join(name);
            let _ = std::fs::remove_file(&at);
            std::fs::hard_link(&other, &at).unwrap();
            let e = Store::open(&data).unwrap_err();
            assert!(e.is_permanent(), "{name}: {e}");
            assert!(e.to_string().contains("hard link"), "{name}: {e}");
            if name != "dwell.db" {
                let e = Store::open_read_only(&data.join(DB_FILE)).unwrap_err();
                assert!(e.to_string().contains("hard link"), "{name}: {e}");
            }
            assert_eq!(std::fs::read_to_string(&other).unwrap(), "keep", "{name}");
            // Not made 0600 either.
            assert_eq!(
                std::fs::metadata(&other).unwrap().mode() & 0o777,
                0o644,
                "{name}"
            );
            std::fs::remove_file(&at).unwrap();
            std::fs::create_dir(&at).unwrap();
            let e = Store::open(&data).unwrap_err();
            assert!(
                e.is_permanent() && e.to_string().contains("directory"),
                "{name}: {e}"
            );
        }
    }

    /// Every rollup, with visits.
    fn all_rollups(store: &Store) -> Option<Vec<StoredDay>> {
        store.rollups(NaiveDate::MIN, NaiveDate::MAX, true).unwrap()
    }

    #[test]
    fn rollups_follow_writes_forgets_and_expiry_like_a_rebuild() {
        let tz = chrono::FixedOffset::east_opt(3600).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        // A new database: complete, and empty.
        assert_eq!(all_rollups(&store), Some(vec![]));
        store.keep_rollups(tz).unwrap();
        let day = 86_400;
        store
            .put_spans(&[
                span(0, 100, Some("a.com")),
                span(100, 200, Some("a.com")),
                span(200, day, None),
                span(day + 10, day + 50, Some("b.com")),
                span(3 * day, 3 * day + 5, Some("a.com")),
            ])
            .unwrap();
        let check = |store: &mut Store| {
            let kept = all_rollups(store).unwrap();
            store
                .in_tx(|s| Ok((s.rebuild_rollups().unwrap(), true)))
                .unwrap();
            assert_eq!(Some(kept), all_rollups(store));
        };
        check(&mut store);
        let days = all_rollups(&store).unwrap();
        // The other time runs past midnight into the second day.
        assert_eq!(days.len(), 3);
        // The touching pieces of a.com are one visit.
        assert_eq!(days[0].visits.len(), 1);
        assert_eq!(days[0].social_ms, 200_000);
        // A checkpoint cut back by a retraction, then forgets and expiry.
        let seen = store.forget_seq().unwrap();
        store
            .put_spans_retracting(seen, &[span(200, 300, None)], Some((t(200), t(2 * day))))
            .unwrap();
        check(&mut store);
        store.forget_range(t(0), t(50), t(10)).unwrap();
        check(&mut store);
        store.forget_site("b.com", t(10)).unwrap();
        check(&mut store);
        store.delete_before(t(250)).unwrap();
        check(&mut store);
        assert_eq!(all_rollups(&store).unwrap().len(), 2);
        store.erase_spans(t(10)).unwrap();
        assert_eq!(all_rollups(&store), Some(vec![]));
    }

    #[test]
    fn rollups_are_incomplete_until_a_writer_knows_the_zone() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store.put_spans(&[span(0, 100, Some("a.com"))]).unwrap();
        // Written without a zone: readers count from the spans.
        assert_eq!(all_rollups(&store), None);
        let read_only = Store::open_read_only(store.path()).unwrap();
        assert_eq!(all_rollups(&read_only), None);
        store.keep_rollups(Utc).unwrap();
        assert_eq!(all_rollups(&store).unwrap().len(), 1);
        assert_eq!(all_rollups(&read_only).unwrap().len(), 1);
        // Another zone: rebuilt with that zone's days.
        let far = chrono::FixedOffset::west_opt(12 * 3600).unwrap();
        store.keep_rollups(far).unwrap();
        let days = all_rollups(&store).unwrap();
        assert_eq!(days[0].date, local_date(t(0), &far));
        assert_eq!(
            (days[0].start, days[0].end),
            local_day_bounds(days[0].date, &far)
        );
    }

    #[test]
    fn a_database_of_schema_3_gets_its_rollups_from_the_first_writer_with_a_zone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE);
        {
            let conn = Connection::open(&path).unwrap();
            for m in &MIGRATIONS[..3] {
                conn.execute_batch(m).unwrap();
            }
            conn.execute_batch(
                "INSERT INTO sites (id, label) VALUES (1, 'a.com');
                 INSERT INTO spans VALUES (1764000000000, 1764000060000, 1, 1);
                 PRAGMA user_version = 3;",
            )
            .unwrap();
        }
        let mut store = Store::open(dir.path()).unwrap();
        assert_eq!(all_rollups(&store), None);
        store.keep_rollups(Utc).unwrap();
        let days = all_rollups(&store).unwrap();
        assert_eq!((days.len(), days[0].social_ms), (1, 60_000));
    }

    #[test]
    fn visits_survive_their_encoding() {
        let visits = [(3, 10, 20), (1, 20, 20), (300, 1_000_000, 1_000_050)];
        let mut out = Vec::new();
        decode_visits(5, &encode_visits(5, &visits), &mut out).unwrap();
        let back: Vec<(i64, i64, i64)> = out
            .iter()
            .map(|v| (v.site, ms(v.start), ms(v.end)))
            .collect();
        assert_eq!(back, visits);
        assert!(decode_visits(0, &[0x80], &mut out).is_none());
    }

    #[test]
    fn private_and_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("d");
        let store = Store::open(&data).unwrap();
        #[cfg(unix)]
        assert_eq!(std::fs::metadata(&data).unwrap().mode() & 0o777, 0o700);
        #[cfg(unix)]
        for f in ["dwell.db", "dwell.db-wal", "dwell.db-shm"] {
            let p = data.join(f);
            if p.exists() {
                assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o600, "{f}");
            }
        }
        assert_eq!(store.user_version().unwrap(), SCHEMA_VERSION);
        drop(store);
        // Reopening is a no-op migration.
        let store = Store::open(&data).unwrap();
        assert!(store.integrity_check().unwrap().is_ok());
    }

    #[test]
    fn checkpoint_replaces_by_start_and_queries_overlap() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store.put_spans(&[span(0, 10, Some("x.com"))]).unwrap();
        store.put_spans(&[span(0, 20, Some("x.com"))]).unwrap();
        store.put_spans(&[span(20, 30, None)]).unwrap();
        let all = store.spans(t(-100), t(100)).unwrap();
        assert_eq!(all, vec![span(0, 20, Some("x.com")), span(20, 30, None)]);
        assert_eq!(store.spans(t(25), t(26)).unwrap().len(), 1);
        assert_eq!(store.spans(t(30), t(40)).unwrap().len(), 0);
        assert!(store.has_recorded_data().unwrap());
    }

    #[test]
    fn consent_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.consent().unwrap(), None);
        store.set_consent(t(5)).unwrap();
        assert_eq!(store.consent().unwrap(), Some(t(5)));
        store.clear_consent().unwrap();
        assert_eq!(store.consent().unwrap(), None);
    }

    #[test]
    fn newer_schema_and_foreign_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.conn.pragma_update(None, "user_version", 99).unwrap();
        drop(store);
        let e = Store::open(dir.path()).unwrap_err();
        assert!(
            matches!(e, StoreError::NewerSchema { found: 99, .. }),
            "{e}"
        );
        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, b"this is not sqlite at all, not even close.........").unwrap();
        assert!(Store::open_read_only(&junk).is_err());
    }

    #[test]
    fn erase_leaves_no_trace() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store
            .put_spans(&[span(0, 10, Some("uniquesite-zzq.example"))])
            .unwrap();
        store.erase_spans(t(1_000)).unwrap();
        drop(store);
        for f in ["dwell.db", "dwell.db-wal"] {
            let p = dir.path().join(f);
            if p.exists() {
                let bytes = std::fs::read(&p).unwrap();
                let needle = b"uniquesite-zzq";
                assert!(!bytes.windows(needle.len()).any(|w| w == needle), "{f}");
            }
        }
    }

    fn no_trace(dir: &Path, needle: &[u8]) -> bool {
        ["dwell.db", "dwell.db-wal"].iter().all(|f| {
            let p = dir.join(f);
            !p.exists() || {
                let bytes = std::fs::read(&p).unwrap();
                !bytes.windows(needle.len()).any(|w| w == needle)
            }
        })
    }

    #[test]
    fn forget_site_removes_exactly_that_site() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store
            .put_spans(&[
                span(0, 10, Some("gone-zzq.example")),
                span(10, 20, Some("kept.example")),
                span(20, 30, None),
                span(30, 40, Some("gone-zzq.example")),
            ])
            .unwrap();
        assert_eq!(store.forget_site("nope.example", t(1_000)).unwrap(), None);
        assert_eq!(
            store.forget_site("gone-zzq.example", t(1_000)).unwrap(),
            Some(2)
        );
        assert_eq!(
            store.spans(t(-100), t(100)).unwrap(),
            vec![span(10, 20, Some("kept.example")), span(20, 30, None)]
        );
        assert_eq!(store.site_labels().unwrap(), vec!["kept.example"]);
        // A writer with a stale label cache still works after the forget.
        store.site_ids.insert("gone-zzq.example".into(), 1);
        store
            .put_spans(&[span(50, 60, Some("again.example"))])
            .unwrap();
        drop(store);
        assert!(no_trace(dir.path(), b"gone-zzq"));
    }

    #[test]
    fn stale_cache_of_another_connection_is_retried() {
        let dir = tempfile::tempdir().unwrap();
        let mut agent = Store::open(dir.path()).unwrap();
        agent.put_spans(&[span(0, 10, Some("a.example"))]).unwrap();
        let mut cli = Store::open(dir.path()).unwrap();
        assert_eq!(cli.forget_site("a.example", t(1_000)).unwrap(), Some(1));
        agent.put_spans(&[span(0, 20, Some("a.example"))]).unwrap();
        assert_eq!(
            cli.spans(t(-100), t(100)).unwrap(),
            vec![span(0, 20, Some("a.example"))]
        );
    }

    #[test]
    fn forget_range_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store
            .put_spans(&[
                span(0, 10, Some("early-zzq.example")),
                span(100, 110, Some("late.example")),
            ])
            .unwrap();
        assert_eq!(store.forget_range(t(-5), t(50), t(1_000)).unwrap(), 1);
        assert_eq!(
            store.spans(t(-100), t(200)).unwrap(),
            vec![span(100, 110, Some("late.example"))]
        );
        drop(store);
        assert!(no_trace(dir.path(), b"early-zzq"));
    }

    #[test]
    fn a_guarded_write_after_a_forget_writes_nothing_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let mut agent = Store::open(dir.path()).unwrap();
        let seen = agent.forget_seq().unwrap();
        assert_eq!(seen, 0);
        let open = span(0, 10, Some("a.example"));
        assert_eq!(
            agent
                .put_spans_guarded(seen, std::slice::from_ref(&open))
                .unwrap(),
            Put::Written
        );
        let id = agent.cached_site_id("a.example").unwrap();
        let mut cli = Store::open(dir.path()).unwrap();
        cli.forget_site("a.example", t(15)).unwrap();
        cli.forget_range(t(-50), t(-40), t(16)).unwrap();
        // The checkpoint of the same open span must not bring it back.
        let Put::Forgotten(entries) = agent
            .put_spans_guarded(seen, &[span(0, 20, Some("a.example"))])
            .unwrap()
        else {
            panic!("the forget was not noticed");
        };
        assert_eq!(
            entries.iter().map(|e| (e.seq, e.what)).collect::<Vec<_>>(),
            vec![
                (1, Forgotten::Site { id }),
                (
                    2,
                    Forgotten::Range {
                        from: t(-50),
                        to: t(-40)
                    }
                )
            ]
        );
        assert_eq!(cli.spans(t(-100), t(100)).unwrap(), vec![]);
        // The writer still knows which label the forgotten id was.
        assert_eq!(agent.cached_site_id("a.example"), Some(id));
        assert_eq!(agent.forget_seq().unwrap(), 2);
        let again = span(15, 20, Some("a.example"));
        assert_eq!(
            agent
                .put_spans_guarded(2, std::slice::from_ref(&again))
                .unwrap(),
            Put::Written
        );
        assert_eq!(cli.spans(t(-100), t(100)).unwrap(), vec![again]);
    }

    #[test]
    fn reminders_and_notes_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let r = ReminderRecord {
            at: t(1_000),
            kind: "stage".into(),
            outcome: "shown".into(),
            left_social: None,
            message: Some("en-time-03".into()),
        };
        store.put_reminder(&r).unwrap();
        assert!(store.set_reminder_outcome(t(1_000), "snoozed").unwrap());
        assert!(store.set_reminder_left(t(1_000), true).unwrap());
        assert!(!store.set_reminder_left(t(2_000), true).unwrap());
        let got = store.reminders(t(0), t(5_000)).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].outcome, "snoozed");
        assert_eq!(got[0].left_social, Some(true));
        store
            .put_note("2026-W48", "Fewer short visits.", t(3_000))
            .unwrap();
        assert_eq!(
            store.note("2026-W48").unwrap().as_deref(),
            Some("Fewer short visits.")
        );
        assert_eq!(store.note("2026-W47").unwrap(), None);
    }

    #[test]
    fn a_new_database_has_an_identity_and_an_older_one_gets_one() {
        let dir = tempfile::tempdir().unwrap();
        let a = Store::open(&dir.path().join("a")).unwrap();
        let b = Store::open(&dir.path().join("b")).unwrap();
        let id = a.database_id().unwrap().unwrap();
        assert_eq!(id.len(), 32);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
        assert_ne!(Some(id.clone()), b.database_id().unwrap());
        // Reopening keeps it.
        drop(a);
        let a = Store::open(&dir.path().join("a")).unwrap();
        assert_eq!(a.database_id().unwrap(), Some(id));
        // A database of schema 2 gets one when it is migrated.
        a.conn
            .execute_batch("DELETE FROM meta WHERE key = 'database_id'; PRAGMA user_version = 2;")
            .unwrap();
        drop(a);
        let a = Store::open(&dir.path().join("a")).unwrap();
        assert_eq!(a.user_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(a.database_id().unwrap().unwrap().len(), 32);
    }

    #[test]
    fn the_wal_stays_under_a_megabyte() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let wal = dir.path().join("dwell.db-wal");
        let mut largest = 0;
        // As the agent writes: one small transaction every checkpoint.
        for i in 0..12_000 {
            let site = format!("site{}.example", i % 40);
            store
                .put_spans(&[span(i * 20, i * 20 + 15, Some(&site))])
                .unwrap();
            if i % 100 == 0 {
                largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
            }
        }
        largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
        assert!(largest > 0, "no WAL was written");
        assert!(largest < 1_000_000, "the WAL grew to {largest} bytes");
        assert_eq!(store.spans(t(-100), t(300_000)).unwrap().len(), 12_000);
        // Compacting (forget, erase) goes through the WAL too, and ends small.
        store.compact().unwrap();
        assert!(std::fs::metadata(&wal).map_or(0, |m| m.len()) < 1_000_000);
    }

    #[test]
    fn a_full_disk_is_one_line_saying_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let pages: i64 = store
            .conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap();
        store
            .conn
            .execute_batch(&format!("PRAGMA max_page_count = {}", pages + 1))
            .unwrap();
        let spans: Vec<Span> = (0..5000)
            .map(|i| span(i * 60, i * 60 + 30, Some(&format!("s{i}.example"))))
            .collect();
        let e = store.put_spans(&spans).unwrap_err();
        assert!(matches!(e, StoreError::DiskFull { .. }), "{e:?}");
        assert!(e.is_permanent());
        assert_eq!(
            e.to_string(),
            format!(
                "the disk holding {} is full: free some space, then start dwell again",
                store.path().display()
            )
        );
    }

    #[test]
    // Modes, symbolic and hard links, errno values: Unix (files/unix.rs).
    #[cfg(unix)]
    fn os_errors_the_employee_must_fix_are_typed() {
        use rustix::io::Errno;
        let p = Path::new("/x/dwell.db");
        let io = |e: Errno| std::io::Error::from_raw_os_error(e.raw_os_error());
        let e = StoreError::from_io(p, io(Errno::ROFS));
        assert!(matches!(e, StoreError::ReadOnly { .. }) && e.is_permanent());
        assert!(e
            .to_string()
            .starts_with("/x/dwell.db is on a read-only disk"));
        for errno in [Errno::ACCESS, Errno::PERM] {
            let e = StoreError::from_io(p, io(errno));
            assert!(matches!(e, StoreError::PermissionDenied { .. }) && e.is_permanent());
            assert!(e.to_string().contains("permission denied"), "{e}");
        }
        for errno in [Errno::NOSPC, Errno::DQUOT] {
            let e = StoreError::from_io(p, io(errno));
            assert!(matches!(e, StoreError::DiskFull { .. }) && e.is_permanent());
        }
        let e = StoreError::from_io(p, io(Errno::IO));
        assert!(matches!(e, StoreError::Io { .. }) && !e.is_permanent());
        for e in [
            StoreError::ReadOnly { path: p.into() },
            StoreError::PermissionDenied { path: p.into() },
            StoreError::DiskFull { path: p.into() },
        ] {
            let line = e.to_string();
            assert!(
                !line.contains('\n') && line.contains("/x/dwell.db"),
                "{line}"
            );
            assert!(line.contains("then start dwell again"), "{line}");
        }
    }

    #[test]
    fn an_immutable_read_finds_a_file_with_an_awkward_name() {
        let dir = tempfile::tempdir().unwrap();
        // `?` cannot be in a file name on Windows.
        let data = dir.path().join(if cfg!(windows) {
            "a dir #%x"
        } else {
            "a dir?#%x"
        });
        let mut store = Store::open(&data).unwrap();
        store.put_spans(&[span(0, 10, Some("x.com"))]).unwrap();
        drop(store);
        let ro = Store::open_read_only_as(&data.join(DB_FILE), true).unwrap();
        assert_eq!(ro.spans(t(-100), t(100)).unwrap().len(), 1);
    }

    #[test]
    fn spans_that_make_no_sense_are_left_out_of_valid_spans() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store
            .put_spans(&[span(0, 10, Some("x.com")), span(20, 30, None)])
            .unwrap();
        let at = |s: i64| ms(t(s));
        store
            .conn
            .execute_batch(&format!(
                "PRAGMA foreign_keys = OFF;
                 INSERT INTO spans VALUES ({}, {}, NULL, 1);
                 INSERT INTO spans VALUES ({}, {}, NULL, 1);
                 INSERT INTO spans VALUES ({}, {}, 999, 1);
                 INSERT INTO spans VALUES ({}, 'soon', NULL, 1);",
                at(40),
                at(35),
                at(50),
                at(50 + 2 * 86_400),
                at(60),
                at(70),
                at(80),
            ))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(store.invalid_spans().unwrap(), 4);
        assert_eq!(
            store.valid_spans(t(-100), t(100)).unwrap(),
            vec![span(0, 10, Some("x.com")), span(20, 30, None)]
        );
    }
}

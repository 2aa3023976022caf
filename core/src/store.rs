//! The private SQLite store: one file, `dwell.db`, in a 0700 data directory,
//! itself 0600, in WAL mode, with append-only versioned migrations
//! (`PRAGMA user_version`). This is the only module in `core` that does I/O.
//!
//! What is stored: consent and its time, spans (start, end, site label or
//! "other", source). Never a window title or URL.

use std::collections::HashMap;
use std::fs::{DirBuilder, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use crate::forget::{self, ForgetEntry, Forgotten};
use crate::model::{Activity, ReminderRecord, Source, Span};
use crate::paths::DB_FILE;

/// Longest a stored span can be: spans are split at local midnight, and a local
/// day lasts at most 25 hours. Used to bound range queries on `start`.
pub const MAX_SPAN_MS: i64 = 26 * 3_600_000;

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
];

/// The meta key of the forget log (see [`crate::forget`]).
const FORGET_LOG_KEY: &str = "forget_log";

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

/// Creates `dir` (and parents) if needed and makes it private (0700).
pub fn ensure_private_dir(dir: &Path) -> Result<(), StoreError> {
    let io = |source| StoreError::Io {
        path: dir.to_owned(),
        source,
    };
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)
}

impl Store {
    /// Opens (creating if needed) the database in `data_dir`, private, migrated.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        ensure_private_dir(data_dir)?;
        // The directory may be a link (data moved to another disk); the files
        // inside it may not, and SQLite's no-follow check covers the whole path.
        let data_dir = std::fs::canonicalize(data_dir).map_err(|source| StoreError::Io {
            path: data_dir.to_owned(),
            source,
        })?;
        let path = data_dir.join(DB_FILE);
        // Create the file ourselves so it is 0600 from its first byte.
        // Never through a symbolic link planted where the database should be.
        OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .custom_flags(crate::paths::no_follow())
            .open(&path)
            .map_err(|e| StoreError::Io {
                path: path.clone(),
                source: crate::paths::explain_link(&path, e),
            })?;
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_NOFOLLOW,
        )
        .map_err(|e| sql(&path, e))?;
        let mut store = Store::with_conn(conn, path)?;
        store.migrate()?;
        store.private_files()?;
        Ok(store)
    }

    /// Opens the database in `data_dir` if there is one; never creates it.
    pub fn open_existing(data_dir: &Path) -> Result<Option<Store>, StoreError> {
        if !data_dir.join(DB_FILE).exists() {
            return Ok(None);
        }
        Store::open(data_dir).map(Some)
    }

    /// Opens any dwell database file read-only (reports, `--merge`).
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        if !path.is_file() {
            return Err(StoreError::Io {
                path: path.to_owned(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            });
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| sql(path, e))?;
        let store = Store::with_conn(conn, path.to_owned())?;
        let version = store.user_version()?;
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
            .map_err(|_| StoreError::NotDwell {
                path: path.to_owned(),
            })?;
        if version < 1 || !has_spans {
            return Err(StoreError::NotDwell {
                path: path.to_owned(),
            });
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
        })
    }

    fn user_version(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _)
                    if f.code == rusqlite::ErrorCode::NotADatabase =>
                {
                    StoreError::NotDwell {
                        path: self.path.clone(),
                    }
                }
                e => sql(&self.path, e),
            })
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let path = self.path.clone();
        let s = |e| sql(&path, e);
        self.conn
            .query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
            .map_err(s)?;
        self.conn
            .execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
            .map_err(s)?;
        let version = self.user_version()?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path,
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        for (i, m) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self.conn.transaction().map_err(s)?;
            tx.execute_batch(m).map_err(s)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)
                .map_err(s)?;
            tx.commit().map_err(s)?;
        }
        Ok(())
    }

    /// Makes the database and its WAL companions 0600.
    fn private_files(&self) -> Result<(), StoreError> {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = self.path.clone().into_os_string();
            p.push(suffix);
            let p = PathBuf::from(p);
            if p.exists() {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).map_err(
                    |source| StoreError::Io {
                        path: p.clone(),
                        source,
                    },
                )?;
            }
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes on disk: the database plus its WAL.
    pub fn size_bytes(&self) -> u64 {
        ["", "-wal"]
            .iter()
            .filter_map(|suffix| {
                let mut p = self.path.clone().into_os_string();
                p.push(suffix);
                std::fs::metadata(PathBuf::from(p)).ok().map(|m| m.len())
            })
            .sum()
    }

    fn s(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        move |e| sql(&self.path, e)
    }

    pub fn meta_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(self.s())
    }

    pub fn meta_set(&self, key: &str, value: &str) -> Result<(), StoreError> {
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
        let path = self.path.clone();
        self.conn
            .execute("INSERT OR IGNORE INTO sites (label) VALUES (?1)", [label])
            .map_err(|e| sql(&path, e))?;
        let id: i64 = self
            .conn
            .query_row("SELECT id FROM sites WHERE label = ?1", [label], |r| {
                r.get(0)
            })
            .map_err(|e| sql(&path, e))?;
        self.site_ids.insert(label.to_owned(), id);
        Ok(id)
    }

    /// Runs `f` in an IMMEDIATE transaction: committed when it returns
    /// `Ok(true)`, rolled back otherwise.
    fn in_tx<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<(T, bool), StoreError>,
    ) -> Result<T, StoreError> {
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
            Ok((Put::Written, true))
        })
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
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT s.start, s.end, t.label, s.source FROM spans s
                 LEFT JOIN sites t ON t.id = s.site
                 WHERE s.start >= ?1 AND s.start < ?2 AND s.end > ?3
                 ORDER BY s.start",
            )
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
        self.conn
            .execute("DELETE FROM reminders WHERE at < ?1", [ms(before)])
            .map_err(self.s())?;
        self.conn
            .execute("DELETE FROM spans WHERE end <= ?1", [ms(before)])
            .map_err(self.s())
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
            store.log_forget(Forgotten::All, at)?;
            Ok(((), true))
        })?;
        self.site_ids.clear();
        self.compact()
    }

    /// Rewrites the file without free pages and truncates the WAL.
    pub fn compact(&mut self) -> Result<(), StoreError> {
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

    /// `PRAGMA integrity_check`: `Ok(())` when the answer is "ok".
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

fn sql(path: &Path, source: rusqlite::Error) -> StoreError {
    StoreError::Sqlite {
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::testing::{span, t};
    use std::os::unix::fs::MetadataExt;

    #[test]
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

    #[test]
    fn private_and_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("d");
        let store = Store::open(&data).unwrap();
        assert_eq!(std::fs::metadata(&data).unwrap().mode() & 0o777, 0o700);
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
}

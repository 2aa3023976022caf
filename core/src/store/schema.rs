//! The schema: append-only versioned migrations (`PRAGMA user_version`), the
//! WAL settings every writer applies, and whether a table exists.

use super::{Store, StoreError};

/// The WAL is checkpointed once it holds this many pages (4 KiB each)...
pub(super) const WAL_AUTOCHECKPOINT_PAGES: i64 = 128;
/// ...and cut back to this many bytes when it is reused, so it stays under 1 MB.
pub(super) const WAL_SIZE_LIMIT: i64 = 1_000_000;

/// Append-only: never edit a released migration, add a new one.
pub(super) const MIGRATIONS: &[&str] = &[
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
    // 5: rows that start in the same millisecond no longer replace each other.
    // A span is its start, site and source: a checkpoint of the open span
    // keeps all three and replaces its row; another span that starts in the
    // same millisecond gets the next `n`. A reminder is its time and kind.
    // Both still clustered by time (WITHOUT ROWID), no bigger than before.
    // (The key's columns come first: SQLite 3.40's integrity_check, Debian
    // 12's sqlite3, reports false NULLs in a WITHOUT ROWID table otherwise.)
    "CREATE TABLE spans_5 (
         start  INTEGER NOT NULL,             -- unix ms, UTC
         n      INTEGER NOT NULL DEFAULT 0,   -- 0; 1, 2... for other spans of the same start
         end    INTEGER NOT NULL,             -- unix ms, UTC, > start
         site   INTEGER REFERENCES sites(id), -- NULL: other (non-social) active time
         source INTEGER NOT NULL,             -- 1 x11, 2 extension, 3 demo, 4 wayland
         PRIMARY KEY (start, n)
     ) WITHOUT ROWID;
     INSERT INTO spans_5 (start, end, site, source) SELECT start, end, site, source FROM spans;
     DROP TABLE spans;
     ALTER TABLE spans_5 RENAME TO spans;
     CREATE TABLE reminders_5 (
         at          INTEGER NOT NULL,        -- unix ms, UTC, when it was due
         kind        TEXT NOT NULL,           -- stage, over, streak, weekly, pause_page
         outcome     TEXT NOT NULL,
         left_social INTEGER,
         message     TEXT,
         PRIMARY KEY (at, kind)
     ) WITHOUT ROWID;
     INSERT INTO reminders_5 (at, kind, outcome, left_social, message)
         SELECT at, kind, outcome, left_social, message FROM reminders;
     DROP TABLE reminders;
     ALTER TABLE reminders_5 RENAME TO reminders;",
];

/// The migration that rewrote the spans and reminders tables (5).
const TABLES_REWRITTEN: i64 = 5;

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

impl Store {
    pub(super) fn user_version_raw(&self) -> rusqlite::Result<i64> {
        self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))
    }

    pub(super) fn user_version(&self) -> Result<i64, StoreError> {
        self.user_version_raw().map_err(self.s())
    }

    pub(super) fn migrate(&mut self) -> Result<(), StoreError> {
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
        if version > 0 && version < SCHEMA_VERSION {
            // Rewriting a table of a big database takes seconds (a stop
            // token still stops it: `Store::open_checked_with`).
            tracing::info!(
                from = version,
                to = SCHEMA_VERSION,
                "migrating the database"
            );
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
        applied.map_err(self.s())?;
        if version > 0 && version < TABLES_REWRITTEN {
            // The old tables' pages are free now: without this, the file
            // would stay twice its size (100 MB of spans: 218 MB).
            self.compact()?;
        }
        Ok(())
    }

    /// Whether the database has a table `name`.
    pub fn has_table(&self, name: &str) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1")
            .and_then(|mut stmt| stmt.query_row([name], |r| r.get::<_, i64>(0)))
            .map(|n| n > 0)
            .map_err(self.s())
    }

    /// Whether the file has the tables and columns a report reads (those of
    /// [`READ_SHAPE`], and of [`READ_SHAPE_IF_PRESENT`] for the tables it
    /// has): an error naming what is missing otherwise. For a database from
    /// elsewhere (`--merge`).
    pub fn check_read_shape(&self) -> Result<(), String> {
        let check = |sql: &str| self.conn.prepare(sql).map(drop).map_err(|e| e.to_string());
        for sql in READ_SHAPE {
            check(sql)?;
        }
        for (table, sql) in READ_SHAPE_IF_PRESENT {
            if self.has_table(table).unwrap_or(false) {
                check(sql)?;
            }
        }
        Ok(())
    }

    /// The connection itself, for tests that damage or lock a database on
    /// purpose. Nothing in dwell reads or writes through it.
    #[cfg(any(test, feature = "fixtures"))]
    #[doc(hidden)]
    pub fn raw_for_tests(&self) -> &rusqlite::Connection {
        &self.conn
    }
}

/// What every database a report reads must have, as queries that fail when
/// it lacks it.
const READ_SHAPE: &[&str] = &[
    "SELECT key, value FROM meta LIMIT 0",
    "SELECT id, label FROM sites LIMIT 0",
    "SELECT start, end, site, source FROM spans LIMIT 0",
];

/// The same for tables a database may lack (older schemas).
const READ_SHAPE_IF_PRESENT: &[(&str, &str)] = &[
    (
        "reminders",
        "SELECT at, kind, outcome, left_social, message FROM reminders LIMIT 0",
    ),
    ("notes", "SELECT week, text, written FROM notes LIMIT 0"),
];

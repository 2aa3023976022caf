//! The private SQLite store: one file, `dwell.db`, in a 0700 data directory,
//! itself 0600, in WAL mode, with append-only versioned migrations
//! (`PRAGMA user_version`). The one module of `core` that opens a database.
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
//!
//! The rooms: `open` (files, opening, health), `schema` (migrations), `error`,
//! `spans` (writes and queries of spans and sites), `rollups` (the per-day
//! cache and its encoding), `forgets` (forgets, expiry, erase), `records`
//! (meta, consent, reminders, notes), `salvage` and `cancel`. No connection is
//! handed out: every read and write is a method here.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::Connection;

mod cancel;
mod error;
mod forgets;
mod open;
mod records;
mod rollups;
mod salvage;
mod schema;
mod spans;
#[cfg(test)]
mod tests;

use error::sql;
use rollups::RollupZone;

pub use cancel::Cancel;
pub use error::StoreError;
pub use open::ensure_private_dir;
pub use rollups::{StoredDay, StoredVisit};
pub use salvage::Salvage;
pub use schema::SCHEMA_VERSION;
pub use spans::Put;

/// Name of the database file inside the data directory.
pub const DB_FILE: &str = "dwell.db";

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

/// The `meta` key holding the pause ([`crate::control`]).
pub const PAUSED_UNTIL_KEY: &str = "paused_until";

/// The `meta` key of when retention last ran (RFC 3339), so it runs once a
/// day ([`crate::control`]).
pub const RETENTION_RAN_KEY: &str = "retention_ran_at";

/// The `meta` key of when the agent last opened the database (RFC 3339).
pub const AGENT_STARTED_KEY: &str = "agent_started_at";

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

pub(super) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(super) fn from_ms(v: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(v)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// `path` with `suffix` appended to its file name (`dwell.db` → `dwell.db-wal`).
pub(super) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

impl Store {
    /// `Err` when this connection must not write (the file is damaged).
    pub(super) fn writable(&self) -> Result<(), StoreError> {
        match self.damaged.get() {
            Some(detail) => Err(self.damage(detail)),
            None => Ok(()),
        }
    }

    /// A SQLite error on this database, typed; damage is remembered.
    pub(super) fn err(&self, e: rusqlite::Error) -> StoreError {
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

    pub(super) fn s(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        move |e| self.err(e)
    }

    /// Runs `f` in an IMMEDIATE transaction: committed when it returns
    /// `Ok(true)`, rolled back otherwise.
    pub(super) fn in_tx<T>(
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
}

//! The salvage of a damaged database ([`Store::open_checked`]): what can be
//! read of it is copied row by row into a fresh database built beside it
//! (`dwell.db.rebuilding`), then the damaged file is moved aside, byte for
//! byte as it was, and the fresh one takes its place.
//!
//! It always ends, in time bounded by the file's size: the damaged file is
//! read from a private scratch copy (`dwell.db.reading`, with its `-wal` but
//! never its `-shm`), under a query budget and a deadline ([`READ_TIME`]); see
//! `read.rs` for why the reading ends. Out of time, what was read is kept.
//! A [`Cancel`] token stops it at any point before the swap, leaving the
//! damaged file in place (the scratch and `.rebuilding` files are ours and are
//! removed by the next try); once the damaged file is being moved aside, the
//! swap (two renames) is finished.

mod pages;
mod read;

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::error::sql;
use super::forgets::FORGET_LOG_KEY;
use super::rollups::ROLLUPS_KEY;
use super::{
    with_suffix, Cancel, Store, StoreError, AGENT_STARTED_KEY, DATABASE_ID_KEY, DATABASE_NOTE_KEY,
};
use crate::store::DB_FILE;
use read::Budget;

/// How long reading the damaged file may take. A whole 100 MB database is
/// read in a few seconds (docs/benchmarks.md); this bounds the cases the
/// query budget does not (a damaged schema turning seeks into scans), and
/// leaves the rest of 30 s for writing the fresh database and checking it.
pub(super) const READ_TIME: Duration = Duration::from_secs(15);

/// Why reading the damaged file stopped before the end (`read.rs`, `pages.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// The [`Cancel`] token was set.
    Cancelled,
    /// The deadline passed or the query budget ran out.
    Spent,
}

/// What [`Store::open_checked`] did with a damaged database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Salvage {
    /// Where the damaged file is now (its `-wal` and `-shm` beside it). It is
    /// never deleted: the employee decides.
    pub moved_to: PathBuf,
    /// What SQLite found wrong (for the log).
    pub detail: String,
    /// Whether the consent could be read (otherwise the employee must opt in again).
    pub consent: bool,
    /// Rows kept in the fresh database.
    pub spans: usize,
    pub reminders: usize,
    pub notes: usize,
    /// Unreadable parts stepped over, plus rows that made no sense.
    pub lost: usize,
    /// The one-line note also stored in the fresh database.
    pub note: String,
}

impl Store {
    /// Rebuilds a fresh database from what can be read of the damaged one in
    /// `data_dir`, then moves the damaged one aside and puts the fresh one in
    /// its place. The fresh one is built under another name first, so that if
    /// that fails (a full disk) or `cancel` is set, nothing has moved and the
    /// next start tries again.
    pub(super) fn salvage(
        data_dir: &Path,
        detail: String,
        now: DateTime<Utc>,
        cancel: &Cancel,
    ) -> Result<(Store, Salvage), StoreError> {
        let started = Instant::now();
        let dir = std::fs::canonicalize(data_dir)
            .map_err(|source| StoreError::from_io(data_dir, source))?;
        let db = dir.join(DB_FILE);
        let moved_to = damaged_name(&db, now)?;
        tracing::warn!("the database is damaged: reading what can be read of a copy of it");
        let rescued = read_damaged(&db, started + READ_TIME, cancel)?;
        let read_ms = started.elapsed().as_millis() as u64;
        if rescued.spent {
            tracing::warn!(
                seconds = READ_TIME.as_secs(),
                "reading the damaged database took too long: keeping what was read"
            );
        }
        let rebuilt = with_suffix(&db, ".rebuilding");
        let (kept, note) = build_fresh(&db, &rebuilt, &rescued, &moved_to, now, cancel)?;
        // The last point where stopping leaves everything in place.
        cancel.check(&db)?;
        move_aside(&db, &moved_to)?;
        for suffix in ["", "-wal", "-shm"] {
            let from = with_suffix(&rebuilt, suffix);
            if suffix.is_empty() || std::fs::symlink_metadata(&from).is_ok() {
                let to = with_suffix(&db, suffix);
                std::fs::rename(&from, &to).map_err(|e| StoreError::from_io(&to, e))?;
            }
        }
        let store = Store::open(&dir)?;
        store.meta_set(AGENT_STARTED_KEY, &now.to_rfc3339())?;
        tracing::info!(
            spans = kept.spans,
            reminders = kept.reminders,
            notes = kept.notes,
            lost = kept.lost,
            consent = kept.consent,
            read_ms,
            ms = started.elapsed().as_millis() as u64,
            "damaged database moved aside; what could be read is kept in a fresh one"
        );
        let salvage = Salvage {
            moved_to,
            detail,
            consent: kept.consent,
            spans: kept.spans,
            reminders: kept.reminders,
            notes: kept.notes,
            lost: kept.lost,
            note,
        };
        Ok((store, salvage))
    }
}

/// Reads what can be read of the damaged `db` (and its WAL) from a private
/// scratch copy, removed afterwards: the damaged files are only ever read.
fn read_damaged(db: &Path, deadline: Instant, cancel: &Cancel) -> Result<Rescued, StoreError> {
    let scratch = with_suffix(db, ".reading");
    remove_ours(&scratch)?;
    let copied = copy_private(db, &scratch).and_then(|main| {
        let wal = copy_private(&with_suffix(db, "-wal"), &with_suffix(&scratch, "-wal"))?;
        Ok(main + wal)
    });
    let read = copied.and_then(|bytes| {
        cancel.check(db)?;
        tracing::info!(
            pages = bytes.div_ceil(4096),
            "reading the copy of the damaged database"
        );
        Rescued::read(&scratch, Budget::new(bytes, deadline, cancel)).map_err(|_| {
            StoreError::Cancelled {
                path: db.to_owned(),
            }
        })
    });
    let removed = remove_ours(&scratch);
    let rescued = cancel.or_cancelled(db, read)?;
    removed?;
    Ok(rescued)
}

/// Copies `from` to a new private (0600) file `to`, never through a link;
/// the bytes copied, 0 when `from` does not exist.
fn copy_private(from: &Path, to: &Path) -> Result<u64, StoreError> {
    use crate::files::{refuse_links, with_mode};
    let mut src = match refuse_links(OpenOptions::new().read(true)).open(from) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        r => r.map_err(|e| StoreError::from_io(from, e))?,
    };
    let mut dst = refuse_links(with_mode(
        OpenOptions::new().write(true).create_new(true),
        0o600,
    ))
    .open(to)
    .map_err(|e| StoreError::from_io(to, e))?;
    std::io::copy(&mut src, &mut dst).map_err(|e| StoreError::from_io(to, e))
}

/// Removes `path` and its SQLite companions, if there: files a salvage cut
/// short left, our own, never the employee's data.
fn remove_ours(path: &Path) -> Result<(), StoreError> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let stale = with_suffix(path, suffix);
        match std::fs::remove_file(&stale) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(StoreError::from_io(&stale, e))
            }
            _ => {}
        }
    }
    Ok(())
}

/// Builds the fresh database at `rebuilt` from `rescued`, with its note, and
/// checks it. Stopped by `cancel` ([`StoreError::Cancelled`]), it leaves
/// `rebuilt` for the next try to remove.
fn build_fresh(
    db: &Path,
    rebuilt: &Path,
    rescued: &Rescued,
    moved_to: &Path,
    now: DateTime<Utc>,
    cancel: &Cancel,
) -> Result<(Kept, String), StoreError> {
    remove_ours(rebuilt)?;
    let mut fresh = Store::open_file_unmigrated(rebuilt.to_owned())?.finish_open()?;
    cancel.watch(&mut fresh.conn, None);
    let kept = cancel.or_cancelled(
        db,
        fresh.in_tx(|store| {
            let kept = rescued.write_to(store)?;
            // Rolled up again by the first writer that knows the time zone.
            store.invalidate_rollups()?;
            Ok((kept, true))
        }),
    )?;
    let note = salvage_note(&kept, moved_to, now);
    let checked = fresh.meta_set(DATABASE_NOTE_KEY, &note).and_then(|()| {
        fresh
            .conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .map_err(fresh.s())?;
        fresh.health_check().map_err(|e| match e {
            StoreError::Damaged { .. } => StoreError::Damaged {
                path: db.to_owned(),
                detail: "and a fresh copy of what could be read was damaged at once: the disk may be failing; check it or choose another data directory (--data-dir), then start dwell again".to_owned(),
            },
            e => e,
        })
    });
    cancel.or_cancelled(db, checked)?;
    Ok((kept, note))
}

/// The one line saying what became of a damaged database.
fn salvage_note(kept: &Kept, moved_to: &Path, now: DateTime<Utc>) -> String {
    let mut note = format!(
        "on {} dwell found its database damaged, moved it to {} and kept what could be read in a fresh one: {} span(s), {} reminder(s), {} note(s)",
        now.format("%Y-%m-%d at %H:%M UTC"),
        moved_to.display(),
        kept.spans,
        kept.reminders,
        kept.notes,
    );
    if kept.lost > 0 {
        note.push_str("; some of it could not be read and is missing");
    }
    if !kept.consent {
        note.push_str(
            "; your consent could not be read: nothing is recorded until you opt in again with `dwell-agent enable`",
        );
    }
    note
}

/// Where the damaged `db` goes: `dwell.db.damaged-<UTC time>`, never the name
/// of an existing file.
fn damaged_name(db: &Path, now: DateTime<Utc>) -> Result<PathBuf, StoreError> {
    let stamp = now.format("%Y%m%dT%H%M%SZ");
    let taken = |p: &Path| {
        ["", "-wal", "-shm"]
            .iter()
            .any(|s| std::fs::symlink_metadata(with_suffix(p, s)).is_ok())
    };
    (1..1000)
        .map(|n| match n {
            1 => with_suffix(db, &format!(".damaged-{stamp}")),
            n => with_suffix(db, &format!(".damaged-{stamp}-{n}")),
        })
        .find(|p| !taken(p))
        .ok_or_else(|| StoreError::Damaged {
            path: db.to_owned(),
            detail: "and there is no free name to move it aside: move the dwell.db.damaged-* files away, then start dwell again".to_owned(),
        })
}

/// Renames the damaged `db` and its `-wal` and `-shm` to `target` (and
/// `target-wal`, `target-shm`): the WAL goes with it, so that it is never
/// applied to the fresh database.
fn move_aside(db: &Path, target: &Path) -> Result<(), StoreError> {
    std::fs::rename(db, target).map_err(|e| StoreError::from_io(db, e))?;
    for suffix in ["-wal", "-shm"] {
        let from = with_suffix(db, suffix);
        if std::fs::symlink_metadata(&from).is_ok() {
            std::fs::rename(&from, with_suffix(target, suffix))
                .map_err(|e| StoreError::from_io(&from, e))?;
        }
    }
    Ok(())
}

/// Meta keys not carried over to a rebuilt database: the forget log belongs
/// to the old file's rows, and the note and start time are written anew.
const NOT_SALVAGED: &[&str] = &[
    FORGET_LOG_KEY,
    DATABASE_NOTE_KEY,
    AGENT_STARTED_KEY,
    ROLLUPS_KEY,
];

/// Meta keys looked up one by one if the `meta` table cannot be read through.
const KEY_SETTINGS: &[&str] = &[
    "consent_at",
    DATABASE_ID_KEY,
    super::PAUSED_UNTIL_KEY,
    super::RETENTION_RAN_KEY,
];

/// A reminder read from a damaged database: at, kind, outcome, left_social, message.
type RescuedReminder = (i64, String, String, Option<i64>, Option<String>);

/// What could be read of a damaged database, row by row.
#[derive(Debug, Default)]
struct Rescued {
    meta: Vec<(String, String)>,
    sites: Vec<(i64, String)>,
    /// start, end, site, source.
    spans: Vec<(i64, i64, Option<i64>, i64)>,
    reminders: Vec<RescuedReminder>,
    /// week, text, written.
    notes: Vec<(String, String, i64)>,
    /// Unreadable parts stepped over and rows that made no sense.
    lost: usize,
    /// Whether reading stopped at the deadline or the end of its budget.
    spent: bool,
}

/// What a rebuilt database kept.
#[derive(Debug, Default)]
struct Kept {
    consent: bool,
    spans: usize,
    reminders: usize,
    notes: usize,
    lost: usize,
}

impl Rescued {
    /// Writes what was read into `store` (a fresh database, in a transaction).
    fn write_to(&self, store: &mut Store) -> Result<Kept, StoreError> {
        let mut kept = Kept {
            lost: self.lost,
            ..Kept::default()
        };
        let conn = &store.conn;
        let s = |e| sql(&store.path, e);
        for (key, value) in &self.meta {
            if key == "consent_at" {
                if DateTime::parse_from_rfc3339(value).is_err() {
                    kept.lost += 1;
                    continue;
                }
                kept.consent = true;
            }
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
                [key, value],
            )
            .map_err(s)?;
        }
        for (id, label) in &self.sites {
            conn.execute(
                "INSERT OR IGNORE INTO sites (id, label) VALUES (?1, ?2)",
                params![id, label],
            )
            .map_err(s)?;
        }
        // One statement for all the spans: prepared once, not per row. They
        // come in key order; spans of the same start are numbered here (`n`,
        // schema 5), the same span twice is kept once.
        let mut put_span = conn
            .prepare_cached(
                "INSERT OR IGNORE INTO spans (start, end, site, source, n) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .map_err(s)?;
        let (mut at, mut same) = (None, Vec::new());
        for (start, end, site, source) in &self.spans {
            if at != Some(*start) {
                at = Some(*start);
                same.clear();
            }
            if same.contains(&(*site, *source)) {
                continue;
            }
            let n = same.len() as i64;
            same.push((*site, *source));
            kept.spans += put_span
                .execute(params![start, end, site, source, n])
                .map_err(s)?;
        }
        drop(put_span);
        for (at, kind, outcome, left, message) in &self.reminders {
            kept.reminders += conn
                .execute(
                    "INSERT OR IGNORE INTO reminders (at, kind, outcome, left_social, message)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![at, kind, outcome, left, message],
                )
                .map_err(s)?;
        }
        for (week, text, written) in &self.notes {
            kept.notes += conn
                .execute(
                    "INSERT OR IGNORE INTO notes (week, text, written) VALUES (?1, ?2, ?3)",
                    params![week, text, written],
                )
                .map_err(s)?;
        }
        Ok(kept)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod damage_tests;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod bench;

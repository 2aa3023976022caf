//! The salvage of a damaged database ([`Store::open_checked`]): what can be
//! read of it is copied row by row into a fresh database built beside it
//! (`dwell.db.rebuilding`), then the damaged file is moved aside, byte for
//! byte as it was, and the fresh one takes its place.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::{
    from_ms, sql, with_suffix, Store, StoreError, AGENT_STARTED_KEY, DATABASE_ID_KEY,
    DATABASE_NOTE_KEY, FORGET_LOG_KEY, LONGEST_DAY_MS, ROLLUPS_KEY,
};
use crate::paths::DB_FILE;

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
    /// that fails (a full disk), nothing has moved and the next start tries again.
    pub(super) fn salvage(
        data_dir: &Path,
        detail: String,
        now: DateTime<Utc>,
    ) -> Result<(Store, Salvage), StoreError> {
        let dir = std::fs::canonicalize(data_dir)
            .map_err(|source| StoreError::from_io(data_dir, source))?;
        let db = dir.join(DB_FILE);
        let moved_to = damaged_name(&db, now)?;
        // Only ever read.
        let rescued = Rescued::read(&db);
        let rebuilt = with_suffix(&db, ".rebuilding");
        for suffix in ["", "-wal", "-shm"] {
            // What a salvage cut short left: our own, never the employee's data.
            let stale = with_suffix(&rebuilt, suffix);
            match std::fs::remove_file(&stale) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(StoreError::from_io(&stale, e))
                }
                _ => {}
            }
        }
        let (kept, note) = {
            let mut fresh = Store::open_file_unmigrated(rebuilt.clone())?.finish_open()?;
            let kept = fresh.in_tx(|store| {
                let kept = rescued.write_to(store)?;
                // Rolled up again by the first writer that knows the time zone.
                store.invalidate_rollups()?;
                Ok((kept, true))
            })?;
            let note = salvage_note(&kept, &moved_to, now);
            fresh.meta_set(DATABASE_NOTE_KEY, &note)?;
            fresh
                .conn
                .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
                .map_err(fresh.s())?;
            fresh.health_check().map_err(|e| match e {
                StoreError::Damaged { .. } => StoreError::Damaged {
                    path: db.clone(),
                    detail: "and a fresh copy of what could be read was damaged at once: the disk may be failing; check it or choose another data directory (--data-dir), then start dwell again".to_owned(),
                },
                e => e,
            })?;
            (kept, note)
        };
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
    crate::control::PAUSED_UNTIL_KEY,
    crate::control::RETENTION_RAN_KEY,
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

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Text(s) => Some(s.clone()),
        _ => None,
    }
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Integer(i) => Some(*i),
        _ => None,
    }
}

/// `Some(None)` for NULL, `Some(Some(_))` for a value `f` accepts, `None` otherwise.
fn nullable<T>(v: &Value, f: impl Fn(&Value) -> Option<T>) -> Option<Option<T>> {
    match v {
        Value::Null => Some(None),
        v => f(v).map(Some),
    }
}

type Row = Vec<Value>;

/// Reads the rows of a table keyed by an integer, one at a time in key order,
/// stepping over the parts that cannot be read. `sql` selects the key and then
/// `width` more columns of the first row whose key is greater than `?1`.
/// Returns the rows (key, columns) and how many unreadable parts it met.
fn rescue_by_int(conn: &Connection, sql: &str, width: usize) -> (Vec<(i64, Row)>, usize) {
    let Ok(mut stmt) = conn.prepare(sql) else {
        return (Vec::new(), 1);
    };
    // The first row after `after`; `Err` when it cannot be read.
    let mut next = |after: i64| -> Result<Option<(i64, Row)>, ()> {
        let row = stmt
            .query_row([after], |r| {
                let key: i64 = r.get(0)?;
                let cols = (1..=width)
                    .map(|i| r.get::<_, Value>(i))
                    .collect::<Result<Row, _>>()?;
                Ok((key, cols))
            })
            .optional()
            .map_err(|_| ())?;
        match row {
            // A key out of order is damage too.
            Some((key, _)) if key <= after => Err(()),
            row => Ok(row),
        }
    };
    let mut rows = Vec::new();
    let mut lost = 0;
    let mut after = i64::MIN;
    loop {
        match next(after) {
            Ok(None) => break,
            Ok(Some((key, cols))) => {
                rows.push((key, cols));
                if key == i64::MAX {
                    break;
                }
                after = key;
                continue;
            }
            Err(()) => lost += 1,
        }
        // Step over the unreadable part: widen the step until a read works,
        // then narrow down to where reading starts working again.
        let (mut bad, mut good, mut step) = (after, None, 1i64);
        while bad < i64::MAX {
            let probe = after.saturating_add(step);
            if next(probe).is_ok() {
                good = Some(probe);
                break;
            }
            bad = probe;
            step = step.saturating_mul(2);
        }
        let Some(mut good) = good else { break };
        while i128::from(good) - i128::from(bad) > 1 {
            let mid = ((i128::from(good) + i128::from(bad)) / 2) as i64;
            if next(mid).is_ok() {
                good = mid;
            } else {
                bad = mid;
            }
        }
        after = good;
    }
    (rows, lost)
}

/// Reads the rows of a table keyed by text, in key order, until one cannot be
/// read (`scan` selects the key and `width` more columns of the first row whose
/// key is greater than `?1`). Returns the rows and whether it read to the end.
fn rescue_by_text(conn: &Connection, scan: &str, width: usize) -> (Vec<(String, Row)>, bool) {
    let Ok(mut stmt) = conn.prepare(scan) else {
        return (Vec::new(), false);
    };
    let mut rows: Vec<(String, Row)> = Vec::new();
    let mut after = String::new();
    loop {
        let row = stmt
            .query_row([&after], |r| {
                let key: String = r.get(0)?;
                let cols = (1..=width)
                    .map(|i| r.get::<_, Value>(i))
                    .collect::<Result<Row, _>>()?;
                Ok((key, cols))
            })
            .optional();
        match row {
            Ok(None) => return (rows, true),
            Ok(Some((key, cols))) if key > after => {
                after.clone_from(&key);
                rows.push((key, cols));
            }
            _ => return (rows, false),
        }
    }
}

/// One row by its text key, if it can be read.
fn rescue_one(conn: &Connection, sql: &str, key: &str, width: usize) -> Option<Row> {
    conn.query_row(sql, [key], |r| {
        (0..width)
            .map(|i| r.get::<_, Value>(i))
            .collect::<Result<Row, _>>()
    })
    .ok()
}

impl Rescued {
    /// Reads what it can of the damaged file at `path`, read-only.
    fn read(path: &Path) -> Rescued {
        let mut r = Rescued::default();
        let Ok(conn) = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_NOFOLLOW,
        ) else {
            r.lost += 1;
            return r;
        };
        r.read_meta(&conn);
        r.read_sites(&conn);
        r.read_spans(&conn);
        r.read_reminders(&conn);
        r.read_notes(&conn);
        r
    }

    fn read_meta(&mut self, conn: &Connection) {
        let (rows, whole) = rescue_by_text(
            conn,
            "SELECT key, value FROM meta WHERE key > ?1 ORDER BY key LIMIT 1",
            1,
        );
        let mut meta: Vec<(String, Row)> = rows;
        if !whole {
            self.lost += 1;
            for key in KEY_SETTINGS {
                if meta.iter().all(|(k, _)| k != key) {
                    if let Some(row) =
                        rescue_one(conn, "SELECT value FROM meta WHERE key = ?1", key, 1)
                    {
                        meta.push(((*key).to_owned(), row));
                    }
                }
            }
        }
        for (key, row) in meta {
            if NOT_SALVAGED.contains(&key.as_str()) {
                continue;
            }
            match text(&row[0]) {
                Some(value) => self.meta.push((key, value)),
                None => self.lost += 1,
            }
        }
    }

    fn read_sites(&mut self, conn: &Connection) {
        let (rows, lost) = rescue_by_int(
            conn,
            "SELECT id, label FROM sites WHERE id > ?1 ORDER BY id LIMIT 1",
            1,
        );
        self.lost += lost;
        for (id, row) in rows {
            match text(&row[0]).filter(|l| !l.is_empty()) {
                Some(label) => self.sites.push((id, label)),
                None => self.lost += 1,
            }
        }
    }

    fn read_spans(&mut self, conn: &Connection) {
        let (rows, lost) = rescue_by_int(
            conn,
            "SELECT start, end, site, source FROM spans WHERE start > ?1 ORDER BY start LIMIT 1",
            3,
        );
        self.lost += lost;
        let sites: HashSet<i64> = self.sites.iter().map(|(id, _)| *id).collect();
        for (start, row) in rows {
            let span = (|| {
                let end = int(&row[0]).filter(|e| *e > start && *e - start <= LONGEST_DAY_MS)?;
                let site = nullable(&row[1], int)?;
                if site.is_some_and(|id| !sites.contains(&id)) {
                    return None;
                }
                Some((start, end, site, int(&row[2])?))
            })();
            match span {
                Some(s) => self.spans.push(s),
                None => self.lost += 1,
            }
        }
    }

    fn read_reminders(&mut self, conn: &Connection) {
        let (rows, lost) = rescue_by_int(
            conn,
            "SELECT at, kind, outcome, left_social, message FROM reminders
             WHERE at > ?1 ORDER BY at LIMIT 1",
            4,
        );
        self.lost += lost;
        for (at, row) in rows {
            let reminder = (|| {
                Some((
                    at,
                    text(&row[0])?,
                    text(&row[1])?,
                    nullable(&row[2], int)?,
                    nullable(&row[3], text)?,
                ))
            })();
            match reminder {
                Some(r) => self.reminders.push(r),
                None => self.lost += 1,
            }
        }
    }

    fn read_notes(&mut self, conn: &Connection) {
        let (mut rows, whole) = rescue_by_text(
            conn,
            "SELECT week, text, written FROM notes WHERE week > ?1 ORDER BY week LIMIT 1",
            2,
        );
        if !whole {
            self.lost += 1;
            // Notes are keyed by ISO week: look up each week of the years
            // the rest of the data covers.
            let years: std::collections::BTreeSet<i32> = self
                .spans
                .iter()
                .map(|s| s.0)
                .chain(self.reminders.iter().map(|r| r.0))
                .map(|t| chrono::Datelike::year(&from_ms(t)))
                .collect();
            for year in years {
                for week in 1..=53 {
                    let key = format!("{year}-W{week:02}");
                    if rows.iter().any(|(k, _)| *k == key) {
                        continue;
                    }
                    if let Some(row) = rescue_one(
                        conn,
                        "SELECT text, written FROM notes WHERE week = ?1",
                        &key,
                        2,
                    ) {
                        rows.push((key, row));
                    }
                }
            }
        }
        for (week, row) in rows {
            match (text(&row[0]), int(&row[1])) {
                (Some(text), Some(written)) => self.notes.push((week, text, written)),
                _ => self.lost += 1,
            }
        }
    }

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
        for (start, end, site, source) in &self.spans {
            kept.spans += conn
                .execute(
                    "INSERT OR IGNORE INTO spans (start, end, site, source) VALUES (?1, ?2, ?3, ?4)",
                    params![start, end, site, source],
                )
                .map_err(s)?;
        }
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

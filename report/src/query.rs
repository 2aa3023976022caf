//! Reading the databases: this computer's, read-only, plus any `--merge`d ones
//! from other computers. Spans come back merged and sorted by start; the
//! per-day rollups (see `Store::rollups`) come only from this computer's
//! database, when nothing is merged.
//!
//! A merged file is checked when it is opened: it must have the tables a
//! report reads, and must not already be in the report (the same file, or a
//! copy: each database has a random identity, `meta.database_id`). Its spans
//! that make no sense are left out and counted in one warning. Any SQL error
//! on a merged file refuses the report (exit 2) with one line naming it.
//!
//! A copy without identity (made before schema 3, or whose identity was
//! removed) is told by its content: when databases are merged, a span found
//! in more than one of them (the same start, end and activity, to the
//! millisecond) counts once, and so does a reminder (the same time, kind and
//! outcome). Two computers never record the same span to the millisecond, so
//! this only ever drops a copy's rows. Such a file is named in one warning.

use std::path::{Path, PathBuf};

use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};
use dwell_cli::refused;
use dwell_core::model::{ReminderRecord, Span};
use dwell_core::paths::DB_FILE;
use dwell_core::store::{StoreError, StoredDay};
use dwell_core::Store;

/// The databases a report reads: this computer's first, then the merged ones.
#[derive(Debug)]
pub struct Sources {
    stores: Vec<Store>,
    warnings: Vec<String>,
}

/// Reads again, once, when the database was busy for longer than SQLite's
/// busy timeout (5 s: a backup, `sqlite3` in a transaction): a report waits
/// for another program rather than failing.
fn patiently<T>(mut read: impl FnMut() -> Result<T, StoreError>) -> Result<T, StoreError> {
    match read() {
        Err(e) if e.is_busy() => read(),
        r => r,
    }
}

fn store_refusal(e: StoreError, what: &str) -> anyhow::Error {
    match e {
        // Not the employee's doing: exit 1, try again.
        e if e.is_busy() => anyhow::Error::new(e).context(format!(
            "{what}: another program keeps the database busy; try again in a moment"
        )),
        StoreError::Damaged { .. } => refused(format!(
            "{what}: {e}; `dwell-agent run` moves it aside and keeps what can be read"
        )),
        StoreError::NotDwell { .. }
        | StoreError::NewerSchema { .. }
        | StoreError::ReadOnly { .. }
        | StoreError::PermissionDenied { .. }
        | StoreError::DiskFull { .. }
        | StoreError::NotOwnFile { .. }
        | StoreError::Sqlite { .. } => refused(format!("{what}: {e}")),
        StoreError::Io { ref source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            refused(format!("{what}: {e}"))
        }
        e => anyhow::Error::new(e).context(what.to_owned()),
    }
}

impl Sources {
    /// Opens `data_dir`'s database read-only and each of `merge`. A merged
    /// database is refused when it is already in the report: the same file,
    /// or a copy (the same identity). Its spans that make no sense are left
    /// out, and counted in [`Sources::warnings`].
    pub fn open(data_dir: &Path, merge: &[PathBuf]) -> Result<Sources> {
        let db = data_dir.join(DB_FILE);
        if !db.is_file() {
            return Err(refused(format!(
                "no dwell data in {}: start recording with `dwell-agent enable`, or see an example with `dwell-report demo --weeks 8`",
                data_dir.display()
            )));
        }
        let (main, note, main_id) = patiently(|| {
            let main = Store::open_read_only(&db)?;
            let note = main.database_note()?;
            let id = main.database_id()?;
            Ok((main, note, id))
        })
        .map_err(|e| store_refusal(e, "cannot read the dwell database"))?;
        let mut warnings = Vec::from_iter(note);
        // (canonical path, identity, as given) of each database so far.
        let mut seen = vec![(
            std::fs::canonicalize(&db).unwrap_or_else(|_| db.clone()),
            main_id,
            db.clone(),
        )];
        let mut stores = vec![main];
        let (mut skipped, mut skipped_total) = (Vec::new(), 0);
        for m in merge {
            let what = format!("--merge {}", m.display());
            // A copied data directory is fine; a directory without one is said plainly.
            let file = if m.is_dir() {
                let db = m.join(DB_FILE);
                if !db.is_file() {
                    return Err(refused(format!(
                        "{what} is a directory with no dwell database ({}) in it: give the {} copied from the other computer, or the data directory that holds it",
                        DB_FILE, DB_FILE
                    )));
                }
                db
            } else {
                m.clone()
            };
            let canon = std::fs::canonicalize(&file).unwrap_or_else(|_| file.clone());
            if seen.iter().any(|(c, _, _)| *c == canon) {
                return Err(refused(format!(
                    "{what}: this database is already in the report"
                )));
            }
            let (store, id) = patiently(|| {
                let store = Store::open_read_only(&file)?;
                let id = store.database_id()?;
                Ok((store, id))
            })
            .map_err(|e| store_refusal(e, &what))?;
            store
                .check_read_shape()
                .map_err(|e| refused(format!("{what}: not a complete dwell database ({e})")))?;
            if let Some((_, _, first)) = seen.iter().find(|(_, i, _)| id.is_some() && *i == id) {
                return Err(refused(format!(
                    "{what}: this database is already in the report (it is a copy of {})",
                    first.display()
                )));
            }
            if id.is_none() {
                warnings.push(format!(
                    "{what} has no identity (made before dwell's schema 3, or edited): what it shares with the other databases is counted once"
                ));
            }
            let bad = store.invalid_spans().map_err(|e| store_refusal(e, &what))?;
            if bad > 0 {
                skipped.push(format!("{bad} in {}", m.display()));
                skipped_total += bad;
            }
            seen.push((canon, id, m.clone()));
            stores.push(store);
        }
        if !skipped.is_empty() {
            warnings.push(format!(
                "skipped {skipped_total} span(s) of merged databases that make no sense (ending before they start, longer than a day, or of a site the file lacks): {}",
                skipped.join(", ")
            ));
        }
        Ok(Sources { stores, warnings })
    }

    /// One line each, for the employee: the note of a salvaged database, and
    /// how many merged spans were skipped.
    /// How many databases are read: the main one and the merged ones.
    pub fn count(&self) -> usize {
        self.stores.len()
    }

    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// An error reading database `i`: a merged one is refused (exit 2, one
    /// line naming the file); this computer's is a failure.
    fn failed(&self, i: usize, what: &str, e: StoreError) -> anyhow::Error {
        let path = self.stores[i].path().display();
        if i == 0 || e.is_busy() {
            anyhow::Error::new(e).context(format!("cannot read {what} from {path}"))
        } else {
            refused(format!("--merge {path}: cannot read {what}: {e}"))
        }
    }

    /// Spans overlapping `[from, to)` from every database, sorted by start
    /// (from merged ones, only those that make sense).
    pub fn spans(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Span>> {
        let mut all = Vec::new();
        for (i, s) in self.stores.iter().enumerate() {
            let spans = patiently(|| {
                if i == 0 {
                    s.spans(from, to)
                } else {
                    s.valid_spans(from, to)
                }
            });
            all.extend(spans.map_err(|e| self.failed(i, "spans", e))?);
        }
        if self.stores.len() > 1 {
            // Copies without identity: the same span in two databases is one.
            all.sort_by(|a, b| (a.start, a.end, &a.activity).cmp(&(b.start, b.end, &b.activity)));
            all.dedup_by(|a, b| (a.start, a.end, &a.activity) == (b.start, b.end, &b.activity));
        }
        Ok(all)
    }

    /// The rollups of local days `from..=to` (with their visits when
    /// `visits`), when no database is merged and this computer's has them
    /// complete; `None`: count from the spans. Merged spans interleave with
    /// this computer's, so only the spans give the streaks and visits then.
    pub fn rollups(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        visits: bool,
    ) -> Result<Option<Vec<StoredDay>>> {
        if self.stores.len() != 1 {
            return Ok(None);
        }
        patiently(|| self.stores[0].rollups(from, to, visits))
            .map_err(|e| self.failed(0, "the days' totals", e))
    }

    /// Site labels by id, of this computer's database (for [`Sources::rollups`]).
    pub fn sites(&self) -> Result<Vec<(i64, String)>> {
        self.stores[0]
            .sites_by_id()
            .map_err(|e| self.failed(0, "sites", e))
    }

    /// Reminders due in `[from, to)` from every database that stores them.
    pub fn reminders(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<ReminderRecord>> {
        let mut all = Vec::new();
        for (i, s) in self.stores.iter().enumerate() {
            // A table it lacks (an older schema) has nothing; a read error says so below.
            if !s.has_table("reminders").unwrap_or(false) {
                continue;
            }
            all.extend(
                patiently(|| s.reminders(from, to)).map_err(|e| self.failed(i, "reminders", e))?,
            );
        }
        all.sort_by(|a, b| (a.at, &a.kind, &a.outcome).cmp(&(b.at, &b.kind, &b.outcome)));
        if self.stores.len() > 1 {
            // Copies without identity: the same reminder in two databases is one.
            all.dedup_by(|a, b| (a.at, &a.kind, &a.outcome) == (b.at, &b.kind, &b.outcome));
        }
        Ok(all)
    }

    /// The reflection note of `week`, from this computer first.
    pub fn note(&self, week: &str) -> Result<Option<String>> {
        for (i, s) in self.stores.iter().enumerate() {
            if !s.has_table("notes").unwrap_or(false) {
                continue;
            }
            if let Some(n) = s.note(week).map_err(|e| self.failed(i, "notes", e))? {
                return Ok(Some(n));
            }
        }
        Ok(None)
    }
}

//! Reading the databases: this computer's, read-only, plus any `--merge`d ones
//! from other computers. Spans come back merged and sorted by start.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use dwell_core::model::{ReminderRecord, Span};
use dwell_core::paths::DB_FILE;
use dwell_core::store::StoreError;
use dwell_core::Store;

use crate::cli::refused;

/// The databases a report reads.
#[derive(Debug)]
pub struct Sources {
    stores: Vec<Store>,
}

fn store_refusal(e: StoreError, what: &str) -> anyhow::Error {
    match e {
        StoreError::NotDwell { .. } | StoreError::NewerSchema { .. } => {
            refused(format!("{what}: {e}"))
        }
        StoreError::Io { ref source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            refused(format!("{what}: {e}"))
        }
        StoreError::Sqlite { .. } => refused(format!("{what}: {e}")),
        e => anyhow::Error::new(e).context(what.to_owned()),
    }
}

impl Sources {
    /// Opens `data_dir`'s database read-only and each of `merge`.
    pub fn open(data_dir: &Path, merge: &[PathBuf]) -> Result<Sources> {
        let db = data_dir.join(DB_FILE);
        if !db.is_file() {
            return Err(refused(format!(
                "no dwell data in {}: start recording with `dwell-agent enable`, or see an example with `dwell-report demo --weeks 8`",
                data_dir.display()
            )));
        }
        let main = Store::open_read_only(&db)
            .map_err(|e| store_refusal(e, "cannot read the dwell database"))?;
        let mut seen = vec![std::fs::canonicalize(&db).unwrap_or(db)];
        let mut stores = vec![main];
        for m in merge {
            let canon = std::fs::canonicalize(m).unwrap_or_else(|_| m.clone());
            if seen.contains(&canon) {
                return Err(refused(format!(
                    "--merge {}: this database is already in the report",
                    m.display()
                )));
            }
            seen.push(canon);
            let store = Store::open_read_only(m)
                .map_err(|e| store_refusal(e, &format!("--merge {}", m.display())))?;
            stores.push(store);
        }
        Ok(Sources { stores })
    }

    /// Spans overlapping `[from, to)` from every database, sorted by start.
    pub fn spans(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Span>> {
        let mut all = Vec::new();
        for s in &self.stores {
            all.extend(
                s.spans(from, to)
                    .with_context(|| format!("cannot read spans from {}", s.path().display()))?,
            );
        }
        if self.stores.len() > 1 {
            all.sort_by_key(|s| s.start);
        }
        Ok(all)
    }

    /// Reminders due in `[from, to)` from every database that stores them.
    pub fn reminders(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<ReminderRecord>> {
        let mut all = Vec::new();
        for s in &self.stores {
            if !has_table(s, "reminders") {
                continue;
            }
            all.extend(
                s.reminders(from, to).with_context(|| {
                    format!("cannot read reminders from {}", s.path().display())
                })?,
            );
        }
        all.sort_by_key(|r| r.at);
        Ok(all)
    }

    /// The reflection note of `week`, from this computer first.
    pub fn note(&self, week: &str) -> Result<Option<String>> {
        for s in &self.stores {
            if !has_table(s, "notes") {
                continue;
            }
            if let Some(n) = s
                .note(week)
                .with_context(|| format!("cannot read notes from {}", s.path().display()))?
            {
                return Ok(Some(n));
            }
        }
        Ok(None)
    }
}

fn has_table(store: &Store, name: &str) -> bool {
    store
        .conn()
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [name],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n > 0)
        .unwrap_or(false)
}

//! Deleting for good: forgets (a range, a site, everything) with their log
//! (see [`crate::forget`]), expiry, and compaction so deleted data leaves the
//! file.

use chrono::{DateTime, Utc};
use rusqlite::OptionalExtension;

use super::rollups::DirtyDays;
use super::{from_ms, ms, Store, StoreError, MAX_SPAN_MS};
use crate::forget::{self, ForgetEntry, Forgotten};

/// The meta key of the forget log (see [`crate::forget`]).
pub(super) const FORGET_LOG_KEY: &str = "forget_log";

impl Store {
    pub(super) fn forget_log(&self) -> Result<Vec<ForgetEntry>, StoreError> {
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

    pub(super) fn log_forget(&self, what: Forgotten, at: DateTime<Utc>) -> Result<(), StoreError> {
        let log = forget::append(self.forget_log()?, what, at);
        self.meta_set(FORGET_LOG_KEY, &forget::encode(&log))
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
                store.spans_deleted(&[(ms(lo), ms(before))])?;
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
                store.set_dirty(&DirtyDays::default())?;
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

    /// Deletes for good the spans that start in `[from, to)` and the reminders
    /// due then, drops labels left unused, and compacts. Returns the spans deleted.
    pub fn forget_range(
        &mut self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let n = self.in_tx(|store| {
            let reach: Option<i64> = store
                .conn
                .query_row(
                    "SELECT max(end) FROM spans WHERE start >= ?1 AND start < ?2",
                    [ms(from), ms(to)],
                    |r| r.get(0),
                )
                .map_err(store.s())?;
            let n = store
                .conn
                .execute(
                    "DELETE FROM spans WHERE start >= ?1 AND start < ?2",
                    [ms(from), ms(to)],
                )
                .map_err(store.s())?;
            if let Some(hi) = reach.filter(|_| n > 0) {
                store.spans_deleted(&[(ms(from), hi)])?;
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
            let deleted = store.spans_of_site(id)?;
            let n = store
                .conn
                .execute("DELETE FROM spans WHERE site = ?1", [id])
                .map_err(store.s())?;
            if n > 0 {
                store.spans_deleted(&deleted)?;
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

    /// The start and end (ms) of every span of site `id`.
    fn spans_of_site(&self, id: i64) -> Result<Vec<(i64, i64)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT start, end FROM spans WHERE site = ?1 ORDER BY start")
            .map_err(self.s())?;
        let rows = stmt
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(self.s())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.s())
    }
}

//! The per-day rollups (`day_rollups`, schema 4): a cache of the ledger's
//! figures of each local day, with its visits in a compact binary encoding
//! (`encoding`), kept up to date with the spans in the transaction that
//! changes them.
//!
//! The contract: for every day that is not stale, the row is what
//! [`crate::ledger::day_rollups`] makes of the spans, byte for byte. A write
//! at the end of the recorded time (the agent's: the span that just closed,
//! the open span's checkpoint) changes its day's row from the visit alone
//! (`append`), in time that does not grow with the day's visits. Anything else
//! rolls the days it touched up again from their spans. Whole rebuilds happen
//! only when a writer sets the time zone (a migration, another zone); a
//! forget or an expiry rolls up again only the days it changed, or marks them
//! stale (`dirty`) when it does not know the zone.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, TimeZone, Utc};
use rusqlite::params;

use super::{from_ms, ms, Store, StoreError, MAX_SPAN_MS};
use crate::ledger::{self, DayRollup};
use crate::model::Span;
use crate::schedule::{local_date, local_day_bounds};

mod append;
mod dirty;
mod encoding;

pub(super) use dirty::DirtyDays;
use encoding::decode_visits as decode;

/// The meta key saying the rollups are complete (value [`ROLLUPS_COMPLETE`]),
/// or complete but for the stale days of [`DIRTY_KEY`] ([`ROLLUPS_DIRTY`]).
/// Any other value, or none: incomplete (older dwells see the same).
pub(super) const ROLLUPS_KEY: &str = "rollups";
pub(super) const ROLLUPS_COMPLETE: &str = "1";
const ROLLUPS_DIRTY: &str = "dirty";
/// The meta key of the stale days ([`DirtyDays`]).
pub(super) const DIRTY_KEY: &str = "rollups_dirty";

/// How far the rollups can be trusted.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Rollups {
    /// Not kept, or not for every span: count from the spans.
    Incomplete,
    /// Every day but these is as the spans say (none: all of them).
    Kept(DirtyDays),
}

/// Local days rolled up per query when every rollup is rebuilt.
pub(super) const REBUILD_DAYS: i64 = 28;

/// The local time zone of the rollups, as [`Store::keep_rollups`] takes it.
pub(super) trait RollupZone: Send {
    fn date(&self, at: DateTime<Utc>) -> NaiveDate;
    fn bounds(&self, date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>);
    fn rollups<'a>(&self, spans: &'a [Span]) -> Vec<DayRollup<'a>>;
    fn pieces<'a>(&self, spans: &'a [Span]) -> Vec<ledger::Piece<'a>>;
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

    fn pieces<'a>(&self, spans: &'a [Span]) -> Vec<ledger::Piece<'a>> {
        ledger::pieces(spans, self)
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

pub(super) fn day_number(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce())
}

fn date_of(day: i64) -> Option<NaiveDate> {
    i32::try_from(day)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
}

impl Store {
    /// Keeps the per-day rollups in `tz` (the local time zone of the figures)
    /// from now on: every write of this connection updates them in its own
    /// transaction. When they are incomplete, or were made in another time
    /// zone, they are rebuilt from the spans now, in one transaction; stale
    /// days are rolled up again. An error (a read-only disk, say) leaves them
    /// as they are: a report then counts from the spans, and the next start
    /// tries again.
    pub fn keep_rollups<Tz: TimeZone + Send + 'static>(
        &mut self,
        tz: Tz,
    ) -> Result<(), StoreError> {
        self.rollup_zone = Some(Box::new(tz));
        match self.rollups_state()? {
            Rollups::Kept(dirty) if self.rollup_zone_matches()? => {
                if dirty.is_empty() {
                    return Ok(());
                }
                self.in_tx(|store| Ok((store.clean_days(dirty, usize::MAX)?, true)))
            }
            _ => self.in_tx(|store| Ok((store.rebuild_rollups()?, true))),
        }
    }

    /// How far the rollups can be trusted (`meta.rollups`, `meta.rollups_dirty`).
    pub(super) fn rollups_state(&self) -> Result<Rollups, StoreError> {
        if !self.has_rollup_table()? {
            return Ok(Rollups::Incomplete);
        }
        Ok(match self.meta_get(ROLLUPS_KEY)?.as_deref() {
            Some(ROLLUPS_COMPLETE) => Rollups::Kept(DirtyDays::default()),
            Some(ROLLUPS_DIRTY) => {
                match self.meta_get(DIRTY_KEY)?.as_deref().map(DirtyDays::decode) {
                    Some(Some(days)) => Rollups::Kept(days),
                    _ => Rollups::Incomplete,
                }
            }
            _ => Rollups::Incomplete,
        })
    }

    /// Records which days are stale (none: the rollups are complete).
    pub(super) fn set_dirty(&self, days: &DirtyDays) -> Result<(), StoreError> {
        if days.is_empty() {
            self.meta_delete(DIRTY_KEY)?;
            self.meta_set(ROLLUPS_KEY, ROLLUPS_COMPLETE)
        } else {
            self.meta_set(DIRTY_KEY, &days.encode())?;
            self.meta_set(ROLLUPS_KEY, ROLLUPS_DIRTY)
        }
    }

    pub(super) fn has_rollup_table(&self) -> Result<bool, StoreError> {
        self.has_table("day_rollups")
    }

    /// Whether every rolled-up day has the bounds it has in the kept zone.
    pub(super) fn rollup_zone_matches(&self) -> Result<bool, StoreError> {
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
            match date_of(day).map(|d| zone.bounds(d)) {
                Some((a, b)) if (ms(a), ms(b)) == bounds => {}
                _ => return Ok(false),
            }
        }
        Ok(true)
    }

    /// Marks the rollups incomplete: readers count from the spans until a
    /// writer that knows the time zone rebuilds them.
    pub(super) fn invalidate_rollups(&self) -> Result<(), StoreError> {
        if self.meta_get(ROLLUPS_KEY)?.is_some() {
            self.meta_delete(ROLLUPS_KEY)?;
        }
        if self.meta_get(DIRTY_KEY)?.is_some() {
            self.meta_delete(DIRTY_KEY)?;
        }
        Ok(())
    }

    /// Rebuilds every rollup from the spans (inside a transaction).
    pub(super) fn rebuild_rollups(&self) -> Result<(), StoreError> {
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
        self.set_dirty(&DirtyDays::default())
    }

    /// Rolls up local days `from..=to` again from the spans (inside a transaction).
    pub(super) fn refresh_rollups(&self, from: NaiveDate, to: NaiveDate) -> Result<(), StoreError> {
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
                    encoding::encode_visits(ms(r.start), &visits)
                ])
                .map_err(self.s())?;
        }
        Ok(())
    }

    /// Keeps the rollups right after the spans of `[lo, hi)` changed in a
    /// way [`Store::append_to_rollups`] does not cover, in the same
    /// transaction: the local days of `[lo, hi)` are rolled up again (and no
    /// longer stale). Without a time zone, the rollups become incomplete.
    pub(super) fn rollups_changed(
        &self,
        lo: DateTime<Utc>,
        hi: DateTime<Utc>,
        dirty: &mut DirtyDays,
    ) -> Result<(), StoreError> {
        let Some(zone) = &self.rollup_zone else {
            return self.invalidate_rollups();
        };
        let last = hi - TimeDelta::milliseconds(1);
        let (from, to) = (zone.date(lo), zone.date(last.max(lo)));
        self.refresh_rollups(from, to)?;
        dirty.remove(day_number(from), day_number(to));
        Ok(())
    }

    /// After spans were deleted (a forget, an expiry): the days rolled up with
    /// any of `deleted` (start and end, ms) are stale. A writer that knows
    /// the time zone rolls them up again now; one that does not marks them
    /// ([`DirtyDays`]). Nothing to do while the rollups are incomplete.
    pub(super) fn spans_deleted(&self, deleted: &[(i64, i64)]) -> Result<(), StoreError> {
        let Rollups::Kept(mut dirty) = self.rollups_state()? else {
            return Ok(());
        };
        // Every local day a span touched has a row, with its bounds.
        let mut stmt = self
            .conn
            .prepare("SELECT day, start, end FROM day_rollups ORDER BY day")
            .map_err(self.s())?;
        let days = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(self.s())?
            .collect::<Result<Vec<(i64, i64, i64)>, _>>()
            .map_err(self.s())?;
        for &(start, end) in deleted {
            let first = days.partition_point(|&(_, _, day_end)| day_end <= start);
            for &(day, _, _) in days[first..].iter().take_while(|d| d.1 < end) {
                dirty.add(day, day);
            }
        }
        if self.rollup_zone.is_some() {
            self.clean_days(dirty, usize::MAX)
        } else {
            self.set_dirty(&dirty)
        }
    }

    /// Rolls up again the latest `most` stale days of `dirty` from the spans
    /// (inside a transaction), and records what is left stale.
    pub(super) fn clean_days(&self, mut dirty: DirtyDays, most: usize) -> Result<(), StoreError> {
        if self.rollup_zone.is_none() {
            return self.set_dirty(&dirty);
        }
        let mut left = most;
        while left > 0 {
            let Some(&(a, b)) = dirty.ranges().last() else {
                break;
            };
            let n = usize::try_from(b - a + 1)
                .unwrap_or(usize::MAX)
                .min(left)
                .min(REBUILD_DAYS as usize);
            let from = b - n as i64 + 1;
            match (date_of(from), date_of(b)) {
                (Some(x), Some(y)) => self.refresh_rollups(x, y)?,
                _ => return self.invalidate_rollups(),
            }
            dirty.remove(from, b);
            left -= n;
        }
        self.set_dirty(&dirty)
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
        let Rollups::Kept(dirty) = self.rollups_state()? else {
            return Ok(None);
        };
        if dirty.any_in(day_number(from), day_number(to)) {
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
            let Some(date) = date_of(day) else {
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
                if decode(start, bytes, &mut d.visits).is_none() {
                    return Ok(None);
                }
            }
            out.push(d);
        }
        Ok(Some(out))
    }
}

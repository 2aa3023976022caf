//! The per-day rollups (`day_rollups`, schema 4): a cache of the ledger's
//! figures of each local day, with its visits in a compact binary encoding,
//! kept up to date with the spans in the transaction that changes them.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, TimeZone, Utc};
use rusqlite::params;

use super::{from_ms, ms, Store, StoreError, MAX_SPAN_MS};
use crate::ledger::{self, DayRollup};
use crate::model::Span;
use crate::schedule::{local_date, local_day_bounds};

/// The meta key saying the rollups are complete (value [`ROLLUPS_COMPLETE`]).
pub(super) const ROLLUPS_KEY: &str = "rollups";
pub(super) const ROLLUPS_COMPLETE: &str = "1";

/// Local days rolled up per query when every rollup is rebuilt.
pub(super) const REBUILD_DAYS: i64 = 28;

/// The local time zone of the rollups, as [`Store::keep_rollups`] takes it.
pub(super) trait RollupZone: Send {
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

pub(super) fn day_number(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce())
}

pub(super) fn put_varint(out: &mut Vec<u8>, v: i64) {
    // Zigzag, then 7 bits a byte.
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

pub(super) fn get_varint(bytes: &[u8], at: &mut usize) -> Option<i64> {
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
pub(super) fn encode_visits(day_start: i64, visits: &[(i64, i64, i64)]) -> Vec<u8> {
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

pub(super) fn decode_visits(
    day_start: i64,
    bytes: &[u8],
    out: &mut Vec<StoredVisit>,
) -> Option<()> {
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

impl Store {
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
    pub(super) fn rollups_complete(&self) -> Result<bool, StoreError> {
        if !self.has_rollup_table()? {
            return Ok(false);
        }
        Ok(self.meta_get(ROLLUPS_KEY)?.as_deref() == Some(ROLLUPS_COMPLETE))
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
    pub(super) fn invalidate_rollups(&self) -> Result<(), StoreError> {
        if self.meta_get(ROLLUPS_KEY)?.is_some() {
            self.meta_delete(ROLLUPS_KEY)?;
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
        self.meta_set(ROLLUPS_KEY, ROLLUPS_COMPLETE)
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
                    encode_visits(ms(r.start), &visits)
                ])
                .map_err(self.s())?;
        }
        Ok(())
    }

    /// Keeps the rollups right after the spans of `[lo, hi)` changed, in the
    /// same transaction.
    pub(super) fn rollups_changed(
        &self,
        lo: DateTime<Utc>,
        hi: DateTime<Utc>,
    ) -> Result<(), StoreError> {
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
}

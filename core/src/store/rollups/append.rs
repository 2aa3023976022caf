//! A span written at the end of the recorded time, as the agent writes them
//! (the span that just closed, the open span's checkpoint growing), changes
//! the rollups of its days by itself: its time is added to the day's totals,
//! and its visit is added after the day's last visit, or makes that visit
//! longer ([`super::encoding::append_visit`]). The day's other spans are not
//! read, so a write costs the same at the 1,000th switch of a day as at the
//! 10th.
//!
//! This holds only when nothing recorded comes after the span and nothing
//! earlier reaches into it: then the day's pieces come in time order, and the
//! span's are the last ones, as [`crate::ledger::day_rollups`] would see
//! them. In every other case [`Store::append_to_rollups`] says so and the
//! caller rolls the days up again from their spans.

use rusqlite::{params, OptionalExtension};

use super::{day_number, encoding, DirtyDays};
use crate::model::Span;
use crate::store::{ms, Store, StoreError};

/// A stored row of `day_rollups`.
struct DayRow {
    day: i64,
    start: i64,
    end: i64,
    social: i64,
    other: i64,
    exact: bool,
    visits: Vec<u8>,
}

impl Store {
    /// Adds `span` (of site id `site`, `None`: other time) to the rollups
    /// before it is written, when it comes at the end of the recorded time
    /// (see the module doc); `false`, changing nothing, otherwise.
    pub(in crate::store) fn append_to_rollups(
        &self,
        span: &Span,
        site: Option<i64>,
        dirty: &DirtyDays,
    ) -> Result<bool, StoreError> {
        let Some(zone) = &self.rollup_zone else {
            return Ok(false);
        };
        let Some(from) = self.new_time_of(span, site)? else {
            return Ok(false);
        };
        let end = ms(span.end);
        if from >= end {
            return Ok(true);
        }
        // The span before: it must end by `from`, on a day without overlaps.
        let before: Option<(i64, i64)> = self
            .conn
            .prepare_cached(
                "SELECT start, end FROM spans WHERE start < ?1 ORDER BY start DESC LIMIT 1",
            )
            .and_then(|mut stmt| {
                stmt.query_row([from], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(self.s())?;
        if let Some((start, stop)) = before {
            let day = day_number(zone.date(super::from_ms(start)));
            let exact = !dirty.contains(day) && self.day_row(day)?.is_some_and(|r| r.exact);
            if stop > from || !exact {
                return Ok(false);
            }
        }
        let added = [Span {
            start: super::from_ms(from),
            ..span.clone()
        }];
        let mut rows = Vec::new();
        for piece in zone.pieces(&added) {
            let day = day_number(piece.date);
            let (lo, hi) = zone.bounds(piece.date);
            let row = match self.day_row(day)? {
                _ if dirty.contains(day) => return Ok(false),
                Some(r) if !r.exact || (r.start, r.end) != (ms(lo), ms(hi)) => return Ok(false),
                Some(r) => r,
                None => DayRow {
                    day,
                    start: ms(lo),
                    end: ms(hi),
                    social: 0,
                    other: 0,
                    exact: true,
                    visits: Vec::new(),
                },
            };
            rows.push((row, ms(piece.start), ms(piece.end)));
        }
        for (mut row, a, b) in rows {
            match site {
                Some(id) => {
                    row.social += b - a;
                    if encoding::append_visit(row.start, &mut row.visits, id, a, b).is_none() {
                        return Ok(false);
                    }
                }
                None => row.other += b - a,
            }
            self.put_day_row(&row)?;
        }
        Ok(true)
    }

    /// Where `span` starts adding time to what is stored: its start when
    /// nothing is stored from there on, the stored end when it replaces the
    /// last span (same start, site and source: a checkpoint) and reaches at least as
    /// far. `None` in any other case.
    fn new_time_of(&self, span: &Span, site: Option<i64>) -> Result<Option<i64>, StoreError> {
        let start = ms(span.start);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT start, end, site, source FROM spans WHERE start >= ?1 ORDER BY start LIMIT 2",
            )
            .map_err(self.s())?;
        let later = stmt
            .query_map([start], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .map_err(self.s())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.s())?;
        let source = span.source.code();
        Ok(match later[..] {
            [] => Some(start),
            [(s, e, id, src)]
                if s == start && id == site && src == source && e <= ms(span.end) && e > s =>
            {
                Some(e)
            }
            _ => None,
        })
    }

    fn day_row(&self, day: i64) -> Result<Option<DayRow>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT start, end, social, other, exact, visits FROM day_rollups WHERE day = ?1",
            )
            .and_then(|mut stmt| {
                stmt.query_row([day], |r| {
                    Ok(DayRow {
                        day,
                        start: r.get(0)?,
                        end: r.get(1)?,
                        social: r.get(2)?,
                        other: r.get(3)?,
                        exact: r.get(4)?,
                        visits: r.get(5)?,
                    })
                })
                .optional()
            })
            .map_err(self.s())
    }

    fn put_day_row(&self, r: &DayRow) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO day_rollups (day, start, end, social, other, exact, visits)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    r.day, r.start, r.end, r.social, r.other, r.exact, r.visits
                ])
            })
            .map(drop)
            .map_err(self.s())
    }
}

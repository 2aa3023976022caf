//! Spans and site labels: guarded writes (one transaction with the check of
//! the forget log), checkpoints replacing a span by its start, site and
//! source, range queries.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::error::sql;
use super::rollups::{DirtyDays, Rollups};
use super::{from_ms, ms, Store, StoreError, LONGEST_DAY_MS, MAX_SPAN_MS};
use crate::forget::{self, ForgetEntry};
use crate::model::{Activity, Source, Span};

/// Writes of at most this many spans keep the rollups span by span (the
/// agent's write of a switch is two); longer ones (a demo, an import) roll
/// the days they touched up again in one pass.
const APPEND_AT_MOST: usize = 16;

/// What a write of spans changes, for the rollups.
pub(super) enum Touched {
    Nothing,
    /// The spans of `[from, to)`.
    Range(DateTime<Utc>, DateTime<Utc>),
    /// A span too long for the rollups' queries of a day.
    TooLong,
}

/// What a write deletes first.
#[derive(Clone, Copy)]
pub(super) enum Retract<'a> {
    /// The rows that start in `[from, to)`.
    Range(DateTime<Utc>, DateTime<Utc>),
    /// These rows, each found by its start, site and source.
    Rows(&'a [Span]),
}

impl Retract<'_> {
    /// From the earliest start to the latest end it may delete.
    fn bounds(self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        match self {
            Retract::Range(from, to) => Some((from, to)),
            Retract::Rows(rows) => Some((
                rows.iter().map(|r| r.start).min()?,
                rows.iter().map(|r| r.end.max(r.start)).max()?,
            )),
        }
    }
}

/// What became of a guarded write ([`Store::put_spans_guarded`]).
#[derive(Debug, PartialEq, Eq)]
pub enum Put {
    Written,
    /// Nothing was written: these forgets happened since the writer last
    /// looked. It must drop what they removed and write again.
    Forgotten(Vec<ForgetEntry>),
}

impl Store {
    pub(super) fn site_id(&mut self, label: &str) -> Result<i64, StoreError> {
        if let Some(id) = self.site_ids.get(label) {
            return Ok(*id);
        }
        self.writable()?;
        self.conn
            .execute("INSERT OR IGNORE INTO sites (label) VALUES (?1)", [label])
            .map_err(self.s())?;
        let id: i64 = self
            .conn
            .query_row("SELECT id FROM sites WHERE label = ?1", [label], |r| {
                r.get(0)
            })
            .map_err(self.s())?;
        self.site_ids.insert(label.to_owned(), id);
        Ok(id)
    }

    /// Every site label by its id.
    pub fn sites_by_id(&self) -> Result<Vec<(i64, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, label FROM sites")
            .map_err(self.s())?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(self.s())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.s())
    }

    /// Inserts spans, replacing any stored span with the same start, site and
    /// source (that is how the open span is checkpointed: same start, another
    /// end); a span that differs in site or source is another row, even when
    /// it starts in the same millisecond. One transaction.
    /// If another process deleted a label this one had cached (`forget`), the
    /// write is retried once with a fresh cache.
    pub fn put_spans(&mut self, spans: &[Span]) -> Result<(), StoreError> {
        self.put_spans_retried(None, spans, None).map(|_| ())
    }

    /// Like [`Store::put_spans`], but writes nothing if a forget was logged
    /// after entry `seen`: those entries come back instead. The check and the
    /// write are one transaction, so no forget can slip in between.
    pub fn put_spans_guarded(&mut self, seen: u64, spans: &[Span]) -> Result<Put, StoreError> {
        self.put_spans_retried(Some(seen), spans, None)
    }

    /// [`Store::put_spans_guarded`], first deleting the rows that start in
    /// `retract` (`[from, to)`): what an earlier write of an open span put there
    /// (its pieces after midnight, say) before the span was cut back.
    pub fn put_spans_retracting(
        &mut self,
        seen: u64,
        spans: &[Span],
        retract: Option<(DateTime<Utc>, DateTime<Utc>)>,
    ) -> Result<Put, StoreError> {
        let retract = retract.map(|(from, to)| Retract::Range(from, to));
        self.put_spans_retried(Some(seen), spans, retract)
    }

    /// [`Store::put_spans_guarded`], first deleting the stored rows of
    /// `retract`, each found by its start, site and source (the store's key of
    /// a span): what an earlier write of the open span put there, its pieces
    /// past its new end, or all of them when it ended with nothing left. Never
    /// another span, even one recorded at the same time before the clock was
    /// set back.
    pub fn put_spans_replacing(
        &mut self,
        seen: u64,
        spans: &[Span],
        retract: &[Span],
    ) -> Result<Put, StoreError> {
        let retract = (!retract.is_empty()).then_some(Retract::Rows(retract));
        self.put_spans_retried(Some(seen), spans, retract)
    }

    pub(super) fn put_spans_retried(
        &mut self,
        seen: Option<u64>,
        spans: &[Span],
        retract: Option<Retract<'_>>,
    ) -> Result<Put, StoreError> {
        match self.put_spans_once(seen, spans, retract) {
            Err(StoreError::Sqlite {
                source: rusqlite::Error::SqliteFailure(f, _),
                ..
            }) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                // The failed transaction already dropped the cache.
                self.put_spans_once(seen, spans, retract)
            }
            other => other,
        }
    }

    pub(super) fn put_spans_once(
        &mut self,
        seen: Option<u64>,
        spans: &[Span],
        retract: Option<Retract<'_>>,
    ) -> Result<Put, StoreError> {
        if retract.is_none() && spans.iter().all(|s| s.end <= s.start) {
            return Ok(Put::Written);
        }
        self.in_tx(|store| {
            if let Some(seen) = seen {
                let newer = forget::since(&store.forget_log()?, seen);
                if !newer.is_empty() {
                    return Ok((Put::Forgotten(newer), false));
                }
            }
            store.write_spans(spans, retract)?;
            Ok((Put::Written, true))
        })
    }

    /// Writes `spans` after deleting the rows that start in `retract`, and
    /// keeps the rollups (inside a transaction): span by span when the write
    /// is short and comes at the end of the recorded time, as the agent's do;
    /// otherwise the days it touched are rolled up again. While some days are
    /// stale, one more of them is rolled up again.
    fn write_spans(
        &mut self,
        spans: &[Span],
        retract: Option<Retract<'_>>,
    ) -> Result<(), StoreError> {
        let written: Vec<&Span> = spans.iter().filter(|s| s.end > s.start).collect();
        let state = self.rollups_state()?;
        let kept = matches!(state, Rollups::Kept(_)) && self.rollup_zone.is_some();
        let mut dirty = match state {
            Rollups::Kept(dirty) => dirty,
            Rollups::Incomplete => DirtyDays::default(),
        };
        let stale = dirty.clone();
        let one_by_one = kept
            && retract.is_none()
            && written.len() <= APPEND_AT_MOST
            && written
                .iter()
                .all(|s| ms(s.end) - ms(s.start) <= MAX_SPAN_MS);
        if !one_by_one {
            let touched = self.touched_by(spans, retract.and_then(Retract::bounds))?;
            match retract {
                Some(Retract::Range(from, to)) => self
                    .conn
                    .prepare_cached("DELETE FROM spans WHERE start >= ?1 AND start < ?2")
                    .and_then(|mut stmt| stmt.execute(params![ms(from), ms(to)]))
                    .map(drop)
                    .map_err(|e| sql(&self.path, e))?,
                Some(Retract::Rows(rows)) => self.delete_rows(rows)?,
                None => {}
            }
            for span in &written {
                let site = self.site_of(span)?;
                self.insert_span(span, site)?;
            }
            self.keep_after(touched, kept, &mut dirty)?;
        } else {
            for span in &written {
                let site = self.site_of(span)?;
                if self.append_to_rollups(span, site, &dirty)? {
                    self.insert_span(span, site)?;
                    continue;
                }
                let touched = self.touched_by(std::slice::from_ref(*span), None)?;
                self.insert_span(span, site)?;
                self.keep_after(touched, kept, &mut dirty)?;
            }
        }
        if kept && !stale.is_empty() {
            // One stale day a write, unless this write rolled one up already.
            let more = if dirty == stale { 1 } else { 0 };
            self.clean_days(dirty, more)?;
        }
        Ok(())
    }

    /// Deletes the stored rows of `rows`, each found by its start, site and
    /// source.
    fn delete_rows(&self, rows: &[Span]) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "DELETE FROM spans WHERE start = ?1 AND source = ?3
                 AND ((?2 IS NULL AND site IS NULL) OR site = (SELECT id FROM sites WHERE label = ?2))",
            )
            .map_err(self.s())?;
        for r in rows {
            stmt.execute(params![ms(r.start), r.activity.site(), r.source.code()])
                .map_err(|e| sql(&self.path, e))?;
        }
        Ok(())
    }

    /// The id of the site of `span`, `None` for other time.
    fn site_of(&mut self, span: &Span) -> Result<Option<i64>, StoreError> {
        match &span.activity {
            Activity::Social(label) => self.site_id(label).map(Some),
            Activity::Other => Ok(None),
        }
    }

    fn insert_span(&self, span: &Span, site: Option<i64>) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(&format!(
                "INSERT OR REPLACE INTO spans (start, end, site, source, n) VALUES (?1, ?2, ?3, ?4, {SPAN_N})"
            ))
            .and_then(|mut stmt| {
                stmt.execute(params![
                    ms(span.start),
                    ms(span.end),
                    site,
                    span.source.code()
                ])
            })
            .map(drop)
            .map_err(self.s())
    }

    /// Keeps the rollups after a write that touched `touched`. `kept`: they
    /// are kept, in a known zone; days rolled up again leave `dirty`.
    fn keep_after(
        &self,
        touched: Touched,
        kept: bool,
        dirty: &mut DirtyDays,
    ) -> Result<(), StoreError> {
        match touched {
            Touched::Nothing => Ok(()),
            Touched::TooLong => self.invalidate_rollups(),
            Touched::Range(lo, hi) if kept => self.rollups_changed(lo, hi, dirty),
            // Incomplete: the next writer to set the zone rebuilds them.
            Touched::Range(..) if self.rollup_zone.is_some() => Ok(()),
            Touched::Range(..) => self.invalidate_rollups(),
        }
    }

    /// What a write of `spans` (and a retraction) changes: from the earliest
    /// start to the latest end, stored rows it replaces or deletes included.
    pub(super) fn touched_by(
        &self,
        spans: &[Span],
        retract: Option<(DateTime<Utc>, DateTime<Utc>)>,
    ) -> Result<Touched, StoreError> {
        let written = || spans.iter().filter(|s| s.end > s.start);
        if written().any(|s| ms(s.end) - ms(s.start) > MAX_SPAN_MS) {
            return Ok(Touched::TooLong);
        }
        let starts = written()
            .map(|s| s.start)
            .chain(retract.into_iter().flat_map(|(a, b)| [a, b]));
        let (Some(lo), Some(last_start)) = (starts.clone().min(), starts.max()) else {
            return Ok(Touched::Nothing);
        };
        let old_end: Option<i64> = self
            .conn
            .prepare_cached("SELECT max(end) FROM spans WHERE start >= ?1 AND start <= ?2")
            .and_then(|mut stmt| stmt.query_row([ms(lo), ms(last_start)], |r| r.get(0)))
            .map_err(self.s())?;
        let hi = written()
            .map(|s| s.end)
            .chain(old_end.map(from_ms))
            .chain([last_start])
            .max()
            .unwrap_or(last_start);
        Ok(Touched::Range(lo, hi))
    }

    /// Forgets the label ids this connection has cached (after another
    /// process deleted some).
    pub fn clear_site_cache(&mut self) {
        self.site_ids.clear();
    }

    /// The id this connection knows for site `label`, if it wrote it.
    pub fn cached_site_id(&self, label: &str) -> Option<i64> {
        self.site_ids.get(label).copied()
    }

    /// Spans that overlap `[from, to)`, in order, unclipped.
    pub fn spans(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Span>, StoreError> {
        self.spans_where(from, to, "1")
    }

    /// Like [`Store::spans`], but only the spans that make sense: they end
    /// after they start, last at most a day ([`LONGEST_DAY_MS`]), and their
    /// site is in the file. For databases from elsewhere (`--merge`).
    pub fn valid_spans(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Span>, StoreError> {
        self.spans_where(from, to, &valid_span())
    }

    /// How many spans do not make sense (see [`Store::valid_spans`]).
    pub fn invalid_spans(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row(
                &format!(
                    "SELECT count(*) FROM spans s LEFT JOIN sites t ON t.id = s.site
                     WHERE NOT coalesce({}, 0)",
                    valid_span()
                ),
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n.unsigned_abs())
            .map_err(self.s())
    }

    pub(super) fn spans_where(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        condition: &str,
    ) -> Result<Vec<Span>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT s.start, s.end, t.label, s.source FROM spans s
                 LEFT JOIN sites t ON t.id = s.site
                 WHERE s.start >= ?1 AND s.start < ?2 AND s.end > ?3 AND ({condition})
                 ORDER BY s.start"
            ))
            .map_err(self.s())?;
        let rows = stmt
            .query_map(params![ms(from) - MAX_SPAN_MS, ms(to), ms(from)], |r| {
                let label: Option<String> = r.get(2)?;
                Ok(Span {
                    start: from_ms(r.get(0)?),
                    end: from_ms(r.get(1)?),
                    activity: label.map(Activity::Social).unwrap_or(Activity::Other),
                    source: Source::from_code(r.get(3)?).unwrap_or(Source::X11),
                })
            })
            .map_err(self.s())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.s())
    }

    /// Whether anything but demo data has been recorded.
    pub fn has_recorded_data(&self) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM spans WHERE source != ?1)",
                [Source::Demo.code()],
                |r| r.get(0),
            )
            .map_err(self.s())
    }

    /// Every site label in the database, sorted.
    pub fn site_labels(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT label FROM sites ORDER BY label")
            .map_err(self.s())?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(self.s())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.s())
    }

    /// Deletes site labels no span refers to any more; returns how many went.
    pub fn delete_unused_sites(&mut self) -> Result<usize, StoreError> {
        self.writable()?;
        let n = self
            .conn
            .execute(
                "DELETE FROM sites WHERE id NOT IN (SELECT site FROM spans WHERE site IS NOT NULL)",
                [],
            )
            .map_err(self.s())?;
        if n > 0 {
            self.site_ids.clear();
        }
        Ok(n)
    }
}

/// The `n` of a span row written with start `?1`, site `?3` and source `?4`:
/// that of the stored row with all three (it is replaced: a checkpoint), or
/// the next one free at that start (0 when there is none).
const SPAN_N: &str = "coalesce(
    (SELECT n FROM spans WHERE start = ?1 AND site IS ?3 AND source = ?4),
    (SELECT max(n) + 1 FROM spans WHERE start = ?1),
    0)";

/// The SQL condition a span row (`s`, joined with its site `t`) must meet to
/// make sense.
pub(super) fn valid_span() -> String {
    format!(
        "typeof(s.end) = 'integer' AND s.end > s.start AND s.end - s.start <= {LONGEST_DAY_MS}
         AND typeof(s.source) = 'integer' AND (s.site IS NULL OR typeof(t.label) = 'text')"
    )
}

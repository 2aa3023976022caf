//! The span writer: closed spans waiting to be written, the open span's
//! checkpoint, clipping to recording hours, writes that fail and are tried
//! again, the open span's pieces retracted when it is cut back, and forgets
//! made by another process reconciled before anything is written back.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use dwell_core::forget::ForgetEntry;
use dwell_core::schedule::Schedule;
use dwell_core::store::{Put, StoreError};
use dwell_core::tracker::Tracker;
use dwell_core::{Span, Store};

use crate::clock::Clock;
use crate::remind::Reminding;

/// The most a crash or `kill -9` may lose (README, "Reliability").
pub const MAX_LOSS: Duration = Duration::from_secs(10);
/// Time allowed for a checkpoint's wake-up and its commit (a few ms on a
/// desktop; a kill in that window loses the whole period plus that time).
pub(super) const WRITE_SLACK: Duration = Duration::from_secs(1);
/// How often the open span is written out: early enough that what is
/// committed is never more than [`MAX_LOSS`] old, wake-up and commit included.
pub const CHECKPOINT_EVERY: Duration =
    Duration::from_secs(MAX_LOSS.as_secs() - WRITE_SLACK.as_secs());

/// The writer's own state.
#[derive(Default)]
pub(super) struct Writer {
    /// Spans closed but not yet written (kept when a write fails).
    pub(super) pending: Vec<Span>,
    /// The open span's start, and its pieces (clipped to recording hours,
    /// split at midnight) as last written: those it no longer has when it is
    /// cut back, or all of them when it ends with nothing left, are deleted,
    /// each by its key (start, site, source), never by time alone.
    open_written: Option<(DateTime<Utc>, Vec<Span>)>,
    /// The latest forget this loop has applied (see `dwell_core::forget`).
    pub(super) forget_seq: u64,
    /// Writing fails (said once until it works again).
    failed: bool,
    /// See [`super::About::health`].
    pub(super) health: Option<crate::lock::HealthNote>,
}

impl Writer {
    /// A writer that has applied the forgets up to `forget_seq` and notes
    /// failing writes in `health`.
    pub(super) fn new(forget_seq: u64, health: Option<crate::lock::HealthNote>) -> Writer {
        Writer {
            forget_seq,
            health,
            ..Writer::default()
        }
    }

    /// The pieces to delete before `pieces` (of `spans`) are written: those
    /// of the open span as written before that this write does not write
    /// again. Idleness cut it back (its pieces after midnight go), or it
    /// ended with nothing left (all go). Nothing while it is still open and
    /// not in this write. `open` is where the open span starts now.
    fn retraction(
        &self,
        spans: &[Span],
        pieces: &[Span],
        open: Option<DateTime<Utc>>,
    ) -> Vec<Span> {
        let Some((start, written)) = &self.open_written else {
            return Vec::new();
        };
        if Some(*start) == open && !spans.iter().any(|s| s.start == *start) {
            return Vec::new();
        }
        let key = |s: &Span| (s.start, s.activity.clone(), s.source);
        written
            .iter()
            .filter(|w| !pieces.iter().any(|p| key(p) == key(w)))
            .cloned()
            .collect()
    }

    /// `spans` were written; `open` is where the open span starts now.
    fn written<Tz: TimeZone>(
        &mut self,
        spans: &[Span],
        open: Option<DateTime<Utc>>,
        schedule: &Schedule,
        tz: &Tz,
    ) {
        self.open_written = match spans.iter().rfind(|s| Some(s.start) == open) {
            Some(s) => Some((s.start, clip(schedule, std::slice::from_ref(s), tz))),
            None => self
                .open_written
                .take()
                .filter(|(start, _)| Some(*start) == open),
        };
        if self.failed {
            tracing::info!("writing to the database works again");
            self.failed = false;
            if let Some(h) = &self.health {
                h.writes_failing(None);
            }
        }
    }

    /// A write failed at `now` (said once until one works again).
    fn failing(&mut self, e: &StoreError, now: DateTime<Utc>) {
        if !self.failed {
            tracing::error!(
                "cannot write to the database ({}); what is seen stays in memory and dwell tries again by itself",
                while_running(e)
            );
            self.failed = true;
            if let Some(h) = &self.health {
                h.writes_failing(Some(now));
            }
        }
    }

    /// Keeps the closed spans among `spans` for the next write (the open one,
    /// starting at `open`, is rewritten from the tracker anyway).
    fn keep_closed(&mut self, spans: Vec<Span>, open: Option<DateTime<Utc>>) {
        self.pending
            .extend(spans.into_iter().filter(|s| Some(s.start) != open));
    }
}

/// A write error as the running agent says it: it retries by itself, so the
/// advice is what to fix, never "start dwell again".
fn while_running(e: &StoreError) -> String {
    match e {
        StoreError::DiskFull { path } => {
            format!(
                "the disk holding {} is full: free some space",
                path.display()
            )
        }
        StoreError::ReadOnly { path } => format!(
            "{} is on a read-only disk: make it writable",
            path.display()
        ),
        StoreError::PermissionDenied { path } => format!(
            "{} cannot be written by you: make it yours and writable (chown, chmod u+rw)",
            path.display()
        ),
        other => other.to_string(),
    }
}

/// What the writer works with besides the store: the open span (the
/// tracker), the counts towards the limits (the reminders), the recording
/// hours and the clock.
pub(super) struct Around<'a, C: Clock, Tz: TimeZone> {
    pub(super) tracker: &'a mut Tracker,
    pub(super) remind: &'a mut Reminding,
    pub(super) schedule: &'a Schedule,
    pub(super) tz: &'a Tz,
    pub(super) clock: &'a C,
}

impl Writer {
    /// Clips to recording hours, splits at local midnight, writes. On failure the
    /// closed spans are kept for the next try; the open one is rewritten anyway.
    /// If the employee forgot something since the last write, what it removed
    /// is dropped from memory first, so it is never written back. Only a
    /// damaged store is an error (the loop stops).
    pub(super) fn write<C: Clock, Tz: TimeZone>(
        &mut self,
        store: &mut Store,
        mut spans: Vec<Span>,
        around: &mut Around<'_, C, Tz>,
    ) -> Result<(), StoreError> {
        // A second forget between two tries is rare; a third one waits for the
        // next checkpoint.
        for _ in 0..3 {
            let open = around.tracker.open_since();
            let pieces = clip(around.schedule, &spans, around.tz);
            let retract = self.retraction(&spans, &pieces, open);
            if spans.is_empty() && retract.is_empty() {
                return Ok(());
            }
            match store.put_spans_replacing(self.forget_seq, &pieces, &retract) {
                Ok(Put::Written) => {
                    self.written(&spans, open, around.schedule, around.tz);
                    return Ok(());
                }
                Ok(Put::Forgotten(entries)) => {
                    spans = self.apply_forgets(store, spans, &entries, around)
                }
                Err(e @ StoreError::Damaged { .. }) => return Err(e),
                Err(e) => {
                    self.failing(&e, around.clock.now());
                    self.keep_closed(spans, around.tracker.open_since());
                    return Ok(());
                }
            }
        }
        self.keep_closed(spans, around.tracker.open_since());
        Ok(())
    }

    /// Drops from `spans` (and from the open span) what `entries` erased.
    fn apply_forgets<C: Clock, Tz: TimeZone>(
        &mut self,
        store: &mut Store,
        spans: Vec<Span>,
        entries: &[ForgetEntry],
        around: &mut Around<'_, C, Tz>,
    ) -> Vec<Span> {
        let now = around.clock.now();
        let tracker = &mut *around.tracker;
        let open_start = tracker.open_since();
        let (open, mut closed): (Vec<Span>, Vec<Span>) =
            spans.into_iter().partition(|s| Some(s.start) == open_start);
        let known = |label: &str| store.cached_site_id(label);
        let mut restart = None;
        for entry in entries {
            closed = closed
                .into_iter()
                .flat_map(|s| entry.keep(s, &known))
                .collect();
            if let Some(open) = tracker.open_span(now) {
                if let Some(at) = entry.restart(&open, &known) {
                    restart = Some(restart.map_or(at, |r: DateTime<Utc>| r.max(at)));
                }
            }
            self.forget_seq = self.forget_seq.max(entry.seq);
        }
        tracing::info!(
            forgets = entries.len(),
            restarted = restart.is_some(),
            "data was forgotten while running; dropped it from memory too"
        );
        if let Some(at) = restart {
            tracker.restart_at(at.min(now));
        }
        store.clear_site_cache();
        // Count again what is left: the store, and what is about to join it.
        around.remind.recount(store, now, around.tz);
        for span in &closed {
            count(around.remind, around.schedule, span, around.tz);
        }
        if !open.is_empty() {
            closed.extend(around.tracker.open_span(now));
        }
        closed
    }
}

/// A closed span counts towards the limits (its part in recording hours).
pub(super) fn count<Tz: TimeZone>(
    remind: &mut Reminding,
    schedule: &Schedule,
    span: &Span,
    tz: &Tz,
) {
    if span.activity.is_social() {
        for piece in clip(schedule, std::slice::from_ref(span), tz) {
            remind.record(&piece, tz);
        }
    }
}

/// The parts of `spans` in recording hours, split at local midnight.
pub(super) fn clip<Tz: TimeZone>(schedule: &Schedule, spans: &[Span], tz: &Tz) -> Vec<Span> {
    spans
        .iter()
        .flat_map(|s| {
            schedule
                .clip(s.start, s.end, tz)
                .into_iter()
                .map(move |(start, end)| Span {
                    start,
                    end,
                    activity: s.activity.clone(),
                    source: s.source,
                })
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use dwell_core::{Activity, Source};

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap() + chrono::Duration::seconds(secs)
    }

    fn span(from: i64, to: i64) -> Span {
        Span {
            start: at(from),
            end: at(to),
            activity: Activity::Social("x.com".into()),
            source: Source::X11,
        }
    }

    fn always() -> Schedule {
        dwell_core::Config::parse(
            "[schedule]\nrecord = \"always\"\n",
            std::path::Path::new("t.toml"),
        )
        .unwrap()
        .schedule
    }

    /// A span on x.com from 23:59:50 on the 24th, `to` seconds after.
    fn late(to: i64) -> Span {
        Span {
            start: at(14 * 3600 - 10),
            end: at(14 * 3600 - 10 + to),
            ..span(0, 0)
        }
    }

    #[test]
    pub(super) fn the_open_span_cut_back_retracts_the_pieces_it_no_longer_has() {
        let (mut w, sched) = (Writer::default(), always());
        let retraction = |w: &Writer, spans: &[Span], open| {
            w.retraction(spans, &clip(&sched, spans, &Utc), open)
        };
        let open = Some(late(0).start);
        assert!(retraction(&w, &[late(30)], open).is_empty());
        // Written across midnight: two pieces.
        w.written(&[late(30)], open, &sched, &Utc);
        assert!(retraction(&w, &[late(40)], open).is_empty(), "it grew");
        let cut = retraction(&w, &[late(5)], open);
        assert_eq!(cut.len(), 1, "{cut:?}");
        assert_eq!((cut[0].start, cut[0].end), (at(14 * 3600), late(30).end));
        assert!(
            retraction(&w, &[span(5, 12)], open).is_empty(),
            "another span"
        );
        // Ended with nothing left (idle since before it began): all of it.
        assert_eq!(retraction(&w, &[], None).len(), 2);
        assert_eq!(retraction(&w, &[span(5, 12)], Some(at(5))).len(), 2);
    }

    #[test]
    pub(super) fn a_closed_span_forgets_the_open_one_as_written() {
        let (mut w, sched) = (Writer::default(), always());
        w.written(&[span(0, 20)], Some(at(0)), &sched, &Utc);
        // The open span closed and a new one opened at 20.
        w.written(&[span(0, 15)], Some(at(20)), &sched, &Utc);
        assert!(w.retraction(&[], &[], None).is_empty());
    }

    #[test]
    pub(super) fn a_failed_write_keeps_only_the_closed_spans() {
        let mut w = Writer::default();
        w.keep_closed(vec![span(0, 10), span(10, 15)], Some(at(10)));
        assert_eq!(w.pending, vec![span(0, 10)]);
        w.failing(&StoreError::DiskFull { path: "/d".into() }, at(15));
        assert!(w.failed);
        w.written(&[span(0, 10)], None, &always(), &Utc);
        assert!(!w.failed);
    }

    #[test]
    pub(super) fn write_errors_say_what_to_fix() {
        let full = while_running(&StoreError::DiskFull {
            path: "/home/e/.local/share/dwell/dwell.db".into(),
        });
        assert!(full.contains("free some space"), "{full}");
        let ro = while_running(&StoreError::ReadOnly { path: "/d".into() });
        assert!(ro.contains("make it writable"), "{ro}");
        let denied = while_running(&StoreError::PermissionDenied { path: "/d".into() });
        assert!(denied.contains("chmod u+rw"), "{denied}");
    }
}

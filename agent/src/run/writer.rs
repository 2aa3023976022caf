//! The span writer: closed spans waiting to be written, the open span's
//! checkpoint, clipping to recording hours, writes that fail and are tried
//! again, the open span's pieces retracted when it is cut back, and forgets
//! made by another process reconciled before anything is written back.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use dwell_core::forget::ForgetEntry;
use dwell_core::store::{Put, StoreError};
use dwell_core::Span;

use super::events::Loop;
use crate::clock::Clock;

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
    /// The open span's start and end as last written: if it is cut back, the
    /// pieces written beyond its new end are deleted.
    open_written: Option<(DateTime<Utc>, DateTime<Utc>)>,
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

    /// The pieces to delete: the open span as written before (starting at the
    /// same moment) may reach further than it does now (idleness cut it back).
    fn retraction(&self, spans: &[Span]) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        self.open_written.and_then(|(start, end)| {
            spans
                .iter()
                .find(|s| s.start == start && s.end < end)
                .map(|s| (s.end, end))
        })
    }

    /// `spans` were written; `open` is where the open span starts now.
    fn written(&mut self, spans: &[Span], open: Option<DateTime<Utc>>) {
        self.open_written = spans
            .iter()
            .find(|s| Some(s.start) == open)
            .map(|s| (s.start, s.end))
            .or(self.open_written.filter(|(start, _)| Some(*start) == open));
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

impl<C: Clock, Tz: TimeZone> Loop<'_, C, Tz> {
    pub(super) fn arm_checkpoint(&mut self) {
        if self.tracker.current().is_none() && self.writer.pending.is_empty() {
            self.checkpoint_at = None;
        } else if self.checkpoint_at.is_none() {
            // Counted from the moment this pass woke (when a new span was dated,
            // or the last checkpoint read the clock), not from when its work
            // ended: however long classifying or writing took, a crash loses at
            // most CHECKPOINT_EVERY plus this checkpoint's own write (MAX_LOSS).
            self.checkpoint_at = Some(self.awake.1 + CHECKPOINT_EVERY);
        }
    }

    /// Writes pending spans and the open span as it stands now.
    pub(super) fn checkpoint(&mut self) {
        self.checkpoint_at = None;
        let now = self.clock.now();
        self.store_browsers(now, false);
        let mut spans: Vec<Span> = self.writer.pending.drain(..).collect();
        spans.extend(self.tracker.open_span(now));
        self.write(spans);
    }

    pub(super) fn flush(&mut self) {
        let spans: Vec<Span> = self.writer.pending.drain(..).collect();
        self.write(spans);
    }

    /// Clips to recording hours, splits at local midnight, writes. On failure the
    /// closed spans are kept for the next try; the open one is rewritten anyway.
    /// If the employee forgot something since the last write, what it removed
    /// is dropped from memory first, so it is never written back.
    pub(super) fn write(&mut self, mut spans: Vec<Span>) {
        // A second forget between two tries is rare; a third one waits for the
        // next checkpoint.
        for _ in 0..3 {
            if spans.is_empty() {
                return;
            }
            let pieces = self.clip(&spans);
            let retract = self.writer.retraction(&spans);
            match self
                .store
                .put_spans_retracting(self.writer.forget_seq, &pieces, retract)
            {
                Ok(Put::Written) => {
                    self.writer.written(&spans, self.tracker.open_since());
                    return;
                }
                Ok(Put::Forgotten(entries)) => spans = self.apply_forgets(spans, &entries),
                Err(e @ StoreError::Damaged { .. }) => {
                    self.store_failed(e);
                    return;
                }
                Err(e) => {
                    self.writer.failing(&e, self.clock.now());
                    self.writer.keep_closed(spans, self.tracker.open_since());
                    return;
                }
            }
        }
        self.writer.keep_closed(spans, self.tracker.open_since());
    }

    /// Drops from `spans` (and from the open span) what `entries` erased.
    pub(super) fn apply_forgets(&mut self, spans: Vec<Span>, entries: &[ForgetEntry]) -> Vec<Span> {
        let now = self.clock.now();
        let open_start = self.tracker.open_since();
        let (open, mut closed): (Vec<Span>, Vec<Span>) =
            spans.into_iter().partition(|s| Some(s.start) == open_start);
        let store = &self.store;
        let known = |label: &str| store.cached_site_id(label);
        let mut restart = None;
        for entry in entries {
            closed = closed
                .into_iter()
                .flat_map(|s| entry.keep(s, &known))
                .collect();
            if let Some(open) = self.tracker.open_span(now) {
                if let Some(at) = entry.restart(&open, &known) {
                    restart = Some(restart.map_or(at, |r: DateTime<Utc>| r.max(at)));
                }
            }
            self.writer.forget_seq = self.writer.forget_seq.max(entry.seq);
        }
        tracing::info!(
            forgets = entries.len(),
            restarted = restart.is_some(),
            "data was forgotten while running; dropped it from memory too"
        );
        if let Some(at) = restart {
            self.tracker.restart_at(at.min(now));
        }
        self.store.clear_site_cache();
        // Count again what is left: the store, and what is about to join it.
        self.remind.recount(&self.store, now, self.tz);
        for span in &closed {
            self.count(span);
        }
        if !open.is_empty() {
            closed.extend(self.tracker.open_span(now));
        }
        closed
    }

    /// The parts of `spans` in recording hours, split at local midnight.
    pub(super) fn clip(&self, spans: &[Span]) -> Vec<Span> {
        spans
            .iter()
            .flat_map(|s| {
                self.config
                    .schedule
                    .clip(s.start, s.end, self.tz)
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
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use dwell_core::{Activity, Source};

    pub(super) fn at(secs: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap() + chrono::Duration::seconds(secs)
    }

    pub(super) fn span(from: i64, to: i64) -> Span {
        Span {
            start: at(from),
            end: at(to),
            activity: Activity::Social("x.com".into()),
            source: Source::X11,
        }
    }

    #[test]
    pub(super) fn the_open_span_cut_back_retracts_what_was_written_beyond_it() {
        let mut w = Writer::default();
        assert_eq!(w.retraction(&[span(0, 10)]), None);
        w.written(&[span(0, 20)], Some(at(0)));
        assert_eq!(w.retraction(&[span(0, 30)]), None, "it grew");
        assert_eq!(w.retraction(&[span(0, 12)]), Some((at(12), at(20))));
        assert_eq!(w.retraction(&[span(5, 12)]), None, "another span");
    }

    #[test]
    pub(super) fn a_closed_span_forgets_the_open_one_as_written() {
        let mut w = Writer::default();
        w.written(&[span(0, 20)], Some(at(0)));
        // The open span closed and a new one opened at 20.
        w.written(&[span(0, 15)], Some(at(20)));
        assert_eq!(w.retraction(&[span(0, 10)]), None);
    }

    #[test]
    pub(super) fn a_failed_write_keeps_only_the_closed_spans() {
        let mut w = Writer::default();
        w.keep_closed(vec![span(0, 10), span(10, 15)], Some(at(10)));
        assert_eq!(w.pending, vec![span(0, 10)]);
        w.failing(&StoreError::DiskFull { path: "/d".into() }, at(15));
        assert!(w.failed);
        w.written(&[span(0, 10)], None);
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

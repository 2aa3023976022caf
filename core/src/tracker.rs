//! Sessionizing: turns a stream of timestamped observations (focus changes,
//! idleness, input, the desktop going away) into closed spans of one activity.
//!
//! Pure and clock-free: every event carries its own time. Consecutive time on the
//! same activity is one span; idleness cuts a span back to the last input; time
//! never runs backwards in the output even if the wall clock does.

use chrono::{DateTime, Utc};

use crate::model::{Activity, Source, Span};

/// Something the agent observed.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// The focused window changed (or its title did); `None` means no window.
    Focus {
        at: DateTime<Utc>,
        activity: Option<Activity>,
    },
    /// No input since `last_input`, for longer than the idle timeout.
    Idle { last_input: DateTime<Utc> },
    /// Input again, at `at`, after being idle.
    Input { at: DateTime<Utc> },
    /// Nothing can be observed from `at` on: screen locked, suspend, X server
    /// gone, recording paused or stopped. Closes the open span at `at`.
    Away { at: DateTime<Utc> },
    /// Observation is possible again (focus must be reported afresh).
    Back { at: DateTime<Utc> },
}

#[derive(Clone, Debug, PartialEq)]
struct Open {
    start: DateTime<Utc>,
    activity: Activity,
    /// Where the span's activity was seen (the tracker's source when it opened).
    source: Source,
}

/// The sessionizer state.
#[derive(Clone, Debug)]
pub struct Tracker {
    source: Source,
    focus: Option<Activity>,
    idle: bool,
    away: bool,
    open: Option<Open>,
    /// No output span starts before this: guards against clock steps backwards.
    floor: Option<DateTime<Utc>>,
}

impl Tracker {
    pub fn new(source: Source) -> Tracker {
        Tracker {
            source,
            focus: None,
            idle: false,
            away: false,
            open: None,
            floor: None,
        }
    }

    /// Where the activities reported from now on are seen (the browser
    /// extension rather than the window, say): spans opened after this carry
    /// `source`; the open one keeps its own.
    pub fn set_source(&mut self, source: Source) {
        self.source = source;
    }

    /// Whether the employee is currently idle.
    pub fn is_idle(&self) -> bool {
        self.idle
    }

    /// The activity currently being counted, if any.
    pub fn current(&self) -> Option<&Activity> {
        self.open.as_ref().map(|o| &o.activity)
    }

    /// The focused activity, counted or not (idle).
    pub fn focused(&self) -> Option<&Activity> {
        self.focus.as_ref()
    }

    /// Start of the open span, if one is open.
    pub fn open_since(&self) -> Option<DateTime<Utc>> {
        self.open.as_ref().map(|o| o.start)
    }

    /// Applies one event; returns the span it closed, if any (never empty).
    pub fn apply(&mut self, event: Event) -> Option<Span> {
        match event {
            Event::Focus { at, activity } => {
                self.focus = activity.clone();
                if self.idle || self.away {
                    return None;
                }
                if self.open.as_ref().map(|o| &o.activity) == activity.as_ref() {
                    return None;
                }
                let closed = self.close(at);
                self.start(at);
                closed
            }
            Event::Idle { last_input } => {
                if self.idle {
                    return None;
                }
                self.idle = true;
                self.close(last_input)
            }
            Event::Input { at } => {
                if !self.idle {
                    return None;
                }
                self.idle = false;
                if !self.away {
                    self.start(at);
                }
                None
            }
            Event::Away { at } => {
                self.away = true;
                self.focus = None;
                self.close(at)
            }
            Event::Back { at } => {
                let _ = at;
                self.away = false;
                None
            }
        }
    }

    /// Moves the start of the open span forward to `at` (what came before was
    /// erased by the employee); no later span starts before `at` either.
    pub fn restart_at(&mut self, at: DateTime<Utc>) {
        if let Some(open) = self.open.as_mut() {
            open.start = open.start.max(at);
        }
        self.floor = Some(self.floor.map_or(at, |f| f.max(at)));
    }

    /// The wall clock stepped from `before` to `after` (either way; a suspend
    /// looks like a step forward): the open span ends at `before` and, if one
    /// was open, starts again at `after` on the same activity. Nothing is
    /// counted across the step, and the guard against earlier starts follows
    /// the new clock.
    pub fn step(&mut self, before: DateTime<Utc>, after: DateTime<Utc>) -> Option<Span> {
        let was_open = self.open.is_some();
        let closed = self.close(before);
        self.floor = Some(after);
        if was_open {
            self.start(after);
        }
        closed
    }

    /// The open span as it stands at `now` (for checkpoints), if any.
    pub fn open_span(&self, now: DateTime<Utc>) -> Option<Span> {
        let open = self.open.as_ref()?;
        (now > open.start).then_some(Span {
            start: open.start,
            end: now,
            activity: open.activity.clone(),
            source: open.source,
        })
    }

    fn start(&mut self, at: DateTime<Utc>) {
        if let Some(activity) = self.focus.clone() {
            let start = match self.floor {
                Some(f) if f > at => f,
                _ => at,
            };
            self.open = Some(Open {
                start,
                activity,
                source: self.source,
            });
        }
    }

    fn close(&mut self, at: DateTime<Utc>) -> Option<Span> {
        let open = self.open.take()?;
        let end = at.max(open.start);
        self.floor = Some(end);
        (end > open.start).then_some(Span {
            start: open.start,
            end,
            activity: open.activity,
            source: open.source,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    use crate::testing::t;

    #[test]
    fn each_span_keeps_the_source_it_was_seen_through() {
        let mut tr = Tracker::new(Source::X11);
        tr.apply(focus(0, social("x.com")));
        // The browser extension reports from now on: the open span stays X11.
        tr.set_source(Source::Extension);
        assert_eq!(tr.open_span(t(5)).unwrap().source, Source::X11);
        let closed = tr.apply(focus(10, social("reddit.com"))).unwrap();
        assert_eq!(closed.source, Source::X11);
        assert_eq!(tr.open_span(t(15)).unwrap().source, Source::Extension);
        tr.set_source(Source::X11);
        let closed = tr.apply(focus(20, Some(Activity::Other))).unwrap();
        assert_eq!((closed.start, closed.source), (t(10), Source::Extension));
        // Idle, then input: the span reopens with the source in force.
        tr.apply(Event::Idle { last_input: t(25) });
        tr.set_source(Source::Extension);
        tr.apply(focus(26, social("x.com")));
        tr.apply(Event::Input { at: t(30) });
        assert_eq!(tr.open_span(t(31)).unwrap().source, Source::Extension);
    }

    #[test]
    fn a_step_back_restarts_the_open_span_at_the_new_time() {
        let mut tr = Tracker::new(Source::X11);
        tr.apply(Event::Focus {
            at: t(3600),
            activity: social("x.com"),
        });
        let closed = tr.step(t(3630), t(0)).unwrap();
        assert_eq!((closed.start, closed.end), (t(3600), t(3630)));
        assert_eq!(tr.open_since(), Some(t(0)));
        let next = tr
            .apply(Event::Focus {
                at: t(40),
                activity: None,
            })
            .unwrap();
        assert_eq!((next.start, next.end), (t(0), t(40)));
        // Nothing open: a step opens nothing.
        let mut tr = Tracker::new(Source::X11);
        assert_eq!(tr.step(t(3600), t(7200)), None);
        assert_eq!(tr.open_since(), None);
    }
    fn social(s: &str) -> Option<Activity> {
        Some(Activity::Social(s.into()))
    }
    fn focus(at: i64, a: Option<Activity>) -> Event {
        Event::Focus {
            at: t(at),
            activity: a,
        }
    }
    fn span(a: i64, b: i64, act: Activity) -> Span {
        Span {
            start: t(a),
            end: t(b),
            activity: act,
            source: Source::X11,
        }
    }

    fn replay(events: Vec<Event>, end: i64) -> Vec<Span> {
        let mut tr = Tracker::new(Source::X11);
        let mut out: Vec<Span> = events.into_iter().filter_map(|e| tr.apply(e)).collect();
        out.extend(tr.open_span(t(end)));
        out
    }

    #[test]
    fn switching_makes_spans_and_same_activity_merges() {
        let out = replay(
            vec![
                focus(0, social("x.com")),
                focus(10, social("x.com")), // title change, same site
                focus(20, Some(Activity::Other)),
                focus(25, Some(Activity::Other)), // another work window
                focus(30, social("reddit.com")),
            ],
            45,
        );
        assert_eq!(
            out,
            vec![
                span(0, 20, Activity::Social("x.com".into())),
                span(20, 30, Activity::Other),
                span(30, 45, Activity::Social("reddit.com".into())),
            ]
        );
    }

    #[test]
    fn idle_cuts_back_to_last_input_and_input_resumes() {
        let out = replay(
            vec![
                focus(0, social("x.com")),
                // Noticed at 160 with a 120 s timeout: cut back to 40.
                Event::Idle { last_input: t(40) },
                focus(170, social("reddit.com")), // focus changes while idle: not counted
                Event::Input { at: t(300) },
            ],
            310,
        );
        assert_eq!(
            out,
            vec![
                span(0, 40, Activity::Social("x.com".into())),
                span(300, 310, Activity::Social("reddit.com".into())),
            ]
        );
    }

    #[test]
    fn away_closes_and_back_waits_for_focus() {
        let out = replay(
            vec![
                focus(0, social("x.com")),
                Event::Away { at: t(50) },
                focus(60, social("x.com")), // ignored while away
                Event::Back { at: t(100) },
                focus(101, Some(Activity::Other)),
            ],
            111,
        );
        assert_eq!(
            out,
            vec![
                span(0, 50, Activity::Social("x.com".into())),
                span(101, 111, Activity::Other),
            ]
        );
    }

    #[test]
    fn no_window_closes_the_span() {
        let out = replay(
            vec![
                focus(0, social("x.com")),
                focus(5, None),
                focus(6, social("x.com")),
            ],
            8,
        );
        assert_eq!(
            out,
            vec![
                span(0, 5, Activity::Social("x.com".into())),
                span(6, 8, Activity::Social("x.com".into())),
            ]
        );
    }

    #[test]
    fn clock_stepping_back_never_overlaps() {
        let out = replay(
            vec![
                focus(100, social("x.com")),
                focus(200, Some(Activity::Other)),
                focus(150, social("x.com")), // clock stepped back 50 s
            ],
            260,
        );
        assert_eq!(out[0], span(100, 200, Activity::Social("x.com".into())));
        for w in out.windows(2) {
            assert!(w[0].end <= w[1].start, "{out:?}");
        }
    }

    #[test]
    fn idle_before_span_start_gives_nothing() {
        let out = replay(
            vec![
                focus(100, social("x.com")),
                Event::Idle { last_input: t(90) },
            ],
            200,
        );
        assert!(out.is_empty(), "{out:?}");
    }
}

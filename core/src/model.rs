//! The data model shared by the agent and the report: what a focused window looks
//! like to dwell, what it counts as, and the spans of time that get stored.

use chrono::{DateTime, Utc};

/// What the agent knows about the focused window. The title lives only in memory,
/// long enough to be matched against the rules; it is never stored or logged
/// above debug level.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WindowInfo {
    /// `WM_CLASS` class part, e.g. `Chromium`, `firefox`.
    pub class: String,
    /// `WM_CLASS` instance part, e.g. `chromium`, `Navigator`.
    pub instance: String,
    /// `_NET_WM_NAME` or `WM_NAME`.
    pub title: String,
    /// Process name from `_NET_WM_PID`, when the window says.
    pub process: Option<String>,
    /// Whether the window is fullscreen (`_NET_WM_STATE_FULLSCREEN`).
    pub fullscreen: bool,
}

/// What a stretch of active time counts as.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Activity {
    /// Time on a social site or app, by canonical label (`facebook.com`).
    Social(String),
    /// Any other active window. Kept only as an anonymous total.
    Other,
}

impl Activity {
    /// The label stored in the database: the site, or `None` for other time.
    pub fn site(&self) -> Option<&str> {
        match self {
            Activity::Social(s) => Some(s),
            Activity::Other => None,
        }
    }

    pub fn is_social(&self) -> bool {
        matches!(self, Activity::Social(_))
    }
}

/// Where a span came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    X11 = 1,
    Extension = 2,
    Demo = 3,
    Wayland = 4,
    /// The Windows foreground-window watcher.
    Windows = 5,
}

impl Source {
    pub fn code(self) -> i64 {
        self as i64
    }

    pub fn from_code(code: i64) -> Option<Source> {
        match code {
            1 => Some(Source::X11),
            2 => Some(Source::Extension),
            3 => Some(Source::Demo),
            4 => Some(Source::Wayland),
            5 => Some(Source::Windows),
            _ => None,
        }
    }
}

/// A stretch of active time on one activity, `start <= end`, both UTC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub activity: Activity,
    pub source: Source,
}

impl Span {
    pub fn seconds(&self) -> f64 {
        (self.end - self.start).num_milliseconds().max(0) as f64 / 1000.0
    }
}

/// What became of one reminder, as stored for the weekly report. Holds no site
/// name and no title: only the kind of reminder and the message's catalogue id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderRecord {
    /// When it was due.
    pub at: DateTime<Utc>,
    /// `stage`, `over`, `streak` or `weekly`.
    pub kind: String,
    /// `shown`, `snoozed`, `done_for_today`, `dismissed`, `expired`, `held` or `undelivered`.
    pub outcome: String,
    /// Whether the employee left social sites within 2 minutes; `None` until known.
    pub left_social: Option<bool>,
    /// Catalogue id of the message.
    pub message: Option<String>,
}

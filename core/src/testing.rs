//! Helpers shared by the unit tests of this crate (compiled for tests only):
//! instants as seconds from a fixed origin, and spans between them.

use chrono::{DateTime, TimeZone, Utc};

use crate::model::{Activity, Source, Span};

/// `s` seconds after 2025-11-24 16:00 UTC.
pub fn t(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_764_000_000 + s, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// An X11 span from `a` to `b` seconds, on `site` (or other active time).
pub fn span(a: i64, b: i64, site: Option<&str>) -> Span {
    Span {
        start: t(a),
        end: t(b),
        activity: site.map_or(Activity::Other, |s| Activity::Social(s.into())),
        source: Source::X11,
    }
}

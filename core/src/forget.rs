//! Forgetting while the agent runs. `dwell-agent forget` deletes rows from
//! another process; the running agent still holds the open span (and any span
//! it could not write yet) in memory and would write it back. So every forget
//! also appends an entry to a small log in the store, in the same transaction
//! as the deletion, and the agent checks that log in the transaction of each
//! write. This module owns the log's entries and how they apply to spans held
//! in memory. The log keeps when and which time range was forgotten, never
//! which site: a forgotten site appears only as the number its row had.

use chrono::{DateTime, TimeZone, Utc};

use crate::model::{Activity, Span};

/// How many entries the log keeps; a writer that missed more than this
/// treats the gap as "forget everything before the latest entry".
pub const LOG_KEEP: usize = 32;

/// What one forget removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forgotten {
    /// Spans starting in `[from, to)`.
    Range {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
    /// Every span of the site whose row in `sites` had this id.
    Site { id: i64 },
    /// Everything.
    All,
}

/// One forget, numbered in the order they happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ForgetEntry {
    pub seq: u64,
    /// When the forget ran: what was recorded after it is new data.
    pub at: DateTime<Utc>,
    pub what: Forgotten,
}

fn from_ms(v: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt(v).single()
}

impl ForgetEntry {
    fn line(&self) -> String {
        let at = self.at.timestamp_millis();
        match self.what {
            Forgotten::Range { from, to } => format!(
                "{} {at} range {} {}",
                self.seq,
                from.timestamp_millis(),
                to.timestamp_millis()
            ),
            Forgotten::Site { id } => format!("{} {at} site {id}", self.seq),
            Forgotten::All => format!("{} {at} all", self.seq),
        }
    }

    fn parse(line: &str) -> Option<ForgetEntry> {
        let mut f = line.split_ascii_whitespace();
        let seq = f.next()?.parse().ok()?;
        let at = from_ms(f.next()?.parse().ok()?)?;
        let what = match f.next()? {
            "range" => Forgotten::Range {
                from: from_ms(f.next()?.parse().ok()?)?,
                to: from_ms(f.next()?.parse().ok()?)?,
            },
            "site" => Forgotten::Site {
                id: f.next()?.parse().ok()?,
            },
            "all" => Forgotten::All,
            _ => return None,
        };
        Some(ForgetEntry { seq, at, what })
    }

    /// The part of `[start, end)` this forget removed, if any. `site_id` gives
    /// the id the writer knows for a label (`None`: it does not know it, so it
    /// cannot tell, and counts the span as forgotten).
    fn removed(
        &self,
        span: &Span,
        site_id: &dyn Fn(&str) -> Option<i64>,
    ) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let (from, to) = match self.what {
            Forgotten::All => (span.start, self.at),
            Forgotten::Range { from, to } => (from.max(span.start), to.min(self.at)),
            Forgotten::Site { id } => match &span.activity {
                Activity::Social(label) if site_id(label).is_none_or(|known| known == id) => {
                    (span.start, self.at)
                }
                _ => return None,
            },
        };
        let to = to.min(span.end);
        (from < to).then_some((from, to))
    }

    /// Where an open span must restart so that nothing this forget removed is
    /// written again; `None` when the forget did not touch it.
    pub fn restart(
        &self,
        open: &Span,
        site_id: &dyn Fn(&str) -> Option<i64>,
    ) -> Option<DateTime<Utc>> {
        self.removed(open, site_id).map(|(_, to)| to)
    }

    /// What survives of a closed span that was not written yet: nothing, the
    /// whole span, or the parts before and after the forgotten range.
    pub fn keep(&self, span: Span, site_id: &dyn Fn(&str) -> Option<i64>) -> Vec<Span> {
        let Some((from, to)) = self.removed(&span, site_id) else {
            return vec![span];
        };
        [(span.start, from), (to, span.end)]
            .into_iter()
            .filter(|(a, b)| a < b)
            .map(|(start, end)| Span {
                start,
                end,
                ..span.clone()
            })
            .collect()
    }
}

/// The log as stored (one entry per line).
pub fn encode(entries: &[ForgetEntry]) -> String {
    entries
        .iter()
        .map(ForgetEntry::line)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads the stored log; lines it cannot read are skipped.
pub fn decode(text: &str) -> Vec<ForgetEntry> {
    text.lines().filter_map(ForgetEntry::parse).collect()
}

/// The entries after `seen`. If some were already dropped from the log, one
/// conservative "everything before the latest" entry stands in for them.
pub fn since(log: &[ForgetEntry], seen: u64) -> Vec<ForgetEntry> {
    let newer: Vec<ForgetEntry> = log.iter().filter(|e| e.seq > seen).copied().collect();
    match (newer.first(), newer.iter().map(|e| e.at).max()) {
        (Some(first), Some(latest)) if first.seq > seen + 1 => {
            let mut all = vec![ForgetEntry {
                seq: first.seq - 1,
                at: latest,
                what: Forgotten::All,
            }];
            all.extend(newer);
            all
        }
        _ => newer,
    }
}

/// `log` with `what` appended at `at`, trimmed to [`LOG_KEEP`] entries.
pub fn append(mut log: Vec<ForgetEntry>, what: Forgotten, at: DateTime<Utc>) -> Vec<ForgetEntry> {
    let seq = log.iter().map(|e| e.seq).max().unwrap_or(0) + 1;
    log.push(ForgetEntry { seq, at, what });
    let drop = log.len().saturating_sub(LOG_KEEP);
    log.drain(..drop);
    log
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::testing::{span, t};

    fn entry(at: i64, what: Forgotten) -> ForgetEntry {
        ForgetEntry {
            seq: 1,
            at: t(at),
            what,
        }
    }
    fn known(label: &str) -> Option<i64> {
        match label {
            "a.example" => Some(7),
            "b.example" => Some(8),
            _ => None,
        }
    }

    #[test]
    fn log_round_trips_and_skips_bad_lines() {
        let log = append(Vec::new(), Forgotten::All, t(1));
        let log = append(log, Forgotten::Site { id: 3 }, t(2));
        let log = append(
            log,
            Forgotten::Range {
                from: t(-100),
                to: t(100),
            },
            t(3),
        );
        let text = encode(&log);
        assert_eq!(decode(&format!("{text}\ngarbage line\n9 x all")), log);
        assert_eq!(log.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
    }

    #[test]
    fn log_is_trimmed_and_a_gap_means_everything() {
        let mut log = Vec::new();
        for i in 0..40 {
            log = append(log, Forgotten::Site { id: i }, t(i));
        }
        assert_eq!(log.len(), LOG_KEEP);
        assert_eq!(log[0].seq, 9);
        assert_eq!(since(&log, 40), vec![]);
        assert_eq!(since(&log, 39), vec![log[LOG_KEEP - 1]]);
        let missed = since(&log, 2);
        assert_eq!(missed[0].what, Forgotten::All);
        assert_eq!(missed[0].at, t(39));
        assert_eq!(missed.len(), LOG_KEEP + 1);
    }

    #[test]
    fn everything_restarts_the_open_span_at_the_forget() {
        let e = entry(50, Forgotten::All);
        assert_eq!(e.restart(&span(10, 60, None), &known), Some(t(50)));
        // Opened after the forget: new data.
        assert_eq!(e.restart(&span(55, 60, None), &known), None);
        assert_eq!(
            e.keep(span(40, 70, Some("a.example")), &known),
            vec![span(50, 70, Some("a.example"))]
        );
    }

    #[test]
    fn a_range_removes_only_its_part() {
        let e = entry(
            500,
            Forgotten::Range {
                from: t(100),
                to: t(200),
            },
        );
        assert_eq!(e.restart(&span(150, 600, None), &known), Some(t(200)));
        assert_eq!(e.restart(&span(50, 600, None), &known), Some(t(200)));
        assert_eq!(e.restart(&span(200, 600, None), &known), None);
        assert_eq!(e.restart(&span(10, 90, None), &known), None);
        assert_eq!(
            e.keep(span(50, 250, None), &known),
            vec![span(50, 100, None), span(200, 250, None)]
        );
        // A range reaching past the forget ends at the forget.
        let today = entry(
            150,
            Forgotten::Range {
                from: t(100),
                to: t(1_000),
            },
        );
        assert_eq!(today.restart(&span(120, 300, None), &known), Some(t(150)));
        assert_eq!(
            today.keep(span(120, 300, None), &known),
            vec![span(150, 300, None)]
        );
    }

    #[test]
    fn a_site_removes_that_site_or_one_the_writer_cannot_name() {
        let e = entry(50, Forgotten::Site { id: 7 });
        assert_eq!(
            e.restart(&span(10, 60, Some("a.example")), &known),
            Some(t(50))
        );
        assert_eq!(e.restart(&span(10, 60, Some("b.example")), &known), None);
        assert_eq!(e.restart(&span(10, 60, None), &known), None);
        assert_eq!(
            e.restart(&span(10, 60, Some("new.example")), &known),
            Some(t(50))
        );
        assert_eq!(e.keep(span(10, 40, Some("a.example")), &known), vec![]);
        assert_eq!(
            e.keep(span(10, 40, Some("b.example")), &known),
            vec![span(10, 40, Some("b.example"))]
        );
    }
}

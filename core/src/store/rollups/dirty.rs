//! The local days whose rollups are stale (`meta.rollups_dirty`): a forget or
//! an expiry by a process that does not know the time zone marks the days it
//! changed; a writer that knows it rolls them up again, one day per write of
//! spans (and all of them when the agent starts). Readers count a period with
//! a stale day from the spans.
//!
//! Kept as sorted, disjoint ranges of day numbers (days since 0001-01-01, as
//! `day_rollups.day`), written `a-b,c,d-e`.

/// A set of local days, as sorted, disjoint, inclusive ranges of day numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(in crate::store) struct DirtyDays(Vec<(i64, i64)>);

impl DirtyDays {
    /// `None` when `text` is not such a list.
    pub(in crate::store) fn decode(text: &str) -> Option<DirtyDays> {
        let mut days = DirtyDays::default();
        for part in text.split(',').filter(|p| !p.is_empty()) {
            let (a, b) = part.split_once('-').unwrap_or((part, part));
            let (a, b): (i64, i64) = (a.parse().ok()?, b.parse().ok()?);
            if a > b {
                return None;
            }
            days.add(a, b);
        }
        Some(days)
    }

    pub(in crate::store) fn encode(&self) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|&(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                }
            })
            .collect();
        parts.join(",")
    }

    pub(in crate::store) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The ranges, in order.
    pub(in crate::store) fn ranges(&self) -> &[(i64, i64)] {
        &self.0
    }

    /// Whether any day of `from..=to` is in the set.
    pub(in crate::store) fn any_in(&self, from: i64, to: i64) -> bool {
        self.0.iter().any(|&(a, b)| a <= to && b >= from)
    }

    pub(in crate::store) fn contains(&self, day: i64) -> bool {
        self.any_in(day, day)
    }

    /// Adds days `from..=to`.
    pub(in crate::store) fn add(&mut self, from: i64, to: i64) {
        let mut merged = (from, to);
        let mut out = Vec::with_capacity(self.0.len() + 1);
        for &(a, b) in &self.0 {
            // Apart (not even touching): kept as it is.
            if b.saturating_add(1) < merged.0 || a > merged.1.saturating_add(1) {
                out.push((a, b));
            } else {
                merged = (merged.0.min(a), merged.1.max(b));
            }
        }
        out.push(merged);
        out.sort_unstable();
        self.0 = out;
    }

    /// Takes days `from..=to` out.
    pub(in crate::store) fn remove(&mut self, from: i64, to: i64) {
        let mut out = Vec::with_capacity(self.0.len() + 1);
        for &(a, b) in &self.0 {
            if b < from || a > to {
                out.push((a, b));
                continue;
            }
            if a < from {
                out.push((a, from - 1));
            }
            if b > to {
                out.push((to + 1, b));
            }
        }
        self.0 = out;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn days_are_added_removed_and_written_as_ranges() {
        let mut d = DirtyDays::default();
        d.add(10, 12);
        d.add(20, 20);
        d.add(13, 14);
        assert_eq!(d.encode(), "10-14,20");
        assert!(d.contains(14) && !d.contains(15) && d.any_in(15, 25));
        d.remove(12, 12);
        d.remove(20, 20);
        assert_eq!(d.encode(), "10-11,13-14");
        assert_eq!(DirtyDays::decode(&d.encode()), Some(d));
        assert_eq!(DirtyDays::decode(""), Some(DirtyDays::default()));
        assert_eq!(DirtyDays::decode("3-1"), None);
        assert_eq!(DirtyDays::decode("x"), None);
    }
}

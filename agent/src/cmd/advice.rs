//! Words of advice that `setup` and `config check` share: limits that do not
//! fit together (warned, never refused), and why nothing is recorded right
//! now. Pure: the caller passes the config and the local moment.

use std::time::Duration;

use chrono::{Datelike, NaiveDateTime, NaiveTime};
use dwell_core::schedule::{RecordMode, TimeRange};
use dwell_core::Config;

use super::fmt_minutes;

fn m(d: Duration) -> String {
    fmt_minutes(d.as_secs_f64())
}

/// Limits that are accepted but cannot work as written.
pub fn limit_warnings(config: &Config) -> Vec<String> {
    let l = &config.limits;
    let mut out = Vec::new();
    if l.streak > l.daily {
        out.push(format!(
            "your streak limit ({}) is above your daily limit ({}): a streak that long is already over your day's limit, so the streak limit adds nothing; {} or less would",
            m(l.streak),
            m(l.daily),
            m(l.daily)
        ));
    }
    let work_days = config
        .schedule
        .work_days
        .iter()
        .filter(|d| **d)
        .count()
        .max(1) as u32;
    let days = work_days.min(5);
    if l.weekly < l.daily * days {
        out.push(format!(
            "your weekly limit ({}) is below {days} days of your daily limit ({} each): most weeks will go over it even on good days; {} would match",
            m(l.weekly),
            m(l.daily),
            m(l.daily * days)
        ));
    }
    out
}

/// Why nothing is recorded at the local moment `now`, if nothing is.
pub fn not_recording_now(config: &Config, now: NaiveDateTime) -> Option<String> {
    let s = &config.schedule;
    if s.record == RecordMode::Always {
        return None;
    }
    if !s.work_days[now.weekday().num_days_from_monday() as usize] {
        return Some("today is not one of your work days".to_owned());
    }
    let t = now.time();
    let within = |r: &TimeRange| t >= r.start && (r.ends_at_midnight() || t < r.end);
    if s.work_hours.iter().any(within) {
        return None;
    }
    let hm = |t: NaiveTime| t.format("%H:%M").to_string();
    let before = s
        .work_hours
        .iter()
        .filter(|r| r.start > t)
        .map(|r| r.start)
        .min();
    let after = s
        .work_hours
        .iter()
        .filter(|r| !r.ends_at_midnight() && r.end <= t)
        .map(|r| r.end)
        .max();
    Some(match (after, before) {
        (Some(from), Some(to)) => format!(
            "it is a break in your work hours ({} to {}: lunch, by default)",
            hm(from),
            hm(to)
        ),
        (None, Some(to)) => format!("your work hours start at {}", hm(to)),
        _ => "your work hours are over for today".to_owned(),
    })
}

/// The comment above `work_hours` for these ranges: the breaks they leave.
pub fn breaks_comment(hours: &[String]) -> String {
    let ranges: Vec<TimeRange> = hours
        .iter()
        .filter_map(|h| TimeRange::parse(h).ok())
        .collect();
    let gaps: Vec<String> = ranges
        .windows(2)
        .filter(|w| !w[0].ends_at_midnight() && w[0].end < w[1].start)
        .map(|w| {
            format!(
                "{} to {}",
                w[0].end.format("%H:%M"),
                w[1].start.format("%H:%M")
            )
        })
        .collect();
    match gaps.as_slice() {
        [] => "# Local time ranges; leave gaps for breaks (nothing is recorded then).".to_owned(),
        [one] if one == "12:00 to 13:00" => {
            "# Local time ranges; leave gaps for breaks (here, lunch from 12:00 to 13:00)."
                .to_owned()
        }
        [one] => format!("# Local time ranges; leave gaps for breaks (here, a break from {one})."),
        many => format!(
            "# Local time ranges; leave gaps for breaks (here, breaks from {}).",
            many.join(", ")
        ),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::path::Path;

    fn config(text: &str) -> Config {
        Config::parse(text, Path::new("t.toml")).unwrap()
    }

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn limits_that_do_not_fit_together_are_warned_about() {
        assert!(limit_warnings(&config("")).is_empty());
        let w = limit_warnings(&config("[limits]\ndaily = \"20m\"\nstreak = \"45m\"\n"));
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains("streak limit (45m) is above your daily limit (20m)"),
            "{w:?}"
        );
        let w = limit_warnings(&config("[limits]\ndaily = \"30m\"\nweekly = \"1h\"\n"));
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("weekly limit (1h) is below 5 days"), "{w:?}");
        assert!(w[0].contains("2h 30m would match"), "{w:?}");
        // Three work days: three days' worth is enough.
        let three = "[limits]\ndaily = \"30m\"\nweekly = \"1h30m\"\n[schedule]\nwork_days = [\"mon\", \"tue\", \"wed\"]\n";
        assert!(limit_warnings(&config(three)).is_empty());
    }

    #[test]
    fn why_nothing_is_recorded_right_now() {
        let c = config("");
        // 2026-11-24 is a Tuesday.
        assert_eq!(not_recording_now(&c, at("2026-11-24 10:00")), None);
        let lunch = not_recording_now(&c, at("2026-11-24 12:20")).unwrap();
        assert!(
            lunch.contains("break") && lunch.contains("12:00 to 13:00"),
            "{lunch}"
        );
        assert!(not_recording_now(&c, at("2026-11-24 07:00"))
            .unwrap()
            .contains("start at 09:00"));
        assert!(not_recording_now(&c, at("2026-11-24 18:00"))
            .unwrap()
            .contains("over for today"));
        assert!(not_recording_now(&c, at("2026-11-28 10:00"))
            .unwrap()
            .contains("not one of your work days"));
        let always = config("[schedule]\nrecord = \"always\"\n");
        assert_eq!(not_recording_now(&always, at("2026-11-28 03:00")), None);
    }

    #[test]
    fn the_breaks_comment_follows_the_hours() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            breaks_comment(&s(&["08:00-12:30", "13:00-16:30"])),
            "# Local time ranges; leave gaps for breaks (here, a break from 12:30 to 13:00)."
        );
        assert!(!breaks_comment(&s(&["08:00-16:00"])).contains("lunch"));
        assert!(
            breaks_comment(&s(&["08:00-10:00", "10:15-12:00", "13:00-17:00"]))
                .contains("breaks from 10:00 to 10:15, 12:00 to 13:00")
        );
    }
}

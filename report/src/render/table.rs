//! `--format table`: the terminal view. Aligned, Unicode bars, as wide as the
//! terminal between 60 and 80 columns (bars and padding shrink, long lines wrap
//! at words), colour only when asked (a terminal without `NO_COLOR`).

use dwell_core::text::for_terminal;
use std::fmt::Write;

use chrono::{DateTime, NaiveDate};

use crate::aggregate::Report;
use crate::text::{Label, Lang, Words};

/// The widest table, and the width when there is no terminal to fit.
pub const WIDTH: usize = 80;
/// The narrowest table: a narrower terminal wraps its lines.
pub const NARROWEST: usize = 60;
const DAY_BAR: usize = 40;
const SITE_BAR: usize = 20;
/// The widest site label.
const SITE: usize = 22;
const MAX_SITES: usize = 10;
/// Width of the labels on the left of the summary lines.
const LABEL: usize = 17;

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color && !s.is_empty() {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }
    fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
    fn warn(&self, s: &str) -> String {
        self.paint("33", s)
    }
    fn good(&self, s: &str) -> String {
        self.paint("32", s)
    }
}

/// A horizontal bar of `width` cells for `value` out of `scale`, with eighth
/// blocks for the last cell and `│` at `mark` (if any and not covered).
pub fn bar(value: f64, scale: f64, width: usize, mark: Option<f64>) -> String {
    const PARTS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let scale = if scale > 0.0 { scale } else { 1.0 };
    let filled = (value / scale * width as f64).clamp(0.0, width as f64);
    let mark_at = mark.map(|m| ((m / scale * width as f64).round() as usize).min(width - 1));
    (0..width)
        .map(|i| {
            let rest = filled - i as f64;
            if rest >= 1.0 {
                '█'
            } else {
                let part = PARTS[((rest.max(0.0)) * 8.0).round().min(7.0) as usize];
                if part == ' ' && mark_at == Some(i) {
                    '│'
                } else {
                    part
                }
            }
        })
        .collect::<String>()
        .trim_end()
        .to_owned()
}

/// The table's width for a terminal of `tty` columns (when standard output is
/// a terminal), else for `COLUMNS` (when set), else [`WIDTH`]; always within
/// [`NARROWEST`]..=[`WIDTH`].
pub fn fit_width(tty: Option<u16>, columns: Option<&str>) -> usize {
    tty.filter(|&c| c > 0)
        .map(usize::from)
        .or_else(|| {
            columns
                .and_then(|c| c.trim().parse::<usize>().ok())
                .filter(|&c| c > 0)
        })
        .unwrap_or(WIDTH)
        .clamp(NARROWEST, WIDTH)
}

/// Characters in `s` (a column of one character each: dwell's text has no
/// wide characters outside site labels, which are truncated).
fn len(s: &str) -> usize {
    s.chars().count()
}

fn pad(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n >= width {
        s.to_owned()
    } else {
        format!("{s}{}", " ".repeat(width - n))
    }
}

fn rpad(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n >= width {
        s.to_owned()
    } else {
        format!("{}{s}", " ".repeat(width - n))
    }
}

fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(width.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Characters on screen, not counting colour escape sequences.
fn visible_len(s: &str) -> usize {
    let mut n = 0;
    let mut in_escape = false;
    for c in s.chars() {
        match (in_escape, c) {
            (false, '\x1b') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, _) => n += 1,
        }
    }
    n
}

/// Word-wraps `text` to `width`, the first line after `first`, the others
/// indented by `indent` spaces. Lines break at plain spaces only (never at a
/// no-break space); a word longer than a line is cut.
pub fn wrap(first: &str, text: &str, indent: usize, width: usize) -> String {
    let mut out = String::new();
    let mut line = first.to_owned();
    let mut len = visible_len(first);
    let mut fresh = true;
    let room = width.saturating_sub(indent).max(1);
    let words = text.split(' ').filter(|w| !w.is_empty()).flat_map(|w| {
        let chars: Vec<char> = w.chars().collect();
        chars
            .chunks(room)
            .map(|c| c.iter().collect::<String>())
            .collect::<Vec<_>>()
    });
    for word in words {
        let w = word.chars().count();
        if !fresh && len + 1 + w > width {
            out.push_str(line.trim_end());
            out.push('\n');
            line = " ".repeat(indent);
            len = indent;
            fresh = true;
        }
        if !fresh {
            line.push(' ');
            len += 1;
        }
        line.push_str(&word);
        len += w;
        fresh = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

fn date(s: &str) -> Option<NaiveDate> {
    s.parse().ok()
}

/// `10:05` from an RFC 3339 local time.
fn clock(s: &str) -> String {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.format("%H:%M").to_string())
        .unwrap_or_default()
}

/// The title line: `dwell · week 2026-W48 · 23 Nov – 29 Nov 2026`.
pub fn title(r: &Report, lang: Lang) -> String {
    let (Some(from), Some(to)) = (date(&r.from), date(&r.to)) else {
        return "dwell".into();
    };
    let range = if from == to {
        lang.long_date(from)
    } else {
        format!("{} – {}", lang.long_date(from), lang.long_date(to))
    };
    match (&r.week, r.period) {
        (Some(w), _) => format!("dwell · {} {w} · {range}", lang.t("week", "semaine")),
        (None, "day") => format!(
            "dwell · {} · {}",
            lang.t("day", "journée"),
            lang.short_date(from)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                + " "
                + &from.format("%Y").to_string()
        ),
        _ => format!("dwell · {range}"),
    }
}

/// Renders `r` for a terminal `width` columns wide (see [`fit_width`]).
pub fn render(r: &Report, lang: Lang, color: bool, width: usize) -> String {
    let w = width.clamp(NARROWEST, WIDTH);
    let st = Style { color };
    let mut o = String::new();
    header(&mut o, r, lang, &st, w);
    days(&mut o, r, lang, &st, w);
    totals(&mut o, r, lang, &st, w);
    sites(&mut o, r, lang, &st, w);
    visits(&mut o, r, lang, &st, w);
    heatmap(&mut o, r, lang, &st, w);
    trend(&mut o, r, lang, &st, w);
    fit(&mut o, r, lang, &st, w);
    notes(&mut o, r, lang, &st, w);
    o
}

/// The title, the privacy line and, for `--merge`, how many databases.
fn header(o: &mut String, r: &Report, lang: Lang, st: &Style, w: usize) {
    o.push_str(&st.bold(wrap("", &title(r, lang), 2, w).trim_end()));
    o.push('\n');
    o.push_str(&st.dim(&wrap("", &r.privacy, 0, w)));
    o.push('\n');
    if r.databases > 1 {
        let line = match lang {
            Lang::Fr => format!("Réunit {} bases de données (--merge).", r.databases),
            Lang::En => format!("Combines {} databases (--merge).", r.databases),
        };
        o.push_str(&st.dim(&line));
        o.push('\n');
    }
}

/// Days: date, bar, duration, flag.
fn days(o: &mut String, r: &Report, lang: Lang, st: &Style, w: usize) {
    let d = |s: i64| lang.duration(s);
    let limit = r.daily_threshold_seconds;
    let heading = lang.label(Label::PerDay);
    let limit_text = format!(
        "{} {}",
        lang.t("daily limit", "limite quotidienne"),
        d(limit)
    );
    let gap = (w - 2)
        .saturating_sub(len(heading) + len(&limit_text))
        .max(2);
    let _ = writeln!(o, "{}{}{limit_text}", st.bold(heading), " ".repeat(gap));
    let scale = r
        .days
        .iter()
        .map(|x| x.seconds)
        .max()
        .unwrap_or(0)
        .max(limit) as f64;
    let show_all = r.days.len() <= 14;
    let over_flag = lang.t("  over", "  dépassé");
    let dur_w = r.days.iter().map(|x| len(&d(x.seconds))).max().unwrap_or(0);
    let flag_w = if r.days.iter().any(|x| x.over) {
        len(over_flag)
    } else {
        0
    };
    let day_bar = w.saturating_sub(17 + dur_w + flag_w).clamp(4, DAY_BAR);
    for day in &r.days {
        let Some(dt) = date(&day.date) else { continue };
        if !show_all && day.seconds == 0 {
            continue;
        }
        if day.recorded_hours_seconds == 0 && day.seconds == 0 && day.other_seconds == 0 {
            let _ = writeln!(
                o,
                "  {}  {}",
                pad(&lang.short_date(dt), 11),
                st.dim(lang.t("· no recording hours", "· pas d'heures d'enregistrement"))
            );
            continue;
        }
        let b = bar(day.seconds as f64, scale, day_bar, Some(limit as f64));
        let pad_bar = " ".repeat(day_bar.saturating_sub(len(&b)));
        let b = if day.over { st.warn(&b) } else { b };
        let flag = if day.over {
            st.warn(over_flag)
        } else {
            String::new()
        };
        let _ = writeln!(
            o,
            "  {}  {b}{pad_bar}  {}{flag}",
            pad(&lang.short_date(dt), 11),
            rpad(&d(day.seconds), dur_w),
        );
    }
    if !show_all {
        let _ = writeln!(
            o,
            "  {}",
            st.dim(lang.t(
                "(days without social time left out)",
                "(jours sans temps social omis)"
            ))
        );
    }
}

/// Totals: the total against the limit, days over, the social share.
fn totals(o: &mut String, r: &Report, lang: Lang, st: &Style, w: usize) {
    let d = |s: i64| lang.duration(s);
    let colon = lang.colon();
    o.push('\n');
    let total = match r.over_weekly {
        Some(over) => {
            let verdict = if over {
                st.warn(lang.label(Label::OverWeekly))
            } else {
                st.good(lang.label(Label::WithinWeekly))
            };
            format!(
                "{} {} {} {}{colon}{verdict}",
                d(r.total_seconds),
                lang.t("of", "sur"),
                d(r.weekly_threshold_seconds),
                lang.label(Label::ForTheWeek),
            )
        }
        None if r.days.len() == 1 => d(r.total_seconds),
        None => format!(
            "{} {} {} {}",
            d(r.total_seconds),
            lang.t("over", "sur"),
            r.days.len(),
            lang.t("days", "jours")
        ),
    };
    o.push_str(&wrap(
        &format!("  {}", pad(lang.label(Label::Total), LABEL)),
        &total,
        LABEL + 2,
        w,
    ));
    if r.days_over > 0 {
        let text = format!(
            "{}{colon}{}",
            lang.t("Days over the daily limit", "Jours au-delà de la limite"),
            r.days_over
        );
        o.push_str(&wrap(&" ".repeat(LABEL + 2), &text, LABEL + 2, w));
    }
    if let Some(share) = r.social_share {
        let text = format!(
            "{} {} ({} {} {})",
            lang.percent(share * 100.0),
            lang.t("of your active time was social", "de votre temps actif"),
            d(r.total_seconds),
            lang.t("of", "sur"),
            d(r.active_seconds)
        );
        o.push_str(&wrap(
            &format!("  {}", pad(lang.label(Label::Share), LABEL)),
            &text,
            LABEL + 2,
            w,
        ));
    }
    if r.empty {
        o.push('\n');
        o.push_str(&wrap("  ", lang.empty(), 2, w));
    }
}

/// Sites: label, bar, duration, share, visits.
fn sites(o: &mut String, r: &Report, lang: Lang, st: &Style, w: usize) {
    if r.sites.is_empty() {
        return;
    }
    let d = |s: i64| lang.duration(s);
    o.push('\n');
    let _ = writeln!(o, "{}", st.bold(lang.label(Label::TopSites)));
    let top = r.sites.first().map(|s| s.seconds).unwrap_or(1) as f64;
    let shown = &r.sites[..r.sites.len().min(MAX_SITES)];
    let rest: i64 = r.sites.iter().skip(MAX_SITES).map(|s| s.seconds).sum();
    let dur_w = shown
        .iter()
        .map(|s| s.seconds)
        .chain((r.sites.len() > MAX_SITES).then_some(rest))
        .map(|x| len(&d(x)))
        .max()
        .unwrap_or(0);
    let share = |s: &crate::aggregate::Site| lang.percent(s.share * 100.0);
    let share_w = shown.iter().map(|s| len(&share(s))).max().unwrap_or(0);
    let visits_w = shown
        .iter()
        .map(|s| len(&lang.visits(s.visits)))
        .max()
        .unwrap_or(0);
    let room = w.saturating_sub(2 + 2 + 2 + 2 + 2 + dur_w + share_w + visits_w);
    let site_w = SITE.min(room.saturating_sub(10)).max(8);
    let site_bar = SITE_BAR.min(room.saturating_sub(site_w)).max(4);
    for s in shown {
        let _ = writeln!(
            o,
            "  {}  {}  {}  {}  {}",
            pad(&truncate(&for_terminal(&s.site), site_w), site_w),
            pad(&bar(s.seconds as f64, top, site_bar, None), site_bar),
            rpad(&d(s.seconds), dur_w),
            rpad(&share(s), share_w),
            st.dim(&lang.visits(s.visits))
        );
    }
    if r.sites.len() > MAX_SITES {
        let n = r.sites.len() - MAX_SITES;
        let others = format!(
            "{n} {}",
            if n == 1 {
                lang.t("other", "autre")
            } else {
                lang.t("others", "autres")
            }
        );
        let _ = writeln!(
            o,
            "  {}  {}  {}",
            pad(&others, site_w),
            " ".repeat(site_bar),
            rpad(&d(rest), dur_w)
        );
    }
}

/// Visits and the longest streak.
fn visits(o: &mut String, r: &Report, lang: Lang, st: &Style, w: usize) {
    if r.visits.count == 0 {
        return;
    }
    let d = |s: i64| lang.duration(s);
    o.push('\n');
    let median = r
        .visits
        .median_seconds
        .map(|s| lang.visit_length(s))
        .unwrap_or_default();
    let head = st.bold(&pad(lang.label(Label::Visits), LABEL));
    let text = format!(
        "{} · {} {median}",
        r.visits.count,
        lang.label(Label::MedianLength),
    );
    o.push_str(&wrap(&format!("{head}  "), &text, LABEL + 2, w));
    if let Some(s) = &r.longest_streak {
        let when = date(&s.date)
            .map(|x| lang.short_date(x))
            .unwrap_or_default();
        let text = format!(
            "{} {} {when}, {}–{}, {} ({} {})",
            d(s.social_seconds),
            lang.t("on", "le"),
            clock(&s.start),
            clock(&s.end),
            lang.visits(s.visits),
            lang.t("streak limit", "limite de série"),
            d(r.streak_threshold_seconds)
        );
        let head = st.bold(&pad(lang.label(Label::LongestStreak), LABEL));
        o.push_str(&wrap(&format!("{head}  "), &text, LABEL + 2, w));
    }
}

/// The trend and the reminders.
fn trend(o: &mut String, r: &Report, lang: Lang, st: &Style, w: usize) {
    let colon = lang.colon();
    o.push('\n');
    let trend = super::trend_text(r, lang);
    let head = st.bold(&pad(lang.label(Label::Trend), LABEL));
    o.push_str(&wrap(&format!("{head}  "), &trend, LABEL + 2, w));
    if let Some(rem) = &r.reminders {
        let mut text = format!("{}{colon}{}.", rem.count, super::outcome_counts(rem, lang));
        if rem.left_social_known > 0 {
            text.push_str(&format!(
                " {} {} {} {}.",
                lang.label(Label::LeftWithinTwoMinutes),
                rem.left_social_within_2_minutes,
                lang.t("of", "sur"),
                rem.left_social_known
            ));
        }
        let head = st.bold(&pad(lang.label(Label::Reminders), LABEL));
        o.push_str(&wrap(&format!("{head}  "), &text, LABEL + 2, w));
    }
}

/// The site limits, the plan and the pause page, where they apply.
fn fit(o: &mut String, r: &Report, lang: Lang, st: &Style, w: usize) {
    site_limits(o, r, lang, st, w);
    for (label, text) in super::fit_lines(r, lang) {
        let head = st.bold(&pad(lang.label(label), LABEL));
        o.push_str(&wrap(
            &format!("{head}  "),
            &for_terminal(&text),
            LABEL + 2,
            w,
        ));
    }
}

/// The sites with a limit of their own, one row each with the columns
/// aligned (`reddit.com  42m in all  5m a day  over on 4 days`): beside the
/// label when the rows fit there, else under it; as wrapped sentences when
/// the terminal is too narrow even for that.
fn site_limits(o: &mut String, r: &Report, lang: Lang, st: &Style, w: usize) {
    let rows = super::site_limit_rows(r, lang);
    if rows.is_empty() {
        return;
    }
    let width = |i: usize| {
        rows.iter()
            .map(|row| for_terminal(&row[i]).chars().count())
            .max()
            .unwrap_or(0)
    };
    let (site_w, total_w, limit_w) = (width(0), width(1), width(2));
    let in_all = lang.t("in all", "en tout");
    let aligned: Vec<String> = rows
        .iter()
        .map(|[site, total, limit, over]| {
            format!(
                "{}  {} {in_all}  {}  {over}",
                pad(&for_terminal(site), site_w),
                rpad(total, total_w),
                pad(limit, limit_w)
            )
        })
        .collect();
    let longest = aligned.iter().map(|t| t.chars().count()).max().unwrap_or(0);
    let label = lang.label(Label::SiteLimits);
    if LABEL + 2 + longest <= w {
        for (i, text) in aligned.iter().enumerate() {
            let head = if i == 0 {
                st.bold(&pad(label, LABEL))
            } else {
                " ".repeat(LABEL)
            };
            let _ = writeln!(o, "{head}  {text}");
        }
    } else if 2 + longest <= w {
        let _ = writeln!(o, "{}", st.bold(label));
        for text in &aligned {
            let _ = writeln!(o, "  {text}");
        }
    } else {
        let colon = lang.colon();
        for (i, [site, total, limit, over]) in rows.iter().enumerate() {
            let head = if i == 0 {
                st.bold(&pad(label, LABEL))
            } else {
                " ".repeat(LABEL)
            };
            let text = format!(
                "{}{colon}{total} {in_all}, {limit}, {over}",
                for_terminal(site)
            );
            o.push_str(&wrap(&format!("{head}  "), &text, LABEL + 2, w));
        }
    }
}

/// The notes and the question.
fn notes(o: &mut String, r: &Report, lang: Lang, st: &Style, w: usize) {
    let colon = lang.colon();
    if let Some(n) = &r.previous_note {
        o.push('\n');
        let head = format!(
            "{} ({}){colon}",
            lang.label(Label::YourNoteLastWeek),
            n.week
        );
        o.push_str(&wrap(&head, &lang.quote(&for_terminal(&n.text)), 2, w));
    }
    if let Some(n) = &r.note {
        o.push('\n');
        let head = format!("{} ({}){colon}", lang.label(Label::YourNote), n.week);
        o.push_str(&wrap(&head, &lang.quote(&for_terminal(&n.text)), 2, w));
    }
    o.push('\n');
    let head = format!("{}{colon}", lang.label(Label::ToReflectOn));
    o.push_str(&wrap(&st.bold(&head), &r.reflection.question, 2, w));
    if r.note.is_none() {
        let text = format!(
            "{}{colon}dwell-report note \"...\"",
            crate::text::keep_a_thought(r.period, lang)
        );
        o.push_str(&st.dim(&wrap("  ", &text, 4, w)));
    }
}

/// Social time by weekday and hour, for the busy hours (the first to the last
/// hour with any), with a key. Cells are two characters and a space apart, or
/// side by side with every other hour labelled when that does not fit.
fn heatmap(o: &mut String, r: &Report, lang: Lang, st: &Style, width: usize) {
    let max = r.heatmap.iter().flatten().copied().max().unwrap_or(0);
    if max == 0 {
        return;
    }
    let Some((h0, h1)) = busy_hours(r) else {
        return;
    };
    o.push('\n');
    let heading = lang.t(
        "When (social time by weekday and hour)",
        "Quand (temps social par jour et par heure)",
    );
    o.push_str(&st.bold(wrap("", heading, 2, width).trim_end()));
    o.push('\n');
    let hours = h1 - h0 + 1;
    let spaced = 7 + 3 * hours - 1 <= width;
    let gap = if spaced { " " } else { "" };
    let mut head = String::from("       ");
    for (i, h) in (h0..=h1).enumerate() {
        if spaced {
            let _ = write!(head, "{h:02} ");
        } else if i % 2 == 0 {
            let _ = write!(head, "{h:02}  ");
        }
    }
    let _ = writeln!(o, "{}", head.trim_end());
    const SHADES: [&str; 5] = ["· ", "░░", "▒▒", "▓▓", "██"];
    for (i, row) in r.heatmap.iter().enumerate() {
        if row.iter().all(|&v| v == 0) {
            continue;
        }
        let wd = chrono::Weekday::try_from(i as u8).unwrap_or(chrono::Weekday::Mon);
        let mut line = format!("  {}  ", pad(lang.weekday(wd), 3));
        for &v in row.get(h0..=h1).unwrap_or_default() {
            let _ = write!(line, "{}{gap}", SHADES[shade(v, max)]);
        }
        let _ = writeln!(o, "{}", line.trim_end());
    }
    let _ = writeln!(
        o,
        "  {}",
        st.dim(&format!(
            "· {}  ░ ▒ ▓ █ {} {}",
            lang.t("none", "aucun"),
            lang.t("up to", "jusqu'à"),
            lang.duration(max)
        ))
    );
}

/// The shade (0 for none, 1..=4) of `value` out of `max`.
pub fn shade(value: i64, max: i64) -> usize {
    if value <= 0 || max <= 0 {
        0
    } else {
        ((value as f64 / max as f64 * 4.0).ceil() as usize).clamp(1, 4)
    }
}

/// The first and the last hour of the day with any social time.
pub fn busy_hours(r: &Report) -> Option<(usize, usize)> {
    let busy = |h: usize| {
        r.heatmap
            .iter()
            .any(|row| row.get(h).is_some_and(|&v| v > 0))
    };
    Some((
        (0..24).find(|&h| busy(h))?,
        (0..24).rev().find(|&h| busy(h))?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars() {
        assert_eq!(bar(0.0, 10.0, 10, Some(5.0)), "     │");
        assert_eq!(bar(10.0, 10.0, 10, Some(5.0)), "██████████");
        assert_eq!(bar(2.5, 10.0, 4, None), "█");
        assert_eq!(bar(1.0, 8.0, 1, None), "▏");
    }

    #[test]
    fn wrapping_fits() {
        let text = "word ".repeat(60);
        for width in [NARROWEST, 70, WIDTH] {
            for line in wrap("Head: ", &text, 4, width).lines() {
                assert!(line.chars().count() <= width);
            }
        }
        let long = "x".repeat(100);
        for line in wrap("", &long, 2, 60).lines() {
            assert!(line.chars().count() <= 60, "{line}");
        }
        // A no-break space holds its words together.
        let fr = "mot ".repeat(12) + "2\u{a0}h\u{a0}30";
        assert!(wrap("", &fr, 0, 60).contains("2\u{a0}h\u{a0}30"));
    }

    #[test]
    fn width_fits_the_terminal() {
        assert_eq!(fit_width(None, None), 80);
        assert_eq!(fit_width(Some(70), Some("100")), 70);
        assert_eq!(fit_width(Some(40), None), 60);
        assert_eq!(fit_width(Some(200), None), 80);
        assert_eq!(fit_width(None, Some("66")), 66);
        assert_eq!(fit_width(Some(0), Some("66")), 66);
        assert_eq!(fit_width(None, Some("wide")), 80);
    }
}

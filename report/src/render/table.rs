//! `--format table`: the terminal view. Aligned, Unicode bars, at most 80
//! columns, colour only when asked (a terminal without `NO_COLOR`).

use dwell_core::text::for_terminal;
use std::fmt::Write;

use chrono::{DateTime, NaiveDate};

use crate::aggregate::Report;
use crate::text::Lang;

pub const WIDTH: usize = 80;
const DAY_BAR: usize = 40;
const SITE_BAR: usize = 20;
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

/// Word-wraps `text` to `WIDTH`, the first line after `first`, the others
/// indented by `indent` spaces.
pub fn wrap(first: &str, text: &str, indent: usize) -> String {
    let mut out = String::new();
    let mut line = first.to_owned();
    let mut len = visible_len(first);
    let mut fresh = true;
    for word in text.split_whitespace() {
        let w = word.chars().count();
        if !fresh && len + 1 + w > WIDTH {
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
        line.push_str(word);
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

pub fn render(r: &Report, lang: Lang, color: bool) -> String {
    let st = Style { color };
    let d = |s: i64| lang.duration(s);
    let mut o = String::new();
    let _ = writeln!(o, "{}", st.bold(&title(r, lang)));
    o.push_str(&st.dim(&wrap("", &r.privacy, 0)));
    o.push('\n');
    if r.databases > 1 {
        let line = match lang {
            Lang::Fr => format!("Réunit {} bases de données (--merge).", r.databases),
            Lang::En => format!("Combines {} databases (--merge).", r.databases),
        };
        o.push_str(&st.dim(&line));
        o.push('\n');
    }

    // Days.
    let limit = r.daily_threshold_seconds;
    let _ = writeln!(
        o,
        "{}{}",
        st.bold(&pad(
            lang.t("Social time per day", "Temps social par jour"),
            48
        )),
        rpad(
            &format!(
                "{} {}",
                lang.t("daily limit", "limite quotidienne"),
                d(limit)
            ),
            WIDTH - 48 - 2
        )
    );
    let scale = r
        .days
        .iter()
        .map(|x| x.seconds)
        .max()
        .unwrap_or(0)
        .max(limit) as f64;
    let show_all = r.days.len() <= 14;
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
        let b = bar(day.seconds as f64, scale, DAY_BAR, Some(limit as f64));
        let b = if day.over { st.warn(&b) } else { b };
        let pad_bar = " ".repeat(DAY_BAR.saturating_sub(bar_len(day.seconds, scale, limit)));
        let flag = if day.over {
            st.warn(lang.t("  over", "  dépassé"))
        } else {
            String::new()
        };
        let _ = writeln!(
            o,
            "  {}  {b}{pad_bar}  {}{flag}",
            pad(&lang.short_date(dt), 11),
            rpad(&d(day.seconds), 7),
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
    o.push('\n');
    // Totals.
    let total = match r.over_weekly {
        Some(over) => {
            let verdict = if over {
                st.warn(lang.t(
                    "over your weekly limit",
                    "au-delà de votre limite hebdomadaire",
                ))
            } else {
                st.good(lang.t("within your weekly limit", "dans votre limite hebdomadaire"))
            };
            format!(
                "{} {} {} {}{}{verdict}",
                d(r.total_seconds),
                lang.t("of", "sur"),
                d(r.weekly_threshold_seconds),
                lang.t("for the week", "pour la semaine"),
                lang.t(": ", " : "),
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
        &format!("  {}", pad(lang.t("Total", "Total"), LABEL)),
        &total,
        LABEL + 2,
    ));
    if r.days_over > 0 {
        let _ = writeln!(
            o,
            "  {}{}",
            pad("", LABEL),
            lang.t(
                "Days over the daily limit: ",
                "Jours au-delà de la limite : "
            )
            .to_owned()
                + &r.days_over.to_string()
        );
    }
    if let Some(share) = r.social_share {
        let _ = writeln!(
            o,
            "  {}{}{} {} ({} {} {})",
            pad(lang.t("Share", "Part"), LABEL),
            (share * 100.0).round(),
            lang.t("%", " %"),
            lang.t("of your active time was social", "de votre temps actif"),
            d(r.total_seconds),
            lang.t("of", "sur"),
            d(r.active_seconds)
        );
    }
    if r.empty {
        o.push('\n');
        o.push_str(&wrap("  ", lang.empty(), 2));
    }

    // Sites.
    if !r.sites.is_empty() {
        o.push('\n');
        let _ = writeln!(o, "{}", st.bold(lang.t("Top sites", "Sites principaux")));
        let top = r.sites.first().map(|s| s.seconds).unwrap_or(1) as f64;
        for s in r.sites.iter().take(MAX_SITES) {
            let _ = writeln!(
                o,
                "  {}  {}  {}  {}  {}",
                pad(&truncate(&for_terminal(&s.site), 22), 22),
                pad(&bar(s.seconds as f64, top, SITE_BAR, None), SITE_BAR),
                rpad(&d(s.seconds), 7),
                rpad(&format!("{:.0}%", s.share * 100.0), 4),
                st.dim(&lang.visits(s.visits))
            );
        }
        if r.sites.len() > MAX_SITES {
            let rest: i64 = r.sites[MAX_SITES..].iter().map(|s| s.seconds).sum();
            let _ = writeln!(
                o,
                "  {}  {}  {}",
                pad(
                    &format!(
                        "{} {}",
                        r.sites.len() - MAX_SITES,
                        if r.sites.len() - MAX_SITES == 1 {
                            lang.t("other", "autre")
                        } else {
                            lang.t("others", "autres")
                        }
                    ),
                    22
                ),
                " ".repeat(SITE_BAR),
                rpad(&d(rest), 7)
            );
        }
    }

    // Visits and streak.
    if r.visits.count > 0 {
        o.push('\n');
        let median = r.visits.median_seconds.map(d).unwrap_or_default();
        let _ = writeln!(
            o,
            "{}  {} · {} {median}",
            st.bold(&pad(lang.t("Visits", "Visites"), LABEL)),
            r.visits.count,
            lang.t("median length", "durée médiane"),
        );
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
            let head = st.bold(&pad(lang.t("Longest streak", "Plus longue série"), LABEL));
            let _ = write!(o, "{}", wrap(&format!("{head}  "), &text, LABEL + 2));
        }
    }

    // Heatmap.
    heatmap(&mut o, r, lang, &st);

    // Trend and reminders.
    o.push('\n');
    let trend = r
        .trend
        .as_ref()
        .map(|t| t.text.clone())
        .unwrap_or_else(|| lang.no_trend().to_owned());
    let head = st.bold(&pad(lang.t("Trend", "Tendance"), LABEL));
    o.push_str(&wrap(&format!("{head}  "), &trend, LABEL + 2));
    if let Some(rem) = &r.reminders {
        let parts: Vec<String> = rem
            .outcomes
            .iter()
            .map(|(k, v)| format!("{v} {}", lang.outcome(k, *v)))
            .collect();
        let mut text = format!("{}: {}.", rem.count, parts.join(", "));
        if rem.left_social_known > 0 {
            text.push_str(&format!(
                " {} {} {} {}.",
                lang.t(
                    "You left social sites within 2 minutes after",
                    "Vous avez quitté les réseaux sociaux en moins de 2 minutes après"
                ),
                rem.left_social_within_2_minutes,
                lang.t("of", "sur"),
                rem.left_social_known
            ));
        }
        let head = st.bold(&pad(lang.t("Reminders", "Rappels"), LABEL));
        o.push_str(&wrap(&format!("{head}  "), &text, LABEL + 2));
    }

    // Notes and the question.
    if let Some(n) = &r.previous_note {
        o.push('\n');
        let head = format!(
            "{} ({}): ",
            lang.t("Your note last week", "Votre note de la semaine dernière"),
            n.week
        );
        o.push_str(&wrap(&head, &format!("“{}”", for_terminal(&n.text)), 2));
    }
    if let Some(n) = &r.note {
        o.push('\n');
        let head = format!("{} ({}): ", lang.t("Your note", "Votre note"), n.week);
        o.push_str(&wrap(&head, &format!("“{}”", for_terminal(&n.text)), 2));
    }
    o.push('\n');
    o.push_str(&wrap(
        &st.bold(lang.t("To reflect on: ", "À méditer : ")),
        &r.reflection.question,
        2,
    ));
    if r.note.is_none() {
        o.push_str(&st.dim(lang.t(
            "  Keep a thought for next week: dwell-report note \"...\"\n",
            "  Gardez une pensée pour la semaine prochaine : dwell-report note \"...\"\n",
        )));
    }
    o
}

fn bar_len(value: i64, scale: f64, limit: i64) -> usize {
    bar(value as f64, scale, DAY_BAR, Some(limit as f64))
        .chars()
        .count()
}

fn heatmap(o: &mut String, r: &Report, lang: Lang, st: &Style) {
    let max = r.heatmap.iter().flatten().copied().max().unwrap_or(0);
    if max == 0 {
        return;
    }
    let busy = |h: usize| r.heatmap.iter().any(|row| row[h] > 0);
    let (Some(h0), Some(h1)) = ((0..24).find(|&h| busy(h)), (0..24).rev().find(|&h| busy(h)))
    else {
        return;
    };
    o.push('\n');
    let _ = writeln!(
        o,
        "{}",
        st.bold(lang.t(
            "When (social time by weekday and hour)",
            "Quand (temps social par jour et par heure)"
        ))
    );
    let mut head = String::from("       ");
    for h in h0..=h1 {
        let _ = write!(head, "{h:02} ");
    }
    let _ = writeln!(o, "{}", head.trim_end());
    const SHADES: [&str; 5] = ["· ", "░░", "▒▒", "▓▓", "██"];
    for (i, row) in r.heatmap.iter().enumerate() {
        if row.iter().all(|&v| v == 0) {
            continue;
        }
        let wd = chrono::Weekday::try_from(i as u8).unwrap_or(chrono::Weekday::Mon);
        let mut line = format!("  {}  ", pad(lang.weekday(wd), 3));
        for &v in &row[h0..=h1] {
            let level = if v == 0 {
                0
            } else {
                ((v as f64 / max as f64 * 4.0).ceil() as usize).clamp(1, 4)
            };
            let _ = write!(line, "{} ", SHADES[level]);
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
        for line in wrap("Head: ", &text, 4).lines() {
            assert!(line.chars().count() <= WIDTH);
        }
    }
}

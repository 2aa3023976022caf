//! `--format markdown`: the report as a Markdown document (headings, tables),
//! handy for a personal journal or notes app.

use dwell_core::text::for_terminal;
use std::fmt::Write;

use crate::aggregate::Report;
use crate::render::table::{busy_hours, title};
use crate::text::{Label, Lang, Words};

/// Escapes text that goes into a Markdown table cell or paragraph.
fn md(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!'
        ) {
            o.push('\\');
        }
        o.push(c);
    }
    o
}

pub fn render(r: &Report, lang: Lang) -> String {
    let mut o = String::new();
    header(&mut o, r, lang);
    days(&mut o, r, lang);
    totals(&mut o, r, lang);
    sites(&mut o, r, lang);
    patterns(&mut o, r, lang);
    trend(&mut o, r, lang);
    fit(&mut o, r, lang);
    heatmap(&mut o, r, lang);
    reflection(&mut o, r, lang);
    o
}

/// The title, the privacy line and, when empty, the empty line.
fn header(o: &mut String, r: &Report, lang: Lang) {
    let _ = writeln!(o, "# {}\n", md(&title(r, lang)));
    let _ = writeln!(o, "_{}_\n", md(&r.privacy));
    if r.empty {
        let _ = writeln!(o, "{}\n", md(lang.empty()));
    }
}

/// Days: the table of days.
fn days(o: &mut String, r: &Report, lang: Lang) {
    let d = |s: i64| lang.duration(s);
    let _ = writeln!(o, "## {}\n", lang.label(Label::PerDay));
    let _ = writeln!(
        o,
        "| {} | {} | {} | |",
        lang.label(Label::Day),
        lang.label(Label::SocialTime),
        lang.label(Label::DailyLimit)
    );
    o.push_str("|---|--:|--:|---|\n");
    for day in &r.days {
        let date = day
            .date
            .parse()
            .map(|x| lang.short_date(x))
            .unwrap_or_else(|_| day.date.clone());
        let flag = if day.over {
            lang.t("**over**", "**dépassé**")
        } else if day.recorded_hours_seconds == 0 && day.seconds == 0 && day.other_seconds == 0 {
            lang.t("_no recording hours_", "_pas d'heures d'enregistrement_")
        } else {
            ""
        };
        let _ = writeln!(
            o,
            "| {date} | {} | {} | {flag} |",
            d(day.seconds),
            d(day.threshold_seconds)
        );
    }
}

/// The total against the weekly limit and the social share.
fn totals(o: &mut String, r: &Report, lang: Lang) {
    let d = |s: i64| lang.duration(s);
    // `:` after a bold label, with French spacing.
    let colon = lang.colon().trim_end();
    let total = match r.over_weekly {
        Some(over) => format!(
            "{} {} {} {} ({})",
            d(r.total_seconds),
            lang.t("of", "sur"),
            d(r.weekly_threshold_seconds),
            lang.label(Label::ForTheWeek),
            if over {
                lang.label(Label::OverWeekly)
            } else {
                lang.label(Label::WithinWeekly)
            }
        ),
        None => d(r.total_seconds),
    };
    let _ = writeln!(o, "\n**{}{colon}** {total}\n", lang.label(Label::Total));
    if let Some(share) = r.social_share {
        let _ = writeln!(
            o,
            "**{}{colon}** {} ({} {} {})\n",
            lang.t(
                "Share of active time that was social",
                "Part sociale du temps actif"
            ),
            lang.percent(share * 100.0),
            d(r.total_seconds),
            lang.t("of", "sur"),
            d(r.active_seconds)
        );
    }
}

/// Sites: the top sites table.
fn sites(o: &mut String, r: &Report, lang: Lang) {
    let d = |s: i64| lang.duration(s);
    if !r.sites.is_empty() {
        let _ = writeln!(o, "## {}\n", lang.label(Label::TopSites));
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} |",
            lang.label(Label::Site),
            lang.label(Label::Time),
            lang.label(Label::Share),
            lang.label(Label::Visits)
        );
        o.push_str("|---|--:|--:|--:|\n");
        for s in &r.sites {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                md(&for_terminal(&s.site)),
                d(s.seconds),
                lang.percent(s.share * 100.0),
                s.visits
            );
        }
        o.push('\n');
    }
}

/// Patterns: visits and the longest streak.
fn patterns(o: &mut String, r: &Report, lang: Lang) {
    let d = |s: i64| lang.duration(s);
    // `:` after a bold label, with French spacing.
    let colon = lang.colon().trim_end();
    let _ = writeln!(o, "## {}\n", lang.label(Label::Patterns));
    let median = r
        .visits
        .median_seconds
        .map(|s| lang.visit_length(s))
        .unwrap_or_else(|| "—".into());
    let _ = writeln!(
        o,
        "- **{}{colon}** {} ({} {median})",
        lang.label(Label::Visits),
        r.visits.count,
        lang.label(Label::MedianLength)
    );
    if let Some(s) = &r.longest_streak {
        let _ = writeln!(
            o,
            "- **{}{colon}** {} ({}, {}–{}, {})",
            lang.label(Label::LongestStreak),
            d(s.social_seconds),
            s.date,
            s.start.get(11..16).unwrap_or(""),
            s.end.get(11..16).unwrap_or(""),
            lang.visits(s.visits)
        );
    }
}

/// The trend and the reminders, the end of the patterns list.
/// The site limits, the plan and the pause page, where they apply.
fn fit(o: &mut String, r: &Report, lang: Lang) {
    let colon = lang.colon().trim_end();
    if !r.site_limits.is_empty() {
        let _ = writeln!(
            o,
            "- **{}{colon}** {}",
            lang.label(Label::SiteLimits),
            md(&super::site_limits_line(r, lang))
        );
    }
    for (label, text) in super::fit_lines(r, lang) {
        let _ = writeln!(o, "- **{}{colon}** {}", lang.label(label), md(&text));
    }
}

fn trend(o: &mut String, r: &Report, lang: Lang) {
    // `:` after a bold label, with French spacing.
    let colon = lang.colon().trim_end();
    let trend = super::trend_text(r, lang);
    let _ = writeln!(
        o,
        "- **{}{colon}** {}",
        lang.label(Label::Trend),
        md(&trend)
    );
    if let Some(rem) = &r.reminders {
        let _ = writeln!(
            o,
            "- **{}{colon}** {} ({}); {} {} {} {}",
            lang.label(Label::Reminders),
            rem.count,
            super::outcome_counts(rem, lang),
            lang.t(
                "left social sites within 2 minutes after",
                "réseaux sociaux quittés en moins de 2 minutes après"
            ),
            rem.left_social_within_2_minutes,
            lang.t("of", "sur"),
            rem.left_social_known
        );
    }
    o.push('\n');
}

/// The heatmap: social minutes by weekday and hour.
fn heatmap(o: &mut String, r: &Report, lang: Lang) {
    // Heatmap: the busy hours, from the first to the last with social time
    // (as the terminal and the HTML page show them).
    let busy: Vec<usize> = busy_hours(r)
        .map(|(a, b)| (a..=b).collect())
        .unwrap_or_default();
    if !busy.is_empty() {
        let _ = writeln!(
            o,
            "## {}\n",
            lang.t(
                "Social minutes by weekday and hour",
                "Minutes sociales par jour et par heure"
            )
        );
        o.push_str("| |");
        for h in &busy {
            let _ = write!(o, " {h:02}h |");
        }
        o.push_str("\n|---|");
        for _ in &busy {
            o.push_str("--:|");
        }
        o.push('\n');
        for (i, row) in r.heatmap.iter().enumerate() {
            let wd = chrono::Weekday::try_from(i as u8).unwrap_or(chrono::Weekday::Mon);
            let _ = write!(o, "| {} |", lang.weekday(wd));
            for &h in &busy {
                let v = row.get(h).copied().unwrap_or(0);
                let _ = write!(o, " {} |", (v + 30) / 60);
            }
            o.push('\n');
        }
        o.push('\n');
    }
}

/// The notes and the question.
fn reflection(o: &mut String, r: &Report, lang: Lang) {
    // `:` after a bold label, with French spacing.
    let colon = lang.colon().trim_end();
    if let Some(n) = &r.previous_note {
        let _ = writeln!(
            o,
            "> **{} ({}){colon}** {}\n",
            lang.label(Label::YourNoteLastWeek),
            n.week,
            md(&n.text)
        );
    }
    if let Some(n) = &r.note {
        let _ = writeln!(
            o,
            "> **{} ({}){colon}** {}\n",
            lang.label(Label::YourNote),
            n.week,
            md(&n.text)
        );
    }
    let _ = writeln!(
        o,
        "**{}{colon}** {}",
        lang.label(Label::ToReflectOn),
        md(&r.reflection.question)
    );
}

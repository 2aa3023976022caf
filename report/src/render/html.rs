//! `--format html`: one self-contained page. Inline CSS and inline SVG charts
//! (daily bars against the budget line, the heatmap, the trend), no script and
//! no external resource of any kind; readable in dark mode and printed; every
//! chart has a text alternative and its numbers in a table.

use dwell_core::text::for_terminal;
use std::fmt::Write;

use crate::aggregate::{Report, Trend};
use crate::render::table::{busy_hours, title};
use crate::text::{Label, Lang, Words};

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const CSS: &str = r#"
:root { --bg:#f7f5f0; --card:#ffffff; --fg:#1f2328; --muted:#5d6570; --bar:#3f7cac; --over:#c0563b;
  --line:#6b7280; --grid:#e3e0d8; }
@media (prefers-color-scheme: dark) {
  :root { --bg:#15171b; --card:#1e2126; --fg:#e7e7e7; --muted:#a3a9b1; --bar:#6ea6d6; --over:#e58467;
    --line:#b0b6bf; --grid:#32363d; }
}
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg);
  color: var(--fg); max-width: 54rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 0 0 .75rem; }
section { background: var(--card); border-radius: 12px; padding: 1rem 1.25rem; margin: 1rem 0;
  box-shadow: 0 1px 2px rgba(0,0,0,.06); }
.muted, .privacy { color: var(--muted); }
.privacy { margin: 0; }
.big { font-size: 1.25rem; }
.over-text { color: var(--over); font-weight: 600; }
.ok-text { font-weight: 600; }
svg { width: 100%; height: auto; display: block; margin: .5rem 0 1rem; }
svg text { fill: var(--fg); font: 12px system-ui, sans-serif; paint-order: stroke; stroke: var(--card);
  stroke-width: 3px; stroke-linejoin: round; }
svg .bar { fill: var(--bar); }
svg .over { fill: var(--over); }
svg .current { stroke: var(--fg); stroke-width: 1.5; }
svg .limit { stroke: var(--line); stroke-width: 1.5; stroke-dasharray: 5 4; }
svg .axis { stroke: var(--grid); }
svg .cell0 { fill: var(--grid); }
svg .cell { fill: var(--bar); }
table { border-collapse: collapse; width: 100%; font-size: .95rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--grid); }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.meter { display: inline-block; height: .7rem; background: var(--bar); border-radius: 3px; vertical-align: middle; }
table.heat td, table.heat th { padding: .15rem .3rem; font-size: .8rem; }
blockquote { margin: .5rem 0; padding: .25rem .75rem; border-left: 3px solid var(--bar); }
.question { font-size: 1.15rem; font-style: italic; }
footer { color: var(--muted); font-size: .85rem; margin-top: 2rem; }
@media print {
  :root { --bg:#fff; --card:#fff; --fg:#000; --muted:#333; --bar:#555; --over:#000; --line:#000; --grid:#ccc; }
  body { max-width: none; padding: 0; }
  section { box-shadow: none; border: 1px solid #ccc; break-inside: avoid; }
}
"#;

/// The page `--open` shows before dwell records anything (no database yet):
/// what to do to start, so the desktop entry never opens to nothing.
pub fn not_recording(lang: Lang) -> String {
    let title = lang.t(
        "dwell is not recording yet",
        "dwell n'enregistre pas encore",
    );
    let (start, start_cmd, demo, demo_cmd) = (
        lang.t(
            "To start, opt in from a terminal:",
            "Pour commencer, activez-le depuis un terminal\u{a0}:",
        ),
        "dwell-agent setup",
        lang.t(
            "To see what a week's report looks like first:",
            "Pour voir d'abord à quoi ressemble le rapport d'une semaine\u{a0}:",
        ),
        "dwell-report --data-dir /tmp/dwell-demo demo\ndwell-report --data-dir /tmp/dwell-demo week --last --format html --open",
    );
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <title>{t}</title>\n<style>{CSS}</style>\n</head>\n<body>\n\
         <header>\n<h1>{t}</h1>\n<p class=\"privacy\">{}</p>\n</header>\n\
         <section>\n<p>{}</p>\n<pre style=\"white-space: pre-wrap\"><code>{}</code></pre>\n<p>{}</p>\n<pre style=\"white-space: pre-wrap\"><code>{}</code></pre>\n</section>\n\
         </body>\n</html>\n",
        lang.tag(),
        esc(lang.privacy()),
        esc(start),
        esc(start_cmd),
        esc(demo),
        esc(demo_cmd),
        t = esc(title),
    )
}

pub fn render(r: &Report, lang: Lang) -> String {
    let mut o = String::with_capacity(32 * 1024);
    head(&mut o, r, lang);
    days(&mut o, r, lang);
    totals(&mut o, r, lang);
    sites(&mut o, r, lang);
    patterns(&mut o, r, lang);
    trend(&mut o, r, lang);
    reminders(&mut o, r, lang);
    fit(&mut o, r, lang);
    reflection(&mut o, r, lang);
    footer(&mut o, r, lang);
    o
}

/// The document head, the title and the privacy line.
fn head(o: &mut String, r: &Report, lang: Lang) {
    let html_lang = lang.tag();
    let title = esc(&title(r, lang));
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"{html_lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n\
         <header>\n<h1>{title}</h1>\n<p class=\"privacy\">{}</p>\n</header>\n",
        esc(&r.privacy)
    );
}

/// Days: the chart and the table of days.
fn days(o: &mut String, r: &Report, lang: Lang) {
    let d = |s: i64| esc(&lang.duration(s));
    let _ = writeln!(o, "<section>\n<h2>{}</h2>", lang.label(Label::PerDay));
    if r.empty {
        let _ = writeln!(o, "<p class=\"big\">{}</p>", esc(lang.empty()));
    }
    days_chart(o, r, lang);
    let _ = writeln!(
        o,
        "<table>\n<thead><tr><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th></th></tr></thead>\n<tbody>",
        lang.label(Label::Day),
        lang.label(Label::SocialTime),
        lang.label(Label::DailyLimit),
        lang.label(Label::Visits),
    );
    for day in &r.days {
        let date = day
            .date
            .parse()
            .map(|x| lang.short_date(x))
            .unwrap_or_else(|_| day.date.clone());
        let flag = if day.over {
            format!(
                "<span class=\"over-text\">{}</span>",
                lang.t("over", "dépassé")
            )
        } else if day.recorded_hours_seconds == 0 && day.seconds == 0 && day.other_seconds == 0 {
            format!(
                "<span class=\"muted\">{}</span>",
                lang.t("no recording hours", "pas d'heures d'enregistrement")
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{flag}</td></tr>",
            esc(&date),
            d(day.seconds),
            d(day.threshold_seconds),
            day.visits
        );
    }
    o.push_str("</tbody>\n</table>\n");
}

/// The total against the weekly limit and the social share.
fn totals(o: &mut String, r: &Report, lang: Lang) {
    let d = |s: i64| esc(&lang.duration(s));
    let colon = lang.colon().trim_end();
    match r.over_weekly {
        Some(over) => {
            let verdict = if over {
                format!(
                    "<span class=\"over-text\">{}</span>",
                    lang.label(Label::OverWeekly)
                )
            } else {
                format!(
                    "<span class=\"ok-text\">{}</span>",
                    lang.label(Label::WithinWeekly)
                )
            };
            let _ = writeln!(
                o,
                "<p class=\"big\">{}{colon} <strong>{}</strong> {} {}, {verdict}.</p>",
                lang.t("This week", "Cette semaine"),
                d(r.total_seconds),
                lang.t("of", "sur"),
                d(r.weekly_threshold_seconds),
            );
        }
        None => {
            let _ = writeln!(
                o,
                "<p class=\"big\">{}{colon} <strong>{}</strong>.</p>",
                lang.label(Label::Total),
                d(r.total_seconds)
            );
        }
    }
    if let Some(share) = r.social_share {
        let _ = writeln!(
            o,
            "<p>{}{colon} <strong>{}</strong> ({} {} {}).</p>",
            lang.t(
                "Share of your active time that was social",
                "Part sociale de votre temps actif"
            ),
            lang.percent(share * 100.0),
            d(r.total_seconds),
            lang.t("of", "sur"),
            d(r.active_seconds)
        );
    }
    o.push_str("</section>\n");
}

/// Sites: the top sites with a meter each.
fn sites(o: &mut String, r: &Report, lang: Lang) {
    let d = |s: i64| esc(&lang.duration(s));
    if !r.sites.is_empty() {
        let _ = writeln!(
            o,
            "<section>\n<h2>{}</h2>\n<table>\n<thead><tr><th>{}</th><th></th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th></tr></thead>\n<tbody>",
            lang.label(Label::TopSites),
            lang.label(Label::Site),
            lang.label(Label::Time),
            lang.label(Label::Share),
            lang.label(Label::Visits),
        );
        let top = r.sites.first().map(|s| s.seconds).unwrap_or(1).max(1) as f64;
        for s in &r.sites {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td style=\"width:40%\"><span class=\"meter\" style=\"width:{:.1}%\"></span></td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(&for_terminal(&s.site)),
                s.seconds as f64 / top * 100.0,
                d(s.seconds),
                lang.percent(s.share * 100.0),
                s.visits
            );
        }
        o.push_str("</tbody>\n</table>\n</section>\n");
    }
}

/// Patterns: visits, the longest streak and the heatmap.
fn patterns(o: &mut String, r: &Report, lang: Lang) {
    let d = |s: i64| esc(&lang.duration(s));
    let colon = lang.colon().trim_end();
    let _ = writeln!(o, "<section>\n<h2>{}</h2>", lang.label(Label::Patterns));
    let median = r
        .visits
        .median_seconds
        .map(|s| esc(&lang.visit_length(s)))
        .unwrap_or_else(|| "—".into());
    let _ = writeln!(
        o,
        "<p>{}{colon} <strong>{}</strong>, {} <strong>{median}</strong>.</p>",
        lang.label(Label::Visits),
        r.visits.count,
        lang.label(Label::MedianLength),
    );
    if let Some(s) = &r.longest_streak {
        let date = s
            .date
            .parse()
            .map(|x| lang.short_date(x))
            .unwrap_or_else(|_| s.date.clone());
        let _ = writeln!(
            o,
            "<p>{}{colon} <strong>{}</strong> {} {}, {}–{} ({}; {} {}).</p>",
            lang.label(Label::LongestStreak),
            d(s.social_seconds),
            lang.t("on", "le"),
            esc(&date),
            esc(s.start.get(11..16).unwrap_or("")),
            esc(s.end.get(11..16).unwrap_or("")),
            lang.visits(s.visits),
            lang.t("your streak limit is", "votre limite de série est de"),
            d(r.streak_threshold_seconds)
        );
    }
    heatmap(o, r, lang);
    o.push_str("</section>\n");
}

/// Trend: the sentence and its chart.
fn trend(o: &mut String, r: &Report, lang: Lang) {
    let _ = writeln!(o, "<section>\n<h2>{}</h2>", lang.label(Label::Trend));
    match &r.trend {
        Some(t) => {
            let _ = writeln!(o, "<p class=\"big\">{}</p>", esc(&t.text));
            trend_chart(o, r, lang);
        }
        None => {
            let _ = writeln!(o, "<p>{}</p>", esc(lang.no_trend()));
        }
    }
    o.push_str("</section>\n");
}

/// Reminders: their count and outcomes.
fn reminders(o: &mut String, r: &Report, lang: Lang) {
    let colon = lang.colon().trim_end();
    if let Some(rem) = &r.reminders {
        let _ = writeln!(
            o,
            "<section>\n<h2>{}</h2>\n<p>{}{colon} <strong>{}</strong>.</p>\n<table>\n<tbody>",
            lang.label(Label::Reminders),
            lang.t("Reminders this period", "Rappels pendant la période"),
            rem.count
        );
        for (k, v) in &rem.outcomes {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td class=\"n\">{v}</td></tr>",
                esc(&lang.outcome(k, 2))
            );
        }
        o.push_str("</tbody>\n</table>\n");
        if rem.left_social_known > 0 {
            let _ = writeln!(
                o,
                "<p>{} <strong>{}</strong> {} {}.</p>",
                lang.label(Label::LeftWithinTwoMinutes),
                rem.left_social_within_2_minutes,
                lang.t("of", "sur"),
                rem.left_social_known
            );
        }
        o.push_str("</section>\n");
    }
}

/// The site limits, the plan and the pause page, where they apply.
fn fit(o: &mut String, r: &Report, lang: Lang) {
    let lines = super::fit_lines(r, lang);
    if lines.is_empty() && r.site_limits.is_empty() {
        return;
    }
    let colon = lang.colon().trim_end();
    let _ = writeln!(
        o,
        "<section>\n<h2>{}</h2>",
        lang.t("Your own limits", "Vos propres limites")
    );
    site_limits(o, r, lang);
    for (label, text) in lines {
        let _ = writeln!(
            o,
            "<p><strong>{}{colon}</strong> {}</p>",
            lang.label(label),
            esc(&text)
        );
    }
    o.push_str("</section>\n");
}

/// The sites with a limit of their own: a table of each one's time, its
/// limit a day and the days over it (flagged like a day over the limit).
fn site_limits(o: &mut String, r: &Report, lang: Lang) {
    let rows = super::site_limit_rows(r, lang);
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        o,
        "<table>\n<thead><tr><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th></th></tr></thead>\n<tbody>",
        lang.label(Label::SiteLimits),
        lang.label(Label::Time),
        lang.t("Limit", "Limite"),
    );
    for (s, [site, total, limit, over]) in r.site_limits.iter().zip(&rows) {
        let class = if s.days_over > 0 {
            "over-text"
        } else {
            "muted"
        };
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td><span class=\"{class}\">{}</span></td></tr>",
            esc(&for_terminal(site)),
            esc(total),
            esc(limit),
            esc(over)
        );
    }
    o.push_str("</tbody>\n</table>\n");
}

/// Reflection: the notes and the question.
fn reflection(o: &mut String, r: &Report, lang: Lang) {
    let colon = lang.colon().trim_end();
    let _ = writeln!(
        o,
        "<section>\n<h2>{}</h2>",
        lang.t("Reflection", "Réflexion")
    );
    if let Some(n) = &r.previous_note {
        let _ = writeln!(
            o,
            "<p class=\"muted\">{} ({}){colon}</p>\n<blockquote>{}</blockquote>",
            lang.label(Label::YourNoteLastWeek),
            esc(&n.week),
            esc(&n.text)
        );
    }
    if let Some(n) = &r.note {
        let _ = writeln!(
            o,
            "<p class=\"muted\">{} ({}){colon}</p>\n<blockquote>{}</blockquote>",
            lang.label(Label::YourNote),
            esc(&n.week),
            esc(&n.text)
        );
    }
    let _ = writeln!(
        o,
        "<p class=\"question\">{}</p>",
        esc(&r.reflection.question)
    );
    if r.note.is_none() {
        let _ = writeln!(
            o,
            "<p class=\"muted\">{}{colon} <code>dwell-report note \"…\"</code></p>",
            crate::text::keep_a_thought(r.period, lang)
        );
    }
    o.push_str("</section>\n");
}

/// The footer: where and from what the page was made.
fn footer(o: &mut String, r: &Report, lang: Lang) {
    let _ = writeln!(
        o,
        "<footer>{} {} {}.</footer>\n</body>\n</html>",
        lang.t(
            "Made by dwell-report on this computer from",
            "Produit par dwell-report sur cet ordinateur de"
        ),
        esc(&r.from),
        if r.from == r.to {
            String::new()
        } else {
            format!("{} {}", lang.t("to", "à"), esc(&r.to))
        }
    );
}

fn days_chart(o: &mut String, r: &Report, lang: Lang) {
    let n = r.days.len();
    if n == 0 {
        return;
    }
    let (w, h, left, bottom, top) = (640.0, 220.0, 40.0, 30.0, 16.0);
    let plot_h = h - bottom - top;
    let limit = r.daily_threshold_seconds as f64;
    let max = r
        .days
        .iter()
        .map(|d| d.seconds as f64)
        .fold(limit * 1.2, f64::max)
        .max(1.0);
    let slot = (w - left - 8.0) / n as f64;
    let bar_w = (slot * 0.62).max(1.0);
    let y = |v: f64| top + plot_h * (1.0 - v / max);
    let desc = days_desc(r, lang);
    let _ = writeln!(
        o,
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"days-t days-d\">\n<title id=\"days-t\">{}</title>\n<desc id=\"days-d\">{}</desc>",
        esc(lang.t(
            "Bar chart of social time per day against the daily limit",
            "Diagramme du temps social par jour par rapport à la limite quotidienne"
        )),
        esc(&desc.join("; "))
    );
    let _ = writeln!(
        o,
        "<line class=\"axis\" x1=\"{left}\" y1=\"{:.1}\" x2=\"{w}\" y2=\"{:.1}\"/>",
        top + plot_h,
        top + plot_h
    );
    for (i, d) in r.days.iter().enumerate() {
        let x = left + slot * i as f64 + (slot - bar_w) / 2.0;
        let v = d.seconds as f64;
        let class = if d.over { "over" } else { "bar" };
        if v > 0.0 {
            let _ = writeln!(
                o,
                "<rect class=\"{class}\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar_w:.1}\" height=\"{:.1}\" rx=\"2\"/>",
                y(v),
                top + plot_h - y(v)
            );
        }
        if n <= 14 {
            let label = d
                .date
                .parse::<chrono::NaiveDate>()
                .map(|x| lang.weekday(chrono::Datelike::weekday(&x)).to_owned())
                .unwrap_or_default();
            let _ = writeln!(
                o,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                x + bar_w / 2.0,
                h - 10.0,
                esc(&label)
            );
        }
    }
    let ly = y(limit);
    let _ = writeln!(
        o,
        "<line class=\"limit\" x1=\"{left}\" y1=\"{ly:.1}\" x2=\"{w}\" y2=\"{ly:.1}\"/>\n<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\n<text x=\"0\" y=\"{:.1}\">{}</text>\n</svg>",
        w - 2.0,
        ly - 4.0,
        esc(&format!(
            "{} {}",
            lang.t("daily limit", "limite quotidienne"),
            lang.duration(r.daily_threshold_seconds)
        )),
        top + 4.0,
        esc(&lang.duration(max as i64))
    );
}

/// The days chart's text alternative: each day, its social time, and whether over.
fn days_desc(r: &Report, lang: Lang) -> Vec<String> {
    r.days
        .iter()
        .map(|d| {
            format!(
                "{} {}{}",
                d.date,
                lang.duration(d.seconds),
                if d.over {
                    lang.t(" (over)", " (dépassé)")
                } else {
                    ""
                }
            )
        })
        .collect()
}

/// The heatmap of the busy hours (the terminal's: from the first to the last
/// hour with any social time), with a colour key, then its numbers in a table.
fn heatmap(o: &mut String, r: &Report, lang: Lang) {
    let max = r.heatmap.iter().flatten().copied().max().unwrap_or(0);
    if max == 0 {
        return;
    }
    let Some((h0, h1)) = busy_hours(r) else {
        return;
    };
    let g = Grid { max, h0, h1 };
    heat_head(o, r, lang, g);
    heat_cells(o, r, lang, g);
    heat_key(o, lang, g);
    o.push_str("</svg>\n");
    heat_table(o, r, lang, g);
}

/// The heatmap's busy hours `h0..=h1`, its most in an hour, and its sizes.
#[derive(Clone, Copy)]
struct Grid {
    max: i64,
    h0: usize,
    h1: usize,
}

impl Grid {
    const CELL: f64 = 24.0;
    const LEFT: f64 = 40.0;
    const TOP: f64 = 18.0;
    const KEY: f64 = 30.0;

    /// How many hours the heatmap shows.
    fn hours(self) -> usize {
        self.h1 - self.h0 + 1
    }

    /// Where the grid ends and the key begins.
    fn bottom(self) -> f64 {
        Self::TOP + Self::CELL * 7.0
    }
}

/// The heatmap's heading, the SVG's opening with its text alternative, and
/// the hours above the grid.
fn heat_head(o: &mut String, r: &Report, lang: Lang, g: Grid) {
    let (hours, cell, left, key) = (g.hours(), Grid::CELL, Grid::LEFT, Grid::KEY);
    let w = (left + cell * hours as f64 + 4.0).max(left + 260.0);
    let h = g.bottom() + key;
    let mut desc = Vec::new();
    for (i, row) in r.heatmap.iter().enumerate() {
        if let Some((hour, &v)) = row.iter().enumerate().max_by_key(|(_, v)| **v) {
            if v > 0 {
                let wd = chrono::Weekday::try_from(i as u8).unwrap_or(chrono::Weekday::Mon);
                desc.push(format!(
                    "{} {} {hour:02}:00 ({})",
                    lang.weekday(wd),
                    lang.t("busiest at", "surtout à"),
                    lang.duration(v)
                ));
            }
        }
    }
    let _ = writeln!(
        o,
        "<h3>{}{}{}</h3>\n<svg class=\"heat\" style=\"max-width:{:.0}px\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"heat-t heat-d\">\n<title id=\"heat-t\">{}</title>\n<desc id=\"heat-d\">{}</desc>",
        lang.t("When", "Quand"),
        lang.colon(),
        lang.t(
            "social time by weekday and hour",
            "temps social par jour et par heure"
        ),
        w * 1.25,
        esc(lang.t(
            "Heatmap of social time by weekday and hour of day",
            "Carte de chaleur du temps social par jour et par heure"
        )),
        esc(&desc.join("; "))
    );
    let every = if hours <= 16 { 1 } else { 2 };
    for (i, hour) in (g.h0..=g.h1).enumerate().step_by(every) {
        let _ = writeln!(
            o,
            "<text x=\"{:.1}\" y=\"12\" text-anchor=\"middle\">{hour:02}</text>",
            left + cell * i as f64 + (cell - 2.0) / 2.0
        );
    }
}

/// The heatmap's rows: a weekday, then a cell per busy hour.
fn heat_cells(o: &mut String, r: &Report, lang: Lang, g: Grid) {
    let (cell, left, top, max, h0) = (Grid::CELL, Grid::LEFT, Grid::TOP, g.max, g.h0);
    let opacity = |v: i64| 0.2 + 0.8 * (v as f64 / max as f64);
    for (i, row) in r.heatmap.iter().enumerate() {
        let wd = chrono::Weekday::try_from(i as u8).unwrap_or(chrono::Weekday::Mon);
        let yy = top + cell * i as f64;
        let _ = writeln!(
            o,
            "<text x=\"0\" y=\"{:.1}\">{}</text>",
            yy + cell * 0.68,
            esc(lang.weekday(wd))
        );
        for (j, &v) in row.get(h0..=g.h1).unwrap_or_default().iter().enumerate() {
            let hour = h0 + j;
            let x = left + cell * j as f64;
            if v == 0 {
                let _ = writeln!(
                    o,
                    "<rect class=\"cell0\" x=\"{x:.1}\" y=\"{yy:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"3\"/>",
                    cell - 2.0,
                    cell - 2.0
                );
            } else {
                let _ = writeln!(
                    o,
                    "<rect class=\"cell\" fill-opacity=\"{:.2}\" x=\"{x:.1}\" y=\"{yy:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"3\"><title>{}</title></rect>",
                    opacity(v),
                    cell - 2.0,
                    cell - 2.0,
                    esc(&format!("{} {hour:02}:00 {}", lang.weekday(wd), lang.duration(v)))
                );
            }
        }
    }
}

/// The heatmap's key: none, then from a little to the most in one hour.
fn heat_key(o: &mut String, lang: Lang, g: Grid) {
    let left = Grid::LEFT;
    let (ky, k) = (g.bottom() + 10.0, 14.0);
    let _ = writeln!(
        o,
        "<rect class=\"cell0\" x=\"{left}\" y=\"{ky:.1}\" width=\"{k}\" height=\"{k}\" rx=\"3\"/>\n<text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
        left + k + 4.0,
        ky + 11.0,
        esc(lang.t("none", "aucun"))
    );
    let kx = left + 70.0;
    for (i, op) in [0.2, 0.4, 0.6, 0.8, 1.0].iter().enumerate() {
        let _ = writeln!(
            o,
            "<rect class=\"cell\" fill-opacity=\"{op:.2}\" x=\"{:.1}\" y=\"{ky:.1}\" width=\"{k}\" height=\"{k}\" rx=\"3\"/>",
            kx + (k + 2.0) * i as f64
        );
    }
    let _ = writeln!(
        o,
        "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
        kx + (k + 2.0) * 5.0 + 4.0,
        ky + 11.0,
        esc(&format!(
            "{} {}",
            lang.t("up to", "jusqu'à"),
            lang.duration(g.max)
        ))
    );
}

/// The heatmap's numbers, in minutes, in a table.
fn heat_table(o: &mut String, r: &Report, lang: Lang, g: Grid) {
    let (h0, h1) = (g.h0, g.h1);
    let _ = write!(
        o,
        "<table class=\"heat\">\n<caption class=\"muted\">{}</caption>\n<thead><tr><th></th>",
        lang.t("Minutes of social time", "Minutes de temps social")
    );
    for h in h0..=h1 {
        let _ = write!(o, "<th class=\"n\">{h:02}</th>");
    }
    o.push_str("</tr></thead>\n<tbody>\n");
    for (i, row) in r.heatmap.iter().enumerate() {
        let wd = chrono::Weekday::try_from(i as u8).unwrap_or(chrono::Weekday::Mon);
        let _ = write!(o, "<tr><th>{}</th>", esc(lang.weekday(wd)));
        for v in row.get(h0..=h1).unwrap_or_default() {
            let _ = write!(o, "<td class=\"n\">{}</td>", (v + 30) / 60);
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</tbody>\n</table>\n");
}

fn trend_chart(o: &mut String, r: &Report, lang: Lang) {
    let Some(t) = &r.trend else { return };
    let bars = trend_bars(t, lang);
    let (w, h, top, bottom) = (640.0, 180.0, 16.0, 30.0);
    let plot_h = h - top - bottom;
    let max = bars
        .iter()
        .filter_map(|b| b.1)
        .chain([t.recent_daily_seconds, r.daily_threshold_seconds])
        .max()
        .unwrap_or(1)
        .max(1) as f64
        * 1.1;
    let slot = w / bars.len() as f64;
    let y = |v: f64| top + plot_h * (1.0 - v / max);
    let desc: Vec<String> = bars
        .iter()
        .map(|(l, v, _)| match v {
            Some(v) => format!("{l}{}{}", lang.colon(), lang.duration(*v)),
            None => format!("{l}{}—", lang.colon()),
        })
        .collect();
    let _ = writeln!(
        o,
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"trend-t trend-d\">\n<title id=\"trend-t\">{}</title>\n<desc id=\"trend-d\">{}</desc>",
        esc(lang.t(
            "Average social time per recorded day, earlier weeks and this period",
            "Temps social moyen par jour enregistré, semaines précédentes et cette période"
        )),
        esc(&desc.join("; "))
    );
    // The average first, behind the bars and their labels.
    let ay = y(t.recent_daily_seconds as f64);
    let _ = writeln!(
        o,
        "<line class=\"limit\" x1=\"0\" y1=\"{ay:.1}\" x2=\"{w}\" y2=\"{ay:.1}\"/>"
    );
    for (i, (label, v, current)) in bars.iter().enumerate() {
        let x = slot * i as f64 + slot * 0.2;
        let bw = slot * 0.6;
        if let Some(v) = v {
            let v = *v as f64;
            let _ = writeln!(
                o,
                "<rect class=\"{}\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{:.1}\" rx=\"2\"{}/>",
                if *current { "bar current" } else { "bar" },
                y(v),
                top + plot_h - y(v),
                if *current { "" } else { " fill-opacity=\"0.55\"" }
            );
            // The value above its bar, or above the average line when the
            // line would run through it (12px text stands on its baseline).
            let mut ty = y(v) - 4.0;
            if (ty - 14.0..=ty + 3.0).contains(&ay) {
                ty = ay - 4.0;
            }
            let _ = writeln!(
                o,
                "<text x=\"{:.1}\" y=\"{ty:.1}\" text-anchor=\"middle\">{}</text>",
                x + bw / 2.0,
                esc(&lang.duration(v as i64))
            );
        }
        let _ = writeln!(
            o,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            x + bw / 2.0,
            h - 10.0,
            esc(label)
        );
    }
    o.push_str("</svg>\n");
    trend_table(o, t, lang);
}

/// The trend's bars: each earlier week (oldest first), then this period.
fn trend_bars(t: &Trend, lang: Lang) -> Vec<(String, Option<i64>, bool)> {
    let mut bars: Vec<(String, Option<i64>, bool)> = t
        .weekly_daily_seconds
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let ago = t.weekly_daily_seconds.len() - i;
            let label = match lang {
                Lang::En => format!("{ago} wk ago"),
                Lang::Fr => format!("il y a {ago} sem."),
            };
            (label, *v, false)
        })
        .collect();
    bars.push((
        lang.t("this period", "cette période").to_owned(),
        Some(t.daily_seconds),
        true,
    ));
    bars
}

/// The trend's numbers in a table: this period and the average before.
fn trend_table(o: &mut String, t: &Trend, lang: Lang) {
    let _ = writeln!(
        o,
        "<table>\n<tbody>\n<tr><td>{}</td><td class=\"n\">{}</td></tr>\n<tr><td>{}</td><td class=\"n\">{}</td></tr>\n</tbody>\n</table>",
        lang.t("This period, per recorded day", "Cette période, par jour enregistré"),
        esc(&lang.duration(t.daily_seconds)),
        lang.t(
            "Average of the 4 previous weeks (dashed line)",
            "Moyenne des 4 semaines précédentes (ligne pointillée)"
        ),
        esc(&lang.duration(t.recent_daily_seconds))
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}

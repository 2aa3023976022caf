//! Renderers: one module per output format, all reading the same [`Report`].

pub mod csv;
pub mod html;
pub mod json;
pub mod markdown;
pub mod table;

use crate::aggregate::{Reminders, Report};
use crate::text::{Label, Lang, Words};

/// Output formats of `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
    Markdown,
    Html,
}

impl Format {
    /// File extension for `--open` without `--output`.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Table => "txt",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Markdown => "md",
            Format::Html => "html",
        }
    }
}

/// Renders `report` as `format`; `color` and `width` (in columns, see
/// [`table::fit_width`]) only matter for the table.
pub fn render(report: &Report, lang: Lang, format: Format, color: bool, width: usize) -> String {
    match format {
        Format::Table => table::render(report, lang, color, width),
        Format::Json => json::render(report),
        Format::Csv => csv::render(report),
        Format::Markdown => markdown::render(report, lang),
        Format::Html => html::render(report, lang),
    }
}

/// The trend's sentence, or the words saying there is not enough history yet.
fn trend_text(r: &Report, lang: Lang) -> String {
    r.trend
        .as_ref()
        .map(|t| t.text.clone())
        .unwrap_or_else(|| lang.no_trend().to_owned())
}

/// The outcomes of the reminders with their counts: `3 shown, 1 snoozed`.
fn outcome_counts(rem: &Reminders, lang: Lang) -> String {
    let parts: Vec<String> = rem
        .outcomes
        .iter()
        .map(|(k, v)| format!("{v} {}", lang.outcome(k, *v)))
        .collect();
    parts.join(", ")
}

/// The lines of limits that fit a person, each where it applies: the plan's
/// step and how the week went against it, and how the pause page ended. One
/// definition for the table, Markdown and HTML (each escapes the text its own
/// way). The sites with a limit of their own come before, one row each
/// ([`site_limit_rows`]), or as one line in Markdown ([`site_limits_line`]).
fn fit_lines(r: &Report, lang: Lang) -> Vec<(Label, String)> {
    let mut out = Vec::new();
    if let Some(p) = &r.plan {
        out.push((Label::Plan, plan_line(p, lang)));
    }
    if let Some(p) = r.reminders.as_ref().and_then(|rem| rem.pause_page.as_ref()) {
        out.push((Label::PausePage, pause_line(p, lang)));
    }
    out
}

/// `3 days`, `1 day` (French `3 jours`, with a no-break space).
fn days_words(lang: Lang, n: i64) -> String {
    match (lang, n) {
        (Lang::En, 1) => "1 day".to_owned(),
        (Lang::En, n) => format!("{n} days"),
        (Lang::Fr, n) if n <= 1 => format!("{n}\u{a0}jour"),
        (Lang::Fr, n) => format!("{n}\u{a0}jours"),
    }
}

/// Each limited site, in the order of the report: the site, its time, its
/// limit a day (`5m a day`) and the days over it (`over on 4 days`).
fn site_limit_rows(r: &Report, lang: Lang) -> Vec<[String; 4]> {
    let d = |s: i64| lang.duration(s);
    r.site_limits
        .iter()
        .map(|s| {
            let over = match (lang, s.days_over) {
                (Lang::En, 0) => "never over".to_owned(),
                (Lang::Fr, 0) => "jamais dépassée".to_owned(),
                (Lang::En, n) => format!("over on {}", days_words(lang, n)),
                (Lang::Fr, n) => format!("dépassée {}", days_words(lang, n)),
            };
            let limit = match lang {
                Lang::En => format!("{} a day", d(s.limit_seconds)),
                Lang::Fr => format!("{} par jour", d(s.limit_seconds)),
            };
            [s.site.clone(), d(s.seconds), limit, over]
        })
        .collect()
}

/// Each limited site on one line: its time, its limit and the days over it.
fn site_limits_line(r: &Report, lang: Lang) -> String {
    let colon = lang.colon();
    let parts: Vec<String> = site_limit_rows(r, lang)
        .into_iter()
        .map(|[site, total, limit, over]| match lang {
            Lang::En => format!("{site}{colon}{total} in all, {limit} allowed, {over}"),
            Lang::Fr => format!("{site}{colon}{total} en tout, limite de {limit}, {over}"),
        })
        .collect();
    parts.join("; ")
}

/// The plan's step this week, and on how many days it was kept.
fn plan_line(p: &crate::fit::PlanWeek, lang: Lang) -> String {
    let colon = lang.colon();
    let step = lang.duration(p.daily_limit_seconds);
    let goal = lang.duration(p.to_seconds);
    let mut text = match (lang, p.week) {
        (Lang::En, 0) => format!("not started yet: {} weeks down to {goal} a day", p.weeks),
        (Lang::Fr, 0) => format!(
            "pas encore commencé{colon}{} semaines pour descendre à {goal} par jour",
            p.weeks
        ),
        // A comma, not a second colon after the label's.
        (Lang::En, w) => format!("week {w} of {}, {step} a day (goal {goal})", p.weeks),
        (Lang::Fr, w) => format!(
            "semaine {w} sur {}, {step} par jour (objectif {goal})",
            p.weeks
        ),
    };
    if p.week > 0 && p.days > 0 {
        let within = p.days - p.days_over;
        text.push_str(&match lang {
            Lang::En => format!(
                "; within it on {within} of {}",
                days_words(lang, p.days as i64)
            ),
            Lang::Fr => format!(
                "; respectée {} sur {}",
                days_words(lang, within as i64),
                p.days
            ),
        });
    }
    text
}

/// How often the pause page ended in Continue or Close tab. Not "after the
/// breath": the breath may be off, or changed during the period.
fn pause_line(p: &crate::fit::PausePage, lang: Lang) -> String {
    let colon = lang.colon();
    let times = |n: usize| match (lang, n) {
        (Lang::En, 1) => "1 time".to_owned(),
        (Lang::En, n) => format!("{n} times"),
        (Lang::Fr, n) => format!("{n}\u{a0}fois"),
    };
    let (shown, continued, closed) = (times(p.shown), times(p.continued), times(p.closed));
    match lang {
        Lang::En => format!("shown {shown}{colon}continued {continued}, closed the tab {closed}"),
        Lang::Fr => {
            format!("affichée {shown}{colon}poursuivi {continued}, onglet fermé {closed}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::PausePage;

    #[test]
    fn the_pause_line_counts_each_outcome_with_its_unit() {
        let p = PausePage {
            shown: 3,
            continued: 1,
            closed: 2,
        };
        assert_eq!(
            pause_line(&p, Lang::En),
            "shown 3 times: continued 1 time, closed the tab 2 times"
        );
        assert_eq!(
            pause_line(&p, Lang::Fr),
            "affichée 3\u{a0}fois\u{a0}: poursuivi 1\u{a0}fois, onglet fermé 2\u{a0}fois"
        );
    }
}

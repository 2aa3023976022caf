//! `--format csv`: one row per day and site (a day without social time gets
//! one row with an empty site), for spreadsheets. A site with a limit of its
//! own (`[limits.sites]`) has it in the last column, so a spreadsheet can tell
//! the days it went over; the day's own limit is `daily_threshold_seconds`.

use dwell_core::text::for_terminal;
use dwell_core::text::Csv;

use crate::aggregate::Report;

pub const HEADER: [&str; 9] = [
    "date",
    "site",
    "seconds",
    "visits",
    "day_seconds",
    "daily_threshold_seconds",
    "over",
    "other_seconds",
    "site_limit_seconds",
];

pub fn render(r: &Report) -> String {
    let mut csv = Csv::new(&HEADER);
    for d in &r.days {
        let date = d.date.to_string();
        let tail = [
            d.seconds.to_string(),
            d.threshold_seconds.to_string(),
            d.over.to_string(),
            d.other_seconds.to_string(),
        ];
        if d.sites.is_empty() {
            csv.row(
                [date.clone(), String::new(), "0".into(), "0".into()]
                    .into_iter()
                    .chain(tail.iter().cloned())
                    .chain([String::new()]),
            );
        }
        for s in &d.sites {
            csv.row(
                [
                    date.clone(),
                    for_terminal(&s.site),
                    s.seconds.to_string(),
                    s.visits.to_string(),
                ]
                .into_iter()
                .chain(tail.iter().cloned())
                .chain([limit_of(r, &s.site)]),
            );
        }
    }
    csv.finish()
}

/// The site's own daily limit in seconds, or empty.
fn limit_of(r: &Report, site: &str) -> String {
    r.site_limits
        .iter()
        .find(|l| l.site.eq_ignore_ascii_case(site))
        .map(|l| l.limit_seconds.to_string())
        .unwrap_or_default()
}

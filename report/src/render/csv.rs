//! `--format csv`: one row per day and site (a day without social time gets
//! one row with an empty site), for spreadsheets.

use dwell_core::text::for_terminal;
use dwell_core::text::Csv;

use crate::aggregate::Report;

pub const HEADER: [&str; 8] = [
    "date",
    "site",
    "seconds",
    "visits",
    "day_seconds",
    "daily_threshold_seconds",
    "over",
    "other_seconds",
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
                    .chain(tail.iter().cloned()),
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
                .chain(tail.iter().cloned()),
            );
        }
    }
    csv.finish()
}

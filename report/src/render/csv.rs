//! `--format csv`: one row per day and site (a day without social time gets
//! one row with an empty site), for spreadsheets.

use std::fmt::Write;

use crate::aggregate::Report;

pub const HEADER: &str =
    "date,site,seconds,visits,day_seconds,daily_threshold_seconds,over,other_seconds";

use dwell_core::text::csv_field as field;

pub fn render(r: &Report) -> String {
    let mut o = String::from(HEADER);
    o.push('\n');
    for d in &r.days {
        let tail = format!(
            "{},{},{},{}",
            d.seconds, d.threshold_seconds, d.over, d.other_seconds
        );
        if d.sites.is_empty() {
            let _ = writeln!(o, "{},,0,0,{tail}", d.date);
        }
        for s in &d.sites {
            let _ = writeln!(
                o,
                "{},{},{},{},{tail}",
                d.date,
                field(&s.site),
                s.seconds,
                s.visits
            );
        }
    }
    o
}

//! `--format csv`: one row per day and site (a day without social time gets
//! one row with an empty site), for spreadsheets.

use std::fmt::Write;

use crate::aggregate::Report;

pub const HEADER: &str =
    "date,site,seconds,visits,day_seconds,daily_threshold_seconds,over,other_seconds";

/// Quotes a field when it needs it (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(field("x.com"), "x.com");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}

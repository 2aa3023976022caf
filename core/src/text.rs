//! Text that leaves dwell for other programs and people: CSV cells a
//! spreadsheet will open, labels or notes printed on a terminal, and durations
//! as people read them. One definition of each, used by `dwell-agent` and
//! `dwell-report` alike.

/// The language of what dwell says: messages, reports, durations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    Fr,
}

impl Lang {
    /// Resolves `reminders.language` (`auto`, `en`, `fr`); `auto` follows the
    /// locale (`LC_ALL`, `LC_MESSAGES`, `LANG`, first set wins), English otherwise.
    /// `env` looks a variable up (injected so it can be tested).
    pub fn resolve(setting: &str, env: impl Fn(&str) -> Option<String>) -> Lang {
        match setting {
            "fr" => Lang::Fr,
            "en" => Lang::En,
            _ => {
                let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
                    .iter()
                    .filter_map(|k| env(k))
                    .find(|v| !v.is_empty())
                    .unwrap_or_default();
                if locale.to_ascii_lowercase().starts_with("fr") {
                    Lang::Fr
                } else {
                    Lang::En
                }
            }
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }
}

/// A duration for people, the one style of both binaries, with no coarse
/// rounding: under a minute in seconds (`50s`); under 10 minutes in minutes
/// and seconds (`1m 31s`, `5m`); under an hour in whole minutes (`45m`); from
/// an hour in hours and minutes (`2h 30m`, `2h`). Zero is `0m`.
///
/// French writes `50 s`, `1 min 31 s`, `45 min`, `2 h 30`, `2 h`, with
/// no-break spaces, so that a line never breaks inside a duration.
pub fn duration(seconds: i64, lang: Lang) -> String {
    let s = seconds.max(0);
    let (h, m, sec) = if s < 600 {
        (0, s / 60, s % 60)
    } else {
        let minutes = (s + 30) / 60;
        (minutes / 60, minutes % 60, 0)
    };
    const NB: char = '\u{a0}';
    match (lang, h, m, sec) {
        (Lang::En, 0, 0, s) if s > 0 => format!("{s}s"),
        (Lang::En, 0, m, 0) => format!("{m}m"),
        (Lang::En, 0, m, s) => format!("{m}m {s}s"),
        (Lang::En, h, 0, _) => format!("{h}h"),
        (Lang::En, h, m, _) => format!("{h}h {m}m"),
        (Lang::Fr, 0, 0, s) if s > 0 => format!("{s}{NB}s"),
        (Lang::Fr, 0, m, 0) => format!("{m}{NB}min"),
        (Lang::Fr, 0, m, s) => format!("{m}{NB}min{NB}{s}{NB}s"),
        (Lang::Fr, h, 0, _) => format!("{h}{NB}h"),
        (Lang::Fr, h, m, _) => format!("{h}{NB}h{NB}{m:02}"),
    }
}

/// A moment for people, in `tz`: `14:10` on the day of `now`, else
/// `Tue 2 Dec 14:10`.
pub fn moment<Tz: chrono::TimeZone>(
    t: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
    tz: &Tz,
) -> String {
    let (t, now) = (
        t.with_timezone(tz).naive_local(),
        now.with_timezone(tz).naive_local(),
    );
    if t.date() == now.date() {
        t.format("%H:%M").to_string()
    } else {
        t.format("%a %-d %b %H:%M").to_string()
    }
}

/// A cell a spreadsheet would take as a formula — starting with `=`, `+`,
/// `-`, `@`, a tab or a carriage return — neutralised with a leading `'`. A
/// plain number (`-2`, `1.5`) is a number, not a formula, and stays as it is.
pub fn neutralise(s: &str) -> std::borrow::Cow<'_, str> {
    let number = || {
        s.bytes().any(|b| b.is_ascii_digit())
            && s.bytes()
                .all(|b| b.is_ascii_digit() || b == b'-' || b == b'.')
            && s.parse::<f64>().is_ok()
    };
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) && !number() {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

/// A CSV document: `header`, then one line per row, quoted by the `csv`
/// crate (RFC 4180) with every cell [`neutralise`]d. Numbers go in as text.
#[derive(Debug)]
pub struct Csv {
    out: csv::Writer<Vec<u8>>,
}

impl Csv {
    pub fn new(header: &[&str]) -> Csv {
        let mut csv = Csv {
            out: csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .from_writer(Vec::new()),
        };
        csv.row(header.iter().copied());
        csv
    }

    /// Adds a row (as many cells as the header, or the document is ragged).
    pub fn row<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) {
        let cells: Vec<String> = cells
            .into_iter()
            .map(|c| neutralise(c.as_ref()).into_owned())
            .collect();
        // Writing to memory cannot fail.
        let _ = self.out.write_record(&cells);
    }

    pub fn finish(self) -> String {
        let bytes = self
            .out
            .into_inner()
            .unwrap_or_else(|e| e.into_inner().get_ref().clone());
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// `s` for a terminal: control characters (escape sequences, bells, carriage
/// returns…) are shown escaped (`\u{1b}`) instead of acting on the terminal.
pub fn for_terminal(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_owned();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(cell: &str) -> String {
        let mut c = Csv::new(&["a", "b"]);
        c.row([cell, "x"]);
        let text = c.finish();
        let line = text.lines().nth(1).unwrap_or_default().to_owned();
        line.strip_suffix(",x").unwrap_or(&line).to_owned()
    }

    #[test]
    fn csv_quoting() {
        assert_eq!(one("x.com"), "x.com");
        assert_eq!(one("a,b"), "\"a,b\"");
        assert_eq!(one("say \"hi\""), "\"say \"\"hi\"\"\"");
        let mut c = Csv::new(&["date", "n"]);
        c.row(["2026-11-30".to_owned(), 3.to_string()]);
        c.row(["", ""]);
        assert_eq!(c.finish(), "date,n\n2026-11-30,3\n,\n");
    }

    #[test]
    fn csv_formulas_are_neutralised() {
        assert_eq!(one("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(one("+1"), "'+1");
        assert_eq!(one("-2+3"), "'-2+3");
        assert_eq!(one("-2"), "-2", "a number stays a number");
        assert_eq!(one("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(one("\tx"), "'\tx");
        assert_eq!(one("\rx"), "\"'\rx\"");
        assert_eq!(one("a=b"), "a=b");
    }

    #[test]
    fn durations_for_people() {
        let en = |s| duration(s, Lang::En);
        let fr = |s| duration(s, Lang::Fr).replace('\u{a0}', " ");
        assert_eq!(en(0), "0m");
        assert_eq!(en(-5), "0m");
        assert_eq!(en(50), "50s");
        assert_eq!(en(60), "1m");
        assert_eq!(en(91), "1m 31s", "not 2m beside 50s");
        assert_eq!(en(599), "9m 59s");
        assert_eq!(en(600), "10m");
        assert_eq!(en(45 * 60 + 29), "45m");
        assert_eq!(en(45 * 60 + 30), "46m");
        assert_eq!(en(3599), "1h");
        assert_eq!(en(3600 + 5 * 60), "1h 5m");
        assert_eq!(en(9000), "2h 30m");
        assert_eq!(en(7200), "2h");
        assert_eq!(en(27 * 3600 + 40 * 60), "27h 40m");
        assert_eq!(fr(0), "0 min");
        assert_eq!(fr(50), "50 s");
        assert_eq!(fr(91), "1 min 31 s");
        assert_eq!(fr(45 * 60), "45 min");
        assert_eq!(fr(9000), "2 h 30");
        assert_eq!(fr(3600 + 5 * 60), "1 h 05");
        assert_eq!(fr(7200), "2 h");
        assert_eq!(duration(9000, Lang::Fr), "2\u{a0}h\u{a0}30", "never broken");
        assert!(!duration(91, Lang::Fr).contains(' '));
    }

    proptest::proptest! {
        /// Longer never reads shorter: the figures shown never go backwards.
        #[test]
        fn durations_never_go_backwards(a in 0i64..200_000, d in 0i64..5_000) {
            let key = |s: &str| -> i64 {
                let mut total = 0;
                for part in s.split(' ') {
                    let (n, unit) = part.split_at(part.find(|c: char| !c.is_ascii_digit()).unwrap_or(part.len()));
                    let n: i64 = n.parse().unwrap_or(0);
                    total += match unit { "h" => n * 3600, "m" => n * 60, _ => n };
                }
                total
            };
            proptest::prop_assert!(key(&duration(a, Lang::En)) <= key(&duration(a + d, Lang::En)));
        }
    }

    #[test]
    fn terminal_escapes_controls() {
        assert_eq!(for_terminal("plain é"), "plain é");
        assert_eq!(for_terminal("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(for_terminal("bell\u{7}"), "bell\\u{7}");
    }

    #[test]
    fn moments_say_the_day_only_when_it_is_not_today() {
        use chrono::TimeZone;
        let at = |d, h, m| chrono::Utc.with_ymd_and_hms(2026, 12, d, h, m, 0).unwrap();
        assert_eq!(moment(at(1, 14, 10), at(1, 9, 0), &chrono::Utc), "14:10");
        assert_eq!(
            moment(at(2, 14, 10), at(1, 9, 0), &chrono::Utc),
            "Wed 2 Dec 14:10"
        );
    }

    proptest::proptest! {
        #[test]
        fn csv_fields_never_start_a_formula(s in "\\PC{0,20}") {
            let mut c = Csv::new(&["a"]);
            c.row([s.as_str()]);
            let text = c.finish();
            let body = &text["a\n".len()..];
            let inner = body.strip_prefix('"').unwrap_or(body);
            let number = inner.trim_end().parse::<f64>().is_ok();
            proptest::prop_assert!(number || !inner.starts_with(['=', '+', '-', '@', '\t', '\r']));
        }
    }
}

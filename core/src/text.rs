//! Text that leaves dwell for other programs: CSV cells a spreadsheet will open,
//! and labels or notes printed on a terminal. One definition of each, used by
//! `dwell-agent export` and `dwell-report` alike.

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
    fn terminal_escapes_controls() {
        assert_eq!(for_terminal("plain é"), "plain é");
        assert_eq!(for_terminal("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(for_terminal("bell\u{7}"), "bell\\u{7}");
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

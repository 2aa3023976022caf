//! Text that leaves dwell for other programs: CSV cells a spreadsheet will open,
//! and labels or notes printed on a terminal. One definition of each, used by
//! `dwell-agent export` and `dwell-report` alike.

/// One CSV field (RFC 4180 quoting). A cell a spreadsheet would take as a
/// formula — starting with `=`, `+`, `-`, `@`, a tab or a carriage return — is
/// neutralised with a leading `'`.
pub fn csv_field(s: &str) -> String {
    let neutral;
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        neutral = format!("'{s}");
        neutral.as_str()
    } else {
        s
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
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

    #[test]
    fn csv_quoting() {
        assert_eq!(csv_field("x.com"), "x.com");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn csv_formulas_are_neutralised() {
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("+1"), "'+1");
        assert_eq!(csv_field("-2"), "'-2");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("\tx"), "'\tx");
        assert_eq!(csv_field("\rx"), "\"'\rx\"");
        assert_eq!(csv_field("a=b"), "a=b");
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
            let f = csv_field(&s);
            let inner = f.strip_prefix('"').unwrap_or(&f);
            proptest::prop_assert!(!inner.starts_with(['=', '+', '-', '@', '\t', '\r']));
        }
    }
}

//! Asking the employee to confirm something that cannot be undone, on a
//! terminal only: without one (a script, a pipe) the command goes ahead as
//! asked, and `--yes` skips the question.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context, Result};

/// `true` to go ahead: `yes` was given, there is no terminal to ask on, or the
/// answer was yes (`y`, `yes`, `o`, `oui`).
pub fn confirm(what: &str, yes: bool) -> Result<bool> {
    confirm_with(what, yes, "Nothing was deleted.")
}

/// [`confirm`], saying `declined` when the answer is no.
pub fn confirm_with(what: &str, yes: bool, declined: &str) -> Result<bool> {
    if yes || !std::io::stdin().is_terminal() {
        return Ok(true);
    }
    let stdin = std::io::stdin();
    let mut out = std::io::stdout();
    answer(what, declined, &mut stdin.lock(), &mut out)
}

fn answer(
    what: &str,
    declined: &str,
    input: &mut impl BufRead,
    out: &mut impl Write,
) -> Result<bool> {
    write!(out, "{what}\nGo ahead? [y/N] ").context("cannot ask")?;
    out.flush().context("cannot ask")?;
    let mut line = String::new();
    input
        .read_line(&mut line)
        .context("cannot read your answer")?;
    let go = matches!(
        line.trim().to_lowercase().as_str(),
        "y" | "yes" | "o" | "oui"
    );
    if !go {
        writeln!(out, "{declined}").context("cannot answer")?;
    }
    Ok(go)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn only_yes_goes_ahead() {
        for (typed, go) in [
            ("y\n", true),
            ("Oui\n", true),
            ("\n", false),
            ("no\n", false),
            ("", false),
        ] {
            let mut out = Vec::new();
            let got = answer(
                "Forget x.com?",
                "Nothing was deleted.",
                &mut typed.as_bytes(),
                &mut out,
            )
            .unwrap();
            assert_eq!(got, go, "{typed:?}");
            let shown = String::from_utf8(out).unwrap();
            assert!(
                shown.starts_with("Forget x.com?\nGo ahead? [y/N] "),
                "{shown}"
            );
        }
    }
}

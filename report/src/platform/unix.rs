//! Unix: the width from the terminal (`TIOCGWINSZ`), pages opened with
//! `xdg-open`.

use std::path::Path;

use anyhow::{anyhow, Context, Result};

/// The columns of the terminal standard output is, when it is one.
pub fn terminal_columns() -> Option<u16> {
    use std::io::IsTerminal;
    let stdout = std::io::stdout();
    if !stdout.is_terminal() {
        return None;
    }
    rustix::termios::tcgetwinsize(&stdout)
        .ok()
        .map(|w| w.ws_col)
}

/// Opens `path` with the desktop's default program (`xdg-open`).
pub fn open(path: &Path) -> Result<()> {
    let status = std::process::Command::new("xdg-open")
        .arg(path)
        .stdin(std::process::Stdio::null())
        .status()
        .with_context(|| {
            format!(
                "wrote {} but cannot run xdg-open (install xdg-utils, or open the file yourself)",
                path.display()
            )
        })?;
    if !status.success() {
        return Err(anyhow!(
            "wrote {} but xdg-open failed ({status}): open the file yourself",
            path.display()
        ));
    }
    Ok(())
}

//! Windows: the width of the console window, pages opened with the program
//! Windows associates with them (`cmd /c start`, as a double click would).

use std::path::Path;

use anyhow::{anyhow, Context, Result};

/// The columns of the console window standard output is, when it is one.
pub fn terminal_columns() -> Option<u16> {
    terminal_size::terminal_size_of(std::io::stdout()).map(|(w, _)| w.0)
}

/// Opens `path` with its associated program. `start` takes its first quoted
/// argument as a window title: the empty one keeps a path with spaces a path.
pub fn open(path: &Path) -> Result<()> {
    let status = std::process::Command::new("cmd")
        .args(["/d", "/c", "start", ""])
        .arg(path)
        .stdin(std::process::Stdio::null())
        .status()
        .with_context(|| {
            format!(
                "wrote {} but cannot run cmd to open it: open the file yourself",
                path.display()
            )
        })?;
    if !status.success() {
        return Err(anyhow!(
            "wrote {} but `start` failed ({status}): open the file yourself",
            path.display()
        ));
    }
    Ok(())
}

//! `dwell-agent-background`: Windows' way to start the agent at log-in with no
//! window. `dwell-agent.exe` is a console program, so Windows would open a
//! console for it at every log-in (and closing that console would end the
//! agent); this program is built for the `windows` subsystem, so Windows opens
//! none. It runs exactly what `dwell-agent run` runs ([`dwell_agent::cli::run_only`]),
//! with the same flags (`--data-dir`, `--config`); `dwell-agent install` points
//! the HKCU `Run` value `dwell` at it, and the MSI and the zip ship it next to
//! `dwell-agent.exe`. Its logs go where `run`'s go (standard error: nowhere
//! when Windows starts it at log-in, as a desktop program's).
//!
//! On Linux it only says so: systemd or the desktop's autostart start
//! `dwell-agent run` without a terminal, and the .deb does not ship it.
#![cfg_attr(windows, windows_subsystem = "windows")]

use std::process::ExitCode;

#[cfg(windows)]
fn main() -> ExitCode {
    dwell_agent::cli::run_only(std::env::args_os().skip(1))
}

#[cfg(not(windows))]
fn main() -> ExitCode {
    eprintln!("dwell-agent-background is Windows' windowless start at log-in; here, run `dwell-agent run`");
    ExitCode::from(2)
}

//! What `dwell-report` asks of the operating system, one module per platform:
//! the terminal's width in columns ([`terminal_columns`]) and opening a written
//! report with the desktop's default program ([`open`]). The rest of the
//! report is the same everywhere.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::{open, terminal_columns};

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::{open, terminal_columns};

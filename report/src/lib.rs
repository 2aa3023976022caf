//! dwell-report: the weekly self-review. Reads dwell's database read-only
//! (except `note` and `demo`), aggregates a period and renders it as a terminal
//! table, JSON, CSV, Markdown or a self-contained HTML page.
//!
//! [`cli`] parses the command line and runs the commands; [`period`] turns
//! dates and ISO weeks into a period; [`query`] reads the databases (the own
//! one and `--merge`d ones); [`aggregate`] builds the report's figures (with [`fit`]: the site limits,
//! the plan and the pause page), which
//! [`render`] writes in each format, in the words of [`text`]; [`demo`] fills a
//! data directory with a synthetic history; [`assets`] prints completions and
//! writes man pages for packaging; [`platform`] holds what differs between
//! operating systems (terminal width, opening a page). `main.rs` only calls [`main`].

pub mod aggregate;
pub mod assets;
pub mod cli;
pub mod demo;
pub mod fit;
pub mod period;
pub mod platform;
pub mod query;
pub mod render;
pub mod text;

/// Runs `dwell-report` with the process's arguments.
pub fn main() -> std::process::ExitCode {
    let code = cli::main();
    // For scripts/bench-report: the peak resident set size, from /proc.
    if std::env::var_os("DWELL_REPORT_PEAK_RSS").is_some() {
        if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
            if let Some(line) = status.lines().find(|l| l.starts_with("VmHWM:")) {
                eprintln!("dwell-report: peak RSS {}", line["VmHWM:".len()..].trim());
            }
        }
    }
    code
}

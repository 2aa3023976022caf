//! `dwell-report`: the weekly self-review. Reads dwell's database read-only
//! (except `note` and `demo`), aggregates a period and renders it as a terminal
//! table, JSON, CSV, Markdown or a self-contained HTML page.

mod aggregate;
mod cli;
mod demo;
mod period;
mod query;
mod render;
mod text;

fn main() -> std::process::ExitCode {
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

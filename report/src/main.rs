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
    cli::main()
}

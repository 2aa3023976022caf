//! `dwell-agent`: thin entry point; everything lives in the library.

fn main() -> std::process::ExitCode {
    dwell_agent::cli::main()
}

//! `dwell-report`: thin entry point; everything lives in the library.

fn main() -> std::process::ExitCode {
    dwell_report::main()
}

//! `dwell-native-host`: the native-messaging host the browser extension talks
//! to, as a small program of its own (`dwell-agent browser install` points the
//! browsers' host manifests here). It runs [`dwell_agent::native_host::run`]
//! and nothing else, so it links none of the agent's command line, watchers,
//! tray or store, and stays small in memory.

use std::process::ExitCode;

fn main() -> ExitCode {
    // A browser starts the host with its own arguments only: the caller's
    // origin (Chromium family), or the manifest's path and the extension's id
    // (Firefox).
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    dwell_agent::native_host::init_logging();
    match dwell_agent::native_host::run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dwell-native-host: {e:#}");
            ExitCode::from(1)
        }
    }
}

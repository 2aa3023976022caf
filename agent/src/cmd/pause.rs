//! `dwell-agent pause [DURATION]` and `resume`: the pause is stored in the
//! database (`meta.paused_until`, see `dwell_core::control`), then the running
//! agent, if any, is sent SIGUSR1 so it re-reads its control state at once.
//! No socket of any kind.

use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, Local, Utc};
use clap::Args;
use dwell_core::config::parse_duration;
use dwell_core::control::{self, Pause};
use dwell_core::Store;

use crate::cli::{data_dir, refused, Cli};
use crate::lock;

/// Default length of `pause` without a duration.
pub const DEFAULT_PAUSE: &str = "1h";

#[derive(Args, Debug)]
pub struct PauseArgs {
    /// How long, like "30m", "1h", "2h30m"; "indefinite" lasts until `resume`.
    #[arg(value_name = "DURATION", default_value = DEFAULT_PAUSE)]
    pub duration: String,
}

/// Reads the DURATION argument of `pause` at `now`.
pub fn parse_pause(arg: &str, now: DateTime<Utc>) -> Result<Pause, String> {
    let a = arg.trim();
    if matches!(a, "indefinite" | "indefinitely" | "forever") {
        return Ok(Pause::Indefinite);
    }
    let d = parse_duration(a)?;
    if d.is_zero() {
        return Err(format!(
            "a pause of \"{arg}\" would end at once: give a length like \"1h\""
        ));
    }
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .map(Pause::Until)
        .ok_or_else(|| {
            format!("\"{arg}\" is too long: use \"indefinite\" to pause until `dwell-agent resume`")
        })
}

/// What became of telling the running agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Told {
    /// SIGUSR1 was sent to an agent that handles it.
    Yes,
    /// No agent runs on the data directory.
    NotRunning,
    /// An agent runs but does not catch SIGUSR1 (an older build): it was not
    /// signalled, since that would end it; it sees the change when restarted.
    NotListening,
}

/// Whether signal number `sig` is caught by a handler, from the `SigCgt:`
/// line of `/proc/PID/status`.
pub fn catches(proc_status: &str, sig: u32) -> bool {
    proc_status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_some_and(|mask| (1..=64).contains(&sig) && mask & (1 << (sig - 1)) != 0)
}

const SIGUSR1: u32 = 10;

/// Sends SIGUSR1 to the agent running on `dir`, if it listens for it.
pub fn notify_agent(dir: &Path) -> Told {
    let Some(raw) = lock::holder_pid(dir).and_then(|p| i32::try_from(p).ok()) else {
        return Told::NotRunning;
    };
    let Some(pid) = rustix::process::Pid::from_raw(raw) else {
        return Told::NotRunning;
    };
    let listens = std::fs::read_to_string(format!("/proc/{raw}/status"))
        .is_ok_and(|st| catches(&st, SIGUSR1));
    if !listens {
        return Told::NotListening;
    }
    match rustix::process::kill_process(pid, rustix::process::Signal::USR1) {
        Ok(()) => Told::Yes,
        Err(e) => {
            tracing::warn!("cannot signal the running agent (pid {raw}): {e}");
            Told::NotRunning
        }
    }
}

/// A line for the employee about a [`Told`] other than `Yes`.
pub fn told_note(told: Told) -> Option<&'static str> {
    match told {
        Told::Yes => None,
        Told::NotRunning => Some("(The agent is not running; this applies when it starts.)"),
        Told::NotListening => {
            Some("(The running agent does not listen for changes: restart it for this to apply.)")
        }
    }
}

fn local(t: DateTime<Utc>) -> String {
    let l = t.with_timezone(&Local);
    if l.date_naive() == Local::now().date_naive() {
        l.format("%H:%M").to_string()
    } else {
        l.format("%Y-%m-%d %H:%M").to_string()
    }
}

pub fn pause(cli: &Cli, args: &PauseArgs) -> Result<()> {
    let now = Utc::now();
    let pause = parse_pause(&args.duration, now).map_err(refused)?;
    let dir = data_dir(cli)?;
    let Some(store) = Store::open_existing(&dir)? else {
        return Err(refused(format!(
            "dwell is not enabled here ({}): nothing is being recorded, so there is nothing to pause",
            dir.display()
        )));
    };
    control::set_pause(&store, pause).context("cannot store the pause")?;
    drop(store);
    let told = notify_agent(&dir);
    match pause {
        Pause::Until(t) => println!(
            "Paused until {}: nothing is recorded until then, or until `dwell-agent resume`.",
            local(t)
        ),
        Pause::Indefinite => {
            println!("Paused: nothing is recorded until `dwell-agent resume`.")
        }
    }
    if let Some(note) = told_note(told) {
        println!("{note}");
    }
    Ok(())
}

pub fn resume(cli: &Cli) -> Result<()> {
    let dir = data_dir(cli)?;
    let Some(store) = Store::open_existing(&dir)? else {
        println!(
            "dwell is not enabled here ({}); nothing to resume.",
            dir.display()
        );
        return Ok(());
    };
    let was = control::paused(&store, Utc::now())?;
    control::clear_pause(&store).context("cannot clear the pause")?;
    drop(store);
    let told = notify_agent(&dir);
    if was.is_some() {
        println!("Resumed: recording again (during your recording hours).");
    } else {
        println!("dwell was not paused.");
    }
    if let Some(note) = told_note(told) {
        println!("{note}");
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn pause_arguments() {
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).unwrap();
        assert_eq!(
            parse_pause("1h", now),
            Ok(Pause::Until(now + chrono::Duration::hours(1)))
        );
        assert_eq!(
            parse_pause("2h30m", now),
            Ok(Pause::Until(now + chrono::Duration::minutes(150)))
        );
        assert_eq!(parse_pause("indefinite", now), Ok(Pause::Indefinite));
        assert!(parse_pause("soon", now).unwrap_err().contains("soon"));
        assert!(parse_pause("0s", now).is_err());
        assert!(parse_pause("99999999999d", now).is_err());
    }

    #[test]
    fn caught_signals_from_proc_status() {
        let st = "Name:\tdwell-agent\nSigIgn:\t0000000000001000\nSigCgt:\t0000000180004200\n";
        assert!(catches(st, 10));
        assert!(catches(st, 15));
        assert!(!catches(st, 12));
        assert!(!catches("SigCgt:\t0000000000000000\n", 10));
        assert!(!catches("garbage", 10));
    }
}

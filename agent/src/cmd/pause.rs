//! `dwell-agent pause [DURATION]` and `resume`: the pause is stored in the
//! database (`meta.paused_until`, see `dwell_core::control`), then the running
//! agent, if any, is sent SIGUSR1 so it re-reads its control state at once.
//! No socket of any kind.

use anyhow::{Context, Result};
use chrono::{DateTime, Local, Utc};
use clap::Args;
use dwell_core::control::{self, Pause};
use dwell_core::Store;

use super::{data_dir, notify_agent, refused, told_note, Global};

#[derive(Args, Debug)]
pub struct PauseArgs {
    /// How long, like "30m", "1h", "2h30m"; "indefinite" lasts until `resume`.
    #[arg(value_name = "DURATION", default_value = control::DEFAULT_PAUSE)]
    pub duration: String,
}

fn local(t: DateTime<Utc>) -> String {
    let l = t.with_timezone(&Local);
    if l.date_naive() == Local::now().date_naive() {
        l.format("%H:%M").to_string()
    } else {
        l.format("%Y-%m-%d %H:%M").to_string()
    }
}

pub fn pause(cli: &Global, args: &PauseArgs) -> Result<()> {
    let now = Utc::now();
    let pause = control::parse_pause(&args.duration, now).map_err(refused)?;
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

pub fn resume(cli: &Global) -> Result<()> {
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
    use crate::cmd::catches;
    use chrono::TimeZone;
    use dwell_core::control::parse_pause;

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

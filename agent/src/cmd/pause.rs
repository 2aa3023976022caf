//! `dwell-agent pause [DURATION]` and `resume`: the pause is stored in the
//! database (`meta.paused_until`, see `dwell_core::control`), then the running
//! agent, if any, is sent SIGUSR1 so it re-reads its control state at once.
//! No socket of any kind.

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use clap::Args;
use dwell_core::control::{self, Pause};
use dwell_core::Store;

use super::{data_dir, local_moment, notify_agent, refused, told_note, Global};

#[derive(Args, Debug)]
pub struct PauseArgs {
    /// How long, like "30m", "1h", "2h30m"; "indefinite" lasts until `resume`.
    #[arg(value_name = "DURATION", default_value = control::DEFAULT_PAUSE)]
    pub duration: String,
}

pub fn pause(cli: &Global, args: &PauseArgs) -> Result<()> {
    print!("{}", pause_at(cli, args, Utc::now())?);
    Ok(())
}

/// Stores the pause asked for at `now`, tells a running agent; what to print.
pub fn pause_at(cli: &Global, args: &PauseArgs, now: DateTime<Utc>) -> Result<String> {
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
    let mut out = match pause {
        Pause::Until(t) => format!(
            "Paused until {}: nothing is recorded until then, or until `dwell-agent resume`.\n",
            local_moment(t, now)
        ),
        Pause::Indefinite => "Paused: nothing is recorded until `dwell-agent resume`.\n".to_owned(),
    };
    if let Some(note) = told_note(told) {
        out.push_str(note);
        out.push('\n');
    }
    Ok(out)
}

pub fn resume(cli: &Global) -> Result<()> {
    print!("{}", resume_at(cli, Utc::now())?);
    Ok(())
}

/// Clears the pause at `now`, tells a running agent; what to print.
pub fn resume_at(cli: &Global, now: DateTime<Utc>) -> Result<String> {
    let dir = data_dir(cli)?;
    let Some(store) = Store::open_existing(&dir)? else {
        return Ok(format!(
            "dwell is not enabled here ({}); nothing to resume.\n",
            dir.display()
        ));
    };
    let was = control::paused(&store, now)?;
    control::clear_pause(&store).context("cannot clear the pause")?;
    drop(store);
    let told = notify_agent(&dir);
    let mut out = if was.is_some() {
        "Resumed: recording again (during your recording hours).\n".to_owned()
    } else {
        "dwell was not paused.\n".to_owned()
    };
    if let Some(note) = told_note(told) {
        out.push_str(note);
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
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

    fn global(dir: &std::path::Path) -> Global {
        Global {
            data_dir: Some(dir.join("data")),
            config: Some(dir.join("none.toml")),
        }
    }

    #[test]
    fn pause_and_resume_at_an_injected_moment() {
        let tmp = tempfile::tempdir().unwrap();
        let g = global(tmp.path());
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).unwrap();
        let args = PauseArgs {
            duration: "90m".into(),
        };
        let e = pause_at(&g, &args, now).unwrap_err();
        assert!(e.to_string().contains("not enabled"), "{e}");
        Store::open(&tmp.path().join("data"))
            .unwrap()
            .set_consent(now)
            .unwrap();
        let out = pause_at(&g, &args, now).unwrap();
        assert!(out.starts_with("Paused until "), "{out}");
        assert!(out.contains("(The agent is not running"), "{out}");
        let store = Store::open_read_only(&tmp.path().join("data/dwell.db")).unwrap();
        assert_eq!(
            control::paused(&store, now).unwrap(),
            Some(Pause::Until(now + chrono::Duration::minutes(90)))
        );
        assert_eq!(
            control::paused(&store, now + chrono::Duration::minutes(91)).unwrap(),
            None,
            "a pause ends by itself"
        );
        drop(store);
        let out = resume_at(&g, now + chrono::Duration::minutes(5)).unwrap();
        assert!(out.starts_with("Resumed"), "{out}");
        let out = resume_at(&g, now + chrono::Duration::minutes(6)).unwrap();
        assert!(out.starts_with("dwell was not paused"), "{out}");
    }
}

//! `dwell-agent snooze [DURATION]` and `done-for-today`: the reminder's
//! "Snooze" and "Done for today" buttons, for notification servers that draw
//! none (mako) and for a terminal. The request is stored in the database
//! (`dwell_core::control::Request`), the running agent is sent SIGUSR1 as for
//! `pause`, and it applies the request with the buttons' own rules (snoozes
//! left today) and stores its answer, which is printed. No socket.

use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use chrono::{DateTime, Utc};
use clap::Args;
use dwell_core::config::parse_duration;
use dwell_core::control::{self, Answer, Request};
use dwell_core::Store;

use super::{data_dir, local_moment, notify_agent, refused, Global, Told};

/// How long to wait for the agent's answer.
const ANSWER_WAIT: Duration = Duration::from_secs(5);
/// The longest snooze: beyond that, "done for today" says it better.
const LONGEST: Duration = Duration::from_secs(12 * 3600);

#[derive(Args, Debug)]
pub struct SnoozeArgs {
    /// How long, like "30m" or "1h" (default: `[reminders] snooze`, 15m).
    #[arg(value_name = "DURATION")]
    pub duration: Option<String>,
}

/// The DURATION argument of `snooze`.
pub fn parse_snooze(arg: Option<&str>) -> Result<Option<Duration>, String> {
    let Some(a) = arg else {
        return Ok(None);
    };
    let d = parse_duration(a.trim())?;
    if d.is_zero() {
        return Err(format!(
            "a snooze of \"{a}\" would end at once: give a length like \"30m\""
        ));
    }
    if d > LONGEST {
        return Err(format!(
            "\"{a}\" is longer than a work day: use `dwell-agent done-for-today`, or `dwell-agent pause`"
        ));
    }
    Ok(Some(d))
}

pub fn snooze(cli: &Global, args: &SnoozeArgs) -> Result<()> {
    let length = parse_snooze(args.duration.as_deref()).map_err(refused)?;
    let answer = ask_agent(cli, Request::Snooze(length))?;
    print!("{}", words(answer, Utc::now()));
    Ok(())
}

pub fn done_for_today(cli: &Global) -> Result<()> {
    let answer = ask_agent(cli, Request::DoneForToday)?;
    print!("{}", words(answer, Utc::now()));
    Ok(())
}

/// What to print for the agent's answer at `now`.
pub fn words(answer: Answer, now: DateTime<Utc>) -> String {
    match answer {
        Answer::Snoozed { until, left } => format!(
            "Snoozed: no reminders until {} ({left} snooze(s) left today). Counting goes on.\n",
            local_moment(until, now)
        ),
        Answer::NoSnoozeLeft { per_day } => format!(
            "No snoozes left today (you allowed {per_day} a day, `[reminders] snoozes_per_day`): nothing changed.\n\
             `dwell-agent done-for-today` stops the reminders until tomorrow.\n"
        ),
        Answer::Done => "Done for today: no more reminders until tomorrow. Counting goes on.\n"
            .to_owned(),
    }
}

/// Stores `request`, tells the running agent, and waits for its answer.
fn ask_agent(cli: &Global, request: Request) -> Result<Answer> {
    let dir = data_dir(cli)?;
    let Some(store) = Store::open_existing(&dir)? else {
        return Err(refused(format!(
            "dwell is not enabled here ({}): there are no reminders to snooze",
            dir.display()
        )));
    };
    control::set_request(&store, request).context("cannot store the request")?;
    match notify_agent(&dir) {
        Told::Yes => {}
        told => {
            control::clear_request(&store).context("cannot withdraw the request")?;
            return Err(refused(match told {
                Told::NotListening => "the running agent is an older one that cannot be asked: restart it (`systemctl --user restart dwell-agent`, or stop and `dwell-agent run`)",
                _ => "dwell-agent is not running, so no reminder will come: there is nothing to snooze",
            }));
        }
    }
    let start = Instant::now();
    loop {
        if let Some(answer) = control::answer(&store).context("cannot read the agent's answer")? {
            return Ok(answer);
        }
        if start.elapsed() >= ANSWER_WAIT {
            let _ = control::clear_request(&store);
            return Err(anyhow!(
                "the agent did not answer within {} s: try again in a moment",
                ANSWER_WAIT.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn snooze_lengths() {
        assert_eq!(parse_snooze(None), Ok(None));
        assert_eq!(
            parse_snooze(Some("30m")),
            Ok(Some(Duration::from_secs(1800)))
        );
        assert!(parse_snooze(Some("0m")).unwrap_err().contains("at once"));
        assert!(parse_snooze(Some("2d"))
            .unwrap_err()
            .contains("done-for-today"));
        assert!(parse_snooze(Some("soon")).is_err());
    }

    #[test]
    fn the_answers_in_words() {
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).unwrap();
        let until = now + chrono::Duration::minutes(15);
        let w = words(Answer::Snoozed { until, left: 2 }, now);
        assert!(w.starts_with("Snoozed: no reminders until "), "{w}");
        assert!(w.contains("(2 snooze(s) left today)"), "{w}");
        let w = words(Answer::NoSnoozeLeft { per_day: 3 }, now);
        assert!(w.contains("No snoozes left today"), "{w}");
        assert!(w.contains("dwell-agent done-for-today"), "{w}");
        assert!(words(Answer::Done, now).starts_with("Done for today"));
    }

    #[test]
    fn without_a_running_agent_the_request_is_refused_and_withdrawn() {
        let tmp = tempfile::tempdir().unwrap();
        let g = Global {
            data_dir: Some(tmp.path().join("data")),
            config: Some(tmp.path().join("none.toml")),
        };
        let e = ask_agent(&g, Request::DoneForToday).unwrap_err();
        assert!(e.to_string().contains("not enabled"), "{e}");
        Store::open(&tmp.path().join("data"))
            .unwrap()
            .set_consent(Utc::now())
            .unwrap();
        let e = ask_agent(&g, Request::Snooze(None)).unwrap_err();
        assert!(e.to_string().contains("not running"), "{e}");
        let store = Store::open(&tmp.path().join("data")).unwrap();
        assert_eq!(control::take_request(&store).unwrap(), None);
    }
}

//! Words the agent says to people from more than one place (the commands,
//! the tray, `browser install`): a duration, and a refusal.

/// A duration for people (`50s`, `1m 31s`, `45m`, `2h 30m`): the one style of
/// both binaries, [`dwell_core::text::duration`]; the terminal speaks English.
pub fn fmt_minutes(secs: f64) -> String {
    dwell_core::text::duration(secs.round() as i64, dwell_core::messages::Lang::En)
}

/// An error that means "refused": exit code 2 (see `dwell_core::exit`); the
/// report's too.
pub use dwell_cli::refused;

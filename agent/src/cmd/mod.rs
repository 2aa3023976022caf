//! One module per `dwell-agent` subcommand (as zoxide's `src/cmd/`), and what
//! they share, here: the global options ([`Global`]), [`refused`] (exit code
//! 2), telling a running agent to look again ([`notify_agent`], from
//! [`crate::control`]), and the words
//! for people ([`fmt_minutes`], [`local_moment`], [`local_rfc3339`],
//! [`EXPLAIN`]). `crate::cli` parses the command line and calls these; the
//! commands never import `cli`, nor one another's insides.

use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::{Local, Utc};
use dwell_core::Config;

pub mod advice;
pub mod assets;
pub mod config;
pub mod disable;
pub mod enable;
pub mod export;
pub mod forget;
pub mod gnome_extension;
pub mod install;
pub mod limits;
pub mod pause;
pub mod run;
pub mod setup;
pub mod snooze;
pub mod status;

pub use dwell_cli::Global;
pub use dwell_core::exit::Refused;

/// Telling the running agent (see [`crate::control`]).
pub use crate::control::{notify_agent, told_note, Told};
/// Shared with the runtime modules, so they live below the commands.
pub use crate::files::{write_atomic, write_private};
pub use crate::words::{fmt_minutes, refused};

/// The data directory in use.
pub fn data_dir(cli: &Global) -> Result<PathBuf> {
    Ok(cli.data_dir()?)
}

/// The config file in use, whether it exists or not.
pub fn config_path(cli: &Global) -> Option<PathBuf> {
    cli.config_file()
}

/// The config file a command is about to rewrite, and its text if it exists
/// (`setup`, `limits`).
pub fn config_to_edit(cli: &Global) -> Result<(PathBuf, Option<String>)> {
    let path = config_path(cli)
        .ok_or_else(|| refused("cannot tell where to write the config: set HOME or --config"))?;
    let existing = if path.exists() {
        Some(
            dwell_core::config::read_text_file(&path)
                .with_context(|| format!("cannot read {}", path.display()))?,
        )
    } else {
        None
    };
    Ok((path, existing))
}

/// Loads the config file, or the built-in defaults when there is none.
pub fn load_config(cli: &Global) -> Result<Config> {
    Ok(cli.load_config()?)
}

pub const EXPLAIN: &str = "\
dwell counts your own time on social sites and apps during work hours, so
that you can keep personal use from becoming excessive. It is for you alone.

What dwell records, on this computer only:
  - which social site or app had focus (a label such as \"reddit.com\"),
    with start and end times;
  - a total of other active time, with no names, so you can see the share.

What dwell never records:
  - window titles, web addresses (URLs), page contents;
  - keystrokes, mouse movements, screenshots;
  - anything outside your recording hours (work hours by default).

Nothing leaves this computer: dwell has no network code. Files are private
to you (0600). You can pause, look at, export and erase your data at any time.
";

/// A moment for programs: RFC 3339 in local time, with its offset, to the second.
pub fn local_rfc3339(t: chrono::DateTime<Utc>) -> String {
    t.with_timezone(&Local)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// A moment for people, in local time: `14:10` today, else `Tue 2 Dec 14:10`.
pub fn local_moment(t: chrono::DateTime<Utc>, now: chrono::DateTime<Utc>) -> String {
    dwell_core::text::moment(t, now, &Local)
}

//! dwell-agent: the background half of dwell.
//!
//! [`cli`] parses the command line and runs the small commands (enable, disable,
//! status, config); [`run`] is the tokio loop that turns what the [`x11`] watcher
//! and the idle source report into spans through `dwell_core::tracker`, and
//! writes them to the store; [`clock`] lets tests replay a day in milliseconds.

pub mod ask;
pub mod cli;
pub mod clock;
pub mod control;
pub mod data_cmds;
pub mod gnome_extension;
pub mod install;
pub mod limits;
pub mod lock;
pub mod notify;
pub mod reload;
pub mod remind;
pub mod run;
pub mod setup;
pub mod watch;

pub use run::run;

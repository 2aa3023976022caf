//! dwell-agent: the background half of dwell.
//!
//! [`cli`] parses the command line and calls the subcommand's module in
//! [`cmd`] (one per subcommand, with what they share); [`ask`] confirms what
//! cannot be undone. [`watch`] holds the watchers (X11, wlroots, KWin, GNOME,
//! and the D-Bus thread for lock, suspend and the focus door) behind one
//! interface; [`run`](mod@run) is the tokio loop that turns what they report into spans
//! through `dwell_core::tracker` and writes them to the store, with [`remind`]
//! and [`notify`] for reminders, [`tray`] for the tray icon and [`reload`] for
//! live config. [`browser`] (`browser install`, which browser a window is,
//! what each connected extension said) and [`native_host`] (the
//! native-messaging host the browser starts, also built as the small
//! `dwell-native-host` program) serve dwell's browser extension; [`door`] holds the
//! agent's bus name and the types that cross it, which both ends import. [`lock`] keeps
//! one agent per data directory and [`control`] lets the commands reach the
//! running one; [`clock`] lets tests replay a day in milliseconds; [`zone`] is
//! the desktop's time zone as the run loop asks it (remembered).
//!
//! Linux and Windows: the run loop and the commands hold no platform code.
//! Each concern that differs is a module with a Linux and a Windows body,
//! chosen where it is declared: [`watch`] (`select` and its backends, or
//! `windows`), [`control`], [`lock`], [`reload`], [`notify`], [`tray`],
//! [`native_host`], and autostart in `cmd::install`. `docs/windows.md`
//! has the table. [`files`] and [`words`] are what the commands share with the
//! runtime modules, kept below both: nothing outside [`cli`] and [`cmd`]
//! imports [`cmd`].

pub mod ask;
pub mod browser;
pub mod cli;
pub mod clock;
pub mod cmd;
pub mod control;
pub mod door;
pub mod files;
pub mod lock;
pub mod native_host;
pub mod notify;
pub mod pipe;
pub mod reload;
pub mod remind;
pub mod run;
pub mod tray;
pub mod watch;
#[cfg(test)]
mod windows_for_tests;
pub mod words;
pub mod xpi;
pub mod zone;

pub use run::run;

//! Control of the running agent from outside it, the one place that knows
//! how: `pause`, `resume`, `setup`, `limits`, `forget`, `snooze` and
//! `done-for-today` store what they changed, then tell the agent to look
//! again ([`notify_agent`]); `disable` asks it to stop ([`ask_to_stop`]). The
//! agent hears both through its [`Listener`]: each "look again" goes to the
//! run loop's control channel ([`Looks::forward`]), a stop ends the loop
//! ([`Listener::stopped`]).
//!
//! One interface, one body per platform, chosen here:
//! - Linux (`control/linux.rs`): `SIGUSR1` looks again, `SIGTERM` and
//!   `SIGINT` stop; the agent's pid comes from its lock file.
//! - Windows (`control/windows.rs`): no signals; a named pipe per data
//!   directory that the agent serves and a command writes one byte to (look
//!   again, or stop); Ctrl-C, Ctrl-Break and the end of the session
//!   (log-off, shut-down) also stop it. Closing the console of an agent
//!   started by hand ends it without its last checkpoint (up to 10 s).

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
use linux as os;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as os;

#[cfg(target_os = "linux")]
pub use linux::catches;
pub use os::{ask_to_stop, notify_agent, upkeep_stop, Listener, Looks};

/// What became of telling the running agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Told {
    /// The agent was told.
    Yes,
    /// No agent runs on the data directory.
    NotRunning,
    /// An agent runs but does not listen (an older build on Linux, which a
    /// `SIGUSR1` would end; on Windows, one whose control pipe is gone): it
    /// sees the change when restarted.
    NotListening,
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

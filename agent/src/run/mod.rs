//! The agent's run loop: one tokio task that owns the store, feeds what the
//! watchers report to core's pure tracker, and arms exactly the timers that can
//! matter right now:
//!
//! - the idle check: sources that push (SYNC alarms on X11, the Wayland idle
//!   protocols, Mutter's watches) wake it with `IdleChanged`, and a timer runs
//!   only from their "no input for 5 s" to the idle timeout; a polled source is
//!   asked at the moment the idle timeout could first be reached, and once a
//!   second while idle, to notice the next input;
//! - the checkpoint of the open span, every 9 s while one is open (so a
//!   crash loses at most 10 s, the write included);
//! - the next edge of recording hours;
//! - the next reminder crossing, and the reminders' own small timers (see
//!   [`crate::remind`]), only while on a social site;
//! - the control wake-up: the end of a pause, of the calibration period, and
//!   the daily retention run.
//!
//! A changed config file (see [`crate::reload`]) or a "look again" from
//! `pause`, `resume`, `setup` (`SIGUSR1` on Linux, see [`crate::control`])
//! makes it re-read the config and the pause state; an invalid config is
//! refused and the previous one stays in force. A changed `/etc/localtime`
//! (inotify too) makes it look at the recording hours at once.
//!
//! Nothing here is platform code: the watchers ([`crate::watch::start`]),
//! the control channel, live reload, notifications and the tray each bring
//! their Linux or Windows body from their own module.
//!
//! With no span open and nothing to wait for, it sleeps until an event arrives.
//!
//! The rooms: [`events`] (the loop's state, what woke it, and events become
//! tracker decisions), [`control`] (config, pause, calibration, retention),
//! [`outlets`] (reminders, tray, pause page), [`writer`] (the span writer) and
//! [`about`] (the notes for `status`). [`run`] is the one way in on a real
//! desktop; [`run_with`] is the same loop with everything injected (tests).

mod about;
mod control;
mod events;
mod outlets;
mod writer;

use std::future::Future;
use std::path::PathBuf;

use anyhow::Result;
use chrono::TimeZone;
use dwell_core::{Config, Store};
use tokio::sync::mpsc;

pub use about::{
    About, BACKEND_KEY, BROWSERS_KEY, CONFIG_ERROR_KEY, GNOME_EXTENSION_KEY, HINT_KEY,
    IDLE_SOURCE_KEY, NOTIFY_OFF_KEY,
};
pub use writer::{CHECKPOINT_EVERY, MAX_LOSS};

use crate::clock::{Clock, SystemClock};
use crate::control::Looks;
use crate::notify;
use crate::remind::Notifications;
use crate::tray::{TrayLink, TrayState};
use crate::watch::{IdleSource, WatchEvent};
use crate::zone::LocalZone;

/// What the run loop listens to.
pub struct Sources {
    pub watch: mpsc::Receiver<WatchEvent>,
    pub idle: Box<dyn IdleSource>,
    /// "Look again": the config file changed, or a command said so.
    pub control: Option<mpsc::Receiver<()>>,
    /// The config file to re-read on a control event (`None`: never reload).
    pub config_path: Option<PathBuf>,
    /// Which watchers these are, for `status`.
    pub about: About,
}

impl Sources {
    /// A watcher's channel and an idle source, nothing else (no reload).
    pub fn watching(watch: mpsc::Receiver<WatchEvent>, idle: Box<dyn IdleSource>) -> Sources {
        Sources {
            watch,
            idle,
            control: None,
            config_path: None,
            about: About::default(),
        }
    }
}

/// Where the loop's reminders and tray state go (none: reminders are stored
/// as undelivered, no tray).
#[derive(Default)]
pub struct Outlets {
    pub notifications: Option<Notifications>,
    pub tray: Option<TrayLink>,
}

/// Runs the agent on the real desktop until `shutdown` completes, re-reading
/// `config_path` when it changes and the pause state at each of `looks`;
/// `health` is where failing writes are noted for `status`.
pub async fn run(
    config: Config,
    config_path: Option<PathBuf>,
    health: Option<crate::lock::HealthNote>,
    store: Store,
    looks: Looks,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let (tx, rx) = mpsc::channel(64);
    let watching = crate::watch::start(config.tracking.backend, tx)?;
    tracing::info!(
        backend = watching.backend.name(),
        idle_source = watching.idle_name.unwrap_or("none"),
        "watching focus"
    );
    if let Some(hint) = &watching.hint {
        tracing::warn!("{hint}");
    }
    let control = listen_for_control(config_path.as_deref(), looks)?;
    // Notifications that cannot be used here (on Linux, a session bus that
    // is not a local socket): tracking goes on, reminders are off, and
    // `status` says why.
    let notifications_off =
        notify::unavailable().map(|why| format!("notifications are off: {why}"));
    let notifications = start_notifications(notifications_off.as_deref());
    let sources = Sources {
        watch: rx,
        idle: watching.idle,
        control: Some(control),
        config_path,
        about: About {
            backend: Some(watching.backend),
            idle_source: watching.idle_name,
            hint: watching.hint,
            notifications_off,
            health,
        },
    };
    // The tray icon: what it shows comes from the loop, its menu goes to it.
    let tray = if config.ui.tray {
        crate::tray::start(TrayState::default()).await
    } else {
        None
    };
    let outlets = Outlets {
        notifications,
        tray,
    };
    let result = run_with(
        config,
        store,
        sources,
        outlets,
        &SystemClock,
        &LocalZone::new(),
        shutdown,
    )
    .await;
    // Stops the watchers' helpers (on Linux the bus thread, which unloads
    // the KWin script, if one was loaded).
    drop(watching.guard);
    result
}

/// "Look again": a save of the config file, a change of time zone (it moves
/// the recording hours) or a command's word ([`crate::control`]).
fn listen_for_control(
    config_path: Option<&std::path::Path>,
    looks: Looks,
) -> Result<mpsc::Receiver<()>> {
    let (control_tx, control_rx) = mpsc::channel(4);
    if let Some(path) = config_path {
        crate::reload::spawn_watcher(path, control_tx.clone());
    }
    // A time-zone change moves the recording hours: looked at within a second.
    crate::reload::spawn_zone_watcher(control_tx.clone());
    looks.forward(control_tx)?;
    Ok(control_rx)
}

/// The notification thread, unless notifications are off (`off` says why).
fn start_notifications(off: Option<&str>) -> Option<Notifications> {
    if let Some(why) = off {
        tracing::warn!("{why}; tracking goes on");
        return None;
    }
    let (ev_tx, ev_rx) = mpsc::channel(16);
    match notify::spawn(ev_tx) {
        Ok((requests, _thread)) => Some(Notifications {
            requests,
            events: ev_rx,
        }),
        Err(e) => {
            tracing::warn!(error = %e, "cannot start the notification thread; no reminders");
            None
        }
    }
}

/// The run loop with everything injected: sources, outlets, clock and time
/// zone ([`run`] passes the desktop's; tests pass their own).
pub async fn run_with<C: Clock, Tz: TimeZone>(
    config: Config,
    store: Store,
    sources: Sources,
    outlets: Outlets,
    clock: &C,
    tz: &Tz,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let (mut lp, mut inbox, about) = events::Loop::new(config, store, sources, outlets, clock, tz);
    lp.start(&about)?;
    tokio::pin!(shutdown);
    let end = loop {
        let wake = inbox.next(&lp, &mut shutdown).await;
        // Whatever woke the loop, a step of the wall clock (or a suspend) is
        // dealt with first, so nothing after it is dated across it.
        lp.check_jump();
        if let Some(end) = lp.on_wake(wake, &mut inbox) {
            break end;
        }
        lp.stop_if_fatal()?;
        lp.after_wake();
    };
    lp.finish(&mut inbox, end).await
}

/// [`run_with`] while `script` runs, then stopped (the set-up the tests share).
#[cfg(test)]
pub(crate) async fn run_while<C: Clock, Tz: TimeZone>(
    config: Config,
    store: Store,
    sources: Sources,
    outlets: Outlets,
    clock: &C,
    tz: &Tz,
    script: impl Future<Output = ()>,
) -> Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let driver = async move {
        script.await;
        let _ = stop_tx.send(());
    };
    let stopped = async {
        let _ = stop_rx.await;
    };
    let (res, ()) = tokio::join!(
        run_with(config, store, sources, outlets, clock, tz, stopped),
        driver
    );
    res
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

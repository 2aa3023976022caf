//! Windows: the foreground window and its title, idle, screen lock and
//! suspend, for the run loop — **a stub until the real watcher lands here**
//! (`SetWinEventHook(EVENT_SYSTEM_FOREGROUND, EVENT_OBJECT_NAMECHANGE)` on a
//! thread with a message loop, the app named by its process image, idle from
//! `GetLastInputInfo`, `WTSRegisterSessionNotification` and
//! `WM_POWERBROADCAST`; see `docs/windows.md`). This is the one module that
//! may say `#![allow(unsafe_code)]` (the workspace denies it elsewhere).
//!
//! The interface is [`start`], which `watch/select_windows.rs` calls: it
//! starts the watcher and returns the [`Watching`] the run loop listens to
//! ([`Backend::Windows`], an [`IdleSource`], its name for `status`, a guard
//! that stops the watcher when dropped, a hint). The watcher sends
//! [`WatchEvent`]s to `tx`: `Connected`, `Focus(Some(WindowInfo))` at each
//! foreground or title change (the class and instance are the process image
//! name, `msedge.exe`, so `[apps]` rules and the browsers' title rules apply
//! as on Linux), `Locked`, `Sleeping`. The stub sends nothing: the loop runs,
//! counts nothing, and `status` says why.

use anyhow::Result;
use tokio::sync::mpsc;

use super::{Backend, IdleSource, WatchEvent, Watching};

/// Said by `status` while the stub is in place.
pub const NOT_YET: &str =
    "this build of dwell cannot see the foreground window on Windows yet: nothing is counted";

/// No idle source yet.
struct NoIdle;

impl IdleSource for NoIdle {
    fn idle_for(&mut self) -> Option<std::time::Duration> {
        None
    }
}

/// Starts the Windows watcher, sending to `tx`.
pub fn start(tx: mpsc::Sender<WatchEvent>) -> Result<Watching> {
    Ok(Watching {
        backend: Backend::Windows,
        idle: Box::new(NoIdle),
        idle_name: None,
        // Held, so the loop's channel stays open.
        guard: Some(Box::new(tx)),
        hint: Some(NOT_YET.to_owned()),
    })
}

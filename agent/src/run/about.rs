//! What the running agent tells `status` through the store's `meta` table:
//! the keys, and every place the loop writes and clears them. `cmd/status.rs`
//! reads them through these names.

use chrono::{DateTime, TimeZone, Utc};

use super::events::Loop;
use crate::clock::Clock;
use crate::watch::Backend;

/// `meta` key holding the error of a config file the running agent refused.
pub const CONFIG_ERROR_KEY: &str = "config_error";
/// `meta` keys telling `status` which backend and idle source the running agent
/// uses, and what the employee should do if something is missing.
pub const BACKEND_KEY: &str = "watch_backend";
pub const IDLE_SOURCE_KEY: &str = "watch_idle_source";
pub const HINT_KEY: &str = "watch_hint";
/// Meta key: what GNOME Shell says of dwell's extension, as JSON (see
/// [`crate::watch::ExtensionReport`]), for `status`.
pub const GNOME_EXTENSION_KEY: &str = "watch_gnome_extension";
/// Meta key: the browsers whose extension reported, as JSON (see
/// [`crate::browser::Browsers::status_json`]), for `status`.
pub const BROWSERS_KEY: &str = "watch_browsers";
/// How often, at most, the browsers' `last_seen` is written for `status`
/// (a connection or disconnection is written at once).
const BROWSERS_STORE_EVERY: chrono::Duration = chrono::Duration::seconds(60);
/// Meta key: why the running agent sends no notifications (for `status`).
pub const NOTIFY_OFF_KEY: &str = "notifications_off";

/// Which watchers feed the loop, as `status` shows them.
#[derive(Debug, Clone, Default)]
pub struct About {
    pub backend: Option<Backend>,
    pub idle_source: Option<&'static str>,
    pub hint: Option<String>,
    /// Why notifications are off, when the agent knows at start (a session bus
    /// it refuses to use).
    pub notifications_off: Option<String>,
    /// Where the agent notes since when writes fail (its lock file), so
    /// `status` can say so even when the database takes no writes.
    pub health: Option<crate::lock::HealthNote>,
}

impl<C: Clock, Tz: TimeZone> Loop<'_, C, Tz> {
    /// Tells `status` which watchers run (removed again on exit).
    pub(super) fn store_about(&mut self, about: &About) {
        let keys = [
            (BACKEND_KEY, about.backend.map(|b| b.name().to_owned())),
            (IDLE_SOURCE_KEY, about.idle_source.map(str::to_owned)),
            (HINT_KEY, about.hint.clone()),
            (NOTIFY_OFF_KEY, about.notifications_off.clone()),
            // Said again by the GNOME backend once it has asked the shell.
            (GNOME_EXTENSION_KEY, None),
        ];
        for (key, value) in keys {
            let res = match value {
                Some(v) => self.store.meta_set(key, &v),
                None => self.store.meta_delete(key),
            };
            if let Err(e) = res {
                tracing::warn!(error = %e, "cannot store the watcher state for status");
            }
        }
    }

    pub(super) fn clear_about(&mut self) {
        for key in [
            BACKEND_KEY,
            IDLE_SOURCE_KEY,
            HINT_KEY,
            GNOME_EXTENSION_KEY,
            NOTIFY_OFF_KEY,
            BROWSERS_KEY,
        ] {
            if let Err(e) = self.store.meta_delete(key) {
                tracing::warn!(error = %e, "cannot clear the watcher state");
            }
        }
    }

    /// Sets (or, with `None`, removes) one note for `status`; `what` names it
    /// in the warning when the store refuses.
    pub(super) fn note(&mut self, key: &str, value: Option<&str>, what: &str) {
        let res = match value {
            Some(v) => self.store.meta_set(key, v),
            None => self.store.meta_delete(key),
        };
        if let Err(e) = res {
            tracing::warn!(error = %e, "cannot store {what} for status");
        }
    }

    /// What GNOME Shell said of dwell's extension.
    pub(super) fn note_gnome_extension(&mut self, report: Option<crate::watch::ExtensionReport>) {
        let json = report.and_then(|r| serde_json::to_string(&r).ok());
        self.note(
            GNOME_EXTENSION_KEY,
            json.as_deref(),
            "the GNOME extension's state",
        );
    }

    /// What the watcher says the employee should do.
    pub(super) fn note_hint(&mut self, hint: Option<&str>) {
        self.note(HINT_KEY, hint, "the watcher hint");
    }

    /// The config file the agent refused.
    pub(super) fn note_config_error(&mut self, error: &str) {
        if let Err(e) = self.store.meta_set(CONFIG_ERROR_KEY, error) {
            tracing::warn!(error = %e, "cannot store the config error");
        }
    }

    pub(super) fn clear_config_error(&mut self) {
        if let Err(e) = self.store.meta_delete(CONFIG_ERROR_KEY) {
            tracing::warn!(error = %e, "cannot clear the stored config error");
        }
    }

    /// Writes the browsers' state for `status`: at once when `at_once`
    /// (a connection changed), else at most every [`BROWSERS_STORE_EVERY`].
    pub(super) fn store_browsers(&mut self, now: DateTime<Utc>, at_once: bool) {
        let due = self
            .browsers_stored
            .0
            .is_none_or(|t| now - t >= BROWSERS_STORE_EVERY || now < t);
        if !(at_once || (self.browsers_stored.1 && due)) {
            return;
        }
        match self
            .store
            .meta_set(BROWSERS_KEY, &self.browsers.status_json())
        {
            Ok(()) => self.browsers_stored = (Some(now), false),
            Err(e) => tracing::warn!(error = %e, "cannot store the browsers' state for status"),
        }
    }
}

//! What the loop is told from outside the watchers: the config file (live
//! reload), the pause, the calibration period and the daily retention run,
//! each looked at again at its own wake-up.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use dwell_core::store::StoreError;
use dwell_core::tracker::Event;
use dwell_core::{calibrate, control, Config};
use tokio::time::Instant;

use super::events::Loop;
use crate::clock::Clock;

/// `chrono::Local` reads `/etc/localtime` again at most this often (its
/// cache is kept for a second): after a time-zone change the recording hours
/// are looked at again this much later, so the new zone is seen within it
/// (the desktop's zone, [`crate::zone::LocalZone`], remembers nothing for
/// [`crate::zone::SETTLE`] after a "look again", which is longer).
const LOCAL_ZONE_CACHE: Duration = Duration::from_secs(1);
/// Longest sleep towards a control wake-up (pause end, retention, calibration).
const MAX_CONTROL_SLEEP: Duration = Duration::from_secs(3600);
/// When a setting in the store could not be read, how soon to try again.
const STORE_RETRY: Duration = Duration::from_secs(60);

impl<C: Clock, Tz: TimeZone> Loop<'_, C, Tz> {
    /// The config file or the time zone changed, or `SIGUSR1` arrived:
    /// re-read the config and the pause state, and look at the recording
    /// hours at once (a new zone moves them) and again within
    /// [`LOCAL_ZONE_CACHE`].
    pub(super) fn on_control(&mut self) {
        // The zone may have changed: the desktop's is asked again.
        crate::zone::LocalZone::forget();
        self.look_at_config(false);
        self.on_edge();
        let again = Instant::now() + LOCAL_ZONE_CACHE;
        self.edge_at = Some(self.edge_at.map_or(again, |at| at.min(again)));
        self.refresh_control();
        // `dwell-agent snooze` / `done-for-today`, if one is waiting.
        let now = self.clock.now();
        self.remind.take_request(&mut self.store, now, self.tz);
        // Whatever `dwell-agent forget` erased is dropped from memory now.
        self.checkpoint();
    }

    /// Takes in the config file if it changed; `settled`: a file found empty
    /// a moment ago is taken if it still is.
    pub(super) fn look_at_config(&mut self, settled: bool) {
        let Some(live) = self.live.as_mut() else {
            return;
        };
        let look = live.look(settled);
        if !matches!(look, crate::reload::Look::Settle) {
            self.reload_at = None;
        }
        match look {
            crate::reload::Look::Unchanged => self.clear_config_error(),
            crate::reload::Look::Settle => {
                tracing::debug!("the config file is empty: looking again in a moment");
                self.reload_at
                    .get_or_insert(Instant::now() + crate::reload::EMPTY_SETTLES);
            }
            crate::reload::Look::Take(config) => {
                self.apply_config(*config);
                self.clear_config_error();
            }
            crate::reload::Look::Refused(refused) => {
                crate::reload::log_refused(&refused);
                self.note_config_error(&refused.to_string());
            }
        }
    }

    /// The store found damage: stop (the caller moves the file aside, salvages
    /// what can be read and starts again). Other errors are only logged.
    pub(super) fn store_failed(&mut self, e: StoreError) {
        if matches!(e, StoreError::Damaged { .. }) {
            tracing::error!(error = %e, "the database is damaged; stopping to set it aside");
            self.fatal = Some(e);
        } else {
            tracing::warn!(error = %e, "the database check failed; will retry");
        }
    }

    /// Puts a new, valid config in force: the open span is closed and counting
    /// goes on under the new rules and hours.
    pub(super) fn apply_config(&mut self, config: Config) {
        let now = self.clock.now();
        self.close(Event::Away { at: now });
        self.config = config;
        self.remind.set_config(&self.config);
        if !self.config.ui.tray {
            // `[ui] tray = false` takes the icon away at once (dropping the
            // sender ends the tray); turning it on needs a restart.
            self.tray = None;
        }
        if self.window.is_some() {
            self.focus = self.activity_of(self.window.as_ref());
        }
        self.recording = self.config.schedule.is_recording(now, self.tz);
        self.resume(now);
        self.arm_edge();
        tracing::info!(recording = self.recording, "config reloaded");
    }

    /// Reads the pause state, runs retention when due, and works out when to
    /// look again (pause end, calibration end, next retention run). A setting
    /// that cannot be read (a transient store error) leaves what was in force
    /// as it was, and is read again after [`STORE_RETRY`].
    pub(super) fn refresh_control(&mut self) {
        self.control_at = None;
        let now = self.clock.now();
        let mut failed = false;
        let pause = match control::paused(&self.store, now) {
            Ok(pause) => pause,
            Err(e) => {
                failed = true;
                self.read_failed("cannot read the pause state; the previous one stays", &e);
                self.pause.filter(|p| p.is_active(now))
            }
        };
        let paused = pause.is_some();
        self.pause = pause;
        if paused != self.paused {
            if paused {
                tracing::info!("paused: off the record");
                self.remind.close();
                self.close(Event::Away { at: now });
                self.paused = true;
            } else {
                tracing::info!("resumed");
                self.paused = false;
                self.resume(now);
            }
        }
        let next_retention = match control::retention_last_run(&self.store) {
            Ok(last_run) => self.retention_if_due(last_run, now),
            Err(e) => {
                failed = true;
                self.read_failed("cannot read when retention last ran; it waits", &e);
                None
            }
        };
        if self.fatal.is_some() {
            return;
        }
        match self.store.consent() {
            Ok(consent) => {
                self.calibrating_until =
                    calibrate::calibration_end(consent, self.config.tracking.calibrate)
            }
            Err(e) => {
                failed = true;
                self.read_failed("cannot read the consent; calibration stays as it was", &e);
            }
        }
        self.calibrating_until = self.calibrating_until.filter(|end| *end > now);
        if !failed && self.read_failing {
            tracing::info!("reading the settings in the database works again");
            self.read_failing = false;
        }
        let retry =
            failed.then(|| now + chrono::Duration::from_std(STORE_RETRY).unwrap_or_default());
        let wake = [
            pause.and_then(|p| p.until()),
            self.calibrating_until,
            next_retention,
            retry,
        ]
        .into_iter()
        .flatten()
        .filter(|t| *t > now)
        .min();
        let wait = wake
            .and_then(|t| (t - now).to_std().ok())
            .unwrap_or(MAX_CONTROL_SLEEP)
            .min(MAX_CONTROL_SLEEP);
        self.control_at = Some(Instant::now() + wait);
    }

    /// A setting in the store could not be read: said once (at warn) until
    /// reading works again.
    pub(super) fn read_failed(&mut self, what: &str, e: &StoreError) {
        if self.read_failing {
            tracing::debug!(error = %e, "{what}");
        } else {
            tracing::warn!(error = %e, "{what}");
            self.read_failing = true;
        }
    }

    /// Runs retention when it is due (once a day, with a check that the
    /// database is still sound); returns when it is next due.
    pub(super) fn retention_if_due(
        &mut self,
        last_run: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let next = last_run.map(|t| t + chrono::Duration::days(1));
        if !control::retention_due(last_run, now) {
            return next;
        }
        // Upkeep: a SIGTERM or SIGINT stops it within milliseconds, even
        // inside a statement (`Store::upkeep`); it runs again at the next start.
        tracing::info!("the daily check of the database and retention: running");
        // A damaged database is never written to again (the caller moves it
        // aside).
        match self.store.upkeep(|s| s.health_check()) {
            Ok(()) => {}
            Err(StoreError::Cancelled { .. }) => {
                tracing::info!("the daily check stopped: dwell is stopping");
                return next;
            }
            Err(e) => self.store_failed(e),
        }
        if self.fatal.is_some() {
            return next;
        }
        tracing::info!("the daily check is done; retention: expiring old data");
        let keep = self.config.data.keep;
        match self
            .store
            .upkeep(|s| control::apply_retention(s, keep, now))
        {
            Ok(n) => {
                tracing::info!(deleted_spans = n, "retention ran");
                Some(now + chrono::Duration::days(1))
            }
            Err(StoreError::Cancelled { .. }) => {
                tracing::info!("retention stopped: dwell is stopping");
                next
            }
            Err(e @ StoreError::Damaged { .. }) => {
                self.store_failed(e);
                next
            }
            Err(e) => {
                tracing::warn!(error = %e, "retention failed; will retry");
                next
            }
        }
    }
}

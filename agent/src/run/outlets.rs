//! What the loop shows and is asked back: reminders (through
//! [`crate::remind`]), the tray icon and its menu, and the browser
//! extension's pause page.

use chrono::{DateTime, TimeZone, Utc};
use dwell_core::{control, Activity};

use super::events::Loop;
use crate::clock::Clock;
use crate::notify::NotifyEvent;
use crate::tray::TrayEvent;

impl<C: Clock, Tz: TimeZone> Loop<'_, C, Tz> {
    /// The calibration period runs: dwell records but does not remind.
    fn calibrating(&self, now: DateTime<Utc>) -> bool {
        self.calibrating_until.is_some_and(|end| now < end)
    }

    /// Lets the reminder policy look at the current moment.
    pub(super) fn remind_tick(&mut self) {
        let now = self.clock.now();
        // While calibrating, dwell records but does not remind.
        let calibrating = self.calibrating(now);
        let open = self.open_social().filter(|_| !calibrating);
        let site = self.open_site().map(str::to_owned);
        self.remind.set_open_site(site.as_deref());
        self.remind.tick(&mut self.store, now, open, self.tz);
    }

    /// The site of the open span, when it is social (for `[limits.sites]`).
    fn open_site(&self) -> Option<&str> {
        match self.tracker.current() {
            Some(Activity::Social(site)) if self.open_social().is_some() => Some(site.as_str()),
            _ => None,
        }
    }

    pub(super) fn on_notify(&mut self, ev: NotifyEvent) {
        let now = self.clock.now();
        self.remind.on_event(&mut self.store, ev, now, self.tz);
    }

    /// A choice from the tray's menu. A pause or a resume is stored as
    /// `dwell-agent pause` / `resume` store it, then taken in as their
    /// `SIGUSR1` is.
    pub(super) fn on_tray(&mut self, ev: TrayEvent) {
        let now = self.clock.now();
        let stored = match ev {
            TrayEvent::PauseHour => match control::parse_pause(control::DEFAULT_PAUSE, now) {
                Ok(pause) => control::set_pause(&self.store, pause),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot pause from the tray");
                    return;
                }
            },
            TrayEvent::PauseUntilTomorrow => {
                let tomorrow =
                    dwell_core::schedule::local_date(now, self.tz) + chrono::Days::new(1);
                let (midnight, _) = dwell_core::schedule::local_day_bounds(tomorrow, self.tz);
                control::set_pause(&self.store, control::Pause::Until(midnight))
            }
            TrayEvent::Resume => control::clear_pause(&self.store),
            TrayEvent::ReportToday | TrayEvent::ReportWeek => {
                let period = if ev == TrayEvent::ReportToday {
                    crate::remind::ReportPeriod::Today
                } else {
                    crate::remind::ReportPeriod::Week
                };
                let data_dir = self.store.path().parent().map(|p| p.to_owned());
                let (lang, requests) = self.remind.opener_context();
                crate::remind::open_report(data_dir, period, lang, requests, |_| {});
                return;
            }
            TrayEvent::Settings => {
                crate::tray::open_settings(self.config_path.clone());
                return;
            }
            TrayEvent::Snooze | TrayEvent::DoneForToday => {
                let request = match ev {
                    TrayEvent::Snooze => control::Request::Snooze(None),
                    _ => control::Request::DoneForToday,
                };
                self.remind
                    .apply_request(&mut self.store, request, now, self.tz);
                return;
            }
        };
        match stored {
            Ok(()) => self.on_control(),
            Err(e) => tracing::warn!(error = %e, "cannot store the pause chosen in the tray"),
        }
    }

    /// Sends the tray what it shows now, when that changed: today's figure
    /// from the usage ledger (as `status` and the reminders count it) and the
    /// pause.
    pub(super) fn show_tray(&mut self) {
        let Some(tx) = &self.tray else {
            return;
        };
        let now = self.clock.now();
        let site = self.open_site().map(str::to_owned);
        self.remind.set_open_site(site.as_deref());
        let figures = self.remind.figures(now, self.open_social(), self.tz);
        let sites = self.remind.site_figures(now, self.open_social(), self.tz);
        let pause = self.pause.map(|p| match p.until() {
            Some(t) => crate::tray::PauseNote::Until(dwell_core::text::moment(t, now, self.tz)),
            None => crate::tray::PauseNote::Indefinite,
        });
        let mut state = crate::tray::state(figures.today, figures.daily_limit, pause);
        crate::tray::add_sites(&mut state, &sites);
        let over = !figures.daily_limit.is_zero() && figures.today >= figures.daily_limit;
        state.reminder_actions = self.remind.offers_actions(now, over, self.tz);
        tx.send_if_modified(|shown| {
            let changed = *shown != state;
            if changed {
                *shown = state;
            }
            changed
        });
    }

    /// The browser extension's pause page, when a tab report has just made a
    /// social site the focused activity (it was `before`): with `[reminders]
    /// pause_page` on, while recording, not paused and not calibrating, the
    /// reminders decide (see [`crate::remind::Reminding::pause_page`]).
    pub(super) fn pause_page(
        &mut self,
        before: Option<&Activity>,
        now: DateTime<Utc>,
    ) -> Option<crate::door::Pause> {
        if !self.config.reminders.pause_page || !self.observing() {
            return None;
        }
        let Some(Activity::Social(site)) = &self.focus else {
            return None;
        };
        if before == self.focus.as_ref() || self.calibrating(now) {
            return None;
        }
        let site = site.clone();
        let open = self.open_social();
        let open_site = self.open_site().map(str::to_owned);
        self.remind.set_open_site(open_site.as_deref());
        self.remind
            .pause_page(&mut self.store, now, &site, open, self.tz)
    }
}

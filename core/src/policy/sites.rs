//! The policy's part of `[limits.sites]`: a site's own daily limit. When the
//! site of the open span reaches it, one reminder of kind [`Kind::Site`]
//! (once per site per local day) goes through the same gates as the daily
//! ones (snooze, `min_gap`, the hourly cap, quiet hours, "done for today"):
//! it is one more reminder in the same queue, never a second notification
//! beside another. A daily stage due at the same moment goes first; the
//! site's reminder follows once the gates open again. A site's time is the
//! [`crate::ledger::Ledger`]'s, plus the open span while it is on that site.
//!
//! [`Kind::Site`]: super::Kind::Site

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use super::{ms_dur, Policy};
use crate::ledger::ms_between;
use crate::limits::site_limit;
use crate::schedule::{local_date, local_day_bounds};

/// One limited site against its own limit, now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteFigure {
    /// The label as stored (and shown in reports).
    pub site: String,
    /// Its social time today.
    pub today: Duration,
    pub limit: Duration,
}

impl SiteFigure {
    /// Whether the site is at or over its limit.
    pub fn over(&self) -> bool {
        self.today >= self.limit
    }
}

impl Policy {
    /// Tells the policy which site the open span is on (`None`: not social).
    /// The agent calls it before [`Policy::check`] and [`Policy::figures`].
    pub fn set_open_site(&mut self, site: Option<&str>) {
        if self.open_site.as_deref() != site {
            self.open_site = site.map(str::to_owned);
        }
    }

    /// `site`'s figure at `now`, if it has a limit of its own; `open` is the
    /// start of the open social span (on [`Policy::set_open_site`]'s site).
    pub fn site_figure<Tz: TimeZone>(
        &self,
        site: &str,
        now: DateTime<Utc>,
        open: Option<DateTime<Utc>>,
        tz: &Tz,
    ) -> Option<SiteFigure> {
        let limit = site_limit(&self.cfg.sites, site)?;
        let date = local_date(now, tz);
        let mut ms = self.ledger.site_day(date, &limit.site);
        if let (Some(o), Some(s)) = (open, &self.open_site) {
            if s.eq_ignore_ascii_case(&limit.site) {
                let (day_start, _) = local_day_bounds(date, tz);
                ms += ms_between(o.max(day_start), now);
            }
        }
        Some(SiteFigure {
            site: limit.site.clone(),
            today: ms_dur(ms),
            limit: limit.limit,
        })
    }

    /// Every limited site against its limit at `now`, by label (for
    /// `status` and the tray).
    pub fn site_figures<Tz: TimeZone>(
        &self,
        now: DateTime<Utc>,
        open: Option<DateTime<Utc>>,
        tz: &Tz,
    ) -> Vec<SiteFigure> {
        self.cfg
            .sites
            .iter()
            .filter_map(|s| self.site_figure(&s.site, now, open, tz))
            .collect()
    }

    /// The open span's site, when it is over its own limit and not yet
    /// reminded about today.
    pub(super) fn site_due<Tz: TimeZone>(
        &self,
        now: DateTime<Utc>,
        open: Option<DateTime<Utc>>,
        tz: &Tz,
    ) -> Option<String> {
        open?;
        let f = self.site_figure(self.open_site.as_deref()?, now, open, tz)?;
        (f.over() && !self.sites_done.contains(&f.site)).then_some(f.site)
    }

    /// When the open span's site reaches its own limit, if it has one not yet
    /// reminded about today.
    pub(super) fn site_wake<Tz: TimeZone>(
        &self,
        now: DateTime<Utc>,
        open: Option<DateTime<Utc>>,
        tz: &Tz,
    ) -> Option<DateTime<Utc>> {
        open?;
        let f = self.site_figure(self.open_site.as_deref()?, now, open, tz)?;
        if self.sites_done.contains(&f.site) {
            return None;
        }
        let left = f.limit.saturating_sub(f.today);
        let ms = i64::try_from(left.as_millis()).unwrap_or(i64::MAX);
        Some(now + chrono::TimeDelta::milliseconds(ms))
    }
}

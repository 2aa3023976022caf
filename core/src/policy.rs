//! The reminder policy: when a gentle reminder is due, pure and clock-injected.
//!
//! The agent feeds it the closed spans it writes ([`Policy::record_span`]) and asks,
//! with the start of the open span (if it is social) and the current time, whether
//! a reminder is due now ([`Policy::check`]) and when the next one could be
//! ([`Policy::next_wake`]): the exact instant of the next crossing, so the agent arms
//! one timer and never polls.
//!
//! What it decides, all from the employee's own config:
//! - **stages**: at each fraction of `limits.daily` in `reminders.at`, once per stage
//!   per local day; the stages reset at the start of the next local day. When several
//!   stages are crossed at once (after a snooze, say), only the highest is sent.
//! - **over**: while over the daily budget, again after `repeat_over`.
//! - **streak**: once per streak, when a streak reaches `limits.streak`.
//! - **weekly**: once per week (from `[schedule] week_start`), when the week
//!   reaches `limits.weekly`.
//!
//! Today's, this week's and the streak's social time come from the usage
//! [`Ledger`], as everywhere else.
//!
//! Gates: only while on a social site; never within `min_gap` of the previous
//! reminder; at most `max_per_hour` in any hour; nothing while snoozed or after
//! "done for today". In quiet periods, or while the agent says the desktop is busy
//! (fullscreen, do-not-disturb), a due reminder is *held*: the most recent held one
//! is delivered once the quiet ends if it is still relevant, never a backlog.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc, Weekday};

use crate::config::{Limits, Reminders};
use crate::ledger::{Ledger, Usage};
use crate::limits::{Plan, SiteLimit};
use crate::model::{ReminderRecord, Span};
use crate::schedule::{local_date, local_day_bounds, TimeRange};

mod sites;
pub use sites::SiteFigure;

/// What a reminder is about; stored as [`Kind::as_str`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A fraction of the daily budget was reached.
    Stage,
    /// Still over the daily budget, `repeat_over` after the previous reminder.
    Over,
    /// A streak reached the streak limit.
    Streak,
    /// The week reached the weekly budget.
    Weekly,
    /// The browser extension's pause page: over the daily budget, a social tab
    /// was opened or switched to (see [`Policy::pause_page`]).
    PausePage,
    /// A site reached its own limit (`[limits.sites]`): see [`sites`].
    Site,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Stage => "stage",
            Kind::Over => "over",
            Kind::Streak => "streak",
            Kind::Weekly => "weekly",
            Kind::PausePage => "pause_page",
            Kind::Site => "site",
        }
    }
}

/// The real figures a reminder talks about.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Figures {
    /// Social time counted today.
    pub today: Duration,
    pub daily_limit: Duration,
    /// The current streak.
    pub streak: Duration,
    pub streak_limit: Duration,
    /// Social time counted this week.
    pub week: Duration,
    pub weekly_limit: Duration,
}

impl Figures {
    /// Today's time as a whole percentage of the daily limit.
    pub fn percent_of_daily(&self) -> u32 {
        percent(self.today, self.daily_limit)
    }
}

fn percent(a: Duration, b: Duration) -> u32 {
    if b.is_zero() {
        return 0;
    }
    (a.as_secs_f64() / b.as_secs_f64() * 100.0).round() as u32
}

/// A reminder the policy decided on.
#[derive(Clone, Debug, PartialEq)]
pub struct Reminder {
    /// When it was decided (the store's key for it).
    pub at: DateTime<Utc>,
    pub kind: Kind,
    /// For [`Kind::Stage`]: the fraction of the daily limit reached.
    pub stage: Option<f64>,
    pub figures: Figures,
    /// For [`Kind::Site`] (and a pause page for a site over its own limit):
    /// the site, its time today and its limit.
    pub site: Option<SiteFigure>,
}

/// Why a due reminder is held back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HoldReason {
    /// A configured quiet period.
    Quiet,
    /// The focused window is fullscreen.
    Fullscreen,
    /// The notification server is in do-not-disturb.
    DoNotDisturb,
}

/// What the agent knows about the desktop that the policy cannot see.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Desk {
    pub fullscreen: bool,
    pub do_not_disturb: bool,
}

/// The answer of [`Policy::check`].
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Nothing to do now.
    Nothing,
    /// Show this reminder now.
    Send(Reminder),
    /// This reminder is due but held back; it replaces any held one. Store it as
    /// `held`; if it is sent later, [`Decision::Send`] carries the same `at`.
    Hold(Reminder, HoldReason),
}

/// The parts of the config the policy uses.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyConfig {
    pub enabled: bool,
    /// `limits.daily`; the limit of a given day is [`PolicyConfig::daily_on`].
    pub daily: Duration,
    /// `[limits.days]`, Monday first.
    pub days: [Option<Duration>; 7],
    /// `[limits.plan]`.
    pub plan: Option<Plan>,
    /// `[limits.sites]`.
    pub sites: Vec<SiteLimit>,
    pub streak: Duration,
    pub weekly: Duration,
    pub streak_gap: Duration,
    /// Ascending fractions of `daily`.
    pub at: Vec<f64>,
    pub repeat_over: Duration,
    pub min_gap: Duration,
    pub max_per_hour: u32,
    pub snooze: Duration,
    pub snoozes_per_day: u32,
    pub quiet: Vec<TimeRange>,
    /// First day of the week of the weekly limit (Monday unless configured).
    pub week_start: Weekday,
}

impl PolicyConfig {
    /// The policy's part of a whole config.
    pub fn of(config: &crate::Config) -> PolicyConfig {
        PolicyConfig {
            week_start: config.week_start,
            ..PolicyConfig::new(&config.limits, &config.reminders)
        }
    }

    pub fn new(limits: &Limits, reminders: &Reminders) -> PolicyConfig {
        let mut at = reminders.at.clone();
        at.sort_by(f64::total_cmp);
        at.dedup();
        PolicyConfig {
            enabled: reminders.enabled,
            daily: limits.daily,
            days: limits.days,
            plan: limits.plan,
            sites: limits.sites.clone(),
            streak: limits.streak,
            weekly: limits.weekly,
            streak_gap: limits.streak_gap,
            at,
            repeat_over: reminders.repeat_over,
            min_gap: reminders.min_gap,
            max_per_hour: reminders.max_per_hour,
            snooze: reminders.snooze,
            snoozes_per_day: reminders.snoozes_per_day,
            quiet: reminders.quiet.clone(),
            week_start: Weekday::Mon,
        }
    }
}

impl PolicyConfig {
    /// The daily limit in force on local day `date` (see [`crate::limits`]).
    pub fn daily_on(&self, date: NaiveDate) -> Duration {
        crate::limits::daily_on(self.daily, &self.days, self.plan.as_ref(), date)
    }
}

/// Where the policy stands today, for `dwell-agent status`.
#[derive(Clone, Debug, PartialEq)]
pub struct Outlook {
    pub figures: Figures,
    /// The next stage not yet reminded today, as a fraction of the daily limit.
    pub next_stage: Option<f64>,
    /// Social time today at which that stage is reached.
    pub next_stage_at: Option<Duration>,
    pub snoozes_left: u32,
    pub snoozed_until: Option<DateTime<Utc>>,
    pub done_for_today: bool,
}

/// The policy state. One per agent; replayable.
#[derive(Clone, Debug)]
pub struct Policy {
    cfg: PolicyConfig,
    /// The local day the per-day state belongs to.
    day: Option<NaiveDate>,
    stages_done: Vec<bool>,
    snoozes_used: u32,
    done_today: bool,
    snoozed_until: Option<DateTime<Utc>>,
    /// Closed spans counted (the last couple of weeks).
    ledger: Ledger,
    /// Start of the streak that was reminded about.
    streak_reminded: Option<DateTime<Utc>>,
    /// Monday of the week the weekly note was sent for.
    weekly_done: Option<NaiveDate>,
    /// Times reminders were sent (the last hour or so), newest last.
    sent: Vec<DateTime<Utc>>,
    /// When the last reminder was decided (sent or held): `repeat_over` counts from it.
    last_decided: Option<DateTime<Utc>>,
    /// The reminder held back most recently, waiting for the quiet to end.
    held: Option<Reminder>,
    /// When the pause page was last shown, per site label (`repeat_over` apart).
    paused_sites: HashMap<String, DateTime<Utc>>,
    /// The site of the open span, when it is social (see [`Policy::set_open_site`]).
    open_site: Option<String>,
    /// The sites reminded today about their own limit.
    sites_done: Vec<String>,
}

/// What is due right now, before the gates.
struct Due {
    kind: Kind,
    stage: Option<usize>,
    /// Everything this reminder settles (so nothing piles up behind it).
    stages_upto: Option<usize>,
    streak: bool,
    weekly: bool,
    /// The site over its own limit this reminder is about.
    site: Option<String>,
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn dur(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

fn ms_secs(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

fn ms_dur(ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

/// The first day of the week of `d`.
fn week_start(d: NaiveDate, start: Weekday) -> NaiveDate {
    crate::schedule::week_start_of(d, start)
}

impl Policy {
    pub fn new(cfg: PolicyConfig) -> Policy {
        let stages = cfg.at.len();
        Policy {
            ledger: Ledger::new(cfg.streak_gap),
            cfg,
            day: None,
            stages_done: vec![false; stages],
            snoozes_used: 0,
            done_today: false,
            snoozed_until: None,
            streak_reminded: None,
            weekly_done: None,
            sent: Vec::new(),
            last_decided: None,
            held: None,
            paused_sites: HashMap::new(),
            open_site: None,
            sites_done: Vec::new(),
        }
    }

    /// Convenience: the policy for a whole config.
    pub fn from_config(config: &crate::Config) -> Policy {
        Policy::new(PolicyConfig::of(config))
    }

    pub fn config(&self) -> &PolicyConfig {
        &self.cfg
    }

    /// Takes a new config (on reload), keeping what was counted and sent today.
    pub fn set_config(&mut self, cfg: PolicyConfig) {
        if cfg.at != self.cfg.at {
            // Stages already passed stay done; new ones above today start fresh.
            let today = self.day.map_or(0.0, |d| ms_secs(self.ledger.day(d)));
            let daily = self.day.map_or(cfg.daily, |d| cfg.daily_on(d));
            self.stages_done = cfg.at.iter().map(|f| today >= f * secs(daily)).collect();
        }
        self.ledger.set_streak_gap(cfg.streak_gap);
        self.cfg = cfg;
    }

    /// Starts a new local day's state when `now` is on another day than the last.
    fn roll<Tz: TimeZone>(&mut self, now: DateTime<Utc>, tz: &Tz) {
        let today = local_date(now, tz);
        if self.day == Some(today) {
            return;
        }
        self.day = Some(today);
        self.stages_done = vec![false; self.cfg.at.len()];
        self.snoozes_used = 0;
        self.done_today = false;
        self.snoozed_until = None;
        self.sites_done.clear();
        // A reminder held yesterday is not relevant today.
        self.held = None;
        let keep_from = week_start(today, self.cfg.week_start) - TimeDelta::days(7);
        self.ledger.forget_before(keep_from);
    }

    /// Counts a closed span, as stored (already clipped to recording hours).
    pub fn record_span<Tz: TimeZone>(&mut self, span: &Span, tz: &Tz) {
        self.ledger.add(span, tz);
    }

    /// Where the stored spans the policy needs begin, at `now`: the local day a
    /// week before today (enough for any week start).
    pub fn history_start<Tz: TimeZone>(now: DateTime<Utc>, tz: &Tz) -> DateTime<Utc> {
        let today = local_date(now, tz);
        local_day_bounds(today - chrono::Days::new(7), tz).0
    }

    /// Counts the stored spans of `[from, now)` (as read from the store, which
    /// returns whole the spans that overlap it).
    pub fn record_stored<Tz: TimeZone>(
        &mut self,
        spans: &[Span],
        from: DateTime<Utc>,
        now: DateTime<Utc>,
        tz: &Tz,
    ) {
        for span in crate::ledger::within(spans, from, now) {
            self.ledger.add(&span, tz);
        }
    }

    /// Drops the time counted so far (the employee erased some of it); the
    /// caller then records again what the store still holds. What was sent
    /// today stays as it is.
    pub fn clear_usage(&mut self) {
        self.ledger.clear();
    }

    /// Restores today's reminder state from what the store holds (after a restart):
    /// snoozes used, "done for today", when reminders were sent; stages already
    /// passed today count as done, so a restart does not repeat them.
    pub fn restore<Tz: TimeZone>(&mut self, now: DateTime<Utc>, tz: &Tz, today: &[ReminderRecord]) {
        self.roll(now, tz);
        let day = local_date(now, tz);
        for r in today.iter().filter(|r| local_date(r.at, tz) == day) {
            match r.outcome.as_str() {
                "snoozed" => self.snoozes_used += 1,
                "done_for_today" => self.done_today = true,
                _ => {}
            }
            if r.outcome != "held" {
                self.sent.push(r.at);
            }
            self.last_decided = self.last_decided.max(Some(r.at));
            if r.kind == Kind::Weekly.as_str() {
                self.weekly_done = Some(week_start(day, self.cfg.week_start));
            }
        }
        self.sent.sort();
        let usage = self.usage(now, None, tz);
        let today_secs = ms_secs(usage.today_ms);
        let daily = secs(self.cfg.daily_on(day));
        for (i, f) in self.cfg.at.iter().enumerate() {
            if today_secs >= f * daily {
                self.stages_done[i] = true;
            }
        }
        if ms_secs(usage.week_ms) >= secs(self.cfg.weekly) {
            self.weekly_done = Some(week_start(day, self.cfg.week_start));
        }
        self.sites_done = self
            .site_figures(now, None, tz)
            .into_iter()
            .filter(SiteFigure::over)
            .map(|f| f.site)
            .collect();
    }

    /// The ledger's figures at `now`, with the open social span since `open`.
    fn usage<Tz: TimeZone>(
        &self,
        now: DateTime<Utc>,
        open: Option<DateTime<Utc>>,
        tz: &Tz,
    ) -> Usage {
        self.ledger.at(now, open, self.cfg.week_start, tz)
    }

    /// Today's figures at `now`.
    pub fn figures<Tz: TimeZone>(
        &self,
        now: DateTime<Utc>,
        open: Option<DateTime<Utc>>,
        tz: &Tz,
    ) -> Figures {
        self.figures_of(&self.usage(now, open, tz), local_date(now, tz))
    }

    fn figures_of(&self, usage: &Usage, date: NaiveDate) -> Figures {
        Figures {
            today: ms_dur(usage.today_ms),
            daily_limit: self.cfg.daily_on(date),
            streak: usage.streak.as_ref().map_or(Duration::ZERO, |s| s.length()),
            streak_limit: self.cfg.streak,
            week: ms_dur(usage.week_ms),
            weekly_limit: self.cfg.weekly,
        }
    }

    /// What is due at `now` (before the gates) with `usage`, if anything.
    fn due<Tz: TimeZone>(
        &self,
        usage: &Usage,
        now: DateTime<Utc>,
        open: Option<DateTime<Utc>>,
        tz: &Tz,
    ) -> Option<Due> {
        let today = ms_secs(usage.today_ms);
        let daily = secs(self.cfg.daily_on(local_date(now, tz)));
        let stage = self
            .cfg
            .at
            .iter()
            .enumerate()
            .rev()
            .find(|(_, f)| today >= *f * daily)
            .map(|(i, _)| i)
            .filter(|i| !self.stages_done[*i]);
        let streak = usage.streak.as_ref().is_some_and(|s| {
            ms_secs(s.social_ms) >= secs(self.cfg.streak) && self.streak_reminded != Some(s.start)
        });
        let week_first = week_start(local_date(now, tz), self.cfg.week_start);
        let weekly =
            ms_secs(usage.week_ms) >= secs(self.cfg.weekly) && self.weekly_done != Some(week_first);
        let over = today >= daily
            && self
                .last_decided
                .is_none_or(|last| now - last >= delta(self.cfg.repeat_over));
        let site = self.site_due(now, open, tz);
        let kind = if stage.is_some() {
            Kind::Stage
        } else if site.is_some() {
            Kind::Site
        } else if streak {
            Kind::Streak
        } else if weekly {
            Kind::Weekly
        } else if over {
            Kind::Over
        } else {
            return None;
        };
        Some(Due {
            kind,
            stage,
            stages_upto: stage,
            streak,
            weekly,
            site: site.filter(|_| stage.is_none()),
        })
    }

    /// Marks everything `due` covers as settled.
    fn settle<Tz: TimeZone>(&mut self, due: &Due, usage: &Usage, now: DateTime<Utc>, tz: &Tz) {
        if let Some(upto) = due.stages_upto {
            for s in &mut self.stages_done[..=upto] {
                *s = true;
            }
        }
        if due.streak {
            self.streak_reminded = usage.streak.as_ref().map(|s| s.start);
        }
        if due.weekly {
            self.weekly_done = Some(week_start(local_date(now, tz), self.cfg.week_start));
        }
        if let Some(site) = &due.site {
            self.sites_done.push(site.clone());
        }
    }

    /// The first instant at or after `now` when the send gates (snooze, min_gap,
    /// hourly cap) are open.
    fn gates_open_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let mut t = now;
        if let Some(until) = self.snoozed_until {
            t = t.max(until);
        }
        if let Some(last) = self.sent.last() {
            t = t.max(*last + delta(self.cfg.min_gap));
        }
        let cap = self.cfg.max_per_hour as usize;
        let hour = TimeDelta::hours(1);
        if cap > 0 {
            // The cap-th most recent sending must be an hour old.
            let recent: Vec<&DateTime<Utc>> = self.sent.iter().filter(|s| **s > t - hour).collect();
            if recent.len() >= cap {
                t = t.max(*recent[recent.len() - cap] + hour);
            }
        }
        t
    }

    /// The end of the quiet period containing `now`, if `now` is in one.
    fn quiet_until<Tz: TimeZone>(&self, now: DateTime<Utc>, tz: &Tz) -> Option<DateTime<Utc>> {
        let local = now.with_timezone(tz).naive_local();
        let r = self.cfg.quiet.iter().find(|r| r.contains(local.time()))?;
        let date = local.date();
        let end = if r.ends_at_midnight() {
            local_day_bounds(date, tz).1
        } else {
            // On a fall-back night the end may come twice: the one ahead.
            crate::schedule::local_to_utc_after(tz, date.and_time(r.end), now)
        };
        // Never "now or earlier": a held reminder would wake the loop at once, again and again.
        Some(end.max(now + TimeDelta::seconds(1)))
    }

    /// Reminders are on, not snoozed and not done for today (the day rolled).
    fn switched_on(&self, now: DateTime<Utc>) -> bool {
        self.cfg.enabled && !self.done_today && self.snoozed_until.is_none_or(|u| now >= u)
    }

    /// Why a reminder due at `now` would be held back, if it would be.
    fn hold_reason<Tz: TimeZone>(
        &self,
        now: DateTime<Utc>,
        desk: Desk,
        tz: &Tz,
    ) -> Option<HoldReason> {
        if self.quiet_until(now, tz).is_some() {
            Some(HoldReason::Quiet)
        } else if desk.fullscreen {
            Some(HoldReason::Fullscreen)
        } else if desk.do_not_disturb {
            Some(HoldReason::DoNotDisturb)
        } else {
            None
        }
    }

    /// Whether a reminder may speak at `now`: reminders on, not snoozed, not
    /// done for today, and nothing that would hold one back (a quiet period,
    /// fullscreen, do-not-disturb). [`Policy::check`] and
    /// [`Policy::pause_page`] both go by it.
    pub fn may_speak<Tz: TimeZone>(&mut self, now: DateTime<Utc>, desk: Desk, tz: &Tz) -> bool {
        self.roll(now, tz);
        self.switched_on(now) && self.hold_reason(now, desk, tz).is_none()
    }

    /// The browser extension's pause page: a social tab on `site` was just
    /// opened or switched to (`open`: the start of the open social span, if
    /// one is open). Shown when reminders [may speak](Policy::may_speak), the
    /// daily limit is already passed, and not within `repeat_over` of the last
    /// pause page for the same site. The notification gates (`min_gap`, the
    /// hourly cap) do not apply, since the employee just acted; but the pause
    /// page counts as a reminder sent, so no notification follows on its heels.
    pub fn pause_page<Tz: TimeZone>(
        &mut self,
        now: DateTime<Utc>,
        site: &str,
        open: Option<DateTime<Utc>>,
        desk: Desk,
        tz: &Tz,
    ) -> Option<Reminder> {
        if !self.may_speak(now, desk, tz) {
            return None;
        }
        let usage = self.usage(now, open, tz);
        let date = local_date(now, tz);
        let own = self
            .site_figure(site, now, open, tz)
            .filter(SiteFigure::over);
        if own.is_none() && ms_secs(usage.today_ms) < secs(self.cfg.daily_on(date)) {
            return None;
        }
        let repeat = delta(self.cfg.repeat_over);
        self.paused_sites
            .retain(|_, at| *at + repeat > now && *at <= now);
        if self.paused_sites.contains_key(site) {
            return None;
        }
        self.paused_sites.insert(site.to_owned(), now);
        self.sent.push(now);
        self.last_decided = Some(now);
        Some(Reminder {
            at: now,
            kind: Kind::PausePage,
            stage: None,
            figures: self.figures_of(&usage, date),
            site: own,
        })
    }

    /// Decides at `now`. `open` is the start of the open span if it is social
    /// (reminders are only sent while on a social site), `desk` what the agent
    /// knows of the desktop.
    pub fn check<Tz: TimeZone>(
        &mut self,
        now: DateTime<Utc>,
        open: Option<DateTime<Utc>>,
        desk: Desk,
        tz: &Tz,
    ) -> Decision {
        self.roll(now, tz);
        let keep = now - TimeDelta::hours(1) - delta(self.cfg.min_gap);
        self.sent.retain(|s| *s > keep);
        if !self.switched_on(now) || open.is_none() {
            return Decision::Nothing;
        }
        let hold = self.hold_reason(now, desk, tz);
        let usage = self.usage(now, open, tz);
        let figures = self.figures_of(&usage, local_date(now, tz));
        if let Some(due) = self.due(&usage, now, open, tz) {
            if self.gates_open_at(now) > now {
                return Decision::Nothing;
            }
            let reminder = Reminder {
                at: now,
                kind: due.kind,
                stage: due.stage.map(|i| self.cfg.at[i]),
                figures,
                site: due
                    .site
                    .as_deref()
                    .and_then(|s| self.site_figure(s, now, open, tz)),
            };
            self.settle(&due, &usage, now, tz);
            self.last_decided = Some(now);
            if let Some(reason) = hold {
                self.held = Some(reminder.clone());
                return Decision::Hold(reminder, reason);
            }
            self.held = None;
            self.sent.push(now);
            return Decision::Send(reminder);
        }
        if hold.is_none() && self.gates_open_at(now) <= now {
            if let Some(mut r) = self.held.take() {
                // Still relevant: on a social site, the same day; with fresh figures.
                r.figures = figures;
                if let Some(site) = r.site.take() {
                    r.site = self.site_figure(&site.site, now, open, tz);
                }
                self.sent.push(now);
                return Decision::Send(r);
            }
        }
        Decision::Nothing
    }

    /// When [`Policy::check`] should next be called, assuming nothing else changes
    /// (the focus, the desktop). `None`: nothing can become due until then.
    pub fn next_wake<Tz: TimeZone>(
        &self,
        now: DateTime<Utc>,
        open: Option<DateTime<Utc>>,
        desk: Desk,
        tz: &Tz,
    ) -> Option<DateTime<Utc>> {
        if !self.cfg.enabled || open.is_none() {
            return None;
        }
        let date = local_date(now, tz);
        let (_, day_end) = local_day_bounds(date, tz);
        if self.day == Some(date) && self.done_today {
            return Some(day_end);
        }
        let mut candidates: Vec<DateTime<Utc>> = Vec::new();
        let after = |s: f64| now + TimeDelta::milliseconds((s.max(0.0) * 1000.0).ceil() as i64);
        let usage = self.usage(now, open, tz);
        let today = ms_secs(usage.today_ms);
        let daily = secs(self.cfg.daily_on(date));
        let rolled = self.day != Some(date);
        for (i, f) in self.cfg.at.iter().enumerate() {
            if rolled || !self.stages_done[i] {
                candidates.push(after(f * daily - today));
            }
        }
        if let Some(s) = &usage.streak {
            if self.streak_reminded != Some(s.start) {
                candidates.push(after(secs(self.cfg.streak) - ms_secs(s.social_ms)));
            }
        }
        if self.weekly_done != Some(week_start(date, self.cfg.week_start)) {
            candidates.push(after(secs(self.cfg.weekly) - ms_secs(usage.week_ms)));
        }
        if let Some(at) = self.site_wake(now, open, tz) {
            candidates.push(at);
        }
        let over_from = after(daily - today);
        let repeat = self
            .last_decided
            .map(|l| l + delta(self.cfg.repeat_over))
            .unwrap_or(over_from);
        candidates.push(over_from.max(repeat));
        // A held reminder goes out when the quiet ends; fullscreen and
        // do-not-disturb ending are events the agent reports.
        if self.held.is_some() && !desk.fullscreen && !desk.do_not_disturb {
            candidates.push(self.quiet_until(now, tz).unwrap_or(now));
        }
        let mut next = candidates.into_iter().min()?.max(now);
        // Not before the gates open. In a quiet period a crossing is still marked
        // (as held) when it happens.
        next = next.max(self.gates_open_at(now));
        Some(next.min(day_end.max(now)))
    }

    /// "Snooze": no reminders for `snooze`, if today's snoozes are not used up.
    /// Returns whether it was granted.
    pub fn snooze<Tz: TimeZone>(&mut self, now: DateTime<Utc>, tz: &Tz) -> bool {
        self.snooze_for(self.cfg.snooze, now, tz).is_some()
    }

    /// A snooze of `length` (`dwell-agent snooze 30m`), under the same count
    /// of snoozes a day. Returns when it ends, if it was granted.
    pub fn snooze_for<Tz: TimeZone>(
        &mut self,
        length: Duration,
        now: DateTime<Utc>,
        tz: &Tz,
    ) -> Option<DateTime<Utc>> {
        self.roll(now, tz);
        if self.snoozes_used >= self.cfg.snoozes_per_day {
            return None;
        }
        self.snoozes_used += 1;
        let until = now + delta(length);
        self.snoozed_until = Some(until);
        self.held = None;
        Some(until)
    }

    /// Adds what was asked today with no reminder to keep it (see
    /// [`crate::control::Asked`]), after [`Policy::restore`].
    pub fn restore_asked<Tz: TimeZone>(
        &mut self,
        now: DateTime<Utc>,
        tz: &Tz,
        asked: &crate::control::Asked,
    ) {
        self.roll(now, tz);
        if asked.day != local_date(now, tz) {
            return;
        }
        self.snoozes_used += asked.snoozes;
        self.done_today |= asked.done;
        self.snoozed_until = self.snoozed_until.max(asked.snoozed_until);
    }

    /// Whether "done for today" holds at `now`.
    pub fn is_done_for_today<Tz: TimeZone>(&self, now: DateTime<Utc>, tz: &Tz) -> bool {
        self.day == Some(local_date(now, tz)) && self.done_today
    }

    /// "Done for today": no more reminders until the next local day.
    pub fn done_for_today<Tz: TimeZone>(&mut self, now: DateTime<Utc>, tz: &Tz) {
        self.roll(now, tz);
        self.done_today = true;
        self.held = None;
    }

    /// Takes back the reminder just sent (the notification server turned out to be
    /// in do-not-disturb): it is held instead, and goes out when that ends.
    pub fn hold_back(&mut self, reminder: Reminder) {
        self.sent.pop();
        self.held = Some(reminder);
    }

    /// The reminder held back, if any.
    pub fn held(&self) -> Option<&Reminder> {
        self.held.as_ref()
    }

    pub fn snoozes_left<Tz: TimeZone>(&self, now: DateTime<Utc>, tz: &Tz) -> u32 {
        if self.day != Some(local_date(now, tz)) {
            return self.cfg.snoozes_per_day;
        }
        self.cfg.snoozes_per_day.saturating_sub(self.snoozes_used)
    }

    /// Today's standing, for `status`.
    pub fn outlook<Tz: TimeZone>(
        &self,
        now: DateTime<Utc>,
        open: Option<DateTime<Utc>>,
        tz: &Tz,
    ) -> Outlook {
        let same_day = self.day == Some(local_date(now, tz));
        let next = self
            .cfg
            .at
            .iter()
            .enumerate()
            .find(|(i, _)| !same_day || !self.stages_done[*i])
            .map(|(_, f)| *f);
        Outlook {
            figures: self.figures(now, open, tz),
            next_stage: next,
            next_stage_at: next.map(|f| dur(f * secs(self.cfg.daily_on(local_date(now, tz))))),
            snoozes_left: self.snoozes_left(now, tz),
            snoozed_until: self.snoozed_until.filter(|u| same_day && *u > now),
            done_for_today: same_day && self.done_today,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{Activity, Source};
    use crate::Config;
    use std::path::Path;

    /// A replayed day: a policy, a clock and the open span, driven second by second
    /// through the timer the policy asks for (as the agent does).
    struct Day {
        p: Policy,
        now: DateTime<Utc>,
        open: Option<DateTime<Utc>>,
        desk: Desk,
        log: Vec<(DateTime<Utc>, Decision)>,
        tz: chrono_tz::Tz,
    }

    fn config(extra: &str) -> PolicyConfig {
        // Defaults: daily 30m, streak 15m, weekly 2h30m.
        let c = Config::parse(extra, Path::new("t.toml")).unwrap();
        PolicyConfig::new(&c.limits, &c.reminders)
    }

    /// Tuesday 2026-11-24 09:00 in Toronto.
    fn nine() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 14, 0, 0).unwrap()
    }

    fn m(n: i64) -> TimeDelta {
        TimeDelta::minutes(n)
    }

    impl Day {
        fn new(cfg: PolicyConfig) -> Day {
            Day {
                p: Policy::new(cfg),
                now: nine(),
                open: None,
                desk: Desk::default(),
                log: Vec::new(),
                tz: chrono_tz::America::Toronto,
            }
        }

        fn social(&mut self) {
            if self.open.is_none() {
                self.open = Some(self.now);
            }
            self.check();
        }

        fn work(&mut self) {
            if let Some(start) = self.open.take() {
                let span = Span {
                    start,
                    end: self.now,
                    activity: Activity::Social("x.com".into()),
                    source: Source::X11,
                };
                self.p.record_span(&span, &self.tz);
            }
            self.check();
        }

        fn check(&mut self) {
            let d = self.p.check(self.now, self.open, self.desk, &self.tz);
            if d != Decision::Nothing {
                self.log.push((self.now, d));
            }
        }

        /// Advances to `until`, waking exactly when the policy asks.
        fn run_until(&mut self, until: DateTime<Utc>) {
            loop {
                match self.p.next_wake(self.now, self.open, self.desk, &self.tz) {
                    Some(w) if w <= until => {
                        assert!(w >= self.now, "wake in the past: {w} < {}", self.now);
                        if w == self.now {
                            // Asked to look now: must decide something or move on.
                            let before = self.log.len();
                            self.check();
                            if self.log.len() == before {
                                let again =
                                    self.p.next_wake(self.now, self.open, self.desk, &self.tz);
                                assert_ne!(again, Some(self.now), "busy loop at {}", self.now);
                            }
                        } else {
                            self.now = w;
                            self.check();
                        }
                    }
                    _ => {
                        self.now = until;
                        self.check();
                        return;
                    }
                }
            }
        }

        fn advance(&mut self, d: TimeDelta) {
            let until = self.now + d;
            self.run_until(until);
        }

        fn sent(&self) -> Vec<(i64, Kind, Option<f64>)> {
            self.log
                .iter()
                .filter_map(|(t, d)| match d {
                    Decision::Send(r) => Some(((*t - nine()).num_seconds(), r.kind, r.stage)),
                    _ => None,
                })
                .collect()
        }

        fn held(&self) -> Vec<(i64, Kind)> {
            self.log
                .iter()
                .filter_map(|(t, d)| match d {
                    Decision::Hold(r, _) => Some(((*t - nine()).num_seconds(), r.kind)),
                    _ => None,
                })
                .collect()
        }
    }

    #[test]
    fn stages_fire_at_the_exact_crossing_once_each() {
        // Long streak limit so only stages and over reminders show.
        let mut d = Day::new(config("[reminders]\nmin_gap = \"1m\"\n"));
        d.p.cfg.streak = Duration::from_secs(10 * 3600);
        d.p.cfg.weekly = Duration::from_secs(100 * 3600);
        d.social();
        d.advance(m(40));
        assert_eq!(
            d.sent(),
            vec![
                (15 * 60, Kind::Stage, Some(0.5)),
                (24 * 60, Kind::Stage, Some(0.8)),
                (30 * 60, Kind::Stage, Some(1.0)),
            ]
        );
        // Then every repeat_over (15 min) while over, and only then.
        d.advance(m(20));
        let s = d.sent();
        assert_eq!(s.len(), 4, "{s:?}");
        assert_eq!(s[3], (45 * 60, Kind::Over, None));
        // Leaving and coming back does not repeat a stage; still over: a repeat.
        d.work();
        d.advance(m(30));
        d.social();
        d.advance(m(1));
        let s = d.sent();
        assert_eq!(s.len(), 5, "{s:?}");
        assert_eq!(s[4], (90 * 60, Kind::Over, None));
    }

    #[test]
    fn nothing_while_on_work_windows_and_crossing_resumes_with_social() {
        let mut d = Day::new(config(""));
        d.social();
        d.advance(m(10));
        d.work();
        d.advance(m(120));
        assert!(d.sent().is_empty());
        assert_eq!(d.p.next_wake(d.now, d.open, d.desk, &d.tz), None);
        d.social();
        // 10 min counted; the 50 % stage (15 min) comes 5 min later.
        let w = d.p.next_wake(d.now, d.open, d.desk, &d.tz).unwrap();
        assert_eq!(w - d.now, m(5));
        d.advance(m(6));
        assert_eq!(d.sent(), vec![(135 * 60, Kind::Stage, Some(0.5))]);
    }

    #[test]
    fn stages_reset_at_local_midnight() {
        let mut d = Day::new(config("[reminders]\nat = [0.5]\n"));
        d.p.cfg.streak = Duration::from_secs(10 * 3600);
        d.p.cfg.weekly = Duration::from_secs(100 * 3600);
        d.social();
        d.advance(m(16));
        d.work();
        assert_eq!(d.sent().len(), 1);
        // Next day (local), same again: the stage fires again.
        d.now = Utc.with_ymd_and_hms(2026, 11, 25, 14, 0, 0).unwrap();
        d.check();
        d.social();
        d.advance(m(14));
        assert_eq!(
            d.sent().len(),
            1,
            "fired before the crossing: {:?}",
            d.sent()
        );
        d.advance(m(2));
        let s = d.sent();
        assert_eq!(s.len(), 2, "{s:?}");
        assert_eq!(s[1].1, Kind::Stage);
        assert_eq!(s[1].0, 86_400 + 15 * 60);
    }

    #[test]
    fn a_social_span_across_midnight_counts_for_each_day() {
        let mut d = Day::new(config("[reminders]\nat = [0.5]\n"));
        d.p.cfg.streak = Duration::from_secs(10 * 3600);
        // 23:50 local on the 24th.
        d.now = Utc.with_ymd_and_hms(2026, 11, 25, 4, 50, 0).unwrap();
        d.social();
        d.advance(m(20)); // to 00:10
        let f = d.p.figures(d.now, d.open, &d.tz);
        assert_eq!(f.today, Duration::from_secs(600));
        d.advance(m(6)); // 16 min today at 00:16 -> 50 % stage
        let s = d.sent();
        assert_eq!(s.len(), 1, "{s:?}");
        assert_eq!(
            nine() + TimeDelta::seconds(s[0].0),
            Utc.with_ymd_and_hms(2026, 11, 25, 5, 15, 0).unwrap()
        );
    }

    #[test]
    fn streaks_join_visits_closer_than_the_gap() {
        let mut d = Day::new(config("[limits]\nstreak = \"10m\"\nstreak_gap = \"2m\"\n"));
        d.p.cfg.daily = Duration::from_secs(10 * 3600);
        d.p.cfg.weekly = Duration::from_secs(100 * 3600);
        // 4 min, 1 min away, 4 min, 1 min away, 4 min: one streak, 10 min at 14.
        for _ in 0..2 {
            d.social();
            d.advance(m(4));
            d.work();
            d.advance(m(1));
        }
        d.social();
        d.advance(m(4));
        assert_eq!(d.sent(), vec![(12 * 60, Kind::Streak, None)]);
        // Same streak continues: no second streak reminder.
        d.advance(m(10));
        assert_eq!(d.sent().len(), 1);
        // A 3 min break (longer than the gap) starts a new streak.
        d.work();
        d.advance(m(3));
        d.social();
        d.advance(m(9));
        assert_eq!(d.sent().len(), 1);
        d.advance(m(1));
        let s = d.sent();
        assert_eq!(s.len(), 2, "{s:?}");
        assert_eq!(s[1], ((24 + 3 + 10) * 60, Kind::Streak, None));
    }

    #[test]
    fn min_gap_and_hourly_cap() {
        // Stages every 2 min of social time; min_gap 5 min; cap 3 per hour.
        let mut d = Day::new(config(
            "[reminders]\nat = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]\nmin_gap = \"5m\"\nmax_per_hour = 3\nrepeat_over = \"15m\"\n",
        ));
        d.p.cfg.daily = Duration::from_secs(20 * 60);
        d.p.cfg.streak = Duration::from_secs(10 * 3600);
        d.p.cfg.weekly = Duration::from_secs(100 * 3600);
        d.social();
        d.advance(m(90));
        let s = d.sent();
        for w in s.windows(2) {
            assert!(w[1].0 - w[0].0 >= 300, "min_gap broken: {s:?}");
        }
        for (i, a) in s.iter().enumerate() {
            let in_hour = s[i..].iter().filter(|b| b.0 - a.0 < 3600).count();
            assert!(in_hour <= 3, "cap broken: {s:?}");
        }
        // First at 2 min, then 7 min (the highest stage passed), 12, then the cap
        // holds until 62.
        assert_eq!(s[0], (120, Kind::Stage, Some(0.1)));
        assert_eq!(s[1].0, 7 * 60);
        assert_eq!(s[1].2, Some(0.3));
        assert_eq!(s[2].0, 12 * 60);
        assert_eq!(s[3].0, 62 * 60);
        // Never a backlog: each stage sent at most once, in order.
        let stages: Vec<f64> = s.iter().filter_map(|x| x.2).collect();
        for w in stages.windows(2) {
            assert!(w[0] < w[1], "{stages:?}");
        }
    }

    /// The quiet period 02:00-02:45 on the fall-back night in Paris: in the
    /// second 02:30 the quiet ends at the second 02:45, not at the first (past) one,
    /// so a held reminder does not make the loop wake again at once.
    #[test]
    fn a_quiet_period_in_the_repeated_hour_ends_ahead() {
        let p = Policy::new(config("[reminders]\nquiet = [\"02:00-02:45\"]\n"));
        let tz = chrono_tz::Europe::Paris;
        // 2026-10-25 02:30 CET (the second one) is 01:30 UTC.
        let now = Utc.with_ymd_and_hms(2026, 10, 25, 1, 30, 0).unwrap();
        let until = p.quiet_until(now, &tz).unwrap();
        assert_eq!(until, Utc.with_ymd_and_hms(2026, 10, 25, 1, 45, 0).unwrap());
        // In the first 02:30 (00:30 UTC), the first 02:45.
        let first = Utc.with_ymd_and_hms(2026, 10, 25, 0, 30, 0).unwrap();
        assert_eq!(
            p.quiet_until(first, &tz).unwrap(),
            Utc.with_ymd_and_hms(2026, 10, 25, 0, 45, 0).unwrap()
        );
    }

    #[test]
    fn quiet_periods_hold_and_deliver_the_latest_afterwards() {
        // Quiet 09:10-09:40 local.
        let mut d = Day::new(config(
            "[reminders]\nquiet = [\"09:10-09:40\"]\nmin_gap = \"1m\"\n",
        ));
        d.p.cfg.streak = Duration::from_secs(10 * 3600);
        d.p.cfg.weekly = Duration::from_secs(100 * 3600);
        d.social();
        d.advance(m(39));
        assert!(d.sent().is_empty(), "{:?}", d.sent());
        // 50 % at 15, 80 % at 24, 100 % at 30: all held, each replacing the last.
        assert_eq!(
            d.held(),
            vec![
                (15 * 60, Kind::Stage),
                (24 * 60, Kind::Stage),
                (30 * 60, Kind::Stage)
            ]
        );
        d.advance(m(2));
        // At 09:40 the most recent one (100 %) goes out, once, with today's figures.
        let sent: Vec<&Reminder> = d
            .log
            .iter()
            .filter_map(|(_, x)| match x {
                Decision::Send(r) => Some(r),
                _ => None,
            })
            .collect();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].stage, Some(1.0));
        assert_eq!(sent[0].at, nine() + m(30));
        assert_eq!(sent[0].figures.today, Duration::from_secs(40 * 60));
        assert_eq!(d.sent()[0].0, 40 * 60);
    }

    #[test]
    fn held_while_fullscreen_and_dropped_when_no_longer_relevant() {
        let mut d = Day::new(config("[reminders]\nat = [0.5]\n"));
        d.p.cfg.streak = Duration::from_secs(10 * 3600);
        d.p.cfg.weekly = Duration::from_secs(100 * 3600);
        d.desk.fullscreen = true;
        d.social();
        d.advance(m(16));
        assert_eq!(d.held().len(), 1);
        assert!(d.sent().is_empty());
        // Leaves fullscreen while on social: delivered at once.
        d.desk.fullscreen = false;
        d.check();
        assert_eq!(d.sent(), vec![(16 * 60, Kind::Stage, Some(0.5))]);
        // Do-not-disturb holds too; leaving social sites means nothing is sent.
        let mut d = Day::new(config("[reminders]\nat = [0.5]\n"));
        d.p.cfg.streak = Duration::from_secs(10 * 3600);
        d.desk.do_not_disturb = true;
        d.social();
        d.advance(m(16));
        d.work();
        d.desk.do_not_disturb = false;
        d.advance(m(5));
        assert!(d.sent().is_empty());
        assert_eq!(d.held().len(), 1);
    }

    #[test]
    fn snooze_budget_and_done_for_today() {
        let mut d = Day::new(config(
            "[reminders]\nsnooze = \"15m\"\nsnoozes_per_day = 2\nmin_gap = \"1m\"\nrepeat_over = \"5m\"\n",
        ));
        d.p.cfg.streak = Duration::from_secs(10 * 3600);
        d.p.cfg.weekly = Duration::from_secs(100 * 3600);
        d.social();
        d.advance(m(15));
        assert_eq!(d.sent().len(), 1);
        assert!(d.p.snooze(d.now, &d.tz));
        assert_eq!(d.p.snoozes_left(d.now, &d.tz), 1);
        // 80 % crossed at 24, during the snooze: comes at 30 when it ends (as 100 %,
        // the highest stage by then).
        d.advance(m(14));
        assert_eq!(d.sent().len(), 1);
        d.advance(m(2));
        assert_eq!(d.sent()[1], (30 * 60, Kind::Stage, Some(1.0)));
        assert!(d.p.snooze(d.now, &d.tz));
        assert!(!d.p.snooze(d.now, &d.tz), "third snooze granted");
        // A snooze of another length counts the same.
        assert_eq!(
            d.p.snooze_for(Duration::from_secs(3600), d.now, &d.tz),
            None
        );
        assert_eq!(d.p.snoozes_left(d.now, &d.tz), 0);
        d.advance(m(14));
        assert_eq!(d.sent().len(), 2);
        d.advance(m(2));
        assert_eq!(d.sent().len(), 3, "over reminder after the snooze");
        assert!(!d.p.is_done_for_today(d.now, &d.tz));
        d.p.done_for_today(d.now, &d.tz);
        assert!(d.p.is_done_for_today(d.now, &d.tz));
        d.advance(m(120));
        assert_eq!(d.sent().len(), 3);
        d.work();
        // Next day: snoozes and reminders come back.
        d.now = Utc.with_ymd_and_hms(2026, 11, 25, 14, 0, 0).unwrap();
        d.check();
        assert_eq!(d.p.snoozes_left(d.now, &d.tz), 2);
        assert!(!d.p.is_done_for_today(d.now, &d.tz));
        // `dwell-agent snooze 40m`: 40 minutes, one of the day's snoozes.
        let until = d.p.snooze_for(Duration::from_secs(2400), d.now, &d.tz);
        assert_eq!(until, Some(d.now + chrono::Duration::minutes(40)));
        assert_eq!(d.p.snoozes_left(d.now, &d.tz), 1);
        d.social();
        d.advance(m(41));
        assert_eq!(d.sent().len(), 4);
    }

    #[test]
    fn weekly_note_once_per_week() {
        let mut d = Day::new(config(
            "[limits]\nweekly = \"1h\"\n[reminders]\nat = [5.0]\n",
        ));
        d.p.cfg.streak = Duration::from_secs(10 * 3600);
        d.p.cfg.daily = Duration::from_secs(10 * 3600);
        // Monday: 50 min, recorded from the store.
        let mon = Utc.with_ymd_and_hms(2026, 11, 23, 14, 0, 0).unwrap();
        d.p.record_span(
            &Span {
                start: mon,
                end: mon + m(50),
                activity: Activity::Social("x.com".into()),
                source: Source::X11,
            },
            &d.tz,
        );
        d.social();
        d.advance(m(9));
        assert!(d.sent().is_empty());
        d.advance(m(2));
        assert_eq!(d.sent(), vec![(10 * 60, Kind::Weekly, None)]);
        d.work();
        d.now = Utc.with_ymd_and_hms(2026, 11, 26, 14, 0, 0).unwrap();
        d.social();
        d.advance(m(30));
        assert_eq!(d.sent().len(), 1, "{:?}", d.sent());
    }

    #[test]
    fn restore_after_restart_does_not_repeat() {
        let mut d = Day::new(config(""));
        d.p.cfg.streak = Duration::from_secs(10 * 3600);
        let span = Span {
            start: nine(),
            end: nine() + m(20),
            activity: Activity::Social("x.com".into()),
            source: Source::X11,
        };
        d.p.record_span(&span, &d.tz);
        d.now = nine() + m(21);
        let rec = |at: DateTime<Utc>, outcome: &str| ReminderRecord {
            at,
            kind: "stage".into(),
            outcome: outcome.into(),
            left_social: None,
            message: None,
        };
        d.p.restore(
            d.now,
            &d.tz,
            &[rec(nine() + m(15), "snoozed"), rec(nine() + m(16), "shown")],
        );
        assert_eq!(d.p.snoozes_left(d.now, &d.tz), 2);
        d.social();
        d.advance(m(2));
        assert!(d.sent().is_empty(), "{:?}", d.sent());
        d.advance(m(2)); // 24 min: 80 %
                         // 20 min counted at 09:20; back at 09:21: 24 min at 09:25.
        assert_eq!(d.sent(), vec![(25 * 60, Kind::Stage, Some(0.8))]);
        // What was asked with no reminder to keep it adds up, for today only.
        let today = local_date(d.now, &d.tz);
        let mut asked = crate::control::Asked::none(today);
        asked.snoozes = 1;
        asked.snoozed_until = Some(d.now + m(30));
        d.p.restore_asked(d.now, &d.tz, &asked);
        assert_eq!(d.p.snoozes_left(d.now, &d.tz), 1);
        assert_eq!(
            d.p.outlook(d.now, None, &d.tz).snoozed_until,
            Some(d.now + m(30))
        );
        asked.done = true;
        asked.day = today.pred_opt().unwrap();
        d.p.restore_asked(d.now, &d.tz, &asked);
        assert!(!d.p.is_done_for_today(d.now, &d.tz), "yesterday's");
    }

    /// Over the daily limit (30 min) at 09:31, on the Toronto day.
    fn over_the_limit(extra: &str) -> Day {
        let mut d = Day::new(config(extra));
        d.p.cfg.streak = Duration::from_secs(10 * 3600);
        d.p.cfg.weekly = Duration::from_secs(100 * 3600);
        d.p.record_span(
            &Span {
                start: nine(),
                end: nine() + m(31),
                activity: Activity::Social("x.com".into()),
                source: Source::X11,
            },
            &d.tz,
        );
        d.now = nine() + m(40);
        d
    }

    fn pause(d: &mut Day, site: &str) -> Option<Reminder> {
        d.p.pause_page(d.now, site, d.open, d.desk, &d.tz)
    }

    #[test]
    fn the_pause_page_once_per_site_per_repeat_over() {
        let mut d = over_the_limit("[reminders]\nrepeat_over = \"15m\"\n");
        let r = pause(&mut d, "facebook.com").unwrap();
        assert_eq!(r.kind, Kind::PausePage);
        assert_eq!(r.at, d.now);
        assert_eq!(r.figures.today, Duration::from_secs(31 * 60));
        assert_eq!(r.figures.daily_limit, Duration::from_secs(30 * 60));
        // The same site again: not within repeat_over; another site: yes.
        d.now += m(1);
        assert_eq!(pause(&mut d, "facebook.com"), None);
        assert!(pause(&mut d, "reddit.com").is_some());
        d.now += m(13);
        assert_eq!(pause(&mut d, "facebook.com"), None);
        d.now += m(1);
        assert!(pause(&mut d, "facebook.com").is_some());
        // It counts as a reminder sent: no notification on its heels (the
        // stages not yet reminded wait for min_gap).
        d.social();
        assert!(d.sent().is_empty(), "{:?}", d.sent());
        let next = d.p.next_wake(d.now, d.open, d.desk, &d.tz).unwrap();
        assert_eq!(next - d.now, m(5));
    }

    #[test]
    fn no_pause_page_under_the_limit() {
        let mut d = Day::new(config(""));
        d.p.cfg.streak = Duration::from_secs(10 * 3600);
        d.social();
        d.advance(m(29));
        assert_eq!(pause(&mut d, "facebook.com"), None);
        // The open span counts: at 30 min it is passed.
        d.advance(m(1));
        assert!(pause(&mut d, "facebook.com").is_some());
    }

    #[test]
    fn no_pause_page_when_reminders_may_not_speak() {
        // Off.
        let mut d = over_the_limit("[reminders]\nenabled = false\n");
        assert_eq!(pause(&mut d, "facebook.com"), None);
        // Snoozed, then the snooze ends.
        let mut d = over_the_limit("[reminders]\nsnooze = \"10m\"\n");
        assert!(d.p.snooze(d.now, &d.tz));
        assert!(!d.p.may_speak(d.now, d.desk, &d.tz));
        assert_eq!(pause(&mut d, "facebook.com"), None);
        d.now += m(10);
        assert!(pause(&mut d, "facebook.com").is_some());
        // Done for today, until the next day.
        let mut d = over_the_limit("");
        d.p.done_for_today(d.now, &d.tz);
        assert_eq!(pause(&mut d, "facebook.com"), None);
        // A quiet period (09:00-10:00 local), fullscreen, do-not-disturb.
        let mut d = over_the_limit("[reminders]\nquiet = [\"09:00-10:00\"]\n");
        assert_eq!(pause(&mut d, "facebook.com"), None);
        let mut d = over_the_limit("");
        d.desk.fullscreen = true;
        assert_eq!(pause(&mut d, "facebook.com"), None);
        d.desk = Desk {
            fullscreen: false,
            do_not_disturb: true,
        };
        assert_eq!(pause(&mut d, "facebook.com"), None);
        d.desk.do_not_disturb = false;
        assert!(d.p.may_speak(d.now, d.desk, &d.tz));
        assert!(pause(&mut d, "facebook.com").is_some());
    }

    #[test]
    fn disabled_sends_nothing() {
        let mut d = Day::new(config("[reminders]\nenabled = false\n"));
        d.social();
        d.advance(m(300));
        assert!(d.sent().is_empty());
        assert_eq!(d.p.next_wake(d.now, d.open, d.desk, &d.tz), None);
    }

    #[test]
    fn outlook_names_the_next_stage() {
        let mut d = Day::new(config(""));
        d.p.cfg.streak = Duration::from_secs(10 * 3600);
        d.social();
        d.advance(m(16));
        let o = d.p.outlook(d.now, d.open, &d.tz);
        assert_eq!(o.next_stage, Some(0.8));
        assert_eq!(o.next_stage_at, Some(Duration::from_secs(24 * 60)));
        assert_eq!(o.snoozes_left, 3);
        assert_eq!(o.figures.percent_of_daily(), 53);
    }

    #[test]
    fn a_site_over_its_own_limit_gets_one_reminder_in_the_same_queue() {
        let mut d = Day::new(config("[limits.sites]\n\"x.com\" = \"10m\"\n"));
        d.p.set_open_site(Some("x.com"));
        d.social();
        d.advance(m(40));
        let sent = d.sent();
        assert_eq!(sent[0], (600, Kind::Site, None), "{sent:?}");
        assert_eq!(sent[1], (900, Kind::Stage, Some(0.5)), "{sent:?}");
        assert_eq!(
            sent.iter().filter(|s| s.1 == Kind::Site).count(),
            1,
            "{sent:?}"
        );
        let site = d
            .log
            .iter()
            .find_map(|(_, x)| match x {
                Decision::Send(r) if r.kind == Kind::Site => r.site.clone(),
                _ => None,
            })
            .unwrap();
        assert_eq!(
            (site.site.as_str(), site.limit),
            ("x.com", Duration::from_secs(600))
        );
        assert_eq!(site.today, Duration::from_secs(600));
        // status: the site against its limit.
        let figs = d.p.site_figures(d.now, d.open, &d.tz);
        assert_eq!(figs[0].today, Duration::from_secs(40 * 60));
        // On another site, nothing of x.com's counts as open.
        d.p.set_open_site(Some("reddit.com"));
        assert_eq!(
            d.p.site_figures(d.now, None, &d.tz)[0].today,
            Duration::ZERO
        );
    }

    #[test]
    fn a_site_crossing_under_a_stage_waits_for_the_gap_never_stacked() {
        // The site's limit and the first stage (15m) at the same moment.
        let mut d = Day::new(config("[limits.sites]\n\"x.com\" = \"15m\"\n"));
        d.p.set_open_site(Some("x.com"));
        d.social();
        d.advance(m(25));
        let sent = d.sent();
        assert_eq!(sent[0], (900, Kind::Stage, Some(0.5)), "{sent:?}");
        assert_eq!(
            sent[1],
            (1200, Kind::Site, None),
            "min_gap after it: {sent:?}"
        );
    }

    #[test]
    fn the_daily_limit_is_the_days_limit() {
        // 2026-11-24 is a Tuesday: 20 minutes that day, the first stage at 10.
        let mut d = Day::new(config("[limits.days]\ntue = \"20m\"\n"));
        d.social();
        d.advance(m(12));
        assert_eq!(d.sent(), vec![(600, Kind::Stage, Some(0.5))]);
        let f = d.p.figures(d.now, d.open, &d.tz);
        assert_eq!(f.daily_limit, Duration::from_secs(20 * 60));
        // A plan in its second week (from 16 November): 45m to 15m over 4 weeks, 30m.
        let cfg = config(
            "[limits.days]\ntue = \"20m\"\n[limits.plan]\nfrom = \"45m\"\nto = \"15m\"\nstart = \"2026-11-16\"\nweeks = 4\n",
        );
        let d = Day::new(cfg);
        let f = d.p.figures(d.now, None, &d.tz);
        assert_eq!(f.daily_limit, Duration::from_secs(30 * 60));
    }

    #[test]
    fn the_pause_page_for_a_site_over_its_own_limit() {
        let mut d = Day::new(config(
            "[limits.sites]\n\"x.com\" = \"5m\"\n[reminders]\npause_page = true\n",
        ));
        d.p.set_open_site(Some("x.com"));
        d.social();
        d.advance(m(6));
        d.work();
        d.p.set_open_site(None);
        d.advance(m(10));
        let now = d.now;
        // Under the daily limit, but x.com is over its own.
        let r =
            d.p.pause_page(now, "x.com", None, Desk::default(), &d.tz)
                .unwrap();
        assert_eq!(r.site.unwrap().site, "x.com");
        assert!(d
            .p
            .pause_page(now, "reddit.com", None, Desk::default(), &d.tz)
            .is_none());
    }
}

//! The reminder side of the run loop: feeds core's [`Policy`] with counted spans,
//! turns its decisions into notifications (words from the [`Catalogue`]), and
//! stores what became of each reminder. With `[reminders] pause_page`, it also
//! decides the browser extension's pause page ([`Reminding::pause_page`]) and
//! stores the employee's choice there like any reminder's outcome.
//!
//! Timers, all armed only when they can matter:
//! - `wake_at`: the exact instant of the next crossing the policy computed;
//! - `aux_at`: the earliest of: retrying an undelivered reminder (backoff 30 s to
//!   10 min), looking again at do-not-disturb while a reminder is held for it
//!   (every 10 s), and the end of the 2-minute "did they leave?" watch.
//!
//! "Snooze" and "Done for today" asked from the tray or from `dwell-agent
//! snooze` / `done-for-today` are applied in [`asked`], with the same rules.

mod asked;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use dwell_core::messages::{self, Catalogue, Lang, Rendered};
use dwell_core::model::ReminderRecord;
use dwell_core::policy::{Decision, Desk, Policy, PolicyConfig, Reminder};
use dwell_core::schedule;
use dwell_core::{Config, Span, Store};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::door::{PageId, Pause, PauseOutcome};
use crate::notify::{Note, NotifyEvent, Request};

/// How long after a reminder leaving social sites counts as "left".
pub const LEFT_WITHIN: Duration = Duration::from_secs(120);
/// How long a notification stays up.
pub const NOTE_TIMEOUT_MS: i32 = 20_000;
/// `meta` key: when the snooze the employee chose ends (RFC 3339), for `status`.
pub const SNOOZED_UNTIL_KEY: &str = "snoozed_until";
const RETRY_FIRST: Duration = Duration::from_secs(30);
const RETRY_MAX: Duration = Duration::from_secs(600);
const DND_POLL: Duration = Duration::from_secs(10);

/// The channels to the notification thread (see [`crate::notify`]).
pub struct Notifications {
    pub requests: mpsc::Sender<Request>,
    pub events: mpsc::Receiver<NotifyEvent>,
}

/// The notification on screen, and whether its outcome is settled.
struct Current {
    id: u32,
    at: DateTime<Utc>,
    /// Its kind ([`dwell_core::policy::Kind::as_str`]): with `at`, its key in the store.
    kind: &'static str,
    settled: bool,
    /// Still on screen (no close reported yet).
    on_screen: bool,
    /// Settled by the employee's "Snooze" or "Done for today".
    chosen: bool,
}

pub struct Reminding {
    policy: Policy,
    catalogue: Catalogue,
    lang: Lang,
    snooze: Duration,
    /// `[reminders] pause_breath`, for the pause page.
    breath: Duration,
    requests: Option<mpsc::Sender<Request>>,
    pub(crate) desk: Desk,
    /// Sent to the notification thread, waiting for its answer (in order).
    awaiting: VecDeque<(Reminder, Rendered)>,
    current: Option<Current>,
    undelivered: Option<(Reminder, Rendered)>,
    retry_at: Option<Instant>,
    retry_wait: Duration,
    dnd_poll_at: Option<Instant>,
    /// The reminder (time and kind) whose "left social sites?" is being
    /// watched, and until when.
    left: Option<(DateTime<Utc>, &'static str, Instant)>,
    pub(crate) wake_at: Option<Instant>,
    data_dir: Option<PathBuf>,
    /// The pause pages asked for and not answered yet: each page's id and
    /// its reminder's `at` and kind, oldest first. Another social tab can get
    /// its page while one shows; a choice names its page and goes to it. A
    /// choice without a page (an extension or host from before page ids)
    /// goes to the newest, the one most likely in front of the employee.
    pauses_open: Vec<OpenPause>,
    /// The reminder whose report is being opened (time and kind).
    opening: Option<(DateTime<Utc>, &'static str)>,
}

/// Unanswered pause pages kept at most (a browser that never answers
/// must not grow the list).
const PAUSES_OPEN_MAX: usize = 16;

/// A pause page shown and not answered yet.
#[derive(Debug, Clone, Copy)]
struct OpenPause {
    page: PageId,
    at: DateTime<Utc>,
    kind: &'static str,
}

fn lang_of(config: &Config) -> Lang {
    Lang::resolve(&config.reminders.language, |k| std::env::var(k).ok())
}

impl Reminding {
    pub fn new(config: &Config, requests: Option<mpsc::Sender<Request>>) -> Reminding {
        let lang = lang_of(config);
        Reminding {
            policy: Policy::from_config(config),
            catalogue: Catalogue::new(lang, &config.reminders.kinds, &config.reminders.messages),
            lang,
            snooze: config.reminders.snooze,
            breath: config.reminders.pause_breath,
            requests,
            desk: Desk::default(),
            awaiting: VecDeque::new(),
            current: None,
            undelivered: None,
            retry_at: None,
            retry_wait: RETRY_FIRST,
            dnd_poll_at: None,
            left: None,
            wake_at: None,
            data_dir: None,
            pauses_open: Vec::new(),
            opening: None,
        }
    }

    /// Takes a new config (on reload), keeping today's counts and state.
    pub fn set_config(&mut self, config: &Config) {
        self.policy.set_config(PolicyConfig::of(config));
        self.lang = lang_of(config);
        let mut catalogue = Catalogue::new(
            self.lang,
            &config.reminders.kinds,
            &config.reminders.messages,
        );
        // The same line is not shown again just because the file was saved.
        catalogue.continue_from(&self.catalogue);
        self.catalogue = catalogue;
        self.snooze = config.reminders.snooze;
        self.breath = config.reminders.pause_breath;
    }

    /// Loads this week's spans and today's reminders, so a restart neither forgets
    /// the counts nor repeats a stage or a message.
    pub fn restore<Tz: TimeZone>(&mut self, store: &Store, now: DateTime<Utc>, tz: &Tz) {
        self.data_dir = store.path().parent().map(|p| p.to_owned());
        let from = self.count_stored(store, now, tz);
        let today = schedule::local_date(now, tz);
        let (day_start, _) = schedule::local_day_bounds(today, tz);
        match store.reminders(from, now + chrono::Duration::seconds(1)) {
            Ok(recs) => {
                for r in &recs {
                    if let Some(m) = &r.message {
                        self.catalogue.note_used(m);
                    }
                }
                let todays: Vec<ReminderRecord> =
                    recs.into_iter().filter(|r| r.at >= day_start).collect();
                self.policy.restore(now, tz, &todays);
                match dwell_core::control::asked(store, today) {
                    Ok(asked) => self.policy.restore_asked(now, tz, &asked),
                    Err(e) => tracing::warn!(error = %e, "cannot read today's snoozes"),
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read today's reminders"),
        }
    }

    /// Counts again from the store, after the employee erased some of it.
    pub fn recount<Tz: TimeZone>(&mut self, store: &Store, now: DateTime<Utc>, tz: &Tz) {
        self.policy.clear_usage();
        self.count_stored(store, now, tz);
    }

    /// Counts the spans the store holds for the last week and today; returns
    /// where that window starts.
    fn count_stored<Tz: TimeZone>(
        &mut self,
        store: &Store,
        now: DateTime<Utc>,
        tz: &Tz,
    ) -> DateTime<Utc> {
        let from = Policy::history_start(now, tz);
        match store.spans(from, now) {
            Ok(spans) => self.policy.record_stored(&spans, from, now, tz),
            Err(e) => tracing::warn!(error = %e, "cannot read this week's spans for reminders"),
        }
        from
    }

    /// A closed span, clipped to recording hours, counts.
    pub fn record<Tz: TimeZone>(&mut self, span: &Span, tz: &Tz) {
        self.policy.record_span(span, tz);
    }

    /// The earliest auxiliary timer.
    pub fn aux_at(&self) -> Option<Instant> {
        [self.retry_at, self.dnd_poll_at, self.left.map(|l| l.2)]
            .into_iter()
            .flatten()
            .min()
    }

    /// Decides at `now` and re-arms the crossing timer. `open_social` is the start
    /// of the open span when it is on a social site.
    pub fn tick<Tz: TimeZone>(
        &mut self,
        store: &mut Store,
        now: DateTime<Utc>,
        open_social: Option<DateTime<Utc>>,
        tz: &Tz,
    ) {
        // Left social sites after the reminder?
        if let Some((at, kind, deadline)) = self.left {
            if open_social.is_none() {
                put_left(store, at, kind, true);
                self.left = None;
            } else if Instant::now() >= deadline {
                put_left(store, at, kind, false);
                self.left = None;
            }
        }
        let now_i = Instant::now();
        if self.retry_at.is_some_and(|t| t <= now_i) {
            self.retry_at = None;
        }
        // Retry an undelivered reminder when its time comes, if still on a social
        // site, with today's figures.
        if self.retry_at.is_none() && open_social.is_some() {
            if let Some((mut r, _)) = self.undelivered.take() {
                r.figures = self.policy.figures(now, open_social, tz);
                let text = self.catalogue.compose(&r);
                self.request(store, r, text, now, tz);
            }
        }
        if self.dnd_poll_at.is_some_and(|t| t <= now_i) {
            self.dnd_poll_at = None;
            if self.policy.held().is_some() && self.desk.do_not_disturb {
                self.send_request(Request::QueryDnd);
            } else {
                self.desk.do_not_disturb = false;
            }
        }
        match self.policy.check(now, open_social, self.desk, tz) {
            Decision::Nothing => {}
            Decision::Hold(r, reason) => {
                tracing::info!(kind = r.kind.as_str(), ?reason, "reminder held back");
                put(store, &r, "held", None);
                if reason == dwell_core::policy::HoldReason::DoNotDisturb {
                    self.dnd_poll_at = Some(Instant::now() + DND_POLL);
                }
            }
            Decision::Send(r) => {
                let text = self.catalogue.compose(&r);
                self.undelivered = None;
                self.retry_at = None;
                self.request(store, r, text, now, tz);
            }
        }
        self.wake_at = self
            .policy
            .next_wake(now, open_social, self.desk, tz)
            .map(|at| {
                let wait = (at - now).to_std().unwrap_or_default();
                Instant::now() + wait
            });
    }

    fn send_request(&mut self, req: Request) -> bool {
        match &self.requests {
            Some(tx) => tx.try_send(req).is_ok(),
            None => false,
        }
    }

    fn request<Tz: TimeZone>(
        &mut self,
        store: &mut Store,
        r: Reminder,
        text: Rendered,
        now: DateTime<Utc>,
        tz: &Tz,
    ) {
        let snoozes_left = self.policy.snoozes_left(now, tz) > 0;
        let mut actions = Vec::new();
        let (snooze, done, open) = match self.lang {
            Lang::En => (
                format!("Snooze {}", messages::short(self.snooze, self.lang)),
                "Done for today",
                "Open today's report",
            ),
            Lang::Fr => (
                format!("Reporter de {}", messages::short(self.snooze, self.lang)),
                "Terminé pour aujourd'hui",
                "Ouvrir le rapport du jour",
            ),
        };
        actions.push(("default".to_owned(), open.to_owned()));
        if snoozes_left {
            actions.push(("snooze".to_owned(), snooze));
        }
        actions.push(("done".to_owned(), done.to_owned()));
        let note = Note {
            summary: text.summary.clone(),
            body: text.body.clone(),
            timeout_ms: NOTE_TIMEOUT_MS,
            actions,
            respect_dnd: true,
            without_buttons: Some(asked::without_buttons(self.lang, snoozes_left).to_owned()),
        };
        if self.send_request(Request::Show(note)) {
            tracing::info!(kind = r.kind.as_str(), message = %text.id, "reminder");
            self.awaiting.push_back((r, text));
        } else {
            put(store, &r, "undelivered", Some(&text.id));
            self.schedule_retry(r, text);
        }
    }

    fn schedule_retry(&mut self, r: Reminder, text: Rendered) {
        self.undelivered = Some((r, text));
        self.retry_at = Some(Instant::now() + self.retry_wait);
        self.retry_wait = (self.retry_wait * 2).min(RETRY_MAX);
    }

    /// Whether a reminder was sent to the notification server and its
    /// answer (shown, held, undelivered) has not come yet.
    pub fn awaits_answer(&self) -> bool {
        !self.awaiting.is_empty()
    }

    /// At a stop: the reminders the server never answered for are recorded
    /// as undelivered (nothing says they were shown).
    pub fn unanswered(&mut self, store: &mut Store) {
        while let Some((r, text)) = self.awaiting.pop_front() {
            put(store, &r, "undelivered", Some(&text.id));
        }
    }

    /// What the notification thread reported.
    pub fn on_event<Tz: TimeZone>(
        &mut self,
        store: &mut Store,
        ev: NotifyEvent,
        now: DateTime<Utc>,
        tz: &Tz,
    ) {
        match ev {
            NotifyEvent::Shown { id, .. } => {
                let Some((r, text)) = self.awaiting.pop_front() else {
                    return;
                };
                self.retry_wait = RETRY_FIRST;
                self.desk.do_not_disturb = false;
                put(store, &r, "shown", Some(&text.id));
                if let Some((at, kind, _)) = self.left.take() {
                    put_left(store, at, kind, false);
                }
                self.left = Some((r.at, r.kind.as_str(), Instant::now() + LEFT_WITHIN));
                self.current = Some(Current {
                    id,
                    at: r.at,
                    kind: r.kind.as_str(),
                    settled: false,
                    on_screen: true,
                    chosen: false,
                });
            }
            NotifyEvent::HeldDnd => {
                let Some((r, _)) = self.awaiting.pop_front() else {
                    return;
                };
                tracing::info!(kind = r.kind.as_str(), "reminder held back: do-not-disturb");
                put(store, &r, "held", None);
                self.desk.do_not_disturb = true;
                self.policy.hold_back(r);
                self.dnd_poll_at = Some(Instant::now() + DND_POLL);
            }
            NotifyEvent::Undelivered { reason, first } => {
                let Some((r, text)) = self.awaiting.pop_front() else {
                    return;
                };
                if first {
                    tracing::warn!(%reason, "cannot show reminders; tracking goes on, will retry");
                } else {
                    tracing::debug!(%reason, "reminder still undelivered");
                }
                put(store, &r, "undelivered", Some(&text.id));
                self.schedule_retry(r, text);
            }
            NotifyEvent::Action { id, key } => {
                let Some(cur) = self.current.as_mut().filter(|c| c.id == id) else {
                    return;
                };
                let (at, kind) = (cur.at, cur.kind);
                match key.as_str() {
                    "snooze" => {
                        cur.settled = true;
                        cur.chosen = true;
                        if self.policy.snooze(now, tz) {
                            tracing::info!("reminders snoozed");
                            set_outcome(store, at, kind, "snoozed");
                            let until =
                                now + chrono::Duration::from_std(self.snooze).unwrap_or_default();
                            note_snooze(store, until);
                        }
                    }
                    "done" => {
                        cur.settled = true;
                        cur.chosen = true;
                        tracing::info!("no more reminders today");
                        self.policy.done_for_today(now, tz);
                        set_outcome(store, at, kind, "done_for_today");
                    }
                    "default" => {
                        // `opened` is stored once something really opened it.
                        cur.settled = true;
                        self.opening = Some((at, kind));
                        self.open_report(at);
                    }
                    _ => {}
                }
            }
            NotifyEvent::Closed { id, reason } => {
                let Some(cur) = self.current.as_mut().filter(|c| c.id == id) else {
                    return;
                };
                cur.on_screen = false;
                if !cur.settled {
                    let outcome = match reason {
                        1 => Some("expired"),
                        2 => Some("dismissed"),
                        _ => None,
                    };
                    if let Some(o) = outcome {
                        cur.settled = true;
                        set_outcome(store, cur.at, cur.kind, o);
                    }
                }
            }
            NotifyEvent::Opened { at, ok } => {
                // The kind of the reminder opened from (the one on screen
                // then); a report opened otherwise has no reminder to mark.
                if let Some((_, kind)) = self.opening.filter(|o| o.0 == at) {
                    set_outcome(store, at, kind, if ok { "opened" } else { "open_failed" });
                }
            }
            NotifyEvent::Dnd(on) => {
                self.desk.do_not_disturb = on;
                if on {
                    self.dnd_poll_at = Some(Instant::now() + DND_POLL);
                } else {
                    self.dnd_poll_at = None;
                }
            }
        }
    }

    /// The language and the notification channel an opener reports with.
    pub fn opener_context(&self) -> (Lang, Option<mpsc::Sender<Request>>) {
        (self.lang, self.requests.clone())
    }

    /// Opens today's report after a click on the reminder shown at `at` (see
    /// [`open_report`]); the outcome comes back as [`NotifyEvent::Opened`].
    fn open_report(&self, at: DateTime<Utc>) {
        let requests = self.requests.clone();
        open_report(
            self.data_dir.clone(),
            ReportPeriod::Today,
            self.lang,
            self.requests.clone(),
            move |ok| {
                if let Some(tx) = requests {
                    let _ = tx.blocking_send(Request::Opened { at, ok });
                }
            },
        );
    }

    /// Today's figures at `now` (the usage ledger's, as the reminders and
    /// `status` count them), with the social span open since `open_social`.
    pub fn figures<Tz: TimeZone>(
        &self,
        now: DateTime<Utc>,
        open_social: Option<DateTime<Utc>>,
        tz: &Tz,
    ) -> dwell_core::policy::Figures {
        self.policy.figures(now, open_social, tz)
    }

    /// Each site with a limit of its own against it, at `now`.
    pub fn site_figures<Tz: TimeZone>(
        &self,
        now: DateTime<Utc>,
        open_social: Option<DateTime<Utc>>,
        tz: &Tz,
    ) -> Vec<dwell_core::policy::SiteFigure> {
        self.policy.site_figures(now, open_social, tz)
    }

    /// Which site the open span is on (`None`: not social), for the site limits.
    pub fn set_open_site(&mut self, site: Option<&str>) {
        self.policy.set_open_site(site);
    }

    /// A social tab on `site` was just opened or switched to, with the browser
    /// extension (the caller checks `[reminders] pause_page`, the pause and
    /// the calibration period). When the policy says so (see
    /// [`Policy::pause_page`]), the pause page to show, in the employee's
    /// language: today's time and the limit as the reminders count them, and
    /// one `reflection` or `back` line from the catalogue. Stored as a reminder
    /// of kind `pause_page`, outcome `shown` until the employee chooses.
    pub fn pause_page<Tz: TimeZone>(
        &mut self,
        store: &mut Store,
        now: DateTime<Utc>,
        site: &str,
        open_social: Option<DateTime<Utc>>,
        tz: &Tz,
    ) -> Option<Pause> {
        let r = self
            .policy
            .pause_page(now, site, open_social, self.desk, tz)?;
        let line = self.catalogue.line(&r.figures);
        let id = line.as_ref().map(|(id, _)| id.as_str());
        put(store, &r, "shown", id);
        tracing::info!(
            kind = r.kind.as_str(),
            message = id.unwrap_or(""),
            "pause page"
        );
        if self.pauses_open.len() >= PAUSES_OPEN_MAX {
            self.pauses_open.remove(0);
        }
        let page = PageId::of(r.at);
        self.pauses_open.push(OpenPause {
            page,
            at: r.at,
            kind: r.kind.as_str(),
        });
        let (continue_label, close) = match self.lang {
            Lang::En => ("Continue", "Close tab"),
            Lang::Fr => ("Continuer", "Fermer l'onglet"),
        };
        let (today, limit) = match &r.site {
            Some(s) => (s.today, s.limit),
            None => (r.figures.today, r.figures.daily_limit),
        };
        Some(Pause {
            today: messages::short(today, self.lang),
            limit: messages::short(limit, self.lang),
            site: r.site.map(|s| s.site).unwrap_or_default(),
            breath: self.breath.as_secs().to_string(),
            line: line.map(|(_, text)| text).unwrap_or_default(),
            lang: self.lang.code().to_owned(),
            continue_label: continue_label.to_owned(),
            close: close.to_owned(),
            page: page.to_string(),
        })
    }

    /// What the employee chose on the pause page `page`; without a page
    /// (an extension or host from before page ids), the newest page not
    /// answered yet takes it (see `pauses_open`). A page not open (answered
    /// already, one of more than [`PAUSES_OPEN_MAX`], or shown before a
    /// restart) takes nothing, and no other page takes its choice.
    pub fn pause_result(&mut self, store: &mut Store, outcome: PauseOutcome, page: Option<PageId>) {
        let index = match page {
            Some(p) => self.pauses_open.iter().rposition(|o| o.page == p),
            None => self.pauses_open.len().checked_sub(1),
        };
        match index.map(|i| self.pauses_open.remove(i)) {
            Some(open) => {
                tracing::info!(outcome = outcome.as_str(), "pause page answered");
                set_outcome(store, open.at, open.kind, outcome.as_str());
            }
            None if page.is_some() => {
                tracing::debug!("a pause page outcome for a page not open: taken by none")
            }
            None => tracing::debug!("a pause page outcome with no pause page shown"),
        }
    }

    /// Takes our notification off the screen, if one may be up (on a pause).
    pub fn close(&mut self) {
        if self.current.as_ref().is_some_and(|c| !c.settled) {
            self.send_request(Request::Close);
        }
    }
}

/// Which report [`open_report`] opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportPeriod {
    Today,
    Week,
}

/// Opens a report (`dwell-report day|week --format html --open`, or the text
/// report where that dwell-report has no HTML yet), next to this program or on
/// the PATH, on the data in `data_dir`. Never waits for it: a thread of its own
/// does, then calls `then` with whether something opened it. When nothing
/// could, the HTML report is saved in the data directory and a note (through
/// `requests`, in `lang`) says where.
pub fn open_report(
    data_dir: Option<PathBuf>,
    period: ReportPeriod,
    lang: Lang,
    requests: Option<mpsc::Sender<Request>>,
    then: impl FnOnce(bool) + Send + 'static,
) {
    let exe = std::env::current_exe()
        .ok()
        .map(|p| p.with_file_name("dwell-report"))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("dwell-report"));
    let command = match period {
        ReportPeriod::Today => "day",
        ReportPeriod::Week => "week",
    };
    let saved_in = data_dir.as_ref().map(|d| d.join(saved_name(period)));
    let run = move |args: &[&std::ffi::OsStr]| {
        let mut cmd = std::process::Command::new(&exe);
        if let Some(dir) = &data_dir {
            cmd.arg("--data-dir").arg(dir);
        }
        cmd.arg(command)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    open_in_background("report-opener", move || {
        let html = std::ffi::OsStr::new("html");
        let opened =
            run(&["--format".as_ref(), html, "--open".as_ref()]) || run(&["--open".as_ref()]);
        if !opened {
            // Nothing opens files here: save it and say where.
            let path = saved_in.clone();
            let saved = path.as_ref().is_some_and(|p| {
                run(&[
                    "--format".as_ref(),
                    html,
                    "--output".as_ref(),
                    p.as_os_str(),
                ])
            });
            if let Some(tx) = &requests {
                let _ = tx.blocking_send(Request::Inform(not_opened_note(
                    lang,
                    path.filter(|_| saved).as_deref(),
                )));
            }
        }
        then(opened);
        opened
    });
}

/// The file a report that nothing could open is saved as, in the data directory.
fn saved_name(period: ReportPeriod) -> &'static str {
    match period {
        ReportPeriod::Today => "report-today.html",
        ReportPeriod::Week => "report-week.html",
    }
}

/// The note shown when nothing could open a report.
fn not_opened_note(lang: Lang, saved: Option<&std::path::Path>) -> Note {
    let (summary, body) = match (lang, saved) {
        (Lang::Fr, Some(p)) => (
            "Le rapport n'a pas pu s'ouvrir",
            format!(
                "Aucun programme n'a pu l'ouvrir. Il est enregistré ici\u{a0}: {}",
                p.display()
            ),
        ),
        (Lang::Fr, None) => (
            "Le rapport n'a pas pu s'ouvrir",
            "Aucun programme n'a pu l'ouvrir. Dans un terminal\u{a0}: dwell-report day".to_owned(),
        ),
        (Lang::En, Some(p)) => (
            "The report could not be opened",
            format!("Nothing here could open it. It is saved at {}", p.display()),
        ),
        (Lang::En, None) => (
            "The report could not be opened",
            "Nothing here could open it. In a terminal: dwell-report day".to_owned(),
        ),
    };
    Note {
        summary: summary.to_owned(),
        body,
        timeout_ms: -1,
        actions: Vec::new(),
        respect_dnd: false,
        without_buttons: None,
    }
}

/// Runs `open` (which starts an opener and says whether it worked) on a thread
/// named `name`, and logs when it did not work.
pub fn open_in_background(name: &str, open: impl FnOnce() -> bool + Send + 'static) {
    let what = name.to_owned();
    let spawned = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            if !open() {
                tracing::warn!(opener = %what, "nothing could open it");
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start an opener");
    }
}

fn put(store: &mut Store, r: &Reminder, outcome: &str, message: Option<&str>) {
    let rec = ReminderRecord {
        at: r.at,
        kind: r.kind.as_str().to_owned(),
        outcome: outcome.to_owned(),
        left_social: None,
        message: message.map(str::to_owned),
    };
    if let Err(e) = store.put_reminder(&rec) {
        tracing::warn!(error = %e, "cannot store a reminder");
    }
}

fn set_outcome(store: &mut Store, at: DateTime<Utc>, kind: &str, outcome: &str) {
    if let Err(e) = store.set_reminder_outcome(at, kind, outcome) {
        tracing::warn!(error = %e, "cannot store a reminder's outcome");
    }
}

fn put_left(store: &mut Store, at: DateTime<Utc>, kind: &str, left: bool) {
    if let Err(e) = store.set_reminder_left(at, kind, left) {
        tracing::warn!(error = %e, "cannot store whether social sites were left");
    }
}

/// Notes for `status` when the running agent's snooze ends (the policy that
/// `status` rebuilds from the store cannot know a snooze's length).
fn note_snooze(store: &Store, until: DateTime<Utc>) {
    if let Err(e) = store.meta_set(SNOOZED_UNTIL_KEY, &until.to_rfc3339()) {
        tracing::warn!(error = %e, "cannot store the snooze for status");
    }
}

#[cfg(test)]
mod tests;

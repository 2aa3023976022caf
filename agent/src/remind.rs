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

use crate::native_host::{Pause, PauseOutcome};
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
    settled: bool,
}

pub struct Reminding {
    policy: Policy,
    catalogue: Catalogue,
    lang: Lang,
    snooze: Duration,
    requests: Option<mpsc::Sender<Request>>,
    pub(crate) desk: Desk,
    /// Sent to the notification thread, waiting for its answer (in order).
    awaiting: VecDeque<(Reminder, Rendered)>,
    current: Option<Current>,
    undelivered: Option<(Reminder, Rendered)>,
    retry_at: Option<Instant>,
    retry_wait: Duration,
    dnd_poll_at: Option<Instant>,
    /// The reminder whose "left social sites?" is being watched, and until when.
    left: Option<(DateTime<Utc>, Instant)>,
    pub(crate) wake_at: Option<Instant>,
    data_dir: Option<PathBuf>,
    /// The pause page last asked for (its reminder's `at`), waiting for the
    /// employee's choice.
    pause_at: Option<DateTime<Utc>>,
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
            pause_at: None,
        }
    }

    /// Takes a new config (on reload), keeping today's counts and state.
    pub fn set_config(&mut self, config: &Config) {
        self.policy.set_config(PolicyConfig::of(config));
        self.lang = lang_of(config);
        self.catalogue = Catalogue::new(
            self.lang,
            &config.reminders.kinds,
            &config.reminders.messages,
        );
        self.snooze = config.reminders.snooze;
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
        [self.retry_at, self.dnd_poll_at, self.left.map(|l| l.1)]
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
        if let Some((at, deadline)) = self.left {
            if open_social.is_none() {
                put_left(store, at, true);
                self.left = None;
            } else if Instant::now() >= deadline {
                put_left(store, at, false);
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
                if let Some((at, _)) = self.left.take() {
                    put_left(store, at, false);
                }
                self.left = Some((r.at, Instant::now() + LEFT_WITHIN));
                self.current = Some(Current {
                    id,
                    at: r.at,
                    settled: false,
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
                let at = cur.at;
                match key.as_str() {
                    "snooze" => {
                        cur.settled = true;
                        if self.policy.snooze(now, tz) {
                            tracing::info!("reminders snoozed");
                            set_outcome(store, at, "snoozed");
                            let until =
                                now + chrono::Duration::from_std(self.snooze).unwrap_or_default();
                            if let Err(e) = store.meta_set(SNOOZED_UNTIL_KEY, &until.to_rfc3339()) {
                                tracing::warn!(error = %e, "cannot store the snooze for status");
                            }
                        }
                    }
                    "done" => {
                        cur.settled = true;
                        tracing::info!("no more reminders today");
                        self.policy.done_for_today(now, tz);
                        set_outcome(store, at, "done_for_today");
                    }
                    "default" => {
                        // `opened` is stored once something really opened it.
                        cur.settled = true;
                        self.open_report(at);
                    }
                    _ => {}
                }
            }
            NotifyEvent::Closed { id, reason } => {
                let Some(cur) = self.current.as_mut().filter(|c| c.id == id) else {
                    return;
                };
                if !cur.settled {
                    let outcome = match reason {
                        1 => Some("expired"),
                        2 => Some("dismissed"),
                        _ => None,
                    };
                    if let Some(o) = outcome {
                        cur.settled = true;
                        set_outcome(store, cur.at, o);
                    }
                }
            }
            NotifyEvent::Opened { at, ok } => {
                set_outcome(store, at, if ok { "opened" } else { "open_failed" });
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
        self.pause_at = Some(r.at);
        let (continue_label, close) = match self.lang {
            Lang::En => ("Continue", "Close tab"),
            Lang::Fr => ("Continuer", "Fermer l'onglet"),
        };
        Some(Pause {
            today: messages::short(r.figures.today, self.lang),
            limit: messages::short(r.figures.daily_limit, self.lang),
            line: line.map(|(_, text)| text).unwrap_or_default(),
            lang: self.lang.code().to_owned(),
            continue_label: continue_label.to_owned(),
            close: close.to_owned(),
        })
    }

    /// What the employee chose on the pause page last shown.
    pub fn pause_result(&mut self, store: &mut Store, outcome: PauseOutcome) {
        match self.pause_at.take() {
            Some(at) => {
                tracing::info!(outcome = outcome.as_str(), "pause page answered");
                set_outcome(store, at, outcome.as_str());
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

fn set_outcome(store: &mut Store, at: DateTime<Utc>, outcome: &str) {
    if let Err(e) = store.set_reminder_outcome(at, outcome) {
        tracing::warn!(error = %e, "cannot store a reminder's outcome");
    }
}

fn put_left(store: &mut Store, at: DateTime<Utc>, left: bool) {
    if let Err(e) = store.set_reminder_left(at, left) {
        tracing::warn!(error = %e, "cannot store whether social sites were left");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::clock::TokioClock;
    use crate::run::{run_with_notifications, Sources};
    use crate::watch::{IdleSource, WatchEvent};
    use dwell_core::WindowInfo;
    use std::sync::{Arc, Mutex};

    /// Never idle.
    struct Busy;
    impl IdleSource for Busy {
        fn idle_for(&mut self) -> Option<Duration> {
            Some(Duration::ZERO)
        }
    }

    fn window(title: &str, fullscreen: bool) -> Option<WindowInfo> {
        Some(WindowInfo {
            class: "Chromium".into(),
            instance: "chromium".into(),
            title: title.into(),
            process: None,
            fullscreen,
        })
    }

    fn social() -> Option<WindowInfo> {
        window("Home / X - Chromium", false)
    }

    fn work() -> Option<WindowInfo> {
        Some(WindowInfo {
            class: "Code".into(),
            instance: "code".into(),
            title: "main.rs".into(),
            process: None,
            fullscreen: false,
        })
    }

    fn config(extra: &str) -> Config {
        Config::parse(
            &format!(
                "[schedule]\nrecord = \"always\"\n[limits]\ndaily = \"60s\"\nstreak = \"1h\"\nweekly = \"10h\"\n{extra}"
            ),
            std::path::Path::new("t.toml"),
        )
        .unwrap()
    }

    fn start() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap()
    }

    /// What the fake notification server saw: (seconds since start, note).
    type Shown = Arc<Mutex<Vec<(f64, Note)>>>;

    /// A fake server: answers every Show with `answer` (given the count so far).
    fn fake_server(
        mut requests: mpsc::Receiver<Request>,
        events: mpsc::Sender<NotifyEvent>,
        t0: Instant,
        answer: impl Fn(usize) -> NotifyEvent + 'static,
        dnd: Arc<Mutex<bool>>,
    ) -> (Shown, tokio::task::JoinHandle<()>) {
        let shown: Shown = Arc::default();
        let seen = shown.clone();
        let task = tokio::task::spawn_local(async move {
            while let Some(req) = requests.recv().await {
                match req {
                    Request::Show(note) => {
                        let n = {
                            let mut s = seen.lock().unwrap();
                            s.push(((Instant::now() - t0).as_secs_f64(), note));
                            s.len()
                        };
                        let _ = events.send(answer(n)).await;
                    }
                    Request::QueryDnd => {
                        let on = *dnd.lock().unwrap();
                        let _ = events.send(NotifyEvent::Dnd(on)).await;
                    }
                    Request::Close | Request::Inform(_) => {}
                    Request::Opened { at, ok } => {
                        let _ = events.send(NotifyEvent::Opened { at, ok }).await;
                    }
                }
            }
        });
        (shown, task)
    }

    struct Run {
        dir: tempfile::TempDir,
        shown: Shown,
    }

    impl Run {
        fn records(&self) -> Vec<ReminderRecord> {
            let store = Store::open(self.dir.path()).unwrap();
            store
                .reminders(
                    start() - chrono::Duration::days(1),
                    start() + chrono::Duration::days(2),
                )
                .unwrap()
        }
        fn shown_at(&self) -> Vec<f64> {
            self.shown.lock().unwrap().iter().map(|s| s.0).collect()
        }
    }

    /// Runs the loop with a fake server and a script of watch and server events.
    async fn replay(
        config: Config,
        with_server: bool,
        answer: impl Fn(usize) -> NotifyEvent + 'static,
        dnd: Arc<Mutex<bool>>,
        script: impl FnOnce(
            mpsc::Sender<WatchEvent>,
            mpsc::Sender<NotifyEvent>,
            Instant,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>,
    ) -> Run {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (wtx, wrx) = mpsc::channel(16);
        let (req_tx, req_rx) = mpsc::channel(16);
        let (ev_tx, ev_rx) = mpsc::channel(16);
        let t0 = Instant::now();
        let clock = TokioClock::starting_at(start());
        let (shown, server) = if with_server {
            fake_server(req_rx, ev_tx.clone(), t0, answer, dnd)
        } else {
            drop(req_rx);
            (Arc::default(), tokio::task::spawn_local(async {}))
        };
        let notifications = with_server.then_some(Notifications {
            requests: req_tx,
            events: ev_rx,
        });
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let script = script(wtx, ev_tx, t0);
        let driver = async move {
            script.await;
            let _ = stop_tx.send(());
        };
        let sources = Sources {
            watch: wrx,
            idle: Box::new(Busy),
            control: None,
            config_path: None,
            about: Default::default(),
        };
        let (res, ()) = tokio::join!(
            run_with_notifications(config, store, sources, notifications, &clock, &Utc, async {
                let _ = stop_rx.await;
            }),
            driver
        );
        res.unwrap();
        server.abort();
        Run { dir, shown }
    }

    async fn at(t0: Instant, secs: f64) {
        tokio::time::sleep_until(t0 + Duration::from_secs_f64(secs)).await;
    }

    fn shown(n: usize) -> NotifyEvent {
        NotifyEvent::Shown {
            id: n as u32,
            actions: true,
        }
    }

    fn local<F: std::future::Future<Output = ()>>(f: F) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        tokio::task::LocalSet::new().block_on(&rt, f);
    }

    /// Stopped while a reminder is on its way to the screen (the server has it
    /// and has not answered yet): the agent waits a little for the answer, so
    /// what was shown is recorded.
    #[test]
    fn a_reminder_shown_just_before_a_stop_is_recorded() {
        local(async {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(dir.path()).unwrap();
            let (wtx, wrx) = mpsc::channel(16);
            let (req_tx, mut req_rx) = mpsc::channel(16);
            let (ev_tx, ev_rx) = mpsc::channel(16);
            let clock = TokioClock::starting_at(start());
            let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
            // A server that answers 300 ms after it shows a notification; the
            // agent is asked to stop 100 ms after the first one is shown.
            let server = tokio::task::spawn_local(async move {
                let mut stop_tx = Some(stop_tx);
                while let Some(req) = req_rx.recv().await {
                    if let Request::Show(_) = req {
                        if let Some(stop) = stop_tx.take() {
                            tokio::spawn(async move {
                                tokio::time::sleep(Duration::from_millis(100)).await;
                                let _ = stop.send(());
                            });
                        }
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        let _ = ev_tx.send(shown(1)).await;
                    }
                }
            });
            let sources = Sources {
                watch: wrx,
                idle: Box::new(Busy),
                control: None,
                config_path: None,
                about: Default::default(),
            };
            let notifications = Some(Notifications {
                requests: req_tx,
                events: ev_rx,
            });
            wtx.send(WatchEvent::Connected).await.unwrap();
            wtx.send(WatchEvent::Focus(social())).await.unwrap();
            run_with_notifications(
                config("[reminders]\nat = [0.5, 1.0]\nmin_gap = \"1s\"\n"),
                store,
                sources,
                notifications,
                &clock,
                &Utc,
                async {
                    let _ = stop_rx.await;
                },
            )
            .await
            .unwrap();
            server.abort();
            drop(wtx);
            let run = Run {
                dir,
                shown: Arc::default(),
            };
            let recs = run.records();
            assert_eq!(recs.len(), 1, "{recs:?}");
            assert_eq!(recs[0].outcome, "shown");
        });
    }

    #[test]
    fn stages_arrive_at_the_crossing_and_are_stored() {
        local(async {
            let run = replay(
                config("[reminders]\nat = [0.5, 1.0]\nmin_gap = \"1s\"\nrepeat_over = \"1h\"\n"),
                true,
                shown,
                Arc::default(),
                |w, _ev, t0| {
                    Box::pin(async move {
                        w.send(WatchEvent::Connected).await.unwrap();
                        w.send(WatchEvent::Focus(social())).await.unwrap();
                        at(t0, 20.0).await;
                        w.send(WatchEvent::Focus(work())).await.unwrap();
                        at(t0, 100.0).await;
                        w.send(WatchEvent::Focus(social())).await.unwrap();
                        at(t0, 200.0).await;
                    })
                },
            )
            .await;
            // 20 s social, a break, back at 100: 50 % at 110, 100 % at 140.
            let times = run.shown_at();
            assert_eq!(times.len(), 2, "{times:?}");
            assert!((times[0] - 110.0).abs() < 0.01, "{times:?}");
            assert!((times[1] - 140.0).abs() < 0.01, "{times:?}");
            let notes = run.shown.lock().unwrap().clone();
            assert!(notes[0].1.summary.contains("30s"), "{:?}", notes[0].1);
            assert!(notes[0].1.actions.iter().any(|a| a.0 == "snooze"));
            let recs = run.records();
            assert_eq!(recs.len(), 2);
            assert!(recs
                .iter()
                .all(|r| r.outcome == "shown" && r.kind == "stage"));
            assert!(recs.iter().all(|r| r.message.is_some()));
            // Stayed on social for 2 min after each: did not leave.
            assert_eq!(recs[0].left_social, Some(false));
        });
    }

    #[test]
    fn snooze_silences_and_leaving_is_recorded() {
        local(async {
            let run = replay(
                config("[reminders]\nat = [0.5, 0.8, 1.0]\nmin_gap = \"1s\"\nrepeat_over = \"20s\"\nsnooze = \"60s\"\n"),
                true,
                shown,
                Arc::default(),
                |w, ev, t0| {
                    Box::pin(async move {
                        w.send(WatchEvent::Connected).await.unwrap();
                        w.send(WatchEvent::Focus(social())).await.unwrap();
                        at(t0, 31.0).await;
                        ev.send(NotifyEvent::Action {
                            id: 1,
                            key: "snooze".into(),
                        })
                        .await
                        .unwrap();
                        ev.send(NotifyEvent::Closed { id: 1, reason: 2 }).await.unwrap();
                        at(t0, 95.0).await;
                        w.send(WatchEvent::Focus(work())).await.unwrap();
                        at(t0, 300.0).await;
                    })
                },
            )
            .await;
            let times = run.shown_at();
            // 50 % at 30; snoozed at 31 until 91: 80 % (48) and 100 % (60) wait;
            // at 91 the highest (100 %) goes out alone.
            assert_eq!(times.len(), 2, "{times:?}");
            assert!((times[0] - 30.0).abs() < 0.01);
            assert!((times[1] - 91.0).abs() < 0.01, "{times:?}");
            let recs = run.records();
            assert_eq!(recs[0].outcome, "snoozed");
            assert_eq!(recs[1].outcome, "shown");
            assert_eq!(recs[1].left_social, Some(true));
            // `status` learns when the snooze ends.
            let stored = Store::open(run.dir.path())
                .unwrap()
                .meta_get(SNOOZED_UNTIL_KEY)
                .unwrap()
                .unwrap();
            let until = chrono::DateTime::parse_from_rfc3339(&stored).unwrap();
            assert_eq!(until, start() + chrono::Duration::seconds(91), "{stored}");
        });
    }

    #[test]
    fn fullscreen_holds_then_the_latest_goes_out_once() {
        local(async {
            let run = replay(
                config("[reminders]\nat = [0.5, 1.0]\nmin_gap = \"1s\"\nrepeat_over = \"1h\"\n"),
                true,
                shown,
                Arc::default(),
                |w, _ev, t0| {
                    Box::pin(async move {
                        w.send(WatchEvent::Connected).await.unwrap();
                        w.send(WatchEvent::Focus(window(
                            "Watch - YouTube - Chromium",
                            true,
                        )))
                        .await
                        .unwrap();
                        at(t0, 70.0).await;
                        w.send(WatchEvent::Focus(window(
                            "Watch - YouTube - Chromium",
                            false,
                        )))
                        .await
                        .unwrap();
                        at(t0, 80.0).await;
                    })
                },
            )
            .await;
            let times = run.shown_at();
            assert_eq!(times.len(), 1, "{times:?}");
            assert!((times[0] - 70.0).abs() < 0.01);
            let recs = run.records();
            // 50 % held for good; 100 % held, then shown.
            let outcomes: Vec<&str> = recs.iter().map(|r| r.outcome.as_str()).collect();
            assert_eq!(outcomes, ["held", "shown"], "{recs:?}");
        });
    }

    #[test]
    fn do_not_disturb_holds_until_it_ends() {
        local(async {
            let dnd = Arc::new(Mutex::new(true));
            let flag = dnd.clone();
            let run = replay(
                config("[reminders]\nat = [0.5]\nmin_gap = \"1s\"\nrepeat_over = \"1h\"\n"),
                true,
                move |n| {
                    if *flag.lock().unwrap() {
                        NotifyEvent::HeldDnd
                    } else {
                        shown(n)
                    }
                },
                dnd.clone(),
                |w, _ev, t0| {
                    let dnd = dnd.clone();
                    Box::pin(async move {
                        w.send(WatchEvent::Connected).await.unwrap();
                        w.send(WatchEvent::Focus(social())).await.unwrap();
                        at(t0, 45.0).await;
                        *dnd.lock().unwrap() = false;
                        at(t0, 70.0).await;
                    })
                },
            )
            .await;
            // Asked at 30 (held: dnd), polled every 10 s: seen off at 50, shown.
            let times = run.shown_at();
            assert_eq!(times.len(), 2, "{times:?}");
            assert!((times[1] - 50.0).abs() < 0.01, "{times:?}");
            let recs = run.records();
            assert_eq!(recs.len(), 1);
            assert_eq!(recs[0].outcome, "shown");
        });
    }

    #[test]
    fn without_a_server_tracking_goes_on_and_reminders_are_undelivered() {
        local(async {
            let run = replay(
                config("[reminders]\nat = [0.5]\n"),
                false,
                shown,
                Arc::default(),
                |w, _ev, t0| {
                    Box::pin(async move {
                        w.send(WatchEvent::Connected).await.unwrap();
                        w.send(WatchEvent::Focus(social())).await.unwrap();
                        at(t0, 100.0).await;
                    })
                },
            )
            .await;
            let recs = run.records();
            assert!(!recs.is_empty());
            assert_eq!(recs[0].outcome, "undelivered");
            let store = Store::open(run.dir.path()).unwrap();
            let spans = store
                .spans(start(), start() + chrono::Duration::hours(1))
                .unwrap();
            let secs: f64 = spans.iter().map(|s| s.seconds()).sum();
            assert_eq!(secs, 100.0);
        });
    }
}

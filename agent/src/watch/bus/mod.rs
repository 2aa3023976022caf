//! The agent on the D-Bus buses: one thread, one session-bus connection, one
//! optional system-bus connection.
//!
//! - **The door.** The agent owns [`NAME`] on the session bus and exposes one
//!   method, `org.dwell.Agent1.Focus(s app_id, s title, u pid)` at [`PATH`]: the
//!   KWin script and the GNOME Shell extension report focus through it. It
//!   returns nothing and exposes no data; strings are cut ([`super::MAX_TITLE`]);
//!   a malformed call is answered with an error, ignored, and logged once. Focus
//!   reports count only while the KWin or GNOME backend is in use. A second
//!   method, `Tab(s browser, s host, b private, b audible, b focused, u pid)
//!   -> a{s}`, is how the native host (`dwell-native-host`) passes on what the browser
//!   extension reports (for every backend); a host name that is not one is
//!   refused, and the caller's leaving the bus means that browser's extension
//!   is gone. Its reply is the run loop's answer: the pause page to show
//!   ([`crate::door::Pause`] as a dictionary), or an empty dictionary.
//!   A third, `PauseResultFor(s outcome, s page)` (`continued` or `closed`,
//!   and the page's id, [`crate::door::PageId`]), is the employee's choice on
//!   that page; it returns nothing. A fourth, `PauseResult(s outcome)`, is
//!   the same choice from a host or extension from before page ids (the
//!   newest open page takes it).
//! - **Who may call** ([`super::trust`]): `Focus` only from the owner of
//!   `org.kde.KWin` / `org.gnome.Shell`, `Tab`, `PauseResult` and
//!   `PauseResultFor` only from a `dwell-native-host` process, every signal only from the owner of the
//!   name that defines it (match rules name the sender too, but a signal sent
//!   to the agent alone bypasses them). Anything else: `AccessDenied`, counted,
//!   logged once. The name is asked for with queueing: while another program
//!   owns it, the agent waits in the bus's queue, says so (log and `status`),
//!   loads no KWin script, and takes over when the name comes to it.
//! - **Never a deadlock**: a [`Reader`] reads both connections all the time,
//!   also while a message is being handled (zbus stops reading a connection
//!   whose stream is full, and the door's own calls would then never get their
//!   replies). Messages wait in per-sender queues taken in turns, signals
//!   first; a sender with [`MAX_CALLS_PER_SENDER`] calls waiting gets
//!   `LimitsExceeded` for more. Every call the agent makes times out
//!   ([`CALL_TIMEOUT`]).
//! - **KWin and GNOME lifecycles** ([`super::kwin`], [`super::gnome`]): the
//!   script is loaded when KWin is on the bus (and again if KWin restarts), and
//!   unloaded on exit; Mutter's idle watches are armed when GNOME Shell is there.
//! - **Lock and sleep**, for every backend: `ActiveChanged` of
//!   `org.freedesktop.ScreenSaver` / `org.gnome.ScreenSaver` on the session bus;
//!   on the system bus, logind's `PrepareForSleep` and the session's `Lock`,
//!   `Unlock` and `LockedHint` (the session is `$XDG_SESSION_ID`, else logind's
//!   `auto`). The system bus is only listened to.
//!
//! Only `unix:` bus addresses are used: dwell has no network code.
//!
//! Rooms: this file holds the thread, the door's state and its reader;
//! `conn` the connections and calls to the bus itself, `messages` what each
//! message does, `lifecycle` the compositor's comings and goings.

use std::collections::HashMap;
use std::time::Duration;

use futures_lite::StreamExt;
use tokio::sync::{mpsc, oneshot};
use zbus::message::Type as MsgType;
use zbus::OwnedVariant as OwnedValue;
use zbus::{Connection, Message, MessageStream};

use super::stoppable::Stoppable;
use super::{
    cut, gnome, kwin, trust, window_from_app_id, Backend, ProcessNames, PushedIdle, WatchEvent,
};

pub use crate::door::{IFACE, NAME, PATH};

const DBUS: &str = "org.freedesktop.DBus";
const DBUS_PATH: &str = "/org/freedesktop/DBus";
const LOGIN1: &str = "org.freedesktop.login1";
const LOGIN1_PATH: &str = "/org/freedesktop/login1";
const LOGIN1_MANAGER: &str = "org.freedesktop.login1.Manager";
const LOGIN1_SESSION: &str = "org.freedesktop.login1.Session";
const PROPERTIES: &str = "org.freedesktop.DBus.Properties";

/// How often, and how far apart, loading the KWin script is tried when KWin
/// has just appeared.
const KWIN_TRIES: u32 = 20;
const KWIN_RETRY: Duration = Duration::from_millis(250);
/// A loaded KWin script reports at once; silent this long, it is loaded again
/// (a KWin that has just started may drop a script started too early), at
/// most [`KWIN_RELOADS`] times in a row.
const KWIN_SILENT: Duration = Duration::from_millis(700);
const KWIN_RELOADS: u32 = 5;

/// The screen savers whose `ActiveChanged` tells the session is locked (each
/// name is also its signal's interface).
const SCREEN_SAVERS: [&str; 2] = ["org.freedesktop.ScreenSaver", "org.gnome.ScreenSaver"];

/// What `status` and the log say while another program owns [`NAME`].
fn squatted_hint() -> String {
    format!(
        "another program owns dwell's bus name {NAME}: dwell sends it nothing and waits for it to leave (focus from KWin or GNOME Shell and browser tabs are not seen meanwhile); see which program with `busctl --user status {NAME}`"
    )
}

/// Longest app id kept from a report, in bytes.
const MAX_APP_ID: usize = 255;

mod conn;
mod lifecycle;
mod messages;

pub use conn::{
    add_match, has_owner, local_only, refused_address, remove_match, session, system, CALL_TIMEOUT,
};

/// Starts the bus thread for `backend`; with [`Backend::Gnome`], `mutter` is
/// fed from Mutter's idle watches. Dropping the handle stops the thread, which
/// unloads the KWin script on its way out.
pub fn spawn(
    backend: Backend,
    tx: mpsc::Sender<WatchEvent>,
    mutter: Option<PushedIdle>,
) -> std::io::Result<Stoppable> {
    Stoppable::spawn("dbus-watch", move |stop| {
        zbus::block_on(serve(backend, tx, mutter, stop))
    })
}

/// What the lock state is made of; the session counts as locked when any says so.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LockState {
    pub screensaver: bool,
    pub logind: bool,
}

impl LockState {
    pub fn locked(self) -> bool {
        self.screensaver || self.logind
    }
}

struct Door {
    backend: Backend,
    tx: mpsc::Sender<WatchEvent>,
    mutter: Option<PushedIdle>,
    session: Option<Connection>,
    system: Option<Connection>,
    /// Our logind session's object path.
    login_session: Option<String>,
    lock: LockState,
    /// KWin's script is loaded (to unload it on exit).
    kwin_loaded: bool,
    /// The KWin script's file, kept until the script reports (KWin reads it
    /// late) or is unloaded.
    kwin_file: Option<kwin::ScriptFile>,
    /// Mutter's idle watch ids (idle after PUSH_AFTER, next input).
    mutter_watches: gnome::Watches,
    procs: ProcessNames,
    warned_malformed: bool,
    warned_connect: bool,
    /// What GNOME Shell last said of dwell's extension (`status` shows it,
    /// with a hint unless it is active).
    extension: Option<gnome::ExtensionReport>,
    /// The running GNOME Shell's version, for the hint.
    shell_version: Option<String>,
    /// Another program owns [`NAME`]: the agent waits in the bus's queue for
    /// it, and loads no KWin script meanwhile (it would report there).
    squatted: bool,
    /// Who owns the names whose signals and calls the agent takes, on the
    /// session bus and on the system bus.
    owners: trust::Owners,
    system_owners: trust::Owners,
    /// Whether a caller's process is dwell's native host, by unique name.
    hosts: HashMap<String, bool>,
    /// Calls and signals refused for their sender (logged once, then counted).
    refused: u64,
    /// Bus names of native-messaging hosts that reported a tab (watched to
    /// tell when they leave).
    tab_senders: std::collections::HashSet<String>,
    /// When to check that the KWin script, just loaded, has reported (it
    /// reports what has focus as soon as it runs).
    kwin_check_at: Option<std::time::Instant>,
    /// Loads again because the script stayed silent (reset by a report).
    kwin_reloads: u32,
}

/// Most calls queued from one sender; more are refused at once
/// (`LimitsExceeded`), so a flood from one client cannot starve the others.
const MAX_CALLS_PER_SENDER: usize = 64;
/// Most signals queued from one sender; more are dropped.
const MAX_SIGNALS_PER_SENDER: usize = 256;
/// The D-Bus error for a call refused for its sender.
const ACCESS_DENIED: &str = "org.freedesktop.DBus.Error.AccessDenied";

/// Which of the agent's connections a message came on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Session,
    System,
}

/// Messages queued per sender and taken in turns: one sender's flood waits
/// behind everyone else's next message.
#[derive(Default)]
struct Fair {
    queues: HashMap<String, std::collections::VecDeque<(Via, Message)>>,
    turns: std::collections::VecDeque<String>,
}

impl Fair {
    /// Queues `msg`, or gives it back when its sender already has `cap` queued.
    fn push(&mut self, key: String, item: (Via, Message), cap: usize) -> Result<(), Message> {
        let queue = self.queues.entry(key.clone()).or_default();
        if queue.len() >= cap {
            return Err(item.1);
        }
        if queue.is_empty() {
            self.turns.push_back(key);
        }
        queue.push_back(item);
        Ok(())
    }

    fn pop(&mut self) -> Option<(Via, Message)> {
        let key = self.turns.pop_front()?;
        let queue = self.queues.get_mut(&key)?;
        let item = queue.pop_front();
        if queue.is_empty() {
            self.queues.remove(&key);
        } else {
            self.turns.push_back(key);
        }
        item
    }

    fn drop_session(&mut self) {
        for queue in self.queues.values_mut() {
            queue.retain(|(via, _)| *via != Via::Session);
        }
        self.queues.retain(|_, q| !q.is_empty());
        let queues = &self.queues;
        self.turns.retain(|k| queues.contains_key(k));
    }
}

/// Reads both connections all the time, whatever the door is busy with: zbus
/// stops reading a connection whose message stream is full (64 messages), and
/// then no reply to the door's own calls could arrive. What is read waits in
/// the inbox; signals go before calls.
struct Reader {
    session: Option<MessageStream>,
    system: Option<MessageStream>,
    /// The session connection, to refuse calls past [`MAX_CALLS_PER_SENDER`].
    conn: Option<Connection>,
    signals: Fair,
    calls: Fair,
    session_ended: bool,
    system_ended: bool,
    /// Which stream is read first next time (both get their turn).
    system_first: bool,
    /// Messages refused or dropped for a full queue.
    overflow: u64,
}

impl Reader {
    fn next(&mut self) -> Option<(Via, Message)> {
        self.signals.pop().or_else(|| self.calls.pop())
    }

    /// Reads one message from either connection into the inbox.
    async fn read_one(&mut self) {
        self.system_first = !self.system_first;
        let (session, system) = (&mut self.session, &mut self.system);
        let read_session = async { (Via::Session, next_msg(session).await) };
        let read_system = async { (Via::System, next_msg(system).await) };
        let (via, msg) = if self.system_first {
            futures_lite::future::or(read_system, read_session).await
        } else {
            futures_lite::future::or(read_session, read_system).await
        };
        match msg {
            Some(Ok(msg)) => self.queue(via, msg).await,
            _ => match via {
                Via::Session => {
                    self.session = None;
                    self.session_ended = true;
                }
                Via::System => {
                    self.system = None;
                    self.system_ended = true;
                }
            },
        }
    }

    async fn read_forever(&mut self) {
        loop {
            self.read_one().await;
        }
    }

    async fn queue(&mut self, via: Via, msg: Message) {
        let header = msg.header();
        let sender = header.sender().map(|s| s.as_str()).unwrap_or("");
        let key = format!("{via:?} {sender}");
        let full = match header.message_type() {
            MsgType::Signal => self
                .signals
                .push(key, (via, msg.clone()), MAX_SIGNALS_PER_SENDER)
                .err()
                .map(|_| false),
            MsgType::MethodCall => self
                .calls
                .push(key, (via, msg.clone()), MAX_CALLS_PER_SENDER)
                .err()
                .map(|_| true),
            // Replies to the door's own calls reach those calls directly.
            _ => None,
        };
        let Some(is_call) = full else { return };
        self.overflow += 1;
        if self.overflow == 1 {
            tracing::warn!("a program sends the agent more than it can take; the excess is refused (logged once, then counted)");
        }
        tracing::debug!(
            overflow = self.overflow,
            "refused a message for a full queue"
        );
        if let (true, Some(conn)) = (is_call, &self.conn) {
            let _ = conn
                .reply_error(
                    &header,
                    "org.freedesktop.DBus.Error.LimitsExceeded",
                    &"too many calls waiting from this connection; try again later",
                )
                .await;
        }
    }
}

enum Next {
    Stop,
    /// A message was handled; `false`: the session connection is unusable.
    Handled(bool),
    /// A message was read (or a connection ended).
    Read,
    /// The KWin script has not reported since it was loaded: load it again.
    KwinSilent,
}

/// Sleeps until `deadline`, if there is one.
async fn until(deadline: Option<std::time::Instant>) {
    match deadline {
        Some(d) => blocking_sleep(d.saturating_duration_since(std::time::Instant::now())).await,
        None => std::future::pending().await,
    }
}

async fn next_msg(stream: &mut Option<MessageStream>) -> Option<zbus::Result<Message>> {
    match stream {
        Some(s) => s.next().await,
        None => std::future::pending().await,
    }
}

impl Door {
    fn new(backend: Backend, tx: mpsc::Sender<WatchEvent>, mutter: Option<PushedIdle>) -> Door {
        Door {
            backend,
            tx,
            mutter,
            session: None,
            system: None,
            login_session: None,
            lock: LockState::default(),
            kwin_loaded: false,
            kwin_file: None,
            mutter_watches: gnome::Watches::default(),
            procs: ProcessNames::default(),
            warned_malformed: false,
            warned_connect: false,
            extension: None,
            shell_version: None,
            squatted: false,
            owners: trust::Owners::default(),
            system_owners: trust::Owners::default(),
            hosts: HashMap::new(),
            refused: 0,
            tab_senders: Default::default(),
            kwin_check_at: None,
            kwin_reloads: 0,
        }
    }
}

impl Reader {
    fn new(system: Option<MessageStream>) -> Reader {
        Reader {
            session: None,
            system,
            conn: None,
            signals: Fair::default(),
            calls: Fair::default(),
            session_ended: false,
            system_ended: false,
            system_first: false,
            overflow: 0,
        }
    }
}

async fn serve(
    backend: Backend,
    tx: mpsc::Sender<WatchEvent>,
    mutter: Option<PushedIdle>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut door = Door::new(backend, tx, mutter);
    let mut reader = Reader::new(door.connect_system().await);
    let mut backoff = Duration::from_secs(1);
    loop {
        reader.session = match door.connect_session().await {
            Ok(s) => {
                backoff = Duration::from_secs(1);
                Some(s)
            }
            Err(e) => {
                if !door.warned_connect {
                    tracing::warn!(error = %e, "cannot use the session bus; will retry");
                    door.warned_connect = true;
                }
                None
            }
        };
        reader.conn = door.session.clone();
        reader.session_ended = false;
        loop {
            let next = door.next(&mut reader, &mut stop).await;
            let alive = match next {
                Next::Stop => {
                    door.cleanup().await;
                    return;
                }
                Next::KwinSilent => {
                    door.kwin_silent().await;
                    true
                }
                Next::Handled(alive) => alive,
                Next::Read => true,
            };
            if reader.system_ended {
                reader.system_ended = false;
                tracing::info!("lost the system bus; lock and sleep are no longer seen");
                door.system = None;
            }
            if door.tx.is_closed() {
                door.cleanup().await;
                return;
            }
            if !alive || reader.session_ended {
                tracing::warn!("lost the session bus; will retry");
                reader.session = None;
                reader.signals.drop_session();
                reader.calls.drop_session();
                door.session_lost().await;
                break;
            }
        }
        // Wait before reconnecting, but stop at once if asked.
        let wait = backoff;
        backoff = (backoff * 2).min(Duration::from_secs(30));
        let stopped = futures_lite::future::or(
            async {
                let _ = (&mut stop).await;
                true
            },
            async {
                blocking_sleep(wait).await;
                false
            },
        )
        .await;
        if stopped || door.tx.is_closed() {
            door.cleanup().await;
            return;
        }
    }
}

/// Sleeps on a helper thread so the executor stays free (no timer in zbus's API).
async fn blocking_sleep(d: Duration) {
    let (tx, rx) = oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("dbus-backoff".into())
        .spawn(move || {
            std::thread::sleep(d);
            let _ = tx.send(());
        });
    if spawned.is_ok() {
        let _ = rx.await;
    }
}

impl Door {
    /// The next thing to do: handle a queued message (reading on meanwhile),
    /// else wait for a message, the KWin check or the stop.
    async fn next(&mut self, reader: &mut Reader, stop: &mut oneshot::Receiver<()>) -> Next {
        let stopped = async {
            let _ = stop.await;
            Next::Stop
        };
        match reader.next() {
            Some((via, msg)) => {
                let handle = async {
                    Next::Handled(match via {
                        Via::Session => self.on_session(&msg).await,
                        Via::System => self.on_system(&msg).await,
                    })
                };
                let read = async {
                    reader.read_forever().await;
                    Next::Read
                };
                futures_lite::future::or(stopped, futures_lite::future::or(handle, read)).await
            }
            None => {
                let at = self.kwin_check_at;
                let read = async {
                    reader.read_one().await;
                    Next::Read
                };
                let check = async {
                    until(at).await;
                    Next::KwinSilent
                };
                futures_lite::future::or(stopped, futures_lite::future::or(read, check)).await
            }
        }
    }

    async fn kwin_silent(&mut self) {
        self.kwin_check_at = None;
        if self.kwin_reloads < KWIN_RELOADS {
            self.kwin_reloads += 1;
            tracing::warn!(
                "the KWin script has not reported since it was loaded; loading it again"
            );
            self.kwin_up().await;
        } else {
            tracing::warn!("the KWin script does not report: focus is not seen");
        }
    }

    /// Counts a call or signal refused for its sender; logs the first.
    fn refuse(&mut self, what: &str) {
        self.refused += 1;
        if self.refused == 1 {
            tracing::warn!(
                what,
                "refused a message from a program that may not use the agent's door (logged once, then counted)"
            );
        }
        tracing::debug!(
            what,
            refused = self.refused,
            "refused a message for its sender"
        );
    }

    /// Answers a refused call with `AccessDenied`.
    async fn deny(&mut self, msg: &Message, what: &str) {
        self.refuse(what);
        if let Some(conn) = &self.session {
            let _ = conn
                .reply_error(
                    &msg.header(),
                    ACCESS_DENIED,
                    &"only dwell's own programs may call the agent",
                )
                .await;
        }
    }

    /// Whether `sender`'s process is dwell's native host (asked once per connection).
    async fn is_host(&mut self, sender: &str) -> bool {
        if let Some(known) = self.hosts.get(sender) {
            return *known;
        }
        let Some(conn) = self.session.clone() else {
            return false;
        };
        let program = trust::program_behind(&conn, sender).await;
        let ok = trust::is_native_host(program.as_deref());
        if self.hosts.len() >= 1024 {
            self.hosts.clear();
        }
        self.hosts.insert(sender.to_owned(), ok);
        ok
    }

    /// The compositor whose owner may report focus, for this backend.
    fn compositor(&self) -> Option<&'static str> {
        match self.backend {
            Backend::Kwin => Some(kwin::BUS_NAME),
            Backend::Gnome => Some(gnome::SHELL),
            _ => None,
        }
    }

    async fn send(&self, ev: WatchEvent) {
        let _ = self.tx.send(ev).await;
    }

    fn uses_door(&self) -> bool {
        matches!(self.backend, Backend::Kwin | Backend::Gnome)
    }

    async fn connect_session(&mut self) -> zbus::Result<MessageStream> {
        let conn = session().await?;
        let stream = MessageStream::from(&conn);
        let watched: Vec<&str> = match self.backend {
            Backend::Kwin => vec![kwin::BUS_NAME],
            Backend::Gnome => vec![gnome::SHELL, gnome::MUTTER],
            _ => vec![],
        };
        // Whose signals and calls are taken: the owners of these names, as
        // the bus says now and then tells (NameOwnerChanged).
        let mut owners = trust::Owners::default();
        for name in watched.iter().copied().chain(SCREEN_SAVERS).chain([NAME]) {
            let _ = add_match(
                &conn,
                &format!(
                    "type='signal',sender='{DBUS}',interface='{DBUS}',member='NameOwnerChanged',arg0='{name}'"
                ),
            )
            .await;
            if let Some(owner) = trust::owner_of(&conn, name).await {
                owners.set(name, &owner);
            }
        }
        self.owners = owners;
        self.hosts.clear();
        for iface in SCREEN_SAVERS {
            let _ = add_match(
                &conn,
                &format!(
                    "type='signal',sender='{iface}',interface='{iface}',member='ActiveChanged'"
                ),
            )
            .await;
        }
        if self.backend == Backend::Gnome {
            let _ = add_match(&conn, gnome::WATCH_RULE).await;
            let _ = add_match(&conn, gnome::EXTENSION_RULE).await;
        }
        self.session = Some(conn.clone());
        self.warned_connect = false;
        self.take_name(&conn).await;
        tracing::info!("listening on the session bus");
        if !self.squatted {
            self.compositor_there(&conn).await;
        }
        Ok(stream)
    }

    /// Asks for the door's name. Owned by another program, the agent waits in
    /// the bus's queue for it (and gets it when that program leaves), says so
    /// in the log and in `status`, and gives the compositor no script meanwhile.
    async fn take_name(&mut self, conn: &Connection) {
        let flags = zbus::fdo::RequestNameFlags::empty();
        self.squatted = match conn.request_name_with_flags(NAME, flags).await {
            Ok(zbus::fdo::RequestNameReply::PrimaryOwner)
            | Ok(zbus::fdo::RequestNameReply::AlreadyOwner) => false,
            Ok(_) => {
                tracing::warn!("{}", squatted_hint());
                true
            }
            Err(e) if self.uses_door() => {
                // Focus reaches the agent through that name alone: nothing to track.
                let why = format!(
                    "the session bus refuses dwell its name {NAME} ({e}): with the {} backend focus is seen only through it; check the bus's policy, or set [tracking] backend",
                    self.backend.name()
                );
                self.send(WatchEvent::Untrackable(why)).await;
                true
            }
            Err(e) => {
                // Windows are still seen; browser tabs are not.
                tracing::warn!(error = %e, name = NAME, "cannot ask for the agent's bus name: browser tabs are not seen");
                false
            }
        };
        if self.squatted {
            self.send(WatchEvent::Hint(Some(squatted_hint()))).await;
        }
    }

    /// The bus gave the agent its name (the program that had it left).
    async fn name_acquired(&mut self) {
        if !self.squatted {
            return;
        }
        self.squatted = false;
        tracing::info!(name = NAME, "the agent owns its bus name again");
        self.send(WatchEvent::Hint(None)).await;
        if let Some(conn) = self.session.clone() {
            self.compositor_there(&conn).await;
        }
    }

    /// Starts with the compositor if it is on the bus (loads the KWin script,
    /// checks the GNOME extension and arms Mutter's watches).
    async fn compositor_there(&mut self, conn: &Connection) {
        match self.backend {
            Backend::Kwin if has_owner(conn, kwin::BUS_NAME).await => self.kwin_up().await,
            Backend::Gnome if has_owner(conn, gnome::SHELL).await => {
                // A shell that has run for a while: its extensions are loaded.
                let (report, version) = gnome::extension_report(conn).await;
                self.shell_version = version;
                self.extension_seen(report).await;
                if has_owner(conn, gnome::MUTTER).await {
                    self.mutter_up().await;
                }
                self.gnome_up().await;
            }
            Backend::Kwin | Backend::Gnome => {
                tracing::warn!(
                    backend = self.backend.name(),
                    "the compositor is not on the session bus yet; waiting for it"
                );
            }
            _ => {}
        }
    }

    async fn connect_system(&mut self) -> Option<MessageStream> {
        let conn = match system().await {
            Ok(c) => c,
            Err(e) => {
                tracing::info!(error = %e, "no system bus: lock and suspend are seen only as clock gaps");
                return None;
            }
        };
        let stream = MessageStream::from(&conn);
        let _ = add_match(
            &conn,
            &format!("type='signal',sender='{LOGIN1}',interface='{LOGIN1_MANAGER}',member='PrepareForSleep'"),
        )
        .await;
        let _ = add_match(
            &conn,
            &format!("type='signal',sender='{DBUS}',interface='{DBUS}',member='NameOwnerChanged',arg0='{LOGIN1}'"),
        )
        .await;
        self.system_owners = trust::Owners::default();
        if let Some(owner) = trust::owner_of(&conn, LOGIN1).await {
            self.system_owners.set(LOGIN1, &owner);
        }
        let id = std::env::var("XDG_SESSION_ID")
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "auto".into());
        let path = match conn
            .call_method(
                Some(LOGIN1),
                LOGIN1_PATH,
                Some(LOGIN1_MANAGER),
                "GetSession",
                &(id.as_str(),),
            )
            .await
        {
            Ok(reply) => reply
                .body()
                .deserialize::<zbus::OwnedObjectPath>()
                .ok()
                .map(|p| p.as_str().to_owned()),
            Err(e) => {
                tracing::info!(error = %e, "logind does not know this session: screen lock is seen through the screen saver only");
                None
            }
        };
        if let Some(path) = &path {
            let _ = add_match(
                &conn,
                &format!("type='signal',sender='{LOGIN1}',path='{path}'"),
            )
            .await;
            if let Ok(reply) = conn
                .call_method(
                    Some(LOGIN1),
                    path.as_str(),
                    Some(PROPERTIES),
                    "Get",
                    &(LOGIN1_SESSION, "LockedHint"),
                )
                .await
            {
                if let Ok(v) = reply.body().deserialize::<zbus::Variant>() {
                    if let Ok(locked) = bool::try_from(&v) {
                        if locked {
                            self.set_lock(LockState {
                                logind: true,
                                ..self.lock
                            })
                            .await;
                        }
                    }
                }
            }
            tracing::info!("listening to logind for lock and suspend");
        }
        self.login_session = path;
        self.system = Some(conn);
        Some(stream)
    }

    async fn set_lock(&mut self, lock: LockState) {
        let was = self.lock.locked();
        self.lock = lock;
        if lock.locked() != was {
            tracing::info!(locked = lock.locked(), "screen lock");
            self.send(WatchEvent::Locked(lock.locked())).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_bus_addresses() {
        assert!(local_only("unix:path=/run/user/1000/bus").is_ok());
        assert!(local_only("unix:abstract=/tmp/x,guid=1;unix:path=/a").is_ok());
        assert!(local_only("").is_ok());
        let e = local_only("tcp:host=10.0.0.1,port=1").unwrap_err();
        assert!(e.contains("`tcp:`"), "{e}");
        assert!(local_only("unix:path=/a;nonce-tcp:host=x").is_err());
    }

    #[test]
    fn lock_is_any_source() {
        let mut l = LockState::default();
        assert!(!l.locked());
        l.screensaver = true;
        assert!(l.locked());
        l.screensaver = false;
        l.logind = true;
        assert!(l.locked());
    }
}

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
//!   A third, `PauseResult(s outcome)` (`continued` or `closed`), is the
//!   employee's choice on that page; it returns nothing.
//! - **Who may call** ([`super::trust`]): `Focus` only from the owner of
//!   `org.kde.KWin` / `org.gnome.Shell`, `Tab` and `PauseResult` only from a
//!   `dwell-native-host` process, every signal only from the owner of the
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

use std::collections::HashMap;
use std::time::Duration;

use futures_lite::StreamExt;
use tokio::sync::{mpsc, oneshot};
use zbus::message::Type as MsgType;
use zbus::OwnedVariant as OwnedValue;
use zbus::{Connection, Message, MessageStream};

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

/// Refuses a bus address list with anything but `unix:` transports (a `tcp:`
/// address would make the agent open a network connection).
pub fn local_only(address: &str) -> Result<(), String> {
    for part in address.split(';').filter(|p| !p.trim().is_empty()) {
        if !part.trim_start().starts_with("unix:") {
            let transport = part.split(':').next().unwrap_or(part);
            return Err(format!(
                "the bus address uses the `{transport}:` transport; dwell only talks to a local bus (`unix:`)"
            ));
        }
    }
    Ok(())
}

/// Why the bus in the environment variable `var` is not used, when its
/// address is not local (see [`local_only`]); `None` when it is, or unset.
pub fn refused_address(var: &str) -> Option<String> {
    std::env::var(var)
        .ok()
        .and_then(|address| local_only(&address).err())
}

/// How long any call dwell makes on a bus may wait for its reply: a name
/// owner that never answers must not hang the agent or the native host.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// The session bus, if its address is local; every call on it times out
/// after [`CALL_TIMEOUT`].
pub async fn session() -> zbus::Result<Connection> {
    if let Some(why) = refused_address("DBUS_SESSION_BUS_ADDRESS") {
        return Err(zbus::Error::Failure(why));
    }
    zbus::connection::Builder::session()
        .method_timeout(CALL_TIMEOUT)
        .build()
        .await
}

/// The system bus, if its address is local; calls time out as on the session bus.
pub async fn system() -> zbus::Result<Connection> {
    if let Some(why) = refused_address("DBUS_SYSTEM_BUS_ADDRESS") {
        return Err(zbus::Error::Failure(why));
    }
    zbus::connection::Builder::system()
        .method_timeout(CALL_TIMEOUT)
        .build()
        .await
}

/// Adds a match rule (signals are not delivered without one).
pub async fn add_match(conn: &Connection, rule: &str) -> zbus::Result<()> {
    conn.call_method(Some(DBUS), DBUS_PATH, Some(DBUS), "AddMatch", &(rule,))
        .await
        .map(|_| ())
}

/// Removes a match rule added with [`add_match`].
pub async fn remove_match(conn: &Connection, rule: &str) -> zbus::Result<()> {
    conn.call_method(Some(DBUS), DBUS_PATH, Some(DBUS), "RemoveMatch", &(rule,))
        .await
        .map(|_| ())
}

/// Whether `name` has an owner on `conn`'s bus.
pub async fn has_owner(conn: &Connection, name: &str) -> bool {
    match conn
        .call_method(Some(DBUS), DBUS_PATH, Some(DBUS), "NameHasOwner", &(name,))
        .await
    {
        Ok(reply) => reply.body().deserialize::<bool>().unwrap_or(false),
        Err(_) => false,
    }
}

/// The running bus thread; [`BusHandle::shutdown`] stops it (unloading the
/// KWin script) and waits a little for it.
pub struct BusHandle {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BusHandle {
    pub fn shutdown(mut self) {
        self.stop_and_wait();
    }

    fn stop_and_wait(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            // Unloading the KWin script is one call; do not hang an exit on it.
            let deadline = std::time::Instant::now() + Duration::from_secs(2);
            while !thread.is_finished() && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            if thread.is_finished() {
                let _ = thread.join();
            }
        }
    }
}

impl Drop for BusHandle {
    fn drop(&mut self) {
        self.stop_and_wait();
    }
}

/// Starts the bus thread for `backend`; with [`Backend::Gnome`], `mutter` is
/// fed from Mutter's idle watches.
pub fn spawn(
    backend: Backend,
    tx: mpsc::Sender<WatchEvent>,
    mutter: Option<PushedIdle>,
) -> std::io::Result<BusHandle> {
    let (stop_tx, stop_rx) = oneshot::channel();
    let thread = std::thread::Builder::new()
        .name("dbus-watch".into())
        .spawn(move || zbus::block_on(serve(backend, tx, mutter, stop_rx)))?;
    Ok(BusHandle {
        stop: Some(stop_tx),
        thread: Some(thread),
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

    async fn kwin_up(&mut self) {
        let Some(conn) = self.session.clone() else {
            return;
        };
        // What had focus before belongs to the KWin that went; the script
        // reports what has focus now as soon as it runs.
        self.send(WatchEvent::Focus(None)).await;
        // A KWin that has just taken its bus name may not answer on /Scripting
        // yet: try for a few seconds.
        let mut last = String::new();
        for _ in 0..KWIN_TRIES {
            // The file of a load before is rewritten under the same name.
            self.kwin_file = None;
            match kwin::load(&conn).await {
                Ok(file) => {
                    self.kwin_loaded = true;
                    self.kwin_file = Some(file);
                    self.kwin_check_at = Some(std::time::Instant::now() + KWIN_SILENT);
                    tracing::info!("KWin script loaded");
                    self.send(WatchEvent::Connected).await;
                    return;
                }
                Err(e) => last = e,
            }
            blocking_sleep(KWIN_RETRY).await;
        }
        tracing::warn!(error = %last, "cannot load the KWin script: focus is not seen");
    }

    /// What GNOME Shell says of dwell's extension: logged (with what to do)
    /// and sent to `status` when it changes.
    async fn extension_seen(&mut self, report: gnome::ExtensionReport) {
        if self.extension.as_ref() == Some(&report) {
            return;
        }
        let hint = report.hint(self.shell_version.as_deref());
        match &hint {
            Some(hint) => tracing::warn!("{hint}"),
            None => tracing::info!("GNOME Shell runs dwell's focus extension"),
        }
        self.extension = Some(report.clone());
        self.send(WatchEvent::Hint(hint)).await;
        self.send(WatchEvent::GnomeExtension(Some(report))).await;
    }

    /// GNOME Shell is on the bus: what had focus before belongs to a shell
    /// that went; the extension reports what has focus now.
    async fn gnome_up(&mut self) {
        self.send(WatchEvent::Focus(None)).await;
        self.send(WatchEvent::Connected).await;
    }

    /// Mutter's idle monitor is on the bus: arm the watches (again).
    async fn mutter_up(&mut self) {
        let (Some(conn), Some(idle)) = (self.session.clone(), self.mutter.clone()) else {
            return;
        };
        if let Err(e) = self.mutter_watches.arm(&conn, &idle).await {
            idle.lost();
            tracing::warn!(error = %e, "cannot use Mutter's idle monitor: idle time is not cut");
        }
        self.send(WatchEvent::IdleChanged).await;
    }

    async fn compositor_gone(&mut self) {
        self.kwin_loaded = false;
        self.kwin_file = None;
        self.mutter_watches = gnome::Watches::default();
        if let Some(idle) = &self.mutter {
            idle.lost();
        }
        tracing::warn!(
            backend = self.backend.name(),
            "the compositor left the session bus; waiting for it"
        );
        self.send(WatchEvent::Gone).await;
    }

    async fn session_lost(&mut self) {
        self.session = None;
        for sender in std::mem::take(&mut self.tab_senders) {
            self.send(WatchEvent::TabGone { sender }).await;
        }
        if self.uses_door() {
            self.compositor_gone().await;
        }
    }

    /// Handles one session-bus message; `false` when the connection is unusable.
    async fn on_session(&mut self, msg: &Message) -> bool {
        let header = msg.header();
        let member = header.member().map(|m| m.as_str()).unwrap_or("");
        let iface = header.interface().map(|i| i.as_str()).unwrap_or("");
        let sender = header.sender().map(|s| s.as_str());
        match header.message_type() {
            MsgType::MethodCall => self.on_call(msg).await,
            // Signals the agent takes on the session bus (logind's are on the system bus).
            MsgType::Signal
                if trust::signal_owner(iface, member).is_none_or(|n| n == trust::LOGIN1) => {}
            // Match rules name the sender, but a signal sent to the agent alone
            // bypasses them: the sender is checked here.
            MsgType::Signal if !trust::signal_allowed(iface, member, sender, &self.owners) => {
                self.refuse(member);
            }
            MsgType::Signal => match (iface, member) {
                ("org.freedesktop.ScreenSaver" | "org.gnome.ScreenSaver", "ActiveChanged") => {
                    if let Ok(active) = msg.body().deserialize::<bool>() {
                        let lock = LockState {
                            screensaver: active,
                            ..self.lock
                        };
                        self.set_lock(lock).await;
                    }
                }
                (DBUS, "NameOwnerChanged") => {
                    if let Ok((name, _old, new)) =
                        msg.body().deserialize::<(String, String, String)>()
                    {
                        self.name_owner_changed(name, new).await;
                    }
                }
                (DBUS, "NameAcquired")
                    if msg.body().deserialize::<String>().is_ok_and(|n| n == NAME) =>
                {
                    self.name_acquired().await;
                }
                (gnome::EXTENSIONS_IFACE, "ExtensionStateChanged") => {
                    if let Ok((uuid, info)) = msg
                        .body()
                        .deserialize::<(String, HashMap<String, OwnedValue>)>()
                    {
                        if uuid == gnome::EXTENSION_UUID {
                            let report = gnome::ExtensionReport::from_info(
                                &info,
                                gnome::installed_on_disk(),
                            );
                            self.extension_seen(report).await;
                        }
                    }
                }
                (gnome::IDLE_IFACE, "WatchFired") => {
                    if let (Some(idle), Ok(id)) = (&self.mutter, msg.body().deserialize::<u32>()) {
                        let idle = idle.clone();
                        if let Some(conn) = self.session.clone() {
                            if self.mutter_watches.fired(&conn, &idle, id).await {
                                self.send(WatchEvent::IdleChanged).await;
                            }
                        }
                    }
                }
                _ => {}
            },
            _ => {}
        }
        true
    }

    /// A method call: the door's three methods, each from whom it is for;
    /// anything else addressed to the agent is answered with an error.
    async fn on_call(&mut self, msg: &Message) {
        let header = msg.header();
        let member = header.member().map(|m| m.as_str()).unwrap_or("");
        let iface = header.interface().map(|i| i.as_str()).unwrap_or("");
        let path = header.path().map(|p| p.as_str()).unwrap_or("");
        let sender = header.sender().map(|s| s.as_str().to_owned());
        let ours = path == PATH && iface == IFACE;
        match member {
            "Focus" if ours => {
                if trust::focus_allowed(sender.as_deref(), self.compositor(), &self.owners) {
                    self.on_focus(msg).await;
                } else {
                    self.deny(msg, "Focus").await;
                }
            }
            "Tab" | "PauseResult" if ours => {
                let host = match &sender {
                    Some(s) => self.is_host(s).await,
                    None => false,
                };
                if !host {
                    self.deny(msg, member).await;
                } else if member == "Tab" {
                    self.on_tab(msg).await;
                } else {
                    self.on_pause_result(msg).await;
                }
            }
            _ => {
                if let Some(conn) = &self.session {
                    if header.destination().is_some_and(|d| d.as_str() == NAME) || path == PATH {
                        let _ = conn
                            .reply_error(
                                &header,
                                "org.freedesktop.DBus.Error.UnknownMethod",
                                &"dwell-agent has three methods: org.dwell.Agent1.Focus, Tab and PauseResult",
                            )
                            .await;
                    }
                }
            }
        }
    }

    /// A watched name changed owner (told by the bus).
    async fn name_owner_changed(&mut self, name: String, new: String) {
        self.owners.set(&name, &new);
        if name.starts_with(':') && new.is_empty() {
            self.hosts.remove(&name);
        }
        if new.is_empty() && self.tab_senders.remove(&name) {
            if let Some(conn) = &self.session {
                let _ = remove_match(conn, &leave_rule(&name)).await;
            }
            self.send(WatchEvent::TabGone { sender: name }).await;
            return;
        }
        if name == NAME {
            let ours = self.session.as_ref().and_then(|c| c.unique_name());
            if ours.is_some_and(|u| u.as_str() == new) {
                self.name_acquired().await;
            }
            return;
        }
        if self.backend == Backend::Gnome && name == gnome::MUTTER {
            if new.is_empty() {
                self.mutter_watches = gnome::Watches::default();
                if let Some(idle) = &self.mutter {
                    idle.lost();
                }
                self.send(WatchEvent::IdleChanged).await;
            } else if !self.squatted {
                self.mutter_up().await;
            }
            return;
        }
        if self.compositor() == Some(name.as_str()) {
            if new.is_empty() {
                self.compositor_gone().await;
            } else if self.squatted {
                // No script for a compositor while another program has the door.
            } else if self.backend == Backend::Kwin {
                self.kwin_up().await;
            } else {
                self.gnome_up().await;
            }
        }
    }

    async fn on_focus(&mut self, msg: &Message) {
        let header = msg.header();
        let parsed = parse_focus(msg);
        if let Some(conn) = &self.session {
            let _ = match &parsed {
                Some(_) => conn.reply(&header, &()).await,
                None => {
                    conn.reply_error(
                        &header,
                        "org.freedesktop.DBus.Error.InvalidArgs",
                        &"Focus takes (app_id: s, title: s, pid: u)",
                    )
                    .await
                }
            };
        }
        let Some((app_id, title, pid)) = parsed else {
            if !self.warned_malformed {
                tracing::warn!(
                    signature = %msg.body().signature(),
                    "ignored a malformed focus report (logged once)"
                );
                self.warned_malformed = true;
            }
            return;
        };
        if !self.uses_door() {
            return;
        }
        // A report proves the script runs: KWin has read its file.
        self.kwin_check_at = None;
        self.kwin_file = None;
        self.kwin_reloads = 0;
        // A report proves the extension runs.
        if self.backend == Backend::Gnome {
            self.extension_seen(gnome::ExtensionReport::active()).await;
        }
        let window = if app_id.is_empty() && title.is_empty() {
            None
        } else {
            let process = pid.filter(|p| *p > 0).and_then(|p| self.procs.name(p));
            Some(window_from_app_id(
                cut(&app_id, MAX_APP_ID),
                cut(&title, super::MAX_TITLE),
                process,
            ))
        };
        self.send(WatchEvent::Focus(window)).await;
    }

    /// A report from the native host (`dwell-native-host`): what the browser extension
    /// says about the focused window's active tab.
    async fn on_tab(&mut self, msg: &Message) {
        let header = msg.header();
        let parsed = msg
            .body()
            .deserialize::<(String, String, bool, bool, bool, u32)>()
            .ok()
            .filter(|(_, host, ..)| host.is_empty() || dwell_core::rules::valid_host(host).is_ok());
        let sender = header.sender().map(|s| s.as_str().to_owned());
        if parsed.is_none() {
            if let Some(conn) = &self.session {
                let _ = conn
                    .reply_error(
                        &header,
                        "org.freedesktop.DBus.Error.InvalidArgs",
                        &"Tab takes (browser: s, host: s (a host name or empty), private: b, audible: b, focused: b, pid: u)",
                    )
                    .await;
            }
        }
        let well_formed = parsed.is_some();
        let (Some((browser, host, private, audible, focused, _pid)), Some(sender)) =
            (parsed, sender)
        else {
            if well_formed {
                // No sender (not through a bus daemon): taken as nothing.
                if let Some(conn) = &self.session {
                    let _ = conn.reply(&header, &HashMap::<String, String>::new()).await;
                }
            }
            if !self.warned_malformed {
                tracing::warn!("ignored a malformed tab report (logged once)");
                self.warned_malformed = true;
            }
            return;
        };
        tracing::debug!(host = %host, private, focused, "tab report");
        // The reply carries the run loop's answer (the pause page, if any).
        let pause = self
            .take_tab(browser, host, private, audible, focused, sender)
            .await;
        let answer = pause.map(|p| p.to_map()).unwrap_or_default();
        if let Some(conn) = &self.session {
            let _ = conn.reply(&header, &answer).await;
        }
    }

    /// Passes a well-formed tab report on to the run loop and waits for its
    /// answer (`None`: nothing to show, or the report did not count).
    async fn take_tab(
        &mut self,
        browser: String,
        host: String,
        private: bool,
        audible: bool,
        focused: bool,
        sender: String,
    ) -> Option<crate::door::Pause> {
        if self.tab_senders.insert(sender.clone()) {
            if let Some(conn) = &self.session {
                let _ = add_match(conn, &leave_rule(&sender)).await;
                // Gone before the match was in place: no signal will come.
                if !has_owner(conn, &sender).await {
                    self.tab_senders.remove(&sender);
                    let _ = remove_match(conn, &leave_rule(&sender)).await;
                    return None;
                }
            }
        }
        let facts = crate::door::TabFacts {
            host: (!host.is_empty() && !private).then_some(host),
            private,
            audible: audible && !private,
            focused,
        };
        let (reply, answer) = crate::door::Answer::new();
        self.send(WatchEvent::Tab {
            browser: cut(&browser, MAX_APP_ID).to_owned(),
            sender,
            facts,
            reply,
        })
        .await;
        // The run loop answers at once (or drops the answer: nothing to show).
        answer.await.ok().flatten()
    }

    /// `PauseResult(s outcome)` from the native host (`dwell-native-host`): what the
    /// employee chose on the pause page.
    async fn on_pause_result(&mut self, msg: &Message) {
        let header = msg.header();
        let outcome = msg
            .body()
            .deserialize::<String>()
            .ok()
            .and_then(|o| crate::door::PauseOutcome::parse(&o));
        if let Some(conn) = &self.session {
            let _ = match outcome {
                Some(_) => conn.reply(&header, &()).await,
                None => {
                    conn.reply_error(
                        &header,
                        "org.freedesktop.DBus.Error.InvalidArgs",
                        &"PauseResult takes (outcome: s, \"continued\" or \"closed\")",
                    )
                    .await
                }
            };
        }
        match outcome {
            Some(o) => self.send(WatchEvent::PauseResult(o)).await,
            None if !self.warned_malformed => {
                tracing::warn!("ignored a malformed pause page outcome (logged once)");
                self.warned_malformed = true;
            }
            None => {}
        }
    }

    async fn on_system(&mut self, msg: &Message) -> bool {
        let header = msg.header();
        if header.message_type() != MsgType::Signal {
            return true;
        }
        let member = header.member().map(|m| m.as_str()).unwrap_or("");
        let iface = header.interface().map(|i| i.as_str()).unwrap_or("");
        let path = header.path().map(|p| p.as_str()).unwrap_or("");
        let ours = self.login_session.as_deref() == Some(path);
        let sender = header.sender().map(|s| s.as_str());
        if trust::signal_owner(iface, member).is_none() {
            return true;
        }
        // Only logind speaks for logind (a signal sent to the agent alone
        // bypasses the match rules' sender), and only the bus for its names.
        if !trust::signal_allowed(iface, member, sender, &self.system_owners) {
            self.refuse(member);
            return true;
        }
        match (iface, member) {
            (DBUS, "NameOwnerChanged") => {
                if let Ok((name, _old, new)) = msg.body().deserialize::<(String, String, String)>()
                {
                    if name == LOGIN1 {
                        self.system_owners.set(&name, &new);
                    }
                }
            }
            (LOGIN1_MANAGER, "PrepareForSleep") => {
                if let Ok(sleeping) = msg.body().deserialize::<bool>() {
                    tracing::info!(sleeping, "suspend");
                    self.send(WatchEvent::Sleeping(sleeping)).await;
                }
            }
            (LOGIN1_SESSION, "Lock") if ours => {
                self.set_lock(LockState {
                    logind: true,
                    ..self.lock
                })
                .await
            }
            (LOGIN1_SESSION, "Unlock") if ours => {
                self.set_lock(LockState {
                    logind: false,
                    ..self.lock
                })
                .await
            }
            (PROPERTIES, "PropertiesChanged") if ours => {
                if let Ok((iface, changed, _)) =
                    msg.body()
                        .deserialize::<(String, HashMap<String, OwnedValue>, Vec<String>)>()
                {
                    if iface == LOGIN1_SESSION {
                        if let Some(v) = changed.get("LockedHint") {
                            if let Ok(locked) = bool::try_from(v) {
                                self.set_lock(LockState {
                                    logind: locked,
                                    ..self.lock
                                })
                                .await;
                            }
                        }
                    }
                }
            }
            _ => {}
        }
        true
    }

    async fn cleanup(&mut self) {
        if self.kwin_loaded {
            if let Some(conn) = &self.session {
                kwin::unload(conn).await;
                tracing::info!("KWin script unloaded");
            }
            self.kwin_loaded = false;
            self.kwin_file = None;
        }
    }
}

/// The match rule that tells when the bus name `name` leaves.
fn leave_rule(name: &str) -> String {
    format!(
        "type='signal',sender='{DBUS}',interface='{DBUS}',member='NameOwnerChanged',arg0='{name}'"
    )
}

/// `(app_id, title, pid)` from a `Focus` call: two strings and an optional
/// number (`u`, `i`, `x`, `t` or `d`: a KWin script passes JavaScript numbers).
fn parse_focus(msg: &Message) -> Option<(String, String, Option<u32>)> {
    let body = msg.body();
    let sig = body.signature().to_string();
    let sig = sig.trim_start_matches('(').trim_end_matches(')');
    let clamp = |v: i64| u32::try_from(v).ok();
    match sig {
        "ss" => body
            .deserialize::<(String, String)>()
            .ok()
            .map(|(a, t)| (a, t, None)),
        "ssu" => body
            .deserialize::<(String, String, u32)>()
            .ok()
            .map(|(a, t, p)| (a, t, Some(p))),
        "ssi" => body
            .deserialize::<(String, String, i32)>()
            .ok()
            .map(|(a, t, p)| (a, t, clamp(i64::from(p)))),
        "ssx" => body
            .deserialize::<(String, String, i64)>()
            .ok()
            .map(|(a, t, p)| (a, t, clamp(p))),
        "sst" => body
            .deserialize::<(String, String, u64)>()
            .ok()
            .map(|(a, t, p)| (a, t, u32::try_from(p).ok())),
        "ssd" => body
            .deserialize::<(String, String, f64)>()
            .ok()
            .map(|(a, t, p)| {
                // A whole number in u32's range: the cast is exact.
                let pid =
                    (p.is_finite() && (1.0..=f64::from(u32::MAX)).contains(&p)).then_some(p as u32);
                (a, t, pid)
            }),
        _ => None,
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

//! Linux: the host reaches the agent over the session bus, at the agent's
//! name ([`crate::door::NAME`], method `Tab`), only when that name's owner is
//! `dwell-agent` ([`crate::watch::trust`]). See the parent module for what
//! crosses it.

use std::collections::HashMap;
use std::io::Write;

use anyhow::{Context, Result};
use futures_lite::StreamExt;
use tokio::sync::mpsc;
use zbus::message::Type as MsgType;
use zbus::{Connection, MessageStream};

use super::{read_input, reply, write_frame, Input, Pause, PauseChoice, TabFacts};
use crate::browser;
use crate::door::{IFACE, NAME, PATH};
use crate::watch::bus;

/// Runs the host until the browser closes the port. `args` are what the
/// browser passed (a Chromium-family browser: the caller's origin; Firefox:
/// the manifest's path and the extension's id).
pub fn run(args: &[String]) -> Result<()> {
    let parent = std::os::unix::process::parent_id();
    let comm = std::fs::read_to_string(format!("/proc/{parent}/comm")).ok();
    let browser = browser::host_browser(comm.as_deref(), args);
    tracing::info!(browser, "native-messaging host started");
    let (tx, rx) = mpsc::channel(16);
    std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || read_input(std::io::stdin().lock(), tx))
        .context("cannot start the thread reading from the browser")?;
    let mut out = std::io::stdout().lock();
    zbus::block_on(serve(browser, parent, rx, &mut out))
}

/// One call to the agent under way: what it was, and its outcome.
type Call = std::pin::Pin<Box<dyn std::future::Future<Output = Sent> + Send>>;

/// What a finished call to the agent says.
enum Sent {
    /// A tab report: whether a dwell agent took it, and the pause page it asks
    /// for (boxed: it is most of the size, and rare).
    Facts(bool, Option<Box<Pause>>),
    /// A pause page's outcome (taken or not).
    PauseResult,
}

enum Next {
    Input(Option<Input>),
    Bus(Option<zbus::Result<zbus::Message>>),
    Sent(Sent),
}

async fn next_bus(stream: &mut Option<MessageStream>) -> Option<zbus::Result<zbus::Message>> {
    match stream {
        Some(s) => s.next().await,
        None => std::future::pending().await,
    }
}

async fn next_sent(call: &mut Option<Call>) -> Sent {
    match call {
        Some(c) => c.await,
        None => std::future::pending().await,
    }
}

/// The host's state between messages. The bus connection is read all the time
/// (its one stream carries only `NameOwnerChanged` for the agent's name; call
/// replies go to the calls waiting for them), and at most one call to the agent
/// is under way: facts that arrive meanwhile replace the ones waiting, so a
/// burst of any size ends with the last facts delivered, never with a queue.
struct Host<'a> {
    browser: &'a str,
    pid: u32,
    conn: Option<Connection>,
    stream: Option<MessageStream>,
    /// The last facts from the browser, and whether the agent has them yet.
    last: Option<TabFacts>,
    unsent: bool,
    /// Pause page outcomes to pass on, in order.
    outcomes: std::collections::VecDeque<PauseChoice>,
    call: Option<Call>,
    told: Option<bool>,
    dropped: u64,
    warned_bus: bool,
}

async fn serve(
    browser: &str,
    pid: u32,
    mut rx: mpsc::Receiver<Input>,
    out: &mut impl Write,
) -> Result<()> {
    let mut host = Host {
        browser,
        pid,
        conn: None,
        stream: None,
        last: None,
        unsent: false,
        outcomes: Default::default(),
        call: None,
        told: None,
        dropped: 0,
        warned_bus: false,
    };
    let mut input_open = true;
    loop {
        host.ensure_connected().await;
        host.start_call();
        if !input_open && host.call.is_none() {
            break;
        }
        // The call and the bus first: a browser that never stops writing must
        // not keep the replies from being read.
        let next = futures_lite::future::or(
            async { Next::Sent(next_sent(&mut host.call).await) },
            futures_lite::future::or(
                async { Next::Bus(next_bus(&mut host.stream).await) },
                async {
                    if input_open {
                        Next::Input(rx.recv().await)
                    } else {
                        std::future::pending().await
                    }
                },
            ),
        )
        .await;
        match next {
            Next::Input(None) | Next::Input(Some(Input::End(None))) => input_open = false,
            Next::Input(Some(Input::End(Some(e)))) => {
                tracing::warn!(error = %e, "the browser's messages broke off");
                input_open = false;
            }
            Next::Input(Some(input)) => host.take(input),
            Next::Bus(Some(Ok(msg))) => {
                // The agent (re)appeared on the bus: give it the current facts.
                let back = msg.message_type() == MsgType::Signal
                    && msg
                        .body()
                        .deserialize::<(String, String, String)>()
                        .is_ok_and(|(name, _, new)| name == NAME && !new.is_empty());
                host.unsent |= back && host.last.is_some();
            }
            Next::Bus(_) => {
                host.conn = None;
                host.stream = None;
            }
            Next::Sent(sent) => {
                host.call = None;
                host.answer(sent, out)?;
            }
        }
    }
    tracing::info!(
        dropped = host.dropped,
        "the browser closed the port; native-messaging host done"
    );
    Ok(())
}

impl Host<'_> {
    async fn ensure_connected(&mut self) {
        if self.conn.is_some() {
            return;
        }
        match connect().await {
            Ok((c, s)) => {
                self.conn = Some(c);
                self.stream = Some(s);
            }
            Err(e) if !self.warned_bus => {
                tracing::warn!(error = %e, "cannot use the session bus; dwell is off for this browser");
                self.warned_bus = true;
            }
            Err(_) => {}
        }
    }

    /// One message from the browser.
    fn take(&mut self, input: Input) {
        match input {
            Input::Dropped(why) => {
                self.dropped += 1;
                // Once, then counted (the count is logged at the end): a
                // browser sending junk must not fill the log.
                if self.dropped == 1 {
                    tracing::info!(reason = %why, "dropped a message from the browser (logged once, then counted)");
                }
            }
            Input::Facts(facts) => {
                self.last = Some(facts);
                self.unsent = true;
            }
            Input::PauseResult(outcome) => self.outcomes.push_back(outcome),
            Input::End(_) => {}
        }
    }

    /// Starts the next call to the agent, if none is under way and there is
    /// something to say: outcomes first, then the last facts.
    fn start_call(&mut self) {
        if self.call.is_some() {
            return;
        }
        let conn = self.conn.clone();
        if let Some(outcome) = self.outcomes.pop_front() {
            self.call = Some(Box::pin(async move {
                if let Some(c) = conn {
                    if let Err(e) = send_pause_result(&c, outcome).await {
                        tracing::info!(error = %e, "the agent did not take the pause page's outcome");
                    }
                }
                Sent::PauseResult
            }));
            return;
        }
        let Some(facts) = self.last.clone().filter(|_| self.unsent) else {
            return;
        };
        self.unsent = false;
        let (browser, pid) = (self.browser.to_owned(), self.pid);
        self.call = Some(Box::pin(async move {
            match conn {
                Some(c) => {
                    let (on, pause) = deliver(&c, &browser, pid, &facts).await;
                    Sent::Facts(on, pause.map(Box::new))
                }
                None => Sent::Facts(false, None),
            }
        }));
    }

    /// Tells the browser what a finished call means for it.
    fn answer(&mut self, sent: Sent, out: &mut impl Write) -> Result<()> {
        let Sent::Facts(on, pause) = sent else {
            return Ok(());
        };
        if self.told != Some(on) {
            write_frame(out, reply(on)).context("cannot answer the browser")?;
            tracing::info!(on, "dwell agent reachable");
            self.told = Some(on);
        }
        if let Some(pause) = pause {
            write_frame(out, &pause.to_message()).context("cannot answer the browser")?;
            tracing::info!("pause page asked for");
        }
        Ok(())
    }
}

async fn connect() -> zbus::Result<(Connection, MessageStream)> {
    let conn = bus::session().await?;
    // A stream for this one rule (never the connection's every message, which
    // would queue the replies too): the match rule goes with the stream.
    let rule = format!(
        "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='{}'",
        NAME
    );
    let stream = MessageStream::for_match_rule(rule.as_str(), &conn, None).await?;
    Ok((conn, stream))
}

/// Whether the owner of the agent's name is a dwell agent (its process is
/// `dwell-agent`): only then do the browser's facts go there.
async fn owner_is_agent(conn: &Connection) -> bool {
    let program = crate::watch::trust::program_behind(conn, NAME).await;
    let ok = crate::watch::trust::is_agent(program.as_deref());
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !ok && program.is_some() && !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        tracing::warn!(
            name = NAME,
            "another program owns the agent's bus name; nothing is sent to it (logged once)"
        );
    }
    ok
}

/// `PauseResultFor(outcome, page)`, or `PauseResult(outcome)` for a choice
/// without a page (an extension from before page ids).
async fn send_pause_result(conn: &Connection, choice: PauseChoice) -> zbus::Result<()> {
    if !owner_is_agent(conn).await {
        return Err(zbus::Error::Failure("no dwell agent on the bus".into()));
    }
    let outcome = choice.outcome.as_str();
    match choice.page {
        Some(page) => {
            let body = (outcome, page.to_string());
            conn.call_method(Some(NAME), PATH, Some(IFACE), "PauseResultFor", &body)
                .await
        }
        None => {
            conn.call_method(Some(NAME), PATH, Some(IFACE), "PauseResult", &(outcome,))
                .await
        }
    }
    .map(|_| ())
}

/// Hands the facts to the agent: whether an agent took them, and the pause
/// page it asks for, if any (an agent from before the pause page answers
/// nothing, which is "no pause page").
async fn deliver(
    conn: &Connection,
    browser: &str,
    pid: u32,
    facts: &TabFacts,
) -> (bool, Option<Pause>) {
    if !owner_is_agent(conn).await {
        return (false, None);
    }
    let body = (
        browser,
        facts.host.as_deref().unwrap_or(""),
        facts.private,
        facts.audible,
        facts.focused,
        pid,
    );
    match conn
        .call_method(Some(NAME), PATH, Some(IFACE), "Tab", &body)
        .await
    {
        Ok(reply) => {
            let pause = reply
                .body()
                .deserialize::<HashMap<String, String>>()
                .ok()
                .and_then(Pause::from_map);
            (true, pause)
        }
        Err(_) => (false, None),
    }
}

//! Linux: the host reaches the agent over the session bus, at the agent's
//! name ([`crate::door::NAME`], method `Tab`), only when that name's owner is
//! `dwell-agent` ([`crate::watch::trust`]); when the agent appears on the
//! bus later, it is given the last facts again. See the parent module for
//! what crosses it, and `relay.rs` for the loop this is the way of.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use anyhow::Result;
use futures_lite::StreamExt;
use zbus::message::Type as MsgType;
use zbus::{Connection, MessageStream};

use super::relay::{self, Sent, Transport};
use super::{Pause, PauseChoice, TabFacts};
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
    let rx = relay::stdin()?;
    let mut out = std::io::stdout().lock();
    let bus = Bus {
        browser,
        pid: parent,
        conn: None,
        stream: None,
        warned: false,
    };
    zbus::block_on(relay::relay(bus, rx, &mut out))
}

/// One call to the agent under way.
type Call = Pin<Box<dyn Future<Output = ((), Sent<zbus::Error>)> + Send>>;

/// The way to the agent over the session bus. The connection is read all the
/// time (its one stream carries only `NameOwnerChanged` for the agent's name;
/// call replies go to the calls waiting for them).
struct Bus<'a> {
    browser: &'a str,
    pid: u32,
    conn: Option<Connection>,
    stream: Option<MessageStream>,
    /// The bus could not be used (said once).
    warned: bool,
}

impl Transport for Bus<'_> {
    type Held = ();
    type Error = zbus::Error;
    type Call = Call;

    async fn connect(&mut self) {
        if self.conn.is_some() {
            return;
        }
        match connect().await {
            Ok((c, s)) => {
                self.conn = Some(c);
                self.stream = Some(s);
            }
            Err(e) if !self.warned => {
                tracing::warn!(error = %e, "cannot use the session bus; dwell is off for this browser");
                self.warned = true;
            }
            Err(_) => {}
        }
    }

    fn tab(&mut self, facts: &TabFacts) -> Call {
        let (conn, browser, pid, facts) = (
            self.conn.clone(),
            self.browser.to_owned(),
            self.pid,
            facts.clone(),
        );
        Box::pin(async move {
            let result = match conn {
                Some(c) => deliver(&c, &browser, pid, &facts)
                    .await
                    .map(|p| p.map(Box::new)),
                None => Err(zbus::Error::Failure("no session bus".into())),
            };
            ((), Sent::Facts(result))
        })
    }

    fn pause_result(&mut self, choice: PauseChoice) -> Call {
        let conn = self.conn.clone();
        Box::pin(async move {
            if let Some(c) = conn {
                if let Err(e) = send_pause_result(&c, choice).await {
                    tracing::info!(error = %e, "the agent did not take the pause page's outcome");
                }
            }
            ((), Sent::PauseResult)
        })
    }

    /// The agent (re)appeared on the bus: give it the current facts.
    async fn news(&mut self) -> bool {
        let Some(stream) = self.stream.as_mut() else {
            return std::future::pending().await;
        };
        match stream.next().await {
            Some(Ok(msg)) => {
                msg.message_type() == MsgType::Signal
                    && msg
                        .body()
                        .deserialize::<(String, String, String)>()
                        .is_ok_and(|(name, _, new)| name == NAME && !new.is_empty())
            }
            _ => {
                self.conn = None;
                self.stream = None;
                false
            }
        }
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

/// Hands the facts to the agent: the pause page it asks for, if any (an
/// agent from before the pause page answers nothing, which is "no pause
/// page"), or why no agent took them.
async fn deliver(
    conn: &Connection,
    browser: &str,
    pid: u32,
    facts: &TabFacts,
) -> zbus::Result<Option<Pause>> {
    if !owner_is_agent(conn).await {
        return Err(zbus::Error::Failure("no dwell agent on the bus".into()));
    }
    let body = (
        browser,
        facts.host.as_deref().unwrap_or(""),
        facts.private,
        facts.audible,
        facts.focused,
        pid,
    );
    let reply = conn
        .call_method(Some(NAME), PATH, Some(IFACE), "Tab", &body)
        .await?;
    Ok(reply
        .body()
        .deserialize::<HashMap<String, String>>()
        .ok()
        .and_then(Pause::from_map))
}

//! `dwell-agent native-host`: the native-messaging host that dwell's browser
//! extension talks to. The browser starts it (with the caller's origin as an
//! argument) and keeps it while the extension's port is open.
//!
//! - **In:** length-prefixed JSON on stdin, as the browsers define it (a `u32`
//!   length in native byte order, then that many bytes of UTF-8 JSON). Each
//!   message must be at most [`MAX_MESSAGE`] bytes and a JSON object with at
//!   most `host` (a bare host name, see [`dwell_core::rules::valid_host`], or
//!   null), `private`, `audible` and `focused` (booleans). Anything else is
//!   dropped and counted; its content is never logged.
//! - **On:** the facts go to the running agent over its session-bus name
//!   ([`crate::watch::bus::NAME`], method `Tab`), the same door the KWin script
//!   and the GNOME extension use. No socket of its own. When the agent appears
//!   on the bus later, the last facts are sent again.
//! - **Out:** `{"dwell":"on"}` or `{"dwell":"off"}` (no agent running), framed
//!   the same way, each time that changes.
//!
//! The host exits cleanly when the browser closes the port (end of stdin).

use std::io::{Read, Write};

use anyhow::{Context, Result};
use futures_lite::StreamExt;
use serde::Deserialize;
use tokio::sync::mpsc;
use zbus::message::Type as MsgType;
use zbus::{Connection, MessageStream};

use crate::browser;
use crate::watch::bus;

/// The largest message accepted from the browser, in bytes.
pub const MAX_MESSAGE: usize = 4096;

/// What the extension reports about the focused window's active tab.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TabFacts {
    /// The tab's host name (`None`: a page with no host, or a private window).
    pub host: Option<String>,
    /// The window is private (incognito): not counted.
    pub private: bool,
    /// The tab plays sound.
    pub audible: bool,
    /// A browser window has focus (as the browser sees it).
    pub focused: bool,
}

/// Why a message from the browser was dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    #[error("the message is larger than {MAX_MESSAGE} bytes")]
    TooLarge,
    #[error("the message is not a JSON object of host, private, audible and focused")]
    NotFacts,
    #[error("the host is not a host name: {0}")]
    BadHost(dwell_core::rules::HostError),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFacts {
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    private: bool,
    #[serde(default)]
    audible: bool,
    #[serde(default)]
    focused: bool,
}

/// Checks one message's bytes (without its length prefix).
pub fn parse_message(bytes: &[u8]) -> Result<TabFacts, Rejected> {
    if bytes.len() > MAX_MESSAGE {
        return Err(Rejected::TooLarge);
    }
    let raw: RawFacts = serde_json::from_slice(bytes).map_err(|_| Rejected::NotFacts)?;
    if raw.private {
        // A private window: nothing about it but that it is private.
        return Ok(TabFacts {
            host: None,
            private: true,
            audible: false,
            focused: raw.focused,
        });
    }
    let host = match raw.host {
        Some(h) if !h.is_empty() => {
            dwell_core::rules::valid_host(&h).map_err(Rejected::BadHost)?;
            Some(h)
        }
        _ => None,
    };
    Ok(TabFacts {
        host,
        private: false,
        audible: raw.audible,
        focused: raw.focused,
    })
}

/// One frame read from the browser.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A message of at most [`MAX_MESSAGE`] bytes.
    Message(Vec<u8>),
    /// A larger message, read and thrown away.
    TooLarge,
}

/// Reads the next frame; `None` at a clean end of input (the browser closed
/// the port). A stream that ends inside a frame is an error.
pub fn read_frame(r: &mut impl Read) -> std::io::Result<Option<Frame>> {
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < len.len() {
        match r.read(&mut len[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let len = u64::from(u32::from_ne_bytes(len));
    if len > MAX_MESSAGE as u64 {
        let skipped = std::io::copy(&mut r.take(len), &mut std::io::sink())?;
        if skipped < len {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        return Ok(Some(Frame::TooLarge));
    }
    let mut buf = vec![0u8; len as usize];
    r.read_exact(&mut buf)?;
    Ok(Some(Frame::Message(buf)))
}

/// Writes one frame.
pub fn write_frame(w: &mut impl Write, message: &[u8]) -> std::io::Result<()> {
    let len = u32::try_from(message.len())
        .map_err(|_| std::io::Error::other("a reply larger than 4 GB"))?;
    w.write_all(&len.to_ne_bytes())?;
    w.write_all(message)?;
    w.flush()
}

/// The reply telling the extension whether the agent got its facts.
pub fn reply(on: bool) -> &'static [u8] {
    if on {
        br#"{"dwell":"on"}"#
    } else {
        br#"{"dwell":"off"}"#
    }
}

/// What the stdin thread passes on.
enum Input {
    Facts(TabFacts),
    Dropped(Rejected),
    End(Option<std::io::Error>),
}

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

fn read_input(mut input: impl Read, tx: mpsc::Sender<Input>) {
    loop {
        let item = match read_frame(&mut input) {
            Ok(None) => Input::End(None),
            Ok(Some(Frame::TooLarge)) => Input::Dropped(Rejected::TooLarge),
            Ok(Some(Frame::Message(bytes))) => match parse_message(&bytes) {
                Ok(facts) => Input::Facts(facts),
                Err(e) => Input::Dropped(e),
            },
            Err(e) => Input::End(Some(e)),
        };
        let end = matches!(item, Input::End(_));
        if tx.blocking_send(item).is_err() || end {
            return;
        }
    }
}

enum Next {
    Input(Option<Input>),
    Bus(Option<zbus::Result<zbus::Message>>),
}

async fn next_bus(stream: &mut Option<MessageStream>) -> Option<zbus::Result<zbus::Message>> {
    match stream {
        Some(s) => s.next().await,
        None => std::future::pending().await,
    }
}

async fn serve(
    browser: &str,
    pid: u32,
    mut rx: mpsc::Receiver<Input>,
    out: &mut impl Write,
) -> Result<()> {
    let mut conn: Option<Connection> = None;
    let mut stream: Option<MessageStream> = None;
    let mut last: Option<TabFacts> = None;
    let mut told: Option<bool> = None;
    let mut dropped: u64 = 0;
    let mut warned = false;
    loop {
        if conn.is_none() {
            match connect().await {
                Ok((c, s)) => {
                    conn = Some(c);
                    stream = Some(s);
                }
                Err(e) if !warned => {
                    tracing::warn!(error = %e, "cannot use the session bus; dwell is off for this browser");
                    warned = true;
                }
                Err(_) => {}
            }
        }
        let next = futures_lite::future::or(async { Next::Input(rx.recv().await) }, async {
            Next::Bus(next_bus(&mut stream).await)
        })
        .await;
        let deliver_last = match next {
            Next::Input(None) | Next::Input(Some(Input::End(None))) => break,
            Next::Input(Some(Input::End(Some(e)))) => {
                tracing::warn!(error = %e, "the browser's messages broke off");
                break;
            }
            Next::Input(Some(Input::Dropped(why))) => {
                dropped += 1;
                tracing::info!(dropped, reason = %why, "dropped a message from the browser");
                false
            }
            Next::Input(Some(Input::Facts(facts))) => {
                last = Some(facts);
                true
            }
            Next::Bus(Some(Ok(msg))) => {
                // The agent (re)appeared on the bus: give it the current facts.
                msg.message_type() == MsgType::Signal
                    && msg
                        .body()
                        .deserialize::<(String, String, String)>()
                        .is_ok_and(|(name, _, new)| name == bus::NAME && !new.is_empty())
            }
            Next::Bus(_) => {
                conn = None;
                stream = None;
                false
            }
        };
        if !deliver_last {
            continue;
        }
        let Some(facts) = &last else { continue };
        let on = match &conn {
            Some(c) => deliver(c, browser, pid, facts).await,
            None => false,
        };
        if told != Some(on) {
            write_frame(out, reply(on)).context("cannot answer the browser")?;
            tracing::info!(on, "dwell agent reachable");
            told = Some(on);
        }
    }
    tracing::info!(
        dropped,
        "the browser closed the port; native-messaging host done"
    );
    Ok(())
}

async fn connect() -> zbus::Result<(Connection, MessageStream)> {
    let conn = bus::session().await?;
    let stream = MessageStream::from(&conn);
    bus::add_match(
        &conn,
        &format!(
            "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='{}'",
            bus::NAME
        ),
    )
    .await?;
    Ok((conn, stream))
}

/// Hands the facts to the agent; `false` when no agent took them.
async fn deliver(conn: &Connection, browser: &str, pid: u32, facts: &TabFacts) -> bool {
    let body = (
        browser,
        facts.host.as_deref().unwrap_or(""),
        facts.private,
        facts.audible,
        facts.focused,
        pid,
    );
    conn.call_method(Some(bus::NAME), bus::PATH, Some(bus::IFACE), "Tab", &body)
        .await
        .is_ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn frame(body: &[u8]) -> Vec<u8> {
        let mut v = (body.len() as u32).to_ne_bytes().to_vec();
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn good_messages_become_facts() {
        let f = parse_message(
            br#"{"host":"old.reddit.com","private":false,"audible":true,"focused":true}"#,
        )
        .unwrap();
        assert_eq!(
            f,
            TabFacts {
                host: Some("old.reddit.com".into()),
                private: false,
                audible: true,
                focused: true
            }
        );
        let f = parse_message(br#"{"host":null,"focused":false}"#).unwrap();
        assert_eq!(f, TabFacts::default());
        // A private window: the host, if any, is forgotten.
        let f = parse_message(br#"{"private":true,"host":"x.com","audible":true,"focused":true}"#)
            .unwrap();
        assert_eq!(
            f,
            TabFacts {
                host: None,
                private: true,
                audible: false,
                focused: true
            }
        );
    }

    #[test]
    fn bad_messages_are_dropped() {
        for bad in [
            &br#"{"host":"reddit.com/r/secret?token=1"}"#[..],
            br#"{"host":"Reddit.com"}"#,
            br#"{"host":"reddit.com:8080"}"#,
            br#"{"host":"me@reddit.com"}"#,
        ] {
            assert!(
                matches!(parse_message(bad), Err(Rejected::BadHost(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        for bad in [
            &b"not json"[..],
            b"[1,2]",
            b"\"reddit.com\"",
            br#"{"host":"a.com","url":"https://a.com/x"}"#,
            br#"{"host":1}"#,
            br#"{"private":"yes"}"#,
            b"\xff\xfe",
        ] {
            assert_eq!(parse_message(bad), Err(Rejected::NotFacts));
        }
        let big = format!(r#"{{"host":"a.com","pad":"{}"}}"#, "x".repeat(MAX_MESSAGE));
        assert_eq!(parse_message(big.as_bytes()), Err(Rejected::TooLarge));
    }

    #[test]
    fn frames_are_read_and_oversized_ones_skipped() {
        let mut input = frame(br#"{"host":"a.com"}"#);
        input.extend(frame(&vec![b' '; MAX_MESSAGE + 1]));
        input.extend(frame(b"{}"));
        let mut r = &input[..];
        assert_eq!(
            read_frame(&mut r).unwrap(),
            Some(Frame::Message(br#"{"host":"a.com"}"#.to_vec()))
        );
        assert_eq!(read_frame(&mut r).unwrap(), Some(Frame::TooLarge));
        assert_eq!(
            read_frame(&mut r).unwrap(),
            Some(Frame::Message(b"{}".to_vec()))
        );
        assert_eq!(read_frame(&mut r).unwrap(), None);
        // Cut inside a frame: an error, not a hang or a panic.
        let cut = &frame(b"{}")[..5];
        assert!(read_frame(&mut &cut[..]).is_err());
        assert!(read_frame(&mut &[1u8, 0][..]).is_err());
    }

    #[test]
    fn replies_are_framed_json() {
        let mut out = Vec::new();
        write_frame(&mut out, reply(false)).unwrap();
        let mut r = &out[..];
        let Some(Frame::Message(body)) = read_frame(&mut r).unwrap() else {
            panic!("no frame")
        };
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v, serde_json::json!({"dwell": "off"}));
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let _ = parse_message(&bytes);
            let _ = read_frame(&mut &bytes[..]);
        }

        #[test]
        fn json_like_input_never_panics(s in "\\{\"(host|private|audible|focused)\":(\"\\PC{0,40}\"|true|false|null|[0-9]{1,5})\\}") {
            if let Ok(f) = parse_message(s.as_bytes()) {
                if let Some(h) = f.host {
                    proptest::prop_assert!(dwell_core::rules::valid_host(&h).is_ok());
                }
            }
        }
    }
}

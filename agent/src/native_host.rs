//! The native-messaging host that dwell's browser extension talks to: the small
//! `dwell-native-host` program (`agent/src/bin/`), which the manifests written
//! by `browser install` run, and also `dwell-agent native-host` (or
//! `dwell-agent` started by a browser directly, for older manifests). The
//! browser starts it (with the caller's origin as an argument) and keeps it
//! while the extension's port is open. What runs here must not pull the rest
//! of the agent (command line, watchers, tray, store) into that program.
//!
//! - **In:** length-prefixed JSON on stdin, as the browsers define it (a `u32`
//!   length in native byte order, then that many bytes of UTF-8 JSON). Each
//!   message must be at most [`MAX_MESSAGE`] bytes and a JSON object: either
//!   tab facts, with at most `host` (a bare host name, see
//!   [`dwell_core::rules::valid_host`], or null), `private`, `audible` and
//!   `focused` (booleans); or the employee's choice on the pause page,
//!   `{"pause_result": "continued"|"closed", "page": "…"}`, where `page` is
//!   the id the pause page came with ([`crate::door::PageId`]; an extension
//!   from before page ids leaves it out). Anything else is dropped and
//!   counted; its content is never logged.
//! - **On:** the facts go to the running agent; a choice too. On Linux
//!   (`bus`) over its session-bus name ([`crate::door::NAME`], methods `Tab`
//!   and `PauseResultFor`, or `PauseResult` for a choice without a page), the same door the KWin script and the GNOME extension
//!   use, only to an owner of that name whose process is `dwell-agent`; when
//!   the agent appears on the bus later, the last facts are sent again, and
//!   the connection is read all the time (its one stream carries only the
//!   agent's `NameOwnerChanged`). On Windows (`pipe`) over the agent's named
//!   pipe ([`crate::pipe`]), only to a server whose process is
//!   `dwell-agent.exe`, tried again while facts wait and no agent answers.
//!   Either way: no socket of its own, one call at a time, each with a
//!   timeout; facts arriving meanwhile replace the waiting ones, so a burst of
//!   any size ends with the last facts delivered. Dropped messages are logged
//!   once, then counted.
//! - **Out:** `{"dwell":"on"}` or `{"dwell":"off"}` (no agent running), framed
//!   the same way, each time that changes; and `{"pause": {...}}` ([`Pause`])
//!   when the agent's answer to a tab report is to show the pause page. Only
//!   words and figures the agent formatted go out: never a host name or an
//!   address.
//!
//! The host exits cleanly when the browser closes the port (end of stdin).

use std::io::{IsTerminal, Read, Write};

use serde::Deserialize;
use tokio::sync::mpsc;
use tracing::level_filters::LevelFilter;

pub use crate::door::{Answer, PageId, Pause, PauseChoice, PauseOutcome, TabFacts};

/// How the host reaches the agent: Linux, the session bus
/// (`native_host/bus.rs`); Windows, a named pipe (`native_host/pipe.rs`).
/// Both are `run(args)`, each a [`relay::Transport`] for the one loop
/// between the browser and the agent (`native_host/relay.rs`).
#[cfg(target_os = "linux")]
mod bus;
#[cfg(target_os = "linux")]
pub use bus::run;
#[cfg(windows)]
mod pipe;
#[cfg(windows)]
pub use pipe::run;
mod relay;

/// The largest message accepted from the browser, in bytes.
pub const MAX_MESSAGE: usize = 4096;

/// A message from the extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FromBrowser {
    /// What the focused window's active tab is.
    Facts(TabFacts),
    /// What the employee chose on the pause page, and on which page.
    PauseResult(PauseChoice),
}

/// Why a message from the browser was dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    #[error("the message is larger than {MAX_MESSAGE} bytes")]
    TooLarge,
    #[error("the message is not a JSON object of host, private, audible and focused, nor a pause_result")]
    NotFacts,
    #[error("the host is not a host name: {0}")]
    BadHost(dwell_core::rules::HostError),
    #[error("the pause_result is neither \"continued\" nor \"closed\"")]
    BadOutcome,
    #[error("the pause_result's page is not a page id (1 to 20 digits)")]
    BadPage,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPauseResult {
    pause_result: String,
    #[serde(default)]
    page: Option<String>,
}

/// Checks one message's bytes (without its length prefix).
pub fn parse_message(bytes: &[u8]) -> Result<FromBrowser, Rejected> {
    if bytes.len() > MAX_MESSAGE {
        return Err(Rejected::TooLarge);
    }
    // An object, and only an object: serde would also fill the structs below
    // from a JSON array of their fields in order.
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(bytes).map_err(|_| Rejected::NotFacts)?;
    let value = serde_json::Value::Object(object);
    if let Ok(raw) = RawPauseResult::deserialize(&value) {
        let outcome = PauseOutcome::parse(&raw.pause_result).ok_or(Rejected::BadOutcome)?;
        let page = match raw.page {
            Some(p) => Some(PageId::parse(&p).ok_or(Rejected::BadPage)?),
            None => None,
        };
        return Ok(FromBrowser::PauseResult(PauseChoice { outcome, page }));
    }
    parse_facts(&value).map(FromBrowser::Facts)
}

/// Checks a tab report (a JSON object).
fn parse_facts(value: &serde_json::Value) -> Result<TabFacts, Rejected> {
    let raw = RawFacts::deserialize(value).map_err(|_| Rejected::NotFacts)?;
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
    PauseResult(PauseChoice),
    Dropped(Rejected),
    End(Option<std::io::Error>),
}

/// The most verbose level named in `DWELL_LOG` (`info` when it is unset or
/// names none). The host takes the plain level only: a per-target directive
/// (`dwell_agent=debug`) counts as its level. This keeps tracing-subscriber's
/// `EnvFilter` (and the regular-expression engine under it) out of the small
/// `dwell-native-host` binary.
pub fn log_level(spec: Option<&str>) -> LevelFilter {
    spec.into_iter()
        .flat_map(|s| s.split(','))
        .filter_map(|d| d.rsplit('=').next())
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.parse::<LevelFilter>().ok())
        .max()
        .unwrap_or(LevelFilter::INFO)
}

/// Logs to standard error (the browser passes it on to its own), at
/// [`log_level`] of `DWELL_LOG`.
pub fn init_logging() {
    let level = log_level(std::env::var("DWELL_LOG").ok().as_deref());
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

/// Reads the browser's frames from `input` and passes them on to `tx`, until
/// the end of input (or the host's end stops listening).
fn read_input(mut input: impl Read, tx: mpsc::Sender<Input>) {
    loop {
        let item = match read_frame(&mut input) {
            Ok(None) => Input::End(None),
            Ok(Some(Frame::TooLarge)) => Input::Dropped(Rejected::TooLarge),
            Ok(Some(Frame::Message(bytes))) => match parse_message(&bytes) {
                Ok(FromBrowser::Facts(facts)) => Input::Facts(facts),
                Ok(FromBrowser::PauseResult(choice)) => Input::PauseResult(choice),
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn facts(bytes: &[u8]) -> Result<TabFacts, Rejected> {
        match parse_message(bytes)? {
            FromBrowser::Facts(f) => Ok(f),
            other => panic!("not facts: {other:?}"),
        }
    }

    fn frame(body: &[u8]) -> Vec<u8> {
        let mut v = (body.len() as u32).to_ne_bytes().to_vec();
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn good_messages_become_facts() {
        let f =
            facts(br#"{"host":"old.reddit.com","private":false,"audible":true,"focused":true}"#)
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
        let f = facts(br#"{"host":null,"focused":false}"#).unwrap();
        assert_eq!(f, TabFacts::default());
        // A private window: the host, if any, is forgotten.
        let f = facts(br#"{"private":true,"host":"x.com","audible":true,"focused":true}"#).unwrap();
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
                matches!(facts(bad), Err(Rejected::BadHost(_))),
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
            // Arrays of the fields in order (serde would take them for the structs).
            br#"["old.reddit.com",false,true,true]"#,
            br#"[null,false,false,true]"#,
            br#"["closed"]"#,
            b"[]",
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
    fn the_log_level_is_the_most_verbose_one_named() {
        assert_eq!(log_level(None), LevelFilter::INFO);
        assert_eq!(log_level(Some("")), LevelFilter::INFO);
        assert_eq!(log_level(Some("debug")), LevelFilter::DEBUG);
        assert_eq!(log_level(Some("WARN")), LevelFilter::WARN);
        assert_eq!(log_level(Some("off")), LevelFilter::OFF);
        assert_eq!(
            log_level(Some("warn,dwell_agent=trace")),
            LevelFilter::TRACE
        );
        assert_eq!(log_level(Some("zbus=debug")), LevelFilter::DEBUG);
        assert_eq!(log_level(Some("nonsense")), LevelFilter::INFO);
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

    #[test]
    fn pause_results_are_read_and_anything_else_dropped() {
        let choice = |outcome, page: Option<&str>| {
            Ok(FromBrowser::PauseResult(PauseChoice {
                outcome,
                page: page.and_then(PageId::parse),
            }))
        };
        assert_eq!(
            parse_message(br#"{"pause_result":"continued"}"#),
            choice(PauseOutcome::Continued, None)
        );
        assert_eq!(
            parse_message(br#"{"pause_result":"closed"}"#),
            choice(PauseOutcome::Closed, None)
        );
        // With the page it was chosen on (null: none).
        assert_eq!(
            parse_message(br#"{"pause_result":"closed","page":"1764064800000"}"#),
            choice(PauseOutcome::Closed, Some("1764064800000"))
        );
        assert_eq!(
            parse_message(br#"{"page":null,"pause_result":"continued"}"#),
            choice(PauseOutcome::Continued, None)
        );
        for bad in [
            &br#"{"pause_result":"closed","page":""}"#[..],
            br#"{"pause_result":"closed","page":"12a"}"#,
            br#"{"pause_result":"closed","page":"123456789012345678901"}"#,
        ] {
            assert_eq!(parse_message(bad), Err(Rejected::BadPage));
        }
        for bad in [
            &br#"{"pause_result":"Continued"}"#[..],
            br#"{"pause_result":""}"#,
        ] {
            assert_eq!(parse_message(bad), Err(Rejected::BadOutcome));
        }
        for bad in [
            &br#"{"pause_result":"closed","url":"https://a.com/x"}"#[..],
            br#"{"pause_result":1}"#,
            br#"{"pause_result":"closed","host":"a.com"}"#,
            br#"{"pause_result":"closed","page":12}"#,
        ] {
            assert_eq!(parse_message(bad), Err(Rejected::NotFacts));
        }
        for o in [PauseOutcome::Continued, PauseOutcome::Closed] {
            assert_eq!(PauseOutcome::parse(o.as_str()), Some(o));
        }
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let _ = parse_message(&bytes);
            let _ = read_frame(&mut &bytes[..]);
        }

        #[test]
        fn json_like_input_never_panics(s in "\\{\"(host|private|audible|focused|pause_result)\":(\"\\PC{0,40}\"|true|false|null|[0-9]{1,5})\\}") {
            if let Ok(FromBrowser::Facts(f)) = parse_message(s.as_bytes()) {
                if let Some(h) = f.host {
                    proptest::prop_assert!(dwell_core::rules::valid_host(&h).is_ok());
                }
            }
        }

        #[test]
        fn pause_results_never_panic(s in "\\{\"pause_result\":(\"\\PC{0,20}\"|true|null|[0-9]{1,5})(,\"(host|url|pause_result|page)\":\"\\PC{0,10}\")?\\}") {
            match parse_message(s.as_bytes()) {
                Ok(FromBrowser::PauseResult(c)) => {
                    proptest::prop_assert!(s.contains(c.outcome.as_str()));
                    if let Some(p) = c.page {
                        proptest::prop_assert!(s.contains(&p.to_string()));
                    }
                }
                Ok(FromBrowser::Facts(f)) => proptest::prop_assert!(false, "facts from {s}: {f:?}"),
                Err(_) => {}
            }
        }

        #[test]
        fn pause_dictionaries_never_panic(
            entries in proptest::collection::hash_map("(today|limit|line|lang|continue|close|site|breath|page|url|\\PC{0,8})", "(\\PC{0,30}|[0-9]{1,21})", 0..12)
        ) {
            if let Some(p) = Pause::from_map(entries.clone()) {
                // `site`, `breath` and `page` are optional (an older agent
                // sends none): they come back empty.
                let mut expected = entries.clone();
                for key in ["site", "breath", "page"] {
                    expected.entry(key.to_owned()).or_default();
                }
                proptest::prop_assert_eq!(p.to_map(), expected);
                let v: serde_json::Value = serde_json::from_slice(&p.to_message()).unwrap();
                proptest::prop_assert!(v["pause"].is_object());
            }
        }
    }
}

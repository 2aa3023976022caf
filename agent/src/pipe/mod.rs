//! The door on Windows: how dwell's native-messaging host reaches the running
//! agent there, over a named pipe where Linux uses the session bus
//! ([`crate::watch::bus`], methods `Tab`, `PauseResult` and `PauseResultFor`). This module holds
//! what both ends agree on, compiled on every platform so that its tests run
//! everywhere: the pipe's name, the messages and their checks, and who may be
//! at either end. The transport is Windows-only: the agent's server is
//! `watch/pipe.rs` (the pipe, its access list, the caller checked, tab reports
//! into the run loop as the same `WatchEvent`s the bus door sends), the host's
//! end is `client`, and the few Windows calls both need are in `sys`, the one
//! module here allowed `unsafe`.
//!
//! - **Name**: `\\.\pipe\dwell-<user SID>` ([`pipe_name`]): one per user and
//!   session, like the bus name. The agent creates it with an access list for
//!   that user alone, refuses remote clients, and gives up the name if another
//!   process holds it first.
//! - **Frames**: the browsers' own framing ([`crate::native_host::read_frame`]:
//!   a `u32` length in native byte order, then that many bytes of JSON), each
//!   at most [`MAX_FRAME`] bytes.
//! - **Requests** ([`Request`], host → agent), one at a time, each answered
//!   ([`Reply`]) before the next: `{"tab": {"browser", "host", "private",
//!   "audible", "focused"}}` → `{"pause": {...}}` or `{"pause": null}`;
//!   `{"pause_result": {"outcome": "continued"|"closed", "page": "…"}}` →
//!   `{"pause": null}`, where `page` is the pause page's id
//!   ([`crate::door::PageId`]) and is left out by a host from before page ids
//!   (the newest open page then takes the choice).
//!   A request that does not check ([`Request::check`]) ends the connection.
//! - **Who**: the agent serves only a caller whose process image is
//!   `dwell-native-host.exe` (or `dwell-agent.exe`, which can act as the host),
//!   as [`crate::watch::trust`] does on Linux; the host speaks only to a server
//!   whose image is `dwell-agent.exe` ([`is_native_host`], [`is_agent`]).

use serde::{Deserialize, Serialize};

use crate::door::{PageId, Pause, PauseChoice, PauseOutcome, TabFacts};

#[cfg(windows)]
pub mod client;
#[cfg(windows)]
pub(crate) mod sys;

/// The largest frame either end accepts, in bytes (a pause page is six
/// fields of at most 1,000 bytes each).
pub const MAX_FRAME: usize = 16 * 1024;

/// The pipe of the user whose SID is `sid` (`S-1-5-21-…`).
pub fn pipe_name(sid: &str) -> String {
    format!(r"\\.\pipe\dwell-{sid}")
}

/// What the host asks of the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// What the focused window's active tab is, as the extension says
    /// (the bus door's `Tab`).
    Tab {
        browser: String,
        host: Option<String>,
        private: bool,
        audible: bool,
        focused: bool,
    },
    /// The employee's choice on the pause page, and the page's id (the bus
    /// door's `PauseResultFor`; without a page, its `PauseResult`).
    PauseResult {
        outcome: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        page: Option<String>,
    },
}

/// A request that passed [`Request::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    Tab { browser: String, facts: TabFacts },
    PauseResult(PauseChoice),
}

/// Longest browser name kept from a request, in bytes.
const MAX_BROWSER: usize = 64;

impl Request {
    /// A tab report for `browser`.
    pub fn tab(browser: &str, facts: &TabFacts) -> Request {
        Request::Tab {
            browser: browser.to_owned(),
            host: facts.host.clone(),
            private: facts.private,
            audible: facts.audible,
            focused: facts.focused,
        }
    }

    /// A choice made on a pause page.
    pub fn pause_result(choice: PauseChoice) -> Request {
        Request::PauseResult {
            outcome: choice.outcome.as_str().to_owned(),
            page: choice.page.map(|p| p.to_string()),
        }
    }

    /// The frame's body.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads and checks a frame's body, as the bus door checks `Tab` and
    /// `PauseResult(For)`: a host name that is not one, an unknown outcome, a
    /// page id that is not one, a browser name past 64 bytes or anything but
    /// these objects is `None`.
    /// A private window keeps nothing but that it is private.
    pub fn check(bytes: &[u8]) -> Option<Checked> {
        if bytes.len() > MAX_FRAME {
            return None;
        }
        // An object, and only an object: serde would also take an array.
        let object: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(bytes).ok()?;
        match Request::deserialize(serde_json::Value::Object(object)).ok()? {
            Request::Tab {
                browser,
                host,
                private,
                audible,
                focused,
            } => {
                if browser.len() > MAX_BROWSER {
                    return None;
                }
                let host = host.filter(|h| !h.is_empty());
                if let Some(h) = &host {
                    dwell_core::rules::valid_host(h).ok()?;
                }
                let facts = TabFacts {
                    host: host.filter(|_| !private),
                    private,
                    audible: audible && !private,
                    focused,
                };
                Some(Checked::Tab { browser, facts })
            }
            Request::PauseResult { outcome, page } => {
                let page = match page {
                    Some(p) => Some(PageId::parse(&p)?),
                    None => None,
                };
                let outcome = PauseOutcome::parse(&outcome)?;
                Some(Checked::PauseResult(PauseChoice { outcome, page }))
            }
        }
    }
}

/// The agent's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Reply {
    /// The pause page to show (only ever in answer to a tab report).
    pub pause: Option<Pause>,
}

impl Reply {
    /// The frame's body.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads a frame's body; `None` when it is not a reply. A pause page
    /// with a field past 1,000 bytes is no pause page.
    pub fn parse(bytes: &[u8]) -> Option<Reply> {
        let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
        let pause = match value.as_object()?.get("pause")? {
            serde_json::Value::Null => None,
            serde_json::Value::Object(fields) => Some(Pause::from_map(
                fields
                    .iter()
                    .map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                    .collect::<Option<_>>()?,
            )?),
            _ => return None,
        };
        Some(Reply { pause })
    }
}

/// A process image's program name: its file name, lower case, without
/// `.exe` (`C:\Program Files\dwell\Dwell-Agent.EXE` → `dwell-agent`).
pub fn program_of_image(image: &str) -> Option<String> {
    let name = image.rsplit(['\\', '/']).next()?.to_ascii_lowercase();
    let name = name.strip_suffix(".exe").unwrap_or(&name).to_owned();
    (!name.is_empty()).then_some(name)
}

/// Whether the process whose image is `image` may report tabs: dwell's
/// native-messaging host, or the agent acting as one.
pub fn is_native_host(image: Option<&str>) -> bool {
    matches!(
        image.and_then(program_of_image).as_deref(),
        Some("dwell-native-host" | "dwell-agent")
    )
}

/// Whether the process whose image is `image` is the agent.
pub fn is_agent(image: Option<&str>) -> bool {
    image.and_then(program_of_image).as_deref() == Some("dwell-agent")
}

/// Reads one frame's body; `None` at a clean end (the other end closed
/// between frames). A frame past [`MAX_FRAME`] or cut short is an error.
#[cfg(windows)]
pub(crate) async fn read_frame<R>(r: &mut R) -> std::io::Result<Option<Vec<u8>>>
where
    R: tokio::io::AsyncRead + Unpin,
{
    use tokio::io::AsyncReadExt;
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < len.len() {
        match r.read(&mut len[got..]).await? {
            0 if got == 0 => return Ok(None),
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => got += n,
        }
    }
    let len = u32::from_ne_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "a frame larger than the pipe takes",
        ));
    }
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf).await?;
    Ok(Some(buf))
}

/// Writes one frame (length and body in one write).
#[cfg(windows)]
pub(crate) async fn write_frame<W>(w: &mut W, body: &[u8]) -> std::io::Result<()>
where
    W: tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::AsyncWriteExt;
    let len = u32::try_from(body.len())
        .ok()
        .filter(|l| *l as usize <= MAX_FRAME)
        .ok_or_else(|| std::io::Error::other("a frame larger than the pipe takes"))?;
    let mut frame = Vec::with_capacity(4 + body.len());
    frame.extend_from_slice(&len.to_ne_bytes());
    frame.extend_from_slice(body);
    w.write_all(&frame).await?;
    w.flush().await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::door::fixtures::a_pause;

    #[test]
    fn the_pipe_is_named_after_the_user() {
        assert_eq!(
            pipe_name("S-1-5-21-1-2-3-1001"),
            r"\\.\pipe\dwell-S-1-5-21-1-2-3-1001"
        );
    }

    #[test]
    fn requests_go_out_and_come_back_checked() {
        let facts = TabFacts {
            host: Some("old.reddit.com".into()),
            private: false,
            audible: true,
            focused: true,
        };
        let bytes = Request::tab("edge", &facts).to_bytes();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"tab": {"browser": "edge", "host": "old.reddit.com",
                "private": false, "audible": true, "focused": true}})
        );
        assert_eq!(
            Request::check(&bytes),
            Some(Checked::Tab {
                browser: "edge".into(),
                facts
            })
        );
        let page = PageId::parse("1764064800000");
        for outcome in [PauseOutcome::Continued, PauseOutcome::Closed] {
            for page in [None, page] {
                let choice = PauseChoice { outcome, page };
                let bytes = Request::pause_result(choice).to_bytes();
                assert_eq!(Request::check(&bytes), Some(Checked::PauseResult(choice)));
            }
        }
        // A host from before page ids sends none; one with a page names it.
        let old = Request::pause_result(PauseChoice {
            outcome: PauseOutcome::Closed,
            page: None,
        });
        assert_eq!(old.to_bytes(), br#"{"pause_result":{"outcome":"closed"}}"#);
        let new = Request::pause_result(PauseChoice {
            outcome: PauseOutcome::Closed,
            page,
        });
        assert_eq!(
            new.to_bytes(),
            br#"{"pause_result":{"outcome":"closed","page":"1764064800000"}}"#
        );
        // No host, or an empty one: no host.
        let none = br#"{"tab":{"browser":"chrome","host":"","private":false,"audible":false,"focused":true}}"#;
        let Some(Checked::Tab { facts, .. }) = Request::check(none) else {
            panic!("not a tab")
        };
        assert_eq!(facts.host, None);
    }

    #[test]
    fn a_private_window_keeps_only_that_it_is_private() {
        let bytes = br#"{"tab":{"browser":"edge","host":"x.com","private":true,"audible":true,"focused":true}}"#;
        assert_eq!(
            Request::check(bytes),
            Some(Checked::Tab {
                browser: "edge".into(),
                facts: TabFacts {
                    host: None,
                    private: true,
                    audible: false,
                    focused: true
                }
            })
        );
    }

    #[test]
    fn bad_requests_are_refused() {
        let long_browser = format!(
            r#"{{"tab":{{"browser":"{}","host":null,"private":false,"audible":false,"focused":true}}}}"#,
            "e".repeat(MAX_BROWSER + 1)
        );
        let huge = format!(
            r#"{{"pause_result":{{"outcome":"closed","x":"{}"}}}}"#,
            "x".repeat(MAX_FRAME)
        );
        for bad in [
            &br#"{"tab":{"browser":"edge","host":"reddit.com/r/x?token=1","private":false,"audible":false,"focused":true}}"#[..],
            br#"{"tab":{"browser":"edge","host":"Reddit.com","private":false,"audible":false,"focused":true}}"#,
            br#"{"tab":{"browser":"edge","host":"a.com","private":false,"audible":false,"focused":true,"url":"https://a.com/"}}"#,
            br#"{"tab":{"browser":"edge","host":"a.com"}}"#,
            br#"{"pause_result":{"outcome":"Closed"}}"#,
            br#"{"pause_result":"closed"}"#,
            br#"{"pause_result":{"outcome":"closed","page":"x1"}}"#,
            br#"{"pause_result":{"outcome":"closed","page":""}}"#,
            br#"{"pause_result":{"outcome":"closed","page":1}}"#,
            br#"{"pause_result":{"outcome":"closed","page":"123456789012345678901"}}"#,
            br#"{"tab":{},"pause_result":{"outcome":"closed"}}"#,
            br#"[{"pause_result":{"outcome":"closed"}}]"#,
            b"{}",
            b"",
            b"\xff\xfe",
            long_browser.as_bytes(),
            huge.as_bytes(),
        ] {
            assert_eq!(Request::check(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn replies_carry_the_pause_page_or_nothing() {
        let r = Reply {
            pause: Some(a_pause()),
        };
        assert_eq!(Reply::parse(&r.to_bytes()), Some(r));
        assert_eq!(
            Reply::parse(&Reply::default().to_bytes()),
            Some(Reply::default())
        );
        assert_eq!(Reply::default().to_bytes(), br#"{"pause":null}"#);
        for bad in [
            &b"{}"[..],
            b"[]",
            b"null",
            br#"{"pause":1}"#,
            br#"{"pause":{"today":"1m"}}"#,
            br#"{"pause":{"today":1,"limit":"","line":"","lang":"","continue":"","close":""}}"#,
        ] {
            assert_eq!(Reply::parse(bad), None, "{}", String::from_utf8_lossy(bad));
        }
        let mut long = a_pause();
        long.line = "x".repeat(1001);
        assert_eq!(Reply::parse(&Reply { pause: Some(long) }.to_bytes()), None);
    }

    #[test]
    fn only_dwells_programs_at_either_end() {
        let host = r"C:\Users\me\AppData\Local\Programs\dwell\dwell-native-host.exe";
        let agent = r"C:\Program Files\dwell\Dwell-Agent.EXE";
        assert_eq!(program_of_image(agent).as_deref(), Some("dwell-agent"));
        assert!(is_native_host(Some(host)));
        assert!(is_native_host(Some(agent)));
        assert!(is_agent(Some(agent)));
        assert!(is_agent(Some("/usr/bin/dwell-agent")));
        assert!(!is_agent(Some(host)));
        for other in [
            r"C:\Windows\System32\cmd.exe",
            r"C:\tmp\dwell-native-host.exe.bat",
            r"C:\tmp\dwell-native-hostile.exe",
            r"C:\tmp\",
            "",
        ] {
            assert!(!is_native_host(Some(other)), "{other}");
            assert!(!is_agent(Some(other)), "{other}");
        }
        assert!(!is_native_host(None));
        assert!(!is_agent(None));
    }

    proptest::proptest! {
        #[test]
        fn checking_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let _ = Request::check(&bytes);
            let _ = Reply::parse(&bytes);
        }

        #[test]
        fn checked_hosts_are_host_names(s in "\\{\"tab\":\\{\"browser\":\"\\PC{0,8}\",\"host\":\"\\PC{0,30}\",\"private\":(true|false),\"audible\":true,\"focused\":true\\}\\}") {
            if let Some(Checked::Tab { facts, .. }) = Request::check(s.as_bytes()) {
                if let Some(h) = facts.host {
                    proptest::prop_assert!(dwell_core::rules::valid_host(&h).is_ok());
                    proptest::prop_assert!(!facts.private);
                }
            }
        }
    }
}

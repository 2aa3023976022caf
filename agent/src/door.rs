//! The door: the agent's session-bus name, object and interface, and the
//! types that cross it. One definition that every end imports: the server
//! ([`crate::watch::bus`], inside the agent), the native-messaging host
//! ([`crate::native_host`], which the browser starts) and the commands and
//! browser bookkeeping ([`crate::browser`]). Names and types only: no I/O.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

/// The agent's well-known name on the session bus.
pub const NAME: &str = "org.dwell.Agent";
/// The one object it exposes.
pub const PATH: &str = "/org/dwell/Agent";
/// The one interface, with the methods `Focus`, `Tab`, `PauseResult` and
/// `PauseResultFor`.
pub const IFACE: &str = "org.dwell.Agent1";

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

/// The employee's choice on the pause page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseOutcome {
    /// "Continue": back to the page at once.
    Continued,
    /// "Close tab".
    Closed,
}

impl PauseOutcome {
    /// As stored (the reminder's outcome) and as sent over the bus.
    pub fn as_str(self) -> &'static str {
        match self {
            PauseOutcome::Continued => "continued",
            PauseOutcome::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<PauseOutcome> {
        match s {
            "continued" => Some(PauseOutcome::Continued),
            "closed" => Some(PauseOutcome::Closed),
            _ => None,
        }
    }
}

/// A pause page's id. The agent gives one to each pause page it asks for
/// (the time of the page's reminder, in milliseconds since 1970: like the
/// reminder's key in the store, it does not repeat after a restart), and
/// the choice made on that page comes back with it, so that with several
/// pages open each choice goes to its own page. On every wire: a string of
/// 1 to 20 decimal digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageId(u64);

impl PageId {
    /// The id of the pause page whose reminder is at `at`.
    pub fn of(at: DateTime<Utc>) -> PageId {
        PageId(u64::try_from(at.timestamp_millis()).unwrap_or(0))
    }

    /// From its wire form: `None` unless 1 to 20 decimal digits that fit.
    pub fn parse(s: &str) -> Option<PageId> {
        if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok().map(PageId)
    }
}

impl std::fmt::Display for PageId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What the employee chose on a pause page, and on which page (`None`: an
/// extension or host from before page ids, whose choice the newest open page
/// takes). Goes to the agent as `PauseResultFor(outcome, page)`, or as
/// `PauseResult(outcome)` without a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PauseChoice {
    pub outcome: PauseOutcome,
    pub page: Option<PageId>,
}

/// The pause page the extension shows: every string already formatted by the
/// agent, in the employee's language. Travels as the reply of the bus call
/// `Tab` (a dictionary of these fields, empty when there is nothing to show)
/// and then to the extension as `{"pause": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pause {
    /// Social time today (`dwell_core::text::duration`).
    pub today: String,
    /// The daily limit.
    pub limit: String,
    /// One `reflection` or `back` line from the message catalogue (may be empty).
    pub line: String,
    /// `en` or `fr`.
    pub lang: String,
    /// The two buttons' words.
    #[serde(rename = "continue")]
    pub continue_label: String,
    pub close: String,
    /// The site over its own limit (`[limits.sites]`) the page is about, or
    /// empty for the daily limit; then `today` and `limit` are the site's.
    #[serde(default)]
    pub site: String,
    /// Whole seconds before Continue works (`[reminders] pause_breath`);
    /// "0": at once.
    #[serde(default)]
    pub breath: String,
    /// The page's [`PageId`], which the extension sends back with the
    /// choice; empty from an agent before page ids.
    #[serde(default)]
    pub page: String,
}

/// Longest field of a [`Pause`] passed on, in bytes.
const MAX_PAUSE_FIELD: usize = 1000;

impl Pause {
    /// The bus reply's dictionary.
    pub fn to_map(&self) -> HashMap<String, String> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(m)) => m
                .into_iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k, v.to_owned())))
                .collect(),
            _ => HashMap::new(),
        }
    }

    /// From the bus reply's dictionary: `None` when it is empty (nothing to
    /// show) or not a whole pause page (a page id that is not one included).
    pub fn from_map(map: HashMap<String, String>) -> Option<Pause> {
        if map.values().any(|v| v.len() > MAX_PAUSE_FIELD) {
            return None;
        }
        if map
            .get("page")
            .is_some_and(|p| !p.is_empty() && PageId::parse(p).is_none())
        {
            return None;
        }
        let value = serde_json::Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v)))
                .collect(),
        );
        serde_json::from_value(value).ok()
    }

    /// The framed message's body for the extension: `{"pause": {...}}`.
    pub fn to_message(&self) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({ "pause": self })).unwrap_or_default()
    }
}

/// Where the run loop answers one tab report (see [`crate::watch::bus`]): the
/// pause page to show, or nothing. Answering is optional; an answer not given
/// is "nothing".
#[derive(Clone, Default)]
pub struct Answer(Arc<Mutex<Option<oneshot::Sender<Option<Pause>>>>>);

impl Answer {
    /// An answer slot and where the answer arrives.
    pub fn new() -> (Answer, oneshot::Receiver<Option<Pause>>) {
        let (tx, rx) = oneshot::channel();
        (Answer(Arc::new(Mutex::new(Some(tx)))), rx)
    }

    /// Answers (the first call only).
    pub fn send(&self, pause: Option<Pause>) {
        let tx = self.0.lock().ok().and_then(|mut slot| slot.take());
        if let Some(tx) = tx {
            let _ = tx.send(pause);
        }
    }
}

impl PartialEq for Answer {
    fn eq(&self, other: &Answer) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Answer")
    }
}

/// What the door's tests and the pipe's share.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::Pause;

    /// A whole pause page, every field set.
    pub(crate) fn a_pause() -> Pause {
        Pause {
            today: "25m".into(),
            limit: "20m".into(),
            line: "Back to it?".into(),
            lang: "en".into(),
            continue_label: "Continue".into(),
            close: "Close tab".into(),
            site: "youtube.com".into(),
            breath: "5".into(),
            page: "1764064800000".into(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::fixtures::a_pause;
    use super::*;

    #[test]
    fn a_pause_page_goes_over_the_bus_as_a_dictionary_and_out_as_json() {
        let p = a_pause();
        let map = p.to_map();
        assert_eq!(map.len(), 9);
        assert_eq!(map["continue"], "Continue");
        assert_eq!(Pause::from_map(map.clone()), Some(p.clone()));
        // Nothing to show, or not a whole page: nothing.
        assert_eq!(Pause::from_map(HashMap::new()), None);
        let mut partial = map.clone();
        partial.remove("close");
        assert_eq!(Pause::from_map(partial), None);
        // An agent without site limits, a breath or page ids is still understood.
        let mut older = map.clone();
        older.remove("site");
        older.remove("breath");
        older.remove("page");
        assert_eq!(
            Pause::from_map(older).map(|p| (p.breath, p.page)),
            Some((String::new(), String::new()))
        );
        // A page id that is not one: no page.
        for bad in [
            "x",
            "-1",
            "1.5",
            " 1",
            "123456789012345678901",
            "99999999999999999999",
        ] {
            let mut m = map.clone();
            m.insert("page".into(), bad.into());
            assert_eq!(Pause::from_map(m), None, "{bad}");
        }
        let mut extra = map.clone();
        extra.insert("url".into(), "https://a.com/".into());
        assert_eq!(Pause::from_map(extra), None);
        let mut long = map;
        long.insert("line".into(), "x".repeat(MAX_PAUSE_FIELD + 1));
        assert_eq!(Pause::from_map(long), None);
        let v: serde_json::Value = serde_json::from_slice(&p.to_message()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"pause": {"today": "25m", "limit": "20m", "line": "Back to it?",
                "lang": "en", "continue": "Continue", "close": "Close tab",
                "site": "youtube.com", "breath": "5", "page": "1764064800000"}})
        );
    }

    #[test]
    fn a_page_id_is_its_reminders_millisecond_and_reads_back() {
        let at = DateTime::from_timestamp_millis(1_764_064_800_123).unwrap();
        let id = PageId::of(at);
        assert_eq!(id.to_string(), "1764064800123");
        assert_eq!(PageId::parse(&id.to_string()), Some(id));
        assert_eq!(PageId::parse("0"), Some(PageId(0)));
        assert_eq!(
            PageId::parse("18446744073709551615"),
            Some(PageId(u64::MAX))
        );
        for bad in ["", "18446744073709551616", "+1", "1e3", "١٢"] {
            assert_eq!(PageId::parse(bad), None, "{bad}");
        }
        // Another millisecond, another page.
        assert_ne!(PageId::of(at + chrono::Duration::milliseconds(1)), id);
    }

    #[test]
    fn an_answer_is_given_once_and_none_when_dropped() {
        let (a, rx) = Answer::new();
        let b = a.clone();
        assert_eq!(a, b);
        a.send(Some(a_pause()));
        b.send(None);
        assert_eq!(rx.blocking_recv().unwrap(), Some(a_pause()));
        let (a, rx) = Answer::new();
        drop(a);
        assert!(rx.blocking_recv().is_err());
        // The default answers nowhere.
        Answer::default().send(None);
        assert_ne!(Answer::default(), Answer::default());
    }
}

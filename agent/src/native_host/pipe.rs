//! The native host's way to the agent on Windows: the agent's named pipe
//! ([`crate::pipe`]), only to a server whose process is `dwell-agent.exe`
//! (see [`super`] for the whole contract). The browser is told by the
//! nearest ancestor process named like one (Chrome and Edge start the host
//! through `cmd.exe`). The loop (one call at a time, the last facts win) is
//! `relay.rs`; this is its way to the agent. While facts wait and no agent
//! answers, the host tries again after 1 s, then ever less often (at most
//! every 30 s), so an agent started after the browser gets the current tab
//! without a wake-up every second all day.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::time::Instant;

use super::relay::{self, Delivery, Sent, Transport};
use super::{PauseChoice, TabFacts};
use crate::browser;
use crate::pipe::client::{Client, Unreachable};
use crate::pipe::{Reply, Request};

/// The first wait before trying an absent agent again, and the longest.
const FIRST_RETRY: Duration = Duration::from_secs(1);
const MAX_RETRY: Duration = Duration::from_secs(30);
/// How many ancestors are asked whether they are a browser.
const ANCESTORS: usize = 3;

/// Runs the host until the browser closes the port. `args` are what the
/// browser passed (a Chromium-family browser: the caller's origin; Firefox:
/// the manifest's path and the extension's id).
pub fn run(args: &[String]) -> Result<()> {
    let browser = which_browser(args);
    tracing::info!(browser, "native-messaging host started");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the host's runtime")?;
    let rx = relay::stdin()?;
    let mut out = std::io::stdout().lock();
    runtime.block_on(relay::relay(PipeWay::new(browser), rx, &mut out))
}

/// The browser that started this host: the nearest of its first ancestors
/// whose image is a browser's, else what the arguments say.
fn which_browser(args: &[String]) -> &'static str {
    let mut system = match sysinfo::System::new() {
        Ok(s) => s,
        Err(_) => return browser::host_browser(None, args),
    };
    system.refresh_processes_specifics(
        sysinfo::ProcessesToUpdate::All,
        true,
        sysinfo::ProcessRefreshKind::nothing(),
    );
    let mut names = Vec::new();
    let mut pid = sysinfo::Pid::from_u32(std::process::id());
    for _ in 0..ANCESTORS {
        let Some(parent) = system.process(pid).and_then(|p| p.parent()) else {
            break;
        };
        match system.process(parent) {
            Some(p) => names.push(p.name().to_string_lossy().into_owned()),
            None => break,
        }
        pid = parent;
    }
    browser_among(&names).unwrap_or_else(|| browser::host_browser(None, args))
}

/// The first of these process images (nearest ancestor first) that is a
/// browser's.
fn browser_among(images: &[String]) -> Option<&'static str> {
    images
        .iter()
        .filter_map(|i| crate::pipe::program_of_image(i))
        .find_map(|n| browser::family(&n))
}

/// A call under way: it owns the connection and gives it back.
type Call = Pin<Box<dyn Future<Output = (Option<Client>, Sent<Unreachable>)>>>;

/// Makes one call, on `client` or, when it has none or it broke, on a new
/// connection.
async fn call(
    client: Option<Client>,
    request: Request,
) -> (Option<Client>, Result<Reply, Unreachable>) {
    if let Some(mut c) = client {
        if let Ok(reply) = c.call(&request).await {
            return (Some(c), Ok(reply));
        }
    }
    let mut c = match Client::connect().await {
        Ok(c) => c,
        Err(e) => return (None, Err(e)),
    };
    match c.call(&request).await {
        Ok(reply) => (Some(c), Ok(reply)),
        Err(e) => (None, Err(e)),
    }
}

/// The way to the agent over its pipe: one connection, kept between calls,
/// and when to try an absent agent again.
struct PipeWay<'a> {
    browser: &'a str,
    client: Option<Client>,
    /// When to try an absent agent again, and the wait after that.
    retry_at: Option<Instant>,
    retry: Duration,
    /// No agent answered (said once).
    warned: bool,
}

impl PipeWay<'_> {
    fn new(browser: &str) -> PipeWay<'_> {
        PipeWay {
            browser,
            client: None,
            retry_at: None,
            retry: FIRST_RETRY,
            warned: false,
        }
    }
}

impl Transport for PipeWay<'_> {
    type Held = Option<Client>;
    type Error = Unreachable;
    type Call = Call;

    fn tab(&mut self, facts: &TabFacts) -> Call {
        let (client, request) = (self.client.take(), Request::tab(self.browser, facts));
        Box::pin(async move {
            let (client, reply) = call(client, request).await;
            (client, Sent::Facts(reply.map(|r| r.pause.map(Box::new))))
        })
    }

    fn pause_result(&mut self, choice: PauseChoice) -> Call {
        let (client, request) = (self.client.take(), Request::pause_result(choice));
        Box::pin(async move {
            let (client, reply) = call(client, request).await;
            if let Err(e) = reply {
                tracing::info!(error = %e, "the agent did not take the pause page's outcome");
            }
            (client, Sent::PauseResult)
        })
    }

    fn give_back(&mut self, client: Option<Client>) {
        self.client = client;
    }

    /// Not before the retry time while the agent is absent, unless the
    /// browser has closed the port: then one last try.
    fn may_send(&self, input_open: bool) -> bool {
        !(input_open && self.retry_at.is_some())
    }

    fn delivered(&mut self, result: &Delivery<Unreachable>, input_open: bool) -> bool {
        let Err(e) = result else {
            self.retry_at = None;
            self.retry = FIRST_RETRY;
            return false;
        };
        if !self.warned {
            tracing::info!(error = %e, "no dwell agent to tell; dwell is off for this browser until one answers (logged once)");
            self.warned = true;
        }
        // Keep the facts for the agent, and try again later (after the
        // browser closed the port, that was the last try).
        self.retry_at = Some(Instant::now() + self.retry);
        self.retry = (self.retry * 2).min(MAX_RETRY);
        input_open
    }

    /// The retry time has come (the facts are still kept).
    async fn news(&mut self) -> bool {
        match self.retry_at {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
        self.retry_at = None;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browser_is_the_nearest_ancestor_named_like_one() {
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // Chrome and Edge start the host through cmd.exe.
        assert_eq!(browser_among(&v(&["cmd.exe", "msedge.exe"])), Some("edge"));
        assert_eq!(
            browser_among(&v(&["CHROME.EXE", "explorer.exe"])),
            Some("chrome")
        );
        assert_eq!(browser_among(&v(&["firefox.exe"])), Some("firefox"));
        assert_eq!(browser_among(&v(&["cmd.exe", "explorer.exe"])), None);
        assert_eq!(browser_among(&[]), None);
    }
}

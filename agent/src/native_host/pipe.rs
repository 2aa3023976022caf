//! The native host's way to the agent on Windows: the agent's named pipe
//! ([`crate::pipe`]), only to a server whose process is `dwell-agent.exe`
//! (see [`super`] for the whole contract). The browser is told by the
//! nearest ancestor process named like one (Chrome and Edge start the host
//! through `cmd.exe`). One call at a time: facts that arrive meanwhile
//! replace the waiting ones. While facts wait and no agent answers, the host
//! tries again after 1 s, then ever less often (at most every 30 s), so an
//! agent started after the browser gets the current tab without a wake-up
//! every second all day.

use std::collections::VecDeque;
use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{read_input, reply, write_frame, Input, PauseChoice, TabFacts};
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
    let (tx, rx) = mpsc::channel(16);
    std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || read_input(std::io::stdin().lock(), tx))
        .context("cannot start the thread reading from the browser")?;
    let mut out = std::io::stdout().lock();
    runtime.block_on(serve(browser, rx, &mut out))
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

/// What a finished call says.
enum Sent {
    /// A tab report: the agent's reply, or why there was none.
    Facts(Result<Reply, Unreachable>),
    /// A pause page's outcome (taken or not).
    PauseResult(Result<Reply, Unreachable>),
}

/// A call under way: it owns the connection and gives it back.
type Call = Pin<Box<dyn Future<Output = (Option<Client>, Sent)>>>;

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
    let mut c = match Client::connect() {
        Ok(c) => c,
        Err(e) => return (None, Err(e)),
    };
    match c.call(&request).await {
        Ok(reply) => (Some(c), Ok(reply)),
        Err(e) => (None, Err(e)),
    }
}

/// The host's state between messages.
struct Host<'a> {
    browser: &'a str,
    client: Option<Client>,
    /// The last facts from the browser, and whether the agent has them yet.
    last: Option<TabFacts>,
    unsent: bool,
    /// Pause page outcomes to pass on, in order.
    outcomes: VecDeque<PauseChoice>,
    /// When to try an absent agent again, and the wait after that.
    retry_at: Option<Instant>,
    retry: Duration,
    told: Option<bool>,
    dropped: u64,
    warned: bool,
}

async fn serve(browser: &str, mut rx: mpsc::Receiver<Input>, out: &mut impl Write) -> Result<()> {
    let mut host = Host {
        browser,
        client: None,
        last: None,
        unsent: false,
        outcomes: VecDeque::new(),
        retry_at: None,
        retry: FIRST_RETRY,
        told: None,
        dropped: 0,
        warned: false,
    };
    let mut input_open = true;
    let mut under_way: Option<Call> = None;
    loop {
        if under_way.is_none() {
            under_way = host.start_call(input_open);
        }
        if !input_open && under_way.is_none() {
            break;
        }
        let retry_at = host.retry_at;
        tokio::select! {
            // The call first: a browser that never stops writing must not
            // keep the reply from being read.
            biased;
            (client, sent) = next_sent(&mut under_way), if under_way.is_some() => {
                under_way = None;
                host.client = client;
                host.answer(sent, input_open, out)?;
            }
            _ = async { tokio::time::sleep_until(retry_at.unwrap_or_else(Instant::now)).await }, if retry_at.is_some() && under_way.is_none() => {
                host.retry_at = None;
            }
            input = rx.recv(), if input_open => match input {
                None | Some(Input::End(None)) => input_open = false,
                Some(Input::End(Some(e))) => {
                    tracing::warn!(error = %e, "the browser's messages broke off");
                    input_open = false;
                }
                Some(input) => host.take(input),
            },
        }
    }
    tracing::info!(
        dropped = host.dropped,
        "the browser closed the port; native-messaging host done"
    );
    Ok(())
}

impl Host<'_> {
    /// One message from the browser.
    fn take(&mut self, input: Input) {
        match input {
            Input::Dropped(why) => {
                self.dropped += 1;
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

    /// The next call, if there is something to say: outcomes first, then
    /// the last facts (not before the retry time while the agent is absent,
    /// unless the browser has closed the port: then one last try).
    fn start_call(&mut self, input_open: bool) -> Option<Call> {
        let client = self.client.take();
        if let Some(outcome) = self.outcomes.pop_front() {
            let request = Request::pause_result(outcome);
            return Some(Box::pin(async move {
                let (client, reply) = call(client, request).await;
                (client, Sent::PauseResult(reply))
            }));
        }
        let waiting = input_open && self.retry_at.is_some();
        let facts = self.last.clone().filter(|_| self.unsent && !waiting);
        let Some(facts) = facts else {
            self.client = client;
            return None;
        };
        self.unsent = false;
        let request = Request::tab(self.browser, &facts);
        Some(Box::pin(async move {
            let (client, reply) = call(client, request).await;
            (client, Sent::Facts(reply))
        }))
    }

    /// Tells the browser what a finished call means for it.
    fn answer(&mut self, sent: Sent, input_open: bool, out: &mut impl Write) -> Result<()> {
        let result = match sent {
            Sent::PauseResult(Err(e)) => {
                tracing::info!(error = %e, "the agent did not take the pause page's outcome");
                return Ok(());
            }
            Sent::PauseResult(Ok(_)) => return Ok(()),
            Sent::Facts(result) => result,
        };
        let on = result.is_ok();
        if on {
            self.retry_at = None;
            self.retry = FIRST_RETRY;
        } else {
            // Keep the facts for the agent, and try again later (after the
            // browser closed the port, that was the last try).
            self.unsent = input_open;
            self.retry_at = Some(Instant::now() + self.retry);
            self.retry = (self.retry * 2).min(MAX_RETRY);
        }
        if let Err(e) = &result {
            if !self.warned {
                tracing::info!(error = %e, "no dwell agent to tell; dwell is off for this browser until one answers (logged once)");
                self.warned = true;
            }
        }
        if self.told != Some(on) {
            write_frame(out, reply(on)).context("cannot answer the browser")?;
            tracing::info!(on, "dwell agent reachable");
            self.told = Some(on);
        }
        if let Ok(Reply { pause: Some(pause) }) = result {
            write_frame(out, &pause.to_message()).context("cannot answer the browser")?;
            tracing::info!("pause page asked for");
        }
        Ok(())
    }
}

async fn next_sent(call: &mut Option<Call>) -> (Option<Client>, Sent) {
    match call {
        Some(c) => c.await,
        None => std::future::pending().await,
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

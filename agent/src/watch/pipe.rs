//! Windows: the agent's door for the browser extension's native host (the
//! contract, shared with the host, is in [`crate::pipe`]), what `watch/bus`
//! is on Linux: one thread with its own small tokio runtime owns the pipe
//! `\\.\pipe\dwell-<SID>`, accepts connections, checks each caller's process,
//! and turns requests into the [`WatchEvent`]s the bus door sends on Linux
//! (`Tab`, `TabGone`, `PauseResult(For)`), answering each tab report with the run
//! loop's [`Answer`](crate::door::Answer).
//!
//! - **Who**: an access list for the current user alone, remote clients
//!   refused, the first instance created as first (a pipe of that name made by
//!   another process first is never served: the agent says so and tries again
//!   later), and each caller's image checked ([`crate::pipe::is_native_host`]): any
//!   other program is disconnected at once, logged once, then counted.
//! - **Never a deadlock**: each connection has its own task, which reads its
//!   next request as soon as the last is answered; a request waits for the
//!   run loop at most [`ANSWER_TIMEOUT`], a reply is written within
//!   [`WRITE_TIMEOUT`] or the connection is dropped (a client that sends
//!   without reading loses its connection, not the agent its door). A client
//!   has at most one request in the run loop at a time, and at most
//!   [`MAX_CLIENTS`] are served at once, so a flood from one neither blocks
//!   the others nor fills the run loop's queue ahead of the watcher.
//! - A connection's end (the browser closed, the host exited) is `TabGone`
//!   for the tab reports it made.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::windows::named_pipe::{NamedPipeServer, ServerOptions};
use tokio::sync::{mpsc, oneshot};

use super::stoppable::Stoppable;
use super::WatchEvent;
use crate::door::Answer;
use crate::pipe::{pipe_name, read_frame, sys, write_frame, Checked, Reply, Request};

/// How long a tab report waits for the run loop's answer (it answers at once).
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a reply may take to write before the client is dropped.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long an event may wait for room in the run loop's queue.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// Most clients served at once (one per browser is the usual count).
pub const MAX_CLIENTS: usize = 16;
/// The longest wait before trying again to make the pipe.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Starts serving the door, sending what the native hosts report to `tx`;
/// the guard (a [`Stoppable`]) stops it when dropped.
pub fn spawn(tx: mpsc::Sender<WatchEvent>) -> std::io::Result<Box<dyn Send>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let door = Stoppable::spawn("pipe-door", move |stop| {
        runtime.block_on(serve(Pipe::new, crate::pipe::is_native_host, tx, stop))
    })?;
    Ok(Box::new(door))
}

/// What the door counts and logs once (shared by the connections' tasks).
#[derive(Default)]
struct Counts {
    refused: AtomicU64,
    malformed: AtomicU64,
    dropped: AtomicU64,
    live: AtomicUsize,
}

impl Counts {
    /// Counts one; `true` the first time (log it then, count it after).
    fn first(counter: &AtomicU64) -> bool {
        counter.fetch_add(1, Ordering::Relaxed) == 0
    }
}

/// The pipe's name and access list, and how to make its instances.
struct Pipe {
    name: String,
    security: sys::Security,
}

impl Pipe {
    fn new() -> std::io::Result<Pipe> {
        let sid = sys::current_user_sid()?;
        Pipe::named(pipe_name(&sid))
    }

    /// The pipe `name`, for the current user alone.
    fn named(name: String) -> std::io::Result<Pipe> {
        let sid = sys::current_user_sid()?;
        Ok(Pipe {
            name,
            security: sys::Security::user_only(&sid)?,
        })
    }

    /// A new instance of the pipe; `first`: the pipe must not exist yet.
    fn instance(&mut self, first: bool) -> std::io::Result<NamedPipeServer> {
        let mut options = ServerOptions::new();
        options
            .first_pipe_instance(first)
            .reject_remote_clients(true)
            .in_buffer_size(64 * 1024)
            .out_buffer_size(64 * 1024);
        self.security.create(&options, &self.name)
    }
}

/// Serves the pipe that `make` gives to callers whose image `allowed` takes.
async fn serve(
    make: impl Fn() -> std::io::Result<Pipe>,
    allowed: fn(Option<&str>) -> bool,
    tx: mpsc::Sender<WatchEvent>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut backoff = Duration::from_secs(1);
    let mut warned = false;
    let (mut pipe, mut next) = loop {
        let made = make().and_then(|mut p| {
            let first = p.instance(true)?;
            Ok((p, first))
        });
        match made {
            Ok(made) => break made,
            Err(e) => {
                if !warned {
                    tracing::warn!(error = %e, "cannot open dwell's pipe (another program may hold it); browser tabs are not seen until it can be opened; will retry");
                    warned = true;
                }
                tokio::select! {
                    _ = &mut stop => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    };
    tracing::info!("dwell's pipe is open for the browsers' native host");
    let counts = Arc::new(Counts::default());
    let mut serial = 0u64;
    loop {
        let connected = tokio::select! {
            _ = &mut stop => return,
            _ = tx.closed() => return,
            r = next.connect() => r,
        };
        // The next instance first, so that another host can connect while
        // this one is served (and the name stays ours).
        let fresh = loop {
            match pipe.instance(false) {
                Ok(p) => break p,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot make another instance of dwell's pipe; trying again in 1 s");
                    tokio::select! {
                        _ = &mut stop => return,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
        };
        let conn = std::mem::replace(&mut next, fresh);
        if connected.is_err() {
            continue;
        }
        if !admitted(&conn, allowed, &counts) {
            let _ = conn.disconnect();
            continue;
        }
        serial += 1;
        counts.live.fetch_add(1, Ordering::Relaxed);
        let client = Client {
            sender: format!("pipe:{serial}"),
            tx: tx.clone(),
            counts: counts.clone(),
        };
        tokio::spawn(client.serve(conn));
    }
}

/// Whether the caller on `conn` is served: a process `allowed` takes, while
/// fewer than [`MAX_CLIENTS`] are. A refusal is logged once, then counted.
fn admitted(conn: &NamedPipeServer, allowed: fn(Option<&str>) -> bool, counts: &Counts) -> bool {
    let image = sys::pipe_client_pid(conn).and_then(sys::process_image).ok();
    if !allowed(image.as_deref()) {
        if Counts::first(&counts.refused) {
            tracing::warn!("refused a program that is not dwell's native host on dwell's pipe (logged once, then counted)");
        }
        tracing::debug!(
            refused = counts.refused.load(Ordering::Relaxed),
            "refused a caller on the pipe"
        );
        return false;
    }
    if counts.live.load(Ordering::Relaxed) >= MAX_CLIENTS {
        if Counts::first(&counts.dropped) {
            tracing::warn!(
                max = MAX_CLIENTS,
                "too many native hosts at once; the excess is disconnected (logged once, then counted)"
            );
        }
        return false;
    }
    true
}

/// One connected native host.
struct Client {
    /// The name its reports go by (the bus door's unique name's counterpart).
    sender: String,
    tx: mpsc::Sender<WatchEvent>,
    counts: Arc<Counts>,
}

impl Client {
    async fn serve(self, mut conn: NamedPipeServer) {
        let mut reported = false;
        loop {
            let frame = match read_frame(&mut conn).await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => {
                    tracing::debug!(error = %e, "a native host's connection broke off");
                    break;
                }
            };
            let Some(request) = Request::check(&frame) else {
                if Counts::first(&self.counts.malformed) {
                    tracing::warn!("ignored a malformed request on dwell's pipe and closed its connection (logged once)");
                }
                break;
            };
            let reply = match request {
                Checked::Tab { browser, facts } => {
                    reported = true;
                    tracing::debug!(host = ?facts.host, private = facts.private, focused = facts.focused, "tab report");
                    let (answer, answered) = Answer::new();
                    let event = WatchEvent::Tab {
                        browser,
                        sender: self.sender.clone(),
                        facts,
                        reply: answer,
                    };
                    if !self.send(event).await {
                        break;
                    }
                    let pause = tokio::time::timeout(ANSWER_TIMEOUT, answered)
                        .await
                        .ok()
                        .and_then(Result::ok)
                        .flatten();
                    Reply { pause }
                }
                Checked::PauseResult(choice) => {
                    if !self.send(choice.into()).await {
                        break;
                    }
                    Reply::default()
                }
            };
            let written =
                tokio::time::timeout(WRITE_TIMEOUT, write_frame(&mut conn, &reply.to_bytes()))
                    .await;
            if !matches!(written, Ok(Ok(()))) {
                tracing::debug!("a native host did not read its reply in time; disconnected");
                break;
            }
        }
        let _ = conn.disconnect();
        if reported {
            let gone = WatchEvent::TabGone {
                sender: self.sender.clone(),
            };
            self.send(gone).await;
        }
        self.counts.live.fetch_sub(1, Ordering::Relaxed);
    }

    /// Passes an event to the run loop; `false` when it is gone or stays full.
    async fn send(&self, event: WatchEvent) -> bool {
        match tokio::time::timeout(SEND_TIMEOUT, self.tx.send(event)).await {
            Ok(Ok(())) => true,
            Ok(Err(_)) => false,
            Err(_) => {
                tracing::warn!(
                    "the run loop took no event from dwell's pipe for 5 s; a report was dropped"
                );
                false
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::windows::named_pipe::ClientOptions;

    use crate::door::TabFacts;

    fn tab(host: &str) -> Vec<u8> {
        let facts = TabFacts {
            host: Some(host.into()),
            focused: true,
            ..TabFacts::default()
        };
        let body = Request::tab("edge", &facts).to_bytes();
        let mut frame = (body.len() as u32).to_ne_bytes().to_vec();
        frame.extend(body);
        frame
    }

    /// One client writes 10,000 requests and never reads a reply; another,
    /// meanwhile, is answered at once, and the flooder is dropped, not the door.
    #[test]
    fn a_flood_from_one_client_neither_blocks_nor_starves_another() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        // `serve` holds the pipe's access list (raw pointers): a local task.
        let local = tokio::task::LocalSet::new();
        local.block_on(&rt, async {
            let name = format!(r"\\.\pipe\dwell-test-{}", std::process::id());
            let (tx, mut rx) = mpsc::channel(64);
            let (stop_tx, stop_rx) = oneshot::channel();
            let made = name.clone();
            let server = tokio::task::spawn_local(serve(
                move || Pipe::named(made.clone()),
                |_| true,
                tx,
                stop_rx,
            ));
            // The run loop: answers every tab report, counts them.
            let loop_ = tokio::spawn(async move {
                let mut seen = Vec::new();
                while let Some(ev) = rx.recv().await {
                    if let WatchEvent::Tab { facts, reply, .. } = ev {
                        reply.send(None);
                        seen.push(facts.host.unwrap_or_default());
                    }
                }
                seen
            });
            let connect = |name: String| async move {
                for _ in 0..100 {
                    if let Ok(c) = ClientOptions::new().open(&name) {
                        return c;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                panic!("no pipe {name}");
            };
            let mut flooder = connect(name.clone()).await;
            let flood: Vec<u8> = (0..10_000).flat_map(|_| tab("flood.example.com")).collect();
            let flooding = tokio::spawn(async move {
                // Never reads: the writes stop when the pipe is full, and end
                // when the agent drops this client.
                let _ = flooder.write_all(&flood).await;
                flooder
            });
            tokio::time::sleep(Duration::from_millis(200)).await;
            let mut other = connect(name.clone()).await;
            let started = std::time::Instant::now();
            other.write_all(&tab("other.example.com")).await.unwrap();
            let mut len = [0u8; 4];
            other.read_exact(&mut len).await.unwrap();
            let mut body = vec![0u8; u32::from_ne_bytes(len) as usize];
            other.read_exact(&mut body).await.unwrap();
            assert_eq!(Reply::parse(&body), Some(Reply::default()));
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "{:?}",
                started.elapsed()
            );
            // The flooder is dropped once its replies stop being read.
            let flooder = tokio::time::timeout(WRITE_TIMEOUT * 4, flooding)
                .await
                .expect("the flooding client was never dropped")
                .unwrap();
            drop((flooder, other));
            let _ = stop_tx.send(());
            server.await.unwrap();
            let seen = loop_.await.unwrap();
            assert!(seen.iter().any(|h| h == "other.example.com"));
            assert!(seen.len() < 10_001, "{}", seen.len());
        });
    }
}

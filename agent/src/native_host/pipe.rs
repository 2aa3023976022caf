//! Windows: the host reaches the agent over a named pipe — **a stub for
//! now**: it tells the extension `{"dwell":"off"}` (no agent to count with,
//! so the extension shows no pause page and dwell counts browsers by window
//! title) and reads the browser's messages until the port closes. The real
//! one (the agent serving `\\.\pipe\dwell-<user SID>` for the user alone,
//! the same [`crate::door`] types on it) takes this file's place, with the
//! same [`run`].

use anyhow::{Context, Result};
use tokio::sync::mpsc;

use super::{read_input, reply, write_frame, Input};

/// Runs the host until the browser closes the port. `args` are what the
/// browser passed.
pub fn run(args: &[String]) -> Result<()> {
    tracing::info!(
        args = args.len(),
        "native-messaging host started (no door to the agent on Windows yet)"
    );
    let mut out = std::io::stdout().lock();
    write_frame(&mut out, reply(false)).context("cannot answer the browser")?;
    let (tx, mut rx) = mpsc::channel(16);
    std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || read_input(std::io::stdin().lock(), tx))
        .context("cannot start the thread reading from the browser")?;
    while let Some(input) = rx.blocking_recv() {
        match input {
            Input::End(error) => {
                if let Some(e) = error {
                    tracing::debug!(error = %e, "the browser's input ended with an error");
                }
                break;
            }
            Input::Facts(facts) => {
                tracing::debug!(focused = facts.focused, "tab facts: not passed on")
            }
            Input::PauseResult(outcome) => {
                tracing::debug!(outcome = outcome.as_str(), "pause result: not passed on")
            }
            Input::Dropped(why) => {
                tracing::debug!(reason = %why, "dropped a message from the browser")
            }
        }
    }
    Ok(())
}

//! The native host's end of the pipe door on Windows (the contract is in
//! [`super`]): connects to the current user's pipe, only to a server whose
//! process is `dwell-agent.exe`, and makes one call at a time, each within
//! [`CALL_TIMEOUT`]. A pipe whose every instance is taken (the agent makes
//! the next one just after each caller connects) is tried again for
//! [`BUSY_WAIT`]: another host's connection is not "no agent".

use std::time::Duration;

use tokio::net::windows::named_pipe::{ClientOptions, NamedPipeClient};
use windows_sys::Win32::Foundation::ERROR_PIPE_BUSY;

use super::{pipe_name, read_frame, sys, write_frame, Reply, Request};

/// How long one call (request written, reply read) may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a connection waits while every instance of the pipe is taken.
pub const BUSY_WAIT: Duration = Duration::from_secs(2);

/// Whether `e` says every instance of a pipe is taken.
pub fn is_busy(e: &std::io::Error) -> bool {
    e.raw_os_error() == i32::try_from(ERROR_PIPE_BUSY).ok()
}

/// Why the agent could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum Unreachable {
    /// No pipe (no agent running), or every instance busy.
    #[error("no dwell agent answers on its pipe: {0}")]
    NoAgent(std::io::Error),
    /// The pipe's server is not dwell's agent.
    #[error("another program holds dwell's pipe; nothing is sent to it")]
    NotTheAgent,
    /// The call broke off or took longer than [`CALL_TIMEOUT`].
    #[error("the call to the agent failed: {0}")]
    Call(std::io::Error),
}

/// A connection to the running agent.
pub struct Client {
    pipe: NamedPipeClient,
}

impl Client {
    /// Connects to the agent of the user this process runs as.
    pub async fn connect() -> Result<Client, Unreachable> {
        let sid = sys::current_user_sid().map_err(Unreachable::NoAgent)?;
        Client::connect_to(&pipe_name(&sid)).await
    }

    /// Connects to the pipe `name`, if its server is dwell's agent.
    async fn connect_to(name: &str) -> Result<Client, Unreachable> {
        let deadline = tokio::time::Instant::now() + BUSY_WAIT;
        let pipe = loop {
            match ClientOptions::new().open(name) {
                Ok(pipe) => break pipe,
                Err(e) if is_busy(&e) && tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => return Err(Unreachable::NoAgent(e)),
            }
        };
        let image = sys::pipe_server_pid(&pipe)
            .and_then(sys::process_image)
            .ok();
        if !super::is_agent(image.as_deref()) {
            return Err(Unreachable::NotTheAgent);
        }
        Ok(Client { pipe })
    }

    /// Sends `request` and reads the agent's reply.
    pub async fn call(&mut self, request: &Request) -> Result<Reply, Unreachable> {
        let exchange = async {
            write_frame(&mut self.pipe, &request.to_bytes()).await?;
            let body = read_frame(&mut self.pipe)
                .await?
                .ok_or(std::io::ErrorKind::UnexpectedEof)?;
            Reply::parse(&body).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "not a reply from the agent",
                )
            })
        };
        match tokio::time::timeout(CALL_TIMEOUT, exchange).await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(e)) => Err(Unreachable::Call(e)),
            Err(_) => Err(Unreachable::Call(std::io::ErrorKind::TimedOut.into())),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use tokio::net::windows::named_pipe::ServerOptions;

    /// Every instance taken for a moment (another host just connected, the
    /// agent not yet at its next instance): the connection waits for the
    /// next instance instead of calling the agent absent. The server here is
    /// this test program, so it is then refused as not the agent: what
    /// matters is that it was reached (before: `NoAgent`, the pipe busy).
    #[tokio::test]
    async fn a_busy_pipe_is_waited_for() {
        let name = format!(r"\\.\pipe\dwell-test-busy-{}", std::process::id());
        let first = ServerOptions::new()
            .first_pipe_instance(true)
            .create(&name)
            .unwrap();
        let _taken = ClientOptions::new().open(&name).unwrap();
        let err = ClientOptions::new().open(&name).unwrap_err();
        assert!(is_busy(&err), "{err}");
        let later = {
            let name = name.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                ServerOptions::new().create(&name).unwrap()
            })
        };
        let reached = Client::connect_to(&name).await;
        assert!(
            matches!(reached, Err(Unreachable::NotTheAgent)),
            "{:?}",
            reached.err()
        );
        drop((first, later.await.unwrap()));
    }
}

//! The native host's end of the pipe door on Windows (the contract is in
//! [`super`]): connects to the current user's pipe, only to a server whose
//! process is `dwell-agent.exe`, and makes one call at a time, each within
//! [`CALL_TIMEOUT`].

use std::time::Duration;

use tokio::net::windows::named_pipe::{ClientOptions, NamedPipeClient};

use super::{pipe_name, read_frame, sys, write_frame, Reply, Request};

/// How long one call (request written, reply read) may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);

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
    pub fn connect() -> Result<Client, Unreachable> {
        let sid = sys::current_user_sid().map_err(Unreachable::NoAgent)?;
        let pipe = ClientOptions::new()
            .open(pipe_name(&sid))
            .map_err(Unreachable::NoAgent)?;
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

//! A watcher's own thread that stops with its handle: [`Stoppable`] gives the
//! thread a stop signal and, when dropped, sends it and waits a little for the
//! thread to end. The bus thread on Linux (`watch/bus`) and the pipe's thread
//! on Windows (`watch/pipe.rs`) run under one.

use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

/// How long a drop waits for the thread to end. A thread with one last thing
/// to do (the bus thread unloads KWin's script, one call) gets this long; an
/// exit never hangs on it: a thread still running after that is left behind.
const GRACE: Duration = Duration::from_secs(2);

/// A running thread and its stop signal; dropping it stops the thread.
pub struct Stoppable {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    grace: Duration,
}

impl Stoppable {
    /// Starts the thread `name` running `body`, which is to return soon after
    /// its receiver fires (or is dropped with the handle's sender).
    pub fn spawn(
        name: &str,
        body: impl FnOnce(oneshot::Receiver<()>) + Send + 'static,
    ) -> std::io::Result<Stoppable> {
        let (stop, stopped) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || body(stopped))?;
        Ok(Stoppable {
            stop: Some(stop),
            thread: Some(thread),
            grace: GRACE,
        })
    }
}

impl Drop for Stoppable {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let deadline = Instant::now() + self.grace;
            while !thread.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            if thread.is_finished() {
                let _ = thread.join();
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    #[test]
    fn a_drop_stops_the_thread_and_waits_for_it() {
        let done = Arc::new(AtomicBool::new(false));
        let seen = done.clone();
        let handle = Stoppable::spawn("stoppable-test", move |stop| {
            let _ = stop.blocking_recv();
            // Its last work, done before the drop returns.
            std::thread::sleep(Duration::from_millis(50));
            seen.store(true, Ordering::SeqCst);
        })
        .unwrap();
        drop(handle);
        assert!(done.load(Ordering::SeqCst));
    }

    #[test]
    fn a_thread_that_does_not_stop_does_not_hang_the_drop() {
        let (_keep, never) = std::sync::mpsc::channel::<()>();
        let mut handle = Stoppable::spawn("stoppable-stuck", move |_stop| {
            let _ = never.recv_timeout(Duration::from_secs(60));
        })
        .unwrap();
        handle.grace = Duration::from_millis(50);
        let started = Instant::now();
        drop(handle);
        assert!(started.elapsed() < Duration::from_secs(30));
    }
}

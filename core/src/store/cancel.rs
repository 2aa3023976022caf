//! A stop token for the long work a store can do before it is open
//! ([`Store::open_checked_with`]: the health check, migrations, a salvage),
//! and for the running agent's upkeep ([`Store::upkeep`]: the daily check,
//! expiry, compaction).
//!
//! One flag shared by clones: whoever holds a clone (a signal task) calls
//! [`Cancel::cancel`], the store sees it at its safe points and, through a
//! SQLite progress handler, inside a long statement too. Setting the flag is a
//! single atomic store, so it may be done from anywhere, a signal handler included.

use std::os::raw::c_int;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use rusqlite::Connection;

use super::{Store, StoreError};

/// SQLite virtual-machine instructions between two looks at the token: a few
/// microseconds of work, so a long statement stops well within a millisecond.
const PROGRESS_OPS: c_int = 1000;

/// A cloneable stop token: [`Cancel::cancel`] on any clone stops the work of
/// [`Store::open_checked_with`] at its next safe point, with
/// [`StoreError::Cancelled`].
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<Flag>);

#[derive(Debug, Default)]
struct Flag {
    set: AtomicBool,
    /// Tests: sets the flag at the n-th look (0: never), so that a test can
    /// stop the work at each of its safe points in turn.
    #[cfg(test)]
    trip: std::sync::atomic::AtomicU64,
}

impl Cancel {
    /// A token not yet set.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Asks the work to stop. Idempotent; never undone.
    pub fn cancel(&self) {
        self.0.set.store(true, Ordering::Relaxed);
    }

    /// Whether [`Cancel::cancel`] was called on this token or a clone.
    pub fn is_cancelled(&self) -> bool {
        #[cfg(test)]
        if self.0.trip.load(Ordering::Relaxed) > 0
            && self.0.trip.fetch_sub(1, Ordering::Relaxed) == 1
        {
            self.cancel();
        }
        self.0.set.load(Ordering::Relaxed)
    }

    /// Tests: a token that sets itself at its `n`-th look (`n` > 0).
    #[cfg(test)]
    pub(super) fn after_looks(n: u64) -> Cancel {
        let c = Cancel::new();
        c.0.trip.store(n, Ordering::Relaxed);
        c
    }

    /// `Err(StoreError::Cancelled)` once the token is set.
    pub(super) fn check(&self, path: &Path) -> Result<(), StoreError> {
        match self.is_cancelled() {
            true => Err(StoreError::Cancelled {
                path: path.to_owned(),
            }),
            false => Ok(()),
        }
    }

    /// `r`, unless the token is set: then [`StoreError::Cancelled`], whatever
    /// the error was (an interrupted statement fails with `SQLITE_INTERRUPT`).
    pub(super) fn or_cancelled<T>(
        &self,
        path: &Path,
        r: Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match r {
            Err(_) if self.is_cancelled() => Err(StoreError::Cancelled {
                path: path.to_owned(),
            }),
            r => r,
        }
    }

    /// Makes SQLite interrupt any statement of `conn` once the token is set
    /// or, with a `deadline`, once that has passed.
    pub(super) fn watch(&self, conn: &mut Connection, deadline: Option<Instant>) {
        let token = self.clone();
        let stop = move || token.is_cancelled() || deadline.is_some_and(|d| Instant::now() >= d);
        // Only fails on a closed connection, which then runs nothing anyway.
        let _ = conn.progress_handler(PROGRESS_OPS, Some(stop));
    }
}

impl Store {
    /// Stops interrupting this store's statements (see [`Cancel::watch`]):
    /// a token set later (the agent stopping) must not cut its last writes.
    pub(super) fn unwatch(&mut self) {
        let _ = self.conn.progress_handler(0, None::<fn() -> bool>);
    }

    /// From now on, [`Store::upkeep`] stops soon after `cancel` is set (the
    /// running agent's stop token: SIGTERM or SIGINT).
    pub fn stop_upkeep_on(&mut self, cancel: Cancel) {
        self.upkeep_stop = Some(cancel);
    }

    /// Runs `f`, long upkeep (the daily [`Store::health_check`], expiry,
    /// compaction), stopped with [`StoreError::Cancelled`] within
    /// milliseconds once the token of [`Store::stop_upkeep_on`] is set, even
    /// inside a statement; what a cut transaction did is rolled back. Only
    /// `f`'s statements are watched: a stopping agent's last writes, after
    /// it, go through.
    pub fn upkeep<T>(
        &mut self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let Some(cancel) = self.upkeep_stop.clone() else {
            return f(self);
        };
        cancel.check(&self.path)?;
        cancel.watch(&mut self.conn, None);
        let result = f(self);
        self.unwatch();
        if !self.conn.is_autocommit() {
            // A transaction cut short by the interrupt: never left open.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        cancel.or_cancelled(&self.path, result)
    }
}

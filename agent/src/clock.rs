//! Wall-clock time, injected so the run loop can be replayed under tokio's paused
//! time in tests.

use chrono::{DateTime, Utc};

/// Where the run loop gets the current time from.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that follows tokio's (possibly paused) time from a fixed start.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    start_wall: DateTime<Utc>,
    start: tokio::time::Instant,
}

impl TokioClock {
    pub fn starting_at(start_wall: DateTime<Utc>) -> TokioClock {
        TokioClock {
            start_wall,
            start: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = tokio::time::Instant::now() - self.start;
        self.start_wall + chrono::Duration::from_std(elapsed).unwrap_or(chrono::Duration::zero())
    }
}

/// A test clock whose wall time can be stepped (a clock change, or what a
/// suspend looks like: the wall clock moves, tokio's monotonic time does not).
#[derive(Debug, Clone)]
pub struct SteppedClock {
    base: TokioClock,
    offset: std::sync::Arc<std::sync::Mutex<chrono::Duration>>,
}

impl SteppedClock {
    pub fn starting_at(start_wall: DateTime<Utc>) -> SteppedClock {
        SteppedClock {
            base: TokioClock::starting_at(start_wall),
            offset: Default::default(),
        }
    }

    /// Moves the wall clock by `by` (negative: backwards).
    pub fn step(&self, by: chrono::Duration) {
        let mut offset = match self.offset.lock() {
            Ok(o) => o,
            Err(poisoned) => poisoned.into_inner(),
        };
        *offset += by;
    }
}

impl Clock for SteppedClock {
    fn now(&self) -> DateTime<Utc> {
        let offset = match self.offset.lock() {
            Ok(o) => *o,
            Err(poisoned) => *poisoned.into_inner(),
        };
        self.base.now() + offset
    }
}

//! The desktop's time zone for the run loop, asked of the system once and
//! remembered: [`LocalZone`].
//!
//! `chrono::Local` asks the system at every conversion. On Linux that is
//! cheap (chrono keeps `/etc/localtime` read for a second), but on Windows
//! each conversion reads the zone from the registry (`GetTimeZoneInformationForYear`),
//! and a checkpoint of the loop converts about fifteen times: under Wine each
//! read is a round trip to the Wine server, most of the agent's CPU.
//!
//! [`Remembered`] asks once per quarter hour of UTC (UTC to local) and per
//! quarter hour of local time (local to UTC) and remembers the answer. Every
//! zone in use changes its offset on a quarter hour, by at least 30 minutes,
//! so within a quarter hour the answer is one: the system is asked at the
//! first and the last instant of the quarter, and the answer is remembered
//! only when both agree (a zone that changes elsewhere, such as Windows'
//! "23:59:59.999" rules, is asked at every conversion in that quarter only).
//!
//! What is remembered is forgotten when the zone may have changed:
//! [`Remembered::forget`] (the loop calls it on each "look again", which a
//! change of `/etc/localtime` sends on Linux), after which nothing is
//! remembered for [`SETTLE`] (chrono's own reading of `/etc/localtime` may be
//! a second old); and in any case [`KEEP`] after it was asked (Windows has no
//! such watcher: a new zone is seen within that).

use std::marker::PhantomData;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use chrono::{
    DateTime, FixedOffset, Local, MappedLocalTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
};

/// The length of a slot whose answer is remembered: a quarter hour.
const SLOT: i64 = 15 * 60;
/// How long an answer is remembered at most: a new zone not announced by a
/// watcher (on Windows) is seen within this.
pub const KEEP: Duration = Duration::from_secs(60);
/// After [`Remembered::forget`], how long nothing is remembered (the system's
/// own caches, such as chrono's second on `/etc/localtime`, catch up).
pub const SETTLE: Duration = Duration::from_secs(2);
/// Slots remembered at most in each direction (a loop uses a handful).
const MOST: usize = 64;

/// The desktop's zone, remembered: what the run loop and the store's rollups
/// use.
pub type LocalZone = Remembered<Desktop>;

/// Where a [`Remembered`] zone asks, and where it keeps what it was told.
pub trait System: 'static {
    /// What is remembered of this system (one per system).
    fn memory() -> &'static Memory;
    /// The offset at a UTC instant.
    fn offset_from_utc(utc: &NaiveDateTime) -> FixedOffset;
    /// The offset(s) of a local time: none in a gap, two in a fold.
    fn offset_from_local(local: &NaiveDateTime) -> MappedLocalTime<FixedOffset>;
    /// The monotonic clock what is remembered ages by.
    fn now() -> Instant {
        Instant::now()
    }
}

/// The system's zone, as `chrono::Local` reads it.
pub struct Desktop;

impl System for Desktop {
    fn memory() -> &'static Memory {
        static MEMORY: Memory = Memory::new();
        &MEMORY
    }
    fn offset_from_utc(utc: &NaiveDateTime) -> FixedOffset {
        Local.offset_from_utc_datetime(utc)
    }
    fn offset_from_local(local: &NaiveDateTime) -> MappedLocalTime<FixedOffset> {
        Local.offset_from_local_datetime(local)
    }
}

/// What a [`System`] said, by quarter hour.
pub struct Memory(Mutex<Slots>);

struct Slots {
    /// Offsets by quarter hour of UTC.
    utc: Vec<(i64, FixedOffset)>,
    /// Offsets by quarter hour of local time.
    local: Vec<(i64, MappedLocalTime<FixedOffset>)>,
    /// When the oldest answer kept was asked.
    since: Option<Instant>,
    /// Nothing is remembered before this (just after a forget).
    settled_at: Option<Instant>,
}

impl Memory {
    pub const fn new() -> Memory {
        Memory(Mutex::new(Slots {
            utc: Vec::new(),
            local: Vec::new(),
            since: None,
            settled_at: None,
        }))
    }

    /// The slots, with what is older than [`KEEP`] dropped.
    fn slots(&self, now: Instant) -> MutexGuard<'_, Slots> {
        // A panic while the lock was held (in the system's code) leaves
        // nothing half written: the slots are pushed whole.
        let mut slots = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if slots
            .since
            .is_some_and(|t| now.saturating_duration_since(t) >= KEEP)
        {
            slots.clear();
        }
        slots
    }
}

impl Default for Memory {
    fn default() -> Memory {
        Memory::new()
    }
}

impl Slots {
    fn clear(&mut self) {
        self.utc.clear();
        self.local.clear();
        self.since = None;
    }

    /// Whether an answer asked at `now` may be kept; starts its age.
    fn may_keep(&mut self, now: Instant) -> bool {
        if self.settled_at.is_some_and(|t| now < t) {
            return false;
        }
        if self.utc.len() >= MOST || self.local.len() >= MOST {
            self.clear();
        }
        self.since.get_or_insert(now);
        true
    }
}

/// A [`System`]'s zone, remembered by quarter hour (see the module doc).
pub struct Remembered<S: System>(PhantomData<fn() -> S>);

impl<S: System> Remembered<S> {
    pub const fn new() -> Self {
        Remembered(PhantomData)
    }

    /// The zone may have changed: ask the system again (and keep nothing for
    /// [`SETTLE`]).
    pub fn forget() {
        let now = S::now();
        let mut slots = S::memory().slots(now);
        slots.clear();
        slots.settled_at = Some(now + SETTLE);
    }
}

impl<S: System> Default for Remembered<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: System> Clone for Remembered<S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S: System> Copy for Remembered<S> {}

impl<S: System> std::fmt::Debug for Remembered<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Remembered")
    }
}

/// The first and last instant of quarter hour `slot` (seconds since the
/// epoch over [`SLOT`]), as naive date-times.
fn slot_ends(slot: i64) -> Option<(NaiveDateTime, NaiveDateTime)> {
    let first = DateTime::from_timestamp(slot.checked_mul(SLOT)?, 0)?.naive_utc();
    let last = first
        .checked_add_signed(chrono::TimeDelta::seconds(SLOT))?
        .checked_sub_signed(chrono::TimeDelta::nanoseconds(1))?;
    Some((first, last))
}

fn slot_of(t: &NaiveDateTime) -> i64 {
    t.and_utc().timestamp().div_euclid(SLOT)
}

impl<S: System> TimeZone for Remembered<S> {
    type Offset = FixedOffset;

    fn from_offset(_offset: &FixedOffset) -> Self {
        Self::new()
    }

    fn offset_from_local_date(&self, local: &NaiveDate) -> MappedLocalTime<FixedOffset> {
        self.offset_from_local_datetime(&local.and_time(NaiveTime::MIN))
    }

    fn offset_from_local_datetime(&self, local: &NaiveDateTime) -> MappedLocalTime<FixedOffset> {
        let now = S::now();
        let slot = slot_of(local);
        let mut slots = S::memory().slots(now);
        if let Some((_, known)) = slots.local.iter().find(|(s, _)| *s == slot) {
            return *known;
        }
        if let Some((first, last)) = slot_ends(slot) {
            let answer = S::offset_from_local(&first);
            if answer == S::offset_from_local(&last) {
                if slots.may_keep(now) {
                    slots.local.push((slot, answer));
                }
                return answer;
            }
        }
        S::offset_from_local(local)
    }

    fn offset_from_utc_date(&self, utc: &NaiveDate) -> FixedOffset {
        self.offset_from_utc_datetime(&utc.and_time(NaiveTime::MIN))
    }

    fn offset_from_utc_datetime(&self, utc: &NaiveDateTime) -> FixedOffset {
        let now = S::now();
        let slot = slot_of(utc);
        let mut slots = S::memory().slots(now);
        if let Some((_, known)) = slots.utc.iter().find(|(s, _)| *s == slot) {
            return *known;
        }
        if let Some((first, last)) = slot_ends(slot) {
            let answer = S::offset_from_utc(&first);
            if answer == S::offset_from_utc(&last) {
                if slots.may_keep(now) {
                    slots.utc.push((slot, answer));
                }
                return answer;
            }
        }
        S::offset_from_utc(utc)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

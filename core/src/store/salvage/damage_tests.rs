//! Random damage, anywhere: a database as weeks of use leave it (some of it
//! still in the WAL), random bytes written over random parts of the file, its
//! `-wal` or its `-shm`, or the file cut short; then [`Store::open_checked`]
//! must end, keep the damaged file byte for byte, and leave a whole database
//! that opens normally afterwards.

use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::config::DbConfig;

use super::*;
use crate::model::{ReminderRecord, Span};
use crate::testing::{span, t};

/// How long a salvage may take before the test calls it a hang: generous (a
/// debug build on a busy machine); the tests check that it ends, not its speed.
const HANG: Duration = Duration::from_secs(60);

/// xorshift64*: a small seeded generator, so each seed is one reproducible case.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// In `0..n` (`n` > 0).
    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub(super) fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next().to_le_bytes()[3]).collect()
    }
}

/// A database as `weeks` weeks of use leave it: consent, a pause, 30 sites,
/// about 80 spans a work day (social or not), reminders, weekly notes, the
/// rollups; the consent (as `dwell-agent enable` writes it) and, when
/// `last_day_in_wal`, the last day's writes left in the WAL (as when the
/// agent was stopped hard), with its `-shm`.
pub(super) fn realistic(dir: &Path, weeks: i64, seed: u64, last_day_in_wal: bool) {
    let mut rng = Rng::new(seed);
    let mut store = Store::open(dir).unwrap();
    store.keep_rollups(Utc).unwrap();
    crate::control::set_pause(&store, crate::control::Pause::Indefinite).unwrap();
    crate::control::clear_pause(&store).unwrap();
    let sites: Vec<String> = (0..30).map(|i| format!("site{i}.example")).collect();
    let day_spans = |day: i64, rng: &mut Rng| -> Vec<Span> {
        let mut at = day * 86_400 + 8 * 3600;
        (0..80)
            .map(|_| {
                let len = 5 + rng.below(400) as i64;
                let site = match rng.below(3) {
                    0 => None,
                    _ => Some(sites[rng.below(30) as usize].as_str()),
                };
                let s = span(at, at + len, site);
                at += len + rng.below(60) as i64;
                s
            })
            .collect()
    };
    let days: Vec<i64> = (0..weeks * 7).filter(|d| d % 7 < 5).collect();
    let (last, earlier) = days.split_last().unwrap();
    for &day in earlier {
        store.put_spans(&day_spans(day, &mut rng)).unwrap();
        for k in 0..2 {
            store.put_reminder(&reminder(day, k, &mut rng)).unwrap();
        }
        if day % 7 == 4 {
            let week = format!("2025-W{:02}", 48 + day / 7);
            let when = t(day * 86_400);
            store.put_note(&week, "Fewer short visits.", when).unwrap();
        }
    }
    store
        .conn
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA wal_autocheckpoint = 0")
        .unwrap();
    store.set_consent(t(-86_400)).unwrap();
    if last_day_in_wal {
        for chunk in day_spans(*last, &mut rng).chunks(10) {
            store.put_spans(chunk).unwrap();
        }
        store.put_reminder(&reminder(*last, 0, &mut rng)).unwrap();
    }
    store
        .conn
        .set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
        .unwrap();
}

fn reminder(day: i64, k: i64, rng: &mut Rng) -> ReminderRecord {
    ReminderRecord {
        at: t(day * 86_400 + 10 * 3600 + k * 7200),
        kind: ["stage", "over", "streak"][rng.below(3) as usize].into(),
        outcome: ["shown", "snoozed", "dismissed"][rng.below(3) as usize].into(),
        left_social: Some(rng.below(2) == 0),
        message: Some(format!("en-time-{:02}", rng.below(12))),
    }
}

/// Writes `bytes` at `offset` of `path`.
pub(super) fn write_at(path: &Path, offset: u64, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(offset)).unwrap();
    f.write_all(bytes).unwrap();
    f.sync_all().unwrap();
}

fn read_or_empty(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

/// The files of the database in `dir` as they are now: main file and WAL.
fn snapshot(dir: &Path) -> (Vec<u8>, Vec<u8>) {
    (
        read_or_empty(&dir.join("dwell.db")),
        read_or_empty(&dir.join("dwell.db-wal")),
    )
}

/// [`Store::open_checked`] on another thread: `None` when it has not ended
/// within [`HANG`] (the thread is left behind; the test fails).
pub(super) fn open_ending(
    dir: &Path,
    now: DateTime<Utc>,
) -> Option<Result<(Store, Option<Salvage>), StoreError>> {
    let (tx, rx) = mpsc::channel();
    let dir: PathBuf = dir.to_owned();
    std::thread::spawn(move || {
        let _ = tx.send(Store::open_checked(&dir, now));
    });
    rx.recv_timeout(HANG).ok()
}

/// Opens the damaged database in `dir` and checks what a salvage promises:
/// it ends; the damaged file is kept byte for byte; the database left in
/// its place is whole and opens normally afterwards.
pub(super) fn opens_after_damage(dir: &Path, what: &str) -> Option<Salvage> {
    let (db_before, wal_before) = snapshot(dir);
    let now = Utc.with_ymd_and_hms(2026, 2, 1, 9, 0, 0).unwrap();
    let opened = open_ending(dir, now).unwrap_or_else(|| panic!("{what}: did not end"));
    let (store, salvage) = opened.unwrap_or_else(|e| panic!("{what}: {e}"));
    if let Some(s) = &salvage {
        assert_eq!(
            read_or_empty(&s.moved_to),
            db_before,
            "{what}: the damaged file was changed"
        );
        let wal_after = read_or_empty(&with_suffix(&s.moved_to, "-wal"));
        assert_eq!(wal_after, wal_before, "{what}: the damaged WAL was changed");
        assert!(!s.note.is_empty());
    }
    assert_eq!(store.integrity_check().unwrap(), Ok(()), "{what}");
    drop(store);
    let rebuilding = dir.join("dwell.db.rebuilding");
    assert!(!rebuilding.exists(), "{what}: {rebuilding:?} left behind");
    let (store, again) = open_ending(dir, now)
        .unwrap_or_else(|| panic!("{what}: did not end the second time"))
        .unwrap_or_else(|e| panic!("{what}: second open: {e}"));
    assert_eq!(again, None, "{what}: damaged again");
    assert_eq!(store.integrity_check().unwrap(), Ok(()), "{what}");
    store.spans(t(-1_000_000), t(100_000_000)).unwrap();
    drop(store);
    Store::open(dir).unwrap_or_else(|e| panic!("{what}: plain open: {e}"));
    salvage
}

/// The reported case (issue 18): 8 KB of random bytes at 16 K and at 32 K
/// of a database of eight weeks. It made the salvage loop forever.
#[test]
fn random_bytes_at_16k_and_32k_are_salvaged_and_the_salvage_ends() {
    for (seed, offset) in [
        (5, 16 * 1024),
        (5, 32 * 1024),
        (6, 16 * 1024),
        (7, 32 * 1024),
    ] {
        let dir = tempfile::tempdir().unwrap();
        realistic(dir.path(), 8, seed, false);
        let mut rng = Rng::new(seed);
        write_at(&dir.path().join("dwell.db"), offset, &rng.bytes(8192));
        let what = format!("seed {seed}, 8 KB at {offset}");
        let salvage = opens_after_damage(dir.path(), &what);
        let salvage = salvage.unwrap_or_else(|| panic!("{what}: the damage was not noticed"));
        assert!(salvage.consent, "{what}: {}", salvage.note);
    }
}

//! The running agent's long store work measured (an ignored test, run by
//! `scripts/bench-upkeep`; results in docs/benchmarks.md): on a 100 MB
//! database of schema 4 (`DWELL_BENCH_MB=5` for a quick run), migration 5
//! (both tables rewritten), then the daily check and an expiry of half the
//! spans, and how soon a stop token set in the middle of each is obeyed
//! ([`Store::upkeep`]). Also the bench data both this and the salvage bench
//! (`salvage/bench.rs`) build their databases from.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};

use super::schema::MIGRATIONS;
use super::*;

/// The rows of a database of about `mb` MB, as SQL for either schema (4 or
/// 5): 30 sites, spans every 37 s with their lengths and sites varied,
/// reminders. The salvage bench (`salvage/bench.rs`) uses them too.
pub(super) fn bench_rows(mb: u64) -> String {
    // About 21 bytes a span on disk.
    let spans = mb * 1_000_000 / 21;
    format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30)
         INSERT INTO sites (id, label) SELECT i, 'site' || i || '.example' FROM n;
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {spans})
         INSERT INTO spans (start, end, site, source)
         SELECT 1600000000000 + i * 37000, 1600000000000 + i * 37000 + 1000 * (5 + i * 7919 % 300),
                CASE WHEN i % 3 = 0 THEN NULL ELSE 1 + i * 31 % 30 END, 1 FROM n;
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {spans} / 200)
         INSERT INTO reminders (at, kind, outcome, left_social, message)
         SELECT 1600000000000 + i * 7400000, 'stage', 'shown', i % 2, 'en-time-03' FROM n;"
    )
}

/// Copies the database's files (the file and its WAL, if any) from `from` to `to`.
pub(super) fn copy_files(from: &Path, to: &Path) {
    for name in [DB_FILE, "dwell.db-wal"] {
        if from.join(name).exists() {
            std::fs::copy(from.join(name), to.join(name)).unwrap();
        }
    }
}

/// The sizes to measure, in MB: `DWELL_BENCH_MB` (`5` or `10,100`), else `default`.
pub(super) fn sizes(default: &[u64]) -> Vec<u64> {
    std::env::var("DWELL_BENCH_MB")
        .ok()
        .map(|s| s.split(',').filter_map(|m| m.parse().ok()).collect())
        .unwrap_or_else(|| default.to_vec())
}

/// A schema-4 database of about `mb` MB ([`bench_rows`]), consent given;
/// checkpointed.
fn schema_4_of(dir: &Path, mb: u64) {
    let conn = rusqlite::Connection::open(dir.join(DB_FILE)).unwrap();
    conn.execute_batch("PRAGMA journal_mode = WAL").unwrap();
    for m in &MIGRATIONS[..4] {
        conn.execute_batch(m).unwrap();
    }
    conn.execute_batch(&format!(
        "BEGIN;
         {}
         INSERT INTO meta (key, value) VALUES ('consent_at', '2020-01-01T00:00:00+00:00');
         PRAGMA user_version = 4;
         COMMIT;
         PRAGMA wal_checkpoint(TRUNCATE);",
        bench_rows(mb)
    ))
    .unwrap();
}

/// `d` in milliseconds.
pub(super) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Runs `f` on a copy of the database in `template`, and again with a stop
/// token set `after` into it: how long it took, and how soon it stopped.
fn timed(
    template: &Path,
    what: &str,
    after: Duration,
    f: fn(&mut Store) -> Result<(), StoreError>,
) {
    let dir = tempfile::tempdir().unwrap();
    copy_files(template, dir.path());
    let mut store = Store::open(dir.path()).unwrap();
    let started = Instant::now();
    f(&mut store).unwrap();
    println!("{what}: {:.0} ms", ms(started.elapsed()));

    let dir = tempfile::tempdir().unwrap();
    copy_files(template, dir.path());
    let mut store = Store::open(dir.path()).unwrap();
    let cancel = Cancel::new();
    store.stop_upkeep_on(cancel.clone());
    let setter = std::thread::spawn(move || {
        std::thread::sleep(after);
        cancel.cancel();
        Instant::now()
    });
    let r = store.upkeep(f);
    let ended = Instant::now();
    let set = setter.join().unwrap();
    println!(
        "{what}, stop set {} ms in: {} {:.1} ms later",
        after.as_millis(),
        match r {
            Err(StoreError::Cancelled { .. }) => "cancelled",
            Ok(()) => "finished",
            Err(_) => "failed",
        },
        ms(ended.saturating_duration_since(set))
    );
}

#[test]
#[ignore = "a benchmark: scripts/bench-upkeep"]
fn bench_upkeep() {
    for mb in sizes(&[100]) {
        upkeep_of(mb);
    }
}

/// The bench on a schema-4 database of about `mb` MB.
fn upkeep_of(mb: u64) {
    let template = tempfile::tempdir().unwrap();
    schema_4_of(template.path(), mb);
    let size = std::fs::metadata(template.path().join(DB_FILE))
        .unwrap()
        .len();
    println!("schema 4: {size} bytes");
    // Migration 5, stopped or not.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(template.path().join(DB_FILE), dir.path().join(DB_FILE)).unwrap();
    let started = Instant::now();
    let now = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap();
    let (store, _) = Store::open_checked(dir.path(), now).unwrap();
    println!(
        "open_checked with migration 5 (and the compaction after it): {:.0} ms",
        ms(started.elapsed())
    );
    drop(store);
    let migrated = std::fs::metadata(dir.path().join(DB_FILE)).unwrap().len();
    println!("schema 5: {migrated} bytes");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(template.path().join(DB_FILE), dir.path().join(DB_FILE)).unwrap();
    let cancel = Cancel::new();
    let (c, d) = (cancel.clone(), dir.path().to_owned());
    let worker = std::thread::spawn(move || {
        let r = Store::open_checked_with(&d, now, &c).map(|_| ());
        (r, Instant::now())
    });
    std::thread::sleep(Duration::from_millis(1000));
    let set = Instant::now();
    cancel.cancel();
    let (r, ended) = worker.join().unwrap();
    println!(
        "migration, stop set 1000 ms in: {} {:.1} ms later",
        if matches!(r, Err(StoreError::Cancelled { .. })) {
            "cancelled"
        } else {
            "not cancelled"
        },
        ms(ended.saturating_duration_since(set))
    );
    // The daily check and an expiry of half the spans, on the migrated file.
    timed(
        dir.path(),
        "daily check (quick_check)",
        Duration::from_millis(300),
        |s| s.health_check(),
    );
    timed(
        dir.path(),
        "expiry of half the spans, compaction included",
        Duration::from_millis(1000),
        |s| {
            // Spans run from 2020-09-13 over about 5.6 years: keep about half.
            let now = Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap();
            crate::control::apply_retention(s, Duration::from_secs(1000 * 86_400), now).map(drop)
        },
    );
}

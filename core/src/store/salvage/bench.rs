//! The salvage measured (`scripts/bench-salvage`, results in
//! docs/benchmarks.md): databases of 10 MB and 100 MB, damaged with random
//! bytes at random places (several seeds), each salvaged from a fresh copy;
//! and how soon a stop token set in the middle of a 100 MB salvage is obeyed.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};

use super::damage_tests::{write_at, Rng};
use super::*;

/// A database of about `mb` MB: consent, 30 sites, spans every 37 s with
/// their lengths and sites varied, reminders, notes; checkpointed.
fn database_of(dir: &Path, mb: u64) {
    let store = Store::open(dir).unwrap();
    store.set_consent(Utc::now()).unwrap();
    // About 21 bytes a span on disk.
    let spans = mb * 1_000_000 / 21;
    store
        .conn
        .execute_batch(&format!(
            "BEGIN;
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30)
             INSERT INTO sites (id, label) SELECT i, 'site' || i || '.example' FROM n;
             WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {spans})
             INSERT INTO spans (start, end, site, source)
             SELECT 1600000000000 + i * 37000, 1600000000000 + i * 37000 + 1000 * (5 + i * 7919 % 300),
                    CASE WHEN i % 3 = 0 THEN NULL ELSE 1 + i * 31 % 30 END, 1 FROM n;
             WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {spans} / 200)
             INSERT INTO reminders (at, kind, outcome, left_social, message)
             SELECT 1600000000000 + i * 7400000, 'stage', 'shown', i % 2, 'en-time-03' FROM n;
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 52)
             INSERT INTO notes (week, text, written)
             SELECT printf('2025-W%02d', i), 'Fewer short visits.', 1600000000000 FROM n;
             COMMIT;
             PRAGMA wal_checkpoint(TRUNCATE);"
        ))
        .unwrap();
}

fn copy_files(from: &Path, to: &Path) {
    for name in ["dwell.db", "dwell.db-wal"] {
        if from.join(name).exists() {
            std::fs::copy(from.join(name), to.join(name)).unwrap();
        }
    }
}

/// Damages a copy of `template` as `seed` says (1 to 3 places, 1 to 8 KB of
/// random bytes each; seed 0 is the reported case, 8 KB at 16 K and 32 K).
fn damaged_copy(template: &Path, seed: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_files(template, dir.path());
    let db = dir.path().join("dwell.db");
    let mut rng = Rng::new(seed);
    if seed == 0 {
        write_at(&db, 16 * 1024, &rng.bytes(8192));
        write_at(&db, 32 * 1024, &rng.bytes(8192));
        return dir;
    }
    let len = std::fs::metadata(&db).unwrap().len();
    for _ in 0..1 + rng.below(3) {
        let at = rng.below(len);
        let n = 1 + rng.below(8192) as usize;
        write_at(&db, at, &rng.bytes(n));
    }
    dir
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[test]
#[ignore = "a benchmark: scripts/bench-salvage"]
fn bench_salvage() {
    let seeds: u64 = std::env::var("DWELL_BENCH_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let now = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap();
    let sizes: Vec<u64> = std::env::var("DWELL_BENCH_MB")
        .ok()
        .map(|s| s.split(',').filter_map(|m| m.parse().ok()).collect())
        .unwrap_or(vec![10, 100]);
    for mb in sizes {
        let template = tempfile::tempdir().unwrap();
        database_of(template.path(), mb);
        let size = std::fs::metadata(template.path().join("dwell.db"))
            .unwrap()
            .len();
        let mut times = Vec::new();
        for seed in 0..seeds {
            let dir = damaged_copy(template.path(), seed);
            let started = Instant::now();
            let (_, salvage) = Store::open_checked(dir.path(), now).unwrap();
            let took = started.elapsed();
            match salvage {
                Some(s) => println!(
                    "{mb} MB seed {seed}: salvaged in {:.0} ms: {} spans kept, {} lost",
                    ms(took),
                    s.spans,
                    s.lost
                ),
                None => println!(
                    "{mb} MB seed {seed}: not seen as damaged ({:.0} ms)",
                    ms(took)
                ),
            }
            times.push(took);
        }
        times.sort();
        println!(
            "{mb} MB ({size} bytes): median {:.0} ms, worst {:.0} ms over {seeds} seeds",
            ms(times[times.len() / 2]),
            ms(times[times.len() - 1])
        );
        if mb == 100 {
            stop_latency(template.path(), now);
        }
    }
}

/// How soon a stop token set during a 100 MB salvage is obeyed.
fn stop_latency(template: &Path, now: chrono::DateTime<Utc>) {
    for after in [Duration::from_millis(300), Duration::from_millis(1500)] {
        let dir = damaged_copy(template, 1);
        let before = std::fs::read(dir.path().join("dwell.db")).unwrap();
        let cancel = Cancel::new();
        let (c, d) = (cancel.clone(), dir.path().to_owned());
        let worker = std::thread::spawn(move || {
            let r = Store::open_checked_with(&d, now, &c).map(|_| ());
            (r, Instant::now())
        });
        std::thread::sleep(after);
        let set = Instant::now();
        cancel.cancel();
        let (r, ended) = worker.join().unwrap();
        let kept = std::fs::read(dir.path().join("dwell.db")).unwrap() == before;
        println!(
            "stop set {} ms into a 100 MB salvage: {} {:.1} ms later; damaged file in place byte for byte: {kept}",
            after.as_millis(),
            match r {
                Err(StoreError::Cancelled { .. }) => "cancelled",
                Ok(()) => "finished",
                Err(_) => "failed",
            },
            ms(ended.saturating_duration_since(set))
        );
    }
}

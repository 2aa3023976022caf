//! The salvage measured (`scripts/bench-salvage`, results in
//! docs/benchmarks.md): databases of 10 MB and 100 MB, damaged with random
//! bytes at random places (several seeds), each salvaged from a fresh copy;
//! and how soon a stop token set in the middle of a 100 MB salvage is obeyed.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};

use super::super::upkeep_bench::{bench_rows, copy_files, ms, sizes};
use super::damage_tests::{write_at, Rng};
use super::*;

/// A database of about `mb` MB: consent, the bench's rows
/// ([`bench_rows`]), notes; checkpointed.
fn database_of(dir: &Path, mb: u64) {
    let store = Store::open(dir).unwrap();
    store.set_consent(Utc::now()).unwrap();
    store
        .conn
        .execute_batch(&format!(
            "BEGIN;
             {}
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 52)
             INSERT INTO notes (week, text, written)
             SELECT printf('2025-W%02d', i), 'Fewer short visits.', 1600000000000 FROM n;
             COMMIT;
             PRAGMA wal_checkpoint(TRUNCATE);",
            bench_rows(mb)
        ))
        .unwrap();
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

#[test]
#[ignore = "a benchmark: scripts/bench-salvage"]
fn bench_salvage() {
    let seeds: u64 = std::env::var("DWELL_BENCH_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let now = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap();
    for mb in sizes(&[10, 100]) {
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

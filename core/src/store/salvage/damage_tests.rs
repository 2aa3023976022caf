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

/// Copies the database files of `from` (main, WAL, wal-index) into `to`.
fn copy_database(from: &Path, to: &Path) {
    for name in ["dwell.db", "dwell.db-wal", "dwell.db-shm"] {
        if from.join(name).exists() {
            std::fs::copy(from.join(name), to.join(name)).unwrap();
        }
    }
}

/// Damages the database in `dir` as `rng` says: random bytes (1 to 8 KB) at
/// random places of the main file (at times in its first page: the header
/// and `sqlite_schema`), of its WAL or of its `-shm`, or the file cut short.
/// Says what it did.
fn damage(dir: &Path, rng: &mut Rng) -> String {
    let db = dir.join("dwell.db");
    let len_of = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
    let scribble = |path: &Path, first_page: bool, rng: &mut Rng| {
        let len = len_of(path).max(1);
        let at = match first_page {
            true => rng.below(4096.min(len)),
            false => rng.below(len),
        };
        let n = 1 + rng.below(8192) as usize;
        write_at(path, at, &rng.bytes(n));
        format!("{n} bytes at {at} of {}", path.display())
    };
    let mut what = Vec::new();
    for _ in 0..1 + rng.below(3) {
        let done = match rng.below(16) {
            0..=8 => scribble(&db, false, rng),
            9 | 10 => scribble(&db, true, rng),
            11 | 12 => scribble(&dir.join("dwell.db-wal"), false, rng),
            13 => scribble(&dir.join("dwell.db-shm"), false, rng),
            _ => {
                let to = rng.below(len_of(&db));
                let f = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
                f.set_len(to).unwrap();
                format!("cut to {to} bytes")
            }
        };
        what.push(done);
    }
    what.join(", ")
}

/// Seeds run by default; `DWELL_SALVAGE_SEEDS` asks for more.
fn seeds() -> u64 {
    std::env::var("DWELL_SALVAGE_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64)
}

/// Random damage anywhere, for many seeds: the salvage always ends, keeps
/// the damaged file byte for byte, and leaves a whole database behind.
#[test]
fn random_damage_anywhere_is_salvaged_and_the_salvage_ends() {
    let templates = tempfile::tempdir().unwrap();
    let kinds = [("consent in the WAL", false), ("last day in the WAL", true)];
    for (i, (_, last_day_in_wal)) in kinds.iter().enumerate() {
        let dir = templates.path().join(i.to_string());
        realistic(&dir, 8, 1000 + i as u64, *last_day_in_wal);
    }
    let (mut salvaged, mut consent_kept) = (0, 0);
    for seed in 0..seeds() {
        let mut rng = Rng::new(seed);
        let kind = rng.below(kinds.len() as u64) as usize;
        let dir = tempfile::tempdir().unwrap();
        copy_database(&templates.path().join(kind.to_string()), dir.path());
        let what = format!(
            "seed {seed} ({}): {}",
            kinds[kind].0,
            damage(dir.path(), &mut rng)
        );
        if let Some(s) = opens_after_damage(dir.path(), &what) {
            salvaged += 1;
            consent_kept += usize::from(s.consent);
        }
    }
    // Most random damage is seen (a change to a row's values can only be
    // seen as the values it gives), and most salvages keep the consent.
    assert!(salvaged * 2 > seeds() as usize, "{salvaged} salvaged");
    assert!(consent_kept * 2 > salvaged, "{consent_kept} of {salvaged}");
}

/// The names in `dir` of files a salvage moved aside.
fn moved_aside(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("damaged"))
        .collect()
}

/// An eight-week database damaged as in the report, in `dir`.
fn damaged_as_reported(dir: &Path) {
    realistic(dir, 8, 5, false);
    write_at(&dir.join("dwell.db"), 16 * 1024, &Rng::new(5).bytes(8192));
}

#[test]
fn a_token_set_before_stops_at_once_and_moves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    damaged_as_reported(dir.path());
    let before = snapshot(dir.path());
    let cancel = Cancel::new();
    cancel.cancel();
    let now = Utc.with_ymd_and_hms(2026, 2, 1, 9, 0, 0).unwrap();
    let e = Store::open_checked_with(dir.path(), now, &cancel).unwrap_err();
    assert!(matches!(e, StoreError::Cancelled { .. }), "{e}");
    assert!(!e.is_permanent());
    assert_eq!(snapshot(dir.path()), before);
    assert_eq!(moved_aside(dir.path()), Vec::<String>::new());
    // The next start salvages it.
    assert!(opens_after_damage(dir.path(), "after a stop").is_some());
}

/// The token set at its 1st, 2nd, 3rd, 5th, ... look: the health check, the
/// reading, the writing of the fresh database and the check of it are each
/// stopped at some point. Each time the damaged file stays in place, byte
/// for byte, and the next start salvages it.
#[test]
fn a_token_set_at_any_point_of_a_salvage_stops_it_and_moves_nothing() {
    let template = tempfile::tempdir().unwrap();
    damaged_as_reported(template.path());
    let now = Utc.with_ymd_and_hms(2026, 2, 1, 9, 0, 0).unwrap();
    let (mut looks, mut stopped) = (1u64, 0);
    loop {
        let dir = tempfile::tempdir().unwrap();
        copy_database(template.path(), dir.path());
        let before = snapshot(dir.path());
        let cancel = Cancel::after_looks(looks);
        let (tx, rx) = mpsc::channel();
        let (d, c) = (dir.path().to_owned(), cancel.clone());
        std::thread::spawn(move || {
            let _ = tx.send(Store::open_checked_with(&d, now, &c).map(|(_, s)| s));
        });
        let opened = rx
            .recv_timeout(HANG)
            .unwrap_or_else(|_| panic!("stopped at look {looks}: did not end"));
        match opened {
            Err(StoreError::Cancelled { .. }) => {
                stopped += 1;
                assert_eq!(snapshot(dir.path()), before, "stopped at look {looks}");
                assert_eq!(moved_aside(dir.path()), Vec::<String>::new());
                assert!(!dir.path().join("dwell.db.reading").exists());
                let what = format!("after a stop at look {looks}");
                assert!(opens_after_damage(dir.path(), &what).is_some());
            }
            Ok(salvage) => {
                // The token was not looked at that often: done.
                assert!(salvage.is_some());
                break;
            }
            Err(e) => panic!("stopped at look {looks}: {e}"),
        }
        looks += looks / 2 + 1;
    }
    assert!(stopped >= 10, "only {stopped} points tried");
}

/// The spans in the database file at `db`, as SQL reads them (healthy).
fn span_count(db: &Path) -> usize {
    let conn = rusqlite::Connection::open(db).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM spans", [], |r| r.get(0))
        .unwrap();
    n as usize
}

/// The spans table's root page.
fn spans_root(db: &Path) -> u64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    let root: i64 = conn
        .query_row(
            "SELECT rootpage FROM sqlite_schema WHERE name = 'spans'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    root as u64
}

/// Issue 18: random bytes over the spans table's root page leave every span
/// unreachable by SQL, although the leaf pages holding them are intact: they
/// are read from the leaves (failed before: 0 spans kept).
#[test]
fn spans_under_a_damaged_root_page_are_read_from_their_leaves() {
    for (weeks, seed) in [(1, 21), (3, 22), (8, 23)] {
        let dir = tempfile::tempdir().unwrap();
        realistic(dir.path(), weeks, seed, false);
        let db = dir.path().join("dwell.db");
        let (before, root) = (span_count(&db), spans_root(&db));
        write_at(&db, (root - 1) * 4096, &Rng::new(seed).bytes(4096));
        let what = format!("{weeks} week(s), root page {root} damaged");
        let s = opens_after_damage(dir.path(), &what).unwrap_or_else(|| panic!("{what}: unseen"));
        assert!(
            s.spans * 10 >= before * 9,
            "{what}: {} of {before} spans kept",
            s.spans
        );
        assert!(s.consent, "{what}");
        let store = Store::open(dir.path()).unwrap();
        let kept = store.spans(t(-1_000_000), t(100_000_000)).unwrap();
        assert_eq!(kept.len(), s.spans, "{what}");
        assert!(kept.iter().all(|k| k.end > k.start), "{what}");
    }
}

/// The root and random other pages of a database damaged, for many seeds:
/// the spans of the intact pages are kept (a page holds at most about 250).
#[test]
fn spans_of_intact_pages_are_kept_whatever_pages_are_damaged() {
    let template = tempfile::tempdir().unwrap();
    realistic(template.path(), 4, 31, false);
    let db = template.path().join("dwell.db");
    let (before, root) = (span_count(&db), spans_root(&db));
    let pages = std::fs::metadata(&db).unwrap().len() / 4096;
    for seed in 0..8 {
        let mut rng = Rng::new(seed);
        let dir = tempfile::tempdir().unwrap();
        copy_database(template.path(), dir.path());
        let db = dir.path().join("dwell.db");
        let mut hit = vec![root];
        write_at(&db, (root - 1) * 4096, &rng.bytes(4096));
        for _ in 0..2 {
            let page = 2 + rng.below(pages - 1);
            hit.push(page);
            write_at(&db, (page - 1) * 4096, &rng.bytes(4096));
        }
        let what = format!("seed {seed}: pages {hit:?} of {pages} damaged");
        let s = opens_after_damage(dir.path(), &what).unwrap_or_else(|| panic!("{what}: unseen"));
        assert!(
            s.spans + 2 * 250 >= before,
            "{what}: {} of {before} spans kept",
            s.spans
        );
    }
}

/// Spans deleted (forgotten, expired) stay deleted: the pages they were on,
/// freed, are not read back, nor the cells deleted from pages still in use.
#[test]
fn deleted_spans_do_not_come_back_from_the_pages() {
    let dir = tempfile::tempdir().unwrap();
    realistic(dir.path(), 6, 41, false);
    let db = dir.path().join("dwell.db");
    let cut = t(21 * 86_400).timestamp_millis();
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(&format!(
        "DELETE FROM spans WHERE start < {cut} OR start % 7 = 0;
         PRAGMA wal_checkpoint(TRUNCATE);"
    ))
    .unwrap();
    drop(conn);
    let (before, root) = (span_count(&db), spans_root(&db));
    write_at(&db, (root - 1) * 4096, &Rng::new(41).bytes(4096));
    let s = opens_after_damage(dir.path(), "deleted spans").unwrap();
    let store = Store::open(dir.path()).unwrap();
    let kept = store.spans(t(-1_000_000), t(100_000_000)).unwrap();
    assert!(s.spans * 10 >= before * 9, "{} of {before}", s.spans);
    let back: Vec<_> = kept
        .iter()
        .filter(|k| k.start.timestamp_millis() < cut || k.start.timestamp_millis() % 7 == 0)
        .collect();
    assert!(
        back.is_empty(),
        "{} deleted spans came back: {:?}; {before} before, {} kept",
        back.len(),
        &back[..3.min(back.len())],
        s.spans
    );
}

/// The schema (page 1 after its 100-byte header) damaged: SQL reads
/// nothing, the pages give the sites, the spans and the notes, but never the
/// consent (a page's row may be a withdrawn consent: the employee opts in again).
#[test]
fn with_the_schema_damaged_the_rows_are_read_from_the_pages() {
    let dir = tempfile::tempdir().unwrap();
    realistic(dir.path(), 3, 61, false);
    let db = dir.path().join("dwell.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    drop(conn);
    let before = span_count(&db);
    write_at(&db, 100, &Rng::new(61).bytes(3996));
    let s = opens_after_damage(dir.path(), "schema damaged").unwrap();
    assert!(!s.consent, "{}", s.note);
    assert!(s.spans * 10 >= before * 9, "{} of {before}", s.spans);
    assert!(s.notes >= 2, "{}", s.note);
    let store = Store::open(dir.path()).unwrap();
    let kept = store.spans(t(-1_000_000), t(100_000_000)).unwrap();
    assert!(kept
        .iter()
        .any(|k| matches!(k.activity, crate::model::Activity::Social(_))));
}

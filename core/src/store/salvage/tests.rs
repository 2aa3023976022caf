//! The salvage's tests: databases as use leaves them, damaged, then opened.

use std::fs::OpenOptions;
use std::path::Path;

use chrono::{TimeZone, Utc};
use rusqlite::config::DbConfig;

use super::*;
use crate::model::{ReminderRecord, Span};
use crate::testing::{span, t};

/// Spans, sites, reminders, notes, consent and a pause: a database as a
/// few weeks of use leave it, checkpointed into the main file.
fn well_used(dir: &Path) -> Store {
    let mut store = Store::open(dir).unwrap();
    store.set_consent(t(-10)).unwrap();
    crate::control::set_pause(&store, crate::control::Pause::Indefinite).unwrap();
    let sites = ["a.example", "b.example", "c.example"];
    let spans: Vec<Span> = (0..3000)
        .map(|i| span(i * 60, i * 60 + 30, Some(sites[i as usize % 3])))
        .collect();
    store.put_spans(&spans).unwrap();
    for i in 0..50 {
        store
            .put_reminder(&ReminderRecord {
                at: t(i * 3600),
                kind: "stage".into(),
                outcome: "shown".into(),
                left_social: Some(i % 2 == 0),
                message: Some("en-time-03".into()),
            })
            .unwrap();
    }
    for w in ["2025-W46", "2025-W47", "2025-W48"] {
        store.put_note(w, "Fewer short visits.", t(0)).unwrap();
    }
    store
        .conn
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    store
}

/// The pages of `table`'s b-tree (`leaf` pages or `internal` ones), in
/// key order, with how many rows each holds.
fn pages_of(store: &Store, table: &str, kind: &str) -> Vec<(u64, usize)> {
    let mut stmt = store
        .conn
        .prepare("SELECT pageno, ncell FROM dbstat WHERE name = ?1 AND pagetype = ?2 ORDER BY path")
        .unwrap();
    let rows = stmt
        .query_map([table, kind], |r| {
            Ok((
                r.get::<_, i64>(0)?.unsigned_abs(),
                r.get::<_, i64>(1)?.unsigned_abs() as usize,
            ))
        })
        .unwrap();
    rows.map(Result::unwrap).collect()
}

/// Writes garbage over whole pages of the file, as a failing disk might.
fn scribble(path: &Path, pages: &[(u64, usize)]) {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = OpenOptions::new().write(true).open(path).unwrap();
    let mut x: u32 = 0x2545_f491;
    for &(p, _) in pages {
        let garbage: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x.to_le_bytes()[0]
            })
            .collect();
        f.seek(SeekFrom::Start((p - 1) * 4096)).unwrap();
        f.write_all(&garbage).unwrap();
    }
    f.sync_all().unwrap();
}

#[test]
fn a_healthy_database_passes_its_check() {
    let dir = tempfile::tempdir().unwrap();
    let store = well_used(dir.path());
    store.health_check().unwrap();
    drop(store);
    let (store, salvage) = Store::open_checked(dir.path(), t(100_000)).unwrap();
    assert_eq!(salvage, None);
    store.health_check().unwrap();
    assert!(store.meta_get(AGENT_STARTED_KEY).unwrap().is_some());
    assert_eq!(store.database_note().unwrap(), None);
}

#[test]
fn a_damaged_database_is_moved_aside_and_what_can_be_read_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = well_used(dir.path());
    let id = store.database_id().unwrap();
    let leaves = pages_of(&store, "spans", "leaf");
    assert!(leaves.len() > 10, "{leaves:?}");
    drop(store);
    let db = dir.path().join("dwell.db");
    // Three leaves of spans in the middle of the file.
    let mid = leaves.len() / 2;
    scribble(&db, &leaves[mid..mid + 3]);
    let damaged_bytes = std::fs::read(&db).unwrap();

    let now = Utc.with_ymd_and_hms(2026, 11, 25, 15, 30, 0).unwrap();
    let (store, salvage) = Store::open_checked(dir.path(), now).unwrap();
    let salvage = salvage.expect("the damage was not noticed");
    let canon = std::fs::canonicalize(dir.path()).unwrap();
    assert_eq!(
        salvage.moved_to,
        canon.join("dwell.db.damaged-20261125T153000Z")
    );
    // The damaged file is kept as it was: never written to, never deleted.
    assert_eq!(std::fs::read(&salvage.moved_to).unwrap(), damaged_bytes);
    assert!(salvage.consent);
    assert!(salvage.lost > 0);
    // Everything but the rows of the three leaves, and of the parent's cells
    // between and after them (spans are an index b-tree since schema 5: its
    // interior cells hold rows too, reached only through damaged leaves).
    let gone: usize = leaves[mid..mid + 3].iter().map(|(_, n)| n).sum();
    assert!(
        (3000 - gone - 3..=3000 - gone).contains(&salvage.spans),
        "{} of {}",
        salvage.spans,
        3000 - gone
    );
    assert_eq!((salvage.reminders, salvage.notes), (50, 3));
    assert!(!salvage.detail.is_empty());

    // The fresh database is whole and keeps consent, settings, identity.
    assert!(store.integrity_check().unwrap().is_ok());
    assert_eq!(store.consent().unwrap(), Some(t(-10)));
    assert_eq!(
        crate::control::paused(&store, now).unwrap(),
        Some(crate::control::Pause::Indefinite)
    );
    assert_eq!(store.database_id().unwrap(), id);
    let spans = store.spans(t(-100), t(200_000)).unwrap();
    assert_eq!(spans.len(), salvage.spans);
    assert_eq!(spans[0], span(0, 30, Some("a.example")));
    assert_eq!(
        spans.last().unwrap(),
        &span(2999 * 60, 2999 * 60 + 30, Some("c.example"))
    );
    assert_eq!(store.reminders(t(-1), t(1_000_000)).unwrap().len(), 50);
    assert_eq!(
        store.note("2025-W47").unwrap().as_deref(),
        Some("Fewer short visits.")
    );
    assert_eq!(store.forget_seq().unwrap(), 0);
    // One line, naming where the damaged file went.
    let note = store.database_note().unwrap().unwrap();
    assert_eq!(note, salvage.note);
    assert!(!note.contains('\n'));
    assert!(
        note.contains(&salvage.moved_to.display().to_string()),
        "{note}"
    );
    assert!(note.contains("2026-11-25"), "{note}");
    drop(store);

    // Next time all is well, and the note stays.
    let (store, again) = Store::open_checked(dir.path(), now).unwrap();
    assert_eq!(again, None);
    assert_eq!(store.database_note().unwrap(), Some(note));
    // A second damage the same second does not overwrite the first.
    drop(store);
    assert_eq!(
        damaged_name(&canon.join("dwell.db"), now).unwrap(),
        canon.join("dwell.db.damaged-20261125T153000Z-2")
    );
    assert!(!canon.join("dwell.db.rebuilding").exists());
}

#[test]
fn a_salvage_that_fails_moves_nothing_and_is_tried_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = well_used(dir.path());
    let leaves = pages_of(&store, "spans", "leaf");
    drop(store);
    let db = dir.path().join("dwell.db");
    scribble(&db, &leaves[2..3]);
    let damaged = std::fs::read(&db).unwrap();
    // Something in the way of the rebuilt database (as a full disk would be).
    let blocker = dir.path().join("dwell.db.rebuilding");
    std::fs::create_dir(&blocker).unwrap();
    Store::open_checked(dir.path(), t(100_000)).unwrap_err();
    assert_eq!(std::fs::read(&db).unwrap(), damaged);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains("damaged")), "{names:?}");
    std::fs::remove_dir(&blocker).unwrap();
    let (store, salvage) = Store::open_checked(dir.path(), t(100_000)).unwrap();
    assert!(salvage.unwrap().consent);
    assert!(store.consent().unwrap().is_some());
}

#[test]
fn when_consent_cannot_be_read_the_salvage_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let store = well_used(dir.path());
    let meta = pages_of(&store, "meta", "leaf");
    assert!(!meta.is_empty());
    drop(store);
    scribble(&dir.path().join("dwell.db"), &meta);
    let (store, salvage) = Store::open_checked(dir.path(), t(100_000)).unwrap();
    let salvage = salvage.unwrap();
    assert!(!salvage.consent);
    assert_eq!(store.consent().unwrap(), None);
    assert!(
        salvage.note.contains("dwell-agent enable"),
        "{}",
        salvage.note
    );
    // The rest is there.
    assert_eq!(salvage.spans, 3000);
}

#[test]
fn a_file_that_is_not_a_database_any_more_is_moved_aside_too() {
    let dir = tempfile::tempdir().unwrap();
    drop(well_used(dir.path()));
    scribble(&dir.path().join("dwell.db"), &[(1, 0)]);
    let (store, salvage) = Store::open_checked(dir.path(), t(100_000)).unwrap();
    let salvage = salvage.unwrap();
    assert!(!salvage.consent);
    assert_eq!(salvage.spans, 0);
    assert!(salvage.moved_to.exists());
    assert!(store.integrity_check().unwrap().is_ok());
}

#[test]
fn a_damaged_database_is_never_written_to_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = well_used(dir.path());
    let leaves = pages_of(&writer, "spans", "leaf");
    // Some writes stay in the WAL, as when the agent was stopped hard.
    writer
        .conn
        .execute_batch("PRAGMA wal_autocheckpoint = 0")
        .unwrap();
    writer
        .put_spans(&[span(500_000, 500_010, Some("late.example"))])
        .unwrap();
    writer
        .conn
        .set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
        .unwrap();
    drop(writer);
    let db = dir.path().join("dwell.db");
    let wal = dir.path().join("dwell.db-wal");
    let wal_len = std::fs::metadata(&wal).unwrap().len();
    assert!(wal_len > 0);
    scribble(&db, &leaves[1..3]);
    let damaged = std::fs::read(&db).unwrap();

    let mut store = Store::open(dir.path()).unwrap();
    let e = store.health_check().unwrap_err();
    assert!(matches!(e, StoreError::Damaged { .. }), "{e}");
    assert!(e.is_permanent());
    assert!(e.to_string().contains("is damaged"), "{e}");
    // Every write is refused from now on.
    for e in [
        store
            .put_spans(&[span(600_000, 600_010, None)])
            .unwrap_err(),
        store.set_consent(t(5)).unwrap_err(),
        store.compact().unwrap_err(),
        store.health_check().unwrap_err(),
    ] {
        assert!(matches!(e, StoreError::Damaged { .. }), "{e}");
    }
    drop(store);
    // Closing did not checkpoint the WAL into the damaged file.
    assert_eq!(std::fs::read(&db).unwrap(), damaged);
    assert_eq!(std::fs::metadata(&wal).unwrap().len(), wal_len);
}

/// Schema 5: spans that start in the same millisecond (another site) and
/// reminders due in the same one (another kind) are all salvaged.
#[test]
fn rows_that_share_their_time_are_all_salvaged() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = well_used(dir.path());
    store.put_spans(&[span(0, 10, Some("b.example"))]).unwrap();
    store
        .put_reminder(&ReminderRecord {
            at: t(0),
            kind: "streak".into(),
            outcome: "held".into(),
            left_social: None,
            message: None,
        })
        .unwrap();
    store
        .conn
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let leaves = pages_of(&store, "spans", "leaf");
    drop(store);
    let mid = leaves.len() / 2;
    scribble(&dir.path().join("dwell.db"), &leaves[mid..mid + 1]);
    let (store, salvage) = Store::open_checked(dir.path(), t(200_000)).unwrap();
    let salvage = salvage.expect("the damage was not noticed");
    // The leaf's rows, and at most the parent's cell after it (see above).
    let kept = 3001 - leaves[mid].1;
    assert!(
        (kept - 1..=kept).contains(&salvage.spans),
        "{} of {kept}",
        salvage.spans
    );
    assert_eq!(salvage.reminders, 51);
    let mut first = store.spans(t(0), t(1)).unwrap();
    first.sort_by_key(|s| s.end);
    assert_eq!(
        first,
        vec![
            span(0, 10, Some("b.example")),
            span(0, 30, Some("a.example"))
        ]
    );
    let kinds: Vec<String> = store
        .reminders(t(0), t(1))
        .unwrap()
        .into_iter()
        .map(|r| r.kind)
        .collect();
    assert_eq!(kinds.len(), 2, "{kinds:?}");
}

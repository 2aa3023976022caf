//! The store's own tests: files, migrations, rollups, forgets, errors.

#![allow(clippy::unwrap_used)]

use super::schema::MIGRATIONS;
use super::*;
use crate::forget::Forgotten;
use crate::model::{ReminderRecord, Span};
use crate::schedule::{local_date, local_day_bounds};
use crate::store::DB_FILE;
use crate::testing::{span, t};
use chrono::{NaiveDate, TimeDelta};
use rusqlite::Connection;
#[cfg(unix)]
use std::os::unix::fs::MetadataExt;
#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;

#[test]
// Modes, symbolic and hard links, errno values: Unix (files/unix.rs).
#[cfg(unix)]
fn a_symlinked_database_is_refused_and_its_target_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    std::fs::create_dir(&data).unwrap();
    let target = dir.path().join("elsewhere");
    std::fs::write(&target, "").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::os::unix::fs::symlink(&target, data.join(DB_FILE)).unwrap();
    let e = Store::open(&data).err().unwrap().to_string();
    assert!(e.contains("symbolic link"), "{e}");
    assert_eq!(std::fs::metadata(&target).unwrap().len(), 0);
    assert_eq!(std::fs::metadata(&target).unwrap().mode() & 0o777, 0o644);
    // The data directory itself may be a link.
    let real = dir.path().join("real");
    std::os::unix::fs::symlink(&real, dir.path().join("link")).unwrap();
    std::fs::create_dir(&real).unwrap();
    Store::open(&dir.path().join("link")).unwrap();
}

/// `status` reads a database it cannot write (0400): the `-wal` and
/// `-shm` SQLite makes for that read are left 0600, so the next `run`
/// can use them once the file is writable again.
#[test]
// Modes, symbolic and hard links, errno values: Unix (files/unix.rs).
#[cfg(unix)]
fn a_read_only_open_leaves_the_files_it_made_private() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    store.put_spans(&[span(0, 60, Some("a.example"))]).unwrap();
    drop(store);
    let db = dir.path().join(DB_FILE);
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o400)).unwrap();
    let store = Store::open_read_only(&db).unwrap();
    assert_eq!(store.spans(t(0), t(60)).unwrap().len(), 1);
    drop(store);
    for suffix in ["-wal", "-shm"] {
        let p = with_suffix(&db, suffix);
        if let Ok(m) = std::fs::symlink_metadata(&p) {
            assert_eq!(m.mode() & 0o777, 0o600, "{suffix}");
        }
    }
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    store.put_spans(&[span(60, 120, None)]).unwrap();
}

#[test]
// Modes, symbolic and hard links, errno values: Unix (files/unix.rs).
#[cfg(unix)]
fn hard_links_and_directories_among_the_files_are_refused() {
    for name in ["dwell.db", "dwell.db-wal", "dwell.db-shm"] {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("d");
        Store::open(&data).unwrap();
        let other = dir.path().join("precious");
        std::fs::write(&other, "keep").unwrap();
        std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o644)).unwrap();
        let at = data.join(name);
        let _ = std::fs::remove_file(&at);
        std::fs::hard_link(&other, &at).unwrap();
        let e = Store::open(&data).unwrap_err();
        assert!(e.is_permanent(), "{name}: {e}");
        assert!(e.to_string().contains("hard link"), "{name}: {e}");
        if name != "dwell.db" {
            let e = Store::open_read_only(&data.join(DB_FILE)).unwrap_err();
            assert!(e.to_string().contains("hard link"), "{name}: {e}");
        }
        assert_eq!(std::fs::read_to_string(&other).unwrap(), "keep", "{name}");
        // Not made 0600 either.
        assert_eq!(
            std::fs::metadata(&other).unwrap().mode() & 0o777,
            0o644,
            "{name}"
        );
        std::fs::remove_file(&at).unwrap();
        std::fs::create_dir(&at).unwrap();
        let e = Store::open(&data).unwrap_err();
        assert!(
            e.is_permanent() && e.to_string().contains("directory"),
            "{name}: {e}"
        );
    }
}

/// Every rollup, with visits.
fn all_rollups(store: &Store) -> Option<Vec<StoredDay>> {
    store.rollups(NaiveDate::MIN, NaiveDate::MAX, true).unwrap()
}

#[test]
fn rollups_follow_writes_forgets_and_expiry_like_a_rebuild() {
    let tz = chrono::FixedOffset::east_opt(3600).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    // A new database: complete, and empty.
    assert_eq!(all_rollups(&store), Some(vec![]));
    store.keep_rollups(tz).unwrap();
    let day = 86_400;
    store
        .put_spans(&[
            span(0, 100, Some("a.com")),
            span(100, 200, Some("a.com")),
            span(200, day, None),
            span(day + 10, day + 50, Some("b.com")),
            span(3 * day, 3 * day + 5, Some("a.com")),
        ])
        .unwrap();
    let check = |store: &mut Store| {
        let kept = all_rollups(store).unwrap();
        store
            .in_tx(|s| Ok((s.rebuild_rollups().unwrap(), true)))
            .unwrap();
        assert_eq!(Some(kept), all_rollups(store));
    };
    check(&mut store);
    let days = all_rollups(&store).unwrap();
    // The other time runs past midnight into the second day.
    assert_eq!(days.len(), 3);
    // The touching pieces of a.com are one visit.
    assert_eq!(days[0].visits.len(), 1);
    assert_eq!(days[0].social_ms, 200_000);
    // A checkpoint cut back by a retraction, then forgets and expiry.
    let seen = store.forget_seq().unwrap();
    store
        .put_spans_retracting(seen, &[span(200, 300, None)], Some((t(200), t(2 * day))))
        .unwrap();
    check(&mut store);
    store.forget_range(t(0), t(50), t(10)).unwrap();
    check(&mut store);
    store.forget_site("b.com", t(10)).unwrap();
    check(&mut store);
    store.delete_before(t(250)).unwrap();
    check(&mut store);
    assert_eq!(all_rollups(&store).unwrap().len(), 2);
    store.erase_spans(t(10)).unwrap();
    assert_eq!(all_rollups(&store), Some(vec![]));
}

#[test]
fn rollups_are_incomplete_until_a_writer_knows_the_zone() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    store.put_spans(&[span(0, 100, Some("a.com"))]).unwrap();
    // Written without a zone: readers count from the spans.
    assert_eq!(all_rollups(&store), None);
    let read_only = Store::open_read_only(store.path()).unwrap();
    assert_eq!(all_rollups(&read_only), None);
    store.keep_rollups(Utc).unwrap();
    assert_eq!(all_rollups(&store).unwrap().len(), 1);
    assert_eq!(all_rollups(&read_only).unwrap().len(), 1);
    // Another zone: rebuilt with that zone's days.
    let far = chrono::FixedOffset::west_opt(12 * 3600).unwrap();
    store.keep_rollups(far).unwrap();
    let days = all_rollups(&store).unwrap();
    assert_eq!(days[0].date, local_date(t(0), &far));
    assert_eq!(
        (days[0].start, days[0].end),
        local_day_bounds(days[0].date, &far)
    );
}

#[test]
fn a_database_of_schema_3_gets_its_rollups_from_the_first_writer_with_a_zone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE);
    {
        let conn = Connection::open(&path).unwrap();
        for m in &MIGRATIONS[..3] {
            conn.execute_batch(m).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO sites (id, label) VALUES (1, 'a.com');
             INSERT INTO spans VALUES (1764000000000, 1764000060000, 1, 1);
             PRAGMA user_version = 3;",
        )
        .unwrap();
    }
    let mut store = Store::open(dir.path()).unwrap();
    assert_eq!(all_rollups(&store), None);
    store.keep_rollups(Utc).unwrap();
    let days = all_rollups(&store).unwrap();
    assert_eq!((days.len(), days[0].social_ms), (1, 60_000));
}

#[test]
fn private_and_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let store = Store::open(&data).unwrap();
    #[cfg(unix)]
    assert_eq!(std::fs::metadata(&data).unwrap().mode() & 0o777, 0o700);
    #[cfg(unix)]
    for f in ["dwell.db", "dwell.db-wal", "dwell.db-shm"] {
        let p = data.join(f);
        if p.exists() {
            assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o600, "{f}");
        }
    }
    assert_eq!(store.user_version().unwrap(), SCHEMA_VERSION);
    drop(store);
    // Reopening is a no-op migration.
    let store = Store::open(&data).unwrap();
    assert!(store.integrity_check().unwrap().is_ok());
}

#[test]
fn checkpoint_replaces_by_start_and_queries_overlap() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    store.put_spans(&[span(0, 10, Some("x.com"))]).unwrap();
    store.put_spans(&[span(0, 20, Some("x.com"))]).unwrap();
    store.put_spans(&[span(20, 30, None)]).unwrap();
    let all = store.spans(t(-100), t(100)).unwrap();
    assert_eq!(all, vec![span(0, 20, Some("x.com")), span(20, 30, None)]);
    assert_eq!(store.spans(t(25), t(26)).unwrap().len(), 1);
    assert_eq!(store.spans(t(30), t(40)).unwrap().len(), 0);
    assert!(store.has_recorded_data().unwrap());
}

#[test]
fn consent_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.consent().unwrap(), None);
    store.set_consent(t(5)).unwrap();
    assert_eq!(store.consent().unwrap(), Some(t(5)));
    store.clear_consent().unwrap();
    assert_eq!(store.consent().unwrap(), None);
}

#[test]
fn newer_schema_and_foreign_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.conn.pragma_update(None, "user_version", 99).unwrap();
    drop(store);
    let e = Store::open(dir.path()).unwrap_err();
    assert!(
        matches!(e, StoreError::NewerSchema { found: 99, .. }),
        "{e}"
    );
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"this is not sqlite at all, not even close.........").unwrap();
    assert!(Store::open_read_only(&junk).is_err());
}

#[test]
fn erase_leaves_no_trace() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    store
        .put_spans(&[span(0, 10, Some("uniquesite-zzq.example"))])
        .unwrap();
    store.erase_spans(t(1_000)).unwrap();
    drop(store);
    for f in ["dwell.db", "dwell.db-wal"] {
        let p = dir.path().join(f);
        if p.exists() {
            let bytes = std::fs::read(&p).unwrap();
            let needle = b"uniquesite-zzq";
            assert!(!bytes.windows(needle.len()).any(|w| w == needle), "{f}");
        }
    }
}

fn no_trace(dir: &Path, needle: &[u8]) -> bool {
    ["dwell.db", "dwell.db-wal"].iter().all(|f| {
        let p = dir.join(f);
        !p.exists() || {
            let bytes = std::fs::read(&p).unwrap();
            !bytes.windows(needle.len()).any(|w| w == needle)
        }
    })
}

#[test]
fn forget_site_removes_exactly_that_site() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    store
        .put_spans(&[
            span(0, 10, Some("gone-zzq.example")),
            span(10, 20, Some("kept.example")),
            span(20, 30, None),
            span(30, 40, Some("gone-zzq.example")),
        ])
        .unwrap();
    assert_eq!(store.forget_site("nope.example", t(1_000)).unwrap(), None);
    assert_eq!(
        store.forget_site("gone-zzq.example", t(1_000)).unwrap(),
        Some(2)
    );
    assert_eq!(
        store.spans(t(-100), t(100)).unwrap(),
        vec![span(10, 20, Some("kept.example")), span(20, 30, None)]
    );
    assert_eq!(store.site_labels().unwrap(), vec!["kept.example"]);
    // A writer with a stale label cache still works after the forget.
    store.site_ids.insert("gone-zzq.example".into(), 1);
    store
        .put_spans(&[span(50, 60, Some("again.example"))])
        .unwrap();
    drop(store);
    assert!(no_trace(dir.path(), b"gone-zzq"));
}

#[test]
fn stale_cache_of_another_connection_is_retried() {
    let dir = tempfile::tempdir().unwrap();
    let mut agent = Store::open(dir.path()).unwrap();
    agent.put_spans(&[span(0, 10, Some("a.example"))]).unwrap();
    let mut cli = Store::open(dir.path()).unwrap();
    assert_eq!(cli.forget_site("a.example", t(1_000)).unwrap(), Some(1));
    agent.put_spans(&[span(0, 20, Some("a.example"))]).unwrap();
    assert_eq!(
        cli.spans(t(-100), t(100)).unwrap(),
        vec![span(0, 20, Some("a.example"))]
    );
}

#[test]
fn forget_range_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    store
        .put_spans(&[
            span(0, 10, Some("early-zzq.example")),
            span(100, 110, Some("late.example")),
        ])
        .unwrap();
    assert_eq!(store.forget_range(t(-5), t(50), t(1_000)).unwrap(), 1);
    assert_eq!(
        store.spans(t(-100), t(200)).unwrap(),
        vec![span(100, 110, Some("late.example"))]
    );
    drop(store);
    assert!(no_trace(dir.path(), b"early-zzq"));
}

#[test]
fn a_guarded_write_after_a_forget_writes_nothing_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let mut agent = Store::open(dir.path()).unwrap();
    let seen = agent.forget_seq().unwrap();
    assert_eq!(seen, 0);
    let open = span(0, 10, Some("a.example"));
    assert_eq!(
        agent
            .put_spans_guarded(seen, std::slice::from_ref(&open))
            .unwrap(),
        Put::Written
    );
    let id = agent.cached_site_id("a.example").unwrap();
    let mut cli = Store::open(dir.path()).unwrap();
    cli.forget_site("a.example", t(15)).unwrap();
    cli.forget_range(t(-50), t(-40), t(16)).unwrap();
    // The checkpoint of the same open span must not bring it back.
    let Put::Forgotten(entries) = agent
        .put_spans_guarded(seen, &[span(0, 20, Some("a.example"))])
        .unwrap()
    else {
        panic!("the forget was not noticed");
    };
    assert_eq!(
        entries.iter().map(|e| (e.seq, e.what)).collect::<Vec<_>>(),
        vec![
            (1, Forgotten::Site { id }),
            (
                2,
                Forgotten::Range {
                    from: t(-50),
                    to: t(-40)
                }
            )
        ]
    );
    assert_eq!(cli.spans(t(-100), t(100)).unwrap(), vec![]);
    // The writer still knows which label the forgotten id was.
    assert_eq!(agent.cached_site_id("a.example"), Some(id));
    assert_eq!(agent.forget_seq().unwrap(), 2);
    let again = span(15, 20, Some("a.example"));
    assert_eq!(
        agent
            .put_spans_guarded(2, std::slice::from_ref(&again))
            .unwrap(),
        Put::Written
    );
    assert_eq!(cli.spans(t(-100), t(100)).unwrap(), vec![again]);
}

#[test]
fn reminders_and_notes_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let r = ReminderRecord {
        at: t(1_000),
        kind: "stage".into(),
        outcome: "shown".into(),
        left_social: None,
        message: Some("en-time-03".into()),
    };
    store.put_reminder(&r).unwrap();
    assert!(store
        .set_reminder_outcome(t(1_000), "stage", "snoozed")
        .unwrap());
    assert!(store.set_reminder_left(t(1_000), "stage", true).unwrap());
    assert!(!store.set_reminder_left(t(2_000), "stage", true).unwrap());
    let got = store.reminders(t(0), t(5_000)).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].outcome, "snoozed");
    assert_eq!(got[0].left_social, Some(true));
    store
        .put_note("2026-W48", "Fewer short visits.", t(3_000))
        .unwrap();
    assert_eq!(
        store.note("2026-W48").unwrap().as_deref(),
        Some("Fewer short visits.")
    );
    assert_eq!(store.note("2026-W47").unwrap(), None);
}

#[test]
fn a_new_database_has_an_identity_and_an_older_one_gets_one() {
    let dir = tempfile::tempdir().unwrap();
    let a = Store::open(&dir.path().join("a")).unwrap();
    let b = Store::open(&dir.path().join("b")).unwrap();
    let id = a.database_id().unwrap().unwrap();
    assert_eq!(id.len(), 32);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
    assert_ne!(Some(id.clone()), b.database_id().unwrap());
    // Reopening keeps it.
    drop(a);
    let a = Store::open(&dir.path().join("a")).unwrap();
    assert_eq!(a.database_id().unwrap(), Some(id));
    // A database of schema 2 gets one when it is migrated.
    a.conn
        .execute_batch("DELETE FROM meta WHERE key = 'database_id'; PRAGMA user_version = 2;")
        .unwrap();
    drop(a);
    let a = Store::open(&dir.path().join("a")).unwrap();
    assert_eq!(a.user_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(a.database_id().unwrap().unwrap().len(), 32);
}

#[test]
fn the_wal_stays_under_a_megabyte() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let wal = dir.path().join("dwell.db-wal");
    let mut largest = 0;
    // As the agent writes: one small transaction every checkpoint.
    for i in 0..12_000 {
        let site = format!("site{}.example", i % 40);
        store
            .put_spans(&[span(i * 20, i * 20 + 15, Some(&site))])
            .unwrap();
        if i % 100 == 0 {
            largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
        }
    }
    largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
    assert!(largest > 0, "no WAL was written");
    assert!(largest < 1_000_000, "the WAL grew to {largest} bytes");
    assert_eq!(store.spans(t(-100), t(300_000)).unwrap().len(), 12_000);
    // Compacting (forget, erase) goes through the WAL too, and ends small.
    store.compact().unwrap();
    assert!(std::fs::metadata(&wal).map_or(0, |m| m.len()) < 1_000_000);
}

#[test]
fn a_full_disk_is_one_line_saying_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let pages: i64 = store
        .conn
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    store
        .conn
        .execute_batch(&format!("PRAGMA max_page_count = {}", pages + 1))
        .unwrap();
    let spans: Vec<Span> = (0..5000)
        .map(|i| span(i * 60, i * 60 + 30, Some(&format!("s{i}.example"))))
        .collect();
    let e = store.put_spans(&spans).unwrap_err();
    assert!(matches!(e, StoreError::DiskFull { .. }), "{e:?}");
    assert!(e.is_permanent());
    assert_eq!(
        e.to_string(),
        format!(
            "the disk holding {} is full: free some space, then start dwell again",
            store.path().display()
        )
    );
}

#[test]
// Modes, symbolic and hard links, errno values: Unix (files/unix.rs).
#[cfg(unix)]
fn os_errors_the_employee_must_fix_are_typed() {
    use rustix::io::Errno;
    let p = Path::new("/x/dwell.db");
    let io = |e: Errno| std::io::Error::from_raw_os_error(e.raw_os_error());
    let e = StoreError::from_io(p, io(Errno::ROFS));
    assert!(matches!(e, StoreError::ReadOnly { .. }) && e.is_permanent());
    assert!(e
        .to_string()
        .starts_with("/x/dwell.db is on a read-only disk"));
    for errno in [Errno::ACCESS, Errno::PERM] {
        let e = StoreError::from_io(p, io(errno));
        assert!(matches!(e, StoreError::PermissionDenied { .. }) && e.is_permanent());
        assert!(e.to_string().contains("permission denied"), "{e}");
    }
    for errno in [Errno::NOSPC, Errno::DQUOT] {
        let e = StoreError::from_io(p, io(errno));
        assert!(matches!(e, StoreError::DiskFull { .. }) && e.is_permanent());
    }
    let e = StoreError::from_io(p, io(Errno::IO));
    assert!(matches!(e, StoreError::Io { .. }) && !e.is_permanent());
    for e in [
        StoreError::ReadOnly { path: p.into() },
        StoreError::PermissionDenied { path: p.into() },
        StoreError::DiskFull { path: p.into() },
    ] {
        let line = e.to_string();
        assert!(
            !line.contains('\n') && line.contains("/x/dwell.db"),
            "{line}"
        );
        assert!(line.contains("then start dwell again"), "{line}");
    }
}

#[test]
fn an_immutable_read_finds_a_file_with_an_awkward_name() {
    let dir = tempfile::tempdir().unwrap();
    // `?` cannot be in a file name on Windows.
    let data = dir.path().join(if cfg!(windows) {
        "a dir #%x"
    } else {
        "a dir?#%x"
    });
    let mut store = Store::open(&data).unwrap();
    store.put_spans(&[span(0, 10, Some("x.com"))]).unwrap();
    drop(store);
    let ro = Store::open_read_only_as(&data.join(DB_FILE), true).unwrap();
    assert_eq!(ro.spans(t(-100), t(100)).unwrap().len(), 1);
}

#[test]
fn spans_that_make_no_sense_are_left_out_of_valid_spans() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    store
        .put_spans(&[span(0, 10, Some("x.com")), span(20, 30, None)])
        .unwrap();
    let at = |s: i64| ms(t(s));
    store
        .conn
        .execute_batch(&format!(
            "PRAGMA foreign_keys = OFF;
             INSERT INTO spans (start, end, site, source) VALUES ({}, {}, NULL, 1);
             INSERT INTO spans (start, end, site, source) VALUES ({}, {}, NULL, 1);
             INSERT INTO spans (start, end, site, source) VALUES ({}, {}, 999, 1);
             INSERT INTO spans (start, end, site, source) VALUES ({}, 'soon', NULL, 1);",
            at(40),
            at(35),
            at(50),
            at(50 + 2 * 86_400),
            at(60),
            at(70),
            at(80),
        ))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(store.invalid_spans().unwrap(), 4);
    assert_eq!(
        store.valid_spans(t(-100), t(100)).unwrap(),
        vec![span(0, 10, Some("x.com")), span(20, 30, None)]
    );
}

/// The rollups `store` keeps, and the same rolled up again from its spans.
fn kept_then_rebuilt(store: &mut Store) -> (Option<Vec<StoredDay>>, Option<Vec<StoredDay>>) {
    let kept = all_rollups(store);
    store
        .in_tx(|s| Ok((s.rebuild_rollups().unwrap(), true)))
        .unwrap();
    (kept, all_rollups(store))
}

/// An X11 span from `a` to `b` (instants).
fn span_at(a: DateTime<Utc>, b: DateTime<Utc>, site: Option<&str>) -> Span {
    Span {
        start: a,
        end: b,
        activity: site.map_or(crate::Activity::Other, |s| {
            crate::Activity::Social(s.into())
        }),
        source: crate::Source::X11,
    }
}

#[test]
fn visits_appended_one_by_one_give_the_rollups_of_a_rebuild() {
    // Paris, across Sunday 25 October 2026: local midnight at 22:00 UTC,
    // then the clocks go back at 01:00 UTC (a 25-hour day), then midnight at
    // 23:00 UTC.
    let tz = chrono_tz::Europe::Paris;
    let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    store.keep_rollups(tz).unwrap();
    let seen = store.forget_seq().unwrap();
    let sites = [Some("a.com"), Some("a.com"), None, Some("b.com"), None];
    let step = TimeDelta::minutes(37);
    let mut open = at("2026-10-24T18:00:00Z");
    for i in 0..60 {
        let site = sites[i % sites.len()];
        // The open span checkpointed twice as it grows, then closed by the
        // next switch, which opens the next span.
        for k in [1, 2] {
            let cp = span_at(open, open + TimeDelta::minutes(10 * k), site);
            store.put_spans_guarded(seen, &[cp]).unwrap();
        }
        let next = open + step;
        let closed = span_at(open, next, site);
        let opened = span_at(
            next,
            next + TimeDelta::seconds(1),
            sites[(i + 1) % sites.len()],
        );
        store.put_spans_guarded(seen, &[closed, opened]).unwrap();
        open = next;
        if i % 7 == 3 {
            // Idleness cuts the open span back: what it reached is retracted.
            let cut = span_at(
                open,
                open + TimeDelta::milliseconds(400),
                sites[(i + 1) % 5],
            );
            store
                .put_spans_retracting(
                    seen,
                    &[cut],
                    Some((open + TimeDelta::milliseconds(400), open + step)),
                )
                .unwrap();
        }
        let (kept, rebuilt) = kept_then_rebuilt(&mut store);
        assert_eq!(kept, rebuilt, "after switch {i} at {open}");
    }
    let days = all_rollups(&store).unwrap();
    let long_day = NaiveDate::from_ymd_opt(2026, 10, 25).unwrap();
    let d = days.iter().find(|d| d.date == long_day).unwrap();
    assert_eq!((d.end - d.start).num_hours(), 25);
    assert!(d.visits.len() > 10 && d.exact);
    // A visit of a.com over two switches is one visit; the one open at
    // midnight starts the next day again.
    assert!(days
        .iter()
        .all(|d| d.visits.windows(2).all(|w| w[0].end <= w[1].start)));
}

#[test]
fn a_forget_without_the_zone_leaves_stale_days_rolled_up_one_write_at_a_time() {
    let tz = chrono::FixedOffset::east_opt(3600).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut agent = Store::open(dir.path()).unwrap();
    agent.keep_rollups(tz).unwrap();
    let day = 86_400;
    let spans: Vec<Span> = (0..6)
        .flat_map(|d| {
            [
                span(d * day, d * day + 600, Some("a.com")),
                span(d * day + 600, d * day + 900, Some("b.com")),
            ]
        })
        .collect();
    agent.put_spans(&spans).unwrap();
    // `dwell-agent forget` in its own process, which does not set the zone.
    let mut cli = Store::open(dir.path()).unwrap();
    cli.forget_site("b.com", t(10)).unwrap();
    // Six stale days: readers count from the spans, but not for other days.
    assert_eq!(all_rollups(&agent), None);
    let later = NaiveDate::from_ymd_opt(2030, 1, 1).unwrap();
    assert_eq!(agent.rollups(later, later, true).unwrap(), Some(vec![]));
    // Each write of the agent rolls one of them up again.
    let seen = agent.forget_seq().unwrap();
    for i in 0..6 {
        assert_eq!(all_rollups(&agent), None, "write {i}");
        let s = span(10 * day + i * 10, 10 * day + i * 10 + 5, Some("a.com"));
        agent.put_spans_guarded(seen, &[s]).unwrap();
    }
    let (kept, rebuilt) = kept_then_rebuilt(&mut agent);
    assert_eq!(kept.as_ref().map(Vec::len), Some(7));
    assert_eq!(kept, rebuilt);
    // A forget of a range, then the agent's start: all stale days at once.
    cli.forget_range(t(0), t(2 * day), t(20)).unwrap();
    assert_eq!(all_rollups(&agent), None);
    let mut restarted = Store::open(dir.path()).unwrap();
    restarted.keep_rollups(tz).unwrap();
    let (kept, rebuilt) = kept_then_rebuilt(&mut restarted);
    assert_eq!(kept.as_ref().map(Vec::len), Some(5));
    assert_eq!(kept, rebuilt);
}

/// The running agent's upkeep (the daily check, expiry, compaction) stops
/// inside a statement once its token is set, changes nothing, and leaves the
/// store writable for the agent's last writes.
#[test]
fn upkeep_stops_inside_a_statement_once_its_token_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let spans: Vec<Span> = (0..60_000)
        .map(|i| {
            span(
                i * 40,
                i * 40 + 25,
                Some(["a.example", "b.example"][i as usize % 2]),
            )
        })
        .collect();
    store.put_spans(&spans).unwrap();
    let now = t(60_000 * 40);
    let keep = std::time::Duration::from_secs(86_400);
    // Set at the 20th look of the progress handler: in the middle of the
    // check (each look is 1,000 SQLite instructions).
    store.stop_upkeep_on(Cancel::after_looks(20));
    let e = store.upkeep(|s| s.health_check()).unwrap_err();
    assert!(matches!(e, StoreError::Cancelled { .. }), "{e}");
    let e = store
        .upkeep(|s| crate::control::apply_retention(s, keep, now))
        .unwrap_err();
    assert!(matches!(e, StoreError::Cancelled { .. }), "{e}");
    assert_eq!(store.spans(t(0), now).unwrap().len(), 60_000);
    assert_eq!(crate::control::retention_last_run(&store).unwrap(), None);
    // Not mistaken for damage; the last writes go through.
    store.health_check().unwrap();
    store
        .put_spans(&[span(60_000 * 40, 60_000 * 40 + 5, None)])
        .unwrap();

    // Stopped half-way through the expiry's transaction: rolled back.
    store.stop_upkeep_on(Cancel::after_looks(200));
    let e = store
        .upkeep(|s| crate::control::apply_retention(s, keep, now))
        .unwrap_err();
    assert!(matches!(e, StoreError::Cancelled { .. }), "{e}");
    assert_eq!(
        store.spans(t(0), now + TimeDelta::hours(1)).unwrap().len(),
        60_001
    );

    // A token never set: the upkeep runs as it would without one.
    store.stop_upkeep_on(Cancel::new());
    store.upkeep(|s| s.health_check()).unwrap();
    let gone = store
        .upkeep(|s| crate::control::apply_retention(s, keep, now))
        .unwrap();
    assert!(gone > 50_000, "{gone}");
    assert!(store.integrity_check().unwrap().is_ok());
}

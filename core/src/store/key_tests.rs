//! What identifies a row (schema 5): a span is its start, site and source (a
//! checkpoint of the open span keeps all three; another span that starts in
//! the same millisecond is another row), a reminder its time and kind. Also
//! the migration of a schema-4 database that holds data.

#![allow(clippy::unwrap_used)]

use super::schema::MIGRATIONS;
use super::*;
use crate::model::{ReminderRecord, Source, Span};
use crate::testing::{span, t};
use chrono::Utc;
use rusqlite::Connection;

fn reminder(at: i64, kind: &str, outcome: &str) -> ReminderRecord {
    ReminderRecord {
        at: t(at),
        kind: kind.into(),
        outcome: outcome.into(),
        left_social: None,
        message: Some("en-time-01".into()),
    }
}

fn from(source: Source, s: Span) -> Span {
    Span { source, ..s }
}

#[test]
fn two_spans_that_start_in_the_same_millisecond_are_both_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    store.keep_rollups(Utc).unwrap();
    // A span closed; the clock stepped back onto its very start and another
    // span opened there, on another site.
    store.put_spans(&[span(0, 30, Some("a.example"))]).unwrap();
    store.put_spans(&[span(0, 10, Some("b.example"))]).unwrap();
    // ...and other time, and the same site seen through the extension.
    store.put_spans(&[span(0, 5, None)]).unwrap();
    let ext = from(Source::Extension, span(0, 7, Some("a.example")));
    store.put_spans(std::slice::from_ref(&ext)).unwrap();
    let mut got = store.spans(t(-10), t(100)).unwrap();
    got.sort_by_key(|s| (s.end, s.source.code()));
    assert_eq!(
        got,
        vec![
            span(0, 5, None),
            ext,
            span(0, 10, Some("b.example")),
            span(0, 30, Some("a.example")),
        ]
    );
    // The rollups count all four, as the spans do.
    let days = store
        .rollups(t(0).date_naive(), t(0).date_naive(), false)
        .unwrap()
        .unwrap();
    assert_eq!(days[0].social_ms, (30 + 10 + 7) * 1000);
    assert_eq!(days[0].other_ms, 5 * 1000);
}

#[test]
fn a_checkpoint_still_replaces_the_open_span_by_its_start_site_and_source() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    store.keep_rollups(Utc).unwrap();
    store.put_spans(&[span(0, 10, Some("b.example"))]).unwrap();
    for end in [9, 18, 27] {
        store.put_spans(&[span(0, end, Some("a.example"))]).unwrap();
    }
    // Cut back (idleness), then other time in the same millisecond.
    store.put_spans(&[span(0, 20, Some("a.example"))]).unwrap();
    for end in [3, 6] {
        store.put_spans(&[span(0, end, None)]).unwrap();
    }
    let mut got = store.spans(t(-10), t(100)).unwrap();
    got.sort_by_key(|s| s.end);
    assert_eq!(
        got,
        vec![
            span(0, 6, None),
            span(0, 10, Some("b.example")),
            span(0, 20, Some("a.example")),
        ]
    );
    let day = t(0).date_naive();
    let days = store.rollups(day, day, false).unwrap().unwrap();
    assert_eq!((days[0].social_ms, days[0].other_ms), (30_000, 6_000));
}

#[test]
fn two_reminders_of_different_kinds_in_the_same_millisecond_are_both_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    store.put_reminder(&reminder(100, "stage", "held")).unwrap();
    store
        .put_reminder(&reminder(100, "streak", "shown"))
        .unwrap();
    // The same reminder again (held, then shown) is one row.
    store
        .put_reminder(&reminder(100, "stage", "shown"))
        .unwrap();
    assert!(store
        .set_reminder_outcome(t(100), "streak", "snoozed")
        .unwrap());
    assert!(store.set_reminder_left(t(100), "stage", true).unwrap());
    assert!(!store.set_reminder_left(t(100), "weekly", true).unwrap());
    let mut got = store.reminders(t(0), t(200)).unwrap();
    got.sort_by(|a, b| a.kind.cmp(&b.kind));
    let seen: Vec<_> = got
        .iter()
        .map(|r| (r.kind.as_str(), r.outcome.as_str(), r.left_social))
        .collect();
    assert_eq!(
        seen,
        vec![("stage", "shown", Some(true)), ("streak", "snoozed", None)]
    );
}

/// A schema-4 database with spans, sites, reminders, notes, rollups and an
/// identity, as a dwell of schema 4 left it.
fn schema_4_database(path: &std::path::Path) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch("PRAGMA journal_mode = WAL").unwrap();
    for m in &MIGRATIONS[..4] {
        conn.execute_batch(m).unwrap();
    }
    conn.execute_batch(&format!(
        "INSERT INTO sites (id, label) VALUES (1, 'a.example'), (2, 'b.example');
         INSERT INTO spans VALUES ({0}, {1}, 1, 1), ({1}, {2}, NULL, 1), ({2}, {3}, 2, 2);
         INSERT INTO reminders VALUES ({1}, 'stage', 'shown', 1, 'en-time-01');
         INSERT INTO reminders VALUES ({3}, 'streak', 'snoozed', NULL, NULL);
         INSERT INTO notes VALUES ('2025-W48', 'Fewer short visits.', {3});
         PRAGMA user_version = 4;",
        t(0).timestamp_millis(),
        t(60).timestamp_millis(),
        t(90).timestamp_millis(),
        t(150).timestamp_millis(),
    ))
    .unwrap();
}

#[test]
fn a_schema_4_database_keeps_its_data_through_migration_5() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE);
    schema_4_database(&path);
    let id = {
        let conn = Connection::open(&path).unwrap();
        conn.query_row(
            "SELECT value FROM meta WHERE key = 'database_id'",
            [],
            |r| r.get::<_, String>(0),
        )
        .unwrap()
    };
    let mut store = Store::open(dir.path()).unwrap();
    assert_eq!(store.user_version().unwrap(), SCHEMA_VERSION);
    assert!(store.integrity_check().unwrap().is_ok());
    // Compacted after the tables were rewritten.
    let free: i64 = store
        .conn
        .query_row("PRAGMA freelist_count", [], |r| r.get(0))
        .unwrap();
    assert_eq!(free, 0);
    assert_eq!(store.database_id().unwrap(), Some(id));
    assert_eq!(
        store.spans(t(-10), t(200)).unwrap(),
        vec![
            span(0, 60, Some("a.example")),
            span(60, 90, None),
            from(Source::Extension, span(90, 150, Some("b.example"))),
        ]
    );
    let reminders = store.reminders(t(0), t(200)).unwrap();
    assert_eq!(reminders.len(), 2);
    assert_eq!(reminders[0], {
        let mut r = reminder(60, "stage", "shown");
        r.left_social = Some(true);
        r
    });
    assert_eq!(
        store.note("2025-W48").unwrap().as_deref(),
        Some("Fewer short visits.")
    );
    // Written after the migration: keyed as schema 5 says.
    store.put_spans(&[span(0, 20, Some("b.example"))]).unwrap();
    store.put_spans(&[span(0, 70, Some("a.example"))]).unwrap();
    store.put_reminder(&reminder(60, "over", "held")).unwrap();
    assert_eq!(store.spans(t(-10), t(200)).unwrap().len(), 4);
    assert_eq!(store.reminders(t(0), t(200)).unwrap().len(), 3);
    store.keep_rollups(Utc).unwrap();
    let day = t(0).date_naive();
    let days = store.rollups(day, day, false).unwrap().unwrap();
    assert_eq!(days[0].social_ms, (70 + 20 + 60) * 1000);
}

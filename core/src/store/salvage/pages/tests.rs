use rusqlite::Connection;

use super::*;

/// A database built by SQLite (schema as `schema.rs` has it) with `spans`
/// spans and a few reminders and sites; its file's bytes and page size.
fn built(spans: i64) -> (tempfile::TempDir, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::store::Store::open(dir.path()).unwrap();
    drop(store);
    let conn = Connection::open(dir.path().join("dwell.db")).unwrap();
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = DELETE;
         INSERT INTO sites (id, label) VALUES (1, 'a.example'), (2, 'b.example');
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {spans} - 1)
         INSERT INTO spans (start, n, end, site, source)
         SELECT i * 1000, 0, i * 1000 + 500, CASE i % 3 WHEN 0 THEN NULL ELSE 1 + i % 2 END, 1 FROM n;
         INSERT INTO reminders (at, kind, outcome, left_social, message)
         VALUES (5, 'stage', 'shown', NULL, 'en-time-01'), (6, 'over', 'snoozed', 1, NULL);"
    ))
    .unwrap();
    drop(conn);
    let bytes = std::fs::read(dir.path().join("dwell.db")).unwrap();
    (dir, bytes)
}

fn decode_all(bytes: &[u8]) -> Found {
    let mut found = Found::default();
    for (i, page) in bytes.chunks(4096).enumerate() {
        decode_page(page, if i == 0 { 100 } else { 0 }, 4096, &mut found);
    }
    found
}

#[test]
fn the_pages_of_a_database_built_by_sqlite_give_its_rows() {
    let (_dir, bytes) = built(3000);
    let found = decode_all(&bytes);
    let mut starts: Vec<i64> = found.spans.iter().map(|s| s.0).collect();
    starts.sort_unstable();
    starts.dedup();
    assert_eq!(starts, (0..3000).map(|i| i * 1000).collect::<Vec<_>>());
    let s = found.spans.iter().find(|s| s.0 == 1000).unwrap();
    assert_eq!(
        s.1,
        vec![
            Value::Integer(0),
            Value::Integer(1500),
            Value::Integer(2),
            Value::Integer(1)
        ]
    );
    let mut ats: Vec<i64> = found.reminders.iter().map(|r| r.0).collect();
    ats.sort_unstable();
    assert_eq!(ats, vec![5, 6]);
    let r = found.reminders.iter().find(|r| r.0 == 6).unwrap();
    assert_eq!(r.1[3], Value::Null);
    let mut sites: Vec<i64> = found.sites.iter().map(|s| s.0).collect();
    sites.sort_unstable();
    sites.dedup();
    assert_eq!(sites, vec![1, 2]);
    assert!(found.meta.iter().any(|m| m.0 == "database_id"));
}

#[test]
fn records_decode_as_sqlite_writes_them() {
    // Header 4 bytes: serial types 1 (1-byte int), 0 (NULL), 19 (3-byte text).
    let p = [4, 1, 0, 19, 0xfe, b'a', b'b', b'c'];
    assert_eq!(
        record(&p),
        Some(vec![
            Value::Integer(-2),
            Value::Null,
            Value::Text("abc".into())
        ])
    );
    assert_eq!(record(&p[..7]), None);
    assert_eq!(varint(&[0x81, 0x00], 0), Some((128, 2)));
    assert_eq!(varint(&[0xff; 9], 0), Some((u64::MAX, 9)));
}

proptest::proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..4200), start in 0usize..120, usable in 0usize..5000) {
        let mut found = Found::default();
        decode_page(&bytes, start, usable, &mut found);
        let _ = record(&bytes);
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    #[test]
    fn a_page_built_by_sqlite_with_random_bytes_over_part_of_it_never_panics(
        at in 0usize..4096, junk in proptest::collection::vec(proptest::num::u8::ANY, 1..600)
    ) {
        let (_dir, bytes) = built(400);
        let mut found = Found::default();
        for (i, page) in bytes.chunks(4096).enumerate() {
            let mut page = page.to_vec();
            let end = (at + junk.len()).min(page.len());
            let n = end.saturating_sub(at);
            page[at.min(end)..end].copy_from_slice(&junk[..n]);
            decode_page(&page, if i == 0 { 100 } else { 0 }, 4096, &mut found);
        }
    }
}

/// The last day's spans are only in the WAL: the scan finds them there.
#[test]
fn the_scan_reads_the_newest_pages_of_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    super::super::damage_tests::realistic(dir.path(), 1, 51, true);
    let db = dir.path().join("dwell.db");
    assert!(std::fs::metadata(with_suffix(&db, "-wal")).unwrap().len() > 0);
    let all: i64 = Connection::open(&db)
        .unwrap()
        .query_row("SELECT count(*) FROM spans", [], |r| r.get(0))
        .unwrap();
    let found = scan(
        &db,
        &Cancel::new(),
        Instant::now() + std::time::Duration::from_secs(60),
    )
    .unwrap();
    let n = |v: &[Value]| match v.first() {
        Some(Value::Integer(n)) => *n,
        _ => -1,
    };
    let keys: HashSet<(i64, i64)> = found.spans.iter().map(|s| (s.0, n(&s.1))).collect();
    assert_eq!(keys.len() as i64, all);
    let cancel = Cancel::new();
    cancel.cancel();
    assert_eq!(
        scan(&db, &cancel, Instant::now()).err(),
        Some(Stop::Cancelled)
    );
}

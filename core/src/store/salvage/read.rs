//! Reading what can be read of a damaged database, row by row, stepping over
//! what cannot be read, in work and time bounded by the file's size.
//!
//! Why it always ends:
//! - Each table is read in key order, a batch of rows at a time from the
//!   last key read (`key >= ?1 ORDER BY key LIMIT ?2`, a seek on the primary
//!   key to the key after it: a seek to the last key of an unreadable page
//!   would read that page, and lose the first key after it when keys are
//!   consecutive), and a key that does not grow is damage; so each table costs one
//!   query per batch of readable rows...
//! - ...plus, for each unreadable part, one step search over the keys after
//!   it: the step doubles (in `i128`, capped at `i64::MAX`, so it reaches the
//!   end of the key space in at most 64 probes from anywhere, `i64::MIN`
//!   included), then a binary search back (at most 64 more). Every batch and
//!   every step search moves the key read from strictly forward.
//! - On top of that, a budget of queries proportional to the file's pages
//!   ([`Budget`]) and a deadline, also enforced inside each statement by a
//!   progress handler, for what the counting above does not cover (a damaged
//!   schema that turns a seek into a full scan). Out of budget or time, what
//!   was read so far is kept and the rest counted as lost.
//! - The file read is a private scratch copy of `dwell.db` and `dwell.db-wal`,
//!   never the `-shm`: opened with `locking_mode=EXCLUSIVE`, SQLite keeps the
//!   wal-index in its own memory, so a damaged or stale `-shm` cannot make it
//!   retry (with growing sleeps) to begin each read.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::time::Instant;

use rusqlite::types::Value;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::super::{from_ms, Cancel, LONGEST_DAY_MS};
use super::pages::{self, Found, KeyedRow};
use super::{Rescued, Stop, KEY_SETTINGS, NOT_SALVAGED};

type Row = Vec<Value>;

/// Queries allowed per page of the files read (database and WAL, 4 KiB each):
/// a leaf page of `spans` holds at most about 200 rows, each read by one
/// query, and the step searches over unreadable parts take the rest.
const QUERIES_PER_PAGE: u64 = 256;
/// Queries allowed whatever the size (small tables, the notes looked up week
/// by week when their table cannot be read through).
const QUERIES_BASE: u64 = 65_536;

/// Rows of a table keyed by an integer read by one statement: a healthy
/// table costs one query per this many rows.
const BATCH: u32 = 512;

/// How much reading may still be done.
#[derive(Debug)]
pub(super) struct Budget {
    queries: u64,
    deadline: Instant,
    cancel: Cancel,
}

impl Budget {
    /// A budget for files of `bytes` bytes, until `deadline`.
    pub(super) fn new(bytes: u64, deadline: Instant, cancel: &Cancel) -> Budget {
        let pages = bytes.div_ceil(4096);
        Budget {
            queries: pages.saturating_mul(QUERIES_PER_PAGE) + QUERIES_BASE,
            deadline,
            cancel: cancel.clone(),
        }
    }

    /// Takes one query from the budget, or says why not.
    fn spend(&mut self) -> Result<(), Stop> {
        self.stopped()?;
        match self.queries.checked_sub(1) {
            Some(left) => {
                self.queries = left;
                Ok(())
            }
            None => Err(Stop::Spent),
        }
    }

    /// Whether the work must stop now (and why).
    fn stopped(&self) -> Result<(), Stop> {
        if self.cancel.is_cancelled() {
            Err(Stop::Cancelled)
        } else if Instant::now() >= self.deadline {
            Err(Stop::Spent)
        } else {
            Ok(())
        }
    }
}

/// The connection to the scratch copy and what reading it may still spend.
struct Reader {
    conn: Connection,
    budget: Budget,
    /// Unreadable parts stepped over.
    lost: usize,
    /// The rows found in the file's pages ([`pages`]), for the tables whose
    /// rows SQL cannot all reach.
    found: Found,
}

/// How a batch of rows ended.
enum Ended {
    /// Fewer rows than asked for: the table is read to its end.
    Table,
    /// As many rows as asked for; the last key.
    Full(i64),
    /// A row could not be read (or came out of order) after these; the last
    /// key read, if any.
    Broken(Option<i64>),
}

/// A query that failed: the part is unreadable, or reading must stop.
enum Failed {
    Unreadable,
    Stop(Stop),
}

impl From<Stop> for Failed {
    fn from(s: Stop) -> Failed {
        Failed::Stop(s)
    }
}

impl Reader {
    /// Runs one query `f` within the budget. An error is an unreadable part,
    /// unless it came from the budget running out (an interrupted statement).
    fn query<T>(
        &mut self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, Failed> {
        self.budget.spend()?;
        f(&self.conn).map_err(|_| match self.budget.stopped() {
            Err(stop) => Failed::Stop(stop),
            Ok(()) => Failed::Unreadable,
        })
    }

    /// Reads up to `limit` rows after `after` of the table `sql` reads (key
    /// and `width` columns, `?1` the first key wanted, `after + 1`, `?2` the
    /// limit) into `rows`, in one statement; a key out of order is damage too.
    fn batch(
        &mut self,
        sql: &str,
        width: usize,
        after: i64,
        limit: u32,
        rows: &mut Vec<(i64, Row)>,
    ) -> Result<Ended, Stop> {
        let Some(first) = after.checked_add(1) else {
            return Ok(Ended::Table);
        };
        self.budget.spend()?;
        let (mut last, mut n, mut in_order) = (None, 0u32, true);
        let read = (|| -> rusqlite::Result<()> {
            let mut stmt = self.conn.prepare_cached(sql)?;
            let mut q = stmt.query(params![first, limit])?;
            while let Some(r) = q.next()? {
                let (key, cols) = (r.get::<_, i64>(0)?, columns(r, 1, width)?);
                // Rows may share a key (spans of the same start since schema 5).
                if key < last.unwrap_or(first) {
                    in_order = false;
                    break;
                }
                rows.push((key, cols));
                (last, n) = (Some(key), n + 1);
            }
            Ok(())
        })();
        match read {
            Ok(()) if !in_order => Ok(Ended::Broken(last)),
            Ok(()) if n < limit => Ok(Ended::Table),
            Ok(()) => Ok(Ended::Full(last.unwrap_or(after))),
            Err(_) => self.budget.stopped().map(|()| Ended::Broken(last)),
        }
    }

    /// Whether reading works again after `after`.
    fn readable_after(&mut self, sql: &str, width: usize, after: i128) -> Result<bool, Stop> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let ended = self.batch(sql, width, after, 1, &mut Vec::new())?;
        Ok(!matches!(ended, Ended::Broken(_)))
    }

    /// Reads the rows of a table keyed by an integer into `rows`, in key
    /// order, [`BATCH`] at a time, stepping over the parts that cannot be read.
    /// `sql` selects the key and then `width` more columns of the first `?2`
    /// rows whose key is `?1` or more. Rows may share a key.
    fn by_int(&mut self, sql: &str, width: usize, rows: &mut Vec<(i64, Row)>) -> Result<(), Stop> {
        let mut after = i64::MIN;
        loop {
            let before = rows.len();
            match self.batch(sql, width, after, BATCH, rows)? {
                Ended::Table => return Ok(()),
                Ended::Full(i64::MAX) => return Ok(()),
                Ended::Full(last) => {
                    // More rows may share the last key: they are read again
                    // with it by the next batch (unless the batch held nothing else).
                    let tail = rows[before..]
                        .iter()
                        .rev()
                        .take_while(|r| r.0 == last)
                        .count();
                    if tail < rows.len() - before {
                        rows.truncate(rows.len() - tail);
                        after = last - 1;
                    } else {
                        after = last;
                    }
                }
                Ended::Broken(last) => {
                    self.lost += 1;
                    match self.step_over(sql, width, last.unwrap_or(after))? {
                        Some(good) => after = good,
                        None => return Ok(()),
                    }
                }
            }
        }
    }

    /// Steps over the unreadable part after `after`: widens the step (1, 2,
    /// 4, ...) until a read works, then narrows down to where reading starts
    /// working again, always to a key greater than `after`. In `i128`, so that
    /// the probe always moves and reaches `i64::MAX` in at most 64 steps from
    /// anywhere, then at most 64 halvings: 129 probes at most. `None` when
    /// nothing after `after` can be read (not even "no row after `i64::MAX`").
    fn step_over(&mut self, sql: &str, width: usize, after: i64) -> Result<Option<i64>, Stop> {
        let end = i128::from(i64::MAX);
        let (mut bad, mut step) = (i128::from(after), 1i128);
        let mut good = loop {
            let probe = (i128::from(after) + step).min(end);
            if self.readable_after(sql, width, probe)? {
                break probe;
            }
            if probe == end {
                return Ok(None);
            }
            bad = probe;
            step *= 2;
        };
        while good - bad > 1 {
            let mid = (good + bad) / 2;
            if self.readable_after(sql, width, mid)? {
                good = mid;
            } else {
                bad = mid;
            }
        }
        Ok(i64::try_from(good).ok())
    }

    /// Reads the rows of a table keyed by text into `rows`, in key order, until
    /// one cannot be read (`scan` selects the key and `width` more columns of
    /// the first row whose key is greater than `?1`). Returns whether it read
    /// to the end.
    fn by_text(
        &mut self,
        scan: &str,
        width: usize,
        rows: &mut Vec<(String, Row)>,
    ) -> Result<bool, Stop> {
        let mut after = String::new();
        loop {
            let row = self.query(|conn| {
                conn.prepare_cached(scan)?
                    .query_row([&after], |r| {
                        Ok((r.get::<_, String>(0)?, columns(r, 1, width)?))
                    })
                    .optional()
            });
            match row {
                Ok(None) => return Ok(true),
                Ok(Some((key, cols))) if key > after => {
                    after.clone_from(&key);
                    rows.push((key, cols));
                }
                Err(Failed::Stop(s)) => return Err(s),
                Ok(Some(_)) | Err(Failed::Unreadable) => return Ok(false),
            }
        }
    }

    /// One row by its text key, if it can be read.
    fn one(&mut self, sql: &str, key: &str, width: usize) -> Result<Option<Row>, Stop> {
        match self.query(|conn| {
            conn.prepare_cached(sql)?
                .query_row([key], |r| columns(r, 0, width))
        }) {
            Ok(row) => Ok(Some(row)),
            Err(Failed::Unreadable) => Ok(None),
            Err(Failed::Stop(s)) => Err(s),
        }
    }
}

/// The rows found in the pages for a table (taken from `found`), unless SQL
/// read it `whole`: then they can only be stale copies (cells of pages SQL no
/// longer uses), and are dropped.
fn unless_whole<T>(whole: bool, found: &mut Vec<T>) -> Vec<T> {
    let found = std::mem::take(found);
    match whole {
        true => Vec::new(),
        false => found,
    }
}

/// Columns `from..from + width` of `r`, as they are.
fn columns(r: &rusqlite::Row<'_>, from: usize, width: usize) -> rusqlite::Result<Row> {
    (from..from + width).map(|i| r.get::<_, Value>(i)).collect()
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Text(s) => Some(s.clone()),
        _ => None,
    }
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Integer(i) => Some(*i),
        _ => None,
    }
}

/// `Some(None)` for NULL, `Some(Some(_))` for a value `f` accepts, `None` otherwise.
fn nullable<T>(v: &Value, f: impl Fn(&Value) -> Option<T>) -> Option<Option<T>> {
    match v {
        Value::Null => Some(None),
        v => f(v).map(Some),
    }
}

/// Opens the scratch copy at `path` for reading: the wal-index in this
/// process's memory (`locking_mode=EXCLUSIVE` before the first read), no
/// checkpoint when it closes, statements interrupted by `budget`'s token or
/// deadline.
fn open_scratch(path: &Path, budget: &Budget) -> rusqlite::Result<Connection> {
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_NOFOLLOW,
    )?;
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
        true,
    )?;
    conn.query_row("PRAGMA locking_mode = EXCLUSIVE", [], |_| Ok(()))?;
    budget.cancel.watch(&mut conn, Some(budget.deadline));
    Ok(conn)
}

impl Rescued {
    /// Reads what it can of the scratch copy at `path` within `budget`.
    /// `Err(Stop::Cancelled)` when the token was set; out of time or budget,
    /// what was read is kept, with `spent` set.
    pub(super) fn read(path: &Path, budget: Budget) -> Result<Rescued, Stop> {
        let mut r = Rescued::default();
        let mut found = pages::scan(path, &budget.cancel, budget.deadline)?;
        r.spent = found.spent;
        let conn = match open_scratch(path, &budget) {
            Ok(conn) => conn,
            Err(_) if budget.cancel.is_cancelled() => return Err(Stop::Cancelled),
            Err(_) => {
                r.lost += 1;
                r.keep_found(&mut found);
                return Ok(r);
            }
        };
        let mut rd = Reader {
            conn,
            budget,
            lost: 0,
            found,
        };
        let read = r.read_all(&mut rd);
        // What SQL did not get to (out of time) is kept from the pages.
        r.keep_found(&mut rd.found);
        r.lost += rd.lost;
        match read {
            Err(Stop::Cancelled) => Err(Stop::Cancelled),
            Err(Stop::Spent) => {
                r.lost += 1;
                r.spent = true;
                Ok(r)
            }
            Ok(()) => Ok(r),
        }
    }

    /// Keeps the rows found in the pages not merged yet (sites before spans).
    fn keep_found(&mut self, found: &mut Found) {
        self.keep_found_meta(std::mem::take(&mut found.meta));
        self.keep_sites(Vec::new(), std::mem::take(&mut found.sites));
        self.keep_reminders(Vec::new(), std::mem::take(&mut found.reminders));
        self.keep_spans(Vec::new(), std::mem::take(&mut found.spans));
        self.keep_found_notes(std::mem::take(&mut found.notes));
    }

    /// The tables one by one, the small ones first.
    fn read_all(&mut self, rd: &mut Reader) -> Result<(), Stop> {
        self.read_meta(rd)?;
        self.read_sites(rd)?;
        self.read_reminders(rd)?;
        self.read_spans(rd)?;
        self.read_notes(rd)
    }

    fn read_meta(&mut self, rd: &mut Reader) -> Result<(), Stop> {
        let lost = self.lost;
        let read = self.read_meta_sql(rd);
        let whole = read.is_ok() && self.lost == lost;
        self.keep_found_meta(unless_whole(whole, &mut rd.found.meta));
        read
    }

    /// Keeps the settings found in the pages whose key SQL did not read, if
    /// they make sense. Never the consent: a row of a page is a guess (it may
    /// be an old copy of a consent since withdrawn), and recording without
    /// consent is the one thing dwell must never do; the employee opts in again.
    fn keep_found_meta(&mut self, found: Vec<(String, Row)>) {
        let mut seen: HashSet<String> = self.meta.iter().map(|m| m.0.clone()).collect();
        for (key, row) in found {
            let Some(value) = text(&row[0]) else { continue };
            let valid = key != "consent_at";
            if valid && !NOT_SALVAGED.contains(&key.as_str()) && seen.insert(key.clone()) {
                self.meta.push((key, value));
            }
        }
    }

    fn read_meta_sql(&mut self, rd: &mut Reader) -> Result<(), Stop> {
        let mut meta = Vec::new();
        let result = rd.by_text(
            "SELECT key, value FROM meta WHERE key > ?1 ORDER BY key LIMIT 1",
            1,
            &mut meta,
        );
        let whole = self.keep_meta(&mut meta, result)?;
        if !whole {
            self.lost += 1;
            for key in KEY_SETTINGS {
                if self.meta.iter().all(|(k, _)| k != key) {
                    if let Some(row) = rd.one("SELECT value FROM meta WHERE key = ?1", key, 1)? {
                        self.keep_meta(&mut vec![((*key).to_owned(), row)], Ok(true))?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Keeps the settings of `rows` that are salvaged, then passes `result` on.
    fn keep_meta(
        &mut self,
        rows: &mut Vec<(String, Row)>,
        result: Result<bool, Stop>,
    ) -> Result<bool, Stop> {
        for (key, row) in rows.drain(..) {
            if NOT_SALVAGED.contains(&key.as_str()) {
                continue;
            }
            match text(&row[0]) {
                Some(value) => self.meta.push((key, value)),
                None => self.lost += 1,
            }
        }
        result
    }

    fn read_sites(&mut self, rd: &mut Reader) -> Result<(), Stop> {
        let mut rows = Vec::new();
        let lost = rd.lost;
        let result = rd.by_int(
            "SELECT id, label FROM sites WHERE id >= ?1 ORDER BY id LIMIT ?2",
            1,
            &mut rows,
        );
        let whole = result.is_ok() && rd.lost == lost;
        self.keep_sites(rows, unless_whole(whole, &mut rd.found.sites));
        result
    }

    /// Keeps the sites that make sense of those SQL read (`rows`) and of
    /// those found in the pages (`found`, when SQL did not read their id).
    fn keep_sites(&mut self, rows: Vec<(i64, Row)>, found: Vec<KeyedRow>) {
        let label = |row: &Row| text(&row[0]).filter(|l| !l.is_empty());
        for (id, row) in rows {
            match label(&row) {
                Some(label) => self.sites.push((id, label)),
                None => self.lost += 1,
            }
        }
        let mut seen: HashSet<i64> = self.sites.iter().map(|s| s.0).collect();
        for (id, row) in found {
            if let Some(label) = label(&row).filter(|_| seen.insert(id)) {
                self.sites.push((id, label));
            }
        }
    }

    fn read_spans(&mut self, rd: &mut Reader) -> Result<(), Stop> {
        let mut rows = Vec::new();
        // Since schema 5, spans may share a start (`by_int` reads them all).
        let lost = rd.lost;
        let result = rd.by_int(
            "SELECT start, end, site, source FROM spans WHERE start >= ?1 ORDER BY start LIMIT ?2",
            3,
            &mut rows,
        );
        let whole = result.is_ok() && rd.lost == lost;
        self.keep_spans(rows, unless_whole(whole, &mut rd.found.spans));
        result
    }

    /// Keeps the spans that make sense of those SQL read (`rows`: start,
    /// then end, site, source) and of those found in the pages (`found`:
    /// start, then n, end, site, source; those of a start SQL read none of,
    /// each (start, n) once), in the order of their start.
    fn keep_spans(&mut self, mut rows: Vec<(i64, Row)>, mut found: Vec<KeyedRow>) {
        let read: HashSet<i64> = rows.iter().map(|r| r.0).collect();
        let sql = rows.len();
        found.retain(|(start, _)| !read.contains(start));
        found.sort_by(|a, b| {
            (a.0, a.1.first().and_then(int)).cmp(&(b.0, b.1.first().and_then(int)))
        });
        found.dedup_by(|a, b| a.0 == b.0 && a.1.first() == b.1.first());
        rows.extend(found.into_iter().map(|(start, mut row)| {
            row.remove(0);
            (start, row)
        }));
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_by_key(|&i| rows[i].0);
        let sites: HashSet<i64> = self.sites.iter().map(|(id, _)| *id).collect();
        for i in order {
            let (start, row) = (rows[i].0, &rows[i].1);
            let span = (|| {
                let end = int(&row[0]).filter(|e| *e > start && *e - start <= LONGEST_DAY_MS)?;
                let site = nullable(&row[1], int)?;
                if site.is_some_and(|id| !sites.contains(&id)) {
                    return None;
                }
                Some((start, end, site, int(&row[2])?))
            })();
            match span {
                Some(s) => self.spans.push(s),
                // Rows found in the pages are guesses: not counted as lost.
                None if i < sql => self.lost += 1,
                None => {}
            }
        }
    }

    fn read_reminders(&mut self, rd: &mut Reader) -> Result<(), Stop> {
        let mut rows = Vec::new();
        // Since schema 5, reminders of different kinds may share a time.
        let lost = rd.lost;
        let result = rd.by_int(
            "SELECT at, kind, outcome, left_social, message FROM reminders
             WHERE at >= ?1 ORDER BY at LIMIT ?2",
            4,
            &mut rows,
        );
        let whole = result.is_ok() && rd.lost == lost;
        self.keep_reminders(rows, unless_whole(whole, &mut rd.found.reminders));
        result
    }

    /// Keeps the reminders that make sense of those SQL read (`rows`) and of
    /// those found in the pages (`found`, each (at, kind) SQL did not read, once).
    fn keep_reminders(&mut self, mut rows: Vec<(i64, Row)>, found: Vec<KeyedRow>) {
        let sql = rows.len();
        let mut seen: HashSet<(i64, Option<String>)> =
            rows.iter().map(|(at, row)| (*at, text(&row[0]))).collect();
        rows.extend(
            found
                .into_iter()
                .filter(|(at, row)| seen.insert((*at, text(&row[0])))),
        );
        for (i, (at, row)) in rows.into_iter().enumerate() {
            let reminder = (|| {
                Some((
                    at,
                    text(&row[0])?,
                    text(&row[1])?,
                    nullable(&row[2], int)?,
                    nullable(&row[3], text)?,
                ))
            })();
            match reminder {
                Some(r) => self.reminders.push(r),
                None if i < sql => self.lost += 1,
                None => {}
            }
        }
    }

    fn read_notes(&mut self, rd: &mut Reader) -> Result<(), Stop> {
        let lost = self.lost;
        let read = self.read_notes_sql(rd);
        let whole = read.is_ok() && self.lost == lost;
        self.keep_found_notes(unless_whole(whole, &mut rd.found.notes));
        read
    }

    /// Keeps the notes found in the pages whose week SQL did not read, if
    /// they make sense.
    fn keep_found_notes(&mut self, found: Vec<(String, Row)>) {
        let mut seen: HashSet<String> = self.notes.iter().map(|n| n.0.clone()).collect();
        for (week, row) in found {
            if let (Some(text), Some(written)) = (text(&row[0]), int(&row[1])) {
                if seen.insert(week.clone()) {
                    self.notes.push((week, text, written));
                }
            }
        }
    }

    fn read_notes_sql(&mut self, rd: &mut Reader) -> Result<(), Stop> {
        let mut rows = Vec::new();
        let whole = rd.by_text(
            "SELECT week, text, written FROM notes WHERE week > ?1 ORDER BY week LIMIT 1",
            2,
            &mut rows,
        );
        let whole = self.keep_notes(&mut rows, whole)?;
        if whole {
            return Ok(());
        }
        self.lost += 1;
        // Notes are keyed by ISO week: look up each week of the years the
        // rest of the data covers.
        let years: BTreeSet<i32> = self
            .spans
            .iter()
            .map(|s| s.0)
            .chain(self.reminders.iter().map(|r| r.0))
            .map(|t| chrono::Datelike::year(&from_ms(t)))
            .collect();
        for year in years {
            for week in 1..=53 {
                let key = format!("{year}-W{week:02}");
                if self.notes.iter().any(|(k, _, _)| *k == key) {
                    continue;
                }
                if let Some(row) =
                    rd.one("SELECT text, written FROM notes WHERE week = ?1", &key, 2)?
                {
                    self.keep_notes(&mut vec![(key, row)], Ok(true))?;
                }
            }
        }
        Ok(())
    }

    /// Keeps the notes of `rows` that make sense, then passes `result` on.
    fn keep_notes(
        &mut self,
        rows: &mut Vec<(String, Row)>,
        result: Result<bool, Stop>,
    ) -> Result<bool, Stop> {
        for (week, row) in rows.drain(..) {
            match (text(&row[0]), int(&row[1])) {
                (Some(text), Some(written)) => self.notes.push((week, text, written)),
                _ => self.lost += 1,
            }
        }
        result
    }
}

//! The second reader of a damaged database: the file read page by page, not
//! through SQL, for the rows SQL cannot reach (a table's root or interior
//! pages damaged leave its intact leaves unreachable).
//!
//! One pass over the scratch copy (and its WAL: the newest frame of a page,
//! of the last commit, wins). Each B-tree page holding records (index leaf
//! and interior pages, `0x0A` and `0x02`: `spans`, `reminders`, `meta`,
//! `notes` and the `sites` label index are stored that way; table leaves,
//! `0x0D`: `sites`)
//! has its cells decoded (SQLite file format, "B-tree Pages" and "Record
//! Format"), and a record is recognised by its shape: its column count and
//! the type of each column, as the tables of `schema.rs` (schema 5) have
//! them. Cells that spill to overflow pages, or whose bounds or types make no
//! sense, are skipped: any byte pattern is read without panic and without
//! reading outside its page. Pages on the freelist (from the newest page 1)
//! are skipped, so that rows deleted (forgotten, expired) do not come back.
//! The rows found go through the same checks as the rows SQL read.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::Instant;

use rusqlite::types::Value;

use super::super::{with_suffix, Cancel};
use super::Stop;

/// A row: its key, then the other columns, as the SQL reader gives them.
pub(super) type KeyedRow = (i64, Vec<Value>);

/// The cancel token and deadline are looked at before the first page and
/// then once per this many pages.
const PAGES_PER_LOOK: u64 = 64;

/// The largest WAL read (a healthy one stays under 1 MB).
const WAL_MAX: u64 = 64 << 20;

/// Rows found in the pages, in file order.
#[derive(Debug, Default)]
pub(super) struct Found {
    /// start, then n, end, site, source.
    pub(super) spans: Vec<KeyedRow>,
    /// at, then kind, outcome, left_social, message.
    pub(super) reminders: Vec<KeyedRow>,
    /// id, then label.
    pub(super) sites: Vec<KeyedRow>,
    /// key, then value.
    pub(super) meta: Vec<(String, Vec<Value>)>,
    /// week, then text, written.
    pub(super) notes: Vec<(String, Vec<Value>)>,
    /// Whether the deadline stopped the scan before the end.
    pub(super) spent: bool,
}

/// Scans the scratch copy at `path` (and `path-wal`) page by page.
/// `Err(Stop::Cancelled)` when `cancel` is set; out of time, what was
/// found is kept, with `spent` set. Unreadable files give nothing.
pub(super) fn scan(path: &Path, cancel: &Cancel, deadline: Instant) -> Result<Found, Stop> {
    let mut found = Found::default();
    let Ok(mut file) = File::open(path) else {
        return Ok(found);
    };
    let len = file.metadata().map_or(0, |m| m.len());
    let mut first = vec![0u8; 100];
    let header_ok = file.read_exact(&mut first).is_ok();
    let wal = read_wal(&with_suffix(path, "-wal"));
    let size = header_ok
        .then(|| page_size(u16::from_be_bytes([first[16], first[17]])))
        .flatten()
        .or(wal.as_ref().map(|w| w.size))
        .unwrap_or(4096);
    let reserved = if header_ok { usize::from(first[20]) } else { 0 };
    let usable = size.saturating_sub(reserved).max(480);
    let mut pages = Pages {
        file,
        size,
        wal,
        buf: vec![0; size],
    };
    let count = (len / size as u64).max(pages.wal.as_ref().map_or(0, |w| w.last));
    let free = pages.freelist(count);
    for n in 1..=count {
        if (n - 1) % PAGES_PER_LOOK == 0 {
            if cancel.is_cancelled() {
                return Err(Stop::Cancelled);
            }
            if Instant::now() >= deadline {
                found.spent = true;
                return Ok(found);
            }
        }
        if free.contains(&n) {
            continue;
        }
        if let Some(page) = pages.get(n) {
            let start = if n == 1 { 100 } else { 0 };
            decode_page(page, start, usable, &mut found);
        }
    }
    Ok(found)
}

/// The page size a header's field means, if it is one.
fn page_size(field: u16) -> Option<usize> {
    let size = if field == 1 {
        65536
    } else {
        usize::from(field)
    };
    (size.is_power_of_two() && (512..=65536).contains(&size)).then_some(size)
}

/// The WAL's frames of its last commit: the newest one of each page.
struct Wal {
    bytes: Vec<u8>,
    size: usize,
    /// Page number to the offset of its newest page image.
    newest: HashMap<u64, usize>,
    /// The highest page number in it.
    last: u64,
}

fn read_wal(path: &Path) -> Option<Wal> {
    let len = std::fs::metadata(path).ok()?.len();
    if len > WAL_MAX {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    let be32 = |at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
    };
    let magic = be32(0)?;
    if magic & !1 != 0x377f_0682 {
        return None;
    }
    let size = page_size(u16::try_from(be32(8)?).ok()?)?;
    let salt = (be32(16)?, be32(20)?);
    let (mut newest, mut pending) = (HashMap::new(), Vec::new());
    let mut at = 32;
    while at + 24 + size <= bytes.len() {
        if (be32(at + 8)?, be32(at + 12)?) != salt {
            break;
        }
        let page = u64::from(be32(at)?);
        pending.push((page, at + 24));
        if be32(at + 4)? != 0 {
            // A commit: its frames and those before it count.
            newest.extend(pending.drain(..));
        }
        at += 24 + size;
    }
    let last = newest.keys().copied().max().unwrap_or(0);
    Some(Wal {
        bytes,
        size,
        newest,
        last,
    })
}

/// Pages of the scratch copy, the WAL's newest image first.
struct Pages {
    file: File,
    size: usize,
    wal: Option<Wal>,
    buf: Vec<u8>,
}

impl Pages {
    /// Page `n` (from 1), if it can be read whole.
    fn get(&mut self, n: u64) -> Option<&[u8]> {
        if let Some(wal) = self.wal.as_ref().filter(|w| w.size == self.size) {
            if let Some(&at) = wal.newest.get(&n) {
                return wal.bytes.get(at..at + wal.size);
            }
        }
        let at = (n.checked_sub(1)?).checked_mul(self.size as u64)?;
        self.file.seek(SeekFrom::Start(at)).ok()?;
        self.file.read_exact(&mut self.buf).ok()?;
        Some(&self.buf)
    }

    /// The pages on the freelist, as the newest page 1 says (trunk pages and
    /// their leaves), at most `count` of them looked at.
    fn freelist(&mut self, count: u64) -> HashSet<u64> {
        let mut free = HashSet::new();
        let Some(first) = self.get(1).map(|p| be32(p, 32)) else {
            return free;
        };
        let mut trunk = u64::from(first.unwrap_or(0));
        while trunk != 0 && trunk <= count && free.insert(trunk) {
            let Some(page) = self.get(trunk) else { break };
            let next = be32(page, 0).unwrap_or(0);
            let leaves = be32(page, 4).unwrap_or(0) as usize;
            for i in 0..leaves.min(page.len() / 4) {
                if let Some(leaf) = be32(page, 8 + 4 * i) {
                    free.insert(u64::from(leaf));
                }
            }
            trunk = u64::from(next);
        }
        free
    }
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn be16(b: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    )))
}

/// Decodes the records of `page` (its B-tree header at `start`: 100 on page
/// 1) into `found`; `usable` is the page size less the reserved bytes.
pub(super) fn decode_page(page: &[u8], start: usize, usable: usize, found: &mut Found) {
    let Some(&kind) = page.get(start) else { return };
    let (header, index, child) = match kind {
        0x0A => (8, true, false),
        0x02 => (12, true, true),
        0x0D => (8, false, false),
        _ => return,
    };
    let usable = usable.min(page.len());
    // The most payload a cell holds on its page (more spills over).
    let local_max = match index {
        true => (usable.saturating_sub(12) * 64 / 255).saturating_sub(23),
        false => usable.saturating_sub(35),
    };
    let Some(cells) = be16(page, start + 3) else {
        return;
    };
    let pointers = start + header;
    let content = pointers + 2 * cells;
    for i in 0..cells {
        let Some(at) = be16(page, pointers + 2 * i) else {
            return;
        };
        if at < content || at >= usable {
            continue;
        }
        let cell = &page[at..usable];
        let cell = if child { cell.get(4..) } else { Some(cell) };
        let Some((size, used)) = cell.and_then(|c| varint(c, 0)) else {
            continue;
        };
        let cell = cell.unwrap_or_default();
        let (rowid, used) = match index {
            true => (None, used),
            false => match varint(cell, used) {
                Some((r, u)) => (Some(r as i64), u),
                None => continue,
            },
        };
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        if size > local_max {
            continue;
        }
        let Some(payload) = cell.get(used..used.saturating_add(size)) else {
            continue;
        };
        if let Some(values) = record(payload) {
            classify(values, rowid, found);
        }
    }
}

/// Puts `values` into the table whose shape it has, if any.
fn classify(mut v: Vec<Value>, rowid: Option<i64>, found: &mut Found) {
    use Value::{Integer as I, Null as N, Text as T};
    let shape = |v: &[Value]| {
        v.iter()
            .map(|x| match x {
                N => 'n',
                I(_) => 'i',
                T(_) => 't',
                _ => 'x',
            })
            .collect::<String>()
    };
    let shape = shape(&v);
    let s = shape.as_bytes();
    match (rowid, s.len()) {
        // spans: start, n, end, site (or NULL), source.
        (None, 5) if s[..3] == *b"iii" && matches!(s[3], b'i' | b'n') && s[4] == b'i' => {
            if let I(start) = v.remove(0) {
                found.spans.push((start, v));
            }
        }
        // reminders: at, kind, outcome, left_social, message.
        (None, 5) if s[..3] == *b"itt" && matches!(s[3], b'i' | b'n') && s[4] != b'x' => {
            if let I(at) = v.remove(0) {
                found.reminders.push((at, v));
            }
        }
        // sites' label index: label, id.
        (None, 2) if s == b"ti" => {
            if let (Some(I(id)), label) = (v.pop(), v) {
                found.sites.push((id, label));
            }
        }
        // meta: key, value.
        (None, 2) if s == b"tt" => {
            if let T(key) = v.remove(0) {
                found.meta.push((key, v));
            }
        }
        // notes: week, text, written.
        (None, 3) if s == b"tti" => {
            if let T(week) = v.remove(0) {
                found.notes.push((week, v));
            }
        }
        // sites: id (the rowid), label.
        (Some(id), 2) if s == b"nt" => {
            v.remove(0);
            found.sites.push((id, v));
        }
        _ => {}
    }
}

/// A SQLite varint at `at` of `b`: its value and the offset after it.
fn varint(b: &[u8], at: usize) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for i in 0..9 {
        let byte = *b.get(at + i)?;
        if i == 8 {
            return Some(((v << 8) | u64::from(byte), at + 9));
        }
        v = (v << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Some((v, at + i + 1));
        }
    }
    None
}

/// The values of a record (header of serial types, then the body), if it
/// makes sense: integers, NULLs and UTF-8 text only (no table read here has
/// real numbers or blobs).
pub(super) fn record(p: &[u8]) -> Option<Vec<Value>> {
    let (header, mut at) = varint(p, 0)?;
    let header = usize::try_from(header).ok()?;
    if header > p.len() || header < at {
        return None;
    }
    let mut body = header;
    let mut values = Vec::new();
    while at < header {
        let (serial, next) = varint(&p[..header], at)?;
        at = next;
        let width = match serial {
            0 | 8 | 9 => 0,
            1..=4 => serial as usize,
            5 => 6,
            6 => 8,
            s if s >= 13 && s % 2 == 1 => usize::try_from((s - 13) / 2).ok()?,
            _ => return None,
        };
        let bytes = p.get(body..body.checked_add(width)?)?;
        body += width;
        values.push(match serial {
            0 => Value::Null,
            8 => Value::Integer(0),
            9 => Value::Integer(1),
            1..=6 => {
                let mut v = if bytes[0] & 0x80 != 0 { -1i64 } else { 0 };
                for &b in bytes {
                    v = (v << 8) | i64::from(b);
                }
                Value::Integer(v)
            }
            _ => Value::Text(String::from_utf8(bytes.to_vec()).ok()?),
        });
    }
    (body == p.len()).then_some(values)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

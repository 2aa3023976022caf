//! The binary encoding of a day's visits in `day_rollups.visits`: for each
//! visit its site id, its start (from the previous visit's end, or the day's
//! start) and its length, as zigzag varints (about 5 bytes a visit).

use super::StoredVisit;
use crate::store::from_ms;

fn put_varint(out: &mut Vec<u8>, v: i64) {
    // Zigzag, then 7 bits a byte.
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

fn get_varint(bytes: &[u8], at: &mut usize) -> Option<i64> {
    let mut z: u64 = 0;
    let mut shift = 0;
    loop {
        let b = *bytes.get(*at)?;
        *at += 1;
        z |= u64::from(b & 0x7f).checked_shl(shift)?;
        if b < 0x80 {
            break;
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
    Some(((z >> 1) as i64) ^ -((z & 1) as i64))
}

/// A day's visits as a blob: site id, start (from the previous visit's end,
/// or the day's start), length; zigzag varints.
pub(in crate::store) fn encode_visits(day_start: i64, visits: &[(i64, i64, i64)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(visits.len() * 5);
    let mut prev = day_start;
    for &(site, start, end) in visits {
        put_varint(&mut out, site);
        put_varint(&mut out, start - prev);
        put_varint(&mut out, end - start);
        prev = end;
    }
    out
}

pub(in crate::store) fn decode_visits(
    day_start: i64,
    bytes: &[u8],
    out: &mut Vec<StoredVisit>,
) -> Option<()> {
    let (mut at, mut prev) = (0, day_start);
    while at < bytes.len() {
        let site = get_varint(bytes, &mut at)?;
        let start = prev.checked_add(get_varint(bytes, &mut at)?)?;
        let end = start.checked_add(get_varint(bytes, &mut at)?)?;
        out.push(StoredVisit {
            site,
            start: from_ms(start),
            end: from_ms(end),
        });
        prev = end;
    }
    Some(())
}

/// Adds the visit of `site` over `[start, end)` at the end of a day's `blob`
/// (the day starting at `day_start`): the last visit grows when it is of the
/// same site and ends at `start` (the same visit, as [`crate::stats::visits`]
/// joins touching pieces), a new visit follows otherwise. `None` when the blob
/// does not decode; it is then left as it was.
pub(in crate::store) fn append_visit(
    day_start: i64,
    blob: &mut Vec<u8>,
    site: i64,
    start: i64,
    end: i64,
) -> Option<()> {
    // (offset of the last visit, the end before it, its site and start, its end)
    let (mut at, mut prev) = (0, day_start);
    let mut last: Option<(usize, i64, i64, i64)> = None;
    while at < blob.len() {
        let offset = at;
        let s = get_varint(blob, &mut at)?;
        let a = prev.checked_add(get_varint(blob, &mut at)?)?;
        let b = a.checked_add(get_varint(blob, &mut at)?)?;
        last = Some((offset, prev, s, a));
        prev = b;
    }
    match last {
        Some((offset, before, s, a)) if s == site && prev == start => {
            blob.truncate(offset);
            put_varint(blob, site);
            put_varint(blob, a - before);
            put_varint(blob, end - a);
        }
        _ => {
            put_varint(blob, site);
            put_varint(blob, start - prev);
            put_varint(blob, end - start);
        }
    }
    Some(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn decoded(day_start: i64, blob: &[u8]) -> Vec<(i64, i64, i64)> {
        let mut out = Vec::new();
        decode_visits(day_start, blob, &mut out).unwrap();
        out.iter()
            .map(|v| (v.site, v.start.timestamp_millis(), v.end.timestamp_millis()))
            .collect()
    }

    #[test]
    fn visits_survive_their_encoding() {
        let visits = [(3, 10, 20), (1, 20, 20), (300, 1_000_000, 1_000_050)];
        assert_eq!(decoded(5, &encode_visits(5, &visits)), visits);
        let mut out = Vec::new();
        assert!(decode_visits(0, &[0x80], &mut out).is_none());
    }

    #[test]
    fn an_appended_visit_is_the_one_encoded_with_the_others() {
        let mut blob = Vec::new();
        append_visit(5, &mut blob, 3, 10, 20).unwrap();
        // Touching, the same site: the same visit, longer.
        append_visit(5, &mut blob, 3, 20, 70).unwrap();
        // Touching, another site; then apart, the first site again.
        append_visit(5, &mut blob, 1, 70, 80).unwrap();
        append_visit(5, &mut blob, 3, 90, 95).unwrap();
        let visits = [(3, 10, 70), (1, 70, 80), (3, 90, 95)];
        assert_eq!(blob, encode_visits(5, &visits));
        let mut bad = vec![0x80];
        assert!(append_visit(0, &mut bad, 1, 1, 2).is_none());
        assert_eq!(bad, [0x80]);
    }
}

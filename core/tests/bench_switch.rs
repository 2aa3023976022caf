//! A criterion-free micro benchmark of what one focus switch costs the store:
//! the CPU time of [`Store::put_spans_guarded`] at the 100th and the 1,000th
//! switch of a day, with the rollups kept (as the agent keeps them). Run by
//! `scripts/bench-store` (release build); ignored by `cargo test`.
//!
//! Each switch writes what the agent writes on a switch: the span that just
//! closed (the same start as the checkpoint written before it, a later end)
//! and the new open span (a first checkpoint of a few milliseconds).

use std::time::Instant;

use chrono::{DateTime, TimeZone, Utc};
use dwell_core::{Activity, Source, Span, Store};

const SITES: [Option<&str>; 6] = [
    Some("facebook.com"),
    None,
    Some("x.com"),
    None,
    Some("reddit.com"),
    Some("youtube.com"),
];

fn at(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

fn span(start: i64, end: i64, i: usize) -> Span {
    Span {
        start: at(start),
        end: at(end),
        activity: SITES[i % SITES.len()].map_or(Activity::Other, |s| Activity::Social(s.into())),
        source: Source::X11,
    }
}

/// Microseconds of CPU (user + system) of this process so far.
fn cpu_us() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // Fields 14 and 15 (utime, stime), counted from 1 with the name at 2.
    (ticks(11) + ticks(12)) * 10_000
}

/// One day of `n` switches, 19 s apart (1,500 in 8 hours); returns the wall
/// time in µs of each switch's write.
fn day(store: &mut Store, day_start: i64, n: usize) -> Vec<f64> {
    let seen = store.forget_seq().unwrap_or(0);
    let step = 19_000;
    let mut times = Vec::with_capacity(n);
    let mut open = day_start;
    let first = [span(open, open + 5, 0)];
    let _ = store.put_spans_guarded(seen, &first);
    for i in 1..=n {
        let now = day_start + i as i64 * step;
        let spans = [span(open, now, i - 1), span(now, now + 5, i)];
        let t = Instant::now();
        let put = store.put_spans_guarded(seen, &spans);
        times.push(t.elapsed().as_secs_f64() * 1e6);
        assert!(put.is_ok(), "{put:?}");
        open = now;
    }
    times
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[test]
#[ignore = "a benchmark: scripts/bench-store runs it in a release build"]
fn cpu_per_switch_stays_flat_through_the_day() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut store = Store::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    store.keep_rollups(Utc).unwrap_or_else(|e| panic!("{e}"));
    let days = 7;
    let (mut at_100, mut at_1000) = (Vec::new(), Vec::new());
    let cpu0 = cpu_us();
    let wall0 = Instant::now();
    for d in 0..days {
        // Days start at 08:00 UTC, a week of history before the measured ones.
        let start =
            1_764_000_000_000 - 1_764_000_000_000 % 86_400_000 + d * 86_400_000 + 8 * 3_600_000;
        let times = day(&mut store, start, 1_500);
        at_100.extend_from_slice(&times[90..110]);
        at_1000.extend_from_slice(&times[990..1010]);
    }
    let cpu = cpu_us() - cpu0;
    let wall = wall0.elapsed().as_secs_f64();
    let (a, b) = (median(at_100), median(at_1000));
    println!(
        "switches: {} over {days} days, {:.1} s wall, CPU {:.3} ms per switch on average",
        days * 1_500,
        wall,
        cpu as f64 / 1e3 / (days * 1_500) as f64
    );
    println!("per write, median of switches 90-110:   {:.3} ms", a / 1e3);
    println!("per write, median of switches 990-1010: {:.3} ms", b / 1e3);
    println!("1000th / 100th: {:.2}x", b / a);
}

//! End-to-end tests of what dwell promises when things go wrong, on the real binaries under the
//! X11 test desktop:
//!
//! - `kill -9` at any moment loses at most 10 s (a 9 s checkpoint period and its write) and leaves an intact
//!   database (a seeded series of 30 kills);
//! - a step of the wall clock (libfaketime, back and forward 1 h) neither loses nor invents time
//!   and never stores a span that ends before it starts;
//! - `agent.lock` or `dwell.db` planted as a symbolic link is refused and its target untouched;
//! - a site label that reads as a spreadsheet formula is neutralised in every CSV;
//! - a full disk: no spinning, one log line, `status` says since when writes fail, nothing
//!   lost once there is room again;
//! - a `tcp:` session bus address is never dialled; `status` says why reminders are off.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{ErrorKind, Write as _};
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use dwell_tests::{
    bin_path, run_command, sqlite_json, Child, Desktop, DesktopOptions, Dwell, Signal,
    COMMAND_TIMEOUT,
};

const ALWAYS: &str = "[tracking]\nidle_timeout = \"10m\"\n[schedule]\nrecord = \"always\"\n";

/// What the agent logs (at debug) once it has classified the focused Facebook tab: the
/// moment its span opens.
const FOCUS_ON_FACEBOOK: &str = "focus activity=Some(Social(\"facebook.com\"))";
/// The agent's last line before its loop starts taking events.
const RUNNING: &str = "dwell-agent running";
const FOCUS_ON_REDDIT: &str = "focus activity=Some(Social(\"reddit.com\"))";

/// The agent's checkpoint period (`CHECKPOINT_EVERY`).
const CHECKPOINT: f64 = 9.0;
/// The most a `kill -9` may lose: the checkpoint period, the wake-up and the write.
const PROMISE: f64 = 10.0;
/// How much earlier than the agent's span the test may start its stopwatch: it starts when it
/// sees `dwell-agent running`, and the agent dates its span a few ms after writing that line.
const STOPWATCH_LEAD: f64 = 0.05;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Starts `dwell-agent run` (debug logs, plus `env`) without waiting for anything.
fn spawn_agent(desktop: &Desktop, dwell: &Dwell, env: &[(&str, &str)]) -> Child {
    let mut cmd = desktop.command(bin_path("dwell-agent"));
    cmd.args(dwell.args(&["run"])).env("DWELL_LOG", "debug");
    for (key, value) in env {
        cmd.env(key, value);
    }
    desktop.spawn_command(cmd)
}

/// Waits (polling every 2 ms, so the moment is close) until the agent's log contains `line`;
/// returns when it was seen. Panics with the log when it does not come within 10 s.
fn wait_for_log(agent: &Child, line: &str) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if agent.stderr_text().contains(line) {
            return Instant::now();
        }
        assert!(
            Instant::now() < deadline && agent.is_running(),
            "the agent (running: {}) did not log `{line}` within 10 s:\n{}",
            agent.is_running(),
            agent.stderr_text()
        );
        thread::sleep(Duration::from_millis(2));
    }
}

/// Sleeps until `at` (returns at once if it has passed).
fn sleep_until(at: Instant) {
    if let Some(left) = at.checked_duration_since(Instant::now()) {
        thread::sleep(left);
    }
}

/// Everything recorded in `db`, in seconds (all spans, social or not).
fn recorded_total(db: &Path) -> f64 {
    let rows = sqlite_json(
        &read_only(db),
        "SELECT coalesce(sum(end - start), 0) / 1000.0 AS seconds FROM spans",
    );
    rows[0]["seconds"].as_f64().expect("seconds is a number")
}

/// `PRAGMA integrity_check`'s answer, one line per problem ("ok" when there is none).
fn integrity(db: &Path) -> String {
    let rows = sqlite_json(&read_only(db), "PRAGMA integrity_check");
    rows.as_array()
        .expect("rows")
        .iter()
        .map(|r| r["integrity_check"].as_str().unwrap_or("?").to_owned())
        .collect::<Vec<_>>()
        .join("; ")
}

/// A read-only URI for `db`, so that looking does not checkpoint or remove the `-wal` the
/// agent left behind: the next agent finds the files exactly as the kill left them.
fn read_only(db: &Path) -> PathBuf {
    PathBuf::from(format!("file:{}?mode=ro", db.display()))
}

/// Stored spans (start, end in ms since the epoch; site label or "(other)"), by start.
fn spans(db: &Path) -> Vec<(i64, i64, String)> {
    sqlite_json(
        db,
        "SELECT s.start, s.end, coalesce(t.label, '(other)') AS site
         FROM spans s LEFT JOIN sites t ON t.id = s.site ORDER BY s.start",
    )
    .as_array()
    .expect("rows")
    .iter()
    .map(|r| {
        (
            r["start"].as_i64().expect("start"),
            r["end"].as_i64().expect("end"),
            r["site"].as_str().expect("site").to_owned(),
        )
    })
    .collect()
}

fn now_ms() -> i64 {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_millis();
    i64::try_from(ms).expect("milliseconds fit in i64")
}

/// SplitMix64: a small deterministic generator, so the kill series is the same on every run.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi)`.
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let unit = (self.next() >> 11) as f64 / (1_u64 << 53) as f64;
        lo + unit * (hi - lo)
    }

    /// Shuffles `items` in place (Fisher–Yates).
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = usize::try_from(self.next() % (i as u64 + 1)).expect("index fits");
            items.swap(i, j);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 1. kill -9 loses at most one checkpoint period, whenever it comes
// ---------------------------------------------------------------------------------------------

/// Kills per lane, and lanes (data directories with an agent each, run side by side so the
/// series stays well under a minute although several kills wait for a checkpoint).
const KILLS_PER_LANE: usize = 10;
const LANES: usize = 3;
const SEED: u64 = 0x000D_15EA_5E0F_D00D;

/// The moments (seconds after the span opened) at which one lane's agents are killed: one
/// right before the first checkpoint is due, one just after it is due, one a little later,
/// the rest early in the period (where a kill loses the whole span so far); shuffled.
fn kill_offsets(rng: &mut SplitMix) -> Vec<f64> {
    let mut offsets = vec![
        rng.range(CHECKPOINT - 0.35, CHECKPOINT - 0.05),
        rng.range(CHECKPOINT + 0.05, CHECKPOINT + 0.1),
        rng.range(CHECKPOINT + 0.2, CHECKPOINT + 0.6),
    ];
    while offsets.len() < KILLS_PER_LANE {
        offsets.push(rng.range(0.05, 3.0));
    }
    rng.shuffle(&mut offsets);
    offsets
}

struct Kill {
    lane: usize,
    offset: f64,
    truth: f64,
    recorded: f64,
    integrity: String,
}

impl Kill {
    fn loss(&self) -> f64 {
        self.truth - self.recorded
    }
}

/// Runs one lane: on its own data dir, starts the agent, kills it `offsets[i]` s after its span
/// opened, looks at the database, and again.
fn kill_lane(desktop: &Desktop, dwell: &Dwell, lane: usize, offsets: &[f64]) -> Vec<Kill> {
    let db = dwell.db();
    let mut kills = Vec::new();
    for &offset in offsets {
        let before = recorded_total(&db);
        let agent = spawn_agent(desktop, dwell, &[]);
        // The span opens when the loop takes the first focus event, queued by then: right after
        // this line (classifying the window, which the `focus` line follows, takes a while).
        let opened = wait_for_log(&agent, RUNNING);
        sleep_until(opened + Duration::from_secs_f64(offset));
        let killed = Instant::now();
        agent.kill9();
        let truth = (killed - opened).as_secs_f64();
        assert!(
            truth < 1.0 || agent.stderr_text().contains(FOCUS_ON_FACEBOOK),
            "the agent killed {truth:.2} s in had not seen the Facebook window:\n{}",
            agent.stderr_text()
        );
        let integrity = integrity(&db);
        let recorded = recorded_total(&db) - before;
        kills.push(Kill {
            lane,
            offset,
            truth,
            recorded,
            integrity,
        });
    }
    kills
}

#[test]
fn kill_9_at_any_moment_loses_at_most_one_checkpoint_period() {
    let desktop = Desktop::start(DesktopOptions::default());
    let mut rng = SplitMix(SEED);
    let lanes: Vec<(Dwell, Vec<f64>)> = (0..LANES)
        .map(|lane| {
            let mut dwell = Dwell::new(&desktop, ALWAYS);
            dwell.data_dir = desktop.tempdir().join(format!("dwell-data-{lane}"));
            dwell.enable();
            (dwell, kill_offsets(&mut rng))
        })
        .collect();
    let fb = desktop.open_window("firefox", "Navigator", "Facebook — Mozilla Firefox");
    fb.activate();

    let started = Instant::now();
    let kills: Vec<Kill> = thread::scope(|scope| {
        let handles: Vec<_> = lanes
            .iter()
            .enumerate()
            .map(|(lane, (dwell, offsets))| {
                let desktop = &desktop;
                scope.spawn(move || kill_lane(desktop, dwell, lane, offsets))
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a kill lane panicked"))
            .collect()
    });
    let wall = started.elapsed().as_secs_f64();

    let mut table = String::from("lane  offset  truth  recorded  loss  integrity\n");
    for k in &kills {
        let _ = writeln!(
            table,
            "{:>4}  {:>6.2}  {:>5.2}  {:>8.2}  {:>4.2}  {}",
            k.lane,
            k.offset,
            k.truth,
            k.recorded,
            k.loss(),
            k.integrity
        );
    }
    let worst = kills.iter().map(Kill::loss).fold(f64::MIN, f64::max);
    #[allow(clippy::cast_precision_loss)]
    let mean = kills.iter().map(Kill::loss).sum::<f64>() / kills.len() as f64;
    let ok = kills.iter().filter(|k| k.integrity == "ok").count();
    let after_checkpoint = kills.iter().filter(|k| k.truth > CHECKPOINT).count();
    let summary = format!(
        "kill -9 series: {} kills ({after_checkpoint} after the first checkpoint was due), worst loss \
         {worst:.2} s, mean loss {mean:.2} s, integrity ok {ok}/{}, {wall:.0} s wall time",
        kills.len(),
        kills.len()
    );
    println!("{table}{summary}");

    let bad: Vec<&Kill> = kills
        .iter()
        .filter(|k| k.integrity != "ok" || k.loss() > PROMISE + STOPWATCH_LEAD || k.loss() < -1.0)
        .collect();
    assert!(
        bad.is_empty(),
        "{} of {} kills broke the promise (integrity not ok, more than {PROMISE} s lost, or \
         more than 1 s recorded beyond the truth): lanes/offsets {:?}; where `recorded` is 0 \
         after more than {CHECKPOINT} s, the first checkpoint had not been written yet (when \
         one was, `recorded` shows how long after the span's start it came)\n{table}{summary}",
        bad.len(),
        kills.len(),
        bad.iter()
            .map(|k| (k.lane, format!("{:.2}", k.offset)))
            .collect::<Vec<_>>()
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Clock steps on the real binary (libfaketime)
// ---------------------------------------------------------------------------------------------

/// Path of libfaketime (Debian package `libfaketime`, pulled in by `faketime`).
fn libfaketime() -> PathBuf {
    let out = Command::new("dpkg").args(["-L", "libfaketime"]).output();
    let listed = out.ok().and_then(|o| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .find(|l| l.ends_with("/libfaketime.so.1"))
            .map(PathBuf::from)
    });
    let path = listed
        .unwrap_or_else(|| PathBuf::from("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"));
    assert!(
        path.is_file(),
        "libfaketime is not installed (looked for {}): install the Debian package `faketime` \
         (scripts/test does)",
        path.display()
    );
    path
}

/// Focus a social window, run ~6 s, step the agent's wall clock by `step` (a libfaketime offset
/// such as "-1h"), run ~6 s more, stop: nothing lost or invented, no backwards span, spans on
/// both sides of the step.
fn clock_step_keeps_the_count(step: &str, step_ms: i64) {
    let desktop = Desktop::start(DesktopOptions::default());
    let dwell = Dwell::new(&desktop, ALWAYS);
    dwell.enable();
    let fb = desktop.open_window("firefox", "Navigator", "Facebook — Mozilla Firefox");
    fb.activate();

    let lib = libfaketime();
    let offset_file = desktop.tempdir().join("faketime.rc");
    fs::write(&offset_file, "+0\n").expect("write the libfaketime offset file");
    let preload = lib.to_str().expect("utf-8 path").to_owned();
    let offset_path = offset_file.to_str().expect("utf-8 path").to_owned();
    let started_ms = now_ms();
    let agent = spawn_agent(
        &desktop,
        &dwell,
        &[
            ("LD_PRELOAD", &preload),
            ("FAKETIME_TIMESTAMP_FILE", &offset_path),
            ("FAKETIME_NO_CACHE", "1"),
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
        ],
    );
    let opened = wait_for_log(&agent, FOCUS_ON_FACEBOOK);
    sleep_until(opened + Duration::from_secs(6));
    fs::write(&offset_file, format!("{step}\n")).expect("step the agent's clock");
    sleep_until(opened + Duration::from_secs(12));
    let stopped = Instant::now();
    let status = agent.terminate();
    let truth = (stopped - opened).as_secs_f64();
    let log = agent.stderr_text();
    assert_eq!(
        status.code(),
        Some(0),
        "the agent did not exit cleanly:\n{log}"
    );

    let spans = spans(&dwell.db());
    let listing = format!(
        "spans (start, end relative to the real start in s):\n{}\nagent log:\n{log}",
        spans
            .iter()
            .map(|(s, e, site)| format!(
                "  {:>9.3} {:>9.3} {site}",
                (s - started_ms) as f64 / 1000.0,
                (e - started_ms) as f64 / 1000.0
            ))
            .collect::<Vec<_>>()
            .join("\n")
    );
    for (start, end, _) in &spans {
        assert!(end > start, "a span ends at or before its start\n{listing}");
    }
    #[allow(clippy::cast_precision_loss)]
    let got: f64 = spans
        .iter()
        .filter(|(_, _, site)| site == "facebook.com")
        .map(|(s, e, _)| (e - s) as f64 / 1000.0)
        .sum();
    assert!(
        (got - truth).abs() <= 1.0,
        "after a clock step of {step}, facebook.com has {got:.2} s recorded, expected {truth:.2} s \
         (±1 s)\n{listing}"
    );
    let minute = 60_000;
    let before = spans
        .iter()
        .any(|(s, _, _)| (s - started_ms).abs() < minute);
    let after = spans
        .iter()
        .any(|(s, _, _)| (s - (started_ms + step_ms)).abs() < minute);
    assert!(
        before && after,
        "after a clock step of {step}, expected spans dated before the step (near the real time) \
         and after it (near the real time {step}): before {before}, after {after}\n{listing}"
    );
}

#[test]
fn a_clock_stepped_back_an_hour_neither_loses_nor_invents_time() {
    clock_step_keeps_the_count("-1h", -3_600_000);
}

#[test]
fn a_clock_stepped_forward_an_hour_neither_loses_nor_invents_time() {
    clock_step_keeps_the_count("+1h", 3_600_000);
}

// ---------------------------------------------------------------------------------------------
// 3. Symbolic links planted in the data directory
// ---------------------------------------------------------------------------------------------

/// Runs `dwell-agent run` and expects it to refuse at once: returns its stderr.
fn run_refused(desktop: &Desktop, dwell: &Dwell, what: &str) -> String {
    let mut cmd = desktop.command(bin_path("dwell-agent"));
    cmd.args(dwell.args(&["run"]));
    let agent = desktop.spawn_command(cmd);
    let status = agent.wait_timeout(Duration::from_secs(10));
    let log = agent.stderr_text();
    let Some(status) = status else {
        agent.terminate();
        panic!("with {what}, `dwell-agent run` kept running instead of refusing:\n{log}");
    };
    assert!(
        !status.success(),
        "with {what}, `dwell-agent run` exited successfully:\n{log}"
    );
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(
        lines.len() == 1 && lines[0].contains("symbolic link"),
        "with {what}, `dwell-agent run` ({status}) must print one line naming the symbolic \
         link; it printed:\n{log}"
    );
    log
}

#[test]
fn a_symlinked_lock_file_is_refused_and_its_target_untouched() {
    let desktop = Desktop::start(DesktopOptions::default());
    let dwell = Dwell::new(&desktop, ALWAYS);
    dwell.enable();
    let target = desktop.tempdir().join("precious.txt");
    fs::write(&target, "keep me\n").expect("write the link target");
    fs::set_permissions(&target, fs::Permissions::from_mode(0o644)).expect("chmod the target");
    let lock = dwell.data_dir.join("agent.lock");
    let _ = fs::remove_file(&lock);
    symlink(&target, &lock).expect("plant the link");

    run_refused(&desktop, &dwell, "agent.lock a symbolic link");
    assert_eq!(
        fs::read_to_string(&target).expect("read the target"),
        "keep me\n",
        "the link's target was written to"
    );
    let meta = fs::metadata(&target).expect("stat the target");
    assert_eq!(
        meta.permissions().mode() & 0o7777,
        0o644,
        "the target's mode changed"
    );
    assert!(
        fs::symlink_metadata(&lock).is_ok_and(|m| m.file_type().is_symlink()),
        "the planted link was replaced or removed"
    );
}

#[test]
fn a_symlinked_database_is_refused_and_its_target_untouched() {
    let desktop = Desktop::start(DesktopOptions::default());
    let dwell = Dwell::new(&desktop, ALWAYS);
    dwell.enable();
    // The real database goes; a link to an empty file takes its place.
    for suffix in ["", "-wal", "-shm"] {
        let _ = fs::remove_file(dwell.data_dir.join(format!("dwell.db{suffix}")));
    }
    let target = desktop.tempdir().join("empty.db");
    File::create(&target).expect("create the link target");
    fs::set_permissions(&target, fs::Permissions::from_mode(0o644)).expect("chmod the target");
    symlink(&target, dwell.db()).expect("plant the link");

    run_refused(&desktop, &dwell, "dwell.db a symbolic link");
    let meta = fs::metadata(&target).expect("stat the target");
    assert_eq!(meta.len(), 0, "the link's target was written to");
    assert_eq!(
        meta.permissions().mode() & 0o7777,
        0o644,
        "the target's mode changed"
    );
    for suffix in ["-wal", "-shm", "-journal"] {
        let side = desktop.tempdir().join(format!("empty.db{suffix}"));
        assert!(
            !side.exists(),
            "{} was created beside the target",
            side.display()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 4. CSV formula cells
// ---------------------------------------------------------------------------------------------

/// The fields of CSV `text` (RFC 4180 quoting), row by row.
fn csv_fields(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

fn assert_neutralised(what: &str, csv: &str) {
    let fields: Vec<String> = csv_fields(csv).into_iter().flatten().collect();
    assert!(
        fields.iter().any(|f| f == "'=cmd.example"),
        "{what}: no cell reads '=cmd.example:\n{csv}"
    );
    let formulas: Vec<&String> = fields.iter().filter(|f| f.starts_with('=')).collect();
    assert!(
        formulas.is_empty(),
        "{what}: cells start with a bare `=` (a spreadsheet runs them as formulas): \
         {formulas:?}\n{csv}"
    );
}

#[test]
fn csv_formula_cells_are_neutralised_in_the_report_and_the_export() {
    let desktop = Desktop::start(DesktopOptions::default());
    // The config accepts a site label starting with `=`, so that is what is tested.
    let dwell = Dwell::new(
        &desktop,
        &format!("{ALWAYS}[[rules]]\nsite = \"=cmd.example\"\ntitle = \"Cmd Example\"\n"),
    );
    dwell.enable();
    let window = desktop.open_window("firefox", "Navigator", "Cmd Example — Mozilla Firefox");
    window.activate();
    let agent = spawn_agent(&desktop, &dwell, &[]);
    wait_for_log(&agent, "focus activity=Some(Social(\"=cmd.example\"))");
    thread::sleep(Duration::from_millis(2000));
    assert_eq!(agent.terminate().code(), Some(0), "{}", agent.stderr_text());
    let recorded = dwell.db_seconds();
    assert!(
        recorded.get("=cmd.example").is_some_and(|&s| s >= 1.0),
        "the =cmd.example window was not recorded: {recorded:?}"
    );

    let report = dwell.report(&["week", "--format", "csv"]);
    assert!(
        report.status.success(),
        "dwell-report week --format csv: {report:?}"
    );
    assert_neutralised(
        "dwell-report week --format csv",
        &String::from_utf8_lossy(&report.stdout),
    );
    let export = dwell.agent(&["export", "--format", "csv"]);
    assert!(
        export.status.success(),
        "dwell-agent export --format csv: {export:?}"
    );
    assert_neutralised(
        "dwell-agent export --format csv",
        &String::from_utf8_lossy(&export.stdout),
    );
}

// ---------------------------------------------------------------------------------------------
// 5. A full disk
// ---------------------------------------------------------------------------------------------

/// A small tmpfs mounted on a directory of its own; unmounted (and the directory removed) on
/// drop, also when the test panics. Declare it before the [`Desktop`], so the agent using it
/// has been stopped by the time it is unmounted.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        assert!(
            rustix::process::geteuid().is_root(),
            "the disk-full test mounts a tmpfs and must run as root (it does in CI and in \
             scripts/test's container)"
        );
        let dir = tempfile::Builder::new()
            .prefix("dwell-e2e-tmpfs-")
            .tempdir()
            .expect("create the mount point");
        let mut cmd = Command::new("mount");
        cmd.args([
            "-t",
            "tmpfs",
            "-o",
            &format!("size={size},mode=0700"),
            "tmpfs",
        ])
        .arg(dir.path());
        let out = run_command(cmd, COMMAND_TIMEOUT);
        assert!(
            out.status.success(),
            "mount -t tmpfs on {} failed: {}",
            dir.path().display(),
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmount = |lazy: bool| {
            let mut cmd = Command::new("umount");
            if lazy {
                cmd.arg("-l");
            }
            cmd.arg(self.dir.path()).status().is_ok_and(|s| s.success())
        };
        if !unmount(false) && !unmount(true) {
            eprintln!(
                "could not unmount the tmpfs on {}",
                self.dir.path().display()
            );
        }
    }
}

/// Writes `path` until the file system says it is full; returns the bytes written.
fn fill(path: &Path) -> u64 {
    let mut file = File::create(path).expect("create the filler");
    let mut written = 0_u64;
    for chunk in [64 * 1024, 4096, 512, 1] {
        let buf = vec![0x5a_u8; chunk];
        loop {
            match file.write(&buf) {
                Ok(0) => break,
                Ok(n) => written += n as u64,
                Err(e) if e.kind() == ErrorKind::StorageFull => break,
                Err(e) => panic!("writing the filler failed: {e}"),
            }
        }
    }
    let _ = file.sync_all();
    written
}

/// The process's user + system CPU time so far, from /proc/PID/stat.
fn cpu_time(pid: u32, ticks_per_second: f64) -> f64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).expect("read /proc/PID/stat");
    let rest = &stat[stat
        .rfind(')')
        .expect("stat has the command in parentheses")
        + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of stat(5) (utime, stime); `rest` starts at field 3.
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    #[allow(clippy::cast_precision_loss)]
    let ticks = ticks as f64;
    ticks / ticks_per_second
}

fn clock_ticks() -> f64 {
    let out = run_command(
        {
            let mut cmd = Command::new("getconf");
            cmd.arg("CLK_TCK");
            cmd
        },
        COMMAND_TIMEOUT,
    );
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("getconf CLK_TCK prints a number")
}

/// Lines of the agent's log at WARN or ERROR.
fn status_json(dwell: &Dwell) -> serde_json::Value {
    let out = dwell.agent(&["status", "--json"]);
    assert!(out.status.success(), "status --json failed: {out:?}");
    serde_json::from_slice(&out.stdout).expect("status --json prints JSON")
}

fn problems(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains(" WARN ") || l.contains(" ERROR "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_full_disk_is_logged_once_without_spinning_and_nothing_is_lost() {
    let tmpfs = Tmpfs::mount("4m");
    let desktop = Desktop::start(DesktopOptions::default());
    let mut dwell = Dwell::new(&desktop, ALWAYS);
    dwell.data_dir = tmpfs.path().join("dwell");
    dwell.enable();
    let fb = desktop.open_window("firefox", "Navigator", "Facebook — Mozilla Firefox");
    let reddit = desktop.open_window(
        "firefox",
        "Navigator",
        "Reddit - Dive into anything — Mozilla Firefox",
    );
    fb.activate();
    let agent = spawn_agent(&desktop, &dwell, &[]);
    let fb_opened = wait_for_log(&agent, FOCUS_ON_FACEBOOK);

    // The disk fills up under the running agent.
    let filler = tmpfs.path().join("filler");
    let filled = fill(&filler);
    let before_full = agent.stderr_text().len();
    // `dwell-agent pause`/`resume` wake the agent with SIGUSR1, which writes the open span.
    agent.signal(Signal::USR1);
    assert!(
        agent.wait_for_stderr(Duration::from_secs(5), |e| e[before_full..]
            .contains("cannot write to the database")),
        "with the disk full ({filled} bytes of filler), a write attempt was not logged \
         (running: {}):\n{}",
        agent.is_running(),
        agent.stderr_text()
    );
    let first_problems = problems(&agent.stderr_text()[before_full..]);
    assert!(
        !agent.stderr_text()[before_full..].contains("start dwell again"),
        "the running agent retries by itself: it must not ask to be started again:\n{}",
        agent.stderr_text()
    );
    // `status` says writes fail, and since when, though the database takes no writes.
    let failing = status_json(&dwell)["writes_failing_since"].clone();
    assert!(
        failing.is_string(),
        "with the disk full, `status --json` has no writes_failing_since: {failing}"
    );
    let text = String::from_utf8_lossy(&dwell.agent(&["status"]).stdout).into_owned();
    assert!(
        text.contains("failing since"),
        "`status` does not say writes fail:\n{text}"
    );

    // More attempts: wake-ups, a focus switch (which closes the Facebook span, kept in memory
    // only), more wake-ups.
    for _ in 0..2 {
        thread::sleep(Duration::from_millis(1500));
        agent.signal(Signal::USR1);
    }
    thread::sleep(Duration::from_millis(500));
    reddit.activate();
    let switched = Instant::now();
    wait_for_log(&agent, FOCUS_ON_REDDIT);
    thread::sleep(Duration::from_millis(300));
    agent.signal(Signal::USR1);
    let ticks = clock_ticks();
    let cpu_before = cpu_time(agent.pid(), ticks);
    let measured_from = Instant::now();
    thread::sleep(Duration::from_secs(3));
    let cpu = (cpu_time(agent.pid(), ticks) - cpu_before) / measured_from.elapsed().as_secs_f64();
    let log = agent.stderr_text();
    assert!(
        agent.is_running(),
        "the agent stopped on a full disk:\n{log}"
    );
    assert!(
        cpu < 0.05,
        "with the disk full the agent used {:.1} % of a core (limit 5 %): it spins\n{log}",
        cpu * 100.0
    );
    let all_problems = problems(&log[before_full..]);
    let write_errors = log[before_full..]
        .matches("cannot write to the database")
        .count();
    assert!(
        write_errors == 1 && all_problems == first_problems,
        "with the disk full the agent must log the failure once, not once per attempt (5 \
         attempts: 4 wake-ups and a focus switch, plus checkpoints); after the first attempt it had logged:\n{}\n\
         after all of them:\n{}",
        first_problems.join("\n"),
        all_problems.join("\n")
    );

    // Room again: the agent writes by itself at its next checkpoint.
    fs::remove_file(&filler).expect("remove the filler");
    let freed = Instant::now();
    let before_free = agent.stderr_text().len();
    assert!(
        agent.wait_for_stderr(Duration::from_secs(15), |e| e[before_free..]
            .contains("writing to the database works again")),
        "the agent did not write again within 15 s of the disk having room (running: {}):\n{}",
        agent.is_running(),
        agent.stderr_text()
    );
    let recovered = freed.elapsed().as_secs_f64();
    assert!(
        status_json(&dwell)["writes_failing_since"].is_null(),
        "writes work again, but `status --json` still says they fail"
    );
    println!(
        "disk full: agent CPU {:.2} % of a core, wrote again {recovered:.1} s after the disk had \
         room",
        cpu * 100.0
    );
    thread::sleep(Duration::from_millis(500));
    let stopped = Instant::now();
    assert_eq!(agent.terminate().code(), Some(0), "{}", agent.stderr_text());

    let got = dwell.db_seconds();
    let want_fb = (switched - fb_opened).as_secs_f64();
    let want_reddit = (stopped - switched).as_secs_f64();
    let fb_got = got.get("facebook.com").copied().unwrap_or(0.0);
    let reddit_got = got.get("reddit.com").copied().unwrap_or(0.0);
    assert!(
        (fb_got - want_fb).abs() <= 2.0 && (reddit_got - want_reddit).abs() <= 2.0,
        "after the disk had room again ({recovered:.1} s to recover), recorded facebook.com \
         {fb_got:.2} s and reddit.com {reddit_got:.2} s, expected {want_fb:.2} s and \
         {want_reddit:.2} s (±2 s): what could not be written meanwhile is lost\n{got:?}"
    );
}

#[test]
fn a_tcp_session_bus_is_never_dialled_and_status_says_why_reminders_are_off() {
    // A listener stands where the bus address points: any connection would show.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    listener
        .set_nonblocking(true)
        .expect("non-blocking listener");
    let port = listener.local_addr().expect("local address").port();
    let address = format!("tcp:host=127.0.0.1,port={port}");
    let desktop = Desktop::start(DesktopOptions::default());
    let config = "[tracking]\nidle_timeout = \"10m\"\n\
                  [limits]\ndaily = \"4s\"\nstreak = \"1h\"\nweekly = \"2h\"\n\
                  [schedule]\nrecord = \"always\"\n\
                  [reminders]\nat = [0.5]\nmin_gap = \"1s\"\n";
    let dwell = Dwell::new(&desktop, config);
    dwell.enable();
    let fb = desktop.open_window("firefox", "Navigator", "Facebook — Mozilla Firefox");
    fb.activate();
    let agent = spawn_agent(&desktop, &dwell, &[("DBUS_SESSION_BUS_ADDRESS", &address)]);
    wait_for_log(&agent, FOCUS_ON_FACEBOOK);
    // Past the first reminder stage (2 s of 4 s): a reminder would be due now.
    thread::sleep(Duration::from_secs(4));
    let status = dwell.agent(&["status", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).expect("status JSON");
    let off = json["notifications_off"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        off.contains("tcp"),
        "status --json must say why notifications are off: {json}"
    );
    let text = String::from_utf8_lossy(&dwell.agent(&["status"]).stdout).into_owned();
    assert!(text.contains("notifications are off"), "{text}");
    match listener.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => panic!("the agent dialled the tcp: bus address: {other:?}"),
    }
    assert!(agent.is_running(), "{}", agent.stderr_text());
    assert_eq!(agent.terminate().code(), Some(0), "{}", agent.stderr_text());
    let got = dwell.db_seconds();
    assert!(
        got.get("facebook.com").copied().unwrap_or(0.0) >= 3.0,
        "tracking must go on without notifications: {got:?}"
    );
    assert_eq!(
        agent.stderr_text().matches("notifications are off").count(),
        1,
        "said once in the log:\n{}",
        agent.stderr_text()
    );
}

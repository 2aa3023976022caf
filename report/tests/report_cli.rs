//! End-to-end tests of the `dwell-report` binary: golden output of every format
//! on a fixed demo seed and a fixed "now" in UTC, the JSON schema, numbers
//! against the database, HTML privacy and rendering, merging, notes, demo
//! safety, and bad input (one line, exit code 2).
//!
//! Regenerate the golden files with `UPDATE_GOLDEN=1 cargo test -p dwell-report`.

#![allow(clippy::unwrap_used)]

#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
#[cfg(unix)]
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use dwell_core::model::{Activity, Source, Span};
use dwell_core::{schedule, stats, Config, Store};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_dwell-report");
/// Wednesday of ISO week 2026-W48, in UTC.
const NOW: &str = "2026-11-25T15:30:00Z";

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn data(&self) -> PathBuf {
        self.path("data")
    }

    /// Runs `dwell-report` with a clean, fixed environment.
    fn run_in(&self, data: &Path, args: &[&str], extra_env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(BIN);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path("home"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_DATA_HOME", self.path("xdg-data"))
            // Windows' homes of the same two (`%APPDATA%\dwell\config.toml`).
            .env("APPDATA", self.path("config"))
            .env("LOCALAPPDATA", self.path("xdg-data"))
            .env("TZ", "UTC")
            .env("LANG", "C.UTF-8")
            .env("DWELL_NOW", NOW)
            .arg("--data-dir")
            .arg(data)
            .args(args)
            .stdin(Stdio::null());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_in(&self.data(), args, &[])
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "dwell-report {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }

    fn demo(&self, data: &Path, weeks: &str, seed: &str) {
        let out = self.run_in(data, &["demo", "--weeks", weeks, "--seed", seed], &[]);
        assert!(
            out.status.success(),
            "demo failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A data directory with 5 weeks of demo data (seed 7), plus this week so far.
fn demo_env() -> Env {
    let env = Env::new();
    env.demo(&env.data(), "5", "7");
    env
}

/// Two sites with limits of their own and a plan whose first week (from
/// Wednesday 18 November) allows 30m a day, the default daily limit: the
/// days read as before; the golden files show the additions.
fn with_own_limits(env: &Env) {
    let config = env.path("config").join("dwell");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.toml"),
        "[limits.sites]\n\"reddit.com\" = \"5m\"\n\"youtube.com\" = \"3m\"\n\
         [limits.plan]\nfrom = \"45m\"\nto = \"15m\"\nstart = \"2026-11-18\"\nweeks = 2\n",
    )
    .unwrap();
}

fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing golden file {}: run UPDATE_GOLDEN=1 cargo test -p dwell-report",
            path.display()
        )
    });
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{name} differs from the golden file at line {}:\n  expected: {:?}\n  actual:   {:?}\n\
             (if the change is intended: UPDATE_GOLDEN=1 cargo test -p dwell-report)",
            line + 1,
            expected.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}

/// Exit code 2 and exactly one line on stderr, naming `needle`.
fn refused(out: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    assert!(err.starts_with("dwell-report: "), "{err}");
    assert!(err.contains(needle), "{err:?} does not mention {needle:?}");
    assert!(out.stdout.is_empty());
}

#[test]
fn golden_outputs_of_every_format() {
    let env = demo_env();
    with_own_limits(&env);
    let table = env.ok(&["week", "--last"]);
    for line in table.lines() {
        assert!(line.chars().count() <= 80, "wider than 80: {line:?}");
    }
    assert!(!table.contains('\x1b'), "colour without a terminal");
    golden("week-last.txt", &table);
    golden(
        "week-last.json",
        &env.ok(&["week", "--last", "--format", "json"]),
    );
    golden(
        "week-last.csv",
        &env.ok(&["week", "--last", "--format", "csv"]),
    );
    golden(
        "week-last.md",
        &env.ok(&["week", "--last", "--format", "markdown"]),
    );
    golden(
        "week-last.html",
        &env.ok(&["week", "--last", "--format", "html"]),
    );
    golden("day.txt", &env.ok(&["day", "2026-11-24"]));
    let fr = env.run_in(&env.data(), &["week", "--last"], &[("LANG", "fr_CA.UTF-8")]);
    assert!(fr.status.success());
    let fr = String::from_utf8(fr.stdout).unwrap();
    assert!(fr.contains("Temps social par jour"), "{fr}");
    for line in fr.lines() {
        assert!(line.chars().count() <= 80, "wider than 80: {line:?}");
    }
    golden("week-last.fr.txt", &fr);
}

#[test]
fn json_keeps_the_contract_and_the_schema() {
    let env = demo_env();
    let v = env.json(&["week", "--week", "2026-W47", "--json"]);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["week"], "2026-W47");
    assert_eq!(v["from"], "2026-11-16");
    assert_eq!(v["to"], "2026-11-22");
    assert!(v["total_seconds"].is_i64());
    assert_eq!(v["weekly_threshold_seconds"], 9000);
    let days = v["days"].as_array().unwrap();
    assert_eq!(days.len(), 7);
    let mut sum = 0;
    for d in days {
        for k in ["date", "seconds", "threshold_seconds", "over"] {
            assert!(d.get(k).is_some(), "day lacks {k}");
        }
        assert!(d["date"].is_string() && d["over"].is_boolean());
        assert_eq!(d["threshold_seconds"], 1800);
        let s = d["seconds"].as_i64().unwrap();
        assert_eq!(d["over"].as_bool().unwrap(), s > 1800);
        sum += s;
    }
    let total = v["total_seconds"].as_i64().unwrap();
    assert!((total - sum).abs() <= 7, "{total} vs {sum}");
    let sites = v["sites"].as_array().unwrap();
    assert!(!sites.is_empty());
    let site_sum: i64 = sites.iter().map(|s| s["seconds"].as_i64().unwrap()).sum();
    assert!((total - site_sum).abs() <= sites.len() as i64);
    assert!(sites.iter().all(|s| s["site"].is_string()));
    let heat = v["heatmap"].as_array().unwrap();
    assert_eq!(heat.len(), 7);
    assert!(heat
        .iter()
        .all(|r| r.as_array().unwrap().len() == 24
            && r.as_array().unwrap().iter().all(Value::is_i64)));
    let heat_sum: i64 = heat
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(|x| x.as_i64().unwrap()))
        .sum();
    assert!((heat_sum - total).abs() <= 7 * 24);
    assert!(v["visits"]["count"].as_u64().unwrap() > 0);
    assert!(v["visits"]["median_seconds"].is_i64());
    let streak = &v["longest_streak"];
    for k in ["date", "start", "end", "seconds", "visits"] {
        assert!(streak.get(k).is_some(), "longest_streak lacks {k}");
    }
    let trend = &v["trend"];
    assert_eq!(trend["weeks"], 4);
    assert_eq!(trend["weekly_daily_seconds"].as_array().unwrap().len(), 4);
    assert!(trend["text"].as_str().unwrap().contains("recent average"));
    let rem = &v["reminders"];
    assert!(rem["count"].as_u64().unwrap() > 0);
    let outcomes: u64 = rem["outcomes"]
        .as_object()
        .unwrap()
        .values()
        .map(|x| x.as_u64().unwrap())
        .sum();
    assert_eq!(outcomes, rem["count"].as_u64().unwrap());
    assert!(v["reflection"]["question"].as_str().unwrap().ends_with('?'));
    assert!(v["privacy"].as_str().unwrap().contains("Nothing was sent"));
    // The schema document names every top-level key.
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/report-schema.md"),
    )
    .unwrap();
    for key in v.as_object().unwrap().keys() {
        assert!(
            doc.contains(&format!("`{key}`")),
            "docs/report-schema.md lacks `{key}`"
        );
    }
}

#[test]
fn numbers_match_the_database_exactly() {
    let env = demo_env();
    let v = env.json(&["week", "--week", "2026-W47", "--json"]);
    let store = Store::open_read_only(&env.data().join("dwell.db")).unwrap();
    let config = Config::default();
    let from = NaiveDate::from_ymd_opt(2026, 11, 16).unwrap();
    for (i, day) in v["days"].as_array().unwrap().iter().enumerate() {
        let date = from + chrono::TimeDelta::days(i as i64);
        let (a, b) = schedule::local_day_bounds(date, &Utc);
        // Straight from the stored rows, clipped by the schedule's own clip().
        let mut ms = 0i64;
        for s in store.spans(a, b).unwrap() {
            if s.activity.is_social() {
                for (x, y) in config.schedule.clip(s.start.max(a), s.end.min(b), &Utc) {
                    ms += (y - x).num_milliseconds();
                }
            }
        }
        assert_eq!(
            day["seconds"].as_i64().unwrap(),
            (ms + 500) / 1000,
            "{date}"
        );
    }
    // Reminders: the report's count is the table's.
    let (a, _) = schedule::local_day_bounds(from, &Utc);
    let (_, b) = schedule::local_day_bounds(from + chrono::TimeDelta::days(6), &Utc);
    assert_eq!(
        v["reminders"]["count"].as_u64().unwrap() as usize,
        store.reminders(a, b).unwrap().len()
    );
    let _ = stats::median(&mut []);
}

#[test]
fn html_is_self_contained_and_private() {
    let env = demo_env();
    let out = env.path("report.html");
    let o = env.run(&[
        "week",
        "--last",
        "--format",
        "html",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    #[cfg(unix)]
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let html = std::fs::read_to_string(&out).unwrap();
    let lower = html.to_lowercase();
    for bad in [
        "http:", "https:", "<script", " src=", "url(", "@import", "<link", "//",
    ] {
        assert!(!lower.contains(bad), "the HTML holds {bad:?}");
    }
    assert!(html.contains("<svg") && html.contains("<title id=\"days-t\">"));
    assert!(html.contains("prefers-color-scheme: dark") && html.contains("@media print"));
}

/// Renders `html` with headless Chromium into a PNG; returns its size.
/// (Linux's Chromium: on Windows, the golden files hold the same HTML.)
#[cfg(unix)]
fn screenshot(env: &Env, html: &Path, name: &str) -> u64 {
    let chromium = ["chromium", "chromium-browser"]
        .iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .unwrap_or_else(|| {
            panic!(
                "chromium is not installed: this test renders the HTML report with headless Chromium \
                 (Debian package `chromium`); run scripts/test, which installs it"
            )
        });
    let png = env.path(name);
    let profile = env.path(&format!("{name}-profile"));
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=1000,1600",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", html.display()))
        .env("HOME", env.path("home"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "chromium failed: {status}");
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    bytes.len() as u64
}

#[test]
#[cfg(unix)]
fn chromium_renders_the_html_into_a_non_blank_png() {
    let env = demo_env();
    let out = env.path("report.html");
    let o = env.run(&[
        "week",
        "--last",
        "--format",
        "html",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let blank = env.path("blank.html");
    std::fs::write(&blank, "<!DOCTYPE html><html><body></body></html>").unwrap();
    let blank_size = screenshot(&env, &blank, "blank.png");
    let size = screenshot(&env, &out, "report.png");
    // A blank page compresses to almost nothing; charts, tables and text do not.
    assert!(
        size > 10 * blank_size && size > 20_000,
        "the screenshot looks blank: {size} bytes (a blank page: {blank_size})"
    );
}

#[test]
fn merge_adds_another_computers_database() {
    let env = demo_env();
    let other = env.path("laptop");
    env.demo(&other, "5", "11");
    let args = ["week", "--week", "2026-W47", "--json"];
    let a = env.json(&args);
    let b = {
        let o = env.run_in(&other, &args, &[]);
        serde_json::from_slice::<Value>(&o.stdout).unwrap()
    };
    let db = other.join("dwell.db");
    let mut merged_args = args.to_vec();
    merged_args.extend(["--merge", db.to_str().unwrap()]);
    let m = env.json(&merged_args);
    for i in 0..7 {
        let (x, y, z) = (
            a["days"][i]["seconds"].as_i64().unwrap(),
            b["days"][i]["seconds"].as_i64().unwrap(),
            m["days"][i]["seconds"].as_i64().unwrap(),
        );
        assert!((x + y - z).abs() <= 1, "day {i}: {x} + {y} != {z}");
    }
    assert!(
        m["reminders"]["count"].as_u64().unwrap()
            == a["reminders"]["count"].as_u64().unwrap()
                + b["reminders"]["count"].as_u64().unwrap()
    );
    // The header says how many databases it combines.
    assert_eq!(a["databases"], 1);
    assert_eq!(m["databases"], 2);
    let text_args: Vec<&str> = merged_args
        .iter()
        .copied()
        .filter(|a| *a != "--json")
        .collect();
    let text = String::from_utf8(env.run(&text_args).stdout).unwrap();
    assert!(text.contains("Combines 2 databases"), "{text}");
    // The other database is only read.
    assert!(!other.join("report.json").exists());
    // The same database twice is refused.
    let own = env.data().join("dwell.db");
    let o = env.run(&["week", "--merge", own.to_str().unwrap()]);
    refused(&o, "already in the report");
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let env = demo_env();
    refused(&env.run(&["week", "--week", "2026-W99"]), "2026-W99");
    refused(&env.run(&["week", "--week", "last"]), "ISO week");
    refused(&env.run(&["day", "2026-02-30"]), "2026-02-30");
    refused(&env.run(&["day", "tomorrow"]), "tomorrow");
    refused(
        &env.run(&["week", "--from", "2026-11-10", "--to", "2026-11-01"]),
        "after",
    );
    refused(&env.run(&["week", "--from", "2026-13-01"]), "2026-13-01");
    let junk = env.path("junk.db");
    std::fs::write(&junk, vec![b'x'; 4096]).unwrap();
    refused(
        &env.run(&["week", "--merge", junk.to_str().unwrap()]),
        "not a dwell database",
    );
    let missing = env.path("nope.db");
    refused(
        &env.run(&["week", "--merge", missing.to_str().unwrap()]),
        "nope.db",
    );
    // A database written by a newer dwell.
    let newer = env.path("newer");
    env.demo(&newer, "1", "1");
    {
        let store = Store::open(&newer).unwrap();
        store
            .raw_for_tests()
            .execute_batch("PRAGMA user_version = 99")
            .unwrap();
    }
    refused(
        &env.run(&["week", "--merge", newer.join("dwell.db").to_str().unwrap()]),
        "newer dwell",
    );
    // No data at all.
    refused(
        &env.run_in(&env.path("empty"), &["week"], &[]),
        "no dwell data",
    );
    refused(&env.run(&["demo", "--weeks", "0"]), "--weeks 0");
    refused(&env.run(&["note", "   "]), "empty");
    // A bad config file names the file.
    let bad = env.path("bad.toml");
    std::fs::write(&bad, "[limits]\ndaily = \"30x\"\n").unwrap();
    refused(
        &env.run(&["--config", bad.to_str().unwrap(), "week"]),
        "bad.toml",
    );
}

/// An `xdg-open` in `env`'s `bin/` that records what it was asked to open in
/// `opened.txt`; returns the `PATH` that finds it first. (A shell script:
/// Unix only, as are the tests that use one.)
#[cfg(unix)]
fn recording_opener(env: &Env) -> String {
    let bin = env.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = env.path("opened.txt");
    let script = bin.join("xdg-open");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n", log.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// `--open` says which file it wrote, and a day's report does not overwrite the
/// week's.
#[test]
#[cfg(unix)]
fn open_prints_the_path_and_day_and_week_go_to_different_files() {
    let env = demo_env();
    let path = recording_opener(&env);
    let mut written = Vec::new();
    for what in [&["week", "--open"][..], &["day", "--open"][..]] {
        let out = env.run_in(&env.data(), what, &[("PATH", &path)]);
        assert!(out.status.success(), "{out:?}");
        let said = String::from_utf8_lossy(&out.stdout).into_owned();
        let file = said
            .split_whitespace()
            .map(PathBuf::from)
            .find(|p| p.is_absolute() && p.exists())
            .unwrap_or_else(|| panic!("{what:?} named no file it wrote: {said:?}"));
        written.push(file);
    }
    assert_ne!(written[0], written[1]);
    let opened = std::fs::read_to_string(env.path("opened.txt")).unwrap();
    let opened: Vec<PathBuf> = opened.lines().map(PathBuf::from).collect();
    assert_eq!(opened, written);
    assert!(std::fs::read_to_string(&written[0])
        .unwrap()
        .contains("<html"));
}

#[test]
#[cfg(unix)]
fn opening_before_any_recording_shows_how_to_start() {
    let env = Env::new();
    let path = recording_opener(&env);
    let runtime = env.path("runtime");
    std::fs::create_dir_all(&runtime).unwrap();
    let out = env.run_in(
        &env.data(),
        &["week", "--format", "html", "--open"],
        &[
            ("PATH", &path),
            ("XDG_RUNTIME_DIR", runtime.to_str().unwrap()),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let opened = std::fs::read_to_string(env.path("opened.txt")).unwrap();
    let page = PathBuf::from(opened.trim());
    assert!(page.starts_with(&runtime), "{}", page.display());
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("dwell-agent setup"), "{html}");
    let mode = std::fs::metadata(&page).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(
        !env.data().exists(),
        "nothing is created in the data directory"
    );
}

#[test]
fn an_empty_week_is_zero_with_a_friendly_line() {
    let env = demo_env();
    let v = env.json(&["week", "--week", "2020-W10", "--json"]);
    assert_eq!(v["total_seconds"], 0);
    assert_eq!(v["empty"], true);
    assert!(v["days"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["seconds"] == 0));
    assert_eq!(v["sites"].as_array().unwrap().len(), 0);
    assert!(v["longest_streak"].is_null() && v["reminders"].is_null() && v["trend"].is_null());
    let table = env.ok(&["week", "--week", "2020-W10"]);
    assert!(
        table.contains("Nothing was recorded in this period"),
        "{table}"
    );
    for f in ["csv", "markdown", "html"] {
        env.ok(&["week", "--week", "2020-W10", "--format", f]);
    }
}

#[test]
fn notes_show_this_week_and_next() {
    let env = demo_env();
    let out = env.ok(&["note", "Phone in the bag <b>after</b> lunch."]);
    assert!(out.contains("2026-W48"));
    let v = env.json(&["week", "--json"]);
    assert_eq!(v["note"]["text"], "Phone in the bag <b>after</b> lunch.");
    let next = env.run_in(
        &env.data(),
        &["week", "--json"],
        &[("DWELL_NOW", "2026-12-02T10:00:00Z")],
    );
    let next: Value = serde_json::from_slice(&next.stdout).unwrap();
    assert_eq!(next["week"], "2026-W49");
    assert_eq!(
        next["previous_note"]["text"],
        "Phone in the bag <b>after</b> lunch."
    );
    let html = env.ok(&["week", "--format", "html"]);
    assert!(html.contains("&lt;b&gt;after&lt;/b&gt;") && !html.contains("<b>after"));
}

#[test]
fn demo_is_deterministic_grants_no_consent_and_spares_real_data() {
    let env = Env::new();
    let (a, b) = (env.path("a"), env.path("b"));
    env.demo(&a, "2", "5");
    env.demo(&b, "2", "5");
    let args = ["week", "--last", "--json"];
    assert_eq!(
        env.run_in(&a, &args, &[]).stdout,
        env.run_in(&b, &args, &[]).stdout
    );
    let store = Store::open_read_only(&a.join("dwell.db")).unwrap();
    assert_eq!(store.consent().unwrap(), None);
    assert!(!store.has_recorded_data().unwrap());
    drop(store);
    // Re-running the demo replaces demo data.
    env.demo(&a, "2", "6");
    // Real data is refused without --force.
    let real = env.path("real");
    {
        let mut store = Store::open(&real).unwrap();
        let t: DateTime<Utc> = "2026-11-24T10:00:00Z".parse().unwrap();
        store
            .put_spans(&[Span {
                start: t,
                end: t + chrono::TimeDelta::minutes(5),
                activity: Activity::Social("x.com".into()),
                source: Source::X11,
            }])
            .unwrap();
    }
    refused(
        &env.run_in(&real, &["demo", "--weeks", "1"], &[]),
        "real recorded data",
    );
    let o = env.run_in(&real, &["demo", "--weeks", "1", "--force"], &[]);
    assert!(o.status.success());
    #[cfg(unix)]
    assert_eq!(
        std::fs::metadata(real.join("dwell.db"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
}

#[test]
fn periods_last_range_and_day() {
    let env = demo_env();
    let last = env.json(&["week", "--last", "--json"]);
    assert_eq!(last["week"], "2026-W47");
    let this = env.json(&["week", "--json"]);
    assert_eq!(this["week"], "2026-W48");
    let range = env.json(&[
        "week",
        "--from",
        "2026-11-16",
        "--to",
        "2026-11-22",
        "--json",
    ]);
    assert_eq!(range["period"], "range");
    assert!(range["week"].is_null());
    assert_eq!(range["total_seconds"], last["total_seconds"]);
    let day = env.json(&["day", "2026-11-17", "--json"]);
    assert_eq!(day["days"].as_array().unwrap().len(), 1);
    assert_eq!(day["total_seconds"], last["days"][1]["seconds"]);
    let open_ended = env.json(&["week", "--from", "2026-10-01", "--json"]);
    assert_eq!(open_ended["to"], "2026-11-25");
}

/// Checks every line of `out` fits in `width` columns.
fn fits(out: &str, width: usize, what: &str) {
    for line in out.lines() {
        assert!(
            line.chars().count() <= width,
            "{what}: wider than {width}: {line:?}"
        );
    }
}

#[test]
fn the_table_fits_the_terminal_down_to_60_columns() {
    let env = demo_env();
    // A day with social time around the clock, for a wide heatmap.
    let config = env.path("always.toml");
    std::fs::write(&config, "[schedule]\nrecord = \"always\"\n").unwrap();
    let night = env.path("night");
    {
        let mut store = Store::open(&night).unwrap();
        let spans: Vec<Span> = [1, 6, 12, 18, 23]
            .iter()
            .map(|h| {
                let t: DateTime<Utc> = format!("2026-11-24T{h:02}:10:00Z").parse().unwrap();
                Span {
                    start: t,
                    end: t + chrono::TimeDelta::seconds(91),
                    activity: Activity::Social("a-rather-long-site-name.example.org".into()),
                    source: Source::X11,
                }
            })
            .collect();
        store.put_spans(&spans).unwrap();
    }
    let cfg = config.to_str().unwrap();
    for lang in ["C.UTF-8", "fr_CA.UTF-8"] {
        for (columns, width) in [("60", 60), ("70", 70), ("80", 80), ("40", 60), ("200", 80)] {
            let vars = [("LANG", lang), ("COLUMNS", columns)];
            for args in [&["week", "--last"][..], &["day", "2026-11-24"][..]] {
                let o = env.run_in(&env.data(), args, &vars);
                assert!(o.status.success());
                fits(
                    &String::from_utf8(o.stdout).unwrap(),
                    width,
                    &format!("{lang} {args:?}"),
                );
            }
            let o = env.run_in(&night, &["--config", cfg, "day", "2026-11-24"], &vars);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let text = String::from_utf8(o.stdout).unwrap();
            fits(&text, width, &format!("{lang} night"));
            // The heatmap runs from the first to the last busy hour.
            let head = text
                .lines()
                .find(|l| l.trim_start().starts_with("01"))
                .unwrap_or_else(|| panic!("no heatmap hours in:\n{text}"));
            assert!(
                head.trim_end().ends_with("23") || head.contains("22"),
                "{head}"
            );
            assert!(text.contains("1m\u{a0}31s") || text.contains("1\u{a0}min\u{a0}31\u{a0}s"));
        }
    }
    // Not a terminal, no COLUMNS: 80, as the golden files.
    with_own_limits(&env);
    // The site limits' rows fit too: aligned under their label, or as sentences.
    for lang in ["C.UTF-8", "fr_CA.UTF-8"] {
        for (columns, width) in [("60", 60), ("70", 70)] {
            let vars = [("LANG", lang), ("COLUMNS", columns)];
            let o = env.run_in(&env.data(), &["week", "--last"], &vars);
            let text = String::from_utf8(o.stdout).unwrap();
            fits(&text, width, &format!("{lang} {columns} site limits"));
            assert!(text.contains("youtube.com"), "{text}");
        }
    }
    assert_eq!(
        env.ok(&["week", "--last"]),
        std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/week-last.txt")
        )
        .unwrap()
    );
}

/// What a reader sees of an HTML page: the text outside tags and styles.
fn visible_html(html: &str) -> String {
    let mut html = html.to_owned();
    while let (Some(a), Some(b)) = (html.find("<style>"), html.find("</style>")) {
        html.replace_range(a..b + "</style>".len(), "");
    }
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push('\n');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The French typography of the reminders (`dwell_core::messages`): a
/// no-break space before `:` and `%`, none before `;`, `?`, `!`, « » quotes.
fn french_faults(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut faults = Vec::new();
    for (i, &c) in chars.iter().enumerate() {
        let before = i.checked_sub(1).map(|j| chars[j]);
        let after = chars.get(i + 1).copied();
        let context = || {
            let from = i.saturating_sub(30);
            chars[from..(i + 10).min(chars.len())]
                .iter()
                .collect::<String>()
        };
        let ok = match c {
            // A clock time (13:33) is not punctuation.
            ':' if before.is_some_and(|b| b.is_ascii_digit())
                && after.is_some_and(|a| a.is_ascii_digit()) =>
            {
                true
            }
            ':' | '%' => before == Some('\u{a0}'),
            ';' | '?' | '!' => !matches!(before, Some(' ' | '\u{a0}' | '\u{202f}')),
            '"' | '“' | '”' => false,
            _ => true,
        };
        if !ok {
            faults.push(format!("{c:?} in {:?}", context()));
        }
    }
    faults
}

#[test]
fn french_reads_right_in_every_format() {
    let env = demo_env();
    let fr = [("LANG", "fr_CA.UTF-8")];
    let run = |args: &[&str]| {
        let o = env.run_in(&env.data(), args, &fr);
        assert!(o.status.success());
        String::from_utf8(o.stdout).unwrap()
    };
    let v: Value = serde_json::from_str(&run(&["week", "--last", "--json"])).unwrap();
    assert_eq!(v["language"], "fr-CA");
    // The employee's own notes are theirs, as written.
    let notes: Vec<String> = ["note", "previous_note"]
        .iter()
        .filter_map(|k| v[k]["text"].as_str().map(str::to_owned))
        .collect();
    assert!(!notes.is_empty());
    let strip = |s: String| {
        // Lines joined (the table wraps the notes), then the notes taken out.
        let mut s = s
            .split(['\n', ' '])
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        for n in &notes {
            s = s.replace(n.as_str(), "");
        }
        // A command to type keeps its shell quotes.
        s.replace("dwell-report note \"...\"", "")
            .replace("dwell-report note \"…\"", "")
    };
    let table = run(&["week", "--last"]);
    let this_week = run(&["week"]);
    let markdown: String = run(&["week", "--last", "--format", "markdown"])
        .lines()
        .filter(|l| !l.starts_with("|---")) // the alignment row: |--:|
        .collect::<Vec<_>>()
        .join("\n");
    let html = run(&["week", "--last", "--format", "html"]);
    assert!(html.contains("<html lang=\"fr-CA\">"));
    assert!(
        table.contains("«\u{a0}") && table.contains("\u{a0}»"),
        "{table}"
    );
    for (what, text) in [
        ("table", strip(table)),
        ("this week's table", strip(this_week)),
        ("markdown", strip(markdown)),
        ("html", strip(visible_html(&html))),
    ] {
        assert!(
            text.contains("\u{a0}:") && text.contains("\u{a0}%"),
            "{what}"
        );
        let faults = french_faults(&text);
        assert!(faults.is_empty(), "{what}: {faults:#?}");
    }
    // Every reflection question, whichever the week draws.
    for seed in 1..8 {
        let data = env.path(&format!("q{seed}"));
        env.demo(&data, "1", &seed.to_string());
        let o = env.run_in(&data, &["week", "--last", "--json"], &fr);
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        let q = v["reflection"]["question"].as_str().unwrap_or_default();
        assert!(french_faults(q).is_empty(), "{q}");
    }
}

/// What bash offers for `line` (the words typed so far, the last one being
/// completed) with `dwell-report completions bash` loaded.
#[cfg(unix)]
fn bash_offers(line: &[&str]) -> Vec<String> {
    let out = Command::new(BIN)
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("dwell-report.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    let words: Vec<String> = line.iter().map(|w| format!("'{w}'")).collect();
    let n = line.len();
    let driver = format!(
        "source '{}'\nCOMP_WORDS=({})\nCOMP_CWORD={}\n_dwell__report '{}' '{}' '{}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        script.display(),
        words.join(" "),
        n - 1,
        line[0],
        line[n - 1],
        line[n - 2],
    );
    let out = Command::new("bash")
        .args(["--norc", "-c", &driver])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Issue 19: bash completion goes past the first word of the hyphenated
/// name, to a subcommand's flags and their values (bash: Unix only).
#[cfg(unix)]
#[test]
fn bash_completes_a_subcommands_flags_and_their_values() {
    assert_eq!(
        bash_offers(&["dwell-report", "week", "--format", ""]),
        ["table", "json", "csv", "markdown", "html"]
    );
    let offered = bash_offers(&["dwell-report", "week", "--f"]);
    assert!(offered.contains(&"--format".to_owned()), "{offered:?}");
    let offered = bash_offers(&["dwell-report", "d"]);
    assert!(offered.contains(&"day".to_owned()), "{offered:?}");
}

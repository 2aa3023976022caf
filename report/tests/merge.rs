//! End-to-end tests of `dwell-report --merge` and of reading databases that
//! are not in a normal state: a copy of a database is never counted twice
//! (each database has its own identity), merged rows that make no sense are
//! skipped and counted in one warning, any SQL error on a merged file is one
//! line and exit code 2, a database on a read-only disk can be reported, and
//! the note left by a salvaged database is shown. A copied data directory can be
//! merged as it is; a directory without a database in it is named as such.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use dwell_core::Store;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_dwell-report");
/// Wednesday of ISO week 2026-W48, in UTC.
const NOW: &str = "2026-11-25T15:30:00Z";
const WEEK: [&str; 4] = ["week", "--week", "2026-W47", "--json"];

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    /// A data directory with demo data, and a laptop's with other demo data.
    fn new() -> Env {
        let env = Env {
            dir: tempfile::tempdir().unwrap(),
        };
        env.demo(&env.data(), "3", "7");
        env.demo(&env.laptop(), "3", "11");
        env
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn data(&self) -> PathBuf {
        self.path("data")
    }

    fn laptop(&self) -> PathBuf {
        self.path("laptop")
    }

    fn laptop_db(&self) -> String {
        self.laptop().join("dwell.db").display().to_string()
    }

    fn command(&self, program: &str, data: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path("home"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_DATA_HOME", self.path("xdg-data"))
            .env("TZ", "UTC")
            .env("LANG", "C.UTF-8")
            .env("DWELL_NOW", NOW)
            .env("DWELL_DATA_DIR", data)
            .env("BIN", BIN)
            .env("D", data)
            .args(args)
            .stdin(Stdio::null());
        cmd
    }

    fn run_in(&self, data: &Path, args: &[&str]) -> Output {
        self.command(BIN, data, args).output().unwrap()
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_in(&self.data(), args)
    }

    fn json(&self, args: &[&str]) -> (Value, String) {
        let out = self.run(args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "dwell-report {args:?} failed: {err}");
        (serde_json::from_slice(&out.stdout).unwrap(), err)
    }

    fn demo(&self, data: &Path, weeks: &str, seed: &str) {
        let out = self.run_in(data, &["demo", "--weeks", weeks, "--seed", seed]);
        assert!(
            out.status.success(),
            "demo failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Runs SQL on the laptop's database, foreign keys off (as a hand edit).
    fn laptop_sql(&self, sql: &str) {
        let store = Store::open(&self.laptop()).unwrap();
        store
            .raw_for_tests()
            .execute_batch(&format!("PRAGMA foreign_keys = OFF; {sql}"))
            .unwrap();
    }
}

/// `WEEK` plus `--merge` of each of `files`.
fn merging<'a>(files: &'a [&'a str]) -> Vec<&'a str> {
    let mut args = WEEK.to_vec();
    for f in files {
        args.extend(["--merge", f]);
    }
    args
}

/// Exit code 2 and exactly one line on stderr, naming each of `needles`.
fn refused(out: &Output, needles: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    assert!(err.starts_with("dwell-report: "), "{err}");
    for needle in needles {
        assert!(err.contains(needle), "{err:?} does not mention {needle:?}");
    }
    assert!(out.stdout.is_empty());
}

fn day_seconds(report: &Value) -> Vec<i64> {
    report["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["seconds"].as_i64().unwrap() + d["other_seconds"].as_i64().unwrap())
        .collect()
}

#[test]
fn a_copy_of_this_computers_database_is_not_counted_twice() {
    let env = Env::new();
    let copy = env.path("copy-of-mine.db");
    std::fs::copy(env.data().join("dwell.db"), &copy).unwrap();
    let copy = copy.display().to_string();
    refused(
        &env.run(&merging(&[&copy])),
        &["already in the report", &copy],
    );
}

#[test]
fn a_data_directory_can_be_merged_and_an_empty_directory_is_named_as_one() {
    let env = Env::new();
    let laptop = env.laptop().display().to_string();
    let (by_dir, _) = env.json(&merging(&[&laptop]));
    let (by_file, _) = env.json(&merging(&[&env.laptop_db()]));
    assert_eq!(day_seconds(&by_dir), day_seconds(&by_file));
    let empty = env.path("empty");
    std::fs::create_dir(&empty).unwrap();
    let empty = empty.display().to_string();
    refused(
        &env.run(&merging(&[&empty])),
        &["is a directory with no dwell database", &empty],
    );
}

#[test]
fn the_same_database_under_two_names_is_merged_once() {
    let env = Env::new();
    let copy = env.path("laptop-copy.db");
    std::fs::copy(env.laptop().join("dwell.db"), &copy).unwrap();
    let copy = copy.display().to_string();
    // Each alone is fine.
    env.json(&merging(&[&env.laptop_db()]));
    env.json(&merging(&[&copy]));
    refused(
        &env.run(&merging(&[&env.laptop_db(), &copy])),
        &["already in the report", &copy],
    );
}

#[test]
fn merged_spans_that_make_no_sense_are_skipped_and_counted_in_one_warning() {
    let env = Env::new();
    let (clean, err) = env.json(&merging(&[&env.laptop_db()]));
    assert!(err.is_empty(), "{err}");
    // 2026-11-17 10:00 UTC, in the merged week.
    let t = 1_794_909_600_000_i64;
    let hour = 3_600_000;
    env.laptop_sql(&format!(
        "INSERT INTO spans (start, end, site, source) VALUES ({a}, {b}, NULL, 1);
         INSERT INTO spans (start, end, site, source) VALUES ({c}, {d}, NULL, 1);
         INSERT INTO spans (start, end, site, source) VALUES ({e}, {f}, 4242, 1);",
        // Ends before it starts.
        a = t + 1,
        b = t - hour,
        // Two days long.
        c = t + 2,
        d = t + 48 * hour,
        // A site the file does not have.
        e = t + 3,
        f = t + hour,
    ));
    let (merged, err) = env.json(&merging(&[&env.laptop_db()]));
    assert_eq!(day_seconds(&merged), day_seconds(&clean));
    assert_eq!(merged["total_seconds"], clean["total_seconds"]);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("skipped 3"), "{err}");
    assert!(err.contains(&env.laptop_db()), "{err}");
}

#[test]
fn an_sql_error_on_a_merged_file_is_one_line_and_exit_2() {
    let env = Env::new();
    let db = env.laptop_db();
    // Spans but no sites.
    env.laptop_sql("DROP TABLE sites;");
    refused(&env.run(&merging(&[&db])), &[&db]);

    // Spans without one of their columns.
    let env = Env::new();
    env.laptop_sql(
        "CREATE TABLE s2 (start INTEGER PRIMARY KEY, end INTEGER NOT NULL, site INTEGER);
         INSERT INTO s2 SELECT start, end, site FROM spans;
         DROP TABLE spans; ALTER TABLE s2 RENAME TO spans;",
    );
    refused(&env.run(&merging(&[&db])), &[&db]);

    // Reminders of another shape.
    let env = Env::new();
    env.laptop_sql("DROP TABLE reminders; CREATE TABLE reminders (x TEXT);");
    refused(&env.run(&merging(&[&db])), &[&db]);

    // No meta table.
    let env = Env::new();
    env.laptop_sql("DROP TABLE meta;");
    refused(&env.run(&merging(&[&db])), &[&db]);
}

#[test]
fn a_database_on_a_read_only_disk_can_be_reported() {
    let env = Env::new();
    let (expected, _) = env.json(&WEEK);
    let out = env
        .command(
            "unshare",
            &env.data(),
            &[
                "--user",
                "--map-root-user",
                "--mount",
                "sh",
                "-ec",
                r#"mount --bind "$D" "$D"; mount -o remount,bind,ro "$D"; exec "$BIN" week --week 2026-W47 --json"#,
            ],
        )
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "(this test needs unprivileged user namespaces) {err}"
    );
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got, expected);
}

#[test]
fn the_note_of_a_salvaged_database_is_shown_with_the_report() {
    let env = Env::new();
    let note = "on 2026-11-20 at 09:00 UTC dwell found its database damaged, moved it to /x/dwell.db.damaged-20261120T090000Z and kept what could be read in a fresh one: 3 span(s), 0 reminder(s), 0 note(s)";
    Store::open(&env.data())
        .unwrap()
        .meta_set(dwell_core::store::DATABASE_NOTE_KEY, note)
        .unwrap();
    let (_, err) = env.json(&WEEK);
    assert_eq!(err.trim_end(), format!("dwell-report: {note}"));
}

/// A copy without identity (made before schema 3, or with `meta.database_id`
/// removed) cannot be told a copy by its identity: the spans and reminders
/// it shares with another database are counted once.
#[test]
fn a_copy_without_identity_is_not_counted_twice() {
    let env = Env::new();
    let (alone, _) = env.json(&WEEK);
    let (with_laptop, _) = env.json(&merging(&[&env.laptop_db()]));
    let strip = |from: PathBuf, name: &str| {
        let copy = env.path(name);
        std::fs::create_dir(&copy).unwrap();
        std::fs::copy(from.join("dwell.db"), copy.join("dwell.db")).unwrap();
        let store = Store::open(&copy).unwrap();
        store
            .meta_delete(dwell_core::store::DATABASE_ID_KEY)
            .unwrap();
        drop(store);
        copy.display().to_string()
    };
    let mine = strip(env.data(), "mine-without-id.db");
    let laptop = strip(env.laptop(), "laptop-without-id.db");
    let (r, err) = env.json(&merging(&[&mine]));
    assert_eq!(day_seconds(&r), day_seconds(&alone), "{err}");
    assert_eq!(r["total_seconds"], alone["total_seconds"]);
    assert_eq!(r["reminders"], alone["reminders"]);
    assert!(err.contains("counted once"), "{err}");
    let (r, _) = env.json(&merging(&[&env.laptop_db(), &laptop]));
    assert_eq!(day_seconds(&r), day_seconds(&with_laptop));
    assert_eq!(r["reminders"], with_laptop["reminders"]);
}

/// A database another program holds locked for longer than SQLite's busy
/// timeout (a backup, `sqlite3` in a transaction) is waited for, not refused.
#[test]
fn a_busy_database_is_waited_for() {
    let env = Env::new();
    let (alone, _) = env.json(&WEEK);
    let holder = Store::open(&env.data()).unwrap();
    holder
        .raw_for_tests()
        .execute_batch(
            "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;
             INSERT OR REPLACE INTO meta (key, value) VALUES ('busy', '1');",
        )
        .unwrap();
    let child = env
        .command(BIN, &env.data(), &WEEK)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Longer than one busy timeout (5 s).
    std::thread::sleep(std::time::Duration::from_secs(6));
    holder.raw_for_tests().execute_batch("COMMIT").unwrap();
    drop(holder);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {err}", out.status.code());
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(day_seconds(&r), day_seconds(&alone));
}

/// A label with an escape sequence (kept from before labels were checked, or
/// in a merged file) never reaches the terminal as one, in any format.
#[test]
fn escape_sequences_in_labels_never_reach_the_terminal() {
    use chrono::TimeZone;
    use dwell_core::model::{Activity, Source, Span};
    let env = Env::new();
    let mut store = Store::open(&env.data()).unwrap();
    let start = chrono::Utc
        .with_ymd_and_hms(2026, 11, 17, 10, 0, 0)
        .unwrap();
    store
        .put_spans(&[Span {
            start,
            end: start + chrono::TimeDelta::minutes(5),
            activity: Activity::Social("evil\u{1b}]0;owned\u{7}\u{1b}[2J.example".into()),
            source: Source::X11,
        }])
        .unwrap();
    drop(store);
    for format in ["table", "csv", "html", "markdown", "json"] {
        let out = env.run(&["week", "--week", "2026-W47", "--format", format]);
        assert!(
            out.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("evil"), "{format}");
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{format}: a raw control character is printed"
        );
    }
}

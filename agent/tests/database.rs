//! End-to-end tests of the built `dwell-agent` against damaged, read-only,
//! unwritable and full data directories: a permanent failure is one line and
//! exit code 2 (the systemd unit then stops restarting), a damaged database is
//! moved aside and what can be read is kept, and what was recorded can still be
//! read from a read-only disk.
//!
//! Read-only and full disks are real mounts in a private mount namespace
//! (`unshare --user --map-root-user --mount`); when these tests run as root,
//! the permission tests drop root's power to override file modes (`setpriv`).
//! Linux's by nature (mount namespaces, signals, modes).

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use dwell_core::model::{Activity, ReminderRecord, Source, Span};
use dwell_core::Store;

const BIN: &str = env!("CARGO_BIN_EXE_dwell-agent");

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

    fn db(&self) -> PathBuf {
        self.data().join("dwell.db")
    }

    /// `program args…` with a clean environment and no desktop.
    fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path("home"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_DATA_HOME", self.path("xdg-data"))
            .env("XDG_RUNTIME_DIR", self.path("runtime"))
            .env("DWELL_DATA_DIR", self.data())
            .env("DWELL_LOG", "info")
            .env("TZ", "UTC")
            .env("LANG", "C.UTF-8")
            .env("BIN", BIN)
            .env("D", self.data())
            .args(args)
            .stdin(Stdio::null());
        cmd
    }

    fn agent(&self, args: &[&str]) -> Output {
        output(self.command(BIN, args))
    }

    /// `dwell-agent args…` without root's power over file modes.
    fn agent_as_user(&self, args: &[&str]) -> Output {
        if rustix::process::geteuid().is_root() {
            let mut all = vec![
                "--bounding-set",
                "-dac_override,-dac_read_search,-fowner",
                "--",
                BIN,
            ];
            all.extend_from_slice(args);
            output(self.command("setpriv", &all))
        } else {
            self.agent(args)
        }
    }

    /// Runs the shell `script` in a private user and mount namespace, where it
    /// may mount over `$D` (the data directory); `$BIN` is dwell-agent.
    fn in_namespace(&self, script: &str) -> Output {
        std::fs::create_dir_all(self.data()).unwrap();
        let out = output(self.command(
            "unshare",
            &["--user", "--map-root-user", "--mount", "sh", "-ec", script],
        ));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !err.contains("unshare:") && !err.contains("mount:"),
            "these tests need unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1): {err}"
        );
        out
    }

    fn enable(&self) {
        let out = self.agent(&["enable", "--yes"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Some weeks of data, checkpointed into the main file.
    fn record(&self) {
        let mut store = Store::open(&self.data()).unwrap();
        let t0 = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
        let at = |s: i64| t0 + chrono::Duration::seconds(s);
        let sites = ["a.example", "b.example", "c.example"];
        let spans: Vec<Span> = (0..3000)
            .map(|i| Span {
                start: at(i * 60),
                end: at(i * 60 + 30),
                activity: Activity::Social(sites[i as usize % 3].into()),
                source: Source::X11,
            })
            .collect();
        store.put_spans(&spans).unwrap();
        store
            .put_reminder(&ReminderRecord {
                at: at(100),
                kind: "stage".into(),
                outcome: "shown".into(),
                left_social: None,
                message: None,
            })
            .unwrap();
        store.compact().unwrap();
    }

    /// `n` spans of a busy year, checkpointed into the main file.
    fn record_many(&self, n: i64) {
        let mut store = Store::open(&self.data()).unwrap();
        let t0 = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();
        let sites = ["a.example", "b.example", "c.example", "d.example"];
        for chunk in (0..n).collect::<Vec<_>>().chunks(50_000) {
            let spans: Vec<Span> = chunk
                .iter()
                .map(|&i| Span {
                    start: t0 + chrono::Duration::seconds(i * 40),
                    end: t0 + chrono::Duration::seconds(i * 40 + 25),
                    activity: Activity::Social(sites[i as usize % 4].into()),
                    source: Source::X11,
                })
                .collect();
            store.put_spans(&spans).unwrap();
        }
        store.compact().unwrap();
    }

    /// Writes garbage over three leaf pages of `table`, as a failing disk might.
    fn damage(&self, table: &str) {
        let pages: Vec<i64> = {
            let store = Store::open_read_only(&self.db()).unwrap();
            let mut stmt = store
                .raw_for_tests()
                .prepare(
                    "SELECT pageno FROM dbstat WHERE name = ?1 AND pagetype = 'leaf' ORDER BY path",
                )
                .unwrap();
            let rows = stmt.query_map([table], |r| r.get(0)).unwrap();
            rows.map(Result::unwrap).collect()
        };
        assert!(!pages.is_empty());
        let mid = pages.len() / 2;
        let pick = &pages[mid.saturating_sub(1)..(mid + 2).min(pages.len())];
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(self.db())
            .unwrap();
        for &p in pick {
            f.seek(SeekFrom::Start((p as u64 - 1) * 4096)).unwrap();
            f.write_all(&[0xA5; 4096]).unwrap();
        }
        f.sync_all().unwrap();
    }

    fn damaged_files(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(self.data())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                name.starts_with("dwell.db.damaged-")
                    && !name.ends_with("-wal")
                    && !name.ends_with("-shm")
            })
            .collect();
        v.sort();
        v
    }
}

/// Runs `cmd` to its end, within a minute (an agent that should have stopped
/// but runs is killed, and the test fails).
fn output(mut cmd: Command) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let read = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let out = read(Box::new(child.stdout.take().unwrap()));
    let err = read(Box::new(child.stderr.take().unwrap()));
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{cmd:?} still runs after a minute: {}",
                String::from_utf8_lossy(&err.join().unwrap())
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// Exit code 2 and exactly one line on stderr besides the log (a salvage logs
/// its progress), naming each of `needles`.
fn one_line_exit_2(out: &Output, needles: &[&str]) -> String {
    let all = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "stderr: {all}");
    // Log lines start with their time (`2026-12-07T…`).
    let err: String = all
        .lines()
        .filter(|l| !l.starts_with(|c: char| c.is_ascii_digit()))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {all}");
    assert!(err.starts_with("dwell-agent: "), "{err}");
    for needle in needles {
        assert!(err.contains(needle), "{err:?} does not mention {needle:?}");
    }
    err
}

/// What a `dwell-agent run` stopped by SIGTERM did.
struct Stopped {
    /// Whether the log line waited for came (before the signal).
    seen: bool,
    status: std::process::ExitStatus,
    /// From the signal to the exit.
    took: Duration,
    log: String,
}

/// Starts `dwell-agent run`, waits (up to `wait`) for a log line containing
/// `marker`, then sends SIGTERM and waits for the exit (killed after 20 s).
fn sigterm_at(env: &Env, marker: &'static str, wait: Duration) -> Stopped {
    let mut child = env
        .command(BIN, &["run"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut log = String::new();
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap();
            if line.contains(marker) {
                let _ = tx.send(());
            }
            log.push_str(&line);
            log.push('\n');
        }
        log
    });
    let seen = rx.recv_timeout(wait).is_ok();
    let pid = rustix::process::Pid::from_child(&child);
    let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    let signalled = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if signalled.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let took = signalled.elapsed();
    let log = reader.join().unwrap();
    Stopped {
        seen,
        status,
        took,
        log,
    }
}

/// Starts `dwell-agent run`, waits for the log line saying it runs, stops it
/// (SIGTERM) and returns everything it logged.
fn run_until_running(env: &Env) -> String {
    let run = sigterm_at(env, "dwell-agent running", Duration::from_secs(30));
    let log = run.log;
    assert!(
        run.took < Duration::from_secs(20),
        "the agent did not stop on SIGTERM: {log}"
    );
    assert!(run.seen, "the agent did not start ({}): {log}", run.status);
    log
}

#[test]
fn a_damaged_database_is_moved_aside_and_the_agent_goes_on_with_what_could_be_read() {
    let env = Env::new();
    env.enable();
    env.record();
    env.damage("spans");
    let damaged = std::fs::read(env.db()).unwrap();

    let log = run_until_running(&env);
    let moved = env.damaged_files();
    assert_eq!(moved.len(), 1, "{moved:?}");
    // Kept as it was, never deleted.
    assert_eq!(std::fs::read(&moved[0]).unwrap(), damaged);
    // The log says where the damaged file went, in one line (and the
    // salvage's progress in others).
    let moved_to = moved[0].display().to_string();
    let said: Vec<&str> = log.lines().filter(|l| l.contains(&moved_to)).collect();
    assert_eq!(said.len(), 1, "{log}");

    // The fresh database is whole, keeps consent and the rest, and the note.
    let store = Store::open_read_only(&env.db()).unwrap();
    assert!(store.integrity_check().unwrap().is_ok());
    assert!(store.consent().unwrap().is_some());
    let spans = store
        .spans(
            Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 9, 0, 0, 0).unwrap(),
        )
        .unwrap();
    assert!(spans.len() > 2000 && spans.len() < 3000, "{}", spans.len());
    let note = store.database_note().unwrap().unwrap();
    assert!(note.contains(&moved[0].display().to_string()), "{note}");

    // Starting again finds nothing wrong.
    let log = run_until_running(&env);
    assert!(!log.contains("damaged"), "{log}");
    assert_eq!(env.damaged_files().len(), 1);
}

#[test]
fn when_consent_is_lost_in_the_damage_the_agent_asks_to_opt_in_again() {
    let env = Env::new();
    env.enable();
    env.record();
    env.damage("meta");
    let out = env.agent(&["run"]);
    let moved = env.damaged_files();
    assert_eq!(moved.len(), 1, "{moved:?}");
    one_line_exit_2(
        &out,
        &["dwell-agent enable", &moved[0].display().to_string()],
    );
    // Opting in again works on the fresh database, which kept the spans.
    env.enable();
    let store = Store::open_read_only(&env.db()).unwrap();
    assert!(store.consent().unwrap().is_some());
    assert!(store.database_note().unwrap().is_some());
}

#[test]
fn a_database_you_cannot_write_is_one_line_and_exit_2() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    env.enable();
    std::fs::set_permissions(env.db(), std::fs::Permissions::from_mode(0o400)).unwrap();
    let out = env.agent_as_user(&["run"]);
    one_line_exit_2(
        &out,
        &[&env.db().display().to_string(), "permission denied"],
    );
}

#[test]
fn a_data_directory_you_cannot_write_is_one_line_and_exit_2() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    env.enable();
    if rustix::process::geteuid().is_root() {
        // Someone else's directory (after a `sudo`, say), with the agent's
        // lock file still there from before.
        std::fs::write(env.data().join("agent.lock"), "").unwrap();
        std::os::unix::fs::chown(env.data(), Some(65534), Some(65534)).unwrap();
        std::fs::set_permissions(env.data(), std::fs::Permissions::from_mode(0o755)).unwrap();
    } else {
        std::fs::set_permissions(env.data(), std::fs::Permissions::from_mode(0o500)).unwrap();
    }
    let out = env.agent_as_user(&["run"]);
    std::fs::set_permissions(env.data(), std::fs::Permissions::from_mode(0o700)).unwrap();
    one_line_exit_2(
        &out,
        &[&env.data().display().to_string(), "permission denied"],
    );
}

#[test]
fn on_a_read_only_disk_the_agent_stops_with_one_line_and_the_data_can_still_be_read() {
    let env = Env::new();
    env.enable();
    env.record();
    let ro = r#"mount --bind "$D" "$D"; mount -o remount,bind,ro "$D"; "#;
    let out = env.in_namespace(&format!(r#"{ro} exec "$BIN" run"#));
    one_line_exit_2(&out, &[&env.data().display().to_string(), "read-only"]);

    let out = env.in_namespace(&format!(r#"{ro} exec "$BIN" status --json"#));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["enabled"], true);

    let out = env.in_namespace(&format!(r#"{ro} exec "$BIN" export --format csv"#));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.lines().count() > 3000, "{csv}");
    assert!(csv.contains("b.example"));

    // Nothing was left behind on the disk.
    assert!(!env.data().join("dwell.db-shm").exists());
}

#[test]
fn a_full_disk_at_start_is_one_line_and_exit_2_and_status_still_reads() {
    let env = Env::new();
    let full = r#"mount -t tmpfs -o size=1m,mode=0700 tmpfs "$D"
           "$BIN" enable --yes >/dev/null
           dd if=/dev/zero of="$D/fill" bs=4k 2>/dev/null || true
           "#;
    let out = env.in_namespace(&format!(r#"{full} exec "$BIN" run"#));
    one_line_exit_2(
        &out,
        &[
            &format!("the disk holding {}", env.db().display()),
            "is full: free some space, then start dwell again",
        ],
    );
    let out = env.in_namespace(&format!(r#"{full} exec "$BIN" status --json"#));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = env.in_namespace(&format!(r#"{full} exec "$BIN" pause"#));
    one_line_exit_2(&out, &["is full"]);
}

/// SIGTERM while a damaged database is being salvaged: the agent ends at once
/// (the salvage stops at its next safe point), exits 0, and nothing has moved:
/// the damaged file is in place, byte for byte, for the next start.
#[test]
fn sigterm_during_a_salvage_ends_the_agent_at_once_and_moves_nothing() {
    let env = Env::new();
    env.enable();
    env.record_many(600_000);
    env.damage("spans");
    let damaged = std::fs::read(env.db()).unwrap();
    let Stopped {
        seen: salvaging,
        status,
        took,
        log,
    } = sigterm_at(&env, "reading what can be read", Duration::from_secs(60));
    assert!(salvaging, "the salvage did not start: {log}");
    assert!(
        took < Duration::from_secs(1),
        "ended {took:?} after SIGTERM: {log}"
    );
    assert!(status.success(), "{status}: {log}");
    assert!(env.damaged_files().is_empty(), "{log}");
    assert!(
        std::fs::read(env.db()).unwrap() == damaged,
        "the damaged file changed: {log}"
    );
}

/// What `dwell-agent run` and `status` say when `name` in the data directory
/// is something dwell must not use: one line naming it, exit 2 (systemd does
/// not restart), and `precious` (another file of the employee) untouched.
fn refused_and_untouched(env: &Env, name: &str, needle: &str, precious: Option<&PathBuf>) {
    let before = precious.map(|p| std::fs::read(p).unwrap());
    // `status` only reads the lock file.
    let commands: &[&[&str]] = if name == "agent.lock" {
        &[&["run"]]
    } else {
        &[&["run"], &["status"]]
    };
    for args in commands {
        let out = env.agent(args);
        let err = one_line_exit_2(
            &out,
            &[&env.data().join(name).display().to_string(), needle],
        );
        // Said once, not once per layer of the error.
        assert_eq!(err.matches(needle).count(), 1, "{args:?}: {err}");
        if let (Some(p), Some(b)) = (precious, &before) {
            assert_eq!(&std::fs::read(p).unwrap(), b, "{args:?}: {p:?} was written");
        }
    }
}

#[test]
fn a_symlinked_database_is_one_line_and_exit_2() {
    let env = Env::new();
    env.enable();
    let moved = env.path("real.db");
    std::fs::rename(env.db(), &moved).unwrap();
    std::os::unix::fs::symlink(&moved, env.db()).unwrap();
    refused_and_untouched(&env, "dwell.db", "symbolic link", Some(&moved));
}

#[test]
fn a_directory_at_the_database_is_one_line_and_exit_2() {
    let env = Env::new();
    env.enable();
    std::fs::remove_file(env.db()).unwrap();
    std::fs::create_dir(env.db()).unwrap();
    refused_and_untouched(&env, "dwell.db", "is a directory", None);
}

/// A hard link planted at `name` (another name of another file of the
/// employee) is refused, and that file is not written.
fn hard_link_refused(name: &str) {
    let env = Env::new();
    env.enable();
    let precious = env.path("precious.txt");
    std::fs::write(&precious, "keep me\n").unwrap();
    let at = env.data().join(name);
    let _ = std::fs::remove_file(&at);
    std::fs::hard_link(&precious, &at).unwrap();
    refused_and_untouched(&env, name, "hard link", Some(&precious));
}

#[test]
fn a_hard_link_at_the_lock_file_is_refused_and_its_other_file_untouched() {
    hard_link_refused("agent.lock");
}

#[test]
fn a_hard_link_at_the_wal_is_refused_and_its_other_file_untouched() {
    hard_link_refused("dwell.db-wal");
}

#[test]
fn a_hard_link_at_the_shm_is_refused_and_its_other_file_untouched() {
    hard_link_refused("dwell.db-shm");
}

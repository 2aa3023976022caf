//! Everyday use, end to end, with the real `dwell-agent` binary in a private
//! temporary HOME: setup, limits suggest, install/uninstall, pause/resume,
//! forget and export, and the refusals (exit code 2) for bad input.
//!
//! These commands need no X server, so no desktop is started; data is put in
//! the database with `sqlite3`, as a recording agent would have left it.
//! (The running agent's pause handling is tested with a desktop elsewhere.)

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dwell_tests::{bin_path, require_tool, run_command, sqlite_json, wait_until, COMMAND_TIMEOUT};

/// A private HOME with XDG directories and a 0700 runtime dir without systemd.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        let dir = tempfile::Builder::new()
            .prefix("dwell-everyday-")
            .tempdir()
            .expect("cannot create a temporary HOME");
        let home = Home { dir };
        fs::create_dir_all(home.runtime()).expect("cannot create the runtime dir");
        fs::set_permissions(home.runtime(), fs::Permissions::from_mode(0o700))
            .expect("cannot make the runtime dir private");
        home
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn config_home(&self) -> PathBuf {
        self.path().join(".config")
    }

    fn runtime(&self) -> PathBuf {
        self.path().join("run")
    }

    fn config_file(&self) -> PathBuf {
        self.config_home().join("dwell/config.toml")
    }

    fn data_dir(&self) -> PathBuf {
        self.path().join(".local/share/dwell")
    }

    fn db(&self) -> PathBuf {
        self.data_dir().join("dwell.db")
    }

    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.config_home())
            .env("XDG_DATA_HOME", self.path().join(".local/share"))
            .env("XDG_RUNTIME_DIR", self.runtime())
            .env("LANG", "C.UTF-8")
            .env("LC_ALL", "C.UTF-8")
            .env("TZ", "UTC")
            .current_dir(self.path());
        cmd
    }

    fn agent(&self, args: &[&str]) -> Output {
        let mut cmd = self.command(bin_path("dwell-agent"));
        cmd.args(args);
        run_command(cmd, COMMAND_TIMEOUT)
    }

    /// Runs `dwell-agent args`, panics unless it succeeds; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.agent(args);
        assert!(
            out.status.success(),
            "dwell-agent {args:?} failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs `dwell-agent args`, asserts exit code 2; returns stderr.
    fn refused(&self, args: &[&str]) -> String {
        let out = self.agent(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "dwell-agent {args:?} should be refused with exit 2:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    fn sql(&self, sql: &str) -> serde_json::Value {
        sqlite_json(&self.db(), sql)
    }

    /// Puts a span in the database as the agent would: `site` `None` is other time.
    fn put_span(&self, start_ms: i64, end_ms: i64, site: Option<&str>) {
        let site_sql = match site {
            Some(label) => {
                self.sql(&format!(
                    "INSERT OR IGNORE INTO sites (label) VALUES ('{label}')"
                ));
                format!("(SELECT id FROM sites WHERE label = '{label}')")
            }
            None => "NULL".to_owned(),
        };
        self.sql(&format!(
            "INSERT INTO spans (start, end, site, source) VALUES ({start_ms}, {end_ms}, {site_sql}, 1)"
        ));
    }

    /// Every byte of the database files.
    fn db_bytes(&self) -> Vec<u8> {
        let mut all = Vec::new();
        for suffix in ["", "-wal", "-shm"] {
            let p = self.data_dir().join(format!("dwell.db{suffix}"));
            if let Ok(bytes) = fs::read(&p) {
                all.extend(bytes);
            }
        }
        all
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .mode()
        & 0o777
}

const DAY_MS: i64 = 86_400_000;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Midnight UTC of the day `back` days before today (TZ=UTC in the children).
fn day_start(back: i64) -> i64 {
    (now_ms() / DAY_MS - back) * DAY_MS
}

/// Monday = 0 (1970-01-01 was a Thursday).
fn weekday(day_start_ms: i64) -> i64 {
    (day_start_ms / DAY_MS + 3).rem_euclid(7)
}

/// `YYYY-MM-DD` of a UTC day start (civil-from-days, Howard Hinnant's algorithm).
fn date(day_start_ms: i64) -> String {
    let z = day_start_ms / DAY_MS + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[test]
fn setup_yes_writes_a_config_that_config_check_accepts_and_rerun_keeps_own_rules() {
    let home = Home::new();
    let out = home.ok(&["setup", "--yes"]);
    assert!(out.contains("never records"), "{out}");
    let cfg = home.config_file();
    assert_eq!(mode(&cfg), 0o600);
    let text = fs::read_to_string(&cfg).expect("config written");
    assert!(text.contains("calibrate = \"7d\""), "{text}");
    assert!(
        text.contains("# Your own threshold"),
        "comments kept: {text}"
    );
    let check = home.ok(&["config", "check"]);
    assert!(check.contains(": ok"), "{check}");
    // setup --yes records consent like `enable --yes`, and installs nothing.
    let status: serde_json::Value =
        serde_json::from_str(&home.ok(&["status", "--json"])).expect("status JSON");
    assert_eq!(status["enabled"], true);
    assert!(!home.config_home().join("autostart").exists());
    assert!(!home.config_home().join("systemd").exists());

    // The employee edits the file: a rule, a message, a comment, another limit.
    let edited = text.replace("daily = \"30m\"", "daily = \"40m\"")
        + "\n# my own forum\n[[rules]]\nsite = \"forum.example.org\"\ntitle = \"Example Forum\"\n";
    let edited = edited.replace("messages = []", "messages = [\"Time for a short walk?\"]");
    fs::write(&cfg, &edited).expect("edit config");
    home.ok(&["setup", "--yes"]);
    let again = fs::read_to_string(&cfg).expect("config still there");
    assert!(again.contains("daily = \"40m\""), "{again}");
    assert!(
        again.contains("# my own forum\n[[rules]]\nsite = \"forum.example.org\""),
        "{again}"
    );
    assert!(again.contains("Time for a short walk?"), "{again}");
    assert!(home.ok(&["config", "check"]).contains("1 own rule(s)"));

    // A broken config is not overwritten: setup refuses and says how to fix it.
    fs::write(&cfg, "[limits]\ndaily = \"30x\"\n").expect("break config");
    let err = home.refused(&["setup", "--yes"]);
    assert!(err.contains("30x") && err.contains("config check"), "{err}");
    assert_eq!(
        fs::read_to_string(&cfg).expect("config"),
        "[limits]\ndaily = \"30x\"\n"
    );
    // Without a terminal and without --yes, setup does not ask.
    fs::remove_file(&cfg).expect("remove config");
    let err = home.refused(&["setup"]);
    assert!(err.contains("--yes"), "{err}");
    assert!(!cfg.exists());
}

#[test]
fn forget_site_removes_exactly_that_site_and_leaves_no_trace() {
    let home = Home::new();
    home.ok(&["enable", "--yes"]);
    let t = day_start(2) + 10 * 3_600_000;
    home.put_span(t, t + 60_000, Some("zzqsecret.example"));
    home.put_span(t + 60_000, t + 120_000, Some("kept.example"));
    home.put_span(t + 120_000, t + 180_000, None);
    home.put_span(t + 180_000, t + 240_000, Some("zzqsecret.example"));
    assert!(contains(&home.db_bytes(), "zzqsecret"));

    let err = home.refused(&["forget", "--site", "nosuch.example"]);
    assert!(err.contains("nosuch.example"), "{err}");
    assert!(
        err.contains("kept.example") && err.contains("zzqsecret.example"),
        "known sites are listed: {err}"
    );
    let out = home.ok(&["forget", "--site", "zzqsecret.example"]);
    assert!(out.contains("2 span(s)"), "{out}");

    let rows = home.sql(
        "SELECT s.start, t.label FROM spans s LEFT JOIN sites t ON t.id = s.site ORDER BY s.start",
    );
    let rows = rows.as_array().expect("rows");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0]["label"], "kept.example");
    assert_eq!(rows[1]["label"], serde_json::Value::Null);
    assert!(
        !contains(&home.db_bytes(), "zzqsecret"),
        "the forgotten label is still in the database files"
    );
    // Consent is kept.
    let status: serde_json::Value =
        serde_json::from_str(&home.ok(&["status", "--json"])).expect("status JSON");
    assert_eq!(status["enabled"], true);
}

#[test]
fn forget_range_and_all_and_bad_ranges() {
    let home = Home::new();
    home.ok(&["enable", "--yes"]);
    let old = day_start(5) + 10 * 3_600_000;
    let recent = day_start(1) + 10 * 3_600_000;
    home.put_span(old, old + 60_000, Some("zzqold.example"));
    home.put_span(recent, recent + 60_000, Some("recent.example"));

    let tomorrow = date(day_start(-1));
    let err = home.refused(&["forget", "--from", &tomorrow, "--to", &tomorrow]);
    assert!(err.contains("future"), "{err}");
    let err = home.refused(&[
        "forget",
        "--from",
        &date(day_start(1)),
        "--to",
        &date(day_start(5)),
    ]);
    assert!(err.contains("after"), "{err}");
    let err = home.refused(&["forget", "--from", "last week", "--to", "today"]);
    assert!(err.contains("last week"), "{err}");
    home.refused(&["forget"]);
    home.refused(&["forget", "--to", "today"]);
    assert_eq!(home.sql("SELECT count(*) AS n FROM spans")[0]["n"], 2);

    let day = date(day_start(5));
    home.ok(&["forget", "--from", &day, "--to", &day]);
    let rows = home.sql("SELECT label FROM sites");
    assert_eq!(rows, serde_json::json!([{"label": "recent.example"}]));
    assert!(!contains(&home.db_bytes(), "zzqold"));

    // `--from` alone: from that day to today.
    home.ok(&["forget", "--from", &date(day_start(1))]);
    assert_eq!(home.sql("SELECT count(*) AS n FROM spans")[0]["n"], 0);
    assert!(!contains(&home.db_bytes(), "recent.example"));

    home.put_span(recent, recent + 60_000, Some("recent.example"));
    home.ok(&["forget", "--all"]);
    assert_eq!(home.sql("SELECT count(*) AS n FROM spans")[0]["n"], 0);
    assert!(!contains(&home.db_bytes(), "recent.example"));
}

#[test]
fn export_into_a_reader_that_stops_early_ends_quietly() {
    let home = Home::new();
    home.ok(&["enable", "--yes"]);
    let t = day_start(3) + 9 * 3_600_000;
    home.put_span(t, t + 500, Some("reddit.com"));
    home.sql(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) \
         INSERT INTO spans (start, end, site, source) \
         SELECT {t} + i * 1000, {t} + i * 1000 + 500, (SELECT id FROM sites), 1 FROM n"
    ));
    // `head` closes the pipe after one line: the rest cannot be written.
    let mut cmd = home.command("sh");
    cmd.arg("-c").arg(format!(
        "'{}' export --format csv | head -n 1 >/dev/null",
        bin_path("dwell-agent").display()
    ));
    let out = run_command(cmd, COMMAND_TIMEOUT);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.is_empty(), "`export | head` must end quietly: {err}");
}

#[test]
fn export_json_and_csv() {
    let home = Home::new();
    home.ok(&["enable", "--yes"]);
    let t = day_start(3) + 9 * 3_600_000;
    home.put_span(t, t + 90_000, Some("reddit.com"));
    home.put_span(t + 90_000, t + 100_000, None);
    home.sql(&format!(
        "INSERT INTO reminders (at, kind, outcome, left_social, message) VALUES ({}, 'stage', 'shown', 1, 'en-time-01')",
        t + 30_000
    ));

    let file = home.path().join("export.json");
    home.ok(&[
        "export",
        "--format",
        "json",
        "--output",
        file.to_str().expect("utf-8"),
    ]);
    assert_eq!(mode(&file), 0o600);
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&file).expect("export file")).expect("JSON");
    let spans = json["spans"].as_array().expect("spans");
    assert_eq!(spans.len(), 2);
    assert_eq!(spans[0]["site"], "reddit.com");
    assert_eq!(spans[0]["seconds"], 90.0);
    assert_eq!(spans[1]["site"], "other");
    let start = spans[0]["start"].as_str().expect("start");
    assert!(
        start.starts_with(&date(day_start(3))) && start.ends_with("+00:00"),
        "{start}"
    );
    assert_eq!(json["reminders"][0]["kind"], "stage");
    assert_eq!(json["reminders"][0]["left_social"], true);

    let csv = home.ok(&["export", "--format", "csv"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(
        lines[0].starts_with("record,start,end,seconds,site"),
        "{csv}"
    );
    assert!(
        lines[1].starts_with("span,") && lines[1].contains(",90,reddit.com,"),
        "{csv}"
    );
    assert!(lines[2].contains(",other,"), "{csv}");
    assert!(
        lines[3].starts_with("reminder,") && lines[3].contains("stage,shown,true"),
        "{csv}"
    );

    let err = home.agent(&["export", "--format", "xml"]);
    assert_eq!(err.status.code(), Some(2));
    home.refused(&["export", "--output", home.path().to_str().expect("utf-8")]);
}

#[test]
fn install_writes_an_autostart_entry_without_systemd_and_a_unit_systemd_accepts() {
    let home = Home::new();
    let agent = bin_path("dwell-agent");
    // The runtime dir has no systemd: an XDG autostart entry.
    let out = home.ok(&["install"]);
    let entry = home.config_home().join("autostart/dwell-agent.desktop");
    assert!(out.contains("dwell-agent.desktop"), "{out}");
    let text = fs::read_to_string(&entry).expect("autostart entry");
    assert!(
        text.contains("[Desktop Entry]\nType=Application\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!("\nExec={} run\n", agent.display())),
        "{text}"
    );
    assert!(!home.config_home().join("systemd").exists());
    // systemd is refused where it does not run.
    let err = home.refused(&["install", "--method", "systemd"]);
    assert!(err.contains("autostart"), "{err}");

    // The unit itself (written without systemctl).
    let data = home.path().join("my data");
    let out = home.ok(&[
        "install",
        "--method",
        "systemd",
        "--no-start",
        "--data-dir",
        data.to_str().expect("utf-8"),
    ]);
    let unit = home.config_home().join("systemd/user/dwell-agent.service");
    assert!(out.contains("dwell-agent.service"), "{out}");
    let text = fs::read_to_string(&unit).expect("unit");
    assert!(
        text.contains(&format!(
            "\nExecStart={} run --data-dir \"{}\"\n",
            agent.display(),
            data.display()
        )),
        "{text}"
    );
    assert!(text.contains("\nRestart=on-failure\n"), "{text}");
    assert!(
        text.contains("\nWantedBy=graphical-session.target\n"),
        "{text}"
    );
    let mut cmd = home.command(require_tool("systemd-analyze"));
    cmd.args(["verify", "--user"]).arg(&unit);
    let out = run_command(cmd, Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !stderr.contains("Unknown"),
        "systemd-analyze verify refused the unit ({}):\n{stderr}\n{text}",
        out.status
    );

    let out = home.ok(&["uninstall"]);
    assert!(out.contains("Removed"), "{out}");
    assert!(!unit.exists() && !entry.exists());
    let out = home.ok(&["uninstall"]);
    assert!(out.contains("nothing to remove"), "{out}");
}

#[test]
fn install_on_sway_says_the_autostart_entry_is_not_read_and_gives_the_line() {
    let home = Home::new();
    let agent = bin_path("dwell-agent");
    let mut cmd = home.command(&agent);
    cmd.env("SWAYSOCK", home.runtime().join("sway-ipc.sock"))
        .env("XDG_CURRENT_DESKTOP", "sway")
        .arg("install");
    let out = run_command(cmd, COMMAND_TIMEOUT);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        !stdout.contains("starts at your next login"),
        "sway never reads autostart entries:\n{stdout}"
    );
    assert!(stdout.contains("sway does not"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "~/.config/sway/config:\n\n    exec \"{} run\"\n",
            agent.display()
        )),
        "{stdout}"
    );
    // Elsewhere (GNOME, Plasma, Xfce…), the entry is read at login.
    let mut cmd = home.command(&agent);
    cmd.env("XDG_CURRENT_DESKTOP", "GNOME").arg("install");
    let out = run_command(cmd, COMMAND_TIMEOUT);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("starts at your next login"), "{stdout}");
    assert!(!stdout.contains("add this line"), "{stdout}");
}

#[test]
fn snooze_and_done_for_today_need_a_running_agent_and_say_so() {
    let home = Home::new();
    let err = home.refused(&["snooze"]);
    assert!(err.contains("not enabled"), "{err}");
    home.ok(&["enable", "--yes"]);
    let err = home.refused(&["done-for-today"]);
    assert!(err.contains("not running"), "{err}");
    let err = home.refused(&["snooze", "0m"]);
    assert!(err.contains("at once"), "{err}");
    // Nothing is left waiting for an agent that starts later.
    let left = home.sql("SELECT count(*) AS n FROM meta WHERE key = 'reminder_request'");
    assert_eq!(left[0]["n"], 0, "{left}");
}

#[test]
fn uninstall_all_removes_autostart_browser_hosts_and_the_gnome_extension() {
    let home = Home::new();
    home.ok(&["install"]);
    home.ok(&["browser", "install"]);
    let chromium = home
        .config_home()
        .join("chromium/NativeMessagingHosts/org.dwell.agent.json");
    let firefox = home
        .path()
        .join(".mozilla/native-messaging-hosts/org.dwell.agent.json");
    assert!(chromium.exists() && firefox.exists());
    let gnome = home
        .path()
        .join(".local/share/gnome-shell/extensions/dwell-focus@dwell");
    fs::create_dir_all(&gnome).expect("extension dir");
    fs::write(gnome.join("metadata.json"), "{}").expect("metadata");
    // Plain uninstall keeps doing what it did: autostart only.
    let out = home.ok(&["uninstall"]);
    assert!(out.contains("dwell-agent.desktop"), "{out}");
    assert!(chromium.exists() && gnome.exists());
    home.ok(&["install"]);

    let out = home.ok(&["uninstall", "--all"]);
    let entry = home.config_home().join("autostart/dwell-agent.desktop");
    assert!(!entry.exists() && !chromium.exists() && !firefox.exists());
    assert!(!gnome.exists(), "{out}");
    for said in [
        "dwell-agent.desktop",
        "chromium",
        "firefox",
        "dwell-focus@dwell",
    ] {
        assert!(out.contains(said), "{said} not named:\n{out}");
    }
    // Your data stays.
    assert!(out.contains("disable --erase"), "{out}");
    let again = home.ok(&["uninstall", "--all"]);
    assert!(again.contains("nothing"), "{again}");
}

#[test]
fn install_refuses_where_nothing_can_be_used() {
    let home = Home::new();
    // XDG_CONFIG_HOME is a file: no autostart directory can exist under it.
    let blocker = home.path().join("not-a-dir");
    fs::write(&blocker, "x").expect("write blocker");
    let mut cmd = home.command(bin_path("dwell-agent"));
    cmd.env("XDG_CONFIG_HOME", &blocker).arg("install");
    let out = run_command(cmd, COMMAND_TIMEOUT);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("nothing was installed"), "{stderr}");
    assert_eq!(fs::read_to_string(&blocker).expect("blocker"), "x");
}

#[test]
fn pause_and_resume_write_and_clear_the_meta_key_and_signal_the_agent() {
    let home = Home::new();
    let err = home.refused(&["pause"]);
    assert!(err.contains("not enabled"), "{err}");
    home.ok(&["enable", "--yes"]);

    let before = now_ms() / 1000;
    let out = home.ok(&["pause", "30m"]);
    assert!(out.contains("Paused until"), "{out}");
    let rows = home.sql("SELECT value FROM meta WHERE key = 'paused_until'");
    let value = rows[0]["value"].as_str().expect("paused_until").to_owned();
    let status: serde_json::Value =
        serde_json::from_str(&home.ok(&["status", "--json"])).expect("status JSON");
    // Status gives the same moment in local time with its offset (the tests run in UTC).
    assert_eq!(
        status["paused_until"],
        value.replace('Z', "+00:00").as_str()
    );
    assert_eq!(status["recording"], false);
    // RFC 3339 in UTC, 30 minutes from now: check the hour and minute roughly.
    assert!(value.ends_with('Z') && value.len() == 20, "{value}");
    let secs_of_day = |v: &str| -> i64 {
        let h: i64 = v[11..13].parse().expect("hour");
        let m: i64 = v[14..16].parse().expect("minute");
        h * 3600 + m * 60
    };
    let expected = (before + 1800).rem_euclid(86_400);
    let diff = (secs_of_day(&value) - expected).rem_euclid(86_400);
    assert!(
        !(120..=86_280).contains(&diff),
        "{value} is not 30 minutes from now"
    );

    home.refused(&["pause", "soon"]);
    home.refused(&["pause", "0s"]);
    assert_eq!(
        home.sql("SELECT value FROM meta WHERE key = 'paused_until'")[0]["value"],
        value.as_str(),
        "a refused pause changes nothing"
    );

    home.ok(&["pause", "indefinite"]);
    assert_eq!(
        home.sql("SELECT value FROM meta WHERE key = 'paused_until'")[0]["value"],
        "indefinite"
    );
    let out = home.ok(&["resume"]);
    assert!(out.contains("Resumed"), "{out}");
    assert_eq!(
        home.sql("SELECT value FROM meta WHERE key = 'paused_until'"),
        serde_json::json!([])
    );
    let status: serde_json::Value =
        serde_json::from_str(&home.ok(&["status", "--json"])).expect("status JSON");
    assert_eq!(status["paused_until"], serde_json::Value::Null);

    // A process that holds the agent lock (its pid in the lock file) and
    // catches SIGUSR1, as the agent does, is signalled.
    let lock = home.data_dir().join("agent.lock");
    let marker = home.path().join("got-usr1");
    let script = format!(
        "trap 'echo usr1 > {}' USR1; i=0; while [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done",
        marker.display()
    );
    let holder = hold_lock(&home, &lock, &["sh", "-c", &script]);
    let out = home.ok(&["pause", "5m"]);
    assert!(
        !out.contains("not running") && !out.contains("restart"),
        "{out}"
    );
    assert!(
        wait_until(Duration::from_secs(5), || marker.exists()),
        "the lock holder did not get SIGUSR1"
    );
    release(holder);

    // One that does not catch it (an older agent) is not ended by it.
    let mut holder = hold_lock(&home, &lock, &["sleep", "30"]);
    let out = home.ok(&["resume"]);
    assert!(out.contains("restart it"), "{out}");
    thread::sleep(Duration::from_millis(300));
    assert!(
        holder.try_wait().ok().flatten().is_none(),
        "a process without a SIGUSR1 handler was signalled"
    );
    release(holder);
}

/// Runs `cmd` under `flock --no-fork lock`, once it holds the lock with its pid
/// written in the lock file (as the agent does).
fn hold_lock(home: &Home, lock: &Path, cmd: &[&str]) -> std::process::Child {
    let holder = home
        .command(require_tool("flock"))
        .arg("--no-fork")
        .arg(lock)
        .args(cmd)
        .stdin(Stdio::null())
        .spawn()
        .expect("start flock");
    let held = wait_until(Duration::from_secs(5), || {
        let mut probe = home.command("flock");
        probe.arg("-n").arg(lock).arg("true");
        !run_command(probe, COMMAND_TIMEOUT).status.success()
    });
    assert!(held, "flock did not take the lock");
    fs::write(lock, format!("{}\n", holder.id())).expect("write pid");
    // Let the shell install its trap.
    thread::sleep(Duration::from_millis(200));
    holder
}

fn release(mut holder: std::process::Child) {
    let _ = holder.kill();
    let _ = holder.wait();
}

#[test]
fn limits_suggest_needs_data_then_suggests_a_little_below_the_median() {
    let home = Home::new();
    home.ok(&["setup", "--yes"]);
    let out = home.ok(&["limits", "suggest"]);
    assert!(out.contains("Not enough data yet"), "{out}");
    home.refused(&["limits", "suggest", "--apply"]);

    // Social minutes on the last five work days (Mon–Fri) before today.
    let mut minutes = vec![20i64, 30, 40, 50, 60];
    let mut back = 1;
    let mut weekend_start = None;
    while let Some(&m) = minutes.last() {
        let d = day_start(back);
        if weekday(d) < 5 {
            minutes.pop();
            let t = d + 10 * 3_600_000;
            home.put_span(t, t + m * 60_000, Some("x.com"));
        } else if weekend_start.is_none() {
            weekend_start = Some(d);
        }
        back += 1;
    }
    // Time on a weekend day does not count.
    if let Some(d) = weekend_start {
        home.put_span(d + 3_600_000, d + 5 * 3_600_000, Some("x.com"));
    }
    let json: serde_json::Value =
        serde_json::from_str(&home.ok(&["limits", "suggest", "--json"])).expect("JSON");
    assert_eq!(json["enough_data"], true, "{json}");
    assert_eq!(json["days_used"], 5, "{json}");
    assert_eq!(json["median_seconds"], 2400.0, "{json}");
    // 0.9 × 40 min = 36 min, rounded down to 35 min.
    assert_eq!(json["suggested_daily_seconds"], 2100, "{json}");
    let out = home.ok(&["limits", "suggest"]);
    assert!(out.contains("median 40m") && out.contains("35m"), "{out}");

    home.ok(&["limits", "suggest", "--apply"]);
    let text = fs::read_to_string(home.config_file()).expect("config");
    assert!(text.contains("daily = \"35m\""), "{text}");
    assert!(home.ok(&["config", "check"]).contains("daily 35m"));

    // A gradual plan from that suggestion (35m) to 15m over 4 weeks: 30m in
    // its first week, this week; written into the config, shown by status.
    home.refused(&["limits", "plan", "--to", "40m", "--yes"]);
    let out = home.ok(&["limits", "plan", "--to", "15m", "--weeks", "4", "--yes"]);
    assert!(
        out.contains("week 1 (from ") && out.contains("30m a day"),
        "{out}"
    );
    let text = fs::read_to_string(home.config_file()).expect("config");
    assert!(
        text.contains("[limits.plan]") && text.contains("from = \"35m\""),
        "{text}"
    );
    home.ok(&["config", "check"]);
    let status: serde_json::Value =
        serde_json::from_str(&home.ok(&["status", "--json"])).expect("JSON");
    assert_eq!(
        status["plan"],
        serde_json::json!({"week": 1, "weeks": 4, "daily_limit_seconds": 1800, "to_seconds": 900}),
        "{status}"
    );
    assert_eq!(status["daily_limit_seconds"], 1800, "{status}");
    assert!(home.ok(&["status"]).contains("week 1 of 4: 30m a day"));
    home.ok(&["limits", "plan", "--off"]);
    let status: serde_json::Value =
        serde_json::from_str(&home.ok(&["status", "--json"])).expect("JSON");
    assert!(status["plan"].is_null(), "{status}");
    assert_eq!(status["daily_limit_seconds"], 2100, "{status}");
}

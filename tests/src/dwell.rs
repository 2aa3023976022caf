//! [`Dwell`]: one dwell installation inside a test session (an X11 [`Desktop`] or a
//! [`crate::WaylandSession`]): its own data directory and config file, the real binaries,
//! and readers of what they stored.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::process::Output;
use std::thread;
use std::time::{Duration, Instant};

use crate::{bin_path, sqlite_json, Child, Desktop, Session, Window};

/// A dwell installation inside a test session: a data dir and a config file of its own.
pub struct Dwell<'d, S: Session = Desktop> {
    desktop: &'d S,
    /// `--data-dir` of every command.
    pub data_dir: PathBuf,
    /// `--config` of every command.
    pub config: PathBuf,
}

impl<'d, S: Session> Dwell<'d, S> {
    /// Writes `config` (TOML) and returns an installation that has NOT opted in yet.
    pub fn new(desktop: &'d S, config: &str) -> Self {
        let data_dir = desktop.tempdir().join("dwell-data");
        let config_path = desktop.tempdir().join("dwell.toml");
        fs::write(&config_path, config).expect("write the test config");
        desktop.adopt(&config_path);
        Dwell {
            desktop,
            data_dir,
            config: config_path,
        }
    }

    pub fn args<'a>(&'a self, rest: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec![
            "--data-dir",
            self.data_dir.to_str().expect("utf-8 temp path"),
            "--config",
            self.config.to_str().expect("utf-8 temp path"),
        ];
        args.extend_from_slice(rest);
        args
    }

    pub fn agent(&self, rest: &[&str]) -> Output {
        self.desktop.run(bin_path("dwell-agent"), self.args(rest))
    }

    pub fn report(&self, rest: &[&str]) -> Output {
        self.desktop.run(bin_path("dwell-report"), self.args(rest))
    }

    pub fn enable(&self) {
        let out = self.agent(&["enable", "--yes"]);
        assert!(out.status.success(), "enable failed: {out:?}");
    }

    /// Starts `dwell-agent run` (debug logs) and waits until it watches the display.
    pub fn start(&self) -> Child {
        let mut cmd = self.desktop.command(bin_path("dwell-agent"));
        cmd.args(self.args(&["run"])).env("DWELL_LOG", "debug");
        let child = self.desktop.spawn_command(cmd);
        assert!(
            child.wait_for_stderr(Duration::from_secs(10), |e| e
                .contains("dwell-agent running")),
            "the agent did not start: {}",
            child.stderr_text()
        );
        // The watcher reads the focused window right after it connects.
        thread::sleep(Duration::from_millis(300));
        child
    }

    /// Starts `dwell-agent run` (debug logs) and waits until it says it is `watching focus`
    /// (the line that names the chosen `backend=` and `idle_source=`); returns the agent.
    /// Panics with the agent's log if it does not get there.
    pub fn start_watching(&self) -> Child {
        self.start_watching_at("debug")
    }

    /// [`Dwell::start_watching`] with `DWELL_LOG=level` (`info` is what users run at).
    pub fn start_watching_at(&self, level: &str) -> Child {
        let mut cmd = self.desktop.command(bin_path("dwell-agent"));
        cmd.args(self.args(&["run"])).env("DWELL_LOG", level);
        let child = self.desktop.spawn_command(cmd);
        let watching = child.wait_for_stderr(Duration::from_secs(10), |e| {
            e.contains("watching focus") || e.contains("dwell-agent stopped")
        });
        let log = child.stderr_text();
        assert!(
            watching && log.contains("watching focus"),
            "the agent did not log `watching focus` within 10 s (running: {}; it must log \
             `dwell-agent running`, then an info line `watching focus backend=… idle_source=…` \
             once it has chosen a backend):\n{log}",
            child.is_running()
        );
        child
    }
}

impl<'d> Dwell<'d, Desktop> {
    /// Opts in, opens a Facebook tab in Firefox, starts the agent and focuses the tab.
    /// Returns the window, the agent and the moment focus was given.
    pub fn start_on_facebook(&self) -> (Window<'d>, Child, Instant) {
        self.enable();
        let fb = self
            .desktop
            .open_window("firefox", "Navigator", "Facebook — Mozilla Firefox");
        let agent = self.start();
        fb.activate();
        (fb, agent, Instant::now())
    }
}

impl<S: Session> Dwell<'_, S> {
    pub fn db(&self) -> PathBuf {
        self.data_dir.join("dwell.db")
    }

    /// Recorded seconds per site label from the database ("(other)" for other active time).
    pub fn db_seconds(&self) -> BTreeMap<String, f64> {
        let rows = sqlite_json(
            &self.db(),
            "SELECT coalesce(t.label, '(other)') AS site, sum(s.end - s.start) / 1000.0 AS seconds
             FROM spans s LEFT JOIN sites t ON t.id = s.site GROUP BY 1",
        );
        rows.as_array()
            .expect("rows")
            .iter()
            .map(|r| {
                (
                    r["site"].as_str().expect("site").to_owned(),
                    r["seconds"].as_f64().expect("seconds"),
                )
            })
            .collect()
    }

    /// Seconds per site from `dwell-report week --json`, with the report's total.
    pub fn report_seconds(&self) -> (BTreeMap<String, f64>, f64) {
        let out = self.report(&["week", "--json"]);
        assert!(
            out.status.success(),
            "dwell-report week --json failed: {out:?}"
        );
        let json: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("the report is JSON");
        let sites = json["sites"]
            .as_array()
            .expect("sites[]")
            .iter()
            .map(|s| {
                (
                    s["site"].as_str().expect("site").to_owned(),
                    s["seconds"].as_f64().expect("seconds is a number"),
                )
            })
            .collect();
        let total = json["total_seconds"].as_f64().expect("total_seconds");
        (sites, total)
    }
}

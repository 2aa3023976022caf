//! `dwell-agent install` / `uninstall`: start the agent at login.
//!
//! Where `systemd --user` runs, a user unit (restarted on failure, so a manual
//! `systemctl --user stop` is respected; only local sockets allowed): the one
//! the Debian package ships in `/usr/lib/systemd/user/` when it is there and
//! runs what this install would (`/usr/bin/dwell-agent run`, no `--data-dir` or
//! `--config`), which is then only enabled; otherwise one written into
//! `$XDG_CONFIG_HOME/systemd/user/dwell-agent.service`. Both come from
//! [`unit_text`]. Elsewhere an XDG autostart entry in `$XDG_CONFIG_HOME/autostart/`.
//! Files are written whole or not at all; a failed `systemctl enable` removes
//! the unit it wrote.
//!
//! The unit belongs to `graphical-session.target` (GNOME and Plasma start it),
//! so the agent starts once the session's display is known. sway, Hyprland,
//! labwc and river start neither that target nor autostart entries: there,
//! `install` prints the line to add to the compositor's own config
//! ([`compositor`]).
//!
//! On Windows, `install` and `uninstall` are `install/windows.rs`'s: this
//! user's Run key. The systemd and XDG helpers here are then unused.
#![cfg_attr(windows, allow(dead_code, unused_imports))]

pub mod compositor;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use self::windows::{install, uninstall};

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, Context, Result};
use clap::{Args, ValueEnum};
use dwell_core::paths::{self, DB_FILE};
use dwell_core::Store;

use self::compositor::{Compositor, Started};
use super::{data_dir, refused, Global};
use crate::cmd::write_atomic;
use crate::lock::AgentLock;

pub const UNIT_NAME: &str = "dwell-agent.service";
pub const DESKTOP_NAME: &str = "dwell-agent.desktop";

/// Where the Debian package puts its unit (`scripts/package`).
pub const PACKAGED_UNIT: &str = "/usr/lib/systemd/user/dwell-agent.service";

/// The command the packaged unit runs.
pub const PACKAGED_EXEC: [&str; 2] = ["/usr/bin/dwell-agent", "run"];

/// The first line of a unit `dwell-agent install` wrote.
const WRITTEN_HEADER: &str =
    "# Written by `dwell-agent install`; `dwell-agent uninstall` removes it.";

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Method {
    /// A systemd user unit where `systemd --user` runs, else an autostart entry.
    Auto,
    Systemd,
    Autostart,
}

#[derive(Args, Debug)]
pub struct InstallArgs {
    /// How to start dwell at login.
    #[arg(long, value_enum, default_value_t = Method::Auto)]
    pub method: Method,
    /// Only write the unit or entry: do not run `systemctl` or start anything.
    #[arg(long)]
    pub no_start: bool,
}

#[derive(Args, Debug)]
pub struct UninstallArgs {
    /// Remove everything `install`, `browser install` and `gnome-extension
    /// install` set up (before removing the package); your data stays.
    #[arg(long)]
    pub all: bool,
}

/// `$XDG_CONFIG_HOME/systemd/user/dwell-agent.service`.
pub fn unit_path(config_home: &Path) -> PathBuf {
    config_home.join("systemd").join("user").join(UNIT_NAME)
}

/// `$XDG_CONFIG_HOME/autostart/dwell-agent.desktop`.
pub fn autostart_path(config_home: &Path) -> PathBuf {
    config_home.join("autostart").join(DESKTOP_NAME)
}

/// Quotes one `ExecStart=` argument for systemd.
pub fn systemd_quote(arg: &str) -> String {
    let escaped = arg.replace('%', "%%").replace('$', "$$");
    if !escaped.is_empty()
        && !escaped.contains(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '\\' | ';'))
    {
        return escaped;
    }
    format!("\"{}\"", escaped.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Quotes one `Exec=` argument of a desktop entry (quoting rules of the
/// Desktop Entry spec, then the escapes of a string value).
pub fn desktop_quote(arg: &str) -> String {
    const RESERVED: &[char] = &[
        ' ', '\t', '\n', '"', '\'', '\\', '>', '<', '~', '|', '&', ';', '$', '*', '?', '#', '(',
        ')', '`',
    ];
    let a = arg.replace('%', "%%");
    let quoted = if a.is_empty() || a.contains(RESERVED) {
        let mut q = String::from("\"");
        for c in a.chars() {
            if matches!(c, '"' | '`' | '$' | '\\') {
                q.push('\\');
            }
            q.push(c);
        }
        q.push('"');
        q
    } else {
        a
    };
    quoted.replace('\\', "\\\\")
}

/// The systemd user unit that `dwell-agent install` writes to run `exec`.
pub fn unit_text(exec: &[String]) -> String {
    unit_with_header(WRITTEN_HEADER, "", exec)
}

/// The unit the package ships: the same, running `/usr/bin/dwell-agent run`.
pub fn packaged_unit_text() -> String {
    let exec = PACKAGED_EXEC.map(str::to_owned);
    unit_with_header(
        "# Shipped by the dwell package; it starts nothing by itself: opt in with
# `dwell-agent setup`, then `dwell-agent install` enables this unit.",
        // The package installs the man page; a built copy may have none
        // (and `systemd-analyze verify` refuses a missing one).
        "Documentation=man:dwell-agent(1)\n",
        &exec,
    )
}

fn unit_with_header(header: &str, docs: &str, exec: &[String]) -> String {
    let cmd: Vec<String> = exec.iter().map(|a| systemd_quote(a)).collect();
    format!(
        "{header}
[Unit]
Description=dwell agent: your own time on social sites at work, counted privately
{docs}# Started with the graphical session (GNOME and Plasma start this target;
# sway, Hyprland, labwc and river need a line in their own config, which
# `dwell-agent install` prints), so WAYLAND_DISPLAY or DISPLAY is set; stopped
# with it at logout.
PartOf=graphical-session.target
After=graphical-session.target

[Service]
Type=simple
ExecStart={}
# Restart after a crash, but not after `systemctl --user stop`, nor after a
# refusal (exit 2: not enabled, or a config error to fix).
Restart=on-failure
RestartSec=15
RestartPreventExitStatus=2
# dwell has no network code: only local sockets (X11, D-Bus) are allowed.
RestrictAddressFamilies=AF_UNIX
NoNewPrivileges=yes

[Install]
WantedBy=graphical-session.target
",
        cmd.join(" ")
    )
}

/// The XDG autostart entry that runs `exec`.
pub fn desktop_text(exec: &[String]) -> String {
    let cmd: Vec<String> = exec.iter().map(|a| desktop_quote(a)).collect();
    format!(
        "# Written by `dwell-agent install`; `dwell-agent uninstall` removes it.
[Desktop Entry]
Type=Application
Name=dwell agent
Comment=Counts your own time on social sites during work hours, privately
Exec={}
Terminal=false
NoDisplay=true
X-GNOME-Autostart-enabled=true
",
        cmd.join(" ")
    )
}

/// Whether a `systemd --user` instance serves this session.
pub fn systemd_user_available() -> bool {
    let Some(rt) = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) else {
        return false;
    };
    if !rt.is_absolute() || !rt.join("systemd").is_dir() {
        return false;
    }
    match Command::new("systemctl")
        .args(["--user", "is-system-running"])
        .output()
    {
        Ok(out) => matches!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "running" | "degraded" | "starting" | "initializing" | "maintenance"
        ),
        Err(_) => false,
    }
}

fn systemctl(args: &[&str]) -> Result<()> {
    let out = Command::new("systemctl")
        .arg("--user")
        .args(args)
        .output()
        .context("cannot run systemctl")?;
    if out.status.success() {
        Ok(())
    } else {
        Err(anyhow!(
            "`systemctl --user {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn absolute(p: &Path) -> Result<PathBuf> {
    if p.is_absolute() {
        return Ok(p.to_owned());
    }
    Ok(std::env::current_dir()
        .context("cannot tell the current directory")?
        .join(p))
}

/// The command the unit or entry runs: this executable, `run`, and the data
/// directory and config file if they were given explicitly.
fn exec_line(cli: &Global) -> Result<Vec<String>> {
    let exe = std::env::current_exe().context("cannot tell where dwell-agent is")?;
    let mut exec = vec![path_str(&exe)?, "run".to_owned()];
    if let Some(d) = cli.data_dir.as_deref() {
        exec.push("--data-dir".into());
        exec.push(path_str(&absolute(d)?)?);
    }
    if let Some(c) = cli.config.as_deref() {
        exec.push("--config".into());
        exec.push(path_str(&absolute(c)?)?);
    }
    Ok(exec)
}

fn path_str(p: &Path) -> Result<String> {
    match p.to_str() {
        Some(s) if !s.contains(['\n', '\r']) => Ok(s.to_owned()),
        _ => Err(refused(format!(
            "{} cannot be written in a unit file (not UTF-8, or a line break): move dwell-agent to a plainer path",
            p.display()
        ))),
    }
}

fn config_home() -> Result<PathBuf> {
    paths::config_home()
        .ok_or_else(|| refused("cannot tell where your config lives: set HOME or XDG_CONFIG_HOME"))
}

/// Whether the employee has opted in on the data directory.
fn consented(dir: &Path) -> bool {
    let db = dir.join(DB_FILE);
    db.exists()
        && Store::open_read_only(&db)
            .and_then(|s| s.consent())
            .is_ok_and(|c| c.is_some())
}

#[cfg(target_os = "linux")]
pub fn install(cli: &Global, args: &InstallArgs) -> Result<()> {
    let home = config_home()?;
    let exec = exec_line(cli)?;
    let method = match args.method {
        Method::Auto if systemd_user_available() => Method::Systemd,
        Method::Auto => Method::Autostart,
        m => m,
    };
    if method == Method::Systemd && !args.no_start && !systemd_user_available() {
        return Err(refused(
            "systemd --user is not running in this session: use `dwell-agent install --method autostart`",
        ));
    }
    let dir = data_dir(cli)?;
    let comp = compositor::detect(|k| std::env::var(k).ok());
    match method {
        Method::Systemd => {
            let packaged = Path::new(PACKAGED_UNIT);
            install_unit(&home, &exec, &dir, args.no_start, packaged, comp)?;
            if let Some(c) = comp {
                println!("\n{}", compositor::instructions(c, Started::Systemd));
            }
        }
        _ => {
            install_autostart(&home, &exec, comp)?;
            if let Some(c) = comp {
                println!("\n{}", compositor::instructions(c, Started::Exec(&exec)));
            }
        }
    }
    Ok(())
}

/// Which systemd unit `install` enables.
#[derive(Debug, PartialEq, Eq)]
enum UnitChoice {
    /// The packaged unit at this path: enable it, write nothing.
    Packaged,
    /// A unit written into the user's config (it takes precedence over a packaged one).
    Write,
}

/// The packaged unit when it exists and runs exactly `exec`; else write one
/// (a build elsewhere than `/usr/bin`, or an explicit data directory or config
/// file, which the packaged unit would not pass on).
fn choose_unit(packaged: &Path, exec: &[String]) -> UnitChoice {
    if packaged.is_file() && exec.iter().map(String::as_str).eq(PACKAGED_EXEC) {
        UnitChoice::Packaged
    } else {
        UnitChoice::Write
    }
}

/// Whether the unit at `path` is one `dwell-agent install` wrote.
fn written_by_install(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|t| t.starts_with(WRITTEN_HEADER))
}

fn install_unit(
    home: &Path,
    exec: &[String],
    dir: &Path,
    no_start: bool,
    packaged: &Path,
    comp: Option<Compositor>,
) -> Result<()> {
    let path = unit_path(home);
    let wrote = match choose_unit(packaged, exec) {
        UnitChoice::Packaged => {
            // An older unit of ours in ~/.config would hide the packaged one.
            if written_by_install(&path) {
                std::fs::remove_file(&path)
                    .with_context(|| format!("cannot remove {}", path.display()))?;
                println!("Removed {}: the packaged unit replaces it.", path.display());
            }
            println!("Using the packaged unit {}.", packaged.display());
            None
        }
        UnitChoice::Write => {
            let parent = path.parent().unwrap_or(home);
            std::fs::create_dir_all(parent).map_err(|e| {
                refused(format!(
                    "cannot create {}: {e}; nothing was installed",
                    parent.display()
                ))
            })?;
            write_atomic(&path, unit_text(exec), 0o644)?;
            println!("Wrote {}.", path.display());
            Some(path)
        }
    };
    if no_start {
        println!(
            "Enable it with `systemctl --user daemon-reload && systemctl --user enable --now {UNIT_NAME}`."
        );
        return Ok(());
    }
    let start_now = consented(dir) && !AgentLock::is_held(dir);
    let enabled = systemctl(&["daemon-reload"]).and_then(|()| {
        // `reenable`: a unit enabled by an earlier version hangs on
        // default.target; this moves it to graphical-session.target.
        systemctl(&["reenable", UNIT_NAME]).and_then(|()| {
            if start_now {
                systemctl(&["start", UNIT_NAME])
            } else {
                Ok(())
            }
        })
    });
    if let Err(e) = enabled {
        if let Some(path) = &wrote {
            let _ = std::fs::remove_file(path);
            let _ = systemctl(&["daemon-reload"]);
        }
        return Err(e.context("nothing was installed"));
    }
    let stale = autostart_path(home);
    if stale.exists() && std::fs::remove_file(&stale).is_ok() {
        println!("Removed the older autostart entry {}.", stale.display());
    }
    // On sway and the like the target never starts by itself: the line
    // printed after this is what starts dwell at login there.
    let at_login = match comp {
        Some(_) => "dwell is enabled",
        None => "dwell starts at login",
    };
    if start_now {
        println!("{at_login} and is running now (`systemctl --user status {UNIT_NAME}`).");
    } else if AgentLock::is_held(dir) {
        println!("{at_login} (an agent is already running now).");
    } else {
        println!(
            "{at_login} once you opt in with `dwell-agent enable` (then `systemctl --user start {UNIT_NAME}`)."
        );
    }
    println!("A manual `systemctl --user stop {UNIT_NAME}` is respected until the next login.");
    Ok(())
}

fn install_autostart(home: &Path, exec: &[String], comp: Option<Compositor>) -> Result<()> {
    let path = autostart_path(home);
    let parent = path.parent().unwrap_or(home);
    let written = std::fs::create_dir_all(parent)
        .map_err(anyhow::Error::from)
        .and_then(|()| write_atomic(&path, desktop_text(exec), 0o644));
    if let Err(e) = written {
        return Err(refused(format!(
            "neither systemd --user nor the autostart directory {} can be used ({e:#}); nothing was installed",
            parent.display()
        )));
    }
    match comp {
        // Said truly: this compositor never reads the entry (the caller
        // prints the line that does the work there).
        Some(c) => println!(
            "Wrote {} (for desktops that run autostart entries; {} does not).",
            path.display(),
            c.name()
        ),
        None => {
            println!("Wrote {}: dwell starts at your next login.", path.display());
            println!("Start it now with `dwell-agent run &`, or log out and in again.");
        }
    }
    Ok(())
}

#[cfg(target_os = "linux")]
pub fn uninstall(cli: &Global, args: &UninstallArgs) -> Result<()> {
    if !args.all {
        return uninstall_autostart(cli);
    }
    uninstall_autostart(cli)?;
    let hosts = crate::browser::remove_all_hosts()?;
    if hosts == 0 {
        println!("No browser host registration to remove.");
    } else {
        println!("The extension itself can be removed from each browser's extensions page.");
    }
    if !super::gnome_extension::uninstall_if_installed()? {
        println!("No GNOME Shell extension to remove.");
    }
    println!(
        "Your recorded data and config stay (`dwell-agent disable --erase` deletes the data); the package can be removed now."
    );
    Ok(())
}

fn uninstall_autostart(_cli: &Global) -> Result<()> {
    let home = config_home()?;
    let mut removed = false;
    let unit = unit_path(&home);
    if unit.exists() {
        let systemd = systemd_user_available();
        if systemd {
            if let Err(e) = systemctl(&["disable", "--now", UNIT_NAME]) {
                eprintln!("dwell-agent: {e:#} (removing the unit anyway)");
            }
        }
        std::fs::remove_file(&unit).with_context(|| format!("cannot remove {}", unit.display()))?;
        if systemd {
            let _ = systemctl(&["daemon-reload"]);
            println!("Removed {} (and stopped the service).", unit.display());
        } else {
            println!("Removed {}.", unit.display());
        }
        removed = true;
    }
    if Path::new(PACKAGED_UNIT).is_file() && systemd_user_available() && packaged_enabled() {
        systemctl(&["disable", "--now", UNIT_NAME])?;
        println!("Disabled the packaged unit {PACKAGED_UNIT} (and stopped the service).");
        removed = true;
    }
    let entry = autostart_path(&home);
    if entry.exists() {
        std::fs::remove_file(&entry)
            .with_context(|| format!("cannot remove {}", entry.display()))?;
        println!(
            "Removed {}: dwell no longer starts at login (a running agent stops with `dwell-agent disable` or at logout).",
            entry.display()
        );
        removed = true;
    }
    if !removed {
        println!("dwell was not set to start at login; nothing to remove.");
    }
    Ok(())
}

/// Whether `systemctl --user` has the (packaged) unit enabled.
fn packaged_enabled() -> bool {
    Command::new("systemctl")
        .args(["--user", "is-enabled", UNIT_NAME])
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "enabled")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_packaged_unit_is_used_when_it_runs_what_install_would() {
        let dir = tempfile::tempdir().unwrap();
        let packaged = dir.path().join(UNIT_NAME);
        let plain = PACKAGED_EXEC.map(str::to_owned).to_vec();
        // No package: write one.
        assert_eq!(choose_unit(&packaged, &plain), UnitChoice::Write);
        std::fs::write(&packaged, packaged_unit_text()).unwrap();
        assert_eq!(choose_unit(&packaged, &plain), UnitChoice::Packaged);
        // An explicit data directory, or a binary elsewhere: the packaged unit
        // would not run that, so write one.
        let mut with_dir = plain.clone();
        with_dir.extend(["--data-dir".to_owned(), "/data/dwell".to_owned()]);
        assert_eq!(choose_unit(&packaged, &with_dir), UnitChoice::Write);
        let elsewhere = vec![
            "/home/me/dwell/target/release/dwell-agent".into(),
            "run".into(),
        ];
        assert_eq!(choose_unit(&packaged, &elsewhere), UnitChoice::Write);
    }

    #[test]
    fn only_units_install_wrote_are_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let ours = dir.path().join("ours.service");
        std::fs::write(&ours, unit_text(&["/opt/dwell-agent".into(), "run".into()])).unwrap();
        assert!(written_by_install(&ours));
        let packaged = dir.path().join("packaged.service");
        std::fs::write(&packaged, packaged_unit_text()).unwrap();
        assert!(!written_by_install(&packaged));
        let hand = dir.path().join("hand.service");
        std::fs::write(&hand, "[Unit]\n").unwrap();
        assert!(!written_by_install(&hand));
        assert!(!written_by_install(&dir.path().join("missing.service")));
        let text = packaged_unit_text();
        assert!(
            text.contains("\nExecStart=/usr/bin/dwell-agent run\n"),
            "{text}"
        );
        assert!(text.contains("\nRestartPreventExitStatus=2\n"), "{text}");
    }

    #[test]
    fn systemd_quoting() {
        assert_eq!(
            systemd_quote("/usr/bin/dwell-agent"),
            "/usr/bin/dwell-agent"
        );
        assert_eq!(systemd_quote("/my dir/a"), "\"/my dir/a\"");
        assert_eq!(systemd_quote("/a%b$c"), "/a%%b$$c");
        assert_eq!(systemd_quote("a\"b"), "\"a\\\"b\"");
    }

    #[test]
    fn desktop_quoting() {
        assert_eq!(
            desktop_quote("/usr/bin/dwell-agent"),
            "/usr/bin/dwell-agent"
        );
        assert_eq!(desktop_quote("/my dir/a"), "\"/my dir/a\"");
        assert_eq!(desktop_quote("/100%"), "/100%%");
        // `$` is escaped inside quotes, and the backslash doubled for the string value.
        assert_eq!(desktop_quote("/a$b"), "\"/a\\\\$b\"");
    }

    #[test]
    fn unit_restarts_on_failure_only() {
        let t = unit_text(&["/opt/dwell/dwell-agent".into(), "run".into()]);
        assert!(
            t.contains("\nExecStart=/opt/dwell/dwell-agent run\n"),
            "{t}"
        );
        assert!(t.contains("\nRestart=on-failure\n"));
        assert!(t.contains("\nRestartPreventExitStatus=2\n"));
        assert!(t.contains("\nRestrictAddressFamilies=AF_UNIX\n"));
        // Bound to the graphical session: started once the compositor has set
        // WAYLAND_DISPLAY / DISPLAY, stopped at logout.
        assert!(t.contains("\nPartOf=graphical-session.target\n"), "{t}");
        assert!(t.contains("\nAfter=graphical-session.target\n"), "{t}");
        assert!(t.contains("\nWantedBy=graphical-session.target\n"), "{t}");
        assert!(!t.contains("default.target"), "{t}");
        let p = packaged_unit_text();
        assert!(p.contains("\nPartOf=graphical-session.target\n"), "{p}");
        assert!(p.contains("\nWantedBy=graphical-session.target\n"), "{p}");
        let d = desktop_text(&["/opt/dwell/dwell-agent".into(), "run".into()]);
        assert!(d.contains("\nExec=/opt/dwell/dwell-agent run\n"), "{d}");
        assert!(d.contains("\nType=Application\n"));
    }
}
